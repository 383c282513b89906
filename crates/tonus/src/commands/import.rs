//! `tonus import`: CSV files and FHIR bundles. Every row is checked by the domain rules
//! first; then either nothing is written (any bad row) or, with --skip-invalid, every good
//! row is written in one transaction and the bad ones are listed.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use tonus_domain::Patient;
use tonus_interop::csv::{Import, Kind};
use tonus_store::archive::{DoseRef, PatientRecords};

use crate::cli::ImportCommand;
use crate::context::{user_error, Ctx};

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
        let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let len = file.metadata().map(|m| m.len()).ok();
        let pb = super::export::progress(ctx, len, &format!("reading {}", path.display()));
        let parsed = tonus_interop::csv::read(BufReader::new(pb.wrap_read(file)), &patient.zone, ctx.now)
            .map_err(|e| user_error(format!("{}: {e}", path.display())))?;
        pb.finish_and_clear();
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
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
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
