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
            sqlite_backup(ctx, &a.out).await?;
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
/// another one by accident. The bytes go to a temporary file beside `path` first, so a crash
/// half-way never leaves a truncated file under the name asked for.
pub(super) fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    refuse_existing(path)?;
    let mut tmp = partial_beside(path)?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist_noclobber(path).map_err(|e| published_err(path, e.error))?;
    sync_dir(path)
}

/// Writes `out` whole or not at all, replacing a file of that name (an export, a report):
/// through a temporary file beside it, flushed and renamed onto `out` only once `write`
/// succeeded, so an interrupted run never leaves a truncated file under the name asked for.
pub(super) fn write_whole<T>(out: &Path, write: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<T> {
    let mut w = std::io::BufWriter::new(partial_beside(out)?);
    let value = write(&mut w)?;
    let tmp = w
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|tmp| tmp.as_file().sync_all().map(|()| tmp))
        .with_context(|| format!("writing {}", out.display()))?;
    tmp.persist(out)
        .map_err(|e| e.error)
        .with_context(|| format!("moving the finished file to {}", out.display()))?;
    sync_dir(out)?;
    Ok(value)
}

/// A temporary file beside `path`, removed unless persisted; named `.tonus-partial-*` so
/// whatever a killed process leaves is never taken for a finished file.
fn partial_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".tonus-partial-")
        .tempfile_in(parent_dir(path))
        .with_context(|| format!("creating a temporary file beside {}", path.display()))
}

/// `VACUUM INTO` a file in a temporary folder beside `out`, flushed to disk, then linked to
/// `out`. A killed backup leaves a `.tonus-partial-*` folder, never a torn `out` that looks
/// like an SQLite database (VACUUM INTO writes the header first and the rest after).
async fn sqlite_backup(ctx: &Ctx, out: &Path) -> Result<()> {
    refuse_existing(out)?;
    let tmp = tempfile::Builder::new()
        .prefix(".tonus-partial-")
        .tempdir_in(parent_dir(out))
        .with_context(|| format!("creating a temporary folder beside {}", out.display()))?;
    let file = tmp.path().join("backup.db");
    ctx.store.backup_sqlite_into(&file).await?;
    File::open(&file)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("flushing {}", file.display()))?;
    // A hard link publishes the finished file atomically and fails if `out` exists.
    std::fs::hard_link(&file, out).map_err(|e| published_err(out, e))?;
    sync_dir(out)
}

fn refuse_existing(path: &Path) -> Result<()> {
    if path.exists() {
        return Err(user_error(format!(
            "{} exists already; choose a new file name",
            path.display()
        )));
    }
    Ok(())
}

