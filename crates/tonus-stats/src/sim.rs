//! Deterministic-by-seed patient simulator with known truth.
//!
//! Used by `tonus demo`, the calibration tests and the benchmarks. The daily rate of each
//! spasm family is
//! `baseline · exp(z_t) · Π treatment effects · exercise effect (previous day) · relapse`,
//! where `z_t` is a latent AR(1) on the log scale (bad weeks), and the count is negative
//! binomial (gamma–Poisson) around that rate (bad days). Days are plain indices `0..days`;
//! callers turn a day index and `minute_of_day` into timestamps.
//!
//! The simulator never fails: out-of-range settings are clamped to the nearest sensible
//! value (documented on each field), because a demo should always produce data.

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, Gamma, LogNormal, Normal, Poisson};
use serde::{Deserialize, Serialize};

/// The two spasm families, reported separately by every analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    InvoluntaryMovement,
    Stiffness,
}

/// A treatment as the simulator sees it: true effect, onset and carry-over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimTreatment {
    pub name: String,
    pub start_day: u32,
    /// First day *without* the treatment; `None` = ongoing.
    pub end_day: Option<u32>,
    /// True multiplicative effect on the involuntary-movement rate at full effect.
    pub rate_ratio_involuntary: f64,
    /// True multiplicative effect on the stiffness rate at full effect.
    pub rate_ratio_stiffness: f64,
    /// Days until the full effect (linear ramp on the log scale); 0 = immediate.
    pub onset_days: u32,
    /// Half-life of the carry-over after stopping; 0 = stops at once.
    pub washout_half_life_days: f64,
}

impl SimTreatment {
    /// Share of the full (log-scale) effect present on `day`: ramps up over `onset_days`,
    /// then fades exponentially after `end_day`.
    pub fn effect_weight(&self, day: u32) -> f64 {
        let ramp = |d: u32| -> f64 {
            if d < self.start_day {
                0.0
            } else if self.onset_days == 0 {
                1.0
            } else {
                (f64::from(d - self.start_day + 1) / f64::from(self.onset_days)).min(1.0)
            }
        };
        match self.end_day {
            Some(end) if day >= end => {
                if end <= self.start_day || self.washout_half_life_days <= 0.0 {
                    return 0.0;
                }
                let at_stop = ramp(end - 1);
                let elapsed = f64::from(day - end + 1);
                at_stop * 0.5_f64.powf(elapsed / self.washout_half_life_days)
            }
            _ => ramp(day),
        }
    }
}

/// Simulation settings. `Default` gives a plausible patient for a demo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    pub days: u32,
    pub seed: u64,
    /// Mean involuntary-movement episodes per day without treatment (≥ 0).
    pub baseline_rate_involuntary: f64,
    /// Mean stiffness episodes per day without treatment (≥ 0).
    pub baseline_rate_stiffness: f64,
    /// AR(1) coefficient of the latent log-rate, clamped to [−0.99, 0.99].
    pub ar_phi: f64,
    /// Innovation standard deviation of the latent log-rate (≥ 0).
    pub ar_sigma: f64,
    /// NB2 dispersion α of daily counts (Var = μ + αμ²); 0 = Poisson.
    pub nb_dispersion: f64,
    /// Probability that a day is not confirmed (no check-in), in [0, 1].
    pub p_missing_checkin: f64,
    /// On an unconfirmed day, the share of episodes the patient still logged, in [0, 1].
    pub p_logged_when_unconfirmed: f64,
    /// Share of episodes between 22:00 and 06:00 (a third would be "no night peak").
    pub night_share: f64,
    pub treatments: Vec<SimTreatment>,
    /// Probability of an exercise session on a day, in [0, 1].
    pub exercise_probability: f64,
    /// Mean session length in minutes.
    pub exercise_minutes_mean: f64,
    /// Mean perceived exertion (0–10).
    pub exercise_exertion_mean: f64,
    /// Next-day rate ratio per 100 load units (minutes × exertion).
    pub exercise_rate_ratio_per_100_load: f64,
    /// Expected relapses per year.
    pub relapse_rate_per_year: f64,
    pub relapse_duration_days: u32,
    /// Rate multiplier while a relapse lasts.
    pub relapse_rate_ratio: f64,
    /// A relapse forced to start on this day (a flare at a known time, for the robustness
    /// calibration), lasting `relapse_duration_days`; `None` = only the random ones.
    #[serde(default)]
    pub flare_start_day: Option<u32>,
    /// Slow drift of both rates: multiplier per 100 days (0.5 = halves every 100 days);
    /// 1 = none. Values ≤ 0 or not finite count as 1.
    #[serde(default = "one")]
    pub drift_rate_ratio_per_100_days: f64,
    /// Weekly rhythm of both rates: the log-rate gets `amplitude · sin(2π·day/7)`; 0 = none.
    #[serde(default)]
    pub weekly_amplitude: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            days: 120,
            seed: 1,
            baseline_rate_involuntary: 6.0,
            baseline_rate_stiffness: 3.0,
            ar_phi: 0.5,
            ar_sigma: 0.25,
            nb_dispersion: 0.3,
            p_missing_checkin: 0.1,
            p_logged_when_unconfirmed: 0.5,
            night_share: 0.45,
            treatments: Vec::new(),
            exercise_probability: 0.3,
            exercise_minutes_mean: 30.0,
            exercise_exertion_mean: 3.5,
            exercise_rate_ratio_per_100_load: 1.05,
            relapse_rate_per_year: 0.5,
            relapse_duration_days: 28,
            relapse_rate_ratio: 1.8,
            flare_start_day: None,
            drift_rate_ratio_per_100_days: 1.0,
            weekly_amplitude: 0.0,
        }
    }
}

