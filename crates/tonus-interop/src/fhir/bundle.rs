//! A Bundle (or a single resource) → the records of each Patient it holds, and a report on
//! every resource: imported, or skipped with its reason. A resource belongs to the Patient
//! its `subject` (or `patient`) names, so a two-patient bundle gives two patients' records;
//! a resource naming no Patient of the file is about someone else and is skipped.

use std::io::{BufReader, Read, Seek, SeekFrom};

use jiff::Timestamp;
use serde_json::{json, Map, Value};
use tonus_domain::time::Zone;
use tonus_domain::{PatientIdentity, RecordUid};
use tonus_store::archive::PatientRecords;

use super::canonical::{foreign_bases, map_bases};
use super::id_system;
use super::import::{incomplete, Res, R};
use super::reader::{derived, PatientReader};
use super::report::{ImportReport, Place, SkipReason};
use super::stream::{read_entries, OnEntry};
use crate::InteropError;

/// One Patient of the input and the records that are about them.
#[derive(Debug, Clone)]
pub struct BundlePatient {
    /// The Patient resource; `None` when the input holds no Patient (its records then
    /// belong to whichever patient the caller chooses).
    pub at: Option<Place>,
    /// How the file's resources refer to this Patient: its fullUrl and `Patient/{id}`.
    pub references: Vec<String>,
    /// The Tonus patient handle, when the Patient carries one (a Tonus export).
    pub handle: Option<String>,
    pub zone: Option<Zone>,
    /// The records; `records.identity` is what the Patient says for filing.
    pub records: PatientRecords,
    /// Every imported resource with its record's uid (from the file, or derived from the
    /// resource's identity) and its place: the caller reports those the target patient has
    /// already as skipped (`already-imported`).
    pub uids: Vec<(RecordUid, Place)>,
}

impl BundlePatient {
    pub fn identity(&self) -> Option<&PatientIdentity> {
        self.records.identity.as_ref()
    }
}

/// What an input held: one entry per Patient (or one for a file without any), and the
/// report of every resource.
#[derive(Debug, Clone)]
pub struct FhirImport {
    pub patients: Vec<BundlePatient>,
    pub report: ImportReport,
}

