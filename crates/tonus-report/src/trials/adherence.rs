//! Adherence per period and per treatment of the period's arm (CENT 2015 item on adherence):
//! doses planned from each treatment's regimens, doses logged taken or missed, and doses of
//! the trial's other treatments taken when the arm leaves them out ("other").
//!
//! "Other" counts only the trial's own treatments: background treatments that are in no
//! arm are listed as concomitant in the report instead, since taking them is no deviation.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;
use tonus_domain::arm::Arm;
use tonus_domain::{DoseLog, DoseStatus};
use tonus_stats::design::{Calendar, TrialDesign};
use tonus_store::{Stored, StoredRegimen};

use super::{day, TrialError};

/// One treatment of the active arm in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentAdherence {
    pub treatment: String,
    /// Doses the treatment's regimens schedule over the period's days so far (as-needed
    /// regimens schedule none).
    pub planned_doses: f64,
    /// Doses logged as taken (on time or late).
    pub logged_taken: usize,
    pub logged_missed: usize,
}

/// Doses of a trial treatment taken during a period whose arm leaves it out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtherDoses {
    pub treatment: String,
    pub taken: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adherence {
    pub period: u32,
    pub arm: String,
    /// Totals over the arm's treatments.
    pub planned_doses: f64,
    pub logged_taken: usize,
    pub logged_missed: usize,
    /// Doses taken of the trial's treatments that this arm leaves out (the sum of `other`).
    pub other_arm_doses_taken: usize,
    /// One entry per treatment of the arm, in the arm's order; empty for `none`.
    pub components: Vec<ComponentAdherence>,
    /// The trial's treatments taken though the arm leaves them out, those with a dose only.
    pub other: Vec<OtherDoses>,
}

/// "28 of 30.0 planned taken (93 %), 2 missed".
fn counts(planned: f64, taken: usize, missed: usize) -> String {
    let share = if planned > 0.0 {
        format!(" ({:.0} %)", 100.0 * taken as f64 / planned)
    } else {
        String::new()
    };
    format!("{taken} of {planned:.1} planned taken{share}, {missed} missed")
}

impl Adherence {
    /// One line for reports: each treatment of the arm, then the other doses.
    pub fn text(&self) -> String {
        let mut parts: Vec<String> = self
            .components
            .iter()
            .map(|c| {
                format!(
                    "{}: {}",
                    c.treatment,
                    counts(c.planned_doses, c.logged_taken, c.logged_missed)
                )
            })
            .collect();
        if parts.is_empty() {
            parts.push("no trial treatment planned".to_string());
        }
        let other = if self.other.is_empty() {
            "none".to_string()
        } else {
            self.other
                .iter()
                .map(|o| format!("{} {}", o.treatment, o.taken))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "period {} ({}): {}; other trial treatments' doses taken: {other}",
            self.period,
            self.arm,
            parts.join("; ")
        )
    }
}

/// Adherence for every period that has begun by `until`.
pub fn adherence(
    design: &TrialDesign,
    arms: &[Arm],
    cal: &Calendar,
    start: Date,
    until: Date,
    regimens: &[StoredRegimen],
    doses: &[(i64, Stored<DoseLog>)],
) -> Result<Vec<Adherence>, TrialError> {
    let treatment_of: BTreeMap<i64, &str> = regimens.iter().map(|r| (r.id, r.treatment_name.as_str())).collect();
    let in_trial = |name: &str| arms.iter().any(|a| a.contains(name));
    let mut out = Vec::new();
    for p in &cal.periods {
        let from = day(start, p.days.start)?;
        if from > until {
            break;
        }
        let to = day(start, p.days.end - 1)?.min(until);
        let Some(arm) = arms.get(p.arm) else { continue };
        let mut components: Vec<ComponentAdherence> = arm
            .components()
            .iter()
            .map(|t| ComponentAdherence {
                treatment: t.clone(),
                planned_doses: 0.0,
                logged_taken: 0,
                logged_missed: 0,
            })
            .collect();
        let mut d = from;
        while d <= to {
            for c in &mut components {
                c.planned_doses += regimens
                    .iter()
                    .filter(|r| r.treatment_name.eq_ignore_ascii_case(&c.treatment) && r.value.active_on(d))
                    .filter_map(|r| r.value.schedule().doses_per_day())
                    .sum::<f64>();
            }
            d = d.tomorrow()?;
        }
        let mut other: Vec<OtherDoses> = Vec::new();
        let in_period = doses.iter().filter(|(_, x)| {
            let day = x.value.at().local_date();
            day >= from && day <= to
        });
        for (rid, x) in in_period {
            let name = treatment_of.get(rid).copied().unwrap_or("");
            let was_taken = x.value.status() != DoseStatus::Missed;
            if let Some(c) = components.iter_mut().find(|c| c.treatment.eq_ignore_ascii_case(name)) {
                if was_taken {
                    c.logged_taken += 1;
                } else {
                    c.logged_missed += 1;
                }
            } else if was_taken && in_trial(name) {
                match other.iter_mut().find(|o| o.treatment.eq_ignore_ascii_case(name)) {
                    Some(o) => o.taken += 1,
                    None => other.push(OtherDoses {
                        treatment: name.to_string(),
                        taken: 1,
                    }),
                }
            }
        }
        out.push(Adherence {
            period: p.index + 1,
            arm: design.arms.get(p.arm).cloned().unwrap_or_else(|| arm.label()),
            planned_doses: components.iter().map(|c| c.planned_doses).sum(),
            logged_taken: components.iter().map(|c| c.logged_taken).sum(),
            logged_missed: components.iter().map(|c| c.logged_missed).sum(),
            other_arm_doses_taken: other.iter().map(|o| o.taken).sum(),
            components,
            other,
        });
    }
    Ok(out)
}
