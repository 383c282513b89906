//! Simulates a two-arm n-of-1 trial with a known effect and prints every outcome's analysis
//! as JSON: a quick look at what the analysis returns.
//!
//! `cargo run -p tonus-stats --example trial_demo -- [seed] [true_rate_ratio]`

use tonus_stats::analysis::{analyse_trial_outcomes, AnalysisOptions};
use tonus_stats::design::TrialDesign;
use tonus_stats::series::records_from_sim;
use tonus_stats::sim::SimConfig;
use tonus_stats::trial_sim::{simulate_trial, ArmEffect};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seed: u64 = args.next().map_or(Ok(7), |s| s.parse())?;
    let rr: f64 = args.next().map_or(Ok(0.6), |s| s.parse())?;
    let design = TrialDesign::new(vec!["no treatment".into(), "baclofen".into()], seed);
    let effect = ArmEffect {
        onset_days: 3,
        washout_half_life_days: 1.0,
        ..ArmEffect::immediate(rr)
    };
    let base = SimConfig {
        seed,
        ..SimConfig::default()
    };
    let (calendar, patient) = simulate_trial(&base, &design, &[ArmEffect::NONE, effect])?;
    let records = records_from_sim(&patient);
    let results: Vec<serde_json::Value> = analyse_trial_outcomes(&design, &records, &AnalysisOptions::default())
        .into_iter()
        .map(|(outcome, r)| match r {
            Ok(a) => serde_json::to_value(a).unwrap_or_default(),
            Err(e) => serde_json::json!({ "outcome": outcome, "error": e.to_string() }),
        })
        .collect();
    let out = serde_json::json!({ "design": design, "calendar": calendar, "analyses": results });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
