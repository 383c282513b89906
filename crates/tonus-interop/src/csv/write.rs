//! Writing CSV. Instants are written as RFC 3339 local time with the UTC offset (readable in
//! a spreadsheet, exact when read back) next to the IANA zone; lists use `;` inside a cell.

use std::io::Write;

use tonus_domain::{EventKind, LocalInstant};
use tonus_store::archive::PatientRecords;

use super::Kind;
use crate::InteropError;

fn instant(li: &LocalInstant) -> String {
    crate::local_rfc3339(li)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn list<T: Copy + Into<&'static str>>(items: &[T]) -> String {
    items.iter().map(|i| (*i).into()).collect::<Vec<&str>>().join(";")
}

/// The uid of the `i`-th record, empty for a record without one.
fn uid(uids: &[tonus_domain::RecordUid], i: usize) -> String {
    opt(uids.get(i))
}

fn csv_err(source: csv::Error) -> InteropError {
    InteropError::Csv {
        context: "write",
        source,
    }
}

/// How a file is laid out for the program that opens it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Style {
    /// UTF-8 without a byte-order mark, LF line ends: what scripts and other tools expect.
    #[default]
    Plain,
    /// A UTF-8 byte-order mark (without it Excel reads the file as the system's legacy code
    /// page and garbles every non-ASCII letter) and CRLF line ends.
    Excel,
}

/// Writes the records of one type with a header; returns the number of data rows.
pub fn write<W: Write>(kind: Kind, out: W, records: &PatientRecords) -> Result<u64, InteropError> {
    write_styled(kind, out, records, Style::Plain)
}

