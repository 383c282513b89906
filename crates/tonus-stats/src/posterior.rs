//! The posterior of a comparison's effect under a weakly informative prior.
//!
//! The effect θ is the log rate ratio (counts) or the mean difference in points (scores);
//! negative is better. The likelihood is the robust one the intervals already use: the
//! estimate θ̂ with its HAC standard error (fixed-b widened), read as a Student t with the
//! residual degrees of freedom (a normal without them). Using the sandwich variance in the
//! likelihood keeps the posterior honest when the model is misspecified (overdispersed,
//! autocorrelated counts), where the model's own likelihood would be overconfident
//! (Müller 2013, "Risk of Bayesian inference in misspecified models, and the sandwich
//! covariance matrix", Econometrica 81). The prior is normal, centred on no difference:
//! - counts: SD 1.17 on the log rate ratio, i.e. 95 % of its weight on rate ratios between
//!   0.1 and 10 (no spasm treatment plausibly changes a rate more than tenfold);
//! - scores: SD 5 points, i.e. 95 % on differences within about ±10 points, the whole
//!   width of a 0–10 scale.
//!
//! A normal prior with a t likelihood has no closed form, so the posterior is integrated
//! numerically (composite Simpson on a grid dense where either factor has its mass); the
//! result is checked against scipy's adaptive quadrature in tests/reference.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StatsError};

/// Prior SD on the log rate ratio: ln(10)/1.96, so 95 % of the weight is on 0.1–10.
pub const PRIOR_SD_LOG_RATE_RATIO: f64 = 1.174_789_5;
/// Prior SD on a mean difference in points (scores on 0–10 scales, night wakings).
pub const PRIOR_SD_POINTS: f64 = 5.0;

/// What the data say about θ: estimate, robust standard error, and the t degrees of
/// freedom (`None`: normal).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Likelihood {
    pub estimate: f64,
    pub se: f64,
    pub df: Option<f64>,
}

/// The posterior of θ on a grid: nodes, and the normalised CDF at each node.
#[derive(Debug, Clone)]
pub struct Posterior {
    lik: Likelihood,
    prior_sd: f64,
    /// Log of the unnormalised density's maximum over the grid (keeps exp() in range).
    log_peak: f64,
    /// Normalising constant of `exp(log_density − log_peak)`.
    mass: f64,
    nodes: Vec<f64>,
    cdf: Vec<f64>,
}

/// Intervals per grid: enough that Simpson's rule is within ~1e-8 for these smooth
/// densities (the reference check asks for 1e-6).
const GRID_INTERVALS: usize = 1200;
/// Half-widths of the grids, in standard errors of the likelihood and SDs of the prior;
/// beyond them the density is below e⁻⁷⁰ of its peak (t tails are bounded by the prior).
const LIK_HALF_WIDTH: f64 = 60.0;
const PRIOR_HALF_WIDTH: f64 = 12.0;

