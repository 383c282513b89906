//! International Patient Summary patterns: coded body sites and medications, and the IPS
//! profiles a resource claims in `meta.profile` when it meets them.

use serde_json::{json, Map, Value};
use tonus_domain::{Category, PatientIdentity, Region, Treatment};

use super::export::{coding, concept};
use super::terminology::{medication_snomed, region_snomed};
use super::{cs, SNOMED};

/// A body region as SNOMED CT (its side in the code) and as Tonus's own code, which an
/// import reads back.
pub(super) fn region_concept(r: Region) -> Value {
    let (code, display) = region_snomed(r);
    concept(
        vec![
            coding(SNOMED, code, display),
            coding(&cs("body-region"), r.code(), r.label()),
        ],
        r.label(),
    )
}

/// A treatment's medication: the patient's own name as text, and the SNOMED CT substance
/// when it is a drug Tonus can code (IPS asks for coded medications; text otherwise).
pub(super) fn medication_concept(t: &Treatment) -> Value {
    match medication_snomed(t.name()).filter(|_| t.category() == Category::Drug) {
        Some((code, display)) => concept(vec![coding(SNOMED, code, display)], t.name()),
        None => json!({"text": t.name()}),
    }
}

/// IPS profiles a resource claims (in `meta.profile`) when it meets them: only when the
/// Patient does (IPS resources refer to an IPS Patient), see [`Builder::ips`].
pub(super) const IPS_PATIENT: &str = "http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips";
pub(super) const IPS_CONDITION: &str = "http://hl7.org/fhir/uv/ips/StructureDefinition/Condition-uv-ips";
pub(super) const IPS_MEDICATION_STATEMENT: &str =
    "http://hl7.org/fhir/uv/ips/StructureDefinition/MedicationStatement-uv-ips";
/// An MRI's DiagnosticReport. IPS has no profile for a QuestionnaireResponse, nor one the MRI
/// Observation meets: Observation Results - Radiology (IPS) requires a performer and closes
/// its components to text, code and measurement values, where the lesion counts are integers.
pub(super) const IPS_DIAGNOSTIC_REPORT: &str = "http://hl7.org/fhir/uv/ips/StructureDefinition/DiagnosticReport-uv-ips";

/// IPS's Patient needs a name and a birth date; the rest of what it asks for is optional.
pub(super) fn meets_ips(identity: Option<&PatientIdentity>) -> bool {
    identity.is_some_and(|i| i.name.is_some() && i.birth_date.is_some())
}

pub(super) fn claim(m: &mut Map<String, Value>, profile: &str) {
    m.insert("meta".into(), json!({"profile": [profile]}));
}
