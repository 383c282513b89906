//! Analyses of n-of-1 trials and of observational day ranges.
//!
//! Counts: NB2 regression (intercept, one indicator per non-reference arm, optional trend)
//! with HAC standard errors over the analysed days, falling back to quasi-Poisson when the
//! data show no overdispersion. Scores: OLS (mean difference) with HAC standard errors.
//! Only confirmed days outside washouts are used.
//!
//! Small-sample corrections (chosen by the calibration in tests/calibration.rs, where the
//! plain Newey–West recipe covered only ~91–92 % with autocorrelated counts):
//! a bandwidth of ⌈1.3·√n⌉ (Lazarus, Lewis, Stock and Watson 2018), the n/(n−k) factor,
//! Kiefer–Vogelsang fixed-b widening of the standard error, and Student t quantiles with
//! the residual degrees of freedom.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::bayes::{self, ArmCounts, GammaPoissonComparison};
use crate::checks::RobustnessCheck;
use crate::design::Outcome;
use crate::error::{Result, StatsError};
use crate::hac::HacOptions;
pub use crate::hac::{fixed_b_factor, BandwidthRule};
use crate::model::{arm_design_matrix, fit_negative_binomial, fit_ols, fit_quasi_poisson, Fit, ModelKind};
use crate::monitoring::{self, InterimCheck, Look};
use crate::posterior::{self, Likelihood, PosteriorSummary};
use crate::verdict::{probabilities_shown, EffectInterval, Verdict, VerdictWords};
pub(crate) use crate::wording::method_text;
use crate::wording::{band_text, effect_text, prior_sd, probability_text, small_change_text};

pub use crate::compare::compare_ranges;
pub use crate::trial_analysis::{
    analyse_trial, analyse_trial_excluding, analyse_trial_outcomes, analyse_trial_outcomes_excluding,
};

/// Analysis settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalysisOptions {
    /// `maxlags: None` uses `bandwidth`.
    pub hac: HacOptions,
    pub bandwidth: BandwidthRule,
    /// Inflate HAC standard errors by [`fixed_b_factor`].
    pub fixed_b: bool,
    /// Add a linear time trend (drift over the trial) to the model.
    pub time_trend: bool,
    /// Count model: `NegativeBinomial` (default, falls back to quasi-Poisson) or
    /// `QuasiPoisson`.
    pub count_model: ModelKind,
    /// Student t (residual df) rather than normal quantiles.
    pub use_t: bool,
    /// Interval level (0.95).
    pub level: f64,
    /// Trials: also run the carry-over and trend checks ([`crate::checks`]); the power
    /// simulation turns them off (it reads only the comparison, and they cost two more fits).
    pub robustness_checks: bool,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        Self {
            hac: HacOptions::default(),
            bandwidth: BandwidthRule::Llsw,
            fixed_b: true,
            time_trend: false,
            count_model: ModelKind::NegativeBinomial,
            use_t: true,
            level: 0.95,
            robustness_checks: true,
        }
    }
}

/// The scale a comparison is reported on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectScale {
    /// Arm rate ÷ reference rate (counts).
    RateRatio,
    /// Arm mean − reference mean (scores).
    MeanDifference,
}

