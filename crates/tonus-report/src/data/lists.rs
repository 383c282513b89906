//! The side-effect list and the patient's notes as a report shows them (pure).

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;
use tonus_domain::{CheckIn, Episode, SideEffect};

use crate::harms::{count_effects, counts_text, HarmCount};

/// One side effect, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct SideEffectRow {
    /// Local date and time, "2026-11-20 09:00".
    pub when: String,
    pub date: String,
    /// The effect's label, or the patient's words for it.
    pub what: String,
    pub severity: &'static str,
    pub suspected_treatment: Option<String>,
    /// Only when notes are included.
    pub note: Option<String>,
}

/// Side effects suspected of one treatment (or of none named).
#[derive(Debug, Clone, Serialize)]
pub struct SuspectedTreatment {
    /// The treatment's name, or [`NO_TREATMENT_NAMED`].
    pub treatment: String,
    pub count: usize,
    pub effects: Vec<HarmCount>,
    /// "drowsiness 2 (worst moderate), …".
    pub text: String,
}

pub const NO_TREATMENT_NAMED: &str = "no treatment named";
/// Said where the range has none: the patient recorded none, which is not the same as none
/// having happened.
pub const NO_SIDE_EFFECTS: &str = "No side effects recorded in this range";

#[derive(Debug, Clone, Default, Serialize)]
pub struct SideEffects {
    pub total: usize,
    /// Oldest first.
    pub rows: Vec<SideEffectRow>,
    /// Count and worst severity per effect, most frequent first.
    pub by_effect: Vec<HarmCount>,
    /// Per suspected treatment, most side effects first; those with none named last.
    pub by_treatment: Vec<SuspectedTreatment>,
}

/// A free-text note the patient wrote.
#[derive(Debug, Clone, Serialize)]
pub struct NoteRow {
    pub date: String,
    /// "episode", "episode trigger", "check-in" or "side effect".
    pub source: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct NotesData {
    /// False when notes were not asked for (the PDF's default): `rows` is then empty.
    pub included: bool,
    /// Newest first.
    pub rows: Vec<NoteRow>,
    /// Notes in the range beyond those listed.
    pub more: usize,
}

pub(super) fn side_effects(list: &[&SideEffect], with_notes: bool) -> SideEffects {
    let rows = list
        .iter()
        .map(|s| SideEffectRow {
            when: s.at().zoned().strftime("%Y-%m-%d %H:%M").to_string(),
            date: s.at().local_date().to_string(),
            what: s.what().to_string(),
            severity: s.severity().label(),
            suspected_treatment: s.suspected_treatment().map(str::to_string),
            note: if with_notes { s.note().map(str::to_string) } else { None },
        })
        .collect();
    let mut by: BTreeMap<Option<&str>, Vec<&SideEffect>> = BTreeMap::new();
    for s in list {
        by.entry(s.suspected_treatment()).or_default().push(s);
    }
    let mut by_treatment: Vec<SuspectedTreatment> = by
        .into_iter()
        .map(|(name, list)| {
            let effects = count_effects(list.iter().copied());
            SuspectedTreatment {
                treatment: name.unwrap_or(NO_TREATMENT_NAMED).to_string(),
                count: list.len(),
                text: counts_text(&effects, ""),
                effects,
            }
        })
        .collect();
    by_treatment.sort_by_key(|t| (t.treatment == NO_TREATMENT_NAMED, std::cmp::Reverse(t.count)));
    SideEffects {
        total: list.len(),
        rows,
        by_effect: count_effects(list.iter().copied()),
        by_treatment,
    }
}

/// The notes of the records in range, newest first, at most `limit`.
pub(super) fn notes(episodes: &[&Episode], checkins: &[&CheckIn], effects: &[&SideEffect], limit: usize) -> NotesData {
    // (date, time of day for ordering within a day, row); a check-in's note is about the
    // whole day, so it sorts as the day's last word.
    let mut all: Vec<(Date, i64, NoteRow)> = Vec::new();
    let mut push = |date: Date, order: i64, source: &'static str, text: Option<&str>| {
        if let Some(text) = text {
            all.push((
                date,
                order,
                NoteRow {
                    date: date.to_string(),
                    source,
                    text: text.to_string(),
                },
            ));
        }
    };
    for e in episodes {
        let at = e.started_at();
        push(at.local_date(), at.millis(), "episode", e.notes());
        push(at.local_date(), at.millis(), "episode trigger", e.trigger_note());
    }
    for c in checkins {
        push(c.date(), i64::MAX, "check-in", c.note());
    }
    for s in effects {
        push(s.at().local_date(), s.at().millis(), "side effect", s.note());
    }
    all.sort_by_key(|(date, order, _)| std::cmp::Reverse((*date, *order)));
    let more = all.len().saturating_sub(limit);
    NotesData {
        included: true,
        rows: all.into_iter().take(limit).map(|(_, _, r)| r).collect(),
        more,
    }
}
