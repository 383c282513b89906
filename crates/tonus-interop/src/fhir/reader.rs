//! One Patient's resources read into records, as the input is read: statements first
//! (doses and side effects point at them), then every other resource one at a time, so an
//! input is never held whole.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde_json::Value;
use tonus_domain::time::Zone;
use tonus_domain::{ClinicalEvent, EventKind, RecordUid, Regimen};
use tonus_store::archive::{push_with_uid, PatientRecords, RegimenRecords, TreatmentRecords};

use super::bundle::BundlePatient;
use super::foreign::{fhir_date, Bound, Precision};
use super::import::{self, code_in, incomplete, Res, R};
use super::report::{ImportReport, Place, SkipReason};
use super::{cs, id_system, obs, SCT_MS, SNOMED};
use super::{imaging, medication, questionnaire};

pub(super) fn kind<'a>(r: &Res<'a>) -> &'a str {
    r.r.get("resourceType").and_then(Value::as_str).unwrap_or("?")
}

/// Why a resource Tonus derives from its records is not read as one: a check-in's
/// QuestionnaireResponse and an MRI's DiagnosticReport say again what their Observation
/// says (reading both would store the record twice), and the Questionnaire is a definition.
/// `None` for anything else, another system's QuestionnaireResponses and reports included.
pub(super) fn derived(res: &Res) -> Option<SkipReason> {
    let same = |record: &str| SkipReason::SameRecord { record: record.into() };
    match kind(res) {
        "QuestionnaireResponse" if questionnaire::is_response(res) => Some(same("check-in")),
        "DiagnosticReport" if imaging::is_report(res) => Some(same("MRI")),
        "Questionnaire" if questionnaire::is_questionnaire(res) => Some(SkipReason::Definition),
        _ => None,
    }
}

/// What reading one Patient's resources needs to remember between them.
pub(super) struct PatientReader {
    zone: Zone,
    /// A uid seen on an earlier resource of the patient is not taken again (the record gets
    /// a new one): two records under one uid would share an id and a fullUrl in an export.
    seen: HashSet<RecordUid>,
    by_name: HashMap<String, usize>,
    /// A statement's fullUrl → its treatment and regimen (for Tonus's doses).
    regimen_at: HashMap<String, (usize, usize)>,
    /// A statement's fullUrl → its treatment's name as imported (for side effects).
    statement_names: HashMap<String, String>,
    treatment_names: HashMap<String, String>,
    regimens: Vec<(String, usize, usize, Regimen)>,
}

impl PatientReader {
    pub(super) fn new(p: &BundlePatient) -> Self {
        Self {
            zone: p.zone.clone().unwrap_or_else(Zone::utc),
            seen: HashSet::new(),
            by_name: HashMap::new(),
            regimen_at: HashMap::new(),
            statement_names: HashMap::new(),
            treatment_names: HashMap::new(),
            regimens: Vec::new(),
        }
    }

    /// A MedicationStatement: a treatment (one per name) and its regimen when it has one.
    pub(super) fn statement(
        &mut self,
        p: &mut BundlePatient,
        res: &Res,
        url: Option<&str>,
        report: &mut ImportReport,
    ) -> R<()> {
        let out = &mut p.records;
        let read = match medication::statement(res)? {
            Ok(read) => read,
            Err(reason) => {
                report.skip(&res.place, reason);
                return Ok(());
            }
        };
        report.imported(&res.place);
        for n in read.notes {
            report.note(&res.place, n);
        }
        // A statement's uid is its regimen's, or its treatment's when it has no regimen.
        let uid = res.uid().filter(|u| self.seen.insert(*u));
        if let Some(u) = uid {
            p.uids.push((u, res.place.clone()));
        }
        let treatment_uid = match read.regimen {
            None => uid,
            // Beside a regimen, the treatment's uid is in a Tonus identifier of its own.
            Some(_) => res.uid_in(&id_system("treatment")),
        };
        let key = read.treatment.name().to_lowercase();
        // A record without a uid in the file gets a new one now, so exporting what was read
        // gives ids that read back the same.
        let ti = *self.by_name.entry(key).or_insert_with(|| {
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
            self.statement_names
                .insert(u.to_string(), out.treatments[ti].treatment.name().to_string());
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
                self.regimen_at.insert(u.to_string(), (ti, regimens.len() - 1));
            }
        }
        Ok(())
    }

