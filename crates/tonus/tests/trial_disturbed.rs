//! Disturbed days and robustness checks, end to end on a real database (an SQLite file, and
//! a PostgreSQL schema when `TONUS_TEST_POSTGRES_URL` is set): a simulated trial with a
//! flare inside one period, the flare recorded as a relapse; the CLI's report must leave its
//! days out by the pre-specified rule, list them with the days each arm keeps, and print
//! the carry-over and trend checks.

mod common;

use common::*;
use jiff::{Span, Timestamp};
use serde_json::Value;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::time::Zone;
use tonus_domain::{ClinicalEvent, Episode, EventKind, LocalInstant, Pain, SpasmKind};
use tonus_stats::design::TrialDesign;
use tonus_stats::sim::{Family, SimConfig};
use tonus_stats::trial_sim::{simulate_trial, ArmEffect};
use tonus_store::{Batch, Store};

async fn disturbed_days_are_left_out_and_listed(db: Db) {
    run_ok(&db.url, &["patient", "add", "me", "--tz", "UTC"], "");
    run_ok(&db.url, &["treatment", "add", "Baclofen", "--category", "drug"], "");
    let mut design = TrialDesign::new(vec!["none".into(), "Baclofen".into()], 11);
    design.blocks = 3;
    let cal = design.calendar().unwrap();
    // A 10-day flare from the fourth analysed day of the second period.
    let flare_start = cal.periods[1].analysed.start + 3;
    let (_, sim) = simulate_trial(
        &SimConfig {
            flare_start_day: Some(flare_start),
            relapse_duration_days: 10,
            relapse_rate_ratio: 3.0,
            ..SimConfig::quiet(0, 9)
        },
        &design,
        &[ArmEffect::NONE, ArmEffect::immediate(0.6)],
    )
    .unwrap();
    let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let start = today
        .checked_sub(Span::new().days(i64::from(cal.total_days) + 1))
        .unwrap();
    let date = |d: u32| start.checked_add(Span::new().days(i64::from(d))).unwrap();

    let store = Store::open(&db.url).await.unwrap();
    let patient = store.patient_by_handle("me").await.unwrap().unwrap();
    let mut batch = Batch::default();
    for d in &sim.days {
        for e in &d.episodes {
            let t = jiff::civil::Time::new((e.minute_of_day / 60) as i8, (e.minute_of_day % 60) as i8, 0, 0).unwrap();
            let at = date(d.day)
                .to_datetime(t)
                .to_zoned(jiff::tz::TimeZone::UTC)
                .unwrap()
                .timestamp();
            let kind = if e.family == Family::Stiffness {
                SpasmKind::Cramp
            } else {
                SpasmKind::Twitch
            };
            let instant = LocalInstant { at, zone: Zone::utc() };
            let pain = Some(Pain::new(e.pain.into()).unwrap());
            batch
                .episodes
                .push(Episode::new(instant, kind, vec![], pain, None, vec![], None, None, at).unwrap());
        }
        if d.confirmed {
            let c = CheckInDraft {
                log_complete: true,
                ..Default::default()
            };
            batch
                .checkins
                .push(c.validate(date(d.day), &Zone::utc(), Timestamp::now()).unwrap());
        }
    }
    let (from, to) = (date(flare_start), date(flare_start + 9));
    let relapse = ClinicalEvent::new(EventKind::Relapse, from, Some(to), None, &Zone::utc(), Timestamp::now()).unwrap();
    // An MRI is shown on the timeline but leaves no day out.
    let mri = ClinicalEvent::new(
        EventKind::mri(tonus_domain::MriRegion::Brain, None, None, None).unwrap(),
        date(cal.periods[3].analysed.start),
        None,
        None,
        &Zone::utc(),
        Timestamp::now(),
    )
    .unwrap();
    batch.events = vec![relapse, mri];
    store.insert_batch(&patient, &batch).await.unwrap();
    store.close().await;

    let start_text = start.to_string();
    run_ok(
        &db.url,
        &[
            "trial",
            "plan",
            "--name",
            "bac",
            "--arm",
            "none",
            "--arm",
            "baclofen",
            "--start",
            &start_text,
            "--seed",
            "11",
            "--blocks",
            "3",
        ],
        "",
    );
    let report: Value = serde_json::from_str(&run_ok(&db.url, &["trial", "report", "bac", "--json"], "")).unwrap();
    let x = &report["exclusions"];
    assert!(x["rule"]
        .as_str()
        .unwrap()
        .starts_with("Pre-specified rule for disturbed days"));
    let disturbed = x["disturbed"].as_array().unwrap();
    assert_eq!(disturbed.len(), 1, "only the relapse: {x}");
    assert_eq!(disturbed[0]["reason"], "relapse");
    assert_eq!(disturbed[0]["from"], from.to_string());
    assert_eq!(disturbed[0]["to"], to.to_string());
    assert_eq!(disturbed[0]["days"], 10);
    // Seven of the flare's days are in period 2's analysed days, three in period 3's washout.
    let in_analysed = cal
        .periods
        .iter()
        .flat_map(|p| p.analysed.clone())
        .filter(|d| (flare_start..flare_start + 10).contains(d))
        .count() as u64;
    assert_eq!(in_analysed, 7);
    let arm = design.arms[cal.periods[1].arm].as_str();
    let arms = x["arms"].as_array().unwrap();
    let row = arms.iter().find(|a| a["arm"] == arm).unwrap();
    assert_eq!(row["days_excluded"].as_u64(), Some(in_analysed));
    assert_eq!(row["days_left"].as_u64(), Some(3 * 10 - in_analysed));

    let primary = &report["outcomes"][0]["analysis"];
    assert_eq!(primary["days_excluded"].as_u64(), Some(in_analysed));
    assert_eq!(primary["periods"][1]["days_excluded"].as_u64(), Some(in_analysed));
    assert_eq!(
        primary["days_used"].as_u64().unwrap() + primary["days_missing"].as_u64().unwrap() + in_analysed,
        60,
        "every analysed day is used, missing or left out"
    );
    let kinds: Vec<&str> = primary["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["carry_over", "trend"]);

    let text = run_ok(&db.url, &["trial", "report", "bac"], "");
    for item in [
        "Pre-specified rule for disturbed days",
        &format!("Left out: relapse {from} to {to} (10 days)."),
        &format!("{arm} {} ({in_analysed} left out)", 30 - in_analysed),
        "left out (recorded relapse or infection)",
        "Carry-over check (Baclofen vs none, the first 3 analysed days of each period against the later days)",
        "Trend check",
    ] {
        assert!(text.contains(item), "report text has {item:?}: {text}");
    }
    assert!(
        !text.contains("medical advice") || text.contains("not medical advice"),
        "{text}"
    );
}

#[tokio::test]
async fn disturbed_days_on_sqlite() {
    disturbed_days_are_left_out_and_listed(sqlite_db()).await;
}

#[tokio::test]
async fn disturbed_days_on_postgres() {
    match postgres_db("disturbed").await {
        Some(db) => disturbed_days_are_left_out_and_listed(db).await,
        None => eprintln!("TONUS_TEST_POSTGRES_URL not set: PostgreSQL test skipped"),
    }
}
