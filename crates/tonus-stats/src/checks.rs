//! Checks reported with every trial outcome, in the words of the verdicts (a difference,
//! none as large as the threshold, or the data cannot tell):
//!
//! - **Carry-over**: the arm difference in the first analysed days of each period (right
//!   after the washout) against the later days. If the previous period's treatment still
//!   acts after the washout, or a treatment needs longer than the washout to start, the
//!   first days show a smaller difference than the rest. Fitted as one model with an
//!   "early day" column and its interaction with each arm; the interaction is the check.
//! - **Trend**: a straight-line change over the trial (the same arm, first to last analysed
//!   day), e.g. a slow recovery, the season or another treatment changing. The randomised
//!   order within blocks protects the comparison from a steady change, but the patient
//!   should know; the comparison allowing for the trend is given alongside.
//!
//! Both use the trial's own fit ([`crate::analysis::fit_matrix`]: NB2/OLS, HAC, fixed-b,
//! t), so they keep its calibration; tests/robustness_calibration.rs measures how often
//! they flag a difference when there is none and when there is one.

use serde::{Deserialize, Serialize};

use crate::analysis::{fit_matrix, AnalysisOptions, Comparison, Context, EffectScale, Obs, RefDist};
use crate::design::Calendar;
use crate::error::{Result, StatsError};
use crate::linalg::Matrix;
use crate::model::arm_design_matrix;

/// Which check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    CarryOver,
    Trend,
}

/// What the check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// The interval excludes no difference.
    Differs,
    /// The interval lies inside the threshold band: nothing as large as the threshold.
    WithinThreshold,
    /// The interval is too wide to tell, or there are not enough data for the check.
    CannotTell,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustnessCheck {
    pub kind: CheckKind,
    /// Carry-over: the compared arm; trend: `None` (one trend for all arms).
    pub arm: Option<String>,
    pub scale: EffectScale,
    /// Carry-over: effect in the first days ÷ (scores: −) effect in the later days; trend:
    /// the change from the first to the last analysed day (ratio or points). `None` when
    /// the data could not give one.
    pub estimate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub finding: Finding,
    /// Carry-over: how many first analysed days of each period count as "first days".
    pub first_days: Option<u32>,
    pub text: String,
}

impl RobustnessCheck {
    /// A short label for tables ("carry-over", "trend").
    pub fn label(&self) -> &'static str {
        match self.kind {
            CheckKind::CarryOver => "carry-over",
            CheckKind::Trend => "trend",
        }
    }
}

/// The pre-specified number of "first days": a third of a period's analysed days, 1 to 3.
pub fn first_days(period_analysed_days: u32) -> u32 {
    (period_analysed_days / 3).clamp(1, 3)
}

/// An estimate with its interval, on the model scale (log or points).
struct Est {
    value: f64,
    low: f64,
    high: f64,
}

fn estimate(fit: &crate::analysis::ArmsFit, column: usize, level: f64) -> Result<Est> {
    let value = fit.fit.params[column];
    let se = fit.cov_diag.get(column).copied().unwrap_or(f64::NAN).sqrt();
    if !(value.is_finite() && se.is_finite()) {
        return Err(StatsError::InvalidData("the check's estimate is not finite".into()));
    }
    let crit = RefDist::new(fit.df)?.quantile(0.5 + level / 2.0);
    Ok(Est {
        value,
        low: value - crit * se,
        high: value + crit * se,
    })
}

/// The threshold band on the model scale: (fall margin, rise margin) as the verdicts use.
fn band(scale: EffectScale, threshold: f64, reference_mean: f64) -> (f64, f64) {
    match scale {
        EffectScale::RateRatio => (-(1.0 - threshold).ln(), (1.0 + threshold).ln()),
        EffectScale::MeanDifference => {
            let m = (threshold * reference_mean.abs()).max(1e-9);
            (m, m)
        }
    }
}

fn finding(e: &Est, (fall, rise): (f64, f64)) -> Finding {
    if e.low > 0.0 || e.high < 0.0 {
        Finding::Differs
    } else if e.low > -fall && e.high < rise {
        Finding::WithinThreshold
    } else {
        Finding::CannotTell
    }
}

fn on_scale(scale: EffectScale, v: f64) -> f64 {
    match scale {
        EffectScale::RateRatio => v.exp(),
        EffectScale::MeanDifference => v,
    }
}

fn number(scale: EffectScale, v: f64) -> String {
    match scale {
        EffectScale::RateRatio => format!("{v:.2}"),
        EffectScale::MeanDifference => format!("{v:+.2}"),
    }
}

