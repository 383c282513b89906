"""Offline use in headless Chromium: with the network gone (DevTools network emulation, and
the server stopped so nothing can reach it), the patient logs 3 spasms, a check-in and a dose;
the page reloads from the service worker; the server restarts; back online, each entry is
stored exactly once with its original time (read back through the CLI's `list --json`). Then
the same with the session gone: entries wait, "Sign in to send N waiting entries", and are
sent after signing in again."""

import json
import subprocess
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PASSWORD, ROOT, Server

ARTIFACTS = ROOT / "artifacts"

PARIS = ZoneInfo("Europe/Paris")


def restart(server: Server) -> None:
    """Stops the server and starts it again on the same port (the same origin: the service
    worker and IndexedDB belong to it) and the same database."""
    server.stop()
    log = open(server.log, "ab")
    server._log_file = log
    server.proc = subprocess.Popen(
        [server.tonus.binary, "serve", "--listen", f"127.0.0.1:{server.port}"],
        env=server.tonus.env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    import socket

    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return
        except OSError:
            if server.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"tonus serve did not restart: {server.log.read_text()}")
            time.sleep(0.1)


def network(b, online: bool) -> None:
    b.driver.execute_cdp_cmd("Network.enable", {})
    b.driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": not online, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def controlled(b) -> None:
    """Waits until the service worker is active, has kept the shell, and controls the page."""
    WebDriverWait(b.driver, 20).until(
        lambda d: d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "navigator.serviceWorker.ready.then(() => caches.open('tonus-shell-v1'))"
            ".then(c => c.keys()).then(k => done(k.length)).catch(() => done(0));"
        )
        >= 13
    )
    b.driver.refresh()
    WebDriverWait(b.driver, 10).until(lambda d: d.execute_script("return !!navigator.serviceWorker.controller"))


def queued(b) -> list:
    # Read in one script: the list is redrawn as entries change, so element handles go stale.
    return b.driver.execute_script(
        "return Array.from(document.querySelectorAll('#offline-queue li')).map(li => li.textContent)"
    )


def wait_queued(b, n: int) -> None:
    try:
        WebDriverWait(b.driver, 10).until(lambda d: len(queued(b)) == n)
    except Exception:
        raise AssertionError(f"expected {n} queued entries, saw {queued(b)} at {b.path()}")


def log_spasm(b, kind: str, when: str) -> None:
    b.driver.find_element(By.CSS_SELECTOR, f"label[for=kind-{kind}]").click()
    details = b.one("form.quick details")
    if not details.get_attribute("open"):
        b.one("form.quick details summary").click()
    # The field is a native date-time input: it takes "YYYY-MM-DDTHH:MM", as a person's
    # picker fills it; "yesterday 22:40" is turned into that here.
    if when.startswith("yesterday "):
        day = (datetime.now(PARIS) - timedelta(days=1)).date()
        when = f"{day} {when.split(' ', 1)[1]}"
    field = b.one("#when")
    b.driver.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}))",
        field,
        when.replace(" ", "T"),
    )
    b.button("Save").click()


def listed(tonus) -> dict:
    return json.loads(tonus("list", "--json", "--what", "all", "--patient", "anne").stdout)


