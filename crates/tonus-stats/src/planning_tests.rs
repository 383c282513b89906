use super::*;
use crate::sim::simulate;

fn diary(cfg: &SimConfig) -> Vec<DayRecord> {
    records_from_sim(&simulate(cfg))
}

#[test]
fn count_parameters_are_recovered_from_long_diaries() {
    // Three diaries of 4,000 days per patient (15 % unconfirmed). Tolerances on the mean
    // of the three estimates: rate ±4 %, α ±0.08, φ ±0.12; each single φ within ±0.3
    // (φ is the hardest: with a weak latent it is barely identified, and the power then
    // depends little on it), each missing share within ±0.03.
    for (rate, alpha, phi, sigma) in [
        (6.0, 0.3, 0.5, 0.25),
        (2.0, 0.6, 0.7, 0.2),
        (3.0, 0.2, 0.7, 0.25),
        (10.0, 0.1, 0.3, 0.35),
    ] {
        let mut sums = [0.0; 3];
        for seed in 1..=3 {
            let cfg = SimConfig {
                baseline_rate_involuntary: rate,
                nb_dispersion: alpha,
                ar_phi: phi,
                ar_sigma: sigma,
                p_missing_checkin: 0.15,
                ..SimConfig::quiet(4000, seed)
            };
            let e = estimate(&diary(&cfg), Outcome::InvoluntaryCount).unwrap();
            let Params::Count {
                rate: r,
                dispersion: a,
                ar_phi: p,
                ..
            } = e.params
            else {
                panic!("{e:?}")
            };
            assert!((p - phi).abs() < 0.3, "phi {p} vs {phi}");
            assert!((e.missing_share - 0.15).abs() < 0.03, "{e:?}");
            for (s, v) in sums.iter_mut().zip([r, a, p]) {
                *s += v / 3.0;
            }
        }
        let [r, a, p] = sums;
        let truth = format!("mean estimates {sums:?} vs truth {rate} {alpha} {phi}");
        assert!((r / rate - 1.0).abs() < 0.04, "{truth}");
        assert!((a - alpha).abs() < 0.08, "{truth}");
        assert!((p - phi).abs() < 0.12, "{truth}");
    }
}

#[test]
fn no_autocorrelation_is_estimated_as_little() {
    let cfg = SimConfig {
        ar_sigma: 0.0,
        nb_dispersion: 0.4,
        ..SimConfig::quiet(4000, 9)
    };
    let e = estimate(&diary(&cfg), Outcome::InvoluntaryCount).unwrap();
    let Params::Count {
        dispersion, ar_sigma, ..
    } = e.params
    else {
        panic!("{e:?}")
    };
    assert!(ar_sigma < 0.1, "{e:?}");
    assert!((dispersion - 0.4).abs() < 0.1, "{e:?}");
}

#[test]
fn score_parameters_are_recovered() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let mut e = 0.0;
    let records: Vec<DayRecord> = (0..3000)
        .map(|day| {
            e = 0.6 * e + 0.8 * noise.sample(&mut rng);
            DayRecord {
                day,
                confirmed: day % 10 != 0,
                involuntary_count: 0,
                stiffness_count: 0,
                mean_episode_pain: None,
                spasticity_nrs: Some(5.0 + e),
                pain_nrs: None,
                night_wakings: None,
                exercise_load: 0.0,
            }
        })
        .collect();
    let est = estimate(&records, Outcome::SpasticityNrs).unwrap();
    let Params::Score {
        mean,
        sd,
        ar_phi,
        whole,
        ..
    } = est.params
    else {
        panic!("{est:?}")
    };
    // Stationary SD = 0.8 / √(1 − 0.36) = 1.0.
    assert!((mean - 5.0).abs() < 0.15 && (sd - 1.0).abs() < 0.08 && (ar_phi - 0.6).abs() < 0.06);
    assert!(!whole && (est.missing_share - 0.1).abs() < 0.01, "{est:?}");
}