impl Posterior {
    /// Integrates prior × likelihood. Errors on a non-finite estimate, a non-positive
    /// standard error or prior SD, or df below 1.
    pub fn new(lik: Likelihood, prior_sd: f64) -> Result<Self> {
        let ok_df = lik.df.is_none_or(|d| d >= 1.0 && d.is_finite());
        if !(lik.estimate.is_finite() && lik.se.is_finite() && lik.se > 0.0 && prior_sd > 0.0 && ok_df) {
            return Err(StatsError::InvalidData(format!(
                "posterior needs a finite estimate, se > 0, prior SD > 0 and df ≥ 1; got {lik:?}, prior SD {prior_sd}"
            )));
        }
        let (l0, l1) = (
            lik.estimate - LIK_HALF_WIDTH * lik.se,
            lik.estimate + LIK_HALF_WIDTH * lik.se,
        );
        let (p0, p1) = (-PRIOR_HALF_WIDTH * prior_sd, PRIOR_HALF_WIDTH * prior_sd);
        let (lo, hi) = (l0.min(p0), l1.max(p1));
        // Three uniform grids merged: the hull (so no gap between the two regions), the
        // prior's bulk and the likelihood's bulk, whichever is narrower gets its own detail.
        let mut nodes = Vec::with_capacity(3 * GRID_INTERVALS + 3);
        for (a, b) in [(lo, hi), (p0, p1), (l0, l1)] {
            let h = (b - a) / GRID_INTERVALS as f64;
            nodes.extend((0..=GRID_INTERVALS).map(|i| a + h * i as f64));
        }
        nodes.sort_by(f64::total_cmp);
        nodes.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * (1.0 + b.abs()));
        let mut post = Self {
            lik,
            prior_sd,
            log_peak: 0.0,
            mass: 1.0,
            nodes,
            cdf: Vec::new(),
        };
        post.log_peak = post
            .nodes
            .iter()
            .map(|x| post.log_density(*x))
            .fold(f64::NEG_INFINITY, f64::max);
        let mut cum = Vec::with_capacity(post.nodes.len());
        let mut total = 0.0;
        cum.push(0.0);
        for w in post.nodes.windows(2) {
            total += post.simpson(w[0], w[1]);
            cum.push(total);
        }
        if !(total.is_finite() && total > 0.0) {
            return Err(StatsError::InvalidData(format!(
                "posterior did not integrate (mass {total}) for {lik:?}"
            )));
        }
        post.mass = total;
        post.cdf = cum.into_iter().map(|c| c / total).collect();
        Ok(post)
    }

    /// Log of prior × likelihood, without constants.
    fn log_density(&self, x: f64) -> f64 {
        let z = (self.lik.estimate - x) / self.lik.se;
        let log_lik = match self.lik.df {
            Some(nu) => -0.5 * (nu + 1.0) * (z * z / nu).ln_1p(),
            None => -0.5 * z * z,
        };
        let p = x / self.prior_sd;
        log_lik - 0.5 * p * p
    }

    /// Density scaled by the peak (not yet divided by the mass).
    fn scaled(&self, x: f64) -> f64 {
        (self.log_density(x) - self.log_peak).exp()
    }

    fn simpson(&self, a: f64, b: f64) -> f64 {
        (b - a) / 6.0 * (self.scaled(a) + 4.0 * self.scaled(0.5 * (a + b)) + self.scaled(b))
    }

    /// Normalised posterior density at `x`.
    pub fn density(&self, x: f64) -> f64 {
        self.scaled(x) / self.mass
    }

    /// P(θ ≤ x).
    pub fn cdf(&self, x: f64) -> f64 {
        let n = self.nodes.len();
        if x <= self.nodes[0] {
            return 0.0;
        }
        if x >= self.nodes[n - 1] {
            return 1.0;
        }
        // The last node ≤ x, then Simpson over the remainder of its interval.
        let i = self.nodes.partition_point(|v| *v <= x) - 1;
        (self.cdf[i] + self.simpson(self.nodes[i], x) / self.mass).clamp(0.0, 1.0)
    }

    /// The p-quantile, by bisection inside the grid interval that holds it.
    pub fn quantile(&self, p: f64) -> f64 {
        let p = p.clamp(0.0, 1.0);
        let i = self.cdf.partition_point(|c| *c < p).clamp(1, self.nodes.len() - 1);
        let (mut a, mut b) = (self.nodes[i - 1], self.nodes[i]);
        for _ in 0..60 {
            let m = 0.5 * (a + b);
            if self.cdf(m) < p {
                a = m;
            } else {
                b = m;
            }
        }
        0.5 * (a + b)
    }

    /// Posterior mean, for checks against closed forms.
    pub fn mean(&self) -> f64 {
        let mut s = 0.0;
        for w in self.nodes.windows(2) {
            let (a, b) = (w[0], w[1]);
            let m = 0.5 * (a + b);
            s += (b - a) / 6.0 * (a * self.scaled(a) + 4.0 * m * self.scaled(m) + b * self.scaled(b));
        }
        s / self.mass
    }
}

/// The posterior summary reported with a comparison. Intervals and the median are on the
/// reported scale (rate ratio, or points); probabilities are of the stated events.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PosteriorSummary {
    /// Prior: normal on the model scale (log rate ratio or points), centred on 0, this SD.
    pub prior_sd: f64,
    pub median: f64,
    /// Equal-tailed credible interval at the analysis level (95 %).
    pub low: f64,
    pub high: f64,
    /// P(fall of at least the threshold): rate ratio ≤ 1 − t, or difference ≤ −t × the
    /// reference mean.
    pub prob_fall_threshold: f64,
    /// P(any fall): rate ratio < 1, or difference < 0.
    pub prob_any_fall: f64,
    /// P(rise of at least the threshold): rate ratio ≥ 1 + t, or difference ≥ +t × the
    /// reference mean.
    pub prob_rise_threshold: f64,
}

