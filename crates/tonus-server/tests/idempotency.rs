//! The `Idempotency-Key` of the write routes the offline queue uses: concurrent retries with
//! one key store one record and all get the first answer; the same key with another body is
//! refused; keys are per patient; a queued check-in superseded by a later answer is not
//! applied (and a retry hears the same). On SQLite and, when configured, PostgreSQL.

mod common;

use std::sync::Arc;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Sends a keyed JSON POST with the session's CSRF header; status, replayed mark, body.
async fn keyed(c: &Client, path: &str, key: &str, body: &Value) -> (StatusCode, bool, Value) {
    let r = c
        .http
        .post(c.url(path))
        .header("x-csrf-token", c.csrf())
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let replayed = r
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v.as_bytes() == b"true");
    (status, replayed, r.json().await.unwrap_or(Value::Null))
}

/// Sends the same keyed request `n` times at once; every answer.
async fn burst(
    c: &Arc<Client>,
    path: &'static str,
    key: &'static str,
    body: Value,
    n: usize,
) -> Vec<(StatusCode, bool, Value)> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (c, body) = (c.clone(), body.clone());
            tokio::spawn(async move { keyed(&c, path, key, &body).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn count(c: &Client, path: &str) -> usize {
    let v: Value = c.json(Method::GET, path, None).await.json().await.unwrap();
    v.as_array().unwrap_or_else(|| panic!("{path}: {v}")).len()
}

/// Every answer of a burst is the first one: one fresh, the rest replays with the same body.
fn one_answer(answers: &[(StatusCode, bool, Value)], status: StatusCode, what: &str) -> Value {
    let first = &answers[0].2;
    for (s, _, body) in answers {
        assert_eq!(*s, status, "{what}: {body}");
        assert_eq!(body, first, "{what}: every retry gets the first answer");
    }
    let fresh = answers.iter().filter(|(_, replayed, _)| !replayed).count();
    assert_eq!(fresh, 1, "{what}: exactly one request wrote, the others were replays");
    first.clone()
}

#[tokio::test]
async fn concurrent_retries_with_one_key_store_exactly_one_record() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "paul", "patient").await;
        let anne = Arc::new(s.login("anne").await);
        let paul = s.login("paul").await;
        let n = 8;

        // Episodes (on SQLite through the group-commit writer, retries in one batch too).
        let spasm = json!({"kind": "cramp", "regions": ["left-calf"], "pain": 6,
            "started_at": "2026-11-20T03:10:00+01:00"});
        let answers = burst(&anne, "/api/episodes", "k-episode-1", spasm.clone(), n).await;
        let e = one_answer(&answers, StatusCode::CREATED, s.backend);
        assert_eq!(e["started_at"], "2026-11-20T02:10:00Z", "the original time is kept");
        assert_eq!(count(&anne, "/api/episodes").await, 1, "{}", s.backend);
        // Later, after the commit: still the same answer, still one record.
        let (status, replayed, again) = keyed(&anne, "/api/episodes", "k-episode-1", &spasm).await;
        assert_eq!((status, replayed), (StatusCode::CREATED, true));
        assert_eq!(again, e);
        assert_eq!(count(&anne, "/api/episodes").await, 1);

        // The same key with another body is refused, naming the header; nothing stored.
        let other = json!({"kind": "twitch"});
        let (status, _, err) = keyed(&anne, "/api/episodes", "k-episode-1", &other).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["field"], "Idempotency-Key", "{err}");
        // … and so is the same key on another route.
        let (status, _, err) = keyed(&anne, "/api/days/confirm", "k-episode-1", &json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(count(&anne, "/api/episodes").await, 1);

        // Keys are per patient: Paul's request with Anne's key is his own new episode.
        let (status, replayed, p) = keyed(&paul, "/api/episodes", "k-episode-1", &spasm).await;
        assert_eq!((status, replayed), (StatusCode::CREATED, false), "{p}");
        assert_ne!(p["id"], e["id"]);
        assert_eq!(count(&paul, "/api/episodes").await, 1);
        assert_eq!(count(&anne, "/api/episodes").await, 1);

        // A malformed key is refused before anything is written.
        let (status, _, err) = keyed(&anne, "/api/episodes", "has space", &spasm).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err["field"], "Idempotency-Key", "{err}");
        assert_eq!(count(&anne, "/api/episodes").await, 1);

        // Side effects, doses, check-ins and day confirmations: one record each.
        let answers = burst(
            &anne,
            "/api/side-effects",
            "k-side-1",
            json!({"effect": "drowsiness", "severity": "mild", "at": "2026-11-20T21:30:00+01:00"}),
            n,
        )
        .await;
        one_answer(&answers, StatusCode::CREATED, "side effect");
        assert_eq!(count(&anne, "/api/side-effects?from=2026-11-01&to=2026-11-30").await, 1);

        let t: Value = anne
            .json(
                Method::POST,
                "/api/treatments",
                Some(json!({"name": "Baclofen", "category": "drug"})),
            )
            .await
            .json()
            .await
            .unwrap();
        let r: Value = anne
            .json(
                Method::POST,
                &format!("/api/treatments/{}/regimens", t["id"]),
                Some(json!({"dose": 10, "unit": "mg", "route": "oral", "schedule": "3x-daily", "from": "-10"})),
            )
            .await
            .json()
            .await
            .unwrap();
        let rid = r["id"].as_i64().unwrap_or_else(|| panic!("{r}"));
        let answers = burst(
            &anne,
            "/api/doses",
            "k-dose-1",
            json!({"regimen_id": rid, "status": "taken"}),
            n,
        )
        .await;
        one_answer(&answers, StatusCode::CREATED, "dose");
        assert_eq!(count(&anne, "/api/doses").await, 1);

        let answers = burst(
            &anne,
            "/api/checkins",
            "k-checkin-1",
            json!({"date": "2026-11-20", "spasticity_nrs": 4, "answered_at": "2026-11-20T21:00:00+01:00"}),
            n,
        )
        .await;
        one_answer(&answers, StatusCode::CREATED, "check-in");
        let answers = burst(
            &anne,
            "/api/days/confirm",
            "k-confirm-1",
            json!({"date": "2026-11-21"}),
            n,
        )
        .await;
        one_answer(&answers, StatusCode::OK, "confirmation");
        assert_eq!(count(&anne, "/api/checkins?from=2026-11-01&to=2026-11-30").await, 2);

        let keys = s.store.count_idempotency_keys().await.unwrap();
        // Anne: episode, side effect, dose, check-in, confirmation; Paul: episode.
        assert_eq!(keys, 6, "{}", s.backend);
    }
}

