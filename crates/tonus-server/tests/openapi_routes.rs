//! The OpenAPI document and the router cannot drift apart (issue #16): every JSON API route the
//! router serves is an operation of the document with the same method and path, and every
//! operation is a served route; every `{placeholder}` of a path is declared `in: path` (and
//! required), and no other parameter is declared in the path. The document is read as JSON,
//! exactly as `/api/openapi.json` serves it. The full OpenAPI 3.1 validation of the served
//! document is tests/openapi/test_spec_valid.py (openapi-spec-validator).

use std::collections::BTreeSet;

use serde_json::Value;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn document() -> Value {
    serde_json::to_value(tonus_server::openapi::document()).expect("the document serializes")
}

fn served_api_routes() -> BTreeSet<(String, String)> {
    tonus_server::route_list()
        .into_iter()
        .filter(|(_, path)| path.starts_with("/api/") && *path != "/api/openapi.json")
        .map(|(method, path)| (method.as_str().to_ascii_lowercase(), path.to_string()))
        .collect()
}

fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut ops = BTreeSet::new();
    for (path, item) in paths {
        for method in METHODS {
            if item.get(method).is_some() {
                ops.insert((method.to_string(), path.clone()));
            }
        }
    }
    ops
}

/// The `{name}` segments of a path template, in order.
fn placeholders(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_api_route_is_documented_and_every_operation_is_served() {
    let served = served_api_routes();
    let documented = documented_operations(&document());
    assert!(served.len() >= 18, "the JSON API has its routes: {served:?}");
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented operations no route serves: {unserved:?}"
    );
}

#[test]
fn path_parameters_match_the_path_templates() {
    let doc = document();
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut checked = 0;
    for (path, item) in paths {
        let expected: BTreeSet<String> = placeholders(path).into_iter().collect();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            // Parameters may sit on the path item or on the operation; the operation's own
            // replace the path item's of the same name and location.
            let own: Vec<&Value> = op["parameters"].as_array().into_iter().flatten().collect();
            let key = |p: &Value| {
                (
                    p["name"].as_str().expect("a parameter has a name").to_string(),
                    p["in"].as_str().expect("a parameter says where it is").to_string(),
                )
            };
            let mut seen = BTreeSet::new();
            for p in &own {
                let (name, location) = key(p);
                assert!(
                    seen.insert((name.clone(), location.clone())),
                    "{method} {path}: parameter {name} in {location} is declared twice"
                );
            }
            let inherited = item["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| !seen.contains(&key(p)));
            let mut declared = BTreeSet::new();
            for p in own.iter().copied().chain(inherited) {
                let (name, location) = key(p);
                assert!(
                    ["path", "query", "header", "cookie"].contains(&location.as_str()),
                    "{method} {path}: parameter {name} is in {location:?}"
                );
                if location == "path" {
                    assert_eq!(
                        p["required"],
                        Value::Bool(true),
                        "{method} {path}: path parameter {name} must be required"
                    );
                    declared.insert(name);
                }
            }
            assert_eq!(
                declared, expected,
                "{method} {path}: the path parameters declared are not the template's placeholders"
            );
            checked += 1;
        }
    }
    assert!(checked >= 18, "only {checked} operations checked");
}

/// The bug of #16 in particular: the from/to range is in the query of the patient's and the
/// clinician's operations, next to the clinician's path parameter.
#[test]
fn range_parameters_are_in_the_query() {
    assert_eq!(
        placeholders("/api/clinician/patients/{patient_id}/episodes"),
        ["patient_id"]
    );
    assert!(placeholders("/api/episodes").is_empty());
    let doc = document();
    let list = &doc["paths"]["/api/episodes"]["get"]["parameters"];
    let locations: Vec<(&str, &str)> = list
        .as_array()
        .expect("GET /api/episodes has parameters")
        .iter()
        .map(|p| (p["name"].as_str().unwrap_or(""), p["in"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(locations, [("from", "query"), ("to", "query")]);
    let dashboard = &doc["paths"]["/api/clinician/patients/{patient_id}/dashboard"]["get"]["parameters"];
    let locations: Vec<(&str, &str)> = dashboard
        .as_array()
        .expect("the clinician dashboard has parameters")
        .iter()
        .map(|p| (p["name"].as_str().unwrap_or(""), p["in"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(locations, [("patient_id", "path"), ("from", "query"), ("to", "query")]);
}
