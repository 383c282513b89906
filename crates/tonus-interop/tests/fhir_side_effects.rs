//! Side effects as FHIR AdverseEvents: what Tonus writes reads back whole; another system's
//! AdverseEvents are read when they say what, how bad and when, and skipped otherwise.

use jiff::Timestamp;
use serde_json::{json, Value};
use tonus_domain::time::Zone;
use tonus_domain::{Category, Effect, LocalInstant, Severity, SideEffect, Treatment};
use tonus_interop::fhir::{export_bundle, import_bundle};
use tonus_store::archive::{PatientRecords, TreatmentRecords};

fn now() -> Timestamp {
    "2026-11-20T12:00:00Z".parse().unwrap()
}

fn bundle(resources: Vec<Value>) -> Value {
    let entry: Vec<Value> = resources
        .into_iter()
        .enumerate()
        .map(|(i, r)| json!({"fullUrl": format!("urn:uuid:00000000-0000-5000-8000-{i:012}"), "resource": r}))
        .collect();
    json!({"resourceType": "Bundle", "type": "collection", "entry": entry})
}

#[test]
fn tonus_side_effects_round_trip_with_their_suspect() {
    let paris = Zone::parse("Europe/Paris").unwrap();
    let at = |s: &str| LocalInstant {
        at: s.parse().unwrap(),
        zone: paris.clone(),
    };
    let records = PatientRecords {
        treatments: vec![TreatmentRecords {
            uid: None,
            treatment: Treatment::new("Baclofen", Category::Drug, None).unwrap(),
            regimens: Vec::new(),
        }],
        side_effects: vec![
            SideEffect::new(
                at("2026-11-19T21:00:00Z"),
                Effect::Drowsiness,
                Some("drowsiness"),
                Severity::Severe,
                Some("Baclofen"),
                Some("an hour after\nthe dose"),
                now(),
            )
            .unwrap(),
            SideEffect::new(
                at("2026-11-18T08:00:00Z"),
                Effect::Confusion,
                None,
                Severity::Mild,
                None,
                None,
                now(),
            )
            .unwrap(),
        ],
        ..PatientRecords::default()
    };
    let b = export_bundle("p", &paris, &records, now());
    let ae: Vec<&Value> = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "AdverseEvent")
        .collect();
    assert_eq!(ae.len(), 2);
    // Drowsiness has a SNOMED CT finding; "confusion or poor concentration" is sent as
    // Tonus code and text only.
    assert_eq!(ae[0]["event"]["coding"][0]["code"], "271782001");
    assert_eq!(ae[1]["event"]["coding"].as_array().unwrap().len(), 1);
    assert_eq!(ae[1]["event"]["text"], "confusion or poor concentration");
    let statement = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["resourceType"] == "MedicationStatement")
        .unwrap();
    assert_eq!(ae[0]["suspectEntity"][0]["instance"]["reference"], statement["fullUrl"]);

    let back = import_bundle(&b, now()).unwrap();
    assert_eq!(back.patients[0].records.side_effects, records.side_effects);
    // The description that equals the label survives too (it is an extension, not
    // guessed from the text).
    assert_eq!(
        back.patients[0].records.side_effects[0].description(),
        Some("drowsiness")
    );
}