/// Runs both checks; a check that cannot be computed says so instead of failing the
/// analysis.
pub(crate) fn run(
    obs: &[Obs],
    calendar: &Calendar,
    ctx: &Context<'_>,
    comparisons: &[Comparison],
    reference_mean: f64,
    options: &AnalysisOptions,
) -> Vec<RobustnessCheck> {
    let scale = crate::analysis::scale_of(ctx.outcome);
    let band = band(scale, ctx.threshold, reference_mean);
    // With one period of an arm, its early days, its trend and the arm itself cannot be
    // told apart (a wild estimate with a falsely narrow interval): the checks wait, like
    // the probability rule, for two analysed periods of every arm.
    if ctx.periods_per_arm.iter().any(|p| *p < 2) {
        let wait = "these data cannot tell yet: the check needs two analysed periods of every arm.";
        let first = calendar.periods.first().map(|p| first_days(p.analysed.len() as u32));
        let mut out: Vec<RobustnessCheck> = (1..ctx.arm_names.len())
            .map(|a| {
                let text = format!(
                    "Carry-over check ({} vs {}): {wait}",
                    ctx.arm_names[a], ctx.arm_names[0]
                );
                not_enough(CheckKind::CarryOver, Some(ctx.arm_names[a].clone()), scale, first, text)
            })
            .collect();
        out.push(not_enough(
            CheckKind::Trend,
            None,
            scale,
            None,
            format!("Trend check: {wait}"),
        ));
        return out;
    }
    let mut out = carry_over(obs, calendar, ctx, scale, band, options);
    out.push(trend(obs, ctx, comparisons, scale, band, options));
    out
}

fn not_enough(
    kind: CheckKind,
    arm: Option<String>,
    scale: EffectScale,
    first: Option<u32>,
    text: String,
) -> RobustnessCheck {
    RobustnessCheck {
        kind,
        arm,
        scale,
        estimate: None,
        low: None,
        high: None,
        finding: Finding::CannotTell,
        first_days: first,
        text,
    }
}

fn carry_over(
    obs: &[Obs],
    calendar: &Calendar,
    ctx: &Context<'_>,
    scale: EffectScale,
    band: (f64, f64),
    options: &AnalysisOptions,
) -> Vec<RobustnessCheck> {
    let n_arms = ctx.arm_names.len();
    let analysed_len = calendar.periods.first().map_or(0, |p| p.analysed.len() as u32);
    let k = first_days(analysed_len);
    let is_early = |day: u32| {
        calendar
            .periods
            .iter()
            .find(|p| p.analysed.contains(&day))
            .is_some_and(|p| day < p.analysed.start + k)
    };
    let early: Vec<bool> = obs.iter().map(|o| is_early(o.day)).collect();
    let fitted = (analysed_len >= 2)
        .then(|| carry_over_fit(obs, &early, n_arms, ctx.outcome.is_count(), options))
        .transpose();
    let title = |arm: &str| {
        format!(
            "Carry-over check ({arm} vs {}, the first {k} analysed day{} of each period against the later days):",
            ctx.arm_names[0],
            if k == 1 { "" } else { "s" }
        )
    };
    (1..n_arms)
        .map(|a| {
            let arm = ctx.arm_names[a].clone();
            let fit = match &fitted {
                Ok(Some(f)) => f,
                Ok(None) => {
                    let text = format!("{} periods are too short for this check.", title(&arm));
                    return not_enough(CheckKind::CarryOver, Some(arm), scale, Some(k), text);
                }
                Err(_) => {
                    let text = format!(
                        "{} not enough data yet (each arm needs first and later days with values).",
                        title(&arm)
                    );
                    return not_enough(CheckKind::CarryOver, Some(arm), scale, Some(k), text);
                }
            };
            let (late, inter) = match (
                estimate(fit, a, options.level),
                estimate(fit, n_arms + a, options.level),
            ) {
                (Ok(l), Ok(i)) => (l, i),
                _ => {
                    let text = format!("{} the data could not give an estimate.", title(&arm));
                    return not_enough(CheckKind::CarryOver, Some(arm), scale, Some(k), text);
                }
            };
            let f = finding(&inter, band);
            let what = match scale {
                EffectScale::RateRatio => "rate ratio",
                EffectScale::MeanDifference => "mean difference",
            };
            let combine = match scale {
                EffectScale::RateRatio => "their ratio",
                EffectScale::MeanDifference => "the first days minus the later days",
            };
            let mut text = format!(
                "{} the {what} was {} in the first days and {} later; {combine} {} ({:.0} % interval {} to {}).",
                title(&arm),
                number(scale, on_scale(scale, late.value + inter.value)),
                number(scale, on_scale(scale, late.value)),
                number(scale, on_scale(scale, inter.value)),
                options.level * 100.0,
                number(scale, on_scale(scale, inter.low)),
                number(scale, on_scale(scale, inter.high)),
            );
            text.push_str(match f {
                Finding::Differs => {
                    " The first days differ from the later ones: the previous period's treatment may still act \
                     after the washout (carry-over), or this treatment may need longer than the washout to act. \
                     The main result uses all analysed days, so it may understate the difference; a longer washout \
                     would separate the periods better."
                }
                Finding::WithinThreshold => {
                    " The first days do not differ from the later ones by as much as the threshold: no sign of \
                     carry-over beyond the washout."
                }
                Finding::CannotTell => {
                    " These data cannot tell whether the first days differ from the later ones: the interval is \
                     too wide."
                }
            });
            RobustnessCheck {
                kind: CheckKind::CarryOver,
                arm: Some(arm),
                scale,
                estimate: Some(on_scale(scale, inter.value)),
                low: Some(on_scale(scale, inter.low)),
                high: Some(on_scale(scale, inter.high)),
                finding: f,
                first_days: Some(k),
                text,
            }
        })
        .collect()
}

