//! Pooled trial results on the clinician's web page: four patients ran the same comparison
//! (none vs Baclofen); three share with the clinician, the fourth shared and then revoked.
//! Only the three with live consent are pooled and named, each one's read is audited, the
//! revoked patient's data is neither shown nor read, a trial planned the other way round
//! (Baclofen first) joins the same comparison, and the numbers are the CLI's.

mod common;

use common::*;
use jiff::{Span, Timestamp};
use reqwest::StatusCode;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::time::Zone;
use tonus_domain::{Category, Episode, LocalInstant, Pain, Patient, SpasmKind, Treatment};
use tonus_report::pooled::{pooled_comparisons, Key};
use tonus_report::trials::{plan, PlanRequest};
use tonus_stats::design::{Outcome, TrialDesign};
use tonus_stats::sim::{Family, SimConfig};
use tonus_stats::trial_sim::{simulate_trial, ArmEffect};
use tonus_store::{Batch, Store};

/// A finished 4-block trial of none vs Baclofen with the given true rate ratio (Baclofen
/// listed first, as the reference, when `baclofen_first`).
async fn seed_trial(store: &Store, patient: &Patient, rate_ratio: f64, seed: u64, baclofen_first: bool) {
    let t = Treatment::new("Baclofen", Category::Drug, None).unwrap();
    store.insert_treatment(patient, &t).await.unwrap();
    let (arms, effects) = if baclofen_first {
        (
            vec!["Baclofen".into(), "none".into()],
            [ArmEffect::immediate(rate_ratio), ArmEffect::NONE],
        )
    } else {
        (
            vec!["none".into(), "Baclofen".into()],
            [ArmEffect::NONE, ArmEffect::immediate(rate_ratio)],
        )
    };
    let mut design = TrialDesign::new(arms, seed);
    design.blocks = 4;
    let (calendar, sim) = simulate_trial(
        &SimConfig {
            baseline_rate_involuntary: 5.0,
            ..SimConfig::quiet(0, seed)
        },
        &design,
        &effects,
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

#[tokio::test]
async fn pooled_results_include_only_patients_with_live_consent() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "doc", "clinician").await;
        let doc_id = s.store.user_by_username("doc").await.unwrap().unwrap().id;
        let now_ms = Timestamp::now().as_millisecond();
        let mut everyone = Vec::new();
        for (i, (name, rr)) in [("anne", 0.5), ("bert", 0.7), ("cleo", 0.6), ("rita", 3.0)]
            .iter()
            .enumerate()
        {
            s.add_user(&admin, name, "patient").await;
            let p = s.patient(name).await;
            // Cleo planned Baclofen first: her trial joins the same comparison, flipped.
            seed_trial(&s.store, &p, *rr, 31 + i as u64, *name == "cleo").await;
            let consent = s
                .store
                .grant_consent(p.id, doc_id, "test", now_ms)
                .await
                .unwrap()
                .unwrap();
            everyone.push((p, consent));
        }
        // Rita revokes: her trial (a threefold rise) must not be pooled nor named.
        let (rita, rita_consent) = &everyone[3];
        s.store
            .revoke_consent(rita.id, *rita_consent, now_ms + 1)
            .await
            .unwrap();

        let doc = s.login("doc").await;
        let (status, home) = doc.page("/clinician").await;
        assert_eq!(status, StatusCode::OK);
        assert!(home.contains("href=\"/clinician/pooled\""), "{home}");
        let (status, page) = doc.page("/clinician/pooled").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("Baclofen vs none, involuntary-movement episodes per day"),
            "{page}"
        );
        assert!(page.contains("3 patients pooled"), "{}: {page}", s.backend);
        for name in ["anne", "bert", "cleo"] {
            assert!(page.contains(name), "{name} missing: {page}");
        }
        assert!(!page.contains("rita"), "a revoked patient is not shown: {page}");
        assert!(page.contains("Not medical advice"), "{page}");

        // The same numbers as `tonus trial pooled` over the three consenting patients.
        let consenting: Vec<Patient> = everyone[..3].iter().map(|(p, _)| p.clone()).collect();
        let key = Key {
            reference: "none".into(),
            arm: "Baclofen".into(),
            outcome: "involuntary-count".into(),
        };
        let cli = pooled_comparisons(&s.store, &consenting, Timestamp::now(), Some(&key))
            .await
            .unwrap();
        let pooled = cli[0].pooled.as_ref().unwrap();
        assert_eq!(pooled.k, 3);
        let cleo = cli[0].patients.iter().find(|p| p.handle == "cleo").unwrap();
        assert!(
            cleo.estimate < 0.0,
            "cleo's fall (true ratio 0.6) keeps its sign: {cleo:?}"
        );
        for line in cli[0].summary_lines() {
            let html = line.replace('\'', "&#39;");
            assert!(page.contains(&html), "{line:?} not on the page: {page}");
        }

        // Every consenting patient's read is audited; the revoked patient's is not.
        for (p, _) in &everyone[..3] {
            let log = s.store.list_audit(Some(p.id), 100).await.unwrap();
            assert!(
                log.iter()
                    .any(|e| e.action == "clinician.view" && e.detail == "pooled trial results (web)"),
                "{}: {log:?}",
                p.handle
            );
        }
        let log = s.store.list_audit(Some(rita.id), 100).await.unwrap();
        assert!(!log.iter().any(|e| e.detail.contains("pooled")), "{log:?}");
    }
}
