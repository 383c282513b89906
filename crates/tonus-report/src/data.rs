//! What the clinician report says, computed from domain records (pure). The result is plain
//! serialisable data that the PDF template reads, and whose charts the web UI can show too.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use jiff::Timestamp;
use serde::Serialize;
use tonus_domain::time::Zone;
use tonus_domain::{
    Category, CheckIn, ClinicalEvent, DoseLog, DoseStatus, Episode, EventKind, ExerciseSession, Family, Regimen,
    SideEffect,
};

use crate::charts::{bar_chart, daily_chart, shorten, Band, Marker, Series};
use crate::harms::counts_text;

mod lists;
use lists::{notes, side_effects};
pub use lists::{
    NoteRow, NotesData, SideEffectRow, SideEffects, SuspectedTreatment, NO_SIDE_EFFECTS, NO_TREATMENT_NAMED,
};

mod section;
pub use section::Section;

/// A regimen with what it belongs to.
#[derive(Debug, Clone)]
pub struct RegimenInput {
    pub id: i64,
    pub treatment: String,
    pub category: Category,
    pub regimen: Regimen,
}

/// A trial's result lines, prepared by the caller from the statistics crate.
#[derive(Debug, Clone, Serialize)]
pub struct TrialSummary {
    pub name: String,
    pub design: String,
    pub lines: Vec<String>,
    /// Adherence per period and per treatment of its arm ([`crate::trials::Adherence::text`]).
    pub adherence: Vec<String>,
    /// Side effects per arm and period ([`crate::harms::TrialHarms::lines`]).
    pub harms: Vec<String>,
    pub cent: crate::trials::cent::CentItems,
}

pub struct ReportInput<'a> {
    pub patient: &'a str,
    pub zone: &'a Zone,
    pub from: Date,
    pub to: Date,
    pub generated: Timestamp,
    pub episodes: &'a [Episode],
    pub checkins: &'a [CheckIn],
    pub regimens: &'a [RegimenInput],
    /// (regimen id, dose)
    pub doses: &'a [(i64, DoseLog)],
    pub exercise: &'a [ExerciseSession],
    pub events: &'a [ClinicalEvent],
    pub side_effects: &'a [SideEffect],
    pub trials: &'a [TrialSummary],
    /// Whether the patient's free-text notes are included, and how many at most.
    pub notes: Notes,
    pub sections: &'a [Section],
    pub gentle_limit: u8,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub days: usize,
    pub confirmed_days: usize,
    pub involuntary_total: usize,
    pub stiffness_total: usize,
    /// Means per confirmed day; `None` when no day was confirmed.
    pub involuntary_per_day: Option<f64>,
    pub stiffness_per_day: Option<f64>,
    pub mean_episode_pain: Option<f64>,
    pub mean_spasticity_nrs: Option<f64>,
    pub mean_pain_nrs: Option<f64>,
    pub night_share_pct: Option<f64>,
    pub active_treatments: Vec<String>,
    pub last_mri: Option<String>,
    pub relapses: usize,
    /// "3 recorded: drowsiness 2 (worst moderate), …" or the plain statement that none were.
    pub side_effects: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TreatmentRow {
    pub name: String,
    pub category: String,
    pub dose: String,
    pub route: String,
    pub schedule: String,
    pub from: String,
    pub to: String,
    pub adherence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    pub date: String,
    pub text: String,
}

/// Whether a report carries the patient's free-text notes (episode, check-in and side-effect
/// notes). The PDF leaves them out unless asked: they are the patient's own words, shown only
/// when the patient or the clinician chose to include them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notes {
    Hidden,
    /// The newest `n`; the rest are counted.
    Newest(usize),
}

/// At most this many notes on the dashboard; the rest are counted.
pub const DASHBOARD_NOTES: usize = 50;
/// At most this many notes in the PDF: enough for a 90-day report, and a bound on its length.
pub const PDF_NOTES: usize = 200;

