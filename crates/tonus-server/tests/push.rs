//! Push reminders end to end: the scheduler, driven by a fake clock over two DST changes
//! (America/New_York on 2026-03-08, Europe/Paris on 2026-03-29), sends to a push endpoint on
//! loopback that checks the VAPID signature (RFC 8292) and decrypts the message (RFC 8291)
//! with the subscription's private key, as a browser would. A second scheduler on a second
//! connection to the same database (a restarted server) sends nothing twice and catches up
//! on what fell due while it was down. 410 drops a device; a 503 is retried on the next
//! tick and delivered once; quiet hours hold reminders back.
//! Also: the Reminders page subscribes, changes and stops a device.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64ct::{Base64UrlUnpadded, Encoding};
use jiff::{Span, Timestamp};
use tonus_domain::time::Zone;
use tonus_domain::{Category, Dose, Regimen, Schedule, Treatment, Unit};
use tonus_server::push::scheduler::Scheduler;
use tonus_server::{AppState, Config};
use tonus_store::push::PushChoices;
use tonus_store::Store;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256PublicKey};
use web_push_native::jwt_simple::claims::NoCustomClaims;
use web_push_native::p256::elliptic_curve::rand_core::{OsRng, RngCore};
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
use web_push_native::p256::SecretKey;

/// One message as the push endpoint got it.
#[derive(Debug, Clone)]
struct Got {
    device: String,
    at: Timestamp,
    json: serde_json::Value,
    urgency: String,
}

