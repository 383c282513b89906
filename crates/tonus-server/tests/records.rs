//! Exercise sessions, clinical events and "no spasms today" on the web and through the API:
//! the command line's rules, edit and delete, nothing stored on bad input, and another
//! patient's records out of reach.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn exercise_and_events_through_the_api() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "paul", "patient").await;
        let anne = s.login("anne").await;
        let paul = s.login("paul").await;
        let p = s.patient("anne").await;

        let r = anne
            .json(
                Method::POST,
                "/api/exercise",
                Some(json!({"type": "water", "minutes": 40, "exertion": 3, "at": "2026-11-20 10:00"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{}", s.backend);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["load"], 120);
        assert_eq!(v["at"], "2026-11-20T09:00:00Z");
        let xid = v["id"].as_i64().unwrap();
        for (body, field) in [
            (json!({"type": "water", "minutes": 0, "exertion": 3}), "minutes"),
            (json!({"type": "water", "minutes": 30, "exertion": 11}), "exertion"),
            (json!({"type": "skiing", "minutes": 30, "exertion": 3}), "type"),
        ] {
            let r = anne.json(Method::POST, "/api/exercise", Some(body.clone())).await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["field"], field, "{body}: {e}");
        }
        assert_eq!(s.store.list_exercise(&p, None, None).await.unwrap().len(), 1);
        let r = anne
            .json(
                Method::PUT,
                &format!("/api/exercise/{xid}"),
                Some(json!({"type": "yoga", "minutes": 30, "exertion": 2})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            (v["type"].as_str(), v["at"].as_str()),
            (Some("yoga"), Some("2026-11-20T09:00:00Z"))
        );
        assert_eq!(
            paul.json(Method::GET, &format!("/api/exercise/{xid}"), None)
                .await
                .status(),
            StatusCode::NOT_FOUND
        );

        // Events: an MRI with lesion counts, a relapse with its end.
        let r = anne
            .json(
                Method::POST,
                "/api/events",
                Some(json!({"kind": "mri", "date": "2026-09-01", "mri_region": "brain",
                    "lesions_total": 12, "lesions_new": 1, "lesions_enhancing": 0})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let mri: Value = r.json().await.unwrap();
        assert_eq!(mri["lesions_total"], 12);
        for (body, field) in [
            (json!({"kind": "mri", "date": "2026-09-01"}), "mri_region"),
            (
                json!({"kind": "mri", "mri_region": "brain", "lesions_total": 2, "lesions_new": 3}),
                "lesions_new",
            ),
            (
                json!({"kind": "relapse", "date": "2026-03-10", "until": "2026-03-01"}),
                "until",
            ),
            (
                json!({"kind": "diagnosis", "date": "2026-03-10", "until": "2026-03-11"}),
                "until",
            ),
            (json!({"kind": "other"}), "name"),
            (json!({"kind": "stroke"}), "kind"),
        ] {
            let r = anne.json(Method::POST, "/api/events", Some(body.clone())).await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["field"], field, "{body}: {e}");
        }
        let r = anne
            .json(
                Method::POST,
                "/api/events",
                Some(json!({"kind": "relapse", "date": "2026-03-01", "until": "2026-03-20", "summary": "legs"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let relapse: Value = r.json().await.unwrap();
        let rid = relapse["id"].as_i64().unwrap();
        let r = anne
            .json(
                Method::PUT,
                &format!("/api/events/{rid}"),
                Some(json!({"kind": "relapse", "date": "2026-03-01", "until": "2026-03-25"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let list: Value = anne.json(Method::GET, "/api/events", None).await.json().await.unwrap();
        assert_eq!(list.as_array().unwrap().len(), 2);
        assert_eq!(list[0]["until"], "2026-03-25", "oldest first, corrected");
        assert_eq!(
            paul.json(Method::DELETE, &format!("/api/events/{rid}"), None)
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            anne.json(Method::DELETE, &format!("/api/events/{rid}"), None)
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        assert_eq!(s.store.list_events(&p, None, None).await.unwrap().len(), 1);

        // "No spasms" for a day keeps its other answers.
        let r = anne
            .json(
                Method::POST,
                "/api/checkins",
                Some(json!({"date": "yesterday", "spasticity_nrs": 4})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let r = anne
            .json(Method::POST, "/api/days/confirm", Some(json!({"date": "yesterday"})))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let c: Value = r.json().await.unwrap();
        assert_eq!(
            (c["log_complete"].as_bool(), c["spasticity_nrs"].as_u64()),
            (Some(true), Some(4))
        );
    }
}

#[tokio::test]
async fn exercise_events_and_confirming_the_day_on_the_web() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let p = s.patient("anne").await;

        // Exercise: a failed save keeps what was typed.
        let r = anne
            .post_form(
                "/exercise",
                &[("type", "pilates"), ("minutes", "forty"), ("exertion", "3")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", s.backend);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("id=\"minutes-error\"") && body.contains("value=\"forty\""),
            "{body}"
        );
        assert!(body.contains("value=\"pilates\" checked"));
        let r = anne
            .post_form(
                "/exercise",
                &[
                    ("type", "pilates"),
                    ("minutes", "40"),
                    ("exertion", "6"),
                    ("note", "class\r\nwith Sue"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, page) = anne.page("/exercise?saved=1").await;
        assert!(
            page.contains("Pilates · 40 min · exertion 6") && page.contains("above gentle"),
            "{page}"
        );
        let xid = s.store.list_exercise(&p, None, None).await.unwrap()[0].id;
        assert_eq!(
            s.store.list_exercise(&p, None, None).await.unwrap()[0].value.note(),
            Some("class\nwith Sue")
        );
        let r = anne
            .post_form(
                &format!("/exercise/{xid}/edit"),
                &[("type", "pilates"), ("minutes", "45"), ("exertion", "3")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            s.store.get_exercise(&p, xid).await.unwrap().unwrap().value.minutes(),
            45
        );
        let (_, confirm) = anne.page(&format!("/exercise/{xid}/delete")).await;
        assert!(confirm.contains("Pilates for 45 min"), "{confirm}");
        anne.post_form(&format!("/exercise/{xid}/delete"), &[]).await;
        assert!(s.store.list_exercise(&p, None, None).await.unwrap().is_empty());

        // An MRI with counts; a wrong count is named and nothing stored.
        let r = anne
            .post_form(
                "/events",
                &[
                    ("kind", "mri"),
                    ("date", "2026-09-01"),
                    ("mri_region", "cervical-cord"),
                    ("lesions_total", "2"),
                    ("lesions_new", "3"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(body.contains("id=\"lesions_new-error\""), "{body}");
        assert!(body.contains("value=\"cervical-cord\" selected"));
        assert!(s.store.list_events(&p, None, None).await.unwrap().is_empty());
        let r = anne
            .post_form(
                "/events",
                &[
                    ("kind", "mri"),
                    ("date", "2026-09-01"),
                    ("mri_region", "cervical-cord"),
                    ("lesions_total", "4"),
                    ("lesions_new", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, page) = anne.page("/events").await;
        assert!(
            page.contains("2026-09-01 · MRI of the cervical cord, 4 lesions, 1 new"),
            "{page}"
        );
        let eid = s.store.list_events(&p, None, None).await.unwrap()[0].id;
        let (_, form) = anne.page(&format!("/events/{eid}/edit")).await;
        assert!(
            form.contains("value=\"4\"") && form.contains("value=\"mri\" checked"),
            "{form}"
        );
        let (_, confirm) = anne.page(&format!("/events/{eid}/delete")).await;
        assert!(confirm.contains("MRI of the cervical cord"));
        anne.post_form(&format!("/events/{eid}/delete"), &[]).await;
        assert!(s.store.list_events(&p, None, None).await.unwrap().is_empty());

        // One tap: no (more) spasms today.
        let r = anne.post_form("/days/confirm", &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/?confirmed=1");
        let c = s.store.list_checkins(&p, None, None).await.unwrap();
        assert!(c.len() == 1 && c[0].value.log_complete());
        let (_, home) = anne.page("/?confirmed=1").await;
        assert!(home.contains("Today is confirmed"));
    }
}
