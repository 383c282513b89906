//! Trials end to end: data simulated with a known effect along a trial's randomised calendar
//! is written to a real database, the trial is planned with the CLI, and the CLI's report
//! must find the effect (and say so no more strongly than its interval allows).

use std::process::{Command, Output};

use jiff::{Span, Timestamp};
use serde_json::Value;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::time::Zone;
use tonus_domain::{Effect, Episode, LocalInstant, Pain, Severity, SideEffect, SpasmKind};
use tonus_stats::design::TrialDesign;
use tonus_stats::sim::{Family, SimConfig};
use tonus_stats::trial_sim::{simulate_trial, ArmEffect};
use tonus_store::{Batch, Store};

fn tonus(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tonus"))
        .args(args)
        .env("TONUS_DATABASE_URL", db)
        .env_remove("TONUS_PATIENT")
        .output()
        .expect("run tonus")
}

fn json(db: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = tonus(db, &all);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn a_simulated_trial_with_a_real_effect_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db").display().to_string();
    json(&db, &["patient", "add", "me", "--tz", "UTC"]);
    json(&db, &["treatment", "add", "Baclofen", "--category", "drug"]);

    let mut design = TrialDesign::new(vec!["none".into(), "Baclofen".into()], 11);
    design.blocks = 4;
    let truth = 0.4;
    let (calendar, sim) = simulate_trial(
        &SimConfig {
            baseline_rate_involuntary: 6.0,
            ..SimConfig::quiet(0, 5)
        },
        &design,
        &[
            ArmEffect::NONE,
            ArmEffect {
                rate_ratio_stiffness: 1.0,
                ..ArmEffect::immediate(truth)
            },
        ],
    )
    .unwrap();
    let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let start = today
        .checked_sub(Span::new().days(i64::from(calendar.total_days) + 1))
        .unwrap();

    let store = Store::open_sqlite(std::path::Path::new(&db)).await.unwrap();
    let patient = store.patient_by_handle("me").await.unwrap().unwrap();
    let mut batch = Batch::default();
    for d in &sim.days {
        let date = start.checked_add(Span::new().days(i64::from(d.day))).unwrap();
        for e in &d.episodes {
            let t = jiff::civil::Time::new((e.minute_of_day / 60) as i8, (e.minute_of_day % 60) as i8, 0, 0).unwrap();
            let at = date
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
            batch.episodes.push(
                Episode::new(
                    instant,
                    kind,
                    vec![],
                    Some(Pain::new(e.pain.into()).unwrap()),
                    None,
                    vec![],
                    None,
                    None,
                    at,
                )
                .unwrap(),
            );
        }
        if d.confirmed {
            let c = CheckInDraft {
                log_complete: true,
                ..Default::default()
            };
            batch
                .checkins
                .push(c.validate(date, &Zone::utc(), Timestamp::now()).unwrap());
        }
    }
    store.insert_batch(&patient, &batch).await.unwrap();
    // Side effects on known trial days: three drowsiness in Baclofen periods (days that
    // count), a headache in a `none` period, dizziness on a washout day, one before the start.
    let noon = |day: u32| {
        let date = start.checked_add(Span::new().days(i64::from(day))).unwrap();
        LocalInstant {
            at: date.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp() + Span::new().hours(12),
            zone: Zone::utc(),
        }
    };
    let baclofen: Vec<_> = calendar
        .periods
        .iter()
        .filter(|p| design.arms[p.arm] == "Baclofen")
        .collect();
    let none = calendar.periods.iter().find(|p| design.arms[p.arm] == "none").unwrap();
    let felt = [
        (
            noon(baclofen[0].analysed.start),
            Effect::Drowsiness,
            Severity::Mild,
            Some("Baclofen"),
        ),
        (
            noon(baclofen[0].analysed.start + 2),
            Effect::Drowsiness,
            Severity::Moderate,
            None,
        ),
        (
            noon(baclofen[1].analysed.start),
            Effect::Drowsiness,
            Severity::Mild,
            Some("Baclofen"),
        ),
        (noon(none.analysed.start), Effect::Headache, Severity::Mild, None),
        (noon(none.washout.start), Effect::Dizziness, Severity::Severe, None),
    ];
    for (at, effect, severity, treatment) in felt {
        let s = SideEffect::new(at, effect, None, severity, treatment, None, Timestamp::now()).unwrap();
        store.insert_side_effect(&patient, &s).await.unwrap();
    }
    let before = LocalInstant {
        at: start.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp() - Span::new().hours(12),
        zone: Zone::utc(),
    };
    let s = SideEffect::new(
        before,
        Effect::Nausea,
        None,
        Severity::Severe,
        None,
        None,
        Timestamp::now(),
    )
    .unwrap();
    store.insert_side_effect(&patient, &s).await.unwrap();
    store.close().await;

    let start_text = start.to_string();
    let plan = json(
        &db,
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
            "4",
        ],
    );
    let arms: Vec<&str> = plan["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["arm"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = calendar.periods.iter().map(|p| design.arms[p.arm].as_str()).collect();
    assert_eq!(arms, expected, "the CLI's calendar is the design's randomised calendar");
    // Periods without baclofen mean stopping it: the plan cautions, once, without advising.
    let cautions = plan["cautions"].as_array().unwrap();
    assert_eq!(cautions.len(), 1, "{cautions:?}");
    let caution = cautions[0].as_str().unwrap();
    assert!(
        caution.contains("stopping baclofen abruptly can be dangerous")
            && caution.contains("agree a tapering plan with your prescriber before the trial starts")
            && caution.ends_with("not medical advice."),
        "{caution}"
    );

    // A second plan for the same dates (another seed): both are listed in the report.
    json(
        &db,
        &[
            "trial",
            "plan",
            "--name",
            "bac again",
            "--arm",
            "none",
            "--arm",
            "baclofen",
            "--start",
            &start_text,
            "--seed",
            "12",
        ],
    );

    let report = json(&db, &["trial", "report", "bac"]);
    assert_eq!(report["complete"], true);
    let plans = report["plans"].as_array().unwrap();
    assert_eq!(plans.len(), 2, "{plans:?}");
    assert_eq!(
        (plans[0]["seed"].as_u64(), plans[0]["this_trial"].as_bool()),
        (Some(11), Some(true))
    );
    assert_eq!(plans[1]["seed"].as_u64(), Some(12));
    // Planned today for data already logged: said everywhere, never passed off as pre-specified.
    assert_eq!(report["pre_specified"], false);
    assert_eq!(report["provenance"], "planned after the start: not pre-specified");
    assert_eq!(plan["provenance"], "planned after the start: not pre-specified");
    let list = String::from_utf8_lossy(&tonus(&db, &["trial", "list"]).stdout).to_string();
    assert!(list.contains("[planned after the start: not pre-specified]"), "{list}");
    let primary = &report["outcomes"][0];
    assert_eq!(primary["outcome"], "involuntary-count");
    assert_eq!(primary["primary"], true);
    let c = &primary["analysis"]["comparisons"][0];
    let (est, lo, hi) = (
        c["estimate"].as_f64().unwrap(),
        c["ci_low"].as_f64().unwrap(),
        c["ci_high"].as_f64().unwrap(),
    );
    assert!(
        lo < truth && truth < hi,
        "95 % interval {lo}..{hi} covers the true rate ratio {truth}"
    );
    assert!(est < 0.7, "estimate {est}");
    assert_eq!(c["verdict"]["verdict"], "better");
    assert!(primary["analysis"]["days_washout"].as_u64().unwrap() == u64::from(design.washout_days * 8));
    assert_eq!(
        primary["analysis"]["days_to_come"], 0,
        "a finished trial has nothing to come"
    );
    let post = &c["posterior"];
    assert!(
        post["low"].as_f64().unwrap() < truth && truth < post["high"].as_f64().unwrap(),
        "{post}"
    );
    assert!(post["prob_any_fall"].as_f64().unwrap() > 0.975, "{post}");
    assert!(primary["analysis"]["prior"]
        .as_str()
        .unwrap()
        .contains("weakly informative"));
    // Stiffness had no true effect: the report must not call it better.
    let stiff = &report["outcomes"][1]["analysis"]["comparisons"][0];
    assert_ne!(stiff["verdict"]["verdict"], "better", "{stiff}");
    assert!(report["notice"].as_str().unwrap().contains("not medical advice"));
    let harms = &report["harms"];
    assert_eq!(
        harms["total"], 5,
        "the nausea before the start is not the trial's: {harms}"
    );
    let arm = |name: &str| {
        harms["arms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["arm"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(arm("Baclofen")["count"], 3);
    assert_eq!(arm("Baclofen")["effects"][0]["worst"], "moderate");
    assert_eq!(arm("none")["count"], 1, "the washout dizziness is kept apart");
    assert_eq!(harms["washout"][0]["effect"], "dizziness");
    let periods = harms["periods"].as_array().unwrap();
    assert_eq!(periods.len(), calendar.periods.len());
    assert_eq!(periods[baclofen[0].index as usize]["count"], 2);

    let text = String::from_utf8_lossy(&tonus(&db, &["trial", "report", "bac"]).stdout).to_string();
    for item in [
        "Randomisation",
        "Adherence",
        "washout",
        "BETTER",
        "Limitations",
        "planned after the start: not pre-specified",
        "4. Not pre-specified",
        "weakly informative prior",
        "Probabilities are put into words only when",
        "Re-planned: 2 plans were saved for these dates",
        "9. Harms: side effects recorded by the patient",
        "drowsiness 3 (worst moderate)",
        "headache 1 (worst mild)",
        "washout days (possibly carried over from the previous arm): dizziness 1 (worst severe)",
    ] {
        assert!(text.contains(item), "report text has {item}: {text}");
    }
    assert!(!text.contains("arm 0") && !text.contains("arm 1"), "{text}");
}

#[test]
fn bad_designs_are_rejected_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db").display().to_string();
    json(&db, &["treatment", "add", "Baclofen", "--category", "drug"]);
    let cases: &[(&[&str], &str)] = &[
        (
            &["trial", "plan", "--name", "x", "--arm", "none", "--arm", "Tizanidine"],
            "arm must be `none` or the name of one of your treatments",
        ),
        (
            &["trial", "plan", "--name", "x", "--arm", "Baclofen"],
            "arms must list at least 2 arms",
        ),
        (
            &[
                "trial",
                "plan",
                "--name",
                "x",
                "--arm",
                "none",
                "--arm",
                "Baclofen",
                "--period-days",
                "3",
                "--washout-days",
                "3",
            ],
            "period_days must be at least 2 and greater than washout_days",
        ),
        (
            &[
                "trial",
                "plan",
                "--name",
                "x",
                "--arm",
                "none",
                "--arm",
                "Baclofen",
                "--threshold",
                "1.5",
            ],
            "success_threshold",
        ),
        (
            &[
                "trial",
                "plan",
                "--name",
                "x",
                "--arm",
                "none",
                "--arm",
                "Baclofen",
                "--primary",
                "happiness",
            ],
            "primary must be one of",
        ),
    ];
    for (args, expected) in cases {
        let out = tonus(&db, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    assert!(json(&db, &["trial", "list"]).as_array().unwrap().is_empty());

    // Planned ahead (the default start is tomorrow): pre-specified, no label anywhere.
    let plan = json(
        &db,
        &["trial", "plan", "--name", "ahead", "--arm", "none", "--arm", "Baclofen"],
    );
    assert_eq!(plan["provenance"], Value::Null);
    let text = String::from_utf8_lossy(&tonus(&db, &["trial", "show", "ahead"]).stdout).to_string();
    assert!(!text.contains("not pre-specified"), "{text}");
}

#[test]
fn observational_analyses_run_on_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db").display().to_string();
    json(&db, &["demo", "--days", "200", "--seed", "9"]);
    // The demo starts Baclofen a third of the way in (true rate ratio 0.6 for involuntary
    // movements), so "before" vs "after" is a real, if observational, difference.
    let before = "-199..-140";
    let after = "-60..-1";
    let r = json(&db, &["analyse", "compare", "--before", before, "--after", after]);
    assert_eq!(r["observational"], true);
    let inv = &r["outcomes"][0];
    assert_eq!(inv["outcome"], "involuntary-count");
    assert_eq!(inv["analysis"]["observational"], true);
    let c = &inv["analysis"]["comparisons"][0];
    assert!(c["estimate"].as_f64().unwrap() < 1.0, "{c}");
    assert!(c["ci_low"].as_f64().unwrap() < c["ci_high"].as_f64().unwrap());

    let out = tonus(
        &db,
        &["analyse", "compare", "--before", "-50..-10", "--after", "-20..-1"],
    );
    assert_eq!(out.status.code(), Some(2), "overlapping ranges are refused");

    let x = json(&db, &["analyse", "exercise", "--from", "-199", "--gentle-limit", "3"]);
    assert_eq!(x["observational"], true);
    assert!(x["sessions"].as_u64().unwrap() > 0);
    assert!(x["sessions_above_limit"].as_u64().unwrap() <= x["sessions"].as_u64().unwrap());
    assert!(
        x["effects"][0]["effect"]["rate_ratio_per_100"].as_f64().unwrap() > 0.0,
        "{x}"
    );
}

/// `trial plan --dry-run` simulates the design from the last 90 days of the diary: power,
/// false "better" and suggested blocks are printed, and no trial is stored. A diary too short
/// to estimate from gets a plain message and no figures.
#[test]
fn dry_run_prints_power_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db").display().to_string();
    json(&db, &["demo", "--days", "120", "--seed", "9"]);
    let args = [
        "trial",
        "plan",
        "--dry-run",
        "--arm",
        "none",
        "--arm",
        "Baclofen",
        "--blocks",
        "2",
    ];
    let out = tonus(&db, &args);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("dry run, nothing saved"), "{text}");
    assert!(
        text.contains("a trial of 2 blocks would say \"better\" in about"),
        "{text}"
    );
    assert!(text.contains("falsely say \"better\" in about"), "{text}");
    assert!(
        text.contains("blocks for about 80 % power")
            || text.contains("the fewest that reaches 80 % power")
            || text.contains("would not reach 80 % power"),
        "{text}"
    );
    assert!(
        text.contains("Assumptions") && text.contains("not medical advice"),
        "{text}"
    );
    assert!(
        json(&db, &["trial", "list"]).as_array().unwrap().is_empty(),
        "a dry run stores no trial"
    );

    let mut all = args.to_vec();
    all.push("--json");
    let out = tonus(&db, &all);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["dry_run"].as_bool(), v["stored"].as_bool()),
        (Some(true), Some(false))
    );
    let power = v["plan"]["power"]["share"].as_f64().unwrap();
    let false_better = v["plan"]["false_better"]["share"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&power) && false_better < power, "{v}");
    assert_eq!(v["plan"]["estimate"]["window_days"], 90, "{v}");
    // Seeded: the same diary and design give the same figures.
    let again: Value = serde_json::from_slice(&tonus(&db, &all).stdout).unwrap();
    assert_eq!(again["plan"], v["plan"]);
    assert!(json(&db, &["trial", "list"]).as_array().unwrap().is_empty());

    // Three weeks of diary: too little to estimate from.
    let dir2 = tempfile::tempdir().unwrap();
    let db2 = dir2.path().join("t.db").display().to_string();
    json(&db2, &["demo", "--days", "21", "--seed", "9"]);
    let out = tonus(&db2, &args);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains("Power cannot be checked yet") && text.contains("too little usable data"),
        "{text}"
    );
    assert!(!text.contains("would say \"better\""), "no invented figures: {text}");
    assert!(json(&db2, &["trial", "list"]).as_array().unwrap().is_empty());
}
