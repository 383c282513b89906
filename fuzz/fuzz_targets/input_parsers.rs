//! The parsers every request body, CSV cell and CLI argument ends in (tonus-domain): times,
//! dates, durations, zones, handles and the fixed vocabularies. Each must refuse with an
//! error naming its field or give a value that its own canonical text parses back to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tonus_domain::input::{parse_date, parse_duration_seconds, parse_when};
use tonus_domain::patient::validate_handle;
use tonus_domain::time::Zone;
use tonus_domain::{
    Category, DoseStatus, ExerciseType, MriRegion, Region, Route, Schedule, SpasmKind, Trigger, Unit, ValidationError,
};

fn named(field: &str, r: Result<impl Sized, ValidationError>) {
    if let Err(e) = r {
        assert_eq!(e.field, field, "an error naming the wrong field: {e}");
    }
}

/// A vocabulary value must read back from its code.
macro_rules! vocab {
    ($t:ty, $field:literal, $s:expr) => {{
        let r = <$t>::parse($s);
        if let Ok(v) = &r {
            assert_eq!(<$t>::parse(v.code()).ok(), Some(*v));
        }
        named($field, r);
    }};
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(s) = std::str::from_utf8(rest) else {
        return;
    };
    let zone = tonus_fuzz::zone(selector);
    let now = tonus_fuzz::now();

    match parse_date("date", s, &zone, now) {
        Ok(d) => assert_eq!(parse_date("date", &d.to_string(), &zone, now).ok(), Some(d)),
        Err(e) => assert_eq!(e.field, "date"),
    }
    match parse_when("at", s, &zone, now) {
        Ok(t) => assert_eq!(parse_when("at", &t.to_string(), &zone, now).ok(), Some(t)),
        Err(e) => assert_eq!(e.field, "at"),
    }
    match parse_duration_seconds("duration", s) {
        Ok(n) => assert_eq!(parse_duration_seconds("duration", &n.to_string()).ok(), Some(n)),
        Err(e) => assert_eq!(e.field, "duration"),
    }
    match Zone::parse(s) {
        Ok(z) => assert_eq!(Zone::parse(z.name()).ok(), Some(z)),
        Err(e) => assert_eq!(e.field, "time_zone"),
    }
    if let Ok(h) = validate_handle(s) {
        assert_eq!(
            validate_handle(&h).ok(),
            Some(h.clone()),
            "a handle not stable under validation"
        );
    }
    match Schedule::parse(s) {
        Ok(v) => assert_eq!(Schedule::parse(&v.code()).ok(), Some(v)),
        Err(e) => assert_eq!(e.field, "schedule"),
    }
    vocab!(Region, "region", s);
    vocab!(Trigger, "trigger", s);
    vocab!(Route, "route", s);
    vocab!(Unit, "unit", s);
    vocab!(Category, "category", s);
    vocab!(DoseStatus, "status", s);
    vocab!(ExerciseType, "type", s);
    vocab!(MriRegion, "mri_region", s);
    vocab!(SpasmKind, "kind", s);
});
