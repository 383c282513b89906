//! The `tonus` binary end to end, as a user types it: real SQLite files (and PostgreSQL when
//! `TONUS_TEST_POSTGRES_URL` is set), real exit codes, real output.

use serde_json::Value;

mod common;

use common::*;

fn ok_json(db: &Db, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = tonus(db, &all);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn episode_count(db: &Db) -> usize {
    ok_json(db, &["list"]).as_array().unwrap().len()
}

fn log_and_list(db: &Db) {
    let e = ok_json(
        db,
        &[
            "log",
            "spasm",
            "--kind",
            "twitch",
            "--region",
            "left-calf",
            "--pain",
            "6",
            "--at",
            "yesterday 03:10",
            "--duration",
            "40s",
            "--trigger",
            "waking",
        ],
    );
    assert_eq!(e["kind"], "twitch");
    assert_eq!(e["family"], "involuntary-movement");
    assert_eq!(e["pain"], 6);
    assert_eq!(e["duration_s"], 40);
    assert_eq!(e["regions"], serde_json::json!(["left-calf"]));
    assert_eq!(e["backfilled"], true);
    assert!(e["local_time"].as_str().unwrap().ends_with("03:10"), "{e}");
    let list = ok_json(db, &["list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], e["id"]);

    let text = tonus(db, &["list"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("twitch") && stdout.contains("left calf"), "{stdout}");
}

#[test]
fn a_new_user_logs_an_episode_and_lists_it() {
    log_and_list(&sqlite_db());
}

#[tokio::test]
async fn the_cli_works_on_postgres() {
    if let Some(db) = postgres_db("log").await {
        tokio::task::spawn_blocking(move || log_and_list(&db)).await.unwrap();
    }
}

#[test]
fn bad_input_names_field_value_rule_exits_2_and_stores_nothing() {
    let db = sqlite_db();
    ok_json(&db, &["log", "spasm", "--kind", "cramp"]);
    let cases: &[(&[&str], &str)] = &[
        (
            &["log", "spasm", "--kind", "twitch", "--pain", "11"],
            "pain must be an integer 0–10, got 11",
        ),
        (
            &["log", "spasm", "--kind", "twitch", "--region", "left-elbow"],
            "region must be one of",
        ),
        (&["log", "spasm", "--kind", "sneeze"], "kind must be one of"),
        (&["log", "spasm", "--pain", "3"], "kind must be given"),
        (
            &["log", "spasm", "--kind", "twitch", "--at", "2099-01-01 10:00"],
            "not in the future",
        ),
        (
            &["log", "spasm", "--kind", "twitch", "--duration", "forever"],
            "duration must be",
        ),
        (
            &["log", "spasm", "--kind", "twitch", "--duration", "25h"],
            "duration must be between",
        ),
        (
            &["log", "spasm", "--kind", "twitch", "--trigger", "moon"],
            "trigger must be one of",
        ),
    ];
    for (args, expected) in cases {
        let out = tonus(&db, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr}");
    }
    assert_eq!(episode_count(&db), 1, "no rejected episode was stored");

    ok_json(&db, &["treatment", "add", "Baclofen", "--category", "drug"]);
    let treatment_cases: &[(&[&str], &str)] = &[
        (
            &["treatment", "start", "Baclofen", "--dose", "10"],
            "unit must be given with every dose",
        ),
        (&["treatment", "start", "Baclofen"], "dose must be given"),
        (
            &["treatment", "start", "Baclofen", "--dose", "10", "--unit", "spoons"],
            "unit must be one of",
        ),
        (
            &[
                "treatment",
                "start",
                "Baclofen",
                "--dose",
                "10",
                "--unit",
                "mg",
                "--from",
                "2026-02-01",
                "--until",
                "2026-01-01",
            ],
            "end must be on or after",
        ),
        (
            &["treatment", "start", "Nothing", "--dose", "10", "--unit", "mg"],
            "no treatment named",
        ),
        (
            &["checkin", "--psfs-frequency", "0", "--psfs-severity", "2"],
            "psfs_severity must be given only when",
        ),
        (
            &["checkin", "--spasticity", "12"],
            "spasticity_nrs must be an integer 0–10, got 12",
        ),
        (
            &["exercise", "--type", "yoga", "--minutes", "30", "--exertion", "11"],
            "exertion must be an integer 0–10",
        ),
        (
            &["event", "relapse", "--date", "2026-03-10", "--until", "2026-03-01"],
            "until must be on or after",
        ),
        (
            &["event", "mri", "--region", "brain", "--total", "2", "--new", "3"],
            "lesions_new must be at most lesions_total",
        ),
        (&["delete", "episode", "99999", "--yes"], "no episode #99999"),
        (&["patient", "add", "Bad Name"], "patient must be"),
    ];
    for (args, expected) in treatment_cases {
        let out = tonus(&db, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr}");
    }
    let treatments = ok_json(&db, &["treatment", "list"]);
    assert_eq!(
        treatments[0]["regimens"].as_array().unwrap().len(),
        0,
        "no rejected regimen stored"
    );
    assert!(ok_json(&db, &["list", "--what", "checkins"])
        .as_array()
        .unwrap()
        .is_empty());
    assert!(ok_json(&db, &["list", "--what", "exercise"])
        .as_array()
        .unwrap()
        .is_empty());
    assert!(ok_json(&db, &["list", "--what", "events"])
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn unconfirmed_days_are_unknown_never_zero() {
    let db = sqlite_db();
    ok_json(&db, &["log", "spasm", "--kind", "cramp", "--at", "-2 10:00"]);
    ok_json(&db, &["log", "spasm", "--kind", "twitch", "--at", "yesterday 10:00"]);
    ok_json(&db, &["log", "none", "--date", "yesterday"]);
    let days = ok_json(&db, &["days", "--from", "-3", "--to", "yesterday"]);
    let days = days.as_array().unwrap();
    assert_eq!(days.len(), 3);
    assert_eq!(
        days[0]["involuntary_movement"],
        Value::Null,
        "no entries, not confirmed: unknown"
    );
    assert_eq!(
        days[1]["stiffness"],
        Value::Null,
        "entries but not confirmed: still unknown"
    );
    assert_eq!(days[1]["logged"], 1);
    assert_eq!(days[2]["involuntary_movement"], 1);
    assert_eq!(
        days[2]["stiffness"], 0,
        "confirmed day without stiffness is a real zero"
    );
}

#[test]
fn treatments_doses_edit_delete() {
    let db = sqlite_db();
    ok_json(&db, &["treatment", "add", "Baclofen", "--category", "drug"]);
    let r = ok_json(
        &db,
        &[
            "treatment",
            "start",
            "baclofen",
            "--dose",
            "10",
            "--unit",
            "mg",
            "--route",
            "oral",
            "--schedule",
            "3x-daily",
            "--from",
            "-10",
        ],
    );
    assert_eq!(r["schedule"], serde_json::json!({"kind": "times-per-day", "n": 3}));
    let d = ok_json(&db, &["dose", "missed", "Baclofen", "--at", "yesterday 08:00"]);
    assert_eq!(d["dose"]["status"], "missed");
    ok_json(&db, &["treatment", "stop", "Baclofen", "--on", "yesterday"]);
    let out = tonus(&db, &["dose", "taken", "Baclofen"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no regimen runs today after stopping yesterday"
    );

    let e = ok_json(
        &db,
        &[
            "log",
            "spasm",
            "--kind",
            "cramp",
            "--pain",
            "7",
            "--region",
            "left-calf,right-calf",
        ],
    );
    let id = e["id"].to_string();
    let edited = ok_json(&db, &["edit", "episode", &id, "--pain", "4"]);
    assert_eq!(edited["pain"], 4);
    assert_eq!(
        edited["regions"],
        serde_json::json!(["left-calf", "right-calf"]),
        "unchanged fields kept"
    );
    let cleared = ok_json(&db, &["edit", "episode", &id, "--clear-pain"]);
    assert_eq!(cleared["pain"], Value::Null);
    // Without a terminal, deleting needs --yes.
    assert_eq!(tonus(&db, &["delete", "episode", &id]).status.code(), Some(2));
    assert_eq!(episode_count(&db), 1);
    ok_json(&db, &["delete", "episode", &id, "--yes"]);
    assert_eq!(episode_count(&db), 0);
}

#[test]
fn side_effects_are_recorded_listed_edited_and_deleted() {
    let db = sqlite_db();
    ok_json(&db, &["treatment", "add", "Baclofen", "--category", "drug"]);
    let s = ok_json(
        &db,
        &[
            "side-effect",
            "--effect",
            "drowsiness",
            "--severity",
            "moderate",
            "--treatment",
            "baclofen",
            "--at",
            "yesterday 21:00",
        ],
    );
    assert_eq!(s["effect"], "drowsiness");
    assert_eq!(s["suspected_treatment"], "Baclofen", "named as stored");
    let id = s["id"].to_string();

    // Each rule names its field, exits 2 and stores nothing.
    for (args, message) in [
        (vec!["side-effect", "--severity", "mild"], "effect must be given"),
        (
            vec!["side-effect", "--effect", "other", "--severity", "mild"],
            "description must be present",
        ),
        (
            vec![
                "side-effect",
                "--effect",
                "nausea",
                "--severity",
                "mild",
                "--treatment",
                "Tizanidine",
            ],
            "suspected_treatment must be the name of one of your treatments",
        ),
        (
            vec!["side-effect", "--effect", "nausea", "--severity", "bad"],
            "severity must be one of mild, moderate, severe",
        ),
    ] {
        let out = tonus(&db, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    assert_eq!(
        ok_json(&db, &["list", "--what", "side-effects"])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let edited = ok_json(&db, &["edit", "side-effect", &id, "--severity", "severe"]);
    assert_eq!(edited["severity"], "severe");
    assert_eq!(edited["suspected_treatment"], "Baclofen", "unchanged fields kept");
    let cleared = ok_json(&db, &["edit", "side-effect", &id, "--clear-treatment"]);
    assert_eq!(cleared["suspected_treatment"], Value::Null);
    let all = ok_json(&db, &["list", "--what", "all"]);
    assert_eq!(all["side_effects"].as_array().unwrap().len(), 1);
    ok_json(&db, &["delete", "side-effect", &id, "--yes"]);
    assert!(ok_json(&db, &["list", "--what", "side-effects"])
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn identity_travels_through_fhir_and_the_archive() {
    let db = sqlite_db();
    ok_json(&db, &["log", "spasm", "--kind", "cramp"]);
    let bad = tonus(&db, &["patient", "identity", "me", "--identifier", "nhs=1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("identifier_system must be"));
    let id = ok_json(
        &db,
        &[
            "patient",
            "identity",
            "me",
            "--name",
            "Anne Martin",
            "--birth-date",
            "1970-03-02",
            "--sex",
            "female",
            "--identifier",
            "https://fhir.nhs.uk/Id/nhs-number=9434765919",
        ],
    );
    assert_eq!(id["name"], "Anne Martin");

    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("b.json");
    let out = tonus(&db, &["export", "fhir", "--out", bundle.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let b: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let patient = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Patient")
        .unwrap();
    assert_eq!(patient["name"][0]["text"], "Anne Martin");
    assert_eq!(patient["birthDate"], "1970-03-02");
    assert_eq!(patient["gender"], "female");
    assert_eq!(patient["identifier"][0]["system"], "https://fhir.nhs.uk/Id/nhs-number");
    assert_eq!(patient["identifier"][0]["value"], "9434765919");

    // Read back into another database: the same identity.
    let other = sqlite_db();
    let out = tonus(&other, &["import", "fhir", bundle.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let handle = ok_json(&other, &["patient", "list"])[0]["handle"]
        .as_str()
        .unwrap()
        .to_string();
    let back = ok_json(&other, &["patient", "identity", &handle]);
    assert_eq!(back, id);

    // And through a JSON archive backup and restore.
    let archive = dir.path().join("a.json");
    let out = tonus(
        &db,
        &["backup", "--out", archive.to_str().unwrap(), "--format", "archive"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let third = sqlite_db();
    let out = tonus(&third, &["restore", "--from", archive.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(ok_json(&third, &["patient", "identity", "me"]), id);
    let cleared = ok_json(&third, &["patient", "identity", "me", "--clear"]);
    assert_eq!(cleared["identifiers"], serde_json::json!([]));
}

#[test]
fn several_patients_need_a_choice() {
    let db = sqlite_db();
    ok_json(&db, &["patient", "add", "anne", "--tz", "Europe/Paris"]);
    ok_json(&db, &["patient", "add", "bob", "--tz", "America/New_York"]);
    let out = tonus(&db, &["log", "spasm", "--kind", "twitch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("anne, bob"));
    ok_json(&db, &["--patient", "anne", "log", "spasm", "--kind", "twitch"]);
    assert_eq!(ok_json(&db, &["--patient", "bob", "list"]).as_array().unwrap().len(), 0);
    assert_eq!(
        ok_json(&db, &["--patient", "anne", "list"]).as_array().unwrap().len(),
        1
    );
}

#[test]
fn demo_is_deterministic_by_seed_and_realistic() {
    let (a, b) = (sqlite_db(), sqlite_db());
    let sa = ok_json(&a, &["demo", "--days", "120", "--seed", "42"]);
    let sb = ok_json(&b, &["demo", "--days", "120", "--seed", "42"]);
    assert_eq!(sa["episodes"], sb["episodes"]);
    let ea = ok_json(&a, &["list"]);
    let eb = ok_json(&b, &["list"]);
    let key = |v: &Value| -> Vec<(Value, Value, Value)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| (e["kind"].clone(), e["local_time"].clone(), e["pain"].clone()))
            .collect()
    };
    assert_eq!(key(&ea), key(&eb));
    let n = ea.as_array().unwrap().len();
    assert!(n > 120, "a realistic patient has several episodes a day, got {n}");
    let night = ea
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            let hour: u32 = e["local_time"].as_str().unwrap()[11..13].parse().unwrap();
            !(6..22).contains(&hour)
        })
        .count();
    assert!(
        night as f64 / n as f64 > 0.34,
        "night peak: {night} of {n} episodes between 22:00 and 06:00"
    );
    let days = ok_json(&a, &["days", "--from", "-119", "--to", "yesterday"]);
    let unknown = days
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["confirmed"] == false)
        .count();
    assert!(unknown > 0 && unknown < 40, "some missed check-ins: {unknown}");
    let other = sqlite_db();
    let sc = ok_json(&other, &["demo", "--days", "120", "--seed", "43"]);
    assert_ne!(
        key(&ok_json(&other, &["list"])),
        key(&ea),
        "another seed, another patient ({sc})"
    );
    assert_eq!(
        tonus(&a, &["demo", "--days", "120"]).status.code(),
        Some(2),
        "refuses to overwrite"
    );
}

#[test]
fn help_is_there_for_every_command() {
    let db = sqlite_db();
    for cmd in [
        vec!["--help"],
        vec!["log", "spasm", "--help"],
        vec!["checkin", "--help"],
        vec!["treatment", "start", "--help"],
        vec!["dose", "--help"],
        vec!["exercise", "--help"],
        vec!["side-effect", "--help"],
        vec!["edit", "side-effect", "--help"],
        vec!["event", "mri", "--help"],
        vec!["list", "--help"],
        vec!["days", "--help"],
        vec!["edit", "episode", "--help"],
        vec!["delete", "--help"],
        vec!["demo", "--help"],
    ] {
        let out = tonus(&db, &cmd);
        assert!(out.status.success(), "{cmd:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage:"), "{cmd:?}");
    }
}

#[test]
fn patient_zone_changes_how_times_are_read() {
    let db = sqlite_db();
    ok_json(&db, &["patient", "add", "me", "--tz", "UTC"]);
    ok_json(&db, &["patient", "zone", "me", "America/New_York"]);
    let e = ok_json(&db, &["log", "spasm", "--kind", "cramp", "--at", "2026-07-01 03:10"]);
    assert_eq!(e["started_at"]["at"], "2026-07-01T07:10:00Z");
    assert_eq!(
        tonus(&db, &["patient", "zone", "me", "Mars/Base"]).status.code(),
        Some(2)
    );
}
