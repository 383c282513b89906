use super::*;
use crate::design::TrialDesign;
use crate::series::records_from_sim;
use crate::series::DayRecord;
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
    assert!(c.posterior.prob_any_fall > 0.95);
    assert!(c.posterior.low < c.posterior.median && c.posterior.median < c.posterior.high);
    assert!(c.posterior.high < 1.0, "the verdict follows the posterior interval");
    let gp = c.gamma_poisson.unwrap();
    assert!(gp.prob_better > 0.95 && gp.design_effect >= 1.0);
    assert!((gp.prob_meets_threshold - c.posterior.prob_fall_threshold).abs() < 0.2);
    assert!(c.probabilities_shown);
    assert_eq!(a.periods.len(), 8);
    assert_eq!(a.days_washout, 8 * 4);
    assert!(c.text.contains("not medical advice"));
    assert!(c.text.contains("fall of at least 30 %"), "{}", c.text);
    assert!(c.text.contains("rise of at least 30 %"), "{}", c.text);
    assert!(a.prior.contains("SD 1.17"), "{}", a.prior);
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
fn missing_arm_is_an_error_that_names_the_arm() {
    let d = design();
    let (_, p) = simulate_trial(&SimConfig::quiet(0, 8), &d, &[ArmEffect::NONE, ArmEffect::NONE]).unwrap();
    let mut r = records_from_sim(&p);
    let cal = d.calendar().unwrap();
    for per in cal.periods.iter().filter(|p| p.arm == 1) {
        for day in per.days.clone() {
            r[day as usize].confirmed = false;
        }
    }
    let e = analyse_trial(&d, &r, Outcome::PainNrs, &AnalysisOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("arm \"drug\""), "{e}");
    assert!(!e.contains("arm 1") && !e.contains("arm 0"), "{e}");
    assert!(analyse_trial(&d, &[], Outcome::PainNrs, &AnalysisOptions::default()).is_err());
}

#[test]
fn days_that_have_not_happened_are_to_come_not_missing() {
    let d = design();
    let cfg = SimConfig {
        p_missing_checkin: 0.2,
        ..SimConfig::quiet(0, 9)
    };
    let (cal, p) = simulate_trial(&cfg, &d, &[ArmEffect::NONE, ArmEffect::NONE]).unwrap();
    let all = records_from_sim(&p);
    // An interim look: the records end half-way through the fifth period.
    let today = cal.periods[4].analysed.start + 5;
    let r: Vec<DayRecord> = all.iter().filter(|x| x.day <= today).cloned().collect();
    let a = analyse_trial(&d, &r, Outcome::StiffnessCount, &AnalysisOptions::default()).unwrap();
    let unconfirmed_so_far = cal
        .periods
        .iter()
        .flat_map(|p| p.analysed.clone())
        .filter(|day| *day <= today && !all[*day as usize].confirmed)
        .count();
    assert_eq!(a.days_missing, unconfirmed_so_far);
    let analysed_total: usize = cal.periods.iter().map(|p| p.analysed.len()).sum();
    let analysed_after: usize = cal
        .periods
        .iter()
        .flat_map(|p| p.analysed.clone())
        .filter(|day| *day > today)
        .count();
    assert_eq!(a.days_to_come, analysed_after);
    assert_eq!(a.days_used + a.days_missing + a.days_to_come, analysed_total);
    assert_eq!(a.periods[7].days_to_come, 10);
    assert_eq!(a.periods[7].days_missing, 0, "a future period has nothing missing");
    // Only washout days that have happened are counted (periods 1–5 have begun).
    assert_eq!(a.days_washout, 5 * 4);
}

