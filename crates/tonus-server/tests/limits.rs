//! Limits on what one caller may cost the server, each answered with a clear error: the
//! allowance of a personal access token (429 + Retry-After), the request body size (413), the
//! request time (408), and failed sign-ins (429). Real server, real sockets.

mod common;

use std::time::Duration;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A new personal access token for `user`, made through the API as a script's owner would.
async fn token_for(s: &Server, user: &Client, name: &str) -> String {
    let r = user
        .json(Method::POST, "/api/tokens", Some(json!({ "name": name })))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", s.backend);
    let v: Value = r.json().await.unwrap();
    v["token"].as_str().unwrap().to_string()
}

async fn error_body(r: reqwest::Response) -> Value {
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("application/json"), "content type {ct}");
    r.json().await.unwrap()
}

/// Sends raw bytes and reads the answer until the server closes, so a test can stall
/// mid-request or stream a body of unknown length. The answer is read while writing: the
/// server may answer before the request is complete.
async fn raw_exchange(base: &str, head: String, body_chunks: Vec<Vec<u8>>, pause: Duration) -> String {
    let addr = base.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        if wr.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for chunk in body_chunks {
            if wr.write_all(&chunk).await.is_err() {
                return;
            }
        }
        // Hold the connection open without finishing the request (or after finishing it).
        tokio::time::sleep(pause).await;
        drop(wr);
    });
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, rd.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                // One answer is all we wait for.
                if let Some(text) = complete_answer(&buf) {
                    writer.abort();
                    return text;
                }
            }
        }
    }
    writer.abort();
    String::from_utf8_lossy(&buf).to_string()
}

/// The answer once its head and `content-length` bytes of body have arrived.
fn complete_answer(buf: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })?
        .parse()
        .ok()?;
    (body.len() >= len).then_some(text)
}

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

fn header_of<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    let head = answer.split("\r\n\r\n").next()?;
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn body_of(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("")
}

