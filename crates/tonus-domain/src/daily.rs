//! Daily figures. Missing is not zero: a day counts only when the patient confirmed its log.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use serde::Serialize;

use crate::episode::Family;

/// One local day's episode counts per family; `None` means unknown (the day was not confirmed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayCount {
    pub date: Date,
    pub confirmed: bool,
    pub involuntary_movement: Option<u32>,
    pub stiffness: Option<u32>,
    /// Episodes logged that day, confirmed or not (shown, never used as a count).
    pub logged: u32,
}

/// Counts per local day from `from` to `to` inclusive. `episodes` are (local day, family);
/// `confirmed` holds the days whose log the patient said was complete.
pub fn daily_counts(from: Date, to: Date, episodes: &[(Date, Family)], confirmed: &BTreeSet<Date>) -> Vec<DayCount> {
    let mut per_day: BTreeMap<Date, [u32; 2]> = BTreeMap::new();
    for (day, family) in episodes {
        let slot = per_day.entry(*day).or_default();
        slot[*family as usize] += 1;
    }
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let counts = per_day.get(&day).copied().unwrap_or_default();
        let is_confirmed = confirmed.contains(&day);
        out.push(DayCount {
            date: day,
            confirmed: is_confirmed,
            involuntary_movement: is_confirmed.then_some(counts[Family::InvoluntaryMovement as usize]),
            stiffness: is_confirmed.then_some(counts[Family::Stiffness as usize]),
            logged: counts[0] + counts[1],
        });
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unconfirmed_days_are_unknown_not_zero() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        let episodes = vec![
            (d("2026-11-01"), Family::InvoluntaryMovement),
            (d("2026-11-01"), Family::Stiffness),
            (d("2026-11-01"), Family::InvoluntaryMovement),
            (d("2026-11-02"), Family::Stiffness),
        ];
        let confirmed: BTreeSet<Date> = [d("2026-11-01"), d("2026-11-03")].into();
        let days = daily_counts(d("2026-11-01"), d("2026-11-03"), &episodes, &confirmed);
        assert_eq!(days.len(), 3);
        assert_eq!(days[0].involuntary_movement, Some(2));
        assert_eq!(days[0].stiffness, Some(1));
        assert_eq!(days[1].involuntary_movement, None);
        assert_eq!(days[1].logged, 1);
        assert_eq!(days[2].involuntary_movement, Some(0));
        assert_eq!(days[2].stiffness, Some(0));
    }
}
