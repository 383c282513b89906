use super::*;
use crate::series::records_from_sim;
use crate::sim::SimConfig;
use crate::trial_sim::{simulate_trial, ArmEffect};

fn design() -> TrialDesign {
    TrialDesign {
        blocks: 4,
        ..TrialDesign::new(vec!["none".into(), "drug".into()], 9)
    }
}

#[test]
fn strong_effect_is_found_and_reported() {
    let d = design();
    let (_, p) = simulate_trial(
        &SimConfig::quiet(0, 3),
        &d,
        &[ArmEffect::NONE, ArmEffect::immediate(0.4)],
    )
    .unwrap();
    let r = records_from_sim(&p);
    let a = analyse_trial(&d, &r, Outcome::InvoluntaryCount, &AnalysisOptions::default()).unwrap();
    let c = &a.comparisons[0];
    assert_eq!(c.verdict, Verdict::Better, "{c:?}");
    assert!(c.ci_low < 0.4 && 0.4 < c.ci_high * 1.2, "{c:?}");
    assert!(c.prob_better > 0.95);
    let gp = c.gamma_poisson.unwrap();
    assert!(gp.prob_better > 0.95 && gp.design_effect >= 1.0);
    assert!((gp.prob_meets_threshold - c.prob_meets_threshold).abs() < 0.2);
    assert_eq!(a.periods.len(), 8);
    assert_eq!(a.days_washout, 8 * 4);
    assert!(c.text.contains("not medical advice"));
    assert!(c.text.contains("at least 30 %"), "{}", c.text);
    // Scores are linked to counts, so spasticity should fall too.
    let s = analyse_trial(&d, &r, Outcome::SpasticityNrs, &AnalysisOptions::default()).unwrap();
    assert!(s.comparisons[0].estimate < 0.0);
    assert!(s.comparisons[0].responder_share.is_some());
    let all = analyse_trial_outcomes(&d, &r, &AnalysisOptions::default());
    assert_eq!(all.len(), 6);
}

#[test]
fn unconfirmed_days_are_ignored() {
    let d = design();
    let cfg = SimConfig {
        p_missing_checkin: 0.3,
        ..SimConfig::quiet(0, 4)
    };
    let (_, p) = simulate_trial(&cfg, &d, &[ArmEffect::NONE, ArmEffect::NONE]).unwrap();
    let r = records_from_sim(&p);
    let a = analyse_trial(&d, &r, Outcome::StiffnessCount, &AnalysisOptions::default()).unwrap();
    let unconfirmed_analysed = a.periods.iter().map(|p| p.days_missing).sum::<usize>();
    assert!(unconfirmed_analysed > 0);
    assert_eq!(a.days_used + a.days_missing, 8 * 10);
}

#[test]
fn observational_ranges_are_flagged_and_checked() {
    let p = crate::sim::simulate(&SimConfig::quiet(120, 5));
    let r = records_from_sim(&p);
    let a = compare_ranges(
        &r,
        0..60,
        60..120,
        Outcome::InvoluntaryCount,
        0.3,
        &AnalysisOptions::default(),
    )
    .unwrap();
    assert!(a.observational);
    assert!(a.comparisons[0].text.contains("not randomised"));
    assert!(compare_ranges(
        &r,
        0..60,
        50..120,
        Outcome::InvoluntaryCount,
        0.3,
        &AnalysisOptions::default()
    )
    .is_err());
}

#[test]
fn poisson_data_fall_back_or_fit_and_zero_arm_is_explained() {
    let d = design();
    let cfg = SimConfig {
        nb_dispersion: 0.0,
        ar_sigma: 0.0,
        ..SimConfig::quiet(0, 6)
    };
    let (_, p) = simulate_trial(&cfg, &d, &[ArmEffect::NONE, ArmEffect::NONE]).unwrap();
    let mut r = records_from_sim(&p);
    let a = analyse_trial(&d, &r, Outcome::InvoluntaryCount, &AnalysisOptions::default());
    assert!(a.is_ok(), "{a:?}");
    let cal = d.calendar().unwrap();
    for per in cal.periods.iter().filter(|p| p.arm == 1) {
        for day in per.days.clone() {
            r[day as usize].involuntary_count = 0;
        }
    }
    let e = analyse_trial(&d, &r, Outcome::InvoluntaryCount, &AnalysisOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no episodes"), "{e}");
}

#[test]
fn time_trend_and_three_arms_are_supported() {
    let d = TrialDesign {
        arms: vec!["none".into(), "a".into(), "b".into()],
        blocks: 4,
        ..design()
    };
    let effects = [ArmEffect::NONE, ArmEffect::immediate(0.5), ArmEffect::NONE];
    let (_, p) = simulate_trial(&SimConfig::quiet(0, 12), &d, &effects).unwrap();
    let r = records_from_sim(&p);
    let options = AnalysisOptions {
        time_trend: true,
        ..AnalysisOptions::default()
    };
    let a = analyse_trial(&d, &r, Outcome::InvoluntaryCount, &options).unwrap();
    assert_eq!(a.comparisons.len(), 2);
    assert!(a.method.contains("time trend"));
    assert!(a.comparisons[0].estimate < a.comparisons[1].estimate);
    let json = serde_json::to_string(&a).unwrap();
    assert!(json.contains("\"verdict\""));
}

#[test]
fn missing_arm_is_an_error() {
    let d = design();
    let r: Vec<DayRecord> = Vec::new();
    assert!(analyse_trial(&d, &r, Outcome::PainNrs, &AnalysisOptions::default()).is_err());
}
