//! `tonus backup`, `tonus restore` and `tonus patient delete`: whole-database and
//! whole-patient copies, and the patient's right to leave with nothing left behind.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context as _, Result};
use tonus_interop::archive::Archive;
use tonus_store::archive::PatientSnapshot;
use tonus_store::Store;

use crate::cli::{BackupArgs, BackupFormat, RestoreArgs};
use crate::context::{user_error, Ctx};
use crate::prompt::{confirm, interactive};

/// The first 16 bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

pub async fn backup(ctx: &Ctx, a: BackupArgs, only: Option<&str>) -> Result<()> {
    let format = match a.format {
        BackupFormat::Auto if ctx.store.backend_name() == "sqlite" && only.is_none() => BackupFormat::Sqlite,
        BackupFormat::Auto => BackupFormat::Archive,
        f => f,
    };
    match format {
        BackupFormat::Sqlite => {
            if only.is_some() {
                return Err(user_error(
                    "an SQLite backup copies the whole database; back up one patient with --format archive",
                ));
            }
            ctx.store.backup_sqlite_into(&a.out).await?;
            let size = std::fs::metadata(&a.out).map(|m| m.len()).unwrap_or(0);
            super::report(
                ctx,
                &format!(
                    "Backed up {} to {} (SQLite, {size} bytes, made with VACUUM INTO).",
                    ctx.store.location(),
                    a.out.display()
                ),
                &serde_json::json!({"format": "sqlite", "out": a.out, "bytes": size}),
            )
        }
        _ => {
            let patient = match only {
                Some(_) => Some(ctx.patient().await?),
                None => None,
            };
            let snapshots = ctx.store.snapshot(patient.as_ref()).await?;
            let archive = Archive::new(snapshots, ctx.now);
            write_new(&a.out, archive.to_json()?.as_bytes())?;
            let records: usize = archive.patients.iter().map(|p| p.records.len()).sum();
            super::report(
                ctx,
                &format!(
                    "Backed up {} patient(s), {records} records, to {} (Tonus archive v{}).",
                    archive.patients.len(),
                    a.out.display(),
                    archive.version
                ),
                &serde_json::json!({"format": "archive", "out": a.out, "patients": archive.patients.len(), "records": records}),
            )
        }
    }
}

/// Creates `path` and writes `bytes`, refusing to overwrite: a backup must never replace
/// another one by accident.
pub(super) fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create_new(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            user_error(format!("{} exists already; choose a new file name", path.display()))
        } else {
            anyhow::Error::new(e).context(format!("creating {}", path.display()))
        }
    })?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

pub async fn restore(ctx: &Ctx, a: RestoreArgs, only: Option<&str>) -> Result<()> {
    let mut head = [0u8; 16];
    let n = File::open(&a.from)
        .and_then(|mut f| f.read(&mut head))
        .with_context(|| format!("reading {}", a.from.display()))?;
    let mut snapshots = if n == 16 && &head == SQLITE_MAGIC {
        from_sqlite(&a.from).await?
    } else {
        let text = std::fs::read_to_string(&a.from).with_context(|| format!("reading {}", a.from.display()))?;
        Archive::from_json(&text, ctx.now)
            .map_err(|e| user_error(format!("{}: {e}", a.from.display())))?
            .patients
    };
    if let Some(handle) = only {
        snapshots.retain(|s| s.handle == handle);
        if snapshots.is_empty() {
            return Err(user_error(format!(
                "{} holds no patient named {handle:?}",
                a.from.display()
            )));
        }
    }
    let restored = ctx.store.restore(&snapshots, a.replace).await?;
    let records: usize = snapshots.iter().map(|s| s.records.len()).sum();
    let names: Vec<&str> = restored.iter().map(|p| p.handle.as_str()).collect();
    super::report(
        ctx,
        &format!(
            "Restored {} patient(s) ({}), {records} records, from {}.",
            restored.len(),
            names.join(", "),
            a.from.display()
        ),
        &serde_json::json!({"patients": restored, "records": records}),
    )
}

/// Reads every patient from an SQLite backup. Opening a database runs migrations and sets
/// WAL mode, which would change the backup file itself, so we open a private copy.
async fn from_sqlite(path: &Path) -> Result<Vec<PatientSnapshot>> {
    let dir = tempfile::tempdir().context("creating a temporary folder")?;
    let copy = dir.path().join("restore.db");
    std::fs::copy(path, &copy).with_context(|| format!("copying {}", path.display()))?;
    let store = Store::open_sqlite(&copy)
        .await
        .with_context(|| format!("opening the backup {}", path.display()))?;
    let snapshots = store.snapshot(None).await;
    store.close().await;
    Ok(snapshots?)
}

pub async fn delete_patient(ctx: &Ctx, name: &str, yes: bool) -> Result<()> {
    let patient = ctx
        .store
        .patient_by_handle(name)
        .await?
        .ok_or_else(|| user_error(format!("no patient named {name:?} in {}", ctx.store.location())))?;
    let records = ctx.store.patient_records(&patient).await?.len();
    if !yes {
        if !interactive() {
            return Err(user_error(format!(
                "deleting {name:?} removes their {records} records for good; pass --yes to confirm (export an archive first with `tonus --patient {name} export archive --out FILE`)"
            )));
        }
        if !confirm(
            &format!("Delete patient {name:?} and all {records} of their records?"),
            false,
        )? {
            println!("Nothing deleted.");
            return Ok(());
        }
    }
    ctx.store.delete_patient(&patient).await?;
    super::report(
        ctx,
        &format!("Deleted patient {name:?} and their {records} records."),
        &serde_json::json!({"deleted": patient, "records": records}),
    )
}
