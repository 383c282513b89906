//! Pooling several patients' trials of the same comparison: a normal–normal random-effects
//! (hierarchical) model on the model scale (log rate ratio for counts, mean difference for
//! scores).
//!
//! Patient i's trial gives an estimate `y_i` with standard error `s_i`; the model is
//! `y_i ~ N(θ_i, s_i²)`, `θ_i ~ N(μ, τ²)`. Reported:
//! - τ² by REML (fixed-point iteration from the DerSimonian–Laird value); when REML does not
//!   converge, DerSimonian–Laird itself, and the result says which was used;
//! - μ with the Hartung–Knapp(–Sidik–Jonkman) interval (t with k − 1 df, variance scaled by
//!   the weighted residual spread, unmodified, as statsmodels `var_hksj_re`), because the
//!   plain normal interval is too narrow with few patients;
//! - τ with its Q-profile interval (Viechtbauer 2007);
//! - the Higgins–Thompson–Spiegelhalter prediction interval for a new patient's effect
//!   (t with k − 2 df, `√(τ² + SE(μ)²)` with the conventional SE). Known limitation, seen
//!   in our calibration: with 5–10 patients and a modest spread (τ = 0.2 on the log scale)
//!   it covers a new patient's effect only about 88–89 % of the time, because τ² is estimated
//!   from few patients (Partlett & Riley 2017); the reports say it may be too narrow;
//! - each patient's empirical-Bayes (shrunken) estimate with a normal interval whose variance
//!   includes the uncertainty of μ.
//!
//! With fewer than [`MIN_PATIENTS`] patients nothing is pooled: τ cannot be estimated with
//! any honesty from two patients and the prediction interval has no degrees of freedom, so
//! [`pool`] refuses rather than invent numbers. Checked against statsmodels and scipy in
//! tests/reference/test_pooled.py; calibrated by simulation in tests/pooled_calibration.rs.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal, StudentsT};

use crate::{Result, StatsError};

/// Fewest patients for a pooled estimate (the prediction interval needs k − 2 ≥ 1).
pub const MIN_PATIENTS: usize = 3;

const MAX_ITERATIONS: usize = 1000;
const TOLERANCE: f64 = 1e-12;

/// One patient's estimate on the model scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Study {
    pub estimate: f64,
    pub se: f64,
}

/// How τ² was estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TauMethod {
    /// Restricted maximum likelihood.
    Reml,
    /// DerSimonian–Laird (method of moments); the fallback when REML does not converge.
    DerSimonianLaird,
}

impl TauMethod {
    pub fn label(self) -> &'static str {
        match self {
            TauMethod::Reml => "REML",
            TauMethod::DerSimonianLaird => "DerSimonian–Laird",
        }
    }
}

/// An estimate with its interval (model scale).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub estimate: f64,
    pub se: f64,
    pub low: f64,
    pub high: f64,
}

/// The pooled result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pooled {
    pub k: usize,
    pub level: f64,
    pub tau_method: TauMethod,
    /// The average effect μ with its Hartung–Knapp interval (`se` is the HK standard error).
    pub mean: Interval,
    /// The conventional standard error of μ, `1/√Σw` (used by the prediction interval).
    pub mean_se_conventional: f64,
    pub tau2: f64,
    pub tau: f64,
    /// Q-profile interval for τ.
    pub tau_low: f64,
    pub tau_high: f64,
    /// Cochran's Q (fixed-effect weights) and I² (share of the spread beyond chance), 0–1.
    pub q: f64,
    pub i2: f64,
    /// Where a new patient's effect is expected to lie (`level`).
    pub prediction_low: f64,
    pub prediction_high: f64,
    /// Each patient's shrunken estimate, in input order.
    pub shrunken: Vec<Interval>,
}