impl SimConfig {
    /// A config with only the ingredients the trial model assumes (no exercise, no
    /// relapses, no missing days): used where the truth must be exactly the rate ratio.
    pub fn quiet(days: u32, seed: u64) -> Self {
        Self {
            days,
            seed,
            p_missing_checkin: 0.0,
            exercise_probability: 0.0,
            relapse_rate_per_year: 0.0,
            ..Self::default()
        }
    }
}

/// One logged episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimEpisode {
    pub family: Family,
    /// Minute of the local day, 0..1440.
    pub minute_of_day: u16,
    pub duration_s: u32,
    /// Pain 0–10.
    pub pain: u8,
}

/// The daily check-in (only on confirmed days).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimCheckin {
    pub spasticity_nrs: u8,
    pub pain_nrs: u8,
    /// Penn Spasm Frequency Scale 0–4.
    pub psfs_frequency: u8,
    /// PSFS severity 1–3, `None` when frequency is 0.
    pub psfs_severity: Option<u8>,
    pub night_wakings: u8,
}

/// An exercise session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimExercise {
    pub minutes: u16,
    /// Perceived exertion 0–10.
    pub exertion: u8,
}

impl SimExercise {
    /// Load = minutes × exertion.
    pub fn load(&self) -> f64 {
        f64::from(self.minutes) * f64::from(self.exertion)
    }
}

/// One simulated day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimDay {
    pub day: u32,
    /// The patient confirmed the log is complete (check-in done).
    pub confirmed: bool,
    pub episodes: Vec<SimEpisode>,
    pub checkin: Option<SimCheckin>,
    pub exercise: Option<SimExercise>,
    pub relapse: bool,
    /// The day's true mean rate (including the latent state) before count noise.
    pub true_rate_involuntary: f64,
    pub true_rate_stiffness: f64,
}

impl SimDay {
    /// Number of logged episodes of one family.
    pub fn count(&self, family: Family) -> u32 {
        self.episodes.iter().filter(|e| e.family == family).count() as u32
    }
}

/// A simulated patient: the settings and the days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimPatient {
    pub config: SimConfig,
    pub days: Vec<SimDay>,
}

