//! One outcome of a randomised trial analysed on its calendar: the days after each washout,
//! minus the days the pre-specified rule leaves out (recorded relapses and infections,
//! [`crate::exclusion`]), compared between arms ([`crate::analysis`]) and checked for
//! carry-over and trend ([`crate::checks`]).

use crate::analysis::{
    build, mean, method_text, scale_of, AnalysisOptions, Context, Obs, OutcomeAnalysis, PeriodSummary,
};
use crate::checks;
use crate::days::{DayLookup, DayValue, Gaps};
use crate::design::{Calendar, DayRole, Outcome, TrialDesign};
use crate::error::Result;
use crate::exclusion::ExcludedSpan;
use crate::monitoring::{self, Look};
use crate::series::DayRecord;
use crate::verdict::PROBABILITY_RULE;
use crate::wording::prior_text;

/// Analyses one outcome of a trial. `records` are numbered like the calendar (day 0 = first
/// run-in day) and end on the last day that has happened: later days are "to come", days
/// absent before it count as missing.
pub fn analyse_trial(
    design: &TrialDesign,
    records: &[DayRecord],
    outcome: Outcome,
    options: &AnalysisOptions,
) -> Result<OutcomeAnalysis> {
    analyse_trial_excluding(design, records, outcome, options, &[])
}

/// As [`analyse_trial`], leaving out the days inside `excluded` (recorded relapses and
/// infections, in calendar day numbers) from the run-in and the comparison.
pub fn analyse_trial_excluding(
    design: &TrialDesign,
    records: &[DayRecord],
    outcome: Outcome,
    options: &AnalysisOptions,
    excluded: &[ExcludedSpan],
) -> Result<OutcomeAnalysis> {
    let calendar: Calendar = design.calendar()?;
    let days = DayLookup::new(records, outcome).excluding(excluded);
    let look = Look::at(&calendar, records.iter().map(|r| r.day).max());
    let value = |d: u32| match days.get(d) {
        DayValue::Value(v) => Some(v),
        _ => None,
    };
    let mut obs = Vec::new();
    let mut gaps = Gaps::default();
    let mut days_washout = 0;
    let mut periods = Vec::new();
    for p in &calendar.periods {
        days_washout += p.washout.clone().filter(|d| days.has_happened(*d)).count();
        let mut g = Gaps::default();
        let vals: Vec<(u32, f64)> = p
            .analysed
            .clone()
            .filter_map(|d| g.take(days.get(d)).map(|v| (d, v)))
            .collect();
        gaps.add(g);
        periods.push(PeriodSummary {
            index: p.index,
            block: p.block,
            arm: design.arms[p.arm].clone(),
            days_analysed: vals.len(),
            days_missing: g.missing,
            days_without_episodes: g.without_episodes,
            days_to_come: g.to_come,
            days_excluded: g.excluded,
            mean: mean(vals.iter().map(|v| v.1)),
        });
        obs.extend(vals.into_iter().map(|(day, value)| Obs { day, arm: p.arm, value }));
    }
    debug_assert!(obs
        .iter()
        .all(|o| matches!(calendar.role(o.day), Some(DayRole::Analysed { .. }))));
    let baseline_mean = mean(calendar.baseline.clone().filter_map(value));
    let analysed_periods = periods.iter().filter(|p| p.days_analysed > 0).count() as u32;
    let periods_per_arm = (0..design.arms.len())
        .map(|a| {
            calendar
                .periods
                .iter()
                .zip(&periods)
                .filter(|(c, s)| c.arm == a && s.days_analysed > 0)
                .count() as u32
        })
        .collect();
    let ctx = Context {
        outcome,
        arm_names: &design.arms,
        threshold: design.success_threshold,
        baseline: baseline_mean,
        periods: analysed_periods,
        periods_per_arm,
        observational: false,
        look: Some(look),
    };
    let (af, arms, comparisons) = build(&obs, &ctx, options)?;
    let reference_mean = arms.first().map_or(f64::NAN, |a| a.mean);
    let checks = if options.robustness_checks {
        checks::run(&obs, &calendar, &ctx, &comparisons, reference_mean, options)
    } else {
        Vec::new()
    };
    Ok(OutcomeAnalysis {
        outcome,
        observational: false,
        model: af.fit.kind,
        method: method_text(&af, options),
        maxlags: af.maxlags,
        df: af.df,
        alpha: af.fit.alpha(),
        days_used: obs.len(),
        days_missing: gaps.missing,
        days_without_episodes: gaps.without_episodes,
        days_to_come: gaps.to_come,
        days_washout,
        days_excluded: gaps.excluded,
        probability_rule: PROBABILITY_RULE.to_string(),
        look: Some(look),
        monitoring_rule: (!look.is_final()).then(|| monitoring::rule_text(options.level)),
        prior: prior_text(scale_of(outcome), options.level),
        baseline_mean,
        arms,
        periods,
        comparisons,
        checks,
    })
}

/// Analyses every outcome of a trial; outcomes without enough data give their error.
pub fn analyse_trial_outcomes(
    design: &TrialDesign,
    records: &[DayRecord],
    options: &AnalysisOptions,
) -> Vec<(Outcome, Result<OutcomeAnalysis>)> {
    analyse_trial_outcomes_excluding(design, records, options, &[])
}

/// As [`analyse_trial_outcomes`], leaving out the days inside `excluded`.
pub fn analyse_trial_outcomes_excluding(
    design: &TrialDesign,
    records: &[DayRecord],
    options: &AnalysisOptions,
    excluded: &[ExcludedSpan],
) -> Vec<(Outcome, Result<OutcomeAnalysis>)> {
    Outcome::ALL
        .iter()
        .map(|o| (*o, analyse_trial_excluding(design, records, *o, options, excluded)))
        .collect()
}
