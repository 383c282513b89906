"""The iCalendar export, parsed by an independent RFC 5545 library (icalendar), plus the
octet-level rules a lenient parser would forgive: CRLF endings and 75-octet folding."""

import datetime as dt

import pytest
from icalendar import Calendar


@pytest.fixture(scope="module")
def ics(demo, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("ical") / "tonus.ics"
    demo("export", "ical", "--out", str(out), "--checkin-at", "20:30",
         "--period-change", "2030-01-06=Trial period 2: Baclofen",
         "--period-change", "2030-02-03=Trial period 3, washout; none", "-q")
    return out.read_bytes()


def events(cal):
    return [c for c in cal.walk() if c.name == "VEVENT"]


def test_lines_end_with_crlf_and_are_folded(ics):
    assert ics.endswith(b"\r\n")
    body = ics[:-2]
    assert b"\n" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n"):
        assert len(line) <= 75, line


def test_it_parses_and_every_event_has_uid_and_stamp(ics):
    cal = Calendar.from_ical(ics)
    assert str(cal["VERSION"]) == "2.0"
    evs = events(cal)
    assert evs
    uids = [str(e["UID"]) for e in evs]
    assert len(uids) == len(set(uids))
    for e in evs:
        assert "DTSTAMP" in e and "DTSTART" in e and "SUMMARY" in e


def test_doses_recur_in_the_patients_zone(ics):
    cal = Calendar.from_ical(ics)
    assert [c for c in cal.walk() if c.name == "VTIMEZONE"][0]["TZID"] == "Europe/Paris"
    doses = [e for e in events(cal) if str(e["UID"]).startswith("tonus-dose-")]
    by_summary = {str(e["SUMMARY"]): e for e in doses}
    baclofen = next(e for s, e in by_summary.items() if s.startswith("Take: Baclofen"))
    rule = baclofen["RRULE"]
    assert rule["FREQ"] == ["DAILY"] and rule["BYHOUR"] == [8, 14, 20]
    start = baclofen["DTSTART"].dt
    assert str(start.tzinfo) in {"Europe/Paris", "CET"} or start.tzinfo is not None
    assert (start.hour, start.minute) == (8, 0)
    injection = next(e for s, e in by_summary.items() if s.startswith("Injection: Interferon"))
    assert injection["RRULE"]["FREQ"] == ["DAILY"] and injection["RRULE"]["INTERVAL"] == [2]
    infusion = next(e for s, e in by_summary.items() if s.startswith("Infusion: Ocrelizumab"))
    assert infusion["RRULE"]["FREQ"] == ["WEEKLY"] and infusion["RRULE"]["INTERVAL"] == [26]
    physio = next(e for s, e in by_summary.items() if "Physiotherapy" in s)
    assert physio["RRULE"]["FREQ"] == ["WEEKLY"]


def test_checkin_and_period_changes(ics):
    cal = Calendar.from_ical(ics)
    checkin = next(e for e in events(cal) if str(e["UID"]).startswith("tonus-checkin-"))
    assert checkin["RRULE"]["FREQ"] == ["DAILY"]
    assert (checkin["DTSTART"].dt.hour, checkin["DTSTART"].dt.minute) == (20, 30)
    periods = sorted((e["DTSTART"].dt, str(e["SUMMARY"])) for e in events(cal)
                     if str(e["UID"]).startswith("tonus-period-"))
    assert periods == [(dt.date(2030, 1, 6), "Trial period 2: Baclofen"),
                       (dt.date(2030, 2, 3), "Trial period 3, washout; none")]


def test_uids_are_stable_between_exports(demo, ics, tmp_path):
    again = tmp_path / "again.ics"
    demo("export", "ical", "--out", str(again), "--checkin-at", "20:30",
         "--period-change", "2030-01-06=Trial period 2: Baclofen",
         "--period-change", "2030-02-03=Trial period 3, washout; none", "-q")
    uids = lambda data: sorted(str(e["UID"]) for e in events(Calendar.from_ical(data)))
    assert uids(ics) == uids(again.read_bytes())
