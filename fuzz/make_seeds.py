#!/usr/bin/env python3
"""Writes the seed corpora of every fuzz target from real exports of `tonus demo`.

Usage (RELIABILITY.md, Fuzzing): fuzz/make_seeds.py EXPORTS_DIR
where EXPORTS_DIR holds csv/*.csv, bundle.json, archive.json and backup.db made by
    tonus demo --days 30 --seed 7
    tonus --patient demo export csv --out-dir EXPORTS_DIR/csv
    tonus --patient demo export fhir --out EXPORTS_DIR/bundle.json
    tonus --patient demo export archive --out EXPORTS_DIR/archive.json
    tonus backup --format sqlite --out EXPORTS_DIR/backup.db   (of a 7-day demo)
Seeds are trimmed to a few records of each kind: libFuzzer mutates small inputs far faster,
and one record of a kind reaches the same code as a thousand. The targets' first byte picks a
time zone or a route (see each target), so seeds start with one such byte.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import struct
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))


def put(target, data, root=ROOT):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(root, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def compact(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def csv_seeds(src):
    for name in sorted(os.listdir(src)):
        lines = open(os.path.join(src, name), encoding="utf-8").read().splitlines()
        for zone in (0, 1, 3):
            put("csv_import", bytes([zone]) + ("\n".join(lines[:6]) + "\n").encode())
    # What people type instead of what Tonus writes: local times, relative days, lists.
    put("csv_import", b"\x01started_at,kind,regions,pain,duration_s,triggers\n"
        b"yesterday 22:40,cramp,left-calf;right-calf,6,90,heat\n03:10,Jerk,,,,\n-2 07:00,twitch,,11,,\n")
    put("csv_import", b"\x02date,spasticity_nrs,pain_nrs,psfs_frequency,psfs_severity,night_wakings,log_complete\n"
        b"today,4,3,2,1,0,yes\n-1,,,0,2,,no\n")
    put("csv_import", b"\x00kind,date,until,mri_region,lesions_total,lesions_new,lesions_enhancing,name\n"
        b"mri,2025-01-10,,brain,12,1,0,\nother,2025-02-01,2025-02-03,,,,,flu jab\n")
    put("csv_import", b"\x01at,effect,description,severity,suspected_treatment,note\n"
        b"yesterday 22:40,drowsiness,,moderate,baclofen,\"after the\nevening dose\"\n-2 07:00,other,pins and needles,mild,,\n")


def fhir_seeds(bundle):
    entries = bundle["entry"]
    patient = [e for e in entries if e["resource"]["resourceType"] == "Patient"]

    def kind(e):
        r = e["resource"]
        codes = tuple(c.get("code") for c in r.get("code", {}).get("coding", []))
        return (r["resourceType"], codes[-1:] if r["resourceType"] == "Observation" else ())

    picked, seen = [], {}
    for e in entries:
        k = kind(e)
        if k[0] != "Patient" and seen.get(k, 0) < 2:
            seen[k] = seen.get(k, 0) + 1
            picked.append(e)
    # Administrations must name a statement that is in the bundle (side effects too, for
    # the suspected treatment to be read from it).
    statements = {e["fullUrl"] for e in picked if e["resource"]["resourceType"] == "MedicationStatement"}
    picked = [e for e in picked if e["resource"]["resourceType"] != "MedicationAdministration"
              or e["resource"].get("supportingInformation", [{}])[0].get("reference") in statements]
    put("fhir_import", compact(dict(bundle, entry=patient + picked)))
    by_type = {}
    for e in picked:
        by_type.setdefault(e["resource"]["resourceType"], []).append(e)
    for t, es in by_type.items():
        extra = ([e for e in picked if e["resource"]["resourceType"] == "MedicationStatement"]
                 if t in ("MedicationAdministration", "AdverseEvent") else [])
        put("fhir_import", compact(dict(bundle, entry=patient + extra + es)))


def archive_seeds(archive):
    for p in archive["patients"]:
        for key in ("episodes", "checkins", "exercise", "events", "side_effects"):
            p[key] = p.get(key, [])[:2]
        for t in p.get("treatments", []):
            for r in t.get("regimens", []):
                r["doses"] = r.get("doses", [])[:2]
    put("archive_import", compact(archive))
    put("archive_import", json.dumps(archive, indent=1))
    put("archive_import", compact({"format": "tonus-archive", "version": 1, "created_at": archive["created_at"],
                                   "generator": "hand", "patients": []}))


def sqlite_seed(backup):
    tmp = os.path.join(ROOT, "target", "seed.db")
    os.makedirs(os.path.dirname(tmp), exist_ok=True)
    shutil.copy(backup, tmp)
    c = sqlite3.connect(tmp)
    for table, keep in [("episodes", 4), ("checkins", 2), ("dose_logs", 3), ("exercise_sessions", 2),
                        ("audit_log", 0), ("login_attempts", 0)]:
        c.execute(f"DELETE FROM {table} WHERE id NOT IN (SELECT id FROM {table} ORDER BY id LIMIT {keep})")
    c.commit()
    # Small pages make a small file: a mutation then lands in a record more often.
    c.execute("PRAGMA page_size=512")
    c.execute("VACUUM")
    c.close()
    put("sqlite_restore", open(tmp, "rb").read())
    os.remove(tmp)


PARSER_INPUTS = [
    "2026-11-20", "today", "yesterday", "-7", "-36500", "2026-11-20 03:10", "2026-11-20T03:10",
    "03:10", "yesterday 22:40", "now", "2026-07-01T03:10:00+02:00", "2026-03-29 02:30", "40s", "2m",
    "1m30s", "1h 5m", "90", "0.5s", "Europe/Paris", "America/New_York", "anne-marie.2", "daily",
    "3x-daily", "every-2-weeks", "as-needed", "left-calf", "heat", "oral", "mg", "drug", "taken",
    "yoga", "brain", "flexor spasm", "Sustained_Stiffness",
]

BODIES = [
    (0, "kind=cramp&region=left-calf&region=right-calf&pain=6&when=yesterday+22%3A40&duration=1m30s&notes=after+a+walk"),
    (0, "kind=twitch&when=&duration=&pain=&notes="),
    (1, "date=today&spasticity_nrs=4&pain_nrs=3&psfs_frequency=2&psfs_severity=1&night_wakings=0&log_complete=on&note=ok"),
    (1, "date=-3&psfs_frequency=0"),
    (2, compact({"kind": "clonus", "regions": ["left-ankle"], "pain": 3, "duration_s": 40, "triggers": ["stretching"],
                 "trigger_note": "stairs", "notes": "n", "started_at": "2026-11-20 03:10"})),
    (2, compact({"kind": "jerk"})),
    (3, compact({"date": "yesterday", "spasticity_nrs": 5, "pain_nrs": 2, "psfs_frequency": 3, "psfs_severity": 2,
                 "night_wakings": 1, "log_complete": True, "note": "tired"})),
    (3, compact({})),
]

# Route indexes of fuzz/server/fuzz_targets/http_bodies.rs (ROUTES).
HTTP = [
    (0, "username=admin2&password=correct+horse+battery"),
    (1, "username=patient&password=correct+horse+battery"),
    (2, "username=newpatient&password=correct+horse+battery&time_zone=Europe%2FParis"),
    (3, BODIES[0][1]),
    (4, BODIES[2][1]),
    (5, ""),
    (6, "clinician=clinician"),
    (7, "name=my+script"),
    (8, "name=baclofen+trial&arms=A,B&periods=4&period_days=14&start=2026-12-01&primary=spasm-count&threshold=20"),
    (9, "name=phone"),
    (10, "code=ABCD-EFGH"),
    (11, "username=someone&role=patient&password=correct+horse+battery&time_zone=Europe%2FParis"),
    (12, BODIES[4][1]),
    (13, BODIES[6][1]),
    (14, compact({"name": "script"})),
    (15, "date=2026-11-20"),
    (16, "from=-7&to=today"),
    (17, ""),
]


def main():
    src = sys.argv[1]
    csv_seeds(os.path.join(src, "csv"))
    fhir_seeds(json.load(open(os.path.join(src, "bundle.json"), encoding="utf-8")))
    archive_seeds(json.load(open(os.path.join(src, "archive.json"), encoding="utf-8")))
    sqlite_seed(os.path.join(src, "backup.db"))
    for s in PARSER_INPUTS:
        for zone in (0, 1, 3, 4):
            put("input_parsers", bytes([zone]) + s.encode())
    for selector, body in BODIES:
        put("request_bodies", bytes([selector + 4]) + body.encode())
    # trial_design: baseline, period, washout, blocks (u32 LE), threshold (f64 LE), seed, outcome, arms.
    for numbers, threshold, arms in [((14, 14, 4, 3), 0.3, "none,baclofen"), ((0, 7, 0, 1), 0.5, "a,b,c"),
                                     ((28, 21, 7, 4), 0.25, "none, tizanidine")]:
        put("trial_design", struct.pack("<4Id", *numbers, threshold) + bytes([7, 1]) + arms.encode())
    for route, body in HTTP:
        put("http_bodies", bytes([route]) + body.encode(), root=os.path.join(ROOT, "server"))


if __name__ == "__main__":
    main()
