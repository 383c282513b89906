//! FHIR R4: a `collection` Bundle of one patient's records, and the way back in.
//!
//! Standard codes are used where one exists and fits (all checked against published
//! terminology; see docs/fhir.md): SNOMED CT for multiple sclerosis (24700007), spasm
//! (45352006), cramp (55300003) and routes; LOINC 72514-3 for pain 0–10 and LOINC imaging
//! study codes for an MRI's DiagnosticReport; UCUM units.
//! Everything else carries a Tonus code system, so the importer reads back exactly what
//! was exported (`import_bundle(export_bundle(x)) == x` for every record Tonus holds). A
//! check-in is also a QuestionnaireResponse and an MRI also a DiagnosticReport, for systems
//! that look there; the importer reads each record once, from its Observation.
//!
//! Statuses are honest about where the data comes from: patient-reported observations are
//! `preliminary` (nobody has verified them and the patient may still edit them), not
//! `final`; a missed dose is a MedicationAdministration with status `not-done`. Side effects
//! are AdverseEvents the patient recorded (`actuality` actual), with no causality claimed.

mod adverse;
mod bundle;
mod canonical;
mod document;
mod export;
mod foreign;
mod ids;
mod imaging;
mod import;
mod ips;
mod medication;
mod patient;
mod questionnaire;
mod reader;
mod report;
pub mod rest;
mod stream;
mod terminology;
mod transaction;
mod write;

pub use bundle::{import_bundle, import_bundle_reader, BundlePatient, FhirImport};
pub use export::{bundle_header, export_bundle, export_entries};
pub use patient::{patient_resource, patient_resource_id};
pub use report::{ImportReport, Note, Place, SkipReason, Skipped, TypeCount};
pub use terminology::{medication_snomed, region_snomed};
pub use transaction::{to_transaction, transaction_entry};
pub use write::{write_bundle, BundleKind};

pub use canonical::{base, set_base, validate as validate_base, CanonicalError, DEFAULT_BASE, LEGACY_BASE};

/// The identifier system of a URI value (RFC 3986): a record's uid as `urn:uuid:…`.
pub const URI_SYSTEM: &str = "urn:ietf:rfc:3986";

pub const SNOMED: &str = "http://snomed.info/sct";
pub const LOINC: &str = "http://loinc.org";
pub const UCUM: &str = "http://unitsofmeasure.org";
pub const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
pub const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
pub const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
/// FHIR R4 AdverseEventSeverity: mild | moderate | severe, as Tonus records them.
pub const AE_SEVERITY: &str = "http://terminology.hl7.org/CodeSystem/adverse-event-severity";
/// R4's AdverseEvent has no `note` (R5 added one); HL7's cross-version extension for
/// R5 `AdverseEvent.note` (an Annotation) carries it, so another system can read it
/// without knowing Tonus.
pub const AE_NOTE_EXT: &str = "http://hl7.org/fhir/5.0/StructureDefinition/extension-AdverseEvent.note";

/// SNOMED CT multiple sclerosis (disorder).
pub const SCT_MS: &str = "24700007";
/// SNOMED CT spasm (finding): every involuntary-movement kind and sustained stiffness.
pub const SCT_SPASM: &str = "45352006";
/// SNOMED CT cramp (finding).
pub const SCT_CRAMP: &str = "55300003";
/// LOINC pain severity, 0–10 verbal numeric rating, reported.
pub const LOINC_PAIN: &str = "72514-3";

/// A Tonus identifier system, e.g. `id_system("patient-handle")`.
pub fn id_system(name: &str) -> String {
    format!("{}/{name}", base())
}

/// A Tonus code system, e.g. `cs("spasm-kind")`.
pub fn cs(name: &str) -> String {
    format!("{}/CodeSystem/{name}", base())
}

/// A Tonus extension URL, e.g. `ext("time-zone")`.
pub fn ext(name: &str) -> String {
    format!("{}/StructureDefinition/{name}", base())
}

/// Codes of the `observation` code system: what a Tonus observation or component is.
pub mod obs {
    pub const EPISODE: &str = "spasm-episode";
    pub const REGION: &str = "body-region";
    pub const TRIGGER: &str = "trigger";
    pub const CHECKIN: &str = "daily-checkin";
    pub const SPASTICITY: &str = "spasticity-nrs";
    pub const PSFS_FREQUENCY: &str = "psfs-frequency";
    pub const PSFS_SEVERITY: &str = "psfs-severity";
    pub const NIGHT_WAKINGS: &str = "night-wakings";
    pub const LOG_COMPLETE: &str = "log-complete";
    pub const EXERCISE: &str = "exercise-session";
    pub const EXERCISE_TYPE: &str = "exercise-type";
    pub const MINUTES: &str = "exercise-minutes";
    pub const EXERTION: &str = "perceived-exertion";
    pub const LESIONS_TOTAL: &str = "lesions-total";
    pub const LESIONS_NEW: &str = "lesions-new";
    pub const LESIONS_ENHANCING: &str = "lesions-enhancing";
}

/// SNOMED CT clinical findings for the side effects that have one that means the same
/// (code, preferred term); see docs/fhir.md for where each was checked. `confusion` is
/// "confusion or poor concentration" for the patient, broader than any one finding, and
/// `other` is the patient's words: both are sent with the Tonus code and text only.
pub fn effect_snomed(effect: tonus_domain::Effect) -> Option<(&'static str, &'static str)> {
    use tonus_domain::Effect::*;
    match effect {
        Drowsiness => Some(("271782001", "Drowsy")),
        Weakness => Some(("26544005", "Muscle weakness")),
        Dizziness => Some(("404640003", "Dizziness")),
        Fatigue => Some(("84229001", "Fatigue")),
        Nausea => Some(("422587007", "Nausea")),
        DryMouth => Some(("87715008", "Xerostomia")),
        Headache => Some(("25064002", "Headache")),
        Confusion | Other => None,
    }
}

/// SNOMED CT route of administration codes (qualifier values).
pub fn route_snomed(route: tonus_domain::Route) -> (&'static str, &'static str) {
    use tonus_domain::Route::*;
    match route {
        Oral => ("26643006", "Oral route"),
        Subcutaneous => ("34206005", "Subcutaneous route"),
        Intramuscular => ("78421000", "Intramuscular route"),
        Intravenous => ("47625008", "Intravenous route"),
        Intrathecal => ("72607000", "Intrathecal route"),
        Oromucosal => ("372473007", "Oromucosal use"),
        Transdermal => ("45890007", "Transdermal route"),
        Topical => ("6064005", "Topical route"),
    }
}
