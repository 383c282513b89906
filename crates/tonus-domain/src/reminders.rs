//! Push reminders: which reminders fall due in a span of time, from a device's choices, the
//! patient's check-in time, regimens and trial period changes, in the patient's time zone.
//! Pure: the caller brings the clock, the records and the sending.
//!
//! Reminders are wall-clock times (an 08:00 dose stays at 08:00 across DST). A time that
//! does not exist on a spring-forward day is moved forward by the gap's length (02:30 →
//! 03:30), and one that happens twice on a fall-back day is the first of the two, so each
//! reminder has exactly one instant and is sent once.

use jiff::civil::{Date, Time};
use jiff::tz::{Disambiguation, TimeZone};
use jiff::{Span, Timestamp};
use serde::Serialize;

use crate::due::due_on;
use crate::time::Zone;
use crate::treatment::{Regimen, Route, Schedule};

/// Local hour of the reminder for every-N-days and every-N-weeks regimens.
pub const INTERVAL_DOSE_HOUR: i8 = 9;
/// Local hour of the reminder on the day a trial period changes.
pub const TRIAL_CHANGE_HOUR: i8 = 8;

/// Hours of the day for `n` doses a day: spread evenly from 08:00 to 20:00.
pub fn dose_hours(n: u8) -> Vec<i8> {
    match n {
        0 | 1 => vec![8],
        n => (0..n)
            .map(|i| (8.0 + 12.0 * f64::from(i) / f64::from(n - 1)).round() as i8)
            .collect(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReminderKind {
    CheckIn,
    Dose,
    Trial,
}

/// What one device wants to be reminded of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Choices {
    pub checkin: bool,
    pub doses: bool,
    pub trials: bool,
    /// Notifications that say what kind of reminder it is, never which treatment or trial:
    /// a lock screen others can see need not tell them what the patient takes.
    pub discreet: bool,
}

impl Choices {
    /// As stored: one bit per kind, so a new kind needs no new column.
    pub fn bits(self) -> i64 {
        i64::from(self.checkin)
            | (i64::from(self.doses) << 1)
            | (i64::from(self.trials) << 2)
            | (i64::from(self.discreet) << 3)
    }

    pub fn from_bits(bits: i64) -> Self {
        Self {
            checkin: bits & 1 != 0,
            doses: bits & 2 != 0,
            trials: bits & 4 != 0,
            discreet: bits & 8 != 0,
        }
    }

    pub fn wants(self, kind: ReminderKind) -> bool {
        match kind {
            ReminderKind::CheckIn => self.checkin,
            ReminderKind::Dose => self.doses,
            ReminderKind::Trial => self.trials,
        }
    }
}

/// Local times during which a device gets no reminders: from `start` (included) to `end`
/// (excluded), wrapping past midnight when `end` is earlier (22:00–07:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: Time,
    pub end: Time,
}

impl QuietHours {
    pub fn contains(&self, t: Time) -> bool {
        if self.start <= self.end {
            // Equal bounds are an empty span, not a whole silent day.
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

/// The instant of a local date and time in `tz`: forward over a gap, the earlier of a fold.
pub fn at_local(tz: &TimeZone, day: Date, time: Time) -> Option<Timestamp> {
    tz.to_ambiguous_zoned(day.to_datetime(time))
        .disambiguate(Disambiguation::Compatible)
        .ok()
        .map(|z| z.timestamp())
}

/// One reminder to send.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reminder {
    pub kind: ReminderKind,
    /// Identifies the reminder among the patient's (kind, local day and time, what): the
    /// sender claims it once per device under this key.
    pub key: String,
    pub due: Timestamp,
    pub title: String,
    pub body: String,
    /// The page a tap on the notification opens.
    pub url: &'static str,
}

/// A patient's reminders as one device sees them.
pub struct Plan<'a> {
    pub zone: &'a Zone,
    pub checkin_at: Option<Time>,
    /// (regimen id, treatment name, regimen), as for [`due_on`].
    pub regimens: &'a [(i64, String, Regimen)],
    /// Trial period changes as (day, label).
    pub period_changes: &'a [(Date, String)],
    pub choices: Choices,
    pub quiet: Option<QuietHours>,
    /// Local days the patient already checked in: no check-in reminder on them.
    pub checked_in: &'a [Date],
    /// One (regimen id, local day) per dose logged (taken, late or missed): with k doses of a
    /// day logged, that day's first k reminders of the regimen are not sent.
    pub logged: &'a [(i64, Date)],
}

/// Longest span [`due_between`] looks at: the caller's catch-up window is far shorter, and a
/// clock jump must not make it walk years of days.
const MAX_DAYS: i64 = 3;

/// The reminders due after `after` and up to `until` (inclusive), earliest first, leaving
/// out kinds the device did not choose and those whose local time is in its quiet hours.
pub fn due_between(plan: &Plan, after: Timestamp, until: Timestamp) -> Vec<Reminder> {
    let tz = plan.zone.tz();
    let after = after.max(until.checked_sub(Span::new().hours(24 * MAX_DAYS)).unwrap_or(after));
    // Start a day early: a reminder's local day can differ from its UTC one.
    let first = after.to_zoned(tz.clone()).date().yesterday().unwrap_or(Date::MIN);
    let last = until.to_zoned(tz.clone()).date();
    let mut out = Vec::new();
    let mut day = first;
    while day <= last {
        candidates(plan, day, &mut out);
        match day.tomorrow() {
            Ok(d) => day = d,
            Err(_) => break,
        }
    }
    out.retain(|r: &(Time, Reminder)| {
        let (local, r) = r;
        plan.choices.wants(r.kind) && r.due > after && r.due <= until && !plan.quiet.is_some_and(|q| q.contains(*local))
    });
    let mut out: Vec<Reminder> = out.into_iter().map(|(_, r)| r).collect();
    out.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.key.cmp(&b.key)));
    out
}

