//! Tonus import and export. Conversions are pure (domain values in, text or JSON out, and
//! back through the domain constructors, so an import rejects exactly what the CLI would);
//! reading and writing files is left to the caller.
//!
//! - [`archive`]: the versioned JSON backup format (docs/backup.md).
//! - [`csv`]: one CSV file per record type (docs/csv.md).
//! - [`fhir`]: FHIR R4 `collection` Bundles, out and back in.
//! - [`ical`]: iCalendar (RFC 5545) reminders for scheduled doses and check-ins.

pub mod archive;
pub mod csv;
pub mod error;
pub mod fhir;
pub mod ical;
mod revalidate;

pub use error::{InteropError, RowError};
