//! iCalendar (RFC 5545) reminders: recurring events for scheduled doses, injections and
//! infusions (RRULE from the regimen's schedule), the daily check-in, and all-day events for
//! trial period changes. Pure: the caller passes "now" and writes the text wherever it goes.
//!
//! Times are the patient's wall-clock times (`TZID=` their IANA zone, with a generated
//! VTIMEZONE as RFC 5545 §3.6.5 requires), so an 08:00 dose stays at 08:00 across DST; a
//! patient in UTC gets plain UTC times. UIDs are derived from the content that identifies
//! each reminder (never from database ids), so re-exporting updates events in a calendar
//! app instead of duplicating them.
//!
//! A regimen that stopped keeps its event, ended by `UNTIL`, so a calendar that imported
//! it earlier stops reminding; a dose change (a regimen that takes over the day the last
//! one stops, or the day after) continues the same series rather than adding a second.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::{Span, Timestamp};
use tonus_domain::time::Zone;
use tonus_domain::{Regimen, Schedule};
use tonus_store::archive::{RegimenRecords, TreatmentRecords};

/// Everything a calendar is made from.
pub struct CalendarInput<'a> {
    pub patient: &'a str,
    pub zone: &'a Zone,
    pub treatments: &'a [TreatmentRecords],
    /// Local time of the daily check-in reminder; `None` leaves it out.
    pub checkin_at: Option<Time>,
    /// Trial period changes (or any dated milestone) as (day, label).
    pub period_changes: &'a [(Date, String)],
    /// The patient's today: the dose in effect on it names a reminder series.
    pub today: Date,
    /// DTSTAMP of every event.
    pub stamp: Timestamp,
}

/// How many years of time-zone transitions the VTIMEZONE lists after today.
const ZONE_YEARS_AHEAD: i64 = 10;

/// Hours of the day for `n` doses a day, shared with the push reminders so a calendar and a
/// phone notification agree.
pub use tonus_domain::reminders::dose_hours;

/// FNV-1a: a stable 64-bit hash (std's hasher is randomised per process, and UIDs must not
/// change between exports).
fn fnv(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0x1f)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded at 75 octets (never inside a UTF-8 character) and
/// ended with CRLF (RFC 5545 §3.1).
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn utc_stamp(ts: Timestamp) -> String {
    ts.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn local(dt: DateTime) -> String {
    dt.strftime("%Y%m%dT%H%M%S").to_string()
}

fn offset_text(o: Offset) -> String {
    let s = o.seconds();
    let sign = if s < 0 { '-' } else { '+' };
    let a = s.abs();
    if a % 60 == 0 {
        format!("{sign}{:02}{:02}", a / 3600, a / 60 % 60)
    } else {
        format!("{sign}{:02}{:02}{:02}", a / 3600, a / 60 % 60, a % 60)
    }
}

/// How an event's times are written: in the patient's zone, or in UTC.
struct Clock<'a> {
    zone: &'a Zone,
    tz: TimeZone,
    utc: bool,
}

impl Clock<'_> {
    /// `DTSTART` for a local date and time.
    fn dtstart(&self, dt: DateTime) -> String {
        if self.utc {
            format!("DTSTART:{}Z", local(dt))
        } else {
            format!("DTSTART;TZID={}:{}", self.zone.name(), local(dt))
        }
    }

    /// RRULE `UNTIL` must be UTC when DTSTART has a TZID (RFC 5545 §3.3.10): the end of
    /// the regimen's last local day.
    fn until(&self, last_day: Date) -> String {
        let end = last_day
            .to_datetime(Time::constant(23, 59, 59, 0))
            .to_zoned(self.tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX);
        utc_stamp(end)
    }
}

