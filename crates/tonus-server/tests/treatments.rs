//! Treatments, regimens and doses on the web and through the API: the command line's rules,
//! a "due today" list, one-tap doses, dose changes that keep the history, and no way into
//! another patient's treatments.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn post(c: &Client, path: &str, body: Value) -> (StatusCode, Value) {
    let r = c.json(Method::POST, path, Some(body)).await;
    let status = r.status();
    let v = r.json().await.unwrap_or(Value::Null);
    (status, v)
}

#[tokio::test]
async fn treatments_regimens_and_doses_through_the_api() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "paul", "patient").await;
        let anne = s.login("anne").await;
        let paul = s.login("paul").await;

        let (status, t) = post(
            &anne,
            "/api/treatments",
            json!({"name": "Baclofen", "category": "drug"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {t}", s.backend);
        let tid = t["id"].as_i64().unwrap();
        // Rules name their field; nothing is stored.
        for (body, field) in [
            (json!({"name": "baclofen", "category": "drug"}), "name"),
            (json!({"name": "X", "category": "pill"}), "category"),
            (json!({"name": "  ", "category": "drug"}), "name"),
        ] {
            let (status, e) = post(&anne, "/api/treatments", body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
            assert_eq!(e["field"], field, "{body}: {e}");
        }
        let start = |days: i64| {
            jiff::Timestamp::now()
                .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
                .date()
                .checked_sub(jiff::Span::new().days(days))
                .unwrap()
                .to_string()
        };
        let (status, e) = post(
            &anne,
            &format!("/api/treatments/{tid}/regimens"),
            json!({"schedule": "3x-daily", "from": start(10)}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["field"], "dose", "a drug needs a dose: {e}");
        let (status, r) = post(
            &anne,
            &format!("/api/treatments/{tid}/regimens"),
            json!({"dose": 10, "unit": "mg", "route": "oral", "schedule": "3x-daily", "from": start(10)}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{r}");
        let rid = r["id"].as_i64().unwrap();

        // Due today: three planned, none logged; one tap later, one logged.
        let due: Value = anne
            .json(Method::GET, "/api/doses/due", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(due["items"][0]["planned"], 3, "{due}");
        assert_eq!(due["items"][0]["remaining"], 3);
        let (status, d) = post(&anne, "/api/doses", json!({"regimen_id": rid, "status": "taken"})).await;
        assert_eq!(status, StatusCode::CREATED, "{d}");
        let due: Value = anne
            .json(Method::GET, "/api/doses/due", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(due["items"][0]["logged"], 1);
        assert_eq!(due["items"][0]["remaining"], 2);
        // A dose before the regimen started is refused; so is another patient's regimen.
        let (status, e) = post(
            &anne,
            "/api/doses",
            json!({"regimen_id": rid, "status": "taken", "at": format!("{} 08:00", start(20))}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["field"], "at");
        let (status, _) = post(&paul, "/api/doses", json!({"regimen_id": rid, "status": "taken"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = post(&paul, &format!("/api/regimens/{rid}/stop"), json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = post(
            &paul,
            &format!("/api/treatments/{tid}/regimens"),
            json!({"dose": 5, "unit": "mg", "schedule": "daily"}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let paul_list: Value = paul
            .json(Method::GET, "/api/treatments", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(paul_list, json!([]));

        // A dose change from today: the old regimen ends yesterday, the new one runs.
        let (status, e) = post(
            &anne,
            &format!("/api/regimens/{rid}/change"),
            json!({"dose": 15, "from": start(10)}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["field"], "from");
        let (status, next) = post(&anne, &format!("/api/regimens/{rid}/change"), json!({"dose": 15})).await;
        assert_eq!(status, StatusCode::CREATED, "{next}");
        assert_eq!(next["dose"], 15.0);
        assert_eq!(next["unit"], "mg", "unit kept");
        assert_eq!(next["schedule"], "3x-daily", "schedule kept");
        assert_eq!(next["start"], start(0));
        let list: Value = anne
            .json(Method::GET, "/api/treatments", None)
            .await
            .json()
            .await
            .unwrap();
        let regimens = list[0]["regimens"].as_array().unwrap();
        assert_eq!(regimens.len(), 2);
        assert_eq!(regimens[0]["end"], start(1));
        assert_eq!(regimens[1]["end"], Value::Null);

        // Stop: the end day is validated against the start.
        let nid = next["id"].as_i64().unwrap();
        let (status, e) = post(&anne, &format!("/api/regimens/{nid}/stop"), json!({"on": start(3)})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let r = anne
            .json(Method::POST, &format!("/api/regimens/{nid}/stop"), Some(json!({})))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let stopped: Value = r.json().await.unwrap();
        assert_eq!(stopped["end"], start(0));

        // Rename and correct: a name another treatment has is refused; a dose's status and
        // time are corrected, and must still fall while its regimen ran.
        let (status, _) = post(
            &anne,
            "/api/treatments",
            json!({"name": "Tizanidine", "category": "drug"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let r = anne
            .json(
                Method::PUT,
                &format!("/api/treatments/{tid}"),
                Some(json!({"name": "tizanidine", "category": "drug"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["field"], "name");
        let r = anne
            .json(
                Method::PUT,
                &format!("/api/treatments/{tid}"),
                Some(json!({"name": "Baclofen (Lioresal)", "category": "drug", "notes": "generic since May"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let t: Value = r.json().await.unwrap();
        assert_eq!(
            (t["name"].as_str(), t["regimens"].as_array().map(Vec::len)),
            (Some("Baclofen (Lioresal)"), Some(2))
        );
        let doses: Value = anne.json(Method::GET, "/api/doses", None).await.json().await.unwrap();
        let did = doses[0]["id"].as_i64().unwrap();
        let r = anne
            .json(
                Method::PUT,
                &format!("/api/doses/{did}"),
                Some(json!({"status": "late", "note": "forgot"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let d: Value = r.json().await.unwrap();
        assert_eq!(
            (d["status"].as_str(), d["at"].as_str()),
            (Some("late"), doses[0]["at"].as_str()),
            "time kept"
        );
        let r = anne
            .json(
                Method::PUT,
                &format!("/api/doses/{did}"),
                Some(json!({"status": "taken", "at": format!("{} 08:00", start(30))})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            paul.json(
                Method::PUT,
                &format!("/api/doses/{did}"),
                Some(json!({"status": "taken"}))
            )
            .await
            .status(),
            StatusCode::NOT_FOUND
        );

        // The dose list, and deleting a dose (only one's own).
        let doses: Value = anne.json(Method::GET, "/api/doses", None).await.json().await.unwrap();
        let did = doses[0]["id"].as_i64().unwrap();
        assert_eq!(
            paul.json(Method::DELETE, &format!("/api/doses/{did}"), None)
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            anne.json(Method::DELETE, &format!("/api/doses/{did}"), None)
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        let doses: Value = anne.json(Method::GET, "/api/doses", None).await.json().await.unwrap();
        assert_eq!(doses, json!([]));
        assert_eq!(
            paul.json(Method::DELETE, &format!("/api/treatments/{tid}"), None)
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            anne.json(Method::DELETE, &format!("/api/treatments/{tid}"), None)
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        let list: Value = anne
            .json(Method::GET, "/api/treatments", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["name"], "Tizanidine", "only the deleted one is gone");
    }
}

#[tokio::test]
async fn treatments_and_doses_on_the_web() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let p = s.patient("anne").await;

        let (status, page) = anne.page("/treatments").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("No treatments yet"));
        // A failed add keeps what was typed and says which field.
        let r = anne
            .post_form(
                "/treatments",
                &[("name", "Tizanidine"), ("notes", "from Dr Lee\r\nfor nights")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", s.backend);
        let body = r.text().await.unwrap();
        assert!(body.contains("value=\"Tizanidine\""), "{body}");
        assert!(body.contains("must be chosen"), "{body}");
        assert!(s.store.list_treatments(&p).await.unwrap().is_empty());
        let r = anne
            .post_form("/treatments", &[("name", "Tizanidine"), ("category", "drug")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let tid = s.store.list_treatments(&p).await.unwrap()[0].id;

        // Start: a bad dose is shown next to the start form, typed values kept.
        let r = anne
            .post_form(
                &format!("/treatments/{tid}/start"),
                &[("dose", "two"), ("unit", "mg"), ("schedule", "2x-daily")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(body.contains(&format!("id=\"start-{tid}-dose-error\"")), "{body}");
        assert!(body.contains("value=\"two\""));
        let r = anne
            .post_form(
                &format!("/treatments/{tid}/start"),
                &[
                    ("dose", "2"),
                    ("unit", "mg"),
                    ("route", "oral"),
                    ("schedule", "2x-daily"),
                    ("from", ""),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, page) = anne.page("/treatments").await;
        assert!(page.contains("2 mg · oral · twice a day"), "{page}");
        assert!(page.contains("agree a tapering plan with your prescriber"));

        // Due today: one tap logs a dose.
        let (_, doses) = anne.page("/doses").await;
        assert!(doses.contains("0 of 2 logged today"), "{doses}");
        let rid = s.store.list_regimens(&p).await.unwrap()[0].id.to_string();
        let r = anne
            .post_form("/doses", &[("regimen", rid.as_str()), ("status", "taken")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, doses) = anne.page("/doses?saved=1").await;
        assert!(doses.contains("1 of 2 logged today"), "{doses}");
        // Back-filling needs a status; the error names it and nothing is stored.
        let r = anne
            .post_form("/doses", &[("regimen", rid.as_str()), ("at", "2026-01-01T08:00")])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(s.store.list_doses(&p, None, None).await.unwrap().len(), 1);
        // A regimen id that is not the patient's is refused like a typo.
        let r = anne
            .post_form("/doses", &[("regimen", "999999"), ("status", "taken")])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // A dose is corrected on its own page.
        let did = s.store.list_doses(&p, None, None).await.unwrap()[0].1.id;
        let (status, form) = anne.page(&format!("/doses/{did}/edit")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(form.contains("value=\"taken\" checked"), "{form}");
        let r = anne
            .post_form(&format!("/doses/{did}/edit"), &[("status", "missed"), ("at", "")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            s.store.list_doses(&p, None, None).await.unwrap()[0].1.value.status(),
            tonus_domain::DoseStatus::Missed
        );
        // The treatment is renamed on the treatments page; a bad kind is shown by its form.
        let r = anne
            .post_form(
                &format!("/treatments/{tid}/edit"),
                &[("name", "Tizanidine 2"), ("category", "pill")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("value=\"Tizanidine 2\""));
        let r = anne
            .post_form(
                &format!("/treatments/{tid}/edit"),
                &[("name", "Tizanidine 2"), ("category", "drug")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            s.store.list_treatments(&p).await.unwrap()[0].value.name(),
            "Tizanidine 2"
        );
        let (_, page) = anne.page("/treatments").await;
        assert!(page.contains("Tizanidine 2"));

        // Deleting a dose asks first.
        let did = s.store.list_doses(&p, None, None).await.unwrap()[0].1.id;
        let (status, confirm) = anne.page(&format!("/doses/{did}/delete")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(confirm.contains("Tizanidine 2 missed"), "{confirm}");
        let r = anne.post_form(&format!("/doses/{did}/delete"), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(s.store.list_doses(&p, None, None).await.unwrap().is_empty());

        // Stop.
        let r = anne.post_form(&format!("/regimens/{rid}/stop"), &[("on", "")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(s.store.list_regimens(&p).await.unwrap()[0].value.end().is_some());

        // Deleting the treatment asks first and says what goes with it.
        let (status, confirm) = anne.page(&format!("/treatments/{tid}/delete")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(confirm.contains("Tizanidine 2 with all its regimens"), "{confirm}");
        let r = anne.post_form(&format!("/treatments/{tid}/delete"), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(s.store.list_treatments(&p).await.unwrap().is_empty());
        assert!(s.store.list_regimens(&p).await.unwrap().is_empty());
    }
}
