//! Security, second round (#12): accounts never take over a record by name, the first
//! administrator is made once, lock-out cannot be used as a weapon, token scopes, TOTP.

mod common;

use common::{servers, Client, Server, PASSWORD};
use reqwest::StatusCode;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::time::{LocalInstant, Zone};

/// A patient record "anne" made outside the web app (as `tonus patient add` / import /
/// restore would), holding one episode with a note only she wrote.
async fn orphan_record(s: &Server, handle: &str) -> i64 {
    let zone = Zone::parse("America/New_York").unwrap();
    let p = s.store.create_patient(handle, &zone).await.unwrap();
    let now = jiff::Timestamp::now();
    let e = EpisodeDraft {
        kind: "clonus".into(),
        notes: Some("old-private-note".into()),
        ..Default::default()
    }
    .validate(LocalInstant { at: now, zone }, now)
    .unwrap();
    s.store.insert_episode(&p, &e).await.unwrap();
    p.id
}

/// Signs up as `name`; returns the browser and the sign-in name the server made of it.
async fn sign_up(s: &Server, name: &str, zone: &str) -> (Client, String) {
    let c = s.client();
    c.refresh_csrf("/signup").await;
    let r = c
        .post_form(
            "/signup",
            &[("username", name), ("password", PASSWORD), ("time_zone", zone)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let (_, welcome) = c.page("/account?welcome").await;
    let full = common::text_between(&welcome, "Your sign-in name is ", ":").unwrap_or_else(|| panic!("{welcome}"));
    c.refresh_csrf("/sessions").await;
    (c, full)
}

async fn own_episodes(c: &Client) -> serde_json::Value {
    let r = c.json(reqwest::Method::GET, "/api/episodes", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test]
async fn accounts_never_take_over_a_record_by_name() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        let old_anne = orphan_record(&s, "anne").await;
        let old_bob = orphan_record(&s, "bob").await;

        // Sign-up as "anne": a new, empty record in the zone typed.
        let (anne, anne_name) = sign_up(&s, "anne", "Europe/Berlin").await;
        let user = s.store.user_by_username(&anne_name).await.unwrap().unwrap();
        let pid = user.patient_id.unwrap();
        assert_ne!(pid, old_anne, "{}: sign-up adopted an existing record", s.backend);
        let p = s.store.patient_by_id(pid).await.unwrap().unwrap();
        assert_eq!(p.zone.name(), "Europe/Berlin");
        assert_eq!(p.handle, anne_name);
        let list = own_episodes(&anne).await;
        assert_eq!(list.as_array().map(Vec::len), Some(0), "{}: {list}", s.backend);
        let (status, home) = anne.page("/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(!home.contains("old-private-note"));
        let (_, dash) = anne.page("/dashboard").await;
        assert!(!dash.contains("old-private-note"));

        // Created by the administrator: likewise, in the zone typed (Europe/Paris).
        s.add_user(&admin, "bob", "patient").await;
        let bob_user = s.store.user_by_username("bob").await.unwrap().unwrap();
        let bob_pid = bob_user.patient_id.unwrap();
        assert_ne!(bob_pid, old_bob, "{}: admin creation adopted a record", s.backend);
        let bp = s.store.patient_by_id(bob_pid).await.unwrap().unwrap();
        assert_eq!(bp.zone.name(), "Europe/Paris");
        let bob = s.login("bob").await;
        assert_eq!(own_episodes(&bob).await.as_array().map(Vec::len), Some(0));

        // The explicit link (what `tonus user link` does) then gives the old record.
        let linked = s.store.link_patient("bob", "bob").await.unwrap();
        assert_eq!(linked.patient.id, old_bob);
        assert_eq!(linked.previous_patient_id, Some(bob_pid));
        let list = own_episodes(&bob).await;
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        // A record another account owns cannot be linked.
        assert!(s.store.link_patient(&anne_name, "bob").await.is_err());
    }
}

/// Sign-up answers alike whether or not a name is in use: the server draws the digits, so
/// nobody learns that a named person keeps an MS diary here.
#[tokio::test]
async fn sign_up_does_not_tell_which_names_exist() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let (_, taken) = sign_up(&s, "anne", "UTC").await;
        let (_, free) = sign_up(&s, "zelda", "UTC").await;
        let (_, again) = sign_up(&s, "anne", "UTC").await;
        for (typed, full) in [("anne", &taken), ("zelda", &free), ("anne", &again)] {
            let digits = full
                .strip_prefix(&format!("{typed}-"))
                .unwrap_or_else(|| panic!("{full}"));
            assert!(
                digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()),
                "{full}"
            );
        }
        assert_ne!(taken, again);
        // Three new accounts, each with its own record; "anne" is untouched.
        let anne = s.store.user_by_username("anne").await.unwrap().unwrap();
        for full in [&taken, &again] {
            let u = s.store.user_by_username(full).await.unwrap().unwrap();
            assert_ne!(u.patient_id, anne.patient_id, "{}", s.backend);
        }
        // A typed name too long to take the digits is refused on the field.
        let c = s.client();
        c.refresh_csrf("/signup").await;
        let long = "a".repeat(60);
        let r = c
            .post_form(
                "/signup",
                &[
                    ("username", long.as_str()),
                    ("password", PASSWORD),
                    ("time_zone", "UTC"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("adds digits"));
    }
}

/// First visits racing: the check "no account yet" and the insert are one atomic step.
#[tokio::test]
async fn concurrent_first_visits_make_exactly_one_administrator() {
    for s in common::servers().await {
        let mut clients = Vec::new();
        for _ in 0..16 {
            let c = s.client();
            c.refresh_csrf("/setup").await;
            clients.push(c);
        }
        let mut tasks = Vec::new();
        for (i, c) in clients.into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let name = format!("admin{i}");
                let r = c
                    .post_form("/setup", &[("username", &name), ("password", PASSWORD)])
                    .await;
                r.status()
            }));
        }
        let mut made = 0;
        for t in tasks {
            let status = t.await.unwrap();
            assert!(
                status == StatusCode::SEE_OTHER || status == StatusCode::NOT_FOUND,
                "{}: {status}",
                s.backend
            );
            made += usize::from(status == StatusCode::SEE_OTHER);
        }
        let users = s.store.list_users().await.unwrap();
        assert_eq!(users.len(), 1, "{}: {users:?}", s.backend);
        assert_eq!(made, 1, "{}", s.backend);
    }
}