fn vtimezone(out: &mut String, zone: &Zone, tz: &TimeZone, from: Date, to: Date) {
    let start = from
        .to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let end = to.to_zoned(tz.clone()).map(|z| z.timestamp()).unwrap_or(Timestamp::MAX);
    line(out, "BEGIN:VTIMEZONE");
    line(out, &format!("TZID:{}", zone.name()));
    let first = tz.to_offset_info(start);
    let mut prev = first.offset();
    // The offset in force at the start of the range, as a component of its own.
    let kind = if first.dst().is_dst() { "DAYLIGHT" } else { "STANDARD" };
    line(out, &format!("BEGIN:{kind}"));
    line(
        out,
        &format!("DTSTART:{}", local(start.to_zoned(tz.clone()).datetime())),
    );
    line(out, &format!("TZOFFSETFROM:{}", offset_text(prev)));
    line(out, &format!("TZOFFSETTO:{}", offset_text(prev)));
    line(out, &format!("TZNAME:{}", text(first.abbreviation())));
    line(out, &format!("END:{kind}"));
    for t in tz.following(start) {
        if t.timestamp() > end {
            break;
        }
        let kind = if t.dst().is_dst() { "DAYLIGHT" } else { "STANDARD" };
        line(out, &format!("BEGIN:{kind}"));
        // DTSTART of an observance is the local time just before it, in the old offset.
        line(out, &format!("DTSTART:{}", local(prev.to_datetime(t.timestamp()))));
        line(out, &format!("TZOFFSETFROM:{}", offset_text(prev)));
        line(out, &format!("TZOFFSETTO:{}", offset_text(t.offset())));
        line(out, &format!("TZNAME:{}", text(t.abbreviation())));
        line(out, &format!("END:{kind}"));
        prev = t.offset();
    }
    line(out, "END:VTIMEZONE");
}

/// The verb a reminder starts with: injections and infusions are named as such.
use tonus_domain::reminders::dose_verb as action;

/// A treatment's scheduled regimens grouped into reminder series: a regimen that starts
/// while the previous one of the same schedule and route ends (on its last day or the day
/// after) is a dose change and continues that series. Each series is in start order.
fn reminder_series(regimens: &[RegimenRecords]) -> Vec<Vec<&Regimen>> {
    let mut sorted: Vec<&Regimen> = regimens
        .iter()
        .map(|r| &r.regimen)
        .filter(|g| g.schedule() != Schedule::AsNeeded)
        .collect();
    sorted.sort_by_key(|g| g.start());
    let mut out: Vec<Vec<&Regimen>> = Vec::new();
    for g in sorted {
        let continues = |series: &&mut Vec<&Regimen>| {
            series.last().is_some_and(|last| {
                last.schedule() == g.schedule()
                    && last.route() == g.route()
                    && last
                        .end()
                        .is_some_and(|end| g.start() >= last.start() && g.start() <= end.tomorrow().unwrap_or(end))
            })
        };
        match out.iter_mut().find(continues) {
            Some(series) => series.push(g),
            None => out.push(vec![g]),
        }
    }
    out
}

