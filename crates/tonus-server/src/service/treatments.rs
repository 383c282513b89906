//! Treatments, regimens and the dose log: the same rules as the command line. A dose change
//! ends the running regimen the day before and starts a new one, so the history shows
//! exactly what was taken when.

use jiff::civil::Date;
use jiff::{Span, Timestamp};
use tonus_domain::due::{due_on, DueItem};
use tonus_domain::input::parse_date;
use tonus_domain::time::today;
use tonus_domain::{Category, Dose, DoseLog, DoseStatus, Regimen, Route, Schedule, Treatment, ValidationError};
use tonus_store::{Stored, StoredRegimen, StoredTreatment};

use super::Own;
use crate::error::{AppError, AppResult};

/// A regimen as typed: amount and unit (both or neither), route, schedule, first and last day.
#[derive(Debug, Default, Clone)]
pub struct RegimenInput {
    pub dose: Option<String>,
    pub unit: Option<String>,
    pub route: Option<String>,
    pub schedule: String,
    /// First day; empty: today.
    pub from: Option<String>,
    pub until: Option<String>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn typed_day(me: &Own<'_>, field: &str, text: Option<&str>) -> AppResult<Option<Date>> {
    match text {
        None => Ok(None),
        Some(t) => {
            let d = parse_date(field, t, &me.patient.zone, Timestamp::now())?;
            super::from_1900(field, d)?;
            Ok(Some(d))
        }
    }
}

fn dose_of(input: &RegimenInput) -> Result<Option<Dose>, ValidationError> {
    let amount = match blank(&input.dose) {
        Some(a) => Some(
            a.replace(',', ".")
                .parse::<f64>()
                .map_err(|_| ValidationError::new("dose", "a number (e.g. 10 or 2.5)", format!("{a:?}")))?,
        ),
        None => None,
    };
    Dose::from_parts(amount, blank(&input.unit))
}

fn regimen_of(me: &Own<'_>, category: Category, input: &RegimenInput) -> AppResult<Regimen> {
    let schedule = Schedule::parse(input.schedule.trim())?;
    let route = blank(&input.route).map(Route::parse).transpose()?;
    let from = typed_day(me, "from", blank(&input.from))?.unwrap_or_else(|| today(&me.patient.zone, Timestamp::now()));
    let until = typed_day(me, "until", blank(&input.until))?;
    Ok(Regimen::new(category, dose_of(input)?, route, schedule, from, until)?)
}

/// The patient's treatments and every regimen of them.
pub async fn overview(me: &Own<'_>) -> AppResult<(Vec<StoredTreatment>, Vec<StoredRegimen>)> {
    let store = &me.state().store;
    Ok((
        store.list_treatments(me.patient).await?,
        store.list_regimens(me.patient).await?,
    ))
}

fn treatment_of(name: &str, category: &str, notes: Option<&str>) -> AppResult<Treatment> {
    let category = match category.trim() {
        "" => {
            return Err(ValidationError::new(
                "category",
                "chosen: drug, vitamin, supplement, exercise or other",
                "nothing",
            )
            .into())
        }
        c => Category::parse(c)?,
    };
    Ok(Treatment::new(name, category, notes)?)
}

/// Renames a treatment or changes its kind or notes. A drug, vitamin or supplement with a
/// regimen without a dose cannot become one (its regimens would break the dose rule).
pub async fn edit(
    me: &Own<'_>,
    id: i64,
    name: &str,
    category: &str,
    notes: Option<&str>,
) -> AppResult<StoredTreatment> {
    treatment(me, id).await?;
    let t = treatment_of(name, category, notes)?;
    if t.category().needs_dose() {
        let (_, regimens) = overview(me).await?;
        if regimens
            .iter()
            .any(|r| r.treatment_id == id && r.value.dose().is_none())
        {
            return Err(ValidationError::new(
                "category",
                "a kind that fits its regimens (one has no dose, so it cannot be a drug, vitamin or supplement)",
                t.category().code(),
            )
            .into());
        }
    }
    if !me.state().store.update_treatment(me.patient, id, &t).await? {
        return Err(AppError::NotFound);
    }
    treatment(me, id).await
}

/// Adds a treatment; a name already used (ignoring case) is refused, naming the field.
pub async fn add(me: &Own<'_>, name: &str, category: &str, notes: Option<&str>) -> AppResult<StoredTreatment> {
    let t = treatment_of(name, category, notes)?;
    let store = &me.state().store;
    if store.treatment_by_name(me.patient, t.name()).await?.is_some() {
        return Err(ValidationError::new(
            "name",
            "a name not used by another of your treatments",
            format!("{:?}", t.name()),
        )
        .into());
    }
    let id = store.insert_treatment(me.patient, &t).await?;
    Ok(StoredTreatment {
        id,
        patient_id: me.patient.id,
        value: t,
    })
}

/// One of the patient's treatments (404 if it is not theirs).
pub async fn treatment(me: &Own<'_>, id: i64) -> AppResult<StoredTreatment> {
    me.state()
        .store
        .list_treatments(me.patient)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(AppError::NotFound)
}

/// One of the patient's regimens (404 if it is not theirs).
pub async fn regimen(me: &Own<'_>, id: i64) -> AppResult<StoredRegimen> {
    me.state()
        .store
        .list_regimens(me.patient)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)
}

