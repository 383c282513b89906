//! Other systems' FHIR, not written by this project: HL7's published R4 examples and a
//! Synthea patient bundle (tests/fixtures/external, sources and licences in its README).
//! Each resource is either imported or skipped with its reason, and a two-patient bundle
//! gives two patients' records.

use jiff::civil::date;
use jiff::Timestamp;
use serde_json::{json, Value};
use tonus_domain::{AdministrativeSex, EventKind, Route, Schedule};
use tonus_interop::fhir::{import_bundle, FhirImport, SkipReason};

fn now() -> Timestamp {
    "2026-11-20T12:00:00Z".parse().unwrap()
}

fn fixture(path: &str) -> Value {
    let full = format!("{}/tests/fixtures/external/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&full).unwrap()).unwrap()
}

fn import(v: &Value) -> FhirImport {
    import_bundle(v, now()).unwrap()
}

fn bundle(resources: &[(&str, Value)]) -> Value {
    let entry: Vec<Value> = resources
        .iter()
        .map(|(url, r)| json!({"fullUrl": url, "resource": r}))
        .collect();
    json!({"resourceType": "Bundle", "type": "collection", "entry": entry})
}

fn only_skip(got: &FhirImport) -> &SkipReason {
    assert_eq!(got.report.skipped.len(), 1, "{:?}", got.report.skipped);
    &got.report.skipped[0].reason
}

/// The fever Condition made into an MS one, the way an EHR would send it.
fn ms_condition(subject: &str) -> Value {
    let mut c = fixture("hl7-r4/condition-example-f201-fever.json");
    c["code"] =
        json!({"coding": [{"system": "http://snomed.info/sct", "code": "24700007", "display": "Multiple sclerosis"}]});
    c["subject"] = json!({"reference": subject});
    c
}

#[test]
fn hl7_patient_gives_its_identity() {
    let got = import(&fixture("hl7-r4/patient-example-f201-roel.json"));
    let p = got.single().unwrap();
    let id = p.identity().unwrap();
    assert_eq!(id.name.as_deref(), Some("Roel"));
    assert_eq!(id.birth_date, Some(date(1960, 3, 13)));
    assert_eq!(id.sex, Some(AdministrativeSex::Male));
    // The example lists its BSN twice; one per system is kept.
    assert_eq!(id.identifiers.len(), 1);
    assert_eq!(id.identifiers[0].system, "urn:oid:2.16.840.1.113883.2.4.6.3");
    assert_eq!(id.identifiers[0].value, "123456789");
    assert_eq!(p.references, vec!["Patient/f201"]);
    assert_eq!(got.report.counts["Patient"].imported, 1);
    assert!(p.records.is_empty());

    // Pieter's second BSN has no value: left out, not an error.
    let got = import(&fixture("hl7-r4/patient-example-f001-pieter.json"));
    let id = got.single().unwrap().identity().unwrap().clone();
    assert_eq!(id.name.as_deref(), Some("Pieter van de Heuvel"));
    assert_eq!(id.identifiers.len(), 1);
    assert_eq!(id.identifiers[0].value, "738472983");
}

#[test]
fn hl7_observation_and_fever_are_not_tonus_records() {
    let got = import(&fixture("hl7-r4/observation-example.json"));
    match only_skip(&got) {
        SkipReason::NotRecorded { what } => assert!(what.contains("Body Weight") && what.contains("29463-7"), "{what}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(got.report.counts["Observation"].skipped, 1);
    assert!(got.patients[0].records.is_empty());

    let got = import(&fixture("hl7-r4/condition-example-f201-fever.json"));
    match only_skip(&got) {
        SkipReason::NotRecorded { what } => assert!(what.contains("386661006") && what.contains("24700007"), "{what}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_ms_condition_is_a_diagnosis_unless_its_status_says_otherwise() {
    let c = ms_condition("Patient/f201");
    let got = import(&c);
    let events = &got.patients[0].records.events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind(), &EventKind::Diagnosis);
    // recordedDate (2013-04-04) is when it was diagnosed; onset is 2013-04-02.
    assert_eq!(events[0].on(), date(2013, 4, 4));
    assert!(got.report.skipped.is_empty());

    for status in [
        "refuted",
        "entered-in-error",
        "unconfirmed",
        "provisional",
        "differential",
    ] {
        let mut c = ms_condition("Patient/f201");
        c["verificationStatus"]["coding"][0]["code"] = json!(status);
        let got = import(&c);
        assert!(got.patients[0].records.events.is_empty(), "{status}");
        assert_eq!(
            only_skip(&got),
            &SkipReason::Status {
                field: "verificationStatus".into(),
                value: status.into()
            }
        );
    }
}

#[test]
fn partial_onset_dates_take_the_first_day_and_say_so() {
    for (onset, want) in [("2012", date(2012, 1, 1)), ("2012-06", date(2012, 6, 1))] {
        let mut c = ms_condition("Patient/f201");
        c.as_object_mut().unwrap().remove("recordedDate");
        c["onsetDateTime"] = json!(onset);
        let got = import(&c);
        let e = &got.patients[0].records.events[0];
        assert_eq!(e.on(), want);
        assert_eq!(e.summary(), Some(format!("date given as {onset}").as_str()));
        assert_eq!(got.report.notes.len(), 1, "{:?}", got.report.notes);
        assert!(got.report.notes[0].message.contains(&format!("stored as {want}")));
    }
    let mut c = ms_condition("Patient/f201");
    c.as_object_mut().unwrap().remove("recordedDate");
    c["onsetDateTime"] = json!("around 2012");
    assert!(matches!(only_skip(&import(&c)), SkipReason::Invalid { field, .. } if field == "onsetDateTime"));
}

#[test]
fn hl7_medication_statement_gives_the_treatment_and_says_why_no_regimen() {
    let got = import(&fixture("hl7-r4/medicationstatementexample1.json"));
    assert!(got.report.skipped.is_empty(), "{:?}", got.report.skipped);
    let t = &got.patients[0].records.treatments;
    assert_eq!(t.len(), 1);
    // The name comes from the contained Medication.
    assert_eq!(t[0].treatment.name(), "Tylenol PM");
    assert!(t[0].regimens.is_empty());
    let notes: Vec<&str> = got.report.notes.iter().map(|n| n.message.as_str()).collect();
    assert!(notes.iter().any(|n| n.contains("the dose is a range")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("without a regimen")), "{notes:?}");

    // With one dose in tablets the same statement is a regimen: oral (SNOMED CT 26643006),
    // as needed (asNeededCodeableConcept), from its effective date, still active.
    let mut s = fixture("hl7-r4/medicationstatementexample1.json");
    s["dosage"][0]["doseAndRate"][0] = json!({"doseQuantity": {"value": 1, "unit": "TAB",
        "system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm", "code": "TAB"}});
    let got = import(&s);
    let r = &got.patients[0].records.treatments[0].regimens[0].regimen;
    assert_eq!(r.route(), Some(Route::Oral));
    assert_eq!(r.schedule(), Schedule::AsNeeded);
    assert_eq!(r.start(), date(2015, 1, 23));
    assert_eq!(r.end(), None);
    assert!(got.report.notes.is_empty(), "{:?}", got.report.notes);

    for status in ["entered-in-error", "not-taken"] {
        let mut s = fixture("hl7-r4/medicationstatementexample1.json");
        s["status"] = json!(status);
        let got = import(&s);
        assert!(got.patients[0].records.treatments.is_empty(), "{status}");
        assert_eq!(
            only_skip(&got),
            &SkipReason::Status {
                field: "status".into(),
                value: status.into()
            }
        );
    }
}

#[test]
fn medication_routes_and_partial_periods_from_another_system() {
    let s = json!({"resourceType": "MedicationStatement", "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "108479001", "display": "Baclofen"}]},
        "effectivePeriod": {"start": "2019-03", "end": "2020"},
        "dosage": [{"timing": {"repeat": {"frequency": 3, "period": 1, "periodUnit": "d"}},
            "route": {"coding": [{"system": "http://snomed.info/sct", "code": "72607000", "display": "Intrathecal route"}]},
            "doseAndRate": [{"doseQuantity": {"value": 50, "unit": "µg", "system": "http://unitsofmeasure.org", "code": "ug"}}]}]});
    let got = import(&s);
    let r = &got.patients[0].records.treatments[0].regimens[0].regimen;
    assert_eq!(r.route(), Some(Route::Intrathecal));
    assert_eq!((r.start(), r.end()), (date(2019, 3, 1), Some(date(2020, 12, 31))));
    assert_eq!(got.report.notes.len(), 2, "{:?}", got.report.notes);

    // A route Tonus does not record is said, not silently dropped.
    let mut other = s.clone();
    other["dosage"][0]["route"] =
        json!({"coding": [{"system": "http://snomed.info/sct", "code": "46713006", "display": "Nasal route"}]});
    let got = import(&other);
    assert_eq!(got.patients[0].records.treatments[0].regimens[0].regimen.route(), None);
    assert!(got
        .report
        .notes
        .iter()
        .any(|n| n.message.contains("\"Nasal route\" is not one Tonus records")));

    // "completed" with no end would read as ongoing: the regimen is left out, and said.
    let mut open = s;
    open["effectivePeriod"] = json!({"start": "2019-03-01"});
    let got = import(&open);
    assert!(got.patients[0].records.treatments[0].regimens.is_empty());
    assert!(got
        .report
        .notes
        .iter()
        .any(|n| n.message.contains("without an end date")));
}

#[test]
fn hl7_medication_administration_on_hold_is_skipped_and_a_completed_one_is_a_dose() {
    let got = import(&fixture("hl7-r4/medicationadministrationexample3.json"));
    assert_eq!(
        only_skip(&got),
        &SkipReason::Status {
            field: "status".into(),
            value: "on-hold".into()
        }
    );

    // Completed, with a regimen of the same medication in the file: a dose taken.
    let mut admin = fixture("hl7-r4/medicationadministrationexample3.json");
    admin["status"] = json!("completed");
    let statement = json!({"resourceType": "MedicationStatement", "status": "active",
        "medicationCodeableConcept": {"text": "Alemtuzumab 10mg/ml (Lemtrada)"},
        "subject": {"reference": "Patient/pat1"}, "effectivePeriod": {"start": "2015-01-01"},
        "dosage": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "route": {"coding": [{"system": "http://snomed.info/sct", "code": "47625008"}]},
            "doseAndRate": [{"doseQuantity": {"value": 12, "system": "http://unitsofmeasure.org", "code": "mg"}}]}]});
    let got = import(&bundle(&[
        ("urn:uuid:a", statement.clone()),
        ("urn:uuid:b", admin.clone()),
    ]));
    let regimen = &got.patients[0].records.treatments[0].regimens[0];
    assert_eq!(regimen.regimen.route(), Some(Route::Intravenous));
    assert_eq!(regimen.doses.len(), 1);
    assert_eq!(regimen.doses[0].at().at, "2015-01-15T13:30:00Z".parse().unwrap());
    assert_eq!(got.report.counts["MedicationAdministration"].imported, 1);

    // Without a regimen on that day there is nothing to log it against: skipped, said why.
    let got = import(&admin);
    match only_skip(&got) {
        SkipReason::Incomplete { detail } => assert!(detail.contains("no regimen of"), "{detail}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn synthea_patient_bundle_is_reported_resource_by_resource() {
    let got = import(&fixture("synthea/sample_complete_patient_cut.json"));
    let p = got.single().unwrap();
    let id = p.identity().unwrap();
    assert_eq!(id.name.as_deref(), Some("Lindsay928 Gerlach374"));
    assert_eq!(id.birth_date, Some(date(1950, 10, 24)));
    assert_eq!(id.identifiers.len(), 5);
    assert!(p.records.is_empty());
    let c = &got.report.counts;
    assert_eq!(c["Patient"].imported, 1);
    assert_eq!(c["Condition"].skipped, 2);
    for t in ["Encounter", "CareTeam", "CarePlan", "Claim"] {
        assert_eq!(c[t].skipped, 1, "{t}");
        assert_eq!(c[t].imported, 0, "{t}");
    }
    assert_eq!(got.report.skipped_total(), 6);
    assert_eq!(got.report.imported_total(), 1);
    assert!(got.report.skipped.iter().all(|s| !s.message.is_empty()));
}

#[test]
fn a_two_patient_bundle_gives_two_patients() {
    let b = bundle(&[
        (
            "http://example.org/fhir/Patient/f201",
            fixture("hl7-r4/patient-example-f201-roel.json"),
        ),
        (
            "http://example.org/fhir/Patient/f001",
            fixture("hl7-r4/patient-example-f001-pieter.json"),
        ),
        ("urn:uuid:c1", ms_condition("Patient/f201")),
        ("urn:uuid:c2", ms_condition("Patient/f001")),
        ("urn:uuid:c3", ms_condition("Patient/someone-else")),
    ]);
    let got = import(&b);
    assert_eq!(got.patients.len(), 2);
    let names: Vec<_> = got
        .patients
        .iter()
        .map(|p| p.identity().unwrap().name.clone().unwrap())
        .collect();
    assert_eq!(names, vec!["Roel", "Pieter van de Heuvel"]);
    assert_eq!(got.patients[0].records.events.len(), 1);
    assert_eq!(got.patients[1].records.events.len(), 1);
    assert_eq!(
        only_skip(&got),
        &SkipReason::OtherSubject {
            reference: "Patient/someone-else".into()
        }
    );
}

#[test]
fn neither_bundle_nor_resource_is_a_clear_error() {
    let err = import_bundle(&json!({"entry": []}), now()).unwrap_err();
    assert!(
        err.to_string().contains("neither a FHIR Bundle nor a FHIR resource"),
        "{err}"
    );
}

/// Another system's record gets the same uid on every import (so a second import is
/// recognised): from its business identifier, else from its content, wherever the file puts
/// its keys and whatever `meta` a server stamped on it; a different record gets another.
#[test]
fn another_systems_records_get_the_same_uid_every_time() {
    let uid_of = |c: &Value| {
        let got = import(&bundle(&[
            ("urn:uuid:p", json!({"resourceType": "Patient"})),
            ("urn:uuid:c", c.clone()),
        ]));
        let uids = &got.patients[0].uids;
        assert_eq!(uids.len(), 1, "{uids:?}");
        uids[0].0
    };
    let c = ms_condition("urn:uuid:p");
    let first = uid_of(&c);
    assert_eq!(uid_of(&c), first);
    // The same resource as text with its keys in another order, and a new meta.
    let mut reordered: serde_json::Map<String, Value> = serde_json::Map::new();
    for (k, v) in c.as_object().unwrap().iter().rev() {
        reordered.insert(k.clone(), v.clone());
    }
    reordered.insert(
        "meta".into(),
        json!({"lastUpdated": "2026-01-01T00:00:00Z", "versionId": "7"}),
    );
    assert_eq!(uid_of(&Value::Object(reordered)), first);
    // Other content: another record.
    let mut later = c.clone();
    later["onsetDateTime"] = json!("2014-06-01");
    assert_ne!(uid_of(&later), first);
    // A business identifier names the record through updates.
    let mut with_id = c.clone();
    with_id["identifier"] = json!([{"system": "http://hospital.example/problems", "value": "p-9"}]);
    let mut updated = with_id.clone();
    updated["note"] = json!([{"text": "confirmed by MRI"}]);
    assert_eq!(uid_of(&with_id), uid_of(&updated));
    assert_ne!(uid_of(&with_id), first);
}
