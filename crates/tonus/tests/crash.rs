//! Crash safety: the real `tonus` processes (server, `log`, `import`, `backup`) are killed
//! with SIGKILL at random moments; after each kill the database must pass its integrity
//! check and hold every acknowledged write exactly once, and nothing half-done.
//!
//! The kill times come from a seeded RNG: the seed is printed, and `TONUS_CRASH_SEED=N`
//! replays a run. The figures (kills, writes verified, integrity checks) are printed on
//! stderr: `cargo test -p tonus --test crash -- --nocapture`.
//!
//! What this covers is a crash of the Tonus process (the operating system survives), which is
//! what a killed container, an OOM kill or a panic-abort looks like. Power loss is left to
//! SQLite's own guarantees under `synchronous=FULL` (see RELIABILITY.md).

mod common;

use common::{bin, http, run_ok, web_token, PASSWORD};

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn rng(test: &str) -> ChaCha8Rng {
    let seed = std::env::var("TONUS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| jiff::Timestamp::now().as_nanosecond() as u64);
    eprintln!("[crash:{test}] seed {seed} (replay with TONUS_CRASH_SEED={seed})");
    ChaCha8Rng::seed_from_u64(seed)
}

/// Sends SIGKILL unless the process has ended already; true when the kill hit a live process.
fn kill(child: &mut Child) -> (bool, ExitStatus) {
    let alive = matches!(child.try_wait(), Ok(None));
    if alive {
        child.kill().unwrap();
    }
    (alive, child.wait().unwrap())
}

// ----- the database, read behind the application's back -----

enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Target {
    fn url(&self) -> String {
        match self {
            Target::Sqlite(p) => p.display().to_string(),
            Target::Postgres(u) => u.clone(),
        }
    }

    /// `PRAGMA integrity_check` on SQLite (run first, before anything else opens the file).
    /// PostgreSQL itself is not killed here, only the Tonus process, so there is nothing to
    /// check there beyond the rows themselves.
    async fn integrity(&self) -> Option<String> {
        match self {
            Target::Sqlite(p) => {
                let pool = sqlite_pool(p).await;
                let (r,): (String,) = sqlx::query_as("PRAGMA integrity_check").fetch_one(&pool).await.unwrap();
                let fk: Vec<(String, i64, String, i64)> = sqlx::query_as("PRAGMA foreign_key_check")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                assert!(fk.is_empty(), "foreign key violations after a crash: {fk:?}");
                Some(r)
            }
            Target::Postgres(_) => None,
        }
    }

    /// How many times each note starting with `prefix` is stored.
    async fn note_counts(&self, prefix: &str) -> BTreeMap<String, i64> {
        let sql = "SELECT notes, COUNT(*) FROM episodes WHERE notes LIKE $1 GROUP BY notes";
        let like = format!("{prefix}%");
        let rows: Vec<(String, i64)> = match self {
            Target::Sqlite(p) => {
                let pool = sqlite_pool(p).await;
                let r = sqlx::query_as(sql).bind(like).fetch_all(&pool).await.unwrap();
                pool.close().await;
                r
            }
            Target::Postgres(u) => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(u)
                    .await
                    .unwrap();
                let r = sqlx::query_as(sql).bind(like).fetch_all(&pool).await.unwrap();
                pool.close().await;
                r
            }
        };
        rows.into_iter().collect()
    }
}

async fn sqlite_pool(path: &Path) -> sqlx::SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(Duration::from_secs(10));
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap()
}

/// Every acknowledged note is stored exactly once; nothing is stored twice; nothing is
/// stored that was never sent. Returns how many acknowledged writes were checked.
fn verify_notes(counts: &BTreeMap<String, i64>, acked: &BTreeSet<String>, sent: &BTreeSet<String>, when: &str) -> u64 {
    for note in acked {
        match counts.get(note) {
            Some(1) => {}
            Some(n) => panic!("{when}: acknowledged write {note} is stored {n} times"),
            None => panic!("{when}: acknowledged write {note} is lost"),
        }
    }
    for (note, n) in counts {
        assert_eq!(*n, 1, "{when}: {note} is stored {n} times");
        assert!(sent.contains(note), "{when}: {note} is stored but was never sent");
    }
    acked.len() as u64
}

