//! Tonus domain: the types every other crate speaks, and the rules that make invalid values
//! impossible to construct. No I/O lives here.

pub mod arm;
pub mod checkin;
pub mod daily;
pub mod due;
pub mod episode;
pub mod error;
pub mod event;
pub mod exercise;
pub mod identity;
pub mod input;
pub mod patient;
pub mod reminders;
pub mod side_effect;
pub mod taper;
pub mod time;
pub mod treatment;
pub mod uid;
mod vocab;

pub use arm::Arm;
pub use checkin::{CheckIn, PsfsFrequency, PsfsSeverity};
pub use daily::{daily_counts, DayCount};
pub use episode::{Episode, Family, Pain, Region, SpasmKind, Trigger};
pub use error::ValidationError;
pub use event::{ClinicalEvent, EventKind, MriRegion};
pub use exercise::{ExerciseSession, ExerciseType};
pub use identity::{AdministrativeSex, PatientIdentifier, PatientIdentity};
pub use patient::Patient;
pub use side_effect::{Effect, Severity, SideEffect};
pub use time::LocalInstant;
pub use treatment::{Category, Dose, DoseLog, DoseStatus, Regimen, Route, Schedule, Treatment, Unit};
pub use uid::RecordUid;

/// Database identifier of a stored record. Ids are per table and never reused.
pub type Id = i64;
