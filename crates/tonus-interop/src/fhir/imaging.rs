//! An MRI as a DiagnosticReport too (issue #13 point 4), beside its Observation: EHRs list
//! imaging under DiagnosticReports coded with LOINC's imaging study codes, not under
//! Observations. The report is the patient's account of it (status `preliminary`, the
//! summary they wrote as `conclusion`); its `result` is the MRI Observation, which holds the
//! lesion counts and is the record an import reads.

use serde_json::{json, Map, Value};
use tonus_domain::{ClinicalEvent, MriRegion};

use super::export::{coding, concept, object, Builder};
use super::import::{code_in, Res};
use super::ips::{claim, IPS_DIAGNOSTIC_REPORT};
use super::{cs, LOINC};

/// What an MRI's DiagnosticReport id is derived from, beside the record's uid.
pub(super) const REPORT: &str = "diagnostic-report";

/// HL7 v2 table 0074 (diagnostic service section), the category R4's DiagnosticReport
/// example binding names.
const V2_0074: &str = "http://terminology.hl7.org/CodeSystem/v2-0074";

/// The LOINC imaging study code of an MRI of `region` (code, long common name), checked as
/// docs/fhir.md lists. Tonus's regions are the brain and the cervical and thoracic spinal
/// cord; the cord is imaged by an MRI of that spine segment, which is what the spine codes
/// name. A region added without a checked code gets none (text only), never a guess.
pub(super) fn loinc(region: MriRegion) -> Option<(&'static str, &'static str)> {
    match region {
        MriRegion::Brain => Some(("24590-2", "MR Brain")),
        MriRegion::CervicalCord => Some(("24935-9", "MR Cervical spine")),
        MriRegion::ThoracicCord => Some(("24980-5", "MR Thoracic spine")),
    }
}

/// The DiagnosticReport of MRI event `e` (of `region`) whose Observation is `observation`.
pub(super) fn report(b: &Builder, e: &ClinicalEvent, region: MriRegion, observation: &str) -> Map<String, Value> {
    let text = format!("MRI of the {}", region.label());
    let mut codings: Vec<Value> = loinc(region)
        .map(|(code, display)| coding(LOINC, code, display))
        .into_iter()
        .collect();
    // The Tonus event kind, as on the Observation: an import knows the report for Tonus's own.
    codings.push(coding(&cs("event-kind"), "mri", "MRI"));
    let mut m = object(json!({
        "resourceType": "DiagnosticReport",
        // Patient-reported: nobody has verified it, and the patient may still edit it.
        "status": "preliminary",
        // One category with both codings: IPS allows a single category.
        "category": [concept(
            vec![coding(V2_0074, "RAD", "Radiology"), coding(LOINC, "LP29684-5", "Radiology")],
            "Radiology",
        )],
        "code": concept(codings, &text),
        "subject": b.subject(),
        "effectiveDateTime": e.on().to_string(),
        "result": [{"reference": observation}],
    }));
    if let Some(s) = e.summary() {
        m.insert("conclusion".into(), s.into());
    }
    // Everything DiagnosticReport (IPS) requires is here (status, one category, code,
    // subject, effective[x]); its subject must be an IPS Patient.
    if b.ips() {
        claim(&mut m, IPS_DIAGNOSTIC_REPORT);
    }
    m
}

/// A DiagnosticReport Tonus wrote for an MRI (its code carries the Tonus event kind `mri`),
/// after the import mapped the file's base onto ours.
pub(super) fn is_report(res: &Res) -> bool {
    code_in(res.r.get("code"), &cs("event-kind")) == Some("mri")
}
