//! The Patient resource: the handle as an identifier of this installation, and the identity
//! the patient gave for filing (name, birth date, administrative gender, identifiers), both
//! ways.

use serde_json::{json, Value};
use tonus_domain::{AdministrativeSex, PatientIdentifier, PatientIdentity, ValidationError};

use super::export::{object, zone_ext};
use super::id_system;
use super::ids::uuid;
use super::ips::{claim, meets_ips, IPS_PATIENT};
use tonus_domain::time::Zone;

/// The Patient: the handle as an identifier of this installation, and what the patient gave
/// for filing (name, birth date, administrative gender, their own identifiers first).
pub(super) fn resource(handle: &str, identity: Option<&PatientIdentity>, zone_ext: Value) -> Value {
    let mut identifiers: Vec<Value> = identity
        .map(|i| {
            i.identifiers
                .iter()
                .map(|x| json!({"system": x.system, "value": x.value}))
                .collect()
        })
        .unwrap_or_default();
    identifiers.push(json!({"system": id_system("patient-handle"), "value": handle}));
    let mut p = json!({
        "resourceType": "Patient",
        "extension": [zone_ext],
        "identifier": identifiers,
    });
    if let Some(i) = identity {
        if let Some(name) = &i.name {
            p["name"] = json!([{"text": name}]);
        }
        if let Some(d) = i.birth_date {
            p["birthDate"] = json!(d.to_string());
        }
        if let Some(sex) = i.sex {
            p["gender"] = json!(sex.code());
        }
    }
    p
}

/// What a Patient says for filing: the first name (its text, else given and family names),
/// a full birth date, the administrative gender and the identifiers that name their system
/// (not Tonus's own handle). Identifiers another system sent without a usable system URI
/// are left out rather than guessed; a partial birth date is left out rather than invented.
pub(super) fn identity(p: &Value, handle_system: &str) -> Result<Option<PatientIdentity>, ValidationError> {
    let name = p
        .get("name")
        .and_then(Value::as_array)
        .and_then(|names| names.first())
        .and_then(|n| {
            n.get("text").and_then(Value::as_str).map(str::to_string).or_else(|| {
                let given: Vec<&str> = n
                    .get("given")
                    .and_then(Value::as_array)
                    .map(|g| g.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let family = n.get("family").and_then(Value::as_str);
                let all: Vec<&str> = given.into_iter().chain(family).collect();
                (!all.is_empty()).then(|| all.join(" "))
            })
        });
    let birth_date = p
        .get("birthDate")
        .and_then(Value::as_str)
        .and_then(|d| d.parse::<jiff::civil::Date>().ok());
    let sex = p
        .get("gender")
        .and_then(Value::as_str)
        .map(AdministrativeSex::parse)
        .transpose()?;
    let mut identifiers: Vec<PatientIdentifier> = p
        .get("identifier")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(|i| {
                    let system = i.get("system").and_then(Value::as_str)?;
                    let value = i.get("value").and_then(Value::as_str)?;
                    (system != handle_system).then(|| PatientIdentifier::new(system, value).ok())?
                })
                .collect()
        })
        .unwrap_or_default();
    // One per system (the first), at most the domain's number.
    let mut seen = std::collections::HashSet::new();
    identifiers.retain(|i| seen.insert(i.system.clone()));
    identifiers.truncate(tonus_domain::identity::MAX_IDENTIFIERS);
    let identity = PatientIdentity::new(
        name.as_deref(),
        birth_date,
        sex,
        identifiers,
        &tonus_domain::time::Zone::utc(),
        jiff::Timestamp::MAX,
    )?;
    Ok((!identity.is_empty()).then_some(identity))
}

/// The id of `handle`'s Patient resource, the same in every export and on the REST endpoint.
pub fn patient_resource_id(handle: &str) -> String {
    uuid(&[handle, "patient", "0"])
}

/// The Patient resource alone, as the export writes it (for the REST endpoint).
pub fn patient_resource(handle: &str, zone: &Zone, identity: Option<&PatientIdentity>) -> Value {
    let mut p = object(resource(handle, identity, zone_ext(zone)));
    if meets_ips(identity) {
        claim(&mut p, IPS_PATIENT);
    }
    p.insert("id".into(), patient_resource_id(handle).into());
    Value::Object(p)
}
