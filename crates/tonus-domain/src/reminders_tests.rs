use super::*;
use crate::treatment::{Category, Dose, Unit};
use jiff::civil::{date, time};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn all() -> Choices {
    Choices {
        checkin: true,
        doses: true,
        trials: true,
        discreet: false,
    }
}

fn regimen(schedule: Schedule, start: Date) -> Regimen {
    Regimen::new(
        Category::Drug,
        Some(Dose::new(10.0, Unit::Mg).unwrap()),
        None,
        schedule,
        start,
        None,
    )
    .unwrap()
}

fn plan<'a>(zone: &'a Zone, regimens: &'a [(i64, String, Regimen)], changes: &'a [(Date, String)]) -> Plan<'a> {
    Plan {
        zone,
        checkin_at: Some(time(20, 0, 0, 0)),
        regimens,
        period_changes: changes,
        choices: all(),
        quiet: None,
        checked_in: &[],
        logged: &[],
    }
}

#[test]
fn choices_round_trip_through_bits() {
    for bits in 0..8 {
        assert_eq!(Choices::from_bits(bits).bits(), bits);
    }
    assert!(!Choices::from_bits(0b101).wants(ReminderKind::Dose));
}

#[test]
fn quiet_hours_wrap_past_midnight() {
    let night = QuietHours {
        start: time(22, 0, 0, 0),
        end: time(7, 0, 0, 0),
    };
    assert!(night.contains(time(22, 0, 0, 0)));
    assert!(night.contains(time(23, 59, 0, 0)));
    assert!(night.contains(time(0, 0, 0, 0)));
    assert!(night.contains(time(6, 59, 0, 0)));
    assert!(!night.contains(time(7, 0, 0, 0)));
    assert!(!night.contains(time(12, 0, 0, 0)));
    let lunch = QuietHours {
        start: time(12, 0, 0, 0),
        end: time(14, 0, 0, 0),
    };
    assert!(lunch.contains(time(13, 0, 0, 0)) && !lunch.contains(time(14, 0, 0, 0)));
    assert!(!lunch.contains(time(11, 0, 0, 0)));
    let none = QuietHours {
        start: time(9, 0, 0, 0),
        end: time(9, 0, 0, 0),
    };
    assert!(!none.contains(time(9, 0, 0, 0)));
}

#[test]
fn local_times_across_gaps_and_folds() {
    let paris = TimeZone::get("Europe/Paris").unwrap();
    // 2026-03-29: 02:00 → 03:00. 02:30 does not exist: it is moved forward by the gap.
    assert_eq!(
        at_local(&paris, date(2026, 3, 29), time(2, 30, 0, 0)),
        Some(ts("2026-03-29T01:30:00Z"))
    );
    assert_eq!(
        at_local(&paris, date(2026, 3, 29), time(20, 0, 0, 0)),
        Some(ts("2026-03-29T18:00:00Z"))
    );
    assert_eq!(
        at_local(&paris, date(2026, 3, 28), time(20, 0, 0, 0)),
        Some(ts("2026-03-28T19:00:00Z"))
    );
    // 2026-10-25: 03:00 → 02:00. 02:30 happens twice: the first one.
    assert_eq!(
        at_local(&paris, date(2026, 10, 25), time(2, 30, 0, 0)),
        Some(ts("2026-10-25T00:30:00Z"))
    );
    let ny = TimeZone::get("America/New_York").unwrap();
    assert_eq!(
        at_local(&ny, date(2026, 3, 8), time(8, 0, 0, 0)),
        Some(ts("2026-03-08T12:00:00Z"))
    );
    assert_eq!(
        at_local(&ny, date(2026, 3, 7), time(8, 0, 0, 0)),
        Some(ts("2026-03-07T13:00:00Z"))
    );
}

#[test]
fn a_dst_day_has_each_reminder_once_at_its_wall_clock_time() {
    let zone = Zone::parse("Europe/Paris").unwrap();
    let regimens = vec![(
        7,
        "Baclofen".to_string(),
        regimen(Schedule::TimesPerDay(3), date(2026, 3, 1)),
    )];
    let changes = vec![(date(2026, 3, 29), "Trial T: period 2 of 4 starts".to_string())];
    let p = plan(&zone, &regimens, &changes);
    // The whole local day of the change, 23 hours long.
    let got = due_between(&p, ts("2026-03-28T22:59:59Z"), ts("2026-03-29T21:59:59Z"));
    let keys: Vec<(String, String)> = got.iter().map(|r| (r.key.clone(), r.due.to_string())).collect();
    let trial = format!("trial:2026-03-29:{}", fnv("Trial T: period 2 of 4 starts"));
    let expected: Vec<(String, String)> = [
        ("dose:7:2026-03-29T08", "2026-03-29T06:00:00Z"),
        (trial.as_str(), "2026-03-29T06:00:00Z"),
        ("dose:7:2026-03-29T14", "2026-03-29T12:00:00Z"),
        ("checkin:2026-03-29", "2026-03-29T18:00:00Z"),
        ("dose:7:2026-03-29T20", "2026-03-29T18:00:00Z"),
    ]
    .iter()
    .map(|(k, t)| (k.to_string(), t.to_string()))
    .collect();
    assert_eq!(keys, expected);
    assert_eq!(got[0].title, "Take: Baclofen 10 mg");
    assert_eq!(got[3].url, "/checkin");
}

