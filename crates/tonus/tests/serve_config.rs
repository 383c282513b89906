//! `tonus serve` settings through the real binary (file, environment, flags; refused with exit
//! status 2 when bad), and the README's first command: `tonus demo` then `tonus serve` leaves
//! a newcomer able to sign in to the web app on the demo data.

mod common;

use common::{bin, csrf_of, http};

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

/// Runs `tonus serve` expecting it to refuse to start.
fn serve_refused(db: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = bin();
    cmd.arg("serve").args(args).env("TONUS_DATABASE_URL", db);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out: Output = cmd.stdin(Stdio::null()).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stderr)
}

#[test]
fn bad_settings_are_refused_at_start_with_the_key_value_and_rule() {
    let db = common::sqlite_db();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tonus.toml");
    let path = file.display().to_string();

    std::fs::write(&file, "[session]\nidle_minutes = 0\n").unwrap();
    assert_eq!(
        serve_refused(&db.url, &["--config", &path], &[]),
        format!("error: config key session.idle_minutes = 0 (from {path}): must be at least 1\n")
    );
    // The environment wins over the file, and is named as the source.
    std::fs::write(&file, "[session]\nidle_minutes = 30\n").unwrap();
    assert_eq!(
        serve_refused(&db.url, &["--config", &path], &[("TONUS_SESSION_IDLE_MINUTES", "0")]),
        "error: config key session.idle_minutes = 0 (from environment): must be at least 1\n"
    );
    std::fs::write(&file, "[session]\nidle_minuts = 30\n").unwrap();
    let err = serve_refused(&db.url, &["--config", &path], &[]);
    assert!(err.starts_with(&format!("error: config file {path}:")), "{err}");
    assert!(err.contains("unknown field `idle_minuts`"), "{err}");
    let err = serve_refused(&db.url, &[], &[("TONUS_TRUSTED_PROXIES", "127.0.0.1,proxy.local")]);
    assert!(
        err.contains(
            "config key trusted_proxies[1] = \"proxy.local\" (from environment): must be an IP address or a CIDR range"
        ),
        "{err}"
    );
    let err = serve_refused(&db.url, &["--idle-minutes", "0"], &[]);
    assert!(err.contains("(from command line): must be at least 1"), "{err}");
    let err = serve_refused(&db.url, &["--config", "/nonexistent/tonus.toml"], &[]);
    assert!(err.contains("/nonexistent/tonus.toml"), "{err}");
}

/// Starts `tonus serve`; returns the process and the lines it printed before serving.
/// `extra` lines after the sign-in line are read too (the demo account's).
fn serve(db: &str, args: &[&str], env: &[(&str, &str)], extra: usize) -> (Child, Vec<String>) {
    let mut cmd = bin();
    cmd.arg("serve").args(args).env("TONUS_DATABASE_URL", db);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    // The start-up notes end with the sign-in line (and the demo account's, if any).
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.contains("/login") || line.contains("/setup");
        printed.push(line);
        if done {
            break;
        }
    }
    for line in lines.by_ref().take(extra) {
        printed.push(line.unwrap());
    }
    std::thread::spawn(move || for _ in lines {});
    (child, printed)
}

fn stop(child: &mut Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

fn addr_of(first: &str) -> String {
    first
        .strip_prefix("Tonus listening on http://")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string()
}

#[tokio::test]
async fn demo_then_serve_lets_a_newcomer_sign_in_on_the_demo_data() {
    let db = common::sqlite_db();
    let out = bin()
        .args(["--json", "demo", "--days", "30"])
        .env("TONUS_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["account"]["username"], "demo");
    let password = v["account"]["password"].as_str().unwrap().to_string();
    let demo_patient = v["patient"]["id"].as_i64().unwrap();

    // Flags beat the environment: a bad TONUS_LISTEN is overridden by --listen.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tonus.toml");
    std::fs::write(&file, "metrics_listen = \"127.0.0.1:0\"\nlog_format = \"json\"\n").unwrap();
    let (mut child, printed) = serve(
        &db.url,
        &["--listen", "127.0.0.1:0", "--config", &file.display().to_string()],
        &[("TONUS_LISTEN", "not an address")],
        1,
    );
    let addr = addr_of(&printed[0]);
    let port = addr.rsplit(':').next().unwrap();
    assert!(printed[1].starts_with("Metrics at http://127.0.0.1:"), "{printed:?}");
    assert!(
        printed
            .iter()
            .any(|l| l == &format!("Sign in at http://localhost:{port}/login")),
        "{printed:?}"
    );
    assert!(
        printed
            .last()
            .unwrap()
            .contains("user `demo`, with the password `tonus demo` printed"),
        "{printed:?}"
    );
    let metrics = printed[1].strip_prefix("Metrics at ").unwrap().to_string();

    let c = http();
    let base = format!("http://{addr}");
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
        .form(&[
            ("username", "demo"),
            ("password", password.as_str()),
            ("csrf", &csrf_of(&html)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "sign-in as demo: {}", r.text().await.unwrap());
    // The account owns the demo patient (linked by id) and sees its simulated data.
    let me: serde_json::Value = c
        .get(format!("{base}/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["patient_id"].as_i64(), Some(demo_patient), "{me}");
    let episodes: serde_json::Value = c
        .get(format!("{base}/api/episodes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(episodes.to_string().len() > 1000, "demo episodes visible: {episodes}");
    let r = c.get(format!("{base}/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Metrics are on their own address.
    let m = reqwest::Client::builder().no_proxy().build().unwrap();
    let body = m.get(&metrics).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("route=\"/login\""), "{body}");
    stop(&mut child);

    // A second demo refuses, changing nothing.
    let again = bin()
        .args(["demo", "--days", "30"])
        .env("TONUS_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );
    // --replace makes a fresh patient and account, with a new password.
    let out = bin()
        .args(["--json", "demo", "--days", "30", "--replace"])
        .env("TONUS_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["account"]["username"], "demo");
    assert_ne!(v["account"]["password"].as_str().unwrap(), password);
}