#[test]
fn confirmed_days_without_episodes_have_no_pain_to_miss() {
    let d = design();
    let cfg = SimConfig {
        baseline_rate_involuntary: 0.6,
        baseline_rate_stiffness: 0.3,
        p_missing_checkin: 0.1,
        ..SimConfig::quiet(0, 10)
    };
    let (cal, p) = simulate_trial(&cfg, &d, &[ArmEffect::NONE, ArmEffect::NONE]).unwrap();
    let r = records_from_sim(&p);
    let a = analyse_trial(&d, &r, Outcome::EpisodePain, &AnalysisOptions::default()).unwrap();
    let analysed = cal.periods.iter().flat_map(|p| p.analysed.clone());
    let quiet_confirmed = analysed
        .clone()
        .filter(|day| {
            let x = &r[*day as usize];
            x.confirmed && x.involuntary_count == 0 && x.stiffness_count == 0
        })
        .count();
    let unconfirmed = analysed.filter(|day| !r[*day as usize].confirmed).count();
    assert!(quiet_confirmed > 5, "low rates give quiet days: {quiet_confirmed}");
    assert_eq!(a.days_without_episodes, quiet_confirmed);
    assert_eq!(a.days_missing, unconfirmed, "the simulator rates every episode's pain");
    assert_eq!(
        a.periods.iter().map(|p| p.days_without_episodes).sum::<usize>(),
        quiet_confirmed
    );
    // Counts are known on those days (zero), so nothing is set aside for them.
    let c = analyse_trial(&d, &r, Outcome::InvoluntaryCount, &AnalysisOptions::default()).unwrap();
    assert_eq!((c.days_without_episodes, c.days_missing), (0, unconfirmed));
}

#[test]
fn probabilities_are_not_put_into_words_on_thin_data() {
    // One block: each arm has a single period, so however the interval falls the rule
    // keeps the probability sentence out.
    let d = TrialDesign { blocks: 1, ..design() };
    for seed in 0..5 {
        let (_, p) = simulate_trial(&SimConfig::quiet(0, 20 + seed), &d, &[ArmEffect::NONE, ArmEffect::NONE]).unwrap();
        let r = records_from_sim(&p);
        let a = analyse_trial(&d, &r, Outcome::InvoluntaryCount, &AnalysisOptions::default()).unwrap();
        let c = &a.comparisons[0];
        assert!(!c.probabilities_shown && !c.text.contains("chance"), "{}", c.text);
        assert!(a.probability_rule.contains("at least 2 analysed periods"));
    }
}

#[test]
fn the_posterior_is_the_robust_likelihood_times_the_stated_prior() {
    let d = design();
    let (_, p) = simulate_trial(
        &SimConfig::quiet(0, 30),
        &d,
        &[ArmEffect::NONE, ArmEffect::immediate(0.8)],
    )
    .unwrap();
    let r = records_from_sim(&p);
    for outcome in [Outcome::InvoluntaryCount, Outcome::SpasticityNrs] {
        let a = analyse_trial(&d, &r, outcome, &AnalysisOptions::default()).unwrap();
        let c = &a.comparisons[0];
        let (est, sd, fall, rise) = if outcome.is_count() {
            (
                c.estimate.ln(),
                crate::posterior::PRIOR_SD_LOG_RATE_RATIO,
                -(0.7f64).ln(),
                (1.3f64).ln(),
            )
        } else {
            let m = 0.3 * a.arms[0].mean;
            (c.estimate, crate::posterior::PRIOR_SD_POINTS, m, m)
        };
        let lik = crate::posterior::Likelihood {
            estimate: est,
            se: c.se,
            df: a.df,
        };
        let mut want = crate::posterior::summarise(lik, sd, 0.95, fall, rise).unwrap();
        if outcome.is_count() {
            want = want.exp();
        }
        let (got, want) = (c.posterior, want);
        for (x, y) in [
            (got.median, want.median),
            (got.low, want.low),
            (got.high, want.high),
            (got.prob_fall_threshold, want.prob_fall_threshold),
            (got.prob_any_fall, want.prob_any_fall),
            (got.prob_rise_threshold, want.prob_rise_threshold),
        ] {
            assert!((x - y).abs() < 1e-9, "{got:?} vs {want:?}");
        }
        // A weak prior barely moves a well-measured effect: the posterior interval is the
        // confidence interval to within a few per cent of its width.
        let width = c.ci_high - c.ci_low;
        assert!((c.posterior.low - c.ci_low).abs() < 0.05 * width, "{c:?}");
        assert!((c.posterior.high - c.ci_high).abs() < 0.05 * width, "{c:?}");
    }
}
