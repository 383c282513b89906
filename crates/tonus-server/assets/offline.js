// Tonus offline queue. Loaded by every page (and by the service worker, /sw.js, through
// importScripts, which uses only the queue part). No build step, no dependencies.
//
// When the network is gone, the quick log, check-in, "No (more) spasms today", dose and
// side-effect forms are not posted: the entry is turned into the JSON API's body, with a
// client id (UUID) and its ORIGINAL time, and kept in IndexedDB. It is shown as "waiting to
// sync" and sent to the JSON API when the network returns (online event, page load, every
// 30 s), with Idempotency-Key = the client id, so the server stores it exactly once however
// often it is retried. Entries are kept across reloads and an expired session: they are sent
// only for the account that queued them, once it is signed in again.
"use strict";

var TonusQueue = (function () {
  var DB = "tonus-offline";
  var STORE = "queue";

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore(STORE, { keyPath: "id" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function tx(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var result = work(t.objectStore(STORE));
        t.oncomplete = function () { db.close(); resolve(result && result.result !== undefined ? result.result : result); };
        t.onerror = function () { db.close(); reject(t.error); };
      });
    });
  }

  function uuid() {
    if (self.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // The device's local time as RFC 3339 with its offset: the moment the person acted.
  function isoWithOffset(d) {
    var off = -d.getTimezoneOffset();
    var sign = off >= 0 ? "+" : "-";
    off = Math.abs(off);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." +
      String(d.getMilliseconds()).padStart(3, "0") + sign + pad(Math.floor(off / 60)) + ":" + pad(off % 60);
  }

  function localDate(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function shiftDays(d, n) {
    var c = new Date(d.getTime());
    c.setDate(c.getDate() + n);
    return c;
  }

  // A typed time made absolute now, so that it means the same when sent hours later:
  // "" → now (with offset); "03:10" → today 03:10; "yesterday 22:40"; "-2 10:00";
  // "2026-11-20 03:10" and RFC 3339 as typed (the server reads a local time in the patient's
  // zone, as it does for the form). Anything else: null (the form shows it cannot queue it).
  function absoluteTime(typed, now) {
    var t = (typed || "").trim();
    if (!t) return isoWithOffset(now);
    var m;
    // A datetime-local field's "2026-11-20T08:00" (no offset): a local time, as the form sends it.
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t)) return t.slice(0, 16).replace("T", " ");
    if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/.test(t)) return t;
    if ((m = /^(\d{1,2}):(\d{2})$/.exec(t))) return localDate(now) + " " + pad(+m[1]) + ":" + m[2];
    if ((m = /^(today|yesterday|-(\d+))\s+(\d{1,2}):(\d{2})$/i.exec(t))) {
      var back = m[1].toLowerCase() === "today" ? 0 : m[1].toLowerCase() === "yesterday" ? 1 : +m[2];
      return localDate(shiftDays(now, -back)) + " " + pad(+m[3]) + ":" + m[4];
    }
    return null;
  }

  function absoluteDate(typed, now) {
    var t = (typed || "").trim().toLowerCase();
    if (!t || t === "today") return localDate(now);
    if (t === "yesterday") return localDate(shiftDays(now, -1));
    if (/^-\d+$/.test(t)) return localDate(shiftDays(now, +t));
    if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return t;
    return null;
  }

  function seconds(typed) {
    var t = (typed || "").trim().toLowerCase();
    if (!t) return undefined;
    var m = /^(\d+)\s*(s|sec|m|min|h)?$/.exec(t);
    if (!m) return null;
    var unit = m[2] || "s";
    return +m[1] * (unit[0] === "h" ? 3600 : unit[0] === "m" ? 60 : 1);
  }

  function num(v) { return v === null || v === undefined || v === "" ? undefined : +v; }
  function text(v) { return v === null || v === undefined || String(v).trim() === "" ? undefined : String(v); }

  // The form's fields (a FormData) as the JSON API's request: { path, body, label } or
  // { error } when a field cannot be made absolute offline.
  function fromForm(action, fd, now) {
    var path = new URL(action, "http://x").pathname;
    var label, body;
    if (path === "/episodes") {
      var regions = fd.getAll("region").concat(fd.getAll("keep_region"));
      var when = absoluteTime(fd.get("when"), now);
      if (when === null) return { error: "Type the time as 03:10, yesterday 22:40 or 2026-11-20 03:10 to save it offline." };
      var dur = seconds(fd.get("duration"));
      if (dur === null) return { error: "Type the duration as 40s, 2m or 1h to save it offline." };
      if (!fd.get("kind")) return { error: "Choose what happened." };
      body = { kind: fd.get("kind"), regions: regions.filter(function (r, i) { return regions.indexOf(r) === i; }),
        pain: num(fd.get("pain") || fd.get("keep_pain")), duration_s: dur, notes: text(fd.get("notes")), started_at: when };
      label = "Spasm (" + fd.get("kind") + ")";
      return { path: "/api/episodes", body: body, label: label };
    }
    if (path === "/days/confirm") {
      return { path: "/api/days/confirm", body: { date: localDate(now) }, label: "No (more) spasms on " + localDate(now) };
    }
    if (path === "/checkin") {
      var date = absoluteDate(fd.get("date"), now);
      if (date === null) return { error: "Type the day as 2026-11-20, today or yesterday to save it offline." };
      body = { date: date, spasticity_nrs: num(fd.get("spasticity_nrs")), pain_nrs: num(fd.get("pain_nrs")),
        psfs_frequency: num(fd.get("psfs_frequency")), psfs_severity: num(fd.get("psfs_severity")),
        night_wakings: num(fd.get("night_wakings")), log_complete: fd.get("log_complete") === "on",
        note: text(fd.get("note")), answered_at: isoWithOffset(now) };
      return { path: "/api/checkins", body: body, label: "Check-in for " + date };
    }
    if (path === "/doses") {
      var at = absoluteTime(fd.get("at"), now);
      if (at === null) return { error: "Type the time as 2026-11-20 08:00 to save it offline." };
      if (!fd.get("regimen") || !fd.get("status")) return { error: "Choose the treatment and whether it was taken." };
      body = { regimen_id: +fd.get("regimen"), status: fd.get("status"), at: at, note: text(fd.get("note")) };
      return { path: "/api/doses", body: body, label: "Dose " + fd.get("status") };
    }
    if (path === "/side-effects") {
      var sat = absoluteTime(fd.get("at"), now);
      if (sat === null) return { error: "Type the time as 21:30, yesterday 22:40 or 2026-11-20 21:30 to save it offline." };
      body = { effect: fd.get("effect"), severity: fd.get("severity"), description: text(fd.get("description")),
        suspected_treatment: text(fd.get("suspected_treatment")), at: sat, note: text(fd.get("note")) };
      return { path: "/api/side-effects", body: body, label: "Side effect (" + fd.get("effect") + ")" };
    }
    return null;
  }

  // Keeps an entry; resolves to it.
  function add(user, req, now) {
    var entry = { id: uuid(), user: user || "", path: req.path, body: JSON.stringify(req.body),
      label: req.label, queued_at: isoWithOffset(now), state: "waiting", message: "" };
    return tx("readwrite", function (s) { s.put(entry); }).then(function () { return entry; });
  }

  function all() {
    return tx("readonly", function (s) { return s.getAll(); }).then(function (r) { return r || []; });
  }

  function put(entry) { return tx("readwrite", function (s) { s.put(entry); }); }
  function remove(id) { return tx("readwrite", function (s) { s.delete(id); }); }

  return { fromForm: fromForm, add: add, all: all, put: put, remove: remove, isoWithOffset: isoWithOffset };
})();

