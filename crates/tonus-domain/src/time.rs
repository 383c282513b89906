//! Instants and local days. Everything is stored as a UTC instant plus the patient's IANA zone,
//! because daily figures must use the patient's own calendar day, across DST changes.

use jiff::{civil::Date, tz::TimeZone, Timestamp, Zoned};
use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// A validated IANA time-zone name such as `Europe/Paris`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Zone(String);

impl Zone {
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        let name = name.trim();
        match TimeZone::get(name) {
            Ok(_) if !name.is_empty() => Ok(Self(name.to_string())),
            _ => Err(ValidationError::new(
                "time_zone",
                "an IANA time-zone name such as Europe/Paris",
                format!("{name:?}"),
            )),
        }
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    /// The zone's rules. The name was checked when the value was made, so a failure here means
    /// the time-zone database changed under us; falling back to UTC keeps readings possible.
    pub fn tz(&self) -> TimeZone {
        TimeZone::get(&self.0).unwrap_or(TimeZone::UTC)
    }

    pub fn utc() -> Self {
        Self("UTC".to_string())
    }
}

impl TryFrom<String> for Zone {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Zone> for String {
    fn from(z: Zone) -> Self {
        z.0
    }
}

impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An instant with the zone it was lived in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalInstant {
    pub at: Timestamp,
    pub zone: Zone,
}

/// Clock skew we tolerate before calling a time "in the future".
pub const FUTURE_TOLERANCE_SECONDS: i64 = 120;

impl LocalInstant {
    /// An instant that may not lie in the future relative to `now`.
    pub fn past(field: &str, at: Timestamp, zone: Zone, now: Timestamp) -> Result<Self, ValidationError> {
        if at.as_second() > now.as_second() + FUTURE_TOLERANCE_SECONDS {
            return Err(ValidationError::new(
                field,
                "a time that is not in the future",
                at.to_zoned(zone.tz()).strftime("%Y-%m-%d %H:%M %Z"),
            ));
        }
        Ok(Self { at, zone })
    }

    pub fn zoned(&self) -> Zoned {
        self.at.to_zoned(self.zone.tz())
    }

    /// The patient's calendar day for this instant.
    pub fn local_date(&self) -> Date {
        local_date(self.at, &self.zone)
    }

    /// Milliseconds since the Unix epoch, the storage form.
    pub fn millis(&self) -> i64 {
        self.at.as_millisecond()
    }
}

/// The calendar day of `at` in `zone`.
pub fn local_date(at: Timestamp, zone: &Zone) -> Date {
    at.to_zoned(zone.tz()).date()
}

/// Today's date for a patient.
pub fn today(zone: &Zone, now: Timestamp) -> Date {
    local_date(now, zone)
}

/// Checks a date is not after the patient's today.
pub fn not_future_date(field: &str, date: Date, zone: &Zone, now: Timestamp) -> Result<Date, ValidationError> {
    if date > today(zone, now) {
        return Err(ValidationError::new(field, "a date that is not in the future", date));
    }
    Ok(date)
}

/// Checks `end` is not before `start`.
pub fn end_not_before(field: &str, start: Date, end: Option<Date>) -> Result<Option<Date>, ValidationError> {
    match end {
        Some(e) if e < start => Err(ValidationError::new(
            field,
            format!("on or after the start date {start}"),
            e,
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ZONES: &[&str] = &[
        "Europe/London",
        "Europe/Paris",
        "America/New_York",
        "America/Sao_Paulo",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "Asia/Kolkata",
        "UTC",
    ];

    proptest! {
        /// Every instant falls in exactly one local day, whose bounds come from the zone's rules:
        /// days are 23, 23.5, 24, 24.5 or 25 hours long around DST changes, never anything else.
        #[test]
        fn local_day_contains_instant(secs in 946_684_800i64..2_524_608_000i64, zi in 0usize..ZONES.len()) {
            let zone = Zone::parse(ZONES[zi]).unwrap();
            let at = Timestamp::from_second(secs).unwrap();
            let day = local_date(at, &zone);
            let start = day.to_zoned(zone.tz()).unwrap().start_of_day().unwrap().timestamp();
            let next = day.tomorrow().unwrap().to_zoned(zone.tz()).unwrap().start_of_day().unwrap().timestamp();
            prop_assert!(start <= at && at < next);
            let hours = (next.as_second() - start.as_second()) as f64 / 3600.0;
            prop_assert!([23.0, 23.5, 24.0, 24.5, 25.0].contains(&hours), "day {day} in {} lasts {hours} h", ZONES[zi]);
        }
    }

    #[test]
    fn dst_days_bucket_by_local_calendar() {
        let zone = Zone::parse("Europe/London").unwrap();
        // 2026-03-29: clocks go 01:00 → 02:00. 00:30 UTC is 00:30 GMT, 01:30 UTC is 02:30 BST.
        let before: Timestamp = "2026-03-29T00:30:00Z".parse().unwrap();
        let after: Timestamp = "2026-03-29T22:59:00Z".parse().unwrap();
        let next_day: Timestamp = "2026-03-29T23:00:00Z".parse().unwrap();
        assert_eq!(local_date(before, &zone).to_string(), "2026-03-29");
        assert_eq!(local_date(after, &zone).to_string(), "2026-03-29");
        assert_eq!(local_date(next_day, &zone).to_string(), "2026-03-30");
        // 2026-10-25: clocks go 02:00 → 01:00; 23:30 UTC on the 25th is still the 25th locally.
        let fall: Timestamp = "2026-10-25T23:30:00Z".parse().unwrap();
        assert_eq!(local_date(fall, &zone).to_string(), "2026-10-25");
    }

    #[test]
    fn unknown_zone_is_rejected_with_field() {
        let err = Zone::parse("Mars/Olympus").unwrap_err();
        assert_eq!(err.field, "time_zone");
    }

    #[test]
    fn future_instant_is_rejected() {
        let now: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
        let later: Timestamp = "2026-11-20T10:10:00Z".parse().unwrap();
        let err = LocalInstant::past("started_at", later, Zone::utc(), now).unwrap_err();
        assert!(err.to_string().contains("not in the future"), "{err}");
        assert!(LocalInstant::past("started_at", now, Zone::utc(), now).is_ok());
    }
}
