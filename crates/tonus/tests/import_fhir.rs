//! `tonus import fhir` with other systems' bundles, through the real binary, on SQLite and
//! (when `TONUS_TEST_POSTGRES_URL` is set) PostgreSQL: the file's Patients decide the
//! targets, --dry-run writes nothing, and every resource is reported.

mod common;

use std::path::{Path, PathBuf};

use common::{ok_json, postgres_db, sqlite_db, tonus, Db};
use serde_json::{json, Value};

fn fixture(path: &str) -> Value {
    let full = format!(
        "{}/../tonus-interop/tests/fixtures/external/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(full).unwrap()).unwrap()
}

fn ms_condition(subject: &str, verification: &str) -> Value {
    let mut c = fixture("hl7-r4/condition-example-f201-fever.json");
    c["code"] = json!({"coding": [{"system": "http://snomed.info/sct", "code": "24700007"}]});
    c["subject"] = json!({"reference": subject});
    c["verificationStatus"]["coding"][0]["code"] = json!(verification);
    c
}

/// HL7's Roel and Pieter, an MS diagnosis each, a refuted one for Roel, and an Encounter.
fn two_patients(dir: &Path) -> PathBuf {
    let entry = |url: &str, r: Value| json!({"fullUrl": url, "resource": r});
    let b = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        entry("urn:uuid:p1", fixture("hl7-r4/patient-example-f201-roel.json")),
        entry("urn:uuid:p2", fixture("hl7-r4/patient-example-f001-pieter.json")),
        entry("urn:uuid:c1", ms_condition("Patient/f201", "confirmed")),
        entry("urn:uuid:c2", ms_condition("urn:uuid:p2", "confirmed")),
        entry("urn:uuid:c3", ms_condition("Patient/f201", "refuted")),
        entry("urn:uuid:e1", json!({"resourceType": "Encounter", "status": "finished", "subject": {"reference": "Patient/f201"}})),
    ]});
    let path = dir.join("two.json");
    std::fs::write(&path, serde_json::to_vec(&b).unwrap()).unwrap();
    path
}

