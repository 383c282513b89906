//! A Bundle (or a single resource) → the records of each Patient it holds, and a report on
//! every resource: imported, or skipped with its reason. A resource belongs to the Patient
//! its `subject` (or `patient`) names, so a two-patient bundle gives two patients' records;
//! a resource naming no Patient of the file is about someone else and is skipped.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde_json::Value;
use tonus_domain::time::Zone;
use tonus_domain::{ClinicalEvent, EventKind, PatientIdentity, RecordUid, Regimen};
use tonus_store::archive::{push_with_uid, PatientRecords, RegimenRecords, TreatmentRecords};

use super::foreign::{fhir_date, Bound, Precision};
use super::import::{self, code_in, incomplete, Res, R};
use super::medication;
use super::report::{ImportReport, Place, SkipReason};
use super::{cs, obs, BASE, SCT_MS, SNOMED};
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
    /// Every imported resource that carried a uid (a Tonus export), with its place: the
    /// caller reports those the target patient has already as skipped (`already-imported`).
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

fn kind<'a>(r: &Res<'a>) -> &'a str {
    r.r.get("resourceType").and_then(Value::as_str).unwrap_or("?")
}

/// The input's resources with their fullUrls. A bare resource (as FHIR servers return
/// for a read, and as HL7 publishes its examples) counts as a bundle of one.
fn entries(input: &Value) -> R<Vec<(Res<'_>, Option<&str>)>> {
    let place = |entry: usize, r: &Value| Place {
        entry,
        resource_type: r.get("resourceType").and_then(Value::as_str).unwrap_or("?").to_string(),
        id: r.get("id").and_then(Value::as_str).map(str::to_string),
    };
    match input.get("resourceType").and_then(Value::as_str) {
        Some("Bundle") => Ok(input
            .get("entry")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let r = e.get("resource")?;
                Some((Res::new(place(i, r), r), e.get("fullUrl").and_then(Value::as_str)))
            })
            .collect()),
        Some(_) => Ok(vec![(Res::new(place(0, input), input), None)]),
        None => Err(InteropError::Fhir(
            "the file is neither a FHIR Bundle nor a FHIR resource (it has no resourceType)".into(),
        )),
    }
}

