//! Smaller hardening items of #12: concurrent grants, bidi controls in token names and free
//! text, a disabled account's calendar feed, HEAD on the report.

mod common;

use common::{servers, text_between};
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn concurrent_grants_never_fail() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "doc", "clinician").await;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let c = s.login("anne").await;
            tasks.push(tokio::spawn(async move {
                c.post_form("/sharing/grant", &[("clinician", "doc")]).await.status()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), StatusCode::OK, "{}", s.backend);
        }
        let live = s.store.consents_of_patient(s.patient_id("anne").await).await.unwrap();
        assert_eq!(live.iter().filter(|c| c.revoked_at_ms.is_none()).count(), 1);
    }
}

#[tokio::test]
async fn token_names_refuse_bidi_controls() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        for name in ["backup\u{202E}txt.exe", "a\u{2066}b", "x\u{200F}"] {
            let r = anne
                .json(Method::POST, "/api/tokens", Some(serde_json::json!({ "name": name })))
                .await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
            let e: serde_json::Value = r.json().await.unwrap();
            assert_eq!(e["field"], "name");
        }
        let r = anne.post_form("/tokens", &[("name", "report\u{202E}fdp")]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}

/// A right-to-left override in a note would reverse everything after it on the clinician's
/// page and in the PDF; it is refused on every way in, and nothing is stored.
#[tokio::test]
async fn free_text_refuses_bidi_overrides_on_the_api_and_the_web() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        for note in ["fine \u{202E}emal", "x\u{2067}y", "\u{202B}z"] {
            let body = serde_json::json!({ "kind": "cramp", "notes": note });
            let r = anne.json(Method::POST, "/api/episodes", Some(body)).await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}: {note:?}", s.backend);
            let e: serde_json::Value = r.json().await.unwrap();
            assert_eq!(e["field"], "notes");
            let r = anne.post_form("/episodes", &[("kind", "cramp"), ("notes", note)]).await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}: {note:?}", s.backend);
            assert!(r.text().await.unwrap().contains("bidirectional"));
        }
        let listed: Vec<serde_json::Value> = anne
            .json(Method::GET, "/api/episodes", None)
            .await
            .json()
            .await
            .unwrap();
        assert!(listed.is_empty(), "{}: a refused note was stored", s.backend);
        // A right-to-left mark stays allowed: Hebrew and Arabic writers need it.
        let body = serde_json::json!({ "kind": "cramp", "notes": "כאב\u{200F} 5" });
        let r = anne.json(Method::POST, "/api/episodes", Some(body)).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{}", s.backend);
    }
}

#[tokio::test]
async fn a_disabled_accounts_feed_stops_and_head_is_not_an_export() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let r = anne.post_form("/calendar/feeds", &[]).await;
        let status = r.status();
        let html = r.text().await.unwrap();
        let path = text_between(&html, "/feeds/", ".ics")
            .map(|secret| format!("/feeds/{secret}.ics"))
            .unwrap_or_else(|| panic!("{status}: {html}"));
        let bare = reqwest::Client::builder().no_proxy().build().unwrap();
        let url = format!("{}{path}", s.base);
        assert_eq!(bare.get(&url).send().await.unwrap().status(), StatusCode::OK);

        // HEAD on the report builds and audits nothing.
        let pid = s.patient_id("anne").await;
        let exports = |log: Vec<tonus_store::AuditRecord>| log.iter().filter(|e| e.action == "export").count();
        let before = exports(s.store.list_audit(Some(pid), 200).await.unwrap());
        let r = anne.http.head(anne.url("/report.pdf")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(exports(s.store.list_audit(Some(pid), 200).await.unwrap()), before);

        let uid = s.store.user_by_username("anne").await.unwrap().unwrap().id;
        let r = admin.post_form(&format!("/admin/users/{uid}/disable"), &[]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            bare.get(&url).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "{}: a disabled account's feed still answers",
            s.backend
        );
    }
}

#[tokio::test]
async fn old_dates_and_far_trials_are_refused_and_planned_trials_can_go() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let r = anne
            .json(
                Method::POST,
                "/api/episodes",
                Some(serde_json::json!({"kind": "cramp", "started_at": "1899-12-31 10:00"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e: serde_json::Value = r.json().await.unwrap();
        assert_eq!(e["field"], "started_at");
        assert!(e["rule"].as_str().unwrap().contains("1900"), "{e}");

        // A start two years ahead is refused with the rule.
        let far = (jiff::Zoned::now().date() + jiff::Span::new().years(2)).to_string();
        let r = anne
            .post_form(
                "/trials",
                &[("name", "far"), ("arms", "none,baclofen"), ("start", &far)],
            )
            .await;
        let status = r.status();
        let html = r.text().await.unwrap();
        assert!(html.contains("a start within a year"), "{status}: {html}");
        let p = s
            .store
            .patient_by_id(s.patient_id("anne").await)
            .await
            .unwrap()
            .unwrap();
        assert!(s.store.list_trials(&p).await.unwrap().is_empty());

        // A planned (future) trial can be deleted; a started one cannot.
        let design = serde_json::json!({
            "arms": ["none", "other"], "baseline_days": 14, "period_days": 14, "washout_days": 4,
            "blocks": 2, "seed": 1, "primary_outcome": "involuntary_count", "success_threshold": 0.3
        });
        let soon = jiff::Zoned::now().date() + jiff::Span::new().days(20);
        let planned = s.store.insert_trial(&p, "planned", soon, &design).await.unwrap();
        let started = s
            .store
            .insert_trial(&p, "started", jiff::civil::date(2026, 1, 1), &design)
            .await
            .unwrap();
        let (_, page) = anne.page(&format!("/trials/{planned}")).await;
        assert!(page.contains("Delete this planned trial"));
        let r = anne.post_form(&format!("/trials/{started}/delete"), &[]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = anne.post_form(&format!("/trials/{planned}/delete"), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let left: Vec<_> = s
            .store
            .list_trials(&p)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(left, vec!["started".to_string()], "{}", s.backend);
        let log = s.store.list_audit(Some(p.id), 20).await.unwrap();
        assert!(log.iter().any(|e| e.action == "trial.delete" && e.detail == "planned"));
    }
}

#[tokio::test]
async fn sign_up_is_rate_limited_per_address() {
    for s in servers().await {
        let _admin = s.setup_admin().await;
        let c = common::Client::from_address(&s.base, "127.0.0.5".parse().unwrap());
        c.refresh_csrf("/signup").await;
        for i in 0..common::test_config().signups_per_hour {
            // Taken names and broken rules count as much as accounts made.
            let name = if i % 2 == 0 {
                "admin".to_string()
            } else {
                format!("probe{i}")
            };
            let r = c
                .post_form("/signup", &[("username", &name), ("password", "short")])
                .await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", s.backend);
        }
        let r = c
            .post_form("/signup", &[("username", "zoe"), ("password", common::PASSWORD)])
            .await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{}", s.backend);
        let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry > 0 && retry <= 3600);
        assert!(r.text().await.unwrap().contains("Too many new accounts"));
        let users = s.store.list_users().await.unwrap();
        assert!(!users.iter().any(|u| u.username.starts_with("zoe")), "{}", s.backend);

        // Another address is not affected.
        let other = common::Client::from_address(&s.base, "127.0.0.6".parse().unwrap());
        other.refresh_csrf("/signup").await;
        let r = other
            .post_form("/signup", &[("username", "zoe"), ("password", common::PASSWORD)])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
}