#[test]
fn too_little_data_gives_no_numbers() {
    let cfg = SimConfig {
        p_missing_checkin: 0.0,
        ..SimConfig::quiet(27, 1)
    };
    match estimate(&diary(&cfg), Outcome::InvoluntaryCount) {
        Err(StatsError::NotEnoughObservations { needed, got, .. }) => {
            assert_eq!((needed, got), (MIN_CONFIRMED_DAYS, 27))
        }
        other => panic!("{other:?}"),
    }
    // Leading empty days (before the diary was used) are not missing days.
    let mut r = diary(&SimConfig {
        p_missing_checkin: 0.0,
        ..SimConfig::quiet(40, 1)
    });
    let mut before: Vec<DayRecord> = (0..50)
        .map(|day| DayRecord {
            day,
            confirmed: false,
            involuntary_count: 0,
            stiffness_count: 0,
            mean_episode_pain: None,
            spasticity_nrs: None,
            pain_nrs: None,
            night_wakings: None,
            exercise_load: 0.0,
        })
        .collect();
    before.append(&mut r);
    let e = estimate(&before, Outcome::InvoluntaryCount).unwrap();
    assert_eq!((e.window_days, e.usable_days), (40, 40));
    assert_eq!(e.missing_share, 0.0);
}

#[test]
fn power_grows_with_blocks_and_the_search_is_consistent() {
    let cfg = SimConfig {
        p_missing_checkin: 0.1,
        ..SimConfig::quiet(90, 5)
    };
    let est = estimate(&diary(&cfg), Outcome::InvoluntaryCount).unwrap();
    let design = TrialDesign {
        blocks: 2,
        ..TrialDesign::new(vec!["none".into(), "drug".into()], 1)
    };
    let opts = PlanningOptions {
        simulations: 60,
        seed: 3,
    };
    let mut calls = Vec::new();
    let plan = plan_power(&design, &est, &opts, &mut |b| calls.push(b)).unwrap();
    assert_eq!(plan, plan_power(&design, &est, &opts, &mut |_| {}).unwrap(), "seeded");
    assert!(calls.contains(&2));
    assert!(plan.false_better.share <= 0.1, "{plan:?}");
    let first = plan.curve.first().unwrap().1.share;
    let last = plan.curve.last().unwrap().1.share;
    assert!(last >= first, "{:?}", plan.curve);
    match plan.suggestion {
        Suggestion::Blocks { blocks, power } => {
            assert!(power.share >= TARGET_POWER);
            // Every block count tried below the suggestion fell short.
            assert!(plan
                .curve
                .iter()
                .filter(|(b, _)| *b == blocks - 1)
                .all(|(_, s)| s.share < TARGET_POWER));
        }
        Suggestion::NotEnough { power, .. } => assert!(power.share < TARGET_POWER),
    }
    let text = plan.lines().join("\n");
    assert!(
        text.contains("falsely say \"better\"") && text.contains("Nothing has been saved"),
        "{text}"
    );
}

#[test]
fn a_hopeless_design_says_so() {
    // One rare episode a week, heavy overdispersion, 2-day periods: no block count helps.
    let cfg = SimConfig {
        baseline_rate_involuntary: 0.15,
        nb_dispersion: 2.0,
        ..SimConfig::quiet(90, 6)
    };
    let est = estimate(&diary(&cfg), Outcome::InvoluntaryCount).unwrap();
    let design = TrialDesign {
        period_days: 2,
        washout_days: 1,
        blocks: 14,
        ..TrialDesign::new(vec!["none".into(), "drug".into()], 1)
    };
    let plan = plan_power(
        &design,
        &est,
        &PlanningOptions {
            simulations: 40,
            seed: 1,
        },
        &mut |_| {},
    )
    .unwrap();
    assert!(
        matches!(plan.suggestion, Suggestion::NotEnough { max_blocks: 16, .. }),
        "{plan:?}"
    );
    assert!(
        plan.lines()[2].contains("would not reach 80 % power"),
        "{:?}",
        plan.lines()
    );
}