/// One arm compared with the reference arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub arm: String,
    pub reference: String,
    pub scale: EffectScale,
    /// Rate ratio or mean difference: the robust fit's estimate (checked against
    /// statsmodels in tests/reference).
    pub estimate: f64,
    /// Its confidence interval (frequentist); the verdict and the words use `posterior`.
    pub ci_low: f64,
    pub ci_high: f64,
    /// Standard error on the model scale (log rate ratio, or points).
    pub se: f64,
    pub p_value: f64,
    /// The posterior under the weakly informative prior, on the reported scale: median,
    /// interval, and the probabilities of a meaningful fall, any fall, a meaningful rise.
    pub posterior: PosteriorSummary,
    /// Whether `text` puts the probabilities into words (see [`crate::verdict::PROBABILITY_RULE`]).
    pub probabilities_shown: bool,
    /// Counts only: the tempered gamma–Poisson second opinion (see [`crate::bayes`]).
    pub gamma_poisson: Option<GammaPoissonComparison>,
    /// Scores only: share of the arm's analysed days at least `threshold` below the
    /// baseline (run-in) mean (the 30 % responder rule).
    pub responder_share: Option<f64>,
    /// At an interim look: the stricter interval the monitoring rule asked for and whether
    /// it settled the question (see [`crate::monitoring`]); `None` at the final look.
    pub interim: Option<InterimCheck>,
    /// Decided by the monitoring rule at an interim look, by the 95 % interval at the end.
    pub verdict: Verdict,
    pub text: String,
}

/// Mean of an arm over analysed days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmSummary {
    pub name: String,
    pub days: usize,
    pub mean: f64,
}

/// One period's data (CENT: results per period).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodSummary {
    pub index: u32,
    pub block: u32,
    pub arm: String,
    pub days_analysed: usize,
    /// Non-washout days that have happened without a usable value (unconfirmed, or not
    /// answered).
    pub days_missing: usize,
    /// Episode pain only: confirmed days without episodes, so without a pain to rate
    /// (known, not missing).
    pub days_without_episodes: usize,
    /// Non-washout days that have not happened yet (an interim look).
    pub days_to_come: usize,
    /// Non-washout days inside a recorded relapse or infection, left out by the
    /// pre-specified rule ([`crate::exclusion`]).
    #[serde(default)]
    pub days_excluded: usize,
    pub mean: Option<f64>,
}

/// The analysis of one outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeAnalysis {
    pub outcome: Outcome,
    /// True for comparisons of arbitrary day ranges (not randomised): association only.
    pub observational: bool,
    pub model: ModelKind,
    /// Method in words, for the report.
    pub method: String,
    pub maxlags: usize,
    pub df: Option<f64>,
    /// NB2 dispersion (Var = μ + αμ²) when the NB model was used.
    pub alpha: Option<f64>,
    pub days_used: usize,
    /// Days that have happened without a usable value (see [`PeriodSummary`]).
    pub days_missing: usize,
    /// Episode pain only: confirmed days without episodes.
    pub days_without_episodes: usize,
    /// Days of the comparison that have not happened yet.
    pub days_to_come: usize,
    /// Washout days that have happened.
    pub days_washout: usize,
    /// Trials only: non-washout days left out by the pre-specified rule for recorded
    /// relapses and infections ([`crate::exclusion`]).
    #[serde(default)]
    pub days_excluded: usize,
    /// The probability rule ([`crate::verdict::PROBABILITY_RULE`]), for the report.
    pub probability_rule: String,
    /// Trials only: where this look falls (interim or final).
    pub look: Option<Look>,
    /// At an interim look: the monitoring rule in words ([`monitoring::rule_text`]).
    pub monitoring_rule: Option<String>,
    /// The prior, stated for the report.
    pub prior: String,
    pub baseline_mean: Option<f64>,
    pub arms: Vec<ArmSummary>,
    pub periods: Vec<PeriodSummary>,
    pub comparisons: Vec<Comparison>,
    /// Trials only: the carry-over and trend checks ([`crate::checks`]).
    #[serde(default)]
    pub checks: Vec<RobustnessCheck>,
}

/// One usable observation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Obs {
    pub(crate) day: u32,
    pub(crate) arm: usize,
    pub(crate) value: f64,
}

pub(crate) struct ArmsFit {
    pub(crate) fit: Fit,
    pub(crate) cov_diag: Vec<f64>,
    pub(crate) df: Option<f64>,
    pub(crate) maxlags: usize,
}

