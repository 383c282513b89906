//! Issue #13 point 4: each daily check-in is also a QuestionnaireResponse (answering a Tonus
//! Questionnaire the Bundle carries once) and each MRI also a DiagnosticReport with a LOINC
//! imaging code. Their answers and codes come from the records, their references resolve
//! inside the Bundle, their ids are stable and never a record's, and an import of the export
//! reads each record once, reporting the extra resources as skipped with the reason.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::date;
use jiff::Timestamp;
use serde_json::{json, Value};
use tonus_domain::{ClinicalEvent, EventKind, MriRegion, PatientIdentity, RecordUid};
use tonus_interop::fhir::{base, export_bundle, import_bundle, SkipReason};
use tonus_store::archive::PatientRecords;

use common::{assert_same, simulated};

const LOINC: &str = "http://loinc.org";
const IPS_DR: &str = "http://hl7.org/fhir/uv/ips/StructureDefinition/DiagnosticReport-uv-ips";

fn now() -> Timestamp {
    "2026-12-06T08:00:00Z".parse().unwrap()
}

/// A simulated patient with an MRI of every region and a uid on every record, as stored
/// records have.
fn patient(seed: u64) -> (tonus_domain::time::Zone, PatientRecords) {
    let (zone, mut r) = simulated(seed, 40, now());
    let on = date(2026, 11, 2);
    let kind = EventKind::mri(MriRegion::CervicalCord, Some(3), None, None).unwrap();
    r.events
        .push(ClinicalEvent::new(kind, on, None, Some("two cord lesions, stable"), &zone, now()).unwrap());
    let fresh = |n: usize| (0..n).map(|_| RecordUid::new()).collect::<Vec<_>>();
    r.uids.episodes = fresh(r.episodes.len());
    r.uids.checkins = fresh(r.checkins.len());
    r.uids.exercise = fresh(r.exercise.len());
    r.uids.events = fresh(r.events.len());
    r.uids.side_effects = fresh(r.side_effects.len());
    (zone, r)
}

fn entries(bundle: &Value) -> &Vec<Value> {
    bundle["entry"].as_array().unwrap()
}

fn of_type<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    entries(bundle)
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

/// fullUrl → resource.
fn by_url(bundle: &Value) -> BTreeMap<String, &Value> {
    entries(bundle)
        .iter()
        .map(|e| (e["fullUrl"].as_str().unwrap().to_string(), &e["resource"]))
        .collect()
}

fn by_id<'a>(bundle: &'a Value, id: &str) -> &'a Value {
    entries(bundle)
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no resource {id}"))
}

fn answer(qr: &Value, link_id: &str) -> Option<Value> {
    let items = qr["item"].as_array().unwrap();
    let item = items.iter().find(|i| i["linkId"] == link_id)?;
    let [a] = item["answer"].as_array().unwrap().as_slice() else {
        panic!("one answer per item: {item}");
    };
    Some(a.clone())
}

