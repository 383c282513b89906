//! Side effects the patient felt. For the people choosing between baclofen, tizanidine or
//! gabapentin, drowsiness and weakness weigh as much as the spasm counts, so a trial report
//! needs the harms next to the benefits (CENT 2015, item 19).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::optional_text;
use crate::time::LocalInstant;
use crate::vocab::vocabulary;
use crate::ValidationError;

vocabulary! {
    /// What was felt: the effects people on anti-spasticity drugs most often report, and
    /// `other` with the patient's own words.
    Effect, "effect" {
        Drowsiness = "drowsiness", "drowsiness";
        Weakness = "weakness", "muscle weakness";
        Dizziness = "dizziness", "dizziness";
        Fatigue = "fatigue", "tiredness";
        Nausea = "nausea", "nausea";
        DryMouth = "dry-mouth", "dry mouth";
        Headache = "headache", "headache";
        Confusion = "confusion", "confusion or poor concentration";
        Other = "other", "other";
    }
}

vocabulary! {
    Severity, "severity" {
        Mild = "mild", "mild";
        Moderate = "moderate", "moderate";
        Severe = "severe", "severe";
    }
}

/// Words for an `other` effect: short, like a treatment name.
pub const MAX_DESCRIPTION_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideEffect {
    at: LocalInstant,
    effect: Effect,
    description: Option<String>,
    severity: Severity,
    suspected_treatment: Option<String>,
    note: Option<String>,
}

impl SideEffect {
    /// `description` says what was felt in the patient's words: required for `other`, and
    /// allowed for the listed effects (e.g. "weak legs on the stairs").
    /// `suspected_treatment` is the name of a treatment the patient suspects; whether it
    /// exists is the store's rule, since only the store knows the patient's treatments.
    pub fn new(
        at: LocalInstant,
        effect: Effect,
        description: Option<&str>,
        severity: Severity,
        suspected_treatment: Option<&str>,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<Self, ValidationError> {
        let at = LocalInstant::past("at", at.at, at.zone, now)?;
        let description = optional_text("description", description, MAX_DESCRIPTION_CHARS)?;
        if effect == Effect::Other && description.is_none() {
            return Err(ValidationError::new(
                "description",
                "present when the effect is \"other\" (say what was felt)",
                "nothing",
            ));
        }
        let suspected_treatment = optional_text(
            "suspected_treatment",
            suspected_treatment,
            crate::treatment::MAX_NAME_CHARS,
        )?;
        Ok(Self {
            at,
            effect,
            description,
            severity,
            suspected_treatment,
            note: optional_text("note", note, crate::episode::MAX_NOTE_CHARS)?,
        })
    }
    pub fn at(&self) -> &LocalInstant {
        &self.at
    }
    pub fn effect(&self) -> Effect {
        self.effect
    }
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    pub fn severity(&self) -> Severity {
        self.severity
    }
    pub fn suspected_treatment(&self) -> Option<&str> {
        self.suspected_treatment.as_deref()
    }
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
    /// What a person reads: the patient's words when given, else the label.
    pub fn what(&self) -> &str {
        self.description().unwrap_or(self.effect.label())
    }
}

impl Severity {
    /// 1 (mild) to 3 (severe), for sums and "worst" summaries.
    pub fn rank(self) -> u8 {
        match self {
            Severity::Mild => 1,
            Severity::Moderate => 2,
            Severity::Severe => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Zone;

    fn at(text: &str) -> LocalInstant {
        LocalInstant {
            at: text.parse().unwrap(),
            zone: Zone::utc(),
        }
    }

    #[test]
    fn rules_name_the_field() {
        let now: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let ok = SideEffect::new(
            at("2026-11-20T09:00:00Z"),
            Effect::Drowsiness,
            None,
            Severity::Moderate,
            Some("  Baclofen "),
            Some("after the\r\nevening dose"),
            now,
        )
        .unwrap();
        assert_eq!(ok.suspected_treatment(), Some("Baclofen"));
        assert_eq!(ok.note(), Some("after the\nevening dose"));
        assert_eq!(ok.what(), "drowsiness");

        let other = SideEffect::new(
            at("2026-11-20T09:00:00Z"),
            Effect::Other,
            None,
            Severity::Mild,
            None,
            None,
            now,
        );
        assert_eq!(other.unwrap_err().field, "description");

        let future = SideEffect::new(
            at("2026-11-21T09:00:00Z"),
            Effect::Nausea,
            None,
            Severity::Mild,
            None,
            None,
            now,
        );
        assert_eq!(future.unwrap_err().field, "at");

        let long = "x".repeat(MAX_DESCRIPTION_CHARS + 1);
        let e = SideEffect::new(
            at("2026-11-20T09:00:00Z"),
            Effect::Other,
            Some(&long),
            Severity::Mild,
            None,
            None,
            now,
        )
        .unwrap_err();
        assert_eq!(e.field, "description");

        let bidi = SideEffect::new(
            at("2026-11-20T09:00:00Z"),
            Effect::Nausea,
            None,
            Severity::Mild,
            Some("Bac\u{202E}lofen"),
            None,
            now,
        );
        assert_eq!(bidi.unwrap_err().field, "suspected_treatment");

        let empty_name = SideEffect::new(
            at("2026-11-20T09:00:00Z"),
            Effect::Nausea,
            None,
            Severity::Mild,
            Some("  "),
            None,
            now,
        )
        .unwrap();
        assert_eq!(empty_name.suspected_treatment(), None);
    }

    #[test]
    fn vocabularies_parse_what_people_type() {
        assert_eq!(Effect::parse("Dry mouth").unwrap(), Effect::DryMouth);
        assert_eq!(Severity::parse("SEVERE").unwrap().rank(), 3);
        assert_eq!(Severity::parse("awful").unwrap_err().field, "severity");
    }
}
