//! Power before starting (issue #14, point 6): how likely a planned trial is to find a fall
//! of the pre-set size, simulated from the patient's own recent diary.
//!
//! 1. [`estimate`] reads the days before the planned start and estimates what the simulator
//!    needs: for a count outcome the mean daily rate, the NB2 dispersion of bad days, the
//!    AR(1) persistence of bad weeks (the simulator's latent log-rate) and the share of
//!    unconfirmed days; for a score outcome its mean, day-to-day SD, lag-1 autocorrelation and
//!    the share of days without a value. Method of moments, so it needs no fitting that can
//!    fail; with fewer than [`MIN_CONFIRMED_DAYS`] usable days it refuses rather than invent
//!    numbers.
//! 2. [`plan_power`] simulates the design many times (seeded, so the same diary gives the
//!    same answer) with the reference arm unchanged and every other arm lowering the outcome
//!    by exactly the threshold, and analyses each simulated trial with the same
//!    [`analyse_trial`] a real report uses (the final look, where the interim-monitoring rule
//!    reduces to the 95 % interval). Power is the share of trials whose verdict is "better";
//!    the false-"better" rate comes from the same simulation with no effect at all.
//! 3. It then searches the number of blocks that reaches [`TARGET_POWER`], reusing the same
//!    seeds for every block count (common random numbers) so the power curve is smooth.
//!
//! Nothing here stores anything: the caller decides what to show. Never medical advice.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::analysis::{analyse_trial, AnalysisOptions};
use crate::design::{Outcome, TrialDesign, MAX_TRIAL_DAYS};
use crate::error::{Result, StatsError};
use crate::series::{records_from_sim, DayRecord};
use crate::sim::SimConfig;
use crate::trial_sim::{simulate_trial, ArmEffect};
use crate::verdict::Verdict;

/// Usable days the estimate needs: four weeks, so a bad week or two cannot pass for the
/// patient's usual level.
pub const MIN_CONFIRMED_DAYS: usize = 28;

/// How far back the diary is read before the planned start.
pub const WINDOW_DAYS: u32 = 90;

/// The power the block search aims for.
pub const TARGET_POWER: f64 = 0.80;

/// The most blocks the search tries (also bounded by the design's day limit): beyond this a
/// trial lasts most of a year or more, and the answer "not enough" is already the useful one.
pub const MAX_PLANNED_BLOCKS: u32 = 16;

mod estimate;
pub use estimate::{estimate, Estimate, Params};

/// How many trials to simulate and from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlanningOptions {
    /// Simulated trials per design (and as many again with no effect).
    pub simulations: u32,
    pub seed: u64,
}

impl Default for PlanningOptions {
    fn default() -> Self {
        Self {
            simulations: 300,
            seed: 14,
        }
    }
}

/// A share from simulated trials, with its Monte-Carlo standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub share: f64,
    pub se: f64,
    pub trials: u32,
    /// Simulated trials whose analysis failed (counted as not finding the effect).
    pub failed: u32,
}

impl Share {
    fn new(hits: u32, failed: u32, trials: u32) -> Self {
        let n = f64::from(trials.max(1));
        let share = f64::from(hits) / n;
        Self {
            share,
            se: (share * (1.0 - share) / n).sqrt(),
            trials,
            failed,
        }
    }

    /// "72 % (± 3 points)": the ± is one Monte-Carlo standard error, at least 1 point.
    pub fn text(&self) -> String {
        let pm = (self.se * 100.0).max(1.0).round();
        let unit = if pm == 1.0 { "point" } else { "points" };
        format!("{:.0} % (± {pm:.0} {unit})", self.share * 100.0)
    }
}

/// What the block search found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Suggestion {
    /// The fewest blocks whose simulated power reaches the target.
    Blocks { blocks: u32, power: Share },
    /// Even the most blocks the search tries stay below the target.
    NotEnough { max_blocks: u32, power: Share },
}

/// The dry run's result: nothing here is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerPlan {
    pub estimate: Estimate,
    pub blocks: u32,
    /// Share of simulated trials with a fall of exactly the threshold that say "better".
    pub power: Share,
    /// Share of simulated trials with no effect where some arm is said to be "better".
    pub false_better: Share,
    pub suggestion: Suggestion,
    /// Simulated power for every block count tried, in order.
    pub curve: Vec<(u32, Share)>,
    pub threshold: f64,
    pub options: PlanningOptions,
}

