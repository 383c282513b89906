use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::*;
use crate::design::TrialDesign;
use crate::posterior::PRIOR_SD_LOG_RATE_RATIO;
use crate::verdict::tests::iv;

fn z_of(level: f64) -> f64 {
    Normal::standard().inverse_cdf(0.5 + level / 2.0)
}

#[test]
fn the_boundary_is_obrien_fleming_shaped_and_the_final_level_is_unchanged() {
    assert_eq!(boundary_level(1.0, 0.95), 0.95);
    assert_eq!(boundary_level(1.3, 0.95), 0.95);
    // z/√t: 1.96·√2 = 2.77 at half-way, 1.96·2 = 3.92 at a quarter.
    assert!((z_of(boundary_level(0.5, 0.95)) - 1.959_964 * 2f64.sqrt()).abs() < 1e-6);
    assert!((z_of(boundary_level(0.25, 0.95)) - 1.959_964 * 2.0).abs() < 1e-6);
    let mut last = 1.0;
    for k in 1..=20 {
        let l = boundary_level(f64::from(k) / 20.0, 0.95);
        assert!(l <= last && l >= 0.95, "levels fall towards 95 %: {k} {l}");
        last = l;
    }
    assert_eq!(boundary_level(0.0, 0.95), 1.0 - MIN_NOMINAL_ALPHA);
    assert_eq!(boundary_level(0.001, 0.95), 1.0 - MIN_NOMINAL_ALPHA);
}

#[test]
fn levels_read_with_the_digits_that_matter() {
    assert_eq!(level_text(0.95), "95 %");
    assert_eq!(level_text(boundary_level(0.5, 0.95)), "99.4 %");
    assert_eq!(level_text(boundary_level(0.25, 0.95)), "99.991 %");
    assert_eq!(level_text(1.0 - MIN_NOMINAL_ALPHA), "99.9999999 %");
    let r = rule_text(0.95);
    assert!(
        r.contains("99.991 %") && r.contains("99.4 %") && r.contains("95 % at the end"),
        "{r}"
    );
    assert!(r.contains("5 % or less"), "{r}");
}

/// The theory behind the rule, checked on its own terms: under no effect the z statistics at
/// the looks are a Brownian motion read at t_k and divided by √t_k. Crossing the boundary at
/// any look, however many, must stay below α/2 = 2.5 % per side for the final-only design and
/// below α = 5 % (the reflection bound) for any number of looks.
#[test]
fn brownian_motion_crosses_the_boundary_in_at_most_five_percent_of_paths() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    for looks in [1u32, 4, 8, 40] {
        // Fine steps between looks, so the motion is the same whatever the look schedule.
        let steps_per_look = 200 / looks;
        let n = looks * steps_per_look;
        let dt = 1.0 / f64::from(n);
        let bounds: Vec<f64> = (1..=looks)
            .map(|k| z_of(boundary_level(f64::from(k) / f64::from(looks), 0.95)))
            .collect();
        let paths = 20_000;
        let mut crossed = 0u32;
        for _ in 0..paths {
            let mut w = 0.0;
            for step in 1..=n {
                let e: f64 = StandardNormal.sample(&mut rng);
                w += e * dt.sqrt();
                if step % steps_per_look == 0 {
                    let t = f64::from(step) * dt;
                    let k = (step / steps_per_look - 1) as usize;
                    if w / t.sqrt() >= bounds[k] {
                        crossed += 1;
                        break;
                    }
                }
            }
        }
        let rate = f64::from(crossed) / f64::from(paths);
        // Monte Carlo SE at 5 % is 0.15 points.
        assert!(rate <= 0.05, "{looks} looks: {rate}");
        if looks == 1 {
            assert!((rate - 0.025).abs() < 0.005, "one look is the plain 95 % rule: {rate}");
        }
    }
}

fn design() -> TrialDesign {
    TrialDesign {
        blocks: 4,
        ..TrialDesign::new(vec!["none".into(), "drug".into()], 3)
    }
}

#[test]
fn looks_follow_the_calendar() {
    let cal = design().calendar().unwrap();
    let nothing = Look::at(&cal, None);
    assert_eq!((nothing.completed_periods, nothing.information_fraction), (0, 0.0));
    let run_in = Look::at(&cal, Some(5));
    assert_eq!((run_in.completed_periods, run_in.information_fraction), (0, 0.0));
    let after_three = Look::at(&cal, Some(cal.periods[2].days.end - 1));
    assert_eq!(after_three.completed_periods, 3);
    assert!((after_three.information_fraction - 3.0 / 8.0).abs() < 1e-12);
    assert_eq!(after_three.text(), "interim look after 3 of 8 periods");
    let washout = Look::at(&cal, Some(cal.periods[3].washout.start + 1));
    assert_eq!(washout.information_fraction, after_three.information_fraction);
    let during = Look::at(&cal, Some(cal.periods[3].analysed.start + 4));
    assert!(during.information_fraction > 3.0 / 8.0 && during.information_fraction < 0.5);
    assert_eq!(during.text(), "interim look after 3 of 8 periods (period 4 under way)");
    let end = Look::at(&cal, Some(cal.total_days - 1));
    assert!(end.is_final() && !during.is_final());
    assert_eq!(end.information_fraction, 1.0);
    assert_eq!(end.text(), "final analysis: all 8 periods have ended");
    assert!(Look::at(&cal, Some(cal.total_days + 30)).is_final());
}

