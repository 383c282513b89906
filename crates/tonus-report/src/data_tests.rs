use super::*;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::{Effect, LocalInstant, Severity};

#[test]
fn means_use_confirmed_days_only_and_sections_are_ordered() {
    let zone = Zone::utc();
    let now: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
    let ep = |when: &str, kind: &str| {
        EpisodeDraft {
            kind: kind.into(),
            regions: vec!["left-calf".into()],
            pain: Some(4),
            ..Default::default()
        }
        .validate(
            LocalInstant {
                at: when.parse().unwrap(),
                zone: zone.clone(),
            },
            now,
        )
        .unwrap()
    };
    // Day 1 confirmed with 2 twitches; day 2 unconfirmed with 5 (must not count).
    let episodes = vec![
        ep("2026-11-01T10:00:00Z", "twitch"),
        ep("2026-11-01T23:30:00Z", "twitch"),
        ep("2026-11-02T10:00:00Z", "twitch"),
        ep("2026-11-02T11:00:00Z", "twitch"),
        ep("2026-11-02T12:00:00Z", "cramp"),
    ];
    let checkins = vec![CheckInDraft {
        log_complete: true,
        spasticity_nrs: Some(6),
        ..Default::default()
    }
    .validate("2026-11-01".parse().unwrap(), &zone, now)
    .unwrap()];
    let data = build(&ReportInput {
        patient: "p",
        zone: &zone,
        from: "2026-11-01".parse().unwrap(),
        to: "2026-11-02".parse().unwrap(),
        generated: now,
        episodes: &episodes,
        checkins: &checkins,
        regimens: &[],
        doses: &[],
        exercise: &[],
        events: &[],
        side_effects: &[],
        trials: &[],
        notes: Notes::Hidden,
        sections: &[Section::Regions, Section::Counts],
        gentle_limit: 4,
    });
    assert_eq!(data.summary.confirmed_days, 1);
    assert_eq!(data.summary.involuntary_per_day, Some(2.0));
    assert_eq!(data.summary.stiffness_per_day, Some(0.0));
    assert_eq!(data.summary.involuntary_total, 4);
    assert_eq!(data.summary.night_share_pct, Some(20.0));
    assert_eq!(data.sections, vec!["summary", "counts", "regions"]);
    assert_eq!(data.regions, vec![("left calf".to_string(), 5)]);
    let day = |date: &str, confirmed, involuntary, stiffness| DayCell {
        date: date.parse().unwrap(),
        confirmed,
        involuntary,
        stiffness,
    };
    assert_eq!(
        data.days,
        vec![day("2026-11-01", true, 2, 0), day("2026-11-02", false, 2, 1)]
    );
    assert_eq!(data.summary.side_effects, "No side effects recorded in this range.");
    assert!(!data.notes.included && data.notes.rows.is_empty());
    let pdf = crate::render_pdf(&data).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
}

fn side_effect(
    when: &str,
    effect: Effect,
    severity: Severity,
    treatment: Option<&str>,
    note: Option<&str>,
) -> SideEffect {
    SideEffect::new(
        LocalInstant {
            at: when.parse().unwrap(),
            zone: Zone::utc(),
        },
        effect,
        None,
        severity,
        treatment,
        note,
        "2026-11-20T12:00:00Z".parse().unwrap(),
    )
    .unwrap()
}

fn report(episodes: &[Episode], checkins: &[CheckIn], effects: &[SideEffect], notes: Notes) -> ReportData {
    let zone = Zone::utc();
    build(&ReportInput {
        patient: "p",
        zone: &zone,
        from: "2026-11-01".parse().unwrap(),
        to: "2026-11-10".parse().unwrap(),
        generated: "2026-11-20T12:00:00Z".parse().unwrap(),
        episodes,
        checkins,
        regimens: &[],
        doses: &[],
        exercise: &[],
        events: &[],
        side_effects: effects,
        trials: &[],
        notes,
        sections: &Section::ALL,
        gentle_limit: 4,
    })
}