fn check(studies: &[Study], level: f64) -> Result<()> {
    if studies.len() < MIN_PATIENTS {
        return Err(StatsError::NotEnoughObservations {
            needed: MIN_PATIENTS,
            got: studies.len(),
            context: "patients for a pooled estimate".into(),
        });
    }
    if !(level > 0.0 && level < 1.0) {
        return Err(StatsError::InvalidData(format!("level {level} is not between 0 and 1")));
    }
    for (i, s) in studies.iter().enumerate() {
        if !s.estimate.is_finite() || !s.se.is_finite() || s.se <= 0.0 {
            return Err(StatsError::InvalidData(format!(
                "patient {} has estimate {} with standard error {}: both must be finite, the error positive",
                i + 1,
                s.estimate,
                s.se
            )));
        }
    }
    Ok(())
}

/// Weighted mean and the sum of weights for a given τ².
fn weighted_mean(studies: &[Study], tau2: f64) -> (f64, f64) {
    let (mut sw, mut swy) = (0.0, 0.0);
    for s in studies {
        let w = 1.0 / (s.se * s.se + tau2);
        sw += w;
        swy += w * s.estimate;
    }
    (swy / sw, sw)
}

/// Generalised Q: Σ (y − μ(τ²))² / (s² + τ²); decreasing in τ².
fn q_gen(studies: &[Study], tau2: f64) -> f64 {
    let (mu, _) = weighted_mean(studies, tau2);
    studies
        .iter()
        .map(|s| (s.estimate - mu).powi(2) / (s.se * s.se + tau2))
        .sum()
}

/// DerSimonian–Laird τ² (truncated at 0).
pub fn tau2_dl(studies: &[Study]) -> f64 {
    let k = studies.len() as f64;
    let q = q_gen(studies, 0.0);
    let (sw, sw2) = studies.iter().fold((0.0, 0.0), |(a, b), s| {
        let w = 1.0 / (s.se * s.se);
        (a + w, b + w * w)
    });
    let c = sw - sw2 / sw;
    if c <= 0.0 {
        return 0.0;
    }
    ((q - (k - 1.0)) / c).max(0.0)
}

/// REML τ² by the fixed-point iteration τ² ← Σw²((y−μ)² − s²)/Σw² + 1/Σw (truncated at 0),
/// started from DerSimonian–Laird. `None` when it does not converge.
pub fn tau2_reml(studies: &[Study]) -> Option<f64> {
    let mut tau2 = tau2_dl(studies);
    for _ in 0..MAX_ITERATIONS {
        let (mu, sw) = weighted_mean(studies, tau2);
        let (mut num, mut sw2) = (0.0, 0.0);
        for s in studies {
            let v = s.se * s.se;
            let w = 1.0 / (v + tau2);
            num += w * w * ((s.estimate - mu).powi(2) - v);
            sw2 += w * w;
        }
        let next = (num / sw2 + 1.0 / sw).max(0.0);
        if !next.is_finite() {
            return None;
        }
        if (next - tau2).abs() <= TOLERANCE * (1.0 + tau2) {
            return Some(next);
        }
        tau2 = next;
    }
    None
}

/// The restricted log-likelihood of τ² (up to a constant), for checks.
pub fn reml_loglik(studies: &[Study], tau2: f64) -> f64 {
    let (mu, sw) = weighted_mean(studies, tau2);
    let mut ll = -0.5 * sw.ln();
    for s in studies {
        let v = s.se * s.se + tau2;
        ll -= 0.5 * (v.ln() + (s.estimate - mu).powi(2) / v);
    }
    ll
}

/// The τ² at which Q_gen equals `target` (0 when Q_gen(0) is already below it), by bisection.
fn q_profile_root(studies: &[Study], target: f64) -> f64 {
    if q_gen(studies, 0.0) <= target {
        return 0.0;
    }
    let scale = studies.iter().map(|s| s.se * s.se).fold(0.0, f64::max).max(1e-12);
    let mut high = scale;
    // Q_gen tends to 0 as τ² grows, so a bracket exists for any positive target.
    while q_gen(studies, high) > target && high < 1e12 * scale {
        high *= 2.0;
    }
    let mut low = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if q_gen(studies, mid) > target {
            low = mid;
        } else {
            high = mid;
        }
        if high - low <= 1e-14 * (1.0 + high) {
            break;
        }
    }
    0.5 * (low + high)
}

