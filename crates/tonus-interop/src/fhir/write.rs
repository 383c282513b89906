//! A Bundle written to a file entry by entry (issue #13 point 6): ten years of records made
//! a 125 MB Bundle that took 1.6 GB as one JSON value; written as each entry is made, the
//! memory is the patient's records and one resource.

use std::io::{self, Write};

use jiff::Timestamp;
use serde_json::Value;
use tonus_domain::time::Zone;
use tonus_store::archive::PatientRecords;

use super::export::{bundle_header, export_entries};
use super::transaction::transaction_entry;

/// Which Bundle a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    Collection,
    /// Conditional creates for a FHIR server (see [`super::to_transaction`]).
    Transaction,
}

/// Writes one patient's Bundle to `w`: the Bundle's elements, then one entry per line.
/// Returns how many entries were written. The bytes are the same JSON as
/// `serde_json::to_writer(export_bundle(..))` would give with `entry` last, with line breaks
/// between entries so a person can page through the file.
pub fn write_bundle<W: Write>(
    w: &mut W,
    handle: &str,
    zone: &Zone,
    records: &PatientRecords,
    now: Timestamp,
    kind: BundleKind,
) -> io::Result<usize> {
    let mut header = bundle_header(handle, now);
    if kind == BundleKind::Transaction {
        header.insert("type".into(), "transaction".into());
    }
    let head = serde_json::to_string(&Value::Object(header))?;
    // `{…}` without its closing brace, then the entries as the last element.
    let open = head.strip_suffix('}').unwrap_or(&head);
    w.write_all(open.as_bytes())?;
    w.write_all(b",\"entry\":[")?;
    let mut written = 0usize;
    let mut failed: Option<io::Error> = None;
    export_entries(handle, zone, records, now, &mut |mut entry| {
        if failed.is_some() {
            return;
        }
        if kind == BundleKind::Transaction {
            transaction_entry(&mut entry);
        }
        let sep: &[u8] = if written == 0 { b"\n" } else { b",\n" };
        let result = w
            .write_all(sep)
            .and_then(|()| serde_json::to_writer(&mut *w, &entry).map_err(io::Error::from));
        match result {
            Ok(()) => written += 1,
            Err(e) => failed = Some(e),
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    w.write_all(b"\n]}\n")?;
    Ok(written)
}