#[derive(Default)]
struct Figures {
    kills: u64,
    kill_attempts: u64,
    verified: u64,
    acked: u64,
    integrity: u64,
}

impl Figures {
    fn print(&self, test: &str, extra: &str) {
        eprintln!(
            "[crash:{test}] {} SIGKILLs of a running process ({} attempted), {} acknowledged writes, {} acknowledged-write checks passed, {} integrity checks ok{extra}",
            self.kills, self.kill_attempts, self.acked, self.verified, self.integrity
        );
    }

    async fn integrity(&mut self, target: &Target, when: &str) {
        if let Some(r) = target.integrity().await {
            assert_eq!(r, "ok", "{when}: integrity check failed");
            self.integrity += 1;
        }
    }
}

// ----- the server -----

/// Starts `tonus serve` on a free loopback port; returns the process and, unless
/// `wait_ready` is false, its base URL once it listens.
fn spawn_server(db: &str, wait_ready: bool) -> (Child, Option<String>) {
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TONUS_DATABASE_URL", db)
        // The writers share one token; its allowance (tested in limits.rs) is not what
        // this harness is about, and a faster machine would reach it within one lifetime.
        .env("TONUS_API_REQUESTS_PER_MINUTE", "1000000")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    if !wait_ready {
        return (child, None);
    }
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .strip_prefix("Tonus listening on http://")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, Some(format!("http://{addr}")))
}

/// A patient account made with the CLI, then an API token made through the JSON API with
/// the patient's web session.
async fn patient_token(db: &str) -> String {
    run_ok(
        db,
        &[
            "user",
            "add",
            "--role",
            "patient",
            "anne",
            "--password-stdin",
            "--time-zone",
            "Europe/Paris",
        ],
        &format!("{PASSWORD}\n"),
    );
    let (mut child, base) = spawn_server(db, true);
    let token = web_token(&base.unwrap(), "anne", "crash test").await;
    child.kill().unwrap();
    child.wait().unwrap();
    token
}

#[derive(Default)]
struct Ledger {
    sent: BTreeSet<String>,
    acked: BTreeSet<String>,
}

/// Writes episodes with unique notes until the server stops answering.
async fn writer(base: String, token: String, prefix: String, ledger: Arc<Mutex<Ledger>>) {
    let c = http();
    for n in 0.. {
        let note = format!("{prefix}-{n}");
        ledger.lock().unwrap().sent.insert(note.clone());
        let r = c
            .post(format!("{base}/api/episodes"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"kind": "twitch", "pain": n % 11, "notes": note}))
            .send()
            .await;
        match r {
            Ok(r) if r.status() == 201 => {
                // Acknowledged only once the whole response has arrived.
                let body: Result<serde_json::Value, _> = r.json().await;
                if body.is_ok_and(|b| b["notes"] == note.as_str()) {
                    ledger.lock().unwrap().acked.insert(note);
                } else {
                    return;
                }
            }
            Ok(r) => panic!("{note}: unexpected status {}", r.status()),
            Err(_) => return,
        }
    }
}