fn fails(db: &Db, args: &[&str]) -> String {
    let out = tonus(db, args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn handles(db: &Db) -> Vec<String> {
    ok_json(db, &["patient", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["handle"].as_str().unwrap().to_string())
        .collect()
}

fn diagnoses(db: &Db, patient: &str) -> usize {
    ok_json(db, &["list", "--what", "events", "--patient", patient])
        .as_array()
        .unwrap()
        .len()
}

fn two_patients_land_in_two(db: &Db) {
    let dir = tempfile::tempdir().unwrap();
    let file = two_patients(dir.path());
    let f = file.to_str().unwrap();

    // A dry run plans two new patients and writes nothing, not even them.
    let dry = ok_json(db, &["import", "fhir", f, "--dry-run"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["written"], 0);
    assert_eq!(dry["records"], 2);
    assert_eq!(dry["patients"][0]["handle"], "roel");
    assert_eq!(dry["patients"][1]["handle"], "pieter-van-de-heuvel");
    assert_eq!(dry["patients"][0]["new"], true);
    assert!(handles(db).is_empty());

    let done = ok_json(db, &["import", "fhir", f]);
    assert_eq!(done["written"], 2);
    assert_eq!(done["counts"]["Patient"]["imported"], 2);
    assert_eq!(done["counts"]["Condition"]["imported"], 2);
    assert_eq!(done["counts"]["Condition"]["skipped"], 1);
    assert_eq!(done["counts"]["Encounter"]["skipped"], 1);
    let skipped = done["skipped"].as_array().unwrap();
    assert!(skipped
        .iter()
        .any(|s| s["reason"] == "status" && s["value"] == "refuted" && s["entry"] == 4));
    assert!(skipped
        .iter()
        .any(|s| s["reason"] == "unsupported-type" && s["type"] == "Encounter"));
    assert_eq!(handles(db), vec!["roel", "pieter-van-de-heuvel"]);
    assert_eq!(diagnoses(db, "roel"), 1);
    assert_eq!(diagnoses(db, "pieter-van-de-heuvel"), 1);
    let id = ok_json(db, &["patient", "identity", "roel"]);
    assert_eq!(id["name"], "Roel");
    assert_eq!(id["identifiers"][0]["value"], "123456789");

    // Again: both are found by their identifiers, no third patient appears.
    let again = ok_json(db, &["import", "fhir", f, "--dry-run"]);
    assert_eq!(again["patients"][0]["handle"], "roel");
    assert_eq!(again["patients"][0]["new"], false);
    assert_eq!(
        again["patients"][0]["how"],
        "matched by identifier urn:oid:2.16.840.1.113883.2.4.6.3|123456789"
    );
    assert_eq!(again["patients"][1]["handle"], "pieter-van-de-heuvel");

    // The text report says the same for people.
    let out = tonus(db, &["import", "fhir", f, "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Dry run: nothing was written."), "{text}");
    // The diagnoses were imported above: recognised by their derived uids, not doubled.
    assert!(text.contains("Condition: 0 imported, 3 skipped"), "{text}");
    assert!(text.contains("already imported: the patient has this record"), "{text}");
    assert!(
        text.contains("verificationStatus is \"refuted\": not imported as a fact"),
        "{text}"
    );
    assert_eq!(diagnoses(db, "roel"), 1);
}

#[test]
fn a_two_patient_bundle_lands_in_two_patients_on_sqlite() {
    two_patients_land_in_two(&sqlite_db());
}

#[tokio::test]
async fn a_two_patient_bundle_lands_in_two_patients_on_postgres() {
    if let Some(db) = postgres_db("fhirimport").await {
        tokio::task::spawn_blocking(move || two_patients_land_in_two(&db))
            .await
            .unwrap();
    }
}

#[test]
fn explicit_targets_and_their_errors() {
    let db = sqlite_db();
    let dir = tempfile::tempdir().unwrap();
    let file = two_patients(dir.path());
    let f = file.to_str().unwrap();
    ok_json(&db, &["patient", "add", "anne", "--tz", "Europe/Paris"]);

    let err = fails(&db, &["import", "fhir", f, "--patient", "anne"]);
    assert!(err.contains("the file holds 2 patients"), "{err}");
    let err = fails(&db, &["import", "fhir", f, "--map", "Patient/nobody=anne"]);
    assert!(err.contains("no Patient of the file is \"Patient/nobody\""), "{err}");
    let err = fails(&db, &["import", "fhir", f, "--map", "Patient/f201"]);
    assert!(err.contains("expected PATIENT=HANDLE"), "{err}");
    let err = fails(
        &db,
        &[
            "import",
            "fhir",
            f,
            "--map",
            "Patient/f201=anne",
            "--map",
            "urn:uuid:p2=anne",
        ],
    );
    assert!(err.contains("both go to patient \"anne\""), "{err}");
    assert_eq!(handles(&db), vec!["anne"]);

    let done = ok_json(
        &db,
        &[
            "import",
            "fhir",
            f,
            "--map",
            "Patient/f201=anne",
            "--map",
            "urn:uuid:p2=piet",
        ],
    );
    assert_eq!(done["patients"][0]["how"], "chosen with --map");
    assert_eq!(done["patients"][1]["new"], true);
    assert_eq!(handles(&db), vec!["anne", "piet"]);
    assert_eq!(diagnoses(&db, "anne"), 1);

    // One HL7 resource on its own names no Patient of the file: it goes to --patient.
    let single = dir.path().join("statement.json");
    std::fs::write(
        &single,
        serde_json::to_vec(&fixture("hl7-r4/medicationstatementexample1.json")).unwrap(),
    )
    .unwrap();
    let s = single.to_str().unwrap();
    let err = fails(&db, &["import", "fhir", s]);
    assert!(err.contains("choose one with --patient"), "{err}");
    let done = ok_json(&db, &["import", "fhir", s, "--patient", "piet"]);
    assert_eq!(done["patients"][0]["handle"], "piet");
    assert_eq!(done["counts"]["MedicationStatement"]["imported"], 1);
    assert!(done["notes"].as_array().unwrap().len() >= 2);
}

#[test]
fn a_synthea_bundle_into_an_empty_database() {
    let db = sqlite_db();
    let file = format!(
        "{}/../tonus-interop/tests/fixtures/external/synthea/sample_complete_patient_cut.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let done = ok_json(&db, &["import", "fhir", &file, "--tz", "America/New_York"]);
    assert_eq!(done["patients"][0]["handle"], "lindsay928-gerlach374");
    assert_eq!(done["patients"][0]["time_zone"], "America/New_York");
    assert_eq!(done["written"], 0);
    assert_eq!(done["skipped"].as_array().unwrap().len(), 6);
    let id = ok_json(&db, &["patient", "identity", "lindsay928-gerlach374"]);
    assert_eq!(id["birth_date"], "1950-10-24");
}
