use super::*;

fn plan(trial_id: i64, start: &str, seed: u64, deleted: bool) -> TrialPlanRecord {
    let design = TrialDesign::new(vec!["none".into(), "Baclofen".into()], seed);
    TrialPlanRecord {
        id: trial_id,
        trial_id,
        name: "try".into(),
        start_date: start.parse().unwrap(),
        design: serde_json::to_value(&design).unwrap(),
        planned_at: "2027-02-01T10:00:00Z".parse().unwrap(),
        deleted_at: deleted.then(|| "2027-02-01T10:05:00Z".parse().unwrap()),
    }
}

#[test]
fn plans_for_overlapping_dates_are_all_listed() {
    // A 3-block two-arm design lasts 14 + 6 × 14 = 98 days.
    let all = vec![
        plan(1, "2027-03-01", 1, true),
        plan(2, "2027-03-10", 2, true),
        plan(3, "2027-03-01", 3, false),
        plan(4, "2027-06-06", 4, false),
        plan(5, "2027-06-07", 5, false),
    ];
    let t = StoredTrial {
        id: 3,
        patient_id: 1,
        name: "try".into(),
        start_date: "2027-03-01".parse().unwrap(),
        design: all[2].design.clone(),
        planned_at: all[2].planned_at,
    };
    let lines = plans_for_dates(&all, &t).unwrap();
    let ids: Vec<i64> = lines.iter().map(|l| l.trial_id).collect();
    assert_eq!(
        ids,
        vec![1, 2, 3, 4],
        "2027-06-06 is the last day; 2027-06-07 is after it"
    );
    assert!(lines[2].this_trial && !lines[0].this_trial);
    assert_eq!(lines[1].seed, Some(2));
    assert_eq!(lines[0].order.len(), 6);
    let text = lines[0].text();
    assert!(text.contains("seed 1") && text.contains("deleted on"), "{text}");
    assert!(lines[2].text().contains("(this trial)"));
}
