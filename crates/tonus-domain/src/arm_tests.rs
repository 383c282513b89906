use super::*;

fn names(a: &Arm) -> Vec<&str> {
    a.components().iter().map(String::as_str).collect()
}

#[test]
fn none_alone_is_the_empty_arm_in_any_case() {
    for text in ["none", " None ", "NONE"] {
        let a = Arm::parse("arm", text).unwrap();
        assert!(a.is_none(), "{text}");
        assert_eq!(a.label(), "none");
    }
}

#[test]
fn a_single_treatment_keeps_its_name() {
    let a = Arm::parse("arm", "  Baclofen ").unwrap();
    assert_eq!(names(&a), ["Baclofen"]);
    assert_eq!(a.to_string(), "Baclofen");
}

#[test]
fn combinations_are_order_and_case_insensitive_with_one_canonical_form() {
    let a = Arm::parse("arm", "Baclofen + Stretching").unwrap();
    let b = Arm::parse("arm", "Stretching+Baclofen").unwrap();
    let c = Arm::parse("arm", "stretching +  BACLOFEN").unwrap();
    assert_eq!(a.label(), "Baclofen + Stretching");
    assert_eq!(b.label(), "Baclofen + Stretching");
    assert!(a.same_set(&b) && a.same_set(&c));
    assert_eq!(
        c.label(),
        "BACLOFEN + stretching",
        "the typed case is kept until resolved"
    );
    assert!(a.contains("stretching") && a.contains("BACLOFEN") && !a.contains("Tizanidine"));
    assert!(!a.same_set(&Arm::parse("arm", "Baclofen").unwrap()));
}

#[test]
fn a_repeated_component_is_refused_naming_the_field_and_rule() {
    let e = Arm::parse("arm", "Baclofen + baclofen").unwrap_err();
    assert_eq!(e.field, "arm");
    assert!(e.rule.contains("distinct treatments"), "{e}");
    assert!(e.value.contains("baclofen"), "{e}");
}

#[test]
fn none_mixed_with_a_treatment_is_refused() {
    for text in ["none + Baclofen", "Baclofen + None"] {
        let e = Arm::parse("arm", text).unwrap_err();
        assert_eq!(e.field, "arm");
        assert!(e.rule.contains("`none` cannot be combined"), "{e}");
    }
}

#[test]
fn empty_parts_and_empty_arms_are_refused() {
    for text in ["Baclofen +", "+ Baclofen", "Baclofen ++ Stretching", "   "] {
        let e = Arm::parse("arm", text).unwrap_err();
        assert_eq!(e.field, "arm", "{text}");
    }
    let e = Arm::parse("arm", "A\u{202E}B").unwrap_err();
    assert!(e.rule.contains("bidirectional"), "{e}");
}

#[test]
fn too_many_components_are_refused() {
    let text: Vec<String> = (0..=MAX_COMPONENTS).map(|i| format!("T{i}")).collect();
    let e = Arm::parse("arm", &text.join(" + ")).unwrap_err();
    assert!(e.rule.contains("at most 8"), "{e}");
    let long = "x".repeat(101);
    assert!(Arm::parse("arm", &format!("Baclofen + {long}")).is_err());
}

#[test]
fn two_arms_with_the_same_set_are_refused() {
    let texts = vec![
        "none".to_string(),
        "Baclofen + Stretching".into(),
        "stretching + baclofen".into(),
    ];
    let e = parse_arms("arms", &texts).unwrap_err();
    assert_eq!(e.field, "arms");
    assert!(e.rule.contains("distinct sets"), "{e}");
    assert!(
        e.value
            .contains("\"baclofen + stretching\" repeats \"Baclofen + Stretching\""),
        "{e}"
    );
    let e = parse_arms("arms", &["none".into(), "NONE".into()]).unwrap_err();
    assert!(e.rule.contains("distinct sets"), "{e}");
}

#[test]
fn blank_entries_are_skipped_and_the_rest_kept_in_order() {
    let texts = vec!["Baclofen".to_string(), "Stretching + Baclofen".into(), " ".into()];
    let arms = parse_arms("arms", &texts).unwrap();
    let labels: Vec<String> = arms.iter().map(Arm::label).collect();
    assert_eq!(labels, ["Baclofen", "Baclofen + Stretching"]);
}

#[test]
fn an_old_single_label_reads_back_whole() {
    assert!(Arm::single("none").is_none());
    assert_eq!(names(&Arm::single("Baclofen")), ["Baclofen"]);
    // A `+` in a name stored before combinations existed is part of the name.
    assert_eq!(names(&Arm::single("Vitamin B+C")), ["Vitamin B+C"]);
}

#[test]
fn serde_round_trips_as_a_list_of_names_and_checks_it() {
    let a = Arm::parse("arm", "Stretching + Baclofen").unwrap();
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json, serde_json::json!(["Baclofen", "Stretching"]));
    assert_eq!(serde_json::from_value::<Arm>(json).unwrap(), a);
    assert!(serde_json::from_value::<Arm>(serde_json::json!([])).unwrap().is_none());
    assert!(serde_json::from_value::<Arm>(serde_json::json!(["A", "a"])).is_err());
}