impl FhirImport {
    /// The records of a one-patient input (every Tonus export), else `None`.
    pub fn single(&self) -> Option<&BundlePatient> {
        match self.patients.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

fn patient(res: &Res, url: Option<&str>) -> R<BundlePatient> {
    let handle_system = id_system("patient-handle");
    let handle = res
        .r
        .get("identifier")
        .and_then(Value::as_array)
        .and_then(|ids| {
            ids.iter()
                .find(|i| i.get("system").and_then(Value::as_str) == Some(handle_system.as_str()))
        })
        .and_then(|i| i.get("value"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let zone = res
        .ext_str("time-zone")
        .map(Zone::parse)
        .transpose()
        .map_err(|e| res.invalid(e))?;
    let identity = super::patient::identity(res.r, &handle_system).map_err(|e| res.invalid(e))?;
    let mut references: Vec<String> = url.map(str::to_string).into_iter().collect();
    if let Some(id) = &res.place.id {
        references.push(format!("Patient/{id}"));
    }
    Ok(BundlePatient {
        at: Some(res.place.clone()),
        references,
        handle,
        zone,
        records: PatientRecords {
            identity,
            ..PatientRecords::default()
        },
        uids: Vec::new(),
    })
}

/// Which patient a resource is about: the one its subject names (a relative `Patient/x`
/// also matches an absolute `https://…/Patient/x`).
fn owner(res: &Res, patients: &[BundlePatient]) -> Result<usize, SkipReason> {
    if patients.first().is_some_and(|p| p.at.is_none()) {
        return Ok(0);
    }
    let reference = res.str("/subject/reference").or_else(|| res.str("/patient/reference"));
    let Some(r) = reference else {
        return match patients.len() {
            1 => Ok(0),
            _ => Err(incomplete("no subject, and the file holds several patients")),
        };
    };
    patients
        .iter()
        .position(|p| {
            p.references
                .iter()
                .any(|k| k == r || (k.starts_with("Patient/") && r.ends_with(&format!("/{k}"))))
        })
        .ok_or_else(|| SkipReason::OtherSubject { reference: r.into() })
}

fn place(entry: usize, r: &Value) -> Place {
    Place {
        entry,
        resource_type: r.get("resourceType").and_then(Value::as_str).unwrap_or("?").to_string(),
        id: r.get("id").and_then(Value::as_str).map(str::to_string),
    }
}

const NEITHER: &str = "the file is neither a FHIR Bundle nor a FHIR resource (it has no resourceType)";

/// Reads an input held in memory; `now` bounds "not in the future" as for any other input.
/// An error means a resource Tonus wrote is damaged (nothing of the file should then be
/// trusted); another system's resources are imported or skipped, each with a line in the
/// report. A bare resource (as FHIR servers return for a read, and as HL7 publishes its
/// examples) counts as a bundle of one.
pub fn import_bundle(input: &Value, now: Timestamp) -> Result<FhirImport, InteropError> {
    let obj = match input.get("resourceType").and_then(Value::as_str) {
        Some("Bundle") => input.as_object(),
        Some(_) => return import_bundle(&json!({"resourceType": "Bundle", "entry": [{"resource": input}]}), now),
        None => None,
    }
    .ok_or_else(|| InteropError::Fhir(NEITHER.into()))?;
    let entries = obj
        .get("entry")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    // The first pass reads only Patients and statements and the second only the rest, so
    // each entry is copied once, for the pass that reads it; the other gets a null.
    let mut first = true;
    import_passes(now, &mut |on_entry| {
        for (i, e) in entries.iter().enumerate() {
            let early = matches!(
                e.pointer("/resource/resourceType").and_then(Value::as_str),
                Some("Patient" | "MedicationStatement")
            );
            on_entry(i, if early == first { e.clone() } else { Value::Null })?;
        }
        first = false;
        Ok(obj
            .iter()
            .filter(|(k, _)| *k != "entry")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    })
}

/// Reads a file entry by entry, twice (Patients and statements first, then the rest), so a
/// Bundle of any size takes the memory of its records, not of its JSON.
pub fn import_bundle_reader<F: Read + Seek>(file: &mut F, now: Timestamp) -> Result<FhirImport, InteropError> {
    import_passes(now, &mut |on_entry| {
        file.seek(SeekFrom::Start(0))
            .map_err(|e| InteropError::Fhir(format!("cannot read the file again: {e}")))?;
        read_entries(BufReader::new(&mut *file), on_entry)
    })
}

/// The two passes over the entries that `pass` hands over (it returns the Bundle's other
/// elements): first the Patients, who decide where everything goes, and the statements
/// that doses and side effects point at; then every other resource, one at a time.
fn import_passes(now: Timestamp, pass: &mut dyn FnMut(&mut OnEntry<'_>) -> R<Map<String, Value>>) -> R<FhirImport> {
    let mut kept: Vec<(usize, Value, Option<String>)> = Vec::new();
    let top = pass(&mut |i, mut entry| {
        let kind = entry.pointer("/resource/resourceType").and_then(Value::as_str);
        if matches!(kind, Some("Patient" | "MedicationStatement")) {
            let url = entry.get("fullUrl").and_then(Value::as_str).map(str::to_string);
            kept.push((i, entry["resource"].take(), url));
        }
        Ok(())
    })?;
    match top.get("resourceType").and_then(Value::as_str) {
        Some("Bundle") => {}
        // A bare resource, small: read as a bundle of one.
        Some(_) => return import_bundle(&Value::Object(top), now),
        None => return Err(InteropError::Fhir(NEITHER.into())),
    }
    // Another installation's (or an older) base is read as ours, so its codes, extensions
    // and patient handle are recognised.
    let foreign = foreign_bases(top.get("meta").and_then(|m| m.get("source")).and_then(Value::as_str));
    let mut report = ImportReport::default();
    let mut patients = Vec::new();
    for (i, r, url) in &mut kept {
        map_bases(r, &foreign);
        if r.get("resourceType").and_then(Value::as_str) == Some("Patient") {
            let res = Res::new(place(*i, r), r);
            patients.push(patient(&res, url.as_deref())?);
            report.imported(&res.place);
        }
    }
    if patients.is_empty() {
        patients.push(BundlePatient {
            at: None,
            references: Vec::new(),
            handle: None,
            zone: None,
            records: PatientRecords::default(),
            uids: Vec::new(),
        });
    }
    let mut readers: Vec<PatientReader> = patients.iter().map(PatientReader::new).collect();
    for (i, r, url) in &kept {
        if r.get("resourceType").and_then(Value::as_str) != Some("MedicationStatement") {
            continue;
        }
        let res = Res::new(place(*i, r), r);
        match owner(&res, &patients) {
            Ok(p) => readers[p].statement(&mut patients[p], &res, url.as_deref(), &mut report)?,
            Err(reason) => report.skip(&res.place, reason),
        }
    }
    drop(kept);
    for (reader, p) in readers.iter_mut().zip(&patients) {
        reader.statements_done(p);
    }
    pass(&mut |i, mut entry| {
        let Some(mut r) = entry.get_mut("resource").map(Value::take) else {
            return Ok(());
        };
        if matches!(
            r.get("resourceType").and_then(Value::as_str),
            Some("Patient" | "MedicationStatement")
        ) {
            return Ok(());
        }
        map_bases(&mut r, &foreign);
        let res = Res::new(place(i, &r), &r);
        // Before the owner: the Questionnaire names no patient, and what Tonus derived from
        // a record is skipped whoever it is about.
        if let Some(reason) = derived(&res) {
            report.skip(&res.place, reason);
            return Ok(());
        }
        match owner(&res, &patients) {
            Ok(p) => readers[p].other(&mut patients[p], &res, now, &mut report),
            Err(reason) => {
                report.skip(&res.place, reason);
                Ok(())
            }
        }
    })?;
    Ok(FhirImport { patients, report })
}
