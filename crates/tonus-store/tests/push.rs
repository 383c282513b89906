//! Web Push storage on every backend: the VAPID key is made once, devices are scoped to
//! their patient, and a reminder is claimed once per device.

mod common;

use tonus_domain::time::Zone;
use tonus_store::push::PushChoices;

fn choices(kinds: i64) -> PushChoices {
    PushChoices {
        label: "Phone".to_string(),
        kinds,
        checkin_min: 20 * 60,
        quiet_start_min: Some(22 * 60),
        quiet_end_min: Some(7 * 60),
    }
}

#[tokio::test]
async fn the_vapid_key_is_kept_once() {
    for t in common::all().await {
        let s = &t.store;
        assert_eq!(s.vapid_private_key("first", 1).await.unwrap(), "first");
        assert_eq!(s.vapid_private_key("second", 2).await.unwrap(), "first");
    }
}

#[tokio::test]
async fn devices_belong_to_their_patient() {
    for t in common::all().await {
        let s = &t.store;
        let anne = s.create_patient("anne", &Zone::utc()).await.unwrap();
        let bob = s.create_patient("bob", &Zone::utc()).await.unwrap();
        let id = s
            .upsert_push_subscription(&anne, "https://push.test/a", "pk", "au", &choices(1), 10)
            .await
            .unwrap();
        // The same endpoint again (the browser re-subscribed): the same row, new keys.
        let again = s
            .upsert_push_subscription(&anne, "https://push.test/a", "pk2", "au2", &choices(3), 11)
            .await
            .unwrap();
        assert_eq!(id, again);
        let list = s.list_push_subscriptions(&anne).await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(
            (list[0].p256dh.as_str(), list[0].kinds, list[0].created_at_ms),
            ("pk2", 3, 10)
        );
        assert_eq!(
            (list[0].quiet_start_min, list[0].quiet_end_min),
            (Some(1320), Some(420))
        );

        // Bob cannot change or remove Anne's device.
        assert!(!s.update_push_choices(&bob, id, &choices(7)).await.unwrap());
        assert!(!s.delete_push_subscription(&bob, id).await.unwrap());
        assert!(s.update_push_choices(&anne, id, &choices(4)).await.unwrap());
        assert_eq!(s.list_push_subscriptions(&anne).await.unwrap()[0].kinds, 4);

        // A claim, then the browser signs in as Bob: the device moves without Anne's claims.
        assert!(s.claim_push(id, "checkin:2026-03-29", 5, 6).await.unwrap());
        let moved = s
            .upsert_push_subscription(&bob, "https://push.test/a", "pk3", "au3", &choices(1), 12)
            .await
            .unwrap();
        assert_ne!(moved, id);
        assert!(s.list_push_subscriptions(&anne).await.unwrap().is_empty());
        assert!(s.claim_push(moved, "checkin:2026-03-29", 5, 6).await.unwrap());
        assert_eq!(s.active_push_subscriptions().await.unwrap().len(), 1);
        assert!(s.delete_push_subscription(&bob, moved).await.unwrap());
        assert!(s.active_push_subscriptions().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_reminder_is_claimed_once_and_can_be_given_back() {
    for t in common::all().await {
        let s = &t.store;
        let anne = s.create_patient("anne", &Zone::utc()).await.unwrap();
        let id = s
            .upsert_push_subscription(&anne, "https://push.test/a", "pk", "au", &choices(7), 1)
            .await
            .unwrap();
        assert!(s.claim_push(id, "dose:1:2026-03-29T08", 100, 101).await.unwrap());
        assert!(!s.claim_push(id, "dose:1:2026-03-29T08", 100, 102).await.unwrap());
        s.release_push(id, "dose:1:2026-03-29T08").await.unwrap();
        assert!(s.claim_push(id, "dose:1:2026-03-29T08", 100, 103).await.unwrap());
        s.push_delivered(id, 104).await.unwrap();
        assert_eq!(
            s.list_push_subscriptions(&anne).await.unwrap()[0].last_success_ms,
            Some(104)
        );
        assert_eq!(s.prune_push_claims(100).await.unwrap(), 0);
        assert_eq!(s.prune_push_claims(101).await.unwrap(), 1);
        // A device the push service reports gone is dropped with its claims.
        assert!(s.claim_push(id, "checkin:2026-03-29", 200, 201).await.unwrap());
        assert!(s.drop_push_subscription(id).await.unwrap());
        assert!(!s.drop_push_subscription(id).await.unwrap());
        assert!(s.list_push_subscriptions(&anne).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_disabled_account_gets_no_reminders() {
    for t in common::all().await {
        let s = &t.store;
        let anne = s.create_patient("anne", &Zone::utc()).await.unwrap();
        let user = s.create_patient_user("anne", "x", anne.id).await.unwrap();
        s.upsert_push_subscription(&anne, "https://push.test/a", "pk", "au", &choices(7), 1)
            .await
            .unwrap();
        assert_eq!(s.active_push_subscriptions().await.unwrap().len(), 1);
        s.set_disabled(user.id, Some(5)).await.unwrap();
        assert!(s.active_push_subscriptions().await.unwrap().is_empty());
    }
}
