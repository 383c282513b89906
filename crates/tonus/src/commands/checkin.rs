use anyhow::Result;
use jiff::civil::Date;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::input::parse_date;
use tonus_domain::{CheckIn, Patient};

use super::report;
use crate::cli::CheckinArgs;
use crate::context::Ctx;
use crate::output::checkin_line;
use crate::prompt;

/// The draft that an existing check-in for the day would give, so a new check-in only
/// changes what it answers.
async fn existing(ctx: &Ctx, patient: &Patient, date: Date) -> Result<Option<CheckIn>> {
    Ok(ctx
        .store
        .list_checkins(patient, Some(date), Some(date))
        .await?
        .into_iter()
        .next()
        .map(|s| s.value))
}

pub async fn run(ctx: &Ctx, a: CheckinArgs) -> Result<()> {
    let patient = ctx.patient().await?;
    let date = parse_date("date", &a.date, &patient.zone, ctx.now)?;
    let mut draft = existing(ctx, &patient, date)
        .await?
        .as_ref()
        .map(CheckInDraft::from)
        .unwrap_or_default();
    let no_answers = a.spasticity.is_none()
        && a.pain.is_none()
        && a.psfs_frequency.is_none()
        && a.psfs_severity.is_none()
        && a.night_wakings.is_none();
    if no_answers && prompt::interactive() {
        ask_all(&mut draft, date)?;
    } else {
        draft.spasticity_nrs = a.spasticity.or(draft.spasticity_nrs);
        draft.pain_nrs = a.pain.or(draft.pain_nrs);
        if a.psfs_frequency.is_some() {
            draft.psfs_frequency = a.psfs_frequency;
            // A new frequency of 0 makes an older severity meaningless.
            if a.psfs_frequency == Some(0) {
                draft.psfs_severity = None;
            }
        }
        draft.psfs_severity = a.psfs_severity.or(draft.psfs_severity);
        draft.night_wakings = a.night_wakings.or(draft.night_wakings);
        draft.log_complete = !a.log_incomplete;
    }
    if a.note.is_some() {
        draft.note = a.note;
    }
    let checkin = draft.validate(date, &patient.zone, ctx.now)?;
    let id = ctx.store.upsert_checkin(&patient, &checkin).await?;
    report(
        ctx,
        &format!("Checked in {}", checkin_line(id, &checkin)),
        &tonus_store::Stored {
            id,
            patient_id: patient.id,
            value: checkin,
        },
    )
}

fn ask_all(draft: &mut CheckInDraft, date: Date) -> Result<()> {
    eprintln!("Check-in for {date} (press Enter to skip a question).");
    draft.spasticity_nrs = prompt::ask_int("Average spasticity over the last 24 hours, 0 none – 10 worst", 0, 10)?;
    draft.pain_nrs = prompt::ask_int("Average pain over the last 24 hours, 0 none – 10 worst", 0, 10)?;
    eprintln!("Spasm frequency (PSFS): 0 none, 1 only when stimulated, 2 less than once an hour,");
    eprintln!("                        3 more than once an hour, 4 more than ten times an hour");
    draft.psfs_frequency = prompt::ask_int("Spasm frequency", 0, 4)?;
    draft.psfs_severity = match draft.psfs_frequency {
        Some(f) if f > 0 => prompt::ask_int("Spasm severity: 1 mild, 2 moderate, 3 severe", 1, 3)?,
        _ => None,
    };
    draft.night_wakings = prompt::ask_int("Times spasms woke you last night", 0, 50)?;
    draft.log_complete = prompt::confirm("Is today's episode log complete (every spasm logged)?", true)?;
    Ok(())
}

/// `tonus log none`: marks the day's log complete, keeping any answers already given.
pub async fn confirm_day(ctx: &Ctx, patient: &Patient, date: Date) -> Result<()> {
    let mut draft = existing(ctx, patient, date)
        .await?
        .as_ref()
        .map(CheckInDraft::from)
        .unwrap_or_default();
    draft.log_complete = true;
    let checkin = draft.validate(date, &patient.zone, ctx.now)?;
    let id = ctx.store.upsert_checkin(patient, &checkin).await?;
    let logged = ctx.store.episode_days(patient, date, date).await?.len();
    report(
        ctx,
        &format!("Confirmed {date}: its log is complete with {logged} episode(s)."),
        &tonus_store::Stored {
            id,
            patient_id: patient.id,
            value: checkin,
        },
    )
}
