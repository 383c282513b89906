//! `tonus import`: CSV files and FHIR bundles. Every row is checked by the domain rules;
//! then either nothing is written (any bad row) or, with --skip-invalid, every good row is
//! written in one transaction and the bad ones are listed. CSV files are streamed: read,
//! checked and written in one pass, so memory stays flat however long the file is.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context as _, Result};
use indicatif::ProgressBarIter;
use tonus_domain::Patient;
use tonus_interop::csv::{Kind, Record, Rows};
use tonus_interop::RowError;
use tonus_store::BulkWriter;

use crate::cli::ImportCommand;
use crate::context::{user_error, Ctx};

/// Largest file `tonus import` reads: 1 GiB. Both formats are streamed, so memory does not
/// follow the file's size; the limit only stops the wrong file (a disk image, a video) early.
/// Ten years of the demo patient's records are 82 MB of FHIR, so a heavy logger's decade
/// exported by Tonus fits with room to spare (issue #13: the limit accepts what export writes).
pub const MAX_IMPORT_BYTES: u64 = 1024 * 1024 * 1024;
const MAX_IMPORT_SHOWN: &str = "1 GiB";

/// Opens an import file, refusing one larger than [`MAX_IMPORT_BYTES`] before reading it.
/// Pipes and devices have no size up front, so the reader also stops at the limit and says
/// so through the flag, which the caller checks before writing anything.
pub(super) fn open_limited(path: &Path) -> Result<(LimitedReader<File>, u64, Rc<Cell<bool>>)> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len > MAX_IMPORT_BYTES {
        return Err(too_large(path));
    }
    let over = Rc::new(Cell::new(false));
    let reader = LimitedReader {
        inner: file,
        read: 0,
        over: over.clone(),
    };
    Ok((reader, len, over))
}

pub(super) fn too_large(path: &Path) -> anyhow::Error {
    user_error(format!(
        "{}: the file is larger than the import limit of {MAX_IMPORT_BYTES} bytes ({MAX_IMPORT_SHOWN}); nothing was written. Split it into smaller files.",
        path.display()
    ))
}

/// Ends the input at the limit (the parsers then see end of file rather than an I/O error,
/// which the CSV reader would report per row and read past) and raises `over`.
pub(super) struct LimitedReader<R> {
    inner: R,
    read: u64,
    over: Rc<Cell<bool>>,
}

impl<R> LimitedReader<R> {
    pub(super) fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.over.get() {
            return Ok(0);
        }
        // One byte past the limit tells a file of exactly the limit from a larger one.
        let room = usize::try_from(MAX_IMPORT_BYTES + 1 - self.read).unwrap_or(usize::MAX);
        let take = buf.len().min(room);
        let n = self.inner.read(&mut buf[..take])?;
        self.read += n as u64;
        if self.read > MAX_IMPORT_BYTES {
            self.over.set(true);
            return Ok(0);
        }
        Ok(n)
    }
}

pub async fn run(ctx: &Ctx, cmd: ImportCommand) -> Result<()> {
    match cmd {
        ImportCommand::Csv { files, skip_invalid } => csv(ctx, &ctx.patient().await?, files, skip_invalid).await,
        ImportCommand::Fhir { file, dry_run, map, tz } => {
            let options = super::import_fhir::Options { dry_run, map, tz };
            super::import_fhir::run(ctx, file, options).await
        }
    }
}

/// One file to import, its header read.
struct Input {
    path: PathBuf,
    rows: Rows<BufReader<ProgressBarIter<LimitedReader<File>>>>,
    over: Rc<Cell<bool>>,
}