#[tokio::test]
async fn a_token_beyond_its_allowance_gets_429_with_retry_after() {
    let config = tonus_server::Config {
        api_requests_per_minute: 60,
        ..test_config()
    };
    for s in servers_with(config).await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let busy = TokenClient::new(&s.base, &token_for(&s, &anne, "busy script").await);
        let other = TokenClient::new(&s.base, &token_for(&s, &anne, "other script").await);

        let mut allowed = 0;
        let limited = loop {
            let r = busy.send(Method::GET, "/api/me", None).await;
            if r.status() == StatusCode::TOO_MANY_REQUESTS {
                break r;
            }
            assert_eq!(r.status(), StatusCode::OK);
            allowed += 1;
            assert!(allowed < 200, "[{}] no limit after {allowed} requests", s.backend);
        };
        // A burst of the whole allowance, plus what refilled (one a second) meanwhile.
        assert!(allowed >= 60, "[{}] only {allowed} requests allowed", s.backend);
        let retry: u64 = limited
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in seconds");
        assert_eq!(retry, 1, "60 a minute: one more in at most a second");
        let body = error_body(limited).await;
        assert_eq!(body["error"], "rate_limited");
        assert_eq!(
            body["message"],
            "too many requests with this token; wait 1 seconds and try again"
        );

        // A write refused for the allowance stores nothing. Sent next, before the allowance
        // refills (one a second): on a loaded machine the checks below can take that long.
        let r = busy
            .send(
                Method::POST,
                "/api/episodes",
                Some(r#"{"kind":"cramp","notes":"limited"}"#),
            )
            .await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        // Per token: another of the same user's tokens, and the user's session, are not held up.
        assert_eq!(other.send(Method::GET, "/api/me", None).await.status(), StatusCode::OK);
        assert_eq!(anne.get("/api/me").await.status(), StatusCode::OK);
        let patient = s
            .store
            .patient_by_id(s.patient_id("anne").await)
            .await
            .unwrap()
            .unwrap();
        assert!(s.store.list_episodes(&patient, None, None).await.unwrap().is_empty());

        tokio::time::sleep(Duration::from_secs(retry)).await;
        assert_eq!(busy.send(Method::GET, "/api/me", None).await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn bodies_above_the_limit_get_413_and_store_nothing() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let token = token_for(&s, &anne, "bulk").await;
        let api = TokenClient::new(&s.base, &token);
        let limit = tonus_server::Config::default().max_body_bytes;
        let patient = s
            .store
            .patient_by_id(s.patient_id("anne").await)
            .await
            .unwrap()
            .unwrap();
        let huge_note = "x".repeat(limit + 10);
        let body = json!({ "kind": "cramp", "notes": huge_note }).to_string();

        // Length announced: refused before the body is read.
        let r = api.send(Method::POST, "/api/episodes", Some(&body)).await;
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "[{}]", s.backend);
        let e = error_body(r).await;
        assert_eq!(e["error"], "too_large");
        assert_eq!(
            e["message"],
            format!("the request body is larger than the limit of {limit} bytes")
        );

        // Length not announced (chunked): refused once the limit is crossed while reading.
        let head = format!(
            "POST /api/episodes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let chunks: Vec<Vec<u8>> = body
            .as_bytes()
            .chunks(64 * 1024)
            .map(|c| {
                let mut v = format!("{:x}\r\n", c.len()).into_bytes();
                v.extend_from_slice(c);
                v.extend_from_slice(b"\r\n");
                v
            })
            .chain(std::iter::once(b"0\r\n\r\n".to_vec()))
            .collect();
        let answer = raw_exchange(&s.base, head, chunks, Duration::from_secs(5)).await;
        assert_eq!(status_of(&answer), 413, "{answer}");
        let e: Value = serde_json::from_str(body_of(&answer)).unwrap();
        assert_eq!(e["error"], "too_large");

        // A form too large for the CSRF check to read: a page with the reason, for browsers.
        let r = anne
            .post_form("/episodes", &[("kind", "cramp"), ("notes", &"y".repeat(100 * 1024))])
            .await;
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            r.headers()["x-frame-options"],
            "DENY",
            "security headers on limit answers"
        );
        let html = r.text().await.unwrap();
        assert!(html.contains("<html"), "{html}");
        assert!(html.contains("larger than the limit of 65536 bytes"), "{html}");

        assert!(s.store.list_episodes(&patient, None, None).await.unwrap().is_empty());
        // Just under the limit is fine: the limit is the only reason for the refusals above.
        let r = api
            .send(
                Method::POST,
                "/api/episodes",
                Some(r#"{"kind":"cramp","notes":"small"}"#),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
}

#[tokio::test]
async fn a_stalled_request_gets_408() {
    let config = tonus_server::Config {
        request_timeout: Duration::from_secs(1),
        ..test_config()
    };
    let s = sqlite(config).await;
    let admin = s.setup_admin().await;
    s.add_user(&admin, "anne", "patient").await;
    let anne = s.login("anne").await;
    let token = token_for(&s, &anne, "slow").await;

    // API: the body announced but never finished.
    let head = format!(
        "POST /api/episodes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    let started = std::time::Instant::now();
    let answer = raw_exchange(&s.base, head, vec![b"{\"kind\":".to_vec()], Duration::from_secs(10)).await;
    assert_eq!(status_of(&answer), 408, "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "cut off at the limit");
    assert!(header_of(&answer, "content-type")
        .unwrap_or("")
        .starts_with("application/json"));
    let e: Value = serde_json::from_str(body_of(&answer)).unwrap();
    assert_eq!(e["error"], "timeout");
    assert_eq!(
        e["message"],
        "the request was not completed within 1 seconds; try again"
    );

    // A page (a sign-in form that never finishes): an HTML page saying the same.
    let csrf = "a".repeat(64);
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: x\r\nCookie: __Host-tonus-csrf={csrf}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
    );
    let answer = raw_exchange(&s.base, head, vec![b"username=an".to_vec()], Duration::from_secs(10)).await;
    assert_eq!(status_of(&answer), 408, "{answer}");
    assert!(header_of(&answer, "content-type")
        .unwrap_or("")
        .starts_with("text/html"));
    assert!(body_of(&answer).contains("not completed within 1 seconds"), "{answer}");
    assert_eq!(header_of(&answer, "x-frame-options"), Some("DENY"));

    let patient = s
        .store
        .patient_by_id(s.patient_id("anne").await)
        .await
        .unwrap()
        .unwrap();
    assert!(s.store.list_episodes(&patient, None, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_with_a_clear_page() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let c = s.client();
        c.refresh_csrf("/login").await;
        let max = test_config().max_failures_per_account;
        for _ in 0..max {
            let r = c
                .post_form("/login", &[("username", "anne"), ("password", "wrong password!")])
                .await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        let r = c
            .post_form("/login", &[("username", "anne"), ("password", PASSWORD)])
            .await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "[{}]", s.backend);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("too many failed sign-ins; wait a few minutes and try again"),
            "{html}"
        );
        // No session was made: the right password during the lock-out does not sign in.
        assert_eq!(location(&c.get("/").await), "/login");
    }
}

/// Not a limit, but the same bare-status problem: a known path with another method.
#[tokio::test]
async fn a_wrong_method_gets_405_with_a_clear_error() {
    let s = sqlite(test_config()).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = http.put(format!("{}/api/episodes", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = r.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let e = error_body(r).await;
    assert_eq!(e["error"], "method_not_allowed");
}