/// Starts taking treatment `treatment_id` as `input` says.
pub async fn start(me: &Own<'_>, treatment_id: i64, input: &RegimenInput) -> AppResult<StoredRegimen> {
    let t = treatment(me, treatment_id).await?;
    let r = regimen_of(me, t.value.category(), input)?;
    let id = me.state().store.insert_regimen(me.patient, t.id, &r).await?;
    regimen(me, id).await
}

/// A new dose (or schedule, or route) from `input.from` on: the running regimen ends the day
/// before. Fields left empty keep the running regimen's value.
pub async fn change(me: &Own<'_>, regimen_id: i64, input: &RegimenInput) -> AppResult<StoredRegimen> {
    let old = regimen(me, regimen_id).await?;
    if old.value.end().is_some() {
        return Err(ValidationError::new("regimen", "a running regimen (this one has ended)", regimen_id).into());
    }
    let mut merged = input.clone();
    if blank(&merged.dose).is_none() {
        merged.dose = old.value.dose().map(|d| d.amount().to_string());
    }
    if blank(&merged.unit).is_none() {
        merged.unit = old.value.dose().map(|d| d.unit().code().to_string());
    }
    if blank(&merged.route).is_none() {
        merged.route = old.value.route().map(|r| r.code().to_string());
    }
    if merged.schedule.trim().is_empty() {
        merged.schedule = old.value.schedule().code();
    }
    let category = me
        .state()
        .store
        .treatment_by_name(me.patient, &old.treatment_name)
        .await?
        .map_or(Category::Other, |t| t.value.category());
    let next = regimen_of(me, category, &merged)?;
    if next.start() <= old.value.start() {
        return Err(ValidationError::new(
            "from",
            format!("after the running regimen's first day ({})", old.value.start()),
            next.start(),
        )
        .into());
    }
    let end = next
        .start()
        .checked_sub(Span::new().days(1))
        .map_err(|_| ValidationError::new("from", "a representable day", next.start()))?;
    let id = me
        .state()
        .store
        .replace_regimen(me.patient, regimen_id, end, &next)
        .await?
        .ok_or(AppError::NotFound)?;
    regimen(me, id).await
}

/// Stops a running regimen on `on` (empty: today), the last day it was taken.
pub async fn stop(me: &Own<'_>, regimen_id: i64, on: Option<&str>) -> AppResult<StoredRegimen> {
    let old = regimen(me, regimen_id).await?;
    let on = typed_day(me, "on", on.map(str::trim).filter(|s| !s.is_empty()))?
        .unwrap_or_else(|| today(&me.patient.zone, Timestamp::now()));
    let ended = old.value.ended(on)?;
    me.state()
        .store
        .set_regimen_end(me.patient, regimen_id, ended.end())
        .await?;
    regimen(me, regimen_id).await
}

/// What is due on `day` (empty: today), with the doses already logged that day.
pub async fn due(me: &Own<'_>, day: Option<Date>) -> AppResult<(Date, Vec<DueItem>)> {
    let day = day.unwrap_or_else(|| today(&me.patient.zone, Timestamp::now()));
    let store = &me.state().store;
    let regimens = store.list_regimens(me.patient).await?;
    let doses = store.list_doses(me.patient, Some(day), Some(day)).await?;
    let named: Vec<(i64, String, Regimen)> = regimens
        .into_iter()
        .map(|r| (r.id, r.treatment_name, r.value))
        .collect();
    let items = due_on(day, &named, |id| {
        doses.iter().filter(|(rid, _)| *rid == id).count() as u32
    });
    Ok((day, items))
}

