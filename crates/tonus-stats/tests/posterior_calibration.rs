//! Calibration of the Bayesian summary (weakly informative prior × robust likelihood)
//! against simulated patients with known truth.
//!
//! Each scenario simulates 2,000 randomised two-arm trials (14-day run-in, then 4 blocks of
//! two 14-day periods, each starting with 4 washout days) and checks that
//! - the 95 % posterior interval covers the true effect in 93–97 % of trials;
//! - with no true effect, "better" is said in at most 5 % of trials, and an encouraging
//!   probability ("chance of a fall of at least 30 %" of 50 % or more) is put into words in
//!   at most 5 %.
//!
//! Seeded, so the figures are the same on every run. Run with `-- --nocapture` to see them.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use tonus_stats::analysis::{analyse_trial, AnalysisOptions, Comparison};
use tonus_stats::design::{DayRole, Outcome, TrialDesign};
use tonus_stats::series::{records_from_sim, DayRecord};
use tonus_stats::sim::SimConfig;
use tonus_stats::trial_sim::{simulate_trial, ArmEffect};
use tonus_stats::verdict::Verdict;

const TRIALS: u64 = 2000;

#[derive(Default)]
struct Tally {
    done: u64,
    failures: u64,
    covered: u64,
    better: u64,
    no_meaningful: u64,
    encouraging: u64,
}

impl Tally {
    fn add(&mut self, c: Option<&Comparison>, truth: f64) {
        let Some(c) = c else {
            self.failures += 1;
            return;
        };
        self.done += 1;
        self.covered += u64::from(c.posterior.low <= truth && truth <= c.posterior.high);
        self.better += u64::from(c.verdict == Verdict::Better);
        self.no_meaningful += u64::from(c.verdict == Verdict::NoMeaningfulDifference);
        self.encouraging += u64::from(c.probabilities_shown && c.posterior.prob_fall_threshold >= 0.5);
    }
    fn share(&self, n: u64) -> f64 {
        n as f64 / self.done.max(1) as f64
    }
}

fn design(seed: u64) -> TrialDesign {
    TrialDesign {
        blocks: 4,
        ..TrialDesign::new(vec!["none".into(), "treatment".into()], seed)
    }
}

fn count_scenario(true_rr: f64, base: &SimConfig, outcome: Outcome, seed0: u64) -> Tally {
    let mut t = Tally::default();
    for i in 0..TRIALS {
        let seed = seed0 * 1_000_003 + i;
        let d = design(seed);
        let cfg = SimConfig { seed, ..base.clone() };
        let (_, patient) =
            simulate_trial(&cfg, &d, &[ArmEffect::NONE, ArmEffect::immediate(true_rr)]).expect("valid design");
        let a = analyse_trial(&d, &records_from_sim(&patient), outcome, &AnalysisOptions::default()).ok();
        t.add(a.as_ref().map(|a| &a.comparisons[0]), true_rr);
    }
    t
}

/// A daily rating = 5 + effect on treatment days + AR(1) noise: the true difference is known.
fn score_scenario(true_diff: f64, phi: f64, seed0: u64) -> Tally {
    let mut t = Tally::default();
    let noise = Normal::new(0.0, 1.0).expect("valid normal");
    for i in 0..TRIALS {
        let seed = seed0 * 1_000_003 + i;
        let d = design(seed);
        let cal = d.calendar().expect("valid design");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
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
        let a = analyse_trial(&d, &records, Outcome::SpasticityNrs, &AnalysisOptions::default()).ok();
        t.add(a.as_ref().map(|a| &a.comparisons[0]), true_diff);
    }
    t
}

#[test]
fn posterior_intervals_cover_the_truth_and_null_trials_are_not_encouraged() {
    let sim = |phi: f64, missing: f64| SimConfig {
        ar_phi: phi,
        p_missing_checkin: missing,
        ..SimConfig::quiet(0, 0)
    };
    let scenarios: Vec<(&str, Tally, bool)> = vec![
        (
            "involuntary, RR 0.7, ar_phi 0.5, 10 % unconfirmed",
            count_scenario(0.7, &sim(0.5, 0.1), Outcome::InvoluntaryCount, 101),
            false,
        ),
        (
            "involuntary, RR 1.0, ar_phi 0.5, 20 % unconfirmed",
            count_scenario(1.0, &sim(0.5, 0.2), Outcome::InvoluntaryCount, 102),
            true,
        ),
        (
            "stiffness, RR 1.0, ar_phi 0.5",
            count_scenario(1.0, &sim(0.5, 0.0), Outcome::StiffnessCount, 103),
            true,
        ),
        (
            "spasticity NRS, diff -1.0, AR(1) 0.5",
            score_scenario(-1.0, 0.5, 104),
            false,
        ),
        ("spasticity NRS, diff 0, AR(1) 0.5", score_scenario(0.0, 0.5, 105), true),
    ];
    let mut ok = true;
    let mut lines = Vec::new();
    for (name, t, null) in &scenarios {
        let line = format!(
            "{name}: posterior coverage {:.1} %, 'better' {:.1} %, 'no meaningful difference' {:.1} %, \
             encouraging probability shown {:.1} %, failed fits {} of {}",
            t.share(t.covered) * 100.0,
            t.share(t.better) * 100.0,
            t.share(t.no_meaningful) * 100.0,
            t.share(t.encouraging) * 100.0,
            t.failures,
            t.done + t.failures
        );
        println!("{line}");
        ok &= (0.93..=0.97).contains(&t.share(t.covered)) && t.failures * 200 <= TRIALS;
        if *null {
            ok &= t.share(t.better) <= 0.05 && t.share(t.encouraging) <= 0.05;
        }
        lines.push(line);
    }
    assert!(ok, "calibration out of bounds:\n{}", lines.join("\n"));
}
