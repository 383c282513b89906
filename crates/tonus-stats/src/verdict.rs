//! Turning an interval into a verdict and plain words.
//!
//! The rule is deliberately no stronger than the interval (the 95 % posterior interval of
//! [`crate::posterior`]): "better" or "worse" only when the whole interval lies on that
//! side of no difference; "no meaningful difference" only when the whole interval lies
//! inside the threshold band (a fall and a rise both smaller than the threshold);
//! otherwise "not enough data yet", with an estimate of how many more periods would settle
//! it. Never medical advice.

use serde::{Deserialize, Serialize};

/// The outcome of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    Better,
    Worse,
    /// The interval lies inside the threshold band: any change is smaller than meaningful.
    NoMeaningfulDifference,
    /// The interval is too wide to say any of the above.
    NotEnoughData {
        more_periods_needed: u32,
    },
}

impl Verdict {
    /// Short words for tables and summaries.
    pub fn label(self) -> String {
        match self {
            Verdict::Better => "better".into(),
            Verdict::Worse => "worse".into(),
            Verdict::NoMeaningfulDifference => "no meaningful difference".into(),
            Verdict::NotEnoughData { more_periods_needed } => {
                format!("not enough data yet (about {more_periods_needed} more periods)")
            }
        }
    }
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
    /// Size of a meaningful fall on the same scale (positive), e.g. −ln(0.7) or 30 % of the
    /// reference mean.
    pub fall_margin: f64,
    /// Size of a meaningful rise (positive), e.g. ln(1.3) or 30 % of the reference mean.
    pub rise_margin: f64,
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
    if e.low > -e.fall_margin && e.high < e.rise_margin {
        return Verdict::NoMeaningfulDifference;
    }
    Verdict::NotEnoughData {
        more_periods_needed: more_periods_needed(e, periods, arms),
    }
}

/// Periods still needed, assuming the standard error shrinks as 1/√(periods) and the
/// estimate stays where it is: either the interval must leave 0 behind, or fit inside the
/// band, whichever needs less. Rounded up to whole blocks; at least one block.
pub fn more_periods_needed(e: &EffectInterval, periods: u32, arms: u32) -> u32 {
    let arms = arms.max(1);
    let periods = f64::from(periods.max(arms));
    let inside = (e.fall_margin + e.estimate).min(e.rise_margin - e.estimate);
    let target_se = e.estimate.abs().max(inside) / e.critical;
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
has settled the question (better, worse, or no meaningful difference) and each compared arm has \
at least 2 analysed periods; before that they swing from one period to the next and read as more \
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

/// Words for one comparison. `effect_text` describes the estimate and interval (e.g. "38 %
/// fewer episodes (95 % interval 12 % to 56 % fewer)"); `band_text` the threshold band (e.g.
/// "a fall or rise of less than 30 %").
pub struct VerdictWords<'a> {
    pub arm: &'a str,
    pub reference: &'a str,
    pub outcome: &'a str,
    pub effect_text: &'a str,
    pub band_text: &'a str,
}

/// Plain-language sentence for a verdict.
pub fn verdict_text(v: Verdict, w: &VerdictWords<'_>) -> String {
    let VerdictWords {
        arm,
        reference,
        outcome,
        effect_text,
        band_text,
    } = w;
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
        Verdict::NoMeaningfulDifference => format!(
            "On {outcome}, there was no meaningful difference between {arm} and {reference}: \
             {effect_text}. The whole interval lies within {band_text}."
        ),
        Verdict::NotEnoughData { more_periods_needed } => format!(
            "On {outcome}, there is not enough data yet to tell {arm} and {reference} apart: \
             {effect_text}. The interval is too wide to say better, worse or no meaningful \
             difference ({band_text}). About {more_periods_needed} more period(s) might settle \
             it; this is a rough estimate."
        ),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 95 % interval with the default ±30 % band, shared with the monitoring tests.
    pub(crate) fn iv(est: f64, se: f64) -> EffectInterval {
        EffectInterval {
            estimate: est,
            se,
            low: est - 1.96 * se,
            high: est + 1.96 * se,
            critical: 1.96,
            fall_margin: -(0.7_f64).ln(),
            rise_margin: (1.3_f64).ln(),
        }
    }

    #[test]
    fn verdicts_follow_the_interval() {
        assert_eq!(decide(&iv(-0.5, 0.1), 6, 2), Verdict::Better);
        assert_eq!(decide(&iv(0.5, 0.1), 6, 2), Verdict::Worse);
        assert_eq!(decide(&iv(0.0, 0.05), 6, 2), Verdict::NoMeaningfulDifference);
        match decide(&iv(-0.2, 0.2), 6, 2) {
            Verdict::NotEnoughData { more_periods_needed } => {
                assert!(more_periods_needed >= 2 && more_periods_needed % 2 == 0)
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn the_band_is_a_fall_and_a_rise_below_the_threshold() {
        // Rate ratio 0.99 to 1.35: a rise of 30 % is not ruled out, although a fall of
        // 30 % and a rise by a factor 1/0.7 = 1.43 both are.
        let e = EffectInterval {
            low: 0.99_f64.ln(),
            high: 1.35_f64.ln(),
            ..iv(0.15, 0.07)
        };
        assert!(matches!(decide(&e, 6, 2), Verdict::NotEnoughData { .. }));
        let e = EffectInterval {
            low: 0.75_f64.ln(),
            high: 1.25_f64.ln(),
            ..iv(0.0, 0.1)
        };
        assert_eq!(decide(&e, 6, 2), Verdict::NoMeaningfulDifference);
    }

    #[test]
    fn more_data_needed_grows_with_uncertainty() {
        let a = more_periods_needed(&iv(-0.1, 0.2), 6, 2);
        let b = more_periods_needed(&iv(-0.1, 0.4), 6, 2);
        assert!(b > a);
    }

    #[test]
    fn probabilities_wait_for_a_settled_question_and_two_periods_per_arm() {
        let unsettled = Verdict::NotEnoughData { more_periods_needed: 4 };
        assert!(!probabilities_shown(unsettled, 10));
        assert!(!probabilities_shown(Verdict::Better, 1));
        assert!(probabilities_shown(Verdict::Better, 2));
        assert!(probabilities_shown(Verdict::NoMeaningfulDifference, 3));
        assert_eq!(percent(0.004), "under 1 %");
        assert_eq!(percent(0.9995), "over 99 %");
        assert_eq!(percent(0.853), "about 85 %");
    }

    #[test]
    fn texts_name_the_arms_and_the_band() {
        let w = VerdictWords {
            arm: "Baclofen",
            reference: "none",
            outcome: "stiffness episodes per day",
            effect_text: "rate ratio 0.98",
            band_text: "a fall or rise of less than 30 %",
        };
        let t = verdict_text(Verdict::NoMeaningfulDifference, &w);
        assert!(t.contains("no meaningful difference between Baclofen and none"), "{t}");
        assert!(t.contains("less than 30 %"), "{t}");
        let t = verdict_text(Verdict::NotEnoughData { more_periods_needed: 4 }, &w);
        assert!(t.contains("too wide") && t.contains("About 4 more"), "{t}");
        assert!(verdict_text(Verdict::Better, &w).contains("not medical advice"));
    }
}
