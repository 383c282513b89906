//! Record identity through the real binary (issue #13), on SQLite and (when
//! `TONUS_TEST_POSTGRES_URL` is set) PostgreSQL: FHIR ids come from the records' uids, so
//! deleting one record changes no other id; `tonus export fhir` → `tonus import fhir` into
//! the same patient stores nothing new and says why; into a new patient the ids are kept.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{ok_json, postgres_db, sqlite_db, tonus, Db};
use serde_json::Value;

fn ok(db: &Db, args: &[&str]) {
    let out = tonus(db, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn export(db: &Db, dir: &Path, name: &str) -> (String, Value) {
    let path = dir.join(name);
    ok(
        db,
        &["--patient", "demo", "export", "fhir", "--out", path.to_str().unwrap()],
    );
    let bundle = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    (path.display().to_string(), bundle)
}

/// What the export derives from a record it also exports as that record (a check-in's
/// QuestionnaireResponse, an MRI's DiagnosticReport), and the Questionnaire: an import
/// skips them (`same-record`, `definition`), never reading a record twice.
const DERIVED: [&str; 3] = ["QuestionnaireResponse", "DiagnosticReport", "Questionnaire"];

fn derived(bundle: &Value) -> usize {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| DERIVED.iter().any(|d| e["resource"]["resourceType"] == *d))
        .count()
}

/// Every record resource's id (the Patient's is made from the handle, not a uid).
fn record_ids(bundle: &Value) -> BTreeSet<String> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] != "Patient")
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// The archive of patient `handle`'s records (what a backup keeps, uids included).
fn records(db: &Db, handle: &str) -> Value {
    let out = tonus(db, &["--patient", handle, "export", "archive", "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["patients"][0].clone()
}

fn stable_ids_and_no_duplicates(db: &Db) {
    ok(
        db,
        &["demo", "--days", "30", "--seed", "5", "--tz", "Europe/Paris", "-q"],
    );
    let dir = tempfile::tempdir().unwrap();
    let (file, bundle) = export(db, dir.path(), "first.json");
    let ids = record_ids(&bundle);
    let entries = bundle["entry"].as_array().unwrap();
    assert!(entries.len() > 50, "the demo exports many records");
    let derived = derived(&bundle);
    assert!(
        derived > 1,
        "the demo has check-ins: a Questionnaire and their responses"
    );
    // Each record's id is its uid, in the fullUrl and an identifier too (a derived
    // resource's is its own id, derived from its record's uid).
    for e in entries {
        let r = &e["resource"];
        if r["resourceType"] == "Patient" {
            continue;
        }
        let id = r["id"].as_str().unwrap();
        assert_eq!(e["fullUrl"], format!("urn:uuid:{id}"));
        // R4 makes these two a single Identifier.
        let identifier = if r["resourceType"] == "AdverseEvent" || r["resourceType"] == "QuestionnaireResponse" {
            r["identifier"].clone()
        } else {
            r["identifier"][0].clone()
        };
        assert_eq!(identifier["system"], "urn:ietf:rfc:3986", "{r}");
        assert_eq!(identifier["value"], format!("urn:uuid:{id}"), "{r}");
    }
    assert_eq!(ids.len(), entries.len() - 1, "every record its own id");

    // Importing the export into the same patient: every record is one it has.
    let before = records(db, "demo");
    let dry = ok_json(db, &["import", "fhir", "--dry-run", &file]);
    assert_eq!(dry["records"], 0, "a dry run counts what the import would write: {dry}");
    let report = ok_json(db, &["import", "fhir", &file]);
    assert_eq!(report["already_imported"], entries.len() - 1 - derived, "{report}");
    // Treatments and regimens too: the patient had every one of them.
    assert_eq!(report["written"], 0, "{report}");
    assert!(report["unchanged"].as_u64().unwrap() > 0, "{report}");
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), entries.len() - 1);
    for s in skipped {
        if DERIVED.iter().any(|d| s["type"] == *d) {
            assert!(s["reason"] == "same-record" || s["reason"] == "definition", "{s}");
            continue;
        }
        assert_eq!(s["reason"], "already-imported", "{s}");
        assert!(ids.contains(s["uid"].as_str().unwrap()), "{s}");
    }
    assert_eq!(records(db, "demo"), before, "nothing was stored twice");

    // Deleting one episode (an early one: later records move up) leaves the other ids.
    let episodes = ok_json(db, &["--patient", "demo", "list", "--what", "episodes"]);
    let first = episodes[0]["id"].as_i64().unwrap().to_string();
    ok(db, &["delete", "episode", &first, "--yes"]);
    let (_, after) = export(db, dir.path(), "second.json");
    let after = record_ids(&after);
    assert_eq!(after.len(), ids.len() - 1);
    assert!(after.is_subset(&ids), "an id changed after deleting one episode");

    // Into a new patient (another database): the same ids come back out.
    let other = sqlite_db();
    let report = ok_json(&other, &["import", "fhir", &file]);
    assert_eq!(report["already_imported"], 0);
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), derived, "{report}");
    assert!(skipped.iter().all(|s| s["reason"] != "already-imported"), "{report}");
    let (_, again) = export(&other, dir.path(), "third.json");
    assert_eq!(record_ids(&again), ids);
    // And a second import there skips them all as well.
    let report = ok_json(&other, &["import", "fhir", &file]);
    assert_eq!(report["already_imported"], entries.len() - 1 - derived);
    assert_eq!(record_ids(&export(&other, dir.path(), "fourth.json").1), ids);
}