/// [`write`] in the given [`Style`].
pub fn write_styled<W: Write>(
    kind: Kind,
    mut out: W,
    records: &PatientRecords,
    style: Style,
) -> Result<u64, InteropError> {
    let mut builder = csv::WriterBuilder::new();
    if style == Style::Excel {
        out.write_all("\u{feff}".as_bytes())
            .map_err(|source| InteropError::Io { what: "CSV", source })?;
        builder.terminator(csv::Terminator::CRLF);
    }
    let mut w = builder.from_writer(out);
    w.write_record(kind.columns()).map_err(csv_err)?;
    let mut rows = 0u64;
    let mut row = |w: &mut csv::Writer<W>, fields: &[&str]| -> Result<(), InteropError> {
        rows += 1;
        w.write_record(fields.iter().map(|f| super::cells::neutralise(f).into_owned()))
            .map_err(csv_err)
    };
    match kind {
        Kind::Episodes => {
            for (i, e) in records.episodes.iter().enumerate() {
                let recorded = LocalInstant {
                    at: e.recorded_at(),
                    zone: e.started_at().zone.clone(),
                };
                row(
                    &mut w,
                    &[
                        &instant(e.started_at()),
                        e.started_at().zone.name(),
                        e.kind().code(),
                        e.family().code(),
                        &list(e.regions()),
                        &opt(e.pain().map(|p| p.value())),
                        &opt(e.duration_s()),
                        &list(e.triggers()),
                        e.trigger_note().unwrap_or_default(),
                        e.notes().unwrap_or_default(),
                        &instant(&recorded),
                        &uid(&records.uids.episodes, i),
                    ],
                )?;
            }
        }
        Kind::Checkins => {
            for (i, c) in records.checkins.iter().enumerate() {
                row(
                    &mut w,
                    &[
                        &c.date().to_string(),
                        &opt(c.spasticity_nrs()),
                        &opt(c.pain_nrs()),
                        &opt(c.psfs_frequency().map(|v| v.value())),
                        &opt(c.psfs_severity().map(|v| v.value())),
                        &opt(c.night_wakings()),
                        if c.log_complete() { "true" } else { "false" },
                        c.note().unwrap_or_default(),
                        &uid(&records.uids.checkins, i),
                    ],
                )?;
            }
        }
        Kind::Treatments => {
            for t in &records.treatments {
                let (name, category, notes) = (t.treatment.name(), t.treatment.category().code(), t.treatment.notes());
                if t.regimens.is_empty() {
                    row(
                        &mut w,
                        &[
                            name,
                            category,
                            notes.unwrap_or_default(),
                            "",
                            "",
                            "",
                            "",
                            "",
                            "",
                            &opt(t.uid),
                            &opt(t.uid),
                        ],
                    )?;
                }
                for r in &t.regimens {
                    let g = &r.regimen;
                    row(
                        &mut w,
                        &[
                            name,
                            category,
                            notes.unwrap_or_default(),
                            &opt(g.dose().map(|d| d.amount())),
                            g.dose().map(|d| d.unit().code()).unwrap_or_default(),
                            g.route().map(|r| r.code()).unwrap_or_default(),
                            &g.schedule().code(),
                            &g.start().to_string(),
                            &opt(g.end()),
                            &opt(t.uid),
                            &opt(r.uid),
                        ],
                    )?;
                }
            }
        }
        Kind::Doses => {
            for t in &records.treatments {
                for r in &t.regimens {
                    let start = r.regimen.start().to_string();
                    for (k, d) in r.doses.iter().enumerate() {
                        row(
                            &mut w,
                            &[
                                t.treatment.name(),
                                &start,
                                &instant(d.at()),
                                d.at().zone.name(),
                                d.status().code(),
                                d.note().unwrap_or_default(),
                                &uid(&r.dose_uids, k),
                            ],
                        )?;
                    }
                }
            }
        }
        Kind::Exercise => {
            for (i, s) in records.exercise.iter().enumerate() {
                row(
                    &mut w,
                    &[
                        &instant(s.at()),
                        s.at().zone.name(),
                        s.exercise_type().code(),
                        &s.minutes().to_string(),
                        &s.exertion().to_string(),
                        s.note().unwrap_or_default(),
                        &uid(&records.uids.exercise, i),
                    ],
                )?;
            }
        }
        Kind::Events => {
            for (i, e) in records.events.iter().enumerate() {
                let (mut region, mut total, mut new, mut enh, mut name) = ("", None, None, None, "");
                match e.kind() {
                    EventKind::Mri {
                        region: r,
                        lesions_total,
                        lesions_new,
                        lesions_enhancing,
                    } => {
                        region = r.code();
                        (total, new, enh) = (*lesions_total, *lesions_new, *lesions_enhancing);
                    }
                    EventKind::Other { name: n } => name = n,
                    _ => {}
                }
                row(
                    &mut w,
                    &[
                        e.kind().code(),
                        &e.on().to_string(),
                        &opt(e.until()),
                        region,
                        &opt(total),
                        &opt(new),
                        &opt(enh),
                        name,
                        e.summary().unwrap_or_default(),
                        &uid(&records.uids.events, i),
                    ],
                )?;
            }
        }
        Kind::SideEffects => {
            for (i, s) in records.side_effects.iter().enumerate() {
                row(
                    &mut w,
                    &[
                        &instant(s.at()),
                        s.at().zone.name(),
                        s.effect().code(),
                        s.description().unwrap_or_default(),
                        s.severity().code(),
                        s.suspected_treatment().unwrap_or_default(),
                        s.note().unwrap_or_default(),
                        &uid(&records.uids.side_effects, i),
                    ],
                )?;
            }
        }
    }
    w.flush().map_err(|source| InteropError::Io { what: "CSV", source })?;
    Ok(rows)
}

/// Writes every type, calling `open` for each file's writer; returns rows per type.
pub fn write_all<W: Write>(
    records: &PatientRecords,
    style: Style,
    mut open: impl FnMut(Kind) -> Result<W, InteropError>,
) -> Result<Vec<(Kind, u64)>, InteropError> {
    Kind::ALL
        .into_iter()
        .map(|k| Ok((k, write_styled(k, open(k)?, records, style)?)))
        .collect()
}