fn dist_err(what: &str, e: impl std::fmt::Display) -> StatsError {
    StatsError::InvalidData(format!("{what}: {e}"))
}

/// Pools the patients' estimates (see the module docs) with intervals at `level` (e.g. 0.95).
pub fn pool(studies: &[Study], level: f64) -> Result<Pooled> {
    check(studies, level)?;
    let (tau_method, tau2) = match tau2_reml(studies) {
        Some(t) => (TauMethod::Reml, t),
        None => (TauMethod::DerSimonianLaird, tau2_dl(studies)),
    };
    pool_with(studies, level, tau_method, tau2)
}

/// As [`pool`] with DerSimonian–Laird τ² (for the reference check against statsmodels).
pub fn pool_dl(studies: &[Study], level: f64) -> Result<Pooled> {
    check(studies, level)?;
    pool_with(studies, level, TauMethod::DerSimonianLaird, tau2_dl(studies))
}

fn pool_with(studies: &[Study], level: f64, tau_method: TauMethod, tau2: f64) -> Result<Pooled> {
    let k = studies.len();
    let kf = k as f64;
    let alpha = 1.0 - level;
    let (mu, sw) = weighted_mean(studies, tau2);
    let se_conv = (1.0 / sw).sqrt();
    let resid: f64 = studies
        .iter()
        .map(|s| (s.estimate - mu).powi(2) / (s.se * s.se + tau2))
        .sum();
    let se_hk = (resid / (kf - 1.0) / sw).sqrt();
    let t1 = StudentsT::new(0.0, 1.0, kf - 1.0).map_err(|e| dist_err("t distribution", e))?;
    let crit1 = t1.inverse_cdf(1.0 - alpha / 2.0);
    let t2 = StudentsT::new(0.0, 1.0, kf - 2.0).map_err(|e| dist_err("t distribution", e))?;
    let crit2 = t2.inverse_cdf(1.0 - alpha / 2.0);
    let pred_half = crit2 * (tau2 + se_conv * se_conv).sqrt();

    let chi = ChiSquared::new(kf - 1.0).map_err(|e| dist_err("chi-squared distribution", e))?;
    let tau2_low = q_profile_root(studies, chi.inverse_cdf(1.0 - alpha / 2.0));
    let tau2_high = q_profile_root(studies, chi.inverse_cdf(alpha / 2.0));

    let q = q_gen(studies, 0.0);
    let i2 = if q > 0.0 { ((q - (kf - 1.0)) / q).max(0.0) } else { 0.0 };

    let z = Normal::new(0.0, 1.0)
        .map_err(|e| dist_err("normal distribution", e))?
        .inverse_cdf(1.0 - alpha / 2.0);
    let shrunken = studies
        .iter()
        .map(|s| {
            let v = s.se * s.se;
            // b = weight of the patient's own estimate; (1 − b) pulls it towards μ.
            let b = tau2 / (tau2 + v);
            let est = mu + b * (s.estimate - mu);
            let var = b * v + (1.0 - b).powi(2) * se_conv * se_conv;
            let se = var.sqrt();
            Interval {
                estimate: est,
                se,
                low: est - z * se,
                high: est + z * se,
            }
        })
        .collect();

    Ok(Pooled {
        k,
        level,
        tau_method,
        mean: Interval {
            estimate: mu,
            se: se_hk,
            low: mu - crit1 * se_hk,
            high: mu + crit1 * se_hk,
        },
        mean_se_conventional: se_conv,
        tau2,
        tau: tau2.sqrt(),
        tau_low: tau2_low.sqrt(),
        tau_high: tau2_high.sqrt(),
        q,
        i2,
        prediction_low: mu - pred_half,
        prediction_high: mu + pred_half,
        shrunken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn studies(pairs: &[(f64, f64)]) -> Vec<Study> {
        pairs.iter().map(|&(estimate, se)| Study { estimate, se }).collect()
    }

    #[test]
    fn fewer_than_three_patients_are_not_pooled() {
        let two = studies(&[(-0.3, 0.2), (-0.1, 0.25)]);
        let err = pool(&two, 0.95).unwrap_err();
        assert!(
            matches!(err, StatsError::NotEnoughObservations { needed: 3, got: 2, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn bad_standard_errors_are_refused() {
        let s = studies(&[(-0.3, 0.2), (-0.1, 0.0), (0.1, 0.3)]);
        assert!(matches!(pool(&s, 0.95), Err(StatsError::InvalidData(_))));
        let s = studies(&[(-0.3, 0.2), (f64::NAN, 0.1), (0.1, 0.3)]);
        assert!(matches!(pool(&s, 0.95), Err(StatsError::InvalidData(_))));
    }

    #[test]
    fn reml_maximises_the_restricted_likelihood() {
        let s = studies(&[(-0.9, 0.2), (-0.1, 0.25), (0.3, 0.3), (-0.5, 0.15), (-1.2, 0.4)]);
        let t = tau2_reml(&s).unwrap();
        assert!(t > 0.0);
        let best = reml_loglik(&s, t);
        for d in [1e-3, 1e-2, 0.1] {
            assert!(reml_loglik(&s, t + d) < best);
            if t > d {
                assert!(reml_loglik(&s, t - d) < best);
            }
        }
    }

    #[test]
    fn identical_patients_give_no_spread_and_full_shrinkage() {
        let s = studies(&[(-0.4, 0.2), (-0.4, 0.3), (-0.4, 0.25), (-0.4, 0.2)]);
        let p = pool(&s, 0.95).unwrap();
        assert_eq!(p.tau2, 0.0);
        assert_eq!(p.tau_low, 0.0);
        assert!((p.mean.estimate + 0.4).abs() < 1e-12);
        for sh in &p.shrunken {
            assert!((sh.estimate - p.mean.estimate).abs() < 1e-12);
        }
    }

    #[test]
    fn shrunken_estimates_lie_between_own_and_mean() {
        let s = studies(&[
            (-1.0, 0.2),
            (0.2, 0.25),
            (-0.2, 0.5),
            (-0.6, 0.15),
            (0.4, 0.3),
            (-0.3, 0.2),
        ]);
        let p = pool(&s, 0.95).unwrap();
        assert!(p.tau > 0.0 && p.tau_low <= p.tau && p.tau <= p.tau_high);
        assert!(p.prediction_low < p.mean.low && p.prediction_high > p.mean.high);
        for (own, sh) in s.iter().zip(&p.shrunken) {
            let (lo, hi) = if own.estimate < p.mean.estimate {
                (own.estimate, p.mean.estimate)
            } else {
                (p.mean.estimate, own.estimate)
            };
            assert!(sh.estimate >= lo - 1e-12 && sh.estimate <= hi + 1e-12);
            // Borrowing strength never makes a patient's estimate less precise.
            assert!(sh.se < own.se);
        }
    }

    #[test]
    fn more_spread_means_larger_tau() {
        let narrow = studies(&[(-0.5, 0.1), (-0.4, 0.1), (-0.6, 0.1), (-0.3, 0.1)]);
        let wide = studies(&[(-1.5, 0.1), (0.4, 0.1), (-0.9, 0.1), (0.3, 0.1)]);
        let a = pool(&narrow, 0.95).unwrap();
        let b = pool(&wide, 0.95).unwrap();
        assert!(b.tau > a.tau + 0.3);
        assert!(b.i2 > 0.9);
    }
}
