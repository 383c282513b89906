//! `tonus trial plan --dry-run` and the web planner's "check power first": the design checked
//! like a real plan, the diary read, the power simulated. Nothing is stored.

use jiff::civil::Date;
use jiff::{Span, Timestamp};
use serde::Serialize;
use tonus_domain::Patient;
use tonus_stats::design::TrialDesign;
use tonus_stats::planning::{estimate, plan_power, PlanningOptions, PowerPlan, MIN_CONFIRMED_DAYS, WINDOW_DAYS};
use tonus_stats::records::day_records;
use tonus_stats::series::DayRecord;
use tonus_stats::StatsError;
use tonus_store::Store;

use super::{design_for, PlanRequest, TrialError};

/// A dry run's inputs: the design and the diary days it is simulated from.
pub struct DryRunInput {
    pub design: TrialDesign,
    /// First and last day of the diary read (the [`WINDOW_DAYS`] before the start, up to today).
    pub from: Date,
    pub to: Date,
    pub records: Vec<DayRecord>,
}

/// What `tonus trial plan --dry-run` and the web planner's "check power first" show. Nothing
/// is stored.
#[derive(Debug, Serialize)]
pub struct DryRun {
    pub dry_run: bool,
    /// Always false: a dry run never creates a trial.
    pub stored: bool,
    pub design: TrialDesign,
    pub diary_from: Date,
    pub diary_to: Date,
    pub plan: Option<PowerPlan>,
    /// Why there are no figures (too little or no usable data), in plain words.
    pub not_enough_data: Option<String>,
    /// The result in words, one paragraph per entry.
    pub lines: Vec<String>,
}

/// Checks the request like [`super::plan`] (without the name, which a dry run does not need) and
/// reads the diary's [`WINDOW_DAYS`] before the start (up to today).
pub async fn dry_run_input(
    store: &Store,
    patient: &Patient,
    r: &PlanRequest<'_>,
    now: Timestamp,
) -> Result<DryRunInput, TrialError> {
    let (design, _) = design_for(store, patient, r).await?;
    let today = tonus_domain::time::today(&patient.zone, now);
    let to = r.start.yesterday()?.min(today);
    let from = to.checked_sub(Span::new().days(i64::from(WINDOW_DAYS) - 1))?;
    let episodes: Vec<_> = store
        .list_episodes(patient, Some(from), Some(to))
        .await?
        .into_iter()
        .map(|e| e.value)
        .collect();
    let checkins: Vec<_> = store
        .list_checkins(patient, Some(from), Some(to))
        .await?
        .into_iter()
        .map(|c| c.value)
        .collect();
    Ok(DryRunInput {
        records: day_records(from, to, &episodes, &checkins, &[]),
        design,
        from,
        to,
    })
}

impl DryRunInput {
    /// Simulates the design (CPU-bound: see BENCHMARKS.md for its time). `progress` is called
    /// with each block count about to be simulated.
    pub fn run(&self, options: &PlanningOptions, progress: &mut dyn FnMut(u32)) -> Result<DryRun, TrialError> {
        let outcome = self.design.primary_outcome;
        let (plan, not_enough_data) = match estimate(&self.records, outcome) {
            Ok(e) => (Some(plan_power(&self.design, &e, options, progress)?), None),
            Err(e @ (StatsError::NotEnoughObservations { .. } | StatsError::InvalidData(_))) => {
                (None, Some(e.to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        let lines = match (&plan, &not_enough_data) {
            (Some(p), _) => p.lines(),
            (None, why) => vec![
                format!(
                    "Power cannot be checked yet: your diary from {} to {} has too little usable data \
                     for {} ({}). Keep logging and confirming your days for at least \
                     {MIN_CONFIRMED_DAYS} days, then check again.",
                    self.from,
                    self.to,
                    outcome.label(),
                    why.as_deref().unwrap_or("-")
                ),
                "Nothing has been saved.".into(),
            ],
        };
        Ok(DryRun {
            dry_run: true,
            stored: false,
            design: self.design.clone(),
            diary_from: self.from,
            diary_to: self.to,
            plan,
            not_enough_data,
            lines,
        })
    }
}
