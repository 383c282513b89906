use anyhow::Result;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::input::parse_duration_seconds;
use tonus_domain::{Episode, ExerciseSession, ExerciseType};

use super::report;
use crate::cli::EditCommand;
use crate::context::{user_error, Ctx};
use crate::output::{episode_line, exercise_line, EpisodeView};

fn draft_of(e: &Episode) -> EpisodeDraft {
    EpisodeDraft {
        kind: e.kind().code().to_string(),
        regions: e.regions().iter().map(|r| r.code().to_string()).collect(),
        pain: e.pain().map(|p| i64::from(p.value())),
        duration_s: e.duration_s().map(i64::from),
        triggers: e.triggers().iter().map(|t| t.code().to_string()).collect(),
        trigger_note: e.trigger_note().map(str::to_string),
        notes: e.notes().map(str::to_string),
    }
}

pub async fn run(ctx: &Ctx, cmd: EditCommand) -> Result<()> {
    let patient = ctx.patient().await?;
    match cmd {
        EditCommand::Episode {
            id,
            fields: f,
            clear_pain,
            clear_duration,
        } => {
            let old = ctx
                .store
                .get_episode(&patient, id)
                .await?
                .ok_or_else(|| user_error(format!("no episode #{id}")))?;
            let mut d = draft_of(&old.value);
            if let Some(k) = f.kind {
                d.kind = k;
            }
            if !f.region.is_empty() {
                d.regions = f.region;
            }
            if !f.trigger.is_empty() {
                d.triggers = f.trigger;
            }
            if f.pain.is_some() || clear_pain {
                d.pain = f.pain;
            }
            if f.duration.is_some() || clear_duration {
                d.duration_s = f
                    .duration
                    .as_deref()
                    .map(|s| parse_duration_seconds("duration", s))
                    .transpose()?;
            }
            if f.trigger_note.is_some() {
                d.trigger_note = f.trigger_note;
            }
            if f.note.is_some() {
                d.notes = f.note;
            }
            let at = match f.at.as_deref() {
                Some(t) => super::log::when(ctx, &patient, Some(t), "at")?,
                None => old.value.started_at().clone(),
            };
            // The original entry time is kept: back-filled stays back-filled.
            let new = d.validate(at, old.value.recorded_at())?;
            ctx.store.update_episode(&patient, id, &new).await?;
            let stored = tonus_store::Stored {
                id,
                patient_id: patient.id,
                value: new,
            };
            report(
                ctx,
                &format!("Updated {}", episode_line(id, &stored.value)),
                &EpisodeView::new(&stored),
            )
        }
        EditCommand::SideEffect {
            id,
            fields,
            clear_treatment,
        } => super::side_effect::edit(ctx, &patient, id, fields, clear_treatment).await,
        EditCommand::Exercise { id, fields: f } => {
            let old = ctx
                .store
                .get_exercise(&patient, id)
                .await?
                .ok_or_else(|| user_error(format!("no exercise session #{id}")))?;
            let o = &old.value;
            let at = match f.at.as_deref() {
                Some(t) => super::log::when(ctx, &patient, Some(t), "at")?,
                None => o.at().clone(),
            };
            let kind = f
                .exercise_type
                .as_deref()
                .map(ExerciseType::parse)
                .transpose()?
                .unwrap_or(o.exercise_type());
            let session = ExerciseSession::new(
                at,
                kind,
                f.minutes.unwrap_or(i64::from(o.minutes())),
                f.exertion.unwrap_or(i64::from(o.exertion())),
                f.note.as_deref().or(o.note()),
                ctx.now,
            )?;
            ctx.store.update_exercise(&patient, id, &session).await?;
            report(
                ctx,
                &format!("Updated {}", exercise_line(id, &session)),
                &tonus_store::Stored {
                    id,
                    patient_id: patient.id,
                    value: session,
                },
            )
        }
    }
}