    /// After the last statement: what doses and side effects are matched against.
    pub(super) fn statements_done(&mut self, p: &BundlePatient) {
        let out = &p.records;
        self.treatment_names = out
            .treatments
            .iter()
            .map(|t| (t.treatment.name().to_lowercase(), t.treatment.name().to_string()))
            .collect();
        self.regimens = out
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
    }

    /// A resource's uid, noted with its place; a second resource of the file with the same
    /// one gets a new one.
    fn uid_of(&mut self, found: &mut Vec<(RecordUid, Place)>, res: &Res) -> RecordUid {
        match res.uid().filter(|u| self.seen.insert(*u)) {
            Some(u) => {
                found.push((u, res.place.clone()));
                u
            }
            None => RecordUid::new(),
        }
    }

    /// Any other resource of the patient, imported or skipped with its reason.
    pub(super) fn other(
        &mut self,
        p: &mut BundlePatient,
        res: &Res,
        now: Timestamp,
        report: &mut ImportReport,
    ) -> R<()> {
        let at = &res.place;
        let zone = self.zone.clone();
        let outcome: Result<(), SkipReason> = match kind(res) {
            "MedicationStatement" | "Patient" => return Ok(()),
            // Tonus marks every dose it writes with its dose-status extension.
            "MedicationAdministration" if res.extension("dose-status").is_some() => {
                let target = res.req("/supportingInformation/0/reference")?;
                let (ti, ri) = *self
                    .regimen_at
                    .get(target)
                    .ok_or_else(|| res.missing("supportingInformation naming a MedicationStatement of this bundle"))?;
                let d = import::administration(res, &zone, now)?;
                let uid = self.uid_of(&mut p.uids, res);
                let r = &mut p.records.treatments[ti].regimens[ri];
                push_with_uid(&mut r.doses, &mut r.dose_uids, d, uid);
                Ok(())
            }
            "MedicationAdministration" => match medication::their_dose(res, &zone, now, &self.regimens) {
                Ok((ti, ri, d)) => {
                    let uid = self.uid_of(&mut p.uids, res);
                    let r = &mut p.records.treatments[ti].regimens[ri];
                    push_with_uid(&mut r.doses, &mut r.dose_uids, d, uid);
                    Ok(())
                }
                Err(reason) => Err(reason),
            },
            "Observation" => match observation(res, &zone, now, &mut p.records)? {
                Ok(kind) => {
                    let uid = self.uid_of(&mut p.uids, res);
                    let out = &mut p.records;
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
                    Ok(())
                }
                Err(reason) => Err(reason),
            },
            "AdverseEvent" => match import::side_effect(res, &zone, now, &self.statement_names, &self.treatment_names)?
            {
                Ok(s) => {
                    let uid = self.uid_of(&mut p.uids, res);
                    let out = &mut p.records;
                    push_with_uid(&mut out.side_effects, &mut out.uids.side_effects, s, uid);
                    Ok(())
                }
                Err(reason) => Err(reason),
            },
            "Condition" => match condition(res, &zone, now) {
                Ok((e, notes)) => {
                    for n in notes {
                        report.note(at, n);
                    }
                    let uid = self.uid_of(&mut p.uids, res);
                    let out = &mut p.records;
                    push_with_uid(&mut out.events, &mut out.uids.events, e, uid);
                    Ok(())
                }
                Err(reason) => Err(reason),
            },
            _ => Err(SkipReason::UnsupportedType),
        };
        match outcome {
            Ok(()) => report.imported(at),
            Err(reason) => report.skip(at, reason),
        }
        Ok(())
    }
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