if (typeof document !== "undefined") (function () {
  var FORMS = ["/episodes", "/days/confirm", "/checkin", "/doses", "/side-effects"];
  var me = document.currentScript ? document.currentScript.getAttribute("data-user") || "" : "";
  var syncing = false;

  var PAGES = ["/", "/checkin", "/doses", "/side-effects"];
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      // Signed in and online: have the diary pages kept for an offline start (the service
      // worker keeps each page it passes on), one at a time, only those not kept yet.
      if (!me || !navigator.onLine) return;
      return caches.keys().then(function (names) {
        var shell = names.filter(function (n) { return n.indexOf("tonus-shell-") === 0; })[0];
        if (!shell) return;
        return caches.open(shell).then(function (c) {
          return PAGES.reduce(function (chain, p) {
            return chain.then(function () {
              return c.match(p).then(function (hit) {
                if (!hit) return fetch(p, { credentials: "same-origin" }).then(function () {}, function () {});
              });
            });
          }, Promise.resolve());
        });
      });
    }).catch(function () {});
  }

  function panel() {
    var p = document.getElementById("offline-queue");
    if (!p) {
      p = document.createElement("section");
      p.id = "offline-queue";
      p.setAttribute("aria-live", "polite");
      p.setAttribute("aria-label", "Entries waiting to sync");
      var main = document.querySelector("main") || document.body;
      main.insertBefore(p, main.firstChild);
    }
    return p;
  }

  function render() {
    return TonusQueue.all().then(function (entries) {
      var p = panel();
      p.textContent = "";
      if (!entries.length) { p.hidden = true; return; }
      p.hidden = false;
      var waiting = entries.filter(function (e) { return e.state === "waiting" || e.state === "signin"; });
      var mine = waiting.filter(function (e) { return e.user === me; });
      var h = document.createElement("p");
      h.className = "status";
      if (!me && waiting.length) {
        h.textContent = "Sign in to send " + waiting.length + " waiting " + (waiting.length === 1 ? "entry" : "entries") + ".";
      } else if (mine.some(function (e) { return e.state === "signin"; })) {
        h.textContent = "Sign in to send " + mine.length + " waiting " + (mine.length === 1 ? "entry" : "entries") + ".";
      } else if (waiting.length) {
        h.textContent = waiting.length + " waiting to sync" + (navigator.onLine ? " (sending…)" : " (offline: kept on this device)") + ".";
      }
      p.appendChild(h);
      var ul = document.createElement("ul");
      entries.forEach(function (e) {
        var li = document.createElement("li");
        li.className = "queued " + e.state;
        li.setAttribute("data-client-id", e.id);
        var what = e.state === "waiting" || e.state === "signin" ? "waiting to sync" : e.state === "conflict" ? "not applied" : "not saved";
        li.textContent = e.label + " — " + what + (e.user && e.user !== me ? " (" + e.user + ")" : "") + (e.message ? ": " + e.message : "");
        if (e.state !== "waiting" && e.state !== "signin") {
          var b = document.createElement("button");
          b.type = "button";
          b.className = "link";
          b.textContent = "dismiss";
          b.addEventListener("click", function () { TonusQueue.remove(e.id).then(render); });
          li.appendChild(document.createTextNode(" "));
          li.appendChild(b);
        }
        ul.appendChild(li);
      });
      p.appendChild(ul);
    });
  }

  function queueForm(form, fd) {
    var req = TonusQueue.fromForm(form.getAttribute("action"), fd, new Date());
    if (!req) return Promise.resolve(false);
    if (req.error) {
      var p = panel();
      p.hidden = false;
      p.textContent = "Not saved: " + req.error;
      return Promise.resolve(true);
    }
    return TonusQueue.add(me, req, new Date()).then(function () {
      form.reset();
      return render().then(function () { return true; });
    });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var action = form.getAttribute && form.getAttribute("action");
    if (!action || FORMS.indexOf(action) < 0 || (form.method || "").toLowerCase() !== "post") return;
    if (navigator.onLine) return; // Online: the form posts as usual (the service worker queues it if the post fails).
    ev.preventDefault();
    var fd = new FormData(form);
    if (ev.submitter && ev.submitter.name) fd.append(ev.submitter.name, ev.submitter.value);
    queueForm(form, fd);
  }, true);

  // The session's user and CSRF token, read from a fresh page: the cached page may be stale.
  function session() {
    return fetch("/checkin", { cache: "no-store", credentials: "same-origin" }).then(function (r) {
      if (!r.ok || new URL(r.url).pathname !== "/checkin") return null;
      return r.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var csrf = doc.querySelector("input[name=csrf]");
        var script = doc.querySelector("script[data-user]");
        if (!csrf || !script) return null;
        return { csrf: csrf.value, user: script.getAttribute("data-user") };
      });
    });
  }

  function sync() {
    if (syncing || !navigator.onLine) return Promise.resolve();
    syncing = true;
    return TonusQueue.all().then(function (entries) {
      var waiting = entries.filter(function (e) { return e.state === "waiting" || e.state === "signin"; });
      if (!waiting.length) return;
      return session().then(function (s) {
        if (!s) {
          // Signed out (or the session expired): keep everything, say so.
          return Promise.all(waiting.map(function (e) { e.state = "signin"; return TonusQueue.put(e); }));
        }
        me = s.user;
        var chain = Promise.resolve();
        waiting.filter(function (e) { return e.user === s.user || !e.user; }).sort(function (a, b) {
          return a.queued_at < b.queued_at ? -1 : 1;
        }).forEach(function (e) {
          chain = chain.then(function () { return send(e, s); });
        });
        return chain;
      });
    }).catch(function () { /* network gone again: retried later */ }).then(function () {
      syncing = false;
      return render();
    });
  }

  function send(e, s) {
    return fetch(e.path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Idempotency-Key": e.id, "X-CSRF-Token": s.csrf },
      body: e.body,
    }).then(function (r) {
      if (r.ok) return TonusQueue.remove(e.id);
      if (r.status === 401 || r.status === 403) { e.state = "signin"; return TonusQueue.put(e); }
      if (r.status === 409 || r.status === 422 || r.status === 404) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          e.state = r.status === 409 ? "conflict" : "refused";
          e.message = body.message || ("answered " + r.status);
          return TonusQueue.put(e);
        });
      }
      throw new Error("retry later: " + r.status);
    });
  }

  window.addEventListener("online", sync);
  window.addEventListener("offline", render);
  navigator.serviceWorker && navigator.serviceWorker.addEventListener("message", function (m) {
    if (m.data === "tonus-queued") render();
  });
  setInterval(sync, 30000);
  window.TonusOffline = { sync: sync, render: render };
  render().then(sync);
})();

