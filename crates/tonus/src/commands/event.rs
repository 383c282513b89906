use anyhow::Result;
use tonus_domain::input::parse_date;
use tonus_domain::{ClinicalEvent, EventKind, MriRegion};

use super::report;
use crate::cli::{EventCommand, EventWhen};
use crate::context::Ctx;
use crate::output::event_line;

pub async fn run(ctx: &Ctx, cmd: EventCommand) -> Result<()> {
    let patient = ctx.patient().await?;
    let (kind, when, until): (EventKind, EventWhen, Option<String>) = match cmd {
        EventCommand::Mri {
            region,
            total,
            new,
            enhancing,
            when,
        } => (
            EventKind::mri(MriRegion::parse(&region)?, total, new, enhancing)?,
            when,
            None,
        ),
        EventCommand::Relapse { when, until } => (EventKind::Relapse, when, until),
        EventCommand::Infection { when, until } => (EventKind::Infection, when, until),
        EventCommand::Diagnosis { when } => (EventKind::Diagnosis, when, None),
        EventCommand::Other { name, when, until } => (EventKind::other(&name)?, when, until),
    };
    let on = parse_date("date", &when.date, &patient.zone, ctx.now)?;
    // An end date may lie in the future (a planned end), so only its format is checked here.
    let until = until
        .as_deref()
        .map(|u| parse_date("until", u, &patient.zone, ctx.now))
        .transpose()?;
    let event = ClinicalEvent::new(kind, on, until, when.summary.as_deref(), &patient.zone, ctx.now)?;
    let id = ctx.store.insert_event(&patient, &event).await?;
    report(
        ctx,
        &format!("Recorded {}", event_line(id, &event)),
        &tonus_store::Stored {
            id,
            patient_id: patient.id,
            value: event,
        },
    )
}
