//! End-to-end behaviour of the web application over real HTTP, on every reachable backend.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn first_start_sign_up_sign_in_sign_out_and_sessions() {
    for s in servers().await {
        let _admin = s.setup_admin().await;
        // Set-up is offered only while there are no accounts.
        let (status, _) = s.client().page("/setup").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}", s.backend);

        let anne = s.client();
        anne.refresh_csrf("/signup").await;
        let r = anne
            .post_form(
                "/signup",
                &[
                    ("username", "anne"),
                    ("password", PASSWORD),
                    ("time_zone", "Europe/Paris"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/account?welcome");
        let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
        assert!(cookie.starts_with("__Host-tonus-session="), "{cookie}");
        for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attr), "{cookie} lacks {attr}");
        }
        // The server added digits to the name typed and says the whole sign-in name.
        let (status, welcome) = anne.page("/account?welcome").await;
        assert_eq!(status, StatusCode::OK);
        let name = text_between(&welcome, "Your sign-in name is ", ":").unwrap_or_else(|| panic!("{welcome}"));
        let digits = name.strip_prefix("anne-").unwrap_or_else(|| panic!("{name}"));
        assert!(
            digits.len() == 4 && digits.chars().all(|c| c.is_ascii_digit()),
            "{name}"
        );
        let (status, home) = anne.page("/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(home.contains("What happened?"));
        assert!(s.store.user_by_username("anne").await.unwrap().is_none());
        let user = s.store.user_by_username(&name).await.unwrap().unwrap();
        assert_eq!(user.role, tonus_store::Role::Patient);
        assert!(user.patient_id.is_some(), "a patient account owns a patients row");

        // Sign out: the session is gone server-side, not only the cookie.
        anne.refresh_csrf("/sessions").await;
        let r = anne.post_form("/logout", &[]).await;
        assert_eq!(location(&r), "/login");
        let r = anne.get("/").await;
        assert_eq!(location(&r), "/login");

        // Wrong password: 401 with one message for every failure.
        let c = s.client();
        c.refresh_csrf("/login").await;
        let r = c
            .post_form(
                "/login",
                &[("username", name.as_str()), ("password", "not the password!")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.text().await.unwrap().contains("do not match"));
        let r = c
            .post_form("/login", &[("username", "nobody"), ("password", "not the password!")])
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

        // Two browsers; the sessions page lists both; "sign out everywhere" ends both.
        let phone = s.login(&name).await;
        let laptop = s.login(&name).await;
        let (_, page) = laptop.page("/sessions").await;
        assert_eq!(page.matches("/end\"").count(), 2, "{page}");
        assert!(page.contains("this browser"));
        let r = laptop.post_form("/sessions/end-all", &[]).await;
        assert_eq!(location(&r), "/login");
        assert_eq!(location(&phone.get("/").await), "/login");
        assert_eq!(location(&laptop.get("/").await), "/login");
        assert!(s.store.list_sessions(user.id).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn sessions_expire_when_idle() {
    let config = tonus_server::Config {
        session_idle: std::time::Duration::from_millis(1500),
        ..test_config()
    };
    let s = sqlite(config).await;
    let _admin = s.setup_admin().await;
    let c = s.login("admin").await;
    assert_eq!(c.get("/admin").await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    let r = c.get("/admin").await;
    assert_eq!(location(&r), "/login");
}

#[tokio::test]
async fn password_rules_are_enforced_and_nothing_is_created() {
    for s in servers().await {
        let c = s.client();
        c.refresh_csrf("/signup").await;
        for (pw, rule) in [
            ("short pw", "at least 12 characters"),
            ("password1234", "not a common password"),
            ("Password1234!", "not a common password"),
            ("zzzzzzzzzzzzzz", "not a common password"),
            ("bob-the-patient-1", "containing the user name"),
        ] {
            let r = c
                .post_form(
                    "/signup",
                    &[("username", "bob"), ("password", pw), ("time_zone", "UTC")],
                )
                .await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{pw}");
            let html = r.text().await.unwrap();
            assert!(html.contains(rule), "{pw}: {html}");
            assert!(html.contains("id=\"password-error\""), "message next to the field");
            assert!(html.contains("value=\"bob\""), "what was typed is kept");
        }
        let r = c
            .post_form(
                "/signup",
                &[("username", "Bad Name!"), ("password", PASSWORD), ("time_zone", "UTC")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("username-error"));
        assert!(s.store.list_users().await.unwrap().is_empty());
        assert!(s.store.list_patients().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn csrf_is_required_on_every_unsafe_request() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        // No token, a wrong token, another session's token.
        let r = anne.post_form_raw("/episodes", &[("kind", "cramp")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = anne
            .post_form_raw("/episodes", &[("kind", "cramp"), ("csrf", &"0".repeat(64))])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = anne
            .post_form_raw("/episodes", &[("kind", "cramp"), ("csrf", &admin.csrf())])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // JSON with the session cookie but without the header.
        let r = anne
            .http
            .post(anne.url("/api/episodes"))
            .json(&json!({"kind": "cramp"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "csrf");
        // Sign-in without the double-submit cookie.
        let fresh = s.client();
        let r = fresh
            .post_form_raw("/login", &[("username", "anne"), ("password", PASSWORD), ("csrf", "x")])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let p = s
            .store
            .patient_by_id(s.patient_id("anne").await)
            .await
            .unwrap()
            .unwrap();
        assert!(s.store.list_episodes(&p, None, None).await.unwrap().is_empty());
        // With the right token it works.
        let r = anne.post_form("/episodes", &[("kind", "cramp")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(s.store.list_episodes(&p, None, None).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_account_and_per_address() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let c = s.client();
        c.refresh_csrf("/login").await;
        for _ in 0..3 {
            let r = c
                .post_form("/login", &[("username", "anne"), ("password", "wrong password!")])
                .await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        // Locked: even the right password is refused for now.
        let r = c
            .post_form("/login", &[("username", "anne"), ("password", PASSWORD)])
            .await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry > 0, "Retry-After says when to try again");
        // Per address: many names from one address.
        for i in 0..5 {
            let name = format!("ghost{i}");
            let r = c
                .post_form("/login", &[("username", &name), ("password", "wrong password!")])
                .await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        let r = c
            .post_form("/login", &[("username", "admin"), ("password", PASSWORD)])
            .await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let log = s.store.list_audit(None, 100).await.unwrap();
        assert!(log.iter().any(|r| r.action == "signin.failed" && r.actor == "anne"));
        assert!(log.iter().any(|r| r.action == "signin.throttled"));
    }
}

#[tokio::test]
async fn consent_grant_view_revoke() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "paul", "patient").await;
        s.add_user(&admin, "dr.martin@clinic", "clinician").await;
        let anne = s.login("anne").await;
        let r = anne
            .post_form("/episodes", &[("kind", "clonus"), ("region", "left-foot")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let doc = s.login("dr.martin@clinic").await;
        let anne_id = s.patient_id("anne").await;
        let paul_id = s.patient_id("paul").await;

        // Before consent: 404, never the data.
        for path in [
            format!("/clinician/patients/{anne_id}"),
            format!("/api/clinician/patients/{anne_id}/episodes"),
        ] {
            assert_eq!(doc.get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
        }

        // Invitation code, redeemed once.
        let r = anne.post_form("/sharing/invitations", &[]).await;
        let html = r.text().await.unwrap();
        let code = text_between(&html, "<strong class=\"code\">", "</strong>").unwrap();
        let r = doc
            .post_form("/clinician/redeem", &[("code", &code.to_lowercase())])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("anne"));
        let r = doc.post_form("/clinician/redeem", &[("code", &code)]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "single use");

        let (status, page) = doc.page(&format!("/clinician/patients/{anne_id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("clonus"));
        let r = doc.get(&format!("/api/clinician/patients/{anne_id}/episodes")).await;
        assert_eq!(r.status(), StatusCode::OK);
        let eps: Value = r.json().await.unwrap();
        assert_eq!(eps[0]["kind"], "clonus");
        // Paul never consented.
        assert_eq!(
            doc.get(&format!("/clinician/patients/{paul_id}")).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            doc.get("/clinician/patients/999999").await.status(),
            StatusCode::NOT_FOUND
        );

        // The patient sees who has access and who viewed.
        let (_, sharing) = anne.page("/sharing").await;
        assert!(sharing.contains("dr.martin@clinic"));
        let (_, activity) = anne.page("/activity").await;
        assert!(activity.contains("clinician.view"), "{activity}");

        // Revocation takes effect on the very next request.
        let consents = s.store.consents_of_patient(anne_id).await.unwrap();
        let r = anne
            .post_form(&format!("/sharing/{}/revoke", consents[0].id), &[])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            doc.get(&format!("/clinician/patients/{anne_id}")).await.status(),
            StatusCode::NOT_FOUND
        );
        let r = doc.get(&format!("/api/clinician/patients/{anne_id}/episodes")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "not_found");
        assert!(body.get("kind").is_none());

        // Grant by handle works too; revoking someone else's grant is 404.
        let r = anne
            .post_form("/sharing/grant", &[("clinician", "dr.martin@clinic")])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            doc.get(&format!("/clinician/patients/{anne_id}")).await.status(),
            StatusCode::OK
        );
        let live = s.store.consents_of_patient(anne_id).await.unwrap();
        let paul = s.login("paul").await;
        let r = paul.post_form(&format!("/sharing/{}/revoke", live[0].id), &[]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        let actions: Vec<String> = s
            .store
            .list_audit(Some(anne_id), 100)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        for a in [
            "consent.invite",
            "consent.grant",
            "clinician.view",
            "consent.revoke",
            "signin",
        ] {
            assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
        }
    }
}

#[tokio::test]
async fn audit_chain_verifies_and_detects_tampering() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let _ = s.login("anne").await;
        let c = s.client();
        c.refresh_csrf("/login").await;
        let _ = c
            .post_form("/login", &[("username", "anne"), ("password", "wrong password!")])
            .await;
        let v = s.store.verify_audit().await.unwrap();
        assert!(v.first_bad.is_none(), "{v:?}");
        assert!(v.rows >= 5, "{v:?}");

        // The table refuses updates and deletes outright…
        assert!(s
            .raw_sql("UPDATE audit_log SET actor = 'x' WHERE id = 2")
            .await
            .is_err());
        assert!(s.raw_sql("DELETE FROM audit_log WHERE id = 2").await.is_err());
        // …and someone who removes that guard is still caught by the chain.
        let drop = if s.backend == "sqlite" {
            "DROP TRIGGER audit_log_no_update"
        } else {
            "DROP TRIGGER audit_log_no_update ON audit_log"
        };
        s.raw_sql(drop).await.unwrap();
        s.raw_sql("UPDATE audit_log SET address = '10.0.0.1' WHERE id = 3")
            .await
            .unwrap();
        let v = s.store.verify_audit().await.unwrap();
        assert_eq!(v.first_bad.as_ref().map(|b| b.0), Some(3), "{v:?}");
    }
}

#[tokio::test]
async fn quick_log_by_form_remembers_and_marks_backfill() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let pid = s.patient_id("anne").await;
        let patient = s.store.patient_by_id(pid).await.unwrap().unwrap();

        // Two taps: a kind, then save.
        let r = anne
            .post_form(
                "/episodes",
                &[
                    ("kind", "cramp"),
                    ("region", "left-calf"),
                    ("region", "right-calf"),
                    ("pain", "6"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let saved = location(&r);
        assert!(saved.starts_with("/?saved=1&undo="), "{saved}");
        let (_, home) = anne.page(&saved).await;
        let undo_id = saved.rsplit('=').next().unwrap();
        assert!(
            home.contains(&format!("action=\"/episodes/{undo_id}/delete\"")),
            "an undo for the entry just saved"
        );
        assert!(home.contains("Saved."));
        // Remembered, but shown ticked next to Save, outside the collapsed details, and
        // never pre-set inside them.
        let details = home.find("<summary>Where").unwrap();
        let save = home.find(">Save</button>").unwrap();
        for kept in [
            "name=\"keep_region\" value=\"left-calf\" checked",
            "name=\"keep_region\" value=\"right-calf\" checked",
            "name=\"keep_pain\" value=\"6\" checked",
        ] {
            let at = home.find(kept).unwrap_or_else(|| panic!("{kept} shown: {home}"));
            assert!(at < save && save < details, "{kept} before Save, outside the details");
        }
        assert!(!home.contains("name=\"region\" value=\"left-calf\" checked"));
        assert!(!home.contains("value=\"6\" selected"));
        // Unticking one leaves it out; a pain chosen in the details replaces the kept one.
        let r = anne
            .post_form(
                "/episodes",
                &[
                    ("kind", "cramp"),
                    ("keep_region", "left-calf"),
                    ("keep_pain", "6"),
                    ("pain", "3"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let last = s
            .store
            .list_episodes(&patient, None, None)
            .await
            .unwrap()
            .pop()
            .unwrap();
        assert_eq!(last.value.regions(), &[tonus_domain::Region::LeftCalf]);
        assert_eq!(last.value.pain().map(|p| p.value()), Some(3));
        // Unticking everything stores nothing remembered.
        let r = anne.post_form("/episodes", &[("kind", "twitch")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let last = s
            .store
            .list_episodes(&patient, None, None)
            .await
            .unwrap()
            .pop()
            .unwrap();
        assert!(last.value.regions().is_empty());
        assert_eq!(last.value.pain(), None);

        // Later entries are marked back-filled.
        let r = anne
            .post_form("/episodes", &[("kind", "twitch"), ("when", "yesterday 22:40")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, home) = anne.page("/").await;
        assert!(home.contains("back-filled"));

        // Bad input: 422, message next to the field, what was typed kept, nothing stored.
        let before = s.store.list_episodes(&patient, None, None).await.unwrap().len();
        let r = anne
            .post_form(
                "/episodes",
                &[("kind", "jerk"), ("pain", "11"), ("notes", "after the bath")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"pain-error\""), "{html}");
        assert!(html.contains("after the bath"));
        assert!(html.contains("value=\"jerk\" checked"));
        let r = anne.post_form("/episodes", &[("pain", "3")]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("id=\"kind-error\""));
        assert_eq!(s.store.list_episodes(&patient, None, None).await.unwrap().len(), before);

        // Delete asks first.
        let id = s.store.list_episodes(&patient, None, None).await.unwrap()[0].id;
        let (status, confirm) = anne.page(&format!("/episodes/{id}/delete")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(confirm.contains("Yes, delete it"));
        let r = anne.post_form(&format!("/episodes/{id}/delete"), &[]).await;
        assert_eq!(location(&r), "/?deleted=1");
        assert_eq!(
            s.store.list_episodes(&patient, None, None).await.unwrap().len(),
            before - 1
        );

        // Daily check-in: one form; bad PSFS combination rejected and kept.
        let r = anne
            .post_form(
                "/checkin",
                &[
                    ("date", "today"),
                    ("psfs_frequency", "0"),
                    ("psfs_severity", "2"),
                    ("note", "tired"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(html.contains("psfs_severity-error"), "{html}");
        assert!(html.contains("tired"));
        assert!(s.store.list_checkins(&patient, None, None).await.unwrap().is_empty());
        let r = anne
            .post_form(
                "/checkin",
                &[
                    ("spasticity_nrs", "4"),
                    ("psfs_frequency", "2"),
                    ("psfs_severity", "1"),
                    ("log_complete", "on"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let c = s.store.list_checkins(&patient, None, None).await.unwrap();
        assert_eq!(c.len(), 1);
        assert!(c[0].value.log_complete());
    }
}

#[tokio::test]
async fn dashboard_tells_unknown_days_from_spasm_free_days() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        // Today: two episodes, confirmed complete. Yesterday: one episode, not confirmed.
        // Two days ago: confirmed, nothing logged.
        for kind in ["cramp", "twitch"] {
            let r = anne.post_form("/episodes", &[("kind", kind)]).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
        }
        let r = anne
            .post_form("/episodes", &[("kind", "clonus"), ("when", "yesterday 10:00")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        for date in ["today", "-2"] {
            let r = anne
                .post_form("/checkin", &[("date", date), ("log_complete", "on")])
                .await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{date}");
        }

        let (status, page) = anne.page("/dashboard?from=2026-01-01&to=2026-01-31").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("January 2026"));
        assert_eq!(
            page.matches("<td class=\"day unknown\"").count(),
            31,
            "no day confirmed in January"
        );

        let (status, page) = anne.page("/dashboard").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("2 of 90"), "two days confirmed of the default 90");
        assert_eq!(
            page.matches("<td class=\"day zero\"").count(),
            1,
            "two days ago: confirmed, none"
        );
        assert_eq!(
            page.matches("<td class=\"day some-1\"").count(),
            1,
            "today: two episodes"
        );
        assert_eq!(page.matches("<td class=\"day unknown-logged\"").count(), 1, "yesterday");
        assert_eq!(page.matches("<td class=\"day unknown\"").count(), 87);
        assert!(
            page.contains("confirmed, 1 involuntary movement, 1 stiffness"),
            "{page}"
        );
        assert!(page.contains("<svg"), "charts are inline SVG");
        assert!(page.contains("Treatment history"));

        let r = anne.get("/dashboard?from=2026-02-30").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("from"));
    }
}

#[tokio::test]
async fn api_with_personal_access_token() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let patient = s
            .store
            .patient_by_id(s.patient_id("anne").await)
            .await
            .unwrap()
            .unwrap();

        let r = anne.post_form("/tokens", &[("name", "my script")]).await;
        let html = r.text().await.unwrap();
        let token = text_between(&html, "<code class=\"code\">", "</code>").unwrap();
        assert!(token.starts_with("tonus_"));
        let api = TokenClient::new(&s.base, &token);

        let r = api.send(Method::GET, "/api/me", None).await;
        let me: Value = r.json().await.unwrap();
        assert_eq!(me["username"], "anne");

        let r = api
            .send(
                Method::POST,
                "/api/episodes",
                Some(r#"{"kind":"flexor-spasm","regions":["left-thigh"],"pain":4}"#),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let created: Value = r.json().await.unwrap();
        assert_eq!(created["family"], "involuntary-movement");
        assert_eq!(created["backfilled"], false);
        let id = created["id"].as_i64().unwrap();

        let r = api
            .send(
                Method::POST,
                "/api/episodes",
                Some(r#"{"kind":"cramp","started_at":"2020-01-01T03:00:00Z"}"#),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.json::<Value>().await.unwrap()["backfilled"], true);

        // 422 names field and rule; 400 for unreadable JSON; nothing stored either way.
        let before = s.store.list_episodes(&patient, None, None).await.unwrap().len();
        for (body, field, status) in [
            (r#"{"kind":"cramp","pain":11}"#, "pain", 422),
            (r#"{"kind":"elbow-spasm"}"#, "kind", 422),
            (r#"{"kind":"cramp","regions":["left-elbow"]}"#, "region", 422),
            (r#"{"kind":"cramp","pain":"six"}"#, "pain", 422),
            (r#"{"pain":3}"#, "kind", 422),
            (r#"{"kind":"cramp","colour":"red"}"#, "colour", 422),
            (r#"[1, 2]"#, "body", 422),
            (
                r#"{"kind":"cramp","started_at":"2999-01-01T00:00:00Z"}"#,
                "started_at",
                422,
            ),
            (r#"{"kind": "#, "body", 400),
        ] {
            let r = api.send(Method::POST, "/api/episodes", Some(body)).await;
            assert_eq!(r.status().as_u16(), status, "{body}");
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["field"], field, "{body}: {e}");
            assert!(
                e["rule"].is_string() && e["value"].is_string() && e["message"].is_string(),
                "{e}"
            );
        }
        assert_eq!(s.store.list_episodes(&patient, None, None).await.unwrap().len(), before);

        let r = api.send(Method::GET, "/api/episodes", None).await;
        assert_eq!(r.json::<Value>().await.unwrap().as_array().unwrap().len(), 2);
        let r = api.send(Method::GET, &format!("/api/episodes/{id}"), None).await;
        assert_eq!(r.status(), StatusCode::OK);

        let r = api
            .send(
                Method::POST,
                "/api/checkins",
                Some(r#"{"date":"today","pain_nrs":3,"log_complete":true}"#),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let r = api
            .send(Method::POST, "/api/checkins", Some(r#"{"spasticity_nrs":12}"#))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json::<Value>().await.unwrap()["field"], "spasticity_nrs");

        let r = api.send(Method::DELETE, &format!("/api/episodes/{id}"), None).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let r = api.send(Method::DELETE, &format!("/api/episodes/{id}"), None).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        // Revoked tokens stop working at once; unknown tokens are 401.
        let tokens = s
            .store
            .list_api_tokens(s.store.user_by_username("anne").await.unwrap().unwrap().id)
            .await
            .unwrap();
        let r = anne.post_form(&format!("/tokens/{}/revoke", tokens[0].id), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            api.send(Method::GET, "/api/episodes", None).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let other = TokenClient::new(&s.base, "tonus_nope");
        assert_eq!(
            other.send(Method::GET, "/api/me", None).await.status(),
            StatusCode::UNAUTHORIZED
        );

        // The browser session can use the API with its CSRF header.
        let r = anne
            .json(Method::POST, "/api/episodes", Some(json!({"kind": "jerk"})))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
}

#[tokio::test]
async fn openapi_document_lists_the_api() {
    let s = sqlite(test_config()).await;
    let r = s.client().get("/api/openapi.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    // An anonymous script gets 401, not a CSRF complaint: it has no ambient credential.
    let r = reqwest::Client::new()
        .post(format!("{}/api/episodes", s.base))
        .json(&json!({"kind": "cramp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    for p in [
        "/api/episodes",
        "/api/episodes/{id}",
        "/api/checkins",
        "/api/tokens",
        "/api/clinician/patients/{patient_id}/episodes",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} missing");
    }
    // Every /api route the router serves is documented (except the document itself).
    for (_, path) in tonus_server::route_list() {
        if path.starts_with("/api/") && path != "/api/openapi.json" {
            assert!(doc["paths"].get(path).is_some(), "{path} undocumented");
        }
    }
}

/// The report, archive and reminder feed a patient downloads, and the report a consented
/// clinician downloads: real bytes, audited, and gone with consent or revocation.
#[tokio::test]
async fn downloads_report_archive_and_revocable_calendar_feed() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "doc", "clinician").await;
        let anne = s.login("anne").await;
        let pid = s.patient_id("anne").await;

        let r = anne.http.get(anne.url("/report.pdf")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));

        let r = anne
            .http
            .get(anne.url("/report.pdf?from=2026-13-01"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "a bad date names its field");

        let r = anne.http.get(anne.url("/export/archive.json")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(v.get("patients").is_some(), "{v}");

        // A feed URL is shown once; it serves iCalendar until revoked.
        let page = anne
            .http
            .post(anne.url("/calendar/feeds"))
            .form(&[("csrf", anne.csrf())])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let start = page.find("/feeds/").expect("feed address on the page");
        let url: String = page[start..].chars().take_while(|c| *c != '<').collect();
        let anon = s.client();
        let r = anon.http.get(anon.url(&url)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().starts_with("BEGIN:VCALENDAR"));
        let feed_id = s
            .store
            .list_calendar_feeds(&s.store.patient_by_id(pid).await.unwrap().unwrap())
            .await
            .unwrap()[0]
            .id;
        let r = anne
            .http
            .post(anne.url(&format!("/calendar/feeds/{feed_id}/revoke")))
            .form(&[("csrf", anne.csrf())])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success() || r.status().is_redirection());
        assert_eq!(
            anon.http.get(anon.url(&url)).send().await.unwrap().status(),
            404,
            "revoked on the next request"
        );

        // The clinician gets the report only with consent.
        let doc = s.login("doc").await;
        let path = format!("/clinician/patients/{pid}/report.pdf");
        assert_eq!(doc.http.get(doc.url(&path)).send().await.unwrap().status(), 404);
        let doc_id = s.store.user_by_username("doc").await.unwrap().unwrap().id;
        s.store
            .grant_consent(pid, doc_id, "test", jiff::Timestamp::now().as_millisecond())
            .await
            .unwrap();
        let r = doc.http.get(doc.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
        let log = s.store.list_audit(Some(pid), 100).await.unwrap();
        assert!(log.iter().any(|e| e.action == "clinician.export"));
        assert!(log.iter().any(|e| e.action == "export"));
    }
}

/// A patient plans a trial on the web with the same rules as the CLI, sees its calendar,
/// gets the form back with the message on a broken rule, and nobody else sees the trial.
#[tokio::test]
async fn trials_are_planned_and_shown_on_the_web() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "paul", "patient").await;
        let anne = s.login("anne").await;
        let post = |fields: Vec<(&'static str, &'static str)>| {
            let mut f = fields;
            let csrf = anne.csrf();
            let http = anne.http.clone();
            let url = anne.url("/trials");
            async move {
                let csrf: &'static str = Box::leak(csrf.into_boxed_str());
                f.push(("csrf", csrf));
                http.post(url).form(&f).send().await.unwrap()
            }
        };
        let r = post(vec![("name", "bad"), ("arms", "none, Tizanidine")]).await;
        assert_eq!(r.status(), 422);
        let body = r.text().await.unwrap();
        assert!(body.contains("arm must be"), "message next to the form");
        assert!(body.contains("Tizanidine"), "what was typed is kept");
        let r = post(vec![
            ("name", "bad2"),
            ("arms", "none, none"),
            ("period_days", "3"),
            ("washout_days", "3"),
        ])
        .await;
        assert_eq!(r.status(), 422);

        let r = post(vec![
            ("name", "morning vs none"),
            ("arms", "none, NONE2"),
            ("start", "2026-01-05"),
        ])
        .await;
        assert_eq!(r.status(), 422, "unknown treatment arm");
        let pid = s.patient_id("anne").await;
        let p = s.store.patient_by_id(pid).await.unwrap().unwrap();
        let t = tonus_domain::Treatment::new("Baclofen", tonus_domain::Category::Drug, None).unwrap();
        s.store.insert_treatment(&p, &t).await.unwrap();
        let r = post(vec![
            ("name", "bac"),
            ("arms", "none, baclofen"),
            ("start", "2026-01-05"),
            ("blocks", "2"),
        ])
        .await;
        assert!(r.status().is_success() || r.status().is_redirection(), "{}", r.status());
        let trials = s.store.list_trials(&p).await.unwrap();
        assert_eq!(trials.len(), 1, "rejected plans stored nothing");
        // A side effect on the first day that counts of a Baclofen period (the order is random).
        let design = tonus_report::trials::design_of(&trials[0]).unwrap();
        let cal = design.calendar().unwrap();
        let period = cal.periods.iter().find(|q| design.arms[q.arm] == "Baclofen").unwrap();
        let felt = tonus_report::trials::day(trials[0].start_date, period.analysed.start).unwrap();
        let at = felt.at(12, 0, 0, 0).to_zoned(p.zone.tz()).unwrap().timestamp();
        let effect = tonus_domain::SideEffect::new(
            tonus_domain::LocalInstant {
                at,
                zone: p.zone.clone(),
            },
            tonus_domain::Effect::Drowsiness,
            None,
            tonus_domain::Severity::Moderate,
            Some("Baclofen"),
            None,
            jiff::Timestamp::now(),
        )
        .unwrap();
        s.store.insert_side_effect(&p, &effect).await.unwrap();
        let page = anne
            .http
            .get(anne.url(&format!("/trials/{}", trials[0].id)))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Baclofen") && html.contains("2026-01-05") && html.contains("not medical advice"));
        assert!(
            html.contains("<strong>Caution:</strong> Periods without Baclofen mean stopping it")
                && html.contains("agree a tapering plan with your prescriber before the trial starts"),
            "the plan cautions before stopping baclofen"
        );
        assert!(
            html.contains("planned after the start: not pre-specified"),
            "a trial planned after its first day says so"
        );
        assert_eq!(
            html.matches("<td>none of the trial treatments</td>").count(),
            2,
            "one none period per block"
        );
        // Side effects per period (a column of the calendar) and per arm.
        assert_eq!(html.matches("<td>1 (worst moderate)</td>").count(), 1, "{html}");
        assert_eq!(html.matches("<td>none recorded</td>").count(), 3, "{html}");
        assert!(
            html.contains("none: none recorded") && html.contains("Baclofen: drowsiness 1 (worst moderate)"),
            "{html}"
        );

        let paul = s.login("paul").await;
        let r = paul
            .http
            .get(paul.url(&format!("/trials/{}", trials[0].id)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "another patient's trial is not found");
    }
}

/// The planner's "check power first" button simulates the design from the patient's last 90
/// days (the same result as `tonus trial plan --dry-run`), keeps the form as typed, and
/// stores no trial; with too little diary it says so and gives no figures.
#[tokio::test]
async fn trial_power_is_checked_first_without_storing_anything() {
    use tonus_domain::checkin::CheckInDraft;
    use tonus_domain::time::Zone;
    use tonus_domain::{Episode, LocalInstant, SpasmKind};
    use tonus_stats::sim::{simulate, SimConfig};

    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let pid = s.patient_id("anne").await;
        let p = s.store.patient_by_id(pid).await.unwrap().unwrap();
        let t = tonus_domain::Treatment::new("Baclofen", tonus_domain::Category::Drug, None).unwrap();
        s.store.insert_treatment(&p, &t).await.unwrap();
        let fields = [
            ("arms", "none, Baclofen"),
            ("blocks", "2"),
            ("primary", "involuntary-count"),
            ("dry_run", "1"),
        ];
        let r = anne.post_form("/trials", &fields).await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Power check (nothing was saved)"), "{html}");
        assert!(html.contains("Power cannot be checked yet"), "no diary yet: {html}");
        assert!(!html.contains("would say &quot;better&quot;") && !html.contains("would say \"better\""));

        // Sixty days of diary, ending yesterday, in the patient's zone (UTC).
        let zone = p.zone.clone();
        let today = tonus_domain::time::today(&zone, jiff::Timestamp::now());
        let sim = simulate(&SimConfig {
            p_missing_checkin: 0.1,
            ..SimConfig::quiet(60, 4)
        });
        let mut batch = tonus_store::Batch::default();
        for d in &sim.days {
            let date = today
                .checked_sub(jiff::Span::new().days(60 - i64::from(d.day)))
                .unwrap();
            for e in d.episodes.iter().take(40) {
                let time =
                    jiff::civil::Time::new((e.minute_of_day / 60) as i8, (e.minute_of_day % 60) as i8, 0, 0).unwrap();
                let at = date
                    .to_datetime(time)
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .unwrap()
                    .timestamp();
                let kind = match e.family {
                    tonus_stats::sim::Family::Stiffness => SpasmKind::Cramp,
                    tonus_stats::sim::Family::InvoluntaryMovement => SpasmKind::Twitch,
                };
                let instant = LocalInstant { at, zone: Zone::utc() };
                batch
                    .episodes
                    .push(Episode::new(instant, kind, vec![], None, None, vec![], None, None, at).unwrap());
            }
            if d.confirmed {
                let c = CheckInDraft {
                    log_complete: true,
                    ..Default::default()
                };
                batch
                    .checkins
                    .push(c.validate(date, &Zone::utc(), jiff::Timestamp::now()).unwrap());
            }
        }
        s.store.insert_batch(&p, &batch).await.unwrap();

        let r = anne.post_form("/trials", &fields).await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Power check (nothing was saved)"), "{html}");
        assert!(html.contains("a trial of 2 blocks would say"), "{html}");
        assert!(html.contains("falsely say"), "{html}");
        assert!(html.contains("80 % power"), "{html}");
        assert!(html.contains("Nothing has been saved"), "{html}");
        assert!(
            html.contains(r#"value="none, Baclofen""#),
            "the form comes back as typed"
        );
        assert!(html.contains("Check power first"), "the button is on the page");
        assert!(
            s.store.list_trials(&p).await.unwrap().is_empty(),
            "a dry run stores no trial"
        );
    }
}

#[tokio::test]
async fn password_change_ends_other_sessions_and_totp_guards_sign_in() {
    const NEW_PASSWORD: &str = "a brand new pass phrase";
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let phone = s.login("anne").await;
        let laptop = s.login("anne").await;
        let uid = s.store.user_by_username("anne").await.unwrap().unwrap().id;

        // Wrong current password, weak new one, mismatch: 422 naming the field, nothing changed.
        for (fields, error) in [
            (
                [
                    ("current_password", "not my password"),
                    ("new_password", NEW_PASSWORD),
                    ("confirm_password", NEW_PASSWORD),
                ],
                "current_password-error",
            ),
            (
                [
                    ("current_password", PASSWORD),
                    ("new_password", "password1234"),
                    ("confirm_password", "password1234"),
                ],
                "new_password-error",
            ),
            (
                [
                    ("current_password", PASSWORD),
                    ("new_password", NEW_PASSWORD),
                    ("confirm_password", "something else!"),
                ],
                "confirm_password-error",
            ),
        ] {
            let r = laptop.post_form("/account/password", &fields).await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{error}");
            assert!(r.text().await.unwrap().contains(error), "{error}");
        }
        assert_eq!(phone.page("/").await.0, StatusCode::OK, "nothing changed yet");

        let r = laptop
            .post_form(
                "/account/password",
                &[
                    ("current_password", PASSWORD),
                    ("new_password", NEW_PASSWORD),
                    ("confirm_password", NEW_PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("1 other session was signed out"));
        assert_eq!(
            location(&phone.get("/").await),
            "/login",
            "the other browser is signed out"
        );
        assert_eq!(
            laptop.page("/").await.0,
            StatusCode::OK,
            "the browser that changed it stays in"
        );
        let c = s.client();
        c.refresh_csrf("/login").await;
        let r = c
            .post_form("/login", &[("username", "anne"), ("password", PASSWORD)])
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "the old password no longer works");

        // Two-step sign-in: a wrong code does not turn it on; the right one does.
        let (status, page) = {
            let r = laptop.post_form("/account/totp/start", &[]).await;
            (r.status(), r.text().await.unwrap())
        };
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<svg"), "QR code");
        let secret = page
            .split("Key: <span class=\"code\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .expect("the key")
            .to_string();
        let r = laptop
            .post_form("/account/totp/enable", &[("secret", &secret), ("code", "000000x")])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(s.store.totp_secret(uid).await.unwrap().is_none());
        let code = tonus_server::account::totp(&secret, "anne")
            .unwrap()
            .generate_current()
            .unwrap();
        let r = laptop
            .post_form("/account/totp/enable", &[("secret", &secret), ("code", &code)])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let on_page = r.text().await.unwrap();
        assert!(on_page.contains("Two-step sign-in is on"));
        let recovery: Vec<String> = on_page
            .split("<code class=\"recovery\">")
            .skip(1)
            .filter_map(|s| s.split('<').next())
            .map(str::to_string)
            .collect();
        assert_eq!(recovery.len(), 10, "{on_page}");
        // A code is accepted once: sign-in uses the next step's code (within the skew).
        let code = tonus_server::account::totp(&secret, "anne")
            .unwrap()
            .generate(jiff::Timestamp::now().as_second() as u64 + 30);
        assert_eq!(
            s.store.totp_secret(uid).await.unwrap().as_deref(),
            Some(secret.as_str())
        );

        // Sign-in now needs the code as well as the password.
        let c = s.client();
        c.refresh_csrf("/login").await;
        let r = c
            .post_form("/login", &[("username", "anne"), ("password", NEW_PASSWORD)])
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.text().await.unwrap().contains("6-digit code"));
        let r = c
            .post_form(
                "/login",
                &[("username", "anne"), ("password", NEW_PASSWORD), ("code", &code)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);

        // Turning it off needs the password and a code.
        let r = laptop
            .post_form(
                "/account/totp/disable",
                &[("current_password", NEW_PASSWORD), ("code", "")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = laptop
            .post_form(
                "/account/totp/disable",
                &[("current_password", NEW_PASSWORD), ("code", &recovery[0])],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(s.store.totp_secret(uid).await.unwrap().is_none());

        let actions: Vec<String> = s
            .store
            .list_audit(None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.action)
            .collect();
        for a in ["account.password", "account.totp.on", "account.totp.off"] {
            assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
        }
        assert!(s.store.verify_audit().await.unwrap().first_bad.is_none());
    }
}

#[tokio::test]
async fn administrators_disable_enable_and_reset_accounts() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let anne_id = s.store.user_by_username("anne").await.unwrap().unwrap().id;
        let admin_id = s.store.user_by_username("admin").await.unwrap().unwrap().id;

        let r = admin.post_form(&format!("/admin/users/{anne_id}/disable"), &[]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("Disabled anne"));
        assert_eq!(
            location(&anne.get("/").await),
            "/login",
            "disabling ends sessions at once"
        );
        let c = s.client();
        c.refresh_csrf("/login").await;
        let r = c
            .post_form("/login", &[("username", "anne"), ("password", PASSWORD)])
            .await;
        assert_eq!(
            r.status(),
            StatusCode::UNAUTHORIZED,
            "a disabled account cannot sign in"
        );

        let r = admin.post_form(&format!("/admin/users/{anne_id}/enable"), &[]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let anne = s.login("anne").await;

        // A weak password is refused and nothing changes; a good one ends her sessions.
        let r = admin
            .post_form(&format!("/admin/users/{anne_id}/password"), &[("password", "short")])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(anne.page("/").await.0, StatusCode::OK);
        let r = admin
            .post_form(
                &format!("/admin/users/{anne_id}/password"),
                &[("password", "temporary pass phrase 7")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(location(&anne.get("/").await), "/login");
        let c = s.client();
        c.refresh_csrf("/login").await;
        let r = c
            .post_form(
                "/login",
                &[("username", "anne"), ("password", "temporary pass phrase 7")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);

        // No locking oneself out; unknown accounts are not found.
        let r = admin.post_form(&format!("/admin/users/{admin_id}/disable"), &[]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!s.store.user_by_id(admin_id).await.unwrap().unwrap().disabled);
        let r = admin.post_form("/admin/users/999999/disable", &[]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        // The patient can read that an administrator reset her password.
        let pid = s.patient_id("anne").await;
        let log = s.store.list_audit(Some(pid), 50).await.unwrap();
        assert!(log
            .iter()
            .any(|a| a.action == "user.password.reset" && a.actor == "admin"));
    }
}

#[tokio::test]
async fn episodes_are_edited_on_the_web_and_bad_edits_change_nothing() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let pid = s.patient_id("anne").await;
        let patient = s.store.patient_by_id(pid).await.unwrap().unwrap();
        let r = anne
            .post_form("/episodes", &[("kind", "cramp"), ("pain", "6"), ("notes", "stairs")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let id = s.store.list_episodes(&patient, None, None).await.unwrap()[0].id;
        let (_, home) = anne.page("/").await;
        assert!(home.contains(&format!("/episodes/{id}/edit")));

        let (status, page) = anne.page(&format!("/episodes/{id}/edit")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Edit episode"));
        assert!(page.contains("value=\"cramp\" checked"));
        assert!(page.contains("stairs"));

        let r = anne
            .post_form(&format!("/episodes/{id}/edit"), &[("kind", "twitch"), ("pain", "11")])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("id=\"pain-error\""));
        let stored = s.store.get_episode(&patient, id).await.unwrap().unwrap();
        assert_eq!(stored.value.kind().code(), "cramp", "a rejected edit changes nothing");

        let r = anne
            .post_form(
                &format!("/episodes/{id}/edit"),
                &[
                    ("kind", "twitch"),
                    ("pain", "3"),
                    ("region", "left-hand"),
                    // A text area's line break arrives as CRLF: kept, as LF.
                    ("notes", "stairs,\r\ntwice"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let stored = s.store.get_episode(&patient, id).await.unwrap().unwrap();
        assert_eq!(stored.value.kind().code(), "twitch");
        assert_eq!(stored.value.pain().map(|p| p.value()), Some(3));
        assert_eq!(stored.value.notes(), Some("stairs,\ntwice"));
        assert_eq!(s.store.list_episodes(&patient, None, None).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn api_corrects_episodes_lists_checkins_and_serves_the_dashboard() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "doc", "clinician").await;
        let anne = s.login("anne").await;
        let r = anne.post_form("/tokens", &[("name", "bell\u{7}name")]).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "control characters refused on the page too"
        );
        let r = anne.post_form("/tokens", &[("name", "script")]).await;
        let token = text_between(&r.text().await.unwrap(), "<code class=\"code\">", "</code>").unwrap();
        let api = TokenClient::new(&s.base, &token);

        let r = api
            .send(
                Method::POST,
                "/api/episodes",
                Some(r#"{"kind":"cramp","pain":5,"started_at":"yesterday 08:00"}"#),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let created: Value = r.json().await.unwrap();
        let id = created["id"].as_i64().unwrap();

        // A correction keeps the start time unless given; a bad one changes nothing.
        let path = format!("/api/episodes/{id}");
        let r = api
            .send(Method::PUT, &path, Some(r#"{"kind":"cramp","pain":12}"#))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json::<Value>().await.unwrap()["field"], "pain");
        let r = api
            .send(Method::PUT, &path, Some(r#"{"kind":"twitch","pain":3}"#))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let replaced: Value = r.json().await.unwrap();
        assert_eq!(replaced["kind"], "twitch");
        assert_eq!(replaced["started_at"], created["started_at"]);
        let r = api
            .send(Method::PUT, "/api/episodes/999999", Some(r#"{"kind":"twitch"}"#))
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        let r = api
            .send(
                Method::POST,
                "/api/checkins",
                Some(r#"{"date":"yesterday","log_complete":true}"#),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let r = api.send(Method::GET, "/api/checkins?from=-7", None).await;
        let list: Value = r.json().await.unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1);

        // A repeated parameter is the API's JSON 400, not the framework's plain text.
        for path in [
            "/api/episodes?to&to=x",
            "/api/checkins?from=1&from=2",
            "/api/dashboard?to=a&to=b",
        ] {
            let r = api.send(Method::GET, path, None).await;
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
            assert_eq!(r.json::<Value>().await.unwrap()["field"], "query", "{path}");
        }
        let r = api.send(Method::GET, "/api/dashboard?from=-6", None).await;
        assert_eq!(r.status(), StatusCode::OK);
        let d: Value = r.json().await.unwrap();
        assert_eq!(d["days_in_range"], 7);
        assert_eq!(d["confirmed_days"], 1);
        let days = d["days"].as_array().unwrap();
        assert_eq!(days.len(), 7);
        let yesterday = &days[5];
        assert_eq!(yesterday["confirmed"], true);
        assert_eq!(yesterday["involuntary"], 1, "the corrected kind counts");
        assert_eq!(days[6]["confirmed"], false, "today is unknown, not zero");
        let r = api.send(Method::GET, "/api/dashboard?from=tomorrow-ish", None).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // The clinician sees it only with consent, and the view is audited.
        let pid = s.patient_id("anne").await;
        let doc = s.login("doc").await;
        let path = format!("/api/clinician/patients/{pid}/dashboard");
        assert_eq!(doc.get(&path).await.status(), StatusCode::NOT_FOUND);
        let r = anne.post_form("/sharing/grant", &[("clinician", "doc")]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = doc.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["confirmed_days"], 1);
        let log = s.store.list_audit(Some(pid), 20).await.unwrap();
        assert!(log
            .iter()
            .any(|a| a.action == "clinician.view" && a.detail.contains("(api)")));
    }
}

/// An arm can be a combination: the web planner takes "Baclofen, Stretching + baclofen", refuses
/// a repeated treatment or a repeated set with the rule in words, and the trial page says what
/// to take and stop in each period and counts the doses logged per treatment.
#[tokio::test]
async fn combination_arms_are_planned_and_shown_on_the_web() {
    use tonus_domain::{Category, DoseLog, DoseStatus, LocalInstant, Regimen, Schedule, Treatment};
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let pid = s.patient_id("anne").await;
        let p = s.store.patient_by_id(pid).await.unwrap().unwrap();
        let today = tonus_domain::time::today(&p.zone, jiff::Timestamp::now());
        let start = today.checked_sub(jiff::Span::new().days(6)).unwrap();
        let mut regimen_of = Vec::new();
        for (name, category) in [("Baclofen", Category::Drug), ("Stretching", Category::Exercise)] {
            let tid = s
                .store
                .insert_treatment(&p, &Treatment::new(name, category, None).unwrap())
                .await
                .unwrap();
            let dose =
                (category == Category::Drug).then(|| tonus_domain::Dose::new(10.0, tonus_domain::Unit::Mg).unwrap());
            let r = Regimen::new(category, dose, None, Schedule::TimesPerDay(1), start, None).unwrap();
            regimen_of.push(s.store.insert_regimen(&p, tid, &r).await.unwrap());
        }
        for (arms, want) in [
            (
                "Baclofen, Baclofen + baclofen",
                "arm must be a set of distinct treatments",
            ),
            ("Baclofen, none + Stretching", "`none` cannot be combined"),
            (
                "Baclofen + Stretching, stretching+BACLOFEN",
                "arms must be distinct sets of treatments",
            ),
        ] {
            let r = anne.post_form("/trials", &[("name", "bad"), ("arms", arms)]).await;
            assert_eq!(r.status(), 422, "{arms}");
            let body = r.text().await.unwrap();
            assert!(body.contains(want), "{arms}: {body}");
        }
        let r = anne
            .post_form(
                "/trials",
                &[
                    ("name", "combo"),
                    ("arms", "Baclofen, Stretching + baclofen"),
                    ("start", &start.to_string()),
                    ("baseline_days", "0"),
                    ("period_days", "3"),
                    ("washout_days", "1"),
                    ("blocks", "1"),
                ],
            )
            .await;
        assert!(r.status().is_redirection(), "{}", r.status());
        let trials = s.store.list_trials(&p).await.unwrap();
        assert_eq!(trials.len(), 1, "rejected plans stored nothing");
        let design = tonus_report::trials::design_of(&trials[0]).unwrap();
        assert_eq!(design.arms, ["Baclofen", "Baclofen + Stretching"]);
        // One Stretching dose in each period: its own arm's, or "other" in the Baclofen one.
        let cal = design.calendar().unwrap();
        for q in &cal.periods {
            let on = tonus_report::trials::day(start, q.days.start).unwrap();
            let at = on.at(18, 0, 0, 0).to_zoned(p.zone.tz()).unwrap().timestamp();
            let instant = LocalInstant {
                at,
                zone: p.zone.clone(),
            };
            let dose = DoseLog::new(instant, DoseStatus::Taken, None, jiff::Timestamp::now()).unwrap();
            s.store.insert_dose(&p, regimen_of[1], &dose).await.unwrap();
        }
        let html = anne
            .http
            .get(anne.url(&format!("/trials/{}", trials[0].id)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Baclofen vs Baclofen + Stretching"), "{html}");
        assert!(html.contains("<td>Baclofen and Stretching</td><td></td>"), "{html}");
        assert!(html.contains("<td>Baclofen</td><td>Stretching</td>"), "{html}");
        assert!(!html.contains("tapering"), "baclofen is in both arms: {html}");
        // (The apostrophe of "treatments'" is escaped in the page.)
        assert!(
            html.contains(
                "(Baclofen + Stretching): Baclofen: 0 of 3.0 planned taken (0 %), 0 missed; \
                 Stretching: 1 of 3.0 planned taken (33 %), 0 missed; other trial treatments"
            ),
            "{html}"
        );
        assert!(
            html.contains("(Baclofen): Baclofen: 0 of 3.0 planned taken (0 %), 0 missed; other trial treatments"),
            "{html}"
        );
        assert!(html.contains("doses taken: Stretching 1</li>"), "{html}");
    }
}
