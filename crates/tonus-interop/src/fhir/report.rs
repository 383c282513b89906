//! What an import did with each resource of its input: imported, or skipped with a reason a
//! person can act on, plus notes on what was imported with a rule applied (a partial date,
//! a dose Tonus cannot record). Counts are per resource type, so a bundle from another
//! system never answers only "imported 0 records".

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Why one resource was not imported. Serialised as `{"reason": "<kebab-case>", ...}` so a
/// script can count by reason; [`fmt::Display`] gives the sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum SkipReason {
    /// A resource type Tonus keeps nothing of (Encounter, Claim, CarePlan…).
    UnsupportedType,
    /// A known type holding something Tonus does not record (a body weight, a fever).
    NotRecorded { what: String },
    /// Its status says it is not a fact: refuted, entered in error, not taken, on hold…
    Status { field: String, value: String },
    /// Something Tonus needs is missing (a time of day, a medication name, a regimen).
    Incomplete { detail: String },
    /// Its subject is not a Patient of this file: it is about someone else.
    OtherSubject { reference: String },
    /// Another system's record that breaks a Tonus rule (a pain of 12, a future date).
    Invalid { field: String, rule: String, value: String },
    /// The patient has this record already (the same uid, issue #13): importing it again
    /// would store it twice.
    AlreadyImported { uid: String },
    /// Tonus's second view of a record that the file also holds as an Observation (a
    /// check-in's QuestionnaireResponse, an MRI's DiagnosticReport): the record is imported
    /// once, from the Observation. `record` says which: `check-in` or `MRI`.
    SameRecord { record: String },
    /// Tonus's check-in Questionnaire: it defines the questions, nothing happened to anyone.
    Definition,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedType => write!(f, "a resource type Tonus does not record"),
            Self::NotRecorded { what } => write!(f, "not something Tonus records: {what}"),
            Self::Status { field, value } => write!(f, "{field} is {value:?}: not imported as a fact"),
            Self::Incomplete { detail } => write!(f, "incomplete: {detail}"),
            Self::OtherSubject { reference } => {
                write!(f, "its subject {reference:?} is not a Patient of this file")
            }
            Self::Invalid { field, rule, value } => write!(f, "{field} must be {rule} (got {value})"),
            // The uid is in the JSON; the sentence is the same for all, so they group.
            Self::AlreadyImported { .. } => write!(f, "already imported: the patient has this record (the same uid)"),
            Self::SameRecord { record } => {
                write!(f, "the same {record} as its Observation, which is what is imported")
            }
            Self::Definition => write!(f, "a definition, not a record"),
        }
    }
}

impl From<tonus_domain::ValidationError> for SkipReason {
    fn from(e: tonus_domain::ValidationError) -> Self {
        Self::Invalid {
            field: e.field,
            rule: e.rule,
            value: e.value,
        }
    }
}

/// Where a resource sits in the input: its entry index, type and id, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub entry: usize,
    #[serde(rename = "type")]
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry[{}] {}", self.entry, self.resource_type)?;
        if let Some(id) = &self.id {
            write!(f, "/{id}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    #[serde(flatten)]
    pub at: Place,
    #[serde(flatten)]
    pub reason: SkipReason,
    /// The sentence, so JSON readers need not rebuild it.
    pub message: String,
}

/// Something imported with a rule applied, said so nobody is misled by the stored value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    #[serde(flatten)]
    pub at: Place,
    pub message: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TypeCount {
    pub imported: usize,
    pub skipped: usize,
}

/// Every resource of the input, imported or skipped, and notes on the imported ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub counts: BTreeMap<String, TypeCount>,
    pub skipped: Vec<Skipped>,
    pub notes: Vec<Note>,
}

impl ImportReport {
    pub(super) fn imported(&mut self, at: &Place) {
        self.counts.entry(at.resource_type.clone()).or_default().imported += 1;
    }

    pub(super) fn skip(&mut self, at: &Place, reason: SkipReason) {
        self.counts.entry(at.resource_type.clone()).or_default().skipped += 1;
        let message = reason.to_string();
        self.skipped.push(Skipped {
            at: at.clone(),
            reason,
            message,
        });
    }

    /// Moves a resource counted as imported to the skipped ones: its record (uid `uid`) is
    /// one the target patient has already, so the store will not write it again.
    pub fn already_imported(&mut self, at: &Place, uid: &str) {
        let count = self.counts.entry(at.resource_type.clone()).or_default();
        count.imported = count.imported.saturating_sub(1);
        self.skip(at, SkipReason::AlreadyImported { uid: uid.to_string() });
    }

    pub(super) fn note(&mut self, at: &Place, message: impl Into<String>) {
        self.notes.push(Note {
            at: at.clone(),
            message: message.into(),
        });
    }

    pub fn imported_total(&self) -> usize {
        self.counts.values().map(|c| c.imported).sum()
    }

    pub fn skipped_total(&self) -> usize {
        self.skipped.len()
    }
}
