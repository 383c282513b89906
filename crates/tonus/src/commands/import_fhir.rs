//! `tonus import fhir`: the Patients in the file decide where their records go (matched by
//! identifier, else by Tonus handle, else created; or chosen with --map / --patient), every
//! resource is reported imported or skipped with its reason, and --dry-run writes nothing.
//! All patients' records are written in one transaction: all or nothing. The bundle is
//! read one entry at a time (twice: Patients first), so memory holds the records, never the
//! whole JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use indicatif::ProgressBar;
use serde_json::json;
use tonus_domain::time::Zone;
use tonus_domain::{Patient, PatientIdentity};
use tonus_interop::fhir::{BundlePatient, FhirImport};
use tonus_store::{ImportOutcome, ImportTarget};

use super::import::{open_limited, too_large};
use crate::context::{system_zone, user_error, Ctx, DEFAULT_PATIENT};

pub struct Options {
    pub dry_run: bool,
    pub map: Vec<String>,
    pub tz: Option<String>,
}

/// Where one Patient of the file goes, and why there (said in the report).
struct Planned {
    target: ImportTarget,
    how: String,
}

impl Planned {
    fn handle(&self) -> &str {
        match &self.target {
            ImportTarget::Existing(p) => &p.handle,
            ImportTarget::New { handle, .. } => handle,
        }
    }
}

pub async fn run(ctx: &Ctx, file: PathBuf, options: Options) -> Result<()> {
    let (input, len) = open(&file)?;
    // The importer reads the file twice (Patients first, then the rest), so the bar spans both.
    let pb = super::export::progress(ctx, Some(2 * len).filter(|l| *l > 0), "importing FHIR");
    let mut input = Counted {
        inner: input,
        pb: pb.clone(),
    };
    let imported = tonus_interop::fhir::import_bundle_reader(&mut input, ctx.now);
    pb.finish_and_clear();
    let mut imported = imported.map_err(|e| user_error(format!("{}: {e}; nothing was written", file.display())))?;
    let plan = plan(ctx, &imported, &options).await?;
    let already = already_imported(ctx, &mut imported, &plan).await?;
    let items: Vec<(ImportTarget, &tonus_store::archive::PatientRecords)> = plan
        .iter()
        .zip(&imported.patients)
        .map(|(p, b)| (p.target.clone(), &b.records))
        .collect();
    // A dry run writes too, then rolls back: its counts are the import's, not a guess.
    let outcome = ctx.store.import_records(&items, options.dry_run).await?;
    say(ctx, &file, &imported, &plan, already, &outcome, options.dry_run)
}

/// Reports the resources whose record the target patient has already (the same uid: a Tonus
/// export imported before) as skipped, `already-imported`; the store skips them too, so
/// importing a file twice stores it once. Returns how many there were.
async fn already_imported(ctx: &Ctx, imported: &mut FhirImport, plan: &[Planned]) -> Result<usize> {
    let mut count = 0;
    for (b, p) in imported.patients.iter().zip(plan) {
        let ImportTarget::Existing(patient) = &p.target else {
            continue;
        };
        if b.uids.is_empty() {
            continue;
        }
        let known = ctx.store.record_uids(patient).await?;
        for (uid, at) in &b.uids {
            if known.contains(uid) {
                imported.report.already_imported(at, &uid.to_string());
                count += 1;
            }
        }
    }
    Ok(count)
}

/// The file ready to be read from the start as often as the importer needs. A regular file
/// is read in place; a pipe is copied to an anonymous temporary file first, and both stop at
/// the import limit before anything is parsed or written. Returns it and its length.
fn open(file: &Path) -> Result<(File, u64)> {
    let (mut reader, len, over) = open_limited(file)?;
    let regular = std::fs::metadata(file).map(|m| m.is_file()).unwrap_or(false);
    if regular {
        return Ok((reader.into_inner(), len));
    }
    let mut spool = tempfile::tempfile().context("creating a temporary file to read the pipe into")?;
    let copied = io::copy(&mut reader, &mut spool).with_context(|| format!("reading {}", file.display()))?;
    if over.get() {
        return Err(too_large(file));
    }
    spool
        .seek(SeekFrom::Start(0))
        .context("rewinding the temporary copy of the pipe")?;
    Ok((spool, copied))
}

