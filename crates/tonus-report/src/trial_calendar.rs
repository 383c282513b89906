//! The days a patient's trials change what they take, as labelled dates for the iCalendar
//! reminders (`tonus export ical` and the web calendar feed both use this, so every feed
//! carries them).

use jiff::civil::Date;
use tonus_domain::taper::{abrupt_stop_risk, calendar_caution};
use tonus_store::StoredTrial;

use crate::trials::arms::{arms_of, instruction};
use crate::trials::{day, design_of};

/// (day, label) for the start of each trial's baseline, each period and the day after its
/// last day, for every stored trial whose design can be read. A trial whose dates fall
/// outside the calendar is left out rather than failing the whole feed.
pub fn period_changes(trials: &[StoredTrial]) -> Vec<(Date, String)> {
    let mut out = Vec::new();
    for t in trials {
        let Ok(design) = design_of(t) else { continue };
        let Ok(cal) = design.calendar() else { continue };
        let arms = arms_of(t, &design);
        let n = cal.periods.len();
        let mut changes = Vec::with_capacity(n + 2);
        if !cal.baseline.is_empty() {
            changes.push((
                cal.baseline.start,
                format!(
                    "Trial {}: baseline starts ({} days as usual)",
                    t.name,
                    cal.baseline.len()
                ),
            ));
        }
        for p in &cal.periods {
            let arm = design.arms.get(p.arm).map_or("?", String::as_str);
            // What to take: every treatment of the arm, and the trial's others to stop.
            let what = instruction(&arms, p.arm);
            let washout = if p.washout.is_empty() {
                String::new()
            } else {
                format!(" (first {} days are washout)", p.washout.len())
            };
            // Each period without a drug that must not be stopped abruptly says so on the day.
            let cautions: String = what
                .stop
                .iter()
                .filter(|other| abrupt_stop_risk(other).is_some())
                .map(|other| format!(" — {}", calendar_caution(other)))
                .collect();
            changes.push((
                p.days.start,
                format!(
                    "Trial {}: period {} of {n} starts: {arm}: {}{washout}{cautions}",
                    t.name,
                    p.index + 1,
                    what.text()
                ),
            ));
        }
        changes.push((cal.total_days, format!("Trial {}: finished", t.name)));
        for (index, label) in changes {
            if let Ok(date) = day(t.start_date, index) {
                out.push((date, label));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonus_stats::design::TrialDesign;

    fn trial(name: &str, start: &str, design: &TrialDesign) -> StoredTrial {
        StoredTrial {
            id: 1,
            patient_id: 1,
            name: name.into(),
            start_date: start.parse().unwrap(),
            design: serde_json::to_value(design).unwrap(),
            planned_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn every_period_start_is_listed_with_its_arm() {
        let design = TrialDesign::new(vec!["none".into(), "Baclofen".into()], 7);
        let cal = design.calendar().unwrap();
        let changes = period_changes(&[trial("Baclofen test", "2026-03-02", &design)]);
        assert_eq!(changes.len(), cal.periods.len() + 2);
        assert_eq!(changes[0].0, "2026-03-02".parse::<Date>().unwrap());
        assert!(changes[0].1.contains("baseline starts (14 days"), "{changes:?}");
        // Period 1 starts after the 14-day baseline, with the arm the seed drew.
        let first_arm = &design.arms[cal.periods[0].arm];
        assert_eq!(changes[1].0, "2026-03-16".parse::<Date>().unwrap());
        let (what, caution) = if first_arm == "none" {
            (
                "take none of the trial treatments; stop Baclofen",
                " — stopping Baclofen: agree a tapering plan with your prescriber first",
            )
        } else {
            ("take Baclofen", "")
        };
        assert_eq!(
            changes[1].1,
            format!(
                "Trial Baclofen test: period 1 of {} starts: {first_arm}: {what} (first 4 days are washout){caution}",
                cal.periods.len()
            )
        );
        // Every period without baclofen cautions about stopping it; no period on it does.
        for (p, (_, label)) in cal.periods.iter().zip(&changes[1..]) {
            let on_baclofen = design.arms[p.arm] == "Baclofen";
            assert_eq!(label.contains("stopping Baclofen"), !on_baclofen, "{label}");
        }
        let last = changes.last().unwrap();
        assert_eq!(last.1, "Trial Baclofen test: finished");
        assert_eq!(last.0, day("2026-03-02".parse().unwrap(), cal.total_days).unwrap());
    }

    #[test]
    fn a_combination_period_names_every_treatment_to_take_and_to_stop() {
        let arms: Vec<tonus_domain::Arm> = ["Baclofen", "Stretching + Baclofen"]
            .iter()
            .map(|a| tonus_domain::Arm::parse("arm", a).unwrap())
            .collect();
        let design = TrialDesign::new(arms.iter().map(|a| a.label()).collect(), 3);
        let mut t = trial("Combo", "2026-03-02", &design);
        t.design = crate::trials::arms::design_json(&design, &arms).unwrap();
        let cal = design.calendar().unwrap();
        let changes = period_changes(&[t]);
        for (p, (_, label)) in cal.periods.iter().zip(&changes[1..]) {
            let expected = if p.arm == 1 {
                "starts: Baclofen + Stretching: take Baclofen and Stretching (first"
            } else {
                "starts: Baclofen: take Baclofen; stop Stretching (first"
            };
            assert!(label.contains(expected), "{label}");
            // Baclofen is in both arms: never stopped, so no caution.
            assert!(!label.contains("tapering"), "{label}");
        }
    }

    #[test]
    fn an_unreadable_design_is_skipped() {
        let mut bad = trial("x", "2026-03-02", &TrialDesign::new(vec!["none".into(), "A".into()], 1));
        bad.design = serde_json::json!({"arms": 3});
        assert!(period_changes(&[bad]).is_empty());
    }
}
