use super::*;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::LocalInstant;

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
        trials: &[],
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
    let pdf = crate::render_pdf(&data).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
}
