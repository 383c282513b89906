//! Round trips over simulated patients, on SQLite and (when configured) PostgreSQL: every
//! record read back after archive backup → restore, CSV export → import, FHIR export →
//! import, and an SQLite `VACUUM INTO` copy equals the original, compared as domain values.

mod common;

use jiff::Timestamp;
use proptest::prelude::*;
use tonus_domain::{EventKind, Patient};
use tonus_interop::archive::Archive;
use tonus_interop::csv::{self, Kind};
use tonus_interop::fhir::SkipReason;
use tonus_store::archive::PatientRecords;
use tonus_store::Store;

use common::{assert_same, assert_same_uids, simulated, TestStore};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A store holding one simulated patient; returns the patient and what the store read back.
async fn filled(ts: &TestStore, seed: u64, days: u32, now: Timestamp) -> (Patient, PatientRecords) {
    let (zone, records) = simulated(seed, days, now);
    let p = ts.store.create_patient("sim", &zone).await.unwrap();
    ts.store.add_records(&p, &records, &[]).await.unwrap();
    let stored = ts.store.patient_records(&p).await.unwrap();
    // What went in comes out (up to storage order and millisecond instants, which the
    // simulated data already respects).
    assert_eq!(stored.len(), records.len());
    (p, stored)
}

async fn archive_round_trip(src: &Store, dst: &Store, now: Timestamp) {
    let snaps = src.snapshot(None).await.unwrap();
    let json = Archive::new(snaps.clone(), now).to_json().unwrap();
    let back = Archive::from_json(&json, now).unwrap();
    for (a, b) in snaps.iter().zip(&back.patients) {
        assert_same(&a.records, &b.records);
    }
    assert_eq!(back.patients, snaps);
    dst.restore(&back.patients, false).await.unwrap();
    let again = dst.snapshot(None).await.unwrap();
    assert_eq!(again.len(), snaps.len());
    for (a, b) in snaps.iter().zip(&again) {
        assert_eq!(a.handle, b.handle);
        assert_eq!(a.time_zone, b.time_zone);
        assert_same(&a.records, &b.records);
        // A restore keeps every record's identity.
        assert_eq!(a.records, b.records);
    }
}

async fn csv_round_trip(src: &Store, p: &Patient, dst: &Store, now: Timestamp) {
    let records = src.patient_records(p).await.unwrap();
    let mut files = Vec::new();
    for kind in Kind::ALL {
        let mut buf = Vec::new();
        csv::write(kind, &mut buf, &records).unwrap();
        files.push(buf);
    }
    let q = dst.create_patient("sim", &p.zone).await.unwrap();
    let mut all = PatientRecords::default();
    let mut doses = Vec::new();
    for buf in &files {
        let import = csv::read(&buf[..], &p.zone, now).unwrap();
        assert!(import.errors.is_empty(), "{:?}", import.errors);
        all.treatments.extend(import.records.treatments);
        all.episodes.extend(import.records.episodes);
        all.checkins.extend(import.records.checkins);
        all.exercise.extend(import.records.exercise);
        all.events.extend(import.records.events);
        all.side_effects.extend(import.records.side_effects);
        // One file per type: each file's uids line up with its records.
        let u = import.records.uids;
        all.uids.episodes.extend(u.episodes);
        all.uids.checkins.extend(u.checkins);
        all.uids.exercise.extend(u.exercise);
        all.uids.events.extend(u.events);
        all.uids.side_effects.extend(u.side_effects);
        doses.extend(import.doses);
    }
    dst.add_records(&q, &all, &doses).await.unwrap();
    let stored = dst.patient_records(&q).await.unwrap();
    assert_same(&records, &stored);
    // The `uid` column carries every record's identity, treatments' included.
    assert_eq!(stored, records);
}

