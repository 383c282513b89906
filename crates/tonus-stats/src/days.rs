//! Which days of a comparison have a value, and why the others do not: a day still to
//! come is not missing, and a confirmed day without episodes has no episode pain to miss.

use std::collections::BTreeMap;

use crate::design::Outcome;
use crate::exclusion::ExcludedSpan;
use crate::series::DayRecord;

fn index(records: &[DayRecord]) -> BTreeMap<u32, &DayRecord> {
    records.iter().map(|r| (r.day, r)).collect()
}

/// What one day contributes to an outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum DayValue {
    Value(f64),
    /// After the last day of `records`: it has not happened yet, so it is not missing.
    ToCome,
    /// Episode pain on a confirmed day without episodes: there was no pain to rate.
    NoEpisodes,
    /// Happened, but unconfirmed or the value was not given.
    Missing,
    /// Inside a recorded disturbance (relapse, infection): left out by the pre-specified
    /// rule whatever was logged (see [`crate::exclusion`]).
    Excluded,
}

/// Days looked up in the records, each classified (see [`DayValue`]).
pub(crate) struct DayLookup<'a> {
    by_day: BTreeMap<u32, &'a DayRecord>,
    last: Option<u32>,
    outcome: Outcome,
    excluded: &'a [ExcludedSpan],
}

impl<'a> DayLookup<'a> {
    /// `records` end on the last day that has happened (today, or the trial's end).
    pub(crate) fn new(records: &'a [DayRecord], outcome: Outcome) -> Self {
        Self {
            by_day: index(records),
            last: records.iter().map(|r| r.day).max(),
            outcome,
            excluded: &[],
        }
    }

    /// Days inside `spans` are [`DayValue::Excluded`] once they have happened.
    pub(crate) fn excluding(self, spans: &'a [ExcludedSpan]) -> Self {
        Self {
            excluded: spans,
            ..self
        }
    }

    pub(crate) fn has_happened(&self, day: u32) -> bool {
        self.last.is_some_and(|l| day <= l)
    }

    pub(crate) fn get(&self, day: u32) -> DayValue {
        if !self.has_happened(day) {
            return DayValue::ToCome;
        }
        if self.excluded.iter().any(|s| s.contains(day)) {
            return DayValue::Excluded;
        }
        let Some(r) = self.by_day.get(&day) else {
            return DayValue::Missing;
        };
        match r.value(self.outcome) {
            Some(v) => DayValue::Value(v),
            None if self.outcome == Outcome::EpisodePain
                && r.confirmed
                && r.involuntary_count == 0
                && r.stiffness_count == 0 =>
            {
                DayValue::NoEpisodes
            }
            None => DayValue::Missing,
        }
    }
}

/// Counts of days without a value, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Gaps {
    pub(crate) missing: usize,
    pub(crate) without_episodes: usize,
    pub(crate) to_come: usize,
    pub(crate) excluded: usize,
}

impl Gaps {
    /// Adds a day; returns its value when it has one.
    pub(crate) fn take(&mut self, v: DayValue) -> Option<f64> {
        match v {
            DayValue::Value(x) => return Some(x),
            DayValue::ToCome => self.to_come += 1,
            DayValue::NoEpisodes => self.without_episodes += 1,
            DayValue::Missing => self.missing += 1,
            DayValue::Excluded => self.excluded += 1,
        }
        None
    }

    pub(crate) fn add(&mut self, o: Gaps) {
        self.missing += o.missing;
        self.without_episodes += o.without_episodes;
        self.to_come += o.to_come;
        self.excluded += o.excluded;
    }
}