#[derive(Debug, Clone, Serialize)]
pub struct NightStats {
    pub episodes: usize,
    pub night_episodes: usize,
    pub mean_night_wakings: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExerciseStats {
    pub sessions: usize,
    pub minutes: u32,
    pub mean_exertion: Option<f64>,
    pub above_limit: usize,
    pub gentle_limit: u8,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    pub patient: String,
    /// Name, birth date, sex and identifiers in one line (empty when the patient gave none):
    /// on every page, so a clinic can file the report to the right chart.
    pub identity: String,
    pub zone: String,
    pub from: String,
    pub to: String,
    pub generated: String,
    /// The same instant for the PDF's metadata, which PDF/A requires in UTC or with its offset.
    #[serde(skip)]
    pub generated_at: Timestamp,
    pub sections: Vec<&'static str>,
    pub notice: &'static str,
    pub summary: Summary,
    pub treatments: Vec<TreatmentRow>,
    pub charts: BTreeMap<&'static str, String>,
    pub regions: Vec<(String, usize)>,
    pub night: NightStats,
    pub events: Vec<EventRow>,
    pub side_effects: SideEffects,
    pub notes: NotesData,
    pub exercise: ExerciseStats,
    pub trials: Vec<TrialSummary>,
    /// Every day of the range, for calendars: confirmed or not, and what was logged.
    pub days: Vec<DayCell>,
}

/// One calendar day. `confirmed` is false when the patient did not confirm the day's log was
/// complete: its counts are what was logged, not evidence of a spasm-free day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayCell {
    pub date: Date,
    pub confirmed: bool,
    pub involuntary: usize,
    pub stiffness: usize,
}

pub const NOTICE: &str = "Self-reported data. Episodes, check-ins, doses and exercise were entered by the \
patient; days the patient did not confirm are shown as unknown, never as zero. Figures describe this \
patient's records with their uncertainty and are not medical advice.";

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| s / n as f64)
}

fn is_night(e: &Episode) -> bool {
    let h = e.started_at().zoned().hour();
    !(6..22).contains(&h)
}

fn dates(from: Date, to: Date) -> Vec<Date> {
    let mut v = Vec::new();
    let mut d = from;
    while d <= to {
        v.push(d);
        match d.tomorrow() {
            Ok(n) => d = n,
            Err(_) => break,
        }
    }
    v
}

fn event_text(e: &ClinicalEvent) -> String {
    let what = match e.kind() {
        EventKind::Mri {
            region,
            lesions_total,
            lesions_new,
            lesions_enhancing,
        } => {
            let n = |v: &Option<u32>| v.map_or("?".to_string(), |v| v.to_string());
            format!(
                "MRI {}: {} lesions, {} new, {} gadolinium-enhancing",
                region.label(),
                n(lesions_total),
                n(lesions_new),
                n(lesions_enhancing)
            )
        }
        EventKind::Relapse => "Relapse".to_string(),
        EventKind::Infection => "Infection".to_string(),
        EventKind::Diagnosis => "MS diagnosis".to_string(),
        EventKind::Other { name } => name.clone(),
    };
    let until = e.until().map_or(String::new(), |u| format!(" (until {u})"));
    let summary = e.summary().map_or(String::new(), |s| format!(" — {s}"));
    format!("{what}{until}{summary}")
}

fn marker_color(k: &EventKind) -> &'static str {
    match k {
        EventKind::Mri { .. } => "#1f5fbf",
        EventKind::Relapse => "#c0392b",
        EventKind::Infection => "#d68910",
        EventKind::Diagnosis => "#222222",
        EventKind::Other { .. } => "#7f7f7f",
    }
}