async fn fhir_round_trip(src: &Store, p: &Patient, dst: &Store, now: Timestamp) {
    let records = src.patient_records(p).await.unwrap();
    let bundle = tonus_interop::fhir::export_bundle(&p.handle, &p.zone, &records, now);
    let text = serde_json::to_string(&bundle).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    let imported = tonus_interop::fhir::import_bundle(&parsed, now).unwrap();
    // Skipped: only what Tonus derives from a record it also exports as that record (each
    // check-in's QuestionnaireResponse, each MRI's DiagnosticReport) and the Questionnaire.
    for s in &imported.report.skipped {
        assert!(
            matches!(s.reason, SkipReason::SameRecord { .. } | SkipReason::Definition),
            "{s:?}"
        );
    }
    let mris = records
        .events
        .iter()
        .filter(|e| matches!(e.kind(), EventKind::Mri { .. }))
        .count();
    let questionnaire = usize::from(!records.checkins.is_empty());
    assert_eq!(
        imported.report.skipped.len(),
        records.checkins.len() + mris + questionnaire
    );
    let import = imported.single().unwrap();
    assert_eq!(import.handle.as_deref(), Some(p.handle.as_str()));
    assert_eq!(import.zone.as_ref(), Some(&p.zone));
    let q = dst.create_patient("sim", &p.zone).await.unwrap();
    assert_eq!(dst.add_records(&q, &import.records, &[]).await.unwrap(), 0);
    let stored = dst.patient_records(&q).await.unwrap();
    assert_same(&records, &stored);
    // The uids come back from the bundle: into another patient they are the same records.
    assert_same_uids(&records, &stored);
    // Into the same patient again, every record is one it has: nothing is stored twice.
    let skipped = dst.add_records(&q, &import.records, &[]).await.unwrap();
    let again = dst.patient_records(&q).await.unwrap();
    assert_eq!(again, stored);
    assert_eq!(skipped, records.len() - records.treatments.len() - regimens(&records));
}

/// Treatments and regimens are matched by uid (or name, value), never counted as skipped.
fn regimens(r: &PatientRecords) -> usize {
    r.treatments.iter().map(|t| t.regimens.len()).sum()
}

