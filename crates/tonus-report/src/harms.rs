//! Side effects counted: per effect with the worst severity, per suspected treatment, and per
//! trial period and arm (the CENT 2015 harms item). Counts only: no inference about cause, and
//! nothing here says what to do about them.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;
use tonus_domain::side_effect::{Effect, Severity};
use tonus_domain::SideEffect;
use tonus_stats::design::{Calendar, DayRole};

/// How many times one effect was recorded, and the worst severity recorded for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HarmCount {
    pub effect: String,
    pub count: usize,
    pub worst: Severity,
}

impl HarmCount {
    /// "drowsiness 4 (worst moderate)".
    pub fn text(&self) -> String {
        format!("{} {} (worst {})", self.effect, self.count, self.worst.label())
    }
}

/// The name side effects are grouped under: the label of a listed effect (the patient's own
/// words for it stay in the list), or the patient's words for `other`, so that "other:
/// tingling" and "other: blurred vision" are not counted as one effect.
pub fn effect_name(s: &SideEffect) -> String {
    match s.effect() {
        Effect::Other => s.what().to_string(),
        listed => listed.label().to_string(),
    }
}

/// Counts per effect, most frequent first (ties by name), each with its worst severity.
pub fn count_effects<'a>(effects: impl IntoIterator<Item = &'a SideEffect>) -> Vec<HarmCount> {
    let mut by: BTreeMap<String, (usize, Severity)> = BTreeMap::new();
    for s in effects {
        let e = by.entry(effect_name(s)).or_insert((0, s.severity()));
        e.0 += 1;
        e.1 = e.1.max(s.severity());
    }
    let mut out: Vec<HarmCount> = by
        .into_iter()
        .map(|(effect, (count, worst))| HarmCount { effect, count, worst })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.effect.cmp(&b.effect)));
    out
}

/// "drowsiness 4 (worst moderate), weakness 1 (worst mild)", or `empty` when there are none.
pub fn counts_text(counts: &[HarmCount], empty: &str) -> String {
    if counts.is_empty() {
        return empty.to_string();
    }
    counts.iter().map(HarmCount::text).collect::<Vec<_>>().join(", ")
}

/// The side effects of one trial period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodHarms {
    /// 1-based, as the calendar shows it.
    pub period: u32,
    pub arm: String,
    pub from: Date,
    /// The period's last day, or the last day with data while the trial runs.
    pub to: Date,
    /// On the period's days that count (after its washout).
    pub count: usize,
    pub worst: Option<Severity>,
    /// On its washout days: they may be carried over from the previous arm, so they are
    /// reported apart and left out of the arm's totals.
    pub washout_count: usize,
}

impl PeriodHarms {
    /// "3 (worst moderate), 1 on washout days", or "none recorded".
    pub fn counts(&self) -> String {
        let main = match (self.count, self.worst) {
            (0, _) | (_, None) => "none recorded".to_string(),
            (n, Some(w)) => format!("{n} (worst {})", w.label()),
        };
        if self.washout_count > 0 {
            format!("{main}, {} on washout days", self.washout_count)
        } else {
            main
        }
    }

    /// "period 2 (Baclofen, 2027-03-15 to 2027-03-28): 3 (worst moderate), 1 on washout days".
    pub fn text(&self) -> String {
        format!(
            "period {} ({}, {} to {}): {}",
            self.period,
            self.arm,
            self.from,
            self.to,
            self.counts()
        )
    }
}

/// The side effects of one arm, over the days that count of all its periods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArmHarms {
    pub arm: String,
    pub count: usize,
    pub effects: Vec<HarmCount>,
}

/// Side effects during a trial, per period and per arm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrialHarms {
    /// Every side effect from the trial's first day to the last day with data.
    pub total: usize,
    /// Periods that have started, in order.
    pub periods: Vec<PeriodHarms>,
    /// Every arm, in the design's order, also those with none recorded.
    pub arms: Vec<ArmHarms>,
    /// On washout days (possibly carried over from the previous arm).
    pub washout: Vec<HarmCount>,
    /// During the run-in, before any arm.
    pub run_in: Vec<HarmCount>,
}

pub const NONE_DURING_TRIAL: &str = "No side effects recorded during the trial";

