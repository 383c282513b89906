//! Which doses are due on a day, from the regimens and the doses already logged: the "due
//! today" list a patient taps through. Pure: the caller brings the regimens and the log.

use jiff::civil::Date;
use serde::Serialize;

use crate::treatment::{Regimen, Schedule};

/// One running regimen on one day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DueItem {
    pub regimen_id: i64,
    pub treatment: String,
    /// Doses planned on the day: `n` for N-times-a-day, 1 on the days an every-N-days or
    /// every-N-weeks regimen falls due, 0 otherwise and for as-needed.
    pub planned: u32,
    /// Doses logged on the day (taken, late or missed).
    pub logged: u32,
    /// For regimens not due on the day: the next day they are due.
    pub next_due: Option<Date>,
    pub as_needed: bool,
}

impl DueItem {
    /// Planned doses not yet logged.
    pub fn remaining(&self) -> u32 {
        self.planned.saturating_sub(self.logged)
    }
}

/// Days between the regimen's start and its next due day on or after `day`, for interval
/// schedules.
fn interval_days(schedule: Schedule) -> Option<i64> {
    match schedule {
        Schedule::EveryDays(n) => Some(i64::from(n)),
        Schedule::EveryWeeks(n) => Some(7 * i64::from(n)),
        Schedule::TimesPerDay(_) | Schedule::AsNeeded => None,
    }
}

/// The regimens running on `day`, with what is planned and logged: those with doses still
/// to log first, then the rest, each group in the order given. `logged(regimen_id)` counts
/// the doses logged for that regimen on `day`.
pub fn due_on(day: Date, regimens: &[(i64, String, Regimen)], logged: impl Fn(i64) -> u32) -> Vec<DueItem> {
    let mut items: Vec<DueItem> = regimens
        .iter()
        .filter(|(_, _, r)| r.active_on(day))
        .map(|(id, name, r)| {
            let (planned, next_due) = match r.schedule() {
                Schedule::TimesPerDay(n) => (u32::from(n), None),
                Schedule::AsNeeded => (0, None),
                s => {
                    let every = interval_days(s).unwrap_or(1).max(1);
                    let since = (day - r.start()).get_days() as i64;
                    let offset = since.rem_euclid(every);
                    if offset == 0 {
                        (1, None)
                    } else {
                        let next = day.checked_add(jiff::Span::new().days(every - offset)).ok();
                        (0, next.filter(|d| r.active_on(*d)))
                    }
                }
            };
            DueItem {
                regimen_id: *id,
                treatment: name.clone(),
                planned,
                logged: logged(*id),
                next_due,
                as_needed: r.schedule() == Schedule::AsNeeded,
            }
        })
        .collect();
    items.sort_by_key(|i| i.remaining() == 0);
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::treatment::{Category, Dose, Unit};
    use jiff::civil::date;

    fn regimen(schedule: Schedule, start: Date, end: Option<Date>) -> Regimen {
        Regimen::new(
            Category::Drug,
            Some(Dose::new(10.0, Unit::Mg).unwrap()),
            None,
            schedule,
            start,
            end,
        )
        .unwrap()
    }

    #[test]
    fn planned_logged_and_next_due() {
        let start = date(2026, 11, 1);
        let regimens = vec![
            (
                1,
                "Baclofen".to_string(),
                regimen(Schedule::TimesPerDay(3), start, None),
            ),
            (2, "Injection".to_string(), regimen(Schedule::EveryDays(3), start, None)),
            (3, "Infusion".to_string(), regimen(Schedule::EveryWeeks(2), start, None)),
            (4, "Rescue".to_string(), regimen(Schedule::AsNeeded, start, None)),
            (
                5,
                "Stopped".to_string(),
                regimen(Schedule::TimesPerDay(1), start, Some(date(2026, 11, 5))),
            ),
        ];
        let logged = |id: i64| if id == 1 { 1 } else { 0 };
        // Day 9 after the start: the every-3-days regimen is due (9 % 3 == 0), the
        // two-weekly one is not (next on day 14), the stopped one is gone.
        let items = due_on(date(2026, 11, 10), &regimens, logged);
        let by_id = |id: i64| items.iter().find(|i| i.regimen_id == id).unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!((by_id(1).planned, by_id(1).logged, by_id(1).remaining()), (3, 1, 2));
        assert_eq!(by_id(2).planned, 1);
        assert_eq!(by_id(3).planned, 0);
        assert_eq!(by_id(3).next_due, Some(date(2026, 11, 15)));
        assert!(by_id(4).as_needed && by_id(4).planned == 0);
        // Doses still to log come first.
        assert_eq!(items.iter().map(|i| i.regimen_id).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
        let later = due_on(date(2026, 11, 11), &regimens, |_| 0);
        assert_eq!(
            later.iter().find(|i| i.regimen_id == 2).unwrap().next_due,
            Some(date(2026, 11, 13))
        );
        // A next due day after the regimen's end is not offered.
        let ending = vec![(
            6,
            "Short".to_string(),
            regimen(Schedule::EveryDays(7), start, Some(date(2026, 11, 5))),
        )];
        assert_eq!(due_on(date(2026, 11, 2), &ending, |_| 0)[0].next_due, None);
    }
}
