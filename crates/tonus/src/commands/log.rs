use anyhow::Result;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::input::{parse_date, parse_duration_seconds, parse_when};
use tonus_domain::{LocalInstant, Patient, ValidationError};

use super::report;
use crate::cli::{LogCommand, SpasmArgs};
use crate::context::Ctx;
use crate::output::{episode_line, EpisodeView};

pub async fn run(ctx: &Ctx, cmd: LogCommand) -> Result<()> {
    match cmd {
        LogCommand::Spasm(args) => spasm(ctx, args).await,
        LogCommand::None(args) => {
            let patient = ctx.patient().await?;
            let date = parse_date("date", &args.date, &patient.zone, ctx.now)?;
            super::checkin::confirm_day(ctx, &patient, date).await
        }
    }
}

/// Parses the time flag in the patient's zone (default: now).
pub fn when(ctx: &Ctx, patient: &Patient, at: Option<&str>, field: &str) -> Result<LocalInstant, ValidationError> {
    let at = match at {
        Some(text) => parse_when(field, text, &patient.zone, ctx.now)?,
        None => ctx.now,
    };
    LocalInstant::past(field, at, patient.zone.clone(), ctx.now)
}

pub fn draft_from(args: &SpasmArgs) -> Result<EpisodeDraft, ValidationError> {
    Ok(EpisodeDraft {
        kind: args.kind.clone().unwrap_or_default(),
        regions: args.region.clone(),
        pain: args.pain,
        duration_s: args
            .duration
            .as_deref()
            .map(|d| parse_duration_seconds("duration", d))
            .transpose()?,
        triggers: args.trigger.clone(),
        trigger_note: args.trigger_note.clone(),
        notes: args.note.clone(),
    })
}

async fn spasm(ctx: &Ctx, args: SpasmArgs) -> Result<()> {
    let patient = ctx.patient().await?;
    if args.kind.is_none() {
        return Err(ValidationError::new(
            "kind",
            "given (--kind twitch, jerk, clonus, flexor-spasm, extensor-spasm, cramp or sustained-stiffness)",
            "nothing",
        )
        .into());
    }
    let at = when(ctx, &patient, args.at.as_deref(), "at")?;
    let episode = draft_from(&args)?.validate(at, ctx.now)?;
    let id = ctx.store.insert_episode(&patient, &episode).await?;
    let stored = tonus_store::Stored {
        id,
        patient_id: patient.id,
        value: episode,
    };
    report(
        ctx,
        &format!("Logged {}", episode_line(id, &stored.value)),
        &EpisodeView::new(&stored),
    )
}
