//! IDs in URLs cannot reach another patient's data. Every route with an ID in its path (taken
//! from the router itself, so a new one is covered without editing this file) is tried with
//! the IDs of other patients' rows of every kind, by a patient (session and token) and by a
//! clinician without consent or whose consent was revoked. The answer must be exactly the
//! answer for an ID that does not exist (so it reveals nothing, not even existence), 404
//! where the caller's role may use the route, and carry none of the other patient's data;
//! nothing of theirs may change. Then sign-out, "sign out everywhere", token revocation and
//! consent revocation must end access at once, and the audit chain must still verify.

mod common;

use std::collections::BTreeSet;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::time::LocalInstant;
use tonus_server::security::sha256_hex;
use tonus_store::{NewSession, Store};

/// An ID no row has.
const MISSING: i64 = 987_654_321;

/// What another patient owns, with the strings that would show their data leaked.
struct Victim {
    name: &'static str,
    /// Every ID of every kind they own: episodes, consents, tokens, trials, calendar feeds,
    /// sessions, their patient row and their user row.
    ids: BTreeSet<i64>,
    episode: i64,
    consent_to: i64,
    token: String,
    session_cookie: String,
    feed_secret: String,
    trial: String,
}

impl Victim {
    fn markers(&self) -> Vec<String> {
        vec![format!("{}-secret", self.name), self.trial.clone(), self.token.clone()]
    }
}

async fn user_id(store: &Store, name: &str) -> i64 {
    store.user_by_username(name).await.unwrap().unwrap().id
}

async fn patient_of(store: &Store, name: &str) -> tonus_domain::Patient {
    let pid = store.user_by_username(name).await.unwrap().unwrap().patient_id.unwrap();
    store.patient_by_id(pid).await.unwrap().unwrap()
}

