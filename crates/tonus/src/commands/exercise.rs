use anyhow::Result;
use tonus_domain::exercise::DEFAULT_GENTLE_LIMIT;
use tonus_domain::{ExerciseSession, ExerciseType, ValidationError};

use super::report;
use crate::cli::ExerciseArgs;
use crate::context::Ctx;
use crate::output::exercise_line;

/// A field the command needs, with an example of how to give it.
pub(super) fn required<T>(field: &str, v: Option<T>, example: &str) -> Result<T, ValidationError> {
    v.ok_or_else(|| ValidationError::new(field, format!("given ({example})"), "nothing"))
}

pub async fn run(ctx: &Ctx, a: ExerciseArgs) -> Result<()> {
    let patient = ctx.patient().await?;
    let at = super::log::when(ctx, &patient, a.at.as_deref(), "at")?;
    let kind = ExerciseType::parse(&required(
        "type",
        a.exercise_type,
        "--type yoga, pilates, water, stretching, walking, cycling, strength, other",
    )?)?;
    let minutes = required("minutes", a.minutes, "--minutes 30")?;
    let exertion = required("exertion", a.exertion, "--exertion 3, on 0–10")?;
    let session = ExerciseSession::new(at, kind, minutes, exertion, a.note.as_deref(), ctx.now)?;
    let id = ctx.store.insert_exercise(&patient, &session).await?;
    if session.beyond_gentle(DEFAULT_GENTLE_LIMIT) && !ctx.quiet {
        eprintln!(
            "Note: exertion {} is above the gentle range (up to {DEFAULT_GENTLE_LIMIT}); Tonus will show how next-day spasms relate to it.",
            session.exertion()
        );
    }
    report(
        ctx,
        &format!("Logged {}", exercise_line(id, &session)),
        &tonus_store::Stored {
            id,
            patient_id: patient.id,
            value: session,
        },
    )
}
