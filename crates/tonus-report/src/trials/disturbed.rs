//! Recorded relapses and infections during a trial, turned into the days the pre-specified
//! rule leaves out ([`tonus_stats::exclusion`]), and the lines every trial report prints
//! about them and about the carry-over and trend checks.

use jiff::civil::Date;
use serde::Serialize;
use tonus_domain::{ClinicalEvent, EventKind};
use tonus_stats::checks::Finding;
use tonus_stats::design::Calendar;
use tonus_stats::exclusion::{per_arm, ArmExclusion, ExcludedSpan, EXCLUSION_RULE};

use super::{day, TrialError, TrialReport};

/// One recorded disturbance that overlaps the trial, as the report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct DisturbedDays {
    /// "relapse" or "infection".
    pub reason: String,
    /// The part inside the trial (up to the last day analysed).
    pub from: Date,
    pub to: Date,
    /// No end date was recorded: counted as still going on.
    pub open_ended: bool,
    /// Trial days left out (run-in, washout and analysed days).
    pub days: u32,
}

impl DisturbedDays {
    pub fn text(&self) -> String {
        format!(
            "{} {} to {} ({} day{}{})",
            self.reason,
            self.from,
            self.to,
            self.days,
            if self.days == 1 { "" } else { "s" },
            if self.open_ended {
                "; no end date recorded, so counted as still going on: add the end date once it is over"
            } else {
                ""
            }
        )
    }
}

/// What the rule for disturbed days left out of a trial.
#[derive(Debug, Clone, Serialize)]
pub struct Exclusions {
    /// The rule in words ([`EXCLUSION_RULE`]).
    pub rule: &'static str,
    pub disturbed: Vec<DisturbedDays>,
    /// Per arm: analysed-range days left out and left (before unconfirmed days).
    pub arms: Vec<ArmExclusion>,
    /// The spans in calendar day numbers, as the analysis takes them.
    #[serde(skip)]
    pub spans: Vec<ExcludedSpan>,
}

impl Exclusions {
    /// The report's lines: the rule, then what it left out (or that it left out nothing).
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![self.rule.to_string()];
        if self.disturbed.is_empty() {
            out.push("No relapse or infection was recorded during the trial: no days were left out.".into());
            return out;
        }
        let each: Vec<String> = self.disturbed.iter().map(DisturbedDays::text).collect();
        out.push(format!("Left out: {}.", each.join("; ")));
        let arms: Vec<String> = self
            .arms
            .iter()
            .map(|a| format!("{} {} ({} left out)", a.arm, a.days_left, a.days_excluded))
            .collect();
        out.push(format!(
            "Days after the washouts that remain for each arm (before unconfirmed days): {}.",
            arms.join(", ")
        ));
        out
    }
}

/// The recorded relapses and infections among `events` that overlap `start..=until`.
pub fn exclusions(
    events: &[ClinicalEvent],
    arms: &[String],
    cal: &Calendar,
    start: Date,
    until: Date,
) -> Result<Exclusions, TrialError> {
    let mut disturbed = Vec::new();
    let mut spans = Vec::new();
    for e in events {
        let reason = match e.kind() {
            EventKind::Relapse => "relapse",
            EventKind::Infection => "infection",
            _ => continue,
        };
        let end = e.until().unwrap_or(until);
        if e.on() > until || end < start {
            continue;
        }
        let (from, to) = (e.on().max(start), end.min(until));
        let index = |d: Date| u32::try_from((d - start).get_days()).unwrap_or(0);
        let span = ExcludedSpan {
            first_day: index(from),
            last_day: index(to),
            reason: reason.to_string(),
            open_ended: e.until().is_none(),
        };
        disturbed.push(DisturbedDays {
            reason: reason.to_string(),
            from,
            to,
            open_ended: span.open_ended,
            days: span.last_day - span.first_day + 1,
        });
        spans.push(span);
    }
    let last = u32::try_from((until - start).get_days()).unwrap_or(0);
    // Keep the dates checked: a span's days must map back to calendar dates.
    for s in &spans {
        day(start, s.last_day)?;
    }
    Ok(Exclusions {
        rule: EXCLUSION_RULE,
        arms: per_arm(arms, cal, &spans, last),
        disturbed,
        spans,
    })
}

