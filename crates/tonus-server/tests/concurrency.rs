//! Many clients at once, for a bounded time, on every reachable backend: patients log
//! episodes (JSON API with tokens, and the web form with sessions) and read them back.
//! Beside them, two writers use a connection pool of their own on the same database, as
//! `tonus log` in another process does, and new patients sign up. No request may fail with a server error or "database is locked", and every acknowledged
//! write must be stored exactly once. The figures are printed on stderr:
//! `cargo test -p tonus-server --test concurrency -- --nocapture`.
//! `TONUS_CONCURRENCY_SECONDS` (default 10) and `TONUS_CONCURRENCY_CLIENTS` (default 32)
//! change the load.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::{LocalInstant, Patient};
use tonus_store::Store;

const PATIENTS: usize = 4;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Default)]
struct Tally {
    requests: u64,
    /// Writes by the second pool (not HTTP requests).
    direct: u64,
    writes_acked: u64,
    reads: u64,
    /// (request, status, body) of every answer that was not what a user should see.
    failures: Vec<String>,
    /// Accounts created through /signup.
    signups: Vec<String>,
    /// Notes acknowledged, per patient.
    acked: BTreeMap<usize, BTreeSet<String>>,
}

enum Who {
    Token(TokenClient),
    Session(Client),
}

async fn check_body(tally: &Mutex<Tally>, what: &str, status: StatusCode, body: &str) -> bool {
    let locked = body.to_ascii_lowercase().contains("locked");
    if status.is_server_error() || locked {
        tally.lock().unwrap().failures.push(format!(
            "{what}: {status} {}",
            body.chars().take(300).collect::<String>()
        ));
        return false;
    }
    true
}

/// One client: writes with unique notes and reads its own writes back until the deadline.
async fn client(who: Who, patient: usize, id: usize, deadline: Instant, tally: Arc<Mutex<Tally>>) {
    let mut mine: Vec<String> = Vec::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        // Two writes for each read, and every tenth read lists the whole history.
        let write = !n.is_multiple_of(3);
        tally.lock().unwrap().requests += 1;
        if write {
            let note = format!("c{id}-{n}");
            let (what, status, body) = match &who {
                Who::Token(t) => {
                    let body = serde_json::json!({"kind": "jerk", "pain": n % 11, "regions": ["back"], "notes": note});
                    let r = t.send(Method::POST, "/api/episodes", Some(&body.to_string())).await;
                    let status = r.status();
                    ("POST /api/episodes", status, r.text().await.unwrap_or_default())
                }
                Who::Session(c) => {
                    let r = c
                        .post_form(
                            "/episodes",
                            &[("kind", "cramp"), ("region", "left-calf"), ("notes", &note)],
                        )
                        .await;
                    let status = r.status();
                    let to = location(&r);
                    (
                        "POST /episodes (form)",
                        status,
                        format!("{to} {}", r.text().await.unwrap_or_default()),
                    )
                }
            };
            if !check_body(&tally, what, status, &body).await {
                continue;
            }
            let ok = match &who {
                Who::Token(_) => status == StatusCode::CREATED,
                Who::Session(_) => status == StatusCode::SEE_OTHER && body.starts_with("/?saved=1"),
            };
            let mut t = tally.lock().unwrap();
            if ok {
                t.writes_acked += 1;
                t.acked.entry(patient).or_default().insert(note.clone());
                mine.push(note);
            } else {
                t.failures.push(format!("{what}: unexpected {status} {body}"));
            }
        } else {
            let (path, whole) = if n.is_multiple_of(30) {
                ("/api/episodes".to_string(), true)
            } else {
                ("/api/episodes?from=today".to_string(), false)
            };
            let (status, body) = match &who {
                Who::Token(t) => {
                    let r = t.send(Method::GET, &path, None).await;
                    (r.status(), r.text().await.unwrap_or_default())
                }
                Who::Session(c) => {
                    let r = c.get(&path).await;
                    (r.status(), r.text().await.unwrap_or_default())
                }
            };
            if !check_body(&tally, "GET /api/episodes", status, &body).await {
                continue;
            }
            let mut t = tally.lock().unwrap();
            t.reads += 1;
            if status != StatusCode::OK {
                t.failures.push(format!("GET {path}: unexpected {status}"));
                continue;
            }
            // Read-your-writes: a listing of everything shows each of my writes once.
            if whole {
                let listed: Vec<Value> = serde_json::from_str(&body).unwrap_or_default();
                let notes: Vec<&str> = listed.iter().filter_map(|e| e["notes"].as_str()).collect();
                for note in &mine {
                    let c = notes.iter().filter(|n| **n == note.as_str()).count();
                    if c != 1 {
                        t.failures
                            .push(format!("{note} listed {c} times right after it was acknowledged"));
                    }
                }
            }
        }
    }
}