fn published_err(path: &Path, e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::AlreadyExists {
        user_error(format!("{} exists already; choose a new file name", path.display()))
    } else {
        anyhow::Error::new(e).context(format!("creating {}", path.display()))
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes the new directory entry itself durable, not only the file's bytes.
fn sync_dir(path: &Path) -> Result<()> {
    File::open(parent_dir(path))
        .and_then(|d| d.sync_all())
        .with_context(|| format!("flushing the folder of {}", path.display()))
}

pub async fn restore(ctx: &Ctx, a: RestoreArgs, only: Option<&str>) -> Result<()> {
    let mut head = [0u8; 16];
    let n = File::open(&a.from)
        .and_then(|mut f| f.read(&mut head))
        .with_context(|| format!("reading {}", a.from.display()))?;
    let (mut snapshots, left_out) = if n == 16 && &head == SQLITE_MAGIC {
        from_sqlite(&a.from, only).await?
    } else {
        let text = std::fs::read_to_string(&a.from).with_context(|| format!("reading {}", a.from.display()))?;
        let patients = Archive::from_json(&text, ctx.now)
            .map_err(|e| user_error(format!("{}: {e}", a.from.display())))?
            .patients;
        (patients, Vec::new())
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
    let left_out_text = left_out
        .iter()
        .map(|(what, n)| format!("{what} ({n})"))
        .collect::<Vec<_>>()
        .join(", ");
    // Restoring records into a database that has its own accounts cannot carry sign-ins,
    // consents or the audit chain across; doing it silently would look like a full restore.
    if !left_out.is_empty() && !a.records_only {
        return Err(user_error(format!(
            "{} also holds {left_out_text}, which `restore` does not copy (only patients and their records). \
             Nothing was restored. To restore the records anyway, add --records-only; to get the whole \
             database back, stop the server and put a copy of the backup file in place of the database \
             (docs/backup.md, \"Restoring everything\").",
            a.from.display()
        )));
    }
    let restored = ctx.store.restore(&snapshots, a.replace).await?;
    let records: usize = snapshots.iter().map(|s| s.records.len()).sum();
    let names: Vec<&str> = restored.iter().map(|p| p.handle.as_str()).collect();
    let not_restored = if left_out.is_empty() {
        String::new()
    } else {
        format!(" Not restored: {left_out_text}.")
    };
    super::report(
        ctx,
        &format!(
            "Restored {} patient(s) ({}), {records} records (episodes, check-ins, treatments, regimens, doses, exercise, clinical events), from {}.{not_restored}",
            restored.len(),
            names.join(", "),
            a.from.display()
        ),
        &serde_json::json!({
            "patients": restored,
            "records": records,
            "not_restored": left_out.iter().map(|(what, n)| serde_json::json!({"what": what, "count": n})).collect::<Vec<_>>(),
        }),
    )
}

/// Reads every patient from an SQLite backup, and counts what the backup holds beyond
/// patients' records (for `only`, what belongs to that patient). Opening a database runs
/// migrations and sets WAL mode, which would change the backup file itself, so we open a
/// private copy.
async fn from_sqlite(path: &Path, only: Option<&str>) -> Result<(Vec<PatientSnapshot>, Vec<(&'static str, i64)>)> {
    let dir = tempfile::tempdir().context("creating a temporary folder")?;
    let copy = dir.path().join("restore.db");
    std::fs::copy(path, &copy).with_context(|| format!("copying {}", path.display()))?;
    check_sqlite_backup(path, &copy).await?;
    let store = Store::open_sqlite(&copy)
        .await
        .with_context(|| format!("opening the backup {}", path.display()))?;
    let snapshots = store.snapshot(None).await;
    store.close().await;
    let left_out = not_restored(&copy, only)
        .await
        .with_context(|| format!("reading the backup {}", path.display()))?;
    Ok((snapshots?, left_out))
}

/// What a restore leaves behind, as (what, how many), only the kinds present. `?1` is the
/// patient a restore is limited to, or NULL for all.
async fn not_restored(copy: &Path, only: Option<&str>) -> Result<Vec<(&'static str, i64)>, sqlx::Error> {
    const OF_PATIENT: &str = "(?1 IS NULL OR patient_id IN (SELECT id FROM patients WHERE handle = ?1))";
    let queries = [
        ("personal trials", format!("SELECT COUNT(*) FROM trials WHERE {OF_PATIENT}")),
        (
            "web accounts",
            format!("SELECT COUNT(*) FROM users WHERE (?1 IS NULL AND patient_id IS NULL) OR {OF_PATIENT} AND patient_id IS NOT NULL"),
        ),
        ("clinician consents", format!("SELECT COUNT(*) FROM consents WHERE {OF_PATIENT}")),
        ("calendar feeds", format!("SELECT COUNT(*) FROM calendar_feeds WHERE {OF_PATIENT}")),
        (
            "API tokens",
            format!("SELECT COUNT(*) FROM api_tokens WHERE user_id IN (SELECT id FROM users WHERE {OF_PATIENT} OR ?1 IS NULL)"),
        ),
        ("audit log entries", format!("SELECT COUNT(*) FROM audit_log WHERE {OF_PATIENT}")),
    ];
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(copy))
        .await?;
    let mut out = Vec::new();
    for (what, sql) in &queries {
        let n: i64 = sqlx::query_scalar(sql).bind(only).fetch_one(&pool).await?;
        if n > 0 {
            out.push((*what, n));
        }
    }
    pool.close().await;
    Ok(out)
}

/// Refuses a file that is not a whole Tonus database before anything migrates it: a backup
/// cut short (by an older Tonus, or a copy interrupted elsewhere) can carry a valid SQLite
/// header over an empty or torn body, and migrating that would "restore" nothing, silently.
async fn check_sqlite_backup(path: &Path, copy: &Path) -> Result<()> {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(copy);
    let checked: Result<(String, i64), sqlx::Error> = async {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await?;
        let tables: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('_sqlx_migrations', 'patients')",
        )
        .fetch_one(&pool)
        .await?;
        pool.close().await;
        Ok((integrity, tables))
    }
    .await;
    let incomplete = |why: String| {
        user_error(format!(
            "{} is not a complete Tonus backup ({why}); it may come from an interrupted backup. Nothing was restored.",
            path.display()
        ))
    };
    match checked {
        Err(e) => Err(incomplete(format!("it cannot be read: {e}"))),
        Ok((integrity, _)) if integrity != "ok" => Err(incomplete(format!("integrity check: {integrity}"))),
        Ok((_, tables)) if tables != 2 => Err(incomplete("it holds no Tonus tables".into())),
        Ok(_) => Ok(()),
    }
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
