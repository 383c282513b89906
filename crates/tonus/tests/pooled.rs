//! `tonus trial pooled`: several patients' simulated trials of Baclofen vs none (known true
//! rate ratios) are written to a database; the CLI must pool them only from three patients
//! on, show each patient's shrunken estimate, and bring the average near the truth.

use std::process::{Command, Output};

use jiff::{Span, Timestamp};
use serde_json::Value;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::time::Zone;
use tonus_domain::{Category, Episode, LocalInstant, Pain, Patient, SpasmKind, Treatment};
use tonus_report::trials::{plan, PlanRequest};
use tonus_stats::design::{Outcome, TrialDesign};
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

/// A finished 4-block trial of none vs Baclofen with the given true rate ratio.
async fn seed_trial(store: &Store, patient: &Patient, rate_ratio: f64, seed: u64) {
    let t = Treatment::new("Baclofen", Category::Drug, None).unwrap();
    store.insert_treatment(patient, &t).await.unwrap();
    let mut design = TrialDesign::new(vec!["none".into(), "Baclofen".into()], seed);
    design.blocks = 4;
    let (calendar, sim) = simulate_trial(
        &SimConfig {
            baseline_rate_involuntary: 5.0,
            ..SimConfig::quiet(0, seed)
        },
        &design,
        &[ArmEffect::NONE, ArmEffect::immediate(rate_ratio)],
    )
    .unwrap();
    let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let start = today
        .checked_sub(Span::new().days(i64::from(calendar.total_days) + 1))
        .unwrap();
    let mut batch = Batch::default();
    for d in &sim.days {
        let date = start.checked_add(Span::new().days(i64::from(d.day))).unwrap();
        for e in d.episodes.iter().filter(|e| e.family == Family::InvoluntaryMovement) {
            let time =
                jiff::civil::Time::new((e.minute_of_day / 60) as i8, (e.minute_of_day % 60) as i8, 0, 0).unwrap();
            let at = date
                .to_datetime(time)
                .to_zoned(jiff::tz::TimeZone::UTC)
                .unwrap()
                .timestamp();
            let instant = LocalInstant { at, zone: Zone::utc() };
            let pain = Some(Pain::new(e.pain.into()).unwrap());
            batch
                .episodes
                .push(Episode::new(instant, SpasmKind::Twitch, vec![], pain, None, vec![], None, None, at).unwrap());
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
    store.insert_batch(patient, &batch).await.unwrap();
    let arms = design.arms.clone();
    plan(
        store,
        patient,
        &PlanRequest {
            name: "bac",
            arms: &arms,
            start,
            baseline_days: design.baseline_days,
            period_days: design.period_days,
            washout_days: design.washout_days,
            blocks: design.blocks,
            seed,
            primary: Outcome::InvoluntaryCount,
            threshold: 0.3,
        },
    )
    .await
    .unwrap();
}

fn pooled_json(db: &str) -> Value {
    let out = tonus(db, &["trial", "pooled", "--arm", "none", "--arm", "baclofen", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    v[0].clone()
}

#[tokio::test]
async fn pooled_results_need_three_patients_and_shrink_towards_the_average() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db").display().to_string();
    let store = Store::open_sqlite(std::path::Path::new(&db)).await.unwrap();
    let truths = [0.5, 0.7, 0.6];
    let mut patients = Vec::new();
    for name in ["ann", "bo", "cy"] {
        patients.push(store.create_patient(name, &Zone::utc()).await.unwrap());
    }
    seed_trial(&store, &patients[0], truths[0], 21).await;
    seed_trial(&store, &patients[1], truths[1], 22).await;

    // Two patients: each one's own result, and plainly no pooled estimate.
    let two = pooled_json(&db);
    assert_eq!(two["patients"].as_array().unwrap().len(), 2);
    assert!(two["pooled"].is_null());
    assert!(
        two["not_pooled"].as_str().unwrap().contains("at least 3 patients"),
        "{two}"
    );
    let out = tonus(&db, &["trial", "pooled", "--arm", "none", "--arm", "Baclofen"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cannot be given"), "{text}");
    assert!(text.contains("ann") && text.contains("bo"), "{text}");

    seed_trial(&store, &patients[2], truths[2], 23).await;
    store.close().await;
    let three = pooled_json(&db);
    let p = &three["pooled"];
    assert_eq!(p["k"], 3, "{three}");
    assert_eq!(p["tau_method"], "reml");
    let (low, mean, high) = (
        p["mean"]["low"].as_f64().unwrap(),
        p["mean"]["estimate"].as_f64().unwrap(),
        p["mean"]["high"].as_f64().unwrap(),
    );
    let average_truth = truths.iter().map(|t: &f64| t.ln()).sum::<f64>() / 3.0;
    assert!(
        low < average_truth && average_truth < high,
        "{low} {mean} {high} vs {average_truth}"
    );
    assert!(mean < 0.0, "the average is a fall: {mean}");
    assert!(p["prediction_low"].as_f64().unwrap() <= low && p["prediction_high"].as_f64().unwrap() >= high);
    for pt in three["patients"].as_array().unwrap() {
        let own = pt["estimate"].as_f64().unwrap();
        let shrunk = pt["shrunken"]["estimate"].as_f64().unwrap();
        assert!((shrunk - mean).abs() <= (own - mean).abs() + 1e-12, "{pt}");
    }
    let out = tonus(&db, &["trial", "pooled", "--arm", "none", "--arm", "Baclofen"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Average effect: 0."), "{text}");
    assert!(text.contains("A new patient's effect is expected between"), "{text}");
    assert!(text.contains("Not medical advice"), "{text}");

    // One arm only is the user's mistake (exit 2), not a crash.
    let out = tonus(&db, &["trial", "pooled", "--arm", "none"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}