#[derive(Clone)]
struct Endpoint {
    /// The fake clock's time of the tick running now.
    now: Arc<Mutex<Timestamp>>,
    keys: Arc<Vec<(String, SecretKey, [u8; 16])>>,
    got: Arc<Mutex<Vec<Got>>>,
    vapid_public: Arc<Mutex<Option<String>>>,
    /// Times the "flaky" device's push service has answered 503.
    refused: Arc<Mutex<u32>>,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// What a push service and the browser behind it check, in one handler.
async fn receive(State(e): State<Endpoint>, Path(device): Path<String>, h: HeaderMap, body: Bytes) -> StatusCode {
    if device == "gone" {
        return StatusCode::GONE;
    }
    if device == "hang" {
        // Longer than the sender's timeout: a push service that never answers.
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        return StatusCode::CREATED;
    }
    if device == "flaky" {
        let mut refused = e.refused.lock().unwrap();
        if *refused == 0 {
            *refused += 1;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    assert_eq!(header(&h, "content-encoding"), "aes128gcm");
    assert_eq!(header(&h, "ttl"), "3600");
    // Authorization: vapid t=<JWT>, k=<public key> (RFC 8292 §3).
    let auth = header(&h, "authorization");
    let rest = auth.strip_prefix("vapid t=").expect("a vapid authorization");
    let (token, k) = rest.split_once(", k=").expect("t and k");
    let expected_k = e.vapid_public.lock().unwrap().clone().unwrap();
    assert_eq!(k, expected_k, "k is the server's VAPID public key");
    let pk = ES256PublicKey::from_bytes(&Base64UrlUnpadded::decode_vec(k).unwrap()).unwrap();
    pk.verify_token::<NoCustomClaims>(token, None)
        .expect("the JWT is signed by k");
    let claims: serde_json::Value =
        serde_json::from_slice(&Base64UrlUnpadded::decode_vec(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    // web-push-native names the origin without its port: right for push services (443).
    assert_eq!(claims["aud"], "http://127.0.0.1");
    assert_eq!(claims["sub"], "mailto:admin@localhost");
    let exp = claims["exp"].as_i64().unwrap();
    let real_now = Timestamp::now().as_second();
    assert!(exp > real_now && exp <= real_now + 24 * 3600, "exp within 24 h: {exp}");

    let (_, secret, auth_secret) = e.keys.iter().find(|(d, _, _)| *d == device).expect("a known device");
    let plain = web_push_native::decrypt(body.to_vec(), secret, web_push_native::Auth::from_slice(auth_secret))
        .expect("the message decrypts with the subscription's key");
    let json: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    let at = *e.now.lock().unwrap();
    e.got.lock().unwrap().push(Got {
        device,
        at,
        json,
        urgency: header(&h, "urgency").to_string(),
    });
    StatusCode::CREATED
}

fn device_keys(name: &str) -> (String, SecretKey, [u8; 16]) {
    let secret = SecretKey::random(&mut OsRng);
    let mut auth = [0u8; 16];
    OsRng.fill_bytes(&mut auth);
    (name.to_string(), secret, auth)
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Both backends: a reopenable SQLite file, and PostgreSQL when configured.
async fn backends(dir: &std::path::Path) -> Vec<(Store, Box<dyn Fn() -> futures_like::BoxStore>)> {
    let mut out: Vec<(Store, Box<dyn Fn() -> futures_like::BoxStore>)> = Vec::new();
    let path = dir.join("tonus.db");
    let first = Store::open_sqlite(&path).await.unwrap();
    let p = path.clone();
    out.push((
        first,
        Box::new(move || {
            let p = p.clone();
            Box::pin(async move { Store::open_sqlite(&p).await.unwrap() })
        }),
    ));
    if let Some(url) = std::env::var("TONUS_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) {
        let schema = format!("push_{}_{}", std::process::id(), Timestamp::now().as_microsecond());
        let first = Store::open_postgres(&url, Some(&schema)).await.unwrap();
        out.push((
            first,
            Box::new(move || {
                let (url, schema) = (url.clone(), schema.clone());
                Box::pin(async move { Store::open_postgres(&url, Some(&schema)).await.unwrap() })
            }),
        ));
    }
    out
}

mod futures_like {
    pub type BoxStore = std::pin::Pin<Box<dyn std::future::Future<Output = tonus_store::Store> + Send>>;
}

fn choices(kinds: i64, checkin_min: i64, quiet: Option<(i64, i64)>) -> PushChoices {
    PushChoices {
        label: "Phone".to_string(),
        kinds,
        checkin_min,
        quiet_start_min: quiet.map(|q| q.0),
        quiet_end_min: quiet.map(|q| q.1),
    }
}

/// Stores a subscription of `p` for the device `key` at the loopback push endpoint.
async fn subscribe(
    store: &Store,
    p: &tonus_domain::Patient,
    port: u16,
    key: &(String, SecretKey, [u8; 16]),
    c: &PushChoices,
) {
    let (name, secret, auth) = key;
    store
        .upsert_push_subscription(
            p,
            &format!("http://127.0.0.1:{port}/push/{name}"),
            &b64(secret.public_key().to_encoded_point(false).as_bytes()),
            &b64(auth),
            c,
            0,
        )
        .await
        .unwrap();
}

/// A scheduler on `store` whose VAPID key the endpoint checks.
async fn scheduler(store: Arc<Store>, endpoint: &Endpoint) -> Scheduler {
    let state = AppState::new(store.clone(), Config::default());
    let sender = state.push_sender().await.unwrap();
    *endpoint.vapid_public.lock().unwrap() = Some(sender.vapid().public_key().to_string());
    Scheduler::new(store, sender)
}

async fn add_regimen(store: &Store, p: &tonus_domain::Patient, name: &str, schedule: Schedule) {
    let t = store
        .insert_treatment(p, &Treatment::new(name, Category::Drug, None).unwrap())
        .await
        .unwrap();
    let r = Regimen::new(
        Category::Drug,
        Some(Dose::new(10.0, Unit::Mg).unwrap()),
        None,
        schedule,
        jiff::civil::date(2026, 1, 1),
        None,
    )
    .unwrap();
    store.insert_regimen(p, t, &r).await.unwrap();
}

/// A push service on loopback that checks and decrypts what it gets (`receive`).
async fn push_endpoint(keys: Arc<Vec<(String, SecretKey, [u8; 16])>>) -> (Endpoint, u16) {
    let endpoint = Endpoint {
        now: Arc::new(Mutex::new(Timestamp::UNIX_EPOCH)),
        keys,
        got: Arc::default(),
        vapid_public: Arc::default(),
        refused: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/push/{device}", axum::routing::post(receive))
        .with_state(endpoint.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, port)
}

/// Ticks every `step` from `from` through `to`.
async fn run(s: &Scheduler, now: &Arc<Mutex<Timestamp>>, from: Timestamp, to: Timestamp, step: Span) -> usize {
    let mut t = from;
    let mut sent = 0;
    while t <= to {
        *now.lock().unwrap() = t;
        sent += s.tick(t).await.unwrap().sent;
        t = t.checked_add(step).unwrap();
    }
    sent
}

#[tokio::test]
async fn reminders_arrive_once_at_local_time_across_dst_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    for (store, reopen) in backends(dir.path()).await {
        let keys = Arc::new(vec![
            device_keys("paris"),
            device_keys("ny"),
            device_keys("gone"),
            device_keys("flaky"),
        ]);
        let (endpoint, port) = push_endpoint(keys.clone()).await;

        let paris = store
            .create_patient("paris", &Zone::parse("Europe/Paris").unwrap())
            .await
            .unwrap();
        let ny = store
            .create_patient("ny", &Zone::parse("America/New_York").unwrap())
            .await
            .unwrap();
        add_regimen(&store, &paris, "Baclofen", Schedule::TimesPerDay(1)).await;
        let early = tonus_domain::LocalInstant {
            at: ts("2026-03-30T05:45:00Z"),
            zone: paris.zone.clone(),
        };
        let taken = tonus_domain::DoseLog::new(early, tonus_domain::DoseStatus::Taken, None, Timestamp::now()).unwrap();
        store.insert_dose(&paris, 1, &taken).await.unwrap();
        add_regimen(&store, &ny, "Tizanidine", Schedule::TimesPerDay(2)).await;
        let subscribe = |p: tonus_domain::Patient, device: usize, c: PushChoices| {
            let (store, keys) = (&store, keys.clone());
            async move { subscribe(store, &p, port, &keys[device], &c).await }
        };
        // Paris: everything, check-in at 20:00. New York: check-in at 21:30, quiet 07:00–09:00
        // (so its 08:00 dose is never sent); a second New York device that is gone (410).
        subscribe(paris.clone(), 0, choices(7, 20 * 60, None)).await;
        subscribe(ny.clone(), 1, choices(7, 21 * 60 + 30, Some((7 * 60, 9 * 60)))).await;
        subscribe(ny.clone(), 2, choices(1, 21 * 60 + 30, None)).await;
        // A second Paris device whose push service fails once (503): tried again next tick.
        subscribe(paris.clone(), 3, choices(1, 20 * 60, None)).await;

        let store = Arc::new(store);
        let step = Span::new().minutes(10);
        let first = scheduler(store.clone(), &endpoint).await;
        let now = endpoint.now.clone();

        run(
            &first,
            &now,
            ts("2026-03-07T00:00:00Z"),
            ts("2026-03-09T12:00:00Z"),
            step,
        )
        .await;
        // The gone device got one try and was dropped.
        assert_eq!(store.list_push_subscriptions(&ny).await.unwrap().len(), 1);
        run(
            &first,
            &now,
            ts("2026-03-28T00:00:00Z"),
            ts("2026-03-29T17:40:00Z"),
            step,
        )
        .await;
        drop(first);

        // The server is down from 17:40 to 18:40 UTC, and comes back on a new connection with
        // the same key. Its first tick re-runs a window the first one had finished.
        let store2 = Arc::new(reopen().await);
        let state2 = AppState::new(store2.clone(), Config::default());
        let sender2 = state2.push_sender().await.unwrap();
        assert_eq!(
            Some(sender2.vapid().public_key().to_string()),
            endpoint.vapid_public.lock().unwrap().clone(),
            "the VAPID key survives the restart"
        );
        let second = Scheduler::new(store2.clone(), sender2);
        let before = endpoint.got.lock().unwrap().len();
        assert_eq!(
            run(
                &second,
                &now,
                ts("2026-03-29T17:00:00Z"),
                ts("2026-03-29T17:40:00Z"),
                step
            )
            .await,
            0
        );
        assert_eq!(endpoint.got.lock().unwrap().len(), before);
        run(
            &second,
            &now,
            ts("2026-03-29T18:40:00Z"),
            ts("2026-03-30T12:00:00Z"),
            step,
        )
        .await;

        let got = endpoint.got.lock().unwrap().clone();
        let mut seen = std::collections::BTreeSet::new();
        for g in &got {
            let tag = g.json["tag"].as_str().unwrap().to_string();
            assert!(
                seen.insert((g.device.clone(), tag.clone())),
                "sent twice: {} {tag}",
                g.device
            );
        }
        let at = |device: &str, tag: &str| {
            got.iter()
                .find(|g| g.device == device && g.json["tag"] == tag)
                .unwrap_or_else(|| panic!("{device} {tag} not sent: {got:#?}"))
                .clone()
        };
        // Sent on the first tick at or after its local time (ticks every 10 minutes, on the
        // hour): (device, tag, UTC instant of the tick).
        let expected = [
            // New York, 2026-03-07 in EST (UTC−5), then 2026-03-08 in EDT (UTC−4).
            ("ny", "dose:2:2026-03-07T20", "2026-03-08T01:00:00Z"),
            ("ny", "checkin:2026-03-07", "2026-03-08T02:30:00Z"),
            ("ny", "dose:2:2026-03-08T20", "2026-03-09T00:00:00Z"),
            ("ny", "checkin:2026-03-08", "2026-03-09T01:30:00Z"),
            // Paris, 2026-03-28 in CET (UTC+1), then 2026-03-29 in CEST (UTC+2).
            ("paris", "dose:1:2026-03-28T08", "2026-03-28T07:00:00Z"),
            ("paris", "checkin:2026-03-28", "2026-03-28T19:00:00Z"),
            ("paris", "dose:1:2026-03-29T08", "2026-03-29T06:00:00Z"),
            // Due at 18:00 UTC while the server was down: sent by the restarted one at once.
            ("paris", "checkin:2026-03-29", "2026-03-29T18:40:00Z"),
        ];
        for (device, tag, when) in expected {
            assert_eq!(at(device, tag).at, ts(when), "{device} {tag}");
        }
        // Logged at 07:45 before its reminder: the 2026-03-30 dose is not reminded.
        assert!(!got.iter().any(|g| g.json["tag"] == "dose:1:2026-03-30T08"));
        // The 503 released the claim: the next tick, 10 minutes later, delivered it, once.
        assert_eq!(*endpoint.refused.lock().unwrap(), 1);
        assert_eq!(at("flaky", "checkin:2026-03-07").at, ts("2026-03-07T19:10:00Z"));
        assert_eq!(at("paris", "checkin:2026-03-07").at, ts("2026-03-07T19:00:00Z"));
        // Quiet hours: no 08:00 dose in New York, ever.
        assert!(!got
            .iter()
            .any(|g| g.device == "ny" && g.json["tag"].as_str().unwrap().ends_with("T08")));
        // The gone device was tried once (answered 410), so nothing reached it.
        assert!(!got.iter().any(|g| g.device == "gone"));

        let dose = at("paris", "dose:1:2026-03-29T08");
        assert_eq!(dose.json["title"], "Take: Baclofen 10 mg");
        assert_eq!(dose.json["url"], "/doses");
        assert_eq!(dose.urgency, "high");
        let checkin = at("ny", "checkin:2026-03-08");
        assert_eq!(checkin.json["title"], "Tonus daily check-in");
        assert_eq!(checkin.json["url"], "/checkin");
        assert_eq!(checkin.urgency, "normal");
        assert!(store2.list_push_subscriptions(&paris).await.unwrap()[0]
            .last_success_ms
            .is_some());
    }
}

#[tokio::test]
async fn a_patient_whose_records_cannot_be_read_does_not_silence_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tonus.db");
    let store = Store::open_sqlite(&path).await.unwrap();
    let keys = Arc::new(vec![device_keys("bad"), device_keys("good")]);
    let (endpoint, port) = push_endpoint(keys.clone()).await;
    for (i, name) in ["bad", "good"].into_iter().enumerate() {
        let p = store
            .create_patient(name, &Zone::parse("Europe/Paris").unwrap())
            .await
            .unwrap();
        subscribe(&store, &p, port, &keys[i], &choices(1, 20 * 60, None)).await;
    }
    // A time zone the database cannot give back as one: reading "bad" fails.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE patients SET time_zone = 'Mars/Olympus_Mons' WHERE handle = 'bad'")
        .execute(&pool)
        .await
        .unwrap();
    let scheduler = scheduler(Arc::new(store), &endpoint).await;
    let at = ts("2026-06-01T18:00:00Z");
    *endpoint.now.lock().unwrap() = at;
    let report = scheduler.tick(at).await.unwrap();
    assert_eq!((report.sent, report.failed), (1, 1));
    let got = endpoint.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].device.as_str(), &got[0].json["tag"]),
        ("good", &serde_json::json!("checkin:2026-06-01"))
    );
}

/// A push service that never answers holds up its own device, not the others: devices are
/// sent to side by side within a tick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_service_that_hangs_does_not_hold_up_other_devices() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("tonus.db")).await.unwrap();
    let keys = Arc::new(vec![device_keys("hang"), device_keys("good")]);
    let (endpoint, port) = push_endpoint(keys.clone()).await;
    let p = store
        .create_patient("pat", &Zone::parse("Europe/Paris").unwrap())
        .await
        .unwrap();
    // The hanging device first: one at a time, the other would wait for its timeout.
    for key in keys.iter() {
        subscribe(&store, &p, port, key, &choices(1, 20 * 60, None)).await;
    }
    let scheduler = scheduler(Arc::new(store), &endpoint).await;
    let at = ts("2026-06-01T18:00:00Z");
    *endpoint.now.lock().unwrap() = at;
    let tick = tokio::time::timeout(std::time::Duration::from_secs(8), scheduler.tick(at)).await;
    assert!(tick.is_err(), "the tick still waits for the hanging service");
    let got = endpoint.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].device, "good");
}