/// The checks worth a line: every check of the primary outcome, and of other outcomes only
/// those that found a difference (the rest would repeat "cannot tell" a dozen times).
pub fn check_lines(rep: &TrialReport) -> Vec<String> {
    let mut out = Vec::new();
    for o in &rep.outcomes {
        let Some(a) = &o.analysis else { continue };
        for c in &a.checks {
            if o.primary || c.finding == Finding::Differs {
                let tag = if o.primary { " (primary)" } else { "" };
                out.push(format!("{}{tag}: {}", o.label, c.text));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;
    use tonus_domain::time::Zone;
    use tonus_stats::design::TrialDesign;

    fn event(kind: EventKind, on: &str, until: Option<&str>) -> ClinicalEvent {
        let now: Timestamp = "2027-06-01T12:00:00Z".parse().unwrap();
        ClinicalEvent::new(
            kind,
            on.parse().unwrap(),
            until.map(|u| u.parse().unwrap()),
            None,
            &Zone::utc(),
            now,
        )
        .unwrap()
    }

    #[test]
    fn relapses_and_infections_are_clipped_to_the_trial_and_others_ignored() {
        let design = TrialDesign::new(vec!["none".into(), "drug".into()], 1);
        let cal = design.calendar().unwrap();
        let start: Date = "2027-01-01".parse().unwrap();
        let until = day(start, cal.total_days - 1).unwrap();
        let events = [
            event(EventKind::Relapse, "2026-12-25", Some("2027-01-03")),
            event(EventKind::Infection, "2027-02-10", Some("2027-02-12")),
            event(EventKind::Diagnosis, "2027-02-01", None),
            event(EventKind::Relapse, "2026-10-01", Some("2026-10-20")),
        ];
        let x = exclusions(&events, &design.arms, &cal, start, until).unwrap();
        assert_eq!(x.disturbed.len(), 2);
        assert_eq!(x.disturbed[0].from, start);
        assert_eq!(x.disturbed[0].days, 3);
        assert_eq!((x.spans[1].first_day, x.spans[1].last_day), (40, 42));
        let lines = x.lines();
        assert!(lines[0].starts_with("Pre-specified rule"));
        assert!(
            lines[1].contains("infection 2027-02-10 to 2027-02-12 (3 days)"),
            "{lines:?}"
        );
        assert!(lines[2].contains("none ") && lines[2].contains("drug "), "{lines:?}");
    }

    #[test]
    fn an_open_relapse_runs_to_the_last_day_and_says_so() {
        let design = TrialDesign::new(vec!["none".into(), "drug".into()], 1);
        let cal = design.calendar().unwrap();
        let start: Date = "2027-01-01".parse().unwrap();
        let until: Date = "2027-02-20".parse().unwrap();
        let x = exclusions(
            &[event(EventKind::Relapse, "2027-02-15", None)],
            &design.arms,
            &cal,
            start,
            until,
        )
        .unwrap();
        assert_eq!(x.disturbed[0].to, until);
        assert!(x.disturbed[0].open_ended);
        assert!(x.lines()[1].contains("no end date recorded"), "{:?}", x.lines());
    }

    #[test]
    fn nothing_recorded_is_said_plainly() {
        let design = TrialDesign::new(vec!["none".into(), "drug".into()], 1);
        let cal = design.calendar().unwrap();
        let start: Date = "2027-01-01".parse().unwrap();
        let x = exclusions(&[], &design.arms, &cal, start, "2027-03-01".parse().unwrap()).unwrap();
        assert_eq!(x.lines().len(), 2);
        assert!(x.lines()[1].contains("no days were left out"));
        assert!(x.arms.iter().all(|a| a.days_excluded == 0));
    }
}
