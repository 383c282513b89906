//! `tonus export`: CSV, FHIR R4, iCalendar and the patient's JSON archive. The conversions
//! live in tonus-interop; this module reads the records and writes files.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tonus_domain::Patient;
use tonus_interop::archive::Archive;
use tonus_interop::csv::{Kind, Style};
use tonus_interop::fhir::{write_bundle, BundleKind};
use tonus_store::archive::PatientSnapshot;

use crate::cli::{BundleType, CsvWhat, ExportCommand, ExportCsvArgs, ExportIcalArgs};
use crate::context::{user_error, Ctx};

/// A progress bar on standard error, drawn only on a terminal (never into a log or a pipe)
/// and not with --quiet. `len` in bytes when known, else a spinner.
pub(super) fn progress(ctx: &Ctx, len: Option<u64>, message: &str) -> ProgressBar {
    let pb = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    if ctx.quiet || !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
        return pb;
    }
    let template = if len.is_some() {
        "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})"
    } else {
        "{spinner} {msg} {bytes} ({bytes_per_sec})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(message.to_string());
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

/// Standard output, or a buffered file created (or truncated) at `out`.
fn sink(out: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match out {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}

pub(super) fn kind_of(w: CsvWhat) -> Kind {
    match w {
        CsvWhat::Treatments => Kind::Treatments,
        CsvWhat::Episodes => Kind::Episodes,
        CsvWhat::Checkins => Kind::Checkins,
        CsvWhat::Doses => Kind::Doses,
        CsvWhat::Exercise => Kind::Exercise,
        CsvWhat::Events => Kind::Events,
        CsvWhat::SideEffects => Kind::SideEffects,
    }
}

pub async fn run(ctx: &Ctx, cmd: ExportCommand) -> Result<()> {
    let patient = ctx.patient().await?;
    match cmd {
        ExportCommand::Csv(a) => csv(ctx, &patient, a).await,
        ExportCommand::Fhir { out, bundle } => fhir(ctx, &patient, out.as_deref(), bundle).await,
        ExportCommand::Ical(a) => ical(ctx, &patient, a).await,
        ExportCommand::Archive { out } => archive(ctx, &patient, out.as_deref()).await,
    }
}

async fn csv(ctx: &Ctx, patient: &Patient, a: ExportCsvArgs) -> Result<()> {
    let records = ctx.store.patient_records(patient).await?;
    let pb = progress(ctx, None, "exporting CSV");
    let style = if a.excel { Style::Excel } else { Style::Plain };
    let written = match (a.what, a.out_dir) {
        (Some(what), None) => {
            let kind = kind_of(what);
            let out = pb.wrap_write(sink(a.out.as_deref())?);
            vec![(kind, tonus_interop::csv::write_styled(kind, out, &records, style)?)]
        }
        (what, dir) => {
            let dir = dir.ok_or_else(|| user_error("give --out-dir DIR for all types, or --what TYPE"))?;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let kinds: Vec<Kind> = match what {
                Some(w) => vec![kind_of(w)],
                None => Kind::ALL.to_vec(),
            };
            let mut written = Vec::new();
            for kind in kinds {
                let path = dir.join(kind.file_name());
                let file = File::create_new(&path).map_err(|e| {
                    user_error(format!(
                        "cannot create {} ({e}); export into an empty folder",
                        path.display()
                    ))
                })?;
                let out = pb.wrap_write(BufWriter::new(file));
                written.push((kind, tonus_interop::csv::write_styled(kind, out, &records, style)?));
            }
            written
        }
    };
    pb.finish_and_clear();
    if !ctx.quiet {
        for (kind, rows) in &written {
            eprintln!("{:<12} {rows} rows", kind.code());
        }
    }
    if ctx.json {
        let map: serde_json::Map<String, serde_json::Value> = written
            .iter()
            .map(|(k, n)| (k.code().to_string(), (*n).into()))
            .collect();
        crate::output::print_json(&map)?;
    }
    Ok(())
}

async fn fhir(ctx: &Ctx, patient: &Patient, out: Option<&Path>, kind: BundleType) -> Result<()> {
    let records = ctx.store.patient_records(patient).await?;
    let kind = match kind {
        BundleType::Transaction => BundleKind::Transaction,
        BundleType::Collection => BundleKind::Collection,
        BundleType::Document => BundleKind::Document,
    };
    // Written entry by entry (ten years in bounded memory).
    let write = |w: &mut dyn Write| {
        write_bundle(w, &patient.handle, &patient.zone, &records, ctx.now, kind).context("writing the FHIR bundle")
    };
    let n = match out {
        Some(p) => super::backup::write_whole(p, write)?,
        None => {
            let mut w = sink(None)?;
            let n = write(&mut w)?;
            w.flush().context("writing the FHIR bundle")?;
            n
        }
    };
    if !ctx.quiet && out.is_some() {
        let kind = match kind {
            BundleKind::Transaction => "transaction",
            BundleKind::Collection => "collection",
            BundleKind::Document => "document (International Patient Summary)",
        };
        eprintln!("Wrote a FHIR R4 {kind} Bundle with {n} resources.");
    }
    Ok(())
}

async fn ical(ctx: &Ctx, patient: &Patient, a: ExportIcalArgs) -> Result<()> {
    let records = ctx.store.patient_records(patient).await?;
    let checkin_at = if a.no_checkin {
        None
    } else {
        Some(a.checkin_at.parse::<jiff::civil::Time>().map_err(|_| {
            user_error(format!(
                "--checkin-at must be a time like 20:00, got {:?}",
                a.checkin_at
            ))
        })?)
    };
    // Stored trials' period changes, then any extra dated milestones given on the line.
    let mut changes = tonus_report::trial_calendar::period_changes(&ctx.store.list_trials(patient).await?);
    for item in &a.period_change {
        let (date, label) = item
            .split_once('=')
            .ok_or_else(|| user_error(format!("--period-change must be DATE=LABEL, got {item:?}")))?;
        let date = tonus_domain::input::parse_date("period-change", date, &patient.zone, ctx.now)?;
        changes.push((date, label.trim().to_string()));
    }
    let input = tonus_interop::ical::CalendarInput {
        patient: &patient.handle,
        zone: &patient.zone,
        treatments: &records.treatments,
        checkin_at,
        period_changes: &changes,
        today: tonus_domain::time::today(&patient.zone, ctx.now),
        stamp: ctx.now,
    };
    let text = tonus_interop::ical::calendar(&input);
    std::fs::write(&a.out, text).with_context(|| format!("writing {}", a.out.display()))?;
    super::report(
        ctx,
        &format!(
            "Wrote reminders to {} (import it into your calendar app).",
            a.out.display()
        ),
        &serde_json::json!({"out": a.out}),
    )
}

async fn archive(ctx: &Ctx, patient: &Patient, out: Option<&Path>) -> Result<()> {
    let snapshots: Vec<PatientSnapshot> = ctx.store.snapshot(Some(patient)).await?;
    let archive = Archive::new(snapshots, ctx.now);
    let text = archive.to_json()?;
    match out {
        Some(p) => super::backup::write_new(p, text.as_bytes())?,
        None => {
            let mut w = sink(None)?;
            w.write_all(text.as_bytes())
                .and_then(|()| w.write_all(b"\n"))
                .and_then(|()| w.flush())
                .context("writing the archive")?;
        }
    }
    if !ctx.quiet && out.is_some() {
        let n: usize = archive.patients.iter().map(|p| p.records.len()).sum();
        eprintln!("Wrote {n} records of {:?} to the archive.", patient.handle);
    }
    Ok(())
}
