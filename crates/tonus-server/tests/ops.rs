//! Operations: the health probes (outside sessions and CSRF), readiness failing when the schema
//! is behind, Prometheus metrics on their own listener only (route templates, never raw
//! paths), and which forwarded addresses are believed.

mod common;

use std::sync::Arc;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tonus_server::Config;
use tonus_store::Store;

#[tokio::test]
async fn probes_answer_without_sessions_or_csrf() {
    for s in servers().await {
        let c = s.client();
        for (path, body) in [("/healthz", "ok\n"), ("/readyz", "ready\n")] {
            // With a stale session cookie too: a probe must not look it up or clear it.
            let r = c
                .http
                .get(c.url(path))
                .header("cookie", "__Host-tonus-session=deadbeef")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "[{}] {path}", s.backend);
            assert!(
                r.headers().get("set-cookie").is_none(),
                "[{}] {path} sets a cookie",
                s.backend
            );
            assert_eq!(r.headers()["cache-control"], "no-store");
            assert_eq!(r.text().await.unwrap(), body);
        }
        // Metrics are off by default, and never on the application's listener.
        assert_eq!(c.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn readyz_is_503_with_a_reason_when_the_schema_is_behind() {
    for s in servers().await {
        s.raw_sql("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
            .await
            .unwrap();
        let r = s.client().get("/readyz").await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "[{}]", s.backend);
        let body = r.text().await.unwrap();
        assert!(body.starts_with("not ready: database schema at migration"), "{body}");
        // Still alive: liveness says nothing about the database.
        assert_eq!(s.client().get("/healthz").await.status(), StatusCode::OK);
    }
}

/// A server with metrics on a second loopback listener; returns (app base, metrics base).
async fn with_metrics(store: Arc<Store>) -> (String, String, tokio::sync::oneshot::Sender<()>) {
    let app = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bases = (
        format!("http://{}", app.local_addr().unwrap()),
        format!("http://{}", metrics.local_addr().unwrap()),
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        tonus_server::serve_with(app, Some(metrics), store, test_config(), async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (bases.0, bases.1, tx)
}

#[tokio::test]
async fn metrics_count_route_templates_on_their_own_listener() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open_sqlite(&dir.path().join("tonus.db")).await.unwrap());
    let (base, metrics_base, _stop) = with_metrics(store.clone()).await;
    let c = Client::new(&base);
    // Anonymous calls are enough: the labels are what is tested.
    for id in [101, 202, 303] {
        let r = c.get(&format!("/api/episodes/{id}")).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(c.get("/no/such/page/4242").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(c.get("/healthz").await.status(), StatusCode::OK);
    let r = c
        .json(Method::POST, "/api/episodes", Some(json!({"kind": "twitch"})))
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = http.get(format!("{metrics_base}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = r.text().await.unwrap();
    let line = |needle: &str| {
        text.lines()
            .find(|l| !l.starts_with('#') && l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle} in:\n{text}"))
            .to_string()
    };
    assert!(line(r#"tonus_http_requests_total{method="GET",route="/api/episodes/{id}",status="401"}"#).ends_with(" 3"));
    assert!(line(r#"tonus_http_requests_total{method="GET",route="unmatched",status="404"}"#).ends_with(" 1"));
    assert!(line(r#"tonus_http_requests_total{method="GET",route="/healthz",status="200"}"#).ends_with(" 1"));
    line(r#"tonus_http_requests_total{method="POST",route="/api/episodes",status="401"}"#);
    assert!(
        text.lines()
            .any(|l| l.starts_with("tonus_http_request_duration_seconds_bucket{")
                && l.contains(r#"route="/api/episodes/{id}""#)
                && l.contains(r#"le="0.1""#)),
        "no latency histogram for the route template:\n{text}"
    );
    line(r#"tonus_db_pool_connections{state="idle"}"#);
    line(r#"tonus_db_pool_connections{state="in_use"}"#);
    let max = line("tonus_db_pool_max_connections ");
    assert!(max.ends_with(" 4"), "{max}\n{text}");
    // Only label values are checked: sample values (durations) may contain any digits.
    for route in text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split("route=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
    {
        for raw in ["101", "202", "303", "4242", "/no/such"] {
            assert!(
                !route.contains(raw),
                "a raw path leaked into the metrics ({raw} in route {route}):\n{text}"
            );
        }
    }
    // The metrics listener serves nothing else.
    let r = http.get(format!("{metrics_base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // And the application's listener does not serve /metrics.
    assert_eq!(c.get("/metrics").await.status(), StatusCode::NOT_FOUND);
}

/// Signs `name` in with an `X-Forwarded-For` header; returns the address the server recorded
/// for the new session.
async fn signin_address(s: &Server, name: &str, forwarded_for: &str) -> String {
    let c = s.client();
    c.refresh_csrf("/login").await;
    let r = c
        .http
        .post(c.url("/login"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[("username", name), ("password", PASSWORD), ("csrf", &c.csrf())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let user = s.store.user_by_username(name).await.unwrap().unwrap();
    let mut sessions = s.store.list_sessions(user.id).await.unwrap();
    sessions.sort_by_key(|x| x.id);
    sessions.last().unwrap().address.clone()
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    // The test client connects from 127.0.0.1: trusted in one server, not in the other.
    let trusting = Config {
        trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
        ..test_config()
    };
    for (config, expected) in [(test_config(), "127.0.0.1"), (trusting, "198.51.100.7")] {
        for s in servers_with(config.clone()).await {
            let admin = s.setup_admin().await;
            s.add_user(&admin, "anne", "patient").await;
            // The first entry is what a client could forge; the right-most untrusted one counts.
            let got = signin_address(&s, "anne", "203.0.113.66, 198.51.100.7").await;
            assert_eq!(got, expected, "[{}] trusted {:?}", s.backend, config.trusted_proxies);
            // The audit log records the same address.
            let audit = s.store.list_audit(None, 10).await.unwrap();
            let signin = audit
                .iter()
                .find(|a| a.action == "signin" && a.actor == "anne")
                .unwrap();
            assert_eq!(signin.address, expected);
        }
    }
}