fn patient(res: &Res, url: Option<&str>) -> R<BundlePatient> {
    let handle_system = format!("{BASE}/patient-handle");
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

/// Reads an input; `now` bounds "not in the future" as for any other input. An error means
/// a resource Tonus wrote is damaged (nothing of the file should then be trusted); another
/// system's resources are imported or skipped, each with a line in the report.
pub fn import_bundle(input: &Value, now: Timestamp) -> Result<FhirImport, InteropError> {
    let entries = entries(input)?;
    let mut report = ImportReport::default();
    let mut patients = Vec::new();
    for (res, url) in &entries {
        if kind(res) == "Patient" {
            patients.push(patient(res, *url)?);
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
    let mut groups: Vec<Vec<(&Res, Option<&str>)>> = vec![Vec::new(); patients.len()];
    for (res, url) in &entries {
        if kind(res) == "Patient" {
            continue;
        }
        match owner(res, &patients) {
            Ok(i) => groups[i].push((res, *url)),
            Err(reason) => report.skip(&res.place, reason),
        }
    }
    for (p, group) in patients.iter_mut().zip(&groups) {
        read_patient(p, group, now, &mut report)?;
    }
    Ok(FhirImport { patients, report })
}

/// One patient's resources: treatments and regimens first (doses and side effects point
/// at their statements), then everything else.
fn read_patient(
    p: &mut BundlePatient,
    entries: &[(&Res, Option<&str>)],
    now: Timestamp,
    report: &mut ImportReport,
) -> R<()> {
    let zone = p.zone.clone().unwrap_or_else(Zone::utc);
    let out = &mut p.records;
    let found = &mut p.uids;
    // A uid seen on an earlier resource of the patient is not taken again (the record gets a
    // new one): two records under one uid would share an id and a fullUrl in an export.
    let mut seen: HashSet<RecordUid> = HashSet::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut regimen_at: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut statement_names: HashMap<&str, String> = HashMap::new();
    for (res, url) in entries {
        if kind(res) != "MedicationStatement" {
            continue;
        }
        let read = match medication::statement(res)? {
            Ok(read) => read,
            Err(reason) => {
                report.skip(&res.place, reason);
                continue;
            }
        };
        report.imported(&res.place);
        for n in read.notes {
            report.note(&res.place, n);
        }
        // A statement's uid is its regimen's, or its treatment's when it has no regimen.
        let uid = res.uid().filter(|u| seen.insert(*u));
        if let Some(u) = uid {
            found.push((u, res.place.clone()));
        }
        let treatment_uid = match read.regimen {
            None => uid,
            // Beside a regimen, the treatment's uid is in a Tonus identifier of its own.
            Some(_) => res.uid_in(&format!("{BASE}/treatment")),
        };
        let key = read.treatment.name().to_lowercase();
        // A record without a uid in the file gets a new one now, so exporting what was read
        // gives ids that read back the same.
        let ti = *by_name.entry(key).or_insert_with(|| {
            out.treatments.push(TreatmentRecords {
                uid: Some(treatment_uid.unwrap_or_else(RecordUid::new)),
                treatment: read.treatment,
                regimens: Vec::new(),
            });
            out.treatments.len() - 1
        });
        if let Some(u) = url {
            // The treatment's name as imported (the first statement's spelling), which is
            // what a side effect pointing at any of its statements must say.
            statement_names.insert(u, out.treatments[ti].treatment.name().to_string());
        }
        if let Some(regimen) = read.regimen {
            let regimens = &mut out.treatments[ti].regimens;
            regimens.push(RegimenRecords {
                uid: Some(uid.unwrap_or_else(RecordUid::new)),
                regimen,
                doses: Vec::new(),
                dose_uids: Vec::new(),
            });
            if let Some(u) = url {
                regimen_at.insert(u, (ti, regimens.len() - 1));
            }
        }
    }
    let treatment_names: HashMap<String, String> = out
        .treatments
        .iter()
        .map(|t| (t.treatment.name().to_lowercase(), t.treatment.name().to_string()))
        .collect();
    let regimens: Vec<(String, usize, usize, Regimen)> = out
        .treatments
        .iter()
        .enumerate()
        .flat_map(|(ti, t)| {
            t.regimens
                .iter()
                .enumerate()
                .map(move |(ri, r)| (t.treatment.name().to_lowercase(), ti, ri, r.regimen.clone()))
        })
        .collect();
    // A resource's uid, noted with its place; one without (another system's) gets a new one.
    let mut uid_of = |res: &Res| match res.uid().filter(|u| seen.insert(*u)) {
        Some(u) => {
            found.push((u, res.place.clone()));
            u
        }
        None => RecordUid::new(),
    };
    for (res, _) in entries {
        let at = &res.place;
        let outcome: Result<(), SkipReason> = match kind(res) {
            "MedicationStatement" => continue,
            // Tonus marks every dose it writes with its dose-status extension.
            "MedicationAdministration" if res.extension("dose-status").is_some() => {
                let target = res.req("/supportingInformation/0/reference")?;
                let (ti, ri) = *regimen_at
                    .get(target)
                    .ok_or_else(|| res.missing("supportingInformation naming a MedicationStatement of this bundle"))?;
                let d = import::administration(res, &zone, now)?;
                let r = &mut out.treatments[ti].regimens[ri];
                push_with_uid(&mut r.doses, &mut r.dose_uids, d, uid_of(res));
                Ok(())
            }
            "MedicationAdministration" => medication::their_dose(res, &zone, now, &regimens).map(|(ti, ri, d)| {
                let r = &mut out.treatments[ti].regimens[ri];
                push_with_uid(&mut r.doses, &mut r.dose_uids, d, uid_of(res));
            }),
            "Observation" => observation(res, &zone, now, out)?.map(|kind| {
                let uid = uid_of(res);
                let u = &mut out.uids;
                // `observation` pushed the record; its uid goes at the same position.
                let (list_len, uids) = match kind {
                    Pushed::Episode => (out.episodes.len(), &mut u.episodes),
                    Pushed::Event => (out.events.len(), &mut u.events),
                    Pushed::CheckIn => (out.checkins.len(), &mut u.checkins),
                    Pushed::Exercise => (out.exercise.len(), &mut u.exercise),
                };
                uids.resize_with(list_len - 1, RecordUid::new);
                uids.push(uid);
            }),
            "AdverseEvent" => import::side_effect(res, &zone, now, &statement_names, &treatment_names)?
                .map(|s| push_with_uid(&mut out.side_effects, &mut out.uids.side_effects, s, uid_of(res))),
            "Condition" => condition(res, &zone, now).map(|(e, notes)| {
                for n in notes {
                    report.note(at, n);
                }
                push_with_uid(&mut out.events, &mut out.uids.events, e, uid_of(res));
            }),
            _ => Err(SkipReason::UnsupportedType),
        };
        match outcome {
            Ok(()) => report.imported(at),
            Err(reason) => report.skip(at, reason),
        }
    }
    Ok(())
}

/// Observation statuses that withdraw the result.
const WITHDRAWN: &[&str] = &["entered-in-error", "cancelled"];

/// Which list [`observation`] added its record to.
enum Pushed {
    Episode,
    Event,
    CheckIn,
    Exercise,
}

fn observation(res: &Res, zone: &Zone, now: Timestamp, out: &mut PatientRecords) -> R<Result<Pushed, SkipReason>> {
    if let Some(s) = res.str("/status").filter(|s| WITHDRAWN.contains(s)) {
        return Ok(Err(SkipReason::Status {
            field: "status".into(),
            value: s.into(),
        }));
    }
    let code = res.r.get("code");
    let pushed = if code_in(code, &cs("spasm-kind")).is_some() {
        out.episodes.push(import::episode(res, zone)?);
        Pushed::Episode
    } else if let Some(k) = code_in(code, &cs("event-kind")) {
        out.events.push(import::event(res, k, zone, now)?);
        Pushed::Event
    } else {
        match code_in(code, &cs("observation")) {
            Some(obs::CHECKIN) => {
                out.checkins.push(import::checkin(res, zone, now)?);
                Pushed::CheckIn
            }
            Some(obs::EXERCISE) => {
                out.exercise.push(import::exercise(res, zone, now)?);
                Pushed::Exercise
            }
            _ => {
                return Ok(Err(SkipReason::NotRecorded {
                    what: format!("an Observation of {}", describe(code)),
                }))
            }
        }
    };
    Ok(Ok(pushed))
}

/// A code for people: the first coding's display (or code) and its system.
fn describe(concept: Option<&Value>) -> String {
    let Some(c) = concept else {
        return "no code".into();
    };
    let first = c.pointer("/coding/0");
    let label = c
        .get("text")
        .or_else(|| first.and_then(|f| f.get("display")))
        .and_then(Value::as_str);
    let code = first.and_then(|f| f.get("code")).and_then(Value::as_str);
    let system = first.and_then(|f| f.get("system")).and_then(Value::as_str);
    match (label, code, system) {
        (Some(l), Some(c), Some(s)) => format!("{l:?} ({s} {c})"),
        (Some(l), _, _) => format!("{l:?}"),
        (None, Some(c), Some(s)) => format!("{s} {c}"),
        _ => "an uncoded concept".into(),
    }
}

/// Verification statuses that do not make a diagnosis a fact.
const NOT_CONFIRMED: &[&str] = &[
    "refuted",
    "entered-in-error",
    "unconfirmed",
    "provisional",
    "differential",
];

/// The MS diagnosis as a diagnosis event; any other Condition is not a Tonus record. The
/// date is `recordedDate` (what Tonus writes: when it was diagnosed), else the onset; a
/// partial date is the first day of its year or month, said in the event's note and the
/// report.
fn condition(res: &Res, zone: &Zone, now: Timestamp) -> Result<(ClinicalEvent, Vec<String>), SkipReason> {
    let code = res.r.get("code");
    if code_in(code, SNOMED) != Some(SCT_MS) {
        return Err(SkipReason::NotRecorded {
            what: format!(
                "a Condition of {} (Tonus records the multiple sclerosis diagnosis, SNOMED CT {SCT_MS})",
                describe(code)
            ),
        });
    }
    if let Some(v) = res
        .str("/verificationStatus/coding/0/code")
        .filter(|v| NOT_CONFIRMED.contains(v))
    {
        return Err(SkipReason::Status {
            field: "verificationStatus".into(),
            value: v.into(),
        });
    }
    let (pointer, text) = ["/recordedDate", "/onsetDateTime", "/onsetPeriod/start"]
        .iter()
        .find_map(|p| res.str(p).map(|t| (p.trim_start_matches('/'), t)))
        .ok_or_else(|| incomplete("no date (recordedDate, onsetDateTime or onsetPeriod.start)"))?;
    let d = fhir_date(text, Bound::Start).ok_or_else(|| SkipReason::Invalid {
        field: pointer.replace('/', "."),
        rule: "a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)".into(),
        value: format!("{text:?}"),
    })?;
    // The record itself keeps the precision, so whoever reads it later is not misled.
    let note = match (res.note(), d.precision) {
        (n, Precision::Day) => n.map(str::to_string),
        (None, _) => Some(format!("date given as {text}")),
        (Some(n), _) => Some(format!("{n} (date given as {text})")),
    };
    let event = ClinicalEvent::new(EventKind::Diagnosis, d.date, None, note.as_deref(), zone, now)?;
    Ok((event, d.partial_note(pointer, text).into_iter().collect()))
}