#[test]
fn each_check_in_has_a_response_whose_answers_are_its_values() {
    let (zone, r) = patient(3);
    let b = export_bundle("anne", &zone, &r, now());
    let urls = by_url(&b);
    let questionnaires = of_type(&b, "Questionnaire");
    let [questionnaire] = questionnaires.as_slice() else {
        panic!("one Questionnaire per Bundle");
    };
    let canonical = format!(
        "{}|{}",
        questionnaire["url"].as_str().unwrap(),
        questionnaire["version"].as_str().unwrap()
    );
    assert_eq!(questionnaire["url"], format!("{}/Questionnaire/daily-checkin", base()));
    assert_eq!(questionnaire["status"], "active");
    let types: BTreeMap<&str, &str> = questionnaire["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["linkId"].as_str().unwrap(), i["type"].as_str().unwrap()))
        .collect();
    assert!(!r.checkins.is_empty());
    assert_eq!(of_type(&b, "QuestionnaireResponse").len(), r.checkins.len());
    for (c, uid) in r.checkins.iter().zip(&r.uids.checkins) {
        let obs = by_id(&b, &uid.to_string());
        assert_eq!(obs["resourceType"], "Observation");
        let [from] = obs["derivedFrom"].as_array().unwrap().as_slice() else {
            panic!("one derivedFrom: {obs}");
        };
        let qr = urls[from["reference"].as_str().unwrap()];
        assert_eq!(qr["resourceType"], "QuestionnaireResponse");
        assert_eq!(qr["questionnaire"], canonical.as_str());
        assert_eq!(qr["status"], "completed");
        assert_eq!(qr["authored"], c.date().to_string());
        for who in ["subject", "author", "source"] {
            assert_eq!(qr[who], obs["subject"], "{who}");
        }
        // The values come from the record, not from the Observation the test could share a
        // bug with.
        let int = |v: Option<u8>| v.map(|v| json!({"valueInteger": v}));
        assert_eq!(answer(qr, "spasticity-nrs"), int(c.spasticity_nrs()));
        assert_eq!(answer(qr, "pain-nrs"), int(c.pain_nrs()));
        assert_eq!(answer(qr, "psfs-frequency"), int(c.psfs_frequency().map(|f| f.value())));
        assert_eq!(answer(qr, "psfs-severity"), int(c.psfs_severity().map(|s| s.value())));
        assert_eq!(answer(qr, "night-wakings"), int(c.night_wakings()));
        assert_eq!(
            answer(qr, "log-complete"),
            Some(json!({"valueBoolean": c.log_complete()}))
        );
        // Only answered questions, each one the Questionnaire asks with the matching type.
        for item in qr["item"].as_array().unwrap() {
            let link = item["linkId"].as_str().unwrap();
            let key = if types[link] == "boolean" {
                "valueBoolean"
            } else {
                "valueInteger"
            };
            assert!(item["answer"][0].get(key).is_some(), "{item}");
        }
    }
    // The simulator skips some questions: a response leaves them out, not empty.
    assert!(r.checkins.iter().any(|c| c.spasticity_nrs().is_none()));
}

#[test]
fn each_mri_has_a_report_with_its_loinc_code_and_its_observation_as_result() {
    let (zone, r) = patient(4);
    let b = export_bundle("anne", &zone, &r, now());
    let urls = by_url(&b);
    let reports = of_type(&b, "DiagnosticReport");
    let mut regions = BTreeSet::new();
    for (e, uid) in r.events.iter().zip(&r.uids.events) {
        let EventKind::Mri { region, .. } = e.kind() else {
            continue;
        };
        let full = format!("urn:uuid:{uid}");
        let matching: Vec<&&Value> = reports
            .iter()
            .filter(|d| d["result"][0]["reference"] == full.as_str())
            .collect();
        let [dr] = matching.as_slice() else {
            panic!("one report for the MRI {uid}: {matching:?}");
        };
        assert_eq!(urls[&full]["resourceType"], "Observation");
        assert_eq!(dr["result"].as_array().unwrap().len(), 1);
        let loinc = match region {
            MriRegion::Brain => ("24590-2", "MR Brain"),
            MriRegion::CervicalCord => ("24935-9", "MR Cervical spine"),
            MriRegion::ThoracicCord => ("24980-5", "MR Thoracic spine"),
        };
        let codings = dr["code"]["coding"].as_array().unwrap();
        let found: Vec<(&str, &str)> = codings
            .iter()
            .filter(|c| c["system"] == LOINC)
            .map(|c| (c["code"].as_str().unwrap(), c["display"].as_str().unwrap()))
            .collect();
        assert_eq!(found, vec![loinc]);
        assert_eq!(dr["code"]["text"], format!("MRI of the {}", region.label()));
        assert_eq!(dr["status"], "preliminary");
        assert_eq!(dr["effectiveDateTime"], e.on().to_string());
        assert_eq!(dr["subject"], urls[&full]["subject"]);
        assert_eq!(dr.get("conclusion").and_then(Value::as_str), e.summary());
        let [category] = dr["category"].as_array().unwrap().as_slice() else {
            panic!("IPS allows one category: {dr}");
        };
        let cats: Vec<&str> = category["coding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap())
            .collect();
        assert_eq!(cats, ["RAD", "LP29684-5"]);
        regions.insert(region.code());
    }
    assert_eq!(regions.len(), 3, "every region: {regions:?}");
    assert_eq!(reports.len(), 3);
}

#[test]
fn ids_are_stable_across_exports_and_never_a_records() {
    let (zone, r) = patient(5);
    let a = export_bundle("anne", &zone, &r, now());
    let later: Timestamp = "2027-01-06T08:00:00Z".parse().unwrap();
    let b = export_bundle("anne", &zone, &r, later);
    let derived = |bundle: &Value| -> Vec<String> {
        ["QuestionnaireResponse", "DiagnosticReport", "Questionnaire"]
            .iter()
            .flat_map(|k| of_type(bundle, k))
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };
    let ids = derived(&a);
    assert_eq!(ids, derived(&b), "the same records give the same ids");
    assert_eq!(ids.len(), r.checkins.len() + 3 + 1);
    let record_uids: BTreeSet<String> = r
        .uids
        .checkins
        .iter()
        .chain(&r.uids.events)
        .map(|u| u.to_string())
        .collect();
    let all: BTreeSet<&str> = entries(&a)
        .iter()
        .map(|e| e["resource"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(all.len(), entries(&a).len(), "ids are unique in the Bundle");
    for id in &ids {
        assert!(!record_uids.contains(id), "{id} is a record's uid");
        // Its identifier is its own id: an import must never read the record's uid there.
        let res = by_id(&a, id);
        let identifier = match &res["identifier"] {
            Value::Array(list) => list[0].clone(),
            one => one.clone(),
        };
        assert_eq!(
            identifier,
            json!({"system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{id}")})
        );
    }
    // R4 makes QuestionnaireResponse.identifier a single Identifier.
    assert!(of_type(&a, "QuestionnaireResponse")
        .iter()
        .all(|q| q["identifier"].is_object()));
    // Another patient's Bundle has the same Questionnaire (one definition per installation).
    let (zone2, r2) = patient(6);
    let other = export_bundle("bob", &zone2, &r2, now());
    assert_eq!(
        of_type(&other, "Questionnaire")[0]["id"],
        of_type(&a, "Questionnaire")[0]["id"]
    );
}

/// The Bundle without what this change added: what the import read before.
fn without_derived(bundle: &Value) -> Value {
    let mut b = bundle.clone();
    let kept: Vec<Value> = entries(bundle)
        .iter()
        .filter(|e| {
            !matches!(
                e["resource"]["resourceType"].as_str(),
                Some("QuestionnaireResponse" | "DiagnosticReport" | "Questionnaire")
            )
        })
        .cloned()
        .map(|mut e| {
            if let Some(r) = e["resource"].as_object_mut() {
                r.remove("derivedFrom");
            }
            e
        })
        .collect();
    b["entry"] = Value::Array(kept);
    b
}

#[test]
fn an_import_reads_each_record_once_and_says_why_the_rest_is_skipped() {
    let (zone, r) = patient(7);
    let b = export_bundle("anne", &zone, &r, now());
    let got = import_bundle(&b, now()).unwrap();
    let before = import_bundle(&without_derived(&b), now()).unwrap();
    let p = got.single().unwrap();
    let was = before.single().unwrap();
    // (Not compared with `r` itself: an import spells a suspected treatment as its statement
    // does, which roundtrip.rs covers through the store.)
    assert_same(&p.records, &was.records);
    assert_eq!(p.records.checkins, r.checkins);
    assert_eq!(p.records.events, r.events);
    assert_eq!(p.records.uids, r.uids, "each record under its own uid");
    assert_eq!(p.records.uids, was.records.uids);
    let uids = |b: &tonus_interop::fhir::BundlePatient| -> Vec<RecordUid> { b.uids.iter().map(|(u, _)| *u).collect() };
    assert_eq!(uids(p), uids(was));
    assert!(before.report.skipped.is_empty(), "{:?}", before.report.skipped);
    let mut reasons: BTreeMap<(String, String), usize> = BTreeMap::new();
    for s in &got.report.skipped {
        let json = serde_json::to_value(&s.reason).unwrap();
        let what = match &s.reason {
            SkipReason::SameRecord { record } => {
                assert_eq!(json, json!({"reason": "same-record", "record": record}));
                assert_eq!(
                    s.message,
                    format!("the same {record} as its Observation, which is what is imported")
                );
                record.clone()
            }
            SkipReason::Definition => {
                assert_eq!(json, json!({"reason": "definition"}));
                assert_eq!(s.message, "a definition, not a record");
                String::new()
            }
            other => panic!("unexpected skip {other:?} at {}", s.at),
        };
        *reasons.entry((s.at.resource_type.clone(), what)).or_default() += 1;
    }
    let expected: BTreeMap<(String, String), usize> = [
        (
            ("QuestionnaireResponse".to_string(), "check-in".to_string()),
            r.checkins.len(),
        ),
        (("DiagnosticReport".to_string(), "MRI".to_string()), 3),
        (("Questionnaire".to_string(), String::new()), 1),
    ]
    .into();
    assert_eq!(reasons, expected);
    assert_eq!(got.report.counts["QuestionnaireResponse"].imported, 0);
    assert_eq!(got.report.imported_total(), before.report.imported_total());
}

#[test]
fn another_installations_bundle_is_recognised_too() {
    let (zone, r) = patient(8);
    let ours = export_bundle("anne", &zone, &r, now());
    let text = serde_json::to_string(&ours)
        .unwrap()
        .replace(base(), "https://tonus.other-clinic.example/fhir");
    let theirs: Value = serde_json::from_str(&text).unwrap();
    let a = import_bundle(&ours, now()).unwrap();
    let b = import_bundle(&theirs, now()).unwrap();
    let reasons = |i: &tonus_interop::fhir::FhirImport| -> Vec<SkipReason> {
        i.report.skipped.iter().map(|s| s.reason.clone()).collect()
    };
    assert_eq!(reasons(&a), reasons(&b));
    assert_same(&a.patients[0].records, &b.patients[0].records);
}

#[test]
fn another_systems_responses_and_reports_are_skipped_as_before() {
    let (zone, r) = patient(9);
    let mut b = export_bundle("anne", &zone, &r, now());
    let patient_ref = entries(&b)[0]["fullUrl"].clone();
    let foreign = [
        json!({"resourceType": "QuestionnaireResponse", "status": "completed",
               "questionnaire": "http://example.org/Questionnaire/phq-9", "subject": {"reference": patient_ref}}),
        json!({"resourceType": "DiagnosticReport", "status": "final", "subject": {"reference": patient_ref},
               "code": {"coding": [{"system": LOINC, "code": "24590-2", "display": "MR Brain"}]}}),
        json!({"resourceType": "Questionnaire", "status": "active", "url": "http://example.org/Questionnaire/phq-9"}),
    ];
    let list = b["entry"].as_array_mut().unwrap();
    for f in &foreign {
        list.push(json!({"fullUrl": format!("urn:uuid:{}", RecordUid::new()), "resource": f}));
    }
    let got = import_bundle(&b, now()).unwrap();
    let last: Vec<&SkipReason> = got.report.skipped.iter().rev().take(3).map(|s| &s.reason).collect();
    assert_eq!(last, vec![&SkipReason::UnsupportedType; 3]);
}

#[test]
fn no_check_ins_no_questionnaire_and_the_report_claims_ips_only_beside_an_ips_patient() {
    let (zone, mut r) = patient(10);
    r.checkins.clear();
    r.uids.checkins.clear();
    let b = export_bundle("anne", &zone, &r, now());
    assert!(of_type(&b, "Questionnaire").is_empty());
    assert!(of_type(&b, "QuestionnaireResponse").is_empty());
    let profiles = |b: &Value| -> Vec<Value> {
        of_type(b, "DiagnosticReport")
            .iter()
            .map(|d| d.pointer("/meta/profile").cloned().unwrap_or(Value::Null))
            .collect()
    };
    assert_eq!(profiles(&b), vec![Value::Null; 3], "the Patient is no IPS Patient");
    r.identity = Some(PatientIdentity {
        name: Some("Anne Martin".into()),
        birth_date: Some(date(1970, 3, 2)),
        ..PatientIdentity::default()
    });
    let b = export_bundle("anne", &zone, &r, now());
    assert_eq!(profiles(&b), vec![json!([IPS_DR]); 3]);
    // Nothing else this change added claims a profile: IPS has none it meets.
    for kind in ["QuestionnaireResponse", "Questionnaire"] {
        assert!(of_type(&b, kind).iter().all(|x| x.get("meta").is_none()));
    }
}