/// The whole calendar as text (CRLF line endings, folded lines).
pub fn calendar(input: &CalendarInput) -> String {
    let tz = input.zone.tz();
    let clock = Clock {
        zone: input.zone,
        tz: tz.clone(),
        utc: input.zone.name() == "UTC",
    };
    let stamp = format!("DTSTAMP:{}", utc_stamp(input.stamp));
    let mut events = String::new();
    let mut earliest = input.today;

    for t in input.treatments {
        for series in reminder_series(&t.regimens) {
            let first = series[0];
            let last = series[series.len() - 1];
            let (rule, hours): (String, Vec<i8>) = match first.schedule() {
                Schedule::AsNeeded => continue,
                Schedule::TimesPerDay(n) => {
                    let hours = dose_hours(n);
                    let list: Vec<String> = hours.iter().map(i8::to_string).collect();
                    (format!("FREQ=DAILY;BYHOUR={};BYMINUTE=0", list.join(",")), hours)
                }
                Schedule::EveryDays(n) => (format!("FREQ=DAILY;INTERVAL={n}"), vec![9]),
                Schedule::EveryWeeks(n) => (format!("FREQ=WEEKLY;INTERVAL={n}"), vec![9]),
            };
            // A stopped regimen stays in the calendar with its end, so a calendar that
            // imported it earlier learns that the reminders stop.
            let rule = match last.end() {
                Some(end) => format!("RRULE:{rule};UNTIL={}", clock.until(end)),
                None => format!("RRULE:{rule}"),
            };
            earliest = earliest.min(first.start());
            // The dose in effect today (or the next one to start) names the series.
            let current = series
                .iter()
                .rev()
                .find(|g| g.start() <= input.today)
                .copied()
                .unwrap_or(first);
            let dose_of = |g: &Regimen| {
                g.dose()
                    .map(|d| format!(" {} {}", d.amount(), d.unit().label()))
                    .unwrap_or_default()
            };
            let route = first.route().map(|r| format!(" ({})", r.label())).unwrap_or_default();
            let summary = format!(
                "{}: {}{}{route}",
                action(first.route()),
                t.treatment.name(),
                dose_of(current)
            );
            // Identified by what stays the same through dose changes, so a subscribed
            // calendar updates the one series instead of adding a second.
            let uid = fnv(&[
                input.patient,
                "regimen",
                &t.treatment.name().to_lowercase(),
                &first.start().to_string(),
                &first.schedule().code(),
                &route,
            ]);
            let mut description = format!(
                "{} ({}). Log it in Tonus: tonus dose taken \"{}\"",
                t.treatment.name(),
                first.schedule().code(),
                t.treatment.name()
            );
            if series.len() > 1 {
                let changes: Vec<String> = series
                    .iter()
                    .map(|g| format!("from {}:{}", g.start(), dose_of(g)))
                    .collect();
                description.push_str(&format!(". Dose {}", changes.join("; ")));
            }
            line(&mut events, "BEGIN:VEVENT");
            line(&mut events, &format!("UID:tonus-dose-{uid}@tonus.invalid"));
            line(&mut events, &stamp);
            line(
                &mut events,
                &clock.dtstart(first.start().to_datetime(Time::constant(hours[0], 0, 0, 0))),
            );
            line(&mut events, "DURATION:PT15M");
            line(&mut events, &rule);
            line(&mut events, &format!("SUMMARY:{}", text(&summary)));
            line(&mut events, &format!("DESCRIPTION:{}", text(&description)));
            line(&mut events, "CATEGORIES:Tonus,Medication");
            alarm(&mut events, &summary);
            line(&mut events, "END:VEVENT");
        }
    }

    if let Some(at) = input.checkin_at {
        let uid = fnv(&[input.patient, "checkin"]);
        line(&mut events, "BEGIN:VEVENT");
        line(&mut events, &format!("UID:tonus-checkin-{uid}@tonus.invalid"));
        line(&mut events, &stamp);
        line(&mut events, &clock.dtstart(input.today.to_datetime(at)));
        line(&mut events, "DURATION:PT5M");
        line(&mut events, "RRULE:FREQ=DAILY");
        line(&mut events, "SUMMARY:Tonus daily check-in");
        line(
            &mut events,
            &format!(
                "DESCRIPTION:{}",
                text("Spasticity and pain (0-10), spasm frequency, night wakings, and confirm today's log: tonus checkin")
            ),
        );
        line(&mut events, "CATEGORIES:Tonus");
        alarm(&mut events, "Tonus daily check-in");
        line(&mut events, "END:VEVENT");
    }

    for (day, label) in input.period_changes {
        let uid = fnv(&[input.patient, "period", &day.to_string(), label]);
        let next = day.checked_add(Span::new().days(1)).unwrap_or(*day);
        line(&mut events, "BEGIN:VEVENT");
        line(&mut events, &format!("UID:tonus-period-{uid}@tonus.invalid"));
        line(&mut events, &stamp);
        line(&mut events, &format!("DTSTART;VALUE=DATE:{}", day.strftime("%Y%m%d")));
        line(&mut events, &format!("DTEND;VALUE=DATE:{}", next.strftime("%Y%m%d")));
        line(&mut events, &format!("SUMMARY:{}", text(label)));
        line(&mut events, "TRANSP:TRANSPARENT");
        line(&mut events, "CATEGORIES:Tonus,Trial");
        line(&mut events, "END:VEVENT");
    }

    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(
        &mut out,
        &format!("PRODID:-//Tonus//Tonus {}//EN", env!("CARGO_PKG_VERSION")),
    );
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(
        &mut out,
        &format!("X-WR-CALNAME:{}", text(&format!("Tonus reminders ({})", input.patient))),
    );
    line(&mut out, &format!("X-WR-TIMEZONE:{}", input.zone.name()));
    if !clock.utc {
        let from = earliest.yesterday().unwrap_or(earliest);
        let to = input
            .today
            .checked_add(Span::new().years(ZONE_YEARS_AHEAD))
            .unwrap_or(input.today);
        vtimezone(&mut out, input.zone, &tz, from, to);
    }
    out.push_str(&events);
    line(&mut out, "END:VCALENDAR");
    out
}

