//! Side effects → FHIR R4 `AdverseEvent`s, and the MedicationStatement each one's suspected
//! treatment points at.

use jiff::civil::Date;
use serde_json::{json, Map, Value};
use tonus_domain::SideEffect;

use super::export::{coding, concept, date_time, ext_string, object, zone_ext, Builder};
use super::{cs, effect_snomed, AE_NOTE_EXT, AE_SEVERITY, SNOMED};

/// A side effect as an `AdverseEvent` that actually happened (`actuality` actual), recorded
/// by the patient. `suspect` is the reference and name of the MedicationStatement of the
/// treatment the patient suspects. R4 has no `category` code for "a drug's side effect"
/// (its codes are product problems and use errors), so none is given.
pub(super) fn side_effect(b: &Builder, s: &SideEffect, suspect: Option<(Option<&str>, &str)>) -> Map<String, Value> {
    let mut codings = Vec::new();
    if let Some((code, display)) = effect_snomed(s.effect()) {
        codings.push(coding(SNOMED, code, display));
    }
    codings.push(coding(&cs("side-effect"), s.effect().code(), s.effect().label()));
    let mut extension = vec![zone_ext(&s.at().zone)];
    if let Some(d) = s.description() {
        extension.push(ext_string("side-effect-description", d));
    }
    if let Some(n) = s.note() {
        extension.push(json!({"url": AE_NOTE_EXT, "valueAnnotation": {"text": n}}));
    }
    let severity = s.severity();
    let mut label = severity.label().to_string();
    if let Some(first) = label.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    let mut m = object(json!({
        "resourceType": "AdverseEvent",
        "extension": extension,
        "actuality": "actual",
        "event": concept(codings, s.what()),
        "subject": b.subject(),
        "date": date_time(s.at()),
        // The patient noted it; no clinician has assessed it.
        "recorder": b.subject(),
        "severity": concept(vec![coding(AE_SEVERITY, severity.code(), &label)], severity.label()),
    }));
    if let Some((reference, name)) = suspect {
        let mut instance = json!({"display": name});
        if let Some(r) = reference {
            instance["reference"] = r.into();
        }
        // Only the patient's suspicion: no causality assessment is claimed.
        m.insert("suspectEntity".into(), json!([{"instance": instance}]));
    }
    m
}

/// One exported MedicationStatement: its reference, and its regimen's first and last day
/// (none for a treatment without a regimen).
pub(super) struct StatementRef {
    pub(super) reference: String,
    pub(super) period: Option<(Date, Option<Date>)>,
}

/// The MedicationStatement a side effect's suspected treatment points at: the regimen in
/// effect on the day it was felt, else the latest that started before, else the first.
#[derive(Default)]
pub(super) struct Statements {
    /// Lower-case treatment name → (the name as stored, its statements in export order).
    pub(super) by_name: std::collections::HashMap<String, (String, Vec<StatementRef>)>,
}

impl Statements {
    pub(super) fn suspect<'a>(&'a self, name: &'a str, day: Date) -> (Option<&'a str>, &'a str) {
        let Some((stored_name, statements)) = self.by_name.get(&name.to_lowercase()) else {
            return (None, name);
        };
        let in_effect = statements.iter().find(|s| {
            s.period
                .is_some_and(|(start, end)| start <= day && end.is_none_or(|e| day <= e))
        });
        let before = statements
            .iter()
            .filter(|s| s.period.is_some_and(|(start, _)| start <= day))
            .max_by_key(|s| s.period.map(|(start, _)| start));
        let chosen = in_effect.or(before).or(statements.first());
        (chosen.map(|s| s.reference.as_str()), stored_name.as_str())
    }
}
