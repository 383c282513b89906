//! Turning an interval into a verdict and plain words.
//!
//! The rule is deliberately no stronger than the interval: "better" only when the whole 95 %
//! interval lies on the better side; "no clear difference" only when the interval rules out
//! a change as large as the threshold either way; otherwise "not enough data", with an
//! estimate of how many more periods would settle it. Never medical advice.

use serde::{Deserialize, Serialize};

/// The outcome of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    Better,
    Worse,
    NoClearDifference,
    NotEnoughData { more_periods_needed: u32 },
}

/// An effect on a scale where 0 means "no difference" and negative means "better" (log rate
/// ratio, or mean difference for scores), with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EffectInterval {
    pub estimate: f64,
    pub se: f64,
    pub low: f64,
    pub high: f64,
    /// Critical value used for the interval (z or t).
    pub critical: f64,
    /// Size of a meaningful change on the same scale (positive), e.g. −ln(0.7) or 30 % of
    /// the reference mean.
    pub margin: f64,
}

/// Decides the verdict. `periods` is the number of analysed periods so far and `arms` the
/// number of arms (extra periods come in whole blocks).
pub fn decide(e: &EffectInterval, periods: u32, arms: u32) -> Verdict {
    if e.high < 0.0 {
        return Verdict::Better;
    }
    if e.low > 0.0 {
        return Verdict::Worse;
    }
    if e.low > -e.margin && e.high < e.margin {
        return Verdict::NoClearDifference;
    }
    Verdict::NotEnoughData {
        more_periods_needed: more_periods_needed(e, periods, arms),
    }
}

/// Periods still needed, assuming the standard error shrinks as 1/√(periods) and the
/// estimate stays where it is: either the interval must leave 0 behind, or fit inside
/// ±margin, whichever needs less. Rounded up to whole blocks; at least one block.
pub fn more_periods_needed(e: &EffectInterval, periods: u32, arms: u32) -> u32 {
    let arms = arms.max(1);
    let periods = f64::from(periods.max(arms));
    let est = e.estimate.abs();
    let target_se = (est.max(e.margin - est)) / e.critical;
    if !(e.se.is_finite() && e.se > 0.0 && target_se > 0.0) {
        return arms;
    }
    let needed_total = periods * (e.se / target_se).powi(2);
    let more = (needed_total - periods).ceil().clamp(1.0, 10_000.0) as u32;
    more.div_ceil(arms) * arms
}

/// Analysed periods each compared arm needs before probabilities are put into words.
pub const MIN_PERIODS_FOR_PROBABILITIES: u32 = 2;

/// The rule of [`probabilities_shown`], in words for the report.
pub const PROBABILITY_RULE: &str = "Probabilities are put into words only when the 95 % interval \
has settled the question (better, worse, or no clear difference) and each compared arm has at \
least 2 analysed periods; before that they swing from one period to the next and read as more \
certain than they are.";

/// Whether a comparison's probabilities are put into words. A wide interval gives
/// probabilities such as "85 % chance of a fall of 30 % or more" even when there is no
/// effect at all; they read as encouragement, so they wait until the interval has settled
/// the question and every compared arm has been seen in more than one period.
pub fn probabilities_shown(v: Verdict, fewest_periods_per_arm: u32) -> bool {
    !matches!(v, Verdict::NotEnoughData { .. }) && fewest_periods_per_arm >= MIN_PERIODS_FOR_PROBABILITIES
}

/// A probability in words, never "0 %" or "100 %": the model cannot be that sure.
pub fn percent(p: f64) -> String {
    if p < 0.01 {
        "under 1 %".into()
    } else if p > 0.99 {
        "over 99 %".into()
    } else {
        format!("about {:.0} %", p * 100.0)
    }
}

/// Plain-language sentence for a verdict. `effect_text` describes the estimate and interval
/// (e.g. "38 % fewer episodes (95 % interval 12 % to 56 % fewer)").
pub fn verdict_text(v: Verdict, arm: &str, reference: &str, outcome: &str, effect_text: &str) -> String {
    match v {
        Verdict::Better => format!(
            "On {outcome}, days on {arm} were better than on {reference}: {effect_text}. \
             The whole interval is on the better side. This is a summary of your own data, \
             not medical advice; discuss any change with your clinician."
        ),
        Verdict::Worse => format!(
            "On {outcome}, days on {arm} were worse than on {reference}: {effect_text}. \
             The whole interval is on the worse side. This is a summary of your own data, \
             not medical advice; discuss any change with your clinician."
        ),
        Verdict::NoClearDifference => format!(
            "On {outcome}, there was no clear difference between {arm} and {reference}: \
             {effect_text}. The interval rules out a change as large as the threshold."
        ),
        Verdict::NotEnoughData { more_periods_needed } => format!(
            "On {outcome}, there is not enough data yet to tell {arm} and {reference} apart: \
             {effect_text}. About {more_periods_needed} more period(s) might settle it; \
             this is a rough estimate."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(est: f64, se: f64) -> EffectInterval {
        EffectInterval {
            estimate: est,
            se,
            low: est - 1.96 * se,
            high: est + 1.96 * se,
            critical: 1.96,
            margin: -(0.7_f64).ln(),
        }
    }

    #[test]
    fn verdicts_follow_the_interval() {
        assert_eq!(decide(&iv(-0.5, 0.1), 6, 2), Verdict::Better);
        assert_eq!(decide(&iv(0.5, 0.1), 6, 2), Verdict::Worse);
        assert_eq!(decide(&iv(0.0, 0.05), 6, 2), Verdict::NoClearDifference);
        match decide(&iv(-0.2, 0.2), 6, 2) {
            Verdict::NotEnoughData { more_periods_needed } => {
                assert!(more_periods_needed >= 2 && more_periods_needed % 2 == 0)
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn probabilities_wait_for_a_settled_question_and_two_periods_per_arm() {
        let unsettled = Verdict::NotEnoughData { more_periods_needed: 4 };
        assert!(!probabilities_shown(unsettled, 10));
        assert!(!probabilities_shown(Verdict::Better, 1));
        assert!(probabilities_shown(Verdict::Better, 2));
        assert!(probabilities_shown(Verdict::NoClearDifference, 3));
        assert_eq!(percent(0.004), "under 1 %");
        assert_eq!(percent(0.9995), "over 99 %");
        assert_eq!(percent(0.853), "about 85 %");
    }

    #[test]
    fn more_data_needed_grows_with_uncertainty() {
        let a = more_periods_needed(&iv(-0.1, 0.2), 6, 2);
        let b = more_periods_needed(&iv(-0.1, 0.4), 6, 2);
        assert!(b > a);
        assert!(!verdict_text(Verdict::Better, "a", "b", "c", "d").is_empty());
    }
}