async fn server_crashes(test: &str, target: Target, cycles: u32, prefix: &str) -> Figures {
    let mut rng = rng(test);
    let db = target.url();
    let token = patient_token(&db).await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut f = Figures::default();
    let started = Instant::now();
    for cycle in 0..cycles {
        // One cycle in eight kills the server while it starts (opening, migrating).
        if cycle % 8 == 7 {
            let (mut child, _) = spawn_server(&db, false);
            tokio::time::sleep(Duration::from_millis(rng.gen_range(0..60))).await;
            let (alive, _) = kill(&mut child);
            f.kill_attempts += 1;
            f.kills += u64::from(alive);
        } else {
            let (mut child, base) = spawn_server(&db, true);
            let base = base.unwrap();
            let writers: Vec<_> = (0..4)
                .map(|w| {
                    tokio::spawn(writer(
                        base.clone(),
                        token.clone(),
                        format!("{prefix}-{cycle}-{w}"),
                        ledger.clone(),
                    ))
                })
                .collect();
            tokio::time::sleep(Duration::from_millis(rng.gen_range(5..250))).await;
            let (alive, status) = kill(&mut child);
            assert!(alive, "the server ended on its own: {status}");
            f.kill_attempts += 1;
            f.kills += 1;
            for w in writers {
                w.await.unwrap();
            }
        }
        let when = format!("after kill {cycle}");
        f.integrity(&target, &when).await;
        let counts = target.note_counts(prefix).await;
        let l = ledger.lock().unwrap();
        f.verified += verify_notes(&counts, &l.acked, &l.sent, &when);
    }
    // A last restart: the server itself lists every acknowledged write exactly once.
    let (mut child, base) = spawn_server(&db, true);
    let r = http()
        .get(format!("{}/api/episodes", base.unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let listed: Vec<serde_json::Value> = r.json().await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let mut counts = BTreeMap::new();
    for e in &listed {
        *counts.entry(e["notes"].as_str().unwrap_or("").to_string()).or_insert(0) += 1;
    }
    let l = ledger.lock().unwrap();
    f.verified += verify_notes(&counts, &l.acked, &l.sent, "listed by the restarted server");
    f.acked = l.acked.len() as u64;
    assert!(f.acked > 0, "no write was ever acknowledged");
    f.print(
        test,
        &format!(
            "; {} sent, {} stored, {:.1} s",
            l.sent.len(),
            counts.len(),
            started.elapsed().as_secs_f64()
        ),
    );
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_while_writing_sqlite() {
    let db = common::sqlite_db();
    let f = server_crashes("server-sqlite", Target::Sqlite(PathBuf::from(&db.url)), 120, "srv").await;
    assert!(f.kills >= 110, "only {} kills hit a running server", f.kills);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_while_writing_postgres() {
    let Some(db) = common::postgres_db("crash").await else {
        eprintln!("[crash:server-postgres] skipped: TONUS_TEST_POSTGRES_URL is not set");
        return;
    };
    let f = server_crashes("server-postgres", Target::Postgres(db.url.clone()), 40, "pg").await;
    assert!(f.kills >= 35);
}

// ----- the CLI -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_log_killed_mid_run() {
    let mut rng = rng("cli-log");
    let db = common::sqlite_db();
    let target = Target::Sqlite(PathBuf::from(&db.url));
    run_ok(&db.url, &["patient", "add", "anne", "--tz", "Europe/Paris"], "");
    let log = |note: &str| {
        bin()
            .args([
                "--patient",
                "anne",
                "log",
                "spasm",
                "--kind",
                "cramp",
                "--pain",
                "4",
                "--note",
                note,
            ])
            .env("TONUS_DATABASE_URL", &db.url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut ledger = Ledger::default();
    // How long one `tonus log` takes here, so the kills spread over a whole run.
    let t0 = Instant::now();
    for n in 0..3 {
        let note = format!("cli-warm-{n}");
        ledger.sent.insert(note.clone());
        assert!(log(&note).wait().unwrap().success());
        ledger.acked.insert(note);
    }
    let run_us = (t0.elapsed().as_micros() / 3).max(1000) as u64;
    let mut f = Figures::default();
    let started = Instant::now();
    for batch in 0..35 {
        // Four at once, so some die while another holds the write lock.
        let mut running: Vec<(String, Child, u64)> = (0..4)
            .map(|i| {
                let note = format!("cli-{batch}-{i}");
                ledger.sent.insert(note.clone());
                let child = log(&note);
                (note, child, rng.gen_range(0..run_us * 6 / 5))
            })
            .collect();
        running.sort_by_key(|r| r.2);
        let spawned = Instant::now();
        for (note, child, at) in &mut running {
            let wait = Duration::from_micros(*at).saturating_sub(spawned.elapsed());
            tokio::time::sleep(wait).await;
            let (alive, status) = kill(child);
            f.kill_attempts += 1;
            f.kills += u64::from(alive);
            if status.success() {
                ledger.acked.insert(note.clone());
            }
        }
        let when = format!("after CLI batch {batch}");
        f.integrity(&target, &when).await;
        f.verified += verify_notes(&target.note_counts("cli-").await, &ledger.acked, &ledger.sent, &when);
    }
    f.acked = ledger.acked.len() as u64;
    f.print(
        "cli-log",
        &format!(
            "; one run takes {} ms; {:.1} s",
            run_us / 1000,
            started.elapsed().as_secs_f64()
        ),
    );
    assert!(f.kills >= 50, "only {} kills hit a running `tonus log`", f.kills);
}

// ----- import -----

fn episodes_csv(path: &Path, prefix: &str, rows: usize) {
    let mut out = String::from("started_at,kind,pain,regions,notes\n");
    let start = jiff::Timestamp::from_second(1_735_689_600).unwrap(); // 2025-01-01
    for i in 0..rows {
        let at = start + jiff::SignedDuration::from_secs(i as i64 * 337);
        out.push_str(&format!("{at},clonus,{},left-calf;right-calf,{prefix}-{i}\n", i % 11));
    }
    std::fs::write(path, out).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_killed_mid_way_is_all_or_nothing() {
    const ROWS: usize = 6000;
    let mut rng = rng("import");
    let db = common::sqlite_db();
    let dir = tempfile::tempdir().unwrap();
    let target = Target::Sqlite(PathBuf::from(&db.url));
    run_ok(&db.url, &["patient", "add", "anne", "--tz", "Europe/Paris"], "");
    let import = |csv: &Path| {
        bin()
            .args(["--patient", "anne", "import", "csv"])
            .arg(csv)
            .env("TONUS_DATABASE_URL", &db.url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let csv = dir.path().join("full.csv");
    episodes_csv(&csv, "imp-full", ROWS);
    let t0 = Instant::now();
    assert!(import(&csv).wait().unwrap().success());
    let run_us = t0.elapsed().as_micros() as u64;
    assert_eq!(target.note_counts("imp-full-").await.len(), ROWS);

    let mut f = Figures {
        acked: ROWS as u64,
        verified: ROWS as u64,
        ..Figures::default()
    };
    let (mut none, mut all) = (0, 0);
    let (mut killed_in_tx, mut rolled_back) = (0u64, 0u64);
    let started = Instant::now();
    for cycle in 0..20 {
        let prefix = format!("imp-{cycle}");
        let csv = dir.path().join(format!("{prefix}.csv"));
        episodes_csv(&csv, &prefix, ROWS);
        let mut child = import(&csv);
        let mut in_tx = false;
        if cycle % 2 == 0 {
            // From a fifth of a run (still parsing) to past its end.
            tokio::time::sleep(Duration::from_micros(rng.gen_range(run_us / 5..run_us * 11 / 10))).await;
        } else {
            // The moment the import holds the write lock (its one transaction is open), plus a
            // little: these kills land inside the transaction.
            in_tx = write_lock_seen(&db.url, Duration::from_micros(run_us * 3)).await;
            tokio::time::sleep(Duration::from_micros(rng.gen_range(0..5000))).await;
        }
        let (alive, status) = kill(&mut child);
        in_tx &= alive;
        killed_in_tx += u64::from(in_tx);
        f.kill_attempts += 1;
        f.kills += u64::from(alive);
        let when = format!("after import kill {cycle}");
        f.integrity(&target, &when).await;
        let stored = target.note_counts(&format!("{prefix}-")).await;
        assert!(stored.values().all(|n| *n == 1), "{when}: a row stored twice");
        match stored.len() {
            0 => {
                assert!(
                    !status.success(),
                    "{when}: the import said it succeeded but stored nothing"
                );
                none += 1;
                rolled_back += u64::from(in_tx);
            }
            n if n == ROWS => {
                all += 1;
                f.acked += u64::from(status.success()) * ROWS as u64;
                f.verified += ROWS as u64;
            }
            n => panic!("{when}: a partial import: {n} of {ROWS} rows stored"),
        }
    }
    f.print(
        "import",
        &format!(
            "; {ROWS}-row imports killed: {none} left nothing, {all} complete; {killed_in_tx} killed while holding the write lock, {rolled_back} of them rolled back to nothing; one import takes {} ms; {:.1} s",
            run_us / 1000,
            started.elapsed().as_secs_f64()
        ),
    );
    assert!(f.kills >= 12);
    assert!(
        killed_in_tx >= 3,
        "only {killed_in_tx} kills landed inside the import's transaction"
    );
}

/// Polls until another process holds the SQLite write lock (our `BEGIN IMMEDIATE` fails at
/// once) or `limit` passes. The probe takes the lock for an instant only; the writer it
/// races waits for it (busy timeout) rather than failing.
async fn write_lock_seen(db: &str, limit: Duration) -> bool {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .busy_timeout(Duration::ZERO);
    let Ok(mut conn) = sqlx::ConnectOptions::connect(&options).await else {
        return false;
    };
    let until = Instant::now() + limit;
    while Instant::now() < until {
        match sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut conn).await {
            Ok(_) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
            Err(_) => return true,
        }
    }
    false
}

// ----- backup -----

/// Restores `file` into a fresh database: either it is refused (saying why, nothing
/// written), or it restores everything. Returns whether it restored.
async fn restore_all_or_refuse(file: &Path, scratch: &Path, expected: usize, when: &str) -> bool {
    let fresh = scratch.join("fresh.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", fresh.display()));
    }
    let out = bin()
        .arg("--database")
        .arg(&fresh)
        .args(["restore", "--from"])
        .arg(file)
        .output()
        .unwrap();
    let restored = if fresh.exists() {
        Target::Sqlite(fresh.clone()).note_counts("bk-").await.len()
    } else {
        0
    };
    if out.status.success() {
        assert_eq!(
            restored,
            expected,
            "{when}: {} restored {restored} of {expected} episodes",
            file.display()
        );
        true
    } else {
        assert_eq!(restored, 0, "{when}: a refused restore wrote {restored} episodes");
        assert!(!out.stderr.is_empty(), "{when}: a refused restore says why");
        false
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_killed_mid_way_leaves_no_valid_looking_partial_file() {
    const ROWS: usize = 20000;
    let mut rng = rng("backup");
    let db = common::sqlite_db();
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("backups");
    std::fs::create_dir(&out_dir).unwrap();
    let target = Target::Sqlite(PathBuf::from(&db.url));
    run_ok(&db.url, &["patient", "add", "anne", "--tz", "Europe/Paris"], "");
    let csv = dir.path().join("data.csv");
    episodes_csv(&csv, "bk", ROWS);
    run_ok(
        &db.url,
        &["--patient", "anne", "import", "csv", &csv.display().to_string()],
        "",
    );
    let backup = |file: &Path, format: &str| {
        bin()
            .args(["backup", "--format", format, "--out"])
            .arg(file)
            .env("TONUS_DATABASE_URL", &db.url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // The source's rows are the acknowledged writes here: checked after every kill, and
    // again in every backup that restores.
    let mut f = Figures {
        acked: ROWS as u64,
        ..Figures::default()
    };
    let (mut complete, mut absent, mut refused, mut writing) = (0, 0, 0, 0u64);
    let started = Instant::now();
    for (format, cycles) in [("sqlite", 20), ("archive", 8)] {
        let t0 = Instant::now();
        let first = out_dir.join(format!("first-{format}"));
        assert!(backup(&first, format).wait().unwrap().success());
        let run_us = t0.elapsed().as_micros() as u64;
        assert!(restore_all_or_refuse(&first, dir.path(), ROWS, "an unkilled backup").await);
        for cycle in 0..cycles {
            let file = out_dir.join(format!("{format}-{cycle}"));
            let before = partial_names(&out_dir);
            let mut child = backup(&file, format);
            if cycle % 2 == 0 {
                tokio::time::sleep(Duration::from_micros(rng.gen_range(run_us / 10..run_us * 9 / 10))).await;
            } else {
                // Once the backup has started writing (its temporary entry exists): these
                // kills land in the write itself however loaded the machine is.
                writing += u64::from(partial_seen(&out_dir, &before, Duration::from_micros(run_us * 3)).await);
                tokio::time::sleep(Duration::from_micros(rng.gen_range(0..run_us / 5))).await;
            }
            let (alive, status) = kill(&mut child);
            f.kill_attempts += 1;
            f.kills += u64::from(alive);
            let when = format!("after {format} backup kill {cycle}");
            f.integrity(&target, &when).await;
            assert_eq!(
                target.note_counts("bk-").await.len(),
                ROWS,
                "{when}: the source changed"
            );
            f.verified += ROWS as u64;
            if file.exists() {
                assert!(
                    restore_all_or_refuse(&file, dir.path(), ROWS, &when).await,
                    "{when}: a backup file under the name asked for must be complete"
                );
                complete += 1;
                f.verified += ROWS as u64;
            } else {
                assert!(!status.success(), "{when}: backup succeeded without a file");
                absent += 1;
            }
        }
    }
    // Whatever a killed backup left behind (a temporary file) must not restore partially.
    for entry in walk(&out_dir) {
        let name = entry.file_name().unwrap().to_string_lossy().to_string();
        if ["first-", "sqlite-", "archive-"].iter().any(|p| name.starts_with(p)) {
            continue;
        }
        assert!(
            entry.display().to_string().contains(".tonus-partial-"),
            "a killed backup left {} behind, not marked partial",
            entry.display()
        );
        if !restore_all_or_refuse(&entry, dir.path(), ROWS, "a left-over temporary file").await {
            refused += 1;
        }
    }
    f.print(
        "backup",
        &format!(
            "; killed backups: {writing} killed after they began writing, {complete} complete under their name, {absent} left no file under their name, {refused} left-over partial files refused by restore; {:.1} s",
            started.elapsed().as_secs_f64()
        ),
    );
    assert!(f.kills >= 10);
}

fn partial_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".tonus-partial-"))
        .collect()
}

/// Waits until a temporary entry that was not in `before` appears, or `limit` passes.
async fn partial_seen(dir: &Path, before: &BTreeSet<String>, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if partial_names(dir).difference(before).next().is_some() {
            return true;
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    false
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// What an interrupted copy or an older Tonus could leave: a backup cut short, and an SQLite
/// file with a valid header and no Tonus tables. `restore` refuses both and writes nothing.
#[tokio::test]
async fn restore_refuses_torn_and_foreign_sqlite_files() {
    const ROWS: usize = 3000;
    let db = common::sqlite_db();
    let dir = tempfile::tempdir().unwrap();
    run_ok(&db.url, &["patient", "add", "anne", "--tz", "Europe/Paris"], "");
    let csv = dir.path().join("data.csv");
    episodes_csv(&csv, "bk", ROWS);
    run_ok(
        &db.url,
        &["--patient", "anne", "import", "csv", &csv.display().to_string()],
        "",
    );
    let whole = dir.path().join("whole.db");
    run_ok(&db.url, &["backup", "--out", &whole.display().to_string()], "");
    let bytes = std::fs::read(&whole).unwrap();
    assert!(restore_all_or_refuse(&whole, dir.path(), ROWS, "the whole backup").await);

    let mut torn = Vec::new();
    for fraction in [4, 2] {
        let cut = dir.path().join(format!("cut-{fraction}.db"));
        // Whole pages, so the header stays valid and only the body is missing.
        let len = bytes.len() / fraction / 4096 * 4096;
        std::fs::write(&cut, &bytes[..len]).unwrap();
        torn.push(cut);
    }
    let foreign = dir.path().join("foreign.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", foreign.display()))
        .await
        .unwrap();
    sqlx::raw_sql("CREATE TABLE notes (t TEXT)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    torn.push(foreign);
    for file in &torn {
        assert!(!restore_all_or_refuse(file, dir.path(), ROWS, "a torn file").await);
        let out = bin()
            .arg("--database")
            .arg(dir.path().join("fresh.db"))
            .args(["restore", "--from"])
            .arg(file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("is not a complete Tonus backup"),
            "{}: {err}",
            file.display()
        );
    }
}
