//! Printing records for people (aligned text) and for scripts (`--json`).

use anyhow::Result;
use serde::Serialize;
use tonus_domain::{CheckIn, ClinicalEvent, DoseLog, Episode, EventKind, ExerciseSession, Id, SideEffect};
use tonus_store::{Stored, StoredRegimen};

pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// An episode as scripts want it: stored fields plus the derived ones.
#[derive(Serialize)]
pub struct EpisodeView<'a> {
    pub id: Id,
    pub local_time: String,
    pub local_date: String,
    pub family: &'static str,
    pub backfilled: bool,
    #[serde(flatten)]
    pub episode: &'a Episode,
}

impl<'a> EpisodeView<'a> {
    pub fn new(s: &'a Stored<Episode>) -> Self {
        let e = &s.value;
        Self {
            id: s.id,
            local_time: e.started_at().zoned().strftime("%Y-%m-%d %H:%M").to_string(),
            local_date: e.started_at().local_date().to_string(),
            family: e.family().code(),
            backfilled: e.backfilled(),
            episode: e,
        }
    }
}

pub fn episode_line(id: Id, e: &Episode) -> String {
    let regions: Vec<&str> = e.regions().iter().map(|r| r.label()).collect();
    let triggers: Vec<&str> = e.triggers().iter().map(|t| t.code()).collect();
    let mut line = format!(
        "#{id:<5} {}  {:<20} {:<22} pain {:>2}  {:>7}",
        e.started_at().zoned().strftime("%Y-%m-%d %H:%M"),
        e.kind().code(),
        if regions.is_empty() {
            "-".to_string()
        } else {
            regions.join(", ")
        },
        e.pain().map_or("-".to_string(), |p| p.value().to_string()),
        e.duration_s().map_or("-".to_string(), format_duration),
    );
    if !triggers.is_empty() {
        line.push_str(&format!("  triggers: {}", triggers.join(", ")));
    }
    if let Some(n) = e.notes() {
        line.push_str(&format!("  \u{201c}{n}\u{201d}"));
    }
    if e.backfilled() {
        line.push_str("  (back-filled)");
    }
    line
}

pub fn format_duration(secs: u32) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or("-".to_string(), |v| v.to_string())
}

pub fn checkin_line(id: Id, c: &CheckIn) -> String {
    format!(
        "#{id:<5} {}  spasticity {:>2}  pain {:>2}  PSFS freq {} sev {}  night wakings {}  log {}{}",
        c.date(),
        opt(c.spasticity_nrs()),
        opt(c.pain_nrs()),
        opt(c.psfs_frequency().map(|f| f.value())),
        opt(c.psfs_severity().map(|s| s.value())),
        opt(c.night_wakings()),
        if c.log_complete() { "complete" } else { "incomplete" },
        c.note().map_or(String::new(), |n| format!("  \u{201c}{n}\u{201d}")),
    )
}

pub fn regimen_line(r: &StoredRegimen) -> String {
    let v = &r.value;
    format!(
        "  regimen #{:<4} {} → {}  {}  {}  {}",
        r.id,
        v.start(),
        v.end().map_or("ongoing".to_string(), |d| d.to_string()),
        v.dose().map_or("-".to_string(), |d| d.to_string()),
        v.route().map_or("-", |r| r.label()),
        v.schedule(),
    )
}

pub fn dose_line(id: Id, treatment: &str, d: &DoseLog) -> String {
    format!(
        "#{id:<5} {}  {:<8} {treatment}{}",
        d.at().zoned().strftime("%Y-%m-%d %H:%M"),
        d.status().code(),
        d.note().map_or(String::new(), |n| format!("  \u{201c}{n}\u{201d}")),
    )
}

pub fn side_effect_line(id: Id, s: &SideEffect) -> String {
    format!(
        "#{id:<5} {}  {:<8} {}{}{}",
        s.at().zoned().strftime("%Y-%m-%d %H:%M"),
        s.severity().code(),
        s.what(),
        s.suspected_treatment()
            .map_or(String::new(), |t| format!("  (suspected: {t})")),
        s.note().map_or(String::new(), |n| format!("  \u{201c}{n}\u{201d}")),
    )
}

pub fn exercise_line(id: Id, s: &ExerciseSession) -> String {
    format!(
        "#{id:<5} {}  {:<10} {:>3} min  exertion {:>2}  load {}{}",
        s.at().zoned().strftime("%Y-%m-%d %H:%M"),
        s.exercise_type().code(),
        s.minutes(),
        s.exertion(),
        s.load(),
        s.note().map_or(String::new(), |n| format!("  \u{201c}{n}\u{201d}")),
    )
}

pub fn event_line(id: Id, e: &ClinicalEvent) -> String {
    let what = match e.kind() {
        EventKind::Mri {
            region,
            lesions_total,
            lesions_new,
            lesions_enhancing,
        } => format!(
            "MRI {}: lesions total {}, new {}, enhancing {}",
            region.label(),
            opt(*lesions_total),
            opt(*lesions_new),
            opt(*lesions_enhancing)
        ),
        EventKind::Other { name } => name.clone(),
        k => k.code().to_string(),
    };
    format!(
        "#{id:<5} {}{}  {what}{}",
        e.on(),
        e.until().map_or(String::new(), |u| format!(" → {u}")),
        e.summary().map_or(String::new(), |s| format!("  \u{201c}{s}\u{201d}")),
    )
}
