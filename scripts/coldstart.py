#!/usr/bin/env python3
"""Cold start of `tonus serve` to ready (issue #15 point 4; the figure in BENCHMARKS.md).

For each run: start the server on a free loopback port and poll `GET /readyz` every
millisecond until it answers 200 (the database answers and its schema is current); the time
from spawning the process to that answer is the cold start. Then the server is stopped
(SIGTERM) and its peak RSS read from /proc just before. Two databases:
  - "fresh": a new SQLite file each run (the server creates it and runs every migration),
  - "demo":  a year of simulated records (`tonus demo --days 365`), already migrated.

    scripts/coldstart.py [--bin target/release/tonus] [--runs 20]

Prints min / median / p90 / max in milliseconds per database. Standard library only.
"""

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port: int) -> bool:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=0.5)
        c.request("GET", "/readyz")
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except OSError:
        return False


def peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def one_run(binary: str, db: str) -> tuple[float, int]:
    port = free_port()
    env = dict(os.environ, TONUS_DATABASE_URL=db, TONUS_LISTEN=f"127.0.0.1:{port}")
    start = time.perf_counter()
    p = subprocess.Popen([binary, "serve", "-q"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not ready(port):
            if p.poll() is not None:
                sys.exit(f"the server exited ({p.returncode}): {p.stderr.read().decode()}")
            if time.perf_counter() - start > 30:
                sys.exit("the server was not ready within 30 s")
            time.sleep(0.001)
        elapsed = (time.perf_counter() - start) * 1000
        rss = peak_rss_kib(p.pid)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    return elapsed, rss


def summary(name: str, runs: list[tuple[float, int]]) -> str:
    ms = sorted(t for t, _ in runs)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    rss = max(r for _, r in runs) / 1024
    return (f"{name:6} runs={len(ms):3}  min {ms[0]:6.1f} ms  median {statistics.median(ms):6.1f} ms"
            f"  p90 {p90:6.1f} ms  max {ms[-1]:6.1f} ms  peak RSS at ready {rss:5.1f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="target/release/tonus", help="the tonus binary")
    ap.add_argument("--runs", type=int, default=20, help="starts per database")
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"{args.bin}: not an executable; build it with `cargo build --release --locked --bin tonus`")
    with tempfile.TemporaryDirectory() as tmp:
        demo = f"sqlite://{tmp}/demo.db"
        subprocess.run([args.bin, "demo", "--days", "365", "--seed", "1", "-q"],
                       env=dict(os.environ, TONUS_DATABASE_URL=demo), check=True,
                       stdout=subprocess.DEVNULL)
        fresh_runs = []
        for i in range(args.runs):
            fresh_runs.append(one_run(args.bin, f"sqlite://{tmp}/fresh-{i}.db"))
        demo_runs = [one_run(args.bin, demo) for _ in range(args.runs)]
    print(summary("fresh", fresh_runs))
    print(summary("demo", demo_runs))


if __name__ == "__main__":
    main()
