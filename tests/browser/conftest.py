"""Fixtures for the browser tests: the real `tonus` binary serving a fresh SQLite file on a
free loopback port, and real headless Chromium driven through chromedriver.

Nothing here reaches the network: Chromium runs with background networking, component
updates and sync off, and Selenium is handed both binaries so it never looks for a driver."""

import base64
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"

# Phone: the narrowest common Android width. Headless Chromium will not make a window
# narrower than 500 px, so the phone is emulated through the DevTools protocol instead.
PHONE = {"width": 360, "height": 780, "deviceScaleFactor": 2, "mobile": True}
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
# The desktop at 200 % zoom: the browser lays the page out in half the CSS pixels.
ZOOM200 = {"width": 640, "height": 450, "deviceScaleFactor": 2, "mobile": False}
# The smallest common phone screen, for "Save is on the first screen".
SMALL_PHONE = {"width": 360, "height": 640, "deviceScaleFactor": 2, "mobile": True}

PASSWORD = "correct horse battery staple 42"


def tonus_bin() -> str:
    env = os.environ.get("TONUS_BIN")
    if env:
        return env
    subprocess.run(["cargo", "build", "-q", "-p", "tonus"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    if not target.is_absolute():
        target = ROOT / target
    return str(target / "debug" / "tonus")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tonus:
    """The CLI on the server's database, for seeding data a person would not type."""

    def __init__(self, binary: str, db: Path):
        self.binary = binary
        self.db = db

    def env(self) -> dict:
        env = dict(os.environ, TONUS_DATABASE_URL=str(self.db), TZ="Europe/Paris")
        env.pop("TONUS_PATIENT", None)
        return env

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        out = subprocess.run([self.binary, *args], env=self.env(), input=stdin, capture_output=True, text=True)
        if out.returncode != 0:
            raise AssertionError(f"tonus {' '.join(args)} failed ({out.returncode}): {out.stderr}")
        return out


class Server:
    def __init__(self, tonus: Tonus, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = open(log, "wb")
        self.proc = subprocess.Popen(
            [tonus.binary, "serve", "--listen", f"127.0.0.1:{self.port}"],
            env=tonus.env(),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"tonus serve exited ({self.proc.returncode}): {log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"tonus serve did not listen within 30 s: {log.read_text()}")
                time.sleep(0.1)

    def url(self, path: str) -> str:
        return self.base + path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log_file.close()


class Browser:
    """One Chromium with its own profile, so two people (patient, clinician) can be signed
    in at once, each with their own cookies."""

    def __init__(self, server: Server):
        self.server = server
        self.profile = tempfile.mkdtemp(prefix="tonus-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--user-data-dir={self.profile}",
            "--window-size=1280,900",
        ]:
            options.add_argument(arg)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(30)
        self.clicks = 0
        self.desktop()

    # --- viewport ---
    def desktop(self) -> None:
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DESKTOP)
        self.viewport = DESKTOP

    def phone(self) -> None:
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        self.viewport = PHONE

    def zoom200(self) -> None:
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", ZOOM200)
        self.viewport = ZOOM200

    def small_phone(self) -> None:
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", SMALL_PHONE)
        self.viewport = SMALL_PHONE

    def color_scheme(self, scheme: str) -> None:
        """Emulates the system's light or dark preference (prefers-color-scheme)."""
        self.driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
        )
        self.scheme = scheme

    def in_first_screen(self, element) -> bool:
        """Whether the element is entirely visible without scrolling."""
        return self.driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            " return r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth",
            element,
        )

    # --- navigation and reading ---
    def get(self, path: str) -> None:
        self.driver.get(self.server.url(path))

    def path(self) -> str:
        return self.driver.execute_script("return location.pathname + location.search")

    def status(self) -> int:
        """HTTP status of the page now shown (Navigation Timing level 2)."""
        return self.driver.execute_script("return performance.getEntriesByType('navigation')[0].responseStatus")

    def h1(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "h1").text

    def text(self, css: str = "main") -> str:
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def all(self, css: str) -> list:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def one(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    # --- acting as a person would ---
    def click(self, element) -> None:
        """A tap: counted, so the test can hold the quick log to its two-tap promise."""
        self.clicks += 1
        element.click()

    def click_and_wait(self, element) -> None:
        """Click something that submits or navigates, then wait for the new page."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.click(element)
        try:
            WebDriverWait(self.driver, 15).until(lambda d: _stale(old))
        except TimeoutException:
            raise AssertionError(f"no new page after the click, still at {self.path()}")
        WebDriverWait(self.driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")

    def button(self, label: str, scope: str = "main"):
        for b in self.all(f"{scope} button"):
            if b.text.strip() == label:
                return b
        raise AssertionError(f"no button {label!r} on {self.path()}; buttons: {[b.text for b in self.all('button')]}")

    def link(self, label: str):
        for a in self.all("a"):
            if a.text.strip() == label:
                return a
        raise AssertionError(f"no link {label!r} on {self.path()}")

    def fill(self, css: str, value: str) -> None:
        field = self.one(css)
        field.clear()
        field.send_keys(value)

    def select(self, css: str, value: str) -> None:
        Select(self.one(css)).select_by_value(value)

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.get("/login")
        self.fill("#username", username)
        self.fill("#password", password)
        self.click_and_wait(self.button("Sign in"))

    def sign_out(self) -> None:
        # On a phone the header's links fold into a menu: open it first.
        for attempt in range(2):
            for b in self.all("header button"):
                if b.is_displayed() and b.text.startswith("Sign out"):
                    self.click_and_wait(b)
                    return
            for menu in self.all("header details.menu > summary"):
                if menu.is_displayed():
                    self.click(menu)
        raise AssertionError(f"no sign-out button on {self.path()}")

    # --- evidence ---
    def screenshot(self, name: str) -> Path:
        """The whole page, not just the viewport, at the current emulated width."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics["cssContentSize"]
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": self.viewport["width"], "height": size["height"], "scale": 1},
            },
        )
        out = SCREENSHOTS / f"{name}.png"
        out.write_bytes(base64.b64decode(shot["data"]))
        return out

    def overflow_x(self) -> int:
        """How many CSS pixels the page is wider than the viewport (0: no sideways scrolling)."""
        return self.driver.execute_script(
            "return Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)"
        )

    def axe(self) -> list:
        """Runs axe-core on the page (every default rule, plus WCAG 2.2's target-size, which
        axe leaves off by default and which matters to hands with spasms); returns its
        violations."""
        self.driver.execute_script(AXE_JS.read_text())
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations'], rules: {'target-size': {enabled: true}}})"
            ".then(r => done(r.violations)).catch(e => done({error: String(e)}));"
        )
        if isinstance(result, dict) and "error" in result:
            raise AssertionError(f"axe-core failed on {self.path()}: {result['error']}")
        return result

    def quit(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


def _stale(element) -> bool:
    try:
        element.is_enabled()
        return False
    except Exception:
        return True


@pytest.fixture(scope="session")
def binary() -> str:
    path = tonus_bin()
    if not os.access(path, os.X_OK):
        raise AssertionError(f"no tonus binary at {path}: build it or set TONUS_BIN")
    return path


@pytest.fixture(scope="session")
def chromium_present() -> None:
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not os.access(tool, os.X_OK):
            raise AssertionError(f"{tool} is missing: apt-get install -y chromium chromium-driver")


@pytest.fixture
def make_browser(chromium_present):
    browsers = []

    def make(server: Server) -> Browser:
        b = Browser(server)
        browsers.append(b)
        return b

    yield make
    for b in browsers:
        b.quit()


@pytest.fixture
def fresh_server(binary, tmp_path):
    """A server on an empty database: nobody has set it up yet."""
    tonus = Tonus(binary, tmp_path / "tonus.db")
    server = Server(tonus, tmp_path / "serve.log")
    server.tonus = tonus
    yield server
    server.stop()