async fn login_from(c: &Client, name: &str, password: &str) -> reqwest::Response {
    c.post_form("/login", &[("username", name), ("password", password)])
        .await
}

/// An attacker's failures throttle the attacker's address, not the owner.
#[tokio::test]
async fn an_attackers_failures_do_not_lock_the_owner_out() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let attacker = Client::from_address(&s.base, "127.0.0.2".parse().unwrap());
        attacker.refresh_csrf("/login").await;
        let mut statuses = Vec::new();
        for _ in 0..50 {
            statuses.push(login_from(&attacker, "anne", "not the password!").await);
        }
        let last = statuses.pop().unwrap();
        assert_eq!(last.status(), StatusCode::TOO_MANY_REQUESTS, "{}", s.backend);
        let retry: u64 = last.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry > 0 && retry <= 15 * 60, "{retry}");
        let html = last.text().await.unwrap();
        assert!(html.contains("too many failed sign-ins"), "{html}");
        // Even the right password does not help the throttled address.
        let r = login_from(&attacker, "anne", PASSWORD).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);

        // The owner, elsewhere, signs in at once.
        let owner = Client::from_address(&s.base, "127.0.0.3".parse().unwrap());
        owner.refresh_csrf("/login").await;
        let r = login_from(&owner, "anne", PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}: owner locked out", s.backend);
        let sessions = s
            .store
            .list_sessions(s.store.user_by_username("anne").await.unwrap().unwrap().id)
            .await
            .unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].address, "127.0.0.3");

        // A third address that guesses wrong is refused (401), then backs off on this
        // account (it failed here, and the account is under attack) before its own limit.
        let other = Client::from_address(&s.base, "127.0.0.4".parse().unwrap());
        other.refresh_csrf("/login").await;
        let r = login_from(&other, "anne", "still not it!!").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = login_from(&other, "anne", PASSWORD).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{}", s.backend);
    }
}

async fn new_token(anne: &Client, name: &str, scope: Option<&str>) -> (i64, String) {
    let mut body = serde_json::json!({ "name": name });
    if let Some(sc) = scope {
        body["scope"] = sc.into();
    }
    let r = anne.json(Method::POST, "/api/tokens", Some(body)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["scope"], scope.unwrap_or("read-write"));
    (v["id"].as_i64().unwrap(), v["token"].as_str().unwrap().to_string())
}