fn alarm(out: &mut String, summary: &str) {
    line(out, "BEGIN:VALARM");
    line(out, "ACTION:DISPLAY");
    line(out, "TRIGGER:PT0M");
    line(out, &format!("DESCRIPTION:{}", text(summary)));
    line(out, "END:VALARM");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "é".repeat(60));
        line(&mut out, &long);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded.trim_end(), long);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn dose_hours_spread_over_the_day() {
        assert_eq!(dose_hours(1), vec![8]);
        assert_eq!(dose_hours(2), vec![8, 20]);
        assert_eq!(dose_hours(3), vec![8, 14, 20]);
        assert_eq!(dose_hours(12).len(), 12);
    }

    #[test]
    fn offsets() {
        assert_eq!(offset_text(Offset::constant(1)), "+0100");
        assert_eq!(offset_text(Offset::from_seconds(-(3 * 3600 + 1800)).unwrap()), "-0330");
    }

    fn baclofen(regimens: &[(f64, &str, Option<&str>)]) -> TreatmentRecords {
        use tonus_domain::{Category, Dose, Route, Treatment, Unit};
        TreatmentRecords {
            uid: None,
            treatment: Treatment::new("Baclofen", Category::Drug, None).unwrap(),
            regimens: regimens
                .iter()
                .map(|(mg, start, end)| RegimenRecords {
                    uid: None,
                    dose_uids: Vec::new(),
                    regimen: Regimen::new(
                        Category::Drug,
                        Some(Dose::new(*mg, Unit::parse("mg").unwrap()).unwrap()),
                        Some(Route::Oral),
                        Schedule::TimesPerDay(3),
                        start.parse().unwrap(),
                        end.map(|e| e.parse().unwrap()),
                    )
                    .unwrap(),
                    doses: Vec::new(),
                })
                .collect(),
        }
    }

    /// The unfolded VEVENTs of a calendar for `t`, as one string each.
    fn dose_events(t: TreatmentRecords, today: &str) -> Vec<String> {
        let zone = Zone::parse("Europe/Paris").unwrap();
        let treatments = [t];
        let text = calendar(&CalendarInput {
            patient: "me",
            zone: &zone,
            treatments: &treatments,
            checkin_at: None,
            period_changes: &[],
            today: today.parse().unwrap(),
            stamp: Timestamp::UNIX_EPOCH,
        });
        text.replace("\r\n ", "")
            .split("BEGIN:VEVENT")
            .skip(1)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn a_stopped_regimen_ends_instead_of_disappearing() {
        let events = dose_events(baclofen(&[(10.0, "2026-01-01", Some("2026-02-10"))]), "2026-06-01");
        assert_eq!(events.len(), 1, "{events:?}");
        // The last local day, 23:59:59 in Paris (UTC+1 in winter).
        assert!(events[0].contains(";UNTIL=20260210T225959Z"), "{}", events[0]);
    }

    #[test]
    fn a_dose_change_continues_one_series() {
        for change in ["2026-02-10", "2026-02-11"] {
            let t = baclofen(&[(10.0, "2026-01-01", Some("2026-02-10")), (15.0, change, None)]);
            let events = dose_events(t, "2026-03-01");
            assert_eq!(events.len(), 1, "{events:?}");
            let e = &events[0];
            assert!(e.contains("SUMMARY:Take: Baclofen 15 mg (oral)"), "{e}");
            assert!(e.contains("DTSTART;TZID=Europe/Paris:20260101T080000"), "{e}");
            assert!(!e.contains("UNTIL"), "{e}");
            assert!(e.contains("from 2026-01-01: 10 mg\\; from"), "{e}");
        }
        // Before the change takes effect the series still shows the dose of today.
        let t = baclofen(&[(10.0, "2026-01-01", Some("2026-02-10")), (15.0, "2026-02-11", None)]);
        assert!(dose_events(t, "2026-02-01")[0].contains("SUMMARY:Take: Baclofen 10 mg (oral)"));
    }

    #[test]
    fn a_restart_after_a_gap_is_a_new_series_with_its_own_uid() {
        let t = baclofen(&[(10.0, "2026-01-01", Some("2026-01-31")), (10.0, "2026-03-01", None)]);
        let events = dose_events(t, "2026-03-05");
        assert_eq!(events.len(), 2, "{events:?}");
        let uid = |e: &str| e.lines().find(|l| l.starts_with("UID:")).map(str::to_string);
        assert_ne!(uid(&events[0]), uid(&events[1]));
    }

    #[test]
    fn uids_do_not_change_with_the_dose() {
        let uid = |t| {
            dose_events(t, "2026-03-01")[0]
                .lines()
                .find(|l| l.starts_with("UID:"))
                .map(str::to_string)
        };
        let before = uid(baclofen(&[(10.0, "2026-01-01", None)]));
        let after = uid(baclofen(&[
            (10.0, "2026-01-01", Some("2026-02-10")),
            (15.0, "2026-02-11", None),
        ]));
        assert_eq!(before, after);
    }
}
