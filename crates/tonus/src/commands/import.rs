//! `tonus import`: CSV files and FHIR bundles. Every row is checked by the domain rules
//! first; then either nothing is written (any bad row) or, with --skip-invalid, every good
//! row is written in one transaction and the bad ones are listed.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context as _, Result};
use tonus_domain::Patient;
use tonus_interop::csv::{Import, Kind};
use tonus_store::archive::{DoseRef, PatientRecords};

use crate::cli::ImportCommand;
use crate::context::{user_error, Ctx};

/// Largest file `tonus import` reads: 64 MiB. Ten years of detailed logging is a few MiB, so
/// a bigger file is almost surely the wrong one, and a FHIR bundle is held in memory whole.
pub const MAX_IMPORT_BYTES: u64 = 64 * 1024 * 1024;

/// Opens an import file, refusing one larger than [`MAX_IMPORT_BYTES`] before reading it.
/// Pipes and devices have no size up front, so the reader also stops at the limit and says
/// so through the flag, which the caller checks before writing anything.
fn open_limited(path: &Path) -> Result<(LimitedReader<File>, u64, Rc<Cell<bool>>)> {
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

fn too_large(path: &Path) -> anyhow::Error {
    user_error(format!(
        "{}: the file is larger than the import limit of {MAX_IMPORT_BYTES} bytes (64 MiB); nothing was written. Split it into smaller files.",
        path.display()
    ))
}

/// Ends the input at the limit (the parsers then see end of file rather than an I/O error,
/// which the CSV reader would report per row and read past) and raises `over`.
struct LimitedReader<R> {
    inner: R,
    read: u64,
    over: Rc<Cell<bool>>,
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
    let patient = ctx.patient().await?;
    match cmd {
        ImportCommand::Csv { files, skip_invalid } => csv(ctx, &patient, files, skip_invalid).await,
        ImportCommand::Fhir { file } => fhir(ctx, &patient, file).await,
    }
}

async fn csv(ctx: &Ctx, patient: &Patient, files: Vec<PathBuf>, skip_invalid: bool) -> Result<()> {
    let mut imports: Vec<(PathBuf, Import)> = Vec::new();
    for path in files {
        let (file, len, over) = open_limited(&path)?;
        let pb = super::export::progress(
            ctx,
            Some(len).filter(|l| *l > 0),
            &format!("reading {}", path.display()),
        );
        let parsed = tonus_interop::csv::read(BufReader::new(pb.wrap_read(file)), &patient.zone, ctx.now);
        pb.finish_and_clear();
        if over.get() {
            return Err(too_large(&path));
        }
        let parsed = parsed.map_err(|e| user_error(format!("{}: {e}", path.display())))?;
        imports.push((path, parsed));
    }
    // Treatments first, so doses can find the regimens imported with them.
    imports.sort_by_key(|(_, i)| i.kind);
    let mut known: BTreeSet<(String, jiff::civil::Date)> = ctx
        .store
        .list_regimens(patient)
        .await?
        .into_iter()
        .map(|r| (r.treatment_name.to_lowercase(), r.value.start()))
        .collect();
    let mut records = PatientRecords::default();
    let mut doses: Vec<DoseRef> = Vec::new();
    let mut bad = Vec::new();
    let mut rows = 0u64;
    for (path, mut import) in imports {
        if import.kind == Kind::Treatments {
            for t in &import.records.treatments {
                for r in &t.regimens {
                    known.insert((t.treatment.name().to_lowercase(), r.regimen.start()));
                }
            }
        }
        tonus_interop::csv::resolve_doses(&mut import, &known);
        rows += import.rows;
        for e in &import.errors {
            bad.push(serde_json::json!({
                "file": path, "line": e.line, "field": e.error.field, "rule": e.error.rule, "value": e.error.value,
            }));
            eprintln!("{}:{e}", path.display());
        }
        let r = import.records;
        records.treatments.extend(r.treatments);
        records.episodes.extend(r.episodes);
        records.checkins.extend(r.checkins);
        records.exercise.extend(r.exercise);
        records.events.extend(r.events);
        doses.extend(import.doses);
    }
    if !bad.is_empty() && !skip_invalid {
        return Err(user_error(format!(
            "{} of {rows} rows are invalid (listed above); nothing was written. Fix them, or import the valid rows with --skip-invalid.",
            bad.len()
        )));
    }
    let written = records.len() + doses.len();
    let pb = super::export::progress(ctx, None, "writing");
    ctx.store.add_records(patient, &records, &doses).await?;
    pb.finish_and_clear();
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

async fn fhir(ctx: &Ctx, patient: &Patient, file: PathBuf) -> Result<()> {
    let text = {
        let (mut reader, _, over) = open_limited(&file)?;
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .with_context(|| format!("reading {}", file.display()))?;
        if over.get() {
            return Err(too_large(&file));
        }
        text
    };
    let bundle: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| user_error(format!("{}: not JSON: {e}", file.display())))?;
    let imported = tonus_interop::fhir::import_bundle(&bundle, ctx.now)
        .map_err(|e| user_error(format!("{}: {e}", file.display())))?;
    ctx.store.add_records(patient, &imported.records, &[]).await?;
    super::report(
        ctx,
        &format!(
            "Imported {} records from the FHIR bundle for {:?}.",
            imported.records.len(),
            patient.handle
        ),
        &serde_json::json!({"written": imported.records.len()}),
    )
}
