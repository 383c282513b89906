//! The International Patient Summary as a FHIR `document` Bundle (`--bundle document`): a
//! Composition first, whose sections list the MS diagnosis, the treatments and the MRI
//! results, then the resources it names. A summary, not the diary: episodes, check-ins and
//! doses stay in the collection export. The resources are those of the collection export,
//! with the same ids, so a document and a collection of the same patient agree.

use jiff::Timestamp;
use serde_json::{json, Map, Value};
use tonus_domain::time::Zone;
use tonus_store::archive::PatientRecords;

use super::export::{bundle_header, coding, concept, export_entries, object};
use super::ids::uuid;
use super::ips::{claim, meets_ips};
use super::{LOINC, URI_SYSTEM};

pub(super) const IPS_COMPOSITION: &str = "http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips";
pub(super) const IPS_BUNDLE: &str = "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips";
const EMPTY_REASON: &str = "http://terminology.hl7.org/CodeSystem/list-empty-reason";

/// One IPS section: its LOINC code and title, and which exported resources belong in it.
struct Section {
    code: &'static str,
    display: &'static str,
    title: &'static str,
    holds: fn(&Value) -> bool,
}

/// The sections IPS requires (problems, medications, allergies) and the results section when
/// there are results. Tonus never asks about allergies, so that section says so
/// (`emptyReason` notasked) rather than implying there are none.
const SECTIONS: [Section; 4] = [
    Section {
        code: "11450-4",
        display: "Problem list - Reported",
        title: "Problems",
        holds: |r| kind(r) == "Condition",
    },
    Section {
        code: "10160-0",
        display: "History of Medication use Narrative",
        title: "Medications",
        holds: |r| kind(r) == "MedicationStatement",
    },
    Section {
        code: "48765-2",
        display: "Allergies and adverse reactions Document",
        title: "Allergies and intolerances",
        holds: |_| false,
    },
    Section {
        code: "30954-2",
        display: "Relevant diagnostic tests/laboratory data note",
        title: "Results",
        holds: is_result,
    },
];

fn kind(r: &Value) -> &str {
    r.get("resourceType").and_then(Value::as_str).unwrap_or("")
}

/// MRI reports, and the imaging observations they (or the summary) point at.
fn is_result(r: &Value) -> bool {
    kind(r) == "DiagnosticReport"
        || (kind(r) == "Observation"
            && r.pointer("/category/0/coding/0/code").and_then(Value::as_str) == Some("imaging"))
}

/// The document Bundle's elements (without `entry`) and its entries, Composition first.
pub(super) fn ips_document(
    handle: &str,
    zone: &Zone,
    records: &PatientRecords,
    now: Timestamp,
) -> (Map<String, Value>, Vec<Value>) {
    let mut kept: Vec<Value> = Vec::new();
    export_entries(handle, zone, records, now, &mut |e| {
        let r = &e["resource"];
        if kind(r) == "Patient" || SECTIONS.iter().any(|s| (s.holds)(r)) {
            kept.push(e);
        }
    });
    let ips = meets_ips(records.identity.as_ref());
    let patient_ref = kept
        .iter()
        .find(|e| kind(&e["resource"]) == "Patient")
        .and_then(|e| e["fullUrl"].as_str())
        .unwrap_or_default()
        .to_string();
    let id = uuid(&[handle, "ips-document", &now.to_string()]);
    let mut sections = Vec::new();
    for s in &SECTIONS {
        let members: Vec<&Value> = kept.iter().filter(|e| (s.holds)(&e["resource"])).collect();
        // Results are optional in IPS: no section rather than an empty one.
        if members.is_empty() && s.code == "30954-2" {
            continue;
        }
        sections.push(section(s, &members));
    }
    let mut composition = object(json!({
        "resourceType": "Composition",
        "id": uuid(&[handle, "ips-composition", &now.to_string()]),
        "text": narrative(
            "<p>Patient summary from Tonus, a diary the patient keeps: what the patient reported, \
             not a clinical record.</p>"
        ),
        "status": "final",
        "type": concept(vec![coding(LOINC, "60591-5", "Patient summary Document")], "Patient summary"),
        "subject": {"reference": patient_ref},
        "date": now.to_string(),
        // The patient is the source of everything in it; Tonus only arranged it.
        "author": [{"reference": patient_ref}],
        "title": "Patient summary (patient-reported, from Tonus)",
        "section": sections,
    }));
    if ips {
        claim(&mut composition, IPS_COMPOSITION);
    }
    let mut entries = vec![json!({
        "fullUrl": format!("urn:uuid:{}", composition["id"].as_str().unwrap_or_default()),
        "resource": Value::Object(composition),
    })];
    entries.extend(kept);
    let mut header = bundle_header(handle, now);
    header.insert("id".into(), json!(id));
    // A document is identified for all time by its identifier (bdl-9).
    header.insert(
        "identifier".into(),
        json!({"system": URI_SYSTEM, "value": format!("urn:uuid:{id}")}),
    );
    header.insert("type".into(), json!("document"));
    if ips {
        if let Some(meta) = header.get_mut("meta").and_then(Value::as_object_mut) {
            meta.insert("profile".into(), json!([IPS_BUNDLE]));
        }
    }
    (header, entries)
}

