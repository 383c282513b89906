//! The patient's identity for filing: set on the web and through the API, rules naming their
//! field, nothing stored on bad input, and never visible to another patient.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn identity_is_set_on_the_web_and_the_api() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        s.add_user(&admin, "paul", "patient").await;
        let anne = s.login("anne").await;
        let p = s.patient("anne").await;

        let (status, page) = anne.page("/identity").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Identity for your clinic"));
        // A bad system is named; what was typed stays; nothing is stored.
        let r = anne
            .post_form(
                "/identity",
                &[
                    ("name", "Anne Martin"),
                    ("birth_date", "1970-03-02"),
                    ("sex", "female"),
                    ("identifier_system", "NHS"),
                    ("identifier_value", "9434765919"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", s.backend);
        let body = r.text().await.unwrap();
        assert!(body.contains("must be a URI naming who issued the number"), "{body}");
        assert!(body.contains("value=\"Anne Martin\"") && body.contains("value=\"9434765919\""));
        assert!(s.store.patient_identity(&p).await.unwrap().is_none());
        let r = anne
            .post_form(
                "/identity",
                &[
                    ("name", "Anne Martin"),
                    ("birth_date", "1970-03-02"),
                    ("sex", "female"),
                    ("identifier_system", "https://fhir.nhs.uk/Id/nhs-number"),
                    ("identifier_value", "9434765919"),
                    ("identifier_system", ""),
                    ("identifier_value", ""),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let stored = s.store.patient_identity(&p).await.unwrap().unwrap();
        assert_eq!(stored.name.as_deref(), Some("Anne Martin"));
        assert_eq!(stored.identifiers.len(), 1);

        let v: Value = anne
            .json(Method::GET, "/api/identity", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["birth_date"], "1970-03-02");
        assert_eq!(v["identifiers"][0]["value"], "9434765919");
        for (body, field) in [
            (json!({"birth_date": "2999-01-01"}), "birth_date"),
            (json!({"sex": "f"}), "sex"),
            (
                json!({"identifiers": [{"system": "urn:oid:1.2.3", "value": "1"}, {"system": "urn:oid:1.2.3", "value": "2"}]}),
                "identifier_system",
            ),
        ] {
            let r = anne.json(Method::PUT, "/api/identity", Some(body.clone())).await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["field"], field, "{body}: {e}");
        }
        assert_eq!(
            s.store.patient_identity(&p).await.unwrap().unwrap(),
            stored,
            "bad input changed nothing"
        );

        // Another patient sees only their own (empty) identity.
        let paul = s.login("paul").await;
        let v: Value = paul
            .json(Method::GET, "/api/identity", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            v,
            json!({"name": null, "birth_date": null, "sex": null, "identifiers": []})
        );

        // The clinician report carries it on every page.
        let r = anne.get("/report.pdf").await;
        assert_eq!(r.status(), StatusCode::OK);
        let pdf = r.bytes().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.pdf");
        std::fs::write(&path, &pdf).unwrap();
        let text = std::process::Command::new("pdftotext")
            .arg("-layout")
            .arg(&path)
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        let pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
        assert!(!pages.is_empty());
        for (i, page) in pages.iter().enumerate() {
            assert!(
                page.contains("Anne Martin") && page.contains("9434765919"),
                "page {} lacks the identity",
                i + 1
            );
        }

        // Clearing: an empty PUT removes it.
        let r = anne.json(Method::PUT, "/api/identity", Some(json!({}))).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(s.store.patient_identity(&p).await.unwrap().is_none());
    }
}
