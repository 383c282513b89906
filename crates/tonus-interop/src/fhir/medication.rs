//! MedicationStatement → treatment and regimen, MedicationAdministration → dose: Tonus's own
//! (which must read back whole, so anything wrong is an error) and other systems' (read
//! where they say enough, otherwise skipped or noted with the reason).

use jiff::Timestamp;
use serde_json::Value;
use tonus_domain::time::Zone;
use tonus_domain::{
    Category, Dose, DoseLog, DoseStatus, LocalInstant, Regimen, Route, Schedule, Treatment, Unit, ValidationError,
};

use super::cs;
use super::foreign::{self, fhir_date, Bound};
use super::import::{code_in, incomplete, schedule, Res, R};
use super::report::SkipReason;

/// A statement read: the treatment, its regimen when there is one, and what the report
/// should say about how it was read.
pub(super) struct StatementRead {
    pub treatment: Treatment,
    pub regimen: Option<Regimen>,
    pub notes: Vec<String>,
}

/// MedicationStatement statuses that are not a fact about taking a medication.
const NOT_FACTS: &[&str] = &["entered-in-error", "not-taken"];

pub(super) fn statement(res: &Res) -> R<Result<StatementRead, SkipReason>> {
    let status = res.str("/status");
    if let Some(s) = status.filter(|s| NOT_FACTS.contains(s)) {
        return Ok(Err(SkipReason::Status {
            field: "status".into(),
            value: s.into(),
        }));
    }
    // Tonus writes its treatment category on every statement; such a statement must read
    // back exactly.
    if code_in(res.r.get("category"), &cs("treatment-category")).is_some() {
        let (treatment, regimen) = ours(res)?;
        return Ok(Ok(StatementRead {
            treatment,
            regimen,
            notes: Vec::new(),
        }));
    }
    Ok(theirs(res, status))
}

fn ours(res: &Res) -> R<(Treatment, Option<Regimen>)> {
    let name = res.req("/medicationCodeableConcept/text")?;
    let category = code_in(res.r.get("category"), &cs("treatment-category")).unwrap_or("drug");
    let category = Category::parse(category).map_err(|e| res.invalid(e))?;
    let treatment = Treatment::new(name, category, res.note()).map_err(|e| res.invalid(e))?;
    if res.r.get("effectivePeriod").is_none() {
        return Ok((treatment, None));
    }
    let start = res.date("/effectivePeriod/start")?;
    let end = match res.str("/effectivePeriod/end") {
        Some(_) => Some(res.date("/effectivePeriod/end")?),
        None => None,
    };
    let schedule = schedule(res)?;
    let build = || -> Result<Regimen, ValidationError> {
        let route = code_in(res.r.pointer("/dosage/0/route"), &cs("route"))
            .map(Route::parse)
            .transpose()?;
        let dose = match res.r.pointer("/dosage/0/doseAndRate/0/doseQuantity") {
            Some(q) => Some(Dose::new(
                q.get("value").and_then(Value::as_f64).unwrap_or(f64::NAN),
                Unit::parse(q.get("code").and_then(Value::as_str).unwrap_or_default())?,
            )?),
            None => None,
        };
        Regimen::new(category, dose, route, schedule, start, end)
    };
    Ok((treatment, Some(build().map_err(|e| res.invalid(e))?)))
}