async fn every_round_trip(seed: u64, days: u32) {
    let now = Timestamp::now();
    for src in common::all().await {
        let (p, _) = filled(&src, seed, days, now).await;
        for dst in common::all().await {
            archive_round_trip(&src.store, &dst.store, now).await;
        }
        for dst in common::all().await {
            csv_round_trip(&src.store, &p, &dst.store, now).await;
        }
        for dst in common::all().await {
            fhir_round_trip(&src.store, &p, &dst.store, now).await;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn simulated_patients_survive_every_round_trip(seed in any::<u64>(), days in 8u32..40) {
        runtime().block_on(every_round_trip(seed, days));
    }
}

#[test]
fn vacuum_into_backup_opens_and_holds_the_same_data() {
    runtime().block_on(async {
        let now = Timestamp::now();
        let src = common::sqlite().await;
        let (p, before) = filled(&src, 7, 30, now).await;
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("backup.db");
        src.store.backup_sqlite_into(&copy).await.unwrap();
        // A second backup to the same path is refused, never overwritten.
        assert!(src.store.backup_sqlite_into(&copy).await.is_err());
        let restored = Store::open_sqlite(&copy).await.unwrap();
        assert_eq!(restored.integrity_check().await.unwrap(), "ok");
        let q = restored.patient_by_handle(&p.handle).await.unwrap().unwrap();
        let after = restored.patient_records(&q).await.unwrap();
        assert_same(&before, &after);
        assert_eq!(before, after, "a file copy keeps every uid");
    });
}

/// A backup taken while another connection keeps writing is a consistent database: it opens,
/// passes the integrity check, and holds a prefix of the writes (never half a batch).
#[test]
fn vacuum_into_while_others_write() {
    runtime().block_on(async {
        let now = Timestamp::now();
        let src = common::sqlite().await;
        let (p, _) = filled(&src, 11, 10, now).await;
        let (_, extra) = simulated(12, 10, now);
        let writer = {
            let url = src.url.clone();
            let p = p.clone();
            tokio::spawn(async move {
                let store = Store::open(&url).await.unwrap();
                for _ in 0..20 {
                    let batch = PatientRecords {
                        episodes: extra.episodes.clone(),
                        ..PatientRecords::default()
                    };
                    store.add_records(&p, &batch, &[]).await.unwrap();
                }
                store.close().await;
                extra.episodes.len()
            })
        };
        let dir = tempfile::tempdir().unwrap();
        let mut sizes = Vec::new();
        for i in 0..5 {
            let copy = dir.path().join(format!("b{i}.db"));
            src.store.backup_sqlite_into(&copy).await.unwrap();
            let b = Store::open_sqlite(&copy).await.unwrap();
            assert_eq!(b.integrity_check().await.unwrap(), "ok");
            let q = b.patient_by_handle("sim").await.unwrap().unwrap();
            sizes.push(b.patient_records(&q).await.unwrap().episodes.len());
            b.close().await;
        }
        let per_batch = writer.await.unwrap();
        let base = src.store.patient_records(&p).await.unwrap().episodes.len() - 20 * per_batch;
        for n in sizes {
            assert_eq!((n - base) % per_batch, 0, "a backup caught half a batch: {n} episodes");
        }
    });
}

#[test]
fn restore_refuses_an_existing_patient_unless_replace() {
    runtime().block_on(async {
        let now = Timestamp::now();
        for ts in common::all().await {
            let (p, before) = filled(&ts, 3, 12, now).await;
            let snaps = ts.store.snapshot(Some(&p)).await.unwrap();
            let err = ts.store.restore(&snaps, false).await.unwrap_err();
            assert!(err.to_string().contains("already exists"), "{err}");
            // Add a record, then replace: the backup's state comes back exactly.
            let extra = PatientRecords {
                episodes: before.episodes[..1].to_vec(),
                ..PatientRecords::default()
            };
            ts.store.add_records(&p, &extra, &[]).await.unwrap();
            ts.store.restore(&snaps, true).await.unwrap();
            let q = ts.store.patient_by_handle(&p.handle).await.unwrap().unwrap();
            assert_same(&before, &ts.store.patient_records(&q).await.unwrap());
        }
    });
}

#[test]
fn archives_from_elsewhere_are_checked() {
    let now = Timestamp::now();
    assert!(Archive::from_json("{\"format\":\"zip\",\"version\":1}", now).is_err());
    let newer = Archive::from_json("{\"format\":\"tonus-archive\",\"version\":99}", now).unwrap_err();
    assert!(newer.to_string().contains("newer"), "{newer}");
    // A pain of 11 or a 2-day episode is refused with the path of the bad value.
    let (zone, records) = simulated(5, 8, now);
    let snap = tonus_store::archive::PatientSnapshot {
        handle: "x".into(),
        time_zone: zone,
        records,
    };
    let mut v = serde_json::to_value(Archive::new(vec![snap], now)).unwrap();
    v["patients"][0]["episodes"][0]["duration_s"] = serde_json::json!(200_000);
    let err = Archive::from_json(&v.to_string(), now).unwrap_err();
    assert!(
        err.to_string().starts_with("patients[0].episodes[0]: duration"),
        "{err}"
    );

    // An archive written before side effects were recorded has no "side_effects": it loads,
    // with none.
    let mut old = serde_json::to_value(Archive::new(
        vec![tonus_store::archive::PatientSnapshot {
            handle: "x".into(),
            time_zone: tonus_domain::time::Zone::utc(),
            records: simulated(5, 8, now).1,
        }],
        now,
    ))
    .unwrap();
    assert!(!old["patients"][0]["side_effects"].as_array().unwrap().is_empty());
    old["patients"][0].as_object_mut().unwrap().remove("side_effects");
    let loaded = Archive::from_json(&old.to_string(), now).unwrap();
    assert!(loaded.patients[0].records.side_effects.is_empty());
    assert!(!loaded.patients[0].records.episodes.is_empty());

    // A side effect blaming a treatment the patient does not have is refused with its path,
    // as is one breaking a domain rule.
    let mut blame = serde_json::to_value(Archive::new(
        vec![tonus_store::archive::PatientSnapshot {
            handle: "x".into(),
            time_zone: tonus_domain::time::Zone::utc(),
            records: simulated(5, 8, now).1,
        }],
        now,
    ))
    .unwrap();
    blame["patients"][0]["side_effects"][1]["suspected_treatment"] = serde_json::json!("Nothing like it");
    let err = Archive::from_json(&blame.to_string(), now).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("patients[0].side_effects[1]: suspected_treatment"),
        "{err}"
    );
    blame["patients"][0]["side_effects"][1]["suspected_treatment"] = serde_json::Value::Null;
    blame["patients"][0]["side_effects"][1]["effect"] = serde_json::json!("other");
    blame["patients"][0]["side_effects"][1]["description"] = serde_json::Value::Null;
    let err = Archive::from_json(&blame.to_string(), now).unwrap_err();
    assert!(
        err.to_string().starts_with("patients[0].side_effects[1]: description"),
        "{err}"
    );
}
