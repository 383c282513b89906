//! Record identity (issue #13), on every backend: each record gets a uid when it is
//! created, whatever path wrote it; backup → restore keeps them; deleting one record leaves
//! the others' uids (and so their FHIR ids) alone; the bulk writer skips uids it has.

mod common;

use std::collections::HashSet;

use jiff::{civil::Date, Timestamp};
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::time::Zone;
use tonus_domain::*;
use tonus_store::archive::{PatientRecords, PatientSnapshot};
use tonus_store::Store;

fn now() -> Timestamp {
    "2026-11-20T12:00:00Z".parse().unwrap()
}

fn zone() -> Zone {
    Zone::parse("Europe/Paris").unwrap()
}

fn at(s: &str) -> LocalInstant {
    LocalInstant {
        at: s.parse().unwrap(),
        zone: zone(),
    }
}

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

fn episode(when: &str) -> Episode {
    EpisodeDraft {
        kind: "cramp".into(),
        regions: vec!["left-calf".into()],
        pain: Some(3),
        duration_s: Some(30),
        triggers: Vec::new(),
        trigger_note: None,
        notes: None,
    }
    .validate(at(when), now())
    .unwrap()
}

/// A patient with records of every kind, each written through the store's ordinary
/// one-record path (the database gives each its uid).
async fn patient_with_records(store: &Store, handle: &str) -> Patient {
    let p = store.create_patient(handle, &zone()).await.unwrap();
    for when in [
        "2026-11-01T08:00:00Z",
        "2026-11-02T08:00:00Z",
        "2026-11-03T08:00:00Z",
        "2026-11-04T08:00:00Z",
    ] {
        store.insert_episode(&p, &episode(when)).await.unwrap();
    }
    for d in ["2026-11-01", "2026-11-02"] {
        let c = CheckInDraft {
            spasticity_nrs: Some(4),
            log_complete: true,
            ..CheckInDraft::default()
        }
        .validate(day(d), &zone(), now())
        .unwrap();
        store.upsert_checkin(&p, &c).await.unwrap();
    }
    let session = ExerciseSession::new(at("2026-11-02T17:00:00Z"), ExerciseType::ALL[0], 30, 5, None, now()).unwrap();
    store.insert_exercise(&p, &session).await.unwrap();
    let event = ClinicalEvent::new(EventKind::Relapse, day("2026-10-01"), None, None, &zone(), now()).unwrap();
    store.insert_event(&p, &event).await.unwrap();
    let treatment = Treatment::new("Baclofen", Category::Drug, None).unwrap();
    let tid = store.insert_treatment(&p, &treatment).await.unwrap();
    let regimen = Regimen::new(
        Category::Drug,
        Some(Dose::new(10.0, Unit::parse("mg").unwrap()).unwrap()),
        None,
        Schedule::TimesPerDay(3),
        day("2026-10-15"),
        None,
    )
    .unwrap();
    let rid = store.insert_regimen(&p, tid, &regimen).await.unwrap();
    for when in ["2026-11-01T07:00:00Z", "2026-11-02T07:00:00Z"] {
        let dose = DoseLog::new(at(when), DoseStatus::ALL[0], None, now()).unwrap();
        store.insert_dose(&p, rid, &dose).await.unwrap();
    }
    let effect = SideEffect::new(
        at("2026-11-03T10:00:00Z"),
        Effect::ALL[0],
        None,
        Severity::ALL[0],
        Some("baclofen"),
        None,
        now(),
    )
    .unwrap();
    store.insert_side_effect(&p, &effect).await.unwrap();
    p
}

/// Every uid of the records, in snapshot order.
fn all_uids(r: &PatientRecords) -> Vec<RecordUid> {
    let mut out = Vec::new();
    for t in &r.treatments {
        out.extend(t.uid);
        for rr in &t.regimens {
            out.extend(rr.uid);
            out.extend(rr.dose_uids.iter().copied());
        }
    }
    let u = &r.uids;
    for list in [&u.episodes, &u.checkins, &u.exercise, &u.events, &u.side_effects] {
        out.extend(list.iter().copied());
    }
    out
}

#[tokio::test]
async fn every_record_gets_its_own_uid_when_created() {
    for t in common::all().await {
        let p = patient_with_records(&t.store, "anne").await;
        let q = patient_with_records(&t.store, "bob").await;
        let records = t.store.patient_records(&p).await.unwrap();
        let uids = all_uids(&records);
        // 4 episodes, 2 check-ins, 1 exercise, 1 event, 1 treatment, 1 regimen, 2 doses, 1 side effect.
        assert_eq!(records.len(), 13);
        assert_eq!(uids.len(), records.len(), "a record without a uid: {records:?}");
        let distinct: HashSet<RecordUid> = uids.iter().copied().collect();
        assert_eq!(distinct.len(), uids.len(), "two records share a uid");
        // Version-4 UUIDs, written lower-case and hyphenated (what an export prints).
        for u in &uids {
            let text = u.to_string();
            assert_eq!(&text[14..15], "4", "{text}");
            assert!("89ab".contains(&text[19..20]), "{text}");
        }
        let others: HashSet<RecordUid> = all_uids(&t.store.patient_records(&q).await.unwrap())
            .into_iter()
            .collect();
        assert!(distinct.is_disjoint(&others), "another patient's records share uids");
        assert_eq!(t.store.record_uids(&p).await.unwrap(), distinct);
        // Saving the day's check-in again replaces its answers, not its identity.
        let c = CheckInDraft {
            spasticity_nrs: Some(7),
            log_complete: false,
            ..CheckInDraft::default()
        }
        .validate(day("2026-11-01"), &zone(), now())
        .unwrap();
        t.store.upsert_checkin(&p, &c).await.unwrap();
        let after = t.store.patient_records(&p).await.unwrap();
        assert_eq!(after.uids.checkins, records.uids.checkins);
        assert_eq!(after.checkins[0].spasticity_nrs(), Some(7));
    }
}

