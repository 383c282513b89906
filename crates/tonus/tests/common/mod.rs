//! The real `tonus` binary against a fresh database: an SQLite file always, a PostgreSQL
//! schema of its own when `TONUS_TEST_POSTGRES_URL` is set.

#![allow(dead_code)]

use std::process::{Command, Output};

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
    let schema = format!(
        "cli_{tag}_{}_{}",
        std::process::id(),
        jiff::Timestamp::now().as_microsecond()
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
    Command::new(env!("CARGO_BIN_EXE_tonus"))
        .args(args)
        .env("TONUS_DATABASE_URL", &db.url)
        .env("TZ", "Europe/Paris")
        .env_remove("TONUS_PATIENT")
        .output()
        .expect("run tonus")
}
