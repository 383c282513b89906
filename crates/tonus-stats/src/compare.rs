//! Observational comparison of two day ranges with the trial's models: the same estimates and
//! intervals, flagged as observational because the ranges were not randomised.

use std::ops::Range;

use crate::analysis::{build, mean, method_text, scale_of, AnalysisOptions, Context, Obs, OutcomeAnalysis};
use crate::days::{DayLookup, Gaps};
use crate::design::Outcome;
use crate::error::{Result, StatsError};
use crate::series::DayRecord;

/// Observational comparison of two day ranges (e.g. "the month before" vs "the month
/// since" a change), with the same model as a trial but flagged as observational.
pub fn compare_ranges(
    records: &[DayRecord],
    reference: Range<u32>,
    other: Range<u32>,
    outcome: Outcome,
    threshold: f64,
    options: &AnalysisOptions,
) -> Result<OutcomeAnalysis> {
    if reference.start < other.end && other.start < reference.end {
        return Err(StatsError::InvalidData(format!(
            "day ranges {}..{} and {}..{} overlap",
            reference.start, reference.end, other.start, other.end
        )));
    }
    if !(threshold > 0.0 && threshold < 1.0) {
        return Err(StatsError::InvalidData(format!(
            "threshold must be in (0, 1), got {threshold}"
        )));
    }
    let days = DayLookup::new(records, outcome);
    let mut obs = Vec::new();
    let mut gaps = Gaps::default();
    for (arm, r) in [&reference, &other].into_iter().enumerate() {
        for d in r.clone() {
            if let Some(value) = gaps.take(days.get(d)) {
                obs.push(Obs { day: d, arm, value });
            }
        }
    }
    obs.sort_by_key(|o| o.day);
    let names = vec![
        format!("days {}–{}", reference.start, reference.end.saturating_sub(1)),
        format!("days {}–{}", other.start, other.end.saturating_sub(1)),
    ];
    let baseline = mean(obs.iter().filter(|o| o.arm == 0).map(|o| o.value));
    let ctx = Context {
        outcome,
        arm_names: &names,
        threshold,
        baseline,
        periods: 2,
        // One range per arm: never enough for the probabilities to be put into words.
        periods_per_arm: vec![1, 1],
        observational: true,
        look: None,
    };
    let (af, arms, comparisons) = build(&obs, &ctx, options)?;
    Ok(OutcomeAnalysis {
        outcome,
        observational: true,
        model: af.fit.kind,
        method: format!("{} (observational: ranges not randomised)", method_text(&af, options)),
        maxlags: af.maxlags,
        df: af.df,
        alpha: af.fit.alpha(),
        days_used: obs.len(),
        days_missing: gaps.missing,
        days_without_episodes: gaps.without_episodes,
        days_to_come: gaps.to_come,
        days_washout: 0,
        days_excluded: 0,
        probability_rule: crate::verdict::PROBABILITY_RULE.to_string(),
        look: None,
        monitoring_rule: None,
        prior: crate::wording::prior_text(scale_of(outcome), options.level),
        baseline_mean: baseline,
        arms,
        periods: Vec::new(),
        comparisons,
        checks: Vec::new(),
    })
}
