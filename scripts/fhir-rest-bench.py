#!/usr/bin/env python3
"""Time and memory of the FHIR REST endpoint on a long record (BENCHMARKS.md, issue #13).

Makes a demo patient of --days days in a fresh SQLite file, serves it, signs in as the demo
account, makes an API token, then times a few searches and reads the server's peak resident
memory (VmHWM) after each. Usage:

    scripts/fhir-rest-bench.py --bin target/release/tonus --days 3650
"""

import argparse
import http.client
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.parse

QUERIES = [
    "/fhir/r4/Observation?category=survey&_count=50",
    "/fhir/r4/Observation?category=survey&_count=50&_offset=20000",
    "/fhir/r4/MedicationAdministration?_count=500",
    "/fhir/r4/Patient/{pid}/$everything?_count=50",
]


class Web:
    """Keeps the `__Host-` session cookie by hand: Python's jar will not send a Secure cookie
    over plain HTTP to loopback."""

    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
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

    def csrf(self, path):
        return re.search(r'name="csrf" value="([0-9a-f]+)"', self.request("GET", path)[1]).group(1)


def peak_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="target/release/tonus")
    ap.add_argument("--days", type=int, default=3650)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tonus-rest-bench-")
    env = dict(os.environ, TONUS_DATABASE_URL=os.path.join(tmp, "t.db"),
               TONUS_API_REQUESTS_PER_MINUTE="1000000")
    env.pop("TONUS_PATIENT", None)
    made = json.loads(subprocess.run([args.bin, "demo", "--days", str(args.days), "--json", "-q"], env=env,
                                     check=True, capture_output=True, text=True).stdout)
    proc = subprocess.Popen([args.bin, "serve", "--listen", "127.0.0.1:0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)", proc.stdout.readline()).group(1))
        web = Web(port)
        form = urllib.parse.urlencode({"username": "demo", "password": made["account"]["password"],
                                       "csrf": web.csrf("/login")})
        assert web.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})[0] == 303
        status, text = web.request("POST", "/api/tokens", json.dumps({"name": "bench"}),
                                   {"Content-Type": "application/json", "X-CSRF-Token": web.csrf("/sessions")})
        assert status == 201, text
        auth = {"Authorization": "Bearer " + json.loads(text)["token"]}
        pid = json.loads(web.request("GET", "/fhir/r4/Patient", None, auth)[1])["entry"][0]["resource"]["id"]
        print(f"{args.days} days; server RSS peak at start {peak_kib(proc.pid) // 1024} MiB")
        for q in QUERIES:
            path = q.format(pid=pid)
            started = time.perf_counter()
            status, body = web.request("GET", path, None, auth)
            took = time.perf_counter() - started
            page = json.loads(body)
            assert status == 200, body[:300]
            print(f"{path}: {took:.2f} s, total {page.get('total')}, {len(page.get('entry', []))} on the page, "
                  f"server RSS peak {peak_kib(proc.pid) // 1024} MiB")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
