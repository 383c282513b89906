//! `tonus import` refuses files above its documented limit (1 GiB) with a clear message and
//! exit status 2, and writes nothing, whether the size is known up front (a regular file) or
//! only found while reading (a pipe).

use std::io::Write;
use std::process::{Command, Stdio};

mod common;

use common::*;

const LIMIT: u64 = 1024 * 1024 * 1024;

fn ok(db: &Db, args: &[&str]) -> String {
    let out = tonus(db, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn nothing_stored(db: &Db) {
    assert_eq!(ok(db, &["list", "--json", "--from", "2026-01-01"]).trim(), "[]");
}

/// Valid rows first, so only the size can be the reason for refusing the file.
fn oversized_csv(path: &std::path::Path, len: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(b"started_at,kind,regions,pain\n2026-01-10 08:00,twitch,left-calf,3\n")
        .unwrap();
    // Sparse: the test costs no disk, and the importer must refuse it by its size anyway.
    f.set_len(len).unwrap();
}

#[test]
fn files_above_the_limit_are_refused_and_nothing_is_written() {
    let db = sqlite_db();
    ok(&db, &["patient", "add", "me", "--tz", "Europe/Paris"]);
    let dir = tempfile::tempdir().unwrap();

    let small = dir.path().join("small.csv");
    oversized_csv(&small, 70);
    let big = dir.path().join("big.csv");
    oversized_csv(&big, LIMIT + 1);
    // One good file next to the big one: neither is imported.
    let out = tonus(&db, &["import", "csv", small.to_str().unwrap(), big.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}: the file is larger than the import limit of {LIMIT} bytes (1 GiB); nothing was written",
            big.display()
        )),
        "{err}"
    );
    nothing_stored(&db);

    let bundle = dir.path().join("bundle.json");
    let f = std::fs::File::create(&bundle).unwrap();
    f.set_len(LIMIT + 1).unwrap();
    let out = tonus(&db, &["import", "fhir", bundle.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("larger than the import limit"), "{err}");
    nothing_stored(&db);

    // At the limit exactly is still read (and here refused for its content, not its size).
    let edge = dir.path().join("edge.csv");
    oversized_csv(&edge, LIMIT);
    let out = tonus(&db, &["import", "csv", edge.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("import limit"), "{err}");
    nothing_stored(&db);
}

/// A pipe has no size until it has been read: the reader stops at the limit.
#[test]
fn a_pipe_above_the_limit_is_refused_while_reading() {
    let db = sqlite_db();
    ok(&db, &["patient", "add", "me", "--tz", "Europe/Paris"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tonus"))
        .args(["import", "csv", "/dev/stdin"])
        .env("TONUS_DATABASE_URL", &db.url)
        .env("TZ", "Europe/Paris")
        .env_remove("TONUS_PATIENT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // One endless quoted field: cheap to parse, so the test measures the limit, not the
        // validation of a million rows.
        let _ = stdin.write_all(b"started_at,kind,regions,pain\n\"");
        let block = vec![b'a'; 4 << 20];
        let mut sent = 0u64;
        // The importer stops reading at the limit and exits, so a write may fail: expected.
        while sent <= LIMIT + (4 << 20) {
            if stdin.write_all(&block).is_err() {
                break;
            }
            sent += block.len() as u64;
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("the import limit of {LIMIT} bytes")), "{err}");
    nothing_stored(&db);
}

/// A FHIR bundle from a pipe is copied aside and read like a file: imported whole.
#[test]
fn a_fhir_bundle_from_a_pipe_is_imported() {
    let db = sqlite_db();
    ok(&db, &["patient", "add", "me", "--tz", "Europe/Paris"]);
    ok(
        &db,
        &[
            "log",
            "spasm",
            "--kind",
            "twitch",
            "--at",
            "2026-01-10 08:00",
            "--region",
            "left-calf",
            "--pain",
            "3",
        ],
    );
    let bundle = ok(&db, &["export", "fhir"]);
    let other = sqlite_db();
    let out = run_ok(&other.url, &["import", "fhir", "/dev/stdin", "--json"], &bundle);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["written"], 1, "{report}");
    let listed = ok(&other, &["--patient", "me", "list", "--json", "--from", "2026-01-01"]);
    assert!(listed.contains("left-calf"), "{listed}");
}
