//! Robustness of the trial analysis (issue #14 point 4): final-interval coverage of the true
//! effect in harder scenarios than tests/calibration.rs, and how often the carry-over and
//! trend checks flag a difference.
//!
//! Each scenario simulates randomised two-arm trials (14-day run-in, 4 blocks of two 14-day
//! periods with a 4-day washout: 80 analysed days), true rate ratio 0.7 unless stated,
//! AR(1) latent log-rate (φ 0.5, σ 0.25), NB2 counts (α 0.3), no unconfirmed days unless
//! stated, analysed with the default options exactly as a report is. Seeded: the figures
//! are the same on every run.
//!
//! Trials per scenario: `TONUS_ROBUSTNESS_TRIALS` (default 1,000: about 10 s in the dev
//! profile, where tonus-stats is built with opt-level 3). BENCHMARKS.md has the command and
//! table of the larger run.

use tonus_stats::analysis::{analyse_trial_excluding, AnalysisOptions};
use tonus_stats::checks::{CheckKind, Finding};
use tonus_stats::design::{Outcome, TrialDesign};
use tonus_stats::exclusion::{spans_from_flags, ExcludedSpan};
use tonus_stats::series::records_from_sim;
use tonus_stats::sim::SimConfig;
use tonus_stats::trial_sim::{simulate_trial, ArmEffect};
use tonus_stats::verdict::Verdict;