#[test]
fn side_effects_are_summarised_per_effect_and_suspected_treatment_within_the_range() {
    use Effect::*;
    use Severity::*;
    let effects = vec![
        side_effect("2026-10-31T10:00:00Z", Nausea, Severe, None, None), // before the range
        side_effect(
            "2026-11-01T10:00:00Z",
            Drowsiness,
            Mild,
            Some("Baclofen"),
            Some("after the\nevening dose"),
        ),
        side_effect("2026-11-03T10:00:00Z", Drowsiness, Moderate, Some("Baclofen"), None),
        side_effect("2026-11-04T10:00:00Z", Weakness, Mild, Some("Baclofen"), None),
        side_effect("2026-11-05T10:00:00Z", Headache, Mild, None, None),
        side_effect("2026-11-11T10:00:00Z", Dizziness, Severe, Some("Tizanidine"), None), // after
    ];
    let data = report(&[], &[], &effects, Notes::Hidden);
    let se = &data.side_effects;
    assert_eq!(se.total, 4);
    assert_eq!(se.rows.first().map(|r| r.date.as_str()), Some("2026-11-01"));
    assert!(
        se.rows.iter().all(|r| r.note.is_none()),
        "notes stay out unless asked for"
    );
    let effect = |name: &str| {
        se.by_effect
            .iter()
            .find(|c| c.effect == name)
            .map(|c| (c.count, c.worst))
    };
    assert_eq!(effect("drowsiness"), Some((2, Moderate)));
    assert_eq!(effect("nausea"), None);
    assert_eq!(effect("dizziness"), None);
    let treatments: Vec<(&str, usize, &str)> = se
        .by_treatment
        .iter()
        .map(|t| (t.treatment.as_str(), t.count, t.text.as_str()))
        .collect();
    assert_eq!(
        treatments,
        vec![
            (
                "Baclofen",
                3,
                "drowsiness 2 (worst moderate), muscle weakness 1 (worst mild)"
            ),
            ("no treatment named", 1, "headache 1 (worst mild)"),
        ]
    );
    assert!(
        data.summary.side_effects.starts_with("4 recorded: drowsiness 2"),
        "{}",
        data.summary.side_effects
    );
    assert!(data.sections.contains(&"side-effects"));

    let with_notes = report(&[], &[], &effects, Notes::Newest(10));
    assert_eq!(
        with_notes.side_effects.rows[0].note.as_deref(),
        Some("after the\nevening dose")
    );
}

#[test]
fn notes_are_newest_first_bounded_and_counted() {
    let zone = Zone::utc();
    let now: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
    let episode = |when: &str, notes: &str| {
        EpisodeDraft {
            kind: "cramp".into(),
            notes: Some(notes.into()),
            trigger_note: Some(format!("trigger {notes}")),
            ..Default::default()
        }
        .validate(
            LocalInstant {
                at: when.parse().unwrap(),
                zone: zone.clone(),
            },
            now,
        )
        .unwrap()
    };
    let episodes = vec![
        episode("2026-11-02T08:00:00Z", "early"),
        episode("2026-11-05T08:00:00Z", "middle"),
        episode("2026-11-12T08:00:00Z", "out of range"),
    ];
    let checkins = vec![CheckInDraft {
        note: Some("bad night\nwoke twice".into()),
        ..Default::default()
    }
    .validate("2026-11-05".parse().unwrap(), &zone, now)
    .unwrap()];
    let effects = vec![side_effect(
        "2026-11-06T10:00:00Z",
        Effect::Drowsiness,
        Severity::Mild,
        None,
        Some("sleepy <b>all</b> day"),
    )];
    let hidden = report(&episodes, &checkins, &effects, Notes::Hidden);
    assert!(!hidden.notes.included && hidden.notes.rows.is_empty());

    let all = report(&episodes, &checkins, &effects, Notes::Newest(50));
    let seen: Vec<(&str, &str, &str)> = all
        .notes
        .rows
        .iter()
        .map(|n| (n.date.as_str(), n.source, n.text.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("2026-11-06", "side effect", "sleepy <b>all</b> day"),
            ("2026-11-05", "check-in", "bad night\nwoke twice"),
            ("2026-11-05", "episode", "middle"),
            ("2026-11-05", "episode trigger", "trigger middle"),
            ("2026-11-02", "episode", "early"),
            ("2026-11-02", "episode trigger", "trigger early"),
        ]
    );
    assert_eq!(all.notes.more, 0);

    let bounded = report(&episodes, &checkins, &effects, Notes::Newest(2));
    assert_eq!(bounded.notes.rows.len(), 2);
    assert_eq!(bounded.notes.more, 4);
    assert_eq!(bounded.notes.rows[0].source, "side effect");
}