/// Rows of every kind for `name`, each marked with a string only they have.
async fn victim(s: &Server, name: &'static str, grantee: &str) -> Victim {
    let store = &s.store;
    let now = jiff::Timestamp::now();
    let now_ms = now.as_millisecond();
    let uid = user_id(store, name).await;
    let p = patient_of(store, name).await;
    let mut ids = BTreeSet::from([uid, p.id]);

    let e = EpisodeDraft {
        kind: "clonus".into(),
        notes: Some(format!("{name}-secret note")),
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
    let episode = store.insert_episode(&p, &e).await.unwrap();
    ids.insert(episode);

    let grantee_id = user_id(store, grantee).await;
    ids.insert(
        store
            .grant_consent(p.id, grantee_id, "test", now_ms)
            .await
            .unwrap()
            .unwrap(),
    );

    let token = format!("tonus_{name}_secret_token_0123456789abcdef");
    ids.insert(
        store
            .create_api_token(uid, &format!("{name}-secret script"), &sha256_hex(&token), now_ms)
            .await
            .unwrap(),
    );

    let session_cookie = format!("{name}-secret-session-0123456789abcdef0123456789abcdef");
    ids.insert(
        store
            .create_session(&NewSession {
                user_id: uid,
                token_hash: &sha256_hex(&session_cookie),
                csrf_token: "c",
                now_ms,
                expires_at_ms: now_ms + 3_600_000,
                address: "test",
                user_agent: "test",
            })
            .await
            .unwrap(),
    );

    let feed_secret = format!("{:0>48}", hex_of(name));
    ids.insert(
        store
            .create_calendar_feed(&p, &sha256_hex(&feed_secret), now_ms)
            .await
            .unwrap(),
    );

    let trial = format!("{name}-secret trial");
    let design = json!({
        "arms": ["none", "other"], "baseline_days": 14, "period_days": 14, "washout_days": 4,
        "blocks": 2, "seed": 1, "primary_outcome": "involuntary_count", "success_threshold": 0.3
    });
    ids.insert(
        store
            .insert_trial(&p, &trial, jiff::civil::date(2026, 1, 1), &design)
            .await
            .unwrap(),
    );
    Victim {
        name,
        ids,
        episode,
        consent_to: grantee_id,
        token,
        session_cookie,
        feed_secret,
        trial,
    }
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The IDs the caller may legitimately reach through `path`: skipped, since an ID number can
/// belong to a victim in one table and to the caller in another.
async fn own_ids(store: &Store, caller: &str, path: &str) -> BTreeSet<i64> {
    let user = store.user_by_username(caller).await.unwrap().unwrap();
    let patient = match user.patient_id {
        Some(pid) => store.patient_by_id(pid).await.unwrap(),
        None => None,
    };
    let mut out = BTreeSet::new();
    if path.starts_with("/sessions/") {
        out.extend(store.list_sessions(user.id).await.unwrap().into_iter().map(|s| s.id));
    }
    if path.contains("tokens/") {
        out.extend(store.list_api_tokens(user.id).await.unwrap().into_iter().map(|t| t.id));
    }
    if path.contains("{patient_id}") {
        let consents = store.consents_of_clinician(user.id).await.unwrap();
        out.extend(
            consents
                .into_iter()
                .filter(|c| c.revoked_at_ms.is_none())
                .map(|c| c.patient_id),
        );
    }
    if let Some(p) = patient {
        if path.contains("episodes/") {
            out.extend(
                store
                    .list_episodes(&p, None, None)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|e| e.id),
            );
        }
        if path.contains("/sharing/") || path.contains("/consents/") {
            out.extend(store.consents_of_patient(p.id).await.unwrap().into_iter().map(|c| c.id));
        }
        if path.starts_with("/trials/") {
            out.extend(store.list_trials(&p).await.unwrap().into_iter().map(|t| t.id));
        }
        if path.starts_with("/calendar/feeds/") {
            out.extend(store.list_calendar_feeds(&p).await.unwrap().into_iter().map(|f| f.id));
        }
    }
    out
}

/// Who calls: a cookie session (with its CSRF token) or a bearer token.
enum Caller<'a> {
    Session(&'a Client),
    Token(&'a TokenClient),
}

async fn send(caller: &Caller<'_>, method: &Method, path: &str) -> (StatusCode, String) {
    let mut req = match caller {
        Caller::Session(c) => c
            .http
            .request(method.clone(), c.url(path))
            .header("x-csrf-token", c.csrf()),
        Caller::Token(t) => t
            .http
            .request(method.clone(), format!("{}{}", t.base, path))
            .bearer_auth(&t.token),
    };
    if *method != Method::GET {
        req = if path.starts_with("/api/") {
            req.header("content-type", "application/json").body("{}")
        } else {
            let csrf = match caller {
                Caller::Session(c) => c.csrf(),
                Caller::Token(_) => String::new(),
            };
            req.form(&[("csrf", csrf)])
        };
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.text().await.unwrap())
}

/// The role a route is for, as far as IDs in it go.
fn route_role(path: &str) -> &'static str {
    if path.starts_with("/clinician/") || path.starts_with("/api/clinician/") {
        "clinician"
    } else if path.starts_with("/admin/") {
        "admin"
    } else if path.starts_with("/sessions/")
        || path.starts_with("/feeds/")
        || path.starts_with("/assets/")
        // Patients (own record) and clinicians (consented patients) both read FHIR.
        || path.starts_with("/fhir/")
    {
        "any"
    } else {
        "patient"
    }
}

fn fill(path: &str, id: i64) -> String {
    path.replace("{id}", &id.to_string())
        .replace("{patient_id}", &id.to_string())
        .replace("{file}", &format!("{id}.ics"))
}

/// A client with no cookie jar, so a test can keep a session cookie after the browser drops it.
fn bare_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

fn set_cookie_value(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
}

/// Signs in by hand and returns the session cookie's value and the session's CSRF token.
async fn raw_login(base: &str, name: &str) -> (String, String) {
    let http = bare_http();
    let r = http.get(format!("{base}/login")).send().await.unwrap();
    let pre = set_cookie_value(&r, "__Host-tonus-csrf").unwrap();
    let csrf = value_after(&r.text().await.unwrap(), "name=\"csrf\"").unwrap();
    let r = http
        .post(format!("{base}/login"))
        .header("cookie", format!("__Host-tonus-csrf={pre}"))
        .form(&[("username", name), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let session = set_cookie_value(&r, "__Host-tonus-session").unwrap();
    let r = http
        .get(format!("{base}/sessions"))
        .header("cookie", format!("__Host-tonus-session={session}"))
        .send()
        .await
        .unwrap();
    let csrf = value_after(&r.text().await.unwrap(), "name=\"csrf\"").unwrap();
    (session, csrf)
}

async fn me_with_cookie(base: &str, session: &str) -> StatusCode {
    bare_http()
        .get(format!("{base}/api/me"))
        .header("cookie", format!("__Host-tonus-session={session}"))
        .send()
        .await
        .unwrap()
        .status()
}

async fn post_with_cookie(base: &str, path: &str, session: &str, csrf: &str) -> StatusCode {
    bare_http()
        .post(format!("{base}{path}"))
        .header("cookie", format!("__Host-tonus-session={session}"))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn ids_of_other_patients_reveal_nothing_and_access_ends_when_it_should() {
    let config = tonus_server::Config {
        max_failures_per_account: 1000,
        max_failures_per_address: 1000,
        ..test_config()
    };
    for s in servers_with(config).await {
        let admin = s.setup_admin().await;
        for (name, role) in [
            ("anne", "patient"),
            ("ursula", "patient"),
            ("rita", "patient"),
            ("paul", "patient"),
            ("doc", "clinician"),
            ("other-doc", "clinician"),
        ] {
            s.add_user(&admin, name, role).await;
        }
        // Ursula shares with another clinician only; Rita shares with Doc, then revokes.
        let ursula = victim(&s, "ursula", "other-doc").await;
        let rita = victim(&s, "rita", "doc").await;
        let doc_id = user_id(&s.store, "doc").await;
        let paul = patient_of(&s.store, "paul").await;
        s.store
            .grant_consent(paul.id, doc_id, "test", jiff::Timestamp::now().as_millisecond())
            .await
            .unwrap();

        let anne = s.login("anne").await;
        let r = anne
            .json(Method::POST, "/api/tokens", Some(json!({ "name": "anne script" })))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let anne_token: serde_json::Value = r.json().await.unwrap();
        let anne_api = TokenClient::new(&s.base, anne_token["token"].as_str().unwrap());
        let doc = s.login("doc").await;

        // Consent revocation ends the clinician's access at once.
        let rita_pid = patient_of(&s.store, "rita").await.id;
        let path = format!("/api/clinician/patients/{rita_pid}/episodes");
        let r = doc.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK, "[{}]", s.backend);
        assert!(r.text().await.unwrap().contains("rita-secret"));
        // Consent is managed from a browser session (tokens get 403 there, see matrix.rs).
        let rita_web = s.login("rita").await;
        let consents: serde_json::Value = rita_web
            .json(Method::GET, "/api/consents", None)
            .await
            .json()
            .await
            .unwrap();
        let cid = consents
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["clinician"] == "doc")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let r = rita_web
            .json(Method::POST, &format!("/api/consents/{cid}/revoke"), Some(json!({})))
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        for p in [path.clone(), format!("/clinician/patients/{rita_pid}")] {
            let r = doc.get(&p).await;
            assert_eq!(
                r.status(),
                StatusCode::NOT_FOUND,
                "[{}] {p} after revocation",
                s.backend
            );
            assert!(!r.text().await.unwrap().contains("rita-secret"));
        }

        // The sweep.
        let victims = [&ursula, &rita];
        let callers: [(&str, &str, Caller); 3] = [
            ("anne", "patient", Caller::Session(&anne)),
            ("anne", "patient", Caller::Token(&anne_api)),
            ("doc", "clinician", Caller::Session(&doc)),
        ];
        let mut tried = 0usize;
        let mut failures = Vec::new();
        let routes: Vec<_> = tonus_server::route_list()
            .into_iter()
            .filter(|(_, p)| p.contains('{'))
            .collect();
        assert!(routes.len() >= 10, "routes with IDs: {routes:?}");
        for (method, path) in &routes {
            for (who, role, caller) in &callers {
                let via = if matches!(caller, Caller::Token(_)) {
                    "token"
                } else {
                    "session"
                };
                let own = own_ids(&s.store, who, path).await;
                let (probe_status, probe_body) = send(caller, method, &fill(path, MISSING)).await;
                // A token (read-write here) reaches only the diary routes; elsewhere 403.
                let token_may = !matches!(caller, Caller::Token(_))
                    || tonus_server::service::tokens::may(method, path, tonus_store::TokenScope::ReadWrite);
                let may_use = (route_role(path) == "any" || route_role(path) == *role) && token_may;
                if may_use && probe_status != StatusCode::NOT_FOUND {
                    failures.push(format!("{method} {path} as {who} ({via}), missing id: {probe_status}"));
                }
                if !may_use && probe_status != StatusCode::FORBIDDEN {
                    failures.push(format!(
                        "{method} {path} as {who} ({via}), not for {role}s: {probe_status}"
                    ));
                }
                for v in victims {
                    for id in v.ids.iter().filter(|id| !own.contains(id)) {
                        tried += 1;
                        let concrete = fill(path, *id);
                        let (status, body) = send(caller, method, &concrete).await;
                        if status != probe_status || body != probe_body {
                            failures.push(format!(
                                "{method} {concrete} as {who} ({via}) with {}'s id: {status}, unlike a missing id ({probe_status})",
                                v.name
                            ));
                        }
                        for m in v.markers() {
                            if body.contains(&m) {
                                failures.push(format!("{method} {concrete} as {who} ({via}): body shows {m:?}"));
                            }
                        }
                    }
                }
            }
        }
        println!(
            "[{}] access sweep: {tried} requests with other patients' ids",
            s.backend
        );
        assert!(
            failures.is_empty(),
            "[{}] {} failures:\n{}",
            s.backend,
            failures.len(),
            failures.join("\n")
        );
        // Distinct ID numbers (kinds share numbers), times routes and callers.
        assert!(tried >= 200, "only {tried} requests tried");

        // Nothing of theirs changed: each victim's rows still work for them.
        for v in victims {
            let p = patient_of(&s.store, v.name).await;
            assert!(
                s.store.get_episode(&p, v.episode).await.unwrap().is_some(),
                "{} episode",
                v.name
            );
            assert!(s.store.list_trials(&p).await.unwrap().iter().any(|t| t.name == v.trial));
            assert_eq!(
                me_with_cookie(&s.base, &v.session_cookie).await,
                StatusCode::OK,
                "{} session",
                v.name
            );
            let api = TokenClient::new(&s.base, &v.token);
            assert_eq!(api.send(Method::GET, "/api/me", None).await.status(), StatusCode::OK);
            let feed = bare_http()
                .get(format!("{}/feeds/{}.ics", s.base, v.feed_secret))
                .send()
                .await
                .unwrap();
            assert_eq!(feed.status(), StatusCode::OK, "{} feed", v.name);
            // The feed reminds of the stored trial's period changes (2 arms × 2 blocks).
            let ics = feed.text().await.unwrap().replace("\r\n ", "");
            assert!(
                ics.contains(&format!("SUMMARY:Trial {}: period 4 of 4 starts", v.trial)),
                "{} feed without its trial's periods:\n{ics}",
                v.name
            );
        }
        assert!(s
            .store
            .has_consent(ursula.consent_to, patient_of(&s.store, "ursula").await.id)
            .await
            .unwrap());
        assert!(s.store.has_consent(doc_id, paul.id).await.unwrap());
        assert!(!s.store.has_consent(rita.consent_to, rita_pid).await.unwrap());

        // Sign-out ends the session on the server, not just in the browser: the old cookie,
        // replayed, is refused.
        let (cookie, csrf) = raw_login(&s.base, "anne").await;
        assert_eq!(me_with_cookie(&s.base, &cookie).await, StatusCode::OK);
        assert_eq!(
            post_with_cookie(&s.base, "/logout", &cookie, &csrf).await,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            me_with_cookie(&s.base, &cookie).await,
            StatusCode::UNAUTHORIZED,
            "[{}] after sign-out",
            s.backend
        );

        // "Sign out everywhere" ends every session of the account, the other devices' too.
        let (phone, _) = raw_login(&s.base, "anne").await;
        let (laptop, laptop_csrf) = raw_login(&s.base, "anne").await;
        assert_eq!(
            post_with_cookie(&s.base, "/sessions/end-all", &laptop, &laptop_csrf).await,
            StatusCode::SEE_OTHER
        );
        for c in [&phone, &laptop] {
            assert_eq!(
                me_with_cookie(&s.base, c).await,
                StatusCode::UNAUTHORIZED,
                "[{}] after end-all",
                s.backend
            );
        }
        assert_eq!(
            location(&anne.get("/").await),
            "/login",
            "the test's own session ended too"
        );

        // "Everywhere" includes her API tokens.
        assert_eq!(
            anne_api.send(Method::GET, "/api/me", None).await.status(),
            StatusCode::UNAUTHORIZED,
            "[{}] token after end-all",
            s.backend
        );

        // A revoked token stops working at once (revoked from a session: a token cannot).
        let anne = s.login("anne").await;
        let r = anne
            .json(Method::POST, "/api/tokens", Some(json!({ "name": "second script" })))
            .await;
        let second: serde_json::Value = r.json().await.unwrap();
        let second_api = TokenClient::new(&s.base, second["token"].as_str().unwrap());
        assert_eq!(
            second_api.send(Method::GET, "/api/me", None).await.status(),
            StatusCode::OK
        );
        let tid = second["id"].as_i64().unwrap();
        let r = second_api
            .send(Method::DELETE, &format!("/api/tokens/{tid}"), None)
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "a token cannot manage tokens");
        let r = anne.json(Method::DELETE, &format!("/api/tokens/{tid}"), None).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            second_api.send(Method::GET, "/api/me", None).await.status(),
            StatusCode::UNAUTHORIZED
        );

        // After all of it the audit chain is whole, and it recorded the revocations.
        let v = s.store.verify_audit().await.unwrap();
        assert!(
            v.first_bad.is_none(),
            "[{}] audit chain broken: {:?}",
            s.backend,
            v.first_bad
        );
        assert!(v.rows > 5, "{} audit rows", v.rows);
        let log = s.store.list_audit(None, 1000).await.unwrap();
        for action in ["consent.revoke", "token.revoke", "signout.everywhere"] {
            assert!(
                log.iter().any(|r| r.action == action),
                "[{}] no {action} in the audit log",
                s.backend
            );
        }
    }
}
