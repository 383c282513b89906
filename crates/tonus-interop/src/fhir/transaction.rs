//! The export as a `transaction` Bundle for a FHIR server: each resource is created only if
//! the server has none with the same identifier (conditional create, `ifNoneExist`), so
//! sending the same file twice creates nothing twice, and the `urn:uuid:` references between
//! entries resolve to whatever the server created or already had (FHIR R4 §3.1.0.11.2).

use serde_json::{json, Value};

/// `collection` (what [`super::export_bundle`] makes) turned into a transaction: every entry
/// gets `request` POST to its type, with `ifNoneExist` on its first identifier. For the
/// Patient that is the first identifier the patient gave (a clinic's MRN finds the chart
/// the clinic already has), else the Tonus handle; for records it is the record's uid.
/// Resource ids are left out: a server assigns its own on create.
pub fn to_transaction(mut bundle: Value) -> Value {
    bundle["type"] = json!("transaction");
    if let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) {
        entries.iter_mut().for_each(transaction_entry);
    }
    bundle
}

/// One entry of a `collection` made a conditional create (see [`to_transaction`]).
pub fn transaction_entry(entry: &mut Value) {
    let kind = entry["resource"]["resourceType"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut request = json!({"method": "POST", "url": kind});
    if let Some(condition) = condition(&entry["resource"]) {
        request["ifNoneExist"] = json!(condition);
    }
    if let Some(r) = entry.get_mut("resource").and_then(Value::as_object_mut) {
        r.remove("id");
    }
    entry["request"] = request;
}

/// `identifier=system|value` for the resource's first identifier that has both, escaped as
/// FHIR search values must be (`\` before `\ | , $`) and then percent-encoded for a URL.
fn condition(resource: &Value) -> Option<String> {
    let first = match resource.get("identifier")? {
        Value::Array(list) => list
            .iter()
            .find(|i| i.get("system").is_some() && i.get("value").is_some())?,
        single => single,
    };
    let system = first.get("system")?.as_str()?;
    let value = first.get("value")?.as_str()?;
    Some(format!("identifier={}|{}", encode(system), encode(value)))
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if matches!(c, '\\' | '|' | ',' | '$') {
            out.push_str("%5C");
        }
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | ':' | '/') {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_become_conditional_creates_on_their_first_identifier() {
        let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": "p", "identifier": [
                {"system": "https://clinic.example/mrn", "value": "A 12|3"},
                {"system": "https://tonus.example.org/fhir/patient-handle", "value": "anne"}]}},
            {"fullUrl": "urn:uuid:o", "resource": {"resourceType": "AdverseEvent", "id": "o",
                "identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:o"}}},
            {"fullUrl": "urn:uuid:x", "resource": {"resourceType": "Observation", "id": "x"}},
        ]});
        let t = to_transaction(bundle);
        assert_eq!(t["type"], "transaction");
        let e = t["entry"].as_array().unwrap();
        assert_eq!(
            e[0]["request"]["ifNoneExist"],
            "identifier=https://clinic.example/mrn|A%2012%5C%7C3"
        );
        assert_eq!(
            e[1]["request"]["ifNoneExist"],
            "identifier=urn:ietf:rfc:3986|urn:uuid:o"
        );
        assert_eq!(e[1]["request"]["url"], "AdverseEvent");
        // No identifier: a plain create.
        assert_eq!(e[2]["request"], json!({"method": "POST", "url": "Observation"}));
        assert!(e
            .iter()
            .all(|x| x["resource"].get("id").is_none() && x["request"]["method"] == "POST"));
        assert_eq!(e[0]["fullUrl"], "urn:uuid:p");
    }
}
