//! Clinical events (MRI with lesion counts, relapse, infection, diagnosis, other): record,
//! correct, delete, with the command line's rules.

use jiff::civil::Date;
use jiff::Timestamp;
use tonus_domain::input::parse_date;
use tonus_domain::{ClinicalEvent, EventKind, MriRegion, ValidationError};
use tonus_store::Stored;

use super::Own;
use crate::error::{AppError, AppResult};

/// An event as typed.
#[derive(Debug, Default, Clone)]
pub struct EventInput {
    /// mri, relapse, infection, diagnosis, other
    pub kind: String,
    /// The day (empty: today).
    pub date: Option<String>,
    /// Last day, for relapses, infections and other events that last.
    pub until: Option<String>,
    pub summary: Option<String>,
    /// For `other`: what it was.
    pub name: Option<String>,
    /// For an MRI: brain, cervical-cord, thoracic-cord, and the lesion counts.
    pub mri_region: Option<String>,
    pub lesions_total: Option<i64>,
    pub lesions_new: Option<i64>,
    pub lesions_enhancing: Option<i64>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn validate(me: &Own<'_>, input: &EventInput) -> AppResult<ClinicalEvent> {
    let now = Timestamp::now();
    let kind = match input.kind.trim() {
        "mri" => {
            let region = blank(&input.mri_region).ok_or_else(|| {
                ValidationError::new("mri_region", "chosen: brain, cervical-cord or thoracic-cord", "nothing")
            })?;
            EventKind::mri(
                MriRegion::parse(region)?,
                input.lesions_total,
                input.lesions_new,
                input.lesions_enhancing,
            )?
        }
        "relapse" => EventKind::Relapse,
        "infection" => EventKind::Infection,
        "diagnosis" => EventKind::Diagnosis,
        "other" => EventKind::other(blank(&input.name).unwrap_or(""))?,
        other => {
            return Err(ValidationError::new(
                "kind",
                "one of mri, relapse, infection, diagnosis, other",
                format!("{other:?}"),
            )
            .into())
        }
    };
    let day = |field: &str, v: Option<&str>| -> AppResult<Option<Date>> {
        match v {
            None => Ok(None),
            Some(t) => {
                let d = parse_date(field, t, &me.patient.zone, now)?;
                super::from_1900(field, d)?;
                Ok(Some(d))
            }
        }
    };
    let on = day("date", blank(&input.date))?.unwrap_or_else(|| tonus_domain::time::today(&me.patient.zone, now));
    let until = day("until", blank(&input.until))?;
    Ok(ClinicalEvent::new(
        kind,
        on,
        until,
        input.summary.as_deref(),
        &me.patient.zone,
        now,
    )?)
}

pub async fn record(me: &Own<'_>, input: &EventInput) -> AppResult<Stored<ClinicalEvent>> {
    let value = validate(me, input)?;
    let id = me.state().store.insert_event(me.patient, &value).await?;
    Ok(Stored {
        id,
        patient_id: me.patient.id,
        value,
    })
}

/// One of the patient's events (404 if it is not theirs).
pub async fn get(me: &Own<'_>, id: i64) -> AppResult<Stored<ClinicalEvent>> {
    me.state()
        .store
        .get_event(me.patient, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn list(me: &Own<'_>, from: Option<Date>, to: Option<Date>) -> AppResult<Vec<Stored<ClinicalEvent>>> {
    Ok(me.state().store.list_events(me.patient, from, to).await?)
}

pub async fn correct(me: &Own<'_>, id: i64, input: &EventInput) -> AppResult<Stored<ClinicalEvent>> {
    get(me, id).await?;
    let value = validate(me, input)?;
    if !me.state().store.update_event(me.patient, id, &value).await? {
        return Err(AppError::NotFound);
    }
    Ok(Stored {
        id,
        patient_id: me.patient.id,
        value,
    })
}

pub async fn delete(me: &Own<'_>, id: i64) -> AppResult<()> {
    if me.state().store.delete_event(me.patient, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The event as its form shows it, for editing.
pub fn input_of(e: &ClinicalEvent) -> EventInput {
    let mut input = EventInput {
        kind: e.kind().code().to_string(),
        date: Some(e.on().to_string()),
        until: e.until().map(|d| d.to_string()),
        summary: e.summary().map(str::to_string),
        ..EventInput::default()
    };
    match e.kind() {
        EventKind::Mri {
            region,
            lesions_total,
            lesions_new,
            lesions_enhancing,
        } => {
            input.mri_region = Some(region.code().to_string());
            input.lesions_total = lesions_total.map(i64::from);
            input.lesions_new = lesions_new.map(i64::from);
            input.lesions_enhancing = lesions_enhancing.map(i64::from);
        }
        EventKind::Other { name } => input.name = Some(name.clone()),
        _ => {}
    }
    input
}
