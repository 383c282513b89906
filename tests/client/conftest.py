"""Set-up for the generated-client check: the real `tonus serve` on a fresh SQLite file and on a
fresh PostgreSQL database (a uniquely named one, created from TONUS_TEST_POSTGRES_URL and
dropped afterwards), with a patient and a clinician made by `tonus user add`, and the
sign-in forms the JSON API does not cover (signing in, granting consent by handle)."""

import http.client
import os
import re
import subprocess
import urllib.parse
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
ZONE = "Europe/Paris"


def tonus_bin() -> str:
    env = os.environ.get("TONUS_BIN")
    if env:
        return env
    subprocess.run(["cargo", "build", "-q", "-p", "tonus"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    if not target.is_absolute():
        target = ROOT / target
    return str(target / "debug" / "tonus")


class Web:
    """The web pages' sign-in and consent forms, for set-up only. Keeps the session cookie by
    hand: the cookies are `__Host-` and Secure, which cookie jars rightly refuse to send over
    plain HTTP to 127.0.0.1."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: str | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=form.encode() if form is not None else None, headers=headers)
        r = conn.getresponse()
        data = r.read()
        for v in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = v.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return r.status, data.decode()

    def csrf_from(self, path: str) -> str:
        status, html = self.request("GET", path)
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
        assert m, f"no CSRF field on {path} ({status})"
        return m.group(1)

    def sign_in(self, name: str) -> str:
        """Signs in through the login form; returns the session's CSRF token."""
        csrf = self.csrf_from("/login")
        form = urllib.parse.urlencode({"username": name, "password": PASSWORD, "csrf": csrf})
        status, _ = self.request("POST", "/login", form)
        assert status == 303, f"sign-in of {name} answered {status}"
        return self.csrf_from("/sessions")

    @property
    def session(self) -> str:
        return self.cookies["__Host-tonus-session"]

    def grant(self, csrf: str, clinician: str) -> None:
        """The patient shares with a clinician by handle (the sharing page's form)."""
        form = urllib.parse.urlencode({"clinician": clinician, "csrf": csrf})
        status, _ = self.request("POST", "/sharing/grant", form)
        assert status in (200, 303), f"granting consent answered {status}"


def psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
                   check=True, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database(request, tmp_path_factory):
    """A fresh database URL for `tonus`, on each backend."""
    if request.param == "sqlite":
        yield tmp_path_factory.mktemp("client") / "tonus.db"
        return
    admin_url = os.environ.get("TONUS_TEST_POSTGRES_URL", "")
    if not admin_url:
        if os.environ.get("CI"):
            pytest.fail("CI must run the generated-client check on PostgreSQL: set TONUS_TEST_POSTGRES_URL")
        pytest.skip("TONUS_TEST_POSTGRES_URL is not set")
    name = f"tonus_client_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    psql(admin_url, f'CREATE DATABASE "{name}"')
    try:
        parts = urllib.parse.urlsplit(admin_url)
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def server(database):
    binary = tonus_bin()
    env = dict(os.environ, TONUS_DATABASE_URL=str(database), TZ=ZONE)
    env.pop("TONUS_PATIENT", None)
    for name, role in [("anne", "patient"), ("doc", "clinician")]:
        subprocess.run([binary, "user", "add", "--role", role, name, "--password-stdin", "--time-zone", ZONE],
                       input=PASSWORD + "\n", env=env, check=True, capture_output=True, text=True)
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert m, f"tonus serve said {line!r}: {proc.stderr.read() if proc.poll() is not None else ''}"
        port = int(m.group(1))
        yield {"base": f"http://127.0.0.1:{port}", "port": port, "backend": "postgres" if "://" in str(database) else "sqlite",
               "binary": binary, "env": env}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
