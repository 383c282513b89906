"""OpenAPI conformance: schemathesis generates valid and invalid requests for every operation
in /api/openapi.json and sends them, with a patient's bearer token, to the real `tonus serve`
on a fresh SQLite file. No answer may be a server error or break the document (status code,
content type, body schema), and invalid input must be refused. Bounded by examples per
operation so the run takes about a minute; the request count is printed and recorded in
RELIABILITY.md."""

import http.client
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PASSWORD = "correct horse battery staple"
# Per operation, per generation phase. Raise through the environment for a longer hunt.
MAX_EXAMPLES = int(os.environ.get("TONUS_FUZZ_EXAMPLES", "100"))
SEED = os.environ.get("TONUS_FUZZ_SEED", "20261125")
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
])


def tonus_bin() -> str:
    env = os.environ.get("TONUS_BIN")
    if env:
        return env
    subprocess.run(["cargo", "build", "-q", "-p", "tonus"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    if not target.is_absolute():
        target = ROOT / target
    return str(target / "debug" / "tonus")


class Http:
    """A tiny client that keeps the session cookie by hand: the cookies are `__Host-` and
    Secure, which cookie jars rightly refuse to send over plain HTTP to 127.0.0.1."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=h)
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

    def login(self, name: str) -> str:
        csrf = self.csrf_from("/login")
        form = f"username={name}&password={PASSWORD.replace(' ', '+')}&csrf={csrf}".encode()
        status, _ = self.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 303, status
        return self.csrf_from("/sessions")

    def api(self, method: str, path: str, csrf: str, payload) -> tuple[int, object]:
        status, text = self.request(
            method, path, json.dumps(payload).encode(),
            {"Content-Type": "application/json", "X-CSRF-Token": csrf},
        )
        return status, json.loads(text) if text else None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    binary = tonus_bin()
    tmp = tmp_path_factory.mktemp("openapi")
    env = dict(os.environ, TONUS_DATABASE_URL=str(tmp / "tonus.db"), TZ="Europe/Paris",
               # One token makes every request of the run; the allowance per token is tested
               # in crates/tonus-server/tests/limits.rs, not here.
               TONUS_API_REQUESTS_PER_MINUTE="1000000")
    env.pop("TONUS_PATIENT", None)
    for name, role in [("anne", "patient"), ("doc", "clinician")]:
        subprocess.run([binary, "user", "add", "--role", role, name, "--password-stdin",
                        "--time-zone", "Europe/Paris"],
                       input=PASSWORD + "\n", env=env, check=True, capture_output=True, text=True)
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert m, f"tonus serve said {line!r}: {proc.stderr.read() if proc.poll() is not None else ''}"
        port = int(m.group(1))
        web = Http("127.0.0.1", port)
        csrf = web.login("anne")
        # Some records, so generated ids sometimes hit a real row.
        for kind in ["cramp", "clonus", "twitch"]:
            status, _ = web.api("POST", "/api/episodes", csrf, {"kind": kind, "pain": 3})
            assert status == 201
        status, token = web.api("POST", "/api/tokens", csrf, {"name": "schemathesis"})
        assert status == 201, token
        # Anne shares with Doc, so the clinician operations have a patient to show.
        form = f"clinician=doc&csrf={csrf}".encode()
        status, _ = web.request("POST", "/sharing/grant", form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status in (200, 303), status
        # Clinicians cannot make tokens: their operations are called with a session.
        doc = Http("127.0.0.1", port)
        doc.login("doc")
        yield {"base": f"http://127.0.0.1:{port}", "token": token, "env": env, "binary": binary,
               "tmp": tmp, "web": web, "doc_session": doc.cookies["__Host-tonus-session"]}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def fuzz(server, label: str, auth_header: str, extra: list[str]) -> dict:
    """One schemathesis run; returns the answers counted by status code."""
    counts = server["tmp"] / f"counts-{label}.json"
    env = dict(os.environ,
               SCHEMATHESIS_HOOKS="st_hooks",
               PYTHONPATH=f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
               TONUS_FUZZ_TOKEN_ID=str(server["token"]["id"]),
               TONUS_FUZZ_COUNT_FILE=str(counts))
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{server['base']}/api/openapi.json",
        "--checks", CHECKS,
        "--header", auth_header,
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", SEED,
        # One worker: hypothesis parses lambda sources with ast.parse in each worker thread,
        # which trips CPython 3.11.7's thread-unsafe AST recursion counter (gh-106905) and
        # aborts the run with "AST constructor recursion depth mismatch".
        "--workers", "1",
        "--generation-database", "none",
        "--request-timeout", "30",
        "--no-color",
        *extra,
    ]
    out = subprocess.run(cmd, env=env, cwd=server["tmp"], capture_output=True, text=True, timeout=600)
    by_status = json.loads(counts.read_text()) if counts.exists() else {}
    total = sum(by_status.values())
    if out.returncode != 0:
        print(out.stdout[-8000:])
        print(out.stderr[-3000:], file=sys.stderr)
    print(f"OpenAPI conformance ({label}): {total} requests tried (seed {SEED}, {MAX_EXAMPLES} examples "
          f"per operation and phase); by status: {dict(sorted(by_status.items()))}")
    assert out.returncode == 0, f"schemathesis found problems as {label} (output above)"
    assert not any(s.startswith("5") for s in by_status), by_status
    return by_status


def test_every_operation_conforms_to_the_openapi_document(server):
    patient = fuzz(server, "patient token", f"Authorization: Bearer {server['token']['token']}", [])
    clinician = fuzz(server, "clinician session", f"Cookie: __Host-tonus-session={server['doc_session']}",
                     ["--include-path-regex", "^/api/(clinician|me)"])
    total = sum(patient.values()) + sum(clinician.values())
    print(f"OpenAPI conformance: {total} requests in all")
    assert sum(patient.values()) >= 300, patient
    # The clinician run reached real data, not only refusals.
    assert clinician.get("200", 0) > 0, clinician

    # The server is still up, the fuzzer's token still works, and the audit chain is whole.
    web: Http = server["web"]
    status, _ = web.request("GET", "/api/me", headers={"Authorization": f"Bearer {server['token']['token']}"})
    assert status == 200
    verify = subprocess.run([server["binary"], "audit", "verify"], env=server["env"], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
