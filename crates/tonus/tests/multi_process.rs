//! Several `tonus serve` processes on one database behave as one server, as they must behind
//! a load balancer: two real server processes (nothing in memory in common) on one PostgreSQL
//! schema, and on one SQLite file, and one client population talking to both.
//!
//! Shown: a sign-in throttle reached through A holds on B; a session cookie A issued works on
//! B, and signing out on A ends it on B; a token's request allowance spent on A is enforced on
//! B; an invitation code redeemed through both at once grants once; and after concurrent
//! audited requests through both, `tonus audit verify` finds one intact chain.
//!
//! Figures on stderr: `cargo test -p tonus --test multi_process -- --nocapture`.

mod common;

use common::{bin, csrf_of, run_ok, PASSWORD};

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

/// The token allowance both servers are started with: small, so a few requests spend it.
const PER_MINUTE: u32 = 5;
/// The default sign-in limit per account (`tonus serve` has no flag for it).
const MAX_FAILURES: usize = 5;

/// A `tonus serve` process, killed when dropped (also when an assertion fails).
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &str) -> Server {
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--api-requests-per-minute", &PER_MINUTE.to_string()])
        .env("TONUS_DATABASE_URL", db)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .strip_prefix("Tonus listening on http://")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        base: format!("http://{addr}"),
    }
}

/// A browser: keeps cookies (which, like a browser's, do not depend on the port, so one client
/// talking to both servers is one user behind a load balancer) and never follows redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .unwrap()
}

/// A client without cookies: what it sends, the test wrote by hand.
fn bare() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .unwrap()
}

fn text_between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)?;
    Some(&s[i..i + j])
}

async fn page(c: &reqwest::Client, url: &str) -> String {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "GET {url}");
    r.text().await.unwrap()
}