fn section(s: &Section, members: &[&Value]) -> Value {
    let mut m = object(json!({
        "title": s.title,
        "code": concept(vec![coding(LOINC, s.code, s.display)], s.title),
    }));
    if members.is_empty() {
        let (code, display, why) = if s.code == "48765-2" {
            ("notasked", "Not Asked", "Tonus does not record allergies.")
        } else {
            ("nilknown", "Nil Known", "None recorded in Tonus.")
        };
        m.insert("text".into(), narrative(&format!("<p>{why}</p>")));
        m.insert(
            "emptyReason".into(),
            concept(vec![coding(EMPTY_REASON, code, display)], display),
        );
        return Value::Object(m);
    }
    let items: String = members
        .iter()
        .map(|e| format!("<li>{}</li>", escape(&line(&e["resource"]))))
        .collect();
    m.insert("text".into(), narrative(&format!("<ul>{items}</ul>")));
    let refs: Vec<Value> = members.iter().map(|e| json!({"reference": e["fullUrl"]})).collect();
    m.insert("entry".into(), refs.into());
    Value::Object(m)
}

/// One resource in a line a reader of the document understands without the codes.
fn line(r: &Value) -> String {
    let text = |p: &str| r.pointer(p).and_then(Value::as_str);
    let name = text("/code/text")
        .or_else(|| text("/medicationCodeableConcept/text"))
        .or_else(|| text("/code/coding/0/display"))
        .unwrap_or("(unnamed)");
    let mut out = name.to_string();
    if let Some(site) = text("/bodySite/text") {
        out.push_str(&format!(", {site}"));
    }
    let when = match (text("/effectivePeriod/start"), text("/effectivePeriod/end")) {
        (Some(s), Some(e)) => Some(format!("{s} to {e}")),
        (Some(s), None) => Some(format!("since {s}")),
        _ => text("/effectiveDateTime")
            .or_else(|| text("/recordedDate"))
            .map(|d| d.chars().take(10).collect()),
    };
    if let Some(w) = when {
        out.push_str(&format!(", {w}"));
    }
    if let Some(status) = text("/status").filter(|_| kind(r) == "MedicationStatement") {
        out.push_str(&format!(" ({status})"));
    }
    let dose = r.pointer("/dosage/0/doseAndRate/0/doseQuantity").and_then(|q| {
        let value = q.get("value").and_then(Value::as_f64)?;
        Some(
            format!("{value} {}", q.get("unit").and_then(Value::as_str).unwrap_or(""))
                .trim()
                .to_string(),
        )
    });
    let dosage: Vec<String> = [
        dose,
        text("/dosage/0/route/text").map(str::to_string),
        text("/dosage/0/text").map(str::to_string),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !dosage.is_empty() {
        out.push_str(&format!(": {}", dosage.join(", ")));
    }
    if let Some(c) = text("/conclusion").or_else(|| text("/note/0/text")) {
        out.push_str(&format!(". {c}"));
    }
    out
}

fn narrative(xhtml: &str) -> Value {
    json!({"status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{xhtml}</div>")})
}

/// Text for XHTML: the patient's own words may hold `<` or `&`.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_xhtml() {
        assert_eq!(escape("a < b & c > d"), "a &lt; b &amp; c &gt; d");
    }

    #[test]
    fn a_line_names_what_and_when() {
        let r = json!({"resourceType": "MedicationStatement", "status": "active",
            "medicationCodeableConcept": {"text": "Baclofen"},
            "effectivePeriod": {"start": "2026-01-02"}, "dosage": [{"text": "3x-day",
                "route": {"text": "oral"}, "doseAndRate": [{"doseQuantity": {"value": 10.0, "unit": "mg"}}]}]});
        assert_eq!(line(&r), "Baclofen, since 2026-01-02 (active): 10 mg, oral, 3x-day");
        let c = json!({"resourceType": "Condition", "code": {"text": "Multiple sclerosis"},
            "recordedDate": "2019-05-01"});
        assert_eq!(line(&c), "Multiple sclerosis, 2019-05-01");
    }
}
