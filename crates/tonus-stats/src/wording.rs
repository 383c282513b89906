//! The words of a comparison: effect and interval, the threshold band, the prior, and the
//! probability sentence (only where [`crate::verdict::probabilities_shown`] allows it).

use crate::analysis::{AnalysisOptions, ArmsFit, EffectScale};
use crate::model::ModelKind;
use crate::posterior::{PosteriorSummary, PRIOR_SD_LOG_RATE_RATIO, PRIOR_SD_POINTS};
use crate::verdict::{percent, EffectInterval, Verdict};

fn pct(rr: f64) -> String {
    let p = (rr - 1.0) * 100.0;
    if p < 0.0 {
        format!("{:.0} % fewer", -p)
    } else {
        format!("{p:.0} % more")
    }
}

/// Estimate and interval, on the reported scale.
pub(crate) fn effect_text(scale: EffectScale, est: f64, lo: f64, hi: f64, level: f64) -> String {
    let l = level * 100.0;
    match scale {
        EffectScale::RateRatio => format!(
            "rate ratio {est:.2}, {} ({l:.0} % interval {} to {})",
            pct(est),
            pct(lo),
            pct(hi)
        ),
        EffectScale::MeanDifference => {
            format!("mean difference {est:+.2} points ({l:.0} % interval {lo:+.2} to {hi:+.2})")
        }
    }
}

/// An interval alone, on the reported scale ("45 % fewer to 12 % more").
pub(crate) fn interval_text(scale: EffectScale, lo: f64, hi: f64) -> String {
    match scale {
        EffectScale::RateRatio => format!("{} to {}", pct(lo), pct(hi)),
        EffectScale::MeanDifference => format!("{lo:+.2} to {hi:+.2} points"),
    }
}

/// The method in words, for the report.
pub(crate) fn method_text(af: &ArmsFit, options: &AnalysisOptions) -> String {
    let model = match af.fit.kind {
        ModelKind::NegativeBinomial => "negative binomial (NB2) regression",
        ModelKind::QuasiPoisson => "quasi-Poisson regression",
        ModelKind::Ols => "linear regression (mean difference)",
    };
    format!(
        "{model}{}; Newey–West (Bartlett) standard errors with {} day lags{}{}; {} intervals",
        if options.time_trend {
            " with a linear time trend"
        } else {
            ""
        },
        af.maxlags,
        if options.hac.small_sample {
            ", n/(n−k) correction"
        } else {
            ""
        },
        if options.fixed_b {
            " and fixed-b (Kiefer–Vogelsang) widening"
        } else {
            ""
        },
        af.df.map_or("normal".to_string(), |d| format!("t ({d:.0} df)"))
    )
}

/// The band of changes too small to matter. `margin` is the score margin in points.
pub(crate) fn band_text(scale: EffectScale, threshold: f64, margin: f64, reference: &str) -> String {
    let t = threshold * 100.0;
    match scale {
        EffectScale::RateRatio => format!(
            "a fall or rise of less than {t:.0} % (rate ratio {:.2} to {:.2})",
            1.0 - threshold,
            1.0 + threshold
        ),
        EffectScale::MeanDifference => {
            format!("a fall or rise of less than {t:.0} % of the {reference} mean (±{margin:.2} points)")
        }
    }
}

/// A real but small change: the interval leaves no difference behind yet lies inside the
/// band, so "better" or "worse" must not read as "meaningfully better or worse".
pub(crate) fn small_change_text(verdict: Verdict, iv: &EffectInterval, band: &str) -> Option<String> {
    let inside = iv.low > -iv.fall_margin && iv.high < iv.rise_margin;
    match verdict {
        Verdict::Better | Verdict::Worse if inside => Some(format!(
            " The whole interval also lies within {band}: the change is real but smaller than the \
             threshold set for the trial."
        )),
        _ => None,
    }
}

/// The three posterior probabilities in one sentence.
pub(crate) fn probability_text(p: &PosteriorSummary, threshold: f64) -> String {
    let t = threshold * 100.0;
    format!(
        " Given these data and the stated prior, the chance of a fall of at least {t:.0} % is {}; \
         of any fall, {}; of a rise of at least {t:.0} %, {}.",
        percent(p.prob_fall_threshold),
        percent(p.prob_any_fall),
        percent(p.prob_rise_threshold)
    )
}

/// The prior SD for an effect scale.
pub(crate) fn prior_sd(scale: EffectScale) -> f64 {
    match scale {
        EffectScale::RateRatio => PRIOR_SD_LOG_RATE_RATIO,
        EffectScale::MeanDifference => PRIOR_SD_POINTS,
    }
}

/// The prior and how it is combined, stated for the report.
pub(crate) fn prior_text(scale: EffectScale, level: f64) -> String {
    let sd = prior_sd(scale);
    let what = match scale {
        EffectScale::RateRatio => format!(
            "normal on the log rate ratio, centred on no difference, SD {sd:.2} (95 % of its weight \
             on rate ratios from {:.1} to {:.0})",
            (-1.96 * sd).exp(),
            (1.96 * sd).exp()
        ),
        EffectScale::MeanDifference => format!(
            "normal on the mean difference, centred on no difference, SD {sd:.0} points (95 % of \
             its weight within ±{:.1} points)",
            1.96 * sd
        ),
    };
    format!(
        "Intervals ({:.0} %), verdicts and probabilities are Bayesian: the robust estimate above, \
         read as a t likelihood, combined with a weakly informative prior, {what}.",
        level * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prior_is_stated_with_its_range() {
        let t = prior_text(EffectScale::RateRatio, 0.95);
        assert!(t.contains("SD 1.17") && t.contains("0.1 to 10"), "{t}");
        let t = prior_text(EffectScale::MeanDifference, 0.95);
        assert!(t.contains("SD 5 points") && t.contains("±9.8"), "{t}");
    }

    #[test]
    fn a_small_real_change_is_called_small() {
        let iv = EffectInterval {
            estimate: -0.15,
            se: 0.05,
            low: -0.25,
            high: -0.05,
            critical: 1.96,
            fall_margin: 0.357,
            rise_margin: 0.262,
        };
        let t = small_change_text(Verdict::Better, &iv, "the band").unwrap();
        assert!(t.contains("smaller than the threshold"), "{t}");
        assert!(small_change_text(Verdict::NoMeaningfulDifference, &iv, "the band").is_none());
        let wide = EffectInterval { low: -0.6, ..iv };
        assert!(small_change_text(Verdict::Better, &wide, "the band").is_none());
    }

    #[test]
    fn band_and_probabilities_read_plainly() {
        let b = band_text(EffectScale::RateRatio, 0.3, 0.0, "none");
        assert!(b.contains("0.70 to 1.30"), "{b}");
        let b = band_text(EffectScale::MeanDifference, 0.3, 1.5, "none");
        assert!(b.contains("none mean (±1.50 points)"), "{b}");
        let p = PosteriorSummary {
            prior_sd: 1.0,
            median: 0.6,
            low: 0.4,
            high: 0.9,
            prob_fall_threshold: 0.72,
            prob_any_fall: 0.999,
            prob_rise_threshold: 0.0001,
        };
        let s = probability_text(&p, 0.3);
        assert!(s.contains("at least 30 % is about 72 %"), "{s}");
        assert!(s.contains("any fall, over 99 %") && s.contains("under 1 %"), "{s}");
    }
}
