// Tonus service worker: keeps the app shell so the diary opens without a network, and
// keeps a diary form that could not be posted (no network) in the offline queue
// (offline.js) instead of losing it. Served by Tonus at /sw.js (scope /); no build step.
"use strict";
importScripts("/assets/offline.js");

// Bump with any change to the shell's list, so old caches are dropped on activation.
var CACHE = "tonus-shell-v1";
var SHELL = [
  "/", "/checkin", "/doses", "/side-effects",
  "/assets/app.css", "/assets/offline.js", "/manifest.webmanifest",
  "/assets/icons/icon.svg", "/assets/icons/icon-192.png", "/assets/icons/icon-512.png",
  "/assets/icons/maskable-512.png", "/assets/icons/favicon-32.png", "/assets/icons/apple-touch-icon.png",
];
var PAGES = ["/", "/checkin", "/doses", "/side-effects"];
var FORMS = ["/episodes", "/days/confirm", "/checkin", "/doses", "/side-effects"];

self.addEventListener("install", function (ev) {
  // The assets, one at a time, each on its own (one failing does not fail the install).
  // The pages are kept as the signed-in patient loads them (offline.js asks for the ones
  // not kept yet): pages fetched from here during the install stalled in Chromium.
  ev.waitUntil(caches.open(CACHE).then(function (c) {
    return SHELL.filter(function (u) { return PAGES.indexOf(u) < 0; }).reduce(function (chain, u) {
      return chain.then(function () {
        return fetch(u, { credentials: "same-origin" }).then(function (r) {
          if (r.ok && !r.redirected) return c.put(u, r);
        }).catch(function () {});
      });
    }, Promise.resolve());
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (ev) {
  ev.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function notify() {
  return self.clients.matchAll().then(function (cs) { cs.forEach(function (c) { c.postMessage("tonus-queued"); }); });
}

// Pages: network first (fresh data, and each signed-in page refreshes the cached shell with
// the current CSRF token), the cached copy when the network fails. Assets: cache first.
self.addEventListener("fetch", function (ev) {
  var req = ev.request;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.method === "POST" && req.mode === "navigate" && FORMS.indexOf(url.pathname) >= 0) {
    var copy = req.clone();
    ev.respondWith(fetch(req).catch(function () {
      return copy.formData().then(function (fd) {
        var back = url.pathname === "/days/confirm" || url.pathname === "/episodes" ? "/" : url.pathname;
        var entry = TonusQueue.fromForm(url.pathname, fd, new Date());
        if (!entry || entry.error) return Response.redirect(back, 303);
        // The account that queued it, as the last page kept for it says (data-user).
        return caches.open(CACHE).then(function (c) { return c.match("/"); }).then(function (home) {
          return home ? home.text() : "";
        }).then(function (html) {
          var m = /data-user="([^"]*)"/.exec(html);
          return TonusQueue.add(m ? m[1] : "", entry, new Date());
        }).then(notify).then(function () {
          return Response.redirect(back, 303);
        });
      });
    }));
    return;
  }
  if (req.method !== "GET" || url.pathname.indexOf("/api/") === 0) return;
  if (req.mode === "navigate" || PAGES.indexOf(url.pathname) >= 0) {
    ev.respondWith(fetch(req).then(function (r) {
      if (r.ok && !r.redirected && PAGES.indexOf(url.pathname) >= 0 && !url.search) {
        var keep = r.clone();
        ev.waitUntil(caches.open(CACHE).then(function (c) { return c.put(url.pathname, keep); }));
      }
      return r;
    }).catch(function () {
      return caches.match(url.pathname).then(function (hit) {
        return hit || caches.match("/");
      }).then(function (hit) {
        return hit || new Response("Offline, and this page was not kept on the device.", {
          status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
      });
    }));
    return;
  }
  // Assets: the kept copy at once, refreshed from the network behind it (stale while
  // revalidate), so a new release's CSS and script arrive on the next load.
  if (SHELL.indexOf(url.pathname) >= 0) {
    ev.respondWith(caches.open(CACHE).then(function (c) {
      return c.match(url.pathname).then(function (hit) {
        var fresh = fetch(req).then(function (r) {
          if (r.ok) c.put(url.pathname, r.clone());
          return r;
        });
        if (hit) { ev.waitUntil(fresh.catch(function () {})); return hit; }
        return fresh;
      });
    }));
  }
});

// Push reminders (sent by `tonus serve`, encrypted for this browser): the payload is JSON
// {title, body, tag, url}. The tag makes a reminder shown twice replace itself.
self.addEventListener("push", function (ev) {
  var data = {};
  try { data = ev.data ? ev.data.json() : {}; } catch (e) { data = { body: ev.data ? ev.data.text() : "" }; }
  var title = data.title || "Tonus";
  ev.waitUntil(self.registration.showNotification(title, {
    body: data.body || "",
    tag: data.tag || "tonus",
    icon: "/assets/icons/icon-192.png",
    badge: "/assets/icons/favicon-32.png",
    data: { url: typeof data.url === "string" && data.url.charAt(0) === "/" ? data.url : "/" },
  }));
});

// A tap opens the reminder's page: in a Tonus window already open if there is one.
self.addEventListener("notificationclick", function (ev) {
  ev.notification.close();
  var url = (ev.notification.data && ev.notification.data.url) || "/";
  ev.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (cs) {
    for (var i = 0; i < cs.length; i++) {
      if (new URL(cs[i].url).origin === self.location.origin && "focus" in cs[i]) {
        return cs[i].focus().then(function (c) { return c && c.navigate ? c.navigate(url) : c; });
      }
    }
    return self.clients.openWindow(url);
  }));
});