/// Signs in through the server at `base`; returns the answer's status and the session cookie
/// it set (`name=value`), if any.
async fn sign_in(c: &reqwest::Client, base: &str, user: &str, password: &str) -> (StatusCode, Option<String>) {
    let csrf = csrf_of(&page(c, &format!("{base}/login")).await);
    let r = c
        .post(format!("{base}/login"))
        .form(&[("username", user), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-tonus-session=") && !v.starts_with("__Host-tonus-session=;"))
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    (r.status(), cookie)
}

/// Posts a form as the signed-in user `c` (whose session's CSRF token `csrf` is).
async fn post_form(c: &reqwest::Client, url: &str, csrf: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut f: Vec<(&str, &str)> = fields.to_vec();
    f.push(("csrf", csrf));
    c.post(url).form(&f).send().await.unwrap()
}

/// GET /api/me sending exactly this cookie.
async fn me_with_cookie(base: &str, cookie: &str) -> reqwest::Response {
    bare()
        .get(format!("{base}/api/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

async fn two_servers_behave_as_one(db: &str, backend: &str) {
    let started = Instant::now();
    let add = |role: &str, name: &str| {
        let mut args = vec!["user", "add", "--role", role, name, "--password-stdin"];
        if role == "patient" {
            args.extend(["--time-zone", "Europe/Paris"]);
        }
        run_ok(db, &args, &format!("{PASSWORD}\n"));
    };
    add("patient", "anne");
    add("patient", "bob");
    let docs = ["doc0@clinic", "doc1@clinic", "doc2@clinic", "doc3@clinic"];
    for d in docs {
        add("clinician", d);
    }
    let a = serve(db);
    let b = serve(db);
    assert_ne!(a.base, b.base);
    let servers = [a.base.as_str(), b.base.as_str()];

    // (b) A session made on A works on B; signing out on A ends it on B.
    let anne = browser();
    let (status, cookie) = sign_in(&anne, &a.base, "anne", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{backend}] sign-in on A");
    let cookie = cookie.expect("A sets a session cookie");
    let r = me_with_cookie(&b.base, &cookie).await;
    assert_eq!(r.status(), StatusCode::OK, "[{backend}] A's session cookie on B");
    let me: serde_json::Value = r.json().await.unwrap();
    assert_eq!(me["username"], "anne");
    let anne_id = me["patient_id"].as_i64().unwrap();
    // A second browser session of Anne's, to sign out of on A.
    let leaving = browser();
    let (_, leaving_cookie) = sign_in(&leaving, &b.base, "anne", PASSWORD).await;
    let leaving_cookie = leaving_cookie.expect("B sets a session cookie");
    let csrf = csrf_of(&page(&leaving, &format!("{}/account", b.base)).await);
    let r = leaving
        .post(format!("{}/logout", a.base))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "[{backend}] sign-out on A");
    let r = me_with_cookie(&b.base, &leaving_cookie).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "[{backend}] a session ended on A is over on B"
    );
    assert_eq!(
        me_with_cookie(&b.base, &cookie).await.status(),
        StatusCode::OK,
        "the other session lives on"
    );

    // (a) A sign-in throttle reached through A holds on B.
    let mallory = browser();
    for i in 0..MAX_FAILURES {
        let (status, _) = sign_in(&mallory, &a.base, "bob", "wrong password, guessed").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "[{backend}] failure {i} on A");
    }
    let (status, cookie) = sign_in(&mallory, &b.base, "bob", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "[{backend}] B refuses even the right password once A saw {MAX_FAILURES} failures"
    );
    assert!(cookie.is_none());

    // (c) A token's allowance spent on A is enforced on B.
    let csrf = csrf_of(&page(&anne, &format!("{}/tokens", a.base)).await);
    let r = anne
        .post(format!("{}/api/tokens", a.base))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"name": "script"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let token = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let api = bare();
    let call = |base: &str| api.get(format!("{base}/api/me")).bearer_auth(&token).send();
    for i in 0..PER_MINUTE as usize {
        // Alternating: neither server alone sees the whole burst.
        let r = call(servers[i % 2]).await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "[{backend}] request {i} within the allowance"
        );
    }
    for (name, base) in [("B", &b.base), ("A", &a.base)] {
        let r = call(base).await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "[{backend}] {name} enforces the allowance spent through both"
        );
        let retry: u64 = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in seconds");
        assert!(
            (1..=12).contains(&retry),
            "5 a minute: one back within 12 s, said {retry}"
        );
    }

    // (d) An invitation code redeemed through both at once grants once.
    let doc_clients: Vec<(reqwest::Client, String)> = {
        let mut v = Vec::new();
        for (i, d) in docs.iter().enumerate() {
            let c = browser();
            let (status, _) = sign_in(&c, servers[i % 2], d, PASSWORD).await;
            assert_eq!(status, StatusCode::SEE_OTHER);
            let csrf = csrf_of(&page(&c, &format!("{}/clinician", servers[(i + 1) % 2])).await);
            v.push((c, csrf));
        }
        v
    };
    let anne_csrf = csrf_of(&page(&anne, &format!("{}/sharing", a.base)).await);
    let rounds = 6;
    for round in 0..rounds {
        let html = post_form(
            &anne,
            &format!("{}/sharing/invitations", servers[round % 2]),
            &anne_csrf,
            &[],
        )
        .await
        .text()
        .await
        .unwrap();
        let code = text_between(&html, "<strong class=\"code\">", "</strong>")
            .expect("the new code")
            .to_string();
        let tries: Vec<_> = doc_clients
            .iter()
            .enumerate()
            .map(|(i, (c, csrf))| {
                let (c, csrf, code) = (c.clone(), csrf.clone(), code.clone());
                let url = format!("{}/clinician/redeem", servers[i % 2]);
                tokio::spawn(async move { post_form(&c, &url, &csrf, &[("code", &code)]).await.status() })
            })
            .collect();
        let mut statuses = Vec::new();
        for t in tries {
            statuses.push(t.await.unwrap());
        }
        let spent = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
            .count();
        assert_eq!(
            (spent, refused),
            (1, docs.len() - 1),
            "[{backend}] round {round}: {statuses:?}"
        );
    }

    // Whoever won the codes, every clinician gets access now (by user name, through A).
    for d in docs {
        let r = post_form(
            &anne,
            &format!("{}/sharing/grant", a.base),
            &anne_csrf,
            &[("clinician", d)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
    }

    // (e) Concurrent audited requests through both, then one intact chain.
    let mut tasks = Vec::new();
    let views_each = 15;
    for (i, (c, _)) in doc_clients.iter().enumerate() {
        let c = c.clone();
        let servers = [a.base.clone(), b.base.clone()];
        tasks.push(tokio::spawn(async move {
            let mut ok = 0;
            for n in 0..views_each {
                // Each clinician alternates servers, and the pairs start on different ones.
                let url = format!("{}/api/clinician/patients/{anne_id}/episodes", servers[(i + n) % 2]);
                let r = c.get(url).send().await.unwrap();
                if r.status() == StatusCode::OK {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let sign_ins = 6;
    for i in 0..sign_ins {
        let base = servers[i % 2].to_string();
        tasks.push(tokio::spawn(async move {
            let (status, _) = sign_in(&browser(), &base, "anne", PASSWORD).await;
            usize::from(status == StatusCode::SEE_OTHER)
        }));
    }
    let mut audited = 0;
    for t in tasks {
        audited += t.await.unwrap();
    }
    let expected_audited = docs.len() * views_each + sign_ins;
    assert_eq!(audited, expected_audited, "[{backend}] every audited request succeeded");

    let out = run_ok(db, &["audit", "verify"], "");
    let rows: u64 = text_between(&out, "Audit log intact: ", " rows")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("[{backend}] audit verify said {out:?}"));
    // Everything above that is audited: sign-ins (3 + 4 + 6), one sign-out, one throttled
    // sign-in and 5 failures, the invitations and grants, the views; plus the CLI's accounts.
    assert!(
        rows as usize >= expected_audited + 2 * rounds,
        "[{backend}] only {rows} audit rows"
    );
    drop(a);
    drop(b);
    eprintln!(
        "[multi:{backend}] two `tonus serve` processes on one database: session, sign-out, throttle, token allowance ({PER_MINUTE}/min) and {rounds} contested invitation codes held across them; {audited} concurrent audited requests through both; audit chain of {rows} rows verifies; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_postgres_behave_as_one() {
    let Some(db) = common::postgres_db("multi").await else {
        eprintln!("[multi:postgres] skipped: TONUS_TEST_POSTGRES_URL is not set");
        return;
    };
    two_servers_behave_as_one(&db.url, "postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_sqlite_file_behave_as_one() {
    let db = common::sqlite_db();
    two_servers_behave_as_one(&db.url, "sqlite").await;
}
