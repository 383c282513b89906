//! The page and the API for the same use case call the same service function, so they must
//! check, store and audit alike. Each use case offered by both is done once through each
//! path, and the audit entries (and stored records) are compared.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tonus_store::AuditRecord;

/// The newest audit entry with `action` about `patient`.
async fn last(s: &Server, patient: i64, action: &str) -> AuditRecord {
    s.store
        .list_audit(Some(patient), 200)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.action == action)
        .unwrap_or_else(|| panic!("no {action} entry"))
}

/// What an entry says apart from its time, position and channel suffix.
fn gist(r: &AuditRecord) -> (Option<i64>, String, Option<i64>, String, String) {
    let detail = r
        .detail
        .trim_end_matches(" (web)")
        .trim_end_matches(" (api)")
        .to_string();
    (r.actor_id, r.actor.clone(), r.patient_id, r.action.clone(), detail)
}

#[tokio::test]
async fn pages_and_api_audit_the_same_way() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "doc", "clinician").await;
        let anne = s.login("anne").await;
        let doc = s.login("doc").await;
        let pid = s.patient_id("anne").await;

        // Tokens: create and revoke, through the page and through the API.
        let r = anne.post_form("/tokens", &[("name", "  nightly export ")]).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", s.backend);
        let web_create = last(&s, pid, "token.create").await;
        let r = anne
            .json(Method::POST, "/api/tokens", Some(json!({"name": "  nightly export "})))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let api_token: Value = r.json().await.unwrap();
        let api_create = last(&s, pid, "token.create").await;
        assert!(api_create.id > web_create.id);
        assert_eq!(gist(&web_create), gist(&api_create), "{}", s.backend);
        assert_eq!(api_create.detail, "nightly export");

        let tokens = s
            .store
            .list_api_tokens(s.store.user_by_username("anne").await.unwrap().unwrap().id)
            .await
            .unwrap();
        let web_token = tokens
            .iter()
            .find(|t| t.id != api_token["id"].as_i64().unwrap())
            .unwrap();
        let r = anne.post_form(&format!("/tokens/{}/revoke", web_token.id), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let web_revoke = last(&s, pid, "token.revoke").await;
        let r = anne
            .json(Method::DELETE, &format!("/api/tokens/{}", api_token["id"]), None)
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let api_revoke = last(&s, pid, "token.revoke").await;
        assert!(api_revoke.id > web_revoke.id);
        assert_eq!(gist(&web_revoke), gist(&api_revoke));

        // Clinician views: the dashboard page and the dashboard API record the same view.
        let r = anne.post_form("/sharing/grant", &[("clinician", "doc")]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let range = "from=2026-01-01&to=2026-01-31";
        let r = doc.get(&format!("/clinician/patients/{pid}?{range}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        let web_view = last(&s, pid, "clinician.view").await;
        assert!(web_view.detail.ends_with("(web)"), "{}", web_view.detail);
        let r = doc
            .get(&format!("/api/clinician/patients/{pid}/dashboard?{range}"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let api_view = last(&s, pid, "clinician.view").await;
        assert!(api_view.id > web_view.id && api_view.detail.ends_with("(api)"));
        assert_eq!(gist(&web_view), gist(&api_view));
        assert_eq!(gist(&api_view).4, "dashboard 2026-01-01 to 2026-01-31");

        // Consent revocation: the sharing page and the API.
        let consent = |n: usize| {
            let store = s.store.clone();
            async move { store.consents_of_patient(pid).await.unwrap()[n].id }
        };
        let first = consent(0).await;
        let r = anne.post_form(&format!("/sharing/{first}/revoke"), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let web_revoke = last(&s, pid, "consent.revoke").await;
        let r = anne.post_form("/sharing/grant", &[("clinician", "doc")]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let live = s
            .store
            .consents_of_patient(pid)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.revoked_at_ms.is_none())
            .unwrap();
        let r = anne
            .json(Method::POST, &format!("/api/consents/{}/revoke", live.id), None)
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let api_revoke = last(&s, pid, "consent.revoke").await;
        assert!(api_revoke.id > web_revoke.id);
        assert_eq!(gist(&web_revoke), gist(&api_revoke));
        assert_eq!(api_revoke.detail, "from doc");
        // And the consent really ended on both paths: the clinician now meets 404.
        let r = doc.get(&format!("/api/clinician/patients/{pid}/dashboard")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn pages_and_api_store_and_refuse_episodes_alike() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let pid = s.patient_id("anne").await;

        let r = anne
            .post_form(
                "/episodes",
                &[
                    ("kind", "cramp"),
                    ("region", "left-calf"),
                    ("pain", "6"),
                    ("when", "2026-11-20 03:10"),
                    ("duration", "120s"),
                    ("notes", "woke me"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", s.backend);
        let r = anne
            .json(
                Method::POST,
                "/api/episodes",
                Some(json!({"kind": "cramp", "regions": ["left-calf"], "pain": 6,
                    "started_at": "2026-11-20 03:10", "duration_s": 120, "notes": "woke me"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        // The answer to the write is what a later read gives (instants to the millisecond).
        let created: Value = r.json().await.unwrap();
        let read: Value = anne
            .get(&format!("/api/episodes/{}", created["id"]))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(created, read);

        let patient = s.store.patient_by_id(pid).await.unwrap().unwrap();
        let stored = s.store.list_episodes(&patient, None, None).await.unwrap();
        assert_eq!(stored.len(), 2);
        let (a, b) = (&stored[0].value, &stored[1].value);
        assert_eq!(a.kind(), b.kind());
        assert_eq!(a.regions(), b.regions());
        assert_eq!(a.pain(), b.pain());
        assert_eq!(a.duration_s(), b.duration_s());
        assert_eq!(a.notes(), b.notes());
        assert_eq!(a.started_at().at, b.started_at().at, "same local time, same zone");
        assert!(a.backfilled() && b.backfilled());

        // The same broken rule is refused on both paths, naming the same field; nothing stored.
        let r = anne.post_form("/episodes", &[("kind", "cramp"), ("pain", "11")]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.unwrap();
        let r = anne
            .json(
                Method::POST,
                "/api/episodes",
                Some(json!({"kind": "cramp", "pain": 11})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["field"], "pain");
        assert!(page.contains(body["rule"].as_str().unwrap()), "the page names the rule");
        assert_eq!(s.store.list_episodes(&patient, None, None).await.unwrap().len(), 2);

        // A correction through either path keeps the stored start when none is given.
        let id = stored[0].id;
        let r = anne
            .post_form(
                &format!("/episodes/{id}/edit"),
                &[("kind", "twitch"), ("when", ""), ("pain", "3")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let id2 = stored[1].id;
        let r = anne
            .json(
                Method::PUT,
                &format!("/api/episodes/{id2}"),
                Some(json!({"kind": "twitch", "pain": 3})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let after = s.store.list_episodes(&patient, None, None).await.unwrap();
        for e in &after {
            assert_eq!(e.value.kind().code(), "twitch");
            assert_eq!(e.value.started_at().at, a.started_at().at);
        }
    }
}