/// What `tonus log` does from another process: its own connection pool on the same database
/// (for SQLite, separate connections contend for the same file lock), inserting directly.
async fn other_process(store: Arc<Store>, patient: Patient, id: usize, deadline: Instant, tally: Arc<Mutex<Tally>>) {
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let note = format!("cli{id}-{n}");
        let now = jiff::Timestamp::now();
        let draft = EpisodeDraft {
            kind: "clonus".into(),
            notes: Some(note.clone()),
            ..Default::default()
        };
        let episode = draft
            .validate(
                LocalInstant {
                    at: now,
                    zone: patient.zone.clone(),
                },
                now,
            )
            .unwrap();
        let r = store.insert_episode(&patient, &episode).await;
        {
            let mut t = tally.lock().unwrap();
            t.direct += 1;
            match r {
                Ok(_) => {
                    t.writes_acked += 1;
                    t.acked.entry(0).or_default().insert(note);
                }
                Err(e) => t.failures.push(format!("second pool insert: {e}")),
            }
        }
        // A script's pace, not a tight loop: the HTTP clients stay the main load.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// New patients signing up while the others log: account creation reads then writes in one
/// transaction, the shape that meets "database is locked" on SQLite if it starts deferred.
async fn signups(base: String, id: usize, deadline: Instant, tally: Arc<Mutex<Tally>>) {
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let name = format!("new{id}x{n}");
        let c = Client::new(&base);
        c.refresh_csrf("/signup").await;
        let r = c
            .post_form(
                "/signup",
                &[
                    ("username", &name),
                    ("password", PASSWORD),
                    ("time_zone", "Europe/Paris"),
                ],
            )
            .await;
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        if !check_body(&tally, "POST /signup", status, &body).await {
            continue;
        }
        let mut t = tally.lock().unwrap();
        t.requests += 2;
        if status == StatusCode::SEE_OTHER {
            t.signups.push(name);
        } else {
            t.failures.push(format!("POST /signup {name}: unexpected {status}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_clients_log_and_read_at_once() {
    let seconds = env_or("TONUS_CONCURRENCY_SECONDS", 10);
    let clients = env_or("TONUS_CONCURRENCY_CLIENTS", 32) as usize;
    // Several clients share each patient's token here, far beyond one script's allowance: the
    // allowance has its own test (limits.rs); this one is about the database under load.
    let config = tonus_server::Config {
        api_requests_per_minute: 1_000_000,
        // The sign-up writers below come from one address, far beyond a person's rate.
        signups_per_hour: 1_000_000,
        ..test_config()
    };
    for s in servers_with(config).await {
        let admin = s.setup_admin().await;
        let mut who = Vec::new();
        for p in 0..PATIENTS {
            let name = format!("patient{p}");
            s.add_user(&admin, &name, "patient").await;
            let session = s.login(&name).await;
            let r = session
                .json(
                    Method::POST,
                    "/api/tokens",
                    Some(serde_json::json!({"name": "load test"})),
                )
                .await;
            assert_eq!(r.status(), StatusCode::CREATED);
            let token: Value = r.json().await.unwrap();
            who.push((session, token["token"].as_str().unwrap().to_string()));
        }
        let tally = Arc::new(Mutex::new(Tally::default()));
        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for id in 0..clients {
            let patient = id % PATIENTS;
            // One client in four is a browser (session cookie, form post); the rest use tokens.
            let w = if id % 4 == 3 {
                let c = s.login(&format!("patient{patient}")).await;
                c.refresh_csrf("/").await;
                Who::Session(c)
            } else {
                Who::Token(TokenClient::new(&s.base, &who[patient].1))
            };
            tasks.push(tokio::spawn(client(w, patient, id, deadline, tally.clone())));
        }
        // Two writers beside the server, as `tonus log` run from a shell or a script would be.
        let second = Arc::new(match &s.raw {
            Raw::Sqlite(path) => Store::open_sqlite(path).await.unwrap(),
            Raw::Postgres { url, schema } => Store::open_postgres(url, Some(schema)).await.unwrap(),
        });
        let p0 = second.patient_by_handle("patient0").await.unwrap().unwrap();
        for id in 0..2 {
            tasks.push(tokio::spawn(other_process(
                second.clone(),
                p0.clone(),
                id,
                deadline,
                tally.clone(),
            )));
        }
        for id in 0..2 {
            tasks.push(tokio::spawn(signups(s.base.clone(), id, deadline, tally.clone())));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let elapsed = started.elapsed().as_secs_f64();
        second.close().await;

        // Every acknowledged write stored exactly once; nothing stored that was not acknowledged.
        let t = std::mem::take(&mut *tally.lock().unwrap());
        assert!(
            t.failures.is_empty(),
            "{}: {} bad answers, first ones: {:#?}",
            s.backend,
            t.failures.len(),
            &t.failures[..t.failures.len().min(10)]
        );
        let mut stored_total = 0;
        for p in 0..PATIENTS {
            let patient = s
                .store
                .patient_by_handle(&format!("patient{p}"))
                .await
                .unwrap()
                .unwrap();
            let rows = s.store.list_episodes(&patient, None, None).await.unwrap();
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for r in &rows {
                *counts.entry(r.value.notes().unwrap_or("").to_string()).or_default() += 1;
            }
            let acked = t.acked.get(&p).cloned().unwrap_or_default();
            for note in &acked {
                assert_eq!(counts.get(note), Some(&1), "{}: {note} of patient{p}", s.backend);
            }
            assert_eq!(
                rows.len(),
                acked.len(),
                "{}: patient{p} stored rows vs acknowledged writes",
                s.backend
            );
            stored_total += rows.len();
        }
        assert_eq!(stored_total as u64, t.writes_acked);
        // Sign-up adds server-drawn digits to the name typed: "new3x7" becomes "new3x7-0412".
        let users = s.store.list_users().await.unwrap();
        for name in &t.signups {
            let prefix = format!("{name}-");
            let made: Vec<_> = users.iter().filter(|u| u.username.starts_with(&prefix)).collect();
            assert!(
                made.len() == 1 && made[0].patient_id.is_some(),
                "{}: signup {name} lost or doubled",
                s.backend
            );
        }
        assert!(t.writes_acked > 0 && t.reads > 0);
        eprintln!(
            "[concurrency:{}] {clients} HTTP clients + 2 direct writers for {elapsed:.1} s: {} HTTP requests ({:.0}/s) and {} direct writes, {} writes acknowledged and each stored exactly once, {} reads, {} sign-ups, 0 server errors, 0 \"database is locked\"",
            s.backend,
            t.requests,
            t.requests as f64 / elapsed,
            t.direct,
            t.writes_acked,
            t.reads,
            t.signups.len()
        );
    }
}

/// Sends `notes.len()` episodes at once while another connection holds the SQLite write lock,
/// so all of them wait in the group-commit writer; releases the lock once every one is
/// queued, so they are written as one batch. One in four comes from the web form. Returns
/// each note with whether it was acknowledged and what an unacknowledged one was answered.
async fn one_batch(s: &Server, c: &Arc<Client>, notes: &[String]) -> Vec<(String, bool, String)> {
    use sqlx::Connection;
    let Raw::Sqlite(path) = &s.raw else {
        unreachable!("group commit is SQLite's")
    };
    let mut lock = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut lock).await.unwrap();
    let mut tasks = Vec::new();
    for (i, note) in notes.iter().enumerate() {
        let (c, note) = (c.clone(), note.clone());
        tasks.push(tokio::spawn(async move {
            if i % 4 == 3 {
                let r = c
                    .post_form(
                        "/episodes",
                        &[("kind", "cramp"), ("region", "left-calf"), ("notes", &note)],
                    )
                    .await;
                let ok = r.status() == StatusCode::SEE_OTHER && location(&r).starts_with("/?saved=1");
                let answer = format!("{} {}", r.status(), r.text().await.unwrap_or_default());
                (note, ok, answer)
            } else {
                let body = serde_json::json!({"kind": "jerk", "regions": ["back"], "notes": note});
                let r = c.json(Method::POST, "/api/episodes", Some(body)).await;
                let ok = r.status() == StatusCode::CREATED;
                let answer = format!("{} {}", r.status(), r.text().await.unwrap_or_default());
                (note, ok, answer)
            }
        }));
    }
    // The writer's own wait for the lock (busy timeout) is 10 s: release well before.
    let queued_by = Instant::now() + Duration::from_secs(8);
    while s.store.writes_waiting() < notes.len() {
        assert!(
            Instant::now() < queued_by,
            "only {} of {} writes reached the writer",
            s.store.writes_waiting(),
            notes.len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    lock.close().await.unwrap();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// A batch whose COMMIT fails answers an error to every request in it, and stores none of
/// them. The failure is SQLite's own: a trigger installed here makes an episode noted
/// "poison" leave a row that breaks a deferred foreign key, which is checked at COMMIT.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_group_commit_fails_every_request_in_it() {
    let s = sqlite(test_config()).await;
    let admin = s.setup_admin().await;
    s.add_user(&admin, "pat", "patient").await;
    let c = Arc::new(s.login("pat").await);
    c.refresh_csrf("/").await;
    s.raw_sql(
        "CREATE TABLE poison_parent (id INTEGER PRIMARY KEY);
         CREATE TABLE poison_child (parent INTEGER REFERENCES poison_parent (id) DEFERRABLE INITIALLY DEFERRED);
         CREATE TRIGGER poison AFTER INSERT ON episodes WHEN NEW.notes = 'poison'
         BEGIN INSERT INTO poison_child (parent) VALUES (-1); END;",
    )
    .await
    .unwrap();
    let patient = s.store.patient_by_handle("pat").await.unwrap().unwrap();

    // The same batch without the poison commits: holding the lock alone fails nothing.
    let good: Vec<String> = (0..8).map(|i| format!("good-{i}")).collect();
    for (note, ok, answer) in one_batch(&s, &c, &good).await {
        assert!(ok, "{note}: {answer}");
    }

    let mut bad: Vec<String> = (0..7).map(|i| format!("innocent-{i}")).collect();
    bad.insert(4, "poison".to_string());
    for (note, ok, answer) in one_batch(&s, &c, &bad).await {
        assert!(!ok, "{note} was acknowledged although its batch failed: {answer}");
        assert!(answer.starts_with("500"), "{note}: {answer}");
    }
    assert_eq!(s.store.writes_waiting(), 0);

    let stored: BTreeSet<String> = s
        .store
        .list_episodes(&patient, None, None)
        .await
        .unwrap()
        .iter()
        .map(|e| e.value.notes().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        stored,
        good.iter().cloned().collect::<BTreeSet<_>>(),
        "none of the failed batch is stored"
    );

    // The writer goes on after a failed batch.
    let r = c
        .json(
            Method::POST,
            "/api/episodes",
            Some(serde_json::json!({"kind": "jerk", "regions": ["back"], "notes": "after"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(s.store.list_episodes(&patient, None, None).await.unwrap().len(), 9);
}
