//! Test harness: a real server on 127.0.0.1 port 0 over a fresh SQLite file, and over a fresh
//! PostgreSQL schema when `TONUS_TEST_POSTGRES_URL` is set; cookie-keeping clients that talk
//! only to loopback and never follow redirects (tests assert them).

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Response, StatusCode};
use tonus_server::Config;
use tonus_store::Store;

pub const PASSWORD: &str = "correct horse battery staple";

pub enum Raw {
    Sqlite(std::path::PathBuf),
    Postgres { url: String, schema: String },
}

pub struct Server {
    pub base: String,
    pub store: Arc<Store>,
    pub raw: Raw,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn test_config() -> Config {
    Config {
        open_registration: true,
        max_failures_per_account: 3,
        max_failures_per_address: 8,
        ..Config::default()
    }
}

async fn start(store: Store, raw: Raw, dir: Option<tempfile::TempDir>, config: Config) -> Server {
    let backend = store.backend_name();
    let store = Arc::new(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let s = store.clone();
    tokio::spawn(async move {
        tonus_server::serve_on(listener, s, config, async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Server {
        base: format!("http://{addr}"),
        store,
        raw,
        backend,
        _dir: dir,
        shutdown: Some(tx),
    }
}

pub async fn sqlite(config: Config) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tonus.db");
    let store = Store::open_sqlite(&path).await.unwrap();
    start(store, Raw::Sqlite(path), Some(dir), config).await
}

pub async fn postgres(config: Config) -> Option<Server> {
    let url = std::env::var("TONUS_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let schema = format!(
        "srv_{}_{}_{}",
        std::process::id(),
        jiff::Timestamp::now().as_microsecond(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let store = Store::open_postgres(&url, Some(&schema)).await.unwrap();
    Some(start(store, Raw::Postgres { url, schema }, None, config).await)
}

/// One server per reachable backend.
pub async fn servers_with(config: Config) -> Vec<Server> {
    let mut v = vec![sqlite(config.clone()).await];
    if let Some(pg) = postgres(config).await {
        v.push(pg);
    }
    v
}

pub async fn servers() -> Vec<Server> {
    servers_with(test_config()).await
}

impl Server {
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// Runs raw SQL behind the application's back (an attacker with database access).
    pub async fn raw_sql(&self, sql: &str) -> Result<(), sqlx::Error> {
        match &self.raw {
            Raw::Sqlite(path) => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await?;
                let r = sqlx::raw_sql(sql).execute(&pool).await.map(|_| ());
                pool.close().await;
                r
            }
            Raw::Postgres { url, schema } => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(url)
                    .await?;
                let mut conn = pool.acquire().await?;
                sqlx::raw_sql(&format!("SET search_path TO \"{schema}\""))
                    .execute(&mut *conn)
                    .await?;
                let r = sqlx::raw_sql(sql).execute(&mut *conn).await.map(|_| ());
                drop(conn);
                pool.close().await;
                r
            }
        }
    }

    /// Creates the administrator through the first-start page and returns their client.
    pub async fn setup_admin(&self) -> Client {
        let c = self.client();
        let r = c.get("/").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/setup");
        c.refresh_csrf("/setup").await;
        let r = c
            .post_form("/setup", &[("username", "admin"), ("password", PASSWORD)])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
        c.refresh_csrf("/admin").await;
        c
    }

    /// Has the administrator create an account.
    pub async fn add_user(&self, admin: &Client, name: &str, role: &str) {
        let r = admin
            .post_form(
                "/admin/users",
                &[
                    ("username", name),
                    ("role", role),
                    ("password", PASSWORD),
                    ("time_zone", "Europe/Paris"),
                ],
            )
            .await;
        let status = r.status();
        let body = r.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("Created"), "{body}");
    }

    /// Signs in and returns the client, its CSRF token loaded.
    pub async fn login(&self, name: &str) -> Client {
        let c = self.client();
        c.refresh_csrf("/login").await;
        let r = c
            .post_form("/login", &[("username", name), ("password", PASSWORD)])
            .await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "login {name}: {}",
            r.text().await.unwrap()
        );
        c.refresh_csrf("/sessions").await;
        c
    }

    /// The patient record of the account `name`.
    pub async fn patient(&self, name: &str) -> tonus_domain::Patient {
        let id = self.patient_id(name).await;
        self.store.patient_by_id(id).await.unwrap().unwrap()
    }

    pub async fn patient_id(&self, name: &str) -> i64 {
        self.store
            .user_by_username(name)
            .await
            .unwrap()
            .unwrap()
            .patient_id
            .unwrap()
    }
}

pub fn location(r: &Response) -> String {
    r.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The first `value="…"` after `marker` in an HTML page.
pub fn value_after(html: &str, marker: &str) -> Option<String> {
    let at = html.find(marker)?;
    let rest = &html[at..];
    let v = rest.find("value=\"")? + 7;
    let end = rest[v..].find('"')?;
    Some(rest[v..v + end].to_string())
}

pub fn text_between(html: &str, start: &str, end: &str) -> Option<String> {
    let a = html.find(start)? + start.len();
    let b = html[a..].find(end)?;
    Some(html[a..a + b].to_string())
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    csrf: Mutex<String>,
}

impl Client {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .build()
            .unwrap();
        Self {
            http,
            base: base.to_string(),
            csrf: Mutex::new(String::new()),
        }
    }

    /// A client whose connections come from `local` (any 127.0.0.x works on Linux loopback),
    /// so a test can play several addresses against one server.
    pub fn from_address(base: &str, local: std::net::IpAddr) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .local_address(local)
            .build()
            .unwrap();
        Self {
            http,
            base: base.to_string(),
            csrf: Mutex::new(String::new()),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn csrf(&self) -> String {
        self.csrf.lock().unwrap().clone()
    }

    pub fn set_csrf(&self, v: &str) {
        *self.csrf.lock().unwrap() = v.to_string();
    }

    /// Loads a page and keeps the CSRF token its forms carry.
    pub async fn refresh_csrf(&self, page: &str) -> String {
        let r = self.get(page).await;
        let status = r.status();
        let html = r.text().await.unwrap();
        let token =
            value_after(&html, "name=\"csrf\"").unwrap_or_else(|| panic!("no csrf on {page} ({status}): {html}"));
        self.set_csrf(&token);
        token
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        (r.status(), r.text().await.unwrap())
    }

    /// Posts a form with the current CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut all: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, v.to_string())).collect();
        all.push(("csrf", self.csrf()));
        self.http.post(self.url(path)).form(&all).send().await.unwrap()
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.http.post(self.url(path)).form(fields).send().await.unwrap()
    }

    /// A JSON request with the session's CSRF header.
    pub async fn json(&self, method: reqwest::Method, path: &str, body: Option<serde_json::Value>) -> Response {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("x-csrf-token", self.csrf());
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }
}

/// A client for scripts: no cookies, a bearer token.
pub struct TokenClient {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl TokenClient {
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            base: base.to_string(),
            token: token.to_string(),
        }
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<&str>) -> Response {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        req.send().await.unwrap()
    }
}
