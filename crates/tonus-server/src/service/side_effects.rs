//! Recording side effects, correcting and deleting them: the same rules as the command line
//! (the domain checks the values, the store checks that a suspected treatment is the
//! patient's own).

use jiff::civil::Date;
use jiff::Timestamp;
use tonus_domain::{Effect, Severity, SideEffect, ValidationError};
use tonus_store::Stored;

use super::Own;
use crate::error::{AppError, AppResult};

/// A side effect as typed. Codes are parsed here so every front end gets the same errors.
#[derive(Debug, Default, Clone)]
pub struct SideEffectInput {
    pub effect: String,
    pub description: Option<String>,
    pub severity: String,
    pub suspected_treatment: Option<String>,
    pub note: Option<String>,
    /// RFC 3339 or local time in the patient's zone; empty or absent: now for a new entry,
    /// the stored time for a correction.
    pub at: Option<String>,
}

fn required<'a>(field: &str, value: &'a str, what: &str) -> Result<&'a str, ValidationError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ValidationError::new(field, format!("chosen: {what}"), "nothing"));
    }
    Ok(v)
}

fn validate(me: &Own<'_>, input: &SideEffectInput, stored_at: Option<Timestamp>) -> AppResult<SideEffect> {
    let now = Timestamp::now();
    let effect = Effect::parse(required("effect", &input.effect, "what was felt")?)?;
    let severity = Severity::parse(required("severity", &input.severity, "mild, moderate or severe")?)?;
    let at = super::typed_instant(me, "at", input.at.as_deref(), stored_at)?;
    Ok(SideEffect::new(
        at,
        effect,
        input.description.as_deref(),
        severity,
        input.suspected_treatment.as_deref(),
        input.note.as_deref(),
        now,
    )?)
}

/// Records a new side effect; the answer names the treatment as stored.
/// A side effect checked and ready to store (for a keyed write).
pub fn prepare(me: &Own<'_>, input: &SideEffectInput) -> AppResult<SideEffect> {
    validate(me, input, None)
}

pub async fn record(me: &Own<'_>, input: &SideEffectInput) -> AppResult<Stored<SideEffect>> {
    let value = validate(me, input, None)?;
    let id = me.state().store.insert_side_effect(me.patient, &value).await?;
    get(me, id).await
}

/// One of the patient's side effects (404 if it is not theirs).
pub async fn get(me: &Own<'_>, id: i64) -> AppResult<Stored<SideEffect>> {
    me.state()
        .store
        .get_side_effect(me.patient, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The patient's side effects whose local day lies in the range, oldest first.
pub async fn list(me: &Own<'_>, from: Option<Date>, to: Option<Date>) -> AppResult<Vec<Stored<SideEffect>>> {
    Ok(me.state().store.list_side_effects(me.patient, from, to).await?)
}

/// Replaces a side effect with a correction.
pub async fn correct(me: &Own<'_>, id: i64, input: &SideEffectInput) -> AppResult<Stored<SideEffect>> {
    let old = get(me, id).await?;
    let value = validate(me, input, Some(old.value.at().at))?;
    if !me.state().store.update_side_effect(me.patient, id, &value).await? {
        return Err(AppError::NotFound);
    }
    get(me, id).await
}

/// Deletes one of the patient's side effects (404 if it is not theirs).
pub async fn delete(me: &Own<'_>, id: i64) -> AppResult<()> {
    if me.state().store.delete_side_effect(me.patient, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Names of the patient's treatments, for the "suspected treatment" choice.
pub async fn treatment_names(me: &Own<'_>) -> AppResult<Vec<String>> {
    Ok(me
        .state()
        .store
        .list_treatments(me.patient)
        .await?
        .into_iter()
        .map(|t| t.value.name().to_string())
        .collect())
}
