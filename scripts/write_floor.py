#!/usr/bin/env python3
"""The floor under Tonus's episode write rate on SQLite: a bare insert loop on a copy of the
same database (same table, indexes, triggers), with the same settings as the server's
connections (WAL, synchronous=FULL, foreign keys on), so every commit is one fsync.

    scripts/write_floor.py DB SECONDS BATCH [BATCH ...]

For each BATCH: rows inserted for SECONDS, BATCH rows per transaction (1: a commit per row,
as every request did before group commit; 16: what 16 connections can at best share).
Prints one line per batch: `FLOOR batch=N rows=… seconds=… rows_per_s=…`. The rows go to the
first patient and are removed again at the end.
"""

import sqlite3
import sys
import time

INSERT = (
    "INSERT INTO episodes (patient_id, started_at_ms, time_zone, local_date, kind, family, regions, pain,"
    " duration_s, triggers, trigger_note, notes, recorded_at_ms)"
    " VALUES (?, ?, 'Europe/Paris', '2026-12-04', ?, 'phasic', 'left-calf', ?, NULL, '', NULL, 'floor', ?)"
)
KINDS = ["twitch", "clonus", "cramp", "flexor-spasm", "jerk"]


def run(db, seconds, batch):
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA busy_timeout=10000")
    (patient,) = con.execute("SELECT MIN(id) FROM patients").fetchone()
    rows = 0
    start = time.monotonic()
    end = start + seconds
    while time.monotonic() < end:
        con.execute("BEGIN IMMEDIATE")
        for _ in range(batch):
            now = int(time.time() * 1000)
            con.execute(INSERT, (patient, now, KINDS[rows % 5], rows % 11, now))
            rows += 1
        con.execute("COMMIT")
    elapsed = time.monotonic() - start
    con.execute("DELETE FROM episodes WHERE notes = 'floor'")
    con.close()
    print(f"FLOOR batch={batch} rows={rows} seconds={elapsed:.3f} rows_per_s={rows / elapsed:.0f}")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    db, seconds = sys.argv[1], float(sys.argv[2])
    for batch in sys.argv[3:]:
        run(db, seconds, int(batch))


if __name__ == "__main__":
    main()