fn fit_arms(obs: &[Obs], arm_names: &[String], outcome: Outcome, options: &AnalysisOptions) -> Result<ArmsFit> {
    let n_arms = arm_names.len();
    // Messages name the arm as the patient planned it, never by its position.
    for (arm, name) in arm_names.iter().enumerate() {
        if !obs.iter().any(|o| o.arm == arm) {
            return Err(StatsError::NotEnoughObservations {
                needed: 1,
                got: 0,
                context: format!("arm \"{name}\" has no analysed days with a value yet"),
            });
        }
    }
    if outcome.is_count() {
        for (arm, name) in arm_names.iter().enumerate() {
            if obs.iter().filter(|o| o.arm == arm).all(|o| o.value == 0.0) {
                // The rate ratio would be 0 or infinite, with no finite interval: say so
                // rather than report a number.
                return Err(StatsError::InvalidData(format!(
                    "no episodes were logged on the analysed days of arm \"{name}\": \
                     a rate ratio cannot be estimated"
                )));
            }
        }
    }
    let y: Vec<f64> = obs.iter().map(|o| o.value).collect();
    let times: Vec<u32> = obs.iter().map(|o| o.day).collect();
    let arms: Vec<usize> = obs.iter().map(|o| o.arm).collect();
    let x = arm_design_matrix(&arms, n_arms, Some(&times), options.time_trend)?;
    fit_matrix(&y, &x, &times, outcome.is_count(), options)
}

/// Fits `y` on the columns of `x` (`times`: the observations' day numbers) as the trial
/// analysis does: NB2 falling back to quasi-Poisson for counts, OLS for scores, HAC with the
/// chosen bandwidth, fixed-b widening and t degrees of freedom. The robustness checks
/// ([`crate::checks`]) use it with their extra columns, so they share the calibrated method.
pub(crate) fn fit_matrix(
    y: &[f64],
    x: &crate::linalg::Matrix,
    times: &[u32],
    count: bool,
    options: &AnalysisOptions,
) -> Result<ArmsFit> {
    let fit = if count {
        match options.count_model {
            ModelKind::QuasiPoisson | ModelKind::Ols => fit_quasi_poisson(y, x)?,
            // Without overdispersion the NB likelihood has its maximum at α = 0; the Poisson
            // mean model with a robust covariance is then the right fit.
            ModelKind::NegativeBinomial => fit_negative_binomial(y, x).or_else(|_| fit_quasi_poisson(y, x))?,
        }
    } else {
        fit_ols(y, x)?
    };
    let maxlags = options
        .hac
        .maxlags
        .unwrap_or_else(|| options.bandwidth.maxlags(fit.nobs));
    let hac = HacOptions {
        maxlags: Some(maxlags),
        ..options.hac
    };
    let cov = fit.cov_hac(&hac, Some(times))?;
    let df = options.use_t.then(|| fit.df_resid() as f64).filter(|d| *d >= 1.0);
    let inflation = if options.fixed_b {
        fixed_b_factor(maxlags, fit.nobs)
    } else {
        1.0
    };
    Ok(ArmsFit {
        cov_diag: cov.diagonal().iter().map(|v| v * inflation * inflation).collect(),
        fit,
        df,
        maxlags,
    })
}

/// CDF and quantile of the reference distribution (t with df, or standard normal).
pub(crate) struct RefDist {
    t: Option<StudentsT>,
    z: Normal,
}

impl RefDist {
    pub(crate) fn new(df: Option<f64>) -> Result<Self> {
        let t = match df {
            Some(d) => Some(
                StudentsT::new(0.0, 1.0, d)
                    .map_err(|e| StatsError::InvalidData(format!("t distribution with df {d}: {e}")))?,
            ),
            None => None,
        };
        let z = Normal::new(0.0, 1.0).map_err(|e| StatsError::InvalidData(format!("normal distribution: {e}")))?;
        Ok(Self { t, z })
    }
    /// Upper tail, computed directly so small p-values keep their precision.
    pub(crate) fn sf(&self, x: f64) -> f64 {
        self.t.as_ref().map_or_else(|| self.z.sf(x), |t| t.sf(x))
    }
    pub(crate) fn quantile(&self, p: f64) -> f64 {
        self.t
            .as_ref()
            .map_or_else(|| self.z.inverse_cdf(p), |t| t.inverse_cdf(p))
    }
}

