//! A conjugate gamma–Poisson view of a count comparison, as a second opinion on
//! "probability that the rate fell by at least the threshold".
//!
//! Each arm's rate gets the same weak Gamma prior (shape ½, mean = the pooled daily mean,
//! so it favours neither arm). Plain gamma–Poisson updating would treat every episode as
//! independent, which overdispersed, autocorrelated spasm counts are not, and would be
//! overconfident. So the likelihood is tempered by a design effect φ ≥ 1 — the ratio of the
//! HAC variance of the log rate ratio to its Poisson variance (1/S₀ + 1/S₁) — i.e. the data
//! count as S/φ episodes over n/φ days. The probability is then exact, not simulated:
//! if λᵢ ~ Gamma(αᵢ, rate βᵢ), then β₁λ₁/(β₁λ₁ + β₀λ₀) ~ Beta(α₁, α₀).

use serde::{Deserialize, Serialize};
use statrs::function::beta::beta_reg;

use crate::error::{Result, StatsError};

/// Shape of the weak prior on each arm's daily rate.
pub const PRIOR_SHAPE: f64 = 0.5;

/// Posterior of one arm's daily rate: Gamma(shape, rate).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaPosterior {
    pub shape: f64,
    pub rate: f64,
}

impl GammaPosterior {
    /// Posterior mean of the daily rate.
    pub fn mean(&self) -> f64 {
        self.shape / self.rate
    }
}

/// Result of the tempered gamma–Poisson comparison of `arm` with the reference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaPoissonComparison {
    pub reference: GammaPosterior,
    pub arm: GammaPosterior,
    /// Design effect used to temper the likelihood (≥ 1).
    pub design_effect: f64,
    /// P(arm rate < reference rate).
    pub prob_better: f64,
    /// P(arm rate ≤ (1 − threshold) × reference rate).
    pub prob_meets_threshold: f64,
}

/// Episode total and number of analysed days of one arm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArmCounts {
    pub episodes: f64,
    pub days: f64,
}

/// P(λ_arm / λ_ref ≤ c) for independent gamma posteriors.
pub fn prob_ratio_below(arm: &GammaPosterior, reference: &GammaPosterior, c: f64) -> f64 {
    if c <= 0.0 {
        return 0.0;
    }
    let r = c * arm.rate / reference.rate;
    beta_reg(arm.shape, reference.shape, r / (1.0 + r))
}

/// Compares two arms. `hac_var_log_rr` is the HAC variance of the log rate ratio from the
/// regression (used only to derive the design effect).
pub fn compare(
    reference: ArmCounts,
    arm: ArmCounts,
    hac_var_log_rr: f64,
    threshold: f64,
) -> Result<GammaPoissonComparison> {
    let valid = |a: ArmCounts| a.episodes >= 0.0 && a.days > 0.0 && a.episodes.is_finite() && a.days.is_finite();
    if !(valid(reference) && valid(arm)) {
        return Err(StatsError::InvalidData(
            "gamma–Poisson comparison needs days > 0 and episodes ≥ 0 in both arms".into(),
        ));
    }
    if !(threshold > 0.0 && threshold < 1.0) {
        return Err(StatsError::InvalidData(format!(
            "threshold must be in (0, 1), got {threshold}"
        )));
    }
    let pooled = (reference.episodes + arm.episodes) / (reference.days + arm.days);
    if pooled <= 0.0 {
        return Err(StatsError::InvalidData("no episodes in either arm".into()));
    }
    let poisson_var = if reference.episodes > 0.0 && arm.episodes > 0.0 {
        1.0 / reference.episodes + 1.0 / arm.episodes
    } else {
        f64::INFINITY
    };
    let design_effect = if hac_var_log_rr.is_finite() && poisson_var.is_finite() {
        (hac_var_log_rr / poisson_var).max(1.0)
    } else {
        1.0
    };
    let post = |a: ArmCounts| GammaPosterior {
        shape: PRIOR_SHAPE + a.episodes / design_effect,
        rate: PRIOR_SHAPE / pooled + a.days / design_effect,
    };
    let (r, a) = (post(reference), post(arm));
    Ok(GammaPoissonComparison {
        reference: r,
        arm: a,
        design_effect,
        prob_better: prob_ratio_below(&a, &r, 1.0),
        prob_meets_threshold: prob_ratio_below(&a, &r, 1.0 - threshold),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Gamma};

    #[test]
    fn closed_form_matches_monte_carlo() {
        let a = GammaPosterior {
            shape: 30.0,
            rate: 10.0,
        };
        let r = GammaPosterior {
            shape: 50.0,
            rate: 11.0,
        };
        let exact = prob_ratio_below(&a, &r, 0.8);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let ga = Gamma::new(a.shape, 1.0 / a.rate).unwrap();
        let gr = Gamma::new(r.shape, 1.0 / r.rate).unwrap();
        let n = 200_000;
        let hits = (0..n)
            .filter(|_| ga.sample(&mut rng) / gr.sample(&mut rng) <= 0.8)
            .count();
        let mc = hits as f64 / n as f64;
        assert!((exact - mc).abs() < 0.005, "exact {exact} mc {mc}");
    }

    #[test]
    fn design_effect_widens_the_posterior() {
        let reference = ArmCounts {
            episodes: 300.0,
            days: 50.0,
        };
        let arm = ArmCounts {
            episodes: 240.0,
            days: 50.0,
        };
        let plain = compare(reference, arm, 0.0, 0.3).unwrap();
        assert_eq!(plain.design_effect, 1.0);
        let tempered = compare(reference, arm, 4.0 * (1.0 / 300.0 + 1.0 / 240.0), 0.3).unwrap();
        assert!((tempered.design_effect - 4.0).abs() < 1e-12);
        assert!(plain.prob_better > tempered.prob_better && tempered.prob_better > 0.5);
        assert!(compare(
            reference,
            ArmCounts {
                episodes: 1.0,
                days: 0.0
            },
            1.0,
            0.3
        )
        .is_err());
    }
}
