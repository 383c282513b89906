//! Opening a store: SQLite file (created on first use, WAL, synchronous=FULL) or PostgreSQL.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::error::{Context, StoreError};

pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A connected, migrated database.
pub struct Store {
    pub(crate) backend: Backend,
    location: String,
    /// Serialises this store's own audit appends, so they queue here rather than each holding
    /// a pooled connection while waiting for the database-wide lock (see `append_audit`).
    pub(crate) audit_append: tokio::sync::Mutex<()>,
    /// SQLite only: the writer that batches new episodes into group commits.
    pub(crate) group: Option<crate::group::GroupCommit>,
}

/// Runs `$body` with `$pool` bound to whichever pool the store has.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::connect::Backend::Sqlite($pool) => $body,
            $crate::connect::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Where the embedded database lives when none is given: `$XDG_DATA_HOME/tonus/tonus.db`,
/// else `~/.local/share/tonus/tonus.db`, else `./tonus.db`.
pub fn default_sqlite_path() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("share")));
    match base {
        Some(b) => b.join("tonus").join("tonus.db"),
        None => PathBuf::from("tonus.db"),
    }
}

impl Store {
    /// Opens `postgres://…`/`postgresql://…` URLs on PostgreSQL; anything else
    /// (`sqlite://path`, `sqlite:path` or a plain path) as an SQLite file.
    pub async fn open(location: &str) -> Result<Self, StoreError> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            Self::open_postgres(location, None).await
        } else {
            let path = location
                .strip_prefix("sqlite://")
                .or_else(|| location.strip_prefix("sqlite:"))
                .unwrap_or(location);
            Self::open_sqlite(Path::new(path)).await
        }
    }

    /// Opens (creating if needed) an SQLite file with the settings health data deserves:
    /// WAL so readers never block the writer, synchronous=FULL so an acknowledged write
    /// survives power loss, foreign keys on, and a busy timeout instead of "database is locked".
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        let location = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                location: location.clone(),
                reason: format!("cannot create folder {}: {e}", dir.display()),
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Open {
                location: location.clone(),
                reason: e.to_string(),
            })?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self {
            backend: Backend::Sqlite(pool),
            location,
            audit_append: tokio::sync::Mutex::new(()),
            group: Some(crate::group::GroupCommit::new(options)),
        })
    }

    /// Opens PostgreSQL; with `schema`, every table lives in that schema (created if missing),
    /// which is how tests run in parallel on one database.
    pub async fn open_postgres(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let redacted = redact(url);
        let open_err = |e: sqlx::Error| StoreError::Open {
            location: redacted.clone(),
            reason: e.to_string(),
        };
        let mut options = PgConnectOptions::from_str(url).map_err(open_err)?;
        if let Some(schema) = schema {
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await
                .map_err(open_err)?;
            let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
            match sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {quoted}"))
                .execute(&admin)
                .await
            {
                Ok(_) => {}
                // IF NOT EXISTS is not atomic: when two servers (or tests) create the same
                // schema at once, the loser gets a unique violation for a schema that exists.
                Err(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("23505" | "42P06")) => {}
                Err(e) => return Err(e).ctx("creating the schema"),
            }
            admin.close().await;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(open_err)?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self {
            backend: Backend::Postgres(pool),
            location: redacted,
            audit_append: tokio::sync::Mutex::new(()),
            group: None,
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Where the data lives (password removed).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Runs the backend's own consistency check (`PRAGMA integrity_check` on SQLite).
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        match &self.backend {
            Backend::Sqlite(pool) => {
                let row: (String,) = sqlx::query_as("PRAGMA integrity_check")
                    .fetch_one(pool)
                    .await
                    .ctx("checking integrity")?;
                Ok(row.0)
            }
            Backend::Postgres(pool) => {
                sqlx::query("SELECT 1")
                    .execute(pool)
                    .await
                    .ctx("checking the connection")?;
                Ok("ok".to_string())
            }
        }
    }

    /// Whether the database answers and every migration this build knows is applied: what a
    /// load balancer's readiness probe asks. `Err` says why not, in words for an operator.
    pub async fn readiness(&self) -> Result<(), String> {
        let (migrator, sql) = match &self.backend {
            Backend::Sqlite(_) => (
                sqlx::migrate!("./migrations/sqlite"),
                "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success = 1",
            ),
            Backend::Postgres(_) => (
                sqlx::migrate!("./migrations/postgres"),
                "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
            ),
        };
        let applied: i64 = on_pool!(self, pool => {
            sqlx::query_scalar(sql)
                .fetch_one(pool)
                .await
                .map_err(|e| format!("database not reachable: {e}"))?
        });
        let expected = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        if applied < expected {
            return Err(format!(
                "database schema at migration {applied}, this build needs {expected}"
            ));
        }
        Ok(())
    }

    /// Connections the pool holds now, and how many of them are idle (for metrics).
    pub fn pool_usage(&self) -> (u32, usize) {
        on_pool!(self, pool => (pool.size(), pool.num_idle()))
    }

    /// The most connections the pool opens.
    pub fn pool_max(&self) -> u32 {
        on_pool!(self, pool => pool.options().get_max_connections())
    }

    /// Rows handed to the group-commit writer and not yet answered (always 0 on PostgreSQL).
    pub fn writes_waiting(&self) -> usize {
        self.group.as_ref().map_or(0, |g| g.waiting())
    }

    pub async fn close(&self) {
        if let Some(g) = &self.group {
            g.close().await;
        }
        on_pool!(self, pool => pool.close().await)
    }
}

/// Removes a password from a URL before it is shown or logged.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
