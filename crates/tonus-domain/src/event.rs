//! Clinical events shown as markers on the timeline: MRI results, relapses, infections, the
//! diagnosis, and anything else the patient names.

use jiff::{civil::Date, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{check_text, optional_text};
use crate::time::{end_not_before, not_future_date, Zone};
use crate::vocab::vocabulary;
use crate::ValidationError;

vocabulary! {
    MriRegion, "mri_region" {
        Brain = "brain", "brain";
        CervicalCord = "cervical-cord", "cervical cord";
        ThoracicCord = "thoracic-cord", "thoracic cord";
    }
}

/// Largest lesion count we accept; beyond this it is a typing slip.
pub const MAX_LESIONS: u32 = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EventKind {
    Mri {
        region: MriRegion,
        lesions_total: Option<u32>,
        lesions_new: Option<u32>,
        lesions_enhancing: Option<u32>,
    },
    Relapse,
    Infection,
    Diagnosis,
    Other {
        name: String,
    },
}

impl EventKind {
    pub fn code(&self) -> &'static str {
        match self {
            EventKind::Mri { .. } => "mri",
            EventKind::Relapse => "relapse",
            EventKind::Infection => "infection",
            EventKind::Diagnosis => "diagnosis",
            EventKind::Other { .. } => "other",
        }
    }

    /// An MRI event with checked lesion counts (new and enhancing cannot exceed the total).
    pub fn mri(
        region: MriRegion,
        total: Option<i64>,
        new: Option<i64>,
        enhancing: Option<i64>,
    ) -> Result<Self, ValidationError> {
        let count = |field: &str, v: Option<i64>| -> Result<Option<u32>, ValidationError> {
            match v {
                None => Ok(None),
                Some(v) if (0..=i64::from(MAX_LESIONS)).contains(&v) => Ok(Some(v as u32)),
                Some(v) => Err(ValidationError::new(field, format!("an integer 0–{MAX_LESIONS}"), v)),
            }
        };
        let lesions_total = count("lesions_total", total)?;
        let lesions_new = count("lesions_new", new)?;
        let lesions_enhancing = count("lesions_enhancing", enhancing)?;
        if let Some(t) = lesions_total {
            for (field, v) in [("lesions_new", lesions_new), ("lesions_enhancing", lesions_enhancing)] {
                if let Some(v) = v.filter(|v| *v > t) {
                    return Err(ValidationError::new(field, format!("at most lesions_total ({t})"), v));
                }
            }
        }
        Ok(EventKind::Mri {
            region,
            lesions_total,
            lesions_new,
            lesions_enhancing,
        })
    }

    pub fn other(name: &str) -> Result<Self, ValidationError> {
        let name = check_text("name", name, crate::treatment::MAX_NAME_CHARS)?;
        if name.is_empty() {
            return Err(ValidationError::new(
                "name",
                "1–100 characters for an 'other' event",
                "an empty name",
            ));
        }
        Ok(EventKind::Other { name })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicalEvent {
    kind: EventKind,
    on: Date,
    until: Option<Date>,
    summary: Option<String>,
}

impl ClinicalEvent {
    pub fn new(
        kind: EventKind,
        on: Date,
        until: Option<Date>,
        summary: Option<&str>,
        zone: &Zone,
        now: Timestamp,
    ) -> Result<Self, ValidationError> {
        let on = not_future_date("date", on, zone, now)?;
        if until.is_some() && matches!(kind, EventKind::Mri { .. } | EventKind::Diagnosis) {
            return Err(ValidationError::new(
                "until",
                format!("absent for a {} event (it happens on one day)", kind.code()),
                "an end date",
            ));
        }
        let until = end_not_before("until", on, until)?;
        Ok(Self {
            kind,
            on,
            until,
            summary: optional_text("summary", summary, crate::episode::MAX_NOTE_CHARS)?,
        })
    }
    pub fn kind(&self) -> &EventKind {
        &self.kind
    }
    pub fn on(&self) -> Date {
        self.on
    }
    pub fn until(&self) -> Option<Date> {
        self.until
    }
    pub fn summary(&self) -> Option<&str> {
        self.summary.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lesion_counts_are_consistent() {
        assert_eq!(
            EventKind::mri(MriRegion::Brain, Some(3), Some(4), None)
                .unwrap_err()
                .field,
            "lesions_new"
        );
        assert!(EventKind::mri(MriRegion::Brain, Some(12), Some(2), Some(1)).is_ok());
        assert_eq!(
            EventKind::mri(MriRegion::Brain, Some(-1), None, None)
                .unwrap_err()
                .field,
            "lesions_total"
        );
    }

    #[test]
    fn relapse_end_after_start() {
        let now: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let err = ClinicalEvent::new(
            EventKind::Relapse,
            "2026-10-10".parse().unwrap(),
            Some("2026-10-01".parse().unwrap()),
            None,
            &Zone::utc(),
            now,
        )
        .unwrap_err();
        assert_eq!(err.field, "until");
    }
}
