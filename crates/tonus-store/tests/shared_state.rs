//! State several server processes share through the database: two `Store`s opened on one
//! database (two pools, nothing in memory in common: what two processes would have) race for
//! the same token allowance, invitation code and audit chain, on every reachable backend.

mod common;

use std::sync::Arc;

use tonus_domain::time::Zone;
use tonus_store::allowance::{self, Bucket};
use tonus_store::{Allowance, AuditEvent, Redeemed, Role, Store};

/// Two stores on one fresh database per reachable backend, and what keeps it alive.
async fn pairs() -> Vec<(Arc<Store>, Arc<Store>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tonus.db");
    let mut v = vec![(
        Arc::new(Store::open_sqlite(&path).await.unwrap()),
        Arc::new(Store::open_sqlite(&path).await.unwrap()),
        Some(dir),
    )];
    if let Some(url) = common::postgres_url() {
        // Tests run in parallel threads: the clock alone can give two of them one name.
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let schema = format!(
            "shared_{}_{}_{}",
            std::process::id(),
            jiff::Timestamp::now().as_microsecond(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        v.push((
            Arc::new(Store::open_postgres(&url, Some(&schema)).await.unwrap()),
            Arc::new(Store::open_postgres(&url, Some(&schema)).await.unwrap()),
            None,
        ));
    }
    v
}

async fn token(s: &Store, owner: &str, hash: &str) {
    let user = match s.user_by_username(owner).await.unwrap() {
        Some(u) => u,
        None => s.create_user(owner, Role::Patient, "h", &Zone::utc()).await.unwrap(),
    };
    s.create_api_token(user.id, hash, hash, 0).await.unwrap();
}

#[tokio::test]
async fn the_stored_allowance_follows_the_model_exactly() {
    // Irregular steps, a lagging clock, long idle gaps, several tokens and rates.
    let steps: Vec<(&str, i64)> = (0..200)
        .map(|i: i64| {
            let key = ["a", "b", "c"][(i * 7 % 3) as usize];
            let now = i * 137 + (i % 11) * 911 - (i % 13 == 0) as i64 * 5_000 + (i / 67) * 300_000;
            (key, now)
        })
        .collect();
    for per_minute in [1u32, 7, 60] {
        for t in common::all().await {
            let s = &t.store;
            for k in ["a", "b", "c"] {
                token(s, "anne", k).await;
            }
            let mut model: std::collections::HashMap<&str, Bucket> = Default::default();
            let (mut granted, mut refused) = (0, 0);
            for (i, (key, now)) in steps.iter().enumerate() {
                let (b, expected) = allowance::take(model.get(key).copied(), per_minute, *now);
                model.insert(key, b);
                let got = s.take_token_allowance(key, per_minute, *now).await.unwrap();
                assert_eq!(
                    got,
                    expected,
                    "[{}] {per_minute}/min, step {i} ({key} at {now})",
                    s.backend_name()
                );
                assert_eq!(
                    s.token_allowance(key).await.unwrap(),
                    Some(b),
                    "[{}] step {i}",
                    s.backend_name()
                );
                match got {
                    Allowance::Granted => granted += 1,
                    Allowance::Refused { .. } => refused += 1,
                }
            }
            assert!(granted > 0, "nothing granted at {per_minute}/min");
            if per_minute <= 7 {
                assert!(
                    refused > 0,
                    "nothing refused at {per_minute}/min: the steps test too little"
                );
            }
        }
    }
}

#[tokio::test]
async fn two_stores_spend_from_one_allowance() {
    for (one, two, _dir) in pairs().await {
        token(&one, "anne", "busy").await;
        // 40 requests at the same instant through both, 20 at a time each: exactly the
        // burst of 25 is granted, however they interleave.
        let mut tasks = Vec::new();
        for i in 0..40 {
            let s = if i % 2 == 0 { one.clone() } else { two.clone() };
            tasks.push(tokio::spawn(async move {
                s.take_token_allowance("busy", 25, 1_000).await.unwrap()
            }));
        }
        let mut granted = 0;
        for t in tasks {
            match t.await.unwrap() {
                Allowance::Granted => granted += 1,
                Allowance::Refused { retry_after_s } => assert_eq!(retry_after_s, 3, "60 s / 25 = 2.4 s"),
            }
        }
        assert_eq!(granted, 25, "[{}]", one.backend_name());
    }
}

#[tokio::test]
async fn a_code_redeemed_through_two_stores_at_once_grants_once() {
    for (one, two, _dir) in pairs().await {
        let zone = Zone::utc();
        let anne = one.create_user("anne", Role::Patient, "h", &zone).await.unwrap();
        let pid = anne.patient_id.unwrap();
        let mut docs = Vec::new();
        for i in 0..6 {
            docs.push(
                one.create_user(&format!("doc{i}@clinic"), Role::Clinician, "h", &zone)
                    .await
                    .unwrap()
                    .id,
            );
        }
        for round in 0..10 {
            let code = format!("code-{round}");
            one.create_invitation(pid, &code, 0, i64::MAX).await.unwrap();
            let mut tasks = Vec::new();
            for (i, doc) in docs.iter().copied().enumerate() {
                let s = if i % 2 == 0 { one.clone() } else { two.clone() };
                let code = code.clone();
                tasks.push(tokio::spawn(async move {
                    s.redeem_invitation(&code, doc, 10).await.unwrap()
                }));
            }
            let mut spent = 0;
            for t in tasks {
                if t.await.unwrap() != Redeemed::Invalid {
                    spent += 1;
                }
            }
            assert_eq!(spent, 1, "[{}] round {round}", one.backend_name());
        }
    }
}

#[tokio::test]
async fn audit_appends_through_two_stores_keep_one_chain() {
    for (one, two, _dir) in pairs().await {
        let mut tasks = Vec::new();
        for i in 0..120 {
            let s = if i % 2 == 0 { one.clone() } else { two.clone() };
            tasks.push(tokio::spawn(async move {
                s.append_audit(&AuditEvent {
                    at_ms: 1_700_000_000_000 + i,
                    actor_id: None,
                    actor: format!("writer{}", i % 2),
                    patient_id: None,
                    action: "test".to_string(),
                    address: "127.0.0.1".to_string(),
                    detail: i.to_string(),
                })
                .await
                .unwrap()
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        for s in [&one, &two] {
            let v = s.verify_audit().await.unwrap();
            assert_eq!(v.rows, 120, "[{}]", s.backend_name());
            assert!(v.first_bad.is_none(), "[{}] {v:?}", s.backend_name());
        }
    }
}

#[tokio::test]
async fn token_use_is_noted_at_most_once_a_minute() {
    for t in common::all().await {
        let s = &t.store;
        token(s, "anne", "t").await;
        let last_used = || async { s.list_api_tokens(1).await.unwrap()[0].last_used_at_ms };
        assert_eq!(last_used().await, None);
        assert!(s.api_token_use("t", 1_000).await.unwrap().is_some());
        assert_eq!(last_used().await, Some(1_000));
        // Within the minute, no write: the allowance take is the request's one write.
        assert!(s.api_token_use("t", 60_999).await.unwrap().is_some());
        assert_eq!(last_used().await, Some(1_000));
        assert!(s.api_token_use("t", 61_000).await.unwrap().is_some());
        assert_eq!(last_used().await, Some(61_000));
    }
}
