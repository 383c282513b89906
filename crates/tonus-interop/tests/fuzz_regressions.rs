//! Inputs the fuzz targets (fuzz/) found, kept as tests so the fixes stay fixed.

use jiff::Timestamp;
use tonus_domain::time::Zone;
use tonus_domain::{ExerciseSession, ExerciseType, LocalInstant};
use tonus_interop::csv::{self, Kind};
use tonus_store::archive::PatientRecords;

fn now() -> Timestamp {
    "2030-01-01T00:00:00Z".parse().unwrap()
}

/// Sessions at instants whose zone then had an offset with seconds (local mean time).
fn sessions() -> Vec<ExerciseSession> {
    [
        ("1013-10-28T18:15:00Z", "Europe/London"),
        ("1960-06-01T09:00:00Z", "Africa/Monrovia"),
    ]
    .into_iter()
    .map(|(at, zone)| {
        let at = LocalInstant {
            at: at.parse().unwrap(),
            zone: Zone::parse(zone).unwrap(),
        };
        ExerciseSession::new(at, ExerciseType::Stretching, 30, 3, None, now()).unwrap()
    })
    .collect()
}

#[test]
fn csv_keeps_instants_whose_local_offset_has_seconds() {
    // fuzz/ csv_import: "1013-10-28T18:15:00+00:00" in Europe/London (-00:01:15 then) was
    // written with the offset rounded to minutes and read back 15 seconds off.
    let records = PatientRecords {
        exercise: sessions(),
        ..PatientRecords::default()
    };
    let mut out = Vec::new();
    csv::write(Kind::Exercise, &mut out, &records).unwrap();
    let back = csv::read(&out[..], &Zone::utc(), now()).unwrap();
    assert!(back.errors.is_empty(), "{:?}", back.errors);
    assert_eq!(back.records.exercise, records.exercise);
}

#[test]
fn fhir_keeps_instants_whose_local_offset_has_seconds() {
    let records = PatientRecords {
        exercise: sessions(),
        ..PatientRecords::default()
    };
    let bundle = tonus_interop::fhir::export_bundle("me", &Zone::utc(), &records, now());
    let back = tonus_interop::fhir::import_bundle(&bundle, now()).unwrap();
    assert_eq!(back.patients[0].records.exercise, records.exercise);
}

#[test]
fn two_records_under_one_uid_in_a_bundle_get_two_and_round_trip() {
    use tonus_interop::fhir::{export_bundle, import_bundle};
    // Two sessions exported under one uid (as a hand-edited or fuzzed file may have them):
    // the second gets a uid of its own, or the two would share an id and a fullUrl.
    let session = |minutes: i64| {
        let at = LocalInstant {
            at: "2029-12-01T08:00:00Z".parse().unwrap(),
            zone: Zone::utc(),
        };
        ExerciseSession::new(at, ExerciseType::Stretching, minutes, 3, None, now()).unwrap()
    };
    let uid = tonus_domain::RecordUid::new();
    let records = PatientRecords {
        exercise: vec![session(20), session(30)],
        uids: tonus_store::archive::RecordUids {
            exercise: vec![uid, uid],
            ..Default::default()
        },
        ..PatientRecords::default()
    };
    let bundle = export_bundle("p", &Zone::utc(), &records, now());
    let first = import_bundle(&bundle, now()).unwrap();
    let read = &first.single().unwrap().records;
    assert_eq!(read.exercise, records.exercise);
    assert_eq!(read.uids.exercise[0], uid);
    assert_ne!(read.uids.exercise[1], uid);
    let again = import_bundle(&export_bundle("p", &Zone::utc(), read, now()), now()).unwrap();
    assert_eq!(&again.single().unwrap().records, read);
}
