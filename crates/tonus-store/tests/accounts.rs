//! Accounts, consent and the audit chain at the storage layer, on every reachable backend.

mod common;

use tonus_domain::time::Zone;
use tonus_store::{AuditEvent, NewSession, Redeemed, Role};

fn event(i: usize) -> AuditEvent {
    AuditEvent {
        at_ms: 1_700_000_000_000 + i as i64,
        actor_id: Some(1),
        actor: format!("user{i}"),
        patient_id: None,
        action: "signin".to_string(),
        address: "127.0.0.1".to_string(),
        detail: String::new(),
    }
}

#[tokio::test]
async fn invitations_are_single_use_and_expire() {
    for t in common::all().await {
        let s = &t.store;
        let zone = Zone::utc();
        let anne = s.create_user("anne", Role::Patient, "hash", &zone).await.unwrap();
        let doc = s
            .create_user("doc@clinic", Role::Clinician, "hash", &zone)
            .await
            .unwrap();
        let pid = anne.patient_id.unwrap();
        s.create_invitation(pid, "code-a", 1_000, 2_000).await.unwrap();
        s.create_invitation(pid, "code-b", 1_000, 2_000).await.unwrap();
        assert_eq!(
            s.redeem_invitation("code-a", doc.id, 2_500).await.unwrap(),
            Redeemed::Invalid,
            "expired"
        );
        assert!(
            matches!(s.redeem_invitation("code-b", doc.id, 1_500).await.unwrap(), Redeemed::Granted { patient_id, .. } if patient_id == pid)
        );
        assert_eq!(
            s.redeem_invitation("code-b", doc.id, 1_600).await.unwrap(),
            Redeemed::Invalid,
            "used"
        );
        assert!(s.has_consent(doc.id, pid).await.unwrap());
        let live = s.consents_of_clinician(doc.id).await.unwrap();
        assert_eq!(live.len(), 1);
        assert_eq!(s.revoke_consent(pid, live[0].id, 3_000).await.unwrap(), Some(doc.id));
        assert!(!s.has_consent(doc.id, pid).await.unwrap());
        assert_eq!(s.revoke_consent(pid, live[0].id, 3_000).await.unwrap(), None);
        // A patient name cannot hold '@'; a clinician's can; names are unique.
        assert!(s.create_user("a@b", Role::Patient, "h", &zone).await.is_err());
        assert!(s.create_user("anne", Role::Clinician, "h", &zone).await.is_err());
    }
}

#[tokio::test]
async fn concurrent_appends_keep_one_chain() {
    for t in common::all().await {
        let store = std::sync::Arc::new(t.store);
        let mut tasks = Vec::new();
        for i in 0..20 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move { s.append_audit(&event(i)).await.unwrap() }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let v = store.verify_audit().await.unwrap();
        assert_eq!(v.rows, 20);
        assert!(v.first_bad.is_none(), "{v:?}");
        assert_eq!(store.list_audit(None, 100).await.unwrap()[0].hash, v.head);
    }
}

#[tokio::test]
async fn sessions_are_purged_when_expired_or_idle() {
    for t in common::all().await {
        let s = &t.store;
        let u = s.create_user("admin", Role::Admin, "hash", &Zone::utc()).await.unwrap();
        for (hash, now, expires) in [("a", 1_000, 100_000), ("b", 50_000, 60_000), ("c", 90_000, 200_000)] {
            s.create_session(&NewSession {
                user_id: u.id,
                token_hash: hash,
                csrf_token: "x",
                now_ms: now,
                expires_at_ms: expires,
                address: "127.0.0.1",
                user_agent: "test",
            })
            .await
            .unwrap();
        }
        // At 70 s: "b" is past its absolute expiry, "a" idle since before 10 s.
        assert_eq!(s.purge_sessions(70_000, 10_000).await.unwrap(), 2);
        let left = s.list_sessions(u.id).await.unwrap();
        assert_eq!(left.len(), 1);
        assert!(s.session_by_token_hash("c").await.unwrap().is_some());
        assert_eq!(s.delete_user_sessions(u.id).await.unwrap(), 1);
    }
}
