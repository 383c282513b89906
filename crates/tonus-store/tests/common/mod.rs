//! Test backends: a fresh SQLite file always; a fresh PostgreSQL schema when
//! `TONUS_TEST_POSTGRES_URL` is set, so tests run in parallel without seeing each other.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use tonus_store::Store;

pub struct TestStore {
    pub store: Store,
    // Keeps the SQLite folder alive as long as the store.
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_sqlite(&dir.path().join("tonus.db"))
        .await
        .expect("open sqlite");
    TestStore { store, _dir: Some(dir) }
}

pub fn postgres_url() -> Option<String> {
    std::env::var("TONUS_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())
}

pub async fn postgres() -> Option<TestStore> {
    let url = postgres_url()?;
    let schema = format!(
        "t_{}_{}_{}",
        std::process::id(),
        jiff::Timestamp::now().as_microsecond(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let store = Store::open_postgres(&url, Some(&schema)).await.expect("open postgres");
    Some(TestStore { store, _dir: None })
}

/// Every backend this run can reach.
pub async fn all() -> Vec<TestStore> {
    let mut v = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        v.push(pg);
    }
    v
}