/// Every reminder of a local day, with its wall-clock time.
fn candidates(plan: &Plan, day: Date, out: &mut Vec<(Time, Reminder)>) {
    let tz = plan.zone.tz();
    let discreet = plan.choices.discreet;
    let mut push = |time: Time, kind, key: String, title: String, body: String, url| {
        let (title, body) = if discreet {
            discreet_text(kind, time)
        } else {
            (title, body)
        };
        if let Some(due) = at_local(&tz, day, time) {
            out.push((
                time,
                Reminder {
                    kind,
                    key,
                    due,
                    title,
                    body,
                    url,
                },
            ));
        }
    };
    if let Some(at) = plan.checkin_at.filter(|_| !plan.checked_in.contains(&day)) {
        push(
            at,
            ReminderKind::CheckIn,
            format!("checkin:{day}"),
            "Tonus daily check-in".to_string(),
            "Spasticity and pain today, spasm frequency, night wakings: it takes a minute.".to_string(),
            "/checkin",
        );
    }
    let logged = |id: i64| plan.logged.iter().filter(|(r, d)| *r == id && *d == day).count() as u32;
    for item in due_on(day, plan.regimens, logged) {
        if item.remaining() == 0 {
            continue;
        }
        let Some((_, _, regimen)) = plan.regimens.iter().find(|(id, _, _)| *id == item.regimen_id) else {
            continue;
        };
        let hours = match regimen.schedule() {
            Schedule::TimesPerDay(n) => dose_hours(n),
            Schedule::EveryDays(_) | Schedule::EveryWeeks(_) => vec![INTERVAL_DOSE_HOUR],
            Schedule::AsNeeded => continue,
        };
        let dose = regimen
            .dose()
            .map(|d| format!(" {} {}", d.amount(), d.unit().label()))
            .unwrap_or_default();
        let route = regimen.route().map(|r| format!(" ({})", r.label())).unwrap_or_default();
        // The doses logged stand for the day's earliest ones.
        for h in hours.into_iter().skip(item.logged as usize) {
            let time = Time::constant(h, 0, 0, 0);
            push(
                time,
                ReminderKind::Dose,
                format!("dose:{}:{day}T{h:02}", item.regimen_id),
                format!("{}: {}{dose}", dose_verb(regimen.route()), item.treatment),
                format!("Due at {h:02}:00{route}. Log it on the doses page."),
                "/doses",
            );
        }
    }
    for (d, label) in plan.period_changes.iter().filter(|(d, _)| *d == day) {
        push(
            Time::constant(TRIAL_CHANGE_HOUR, 0, 0, 0),
            ReminderKind::Trial,
            format!("trial:{d}:{}", fnv(label)),
            "Tonus trial: today's change".to_string(),
            label.clone(),
            "/trials",
        );
    }
}

/// What a discreet device shows: the kind of reminder and its time, nothing that names a
/// treatment, a dose or a trial's arms.
fn discreet_text(kind: ReminderKind, time: Time) -> (String, String) {
    let at = format!("{:02}:{:02}", time.hour(), time.minute());
    let body = match kind {
        ReminderKind::CheckIn => "Time for today's check-in.".to_string(),
        ReminderKind::Dose => format!("Something is due at {at}. Open Tonus for details."),
        ReminderKind::Trial => "Your trial changes today. Open Tonus for details.".to_string(),
    };
    ("Tonus reminder".to_string(), body)
}

/// The verb a dose reminder starts with (the calendar feed's too): injections and infusions
/// are named as such.
pub fn dose_verb(route: Option<Route>) -> &'static str {
    match route {
        Some(Route::Subcutaneous | Route::Intramuscular) => "Injection",
        Some(Route::Intravenous) => "Infusion",
        Some(Route::Intrathecal) => "Pump",
        _ => "Take",
    }
}

/// FNV-1a: a stable short key for a trial label (std's hasher changes between processes,
/// and a key must stay the same across restarts).
fn fnv(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
#[path = "reminders_tests.rs"]
mod tests;
