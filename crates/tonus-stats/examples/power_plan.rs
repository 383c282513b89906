//! Times the dry-run power plan (`tonus trial plan --dry-run` without the database): a
//! 90-day diary of a simulated patient, then the planner on a few designs.
//!
//! `cargo run --release --locked --example power_plan`

use std::time::Instant;

use tonus_stats::design::{Outcome, TrialDesign};
use tonus_stats::planning::{estimate, plan_power, PlanningOptions, WINDOW_DAYS};
use tonus_stats::series::records_from_sim;
use tonus_stats::sim::{simulate, SimConfig};

fn main() -> Result<(), tonus_stats::StatsError> {
    let diary = records_from_sim(&simulate(&SimConfig {
        days: WINDOW_DAYS,
        ..SimConfig::default()
    }));
    let designs = [
        (
            "2 arms, 3 blocks of 14 days, involuntary count",
            3,
            Outcome::InvoluntaryCount,
        ),
        (
            "2 arms, 8 blocks of 14 days, involuntary count",
            8,
            Outcome::InvoluntaryCount,
        ),
        (
            "2 arms, 3 blocks of 14 days, stiffness count",
            3,
            Outcome::StiffnessCount,
        ),
        ("2 arms, 3 blocks of 14 days, spasticity NRS", 3, Outcome::SpasticityNrs),
    ];
    for (name, blocks, outcome) in designs {
        let design = TrialDesign {
            blocks,
            primary_outcome: outcome,
            ..TrialDesign::new(vec!["none".into(), "treatment".into()], 1)
        };
        let started = Instant::now();
        let est = estimate(&diary, outcome)?;
        let mut batches = 0;
        let plan = plan_power(&design, &est, &PlanningOptions::default(), &mut |_| batches += 1)?;
        println!(
            "{name}: {:.2} s ({batches} batches of {} trials); power {}, false better {}, {:?}",
            started.elapsed().as_secs_f64(),
            plan.options.simulations,
            plan.power.text(),
            plan.false_better.text(),
            plan.suggestion
        );
    }
    Ok(())
}
