use super::*;
use crate::analysis::analyse_trial;
use crate::design::{Outcome, TrialDesign};
use crate::series::records_from_sim;
use crate::sim::SimConfig;
use crate::trial_sim::{simulate_trial, ArmEffect};

fn design(blocks: u32, seed: u64) -> TrialDesign {
    TrialDesign {
        blocks,
        ..TrialDesign::new(vec!["none".into(), "drug".into()], seed)
    }
}

fn check(a: &crate::analysis::OutcomeAnalysis, kind: CheckKind) -> &RobustnessCheck {
    a.checks.iter().find(|c| c.kind == kind).expect("check present")
}

#[test]
fn first_days_are_a_third_of_the_period_between_one_and_three() {
    assert_eq!(first_days(10), 3);
    assert_eq!(first_days(6), 2);
    assert_eq!(first_days(2), 1);
    assert_eq!(first_days(30), 3);
}

#[test]
fn long_carry_over_shows_in_the_first_days() {
    // A strong drug whose effect halves every 3 days after stopping, a 1-day washout: the
    // first days after a switch still carry the previous arm, the later ones much less.
    let d = TrialDesign {
        washout_days: 1,
        ..design(8, 5)
    };
    let effect = ArmEffect {
        washout_half_life_days: 3.0,
        ..ArmEffect::immediate(0.3)
    };
    let cfg = SimConfig {
        baseline_rate_involuntary: 12.0,
        nb_dispersion: 0.1,
        ar_sigma: 0.1,
        ..SimConfig::quiet(0, 21)
    };
    let (_, p) = simulate_trial(&cfg, &d, &[ArmEffect::NONE, effect]).unwrap();
    let a = analyse_trial(
        &d,
        &records_from_sim(&p),
        Outcome::InvoluntaryCount,
        &Default::default(),
    )
    .unwrap();
    let c = check(&a, CheckKind::CarryOver);
    assert_eq!(c.arm.as_deref(), Some("drug"));
    assert_eq!(c.first_days, Some(3));
    assert!(c.estimate.unwrap() > 1.0, "{}", c.text);
    assert_eq!(c.finding, Finding::Differs, "{}", c.text);
    assert!(c.text.contains("carry-over"), "{}", c.text);
}

#[test]
fn strong_drift_shows_as_a_trend_and_the_adjusted_comparison_is_given() {
    let d = design(4, 6);
    let cfg = SimConfig {
        drift_rate_ratio_per_100_days: 0.3,
        ..SimConfig::quiet(0, 22)
    };
    let (_, p) = simulate_trial(&cfg, &d, &[ArmEffect::NONE, ArmEffect::NONE]).unwrap();
    let a = analyse_trial(
        &d,
        &records_from_sim(&p),
        Outcome::InvoluntaryCount,
        &Default::default(),
    )
    .unwrap();
    let c = check(&a, CheckKind::Trend);
    assert!(c.estimate.unwrap() < 0.7, "{}", c.text);
    assert_eq!(c.finding, Finding::Differs, "{}", c.text);
    assert!(c.text.contains("allowing for the trend: drug vs none"), "{}", c.text);
}

#[test]
fn no_carry_over_and_no_drift_do_not_differ() {
    let d = design(6, 7);
    let cfg = SimConfig {
        baseline_rate_involuntary: 12.0,
        ..SimConfig::quiet(0, 23)
    };
    let (_, p) = simulate_trial(&cfg, &d, &[ArmEffect::NONE, ArmEffect::immediate(0.7)]).unwrap();
    let a = analyse_trial(
        &d,
        &records_from_sim(&p),
        Outcome::InvoluntaryCount,
        &Default::default(),
    )
    .unwrap();
    for c in &a.checks {
        assert_ne!(c.finding, Finding::Differs, "{}", c.text);
        assert!(c.estimate.is_some());
    }
}

#[test]
fn a_score_outcome_gets_both_checks_in_points() {
    let d = design(4, 8);
    let (_, p) = simulate_trial(&SimConfig::quiet(0, 24), &d, &[ArmEffect::NONE, ArmEffect::NONE]).unwrap();
    let a = analyse_trial(&d, &records_from_sim(&p), Outcome::SpasticityNrs, &Default::default()).unwrap();
    assert_eq!(a.checks.len(), 2);
    assert!(a.checks.iter().all(|c| c.scale == EffectScale::MeanDifference));
    assert!(check(&a, CheckKind::CarryOver).text.contains("mean difference"));
}

#[test]
fn an_early_look_says_the_data_cannot_tell_yet() {
    let d = design(4, 9);
    let cal = d.calendar().unwrap();
    let (_, p) = simulate_trial(&SimConfig::quiet(0, 25), &d, &[ArmEffect::NONE, ArmEffect::NONE]).unwrap();
    // Only the run-in and the first two periods have happened.
    let until = cal.periods[1].days.end;
    let records: Vec<_> = records_from_sim(&p).into_iter().filter(|r| r.day < until).collect();
    let a = analyse_trial(&d, &records, Outcome::InvoluntaryCount, &Default::default()).unwrap();
    assert_eq!(a.checks.len(), 2);
    for c in &a.checks {
        assert_eq!(c.finding, Finding::CannotTell, "{}", c.text);
    }
}