#[test]
fn other_systems_adverse_events_are_read_or_skipped() {
    let patient = json!({"resourceType": "Patient"});
    let statement = json!({"resourceType": "MedicationStatement", "status": "active",
        "medicationCodeableConcept": {"text": "Tizanidine"}, "subject": {"reference": "urn:uuid:00000000-0000-5000-8000-000000000000"}});
    let sev = |code: &str| json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adverse-event-severity", "code": code}]});
    let snomed_only = json!({"resourceType": "AdverseEvent", "actuality": "actual",
        "event": {"coding": [{"system": "http://snomed.info/sct", "code": "404640003"}]},
        "date": "2026-11-10T08:00:00Z", "severity": sev("moderate"),
        "suspectEntity": [{"instance": {"reference": "urn:uuid:00000000-0000-5000-8000-000000000001"}}]});
    let text_only = json!({"resourceType": "AdverseEvent", "actuality": "actual",
        "event": {"text": "ringing ears"}, "date": "2026-11-11T08:00:00+01:00", "severity": sev("mild"),
        // A suspect that is not in the bundle is not guessed at.
        "suspectEntity": [{"instance": {"reference": "Medication/123", "display": "Aspirin"}}]});
    let potential = json!({"resourceType": "AdverseEvent", "actuality": "potential",
        "event": {"text": "near miss"}, "date": "2026-11-11T08:00:00Z", "severity": sev("mild")});
    let no_severity = json!({"resourceType": "AdverseEvent", "actuality": "actual",
        "event": {"text": "rash"}, "date": "2026-11-11T08:00:00Z"});
    let date_only = json!({"resourceType": "AdverseEvent", "actuality": "actual",
        "event": {"text": "rash"}, "date": "2026-11-11", "severity": sev("mild")});
    let b = bundle(vec![
        patient,
        statement,
        snomed_only,
        text_only,
        potential,
        no_severity,
        date_only,
    ]);
    let got = import_bundle(&b, now()).unwrap();
    let effects = &got.patients[0].records.side_effects;
    assert_eq!(effects.len(), 2, "{effects:?}");
    assert_eq!(effects[0].effect(), Effect::Dizziness);
    assert_eq!(effects[0].severity(), Severity::Moderate);
    assert_eq!(effects[0].suspected_treatment(), Some("Tizanidine"));
    assert_eq!(effects[1].effect(), Effect::Other);
    assert_eq!(effects[1].description(), Some("ringing ears"));
    assert_eq!(effects[1].suspected_treatment(), None);
    assert_eq!(got.report.skipped_total(), 3, "{:?}", got.report.skipped);
}

#[test]
fn a_damaged_tonus_adverse_event_is_an_error_naming_it() {
    let ours = json!({"resourceType": "AdverseEvent", "actuality": "actual",
        "event": {"coding": [{"system": "https://tonus.example.org/fhir/CodeSystem/side-effect", "code": "nausea"}]},
        "date": "2026-11-10T08:00:00Z"});
    let err = import_bundle(&bundle(vec![ours.clone()]), now()).unwrap_err();
    assert!(err.to_string().contains("entry[0] AdverseEvent"), "{err}");
    let mut future = ours;
    future["severity"] =
        json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adverse-event-severity", "code": "mild"}]});
    future["date"] = json!("2027-01-01T08:00:00Z");
    let err = import_bundle(&bundle(vec![future]), now()).unwrap_err();
    assert!(
        err.to_string()
            .contains("entry[0] AdverseEvent: at must be a time that is not in the future"),
        "{err}"
    );
}

/// Found by reading the importer against the fuzz target's promise: two statements of one
/// treatment spelt differently, or a suspect given only by name, must give the treatment's
/// own spelling, or a second round trip would change the record.
#[test]
fn a_suspect_is_spelt_like_its_treatment() {
    let statement = |name: &str| {
        json!({"resourceType": "MedicationStatement", "status": "active",
               "medicationCodeableConcept": {"text": name}, "subject": {"reference": "x"}})
    };
    let ours = |instance: Value| {
        json!({"resourceType": "AdverseEvent", "actuality": "actual",
            "event": {"coding": [{"system": "https://tonus.example.org/fhir/CodeSystem/side-effect", "code": "nausea"}]},
            "severity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adverse-event-severity", "code": "mild"}]},
            "date": "2026-11-10T08:00:00Z", "suspectEntity": [{"instance": instance}]})
    };
    let b = bundle(vec![
        statement("Baclofen"),
        statement("BACLOFEN"),
        ours(json!({"reference": "urn:uuid:00000000-0000-5000-8000-000000000001"})),
        ours(json!({"display": " baclofen"})),
    ]);
    let first = import_bundle(&b, now()).unwrap();
    assert_eq!(first.patients[0].records.treatments.len(), 1);
    let names: Vec<_> = first.patients[0]
        .records
        .side_effects
        .iter()
        .map(|s| s.suspected_treatment())
        .collect();
    assert_eq!(names, vec![Some("Baclofen"), Some("Baclofen")]);
    let again = import_bundle(
        &export_bundle("p", &Zone::utc(), &first.patients[0].records, now()),
        now(),
    )
    .unwrap();
    assert_eq!(again.patients[0].records, first.patients[0].records);
}
