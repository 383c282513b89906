//! Parsing of what people type: times, dates and durations, relative to the patient's zone and
//! "now" (passed in, so the rules stay pure and testable).

use jiff::{civil, SignedDuration, Timestamp};

use crate::time::{today, Zone};
use crate::ValidationError;

/// Parses a local date: `2026-11-20`, `today`, `yesterday`, or `-N` (N days ago).
pub fn parse_date(field: &str, input: &str, zone: &Zone, now: Timestamp) -> Result<civil::Date, ValidationError> {
    let s = input.trim().to_ascii_lowercase();
    let base = today(zone, now);
    let bad = || {
        ValidationError::new(
            field,
            "a date like 2026-11-20, 'today', 'yesterday' or -N (days ago)",
            format!("{input:?}"),
        )
    };
    match s.as_str() {
        "today" => Ok(base),
        "yesterday" => base.yesterday().map_err(|_| bad()),
        _ if s.starts_with('-') => {
            let n: i64 = s[1..].parse().map_err(|_| bad())?;
            if !(0..=36_500).contains(&n) {
                return Err(bad());
            }
            base.checked_sub(jiff::Span::new().days(n)).map_err(|_| bad())
        }
        _ => s.parse::<civil::Date>().map_err(|_| bad()),
    }
}

/// Parses a moment in the patient's zone: `2026-11-20 03:10`, `2026-11-20T03:10`, `03:10`
/// (today), `yesterday 22:40`, `now`, or an RFC 3339 instant with an offset.
/// In a DST gap or fold the earlier valid reading is taken (jiff's "compatible" rule).
pub fn parse_when(field: &str, input: &str, zone: &Zone, now: Timestamp) -> Result<Timestamp, ValidationError> {
    let s = input.trim();
    let bad = || {
        ValidationError::new(
            field,
            "a time like '2026-11-20 03:10', '03:10', 'yesterday 22:40', 'now' or RFC 3339",
            format!("{input:?}"),
        )
    };
    if s.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(ts);
    }
    let local = |dt: civil::DateTime| dt.to_zoned(zone.tz()).map(|z| z.timestamp()).map_err(|_| bad());
    if let Ok(dt) = s.replacen(' ', "T", 1).parse::<civil::DateTime>() {
        return local(dt);
    }
    let (day_part, time_part) = match s.rsplit_once(' ') {
        Some((d, t)) => (Some(d), t),
        None => (None, s),
    };
    let time: civil::Time = time_part.parse().map_err(|_| bad())?;
    let date = match day_part {
        Some(d) => parse_date(field, d, zone, now).map_err(|_| bad())?,
        None => today(zone, now),
    };
    local(date.to_datetime(time))
}

/// Parses a duration: `40s`, `2m`, `1m30s`, `1h 5m`, `90` (seconds), `0.5s` (rounded).
pub fn parse_duration_seconds(field: &str, input: &str) -> Result<i64, ValidationError> {
    let s = input.trim();
    let bad = || {
        ValidationError::new(
            field,
            "a duration like 40s, 2m, 1m30s or 90 (seconds)",
            format!("{input:?}"),
        )
    };
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    let d: SignedDuration = s.parse().map_err(|_| bad())?;
    let secs = d.as_secs_f64().round();
    if !secs.is_finite() || secs.abs() > 1e12 {
        return Err(bad());
    }
    Ok(secs as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-20T12:00:00Z".parse().unwrap()
    }
    fn paris() -> Zone {
        Zone::parse("Europe/Paris").unwrap()
    }

    #[test]
    fn local_times() {
        let ts = parse_when("at", "2026-11-20 03:10", &paris(), now()).unwrap();
        assert_eq!(ts.to_string(), "2026-11-20T02:10:00Z");
        let ts = parse_when("at", "03:10", &paris(), now()).unwrap();
        assert_eq!(ts.to_string(), "2026-11-20T02:10:00Z");
        let ts = parse_when("at", "yesterday 22:40", &paris(), now()).unwrap();
        assert_eq!(ts.to_string(), "2026-11-19T21:40:00Z");
        let ts = parse_when("at", "2026-07-01T03:10:00+02:00", &paris(), now()).unwrap();
        assert_eq!(ts.to_string(), "2026-07-01T01:10:00Z");
        assert_eq!(
            parse_when("at", "tomorrowish", &paris(), now()).unwrap_err().field,
            "at"
        );
    }

    #[test]
    fn dst_gap_resolves_forward() {
        // 2026-03-29 02:30 does not exist in Paris; the compatible reading is 03:30 CEST.
        let ts = parse_when("at", "2026-03-29 02:30", &paris(), now()).unwrap();
        assert_eq!(ts.to_string(), "2026-03-29T01:30:00Z");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_seconds("duration", "40s").unwrap(), 40);
        assert_eq!(parse_duration_seconds("duration", "2m").unwrap(), 120);
        assert_eq!(parse_duration_seconds("duration", "1m30s").unwrap(), 90);
        assert_eq!(parse_duration_seconds("duration", "1h 5m").unwrap(), 3900);
        assert_eq!(parse_duration_seconds("duration", "90").unwrap(), 90);
        assert!(parse_duration_seconds("duration", "long").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("from", "yesterday", &paris(), now()).unwrap().to_string(),
            "2026-11-19"
        );
        assert_eq!(
            parse_date("from", "-7", &paris(), now()).unwrap().to_string(),
            "2026-11-13"
        );
        assert!(parse_date("from", "2026-13-01", &paris(), now()).is_err());
    }
}
