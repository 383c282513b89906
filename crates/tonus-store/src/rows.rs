//! Row shapes shared by both backends, and their conversion back into domain values. Reading
//! re-runs the domain rules, so a row edited by hand into nonsense is reported, never shown.

use jiff::{civil::Date, Timestamp};
use serde::Serialize;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::time::Zone;
use tonus_domain::{
    CheckIn, ClinicalEvent, Dose, DoseLog, DoseStatus, Effect, Episode, EventKind, ExerciseSession, ExerciseType, Id,
    LocalInstant, MriRegion, Pain, RecordUid, Region, Route, Schedule, Severity, SideEffect, SpasmKind, Trigger, Unit,
    ValidationError,
};

use crate::StoreError;

/// A domain value with its database id and owner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stored<T> {
    pub id: Id,
    pub patient_id: Id,
    #[serde(flatten)]
    pub value: T,
}

/// Far enough ahead that re-validating a stored value never trips the "future" rule.
fn any_time() -> Timestamp {
    Timestamp::MAX
}

fn corrupt(table: &'static str, id: i64) -> impl Fn(ValidationError) -> StoreError {
    move |source| StoreError::Corrupt { table, id, source }
}

/// A row's uid (issue #13). The column is read only where uids are wanted (snapshots), so the
/// row types take it as optional; asked for and absent or malformed, the row is corrupt.
pub(crate) fn row_uid(table: &'static str, id: i64, text: Option<&str>) -> Result<RecordUid, StoreError> {
    RecordUid::parse(text.unwrap_or("")).map_err(corrupt(table, id))
}

pub(crate) fn join_codes<T: Copy + Into<&'static str>>(items: &[T]) -> String {
    items.iter().map(|i| (*i).into()).collect::<Vec<&str>>().join(",")
}

fn split_codes<T>(text: &str, parse: impl Fn(&str) -> Result<T, ValidationError>) -> Result<Vec<T>, ValidationError> {
    text.split(',').filter(|s| !s.is_empty()).map(parse).collect()
}

pub(crate) fn parse_date(field: &str, text: &str) -> Result<Date, ValidationError> {
    text.parse()
        .map_err(|_| ValidationError::new(field, "a date YYYY-MM-DD", text))
}

fn instant(ms: i64, zone: &str) -> Result<LocalInstant, ValidationError> {
    let at = Timestamp::from_millisecond(ms).map_err(|_| ValidationError::new("at", "a representable instant", ms))?;
    Ok(LocalInstant {
        at,
        zone: Zone::parse(zone)?,
    })
}

#[derive(sqlx::FromRow)]
pub(crate) struct EpisodeRow {
    id: i64,
    patient_id: i64,
    started_at_ms: i64,
    time_zone: String,
    kind: String,
    regions: String,
    pain: Option<i64>,
    duration_s: Option<i64>,
    triggers: String,
    trigger_note: Option<String>,
    notes: Option<String>,
    recorded_at_ms: i64,
    #[sqlx(default)]
    uid: Option<String>,
}

pub(crate) const EPISODE_COLUMNS: &str =
    "id, patient_id, started_at_ms, time_zone, kind, regions, pain, duration_s, triggers, trigger_note, notes, recorded_at_ms, uid";

impl EpisodeRow {
    pub(crate) fn uid(&self) -> Result<RecordUid, StoreError> {
        row_uid("episodes", self.id, self.uid.as_deref())
    }