#[tokio::test]
async fn backup_and_restore_keep_every_uid() {
    for t in common::all().await {
        let p = patient_with_records(&t.store, "anne").await;
        let snaps = t.store.snapshot(Some(&p)).await.unwrap();
        // Through the archive's JSON, as `tonus backup` writes it.
        let json = serde_json::to_string(&snaps).unwrap();
        let back: Vec<PatientSnapshot> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, snaps);
        // Replacing the patient, and into a copy under another name (uids are per patient).
        t.store.restore(&back, true).await.unwrap();
        let mut copy = back.clone();
        copy[0].handle = "anne-copy".into();
        t.store.restore(&copy, false).await.unwrap();
        for handle in ["anne", "anne-copy"] {
            let q = t.store.patient_by_handle(handle).await.unwrap().unwrap();
            let restored = t.store.patient_records(&q).await.unwrap();
            assert_eq!(restored, snaps[0].records, "{handle}");
        }
        // An archive from before uids (none in the file) still restores, with new ones.
        let mut old: serde_json::Value = serde_json::to_value(&snaps).unwrap();
        old[0].as_object_mut().unwrap().remove("uids");
        assert!(!old.to_string().contains(&snaps[0].records.uids.episodes[0].to_string()));
        let mut old: Vec<PatientSnapshot> = serde_json::from_value(old).unwrap();
        old[0].handle = "anne-old".into();
        for t in &mut old[0].records.treatments {
            t.uid = None;
            for r in &mut t.regimens {
                r.uid = None;
                r.dose_uids.clear();
            }
        }
        t.store.restore(&old, false).await.unwrap();
        let q = t.store.patient_by_handle("anne-old").await.unwrap().unwrap();
        let restored = t.store.patient_records(&q).await.unwrap();
        assert_eq!(restored.clone().without_uids(), snaps[0].records.clone().without_uids());
        assert_eq!(all_uids(&restored).len(), restored.len());
        let fresh: HashSet<RecordUid> = all_uids(&restored).into_iter().collect();
        let original: HashSet<RecordUid> = all_uids(&snaps[0].records).into_iter().collect();
        assert!(fresh.is_disjoint(&original));
    }
}

#[tokio::test]
async fn deleting_a_record_leaves_the_others_uids_alone() {
    for t in common::all().await {
        let p = patient_with_records(&t.store, "anne").await;
        let before = t.store.patient_records(&p).await.unwrap();
        let stored = t.store.list_episodes(&p, None, None).await.unwrap();
        // The second of four: every later one moves up a position.
        assert!(t.store.delete_episode(&p, stored[1].id).await.unwrap());
        let after = t.store.patient_records(&p).await.unwrap();
        let mut expected = before.uids.episodes.clone();
        expected.remove(1);
        assert_eq!(after.uids.episodes, expected);
        assert_eq!(after.uids.checkins, before.uids.checkins);
        assert_eq!(all_uids(&after).len(), all_uids(&before).len() - 1);
    }
}

#[tokio::test]
async fn the_bulk_writer_skips_the_uids_a_patient_has() {
    for t in common::all().await {
        let p = patient_with_records(&t.store, "anne").await;
        let before = t.store.patient_records(&p).await.unwrap();
        // The same records again: treatments and regimens are found by uid, the rest skipped.
        let skipped = t.store.add_records(&p, &before, &[]).await.unwrap();
        assert_eq!(skipped, before.len() - 2);
        assert_eq!(t.store.patient_records(&p).await.unwrap(), before);
        // One new episode among known ones: only it is stored, under the uid it brought.
        let mut more = before.clone();
        let new_uid = RecordUid::new();
        more.episodes.push(episode("2026-11-05T08:00:00Z"));
        more.uids.episodes.push(new_uid);
        // And one without a uid (a file that carries none): stored under a new one.
        more.episodes.push(episode("2026-11-06T08:00:00Z"));
        let skipped = t.store.add_records(&p, &more, &[]).await.unwrap();
        assert_eq!(skipped, before.len() - 2);
        let after = t.store.patient_records(&p).await.unwrap();
        assert_eq!(after.episodes.len(), before.episodes.len() + 2);
        assert_eq!(after.uids.episodes[4], new_uid);
        assert!(!before.uids.episodes.contains(&after.uids.episodes[5]));
        // The same uid twice in one file is one record.
        let twice = PatientRecords {
            episodes: vec![episode("2026-11-07T08:00:00Z"), episode("2026-11-07T09:00:00Z")],
            uids: tonus_store::archive::RecordUids {
                episodes: vec![new_uid, new_uid],
                ..Default::default()
            },
            ..PatientRecords::default()
        };
        assert_eq!(t.store.add_records(&p, &twice, &[]).await.unwrap(), 2);
        // Another patient has none of them: everything is stored, with the same uids.
        let q = t.store.create_patient("bob", &zone()).await.unwrap();
        assert_eq!(t.store.add_records(&q, &before, &[]).await.unwrap(), 0);
        assert_eq!(t.store.patient_records(&q).await.unwrap(), before);
    }
}
