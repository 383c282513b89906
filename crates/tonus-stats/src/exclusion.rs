//! The pre-specified rule for disturbed days: a recorded relapse or infection changes the
//! spasm rate for reasons that have nothing to do with the trial's treatments (a relapse
//! nearly doubles it in the simulator, as it often does in life), and it falls into one
//! period by chance. Left in, it adds a burst to whichever arm it hit and the interval no
//! longer covers the truth as promised; left out by a rule fixed before the data are seen,
//! it costs only its days. The rule, the same for every trial:
//!
//! - every day from the first to the last recorded day of a relapse or an infection
//!   (inclusive) is left out of the run-in mean and of the comparison, whatever was logged;
//! - no margin is added: the recorded dates are the patient's own account of the
//!   disturbance, and a margin chosen afterwards would be a choice made knowing the data;
//! - a relapse or infection without an end date is treated as still going on, up to the
//!   last day analysed (the report asks for the end date);
//! - other events (MRI, diagnosis, events the patient names) are shown but not excluded.
//!
//! Every report states the rule and lists what it left out.

use serde::{Deserialize, Serialize};

use crate::design::Calendar;

/// The rule in words, stated in every trial report.
pub const EXCLUSION_RULE: &str = "Pre-specified rule for disturbed days: every day from the \
first to the last recorded day of a relapse or an infection is left out of the comparison and \
of the run-in, whatever was logged on it, with no margin added; a relapse or infection without \
an end date counts as still going on. Other events are shown but not left out.";

/// A run of trial days left out, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludedSpan {
    /// First day left out (calendar day number, day 0 = first run-in day).
    pub first_day: u32,
    /// Last day left out (inclusive).
    pub last_day: u32,
    /// Why, in words ("relapse", "infection").
    pub reason: String,
    /// True when no end date was recorded and the span runs to the last day analysed.
    #[serde(default)]
    pub open_ended: bool,
}

impl ExcludedSpan {
    pub fn contains(&self, day: u32) -> bool {
        self.first_day <= day && day <= self.last_day
    }
}

/// What the rule left out of each arm's analysed days (the days after the washouts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmExclusion {
    pub arm: String,
    /// Analysed-range days (that have happened) inside an excluded span.
    pub days_excluded: usize,
    /// Analysed-range days (that have happened) outside every excluded span: the most this
    /// arm can contribute (unconfirmed days still count as missing within them).
    pub days_left: usize,
}

/// Per arm, how many analysed-range days up to `last_day` the spans take away and leave.
pub fn per_arm(arms: &[String], calendar: &Calendar, spans: &[ExcludedSpan], last_day: u32) -> Vec<ArmExclusion> {
    arms.iter()
        .enumerate()
        .map(|(a, name)| {
            let days: Vec<u32> = calendar
                .periods
                .iter()
                .filter(|p| p.arm == a)
                .flat_map(|p| p.analysed.clone())
                .filter(|d| *d <= last_day)
                .collect();
            let out = days.iter().filter(|d| spans.iter().any(|s| s.contains(**d))).count();
            ArmExclusion {
                arm: name.clone(),
                days_excluded: out,
                days_left: days.len() - out,
            }
        })
        .collect()
}

/// Days of a simulated patient flagged as in relapse, as the spans a patient who recorded
/// every relapse would give (for the calibration and tests).
pub fn spans_from_flags(flags: impl IntoIterator<Item = bool>, reason: &str) -> Vec<ExcludedSpan> {
    let mut out: Vec<ExcludedSpan> = Vec::new();
    for (day, on) in flags.into_iter().enumerate() {
        let day = day as u32;
        if !on {
            continue;
        }
        match out.last_mut() {
            Some(s) if s.last_day + 1 == day => s.last_day = day,
            _ => out.push(ExcludedSpan {
                first_day: day,
                last_day: day,
                reason: reason.to_string(),
                open_ended: false,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyse_trial, analyse_trial_excluding, AnalysisOptions};
    use crate::design::{Outcome, TrialDesign};
    use crate::series::records_from_sim;
    use crate::sim::SimConfig;
    use crate::trial_sim::{simulate_trial, ArmEffect};

    #[test]
    fn flags_become_spans() {
        let s = spans_from_flags([false, true, true, false, true], "relapse");
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].first_day, s[0].last_day), (1, 2));
        assert_eq!((s[1].first_day, s[1].last_day), (4, 4));
        assert!(s[0].contains(2) && !s[0].contains(3));
    }

    #[test]
    fn excluded_days_leave_the_analysis_and_are_counted() {
        let design = TrialDesign::new(vec!["none".into(), "drug".into()], 3);
        let cal = design.calendar().unwrap();
        let (_, p) = simulate_trial(
            &SimConfig::quiet(0, 11),
            &design,
            &[ArmEffect::NONE, ArmEffect::immediate(0.6)],
        )
        .unwrap();
        let records = records_from_sim(&p);
        let options = AnalysisOptions::default();
        let all = analyse_trial(&design, &records, Outcome::InvoluntaryCount, &options).unwrap();
        // Ten days spanning the end of the first period's analysed days and the next washout.
        let first = cal.periods[0].analysed.end - 5;
        let span = ExcludedSpan {
            first_day: first,
            last_day: first + 9,
            reason: "relapse".into(),
            open_ended: false,
        };
        let spans = [span];
        let cut = analyse_trial_excluding(&design, &records, Outcome::InvoluntaryCount, &options, &spans).unwrap();
        let in_analysed = cal
            .periods
            .iter()
            .flat_map(|p| p.analysed.clone())
            .filter(|d| spans[0].contains(*d))
            .count();
        assert!(in_analysed > 0);
        assert_eq!(cut.days_excluded, in_analysed);
        assert_eq!(cut.days_used + in_analysed, all.days_used);
        assert_eq!(cut.periods.iter().map(|p| p.days_excluded).sum::<usize>(), in_analysed);
        assert_eq!(cut.days_missing, all.days_missing, "excluded days are not missing");
        let arms = per_arm(&design.arms, &cal, &spans, cal.total_days);
        assert_eq!(arms.iter().map(|a| a.days_excluded).sum::<usize>(), in_analysed);
        let analysed: usize = cal.periods.iter().map(|p| p.analysed.len()).sum();
        assert_eq!(
            arms.iter().map(|a| a.days_left + a.days_excluded).sum::<usize>(),
            analysed
        );
    }

    #[test]
    fn run_in_days_in_a_span_leave_the_baseline() {
        let design = TrialDesign::new(vec!["none".into(), "drug".into()], 3);
        let cal = design.calendar().unwrap();
        let (_, p) = simulate_trial(&SimConfig::quiet(0, 12), &design, &[ArmEffect::NONE, ArmEffect::NONE]).unwrap();
        let mut records = records_from_sim(&p);
        // A burst on the first run-in days, recorded as an infection.
        for r in records.iter_mut().take(3) {
            r.spasticity_nrs = Some(10.0);
        }
        let spans = [ExcludedSpan {
            first_day: 0,
            last_day: 2,
            reason: "infection".into(),
            open_ended: false,
        }];
        let o = AnalysisOptions::default();
        let with = analyse_trial(&design, &records, Outcome::SpasticityNrs, &o).unwrap();
        let without = analyse_trial_excluding(&design, &records, Outcome::SpasticityNrs, &o, &spans).unwrap();
        assert!(cal.baseline.len() > 3);
        assert!(without.baseline_mean.unwrap() < with.baseline_mean.unwrap());
    }
}
