//! The request bodies of the episode and check-in forms and of the JSON API, decoded the way
//! tonus-server decodes them (serde_urlencoded pairs; serde_json then serde_path_to_error
//! into structs with the API's fields and `deny_unknown_fields`) and converted to domain
//! values through the same parsers and validating constructors as the handlers.
//!
//! This target builds without tonus-server (whose PDF engine makes an instrumented build too
//! slow for CI); `fuzz/server`'s `http_bodies` drives the real router and is the reference.
//! A value accepted here must survive re-validation through its constructor unchanged.
#![no_main]

use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::input::{parse_date, parse_duration_seconds, parse_when};
use tonus_domain::time::{today, LocalInstant, Zone};
use tonus_domain::{CheckIn, Episode, ValidationError};

/// `api::EpisodeIn`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EpisodeIn {
    kind: String,
    #[serde(default)]
    regions: Vec<String>,
    pain: Option<i64>,
    duration_s: Option<i64>,
    #[serde(default)]
    triggers: Vec<String>,
    trigger_note: Option<String>,
    notes: Option<String>,
    started_at: Option<String>,
}

/// `api::CheckinIn`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckinIn {
    date: Option<String>,
    spasticity_nrs: Option<i64>,
    pain_nrs: Option<i64>,
    psfs_frequency: Option<i64>,
    psfs_severity: Option<i64>,
    night_wakings: Option<i64>,
    #[serde(default)]
    log_complete: bool,
    note: Option<String>,
}

/// `ApiJson`: syntax, then an object, then the typed struct with the error's path.
fn api_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if !value.is_object() {
        return None;
    }
    match serde_path_to_error::deserialize(value) {
        Ok(v) => Some(v),
        Err(e) => {
            // The field named in the 422 comes from this path; it must be printable.
            let _ = e.path().to_string();
            None
        }
    }
}

/// `auth::form_urlencoded_pairs` and `FormFields::get`.
fn form(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}
fn get<'a>(f: &'a [(String, String)], name: &str) -> &'a str {
    f.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

/// `pages::int_field`.
fn int_field(field: &str, raw: &str) -> Result<Option<i64>, ValidationError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| ValidationError::new(field, "a whole number", format!("{raw:?}")))
}

fn check_episode(e: &Episode, now: Timestamp) {
    let again = Episode::new(
        e.started_at().clone(),
        e.kind(),
        e.regions().to_vec(),
        e.pain(),
        e.duration_s().map(i64::from),
        e.triggers().to_vec(),
        e.trigger_note(),
        e.notes(),
        e.recorded_at(),
    )
    .expect("an accepted episode re-validates");
    assert_eq!(&again, e);
    assert!(e.started_at().at <= now, "an episode in the future");
}

fn check_checkin(c: &CheckIn, zone: &Zone, now: Timestamp) {
    let draft = CheckInDraft {
        spasticity_nrs: c.spasticity_nrs().map(i64::from),
        pain_nrs: c.pain_nrs().map(i64::from),
        psfs_frequency: c.psfs_frequency().map(|v| i64::from(v.value())),
        psfs_severity: c.psfs_severity().map(|v| i64::from(v.value())),
        night_wakings: c.night_wakings().map(i64::from),
        log_complete: c.log_complete(),
        note: c.note().map(str::to_string),
    };
    let again = draft
        .validate(c.date(), zone, now)
        .expect("an accepted check-in re-validates");
    assert_eq!(&again, c);
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let zone = tonus_fuzz::zone(selector >> 2);
    let now = tonus_fuzz::now();
    match selector % 4 {
        // POST /episodes (the quick-log form).
        0 => {
            let f = form(body);
            let parsed = (|| {
                if get(&f, "kind").trim().is_empty() {
                    return Err(ValidationError::new("kind", "chosen", "nothing"));
                }
                let duration_s = match get(&f, "duration").trim() {
                    "" => None,
                    d => Some(parse_duration_seconds("duration", d)?),
                };
                let at = match get(&f, "when").trim() {
                    "" => now,
                    w => parse_when("started_at", w, &zone, now)?,
                };
                let draft = EpisodeDraft {
                    kind: get(&f, "kind").to_string(),
                    regions: f
                        .iter()
                        .filter(|(k, _)| k == "region")
                        .map(|(_, v)| v.clone())
                        .collect(),
                    pain: int_field("pain", get(&f, "pain"))?,
                    duration_s,
                    triggers: Vec::new(),
                    trigger_note: None,
                    notes: Some(get(&f, "notes").to_string()),
                };
                draft.validate(LocalInstant { at, zone: zone.clone() }, now)
            })();
            if let Ok(e) = parsed {
                check_episode(&e, now);
            }
        }
        // POST /checkin.
        1 => {
            let f = form(body);
            let parsed = (|| {
                let date = match get(&f, "date").trim() {
                    "" => today(&zone, now),
                    d => parse_date("date", d, &zone, now)?,
                };
                CheckInDraft {
                    spasticity_nrs: int_field("spasticity_nrs", get(&f, "spasticity_nrs"))?,
                    pain_nrs: int_field("pain_nrs", get(&f, "pain_nrs"))?,
                    psfs_frequency: int_field("psfs_frequency", get(&f, "psfs_frequency"))?,
                    psfs_severity: int_field("psfs_severity", get(&f, "psfs_severity"))?,
                    night_wakings: int_field("night_wakings", get(&f, "night_wakings"))?,
                    log_complete: !get(&f, "log_complete").is_empty(),
                    note: Some(get(&f, "note").to_string()),
                }
                .validate(date, &zone, now)
            })();
            if let Ok(c) = parsed {
                check_checkin(&c, &zone, now);
            }
        }
        // POST /api/episodes.
        2 => {
            let Some(input) = api_json::<EpisodeIn>(body) else {
                return;
            };
            let at = match input.started_at.as_deref().map(str::trim) {
                None | Some("") => Ok(now),
                Some(s) => parse_when("started_at", s, &zone, now),
            };
            let draft = EpisodeDraft {
                kind: input.kind,
                regions: input.regions,
                pain: input.pain,
                duration_s: input.duration_s,
                triggers: input.triggers,
                trigger_note: input.trigger_note,
                notes: input.notes,
            };
            if let Ok(e) = at.and_then(|at| draft.validate(LocalInstant { at, zone: zone.clone() }, now)) {
                check_episode(&e, now);
            }
        }
        // POST /api/checkins.
        _ => {
            let Some(input) = api_json::<CheckinIn>(body) else {
                return;
            };
            let parsed = parse_date("date", input.date.as_deref().unwrap_or("today"), &zone, now).and_then(|date| {
                CheckInDraft {
                    spasticity_nrs: input.spasticity_nrs,
                    pain_nrs: input.pain_nrs,
                    psfs_frequency: input.psfs_frequency,
                    psfs_severity: input.psfs_severity,
                    night_wakings: input.night_wakings,
                    log_complete: input.log_complete,
                    note: input.note,
                }
                .validate(date, &zone, now)
            });
            if let Ok(c) = parsed {
                check_checkin(&c, &zone, now);
            }
        }
    }
});
