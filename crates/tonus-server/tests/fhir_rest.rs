//! The read-only FHIR R4 endpoint against the real server on both backends: who may read
//! which patient (own record by token or session, consented patients for a clinician, never
//! another patient's, not after revocation), every answer FHIR JSON, paging that visits each
//! resource once, and clinician reads in the audit log.

mod common;

use std::collections::BTreeSet;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::time::LocalInstant;

async fn add_episodes(s: &Server, name: &str, n: usize) {
    let p = s.patient(name).await;
    let now = jiff::Timestamp::now();
    for i in 0..n {
        let at = now - jiff::SignedDuration::from_hours(30 * i as i64 + 1);
        let e = EpisodeDraft {
            kind: "clonus".into(),
            notes: Some(format!("{name}-secret {i}")),
            ..Default::default()
        }
        .validate(
            LocalInstant {
                at,
                zone: p.zone.clone(),
            },
            now,
        )
        .unwrap();
        s.store.insert_episode(&p, &e).await.unwrap();
    }
}

async fn fhir_json(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(ct.starts_with("application/fhir+json"), "{status}: content type {ct:?}");
    (status, r.json().await.unwrap())
}

fn ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["id"].as_str().unwrap().to_string())
        .collect()
}

fn next_link(bundle: &Value) -> Option<String> {
    bundle["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .map(|l| l["url"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn patients_read_their_own_clinicians_what_was_shared_and_nobody_more() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        for (name, role) in [("anne", "patient"), ("ursula", "patient"), ("doc", "clinician")] {
            s.add_user(&admin, name, role).await;
        }
        add_episodes(&s, "anne", 7).await;
        add_episodes(&s, "ursula", 2).await;
        let anne_web = s.login("anne").await;
        let r = anne_web
            .json(Method::POST, "/api/tokens", Some(json!({"name": "ehr sync"})))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let token: Value = r.json().await.unwrap();
        let anne = TokenClient::new(&s.base, token["token"].as_str().unwrap());
        let anne = &anne;
        let get = |path: String| async move { anne.send(Method::GET, &path, None).await };

        // Anonymous: metadata only; everything else a FHIR 401 that says how to sign in.
        let anonymous = reqwest::Client::builder().no_proxy().build().unwrap();
        let (status, cap) = fhir_json(
            anonymous
                .get(format!("{}/fhir/r4/metadata", s.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, cap["resourceType"].as_str()),
            (StatusCode::OK, Some("CapabilityStatement"))
        );
        assert_eq!(cap["fhirVersion"], "4.0.1");
        let r = anonymous
            .get(format!("{}/fhir/r4/Observation", s.base))
            .send()
            .await
            .unwrap();
        assert!(r.headers().get("www-authenticate").is_some());
        let (status, body) = fhir_json(r).await;
        assert_eq!(
            (status, body["resourceType"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("OperationOutcome"))
        );

        // The patient's own record, by token.
        let (status, patients) = fhir_json(get("/fhir/r4/Patient".to_string()).await).await;
        assert_eq!(
            (status, patients["total"].as_u64()),
            (StatusCode::OK, Some(1)),
            "[{}] {patients}",
            s.backend
        );
        let anne_id = ids(&patients)[0].clone();
        let (status, me) = fhir_json(get(format!("/fhir/r4/Patient/{anne_id}")).await).await;
        assert_eq!((status, me["resourceType"].as_str()), (StatusCode::OK, Some("Patient")));
        let (_, obs) = fhir_json(get("/fhir/r4/Observation".to_string()).await).await;
        assert_eq!(obs["total"], 7, "[{}] {obs}", s.backend);
        for e in obs["entry"].as_array().unwrap() {
            assert_eq!(e["resource"]["subject"]["reference"], format!("Patient/{anne_id}"));
            assert_eq!(e["search"]["mode"], "match");
        }

        // Ursula's id, found as doc would find it, reveals nothing to Anne.
        let doc = s.login("doc").await;
        let (_, none_yet) = fhir_json(doc.get("/fhir/r4/Patient").await).await;
        assert_eq!(none_yet["total"], 0);
        let ursula_patient = s.patient("ursula").await;
        let ursula_id = tonus_server::service::fhir::patient_fhir_id(&ursula_patient);
        let (status, body) = fhir_json(get(format!("/fhir/r4/Patient/{ursula_id}")).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!body.to_string().contains("ursula"));
        let (status, body) = fhir_json(get(format!("/fhir/r4/Observation?patient={ursula_id}")).await).await;
        assert_eq!((status, body["total"].as_u64()), (StatusCode::OK, Some(0)));
        assert!(!body.to_string().contains("ursula-secret"));

        // Mistakes are named, never ignored.
        let (status, body) = fhir_json(get("/fhir/r4/Observation?dat=2026".to_string()).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["issue"][0]["diagnostics"].as_str().unwrap().contains("dat"),
            "{body}"
        );

        // A clinician: only with consent, only with a patient named, audited, until revoked.
        let (status, body) = fhir_json(doc.get("/fhir/r4/Observation").await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.to_string().contains("patient"));
        let anne_pid = s.patient_id("anne").await;
        let doc_uid = s.store.user_by_username("doc").await.unwrap().unwrap().id;
        s.store
            .grant_consent(anne_pid, doc_uid, "test", jiff::Timestamp::now().as_millisecond())
            .await
            .unwrap();
        let (_, shared) = fhir_json(doc.get("/fhir/r4/Patient").await).await;
        assert_eq!(ids(&shared), std::slice::from_ref(&anne_id));
        let (status, body) = fhir_json(
            doc.get(&format!("/fhir/r4/Observation?patient=Patient/{anne_id}"))
                .await,
        )
        .await;
        assert_eq!((status, body["total"].as_u64()), (StatusCode::OK, Some(7)));
        let (status, _) = fhir_json(doc.get(&format!("/fhir/r4/Patient/{ursula_id}/$everything")).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let audit = s.store.list_audit(Some(anne_pid), 100).await.unwrap();
        assert!(
            audit
                .iter()
                .any(|a| a.action == "clinician.view" && a.detail.contains("fhir Observation search")),
            "{audit:?}"
        );

        // $everything in pages of 3: every resource once, the Patient among them.
        let mut seen = Vec::new();
        let mut url = format!("{}/fhir/r4/Patient/{anne_id}/$everything?_count=3", s.base);
        let mut total = None;
        loop {
            let (status, page) = fhir_json(doc.get(url.strip_prefix(&s.base).unwrap()).await).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            total = total.or(page["total"].as_u64());
            assert!(page["entry"].as_array().unwrap().len() <= 3);
            seen.extend(ids(&page));
            match next_link(&page) {
                Some(next) => url = next,
                None => break,
            }
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!((seen.len() as u64, unique.len()), (total.unwrap(), seen.len()));
        assert!(seen.contains(&anne_id) && seen.len() >= 8, "{seen:?}");

        let consent = s.store.consents_of_patient(anne_pid).await.unwrap()[0].id;
        s.store
            .revoke_consent(anne_pid, consent, jiff::Timestamp::now().as_millisecond())
            .await
            .unwrap();
        let (status, _) = fhir_json(doc.get(&format!("/fhir/r4/Patient/{anne_id}")).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, body) = fhir_json(doc.get(&format!("/fhir/r4/Observation?patient={anne_id}")).await).await;
        assert_eq!(body["total"], 0);

        // An administrator reads no patient's record.
        let (status, _) = fhir_json(admin.get("/fhir/r4/Patient").await).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