#[test]
fn fhir_ids_are_stable_and_reimports_store_nothing_on_sqlite() {
    stable_ids_and_no_duplicates(&sqlite_db());
}

#[tokio::test]
async fn fhir_ids_are_stable_and_reimports_store_nothing_on_postgres() {
    if let Some(pg) = postgres_db("uids").await {
        tokio::task::spawn_blocking(move || stable_ids_and_no_duplicates(&pg))
            .await
            .unwrap();
    }
}

#[test]
fn a_csv_export_imported_twice_is_stored_once() {
    let db = sqlite_db();
    ok(
        &db,
        &["demo", "--days", "20", "--seed", "3", "--tz", "Europe/Paris", "-q"],
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("csv");
    ok(
        &db,
        &[
            "--patient",
            "demo",
            "export",
            "csv",
            "--out-dir",
            out.to_str().unwrap(),
            "-q",
        ],
    );
    let text = std::fs::read_to_string(out.join("episodes.csv")).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",uid"), "{text}");
    let before = records(&db, "demo");
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    files.sort();
    let mut args = vec!["--patient", "demo", "import", "csv", "-q"];
    args.extend(files.iter().map(String::as_str));
    ok(&db, &args);
    assert_eq!(records(&db, "demo"), before);
}

fn hl7_fixture(name: &str) -> Value {
    let path = format!(
        "{}/../tonus-interop/tests/fixtures/external/hl7-r4/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Another system's bundle (HL7's examples: records without a Tonus uid): an MS Condition
/// with no identifier system, a MedicationStatement with a business identifier and a dose.
fn foreign_bundle(statement_note: &str) -> Value {
    let mut patient = hl7_fixture("patient-example-f201-roel.json");
    patient["id"] = "pat1".into();
    let mut condition = hl7_fixture("condition-example-f201-fever.json");
    condition["code"] = serde_json::json!({"coding": [{"system": "http://snomed.info/sct", "code": "24700007"}]});
    condition["subject"] = serde_json::json!({"reference": "Patient/pat1"});
    let statement = serde_json::json!({"resourceType": "MedicationStatement", "status": "active",
        "identifier": [{"system": "http://hospital.example/prescriptions", "value": "rx-1"}],
        "medicationCodeableConcept": {"text": "Alemtuzumab 10mg/ml (Lemtrada)"},
        "subject": {"reference": "Patient/pat1"}, "effectivePeriod": {"start": "2015-01-01"},
        "note": [{"text": statement_note}],
        "dosage": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": 12, "system": "http://unitsofmeasure.org", "code": "mg"}}]}]});
    let mut dose = hl7_fixture("medicationadministrationexample3.json");
    dose["status"] = "completed".into();
    let entry: Vec<Value> = [patient, condition, statement, dose]
        .into_iter()
        .enumerate()
        .map(|(i, r)| serde_json::json!({"fullUrl": format!("http://hospital.example/fhir/{i}"), "resource": r}))
        .collect();
    serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": entry})
}

/// Records from another system carry no Tonus uid; each gets one from its business
/// identifier, else from its content, so importing the same file again stores nothing twice.
#[test]
fn another_systems_bundle_imported_twice_is_stored_once() {
    let db = sqlite_db();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("foreign.json");
    std::fs::write(&file, foreign_bundle("first note").to_string()).unwrap();
    let file = file.to_str().unwrap();
    let first = ok_json(&db, &["import", "fhir", file]);
    // The diagnosis, the treatment and its regimen, and the dose.
    assert_eq!(first["written"], 4, "{first}");
    assert_eq!(first["already_imported"], 0, "{first}");
    let handle = first["patients"][0]["handle"].as_str().unwrap().to_string();
    let stored = records(&db, &handle);
    assert_eq!(stored["events"].as_array().unwrap().len(), 1, "{stored}");

    let again = ok_json(&db, &["import", "fhir", file]);
    assert_eq!(again["already_imported"], 3, "{again}");
    assert_eq!(
        again["written"], 0,
        "the treatment and regimen are reused, not counted: {again}"
    );
    assert_eq!(again["unchanged"], 4, "{again}");
    assert_eq!(records(&db, &handle), stored, "nothing was stored twice");

    // The statement updated at the source (same identifier, another note) is still the same
    // record: skipped, not doubled.
    std::fs::write(
        dir.path().join("foreign.json"),
        foreign_bundle("updated note").to_string(),
    )
    .unwrap();
    let updated = ok_json(&db, &["import", "fhir", file]);
    assert_eq!(updated["already_imported"], 3, "{updated}");
    assert_eq!(records(&db, &handle), stored);
}
