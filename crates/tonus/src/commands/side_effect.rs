use anyhow::Result;
use tonus_domain::{Effect, Patient, Severity, SideEffect};

use super::exercise::required;
use super::report;
use crate::cli::SideEffectArgs;
use crate::context::{user_error, Ctx};
use crate::output::side_effect_line;

pub async fn run(ctx: &Ctx, a: SideEffectArgs) -> Result<()> {
    let patient = ctx.patient().await?;
    let at = super::log::when(ctx, &patient, a.at.as_deref(), "at")?;
    let effect = Effect::parse(&required(
        "effect",
        a.effect,
        "--effect drowsiness, weakness, dizziness, fatigue, nausea, dry-mouth, headache, confusion, other",
    )?)?;
    let severity = Severity::parse(&required(
        "severity",
        a.severity,
        "--severity mild, moderate or severe",
    )?)?;
    let value = SideEffect::new(
        at,
        effect,
        a.description.as_deref(),
        severity,
        a.treatment.as_deref(),
        a.note.as_deref(),
        ctx.now,
    )?;
    let id = ctx.store.insert_side_effect(&patient, &value).await?;
    // Read back so the treatment is named as stored, not as typed.
    let stored = ctx
        .store
        .get_side_effect(&patient, id)
        .await?
        .ok_or_else(|| user_error(format!("side effect #{id} vanished after saving")))?;
    report(ctx, &format!("Logged {}", side_effect_line(id, &stored.value)), &stored)
}

/// Changes only the fields given; `clear_treatment` forgets the suspected treatment.
pub async fn edit(ctx: &Ctx, patient: &Patient, id: i64, f: SideEffectArgs, clear_treatment: bool) -> Result<()> {
    let old = ctx
        .store
        .get_side_effect(patient, id)
        .await?
        .ok_or_else(|| user_error(format!("no side effect #{id}")))?;
    let o = &old.value;
    let at = match f.at.as_deref() {
        Some(t) => super::log::when(ctx, patient, Some(t), "at")?,
        None => o.at().clone(),
    };
    let effect = f
        .effect
        .as_deref()
        .map(Effect::parse)
        .transpose()?
        .unwrap_or(o.effect());
    let severity = f
        .severity
        .as_deref()
        .map(Severity::parse)
        .transpose()?
        .unwrap_or(o.severity());
    let treatment = if clear_treatment {
        None
    } else {
        f.treatment.as_deref().or(o.suspected_treatment())
    };
    let value = SideEffect::new(
        at,
        effect,
        f.description.as_deref().or(o.description()),
        severity,
        treatment,
        f.note.as_deref().or(o.note()),
        ctx.now,
    )?;
    ctx.store.update_side_effect(patient, id, &value).await?;
    let stored = ctx
        .store
        .get_side_effect(patient, id)
        .await?
        .ok_or_else(|| user_error(format!("no side effect #{id}")))?;
    report(
        ctx,
        &format!("Updated {}", side_effect_line(id, &stored.value)),
        &stored,
    )
}
