//! Step 1 of the power planner: what the simulator needs, estimated from the patient's own
//! diary by the method of moments (see the parent module).

use serde::{Deserialize, Serialize};

use super::{MIN_CONFIRMED_DAYS, WINDOW_DAYS};
use crate::design::Outcome;
use crate::error::{Result, StatsError};
use crate::series::DayRecord;

/// Lags used to estimate the persistence of bad weeks.
const MAX_LAG: usize = 4;

/// What was estimated from the diary, in the simulator's terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Params {
    Count {
        /// Mean episodes per confirmed day.
        rate: f64,
        /// NB2 dispersion α of a day's count around its (latent) rate; 0 = Poisson.
        dispersion: f64,
        /// AR(1) coefficient of the latent log-rate (persistence of bad weeks).
        ar_phi: f64,
        /// Innovation SD of that latent log-rate.
        ar_sigma: f64,
    },
    Score {
        mean: f64,
        /// Day-to-day standard deviation.
        sd: f64,
        /// Lag-1 autocorrelation of the daily values.
        ar_phi: f64,
        /// Values are whole numbers (a 0–10 rating, a number of wakings): simulated ones are
        /// rounded the same way.
        whole: bool,
        /// Largest value the scale allows (10 for ratings), if any.
        max: Option<f64>,
    },
}

/// The patient's recent diary, summarised for the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub outcome: Outcome,
    /// Days read, from the first day with anything logged to the end of the window.
    pub window_days: usize,
    /// Days with a usable value.
    pub usable_days: usize,
    /// Share of the window's days without a usable value (unconfirmed, or not answered).
    pub missing_share: f64,
    pub params: Params,
}

/// Estimates the simulator's parameters for `outcome` from consecutive daily `records`
/// (oldest first, one per day, as [`crate::records::day_records`] gives them). Leading days
/// with nothing logged are before the patient used the diary and are not counted as missing.
pub fn estimate(records: &[DayRecord], outcome: Outcome) -> Result<Estimate> {
    let first = records
        .iter()
        .position(|r| r.confirmed || r.involuntary_count + r.stiffness_count > 0)
        .unwrap_or(records.len());
    let days = &records[first..];
    let values: Vec<Option<f64>> = days.iter().map(|r| r.value(outcome)).collect();
    let usable = values.iter().flatten().count();
    if usable < MIN_CONFIRMED_DAYS {
        return Err(StatsError::NotEnoughObservations {
            needed: MIN_CONFIRMED_DAYS,
            got: usable,
            context: format!(
                "{} in the {WINDOW_DAYS} days before the start; power cannot be estimated from \
                 fewer, so no figures are given",
                if outcome.is_count() {
                    "confirmed days".to_string()
                } else {
                    format!("days with a {} value", outcome.label())
                }
            ),
        });
    }
    let m = values.iter().flatten().sum::<f64>() / usable as f64;
    let var = values.iter().flatten().map(|v| (v - m).powi(2)).sum::<f64>() / (usable as f64 - 1.0);
    let autocov: Vec<f64> = (1..=MAX_LAG.min(usable / 4))
        .map(|k| {
            let (s, n) = values
                .iter()
                .zip(&values[k..])
                .filter_map(|(a, b)| Some((((*a)? - m) * ((*b)? - m), 1usize)))
                .fold((0.0, 0usize), |(s, n), (x, c)| (s + x, n + c));
            if n == 0 {
                0.0
            } else {
                s / n as f64
            }
        })
        .collect();
    let params = if outcome.is_count() {
        if m <= 0.0 {
            return Err(StatsError::InvalidData(format!(
                "no {} were logged on the {usable} confirmed days before the start: a fall cannot \
                 be simulated from zero, so no figures are given",
                outcome.label()
            )));
        }
        count_params(m, var, &autocov)
    } else {
        let all: Vec<f64> = values.iter().flatten().copied().collect();
        let whole = all.iter().all(|v| v.fract() == 0.0);
        let max = matches!(
            outcome,
            Outcome::SpasticityNrs | Outcome::PainNrs | Outcome::EpisodePain
        )
        .then_some(10.0);
        let rho = if var > 0.0 {
            autocov.first().map_or(0.0, |g| (g / var).clamp(0.0, 0.95))
        } else {
            0.0
        };
        Params::Score {
            mean: m,
            sd: var.max(0.0).sqrt(),
            ar_phi: rho,
            whole,
            max,
        }
    };
    Ok(Estimate {
        outcome,
        window_days: days.len(),
        usable_days: usable,
        missing_share: 1.0 - usable as f64 / days.len() as f64,
        params,
    })
}

/// Moments of the simulator's count model (rate μ, latent AR(1) log-rate with stationary
/// variance s² centred so its exp has mean 1, gamma day noise α):
/// `Cov(y_t, y_{t+k}) = μ²(exp(s²φᵏ) − 1)` for k ≥ 1 and
/// `Var(y_t) = μ + μ²((1 + α)exp(s²) − 1)`. φ and s² are fitted to the first lags by least
/// squares on the log scale, then α from the variance. s² may not exceed what the variance
/// leaves room for (α ≥ 0): without that bound a lag-1 bump alone fits as φ ≈ 0.01 with a
/// huge s², which simulates wild swings the diary never showed.
fn count_params(m: f64, var: f64, autocov: &[f64]) -> Params {
    let logs: Vec<f64> = autocov.iter().map(|g| (1.0 + g / (m * m)).max(1e-6).ln()).collect();
    let s2_max = (1.0 + (var - m).max(0.0) / (m * m)).ln();
    let mut best = (0.0, 0.0, logs.iter().map(|a| a * a).sum::<f64>());
    for step in 1..=95 {
        let phi = f64::from(step) / 100.0;
        let powers: Vec<f64> = (1..=logs.len()).map(|k| phi.powi(k as i32)).collect();
        let s2 = (logs.iter().zip(&powers).map(|(a, p)| a * p).sum::<f64>()
            / powers.iter().map(|p| p * p).sum::<f64>())
        .clamp(0.0, s2_max);
        let sse = logs.iter().zip(&powers).map(|(a, p)| (a - s2 * p).powi(2)).sum::<f64>();
        if sse < best.2 {
            best = (phi, s2, sse);
        }
    }
    let (phi, s2, _) = best;
    let (phi, s2) = if s2 > 0.0 { (phi, s2) } else { (0.0, 0.0) };
    let dispersion = (((var - m) / (m * m) + 1.0) / s2.exp() - 1.0).clamp(0.0, 5.0);
    Params::Count {
        rate: m,
        dispersion,
        ar_phi: phi,
        ar_sigma: (s2 * (1.0 - phi * phi)).sqrt(),
    }
}