def seed(server) -> None:
    tonus = server.tonus
    tonus("user", "add", "--role", "admin", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    tonus("user", "add", "--role", "patient", "anne", "--password-stdin", stdin=PASSWORD + "\n")
    tonus("treatment", "add", "Baclofen", "--category", "drug", "--patient", "anne")
    tonus(
        "treatment", "start", "Baclofen", "--dose", "10", "--unit", "mg", "--route", "oral",
        "--schedule", "3x-daily", "--from", "-10", "--patient", "anne",
    )


def test_entries_logged_offline_are_stored_once_with_their_original_time(fresh_server, make_browser):
    server = fresh_server
    seed(server)
    b = make_browser(server)
    b.phone()
    # The phone is in the patient's zone, so "now" carries the +01:00/+02:00 offset.
    b.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Europe/Paris"})
    b.sign_in("anne")
    for page in ["/checkin", "/doses", "/side-effects", "/"]:
        b.get(page)
    controlled(b)

    # Offline: the browser says so, and the server is gone too.
    network(b, online=False)
    server.stop()
    assert b.driver.execute_script("return navigator.onLine") is False
    now_paris = datetime.now(PARIS)
    yesterday = (now_paris - timedelta(days=1)).date()
    before = datetime.now(timezone.utc)
    log_spasm(b, "cramp", f"{yesterday} 03:10")
    wait_queued(b, 1)
    log_spasm(b, "clonus", "yesterday 22:40")
    wait_queued(b, 2)
    log_spasm(b, "twitch", "")
    wait_queued(b, 3)
    after = datetime.now(timezone.utc)
    assert all("waiting to sync" in t for t in queued(b)), queued(b)

    b.get("/checkin")
    assert b.h1() == "Daily check-in", "the check-in opens from the service worker"
    b.driver.find_element(By.CSS_SELECTOR, "label[for=spasticity_nrs-4]").click()
    b.button("Save check-in").click()
    wait_queued(b, 4)

    b.get("/doses")
    b.driver.find_element(By.CSS_SELECTOR, "button[aria-label='Taken: Baclofen']").click()
    wait_queued(b, 5)

    # A reload while offline still opens the app, with the entries still waiting.
    b.get("/")
    b.driver.refresh()
    assert b.driver.find_element(By.CSS_SELECTOR, "form.quick"), "the quick log opens offline"
    # Time to first render offline (from the service worker's copy), for BENCHMARKS.md.
    timing = b.driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "const p = performance.getEntriesByName('first-contentful-paint')[0];"
        "return {fcp_ms: p ? p.startTime : null, dom_content_loaded_ms: n.domContentLoadedEventEnd,"
        " load_ms: n.loadEventEnd, transfer_size: n.transferSize, worker_start_ms: n.workerStart};"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "offline-first-render.json").write_text(json.dumps(timing, indent=1))
    assert timing["dom_content_loaded_ms"] > 0 and timing["worker_start_ms"] > 0, timing
    wait_queued(b, 5)
    b.screenshot("offline-waiting-to-sync")
    assert "5 waiting to sync" in b.driver.execute_script("return document.getElementById('offline-queue').textContent")

    # The server comes back (restarted), then the network: everything syncs.
    restart(server)
    network(b, online=True)
    try:
        WebDriverWait(b.driver, 30).until(lambda d: len(queued(b)) == 0)
    except Exception:
        raise AssertionError(f"still queued: {queued(b)}")
    # A second sync (another tab, a retry) sends nothing more.
    b.driver.execute_async_script("arguments[arguments.length - 1](); window.TonusOffline.sync();")
    time.sleep(1)

    data = listed(server.tonus)
    episodes = data["episodes"]
    assert [e["kind"] for e in episodes] == ["cramp", "clonus", "twitch"], episodes
    assert episodes[0]["local_time"] == f"{yesterday} 03:10"
    assert episodes[1]["local_time"] == f"{yesterday} 22:40"
    twitch_at = datetime.fromisoformat(episodes[2]["started_at"]["at"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= twitch_at <= after + timedelta(seconds=1), (
        "the original time, not the sync time",
        twitch_at,
        before,
        after,
    )
    assert len(data["checkins"]) == 1 and data["checkins"][0]["spasticity_nrs"] == 4, data["checkins"]
    assert len(data["doses"]) == 1, data["doses"]
    dose_at = datetime.fromisoformat(data["doses"][0]["dose"]["at"]["at"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= dose_at <= datetime.now(timezone.utc), dose_at
    assert data["doses"][0]["dose"]["status"] == "taken"


def test_entries_wait_for_sign_in_when_the_session_is_gone(fresh_server, make_browser):
    server = fresh_server
    seed(server)
    b = make_browser(server)
    b.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Europe/Paris"})
    b.sign_in("anne")
    b.get("/")
    controlled(b)

    network(b, online=False)
    log_spasm(b, "cramp", "")
    wait_queued(b, 1)
    b.button("No (more) spasms today").click()
    wait_queued(b, 2)

    # The session ends while offline (signed out elsewhere, or expired): the cookie is gone.
    b.driver.delete_all_cookies()
    network(b, online=True)
    WebDriverWait(b.driver, 20).until(
        lambda d: "Sign in to send 2 waiting entries"
        in d.execute_script("return document.getElementById('offline-queue').textContent")
    )
    assert listed(server.tonus)["episodes"] == []

    # Signing in again sends them, once.
    b.sign_in("anne")
    try:
        WebDriverWait(b.driver, 30).until(lambda d: len(queued(b)) == 0)
    except Exception:
        raise AssertionError(f"still queued after sign-in: {queued(b)}")
    data = listed(server.tonus)
    assert [e["kind"] for e in data["episodes"]] == ["cramp"], data["episodes"]
    assert len(data["checkins"]) == 1 and data["checkins"][0]["log_complete"] is True, data["checkins"]


def test_a_form_post_that_fails_for_lack_of_network_is_queued_by_the_service_worker(fresh_server, make_browser):
    """The browser thinks it is online, but the server cannot be reached: the form posts as
    usual, the service worker catches the failed post, queues the entry and shows the page
    again from its copy; once the server is back, the entry is stored once."""
    server = fresh_server
    seed(server)
    b = make_browser(server)
    b.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Europe/Paris"})
    b.sign_in("anne")
    b.get("/")
    controlled(b)

    server.stop()
    assert b.driver.execute_script("return navigator.onLine") is True
    log_spasm(b, "jerk", "yesterday 07:15")
    wait_queued(b, 1)
    assert b.path() == "/", "back on the quick log, served by the service worker"
    assert listed(server.tonus)["episodes"] == []

    restart(server)
    b.get("/")
    try:
        WebDriverWait(b.driver, 30).until(lambda d: len(queued(b)) == 0)
    except Exception:
        raise AssertionError(f"still queued: {queued(b)}")
    episodes = listed(server.tonus)["episodes"]
    yesterday = (datetime.now(PARIS) - timedelta(days=1)).date()
    assert [(e["kind"], e["local_time"]) for e in episodes] == [("jerk", f"{yesterday} 07:15")], episodes