/// Lays `effects` on the trial's calendar (trial day 0 is `start`) by the local date each was
/// felt. Side effects before `start` or after `until` (the last day with data) are left out.
/// Washout days are counted per period but kept out of the arms' totals; run-in days are
/// reported apart.
pub fn trial_harms(
    arms: &[String],
    cal: &Calendar,
    start: Date,
    until: Date,
    effects: &[SideEffect],
) -> Result<TrialHarms, jiff::Error> {
    let at = |i: u32| start.checked_add(jiff::Span::new().days(i64::from(i)));
    let mut periods = Vec::new();
    for p in &cal.periods {
        let from = at(p.days.start)?;
        if from > until {
            break;
        }
        periods.push(PeriodHarms {
            period: p.index + 1,
            arm: arms.get(p.arm).cloned().unwrap_or_default(),
            from,
            to: at(p.days.end.saturating_sub(1))?.min(until),
            count: 0,
            worst: None,
            washout_count: 0,
        });
    }
    let mut per_arm: Vec<Vec<&SideEffect>> = vec![Vec::new(); arms.len()];
    let (mut washout, mut run_in, mut total) = (Vec::new(), Vec::new(), 0);
    for s in effects {
        let date = s.at().local_date();
        if date < start || date > until {
            continue;
        }
        let Ok(index) = u32::try_from((date - start).get_days()) else {
            continue;
        };
        let Some(role) = cal.role(index) else { continue };
        total += 1;
        match role {
            DayRole::Baseline => run_in.push(s),
            DayRole::Washout { period, .. } => {
                washout.push(s);
                if let Some(p) = periods.iter_mut().find(|p| p.period == period + 1) {
                    p.washout_count += 1;
                }
            }
            DayRole::Analysed { period, arm } => {
                if let Some(list) = per_arm.get_mut(arm) {
                    list.push(s);
                }
                if let Some(p) = periods.iter_mut().find(|p| p.period == period + 1) {
                    p.count += 1;
                    p.worst = p.worst.max(Some(s.severity()));
                }
            }
        }
    }
    Ok(TrialHarms {
        total,
        periods,
        arms: arms
            .iter()
            .zip(per_arm)
            .map(|(arm, list)| ArmHarms {
                arm: arm.clone(),
                count: list.len(),
                effects: count_effects(list),
            })
            .collect(),
        washout: count_effects(washout),
        run_in: count_effects(run_in),
    })
}

