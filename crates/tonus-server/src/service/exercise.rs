//! Exercise sessions: record, correct, delete, with the command line's rules.

use jiff::civil::Date;
use jiff::Timestamp;
use tonus_domain::{ExerciseSession, ExerciseType, ValidationError};
use tonus_store::Stored;

use super::{typed_instant, Own};
use crate::error::{AppError, AppResult};

/// A session as typed.
#[derive(Debug, Default, Clone)]
pub struct ExerciseInput {
    pub exercise_type: String,
    pub minutes: Option<i64>,
    pub exertion: Option<i64>,
    /// Empty: now for a new session, the stored time for a correction.
    pub at: Option<String>,
    pub note: Option<String>,
}

fn validate(me: &Own<'_>, input: &ExerciseInput, stored_at: Option<Timestamp>) -> AppResult<ExerciseSession> {
    let kind = match input.exercise_type.trim() {
        "" => return Err(ValidationError::new("type", "chosen: what kind of exercise", "nothing").into()),
        t => ExerciseType::parse(t)?,
    };
    let minutes = input
        .minutes
        .ok_or_else(|| ValidationError::new("minutes", "given (1–600)", "nothing"))?;
    let exertion = input
        .exertion
        .ok_or_else(|| ValidationError::new("exertion", "given (0–10)", "nothing"))?;
    let at = typed_instant(me, "at", input.at.as_deref(), stored_at)?;
    Ok(ExerciseSession::new(
        at,
        kind,
        minutes,
        exertion,
        input.note.as_deref(),
        Timestamp::now(),
    )?)
}

pub async fn record(me: &Own<'_>, input: &ExerciseInput) -> AppResult<Stored<ExerciseSession>> {
    let value = validate(me, input, None)?;
    let id = me.state().store.insert_exercise(me.patient, &value).await?;
    Ok(Stored {
        id,
        patient_id: me.patient.id,
        value,
    })
}

/// One of the patient's sessions (404 if it is not theirs).
pub async fn get(me: &Own<'_>, id: i64) -> AppResult<Stored<ExerciseSession>> {
    me.state()
        .store
        .get_exercise(me.patient, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn list(me: &Own<'_>, from: Option<Date>, to: Option<Date>) -> AppResult<Vec<Stored<ExerciseSession>>> {
    Ok(me.state().store.list_exercise(me.patient, from, to).await?)
}

pub async fn correct(me: &Own<'_>, id: i64, input: &ExerciseInput) -> AppResult<Stored<ExerciseSession>> {
    let old = get(me, id).await?;
    let value = validate(me, input, Some(old.value.at().at))?;
    if !me.state().store.update_exercise(me.patient, id, &value).await? {
        return Err(AppError::NotFound);
    }
    Ok(Stored {
        id,
        patient_id: me.patient.id,
        value,
    })
}

pub async fn delete(me: &Own<'_>, id: i64) -> AppResult<()> {
    if me.state().store.delete_exercise(me.patient, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
