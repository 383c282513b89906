//! Authorization matrix: every route the router serves × every role (anonymous, patient,
//! clinician, administrator) × the relation to the data (own / another patient's; consented,
//! unconsented, revoked). A route without an entry here fails the test, so a new route cannot
//! ship without someone deciding who may call it.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::time::LocalInstant;
use tonus_store::{NewSession, Store};

/// What a request may observe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum O {
    /// Reached the handler: 2xx, a redirect other than to sign-in, or 400/409/422 for the
    /// deliberately empty body.
    Ok,
    /// Sent to sign in: 401 (API, or a rejected sign-in) or a redirect to /login.
    Login,
    Forbidden,
    NotFound,
    /// `{id}` routes: Ok with the caller's own record, NotFound with another patient's.
    Own,
    /// `{patient_id}` routes: Ok while consent is live, NotFound when never given or revoked.
    Consent,
    /// Sign-out routes: a redirect to /login, after which the browser is really signed out.
    SignedOut,
}
use O::*;

const ROLES: [&str; 4] = ["anonymous", "patient", "clinician", "admin"];

/// (method, path, [anonymous, patient, clinician, admin], needs a fresh session).
const MATRIX: &[(&str, &str, [O; 4], bool)] = &[
    ("GET", "/", [Login, Ok, Ok, Ok], false),
    ("GET", "/assets/app.css", [Ok, Ok, Ok, Ok], false),
    ("GET", "/assets/offline.js", [Ok, Ok, Ok, Ok], false),
    ("GET", "/sw.js", [Ok, Ok, Ok, Ok], false),
    // `{file}` is filled with a name that does not exist; tests/web.rs fetches the real icons.
    (
        "GET",
        "/assets/icons/{file}",
        [NotFound, NotFound, NotFound, NotFound],
        false,
    ),
    ("GET", "/manifest.webmanifest", [Ok, Ok, Ok, Ok], false),
    ("GET", "/favicon.ico", [Ok, Ok, Ok, Ok], false),
    ("GET", "/setup", [NotFound, NotFound, NotFound, NotFound], false),
    ("POST", "/setup", [NotFound, NotFound, NotFound, NotFound], false),
    ("GET", "/login", [Ok, Ok, Ok, Ok], false),
    ("POST", "/login", [Login, Login, Login, Login], false),
    ("GET", "/signup", [Ok, Ok, Ok, Ok], false),
    ("POST", "/signup", [Ok, Ok, Ok, Ok], false),
    ("POST", "/logout", [Login, SignedOut, SignedOut, SignedOut], true),
    ("GET", "/sessions", [Login, Ok, Ok, Ok], false),
    ("GET", "/account", [Login, Ok, Ok, Ok], false),
    ("POST", "/account/password", [Login, Ok, Ok, Ok], false),
    ("POST", "/account/totp/start", [Login, Ok, Ok, Ok], false),
    ("POST", "/account/totp/enable", [Login, Ok, Ok, Ok], false),
    ("POST", "/account/totp/disable", [Login, Ok, Ok, Ok], false),
    (
        "POST",
        "/sessions/end-all",
        [Login, SignedOut, SignedOut, SignedOut],
        true,
    ),
    ("POST", "/sessions/{id}/end", [Login, Own, Own, Own], false),
    ("POST", "/episodes", [Login, Ok, Forbidden, Forbidden], false),
    (
        "GET",
        "/episodes/{id}/delete",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "POST",
        "/episodes/{id}/delete",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    ("GET", "/episodes/{id}/edit", [Login, Own, Forbidden, Forbidden], false),
    ("POST", "/episodes/{id}/edit", [Login, Own, Forbidden, Forbidden], false),
    ("GET", "/treatments", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/treatments", [Login, Ok, Forbidden, Forbidden], false),
    (
        "POST",
        "/treatments/{id}/start",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "POST",
        "/treatments/{id}/edit",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    ("GET", "/doses/{id}/edit", [Login, Own, Forbidden, Forbidden], false),
    ("POST", "/doses/{id}/edit", [Login, Own, Forbidden, Forbidden], false),
    ("PUT", "/api/treatments/{id}", [Login, Own, Forbidden, Forbidden], false),
    ("PUT", "/api/doses/{id}", [Login, Own, Forbidden, Forbidden], false),
    (
        "GET",
        "/treatments/{id}/delete",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "POST",
        "/treatments/{id}/delete",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "POST",
        "/regimens/{id}/change",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    ("POST", "/regimens/{id}/stop", [Login, Own, Forbidden, Forbidden], false),
    ("GET", "/doses", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/doses", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/doses/{id}/delete", [Login, Own, Forbidden, Forbidden], false),
    ("POST", "/doses/{id}/delete", [Login, Own, Forbidden, Forbidden], false),
    ("GET", "/exercise", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/exercise", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/exercise/{id}/edit", [Login, Own, Forbidden, Forbidden], false),
    ("POST", "/exercise/{id}/edit", [Login, Own, Forbidden, Forbidden], false),
    (
        "GET",
        "/exercise/{id}/delete",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "POST",
        "/exercise/{id}/delete",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    ("GET", "/events", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/events", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/events/{id}/edit", [Login, Own, Forbidden, Forbidden], false),
    ("POST", "/events/{id}/edit", [Login, Own, Forbidden, Forbidden], false),
    ("GET", "/events/{id}/delete", [Login, Own, Forbidden, Forbidden], false),
    ("POST", "/events/{id}/delete", [Login, Own, Forbidden, Forbidden], false),
    ("POST", "/days/confirm", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/identity", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/identity", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/side-effects", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/side-effects", [Login, Ok, Forbidden, Forbidden], false),
    (
        "GET",
        "/side-effects/{id}/edit",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "POST",
        "/side-effects/{id}/edit",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "GET",
        "/side-effects/{id}/delete",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "POST",
        "/side-effects/{id}/delete",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    ("GET", "/checkin", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/checkin", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/sharing", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/sharing/invitations", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/sharing/grant", [Login, Ok, Forbidden, Forbidden], false),
    (
        "POST",
        "/sharing/{id}/revoke",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    ("GET", "/activity", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/tokens", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/tokens", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/tokens/{id}/revoke", [Login, Own, Forbidden, Forbidden], false),
    ("GET", "/trials", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/trials", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/trials/{id}", [Login, Own, Forbidden, Forbidden], false),
    ("POST", "/trials/{id}/delete", [Login, Own, Forbidden, Forbidden], false),
    ("GET", "/dashboard", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/charts", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/report.pdf", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/export/archive.json", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/calendar", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/calendar/feeds", [Login, Ok, Forbidden, Forbidden], false),
    (
        "POST",
        "/calendar/feeds/{id}/revoke",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    ("POST", "/reminders/devices", [Login, Ok, Forbidden, Forbidden], false),
    (
        "POST",
        "/reminders/devices/{id}",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "POST",
        "/reminders/devices/{id}/delete",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    // The secret in the path is the credential: a wrong one is not found, for everyone.
    ("GET", "/feeds/{file}", [NotFound, NotFound, NotFound, NotFound], false),
    ("GET", "/clinician", [Login, Forbidden, Ok, Forbidden], false),
    ("POST", "/clinician/redeem", [Login, Forbidden, Ok, Forbidden], false),
    ("GET", "/clinician/pooled", [Login, Forbidden, Ok, Forbidden], false),
    (
        "GET",
        "/clinician/patients/{patient_id}",
        [Login, Forbidden, Consent, Forbidden],
        false,
    ),
    (
        "GET",
        "/clinician/patients/{patient_id}/report.pdf",
        [Login, Forbidden, Consent, Forbidden],
        false,
    ),
    ("GET", "/admin", [Login, Forbidden, Forbidden, Ok], false),
    ("POST", "/admin/users", [Login, Forbidden, Forbidden, Ok], false),
    (
        "POST",
        "/admin/users/{id}/disable",
        [Login, Forbidden, Forbidden, Ok],
        false,
    ),
    (
        "POST",
        "/admin/users/{id}/enable",
        [Login, Forbidden, Forbidden, Ok],
        false,
    ),
    (
        "POST",
        "/admin/users/{id}/password",
        [Login, Forbidden, Forbidden, Ok],
        false,
    ),
    (
        "POST",
        "/admin/users/{id}/totp/remove",
        [Login, Forbidden, Forbidden, Ok],
        false,
    ),
    ("GET", "/api/openapi.json", [Ok, Ok, Ok, Ok], false),
    // Load balancer probes: anyone, no session needed (tests/ops.rs checks they skip it).
    ("GET", "/healthz", [Ok, Ok, Ok, Ok], false),
    ("GET", "/readyz", [Ok, Ok, Ok, Ok], false),
    ("GET", "/api/me", [Login, Ok, Ok, Ok], false),
    ("GET", "/api/episodes", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/api/identity", [Login, Ok, Forbidden, Forbidden], false),
    ("PUT", "/api/identity", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/api/side-effects", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/api/exercise", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/api/exercise", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/api/exercise/{id}", [Login, Own, Forbidden, Forbidden], false),
    ("PUT", "/api/exercise/{id}", [Login, Own, Forbidden, Forbidden], false),
    (
        "DELETE",
        "/api/exercise/{id}",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    ("GET", "/api/events", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/api/events", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/api/events/{id}", [Login, Own, Forbidden, Forbidden], false),
    ("PUT", "/api/events/{id}", [Login, Own, Forbidden, Forbidden], false),
    ("DELETE", "/api/events/{id}", [Login, Own, Forbidden, Forbidden], false),
    ("POST", "/api/days/confirm", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/api/treatments", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/api/treatments", [Login, Ok, Forbidden, Forbidden], false),
    (
        "DELETE",
        "/api/treatments/{id}",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "POST",
        "/api/treatments/{id}/regimens",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "POST",
        "/api/regimens/{id}/change",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "POST",
        "/api/regimens/{id}/stop",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    ("GET", "/api/doses/due", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/api/doses", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/api/doses", [Login, Ok, Forbidden, Forbidden], false),
    ("DELETE", "/api/doses/{id}", [Login, Own, Forbidden, Forbidden], false),
    ("POST", "/api/side-effects", [Login, Ok, Forbidden, Forbidden], false),
    (
        "GET",
        "/api/side-effects/{id}",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "PUT",
        "/api/side-effects/{id}",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    (
        "DELETE",
        "/api/side-effects/{id}",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    ("POST", "/api/episodes", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/api/episodes/{id}", [Login, Own, Forbidden, Forbidden], false),
    (
        "DELETE",
        "/api/episodes/{id}",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    ("POST", "/api/checkins", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/api/checkins", [Login, Ok, Forbidden, Forbidden], false),
    ("GET", "/api/dashboard", [Login, Ok, Forbidden, Forbidden], false),
    ("PUT", "/api/episodes/{id}", [Login, Own, Forbidden, Forbidden], false),
    ("GET", "/api/tokens", [Login, Ok, Forbidden, Forbidden], false),
    ("POST", "/api/tokens", [Login, Ok, Forbidden, Forbidden], false),
    ("DELETE", "/api/tokens/{id}", [Login, Own, Forbidden, Forbidden], false),
    ("GET", "/api/consents", [Login, Ok, Forbidden, Forbidden], false),
    (
        "POST",
        "/api/consents/{id}/revoke",
        [Login, Own, Forbidden, Forbidden],
        false,
    ),
    ("GET", "/api/audit", [Login, Ok, Forbidden, Forbidden], false),
    // FHIR R4: the capability statement is public; a patient reads their own record, a
    // clinician consented patients (`Own` on `{fhir_id}`: the caller's own or consented
    // patient is read, any other is not found), an administrator no patient's.
    ("GET", "/fhir/r4/metadata", [Ok, Ok, Ok, Ok], false),
    ("GET", "/fhir/r4/Patient", [Login, Ok, Ok, Forbidden], false),
    ("GET", "/fhir/r4/Patient/{fhir_id}", [Login, Own, Own, Forbidden], false),
    (
        "GET",
        "/fhir/r4/Patient/{fhir_id}/$everything",
        [Login, Own, Own, Forbidden],
        false,
    ),
    ("GET", "/fhir/r4/Observation", [Login, Ok, Ok, Forbidden], false),
    ("GET", "/fhir/r4/Condition", [Login, Ok, Ok, Forbidden], false),
    ("GET", "/fhir/r4/MedicationStatement", [Login, Ok, Ok, Forbidden], false),
    (
        "GET",
        "/fhir/r4/MedicationAdministration",
        [Login, Ok, Ok, Forbidden],
        false,
    ),
    ("GET", "/fhir/r4/AdverseEvent", [Login, Ok, Ok, Forbidden], false),
    (
        "GET",
        "/api/clinician/patients",
        [Login, Forbidden, Ok, Forbidden],
        false,
    ),
    (
        "GET",
        "/api/clinician/patients/{patient_id}/episodes",
        [Login, Forbidden, Consent, Forbidden],
        false,
    ),
    (
        "GET",
        "/api/clinician/patients/{patient_id}/dashboard",
        [Login, Forbidden, Consent, Forbidden],
        false,
    ),
];

fn classify(status: StatusCode, location: &str) -> O {
    match status.as_u16() {
        401 => Login,
        403 => Forbidden,
        404 => NotFound,
        303 | 302 | 307 if location == "/login" => Login,
        _ => Ok,
    }
}

struct World {
    users: [Option<String>; 4],
    anne: i64,
    paul: i64,
    rita: i64,
    ursula: i64,
}

async fn episode_for(store: &Store, patient_id: i64) -> i64 {
    let p = store.patient_by_id(patient_id).await.unwrap().unwrap();
    let now = jiff::Timestamp::now();
    let e = EpisodeDraft {
        kind: "cramp".into(),
        ..Default::default()
    }
    .validate(
        LocalInstant {
            at: now,
            zone: p.zone.clone(),
        },
        now,
    )
    .unwrap();
    store.insert_episode(&p, &e).await.unwrap()
}

async fn user_id(store: &Store, name: &str) -> i64 {
    store.user_by_username(name).await.unwrap().unwrap().id
}

/// A record of the kind `path` acts on, owned by `owner` (a user name), made fresh because
/// the request may delete or revoke it.
async fn fresh_id(s: &Server, w: &World, path: &str, owner: &str) -> i64 {
    let store = &s.store;
    let now = jiff::Timestamp::now().as_millisecond();
    if path.starts_with("/admin/users/") {
        // Accounts an administrator may disable or reset: throwaway ones, so the matrix's
        // own users keep their sessions.
        let zone = tonus_domain::time::Zone::utc();
        let name = format!("spare{}", rand_suffix());
        return store
            .create_user(&name, tonus_store::Role::Patient, "not a real hash", &zone)
            .await
            .unwrap()
            .id;
    }
    let uid = user_id(store, owner).await;
    if path.starts_with("/sessions/") {
        let hash = format!("{:064x}", now as u128 * 1000 + rand_suffix());
        return store
            .create_session(&NewSession {
                user_id: uid,
                token_hash: &hash,
                csrf_token: "x",
                now_ms: now,
                expires_at_ms: now + 3_600_000,
                address: "test",
                user_agent: "test",
            })
            .await
            .unwrap();
    }
    if path.contains("/tokens/") {
        let hash = format!("{:064x}", now as u128 * 1000 + rand_suffix());
        return store.create_api_token(uid, "matrix", &hash, now).await.unwrap();
    }
    let pid = store
        .user_by_username(owner)
        .await
        .unwrap()
        .unwrap()
        .patient_id
        .unwrap();
    if path.contains("/episodes/") {
        return episode_for(store, pid).await;
    }
    if path.contains("/treatments/") || path.contains("/regimens/") || path.contains("/doses/") {
        let p = store.patient_by_id(pid).await.unwrap().unwrap();
        let t = tonus_domain::Treatment::new(&format!("Drug {}", rand_suffix()), tonus_domain::Category::Drug, None)
            .unwrap();
        let tid = store.insert_treatment(&p, &t).await.unwrap();
        if path.contains("/treatments/") {
            return tid;
        }
        let today = tonus_domain::time::today(&p.zone, jiff::Timestamp::now());
        let regimen = tonus_domain::Regimen::new(
            tonus_domain::Category::Drug,
            Some(tonus_domain::Dose::new(10.0, tonus_domain::Unit::Mg).unwrap()),
            None,
            tonus_domain::Schedule::TimesPerDay(3),
            today.checked_sub(jiff::Span::new().days(10)).unwrap(),
            None,
        )
        .unwrap();
        let rid = store.insert_regimen(&p, tid, &regimen).await.unwrap();
        if path.contains("/regimens/") {
            return rid;
        }
        let now = jiff::Timestamp::now();
        let dose = tonus_domain::DoseLog::new(
            LocalInstant {
                at: now,
                zone: p.zone.clone(),
            },
            tonus_domain::DoseStatus::Taken,
            None,
            now,
        )
        .unwrap();
        return store.insert_dose(&p, rid, &dose).await.unwrap();
    }
    if path.contains("/exercise/") || path.contains("/events/") {
        let p = store.patient_by_id(pid).await.unwrap().unwrap();
        let now = jiff::Timestamp::now();
        if path.contains("/exercise/") {
            let s = tonus_domain::ExerciseSession::new(
                LocalInstant {
                    at: now,
                    zone: p.zone.clone(),
                },
                tonus_domain::ExerciseType::Yoga,
                20,
                3,
                None,
                now,
            )
            .unwrap();
            return store.insert_exercise(&p, &s).await.unwrap();
        }
        let e = tonus_domain::ClinicalEvent::new(
            tonus_domain::EventKind::Infection,
            tonus_domain::time::today(&p.zone, now),
            None,
            None,
            &p.zone,
            now,
        )
        .unwrap();
        return store.insert_event(&p, &e).await.unwrap();
    }
    if path.contains("/side-effects/") {
        let p = store.patient_by_id(pid).await.unwrap().unwrap();
        let now = jiff::Timestamp::now();
        let effect = tonus_domain::SideEffect::new(
            LocalInstant {
                at: now,
                zone: p.zone.clone(),
            },
            tonus_domain::Effect::Drowsiness,
            None,
            tonus_domain::Severity::Mild,
            None,
            None,
            now,
        )
        .unwrap();
        return store.insert_side_effect(&p, &effect).await.unwrap();
    }
    if path.starts_with("/trials/") {
        let p = store.patient_by_id(pid).await.unwrap().unwrap();
        let design = serde_json::json!({
            "arms": ["none", "other"], "baseline_days": 14, "period_days": 14, "washout_days": 4,
            "blocks": 2, "seed": 1, "primary_outcome": "involuntary_count", "success_threshold": 0.3
        });
        let name = format!("t{}", rand_suffix());
        return store
            .insert_trial(&p, &name, jiff::civil::date(2026, 1, 1), &design)
            .await
            .unwrap();
    }
    if path.starts_with("/calendar/feeds/") {
        let p = store.patient_by_id(pid).await.unwrap().unwrap();
        let hash = format!("{:064x}", now as u128 * 1000 + rand_suffix());
        return store.create_calendar_feed(&p, &hash, now).await.unwrap();
    }
    if path.starts_with("/reminders/devices/") {
        let p = store.patient_by_id(pid).await.unwrap().unwrap();
        let endpoint = format!("https://push.example.org/{}", rand_suffix());
        let choices = tonus_store::push::PushChoices {
            label: "Phone".to_string(),
            kinds: 7,
            checkin_min: 1200,
            quiet_start_min: None,
            quiet_end_min: None,
        };
        return store
            .upsert_push_subscription(&p, &endpoint, "k", "a", &choices, now)
            .await
            .unwrap();
    }
    if path.contains("/sharing/") || path.contains("/consents/") {
        let doc = user_id(store, "doc").await;
        if let Some(id) = store.grant_consent(pid, doc, "test", now).await.unwrap() {
            return id;
        }
        return store
            .consents_of_patient(pid)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.revoked_at_ms.is_none())
            .unwrap()
            .id;
    }
    let _ = w;
    panic!("no fixture for {path}")
}

fn rand_suffix() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    u128::from(N.fetch_add(1, Ordering::Relaxed))
}

async fn send(c: &Client, method: &str, path: &str) -> (StatusCode, String) {
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = c.http.request(m.clone(), c.url(path)).header("x-csrf-token", c.csrf());
    if m != Method::GET {
        req = if path.starts_with("/api/") {
            req.header("content-type", "application/json").body("{}")
        } else {
            req.form(&[("csrf", c.csrf())])
        };
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, location(&r))
}

#[tokio::test]
async fn every_route_has_an_entry_and_every_entry_holds() {
    let config = tonus_server::Config {
        max_failures_per_account: 1000,
        max_failures_per_address: 1000,
        ..test_config()
    };
    for s in servers_with(config).await {
        let admin_setup = s.setup_admin().await;
        for (name, role) in [
            ("anne", "patient"),
            ("paul", "patient"),
            ("rita", "patient"),
            ("ursula", "patient"),
            ("doc", "clinician"),
        ] {
            s.add_user(&admin_setup, name, role).await;
        }
        let w = World {
            users: [None, Some("anne".into()), Some("doc".into()), Some("admin".into())],
            anne: s.patient_id("anne").await,
            paul: s.patient_id("paul").await,
            rita: s.patient_id("rita").await,
            ursula: s.patient_id("ursula").await,
        };
        let doc = user_id(&s.store, "doc").await;
        let now = jiff::Timestamp::now().as_millisecond();
        s.store.grant_consent(w.paul, doc, "test", now).await.unwrap();
        let rc = s.store.grant_consent(w.rita, doc, "test", now).await.unwrap().unwrap();
        s.store.revoke_consent(w.rita, rc, now).await.unwrap();
        episode_for(&s.store, w.anne).await;
        episode_for(&s.store, w.paul).await;

        let anon = s.client();
        anon.refresh_csrf("/login").await;
        let mut clients = vec![anon];
        for u in w.users.iter().flatten() {
            clients.push(s.login(u).await);
        }

        let routes = tonus_server::route_list();
        let mut failures = Vec::new();
        for (method, path) in &routes {
            if !MATRIX.iter().any(|(m, p, _, _)| *m == method.as_str() && p == path) {
                failures.push(format!("{method} {path}: no entry in the authorization matrix"));
            }
        }
        for (m, p, _, _) in MATRIX {
            if !routes.iter().any(|(rm, rp)| rm.as_str() == *m && rp == p) {
                failures.push(format!("{m} {p}: in the matrix but not served"));
            }
        }

        // Safe methods first, so nothing they look at has been deleted yet; sign-outs last.
        let mut rows: Vec<_> = MATRIX.iter().collect();
        rows.sort_by_key(|(m, _, _, fresh)| (*fresh, *m != "GET"));
        for (method, path, expected, fresh) in rows {
            for (ri, role) in ROLES.iter().enumerate() {
                let fresh_client;
                let client = match (&w.users[ri], fresh) {
                    (Some(u), true) => {
                        fresh_client = s.login(u).await;
                        &fresh_client
                    }
                    _ => &clients[ri],
                };
                // The cases this (route, role) is tried in: (label, concrete path, expectation).
                let mut cases = Vec::new();
                let exp = expected[ri];
                if path.contains("{patient_id}") {
                    for (label, pid, consent_ok) in [
                        ("consented", w.paul, true),
                        ("unconsented", w.ursula, false),
                        ("revoked", w.rita, false),
                    ] {
                        let want = match exp {
                            Consent if consent_ok => Ok,
                            Consent => NotFound,
                            other => other,
                        };
                        cases.push((label, path.replace("{patient_id}", &pid.to_string()), want));
                    }
                } else if path.contains("{fhir_id}") {
                    // The own (a patient) or consented (a clinician: Paul) Patient id, then
                    // one never shared and one whose sharing was revoked.
                    let own = if ROLES[ri] == "clinician" { "paul" } else { "anne" };
                    for (label, name, readable) in [
                        ("own or consented", own, true),
                        ("unconsented", "ursula", false),
                        ("revoked", "rita", false),
                    ] {
                        let id = tonus_server::service::fhir::patient_fhir_id(&s.patient(name).await);
                        let want = match exp {
                            Own if readable => Ok,
                            Own => NotFound,
                            other => other,
                        };
                        cases.push((label, path.replace("{fhir_id}", &id), want));
                    }
                } else if path.contains("{id}") {
                    let own_owner = w.users[ri].clone().unwrap_or_else(|| "anne".to_string());
                    let own_owner = if exp == Own || path.starts_with("/sessions/") {
                        own_owner
                    } else {
                        "anne".to_string()
                    };
                    let own = fresh_id(&s, &w, path, &own_owner).await;
                    // Another patient's grant: Paul's live one, so a wrongly honoured revoke
                    // would show in the consent assertion after the loop.
                    let other_owner = if path.contains("/sharing/") || path.contains("/consents/") {
                        "paul"
                    } else {
                        "ursula"
                    };
                    let other = fresh_id(&s, &w, path, other_owner).await;
                    let (want_own, want_other) = if exp == Own { (Ok, NotFound) } else { (exp, exp) };
                    cases.push(("own", path.replace("{id}", &own.to_string()), want_own));
                    cases.push((
                        "another patient's",
                        path.replace("{id}", &other.to_string()),
                        want_other,
                    ));
                } else {
                    cases.push(("-", path.to_string(), exp));
                }
                for (label, concrete, want) in cases {
                    let (status, loc) = send(client, method, &concrete).await;
                    let mut got = classify(status, &loc);
                    if want == SignedOut && got == Login && location(&client.get("/").await) == "/login" {
                        got = SignedOut;
                    }
                    if got != want {
                        failures.push(format!(
                            "[{}] {method} {path} as {role} ({label}): expected {want:?}, got {got:?} ({status}, location {loc:?})",
                            s.backend
                        ));
                    }
                }
                // "Sign out everywhere" also ended the role's main session.
                if let (Some(u), true) = (&w.users[ri], fresh) {
                    clients[ri] = s.login(u).await;
                }
            }
        }
        // Revoked and unconsented stayed that way; the consented patient still is.
        assert!(s.store.has_consent(doc, w.paul).await.unwrap());
        assert!(!s.store.has_consent(doc, w.rita).await.unwrap());
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// The routes a personal access token may call: (method, path, [read, read-write]). Every
/// other route answers 403 to a token of either scope: tokens never create tokens, manage
/// sharing, invitations, calendar feeds, sessions or the account.
const TOKEN_MATRIX: &[(&str, &str, [bool; 2])] = &[
    ("GET", "/api/me", [true, true]),
    ("GET", "/fhir/r4/metadata", [true, true]),
    ("GET", "/fhir/r4/Patient", [true, true]),
    ("GET", "/fhir/r4/Patient/{fhir_id}", [true, true]),
    ("GET", "/fhir/r4/Patient/{fhir_id}/$everything", [true, true]),
    ("GET", "/fhir/r4/Observation", [true, true]),
    ("GET", "/fhir/r4/Condition", [true, true]),
    ("GET", "/fhir/r4/MedicationStatement", [true, true]),
    ("GET", "/fhir/r4/MedicationAdministration", [true, true]),
    ("GET", "/fhir/r4/AdverseEvent", [true, true]),
    ("GET", "/api/identity", [true, true]),
    ("GET", "/api/episodes", [true, true]),
    ("GET", "/api/episodes/{id}", [true, true]),
    ("GET", "/api/side-effects", [true, true]),
    ("GET", "/api/side-effects/{id}", [true, true]),
    ("GET", "/api/treatments", [true, true]),
    ("GET", "/api/doses", [true, true]),
    ("GET", "/api/doses/due", [true, true]),
    ("GET", "/api/exercise", [true, true]),
    ("GET", "/api/exercise/{id}", [true, true]),
    ("GET", "/api/events", [true, true]),
    ("GET", "/api/events/{id}", [true, true]),
    ("GET", "/api/checkins", [true, true]),
    ("GET", "/api/dashboard", [true, true]),
    ("GET", "/api/openapi.json", [true, true]),
    ("GET", "/export/archive.json", [true, true]),
    ("GET", "/report.pdf", [true, true]),
    ("POST", "/api/episodes", [false, true]),
    ("PUT", "/api/episodes/{id}", [false, true]),
    ("DELETE", "/api/episodes/{id}", [false, true]),
    ("POST", "/api/checkins", [false, true]),
    ("POST", "/api/side-effects", [false, true]),
    ("PUT", "/api/side-effects/{id}", [false, true]),
    ("DELETE", "/api/side-effects/{id}", [false, true]),
    ("POST", "/api/treatments", [false, true]),
    ("DELETE", "/api/treatments/{id}", [false, true]),
    ("PUT", "/api/treatments/{id}", [false, true]),
    ("PUT", "/api/doses/{id}", [false, true]),
    ("POST", "/api/treatments/{id}/regimens", [false, true]),
    ("POST", "/api/regimens/{id}/change", [false, true]),
    ("POST", "/api/regimens/{id}/stop", [false, true]),
    ("POST", "/api/doses", [false, true]),
    ("DELETE", "/api/doses/{id}", [false, true]),
    ("POST", "/api/exercise", [false, true]),
    ("PUT", "/api/exercise/{id}", [false, true]),
    ("DELETE", "/api/exercise/{id}", [false, true]),
    ("POST", "/api/events", [false, true]),
    ("PUT", "/api/events/{id}", [false, true]),
    ("DELETE", "/api/events/{id}", [false, true]),
    ("POST", "/api/days/confirm", [false, true]),
];

#[tokio::test]
async fn tokens_reach_only_the_diary_within_their_scope() {
    let config = tonus_server::Config {
        max_failures_per_account: 1000,
        max_failures_per_address: 1000,
        ..test_config()
    };
    for s in servers_with(config).await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "ursula", "patient").await;
        s.add_user(&admin, "doc", "clinician").await;
        let anne = s.login("anne").await;
        let w = World {
            users: [None, Some("anne".into()), Some("doc".into()), Some("admin".into())],
            anne: s.patient_id("anne").await,
            paul: s.patient_id("ursula").await,
            rita: s.patient_id("ursula").await,
            ursula: s.patient_id("ursula").await,
        };
        let mut failures = Vec::new();
        for (si, scope) in ["read", "read-write"].iter().enumerate() {
            let r = anne
                .json(
                    Method::POST,
                    "/api/tokens",
                    Some(serde_json::json!({ "name": format!("matrix {scope}"), "scope": scope })),
                )
                .await;
            assert_eq!(r.status(), StatusCode::CREATED);
            let v: serde_json::Value = r.json().await.unwrap();
            let token = v["token"].as_str().unwrap().to_string();
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .unwrap();
            for (method, path) in tonus_server::route_list() {
                let allowed = TOKEN_MATRIX
                    .iter()
                    .find(|(m, p, _)| *m == method.as_str() && p == &path)
                    .is_some_and(|(_, _, a)| a[si]);
                let concrete = if path.contains("{id}") {
                    let owner = if path.starts_with("/admin/") { "ursula" } else { "anne" };
                    let id = fresh_id(&s, &w, path, owner).await;
                    path.replace("{id}", &id.to_string())
                } else if path.contains("{patient_id}") {
                    path.replace("{patient_id}", &w.anne.to_string())
                } else if path.contains("{file}") {
                    path.replace("{file}", "nothing.ics")
                } else {
                    path.to_string()
                };
                let mut req = http
                    .request(method.clone(), format!("{}{concrete}", s.base))
                    .bearer_auth(&token);
                if method != Method::GET {
                    req = req
                        .header("content-type", "application/json")
                        .body(r#"{"kind":"cramp"}"#);
                }
                let status = req.send().await.unwrap().status();
                let ok = if allowed {
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED
                } else {
                    // The feed path carries its own secret and ignores bearer tokens.
                    status == StatusCode::FORBIDDEN
                        || (path == "/feeds/{file}" && status == StatusCode::NOT_FOUND)
                        // Load-balancer probes sit outside authentication and say nothing private.
                        || (tonus_server::ops::PROBE_ROUTES.contains(&path) && status == StatusCode::OK)
                };
                if !ok {
                    failures.push(format!(
                        "[{}] {method} {path} with a {scope} token: {status}, {}",
                        s.backend,
                        if allowed {
                            "should reach the handler"
                        } else {
                            "should be 403"
                        }
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