fn prob(p: f64) -> f64 {
    if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

fn nonneg(v: f64) -> f64 {
    if v.is_finite() {
        v.max(0.0)
    } else {
        0.0
    }
}

fn positive_ratio(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 {
        v
    } else {
        1.0
    }
}

fn normal(rng: &mut ChaCha8Rng, mean: f64, sd: f64) -> f64 {
    Normal::new(mean, sd.max(0.0)).map_or(mean, |d| d.sample(rng))
}

fn score(v: f64, max: u8) -> u8 {
    v.round().clamp(0.0, f64::from(max)) as u8
}

/// Gamma–Poisson draw with mean `mean` and NB2 dispersion `alpha`.
fn nb_count(rng: &mut ChaCha8Rng, mean: f64, alpha: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    let lambda = if alpha > 0.0 {
        Gamma::new(1.0 / alpha, mean * alpha).map_or(mean, |g| g.sample(rng))
    } else {
        mean
    };
    if lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    // Cap so a pathological setting cannot allocate without bound.
    Poisson::new(lambda).map_or(0, |p| p.sample(rng).min(10_000.0) as u32)
}

fn episode(rng: &mut ChaCha8Rng, family: Family, night_share: f64, relapse: bool) -> SimEpisode {
    // Night is 22:00–06:00 (480 minutes), day 06:00–22:00 (960 minutes).
    let minute = if rng.gen_bool(night_share) {
        (1320 + rng.gen_range(0..480)) % 1440
    } else {
        360 + rng.gen_range(0..960)
    };
    let (median_s, sigma, lo, hi, pain_mean) = match family {
        // Twitches and jerks last a second or a few.
        Family::InvoluntaryMovement => (2.0_f64, 0.8, 1.0, 120.0, 2.0),
        // Cramps and locked limbs last minutes.
        Family::Stiffness => (90.0, 0.7, 10.0, 1800.0, 5.0),
    };
    let duration = LogNormal::new(median_s.ln(), sigma).map_or(median_s, |d| d.sample(rng));
    let pain = normal(rng, pain_mean + if relapse { 1.0 } else { 0.0 }, 1.5);
    SimEpisode {
        family,
        minute_of_day: minute as u16,
        duration_s: duration.round().clamp(lo, hi) as u32,
        pain: score(pain, 10),
    }
}

/// PSFS frequency from the day's episode count, assuming about 16 waking hours.
fn psfs_frequency(total: u32) -> u8 {
    match total {
        0 => 0,
        1..=3 => 1,
        4..=15 => 2,
        16..=160 => 3,
        _ => 4,
    }
}

fn checkin(rng: &mut ChaCha8Rng, episodes: &[SimEpisode]) -> SimCheckin {
    let stiff = episodes.iter().filter(|e| e.family == Family::Stiffness).count() as f64;
    let invol = episodes.len() as f64 - stiff;
    let mean_pain = if episodes.is_empty() {
        0.0
    } else {
        episodes.iter().map(|e| f64::from(e.pain)).sum::<f64>() / episodes.len() as f64
    };
    let spasticity = 1.0 + 1.1 * (1.0 + stiff + 0.5 * invol).ln() + normal(rng, 0.0, 0.7);
    let pain = 0.5 + 0.6 * mean_pain + 0.3 * (1.0 + stiff).ln() + normal(rng, 0.0, 0.8);
    let frequency = psfs_frequency(episodes.len() as u32);
    let severity = match frequency {
        0 => None,
        _ if mean_pain <= 3.0 => Some(1),
        _ if mean_pain <= 6.0 => Some(2),
        _ => Some(3),
    };
    let night = episodes
        .iter()
        .filter(|e| e.minute_of_day >= 1320 || e.minute_of_day < 360)
        .count() as u64;
    let wakings = Binomial::new(night, 0.35).map_or(0, |b| b.sample(rng));
    SimCheckin {
        spasticity_nrs: score(spasticity, 10),
        pain_nrs: score(pain, 10),
        psfs_frequency: frequency,
        psfs_severity: severity,
        night_wakings: wakings.min(255) as u8,
    }
}

/// Simulates a patient. Same config (incl. seed) ⇒ identical output.
pub fn simulate(config: &SimConfig) -> SimPatient {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let phi = if config.ar_phi.is_finite() {
        config.ar_phi.clamp(-0.99, 0.99)
    } else {
        0.0
    };
    let sigma = nonneg(config.ar_sigma);
    let alpha = nonneg(config.nb_dispersion);
    let stationary_sd = sigma / (1.0 - phi * phi).sqrt();
    // Start each latent in its stationary distribution so day 0 is not special.
    let mut z = [
        normal(&mut rng, 0.0, stationary_sd),
        normal(&mut rng, 0.0, stationary_sd),
    ];
    // Centre the latent so that E[exp(z)] = 1 and the baseline rates are the true means.
    let centre = -stationary_sd * stationary_sd / 2.0;
    let base = [
        nonneg(config.baseline_rate_involuntary),
        nonneg(config.baseline_rate_stiffness),
    ];
    let relapse_p = prob(nonneg(config.relapse_rate_per_year) / 365.0);
    let exercise_rr = positive_ratio(config.exercise_rate_ratio_per_100_load).ln();
    let relapse_rr = positive_ratio(config.relapse_rate_ratio);
    let night_share = prob(config.night_share);
    let drift = positive_ratio(config.drift_rate_ratio_per_100_days).ln();
    let weekly = if config.weekly_amplitude.is_finite() {
        config.weekly_amplitude
    } else {
        0.0
    };
    let mut relapse_left = 0u32;
    let mut previous_load = 0.0;
    let mut days = Vec::with_capacity(config.days as usize);
    for day in 0..config.days {
        if day > 0 {
            for zf in &mut z {
                *zf = phi * *zf + normal(&mut rng, 0.0, sigma);
            }
        }
        if relapse_left == 0 && relapse_p > 0.0 && rng.gen_bool(relapse_p) {
            relapse_left = config.relapse_duration_days.max(1);
        }
        if config.flare_start_day == Some(day) {
            relapse_left = config.relapse_duration_days.max(1);
        }
        let relapse = relapse_left > 0;
        relapse_left = relapse_left.saturating_sub(1);
        let mut log_effect = [0.0, 0.0];
        for t in &config.treatments {
            let w = t.effect_weight(day);
            log_effect[0] += w * positive_ratio(t.rate_ratio_involuntary).ln();
            log_effect[1] += w * positive_ratio(t.rate_ratio_stiffness).ln();
        }
        let shared = exercise_rr * previous_load / 100.0
            + if relapse { relapse_rr.ln() } else { 0.0 }
            + drift * f64::from(day) / 100.0
            + weekly * (std::f64::consts::TAU * f64::from(day) / 7.0).sin();
        let rate = [0, 1].map(|f| base[f] * (centre + z[f] + log_effect[f] + shared).exp());

        let exercise = if rng.gen_bool(prob(config.exercise_probability)) {
            let minutes = normal(&mut rng, config.exercise_minutes_mean, 10.0).round();
            let exertion = normal(&mut rng, config.exercise_exertion_mean, 1.5);
            Some(SimExercise {
                minutes: minutes.clamp(5.0, 240.0) as u16,
                exertion: score(exertion, 10),
            })
        } else {
            None
        };
        previous_load = exercise.as_ref().map_or(0.0, SimExercise::load);

        let confirmed = !rng.gen_bool(prob(config.p_missing_checkin));
        let mut episodes = Vec::new();
        for (f, family) in [Family::InvoluntaryMovement, Family::Stiffness].into_iter().enumerate() {
            let n = nb_count(&mut rng, rate[f], alpha);
            for _ in 0..n {
                episodes.push(episode(&mut rng, family, night_share, relapse));
            }
        }
        let checkin = if confirmed {
            Some(checkin(&mut rng, &episodes))
        } else {
            let keep = prob(config.p_logged_when_unconfirmed);
            episodes.retain(|_| rng.gen_bool(keep));
            None
        };
        episodes.sort_by_key(|e| e.minute_of_day);
        days.push(SimDay {
            day,
            confirmed,
            episodes,
            checkin,
            exercise,
            relapse,
            true_rate_involuntary: rate[0],
            true_rate_stiffness: rate[1],
        });
    }
    SimPatient {
        config: config.clone(),
        days,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_patient_and_different_seed_differs() {
        let c = SimConfig::default();
        assert_eq!(simulate(&c), simulate(&c));
        let other = simulate(&SimConfig { seed: 2, ..c.clone() });
        assert_ne!(simulate(&c).days, other.days);
    }

    #[test]
    fn mean_count_matches_baseline_rate() {
        let c = SimConfig {
            days: 4000,
            ..SimConfig::quiet(4000, 7)
        };
        let p = simulate(&c);
        let mean = p
            .days
            .iter()
            .map(|d| f64::from(d.count(Family::InvoluntaryMovement)))
            .sum::<f64>()
            / 4000.0;
        assert!((mean - c.baseline_rate_involuntary).abs() < 0.4, "mean {mean}");
    }

    #[test]
    fn treatment_lowers_rate_and_carry_over_fades() {
        let t = SimTreatment {
            name: "x".into(),
            start_day: 10,
            end_day: Some(20),
            rate_ratio_involuntary: 0.5,
            rate_ratio_stiffness: 1.0,
            onset_days: 4,
            washout_half_life_days: 2.0,
        };
        assert_eq!(t.effect_weight(9), 0.0);
        assert!((t.effect_weight(10) - 0.25).abs() < 1e-12);
        assert_eq!(t.effect_weight(15), 1.0);
        assert!((t.effect_weight(21) - 0.5).abs() < 1e-12);
        assert!(t.effect_weight(40) < 1e-3);
    }

    #[test]
    fn episodes_and_checkins_are_in_range() {
        let p = simulate(&SimConfig {
            days: 365,
            ..SimConfig::default()
        });
        let mut night = 0usize;
        let mut total = 0usize;
        for d in &p.days {
            assert_eq!(d.confirmed, d.checkin.is_some());
            for e in &d.episodes {
                assert!(e.minute_of_day < 1440 && e.pain <= 10);
                total += 1;
                if e.minute_of_day >= 1320 || e.minute_of_day < 360 {
                    night += 1;
                }
            }
            if let Some(c) = &d.checkin {
                assert!(c.spasticity_nrs <= 10 && c.pain_nrs <= 10 && c.psfs_frequency <= 4);
                assert_eq!(c.psfs_severity.is_none(), c.psfs_frequency == 0);
            }
        }
        // Night is a third of the clock but gets more than a third of the episodes.
        assert!(night as f64 / total as f64 > 0.4);
        assert!(p.days.iter().any(|d| !d.confirmed));
        assert!(p.days.iter().any(|d| d.exercise.is_some()));
    }
}
