//! The real `tonus` binary against a fresh database: an SQLite file always, a PostgreSQL
//! schema of its own when `TONUS_TEST_POSTGRES_URL` is set.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub struct Db {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub fn sqlite_db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("tonus.db").display().to_string();
    Db { url, _dir: Some(dir) }
}

/// A PostgreSQL URL whose connections use a fresh schema, so tests run in parallel.
pub async fn postgres_db(tag: &str) -> Option<Db> {
    let base = std::env::var("TONUS_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    // Tests run in parallel threads: the clock alone can give two of them one name.
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let schema = format!(
        "cli_{tag}_{}_{}_{}",
        std::process::id(),
        jiff::Timestamp::now().as_microsecond(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    tonus_store::Store::open_postgres(&base, Some(&schema))
        .await
        .unwrap()
        .close()
        .await;
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(Db {
        url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        _dir: None,
    })
}

pub fn tonus(db: &Db, args: &[&str]) -> Output {
    bin()
        .args(args)
        .env("TONUS_DATABASE_URL", &db.url)
        .output()
        .expect("run tonus")
}

/// Runs `tonus ARGS --json`, asserts it succeeded (showing its stderr if not) and parses stdout.
pub fn ok_json(db: &Db, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = tonus(db, &all);
    assert!(
        out.status.success(),
        "tonus {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The password every test account is given.
pub const PASSWORD: &str = "correct horse battery staple";

/// The binary with nothing taken from the caller's environment that would change what it
/// does: Paris time, no default patient, no configuration file, listen address or allowance.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tonus"));
    c.env("TZ", "Europe/Paris")
        .env_remove("TONUS_PATIENT")
        .env_remove("TONUS_CONFIG")
        .env_remove("TONUS_LISTEN")
        .env_remove("TONUS_API_REQUESTS_PER_MINUTE");
    c
}

/// Runs `tonus ARGS` on `db` with `stdin` typed in; fails the test unless it succeeds.
pub fn run_ok(db: &str, args: &[&str], stdin: &str) -> String {
    let mut child = bin()
        .args(args)
        .env("TONUS_DATABASE_URL", db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "tonus {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A browser-like client: keeps cookies, does not follow redirects, no system proxy.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .unwrap()
}

/// The value of the first `csrf` form field on a page.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\"").expect("a csrf field");
    let rest = &html[at..];
    let v = rest.find("value=\"").unwrap() + 7;
    let end = rest[v..].find('"').unwrap();
    rest[v..v + end].to_string()
}

/// Signs `user` in on the running server at `base` and makes an API token through the
/// JSON API with that web session, as a person would; returns the token.
pub async fn web_token(base: &str, user: &str, token_name: &str) -> String {
    let c = http();
    let html = c
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c
        .post(format!("{base}/login"))
        .form(&[("username", user), ("password", PASSWORD), ("csrf", &csrf_of(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "login: {}", r.text().await.unwrap());
    let html = c
        .get(format!("{base}/tokens"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c
        .post(format!("{base}/api/tokens"))
        .header("x-csrf-token", csrf_of(&html))
        .json(&serde_json::json!({ "name": token_name }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}
