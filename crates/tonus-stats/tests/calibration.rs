//! Calibration of the trial analysis against simulated patients with known truth.
//!
//! Each scenario simulates 2,000 randomised two-arm trials (14-day run-in, then 4 blocks of
//! two 14-day periods, each starting with 4 washout days: 80 analysed days), analyses them
//! with the default options, and checks that
//! - the 95 % interval covers the true effect in 93–97 % of trials, and
//! - a treatment with no effect is called "better" in at most 5 % of trials.
//!
//! Run with `-- --nocapture` to see the figures.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use tonus_stats::analysis::{analyse_trial, AnalysisOptions};
use tonus_stats::design::{DayRole, Outcome, TrialDesign};
use tonus_stats::series::{records_from_sim, DayRecord};
use tonus_stats::sim::SimConfig;
use tonus_stats::trial_sim::{simulate_trial, ArmEffect};
use tonus_stats::verdict::Verdict;

const TRIALS: u64 = 2000;

#[derive(Default)]
struct Tally {
    covered: u64,
    better: u64,
    failures: u64,
    done: u64,
    /// Trials where the gamma–Poisson posterior gave P(better) > 0.975.
    bayes_confident: u64,
}

impl Tally {
    fn add(&mut self, result: Option<(f64, f64, Verdict)>, truth: f64) {
        match result {
            Some((lo, hi, v)) => {
                self.done += 1;
                self.covered += u64::from(lo <= truth && truth <= hi);
                self.better += u64::from(v == Verdict::Better);
            }
            None => self.failures += 1,
        }
    }
    fn coverage(&self) -> f64 {
        self.covered as f64 / self.done.max(1) as f64
    }
    fn bayes_rate(&self) -> f64 {
        self.bayes_confident as f64 / self.done.max(1) as f64
    }
    fn better_rate(&self) -> f64 {
        self.better as f64 / self.done.max(1) as f64
    }
}

fn design(seed: u64) -> TrialDesign {
    TrialDesign {
        blocks: 4,
        ..TrialDesign::new(vec!["none".into(), "treatment".into()], seed)
    }
}

/// Count outcome: the simulator's NB counts around an AR(1) latent log-rate.
fn count_scenario(true_rr: f64, base: &SimConfig, outcome: Outcome, seed0: u64) -> Tally {
    count_scenario_with(ArmEffect::immediate(true_rr), base, outcome, seed0)
}

fn count_scenario_with(effect: ArmEffect, base: &SimConfig, outcome: Outcome, seed0: u64) -> Tally {
    let true_rr = effect.rate_ratio_involuntary;
    let mut t = Tally::default();
    for i in 0..TRIALS {
        let seed = seed0 * 1_000_003 + i;
        let d = design(seed);
        let cfg = SimConfig { seed, ..base.clone() };
        let effects = [ArmEffect::NONE, effect];
        let (_, patient) = simulate_trial(&cfg, &d, &effects).expect("valid design");
        let records = records_from_sim(&patient);
        let r = analyse_trial(&d, &records, outcome, &AnalysisOptions::default())
            .ok()
            .map(|a| {
                let c = &a.comparisons[0];
                if c.gamma_poisson.is_some_and(|g| g.prob_better > 0.975) {
                    t.bayes_confident += 1;
                }
                (c.ci_low, c.ci_high, c.verdict)
            });
        t.add(r, true_rr);
    }
    t
}

