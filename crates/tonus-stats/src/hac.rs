//! Heteroskedasticity- and autocorrelation-consistent (HAC, Newey–West) covariance.
//!
//! Daily spasm counts are autocorrelated (a bad week is followed by a bad day), so model-based
//! standard errors are too small. We use the Bartlett-kernel sandwich
//! `H⁻¹ (Σ_{|t_i−t_j|≤L} w(|t_i−t_j|) s_i s_jᵀ) H⁻¹` with `w(d) = 1 − d/(L+1)`.
//!
//! The lag is measured in *days*, not rows: analysed days have holes (washouts, unconfirmed
//! days), and two observations either side of a washout are further apart than adjacent
//! rows. The triangle kernel is positive definite on the integers, so the meat stays positive
//! semi-definite on any subset of days. With consecutive days this is exactly statsmodels'
//! `cov_hac_simple`.

use crate::error::{Result, StatsError};
use crate::linalg::Matrix;
use serde::{Deserialize, Serialize};

/// The usual Newey–West (1994) plug-in rule `floor(4·(n/100)^(2/9))`, as in statsmodels.
pub fn newey_west_maxlags(n: usize) -> usize {
    (4.0 * (n as f64 / 100.0).powf(2.0 / 9.0)).floor() as usize
}

/// How to compute the HAC covariance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HacOptions {
    /// Highest lag (in days) given weight; `None` uses [`newey_west_maxlags`].
    pub maxlags: Option<usize>,
    /// Multiply by `n/(n−k)` (statsmodels' `use_correction=True`).
    pub small_sample: bool,
}

impl Default for HacOptions {
    fn default() -> Self {
        Self {
            maxlags: None,
            small_sample: true,
        }
    }
}

/// The Bartlett-weighted "meat" `Σ w s_i s_jᵀ` from per-observation scores (n × k).
/// `times` are strictly increasing day numbers; `None` means consecutive rows.
pub fn hac_meat(scores: &Matrix, times: Option<&[u32]>, maxlags: usize) -> Result<Matrix> {
    let n = scores.rows;
    let k = scores.cols;
    if let Some(t) = times {
        if t.len() != n {
            return Err(StatsError::InvalidData(format!(
                "HAC: {} day numbers for {n} observations",
                t.len()
            )));
        }
        if t.windows(2).any(|w| w[1] <= w[0]) {
            return Err(StatsError::InvalidData(
                "HAC: day numbers must be strictly increasing".into(),
            ));
        }
    }
    let day = |i: usize| -> u64 { times.map_or(i as u64, |t| u64::from(t[i])) };
    let mut meat = Matrix::zeros(k, k);
    let l1 = (maxlags + 1) as f64;
    for i in 0..n {
        let si = scores.row(i);
        for a in 0..k {
            for b in 0..k {
                meat.add(a, b, si[a] * si[b]);
            }
        }
        let ti = day(i);
        for j in (i + 1)..n {
            let d = day(j) - ti;
            if d > maxlags as u64 {
                break;
            }
            let w = 1.0 - d as f64 / l1;
            let sj = scores.row(j);
            for a in 0..k {
                for b in 0..k {
                    meat.add(a, b, w * (si[a] * sj[b] + sj[a] * si[b]));
                }
            }
        }
    }
    Ok(meat)
}

/// The sandwich `bread · meat · breadᵀ`, optionally scaled by `n/(n−k)`.
pub fn sandwich(bread: &Matrix, meat: &Matrix, n: usize, small_sample: bool) -> Result<Matrix> {
    let k = bread.rows;
    let mut bt = Matrix::zeros(k, k);
    for i in 0..k {
        for j in 0..k {
            bt.set(j, i, bread.get(i, j));
        }
    }
    let mut cov = bread.mul(meat).mul(&bt);
    if small_sample {
        if n <= k {
            return Err(StatsError::NotEnoughObservations {
                needed: k + 1,
                got: n,
                context: "HAC small-sample correction".into(),
            });
        }
        cov = cov.scaled(n as f64 / (n - k) as f64);
    }
    Ok(cov)
}

/// How many lags the HAC covariance uses when `HacOptions::maxlags` is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BandwidthRule {
    /// `floor(4·(n/100)^(2/9))` (Newey–West 1994; statsmodels' default).
    NeweyWest,
    /// Kernel bandwidth `M = ceil(1.3·√n)`, i.e. `M − 1` lags (Lazarus, Lewis, Stock and
    /// Watson 2018, "HAR inference: recommendations for practice"), meant to be used with
    /// fixed-b critical values.
    Llsw,
}

impl BandwidthRule {
    /// Lags for `n` observations.
    pub fn maxlags(self, n: usize) -> usize {
        match self {
            BandwidthRule::NeweyWest => newey_west_maxlags(n),
            BandwidthRule::Llsw => ((1.3 * (n as f64).sqrt()).ceil() as usize).saturating_sub(1),
        }
    }
}

/// Fixed-b inflation of a Bartlett-kernel HAC standard error: the ratio of the fixed-b 5 %
/// two-sided critical value to 1.96, from Kiefer and Vogelsang (2005)'s polynomial
/// `1.96 + 2.9694 b + 0.4160 b² − 0.5324 b³`, with `b = (maxlags + 1)/n`. It accounts for
/// the downward bias and the noise of the HAC estimate, which otherwise make intervals too
/// narrow in short autocorrelated series (see tests/calibration.rs).
pub fn fixed_b_factor(maxlags: usize, n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let b = ((maxlags + 1) as f64 / n as f64).min(1.0);
    1.0 + (2.9694 * b + 0.4160 * b * b - 0.5324 * b * b * b) / 1.96
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxlags_rule_matches_statsmodels() {
        assert_eq!(newey_west_maxlags(100), 4);
        assert_eq!(newey_west_maxlags(3650), 8);
        assert_eq!(newey_west_maxlags(50), 3);
    }

    #[test]
    fn zero_lags_is_white_meat() {
        let s = Matrix::from_row_major(3, 1, vec![1.0, 2.0, 3.0]).unwrap();
        let m = hac_meat(&s, None, 0).unwrap();
        assert_eq!(m.get(0, 0), 14.0);
    }

    #[test]
    fn gaps_reduce_weights() {
        let s = Matrix::from_row_major(2, 1, vec![1.0, 1.0]).unwrap();
        let adjacent = hac_meat(&s, Some(&[0, 1]), 1).unwrap().get(0, 0);
        let apart = hac_meat(&s, Some(&[0, 5]), 1).unwrap().get(0, 0);
        assert!((adjacent - 3.0).abs() < 1e-12);
        assert!((apart - 2.0).abs() < 1e-12);
        assert!(hac_meat(&s, Some(&[1, 1]), 1).is_err());
    }
}