impl TrialHarms {
    /// The harms as sentences, for every report of the trial: the per-arm totals first, then
    /// washout and run-in, then each period.
    pub fn lines(&self) -> Vec<String> {
        if self.total == 0 {
            return vec![format!("{NONE_DURING_TRIAL}.")];
        }
        let arms: Vec<String> = self
            .arms
            .iter()
            .map(|a| format!("{}: {}", a.arm, counts_text(&a.effects, "none recorded")))
            .collect();
        let mut lines = vec![format!(
            "Side effects per arm (days that count; counts only, not causes): {}",
            arms.join(" · ")
        )];
        if !self.washout.is_empty() {
            lines.push(format!(
                "Side effects on washout days (possibly carried over from the previous arm): {}",
                counts_text(&self.washout, "")
            ));
        }
        if !self.run_in.is_empty() {
            lines.push(format!(
                "Side effects during the run-in: {}",
                counts_text(&self.run_in, "")
            ));
        }
        let periods: Vec<String> = self.periods.iter().map(PeriodHarms::text).collect();
        lines.push(format!("Side effects per period: {}", periods.join("; ")));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;
    use tonus_domain::time::Zone;
    use tonus_domain::LocalInstant;
    use tonus_stats::design::TrialDesign;

    fn effect(when: &str, effect: Effect, severity: Severity) -> SideEffect {
        let description = (effect == Effect::Other).then_some("tingling");
        SideEffect::new(
            LocalInstant {
                at: when.parse().unwrap(),
                zone: Zone::parse("Europe/Berlin").unwrap(),
            },
            effect,
            description,
            severity,
            None,
            None,
            "2028-01-01T00:00:00Z".parse::<Timestamp>().unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn counts_per_effect_keep_the_worst_severity_and_other_words_apart() {
        let list = [
            effect("2027-03-01T08:00:00Z", Effect::Drowsiness, Severity::Mild),
            effect("2027-03-02T08:00:00Z", Effect::Drowsiness, Severity::Severe),
            effect("2027-03-03T08:00:00Z", Effect::Drowsiness, Severity::Moderate),
            effect("2027-03-03T09:00:00Z", Effect::Weakness, Severity::Mild),
            effect("2027-03-03T10:00:00Z", Effect::Other, Severity::Moderate),
        ];
        let counts = count_effects(&list);
        assert_eq!(
            counts_text(&counts, "-"),
            "drowsiness 3 (worst severe), muscle weakness 1 (worst mild), tingling 1 (worst moderate)"
        );
        assert_eq!(counts_text(&[], "none recorded"), "none recorded");
    }

    #[test]
    fn side_effects_fall_in_the_period_of_their_local_date() {
        // Run-in 2 days, 2 blocks of two 5-day periods with 1 washout day: 22 days.
        let design = TrialDesign {
            baseline_days: 2,
            period_days: 5,
            washout_days: 1,
            blocks: 2,
            ..TrialDesign::new(vec!["none".into(), "Baclofen".into()], 7)
        };
        let cal = design.calendar().unwrap();
        let start: Date = "2027-03-01".parse().unwrap();
        let day = |i: u32| start.checked_add(jiff::Span::new().days(i64::from(i))).unwrap();
        let first = &cal.periods[0];
        // The second Baclofen period: never the first period of the trial.
        let baclofen = cal
            .periods
            .iter()
            .rev()
            .find(|p| design.arms[p.arm] == "Baclofen")
            .unwrap();
        // 23:30 UTC is already the next day in Berlin: the local date decides.
        let late = |i: u32| format!("{}T23:30:00Z", day(i - 1));
        let noon = |i: u32| format!("{}T11:00:00Z", day(i));
        let effects = vec![
            effect("2027-02-28T11:00:00Z", Effect::Nausea, Severity::Severe), // before the trial
            effect(&noon(0), Effect::Headache, Severity::Mild),               // run-in
            effect(&noon(first.washout.start), Effect::Dizziness, Severity::Moderate),
            effect(&noon(baclofen.analysed.start), Effect::Drowsiness, Severity::Mild),
            effect(
                &late(baclofen.analysed.start + 1),
                Effect::Drowsiness,
                Severity::Moderate,
            ),
            effect(&noon(baclofen.analysed.start + 2), Effect::Weakness, Severity::Mild),
            effect(&noon(21), Effect::Nausea, Severity::Severe), // after `until`, inside the calendar
        ];
        let until = day(20);
        let harms = trial_harms(&design.arms, &cal, start, until, &effects).unwrap();
        assert_eq!(
            harms.total, 5,
            "the ones before the start and after `until` are left out"
        );
        assert_eq!(
            harms.run_in,
            vec![HarmCount {
                effect: "headache".into(),
                count: 1,
                worst: Severity::Mild
            }]
        );
        assert_eq!(harms.washout.len(), 1);
        assert_eq!(harms.washout[0].effect, "dizziness");
        assert_eq!(harms.periods.len(), 4, "every period has started by day 20");
        assert_eq!(
            harms.periods[3].to, until,
            "the running period ends at the last day with data"
        );
        assert_eq!(harms.periods[0].washout_count, 1);
        assert_eq!(harms.periods[0].count, 0, "washout is not counted with the arm");
        let b = &harms.periods[baclofen.index as usize];
        assert_eq!((b.count, b.worst), (3, Some(Severity::Moderate)));
        let arm = |name: &str| harms.arms.iter().find(|a| a.arm == name).unwrap();
        assert_eq!(arm("Baclofen").count, 3);
        assert_eq!(
            counts_text(&arm("Baclofen").effects, ""),
            "drowsiness 2 (worst moderate), muscle weakness 1 (worst mild)"
        );
        assert_eq!(arm("none").count, 0);
        let lines = harms.lines();
        assert!(
            lines[0].contains("Baclofen: drowsiness 2 (worst moderate), muscle weakness 1 (worst mild)")
                && lines[0].contains("none: none recorded"),
            "{lines:?}"
        );
        assert!(lines
            .iter()
            .any(|l| l.contains("washout days") && l.contains("dizziness 1")));
        assert!(lines
            .iter()
            .any(|l| l.starts_with("Side effects during the run-in: headache 1")));

        let nothing = trial_harms(&design.arms, &cal, start, until, &effects[..1]).unwrap();
        assert_eq!(nothing.total, 0);
        assert_eq!(nothing.lines(), vec![format!("{NONE_DURING_TRIAL}.")]);
    }
}
