//! Power planning keeps its promise (issue #14, point 6, "Done when": power-planning
//! predictions within ±5 points of the simulated power).
//!
//! Two checks, for three designs and effect sizes chosen with power in the steep middle of
//! its curve (about 50–80 %), where errors show the most:
//!
//! 1. The planner's prediction, given a patient's parameters, is within ±5 points of the power
//!    seen when the same design is run 2,000 times on that patient with fresh seeds (other
//!    random orders, other diaries), through the simulator's own trial path and the same
//!    analysis a real report uses. Same for the false-"better" rate (±3 points).
//! 2. What a 90-day diary costs: the planner estimates the parameters from a diary of the
//!    true patient and predicts again, for 15 diaries per design. The spread of those
//!    predictions around the true power is the uncertainty that comes from the diary being
//!    short; it is measured, printed and bounded loosely here, and reported in BENCHMARKS.md.
//!
//! Seeded, so the figures are the same on every run. Run with `-- --nocapture` to see them.

use tonus_stats::analysis::{analyse_trial, AnalysisOptions};
use tonus_stats::design::{Outcome, TrialDesign};
use tonus_stats::planning::{estimate, plan_power, simulated_share, Estimate, Params, PlanningOptions, WINDOW_DAYS};
use tonus_stats::series::records_from_sim;
use tonus_stats::sim::{simulate, SimConfig};
use tonus_stats::trial_sim::{simulate_trial, ArmEffect};
use tonus_stats::verdict::Verdict;

const OBSERVED_TRIALS: u64 = 2000;
const DIARIES: u64 = 15;

struct Scenario {
    name: &'static str,
    truth: SimConfig,
    design: TrialDesign,
}

impl Scenario {
    fn outcome(&self) -> Outcome {
        self.design.primary_outcome
    }

    /// The truth in the planner's terms.
    fn true_estimate(&self) -> Estimate {
        let t = &self.truth;
        let rate = match self.outcome() {
            Outcome::StiffnessCount => t.baseline_rate_stiffness,
            _ => t.baseline_rate_involuntary,
        };
        Estimate {
            outcome: self.outcome(),
            window_days: WINDOW_DAYS as usize,
            usable_days: WINDOW_DAYS as usize,
            missing_share: t.p_missing_checkin,
            params: Params::Count {
                rate,
                dispersion: t.nb_dispersion,
                ar_phi: t.ar_phi,
                ar_sigma: t.ar_sigma,
            },
        }
    }
}

fn scenarios() -> Vec<Scenario> {
    let two = |blocks: u32, threshold: f64, outcome: Outcome| TrialDesign {
        blocks,
        success_threshold: threshold,
        primary_outcome: outcome,
        ..TrialDesign::new(vec!["none".into(), "treatment".into()], 0)
    };
    vec![
        Scenario {
            name: "involuntary 6/day, α 0.3, φ 0.5, σ 0.25; 8 blocks of 14 days, 30 % threshold",
            truth: SimConfig {
                p_missing_checkin: 0.1,
                ..SimConfig::quiet(0, 11)
            },
            design: two(8, 0.3, Outcome::InvoluntaryCount),
        },
        Scenario {
            name: "stiffness 2/day, α 0.5, φ 0.6, σ 0.2; 6 blocks of 14 days, 40 % threshold",
            truth: SimConfig {
                baseline_rate_stiffness: 2.0,
                nb_dispersion: 0.5,
                ar_phi: 0.6,
                ar_sigma: 0.2,
                p_missing_checkin: 0.1,
                ..SimConfig::quiet(0, 12)
            },
            design: two(6, 0.4, Outcome::StiffnessCount),
        },
        Scenario {
            name: "involuntary 3/day, α 0.2, φ 0.4, σ 0.3; 4 blocks of 14 days, 50 % threshold",
            truth: SimConfig {
                baseline_rate_involuntary: 3.0,
                nb_dispersion: 0.2,
                ar_phi: 0.4,
                ar_sigma: 0.3,
                p_missing_checkin: 0.1,
                ..SimConfig::quiet(0, 13)
            },
            design: two(4, 0.5, Outcome::InvoluntaryCount),
        },
    ]
}

