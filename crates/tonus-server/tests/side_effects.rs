//! Side effects on the web and through the API: the same rules and errors as the command
//! line, nothing stored on bad input, another patient's treatments never reachable, and
//! what was typed kept when a save fails.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tonus_domain::{Category, Treatment};

#[tokio::test]
async fn side_effects_through_the_api_follow_the_domain_rules() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "paul", "patient").await;
        let anne_p = s.patient("anne").await;
        let paul_p = s.patient("paul").await;
        let baclofen = Treatment::new("Baclofen", Category::Drug, None).unwrap();
        s.store.insert_treatment(&anne_p, &baclofen).await.unwrap();
        let tizanidine = Treatment::new("Tizanidine", Category::Drug, None).unwrap();
        s.store.insert_treatment(&paul_p, &tizanidine).await.unwrap();
        let anne = s.login("anne").await;

        let r = anne
            .json(
                Method::POST,
                "/api/side-effects",
                Some(json!({"effect": "drowsiness", "severity": "moderate",
                    "suspected_treatment": "baclofen", "note": "after the\r\nevening dose",
                    "at": "2026-11-20 21:30"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{}", s.backend);
        let v: Value = r.json().await.unwrap();
        // The treatment is named as stored, the line break kept as LF, the time as typed in
        // the patient's zone.
        assert_eq!(v["suspected_treatment"], "Baclofen");
        assert_eq!(v["note"], "after the\nevening dose");
        assert_eq!(v["local_date"], "2026-11-20");
        assert_eq!(v["time_zone"], "Europe/Paris");
        assert_eq!(v["at"], "2026-11-20T20:30:00Z");
        let id = v["id"].as_i64().unwrap();

        // Each rule names its field; nothing is stored.
        for (body, field) in [
            (json!({"severity": "mild"}), "effect"),
            (json!({"effect": "itching", "severity": "mild"}), "effect"),
            (json!({"effect": "nausea", "severity": "awful"}), "severity"),
            (json!({"effect": "other", "severity": "mild"}), "description"),
            // Another patient's treatment is no more reachable than one that does not exist.
            (
                json!({"effect": "nausea", "severity": "mild", "suspected_treatment": "Tizanidine"}),
                "suspected_treatment",
            ),
            (
                json!({"effect": "nausea", "severity": "mild", "note": "a\u{202E}b"}),
                "note",
            ),
            (
                json!({"effect": "nausea", "severity": "mild", "at": "2999-01-01 10:00"}),
                "at",
            ),
        ] {
            let r = anne.json(Method::POST, "/api/side-effects", Some(body.clone())).await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body} on {}", s.backend);
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["field"], field, "{body}: {e}");
        }
        assert_eq!(s.store.list_side_effects(&anne_p, None, None).await.unwrap().len(), 1);
        assert!(s.store.list_side_effects(&paul_p, None, None).await.unwrap().is_empty());

        // A correction replaces the entry; `at` stays unless given.
        let r = anne
            .json(
                Method::PUT,
                &format!("/api/side-effects/{id}"),
                Some(json!({"effect": "other", "description": "heavy legs", "severity": "severe"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["what"], "heavy legs");
        assert_eq!(v["suspected_treatment"], Value::Null);
        assert_eq!(v["at"], "2026-11-20T20:30:00Z");

        // The list filters by local day; another patient sees nothing of it.
        let list: Value = anne
            .json(Method::GET, "/api/side-effects?from=2026-11-20&to=2026-11-20", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1);
        let paul = s.login("paul").await;
        for method in [Method::GET, Method::DELETE] {
            let r = paul
                .json(method.clone(), &format!("/api/side-effects/{id}"), None)
                .await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method}");
        }
        let r = paul
            .json(
                Method::PUT,
                &format!("/api/side-effects/{id}"),
                Some(json!({"effect": "nausea", "severity": "mild"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            s.store
                .get_side_effect(&anne_p, id)
                .await
                .unwrap()
                .unwrap()
                .value
                .what(),
            "heavy legs"
        );

        let r = anne
            .json(Method::DELETE, &format!("/api/side-effects/{id}"), None)
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert!(s.store.list_side_effects(&anne_p, None, None).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn deleting_a_treatment_keeps_the_side_effect_and_forgets_the_suspicion() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let p = s.patient("anne").await;
        let t = Treatment::new("Gabapentin", Category::Drug, None).unwrap();
        let tid = s.store.insert_treatment(&p, &t).await.unwrap();
        let anne = s.login("anne").await;
        let r = anne
            .json(
                Method::POST,
                "/api/side-effects",
                Some(json!({"effect": "dizziness", "severity": "mild", "suspected_treatment": "Gabapentin"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert!(s.store.delete_treatment(&p, tid).await.unwrap());
        let left = s.store.list_side_effects(&p, None, None).await.unwrap();
        assert_eq!(left.len(), 1, "{}", s.backend);
        assert_eq!(left[0].value.suspected_treatment(), None);
    }
}

#[tokio::test]
async fn side_effects_on_the_web_keep_what_was_typed_and_edit_and_delete() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let p = s.patient("anne").await;
        let t = Treatment::new("Baclofen", Category::Drug, None).unwrap();
        s.store.insert_treatment(&p, &t).await.unwrap();
        let anne = s.login("anne").await;

        let (status, page) = anne.page("/side-effects").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("value=\"Baclofen\""), "treatments are offered");
        assert!(page.contains("No side effects recorded"));

        // A failed save: 422, the message next to the field, everything typed kept.
        let r = anne
            .post_form(
                "/side-effects",
                &[
                    ("effect", "other"),
                    ("severity", "severe"),
                    ("suspected_treatment", "Baclofen"),
                    ("note", "legs gave way\r\non the stairs"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", s.backend);
        let body = r.text().await.unwrap();
        assert!(body.contains("id=\"description-error\""), "{body}");
        assert!(body.contains("value=\"other\" checked"));
        assert!(body.contains("value=\"severe\" checked"));
        assert!(body.contains("<option value=\"Baclofen\" selected>"));
        assert!(body.contains("legs gave way\non the stairs") || body.contains("legs gave way\r\non the stairs"));
        assert!(s.store.list_side_effects(&p, None, None).await.unwrap().is_empty());

        let r = anne
            .post_form(
                "/side-effects",
                &[
                    ("effect", "other"),
                    ("description", "legs gave way"),
                    ("severity", "severe"),
                    ("suspected_treatment", "Baclofen"),
                    ("note", "on the\r\nstairs"),
                    ("at", ""),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/side-effects?saved=1");
        let stored = s.store.list_side_effects(&p, None, None).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].value.note(), Some("on the\nstairs"));
        assert_eq!(stored[0].value.suspected_treatment(), Some("Baclofen"));
        let id = stored[0].id;
        let (_, page) = anne.page("/side-effects?saved=1").await;
        assert!(page.contains("legs gave way"));
        assert!(page.contains("suspected: Baclofen"));

        // Edit: the form shows the stored values; a bad change changes nothing.
        let (status, form) = anne.page(&format!("/side-effects/{id}/edit")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(form.contains("value=\"legs gave way\""));
        let r = anne
            .post_form(
                &format!("/side-effects/{id}/edit"),
                &[("effect", "nausea"), ("severity", "")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            s.store.get_side_effect(&p, id).await.unwrap().unwrap().value.effect(),
            tonus_domain::Effect::Other
        );
        let r = anne
            .post_form(
                &format!("/side-effects/{id}/edit"),
                &[("effect", "nausea"), ("severity", "mild"), ("suspected_treatment", "")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let v = s.store.get_side_effect(&p, id).await.unwrap().unwrap().value;
        assert_eq!(v.effect(), tonus_domain::Effect::Nausea);
        assert_eq!(v.suspected_treatment(), None);

        // Delete asks first, then deletes.
        let (status, confirm) = anne.page(&format!("/side-effects/{id}/delete")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(confirm.contains("nausea (mild)"), "{confirm}");
        assert!(confirm.contains("href=\"/side-effects\""));
        let r = anne.post_form(&format!("/side-effects/{id}/delete"), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(s.store.list_side_effects(&p, None, None).await.unwrap().is_empty());
    }
}

/// The dashboard shows side effects and the notes to the patient and to a consented
/// clinician (web page and JSON), escaped and with line breaks kept; a clinician without
/// consent sees nothing of them. The PDF carries the notes only when asked, and the access
/// log says so.
#[tokio::test]
async fn dashboard_shows_side_effects_and_notes_to_the_patient_and_a_consented_clinician() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "doc", "clinician").await;
        let anne_p = s.patient("anne").await;
        let baclofen = Treatment::new("Baclofen", Category::Drug, None).unwrap();
        s.store.insert_treatment(&anne_p, &baclofen).await.unwrap();
        let anne = s.login("anne").await;
        for body in [
            json!({"effect": "drowsiness", "severity": "moderate", "suspected_treatment": "Baclofen",
                "note": "after the\r\nevening <b>dose</b>"}),
            json!({"effect": "weakness", "severity": "severe"}),
        ] {
            let r = anne.json(Method::POST, "/api/side-effects", Some(body)).await;
            assert_eq!(r.status(), StatusCode::CREATED, "{}", s.backend);
        }
        let r = anne
            .json(
                Method::POST,
                "/api/episodes",
                Some(json!({"kind": "cramp", "regions": ["back"], "notes": "woke me at 3"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{}", s.backend);

        let shows_everything = |page: &str, who: &str| {
            for expected in [
                "<h2>Side effects</h2>",
                "drowsiness",
                "muscle weakness",
                "Baclofen: 1 (drowsiness 1 (worst moderate))",
                "no treatment named: 1 (muscle weakness 1 (worst severe))",
                "2 recorded: drowsiness 1 (worst moderate), muscle weakness 1 (worst severe)",
                "<h2>Notes</h2>",
                "woke me at 3",
                // Escaped, with the line break kept by the `pre-line` class.
                "<span class=\"pre-line\">after the\nevening &#60;b&#62;dose&#60;/b&#62;</span>",
            ] {
                assert!(
                    page.contains(expected),
                    "{who} on {}: no {expected:?} in\n{page}",
                    s.backend
                );
            }
            assert!(!page.contains("<b>dose"), "{who}: notes are escaped");
        };
        let (status, page) = anne.page("/dashboard").await;
        assert_eq!(status, StatusCode::OK);
        shows_everything(&page, "anne");
        assert!(page.contains("action=\"/report.pdf\""), "the download form: {page}");
        let r = anne.get("/report.pdf?notes=1").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
        let log = s.store.list_audit(Some(anne_p.id), 100).await.unwrap();
        assert!(log
            .iter()
            .any(|e| e.action == "export" && e.detail == "report (pdf, with notes)"));

        let v: Value = anne.get("/api/dashboard").await.json().await.unwrap();
        assert_eq!(v["side_effects"].as_array().unwrap().len(), 2, "{v}");
        assert_eq!(v["side_effects_by_effect"][0]["worst"], "moderate", "{v}");
        assert_eq!(v["notes"][0]["source"], "episode", "newest first: {v}");
        assert_eq!(v["notes"][1]["text"], "after the\nevening <b>dose</b>", "{v}");

        // Without consent: not found, and nothing of the notes.
        let pid = anne_p.id;
        let doc = s.login("doc").await;
        let page_path = format!("/clinician/patients/{pid}");
        let (status, page) = doc.page(&page_path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}", s.backend);
        assert!(!page.contains("woke me") && !page.contains("evening"), "{page}");
        let api_path = format!("/api/clinician/patients/{pid}/dashboard");
        assert_eq!(doc.get(&api_path).await.status(), StatusCode::NOT_FOUND);

        let doc_id = s.store.user_by_username("doc").await.unwrap().unwrap().id;
        s.store
            .grant_consent(pid, doc_id, "test", jiff::Timestamp::now().as_millisecond())
            .await
            .unwrap();
        let (status, page) = doc.page(&page_path).await;
        assert_eq!(status, StatusCode::OK);
        shows_everything(&page, "doc");
        assert!(page.contains(&format!("action=\"/clinician/patients/{pid}/report.pdf\"")));
        let v: Value = doc.get(&api_path).await.json().await.unwrap();
        assert_eq!(v["notes"].as_array().unwrap().len(), 2, "{v}");
        assert_eq!(v["side_effects_by_treatment"][0]["treatment"], "Baclofen", "{v}");

        // The PDF: notes only when asked, and the access log tells the two apart.
        for (query, detail) in [("", "report (pdf)"), ("?notes=1", "report (pdf, with notes)")] {
            let r = doc.get(&format!("/clinician/patients/{pid}/report.pdf{query}")).await;
            assert_eq!(r.status(), StatusCode::OK);
            assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
            let log = s.store.list_audit(Some(pid), 100).await.unwrap();
            assert!(
                log.iter().any(|e| e.action == "clinician.export" && e.detail == detail),
                "{detail}"
            );
        }
    }
}