// Push reminders (the Reminders page, /calendar): subscribe this browser with the server's
// VAPID key, put the subscription into the form and post it. Without Web Push the form stays
// hidden and the page says so; the list of devices works without any script.
(function () {
  if (typeof document === "undefined") return;
  function keyBytes(s) {
    var b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    var out = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
    return out;
  }
  function current() {
    return navigator.serviceWorker.ready.then(function (reg) { return reg.pushManager.getSubscription(); });
  }
  function setup() {
    var form = document.getElementById("push-subscribe");
    if (!form || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return;
    document.getElementById("push-unsupported").hidden = true;
    form.hidden = false;
    var status = document.getElementById("push-status");
    current().then(function (sub) {
      if (!sub) return;
      document.querySelectorAll("[data-endpoint]").forEach(function (el) {
        if (el.getAttribute("data-endpoint") === sub.endpoint) el.querySelector(".this-device").hidden = false;
      });
    }).catch(function () {});
    form.addEventListener("submit", function (ev) {
      if (form.elements.endpoint.value) return;
      ev.preventDefault();
      status.textContent = "Asking this browser for permission…";
      Notification.requestPermission().then(function (p) {
        if (p !== "granted") throw new Error("notifications are blocked for this site; allow them in the browser's settings and try again");
        return navigator.serviceWorker.ready;
      }).then(function (reg) {
        return reg.pushManager.getSubscription().then(function (old) {
          if (old) return old;
          // A browser whose push service cannot be reached may never answer: say so.
          return Promise.race([
            reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(form.getAttribute("data-key")) }),
            new Promise(function (_, reject) {
              setTimeout(function () { reject(new Error("this browser's push service did not answer; try again later")); }, 30000);
            }),
          ]);
        });
      }).then(function (sub) {
        var j = sub.toJSON();
        form.elements.endpoint.value = j.endpoint;
        form.elements.p256dh.value = j.keys.p256dh;
        form.elements.auth.value = j.keys.auth;
        form.submit();
      }).catch(function (e) {
        status.textContent = "Reminders could not be turned on: " + (e && e.message ? e.message : e);
      });
    });
    // Stopping reminders for this very device also ends the browser's subscription.
    document.addEventListener("submit", function (ev) {
      var f = ev.target;
      if (!f.classList || !f.classList.contains("push-remove") || f.dataset.done) return;
      ev.preventDefault();
      current().then(function (sub) {
        if (sub && sub.endpoint === f.getAttribute("data-endpoint")) return sub.unsubscribe();
      }).catch(function () {}).then(function () { f.dataset.done = "1"; f.submit(); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