/// Columns: intercept, arm indicators, "early day", early × arm indicators.
fn carry_over_fit(
    obs: &[Obs],
    early: &[bool],
    n_arms: usize,
    count: bool,
    options: &AnalysisOptions,
) -> Result<crate::analysis::ArmsFit> {
    let n = obs.len();
    let cols = 2 * n_arms;
    let mut x = Matrix::zeros(n, cols);
    for (i, o) in obs.iter().enumerate() {
        x.set(i, 0, 1.0);
        if o.arm > 0 {
            x.set(i, o.arm, 1.0);
        }
        if early[i] {
            x.set(i, n_arms, 1.0);
            if o.arm > 0 {
                x.set(i, n_arms + o.arm, 1.0);
            }
        }
    }
    // Every column needs days, and for counts some episodes, or the fit has no answer.
    for c in 0..cols {
        let rows: Vec<usize> = (0..n).filter(|i| x.get(*i, c) != 0.0).collect();
        if rows.len() < 2 || (count && rows.iter().all(|i| obs[*i].value == 0.0)) {
            return Err(StatsError::NotEnoughObservations {
                needed: 2,
                got: rows.len(),
                context: "first and later days of every arm for the carry-over check".into(),
            });
        }
    }
    let y: Vec<f64> = obs.iter().map(|o| o.value).collect();
    let times: Vec<u32> = obs.iter().map(|o| o.day).collect();
    fit_matrix(&y, &x, &times, count, options)
}

fn trend(
    obs: &[Obs],
    ctx: &Context<'_>,
    comparisons: &[Comparison],
    scale: EffectScale,
    band: (f64, f64),
    options: &AnalysisOptions,
) -> RobustnessCheck {
    let n_arms = ctx.arm_names.len();
    let title =
        "Trend check (a steady change over the trial, on the same arm, from the first to the last analysed day):";
    let y: Vec<f64> = obs.iter().map(|o| o.value).collect();
    let times: Vec<u32> = obs.iter().map(|o| o.day).collect();
    let arms: Vec<usize> = obs.iter().map(|o| o.arm).collect();
    let fitted = arm_design_matrix(&arms, n_arms, Some(&times), true)
        .and_then(|x| fit_matrix(&y, &x, &times, ctx.outcome.is_count(), options));
    let est = fitted
        .as_ref()
        .ok()
        .and_then(|f| estimate(f, n_arms, options.level).ok());
    let (Ok(fit), Some(t)) = (&fitted, est) else {
        return not_enough(
            CheckKind::Trend,
            None,
            scale,
            None,
            format!("{title} not enough data yet."),
        );
    };
    let f = finding(&t, band);
    let change = match scale {
        EffectScale::RateRatio => "the rate changed by a factor of",
        EffectScale::MeanDifference => "the score changed by",
    };
    let mut text = format!(
        "{title} {change} {} ({:.0} % interval {} to {}).",
        number(scale, on_scale(scale, t.value)),
        options.level * 100.0,
        number(scale, on_scale(scale, t.low)),
        number(scale, on_scale(scale, t.high)),
    );
    text.push_str(match f {
        Finding::Differs => {
            " Something besides the trial's treatments changed over these weeks (the condition itself, the \
             season, another treatment). The randomised order within blocks protects the comparison from a \
             steady change; allowing for the trend:"
        }
        Finding::WithinThreshold => " No steady change over the trial as large as the threshold.",
        Finding::CannotTell => " These data cannot tell whether there was a steady change over the trial.",
    });
    if f == Finding::Differs {
        for (a, c) in comparisons.iter().enumerate().map(|(i, c)| (i + 1, c)) {
            if let Ok(e) = estimate(fit, a, options.level) {
                text.push_str(&format!(
                    " {} vs {} {} ({} to {}), against {} without it;",
                    c.arm,
                    c.reference,
                    number(scale, on_scale(scale, e.value)),
                    number(scale, on_scale(scale, e.low)),
                    number(scale, on_scale(scale, e.high)),
                    number(scale, c.estimate),
                ));
            }
        }
        if text.ends_with(';') {
            text.pop();
            text.push('.');
        }
    }
    RobustnessCheck {
        kind: CheckKind::Trend,
        arm: None,
        scale,
        estimate: Some(on_scale(scale, t.value)),
        low: Some(on_scale(scale, t.low)),
        high: Some(on_scale(scale, t.high)),
        finding: f,
        first_days: None,
        text,
    }
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
