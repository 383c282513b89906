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

/// RFC 3339 text of an instant as local time with the offset it had then. RFC 3339 and FHIR
/// offsets are whole minutes, but local mean time before a zone adopted a standard offset
/// was not (Europe/London before 1847 was -00:01:15, Africa/Monrovia until 1972 -00:44:30):
/// written rounded, the instant would come back seconds off. Those are written in UTC.
pub(crate) fn local_rfc3339(li: &tonus_domain::LocalInstant) -> String {
    let z = li.zoned();
    if z.offset().seconds() % 60 != 0 {
        return z.timestamp().to_string();
    }
    z.timestamp().display_with_offset(z.offset()).to_string()
}
