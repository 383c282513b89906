//! `tonus import csv` writes as it reads, a batch of rows at a time (multi-row inserts on
//! SQLite, COPY on PostgreSQL): a bad row late in a file, after several batches have been
//! sent, must still leave nothing stored and be reported with its line; with --skip-invalid
//! every other row, across batch boundaries and the last partial batch, is stored once.

use serde_json::Value;

mod common;

use common::*;

/// More rows than one PostgreSQL COPY batch (8,192) and many SQLite batches (256).
const ROWS: usize = 9_000;
/// The header is line 1, so data row `i` (from 0) is on line `i + 2`.
const BAD_LINE: usize = ROWS - 5;

fn ok(db: &Db, args: &[&str]) -> String {
    let out = tonus(db, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Episodes one minute apart from 2025-01-01, with notes that need escaping in COPY.
fn episodes_csv(path: &std::path::Path) {
    let mut text = String::from("started_at,kind,regions,pain,notes\n");
    for i in 0..ROWS {
        let line = i + 2;
        let pain = if line == BAD_LINE { 11 } else { i % 11 };
        let (h, m) = ((i / 60) % 24, i % 60);
        let day = 1 + i / 1440;
        text.push_str(&format!(
            "2025-01-{day:02}T{h:02}:{m:02}:00Z,twitch,left-calf,{pain},\"row {i}\\ta\tb\"\n"
        ));
    }
    std::fs::write(path, text).unwrap();
}

fn stored(db: &Db) -> Vec<Value> {
    let listed: Value = serde_json::from_str(&ok(db, &["list", "--json", "--from", "2024-12-31"])).unwrap();
    listed.as_array().unwrap().clone()
}

fn all_or_nothing(db: &Db) {
    ok(db, &["patient", "add", "me", "--tz", "Europe/Paris"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("episodes.csv");
    episodes_csv(&file);
    let f = file.to_str().unwrap();

    let out = tonus(db, &["import", "csv", f]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{f}:line {BAD_LINE}: pain must be an integer 0–10, got 11")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "1 of {ROWS} rows are invalid (listed above); nothing was written"
        )),
        "{err}"
    );
    assert!(stored(db).is_empty(), "a failed import stored rows");

    let out = tonus(db, &["import", "csv", "--skip-invalid", "--json", f]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["written"], ROWS - 1);
    assert_eq!(report["skipped"][0]["line"], BAD_LINE);
    let rows = stored(db);
    assert_eq!(rows.len(), ROWS - 1);
    // First, last, and the free text with a tab and a backslash sequence intact.
    assert_eq!(rows[0]["notes"], "row 0\\ta\tb");
    assert_eq!(rows[ROWS - 2]["notes"], format!("row {}\\ta\tb", ROWS - 1));
    let pains: Vec<i64> = rows.iter().map(|r| r["pain"].as_i64().unwrap()).collect();
    let expected: Vec<i64> = (0..ROWS)
        .filter(|i| i + 2 != BAD_LINE)
        .map(|i| (i % 11) as i64)
        .collect();
    assert_eq!(pains, expected);
}

#[test]
fn a_bad_row_late_in_a_file_stores_nothing_on_sqlite() {
    all_or_nothing(&sqlite_db());
}

#[tokio::test]
async fn a_bad_row_late_in_a_file_stores_nothing_on_postgres() {
    if let Some(pg) = postgres_db("bulk").await {
        tokio::task::spawn_blocking(move || all_or_nothing(&pg)).await.unwrap();
    }
}