impl PosteriorSummary {
    /// The same summary with the median and interval taken from the log scale to rate
    /// ratios (quantiles commute with the monotone map; probabilities are unchanged).
    pub fn exp(self) -> Self {
        Self {
            median: self.median.exp(),
            low: self.low.exp(),
            high: self.high.exp(),
            ..self
        }
    }
}

/// Posterior summary on the model scale θ. `fall_margin` and `rise_margin` are the
/// (positive) distances from 0 of a meaningful fall and rise on that scale.
pub fn summarise(
    lik: Likelihood,
    prior_sd: f64,
    level: f64,
    fall_margin: f64,
    rise_margin: f64,
) -> Result<PosteriorSummary> {
    if !(level > 0.0 && level < 1.0 && fall_margin > 0.0 && rise_margin > 0.0) {
        return Err(StatsError::InvalidData(format!(
            "posterior summary needs a level in (0, 1) and positive margins; got {level}, {fall_margin}, {rise_margin}"
        )));
    }
    let post = Posterior::new(lik, prior_sd)?;
    let tail = (1.0 - level) / 2.0;
    Ok(PosteriorSummary {
        prior_sd,
        median: post.quantile(0.5),
        low: post.quantile(tail),
        high: post.quantile(1.0 - tail),
        prob_fall_threshold: post.cdf(-fall_margin),
        prob_any_fall: post.cdf(0.0),
        prob_rise_threshold: 1.0 - post.cdf(rise_margin),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::distribution::{ContinuousCDF, Normal};

    /// Normal likelihood × normal prior is normal: the grid must reproduce it.
    #[test]
    fn normal_likelihood_matches_the_conjugate_closed_form() {
        for (est, se, tau) in [
            (-0.4, 0.15, 1.17),
            (0.2, 0.9, 1.17),
            (-2.5, 0.01, 1.17),
            (3.0, 4.0, 5.0),
        ] {
            let lik = Likelihood {
                estimate: est,
                se,
                df: None,
            };
            let post = Posterior::new(lik, tau).unwrap();
            let var = 1.0 / (1.0 / (se * se) + 1.0 / (tau * tau));
            let mean = var * est / (se * se);
            let exact = Normal::new(mean, var.sqrt()).unwrap();
            for q in [0.025, 0.5, 0.975] {
                let ours = post.quantile(q);
                assert!(
                    (ours - exact.inverse_cdf(q)).abs() < 1e-7 * var.sqrt().max(1.0),
                    "{est} {se}: q{q} {ours} vs {}",
                    exact.inverse_cdf(q)
                );
            }
            for x in [mean - var.sqrt(), 0.0, mean + 2.0 * var.sqrt()] {
                let (ours, want) = (post.cdf(x), exact.cdf(x));
                assert!((ours - want).abs() < 1e-7, "cdf at {x}: {ours} vs {want}");
            }
            assert!((post.mean() - mean).abs() < 1e-8);
        }
    }

    #[test]
    fn heavy_tailed_likelihood_is_pulled_toward_the_prior_and_widened() {
        let normal = Posterior::new(
            Likelihood {
                estimate: -0.5,
                se: 0.3,
                df: None,
            },
            PRIOR_SD_LOG_RATE_RATIO,
        )
        .unwrap();
        let t = Posterior::new(
            Likelihood {
                estimate: -0.5,
                se: 0.3,
                df: Some(4.0),
            },
            PRIOR_SD_LOG_RATE_RATIO,
        )
        .unwrap();
        let width = |p: &Posterior| p.quantile(0.975) - p.quantile(0.025);
        assert!(width(&t) > width(&normal) * 1.1);
        assert!(t.cdf(0.0) < 1.0 && t.cdf(0.0) > 0.5);
    }

    #[test]
    fn summary_probabilities_are_consistent() {
        let s = summarise(
            Likelihood {
                estimate: (0.6f64).ln(),
                se: 0.12,
                df: Some(70.0),
            },
            PRIOR_SD_LOG_RATE_RATIO,
            0.95,
            -(0.7f64).ln(),
            (1.3f64).ln(),
        )
        .unwrap();
        assert!(s.low < s.median && s.median < s.high);
        assert!(s.prob_any_fall > s.prob_fall_threshold && s.prob_fall_threshold > 0.8);
        assert!(s.prob_rise_threshold < 1e-4);
        assert!(summarise(
            Likelihood {
                estimate: 0.0,
                se: 0.0,
                df: None
            },
            1.0,
            0.95,
            0.3,
            0.3
        )
        .is_err());
    }
}
