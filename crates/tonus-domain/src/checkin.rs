//! The daily check-in: patient-rated scales for one local day, and the confirmation that the
//! day's episode log is complete (without which the day's count is unknown, not zero).

use jiff::{civil::Date, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{check_range, optional_text};
use crate::time::{not_future_date, Zone};
use crate::ValidationError;

/// Penn Spasm Frequency Scale, frequency item (0–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct PsfsFrequency(u8);

impl PsfsFrequency {
    pub fn new(v: i64) -> Result<Self, ValidationError> {
        check_range("psfs_frequency", v, 0, 4).map(|v| Self(v as u8))
    }
    pub fn value(self) -> u8 {
        self.0
    }
    pub fn label(self) -> &'static str {
        match self.0 {
            0 => "no spasms",
            1 => "spasms only when stimulated",
            2 => "spasms less than once an hour",
            3 => "spasms more than once an hour",
            _ => "spasms more than ten times an hour",
        }
    }
}

/// Penn Spasm Frequency Scale, severity item (1–3), asked only when frequency > 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct PsfsSeverity(u8);

impl PsfsSeverity {
    pub fn new(v: i64) -> Result<Self, ValidationError> {
        check_range("psfs_severity", v, 1, 3).map(|v| Self(v as u8))
    }
    pub fn value(self) -> u8 {
        self.0
    }
    pub fn label(self) -> &'static str {
        match self.0 {
            1 => "mild",
            2 => "moderate",
            _ => "severe",
        }
    }
}

macro_rules! serde_u8_newtype {
    ($t:ty) => {
        impl TryFrom<i64> for $t {
            type Error = ValidationError;
            fn try_from(v: i64) -> Result<Self, Self::Error> {
                Self::new(v)
            }
        }
        impl From<$t> for u8 {
            fn from(v: $t) -> u8 {
                v.0
            }
        }
    };
}
serde_u8_newtype!(PsfsFrequency);
serde_u8_newtype!(PsfsSeverity);

/// Most night wakings we accept in one night.
pub const MAX_NIGHT_WAKINGS: i64 = 50;

/// Unvalidated check-in answers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CheckInDraft {
    pub spasticity_nrs: Option<i64>,
    pub pain_nrs: Option<i64>,
    pub psfs_frequency: Option<i64>,
    pub psfs_severity: Option<i64>,
    pub night_wakings: Option<i64>,
    pub log_complete: bool,
    pub note: Option<String>,
}

impl From<&CheckIn> for CheckInDraft {
    /// The stored answers as a draft, to change one of them (e.g. confirm the day).
    fn from(c: &CheckIn) -> Self {
        CheckInDraft {
            spasticity_nrs: c.spasticity_nrs().map(i64::from),
            pain_nrs: c.pain_nrs().map(i64::from),
            psfs_frequency: c.psfs_frequency().map(|f| i64::from(f.value())),
            psfs_severity: c.psfs_severity().map(|s| i64::from(s.value())),
            night_wakings: c.night_wakings().map(i64::from),
            log_complete: c.log_complete(),
            note: c.note().map(str::to_string),
        }
    }
}

/// One day's check-in. Every scale is optional (a patient may skip a question), but the two
/// PSFS items stay separate and severity exists only with a frequency above 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIn {
    date: Date,
    spasticity_nrs: Option<u8>,
    pain_nrs: Option<u8>,
    psfs_frequency: Option<PsfsFrequency>,
    psfs_severity: Option<PsfsSeverity>,
    night_wakings: Option<u8>,
    log_complete: bool,
    note: Option<String>,
}

impl CheckInDraft {
    pub fn validate(&self, date: Date, zone: &Zone, now: Timestamp) -> Result<CheckIn, ValidationError> {
        let date = not_future_date("date", date, zone, now)?;
        let nrs = |field: &str, v: Option<i64>| v.map(|v| check_range(field, v, 0, 10).map(|v| v as u8)).transpose();
        let spasticity_nrs = nrs("spasticity_nrs", self.spasticity_nrs)?;
        let pain_nrs = nrs("pain_nrs", self.pain_nrs)?;
        let psfs_frequency = self.psfs_frequency.map(PsfsFrequency::new).transpose()?;
        let psfs_severity = self.psfs_severity.map(PsfsSeverity::new).transpose()?;
        if let Some(sev) = psfs_severity {
            match psfs_frequency {
                Some(f) if f.value() > 0 => {}
                _ => {
                    return Err(ValidationError::new(
                        "psfs_severity",
                        "given only when psfs_frequency is 1–4",
                        format!(
                            "{} with psfs_frequency {}",
                            sev.value(),
                            psfs_frequency.map_or("absent".to_string(), |f| f.value().to_string())
                        ),
                    ))
                }
            }
        }
        let night_wakings = self
            .night_wakings
            .map(|v| check_range("night_wakings", v, 0, MAX_NIGHT_WAKINGS).map(|v| v as u8))
            .transpose()?;
        Ok(CheckIn {
            date,
            spasticity_nrs,
            pain_nrs,
            psfs_frequency,
            psfs_severity,
            night_wakings,
            log_complete: self.log_complete,
            note: optional_text("note", self.note.as_deref(), crate::episode::MAX_NOTE_CHARS)?,
        })
    }
}

impl CheckIn {
    pub fn date(&self) -> Date {
        self.date
    }
    pub fn spasticity_nrs(&self) -> Option<u8> {
        self.spasticity_nrs
    }
    pub fn pain_nrs(&self) -> Option<u8> {
        self.pain_nrs
    }
    pub fn psfs_frequency(&self) -> Option<PsfsFrequency> {
        self.psfs_frequency
    }
    pub fn psfs_severity(&self) -> Option<PsfsSeverity> {
        self.psfs_severity
    }
    pub fn night_wakings(&self) -> Option<u8> {
        self.night_wakings
    }
    /// The patient confirmed the day's episode log is complete, so a count of 0 means none.
    pub fn log_complete(&self) -> bool {
        self.log_complete
    }
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn now() -> Timestamp {
        "2026-11-20T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn severity_without_frequency_is_rejected() {
        let d = CheckInDraft {
            psfs_frequency: Some(0),
            psfs_severity: Some(2),
            ..Default::default()
        };
        let err = d
            .validate("2026-11-19".parse().unwrap(), &Zone::utc(), now())
            .unwrap_err();
        assert_eq!(err.field, "psfs_severity");
    }

    #[test]
    fn future_day_is_rejected() {
        let err = CheckInDraft::default()
            .validate("2026-11-21".parse().unwrap(), &Zone::utc(), now())
            .unwrap_err();
        assert_eq!(err.field, "date");
    }

    proptest! {
        #[test]
        fn accepted_iff_every_item_in_range(
            sp in -3i64..14, pn in -3i64..14, f in -2i64..7, s in proptest::option::of(-1i64..5), w in -2i64..60
        ) {
            let d = CheckInDraft {
                spasticity_nrs: Some(sp), pain_nrs: Some(pn), psfs_frequency: Some(f),
                psfs_severity: s, night_wakings: Some(w), log_complete: true, note: None,
            };
            let ok = (0..=10).contains(&sp) && (0..=10).contains(&pn) && (0..=4).contains(&f)
                && (0..=MAX_NIGHT_WAKINGS).contains(&w)
                && s.is_none_or(|s| (1..=3).contains(&s) && f > 0);
            prop_assert_eq!(d.validate("2026-11-19".parse().unwrap(), &Zone::utc(), now()).is_ok(), ok);
        }
    }
}