/// Share of `OBSERVED_TRIALS` runs of the design on the true patient that say "better" for
/// the treatment (true rate ratio 1 − threshold when `effect`, 1 otherwise).
fn observed(s: &Scenario, effect: bool, seed0: u64) -> f64 {
    let rr = if effect { 1.0 - s.design.success_threshold } else { 1.0 };
    let mut hits = 0;
    for i in 0..OBSERVED_TRIALS {
        let seed = seed0 * 7_919 + i;
        let design = TrialDesign {
            seed,
            ..s.design.clone()
        };
        let cfg = SimConfig {
            seed,
            ..s.truth.clone()
        };
        let (_, patient) =
            simulate_trial(&cfg, &design, &[ArmEffect::NONE, ArmEffect::immediate(rr)]).expect("valid design");
        let records = records_from_sim(&patient);
        if let Ok(a) = analyse_trial(&design, &records, s.outcome(), &AnalysisOptions::default()) {
            hits += u32::from(a.comparisons[0].verdict == Verdict::Better);
        }
    }
    f64::from(hits) / OBSERVED_TRIALS as f64
}

#[test]
fn predicted_power_is_within_five_points_of_simulated_power() {
    let mut lines = Vec::new();
    let mut ok = true;
    for (k, s) in scenarios().iter().enumerate() {
        // The planner as shipped (its default number of simulated trials), its own seeds.
        let options = PlanningOptions {
            seed: 900 + k as u64,
            ..PlanningOptions::default()
        };
        let plan = plan_power(&s.design, &s.true_estimate(), &options, &mut |_| {}).expect("simulates");
        let power = observed(s, true, 3 + k as u64);
        let false_better = observed(s, false, 30 + k as u64);
        let d_power = (plan.power.share - power) * 100.0;
        let d_false = (plan.false_better.share - false_better) * 100.0;
        ok &= d_power.abs() <= 5.0 && d_false.abs() <= 3.0;
        lines.push(format!(
            "{}: power predicted {:.1} % (MC SE {:.1}), observed {:.1} % ({d_power:+.1} points); \
             false 'better' predicted {:.1} %, observed {:.1} % ({d_false:+.1}); suggested {:?}",
            s.name,
            plan.power.share * 100.0,
            plan.power.se * 100.0,
            power * 100.0,
            plan.false_better.share * 100.0,
            false_better * 100.0,
            plan.suggestion
        ));
    }
    let all = lines.join("\n");
    println!("{all}");
    assert!(
        ok,
        "a prediction is off by more than 5 points (3 for false 'better'):\n{all}"
    );
}

#[test]
fn what_a_ninety_day_diary_costs() {
    let mut lines = Vec::new();
    let (mut worst_median, mut worst_bias): (f64, f64) = (0.0, 0.0);
    for (k, s) in scenarios().iter().enumerate() {
        let power = observed(s, true, 3 + k as u64);
        let options = PlanningOptions {
            seed: 900 + k as u64,
            ..PlanningOptions::default()
        };
        let mut errors: Vec<f64> = (0..DIARIES)
            .map(|j| {
                let diary = records_from_sim(&simulate(&SimConfig {
                    days: WINDOW_DAYS,
                    seed: 5_000 + 100 * k as u64 + j,
                    ..s.truth.clone()
                }));
                let est = estimate(&diary, s.outcome()).expect("enough diary");
                let p = simulated_share(&s.design, &est, &options, true).expect("simulates");
                (p.share - power) * 100.0
            })
            .collect();
        errors.sort_by(f64::total_cmp);
        let bias = errors.iter().sum::<f64>() / errors.len() as f64;
        let mut abs: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
        abs.sort_by(f64::total_cmp);
        let median_abs = abs[abs.len() / 2];
        let within5 = abs.iter().filter(|e| **e <= 5.0).count();
        worst_median = worst_median.max(median_abs);
        worst_bias = worst_bias.max(bias.abs());
        lines.push(format!(
            "{}: true power {:.1} %; from {DIARIES} 90-day diaries the prediction is off by {:+.1} \
             points on average, median |error| {median_abs:.1}, range {:+.1} to {:+.1}; within ±5 \
             points for {within5} of {DIARIES}",
            s.name,
            power * 100.0,
            bias,
            errors[0],
            errors[errors.len() - 1]
        ));
    }
    let all = lines.join("\n");
    println!("{all}");
    // Loose: a 90-day diary's own noise moves single predictions by 5–10 points (more now
    // and then; BENCHMARKS.md), but on average they must be right: a planner that
    // systematically over- or under-states power (as one that let a lag-1 bump pass for huge
    // swings once did, by −24 points) fails here.
    assert!(worst_bias <= 5.0 && worst_median <= 12.0, "{all}");
}