use common::TokenClient;
use reqwest::Method;

const EPISODE: &str = r#"{"kind":"cramp","pain":3}"#;

/// Tokens reach the diary only, within their scope, and end with the password.
#[tokio::test]
async fn tokens_are_scoped_and_end_with_the_password() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "doc", "clinician").await;
        let anne = s.login("anne").await;
        let r = anne.post_form("/sharing/grant", &[("clinician", "doc")]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let (_, rw) = new_token(&anne, "logger", None).await;
        let (ro_id, ro) = new_token(&anne, "reader", Some("read")).await;
        let rw = TokenClient::new(&s.base, &rw);
        let ro = TokenClient::new(&s.base, &ro);

        // A token cannot mint a token, list or revoke consent, invite, or touch the account.
        let r = rw.send(Method::POST, "/api/tokens", Some(r#"{"name":"more"}"#)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", s.backend);
        let r = rw.send(Method::GET, "/api/consents", None).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let consents = s.store.consents_of_patient(s.patient_id("anne").await).await.unwrap();
        let r = rw
            .send(
                Method::POST,
                &format!("/api/consents/{}/revoke", consents[0].id),
                Some("{}"),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(s
            .store
            .has_consent(consents[0].clinician_id, consents[0].patient_id)
            .await
            .unwrap());
        for path in [
            "/sharing/invitations",
            "/calendar/feeds",
            "/tokens",
            "/sessions/end-all",
        ] {
            let r = rw.send(Method::POST, path, Some("{}")).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        }

        // Read-only reads, never writes; read-write writes the diary.
        let r = ro.send(Method::GET, "/api/episodes", None).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = ro.send(Method::POST, "/api/episodes", Some(EPISODE)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = rw.send(Method::POST, "/api/episodes", Some(EPISODE)).await;
        assert_eq!(r.status(), StatusCode::CREATED);

        // The audit entry names the channel: this token, by id and name.
        let r = ro.send(Method::GET, "/export/archive.json", None).await;
        assert_eq!(r.status(), StatusCode::OK);
        let log = s.store.list_audit(Some(s.patient_id("anne").await), 20).await.unwrap();
        let entry = log.iter().find(|e| e.action == "export").unwrap();
        assert!(
            entry.detail.ends_with(&format!("[token #{ro_id} \"reader\"]")),
            "{}",
            entry.detail
        );

        // A password change ends every token.
        let r = anne
            .post_form(
                "/account/password",
                &[
                    ("current_password", PASSWORD),
                    ("new_password", "a brand new pass phrase 9"),
                    ("confirm_password", "a brand new pass phrase 9"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        for t in [&rw, &ro] {
            let r = t.send(Method::GET, "/api/episodes", None).await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{}", s.backend);
        }

        // "Sign out everywhere" does too.
        let anne = s.client();
        anne.refresh_csrf("/login").await;
        let r = anne
            .post_form(
                "/login",
                &[("username", "anne"), ("password", "a brand new pass phrase 9")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        anne.refresh_csrf("/sessions").await;
        let (_, t) = new_token(&anne, "again", None).await;
        let t = TokenClient::new(&s.base, &t);
        assert_eq!(t.send(Method::GET, "/api/me", None).await.status(), StatusCode::OK);
        let r = anne.post_form("/sessions/end-all", &[]).await;
        assert!(r.status().is_redirection(), "{}", r.status());
        assert_eq!(
            t.send(Method::GET, "/api/me", None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

/// An administrator's reset of a clinician's password suspends their patient access until
/// they set their own, and the patients see it.
#[tokio::test]
async fn a_password_reset_by_the_administrator_suspends_a_clinicians_access() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "doc", "clinician").await;
        let anne = s.login("anne").await;
        let r = anne.post_form("/sharing/grant", &[("clinician", "doc")]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let pid = s.patient_id("anne").await;
        let doc_id = s.store.user_by_username("doc").await.unwrap().unwrap().id;
        let path = format!("/api/clinician/patients/{pid}/episodes");
        let doc = s.login("doc").await;
        assert_eq!(doc.get(&path).await.status(), StatusCode::OK);

        let reset = "administrator chose this 4";
        let r = admin
            .post_form(&format!("/admin/users/{doc_id}/password"), &[("password", reset)])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        // The administrator (or anyone told the password) signs in as doc: no patient data.
        let c = s.client();
        c.refresh_csrf("/login").await;
        let r = c.post_form("/login", &[("username", "doc"), ("password", reset)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        c.refresh_csrf("/sessions").await;
        let r = c.get(&path).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", s.backend);
        let body = r.text().await.unwrap();
        assert!(body.contains("administrator"), "{body}");
        assert!(!c.page("/clinician").await.1.contains("anne"));
        let r = c.get(&format!("/clinician/patients/{pid}")).await;
        assert_ne!(r.status(), StatusCode::OK);

        // Anne sees the reset in "Who viewed".
        let r = anne.json(Method::GET, "/api/audit", None).await;
        let log = r.text().await.unwrap();
        assert!(log.contains("clinician.password.reset"), "{log}");
        let (_, activity) = anne.page("/activity").await;
        assert!(activity.contains("reset"), "{activity}");

        // Doc sets their own password: access is back.
        let r = c
            .post_form(
                "/account/password",
                &[
                    ("current_password", reset),
                    ("new_password", "a private pass phrase 5"),
                    ("confirm_password", "a private pass phrase 5"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(c.get(&path).await.status(), StatusCode::OK);
    }
}

fn code_at(secret: &str, offset_s: i64) -> String {
    tonus_server::account::totp(secret, "anne")
        .unwrap()
        .generate((jiff::Timestamp::now().as_second() + offset_s) as u64)
}

async fn sign_in_with(s: &Server, code: &str) -> reqwest::Response {
    let c = s.client();
    c.refresh_csrf("/login").await;
    c.post_form(
        "/login",
        &[("username", "anne"), ("password", PASSWORD), ("code", code)],
    )
    .await
}

/// The server keeps the TOTP secret, a code works once, recovery codes work once, and an
/// administrator can remove the second factor (audited; the user is told).
#[tokio::test]
async fn totp_codes_and_recovery_codes_work_once() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let uid = s.store.user_by_username("anne").await.unwrap().unwrap().id;
        let r = anne.post_form("/account/totp/start", &[]).await;
        let page = r.text().await.unwrap();
        assert!(!page.contains("name=\"secret\""), "the secret is not posted back");
        let secret = common::text_between(&page, "Key: <span class=\"code\">", "<").unwrap();

        // A secret of the client's choosing is ignored: its code does not match.
        let chosen = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let r = anne
            .post_form(
                "/account/totp/enable",
                &[("secret", chosen), ("code", &code_at(chosen, 0))],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = anne
            .post_form("/account/totp/enable", &[("code", &code_at(&secret, 0))])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        let recovery: Vec<String> = html
            .split("<code class=\"recovery\">")
            .skip(1)
            .filter_map(|s| s.split('<').next())
            .map(str::to_string)
            .collect();
        assert_eq!(recovery.len(), 10);
        assert_eq!(
            s.store.totp_secret(uid).await.unwrap().as_deref(),
            Some(secret.as_str())
        );

        // The code that turned it on is spent; the next step's works once, then is refused.
        let next = code_at(&secret, 30);
        assert_eq!(sign_in_with(&s, &next).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            sign_in_with(&s, &next).await.status(),
            StatusCode::UNAUTHORIZED,
            "{}: TOTP replay accepted",
            s.backend
        );

        // A recovery code works once.
        assert_eq!(sign_in_with(&s, &recovery[3]).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            sign_in_with(&s, &recovery[3]).await.status(),
            StatusCode::UNAUTHORIZED,
            "{}: recovery code reused",
            s.backend
        );
        assert_eq!(s.store.recovery_codes_left(uid).await.unwrap(), 9);

        // The administrator removes it: audited, and Anne is told when she next signs in.
        let r = admin.post_form(&format!("/admin/users/{uid}/totp/remove"), &[]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(s.store.totp_secret(uid).await.unwrap().is_none());
        let log = s.store.list_audit(None, 50).await.unwrap();
        assert!(log.iter().any(|e| e.action == "user.totp.remove" && e.detail == "anne"));
        let c = s.client();
        c.refresh_csrf("/login").await;
        let r = c
            .post_form("/login", &[("username", "anne"), ("password", PASSWORD)])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(common::location(&r), "/account");
        let (_, account) = c.page("/account").await;
        assert!(
            account.contains("An administrator (admin) removed your two-step sign-in"),
            "{account}"
        );
        let (_, again) = c.page("/account").await;
        assert!(!again.contains("removed your two-step"), "shown once");
    }
}