/// Simulates `design` from the patient's `estimate`: the power to find a fall of the
/// design's threshold, the false-"better" rate with no effect, and the fewest blocks for
/// [`TARGET_POWER`]. `progress` is called before each batch of simulated trials with the
/// block count about to be simulated.
pub fn plan_power(
    design: &TrialDesign,
    estimate: &Estimate,
    options: &PlanningOptions,
    progress: &mut dyn FnMut(u32),
) -> Result<PowerPlan> {
    design.validate()?;
    if estimate.outcome != design.primary_outcome {
        return Err(StatsError::InvalidData(format!(
            "the estimate is for {}, the design's primary outcome is {}",
            estimate.outcome.label(),
            design.primary_outcome.label()
        )));
    }
    if options.simulations == 0 {
        return Err(StatsError::InvalidData("at least one simulated trial is needed".into()));
    }
    let sim = Simulator {
        design,
        estimate,
        options,
    };
    progress(design.blocks);
    let false_better = sim.share(design.blocks, false)?;
    let mut curve: BTreeMap<u32, Share> = BTreeMap::new();
    let max_blocks = max_blocks(design);
    let mut power_at = |b: u32| -> Result<Share> {
        if let Some(s) = curve.get(&b) {
            return Ok(*s);
        }
        progress(b);
        let s = sim.share(b, true)?;
        curve.insert(b, s);
        Ok(s)
    };
    let power = power_at(design.blocks)?;
    let ok = |s: &Share| s.share >= TARGET_POWER;
    // Bracket: `lo` falls short (0 blocks always does), `hi` reaches the target.
    let (mut lo, mut hi) = if ok(&power) {
        (0, Some(design.blocks))
    } else {
        let mut lo = design.blocks;
        let mut hi = None;
        while lo < max_blocks {
            let b = lo.saturating_mul(2).clamp(lo + 1, max_blocks);
            if ok(&power_at(b)?) {
                hi = Some(b);
                break;
            }
            lo = b;
        }
        (lo, hi)
    };
    let suggestion = match hi.as_mut() {
        Some(h) => {
            while *h - lo > 1 {
                let mid = lo + (*h - lo) / 2;
                if ok(&power_at(mid)?) {
                    *h = mid;
                } else {
                    lo = mid;
                }
            }
            Suggestion::Blocks {
                blocks: *h,
                power: power_at(*h)?,
            }
        }
        None => Suggestion::NotEnough {
            max_blocks,
            power: power_at(max_blocks)?,
        },
    };
    Ok(PowerPlan {
        estimate: *estimate,
        blocks: design.blocks,
        power,
        false_better,
        suggestion,
        curve: curve.into_iter().collect(),
        threshold: design.success_threshold,
        options: *options,
    })
}

/// Share of `options.simulations` simulated trials of `design` (as planned, with its block
/// count) that say "better": for the first non-reference arm when `effect` (every
/// non-reference arm lowers the outcome by the threshold), for any arm when not. The figure
/// [`plan_power`] reports as power (`effect`) or false-"better" rate (not).
pub fn simulated_share(
    design: &TrialDesign,
    estimate: &Estimate,
    options: &PlanningOptions,
    effect: bool,
) -> Result<Share> {
    design.validate()?;
    Simulator {
        design,
        estimate,
        options,
    }
    .share(design.blocks, effect)
}

/// The most blocks the search tries: [`MAX_PLANNED_BLOCKS`] or fewer, within the day limit,
/// and never fewer than the design asks for.
pub fn max_blocks(design: &TrialDesign) -> u32 {
    let per_block = (design.arms.len() as u32).saturating_mul(design.period_days).max(1);
    let fit = MAX_TRIAL_DAYS.saturating_sub(design.baseline_days) / per_block;
    fit.min(MAX_PLANNED_BLOCKS).max(design.blocks)
}

struct Simulator<'a> {
    design: &'a TrialDesign,
    estimate: &'a Estimate,
    options: &'a PlanningOptions,
}

