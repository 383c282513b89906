//! Dashboards kept between views (issue #15 point 3), on a real SQLite file and on
//! PostgreSQL when `TONUS_TEST_POSTGRES_URL` is set: a repeat view is a hit with the same
//! bytes; every kind of write bumps the patient's data version and the next view shows it;
//! patients never share entries; 0 turns the cache off; the byte bound holds. Hits and misses
//! are read from the server's own `/metrics`.

mod common;

use common::*;
use jiff::{Span, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::time::{today, Zone};
use tonus_domain::{Category, Dose, DoseLog, DoseStatus, LocalInstant, Regimen, Schedule, Treatment, Unit};
use tonus_server::Config;
use tonus_store::ImportTarget;

/// A loopback address nobody listens on (bound then released), for the metrics listener.
fn free_addr() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn config(cache_bytes: usize) -> Config {
    Config {
        dashboard_cache_bytes: cache_bytes,
        metrics_listen: Some(free_addr()),
        ..test_config()
    }
}

/// One server per reachable backend, each with its own metrics address.
async fn servers_with_cache(cache_bytes: usize) -> Vec<(Server, String)> {
    let c = config(cache_bytes);
    let mut v = vec![(sqlite(c.clone()).await, c)];
    let c = config(cache_bytes);
    if let Some(pg) = postgres(c.clone()).await {
        v.push((pg, c));
    }
    v.into_iter()
        .map(|(s, c)| (s, format!("http://{}/metrics", c.metrics_listen.unwrap())))
        .collect()
}

/// The value of one metric line (`name{labels} value`), 0 when absent.
async fn metric(url: &str, series: &str) -> f64 {
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or(0.0)
}

async fn hits(url: &str) -> f64 {
    metric(url, "tonus_dashboard_cache_lookups_total{result=\"hit\"}").await
}

async fn misses(url: &str) -> f64 {
    metric(url, "tonus_dashboard_cache_lookups_total{result=\"miss\"}").await
}

/// After a write: the version grew, the next view is a miss and differs from the last one.
/// Updates `seen` (version, view) and returns the new view.
async fn check(s: &Server, m: &str, anne: &Client, what: &str, seen: &mut (u64, Value)) -> Value {
    let b = s.backend;
    let p = s.patient("anne").await;
    let v = s.store.data_version(&p).await.unwrap();
    assert!(v > seen.0, "{b}: {what} did not bump the version ({} → {v})", seen.0);
    let misses_before = misses(m).await;
    let now = view(anne, YEAR).await;
    assert_eq!(
        misses(m).await,
        misses_before + 1.0,
        "{b}: {what}: the next view gathers anew"
    );
    assert_ne!(now, seen.1, "{b}: {what} is not in the next view");
    *seen = (v, now.clone());
    now
}

async fn view(c: &Client, path: &str) -> Value {
    let r = c.json(Method::GET, path, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

const YEAR: &str = "/api/dashboard?from=-364";

#[tokio::test]
async fn a_repeat_view_is_a_hit_with_the_same_bytes_and_every_write_shows() {
    for (s, m) in servers_with_cache(8 << 20).await {
        let b = s.backend;
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "bob", "patient").await;
        let anne = s.login("anne").await;
        let p = s.patient("anne").await;

        // Web page and API: the second view is a hit and byte for byte the first.
        let (status, first) = anne.page("/dashboard?from=-364").await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert_eq!((hits(&m).await, misses(&m).await), (0.0, 1.0), "{b}");
        let (_, second) = anne.page("/dashboard?from=-364").await;
        assert_eq!(hits(&m).await, 1.0, "{b}");
        assert_eq!(first, second, "{b}: a hit renders the same page");
        let api_first = anne.get(YEAR).await.text().await.unwrap();
        let api_second = anne.get(YEAR).await.text().await.unwrap();
        assert_eq!(api_first, api_second, "{b}");
        assert_eq!(hits(&m).await, 2.0, "{b}: the API's sections are an entry of their own");

        // Each write: a new version, a miss, and the view shows the write.
        let mut seen = (s.store.data_version(&p).await.unwrap(), view(&anne, YEAR).await);
        // An episode through the API (the group-commit writer on SQLite).
        let r = anne
            .json(
                Method::POST,
                "/api/episodes",
                Some(json!({"kind": "twitch", "regions": ["left-calf"], "pain": 3})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{b}");
        let episode = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let last = check(&s, &m, &anne, "an episode", &mut seen).await;
        assert_eq!(last["involuntary_total"], 1, "{b}");

        // An edit: the twitch becomes a cramp (stiffness).
        let old = s.store.get_episode(&p, episode).await.unwrap().unwrap().value;
        let e = tonus_domain::episode::EpisodeDraft {
            kind: "cramp".into(),
            regions: vec!["left-calf".into()],
            pain: Some(3),
            duration_s: None,
            triggers: vec![],
            trigger_note: None,
            notes: None,
        }
        .validate(old.started_at().clone(), Timestamp::now())
        .unwrap();
        assert!(s.store.update_episode(&p, episode, &e).await.unwrap());
        let last = check(&s, &m, &anne, "an edit", &mut seen).await;
        assert_eq!(
            (last["involuntary_total"].as_i64(), last["stiffness_total"].as_i64()),
            (Some(0), Some(1)),
            "{b}"
        );

        // A check-in confirming yesterday.
        let now = Timestamp::now();
        let yesterday = today(&p.zone, now).checked_sub(Span::new().days(1)).unwrap();
        let c = CheckInDraft {
            log_complete: true,
            ..Default::default()
        }
        .validate(yesterday, &p.zone, now)
        .unwrap();
        s.store.upsert_checkin(&p, &c).await.unwrap();
        let last = check(&s, &m, &anne, "a check-in", &mut seen).await;
        assert_eq!(last["confirmed_days"], 1, "{b}");

        // A treatment with its regimen, then a dose.
        let tid = s
            .store
            .insert_treatment(&p, &Treatment::new("Baclofen", Category::Drug, None).unwrap())
            .await
            .unwrap();
        let regimen = Regimen::new(
            Category::Drug,
            Some(Dose::new(10.0, Unit::Mg).unwrap()),
            None,
            Schedule::TimesPerDay(3),
            yesterday,
            None,
        )
        .unwrap();
        let rid = s.store.insert_regimen(&p, tid, &regimen).await.unwrap();
        let last = check(&s, &m, &anne, "a regimen", &mut seen).await;
        assert_eq!(last["treatments"][0]["name"], "Baclofen", "{b}");
        let dose = DoseLog::new(
            LocalInstant {
                at: now,
                zone: p.zone.clone(),
            },
            DoseStatus::Taken,
            None,
            now,
        )
        .unwrap();
        s.store.insert_dose(&p, rid, &dose).await.unwrap();
        check(&s, &m, &anne, "a dose", &mut seen).await;

        // A side effect through the API.
        let r = anne
            .json(
                Method::POST,
                "/api/side-effects",
                Some(json!({"effect": "drowsiness", "severity": "mild"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{b}");
        let last = check(&s, &m, &anne, "a side effect", &mut seen).await;
        assert_eq!(last["side_effects"].as_array().map(Vec::len), Some(1), "{b}");

        // A delete.
        assert!(s.store.delete_episode(&p, episode).await.unwrap());
        let last = check(&s, &m, &anne, "a delete", &mut seen).await;
        assert_eq!(last["stiffness_total"], 0, "{b}");

        // A time-zone change.
        let tokyo = Zone::parse("Asia/Tokyo").unwrap();
        s.store.set_patient_zone(&p, &tokyo).await.unwrap();
        let last = check(&s, &m, &anne, "a time-zone change", &mut seen).await;
        assert_eq!(last["time_zone"], "Asia/Tokyo", "{b}");
        let p = s.patient("anne").await;

        // An import (the bulk path: COPY on PostgreSQL) of another patient's records.
        let bob_p = s.patient("bob").await;
        let mut batch = tonus_store::Batch::default();
        for i in 0..3 {
            let at = Timestamp::now() - Span::new().hours(i + 1);
            batch.episodes.push(
                tonus_domain::episode::EpisodeDraft {
                    kind: "jerk".into(),
                    regions: vec!["left-calf".into()],
                    pain: None,
                    duration_s: None,
                    triggers: vec![],
                    trigger_note: None,
                    notes: None,
                }
                .validate(
                    LocalInstant {
                        at,
                        zone: bob_p.zone.clone(),
                    },
                    Timestamp::now(),
                )
                .unwrap(),
            );
        }
        s.store.insert_batch(&bob_p, &batch).await.unwrap();
        let records = s.store.patient_records(&bob_p).await.unwrap();
        s.store
            .import_records(&[(ImportTarget::Existing(p.clone()), &records)], false)
            .await
            .unwrap();
        let last = check(&s, &m, &anne, "an import", &mut seen).await;
        assert_eq!(last["involuntary_total"], 3, "{b}");

        // A repeat view after all that is a hit again.
        let hits_before = hits(&m).await;
        assert_eq!(view(&anne, YEAR).await, last, "{b}");
        assert_eq!(hits(&m).await, hits_before + 1.0, "{b}");

        // Two patients never share an entry: bob's first view misses and shows bob.
        let bob = s.login("bob").await;
        let misses_before = misses(&m).await;
        let bob_view = view(&bob, YEAR).await;
        assert_eq!(misses(&m).await, misses_before + 1.0, "{b}");
        assert_eq!(bob_view["patient"], "bob", "{b}");
        assert_eq!(bob_view["involuntary_total"], 3, "{b}");
        assert_eq!(view(&anne, YEAR).await["patient"], "anne", "{b}");
        // A write of bob's leaves anne's version alone.
        let anne_version = s.store.data_version(&p).await.unwrap();
        s.store.delete_patient(&bob_p).await.unwrap();
        assert_eq!(s.store.data_version(&p).await.unwrap(), anne_version, "{b}");
    }
}

#[tokio::test]
async fn zero_turns_the_cache_off() {
    for (s, m) in servers_with_cache(0).await {
        let b = s.backend;
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let first = view(&anne, YEAR).await;
        assert_eq!(view(&anne, YEAR).await, first, "{b}");
        assert_eq!((hits(&m).await, misses(&m).await), (0.0, 0.0), "{b}: nothing looked up");
        assert_eq!(metric(&m, "tonus_dashboard_cache_bytes").await, 0.0, "{b}");
    }
}

#[tokio::test]
async fn the_byte_bound_holds_and_evicts_the_oldest() {
    // Sized from one entry: room for about three 90-day views.
    let one = {
        let mut v = servers_with_cache(8 << 20).await;
        let (s, m) = v.remove(0);
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        view(&anne, "/api/dashboard").await;
        metric(&m, "tonus_dashboard_cache_bytes").await as usize
    };
    assert!(one > 1000, "an entry of {one} bytes");
    let bound = one * 3 + one / 2;
    for (s, m) in servers_with_cache(bound).await {
        let b = s.backend;
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let range = |i: i64| format!("/api/dashboard?from=-{}&to=-{i}", 89 + i);
        for i in 1..=6 {
            view(&anne, &range(i)).await;
            let bytes = metric(&m, "tonus_dashboard_cache_bytes").await as usize;
            assert!(bytes > 0 && bytes <= bound, "{b}: {bytes} bytes held, bound {bound}");
        }
        let entries = metric(&m, "tonus_dashboard_cache_entries").await;
        assert!((2.0..=3.0).contains(&entries), "{b}: {entries} entries");
        // The newest is still there; the oldest was evicted.
        let h = hits(&m).await;
        view(&anne, &range(6)).await;
        assert_eq!(hits(&m).await, h + 1.0, "{b}");
        let miss = misses(&m).await;
        view(&anne, &range(1)).await;
        assert_eq!(misses(&m).await, miss + 1.0, "{b}: the oldest view was evicted");
    }
}
