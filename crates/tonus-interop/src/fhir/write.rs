//! A Bundle written to a file entry by entry (issue #13 point 6): ten years of records made
//! a 125 MB Bundle that took 1.6 GB as one JSON value; written as each entry is made, the
//! memory is the patient's records and one resource.

use std::io::{self, Write};

use jiff::Timestamp;
use serde_json::{Map, Value};
use tonus_domain::time::Zone;
use tonus_store::archive::PatientRecords;

use super::document::ips_document;
use super::export::{bundle_header, export_entries};
use super::transaction::transaction_entry;

/// Which Bundle a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    Collection,
    /// Conditional creates for a FHIR server (see [`super::to_transaction`]).
    Transaction,
    /// The International Patient Summary: a Composition and what it lists (see
    /// [`super::document`]); small, so made whole before it is written.
    Document,
}

/// Writes one patient's Bundle to `w`: the Bundle's elements, then one entry per line.
/// Returns how many entries were written. The bytes are the same JSON as
/// `serde_json::to_writer(export_bundle(..))` would give with `entry` last, with line breaks
/// between entries so a person can page through the file.
pub fn write_bundle<W: Write + ?Sized>(
    w: &mut W,
    handle: &str,
    zone: &Zone,
    records: &PatientRecords,
    now: Timestamp,
    kind: BundleKind,
) -> io::Result<usize> {
    if kind == BundleKind::Document {
        let (header, entries) = ips_document(handle, zone, records, now);
        let mut out = Entries::open(w, header)?;
        for e in entries {
            out.push(e);
        }
        return out.close();
    }
    let mut header = bundle_header(handle, now);
    if kind == BundleKind::Transaction {
        header.insert("type".into(), "transaction".into());
    }
    let mut out = Entries::open(w, header)?;
    export_entries(handle, zone, records, now, &mut |mut entry| {
        if kind == BundleKind::Transaction {
            transaction_entry(&mut entry);
        }
        out.push(entry);
    });
    out.close()
}

/// A Bundle being written: its elements are out, entries follow one per line; the first
/// write error stops the writing and is returned by `close`.
struct Entries<'w, W: Write + ?Sized> {
    w: &'w mut W,
    written: usize,
    failed: Option<io::Error>,
}

impl<'w, W: Write + ?Sized> Entries<'w, W> {
    fn open(w: &'w mut W, header: Map<String, Value>) -> io::Result<Self> {
        let head = serde_json::to_string(&Value::Object(header))?;
        // `{…}` without its closing brace, then the entries as the last element.
        let open = head.strip_suffix('}').unwrap_or(&head);
        w.write_all(open.as_bytes())?;
        w.write_all(b",\"entry\":[")?;
        Ok(Self {
            w,
            written: 0,
            failed: None,
        })
    }

    fn push(&mut self, entry: Value) {
        if self.failed.is_some() {
            return;
        }
        let sep: &[u8] = if self.written == 0 { b"\n" } else { b",\n" };
        let result = self
            .w
            .write_all(sep)
            .and_then(|()| serde_json::to_writer(&mut *self.w, &entry).map_err(io::Error::from));
        match result {
            Ok(()) => self.written += 1,
            Err(e) => self.failed = Some(e),
        }
    }

    fn close(self) -> io::Result<usize> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        self.w.write_all(b"\n]}\n")?;
        Ok(self.written)
    }
}