impl Simulator<'_> {
    /// Share of `simulations` trials with `blocks` blocks that say "better": for arm 1 when
    /// `effect` (every other arm lowers the outcome by the threshold), for any arm when not.
    /// Trial `i` uses the same seeds whatever `blocks` is.
    fn share(&self, blocks: u32, effect: bool) -> Result<Share> {
        let n = self.options.simulations;
        let (mut hits, mut failed) = (0, 0);
        for i in 0..n {
            let seed = self
                .options
                .seed
                .wrapping_mul(1_000_003)
                .wrapping_add(u64::from(i) * 2 + u64::from(effect));
            let design = TrialDesign {
                blocks,
                seed,
                ..self.design.clone()
            };
            let records = self.records(&design, effect, seed)?;
            // Only the comparison is read: the robustness checks would cost two more fits.
            let options = AnalysisOptions {
                robustness_checks: false,
                ..AnalysisOptions::default()
            };
            match analyse_trial(&design, &records, design.primary_outcome, &options) {
                Ok(a) => {
                    let better = |c: &crate::analysis::Comparison| c.verdict == Verdict::Better;
                    let hit = if effect {
                        a.comparisons.first().is_some_and(better)
                    } else {
                        a.comparisons.iter().any(better)
                    };
                    hits += u32::from(hit);
                }
                Err(_) => failed += 1,
            }
        }
        Ok(Share::new(hits, failed, n))
    }

    /// One simulated trial's days (run-in and periods), with the threshold's effect on every
    /// non-reference arm when `effect`.
    fn records(&self, design: &TrialDesign, effect: bool, seed: u64) -> Result<Vec<DayRecord>> {
        let t = design.success_threshold;
        let missing = self.estimate.missing_share;
        match self.estimate.params {
            Params::Count {
                rate,
                dispersion,
                ar_phi,
                ar_sigma,
            } => {
                let involuntary = design.primary_outcome == Outcome::InvoluntaryCount;
                // Only the primary family is simulated: the other would cost time and change
                // nothing in the primary analysis.
                let base = SimConfig {
                    days: 0,
                    seed,
                    baseline_rate_involuntary: if involuntary { rate } else { 0.0 },
                    baseline_rate_stiffness: if involuntary { 0.0 } else { rate },
                    ar_phi,
                    ar_sigma,
                    nb_dispersion: dispersion,
                    p_missing_checkin: missing,
                    exercise_probability: 0.0,
                    relapse_rate_per_year: 0.0,
                    treatments: Vec::new(),
                    ..SimConfig::default()
                };
                let arm = if effect {
                    ArmEffect::immediate(1.0 - t)
                } else {
                    ArmEffect::NONE
                };
                let mut effects = vec![arm; design.arms.len()];
                effects[0] = ArmEffect::NONE;
                let (_, patient) = simulate_trial(&base, design, &effects)?;
                Ok(records_from_sim(&patient))
            }
            Params::Score {
                mean,
                sd,
                ar_phi,
                whole,
                max,
            } => {
                let cal = design.calendar()?;
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let innov = Normal::new(0.0, sd * (1.0 - ar_phi * ar_phi).sqrt())
                    .map_err(|e| StatsError::InvalidData(format!("score noise with SD {sd}: {e}")))?;
                let mut e = Normal::new(0.0, sd)
                    .map_err(|err| StatsError::InvalidData(format!("score noise with SD {sd}: {err}")))?
                    .sample(&mut rng);
                let mut out = Vec::with_capacity(cal.total_days as usize);
                for day in 0..cal.total_days {
                    if day > 0 {
                        e = ar_phi * e + innov.sample(&mut rng);
                    }
                    let treated = effect && cal.periods.iter().any(|p| p.days.contains(&day) && p.arm != 0);
                    let mut v = mean * if treated { 1.0 - t } else { 1.0 } + e;
                    if whole {
                        v = v.round();
                    }
                    v = v.max(0.0).min(max.unwrap_or(f64::INFINITY));
                    let confirmed = !rng.gen_bool(missing.clamp(0.0, 1.0));
                    let value = Some(v);
                    let mut r = DayRecord {
                        day,
                        confirmed,
                        involuntary_count: 0,
                        stiffness_count: 0,
                        mean_episode_pain: None,
                        spasticity_nrs: None,
                        pain_nrs: None,
                        night_wakings: None,
                        exercise_load: 0.0,
                    };
                    match design.primary_outcome {
                        Outcome::EpisodePain => r.mean_episode_pain = value,
                        Outcome::SpasticityNrs => r.spasticity_nrs = value,
                        Outcome::PainNrs => r.pain_nrs = value,
                        Outcome::NightWakings => r.night_wakings = value,
                        Outcome::InvoluntaryCount | Outcome::StiffnessCount => {}
                    }
                    out.push(r);
                }
                Ok(out)
            }
        }
    }
}

