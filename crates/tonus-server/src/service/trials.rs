//! Personal trials: plan one (the same rules as `tonus trial plan`), read its calendar and its
//! analysis. The analysis is `tonus_report::trials`, shared with the CLI and the report.

use jiff::Timestamp;
use tokio::sync::Semaphore;
use tonus_domain::time::today;
use tonus_domain::ValidationError;
use tonus_report::harms::TrialHarms;
use tonus_report::trials::{compute, dry_run_input, summary_lines, PlanRequest, TrialError};
use tonus_stats::planning::PlanningOptions;
use tonus_stats::StatsError;
use tonus_store::StoredTrial;

use super::Own;
use crate::error::{AppError, AppResult};

/// The patient's trials.
pub async fn list(me: &Own<'_>) -> AppResult<Vec<StoredTrial>> {
    Ok(me.state().store.list_trials(me.patient).await?)
}

/// Plans a trial: randomised order, fixed in advance.
/// A start more than a year ahead is refused: almost surely a typo (2062 for 2026), and a
/// trial planned that far out would sit unnoticed in the calendar.
pub async fn plan(me: &Own<'_>, request: &PlanRequest<'_>) -> Result<StoredTrial, TrialError> {
    check_start(me, request)?;
    let (trial, _) = tonus_report::trials::plan(&me.state().store, me.patient, request).await?;
    Ok(trial)
}

/// At most one power check at a time on the whole server: each takes about a second of a
/// core (BENCHMARKS.md), and repeated presses (or a script) must not take the machine.
static DRY_RUNS: Semaphore = Semaphore::const_new(1);

/// "Check power first": simulates the design from the patient's recent diary and returns the
/// result in words. Stores nothing.
pub async fn dry_run(me: &Own<'_>, request: &PlanRequest<'_>) -> Result<Vec<String>, TrialError> {
    check_start(me, request)?;
    let input = dry_run_input(&me.state().store, me.patient, request, Timestamp::now()).await?;
    let stopped = |e: String| TrialError::Stats(StatsError::InvalidData(format!("power check stopped: {e}")));
    let _permit = DRY_RUNS.acquire().await.map_err(|e| stopped(e.to_string()))?;
    // CPU-bound: keep it off the request workers.
    let result = tokio::task::spawn_blocking(move || input.run(&PlanningOptions::default(), &mut |_| {}))
        .await
        .map_err(|e| stopped(e.to_string()))??;
    Ok(result.lines)
}

fn check_start(me: &Own<'_>, request: &PlanRequest<'_>) -> Result<(), TrialError> {
    let today = today(&me.patient.zone, Timestamp::now());
    let latest = today.checked_add(jiff::Span::new().years(1))?;
    if request.start > latest {
        return Err(ValidationError::new(
            "start",
            format!("a start within a year (by {latest})"),
            request.start.to_string(),
        )
        .into());
    }
    Ok(())
}

/// One of the patient's trials (404 if it is not theirs).
pub async fn get(me: &Own<'_>, id: i64) -> AppResult<StoredTrial> {
    me.state()
        .store
        .find_trial(me.patient, &id.to_string())
        .await?
        .filter(|t| t.id == id)
        .ok_or(AppError::NotFound)
}

/// Deletes a trial that has not started yet (a started one is part of the record).
pub async fn delete(me: &Own<'_>, id: i64) -> AppResult<()> {
    let trial = get(me, id).await?;
    if trial.start_date <= today(&me.patient.zone, Timestamp::now()) {
        return Err(AppError::Invalid(ValidationError::new(
            "trial",
            "a trial that has not started yet",
            format!("started on {}", trial.start_date),
        )));
    }
    if !me.state().store.delete_trial(me.patient, id).await? {
        return Err(AppError::NotFound);
    }
    me.audit("trial.delete", &trial.name).await
}

/// The analysis so far, as sentences (the CLI report's summary), adherence per period and
/// per treatment of its arm, and the side effects per period and arm.
pub async fn summary(me: &Own<'_>, trial: &StoredTrial) -> Result<(Vec<String>, Vec<String>, TrialHarms), TrialError> {
    let (report, _) = compute(&me.state().store, me.patient, trial, Timestamp::now(), false).await?;
    let adherence = report.adherence.iter().map(|a| a.text()).collect();
    Ok((summary_lines(&report), adherence, report.harms))
}