#[tokio::test]
async fn the_reminders_page_subscribes_changes_and_stops_a_device() {
    for s in common::servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "pia", "patient").await;
        let pia = s.login("pia").await;
        let (status, page) = pia.page("/calendar").await;
        assert_eq!(status, 200);
        assert!(page.contains("Reminders on this device"), "{page}");
        let key = common::text_between(&page, "data-key=\"", "\"").expect("the VAPID key in the page");
        assert_eq!(Base64UrlUnpadded::decode_vec(&key).unwrap().len(), 65);

        let secret = SecretKey::random(&mut OsRng);
        let p256dh = b64(secret.public_key().to_encoded_point(false).as_bytes());
        let auth = b64(&[7u8; 16]);
        let form = |endpoint: &'static str| {
            vec![
                ("endpoint", endpoint.to_string()),
                ("p256dh", p256dh.clone()),
                ("auth", auth.clone()),
                ("label", "Kitchen tablet".to_string()),
                ("checkin", "1".to_string()),
                ("checkin_at", "19:45".to_string()),
                ("quiet_start", "".to_string()),
                ("quiet_end", "".to_string()),
            ]
        };
        let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
            let pia = &pia;
            async move {
                let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                pia.post_form(path, &f).await
            }
        };
        // A push endpoint inside the server's own network is refused.
        let r = post("/reminders/devices", form("https://127.0.0.1/push")).await;
        assert_eq!(r.status(), 422);
        let r = post("/reminders/devices", form("https://push.example.org/send/abc")).await;
        assert_eq!(r.status(), 303);
        let p = s.patient("pia").await;
        let devices = s.store.list_push_subscriptions(&p).await.unwrap();
        assert_eq!(devices.len(), 1);
        assert_eq!((devices[0].kinds, devices[0].checkin_min), (1, 19 * 60 + 45));
        assert_eq!(devices[0].label, "Kitchen tablet");
        let (_, page) = pia.page("/calendar").await;
        assert!(page.contains("Stop reminders on Kitchen tablet"));

        let id = devices[0].id;
        let update = vec![
            ("label", "Tablet".to_string()),
            ("doses", "1".to_string()),
            ("discreet", "1".to_string()),
            ("checkin_at", "08:15".to_string()),
            ("quiet_start", "22:00".to_string()),
            ("quiet_end", "06:30".to_string()),
        ];
        let path: &'static str = Box::leak(format!("/reminders/devices/{id}").into_boxed_str());
        assert_eq!(post(path, update).await.status(), 303);
        let d = &s.store.list_push_subscriptions(&p).await.unwrap()[0];
        assert_eq!(
            (d.kinds, d.checkin_min, d.quiet_start_min, d.quiet_end_min),
            (2 | 8, 495, Some(1320), Some(390))
        );
        let (_, page) = pia.page("/calendar").await;
        assert!(
            page.contains(r#"name="discreet" value="1" checked"#),
            "the page shows the discreet choice saved"
        );

        let delete: &'static str = Box::leak(format!("/reminders/devices/{id}/delete").into_boxed_str());
        assert_eq!(post(delete, Vec::new()).await.status(), 303);
        assert!(s.store.list_push_subscriptions(&p).await.unwrap().is_empty());
    }
}