/// Another system's statement: a drug named by its medication; a regimen when it gives a
/// start, a schedule Tonus can express and (drugs need one) a single dose. What cannot be
/// read is said in the notes, and the treatment is still imported.
fn theirs(res: &Res, status: Option<&str>) -> Result<StatementRead, SkipReason> {
    let name = foreign::medication_name(res.r)
        .ok_or_else(|| incomplete("no medication name (medicationCodeableConcept or a contained Medication)"))?;
    let treatment = Treatment::new(&name, Category::Drug, res.note())?;
    let mut read = StatementRead {
        treatment,
        regimen: None,
        notes: Vec::new(),
    };
    let without = |why: String, read: &mut StatementRead| {
        read.notes
            .push(format!("{why}; the treatment is imported without a regimen"));
    };
    if status == Some("intended") {
        without("status \"intended\": nothing was taken yet".into(), &mut read);
        return Ok(read);
    }
    let date =
        |pointer: &str, bound: Bound, read: &mut StatementRead| -> Result<Option<jiff::civil::Date>, SkipReason> {
            let Some(text) = res.str(pointer) else {
                return Ok(None);
            };
            let d = fhir_date(text, bound).ok_or_else(|| SkipReason::Invalid {
                field: pointer.trim_start_matches('/').replace('/', "."),
                rule: "a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)".into(),
                value: format!("{text:?}"),
            })?;
            read.notes.extend(d.partial_note(pointer.trim_start_matches('/'), text));
            Ok(Some(d.date))
        };
    let (start, end) = if res.r.get("effectivePeriod").is_some() {
        (
            date("/effectivePeriod/start", Bound::Start, &mut read)?,
            date("/effectivePeriod/end", Bound::End, &mut read)?,
        )
    } else {
        // One date: the day it was taken, so a finished statement ends that day.
        let on = date("/effectiveDateTime", Bound::Start, &mut read)?;
        let finished = matches!(status, Some("completed" | "stopped"));
        (on, on.filter(|_| finished))
    };
    let Some(start) = start else {
        without("no start date".into(), &mut read);
        return Ok(read);
    };
    if end.is_none() && matches!(status, Some("completed" | "stopped")) {
        // An open regimen is an ongoing one (reminders, charts): not what "stopped" says.
        without(
            format!("status {:?} without an end date", status.unwrap_or_default()),
            &mut read,
        );
        return Ok(read);
    }
    let dosage = res.r.pointer("/dosage/0");
    let as_needed = dosage.is_some_and(|d| {
        d.get("asNeededBoolean").and_then(Value::as_bool) == Some(true) || d.get("asNeededCodeableConcept").is_some()
    });
    let schedule = if as_needed {
        Schedule::AsNeeded
    } else {
        match schedule(res) {
            Ok(s) => s,
            Err(_) => {
                without("the dosage timing is not one Tonus can express".into(), &mut read);
                return Ok(read);
            }
        }
    };
    let route = foreign::route(dosage, &cs("route")).unwrap_or_else(|why| {
        read.notes.push(format!("{why}; imported without a route"));
        None
    });
    let dose = foreign::dose(dosage).unwrap_or_else(|why| {
        read.notes.push(why);
        None
    });
    match Regimen::new(Category::Drug, dose, route, schedule, start, end) {
        Ok(r) => read.regimen = Some(r),
        Err(e) => without(format!("the regimen breaks a rule ({e})"), &mut read),
    }
    Ok(read)
}

/// Another system's MedicationAdministration: a dose taken (`completed`) or missed
/// (`not-done`) at a date and time, logged against the regimen of the same medication in
/// this file that ran on that day. `regimens` lists (treatment name in lower case,
/// treatment index, regimen index, regimen).
pub(super) fn their_dose(
    res: &Res,
    zone: &Zone,
    now: Timestamp,
    regimens: &[(String, usize, usize, Regimen)],
) -> Result<(usize, usize, DoseLog), SkipReason> {
    let status = match res.str("/status") {
        Some("completed") => DoseStatus::Taken,
        Some("not-done") => DoseStatus::Missed,
        other => {
            return Err(SkipReason::Status {
                field: "status".into(),
                value: other.unwrap_or("(none)").into(),
            })
        }
    };
    let text = res
        .str("/effectiveDateTime")
        .or_else(|| res.str("/effectivePeriod/start"))
        .ok_or_else(|| incomplete("no effective date and time"))?;
    let at: Timestamp = text.parse().map_err(|_| {
        incomplete(format!(
            "{text:?} is not a date and time with an offset, which a dose needs"
        ))
    })?;
    let at = LocalInstant {
        at,
        zone: res.zone(zone).map_err(|_| incomplete("an unknown time zone"))?,
    };
    let name = foreign::medication_name(res.r).ok_or_else(|| incomplete("no medication name"))?;
    let day = at.local_date();
    let (_, ti, ri, _) = regimens
        .iter()
        .find(|(n, _, _, r)| *n == name.trim().to_lowercase() && r.active_on(day))
        .ok_or_else(|| {
            incomplete(format!(
                "no regimen of {name:?} in this file ran on {day}; Tonus logs each dose against its regimen"
            ))
        })?;
    let log = DoseLog::new(at, status, res.note(), now)?;
    Ok((*ti, *ri, log))
}