#[test]
fn windows_split_a_day_without_losing_or_repeating_a_reminder() {
    let zone = Zone::parse("America/New_York").unwrap();
    let regimens = vec![(
        1,
        "Interferon".to_string(),
        regimen(Schedule::EveryDays(2), date(2026, 3, 6)),
    )];
    let p = plan(&zone, &regimens, &[]);
    // Minute by minute over three days around the change: each reminder shows up in
    // exactly one window.
    let mut seen = Vec::new();
    let mut t = ts("2026-03-07T00:00:00Z");
    while t < ts("2026-03-10T00:00:00Z") {
        let next = t + Span::new().minutes(1);
        seen.extend(due_between(&p, t, next).into_iter().map(|r| r.key));
        t = next;
    }
    assert_eq!(
        seen,
        vec![
            "checkin:2026-03-06",
            "checkin:2026-03-07",
            "dose:1:2026-03-08T09",
            "checkin:2026-03-08",
            "checkin:2026-03-09",
        ]
    );
}

#[test]
fn choices_and_quiet_hours_filter() {
    let zone = Zone::parse("Europe/Paris").unwrap();
    let regimens = vec![(
        1,
        "Baclofen".to_string(),
        regimen(Schedule::TimesPerDay(2), date(2026, 1, 1)),
    )];
    let mut p = plan(&zone, &regimens, &[]);
    let day = (ts("2026-06-01T00:00:00Z"), ts("2026-06-01T23:00:00Z"));
    assert_eq!(due_between(&p, day.0, day.1).len(), 3);
    p.choices.doses = false;
    let only: Vec<String> = due_between(&p, day.0, day.1).into_iter().map(|r| r.key).collect();
    assert_eq!(only, vec!["checkin:2026-06-01"]);
    p.choices.doses = true;
    // 19:00–09:00 silences the 08:00 and 20:00 ones.
    p.quiet = Some(QuietHours {
        start: time(19, 0, 0, 0),
        end: time(9, 0, 0, 0),
    });
    let left: Vec<String> = due_between(&p, day.0, day.1).into_iter().map(|r| r.key).collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn dose_hours_spread_the_day() {
    assert_eq!(dose_hours(1), vec![8]);
    assert_eq!(dose_hours(3), vec![8, 14, 20]);
    assert_eq!(dose_hours(4), vec![8, 12, 16, 20]);
}

#[test]
fn what_is_already_logged_is_not_reminded() {
    let zone = Zone::parse("Europe/Paris").unwrap();
    let regimens = vec![(
        1,
        "Baclofen".to_string(),
        regimen(Schedule::TimesPerDay(3), date(2026, 1, 1)),
    )];
    let mut p = plan(&zone, &regimens, &[]);
    let day = (ts("2026-06-01T00:00:00Z"), ts("2026-06-01T23:00:00Z"));
    let keys = |p: &Plan| {
        due_between(p, day.0, day.1)
            .into_iter()
            .map(|r| r.key)
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&p).len(), 4);
    // One dose logged (whenever that day): the 08:00 reminder is not sent, 14:00 and 20:00 are.
    let logged = [(1, date(2026, 6, 1)), (1, date(2026, 5, 31)), (2, date(2026, 6, 1))];
    let checked = [date(2026, 6, 1)];
    p.logged = &logged;
    p.checked_in = &checked;
    assert_eq!(keys(&p), vec!["dose:1:2026-06-01T14", "dose:1:2026-06-01T20"]);
}

#[test]
fn a_discreet_device_is_told_the_kind_and_time_never_the_treatment_or_trial() {
    let zone = Zone::parse("Europe/Paris").unwrap();
    let day = date(2026, 3, 10);
    let regimens = vec![(7, "Baclofen".to_string(), regimen(Schedule::TimesPerDay(1), day))];
    let changes = vec![(day, "Period 2 starts: Tizanidine".to_string())];
    let open = plan(&zone, &regimens, &changes);
    let mut quiet = plan(&zone, &regimens, &changes);
    quiet.choices.discreet = true;
    let (from, to) = (ts("2026-03-09T23:00:00Z"), ts("2026-03-10T22:59:00Z"));
    let plain = due_between(&open, from, to);
    let hidden = due_between(&quiet, from, to);
    assert_eq!(plain.len(), 3, "{plain:?}");
    assert!(plain.iter().any(|r| r.title.contains("Baclofen")), "{plain:?}");
    // The same reminders at the same times under the same keys; only the words differ.
    let at = |rs: &[Reminder]| rs.iter().map(|r| (r.key.clone(), r.due, r.kind)).collect::<Vec<_>>();
    assert_eq!(at(&plain), at(&hidden));
    for r in &hidden {
        let text = format!("{} {}", r.title, r.body);
        for secret in ["Baclofen", "10", "mg", "Tizanidine", "Period"] {
            assert!(!text.contains(secret), "{secret} in {text:?}");
        }
        assert_eq!(r.title, "Tonus reminder");
    }
    let bits = Choices {
        discreet: true,
        ..all()
    }
    .bits();
    assert_eq!(
        Choices::from_bits(bits),
        Choices {
            discreet: true,
            ..all()
        }
    );
    assert!(
        !Choices::from_bits(0b111).discreet,
        "devices saved before the choice stay as they were"
    );
}