/// Computes the report.
pub fn build(input: &ReportInput) -> ReportData {
    let (from, to) = (input.from, input.to);
    let in_range = |d: Date| d >= from && d <= to;
    let episodes: Vec<&Episode> = input
        .episodes
        .iter()
        .filter(|e| in_range(e.started_at().local_date()))
        .collect();
    let checkins: BTreeMap<Date, &CheckIn> = input
        .checkins
        .iter()
        .filter(|c| in_range(c.date()))
        .map(|c| (c.date(), c))
        .collect();
    let confirmed: BTreeSet<Date> = checkins
        .values()
        .filter(|c| c.log_complete())
        .map(|c| c.date())
        .collect();
    let effects: Vec<&SideEffect> = input
        .side_effects
        .iter()
        .filter(|s| in_range(s.at().local_date()))
        .collect();
    let with_notes = input.notes != Notes::Hidden;
    let side_effects = side_effects(&effects, with_notes);
    let notes = match input.notes {
        Notes::Hidden => NotesData {
            included: false,
            rows: Vec::new(),
            more: 0,
        },
        Notes::Newest(limit) => notes(
            &episodes,
            &checkins.values().copied().collect::<Vec<_>>(),
            &effects,
            limit,
        ),
    };
    let all_days = dates(from, to);
    let unknown: Vec<Date> = all_days.iter().copied().filter(|d| !confirmed.contains(d)).collect();

    let mut per_day: BTreeMap<Date, [usize; 2]> = BTreeMap::new();
    for e in &episodes {
        per_day.entry(e.started_at().local_date()).or_default()[e.family() as usize] += 1;
    }
    let count_on = |d: &Date, f: Family| per_day.get(d).map_or(0, |c| c[f as usize]);
    let family_total = |f: Family| episodes.iter().filter(|e| e.family() == f).count();
    let per_confirmed_day = |f: Family| mean(confirmed.iter().map(|d| count_on(d, f) as f64));

    let events: Vec<&ClinicalEvent> = input
        .events
        .iter()
        .filter(|e| e.on() <= to && e.until().is_none_or(|u| u >= from) || in_range(e.on()))
        .collect();
    let last_mri = input
        .events
        .iter()
        .filter(|e| matches!(e.kind(), EventKind::Mri { .. }) && e.on() <= to)
        .max_by_key(|e| e.on())
        .map(|e| format!("{}: {}", e.on(), event_text(e)));

    let active: Vec<String> = input
        .regimens
        .iter()
        .filter(|r| r.regimen.active_on(to))
        .map(|r| {
            let dose = r.regimen.dose().map_or(String::new(), |d| format!(" {d}"));
            format!("{}{dose} {}", r.treatment, r.regimen.schedule())
        })
        .collect();

    let summary = Summary {
        days: all_days.len(),
        confirmed_days: confirmed.len(),
        involuntary_total: family_total(Family::InvoluntaryMovement),
        stiffness_total: family_total(Family::Stiffness),
        involuntary_per_day: per_confirmed_day(Family::InvoluntaryMovement),
        stiffness_per_day: per_confirmed_day(Family::Stiffness),
        mean_episode_pain: mean(episodes.iter().filter_map(|e| e.pain()).map(|p| f64::from(p.value()))),
        mean_spasticity_nrs: mean(checkins.values().filter_map(|c| c.spasticity_nrs()).map(f64::from)),
        mean_pain_nrs: mean(checkins.values().filter_map(|c| c.pain_nrs()).map(f64::from)),
        night_share_pct: (!episodes.is_empty())
            .then(|| 100.0 * episodes.iter().filter(|e| is_night(e)).count() as f64 / episodes.len() as f64),
        active_treatments: active,
        last_mri,
        relapses: events.iter().filter(|e| matches!(e.kind(), EventKind::Relapse)).count(),
        side_effects: if side_effects.total == 0 {
            format!("{NO_SIDE_EFFECTS}.")
        } else {
            format!(
                "{} recorded: {}",
                side_effects.total,
                counts_text(&side_effects.by_effect, "")
            )
        },
    };

    let treatments: Vec<TreatmentRow> = input
        .regimens
        .iter()
        .filter(|r| r.regimen.start() <= to && r.regimen.end().is_none_or(|e| e >= from))
        .map(|r| {
            let reg = &r.regimen;
            let start = reg.start().max(from);
            let end = reg.end().unwrap_or(to).min(to);
            let planned = reg
                .schedule()
                .doses_per_day()
                .map(|p| p * ((end - start).get_days() + 1) as f64);
            let logged: Vec<&DoseLog> = input
                .doses
                .iter()
                .filter(|(rid, d)| *rid == r.id && in_range(d.at().local_date()))
                .map(|(_, d)| d)
                .collect();
            let taken = logged.iter().filter(|d| d.status() != DoseStatus::Missed).count();
            let missed = logged.len() - taken;
            let adherence = match planned {
                Some(p) if p >= 1.0 && !logged.is_empty() => {
                    format!(
                        "{taken} of {p:.0} planned doses logged as taken ({:.0} %), {missed} missed",
                        100.0 * taken as f64 / p
                    )
                }
                _ if logged.is_empty() => "no doses logged".to_string(),
                _ => format!("{taken} taken, {missed} missed"),
            };
            TreatmentRow {
                name: r.treatment.clone(),
                category: r.category.label().to_string(),
                dose: reg.dose().map_or("–".to_string(), |d| d.to_string()),
                route: reg.route().map_or("–".to_string(), |x| x.label().to_string()),
                schedule: reg.schedule().to_string(),
                from: reg.start().to_string(),
                to: reg.end().map_or("ongoing".to_string(), |e| e.to_string()),
                adherence,
            }
        })
        .collect();

    let bands: Vec<Band> = input
        .regimens
        .iter()
        .filter(|r| r.category != Category::Exercise)
        .map(|r| Band {
            from: r.regimen.start(),
            to: r.regimen.end().unwrap_or(to),
            lane: r.treatment.clone(),
            label: format!(
                "{}{}",
                r.treatment,
                r.regimen.dose().map_or(String::new(), |d| format!(" {d}"))
            ),
        })
        .collect();
    let markers: Vec<Marker> = events
        .iter()
        .map(|e| Marker {
            on: e.on(),
            label: shorten(&event_text(e), 56),
            color: marker_color(e.kind()),
        })
        .collect();

    let daily = |name: &str, color: &'static str, f: &dyn Fn(&Date) -> Option<f64>| Series {
        name: name.to_string(),
        color,
        points: all_days.iter().map(|d| (*d, f(d))).collect(),
    };
    let known = |d: &Date| confirmed.contains(d);
    let mut charts = BTreeMap::new();
    charts.insert(
        "counts",
        daily_chart(
            "Episodes per day (confirmed days only)",
            from,
            to,
            &[
                daily("involuntary movement", "#1f77b4", &|d| {
                    known(d).then(|| count_on(d, Family::InvoluntaryMovement) as f64)
                }),
                daily("stiffness", "#d62728", &|d| {
                    known(d).then(|| count_on(d, Family::Stiffness) as f64)
                }),
            ],
            None,
            &bands,
            &markers,
            &unknown,
        ),
    );
    let score = |f: &dyn Fn(&CheckIn) -> Option<u8>, d: &Date| checkins.get(d).and_then(|c| f(c)).map(f64::from);
    charts.insert(
        "scores",
        daily_chart(
            "Spasticity and pain, 0–10 (daily check-in)",
            from,
            to,
            &[
                daily("spasticity NRS", "#8e44ad", &|d| score(&|c| c.spasticity_nrs(), d)),
                daily("pain NRS", "#e67e22", &|d| score(&|c| c.pain_nrs(), d)),
            ],
            Some(10.0),
            &bands,
            &markers,
            &[],
        ),
    );
    charts.insert(
        "psfs",
        daily_chart(
            "Penn Spasm Frequency Scale: frequency 0–4 and severity 1–3",
            from,
            to,
            &[
                daily("PSFS frequency", "#16a085", &|d| {
                    score(&|c| c.psfs_frequency().map(|f| f.value()), d)
                }),
                daily("PSFS severity", "#7f8c8d", &|d| {
                    score(&|c| c.psfs_severity().map(|s| s.value()), d)
                }),
            ],
            Some(4.0),
            &bands,
            &markers,
            &[],
        ),
    );

    let mut region_counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for e in &episodes {
        for r in e.regions() {
            *region_counts.entry(r.label()).or_default() += 1;
        }
    }
    let mut regions: Vec<(String, usize)> = region_counts.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    regions.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    charts.insert(
        "regions",
        bar_chart(
            "Episodes by body region",
            &regions.iter().map(|(k, v)| (k.clone(), *v as f64)).collect::<Vec<_>>(),
            "#2e86c1",
        ),
    );
    let mut by_hour = [0usize; 24];
    for e in &episodes {
        by_hour[e.started_at().zoned().hour() as usize] += 1;
    }
    charts.insert(
        "night",
        bar_chart(
            "Episodes by hour of the day (night is 22:00–06:00)",
            &by_hour
                .iter()
                .enumerate()
                .map(|(h, n)| (format!("{h:02}:00"), *n as f64))
                .collect::<Vec<_>>(),
            "#34495e",
        ),
    );
    let mut load: BTreeMap<Date, f64> = BTreeMap::new();
    for s in input.exercise.iter().filter(|s| in_range(s.at().local_date())) {
        *load.entry(s.at().local_date()).or_default() += f64::from(s.load());
    }
    charts.insert(
        "exercise",
        daily_chart(
            "Exercise load per day (minutes × exertion)",
            from,
            to,
            &[daily("load", "#27ae60", &|d| Some(load.get(d).copied().unwrap_or(0.0)))],
            None,
            &[],
            &markers,
            &[],
        ),
    );

    let sessions: Vec<&ExerciseSession> = input
        .exercise
        .iter()
        .filter(|s| in_range(s.at().local_date()))
        .collect();
    let sections: Vec<&'static str> = {
        let mut s: Vec<Section> = input.sections.to_vec();
        if !s.contains(&Section::Summary) {
            s.push(Section::Summary);
        }
        s.sort();
        s.dedup();
        s.into_iter().map(Section::code).collect()
    };
    ReportData {
        patient: input.patient.to_string(),
        identity: String::new(),
        zone: input.zone.name().to_string(),
        from: from.to_string(),
        to: to.to_string(),
        generated: input
            .generated
            .to_zoned(input.zone.tz())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string(),
        generated_at: input.generated,
        days: all_days
            .iter()
            .map(|d| DayCell {
                date: *d,
                confirmed: confirmed.contains(d),
                involuntary: count_on(d, Family::InvoluntaryMovement),
                stiffness: count_on(d, Family::Stiffness),
            })
            .collect(),
        sections,
        notice: NOTICE,
        summary,
        treatments,
        charts,
        regions,
        night: NightStats {
            episodes: episodes.len(),
            night_episodes: episodes.iter().filter(|e| is_night(e)).count(),
            mean_night_wakings: mean(checkins.values().filter_map(|c| c.night_wakings()).map(f64::from)),
        },
        events: events
            .iter()
            .map(|e| EventRow {
                date: e.on().to_string(),
                text: event_text(e),
            })
            .collect(),
        side_effects,
        notes,
        exercise: ExerciseStats {
            sessions: sessions.len(),
            minutes: sessions.iter().map(|s| u32::from(s.minutes())).sum(),
            mean_exertion: mean(sessions.iter().map(|s| f64::from(s.exertion()))),
            above_limit: sessions.iter().filter(|s| s.beyond_gentle(input.gentle_limit)).count(),
            gentle_limit: input.gentle_limit,
        },
        trials: input.trials.to_vec(),
    }
}

#[cfg(test)]
#[path = "data_tests.rs"]
mod tests;