/// Score outcome: a daily rating = 5 + effect on treatment days + AR(1) noise, so the true
/// mean difference is known exactly.
fn score_scenario(true_diff: f64, phi: f64, seed0: u64) -> Tally {
    let mut t = Tally::default();
    for i in 0..TRIALS {
        let seed = seed0 * 1_000_003 + i;
        let d = design(seed);
        let cal = d.calendar().expect("valid design");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let noise = Normal::new(0.0, 1.0).expect("valid normal");
        let mut e = 0.0;
        let records: Vec<DayRecord> = (0..cal.total_days)
            .map(|day| {
                e = phi * e + noise.sample(&mut rng);
                let on = matches!(
                    cal.role(day),
                    Some(DayRole::Analysed { arm: 1, .. } | DayRole::Washout { arm: 1, .. })
                );
                DayRecord {
                    day,
                    confirmed: true,
                    involuntary_count: 0,
                    stiffness_count: 0,
                    mean_episode_pain: None,
                    spasticity_nrs: Some(5.0 + if on { true_diff } else { 0.0 } + e),
                    pain_nrs: None,
                    night_wakings: None,
                    exercise_load: 0.0,
                }
            })
            .collect();
        let r = analyse_trial(&d, &records, Outcome::SpasticityNrs, &AnalysisOptions::default())
            .ok()
            .map(|a| {
                let c = &a.comparisons[0];
                (c.ci_low, c.ci_high, c.verdict)
            });
        t.add(r, true_diff);
    }
    t
}

#[test]
fn intervals_cover_the_truth_and_null_is_rarely_better() {
    let quiet = |phi: f64, missing: f64| SimConfig {
        ar_phi: phi,
        p_missing_checkin: missing,
        ..SimConfig::quiet(0, 0)
    };
    let mut lines = Vec::new();
    let mut ok = true;
    let mut check = |name: String, t: Tally, null: bool, counts: bool| {
        let bayes = if counts {
            format!(", gamma-Poisson P(better) > 0.975 in {:.1} %", t.bayes_rate() * 100.0)
        } else {
            String::new()
        };
        let line = format!(
            "{name}: coverage {:.1} %, 'better' {:.1} %{bayes}, failed fits {} of {}",
            t.coverage() * 100.0,
            t.better_rate() * 100.0,
            t.failures,
            t.done + t.failures
        );
        println!("{line}");
        lines.push(line);
        ok &= (0.93..=0.97).contains(&t.coverage()) && t.failures * 200 <= TRIALS;
        if null {
            ok &= t.better_rate() <= 0.05 && t.bayes_rate() <= 0.05;
        }
    };
    let mut seed = 0;
    for (rr, phi, missing, outcome) in [
        (0.7, 0.0, 0.0, Outcome::InvoluntaryCount),
        (0.7, 0.5, 0.0, Outcome::InvoluntaryCount),
        (1.0, 0.0, 0.0, Outcome::InvoluntaryCount),
        (1.0, 0.5, 0.0, Outcome::InvoluntaryCount),
        (0.7, 0.5, 0.0, Outcome::StiffnessCount),
        (1.0, 0.5, 0.0, Outcome::StiffnessCount),
        (1.0, 0.5, 0.2, Outcome::InvoluntaryCount),
    ] {
        seed += 1;
        let t = count_scenario(rr, &quiet(phi, missing), outcome, seed);
        check(
            format!("{outcome:?} true RR {rr:.1}, ar_phi {phi:.1}, missing {missing:.1}"),
            t,
            rr == 1.0,
            true,
        );
    }
    // A realistic treatment: full effect after 3 days, carry-over halving daily after
    // stopping. The 4 washout days should leave the full-effect rate ratio as the truth.
    seed += 1;
    let gradual = ArmEffect {
        onset_days: 3,
        washout_half_life_days: 1.0,
        ..ArmEffect::immediate(0.7)
    };
    let t = count_scenario_with(gradual, &quiet(0.5, 0.1), Outcome::InvoluntaryCount, seed);
    check(
        "InvoluntaryCount true RR 0.7 with 3-day onset and 1-day carry-over half-life, ar_phi 0.5, missing 0.1".into(),
        t,
        false,
        true,
    );
    for (diff, phi) in [(0.0, 0.0), (0.0, 0.5), (-1.0, 0.5)] {
        seed += 1;
        let t = score_scenario(diff, phi, seed);
        check(
            format!("SpasticityNrs true difference {diff:+.1}, AR(1) phi {phi:.1}"),
            t,
            diff == 0.0,
            false,
        );
    }
    assert!(ok, "calibration out of bounds:\n{}", lines.join("\n"));
}