    pub(crate) fn into_domain(self) -> Result<Stored<Episode>, StoreError> {
        let id = self.id;
        let build = || -> Result<Episode, ValidationError> {
            let recorded = Timestamp::from_millisecond(self.recorded_at_ms)
                .map_err(|_| ValidationError::new("recorded_at", "a representable instant", self.recorded_at_ms))?;
            Episode::new(
                instant(self.started_at_ms, &self.time_zone)?,
                SpasmKind::parse(&self.kind)?,
                split_codes(&self.regions, Region::parse)?,
                self.pain.map(Pain::new).transpose()?,
                self.duration_s,
                split_codes(&self.triggers, Trigger::parse)?,
                self.trigger_note.as_deref(),
                self.notes.as_deref(),
                recorded,
            )
        };
        let value = build().map_err(corrupt("episodes", id))?;
        Ok(Stored {
            id,
            patient_id: self.patient_id,
            value,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CheckInRow {
    id: i64,
    patient_id: i64,
    local_date: String,
    spasticity_nrs: Option<i64>,
    pain_nrs: Option<i64>,
    psfs_frequency: Option<i64>,
    psfs_severity: Option<i64>,
    night_wakings: Option<i64>,
    log_complete: bool,
    note: Option<String>,
    #[sqlx(default)]
    uid: Option<String>,
}

pub(crate) const CHECKIN_COLUMNS: &str =
    "id, patient_id, local_date, spasticity_nrs, pain_nrs, psfs_frequency, psfs_severity, night_wakings, log_complete, note, uid";

impl CheckInRow {
    pub(crate) fn uid(&self) -> Result<RecordUid, StoreError> {
        row_uid("checkins", self.id, self.uid.as_deref())
    }

    pub(crate) fn into_domain(self) -> Result<Stored<CheckIn>, StoreError> {
        let id = self.id;
        let draft = CheckInDraft {
            spasticity_nrs: self.spasticity_nrs,
            pain_nrs: self.pain_nrs,
            psfs_frequency: self.psfs_frequency,
            psfs_severity: self.psfs_severity,
            night_wakings: self.night_wakings,
            log_complete: self.log_complete,
            note: self.note,
        };
        let value = parse_date("date", &self.local_date)
            .and_then(|d| draft.validate(d, &Zone::utc(), any_time()))
            .map_err(corrupt("checkins", id))?;
        Ok(Stored {
            id,
            patient_id: self.patient_id,
            value,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RegimenRow {
    pub(crate) id: i64,
    pub(crate) patient_id: i64,
    pub(crate) treatment_id: i64,
    pub(crate) treatment_name: String,
    pub(crate) category: String,
    pub(crate) dose_amount: Option<f64>,
    pub(crate) dose_unit: Option<String>,
    pub(crate) route: Option<String>,
    pub(crate) schedule: String,
    pub(crate) start_date: String,
    pub(crate) end_date: Option<String>,
    #[sqlx(default)]
    pub(crate) uid: Option<String>,
}

impl RegimenRow {
    pub(crate) fn uid(&self) -> Result<RecordUid, StoreError> {
        row_uid("regimens", self.id, self.uid.as_deref())
    }

    pub(crate) fn regimen(&self) -> Result<tonus_domain::Regimen, StoreError> {
        let build = || -> Result<tonus_domain::Regimen, ValidationError> {
            let dose = match (self.dose_amount, self.dose_unit.as_deref()) {
                (Some(a), Some(u)) => Some(Dose::new(a, Unit::parse(u)?)?),
                _ => None,
            };
            tonus_domain::Regimen::new(
                tonus_domain::Category::parse(&self.category)?,
                dose,
                self.route.as_deref().map(Route::parse).transpose()?,
                Schedule::parse(&self.schedule)?,
                parse_date("start", &self.start_date)?,
                self.end_date.as_deref().map(|e| parse_date("end", e)).transpose()?,
            )
        };
        build().map_err(corrupt("regimens", self.id))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DoseLogRow {
    id: i64,
    patient_id: i64,
    pub(crate) regimen_id: i64,
    at_ms: i64,
    time_zone: String,
    status: String,
    note: Option<String>,
    #[sqlx(default)]
    uid: Option<String>,
}

pub(crate) const DOSE_LOG_COLUMNS: &str = "id, patient_id, regimen_id, at_ms, time_zone, status, note, uid";

impl DoseLogRow {
    pub(crate) fn uid(&self) -> Result<RecordUid, StoreError> {
        row_uid("dose_logs", self.id, self.uid.as_deref())
    }

    pub(crate) fn into_domain(self) -> Result<(Id, Stored<DoseLog>), StoreError> {
        let id = self.id;
        let value = instant(self.at_ms, &self.time_zone)
            .and_then(|at| DoseLog::new(at, DoseStatus::parse(&self.status)?, self.note.as_deref(), any_time()))
            .map_err(corrupt("dose_logs", id))?;
        Ok((
            self.regimen_id,
            Stored {
                id,
                patient_id: self.patient_id,
                value,
            },
        ))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ExerciseRow {
    id: i64,
    patient_id: i64,
    at_ms: i64,
    time_zone: String,
    exercise_type: String,
    minutes: i64,
    exertion: i64,
    note: Option<String>,
    #[sqlx(default)]
    uid: Option<String>,
}

pub(crate) const EXERCISE_COLUMNS: &str =
    "id, patient_id, at_ms, time_zone, exercise_type, minutes, exertion, note, uid";

impl ExerciseRow {
    pub(crate) fn uid(&self) -> Result<RecordUid, StoreError> {
        row_uid("exercise_sessions", self.id, self.uid.as_deref())
    }

    pub(crate) fn into_domain(self) -> Result<Stored<ExerciseSession>, StoreError> {
        let id = self.id;
        let value = instant(self.at_ms, &self.time_zone)
            .and_then(|at| {
                ExerciseSession::new(
                    at,
                    ExerciseType::parse(&self.exercise_type)?,
                    self.minutes,
                    self.exertion,
                    self.note.as_deref(),
                    any_time(),
                )
            })
            .map_err(corrupt("exercise_sessions", id))?;
        Ok(Stored {
            id,
            patient_id: self.patient_id,
            value,
        })
    }
}

/// The kind-specific part of an event, stored as JSON text so new kinds need no migration.
pub(crate) fn event_detail(kind: &EventKind) -> String {
    serde_json::to_string(kind).unwrap_or_else(|_| "{}".to_string())
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    id: i64,
    patient_id: i64,
    start_date: String,
    end_date: Option<String>,
    detail: String,
    summary: Option<String>,
    #[sqlx(default)]
    uid: Option<String>,
}

pub(crate) const EVENT_COLUMNS: &str = "id, patient_id, start_date, end_date, detail, summary, uid";

impl EventRow {
    pub(crate) fn uid(&self) -> Result<RecordUid, StoreError> {
        row_uid("clinical_events", self.id, self.uid.as_deref())
    }

    pub(crate) fn into_domain(self) -> Result<Stored<ClinicalEvent>, StoreError> {
        let id = self.id;
        let build = || -> Result<ClinicalEvent, ValidationError> {
            let kind: EventKind = serde_json::from_str(&self.detail)
                .map_err(|e| ValidationError::new("detail", "a JSON event description", e))?;
            // Re-check the kind-specific rules, which deserialising alone would skip.
            let kind = match kind {
                EventKind::Mri {
                    region,
                    lesions_total,
                    lesions_new,
                    lesions_enhancing,
                } => EventKind::mri(
                    MriRegion::parse(region.code())?,
                    lesions_total.map(i64::from),
                    lesions_new.map(i64::from),
                    lesions_enhancing.map(i64::from),
                )?,
                EventKind::Other { name } => EventKind::other(&name)?,
                other => other,
            };
            ClinicalEvent::new(
                kind,
                parse_date("date", &self.start_date)?,
                self.end_date.as_deref().map(|e| parse_date("until", e)).transpose()?,
                self.summary.as_deref(),
                &Zone::utc(),
                any_time(),
            )
        };
        let value = build().map_err(corrupt("clinical_events", id))?;
        Ok(Stored {
            id,
            patient_id: self.patient_id,
            value,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SideEffectRow {
    id: i64,
    patient_id: i64,
    at_ms: i64,
    time_zone: String,
    effect: String,
    description: Option<String>,
    severity: String,
    suspected_treatment: Option<String>,
    note: Option<String>,
    #[sqlx(default)]
    uid: Option<String>,
}

/// Selected from `side_effects s LEFT JOIN treatments t ON t.id = s.treatment_id`.
pub(crate) const SIDE_EFFECT_COLUMNS: &str = "s.id, s.patient_id, s.at_ms, s.time_zone, s.effect, s.description, s.severity, t.name AS suspected_treatment, s.note, s.uid";

impl SideEffectRow {
    pub(crate) fn uid(&self) -> Result<RecordUid, StoreError> {
        row_uid("side_effects", self.id, self.uid.as_deref())
    }

    pub(crate) fn into_domain(self) -> Result<Stored<SideEffect>, StoreError> {
        let id = self.id;
        let value = instant(self.at_ms, &self.time_zone)
            .and_then(|at| {
                SideEffect::new(
                    at,
                    Effect::parse(&self.effect)?,
                    self.description.as_deref(),
                    Severity::parse(&self.severity)?,
                    self.suspected_treatment.as_deref(),
                    self.note.as_deref(),
                    any_time(),
                )
            })
            .map_err(corrupt("side_effects", id))?;
        Ok(Stored {
            id,
            patient_id: self.patient_id,
            value,
        })
    }
}
