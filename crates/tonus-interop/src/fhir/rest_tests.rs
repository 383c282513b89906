use serde_json::json;

use super::*;

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn obs(id: &str, when: &str, code: &str, category: Option<&str>) -> Value {
    let mut r = json!({
        "resourceType": "Observation",
        "id": id,
        "status": "preliminary",
        "effectiveDateTime": when,
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": "urn:uuid:p"},
    });
    if let Some(c) = category {
        r["category"] =
            json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": c}]}]);
    }
    r
}

fn ids(rs: &[Value], search: &Search) -> Vec<String> {
    rs.iter()
        .filter(|r| matches(r, search))
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn dates_follow_fhir_range_semantics_at_every_precision() {
    let rs = [
        obs("a", "2026-02-28T23:30:00+01:00", "x", None),
        obs("b", "2026-03-01T00:10:00+01:00", "x", None),
        obs("c", "2026-03-31T12:00:00+02:00", "x", None),
        obs("d", "2027-01-01T08:00:00+01:00", "x", None),
    ];
    let find = |v: &[(&str, &str)]| ids(&rs, &parse_search(Some("Observation"), &q(v)).unwrap());
    assert_eq!(find(&[("date", "2026-03")]), ["b", "c"]);
    assert_eq!(find(&[("date", "2026")]), ["a", "b", "c"]);
    assert_eq!(find(&[("date", "ge2026-03-01"), ("date", "lt2027")]), ["b", "c"]);
    assert_eq!(find(&[("date", "gt2026-03")]), ["d"]);
    assert_eq!(find(&[("date", "le2026-02")]), ["a"]);
    // The patient's own day counts, not UTC's: 23:30 at +01:00 is still 28 February.
    assert_eq!(find(&[("date", "eq2026-02-28")]), ["a"]);
}

#[test]
fn tokens_match_code_and_category_with_or_without_system() {
    let rs = [
        obs("a", "2026-01-01T00:00:00Z", "72514-3", Some("survey")),
        obs("b", "2026-01-01T00:00:00Z", "other", Some("activity")),
        obs("c", "2026-01-01T00:00:00Z", "other", None),
    ];
    let find = |v: &[(&str, &str)]| ids(&rs, &parse_search(Some("Observation"), &q(v)).unwrap());
    assert_eq!(find(&[("code", "72514-3")]), ["a"]);
    assert_eq!(find(&[("code", "http://loinc.org|72514-3,other")]), ["a", "b", "c"]);
    assert_eq!(
        find(&[("code", "http://snomed.info/sct|72514-3")]),
        Vec::<String>::new()
    );
    assert_eq!(find(&[("category", "survey,activity")]), ["a", "b"]);
    assert_eq!(
        find(&[("category", "activity"), ("code", "72514-3")]),
        Vec::<String>::new()
    );
}

#[test]
fn bad_or_unknown_parameters_are_refused_by_name() {
    for (params, named) in [
        (vec![("dat", "2026")], "dat"),
        (vec![("date", "2026-13")], "date"),
        (vec![("date", "2026-02-30")], "date"),
        (vec![("date", "yesterday")], "date"),
        (vec![("_count", "5000")], "_count"),
        (vec![("_count", "-1")], "_count"),
        (vec![("_format", "xml")], "_format"),
        (vec![("patient", "a"), ("subject", "Patient/b")], "subject"),
    ] {
        let err = parse_search(Some("Observation"), &q(&params)).unwrap_err();
        assert_eq!(err.status, 400, "{params:?}");
        let text = err.outcome["issue"][0]["diagnostics"].as_str().unwrap();
        assert!(text.contains(named), "{params:?}: {text}");
        assert_eq!(err.outcome["resourceType"], "OperationOutcome");
    }
    // A parameter of another type is not this one's: `date` is not a Condition search.
    assert_eq!(
        parse_search(Some("Condition"), &q(&[("date", "2026")]))
            .unwrap_err()
            .status,
        400
    );
    assert_eq!(parse_search(Some("Encounter"), &[]).unwrap_err().status, 404);
    // $everything pages only.
    assert!(parse_search(None, &q(&[("patient", "x")])).is_err());
    let s = parse_search(Some("Observation"), &q(&[("patient", "Patient/p1"), ("_count", "7")])).unwrap();
    assert_eq!((s.patient.as_deref(), s.count, s.offset), (Some("p1"), 7, 0));
}

#[test]
fn pages_cover_every_match_once_with_links_between_them() {
    let all: Vec<Value> = (0..23)
        .map(|i| obs(&format!("o{i}"), "2026-01-01T00:00:00Z", "x", None))
        .collect();
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let s = parse_search(
            Some("Observation"),
            &q(&[("_count", "10"), ("_offset", &offset.to_string())]),
        )
        .unwrap();
        let page = searchset(
            "http://h/fhir/r4",
            "http://h/fhir/r4/Observation",
            Page::of(all.clone(), &s),
            &s,
        );
        assert_eq!(page["total"], 23);
        assert_eq!(page["type"], "searchset");
        for e in page["entry"].as_array().unwrap() {
            assert_eq!(
                e["fullUrl"],
                format!("http://h/fhir/r4/Observation/{}", e["resource"]["id"].as_str().unwrap())
            );
            seen.push(e["resource"]["id"].as_str().unwrap().to_string());
        }
        let next = page["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == "next");
        match next {
            Some(l) => {
                assert!(l["url"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("_offset={}", offset + 10)));
                offset += 10;
            }
            None => break,
        }
    }
    let expected: Vec<String> = (0..23).map(|i| format!("o{i}")).collect();
    assert_eq!(seen, expected);
}

#[test]
fn the_capability_statement_lists_every_search() {
    let c = capability_statement("http://h/fhir/r4", "2026-12-06");
    let types: Vec<&str> = c["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(types[0], "Patient");
    for (t, _) in SEARCHABLE {
        assert!(types.contains(t), "{t}");
    }
}

#[test]
fn a_pager_keeps_only_its_page_and_rewrites_references_to_any_entry() {
    let entry = |t: &str, id: &str, to: Option<&str>| {
        let mut r = json!({"resourceType": t, "id": id});
        if let Some(to) = to {
            r["subject"] = json!({"reference": format!("urn:uuid:{to}")});
        }
        json!({"fullUrl": format!("urn:uuid:{id}"), "resource": r})
    };
    // The Observations point at a Patient offered after them, and at one never offered.
    let mut entries: Vec<Value> = (0..7)
        .map(|i| entry("Observation", &format!("o{i}"), Some(if i == 6 { "gone" } else { "p" })))
        .collect();
    entries.push(entry("Patient", "p", None));
    let s = parse_search(Some("Observation"), &q(&[("_count", "3"), ("_offset", "4")])).unwrap();
    let mut pager = Pager::new(&s, Some("Observation"));
    for e in entries {
        pager.offer(e);
    }
    let page = pager.finish();
    assert_eq!(page.total, 7, "every Observation counted, the Patient not");
    let ids: Vec<&str> = page.resources.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["o4", "o5", "o6"]);
    assert_eq!(page.resources[0]["subject"]["reference"], "Patient/p");
    assert_eq!(
        page.resources[2]["subject"]["reference"], "urn:uuid:gone",
        "unknown: left as written"
    );
}