/// A dose as typed, checked against its regimen: it must fall on a day the regimen ran.
fn dose_log_of(
    me: &Own<'_>,
    r: &StoredRegimen,
    status: &str,
    at: Option<&str>,
    note: Option<&str>,
    stored_at: Option<Timestamp>,
) -> AppResult<DoseLog> {
    let status = match status.trim() {
        "" => return Err(ValidationError::new("status", "chosen: taken, late or missed", "nothing").into()),
        s => DoseStatus::parse(s)?,
    };
    let at = super::typed_instant(me, "at", at, stored_at)?;
    let dose = DoseLog::new(at, status, note, Timestamp::now())?;
    let day = dose.at().local_date();
    // A correction that keeps the day is not judged again: a dose change since then may have
    // ended its regimen the day before, and the dose was valid when it was logged.
    let same_day = stored_at.is_some_and(|t| tonus_domain::time::local_date(t, &me.patient.zone) == day);
    if !same_day && !r.value.active_on(day) {
        return Err(ValidationError::new(
            "at",
            format!(
                "a day the regimen ran ({} to {})",
                r.value.start(),
                r.value.end().map_or("now".to_string(), |d| d.to_string())
            ),
            day,
        )
        .into());
    }
    Ok(dose)
}

/// Logs a dose of regimen `regimen_id`: taken, late or missed, at `at` (empty: now).
pub async fn log_dose(
    me: &Own<'_>,
    regimen_id: i64,
    status: &str,
    at: Option<&str>,
    note: Option<&str>,
) -> AppResult<(i64, DoseLog)> {
    let dose = prepare_dose(me, regimen_id, status, at, note).await?;
    let id = me.state().store.insert_dose(me.patient, regimen_id, &dose).await?;
    Ok((id, dose))
}

/// A dose of one of the patient's regimens checked and ready to store (404 for another).
pub async fn prepare_dose(
    me: &Own<'_>,
    regimen_id: i64,
    status: &str,
    at: Option<&str>,
    note: Option<&str>,
) -> AppResult<DoseLog> {
    let r = regimen(me, regimen_id).await?;
    dose_log_of(me, &r, status, at, note, None)
}

/// One logged dose with its regimen id (404 if it is not the patient's).
pub async fn dose(me: &Own<'_>, id: i64) -> AppResult<(i64, Stored<DoseLog>)> {
    doses(me, None, None)
        .await?
        .into_iter()
        .find(|(_, d)| d.id == id)
        .ok_or(AppError::NotFound)
}

/// Corrects a logged dose: status, time (empty keeps the stored one) and note.
pub async fn correct_dose(
    me: &Own<'_>,
    id: i64,
    status: &str,
    at: Option<&str>,
    note: Option<&str>,
) -> AppResult<(i64, DoseLog)> {
    let (rid, old) = dose(me, id).await?;
    let r = regimen(me, rid).await?;
    let dose = dose_log_of(me, &r, status, at, note, Some(old.value.at().at))?;
    if !me.state().store.update_dose(me.patient, id, &dose).await? {
        return Err(AppError::NotFound);
    }
    Ok((rid, dose))
}

/// Doses logged on local days in the range, with their regimen id.
pub async fn doses(me: &Own<'_>, from: Option<Date>, to: Option<Date>) -> AppResult<Vec<(i64, Stored<DoseLog>)>> {
    Ok(me.state().store.list_doses(me.patient, from, to).await?)
}

/// Deletes a logged dose (404 if it is not the patient's).
pub async fn delete_dose(me: &Own<'_>, id: i64) -> AppResult<()> {
    if me.state().store.delete_dose(me.patient, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Deletes a treatment with its regimens and doses (404 if it is not the patient's). Side
/// effects that named it stay, without the suspicion.
pub async fn delete(me: &Own<'_>, id: i64) -> AppResult<()> {
    if me.state().store.delete_treatment(me.patient, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
