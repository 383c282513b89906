//! `tonus user add`, `tonus audit verify` and `tonus serve` as a user runs them.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "correct horse battery staple";

fn tonus(db: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tonus"))
        .args(args)
        .env("TONUS_DATABASE_URL", db)
        .env("TZ", "Europe/Paris")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tonus");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

#[tokio::test]
async fn user_add_and_audit_verify_detects_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tonus.db").display().to_string();

    let out = tonus(
        &db,
        &["user", "add", "--role", "admin", "root", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Created admin account \"root\""));

    // Password rules: exit 2 (bad input), nothing created.
    let out = tonus(
        &db,
        &["user", "add", "--role", "clinician", "doc", "--password-stdin"],
        "password1234\n",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("common password"));

    let out = tonus(
        &db,
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
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = tonus(&db, &["user", "list", "--json"], "");
    let users: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(users.as_array().unwrap().len(), 2);
    assert!(
        users[1]["patient_id"].is_i64(),
        "a patient account owns a patient: {users}"
    );

    let out = tonus(&db, &["audit", "verify"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Audit log intact: 2 rows"),
        "{}",
        text(&out.stdout)
    );

    // Someone with the database file drops the guard trigger and edits a row.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{db}")).await.unwrap();
    sqlx::raw_sql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = 'admin someone-else' WHERE id = 1")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let out = tonus(&db, &["audit", "verify"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("row 1 does not verify"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn serve_answers_on_the_address_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tonus.db").display().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tonus"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TONUS_DATABASE_URL", &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run tonus serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    let addr = first
        .strip_prefix("Tonus listening on http://")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    assert!(second.contains("/setup"), "first start offers set-up: {second}");

    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /setup HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("Create the administrator"));
    assert!(response.to_ascii_lowercase().contains("set-cookie: __host-tonus-csrf="));
}

/// A record made outside the web app goes to an account only by `tonus user link`, and a
/// closed pipe (`tonus list | head -1`) ends the command quietly.
#[test]
fn user_link_is_explicit_and_a_closed_pipe_is_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tonus.db").display().to_string();
    let out = tonus(&db, &["demo", "--days", "200", "--name", "anne", "--no-account"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A new patient account with the same name gets a new, empty record...
    let out = tonus(
        &db,
        &["user", "add", "--role", "patient", "anne", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let users = |db: &str| -> serde_json::Value {
        serde_json::from_slice(&tonus(db, &["user", "list", "--json"], "").stdout).unwrap()
    };
    let fresh = users(&db)[0]["patient_id"].as_i64().unwrap();
    // ...until the server's operator links it, on purpose.
    let out = tonus(&db, &["user", "link", "anne", "--patient", "anne"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("now owns patient \"anne\""),
        "{}",
        text(&out.stdout)
    );
    let linked = users(&db)[0]["patient_id"].as_i64().unwrap();
    assert_ne!(fresh, linked);
    let out = tonus(&db, &["user", "link", "nobody", "--patient", "anne"], "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    // Hundreds of lines into a pipe that closes after the first.
    let out = Command::new("sh")
        .arg("-c")
        .arg("\"$TONUS\" --patient anne list --from -200 | head -1")
        .env("TONUS", env!("CARGO_BIN_EXE_tonus"))
        .env("TONUS_DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).lines().count(), 1, "{}", text(&out.stdout));
    assert!(!text(&out.stderr).contains("panicked"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
}
