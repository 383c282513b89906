//! Every request body parser, through the real application: the axum router of `tonus
//! serve` with its middleware (CSRF, body limit, caller resolution) over a real SQLite file,
//! driven in-process with `oneshot`. The first input byte picks the route, the rest is the
//! body (a urlencoded form or JSON, as the route expects).
//!
//! A server error (500) means bad input reached a place that should have refused it (a
//! database constraint, say) and is a finding; so is an API refusal that does not name its
//! field as `{error, message, field, rule, value}` promises.
#![no_main]

use std::sync::{Arc, LazyLock};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use libfuzzer_sys::fuzz_target;
use tonus_domain::time::Zone;
use tonus_server::security::sha256_hex;
use tonus_server::{AppState, Config};
use tonus_store::{Role, Store};
use tower::ServiceExt;

#[derive(Clone, Copy)]
enum Who {
    Anonymous,
    Patient,
    Clinician,
    Admin,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Form,
    Json,
    /// The input is the query string of a GET.
    Query,
}

/// Routes that read a body (or a query), and who may call them. Routes whose only input is
/// a path id (revoke, delete) are left out: revoking the harness's own token would end the run.
const ROUTES: &[(&str, Who, Kind)] = &[
    ("/setup", Who::Anonymous, Kind::Form),
    ("/login", Who::Anonymous, Kind::Form),
    ("/signup", Who::Anonymous, Kind::Form),
    ("/episodes", Who::Patient, Kind::Form),
    ("/checkin", Who::Patient, Kind::Form),
    ("/sharing/invitations", Who::Patient, Kind::Form),
    ("/sharing/grant", Who::Patient, Kind::Form),
    ("/tokens", Who::Patient, Kind::Form),
    ("/trials", Who::Patient, Kind::Form),
    ("/calendar/feeds", Who::Patient, Kind::Form),
    ("/clinician/redeem", Who::Clinician, Kind::Form),
    ("/admin/users", Who::Admin, Kind::Form),
    ("/api/episodes", Who::Patient, Kind::Json),
    ("/api/checkins", Who::Patient, Kind::Json),
    ("/api/tokens", Who::Patient, Kind::Json),
    ("/checkin", Who::Patient, Kind::Query),
    ("/api/episodes", Who::Patient, Kind::Query),
    ("/calendar", Who::Patient, Kind::Query),
];

/// A double-submit CSRF token for the forms shown before sign-in.
const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct Harness {
    rt: tokio::runtime::Runtime,
    app: Router,
    _dir: tempfile::TempDir,
}

fn token(role: &str) -> String {
    format!("fuzz-{role}-token")
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temporary folder");
    let store = rt.block_on(async {
        let store = Store::open_sqlite(&dir.path().join("fuzz.db"))
            .await
            .expect("opening SQLite");
        let zone = Zone::parse("Europe/Paris").expect("zone");
        // An administrator exists, so /setup is closed as on a running installation. The
        // password hash is not a valid PHC string: nobody can sign in as these users.
        for (name, role) in [
            ("admin", Role::Admin),
            ("patient", Role::Patient),
            ("clinician", Role::Clinician),
        ] {
            let user = store
                .create_user(name, role, "!", &zone)
                .await
                .expect("creating a user");
            store
                .create_api_token(user.id, "fuzz", &sha256_hex(&token(name)), 0)
                .await
                .expect("creating a token");
        }
        store
    });
    let app = tonus_server::app(AppState::new(Arc::new(store), Config::default()));
    Harness { rt, app, _dir: dir }
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let (path, who, kind) = ROUTES[usize::from(selector) % ROUTES.len()];
    let h = &*HARNESS;
    let mut req = Request::builder();
    let body = match kind {
        Kind::Query => {
            // A query that is not a valid URI is refused by the HTTP parser before axum sees it.
            let Ok(q) = std::str::from_utf8(body) else {
                return;
            };
            let Ok(uri) = format!("{path}?{q}").parse::<axum::http::Uri>() else {
                return;
            };
            req = req.method(Method::GET).uri(uri);
            Body::empty()
        }
        Kind::Form | Kind::Json => {
            let content_type = if kind == Kind::Json {
                "application/json"
            } else {
                "application/x-www-form-urlencoded"
            };
            req = req
                .method(Method::POST)
                .uri(path)
                .header(header::CONTENT_TYPE, content_type);
            Body::from(body.to_vec())
        }
    };
    req = match who {
        Who::Anonymous => req
            .header(header::COOKIE, format!("__Host-tonus-csrf={CSRF}"))
            .header("x-csrf-token", CSRF),
        Who::Patient => req.header(header::AUTHORIZATION, format!("Bearer {}", token("patient"))),
        Who::Clinician => req.header(header::AUTHORIZATION, format!("Bearer {}", token("clinician"))),
        Who::Admin => req.header(header::AUTHORIZATION, format!("Bearer {}", token("admin"))),
    };
    let req = req.body(body).expect("building the request");
    let (status, text) = h.rt.block_on(async {
        let res = h.app.clone().oneshot(req).await.expect("the router is infallible");
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 4 << 20)
            .await
            .expect("reading the response");
        (status, bytes)
    });
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{path}: a server error on bad input: {}",
        String::from_utf8_lossy(&text)
    );
    if !matches!(who, Who::Anonymous) {
        assert_ne!(
            status,
            StatusCode::UNAUTHORIZED,
            "{path}: the harness's token was refused"
        );
    }
    let refused = status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY;
    if path.starts_with("/api/") && refused {
        let v: serde_json::Value = serde_json::from_slice(&text).expect("an API error is JSON");
        for key in ["error", "message", "field", "rule", "value"] {
            assert!(v.get(key).is_some(), "{path}: refusal without {key:?}: {v}");
        }
    }
});
