//! The storage suite: each test runs against every backend (SQLite always, PostgreSQL when
//! `TONUS_TEST_POSTGRES_URL` is set).

mod common;

use jiff::{civil::Date, Timestamp};
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::time::Zone;
use tonus_domain::*;
use tonus_store::{Batch, Store, StoreError};

fn now() -> Timestamp {
    "2026-11-20T12:00:00Z".parse().unwrap()
}

fn paris() -> Zone {
    Zone::parse("Europe/Paris").unwrap()
}

fn at(s: &str) -> LocalInstant {
    LocalInstant {
        at: s.parse().unwrap(),
        zone: paris(),
    }
}

fn episode(kind: &str, when: &str, pain: Option<i64>) -> Episode {
    EpisodeDraft {
        kind: kind.into(),
        regions: vec!["left-calf".into(), "right-thigh".into()],
        pain,
        duration_s: Some(40),
        triggers: vec!["waking".into()],
        trigger_note: Some("after turning over".into()),
        notes: Some("woke me".into()),
    }
    .validate(at(when), now())
    .unwrap()
}

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

async fn two_patients(store: &Store) -> (Patient, Patient) {
    (
        store.create_patient("anne", &paris()).await.unwrap(),
        store
            .create_patient("bob", &Zone::parse("America/New_York").unwrap())
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn episodes_round_trip_and_stay_with_their_patient() {
    for t in common::all().await {
        let s = &t.store;
        let (anne, bob) = two_patients(s).await;
        let e = episode("twitch", "2026-11-20T02:10:00Z", Some(6));
        let id = s.insert_episode(&anne, &e).await.unwrap();
        let got = s.get_episode(&anne, id).await.unwrap().expect("stored");
        assert_eq!(got.value, e, "{}", s.backend_name());
        assert_eq!(got.patient_id, anne.id);

        // Another patient sees, edits and deletes nothing.
        assert!(s.get_episode(&bob, id).await.unwrap().is_none());
        assert!(!s.update_episode(&bob, id, &e).await.unwrap());
        assert!(!s.delete_episode(&bob, id).await.unwrap());
        assert!(s.list_episodes(&bob, None, None).await.unwrap().is_empty());

        let edited = episode("cramp", "2026-11-19T22:00:00Z", None);
        assert!(s.update_episode(&anne, id, &edited).await.unwrap());
        assert_eq!(s.get_episode(&anne, id).await.unwrap().unwrap().value, edited);

        assert!(s.delete_episode(&anne, id).await.unwrap());
        assert!(s.get_episode(&anne, id).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn listing_filters_by_local_day() {
    for t in common::all().await {
        let s = &t.store;
        let (anne, _) = two_patients(s).await;
        // 23:30 UTC on the 18th is 00:30 on the 19th in Paris.
        for when in ["2026-11-18T10:00:00Z", "2026-11-18T23:30:00Z", "2026-11-20T08:00:00Z"] {
            s.insert_episode(&anne, &episode("jerk", when, None)).await.unwrap();
        }
        let on_19 = s
            .list_episodes(&anne, Some(day("2026-11-19")), Some(day("2026-11-19")))
            .await
            .unwrap();
        assert_eq!(on_19.len(), 1, "{}", s.backend_name());
        assert_eq!(on_19[0].value.started_at().at.to_string(), "2026-11-18T23:30:00Z");
        let all = s.list_episodes(&anne, None, None).await.unwrap();
        assert_eq!(all.len(), 3);
        assert!(all
            .windows(2)
            .all(|w| w[0].value.started_at().at <= w[1].value.started_at().at));
    }
}

#[tokio::test]
async fn checkins_upsert_per_day_and_confirm_days() {
    for t in common::all().await {
        let s = &t.store;
        let (anne, _) = two_patients(s).await;
        let draft = CheckInDraft {
            spasticity_nrs: Some(5),
            pain_nrs: Some(3),
            psfs_frequency: Some(2),
            psfs_severity: Some(1),
            night_wakings: Some(2),
            log_complete: false,
            note: None,
        };
        let c = draft.validate(day("2026-11-19"), &paris(), now()).unwrap();
        let id1 = s.upsert_checkin(&anne, &c).await.unwrap();
        let c2 = CheckInDraft {
            log_complete: true,
            spasticity_nrs: Some(4),
            ..draft.clone()
        }
        .validate(day("2026-11-19"), &paris(), now())
        .unwrap();
        let id2 = s.upsert_checkin(&anne, &c2).await.unwrap();
        assert_eq!(id1, id2, "same day replaces, {}", s.backend_name());
        let list = s.list_checkins(&anne, None, None).await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].value, c2);

        s.insert_episode(&anne, &episode("twitch", "2026-11-19T08:00:00Z", None))
            .await
            .unwrap();
        s.insert_episode(&anne, &episode("cramp", "2026-11-19T09:00:00Z", None))
            .await
            .unwrap();
        s.insert_episode(&anne, &episode("cramp", "2026-11-18T09:00:00Z", None))
            .await
            .unwrap();
        let confirmed = s
            .confirmed_days(&anne, day("2026-11-18"), day("2026-11-20"))
            .await
            .unwrap();
        let eps = s
            .episode_days(&anne, day("2026-11-18"), day("2026-11-20"))
            .await
            .unwrap();
        let days = daily_counts(day("2026-11-18"), day("2026-11-20"), &eps, &confirmed);
        assert_eq!(days[0].stiffness, None, "unconfirmed is unknown");
        assert_eq!(days[0].logged, 1);
        assert_eq!((days[1].involuntary_movement, days[1].stiffness), (Some(1), Some(1)));
        assert_eq!(days[2].involuntary_movement, None);
    }
}

#[tokio::test]
async fn treatments_regimens_and_doses() {
    for t in common::all().await {
        let s = &t.store;
        let (anne, bob) = two_patients(s).await;
        let baclofen = Treatment::new("Baclofen", Category::Drug, None).unwrap();
        let tid = s.insert_treatment(&anne, &baclofen).await.unwrap();
        assert!(matches!(
            s.insert_treatment(&anne, &baclofen).await,
            Err(StoreError::Conflict(_))
        ));
        // Bob may have his own Baclofen.
        s.insert_treatment(&bob, &baclofen).await.unwrap();

        let r = Regimen::new(
            Category::Drug,
            Some(Dose::new(12.5, Unit::Mg).unwrap()),
            Some(Route::Oral),
            Schedule::TimesPerDay(3),
            day("2026-10-01"),
            None,
        )
        .unwrap();
        let rid = s.insert_regimen(&anne, tid, &r).await.unwrap();
        // Bob cannot attach a regimen to Anne's treatment.
        assert!(s.insert_regimen(&bob, tid, &r).await.is_err());
        let regs = s.list_regimens(&anne).await.unwrap();
        assert_eq!(regs.len(), 1);
        assert_eq!(regs[0].value, r, "{}", s.backend_name());
        assert_eq!(regs[0].treatment_name, "Baclofen");

        assert!(s.set_regimen_end(&anne, rid, Some(day("2026-11-10"))).await.unwrap());
        assert_eq!(
            s.list_regimens(&anne).await.unwrap()[0].value.end(),
            Some(day("2026-11-10"))
        );

        let d = DoseLog::new(at("2026-11-05T07:00:00Z"), DoseStatus::Taken, None, now()).unwrap();
        s.insert_dose(&anne, rid, &d).await.unwrap();
        assert!(s.insert_dose(&bob, rid, &d).await.is_err(), "foreign regimen");
        let doses = s.list_doses(&anne, None, None).await.unwrap();
        assert_eq!(doses.len(), 1);
        assert_eq!((doses[0].0, &doses[0].1.value), (rid, &d));
    }
}

#[tokio::test]
async fn exercise_and_events_round_trip() {
    for t in common::all().await {
        let s = &t.store;
        let (anne, _) = two_patients(s).await;
        let ex = ExerciseSession::new(
            at("2026-11-19T17:00:00Z"),
            ExerciseType::Water,
            45,
            3,
            Some("pool"),
            now(),
        )
        .unwrap();
        let id = s.insert_exercise(&anne, &ex).await.unwrap();
        assert_eq!(s.get_exercise(&anne, id).await.unwrap().unwrap().value, ex);
        let ex2 = ExerciseSession::new(at("2026-11-19T17:00:00Z"), ExerciseType::Yoga, 30, 2, None, now()).unwrap();
        assert!(s.update_exercise(&anne, id, &ex2).await.unwrap());
        assert_eq!(s.list_exercise(&anne, None, None).await.unwrap()[0].value, ex2);

        let mri = ClinicalEvent::new(
            EventKind::mri(MriRegion::CervicalCord, Some(4), Some(1), Some(0)).unwrap(),
            day("2026-09-01"),
            None,
            Some("one new lesion C4"),
            &paris(),
            now(),
        )
        .unwrap();
        let relapse = ClinicalEvent::new(
            EventKind::Relapse,
            day("2026-06-01"),
            Some(day("2026-06-20")),
            None,
            &paris(),
            now(),
        )
        .unwrap();
        let other = ClinicalEvent::new(
            EventKind::other("moved to Seville").unwrap(),
            day("2026-07-01"),
            None,
            None,
            &paris(),
            now(),
        )
        .unwrap();
        for e in [&mri, &relapse, &other] {
            s.insert_event(&anne, e).await.unwrap();
        }
        let events: Vec<_> = s
            .list_events(&anne, None, None)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.value)
            .collect();
        assert_eq!(events, vec![relapse, other, mri], "{}", s.backend_name());
    }
}

#[tokio::test]
async fn a_failing_batch_stores_nothing() {
    for t in common::all().await {
        let s = &t.store;
        let (anne, _) = two_patients(s).await;
        let dose = DoseLog::new(at("2026-11-05T07:00:00Z"), DoseStatus::Missed, None, now()).unwrap();
        let batch = Batch {
            episodes: vec![episode("twitch", "2026-11-19T08:00:00Z", Some(2)); 50],
            doses: vec![(999_999, dose)],
            ..Default::default()
        };
        assert!(s.insert_batch(&anne, &batch).await.is_err());
        assert!(
            s.list_episodes(&anne, None, None).await.unwrap().is_empty(),
            "{}",
            s.backend_name()
        );

        let good = Batch { doses: vec![], ..batch };
        s.insert_batch(&anne, &good).await.unwrap();
        assert_eq!(s.list_episodes(&anne, None, None).await.unwrap().len(), 50);
    }
}

#[tokio::test]
async fn sqlite_file_is_created_in_wal_mode_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("tonus.db");
    let s = Store::open_sqlite(&path).await.unwrap();
    let anne = s.create_patient("anne", &paris()).await.unwrap();
    let e = episode("clonus", "2026-11-19T08:00:00Z", Some(4));
    let id = s.insert_episode(&anne, &e).await.unwrap();
    s.close().await;
    assert!(path.exists());
    // Reopening runs migrations again, which must be a no-op.
    let s = Store::open_sqlite(&path).await.unwrap();
    let anne = s.patient_by_handle("anne").await.unwrap().unwrap();
    assert_eq!(s.get_episode(&anne, id).await.unwrap().unwrap().value, e);
    assert_eq!(s.integrity_check().await.unwrap(), "ok");
    let mode: String = {
        let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
        use sqlx::ConnectOptions;
        let mut c = opts.connect().await.unwrap();
        sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn deleting_a_patient_removes_their_records() {
    for t in common::all().await {
        let s = &t.store;
        let (anne, bob) = two_patients(s).await;
        s.insert_episode(&anne, &episode("twitch", "2026-11-19T08:00:00Z", None))
            .await
            .unwrap();
        s.insert_episode(&bob, &episode("twitch", "2026-11-19T08:00:00Z", None))
            .await
            .unwrap();
        assert!(s.delete_patient(&anne).await.unwrap());
        assert!(s.list_episodes(&anne, None, None).await.unwrap().is_empty());
        assert_eq!(s.list_episodes(&bob, None, None).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn postgres_runs_when_configured() {
    let backends: Vec<&str> = common::all().await.iter().map(|t| t.store.backend_name()).collect();
    let expected = if common::postgres_url().is_some() {
        vec!["sqlite", "postgres"]
    } else {
        vec!["sqlite"]
    };
    assert_eq!(backends, expected);
}