fn lik(est: f64, se: f64) -> Likelihood {
    Likelihood {
        estimate: est,
        se,
        df: None,
    }
}

fn half_way() -> Look {
    Look {
        completed_periods: 4,
        planned_periods: 8,
        information_fraction: 0.5,
    }
}

#[test]
fn an_interim_verdict_needs_the_stricter_interval() {
    // z = 2.4: past the final 1.96 but not the half-way 2.77.
    let (est, se) = (-0.48, 0.2);
    let (v, _, c) = judge(
        None,
        iv(est, se),
        lik(est, se),
        PRIOR_SD_LOG_RATE_RATIO,
        0.95,
        (4, 2),
        2,
    )
    .unwrap();
    assert_eq!(v, Verdict::Better);
    assert!(c.is_none());
    let final_look = Look {
        completed_periods: 8,
        ..half_way()
    };
    let (v, _, c) = judge(Some(final_look), iv(est, se), lik(est, se), 1.17, 0.95, (8, 2), 2).unwrap();
    assert!(
        v == Verdict::Better && c.is_none(),
        "the final look is judged as before"
    );
    let (v, decided_on, c) = judge(Some(half_way()), iv(est, se), lik(est, se), 1.17, 0.95, (4, 2), 2).unwrap();
    let c = c.unwrap();
    assert!(matches!(v, Verdict::NotEnoughData { .. }), "{v:?}");
    assert!(!c.stops && c.high > 0.0 && c.low < decided_on.estimate);
    assert_eq!(level_text(c.level), "99.4 %");
    assert_eq!(level_text(c.next_level), level_text(boundary_level(5.0 / 8.0, 0.95)));
    // z = 4: an early verdict.
    let (v, _, c) = judge(Some(half_way()), iv(-0.8, 0.2), lik(-0.8, 0.2), 1.17, 0.95, (4, 2), 2).unwrap();
    assert!(v == Verdict::Better && c.unwrap().stops);
    // The same at one period per arm: no early verdict yet.
    let (v, _, c) = judge(Some(half_way()), iv(-0.8, 0.2), lik(-0.8, 0.2), 1.17, 0.95, (2, 2), 1).unwrap();
    assert!(matches!(v, Verdict::NotEnoughData { .. }) && !c.unwrap().stops);
}

fn words<'a>() -> VerdictWords<'a> {
    VerdictWords {
        arm: "drug",
        reference: "none",
        outcome: "stiffness episodes per day",
        effect_text: "rate ratio 0.62, 38 % fewer (95 % interval 8 % to 58 % fewer)",
        band_text: "a fall or rise of less than 30 % (rate ratio 0.70 to 1.30)",
    }
}

#[test]
fn interim_words_say_it_is_interim_and_what_the_rule_needs() {
    let (est, se) = (-0.48, 0.2);
    let (v, _, c) = judge(Some(half_way()), iv(est, se), lik(est, se), 1.17, 0.95, (4, 2), 2).unwrap();
    let c = c.unwrap().on_scale(EffectScale::RateRatio);
    let t = comparison_text(v, Some(&c), EffectScale::RateRatio, &words(), 0.95);
    for part in [
        "interim look after 4 of 8 periods",
        "No verdict yet",
        "stricter 99.4 % interval (now ",
        "wholly on the better side",
        "each arm has at least 2 analysed periods",
        "after period 5 the rule asks for a 98.7 % interval",
    ] {
        assert!(t.contains(part), "{part:?} in {t}");
    }
    assert!(!t.contains("were better") && !t.contains("advice"), "{t}");
    let last = Look {
        completed_periods: 7,
        information_fraction: 7.0 / 8.0,
        ..half_way()
    };
    // z = 2.0: below the 2.1 asked for after 7 of 8 periods.
    let (v, _, c) = judge(Some(last), iv(-0.4, 0.2), lik(-0.4, 0.2), 1.17, 0.95, (7, 2), 2).unwrap();
    let c = c.map(|c| c.on_scale(EffectScale::RateRatio));
    let t = comparison_text(v, c.as_ref(), EffectScale::RateRatio, &words(), 0.95);
    assert!(
        t.contains("after period 8, the last, the usual 95 % interval decides"),
        "{t}"
    );
    let (v, _, c) = judge(Some(half_way()), iv(-0.8, 0.2), lik(-0.8, 0.2), 1.17, 0.95, (4, 2), 2).unwrap();
    let c = c.map(|c| c.on_scale(EffectScale::RateRatio));
    let t = comparison_text(v, c.as_ref(), EffectScale::RateRatio, &words(), 0.95);
    assert!(
        t.starts_with("Interim look after 4 of 8 periods: the early-verdict rule is met"),
        "{t}"
    );
    assert!(t.contains("were better") && t.contains("not medical advice"), "{t}");
    let t = comparison_text(v, None, EffectScale::RateRatio, &words(), 0.95);
    assert_eq!(t, verdict_text(v, &words()));
}