/// Counts every byte read, over both passes, into the progress bar.
struct Counted<R> {
    inner: R,
    pb: ProgressBar,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pb.inc(n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counted<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// How a Patient of the file is named on the command line and in messages.
fn name_of(b: &BundlePatient) -> String {
    match (&b.at, b.references.first()) {
        (_, Some(r)) => r.clone(),
        (Some(at), None) => at.to_string(),
        (None, None) => "(the file's records, which name no Patient)".into(),
    }
}

fn parse_maps(maps: &[String], imported: &FhirImport) -> Result<BTreeMap<usize, String>> {
    let mut out = BTreeMap::new();
    for m in maps {
        let (reference, handle) = m
            .rsplit_once('=')
            .filter(|(r, h)| !r.trim().is_empty() && !h.trim().is_empty())
            .ok_or_else(|| {
                user_error(format!(
                    "--map {m:?}: expected PATIENT=HANDLE, e.g. --map Patient/f201=roel"
                ))
            })?;
        let reference = reference.trim();
        let i = imported
            .patients
            .iter()
            .position(|b| b.references.iter().any(|r| r == reference))
            .ok_or_else(|| {
                let known: Vec<String> = imported.patients.iter().map(name_of).collect();
                user_error(format!(
                    "--map {m:?}: no Patient of the file is {reference:?}; its Patients are: {}",
                    known.join(", ")
                ))
            })?;
        let handle =
            tonus_domain::patient::validate_handle(handle).map_err(|e| user_error(format!("--map {m:?}: {e}")))?;
        if out.insert(i, handle).is_some() {
            return Err(user_error(format!("--map names {reference:?} twice")));
        }
    }
    Ok(out)
}

/// Decides every Patient's target before anything is written, so a dry run shows exactly
/// what an import would do and an ambiguity stops the import whole.
async fn plan(ctx: &Ctx, imported: &FhirImport, options: &Options) -> Result<Vec<Planned>> {
    let maps = parse_maps(&options.map, imported)?;
    if ctx.patient_flag().is_some() && imported.patients.len() > 1 {
        let names: Vec<String> = imported.patients.iter().map(name_of).collect();
        return Err(user_error(format!(
            "the file holds {} patients ({}); --patient cannot take them all. Map each with --map PATIENT=HANDLE, or leave both out to match them by identifier",
            imported.patients.len(),
            names.join(", ")
        )));
    }
    let new_zone = match &options.tz {
        Some(tz) => Zone::parse(tz).map_err(|e| user_error(format!("--tz: {e}")))?,
        None => system_zone(),
    };
    let existing = ctx.store.list_patients().await?;
    let identities = ctx.store.patient_identities().await?;
    let mut handles: BTreeSet<String> = existing.iter().map(|p| p.handle.clone()).collect();
    let by_handle = |h: &str| existing.iter().find(|p| p.handle == h).cloned();
    let mut plan: Vec<Planned> = Vec::new();
    for (i, b) in imported.patients.iter().enumerate() {
        let zone = b.zone.clone().unwrap_or_else(|| new_zone.clone());
        let planned =
            if let Some(h) = maps.get(&i) {
                match by_handle(h) {
                    Some(p) => Planned {
                        target: ImportTarget::Existing(p),
                        how: "chosen with --map".into(),
                    },
                    None => new(h.clone(), zone, "created as --map asked", &mut handles),
                }
            } else if let Some(h) = ctx.patient_flag() {
                let p = by_handle(h).ok_or_else(|| {
                    user_error(format!(
                    "no patient named {h:?} in {}; create one with `tonus patient add {h}`, or use --map to create it",
                    ctx.store.location()
                ))
                })?;
                Planned {
                    target: ImportTarget::Existing(p),
                    how: "chosen with --patient".into(),
                }
            } else if b.at.is_none() {
                // No Patient in the file: the command's patient, as for a CSV import.
                match existing.as_slice() {
                    [] => new(
                        DEFAULT_PATIENT.into(),
                        zone,
                        "created (the file names no patient)",
                        &mut handles,
                    ),
                    [one] => Planned {
                        target: ImportTarget::Existing(one.clone()),
                        how: "the only patient (the file names none)".into(),
                    },
                    _ => {
                        return Err(user_error(format!(
                        "the file names no patient and this database has several ({}); choose one with --patient NAME",
                        existing.iter().map(|p| p.handle.as_str()).collect::<Vec<_>>().join(", ")
                    )))
                    }
                }
            } else {
                matched(b, &identities, &by_handle)?.unwrap_or_else(|| {
                    new(
                        new_handle(b, &handles),
                        zone,
                        "created: no patient here has its identifiers",
                        &mut handles,
                    )
                })
            };
        if let ImportTarget::Existing(p) = &planned.target {
            if let Some(prev) = plan
                .iter()
                .position(|q| matches!(&q.target, ImportTarget::Existing(o) if o.id == p.id))
            {
                return Err(user_error(format!(
                    "{} and {} of the file both go to patient {:?}; a file's patients must stay apart. Choose with --map",
                    name_of(&imported.patients[prev]),
                    name_of(b),
                    p.handle
                )));
            }
        }
        plan.push(planned);
    }
    Ok(plan)
}

fn new(handle: String, zone: Zone, how: &str, handles: &mut BTreeSet<String>) -> Planned {
    handles.insert(handle.clone());
    Planned {
        target: ImportTarget::New { handle, zone },
        how: how.into(),
    }
}

/// The stored patient a Patient of the file is: one sharing an identifier (system and
/// value), else the one with its Tonus handle unless their identifiers disagree.
fn matched(
    b: &BundlePatient,
    identities: &[(Patient, PatientIdentity)],
    by_handle: &dyn Fn(&str) -> Option<Patient>,
) -> Result<Option<Planned>> {
    let ids = b.identity().map_or(&[][..], |i| i.identifiers.as_slice());
    let mut hits: Vec<(&Patient, String)> = Vec::new();
    for (p, identity) in identities {
        if let Some(x) = identity.identifiers.iter().find(|x| ids.contains(x)) {
            hits.push((p, format!("{}|{}", x.system, x.value)));
        }
    }
    match hits.as_slice() {
        [(p, id)] => {
            return Ok(Some(Planned {
                target: ImportTarget::Existing((*p).clone()),
                how: format!("matched by identifier {id}"),
            }))
        }
        [] => {}
        many => {
            let names: Vec<&str> = many.iter().map(|(p, _)| p.handle.as_str()).collect();
            return Err(user_error(format!(
                "{}: its identifiers match several patients ({}); choose one with --map",
                name_of(b),
                names.join(", ")
            )));
        }
    }
    let Some(p) = b.handle.as_deref().and_then(by_handle) else {
        return Ok(None);
    };
    let stored = identities.iter().find(|(q, _)| q.id == p.id).map(|(_, i)| i);
    let disagree = stored.and_then(|s| {
        s.identifiers
            .iter()
            .find(|x| ids.iter().any(|y| y.system == x.system && y.value != x.value))
    });
    if let Some(x) = disagree {
        return Err(user_error(format!(
            "{}: it carries the Tonus handle {:?}, but patient {:?} here has another {} identifier ({}); it is someone else. Choose with --map",
            name_of(b),
            p.handle,
            p.handle,
            x.system,
            x.value
        )));
    }
    Ok(Some(Planned {
        how: "matched by its Tonus handle".into(),
        target: ImportTarget::Existing(p),
    }))
}

/// A free handle for a new patient: the file's Tonus handle, else one from the name, else
/// "patient"; a number is added when taken.
fn new_handle(b: &BundlePatient, taken: &BTreeSet<String>) -> String {
    let from_name = b.identity().and_then(|i| i.name.as_deref()).map(|n| {
        let mut h = String::new();
        for c in n.to_lowercase().chars() {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                h.push(c);
            } else if !h.ends_with('-') && !h.is_empty() {
                h.push('-');
            }
        }
        h.trim_end_matches('-').chars().take(40).collect::<String>()
    });
    let base = b
        .handle
        .clone()
        .or(from_name)
        .filter(|h| tonus_domain::patient::validate_handle(h).is_ok())
        .unwrap_or_else(|| "patient".into());
    if !taken.contains(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|h| !taken.contains(h))
        .unwrap_or(base)
}

fn say(
    ctx: &Ctx,
    file: &Path,
    imported: &FhirImport,
    plan: &[Planned],
    already: usize,
    outcome: &ImportOutcome,
    dry_run: bool,
) -> Result<()> {
    let report = &imported.report;
    let records = outcome.written;
    let verb = if dry_run { "Would import" } else { "Imported" };
    let mut text = String::new();
    if dry_run {
        text.push_str("Dry run: nothing was written.\n");
    }
    text.push_str(&format!(
        "{verb} {records} records from {} ({} resources imported, {} skipped):\n",
        file.display(),
        report.imported_total(),
        report.skipped_total()
    ));
    if outcome.unchanged > 0 {
        text.push_str(&format!(
            "  {} records were there already (the same record, treatment or regimen) and stay as they were.\n",
            outcome.unchanged
        ));
    }
    let mut patients = Vec::new();
    for (b, p) in imported.patients.iter().zip(plan) {
        let (zone, new) = match &p.target {
            ImportTarget::Existing(q) => (q.zone.clone(), false),
            ImportTarget::New { zone, .. } => (zone.clone(), true),
        };
        text.push_str(&format!(
            "  {} → patient {:?} ({}{}): {} records\n",
            name_of(b),
            p.handle(),
            p.how,
            if new {
                format!(", time zone {zone}")
            } else {
                String::new()
            },
            b.records.len()
        ));
        patients.push(json!({
            "from": name_of(b), "handle": p.handle(), "new": new, "how": p.how,
            "time_zone": zone.name(), "records": b.records.len(),
        }));
    }
    text.push_str("By resource type:\n");
    for (t, c) in &report.counts {
        text.push_str(&format!("  {t}: {} imported, {} skipped\n", c.imported, c.skipped));
    }
    // Grouped so a large bundle stays readable; --json lists every resource.
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for s in &report.skipped {
        groups
            .entry((s.at.resource_type.clone(), s.message.clone()))
            .or_default()
            .push(format!("entry[{}]", s.at.entry));
    }
    if !groups.is_empty() {
        text.push_str("Skipped:\n");
        for ((t, message), at) in &groups {
            let shown: Vec<&str> = at.iter().take(5).map(String::as_str).collect();
            let more = if at.len() > 5 {
                format!(" and {} more", at.len() - 5)
            } else {
                String::new()
            };
            text.push_str(&format!(
                "  {t} ×{} ({}{more}): {message}\n",
                at.len(),
                shown.join(", ")
            ));
        }
    }
    if !report.notes.is_empty() {
        text.push_str("Notes:\n");
        for n in &report.notes {
            text.push_str(&format!("  {}: {}\n", n.at, n.message));
        }
    }
    super::report(
        ctx,
        text.trim_end(),
        &json!({
            "dry_run": dry_run, "written": if dry_run { 0 } else { records }, "records": records,
            "already_imported": already, "unchanged": outcome.unchanged,
            "patients": patients, "counts": report.counts, "skipped": report.skipped, "notes": report.notes,
        }),
    )
}