impl PowerPlan {
    /// The result in plain words, one paragraph per line (CLI and web print the same).
    pub fn lines(&self) -> Vec<String> {
        let t = self.threshold * 100.0;
        let e = &self.estimate;
        let effect = if e.outcome.is_count() {
            format!("{t:.0} % fewer {}", e.outcome.label())
        } else {
            format!("a {} lower by {t:.0} %", e.outcome.label())
        };
        let mut out = vec![
            format!(
                "If the treatment truly gave {effect} than the reference, a trial of {} blocks would \
                 say \"better\" in about {} of simulated trials.",
                self.blocks,
                self.power.text()
            ),
            format!(
                "With no effect at all, it would falsely say \"better\" in about {} of simulated trials.",
                self.false_better.text()
            ),
        ];
        out.push(match self.suggestion {
            Suggestion::Blocks { blocks, power } if blocks == self.blocks => format!(
                "{blocks} blocks is the fewest that reaches {:.0} % power (about {}).",
                TARGET_POWER * 100.0,
                power.text()
            ),
            Suggestion::Blocks { blocks, power } => format!(
                "Suggested: {blocks} blocks for about {:.0} % power (simulated {}).",
                TARGET_POWER * 100.0,
                power.text()
            ),
            Suggestion::NotEnough { max_blocks, power } => format!(
                "Even {max_blocks} blocks, the most this check tries, would not reach {:.0} % power \
                 (simulated {}): with your recent diary, a fall of {t:.0} % is hard to tell from \
                 day-to-day variation in a trial of this kind. Longer periods, a larger threshold \
                 or a more frequent outcome may help.",
                TARGET_POWER * 100.0,
                power.text()
            ),
        });
        let assumed = match e.params {
            Params::Count {
                rate,
                dispersion,
                ar_phi,
                ar_sigma,
            } => format!(
                "{rate:.2} {} on average, day-to-day overdispersion α {dispersion:.2}, persistence of \
                 bad and good spells (AR coefficient) {ar_phi:.2} with spread {ar_sigma:.2} on the log scale",
                e.outcome.label()
            ),
            Params::Score { mean, sd, ar_phi, .. } => format!(
                "{} {mean:.2} on average, day-to-day SD {sd:.2}, day-to-day autocorrelation {ar_phi:.2}",
                e.outcome.label()
            ),
        };
        out.push(format!(
            "Assumptions, from your diary's last {} days ({} usable): {assumed}; {:.0} % of days \
             without a usable value; threshold {t:.0} %; {} simulated trials per design with the \
             effect and {} without, seed {}; verdicts by the same analysis and rule as a real report \
             (final look). Any change of treatment or relapse during those days counts here as \
             ordinary ups and downs, which makes the figures more cautious.",
            e.window_days,
            e.usable_days,
            e.missing_share * 100.0,
            self.options.simulations,
            self.options.simulations,
            self.options.seed
        ));
        out.push(format!(
            "This is a simulation from your own recent data, not a promise: with only {} usable days \
             behind it, the power itself is uncertain (in checks on simulated patients, predictions \
             from 90 days of diary were typically 5 to 10 percentage points off, now and then more), \
             and the trial itself may turn out differently. It is not medical advice; discuss any \
             trial with your clinician. Nothing has been saved.",
            e.usable_days
        ));
        out
    }
}

#[cfg(test)]
#[path = "planning_tests.rs"]
mod tests;
