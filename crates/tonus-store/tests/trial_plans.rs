//! The plan history of personal trials, on every backend: each saved plan is kept, even
//! when its trial is deleted before it starts, so re-planning the same dates shows.

mod common;

use tonus_domain::time::Zone;

#[tokio::test]
async fn every_plan_is_kept_and_deleted_ones_are_marked() {
    for t in common::all().await {
        let s = &t.store;
        let anne = s.create_patient("anne", &Zone::utc()).await.unwrap();
        let bob = s.create_patient("bob", &Zone::utc()).await.unwrap();
        let start = jiff::civil::date(2027, 3, 1);
        let first = s
            .insert_trial(&anne, "try", start, &serde_json::json!({"seed": 1}))
            .await
            .unwrap();
        assert!(s.delete_trial(&anne, first).await.unwrap());
        let second = s
            .insert_trial(&anne, "try", start, &serde_json::json!({"seed": 2}))
            .await
            .unwrap();
        s.insert_trial(&bob, "other", start, &serde_json::json!({"seed": 3}))
            .await
            .unwrap();

        let trials = s.list_trials(&anne).await.unwrap();
        assert_eq!(trials.iter().map(|t| t.id).collect::<Vec<_>>(), vec![second]);
        let plans = s.list_trial_plans(&anne).await.unwrap();
        assert_eq!(plans.len(), 2, "{plans:?}");
        assert_eq!((plans[0].trial_id, plans[0].design["seed"].as_i64()), (first, Some(1)));
        assert!(plans[0].deleted_at.is_some());
        assert_eq!((plans[1].trial_id, plans[1].deleted_at), (second, None));
        assert_eq!(plans[1].planned_at, trials[0].planned_at, "one planning time for both");
        assert!(plans.iter().all(|p| p.start_date == start && p.name == "try"));
        assert_eq!(s.list_trial_plans(&bob).await.unwrap().len(), 1);
    }
}