#[tokio::test]
async fn a_queued_check_in_answered_before_the_stored_one_is_not_applied() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let day = |v: &Value| v.as_array().unwrap()[0].clone();

        // The phone answered at 20:00 (offline); the laptop answered at 21:00 and synced first.
        let laptop = json!({"date": "2026-11-20", "spasticity_nrs": 6, "answered_at": "2026-11-20T21:00:00+01:00"});
        let (status, _, _) = keyed(&anne, "/api/checkins", "laptop-1", &laptop).await;
        assert_eq!(status, StatusCode::CREATED);
        let phone = json!({"date": "2026-11-20", "spasticity_nrs": 2, "answered_at": "2026-11-20T20:00:00+01:00"});
        let (status, replayed, err) = keyed(&anne, "/api/checkins", "phone-1", &phone).await;
        assert_eq!((status, replayed), (StatusCode::CONFLICT, false), "{err}");
        assert!(err["message"].as_str().unwrap().contains("not applied"), "{err}");
        // The retry hears the same, and the laptop's answers stay.
        let (status, replayed, again) = keyed(&anne, "/api/checkins", "phone-1", &phone).await;
        assert_eq!((status, replayed), (StatusCode::CONFLICT, true));
        assert_eq!(again, err);
        let stored: Value = anne
            .json(Method::GET, "/api/checkins?from=2026-11-20&to=2026-11-20", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(day(&stored)["spasticity_nrs"], 6, "{stored}");

        // An answer given later than the stored one replaces it, whenever it syncs.
        let later = json!({"date": "2026-11-20", "spasticity_nrs": 3, "answered_at": "2026-11-20T22:00:00+01:00"});
        let (status, _, _) = keyed(&anne, "/api/checkins", "phone-2", &later).await;
        assert_eq!(status, StatusCode::CREATED);
        let stored: Value = anne
            .json(Method::GET, "/api/checkins?from=2026-11-20&to=2026-11-20", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(day(&stored)["spasticity_nrs"], 3, "{stored}");

        // An answer time in the future is refused, naming the field.
        let future = json!({"date": "2026-11-20", "answered_at": "2999-01-01T00:00:00Z"});
        let (status, _, err) = keyed(&anne, "/api/checkins", "phone-3", &future).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err["field"], "answered_at", "{err}");
    }
}

/// The key is claimed in the record's transaction: when the record is refused inside it (a
/// suspected treatment the patient does not have, found only by the store), the claim goes
/// too, so the same key and body succeed once the treatment exists.
#[tokio::test]
async fn a_refused_write_does_not_use_up_its_key() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let body = json!({"effect": "nausea", "severity": "mild", "suspected_treatment": "Baclofen"});
        let (status, _, err) = keyed(&anne, "/api/side-effects", "k-refused", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}: {err}", s.backend);
        assert_eq!(err["field"], "suspected_treatment", "{err}");
        assert_eq!(s.store.count_idempotency_keys().await.unwrap(), 0, "{}", s.backend);

        let (status, _, _) = keyed(
            &anne,
            "/api/treatments",
            "unused",
            &json!({"name": "Baclofen", "category": "drug"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, replayed, v) = keyed(&anne, "/api/side-effects", "k-refused", &body).await;
        assert_eq!((status, replayed), (StatusCode::CREATED, false), "{v}");
        assert_eq!(v["suspected_treatment"], "Baclofen");
        assert_eq!(s.store.count_idempotency_keys().await.unwrap(), 1);
    }
}
