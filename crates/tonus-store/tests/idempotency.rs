//! `Store::write_once` on every backend: concurrent writes with one key store one record and
//! all get the first answer; the same key with another body is refused; keys are per
//! patient; a check-in answered before the stored one is not applied.

mod common;

use std::sync::Arc;

use jiff::Timestamp;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::time::Zone;
use tonus_domain::*;
use tonus_store::{IdempotencyKey, KeyedWrite, RenderAnswer, StoreError};

fn paris() -> Zone {
    Zone::parse("Europe/Paris").unwrap()
}

fn episode() -> Episode {
    let now: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
    EpisodeDraft {
        kind: "cramp".into(),
        ..Default::default()
    }
    .validate(
        LocalInstant {
            at: "2026-11-20T02:10:00Z".parse().unwrap(),
            zone: paris(),
        },
        now,
    )
    .unwrap()
}

fn key(k: &str, hash: &str) -> IdempotencyKey {
    IdempotencyKey {
        key: k.into(),
        route: "POST /api/episodes".into(),
        body_hash: hash.into(),
    }
}

fn render() -> RenderAnswer {
    Arc::new(|id| match id {
        Some(id) => Ok((201, format!("{{\"id\":{id}}}"))),
        None => Ok((409, "{}".into())),
    })
}

#[tokio::test]
async fn concurrent_writes_with_one_key_store_one_episode() {
    for t in common::all().await {
        // The whole test store (its SQLite folder included) lives as long as the tasks.
        let t = Arc::new(t);
        let store = &t.store;
        let anne = store.create_patient("anne", &paris()).await.unwrap();
        let paul = store.create_patient("paul", &paris()).await.unwrap();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (t, anne) = (t.clone(), anne.clone());
                tokio::spawn(async move {
                    t.store
                        .write_once(&anne, &key("k1", "h1"), KeyedWrite::Episode(episode()), render())
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        assert_eq!(answers.iter().filter(|a| !a.replayed).count(), 1, "{answers:?}");
        assert!(answers.iter().all(|a| a.status == 201 && a.body == answers[0].body));
        assert_eq!(store.list_episodes(&anne, None, None).await.unwrap().len(), 1);

        let refused = store
            .write_once(&anne, &key("k1", "h2"), KeyedWrite::Episode(episode()), render())
            .await;
        match refused {
            Err(StoreError::Invalid(e)) => assert_eq!(e.field, "Idempotency-Key"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Another patient's key space is their own.
        let theirs = store
            .write_once(&paul, &key("k1", "h1"), KeyedWrite::Episode(episode()), render())
            .await
            .unwrap();
        assert!(!theirs.replayed);
        assert_eq!(store.list_episodes(&anne, None, None).await.unwrap().len(), 1);
        assert_eq!(store.count_idempotency_keys().await.unwrap(), 2);
    }
}

#[tokio::test]
async fn the_check_in_answered_last_wins() {
    for t in common::all().await {
        let store = t.store;
        let anne = store.create_patient("anne", &paris()).await.unwrap();
        let now: Timestamp = "2026-11-21T12:00:00Z".parse().unwrap();
        let day: jiff::civil::Date = "2026-11-20".parse().unwrap();
        let checkin = |nrs: i64| {
            CheckInDraft {
                spasticity_nrs: Some(nrs),
                ..Default::default()
            }
            .validate(day, &paris(), now)
            .unwrap()
        };
        let ms = |s: &str| s.parse::<Timestamp>().unwrap().as_millisecond();
        let write = |nrs: i64, at: &str| KeyedWrite::CheckIn {
            checkin: checkin(nrs),
            answered_at_ms: ms(at),
        };
        let a = store
            .write_once(&anne, &key("laptop", "a"), write(6, "2026-11-20T20:00:00Z"), render())
            .await
            .unwrap();
        assert_eq!(a.status, 201);
        let b = store
            .write_once(&anne, &key("phone", "b"), write(2, "2026-11-20T19:00:00Z"), render())
            .await
            .unwrap();
        assert_eq!((b.status, b.replayed), (409, false), "answered earlier: not applied");
        let stored = store.list_checkins(&anne, Some(day), Some(day)).await.unwrap();
        assert_eq!(stored[0].value.spasticity_nrs(), Some(6));
        let c = store
            .write_once(&anne, &key("phone-2", "c"), write(3, "2026-11-20T21:00:00Z"), render())
            .await
            .unwrap();
        assert_eq!(c.status, 201);
        let stored = store.list_checkins(&anne, Some(day), Some(day)).await.unwrap();
        assert_eq!(stored[0].value.spasticity_nrs(), Some(3));
    }
}
