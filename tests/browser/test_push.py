"""Push reminders in headless Chromium: a push message delivered to Tonus's service worker
through the DevTools protocol (ServiceWorker.deliverPushMessage, as a push service would
deliver the decrypted message) shows the reminder's notification with its title, text and
tag; the same reminder delivered again replaces it rather than adding a second. The
Reminders page offers to turn reminders on for this device.

Selenium cannot receive DevTools events, and the registration id comes in one
(ServiceWorker.workerRegistrationUpdated), so the test talks to the page's DevTools
endpoint on loopback with websocket-client (already installed with Selenium)."""

import json
import time
import urllib.request

import websocket
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PASSWORD


class DevTools:
    """One DevTools session on the page the driver shows."""

    def __init__(self, driver):
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{address}/json/list", timeout=10) as r:
            targets = json.load(r)
        page = next(t for t in targets if t["type"] == "page" and "/calendar" in t["url"])
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=10, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method: str, params: dict | None = None) -> dict:
        self.next_id += 1
        mine = self.next_id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params or {}}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mine:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method: str, accept) -> dict:
        for e in self.events:
            if e.get("method") == method and accept(e["params"]):
                return e["params"]
        for _ in range(200):
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == method and accept(msg["params"]):
                return msg["params"]
        raise AssertionError(f"no {method} event")

    def close(self) -> None:
        self.ws.close()


def deliver(dt: DevTools, origin: str, registration: str, payload: dict) -> None:
    dt.call(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": registration, "data": json.dumps(payload)},
    )


def notifications(b) -> list:
    return b.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.serviceWorker.ready.then(r => r.getNotifications())"
        ".then(ns => done(ns.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url}))))"
        ".catch(e => done(String(e)));"
    )


def test_a_push_delivered_through_devtools_shows_the_reminder(fresh_server, make_browser):
    server = fresh_server
    tonus = server.tonus
    tonus("user", "add", "--role", "patient", "anne", "--password-stdin", stdin=PASSWORD + "\n")
    b = make_browser(server)
    b.phone()
    b.sign_in("anne")
    b.get("/calendar")
    assert b.h1() == "Reminders"
    # This browser can take push messages: the form to turn them on replaces the notice.
    WebDriverWait(b.driver, 10).until(lambda d: b.one("#push-subscribe").is_displayed())
    assert not b.one("#push-unsupported").is_displayed()
    assert b.one("#push-subscribe").get_attribute("data-key")
    WebDriverWait(b.driver, 20).until(
        lambda d: d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "navigator.serviceWorker.ready.then(r => done(!!r.active && r.active.state === 'activated'))"
            ".catch(() => done(false));"
        )
    )
    b.driver.execute_cdp_cmd(
        "Browser.grantPermissions", {"origin": server.base, "permissions": ["notifications"]}
    )

    dt = DevTools(b.driver)
    try:
        dt.call("ServiceWorker.enable")
        reg = dt.wait_event(
            "ServiceWorker.workerRegistrationUpdated",
            lambda p: any(r["scopeURL"] == server.base + "/" and not r["isDeleted"] for r in p["registrations"]),
        )
        registration = next(r for r in reg["registrations"] if r["scopeURL"] == server.base + "/")
        payload = {
            "title": "Take: Baclofen 10 mg",
            "body": "Due at 08:00 (oral). Log it on the doses page.",
            "tag": "dose:1:2026-03-29T08",
            "url": "/doses",
        }
        # A worker still starting may drop a message: deliver again until it shows. The tag
        # makes every further delivery of the same reminder replace the first.
        deadline = time.monotonic() + 30
        while True:
            deliver(dt, server.base, registration["registrationId"], payload)
            time.sleep(0.5)
            shown = notifications(b)
            if isinstance(shown, list) and shown:
                break
            assert time.monotonic() < deadline, f"no notification shown: {shown}"
        deliver(dt, server.base, registration["registrationId"], payload)
        time.sleep(0.5)
        shown = notifications(b)
        assert shown == [
            {
                "title": "Take: Baclofen 10 mg",
                "body": "Due at 08:00 (oral). Log it on the doses page.",
                "tag": "dose:1:2026-03-29T08",
                "url": "/doses",
            }
        ], shown

        # Another reminder is a second notification beside the first.
        other = {"title": "Tonus daily check-in", "body": "It takes a minute.", "tag": "checkin:2026-03-29", "url": "/checkin"}
        # As above, a worker stopped meanwhile may drop the message: deliver again until it
        # shows (its tag keeps a repeat from adding a third).
        deadline = time.monotonic() + 30
        while not (isinstance(shown := notifications(b), list) and len(shown) >= 2):
            assert time.monotonic() < deadline, f"the second reminder never showed: {shown}"
            deliver(dt, server.base, registration["registrationId"], other)
            time.sleep(0.5)
        assert len(notifications(b)) == 2, notifications(b)
        assert sorted(n["title"] for n in notifications(b)) == ["Take: Baclofen 10 mg", "Tonus daily check-in"]
    finally:
        dt.close()
    b.screenshot("push-reminders-page")