/// Reads and writes in one streaming pass, inside one transaction, so memory does not grow
/// with the file: every row is checked by the domain rules and, while no row has failed
/// (or with --skip-invalid), sent to the database. The first bad row without --skip-invalid
/// rolls back what was sent, and reading goes on only to list every bad row.
async fn csv(ctx: &Ctx, patient: &Patient, files: Vec<PathBuf>, skip_invalid: bool) -> Result<()> {
    // Every file is opened and its header read before any row: a file that is too large
    // to start with or has an unknown header stops the import before anything is checked.
    let mut opened = Vec::new();
    for path in files {
        let (file, len, over) = open_limited(&path)?;
        opened.push((path, file, len, over));
    }
    let total: u64 = opened.iter().map(|(_, _, len, _)| len).sum();
    let pb = super::export::progress(ctx, Some(total).filter(|l| *l > 0), "importing");
    let mut inputs = Vec::new();
    for (path, file, _, over) in opened {
        let rows = Rows::new(BufReader::new(pb.wrap_read(file)), &patient.zone, ctx.now);
        if over.get() {
            return Err(too_large(&path));
        }
        let rows = rows.map_err(|e| user_error(format!("{}: {e}", path.display())))?;
        inputs.push(Input { path, rows, over });
    }
    // Treatments first, so doses can find the regimens imported with them.
    inputs.sort_by_key(|i| i.rows.kind());
    let mut known: BTreeSet<(String, jiff::civil::Date)> = ctx
        .store
        .list_regimens(patient)
        .await?
        .into_iter()
        .map(|r| (r.treatment_name.to_lowercase(), r.value.start()))
        .collect();
    // Side effects name their suspected treatment; like a dose's regimen, one that is
    // neither stored nor in an imported treatments file is a row error.
    let mut treatment_names: BTreeSet<String> = ctx
        .store
        .list_treatments(patient)
        .await?
        .into_iter()
        .map(|t| t.value.name().to_lowercase())
        .collect();
    let mut writer = Some(ctx.store.bulk_writer(patient).await?);
    let mut bad = Vec::new();
    let mut messages = Vec::new();
    let mut rows = 0u64;
    let mut written = 0usize;
    for input in inputs {
        let Input {
            path,
            rows: reader,
            over,
        } = input;
        let mut errors: Vec<RowError> = Vec::new();
        if reader.kind() == Kind::Treatments {
            // Grouped by treatment before writing (a treatments file is a few rows a
            // treatment); rows of one treatment must agree.
            let import = reader.into_import();
            for t in &import.records.treatments {
                treatment_names.insert(t.treatment.name().to_lowercase());
                for r in &t.regimens {
                    known.insert((t.treatment.name().to_lowercase(), r.regimen.start()));
                }
            }
            rows += import.rows;
            written += import.good();
            errors = import.errors;
            stop_at_error(&mut writer, &errors, skip_invalid).await?;
            if let Some(w) = writer.as_mut() {
                w.treatments(&import.records.treatments).await?;
            }
        } else {
            let mut reader = reader;
            for (line, result) in reader.by_ref() {
                let record = result.and_then(|r| match r {
                    Record::Dose(d) if !known.contains(&(d.treatment.trim().to_lowercase(), d.regimen_start)) => {
                        Err(tonus_interop::csv::unknown_regimen(&d))
                    }
                    Record::SideEffect(s, _)
                        if s.suspected_treatment()
                            .is_some_and(|n| !treatment_names.contains(&n.to_lowercase())) =>
                    {
                        Err(tonus_interop::csv::unknown_treatment(
                            s.suspected_treatment().unwrap_or_default(),
                        ))
                    }
                    r => Ok(r),
                });
                match record {
                    Ok(r) => {
                        written += 1;
                        if let Some(w) = writer.as_mut() {
                            write(w, r).await?;
                        }
                    }
                    Err(error) => {
                        errors.push(RowError { line, error });
                        stop_at_error(&mut writer, &errors, skip_invalid).await?;
                    }
                }
            }
            rows += reader.rows();
        }
        if over.get() {
            return Err(too_large(&path));
        }
        for e in errors {
            bad.push(serde_json::json!({
                "file": path, "line": e.line, "field": e.error.field, "rule": e.error.rule, "value": e.error.value,
            }));
            messages.push(format!("{}:{e}", path.display()));
        }
    }
    pb.finish_and_clear();
    for m in &messages {
        eprintln!("{m}");
    }
    if !bad.is_empty() && !skip_invalid {
        return Err(user_error(format!(
            "{} of {rows} rows are invalid (listed above); nothing was written. Fix them, or import the valid rows with --skip-invalid.",
            bad.len()
        )));
    }
    let writer = writer.context("the import's transaction ended early")?;
    writer.commit().await?;
    super::report(
        ctx,
        &format!(
            "Imported {written} records for {:?}{}.",
            patient.handle,
            if bad.is_empty() {
                String::new()
            } else {
                format!("; skipped {} invalid rows (listed above)", bad.len())
            }
        ),
        &serde_json::json!({"written": written, "rows": rows, "skipped": bad}),
    )
}

/// Without --skip-invalid, nothing of a file with a bad row is written: the first one rolls
/// back what was sent, which also frees the database for other writers while the rest of
/// the files are only checked.
async fn stop_at_error(writer: &mut Option<BulkWriter>, errors: &[RowError], skip_invalid: bool) -> Result<()> {
    if !skip_invalid && !errors.is_empty() {
        if let Some(w) = writer.take() {
            w.rollback().await?;
        }
    }
    Ok(())
}

async fn write(w: &mut BulkWriter, record: Record) -> Result<()> {
    match record {
        Record::Episode(e, uid) => w.episode(uid, e).await?,
        Record::CheckIn(c, uid) => w.checkin(uid, &c).await?,
        Record::Exercise(s, uid) => w.exercise(uid, s).await?,
        Record::Event(e, uid) => w.event(uid, &e).await?,
        Record::Dose(d) => w.dose(d).await?,
        Record::SideEffect(s, uid) => w.side_effect(uid, &s).await?,
        // Only in a treatments file, which is written whole (see `csv`).
        Record::Treatment(..) => {}
    }
    Ok(())
}