/// Critical value for `options.level` and the two-sided p-value of `stat`, under Student t
/// with `df` (when `options.use_t` and df ≥ 1) or the standard normal.
pub fn critical_and_p(df: f64, options: &AnalysisOptions, stat: f64) -> Result<(f64, f64)> {
    let dist = RefDist::new(options.use_t.then_some(df).filter(|d| *d >= 1.0))?;
    Ok((dist.quantile(0.5 + options.level / 2.0), 2.0 * dist.sf(stat.abs())))
}

pub(crate) fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

pub(crate) struct Context<'a> {
    pub(crate) outcome: Outcome,
    pub(crate) arm_names: &'a [String],
    pub(crate) threshold: f64,
    pub(crate) baseline: Option<f64>,
    pub(crate) periods: u32,
    /// Analysed periods of each arm (the probability rule needs two per compared arm).
    pub(crate) periods_per_arm: Vec<u32>,
    pub(crate) observational: bool,
    /// Trials only: the look (an interim one is judged by [`crate::monitoring`]).
    pub(crate) look: Option<Look>,
}

pub(crate) fn build(
    obs: &[Obs],
    ctx: &Context<'_>,
    options: &AnalysisOptions,
) -> Result<(ArmsFit, Vec<ArmSummary>, Vec<Comparison>)> {
    if !(options.level > 0.0 && options.level < 1.0) {
        return Err(StatsError::InvalidData(format!(
            "interval level must be in (0, 1), got {}",
            options.level
        )));
    }
    let n_arms = ctx.arm_names.len();
    let af = fit_arms(obs, ctx.arm_names, ctx.outcome, options)?;
    let dist = RefDist::new(af.df)?;
    let crit = dist.quantile(0.5 + options.level / 2.0);
    let arms: Vec<ArmSummary> = ctx
        .arm_names
        .iter()
        .enumerate()
        .map(|(a, name)| {
            let vals: Vec<f64> = obs.iter().filter(|o| o.arm == a).map(|o| o.value).collect();
            ArmSummary {
                name: name.clone(),
                days: vals.len(),
                mean: mean(vals.iter().copied()).unwrap_or(f64::NAN),
            }
        })
        .collect();
    let scale = scale_of(ctx.outcome);
    // The band of changes too small to matter: for rates a fall to 1 − t and a rise to
    // 1 + t, as the report words them; for scores t × the reference mean either way (a tiny
    // floor keeps it positive).
    let (fall_margin, rise_margin) = match scale {
        EffectScale::RateRatio => (-(1.0 - ctx.threshold).ln(), (1.0 + ctx.threshold).ln()),
        EffectScale::MeanDifference => {
            let m = (ctx.threshold * arms[0].mean.abs()).max(1e-9);
            (m, m)
        }
    };
    let mut comparisons = Vec::new();
    for a in 1..n_arms {
        let est = af.fit.params[a];
        let se = af.cov_diag[a].sqrt();
        if !(se.is_finite() && est.is_finite()) {
            return Err(StatsError::InvalidData(format!(
                "non-finite estimate for arm \"{}\"",
                ctx.arm_names[a]
            )));
        }
        let likelihood = Likelihood {
            estimate: est,
            se,
            df: af.df,
        };
        let post = posterior::summarise(likelihood, prior_sd(scale), options.level, fall_margin, rise_margin)?;
        let iv = EffectInterval {
            estimate: post.median,
            se,
            low: post.low,
            high: post.high,
            critical: crit,
            fall_margin,
            rise_margin,
        };
        let periods_of = |arm: usize| ctx.periods_per_arm.get(arm).copied().unwrap_or(0);
        let fewest = periods_of(0).min(periods_of(a));
        // Scores at an interim look: the rule's interval reads the estimate with a t of
        // (analysed periods − arms) degrees of freedom, not the residual df of the days. With
        // few periods the information about the arm difference comes from those periods, and
        // the day-level robust standard error of a rating with AR(1) noise is too small there
        // (a false "better" in 6.3 % of no-effect trials over all looks with the residual df;
        // tests/interim_monitoring.rs). Counts keep the residual df: they meet the 5 % with it.
        let monitored = match (scale, ctx.look) {
            (EffectScale::MeanDifference, Some(look)) if !look.is_final() => Likelihood {
                df: likelihood
                    .df
                    .map(|d| d.min(f64::from(ctx.periods.saturating_sub(n_arms as u32).max(1)))),
                ..likelihood
            },
            _ => likelihood,
        };
        let (verdict, decided_on, interim) = monitoring::judge(
            ctx.look,
            iv,
            monitored,
            prior_sd(scale),
            options.level,
            (ctx.periods, n_arms as u32),
            fewest,
        )?;
        let interim = interim.map(|c| c.on_scale(scale));
        let (lo, hi) = (est - crit * se, est + crit * se);
        let (e, l, h, post) = match scale {
            EffectScale::RateRatio => (est.exp(), lo.exp(), hi.exp(), post.exp()),
            EffectScale::MeanDifference => (est, lo, hi, post),
        };
        let responder_share = match (scale, ctx.baseline) {
            (EffectScale::MeanDifference, Some(b)) => {
                let cut = (1.0 - ctx.threshold) * b;
                let vals: Vec<f64> = obs.iter().filter(|o| o.arm == a).map(|o| o.value).collect();
                mean(vals.iter().map(|v| if *v <= cut { 1.0 } else { 0.0 }))
            }
            _ => None,
        };
        let gamma_poisson = match scale {
            EffectScale::RateRatio => {
                let counts = |arm: usize| ArmCounts {
                    episodes: obs.iter().filter(|o| o.arm == arm).map(|o| o.value).sum(),
                    days: obs.iter().filter(|o| o.arm == arm).count() as f64,
                };
                Some(bayes::compare(counts(0), counts(a), se * se, ctx.threshold)?)
            }
            EffectScale::MeanDifference => None,
        };
        let words = VerdictWords {
            arm: &ctx.arm_names[a],
            reference: &ctx.arm_names[0],
            outcome: ctx.outcome.label(),
            effect_text: &effect_text(scale, post.median, post.low, post.high, options.level),
            band_text: &band_text(scale, ctx.threshold, fall_margin, &ctx.arm_names[0]),
        };
        let mut text = monitoring::comparison_text(verdict, interim.as_ref(), scale, &words, options.level);
        if let Some(small) = small_change_text(verdict, &decided_on, words.band_text) {
            text.push_str(&small);
        }
        let shown = probabilities_shown(verdict, fewest);
        if shown {
            text.push_str(&probability_text(&post, ctx.threshold));
        }
        if ctx.observational {
            text.push_str(
                " These days were not randomised: other things that changed between them may explain the difference.",
            );
        }
        comparisons.push(Comparison {
            arm: ctx.arm_names[a].clone(),
            reference: ctx.arm_names[0].clone(),
            scale,
            estimate: e,
            ci_low: l,
            ci_high: h,
            se,
            p_value: 2.0 * dist.sf((est / se).abs()),
            posterior: post,
            probabilities_shown: shown,
            gamma_poisson,
            responder_share,
            interim,
            verdict,
            text,
        });
    }
    Ok((af, arms, comparisons))
}

/// The scale an outcome is reported on.
pub(crate) fn scale_of(outcome: Outcome) -> EffectScale {
    if outcome.is_count() {
        EffectScale::RateRatio
    } else {
        EffectScale::MeanDifference
    }
}

#[cfg(test)]
#[path = "analysis_tests.rs"]
mod tests;