fn trials() -> u64 {
    std::env::var("TONUS_ROBUSTNESS_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n >= 100)
        .unwrap_or(1000)
}

#[derive(Default, Debug)]
struct Tally {
    done: u64,
    failures: u64,
    ci_covered: u64,
    post_covered: u64,
    better: u64,
    carry_over_flagged: u64,
    trend_flagged: u64,
    excluded_days: u64,
}

impl Tally {
    fn share(&self, n: u64) -> f64 {
        n as f64 / self.done.max(1) as f64
    }
}

/// How the flare (a relapse) enters the scenario.
#[derive(Clone, Copy, PartialEq)]
enum Flare {
    None,
    /// A 14-day relapse (rates × 2.5) starting on a random day of the trial's periods,
    /// recorded by the patient and so excluded by the pre-specified rule.
    Recorded,
    /// The same relapse, not recorded: analysed as if it were an ordinary fortnight.
    Unrecorded,
}

struct Scenario {
    name: &'static str,
    config: SimConfig,
    effect: ArmEffect,
    flare: Flare,
    /// Coverage of the reported (posterior) interval the test asserts: 93–97 %, or where the
    /// method over-covers, the measured figure with a margin (see BENCHMARKS.md).
    bounds: (f64, f64),
}

fn base() -> SimConfig {
    SimConfig {
        ar_phi: 0.5,
        ..SimConfig::quiet(0, 0)
    }
}

fn run(s: &Scenario, seed0: u64) -> Tally {
    let mut t = Tally::default();
    let truth = s.effect.rate_ratio_involuntary;
    for i in 0..trials() {
        let seed = seed0 * 1_000_003 + i;
        let design = TrialDesign {
            blocks: 4,
            ..TrialDesign::new(vec!["none".into(), "treatment".into()], seed)
        };
        let cal = design.calendar().expect("valid design");
        let first = cal.baseline.end;
        let mut cfg = SimConfig {
            seed,
            ..s.config.clone()
        };
        if s.flare != Flare::None {
            // A start anywhere from the first period to the last days, from the seed.
            let span = cal.total_days - first;
            cfg.flare_start_day = Some(first + (seed.wrapping_mul(2_654_435_761) % u64::from(span)) as u32);
            cfg.relapse_duration_days = 14;
            cfg.relapse_rate_ratio = 2.5;
        }
        let (_, patient) = simulate_trial(&cfg, &design, &[ArmEffect::NONE, s.effect]).expect("valid design");
        let spans: Vec<ExcludedSpan> = match s.flare {
            Flare::Recorded => spans_from_flags(patient.days.iter().map(|d| d.relapse), "relapse"),
            _ => Vec::new(),
        };
        let records = records_from_sim(&patient);
        match analyse_trial_excluding(
            &design,
            &records,
            Outcome::InvoluntaryCount,
            &AnalysisOptions::default(),
            &spans,
        ) {
            Ok(a) => {
                let c = &a.comparisons[0];
                t.done += 1;
                t.ci_covered += u64::from(c.ci_low <= truth && truth <= c.ci_high);
                t.post_covered += u64::from(c.posterior.low <= truth && truth <= c.posterior.high);
                t.better += u64::from(c.verdict == Verdict::Better);
                t.excluded_days += a.days_excluded as u64;
                let flagged = |k: CheckKind| a.checks.iter().any(|x| x.kind == k && x.finding == Finding::Differs);
                t.carry_over_flagged += u64::from(flagged(CheckKind::CarryOver));
                t.trend_flagged += u64::from(flagged(CheckKind::Trend));
            }
            Err(_) => t.failures += 1,
        }
    }
    t
}

fn scenarios() -> Vec<Scenario> {
    let rr = ArmEffect::immediate(0.7);
    let clustered = SimConfig {
        ar_phi: 0.8,
        ar_sigma: 0.35,
        nb_dispersion: 1.0,
        ..base()
    };
    let ok = (0.93, 0.97);
    vec![
        Scenario {
            name: "reference (as tests/calibration.rs)",
            config: base(),
            effect: rr,
            flare: Flare::None,
            bounds: ok,
        },
        Scenario {
            name: "clustered episodes (φ 0.8, σ 0.35, α 1.0)",
            config: clustered.clone(),
            effect: rr,
            flare: Flare::None,
            bounds: ok,
        },
        Scenario {
            name: "a 14-day flare (×2.5), recorded and excluded",
            config: base(),
            effect: rr,
            flare: Flare::Recorded,
            bounds: ok,
        },
        Scenario {
            name: "clustered episodes and a recorded flare",
            config: clustered.clone(),
            effect: rr,
            flare: Flare::Recorded,
            bounds: ok,
        },
        Scenario {
            name: "clustered episodes and a recorded flare, no effect",
            config: clustered,
            effect: ArmEffect::NONE,
            flare: Flare::Recorded,
            bounds: ok,
        },
        Scenario {
            name: "a 14-day flare (×2.5), not recorded",
            config: base(),
            effect: rr,
            flare: Flare::Unrecorded,
            bounds: ok,
        },
        Scenario {
            name: "low rate (0.4/day, about 70 % zero days), 10 % unconfirmed",
            config: SimConfig {
                baseline_rate_involuntary: 0.4,
                p_missing_checkin: 0.1,
                ..base()
            },
            effect: rr,
            flare: Flare::None,
            // Measured 97.5 % (1,000 trials): conservative, the prior weighs with few episodes.
            bounds: (0.95, 0.99),
        },
        Scenario {
            name: "strong drift (rate × 0.4 per 100 days)",
            config: SimConfig {
                drift_rate_ratio_per_100_days: 0.4,
                ..base()
            },
            effect: rr,
            flare: Flare::None,
            // Measured 98.2 %: conservative, the drift widens the robust interval (the
            // randomised blocks keep the estimate unbiased); the trend check flags it.
            bounds: (0.96, 0.995),
        },
        Scenario {
            name: "weekly rhythm (log-rate ± 0.4)",
            config: SimConfig {
                weekly_amplitude: 0.4,
                ..base()
            },
            effect: rr,
            flare: Flare::None,
            bounds: ok,
        },
        Scenario {
            name: "carry-over beyond the washout (half-life 3 days, washout 4)",
            config: base(),
            effect: ArmEffect {
                washout_half_life_days: 3.0,
                ..rr
            },
            flare: Flare::None,
            bounds: ok,
        },
    ]
}

#[test]
fn final_intervals_keep_their_coverage_in_hard_scenarios() {
    let n = trials();
    let mut ok = true;
    let mut lines = vec![format!(
        "| scenario | true RR | CI coverage | posterior coverage | 'better' | carry-over flagged | trend flagged | failed fits |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
    )];
    for (i, s) in scenarios().iter().enumerate() {
        let t = run(s, 500 + i as u64);
        let pct = |x: u64| format!("{:.1} %", t.share(x) * 100.0);
        lines.push(format!(
            "| {} | {:.1} | {} | {} | {} | {} | {} | {} of {n} |",
            s.name,
            s.effect.rate_ratio_involuntary,
            pct(t.ci_covered),
            pct(t.post_covered),
            pct(t.better),
            pct(t.carry_over_flagged),
            pct(t.trend_flagged),
            t.failures
        ));
        let (lo, hi) = s.bounds;
        // The verdicts and words use the posterior interval; the confidence interval is
        // reported alongside and must not fall far below 95 % (measured 92.3 % at worst).
        ok &= (lo..=hi).contains(&t.share(t.post_covered)) && t.share(t.ci_covered) >= 0.91 && t.failures * 100 <= n;
        if s.effect.rate_ratio_involuntary == 1.0 {
            ok &= t.share(t.better) <= 0.05;
        }
    }
    let table = lines.join("\n");
    println!("{n} trials per scenario\n{table}");
    assert!(ok, "coverage out of bounds:\n{table}");
}
