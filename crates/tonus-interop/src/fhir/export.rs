//! Domain records → FHIR R4 resources in a `collection` Bundle.

use jiff::civil::Date;
use jiff::{Span, Timestamp};
use serde_json::{json, Map, Value};
use tonus_domain::time::Zone;
use tonus_domain::{
    CheckIn, ClinicalEvent, DoseLog, DoseStatus, Episode, EventKind, ExerciseSession, LocalInstant, Regimen, Schedule,
    SideEffect, Treatment,
};
use tonus_store::archive::PatientRecords;

use super::{
    cs, effect_snomed, ext, obs, route_snomed, AE_NOTE_EXT, AE_SEVERITY, CONDITION_CATEGORY, CONDITION_CLINICAL, LOINC,
    LOINC_PAIN, OBS_CATEGORY, SCT_CRAMP, SCT_MS, SCT_SPASM, SNOMED, UCUM,
};

/// A deterministic UUID-shaped id from the patient and the record's position, so the same
/// data gives the same bundle (diffable, and stable for a receiving system).
fn uuid(parts: &[&str]) -> String {
    let hash = |salt: u64| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
        for p in parts {
            for b in p.bytes().chain(std::iter::once(0x1f)) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        h
    };
    let (a, b) = (hash(1), hash(2));
    format!(
        "{:08x}-{:04x}-5{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// An instant as FHIR `dateTime`: local time with the UTC offset it had then (see
/// [`crate::local_rfc3339`] for the offsets that cannot be written).
pub(crate) fn date_time(li: &LocalInstant) -> String {
    crate::local_rfc3339(li)
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({"system": system, "code": code, "display": display})
}

fn concept(codings: Vec<Value>, text: &str) -> Value {
    json!({"coding": codings, "text": text})
}

fn tonus_concept(system: &str, code: &str, display: &str) -> Value {
    concept(vec![coding(&cs(system), code, display)], display)
}

fn ext_string(name: &str, value: &str) -> Value {
    json!({"url": ext(name), "valueString": value})
}

fn zone_ext(zone: &Zone) -> Value {
    ext_string("time-zone", zone.name())
}

fn notes(text: Option<&str>) -> Option<Value> {
    text.map(|t| json!([{"text": t}]))
}

fn int_component(system: &str, code: &str, display: &str, value: impl Into<i64>) -> Value {
    json!({"code": concept(vec![coding(system, code, display)], display), "valueInteger": value.into()})
}

fn tonus_int(code: &str, display: &str, value: impl Into<i64>) -> Value {
    int_component(&cs("observation"), code, display, value)
}

struct Builder<'a> {
    handle: &'a str,
    patient_ref: String,
    entries: Vec<Value>,
}

impl Builder<'_> {
    /// Adds a resource, giving it a stable id and fullUrl; returns its reference.
    fn add(&mut self, kind: &str, index: usize, mut resource: Map<String, Value>) -> String {
        let id = uuid(&[self.handle, kind, &index.to_string()]);
        resource.insert("id".into(), id.clone().into());
        let full = format!("urn:uuid:{id}");
        self.entries
            .push(json!({"fullUrl": full, "resource": Value::Object(resource)}));
        full
    }

    fn subject(&self) -> Value {
        json!({"reference": self.patient_ref})
    }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Inserts `key: value` when `value` is `Some`.
fn put(m: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        m.insert(key.into(), v);
    }
}

fn episode(b: &Builder, e: &Episode) -> Map<String, Value> {
    let (sct, sct_display) = match e.kind() {
        tonus_domain::SpasmKind::Cramp => (SCT_CRAMP, "Cramp"),
        _ => (SCT_SPASM, "Spasm"),
    };
    let mut period = json!({"start": date_time(e.started_at())});
    if let Some(d) = e.duration_s() {
        let end = LocalInstant {
            at: e.started_at().at + Span::new().seconds(i64::from(d)),
            zone: e.started_at().zone.clone(),
        };
        period["end"] = date_time(&end).into();
    }
    let mut components: Vec<Value> = Vec::new();
    if let Some(p) = e.pain() {
        components.push(int_component(
            LOINC,
            LOINC_PAIN,
            "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
            p.value(),
        ));
    }
    for r in e.regions() {
        components.push(json!({
            "code": tonus_concept("observation", obs::REGION, "body region"),
            "valueCodeableConcept": tonus_concept("body-region", r.code(), r.label()),
        }));
    }
    for t in e.triggers() {
        components.push(json!({
            "code": tonus_concept("observation", obs::TRIGGER, "trigger"),
            "valueCodeableConcept": tonus_concept("trigger", t.code(), t.label()),
        }));
    }
    let mut extension = vec![zone_ext(&e.started_at().zone)];
    if let Some(n) = e.trigger_note() {
        extension.push(ext_string("trigger-note", n));
    }
    let mut m = object(json!({
        "resourceType": "Observation",
        "extension": extension,
        // Patient-reported and still editable in Tonus: never "final".
        "status": "preliminary",
        "code": concept(
            vec![
                coding(SNOMED, sct, sct_display),
                coding(&cs("spasm-kind"), e.kind().code(), e.kind().label()),
                coding(&cs("observation"), obs::EPISODE, "spasm episode"),
            ],
            e.kind().label(),
        ),
        "subject": b.subject(),
        "performer": [b.subject()],
        "effectivePeriod": period,
        // When the patient entered it; an entry made long after is less reliable.
        "issued": e.recorded_at().to_string(),
    }));
    if let [only] = e.regions() {
        m.insert(
            "bodySite".into(),
            tonus_concept("body-region", only.code(), only.label()),
        );
    }
    if !components.is_empty() {
        m.insert("component".into(), components.into());
    }
    put(&mut m, "note", notes(e.notes()));
    m
}

fn checkin(b: &Builder, c: &CheckIn) -> Map<String, Value> {
    let mut components = Vec::new();
    if let Some(v) = c.spasticity_nrs() {
        components.push(tonus_int(obs::SPASTICITY, "spasticity NRS, last 24 hours (0-10)", v));
    }
    if let Some(v) = c.pain_nrs() {
        components.push(int_component(
            LOINC,
            LOINC_PAIN,
            "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
            v,
        ));
    }
    if let Some(v) = c.psfs_frequency() {
        components.push(tonus_int(
            obs::PSFS_FREQUENCY,
            "Penn Spasm Frequency Scale, frequency (0-4)",
            v.value(),
        ));
    }
    if let Some(v) = c.psfs_severity() {
        components.push(tonus_int(
            obs::PSFS_SEVERITY,
            "Penn Spasm Frequency Scale, severity (1-3)",
            v.value(),
        ));
    }
    if let Some(v) = c.night_wakings() {
        components.push(tonus_int(obs::NIGHT_WAKINGS, "night wakings from spasms", v));
    }
    components.push(json!({
        "code": tonus_concept("observation", obs::LOG_COMPLETE, "episode log complete for the day"),
        "valueBoolean": c.log_complete(),
    }));
    let mut m = object(json!({
        "resourceType": "Observation",
        "status": "preliminary",
        "category": [concept(vec![coding(OBS_CATEGORY, "survey", "Survey")], "Survey")],
        "code": tonus_concept("observation", obs::CHECKIN, "daily check-in"),
        "subject": b.subject(),
        "performer": [b.subject()],
        "effectiveDateTime": c.date().to_string(),
        "component": components,
    }));
    put(&mut m, "note", notes(c.note()));
    m
}

fn exercise(b: &Builder, s: &ExerciseSession) -> Map<String, Value> {
    let mut m = object(json!({
        "resourceType": "Observation",
        "extension": [zone_ext(&s.at().zone)],
        "status": "preliminary",
        "category": [concept(vec![coding(OBS_CATEGORY, "activity", "Activity")], "Activity")],
        "code": tonus_concept("observation", obs::EXERCISE, "exercise session"),
        "subject": b.subject(),
        "performer": [b.subject()],
        "effectiveDateTime": date_time(s.at()),
        "component": [
            {
                "code": tonus_concept("observation", obs::EXERCISE_TYPE, "exercise type"),
                "valueCodeableConcept": tonus_concept("exercise-type", s.exercise_type().code(), s.exercise_type().label()),
            },
            {
                "code": tonus_concept("observation", obs::MINUTES, "exercise duration"),
                "valueQuantity": {"value": s.minutes(), "unit": "min", "system": UCUM, "code": "min"},
            },
            tonus_int(obs::EXERTION, "perceived exertion (0-10)", s.exertion()),
        ],
    }));
    put(&mut m, "note", notes(s.note()));
    m
}

/// Clinical events: the diagnosis becomes a Condition (MS); everything else an Observation
/// coded with the Tonus event kind. MRI lesion counts are components.
fn event(b: &Builder, e: &ClinicalEvent) -> Map<String, Value> {
    if matches!(e.kind(), EventKind::Diagnosis) {
        let mut m = object(json!({
            "resourceType": "Condition",
            "clinicalStatus": concept(vec![coding(CONDITION_CLINICAL, "active", "Active")], "Active"),
            // No verificationStatus: the date is the patient's own account, not a record
            // we have checked, and "confirmed" would claim more than we know.
            "category": [concept(vec![coding(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")], "Problem List Item")],
            "code": concept(vec![coding(SNOMED, SCT_MS, "Multiple sclerosis")], "Multiple sclerosis"),
            "subject": b.subject(),
            "asserter": b.subject(),
            // The diagnosis date; onset of MS may be years earlier and is not known here.
            "recordedDate": e.on().to_string(),
        }));
        put(&mut m, "note", notes(e.summary()));
        return m;
    }
    let (code, display, category) = match e.kind() {
        EventKind::Mri { .. } => ("mri", "MRI", Some(("imaging", "Imaging"))),
        EventKind::Relapse => ("relapse", "relapse", None),
        EventKind::Infection => ("infection", "infection", None),
        EventKind::Other { .. } => ("other", "other event", None),
        EventKind::Diagnosis => ("diagnosis", "diagnosis", None),
    };
    let mut m = object(json!({
        "resourceType": "Observation",
        "status": "preliminary",
        "code": tonus_concept("event-kind", code, display),
        "subject": b.subject(),
    }));
    if let Some((c, d)) = category {
        m.insert("category".into(), json!([concept(vec![coding(OBS_CATEGORY, c, d)], d)]));
    }
    match e.until() {
        Some(u) => m.insert(
            "effectivePeriod".into(),
            json!({"start": e.on().to_string(), "end": u.to_string()}),
        ),
        None => m.insert("effectiveDateTime".into(), e.on().to_string().into()),
    };
    match e.kind() {
        EventKind::Mri {
            region,
            lesions_total,
            lesions_new,
            lesions_enhancing,
        } => {
            m.insert(
                "bodySite".into(),
                tonus_concept("mri-region", region.code(), region.label()),
            );
            let mut components = Vec::new();
            for (code, display, v) in [
                (obs::LESIONS_TOTAL, "lesions, total", lesions_total),
                (obs::LESIONS_NEW, "lesions, new", lesions_new),
                (
                    obs::LESIONS_ENHANCING,
                    "lesions, gadolinium-enhancing",
                    lesions_enhancing,
                ),
            ] {
                if let Some(v) = v {
                    components.push(tonus_int(code, display, *v));
                }
            }
            if !components.is_empty() {
                m.insert("component".into(), components.into());
            }
        }
        EventKind::Other { name } => {
            m.insert("valueString".into(), name.clone().into());
        }
        _ => {}
    }
    put(&mut m, "note", notes(e.summary()));
    m
}

fn dosage(r: &Regimen) -> Value {
    let mut d = Map::new();
    let repeat = match r.schedule() {
        Schedule::TimesPerDay(n) => Some(json!({"frequency": n, "period": 1, "periodUnit": "d"})),
        Schedule::EveryDays(n) => Some(json!({"frequency": 1, "period": n, "periodUnit": "d"})),
        Schedule::EveryWeeks(n) => Some(json!({"frequency": 1, "period": n, "periodUnit": "wk"})),
        Schedule::AsNeeded => None,
    };
    match repeat {
        Some(rep) => d.insert("timing".into(), json!({"repeat": rep})),
        None => d.insert("asNeededBoolean".into(), true.into()),
    };
    d.insert("text".into(), r.schedule().code().into());
    if let Some(route) = r.route() {
        let (code, display) = route_snomed(route);
        d.insert(
            "route".into(),
            concept(
                vec![
                    coding(SNOMED, code, display),
                    coding(&cs("route"), route.code(), route.label()),
                ],
                route.label(),
            ),
        );
    }
    if let Some(dose) = r.dose() {
        d.insert(
            "doseAndRate".into(),
            json!([{"doseQuantity": {"value": dose.amount(), "unit": dose.unit().label(), "system": UCUM, "code": dose.unit().code()}}]),
        );
    }
    Value::Object(d)
}

/// One MedicationStatement per regimen (or one with status `intended` for a treatment with
/// no regimen yet). Exercise programmes and "other" treatments use the same resource with
/// their Tonus category, so one importer handles every treatment.
fn statement(b: &Builder, t: &Treatment, r: Option<&Regimen>, today: Date) -> Map<String, Value> {
    let status = match r {
        None => "intended",
        Some(r) if r.end().is_some_and(|e| e < today) => "completed",
        Some(_) => "active",
    };
    let mut m = object(json!({
        "resourceType": "MedicationStatement",
        "status": status,
        "category": tonus_concept("treatment-category", t.category().code(), t.category().label()),
        "medicationCodeableConcept": {"text": t.name()},
        "subject": b.subject(),
        // The patient told us; no prescription record stands behind it.
        "informationSource": b.subject(),
    }));
    if let Some(r) = r {
        let mut period = json!({"start": r.start().to_string()});
        if let Some(e) = r.end() {
            period["end"] = e.to_string().into();
        }
        m.insert("effectivePeriod".into(), period);
        m.insert("dosage".into(), json!([dosage(r)]));
    }
    put(&mut m, "note", notes(t.notes()));
    m
}

fn administration(b: &Builder, t: &Treatment, r: &Regimen, statement_ref: &str, d: &DoseLog) -> Map<String, Value> {
    let status = match d.status() {
        DoseStatus::Taken | DoseStatus::Late => "completed",
        DoseStatus::Missed => "not-done",
    };
    let mut m = object(json!({
        "resourceType": "MedicationAdministration",
        "extension": [zone_ext(&d.at().zone), {"url": ext("dose-status"), "valueCode": d.status().code()}],
        "status": status,
        "medicationCodeableConcept": {"text": t.name()},
        "subject": b.subject(),
        "effectiveDateTime": date_time(d.at()),
        "supportingInformation": [{"reference": statement_ref}],
    }));
    if d.status() == DoseStatus::Missed {
        m.insert("statusReason".into(), json!([{"text": "missed"}]));
    }
    let dose = dosage(r);
    let mut admin_dosage = Map::new();
    put(&mut admin_dosage, "route", dose.get("route").cloned());
    put(
        &mut admin_dosage,
        "dose",
        dose.pointer("/doseAndRate/0/doseQuantity").cloned(),
    );
    if !admin_dosage.is_empty() {
        m.insert("dosage".into(), Value::Object(admin_dosage));
    }
    put(&mut m, "note", notes(d.note()));
    m
}

/// A side effect as an `AdverseEvent` that actually happened (`actuality` actual), recorded
/// by the patient. `suspect` is the reference and name of the MedicationStatement of the
/// treatment the patient suspects. R4 has no `category` code for "a drug's side effect"
/// (its codes are product problems and use errors), so none is given.
fn side_effect(b: &Builder, s: &SideEffect, suspect: Option<(Option<&str>, &str)>) -> Map<String, Value> {
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
struct StatementRef {
    reference: String,
    period: Option<(Date, Option<Date>)>,
}

/// The MedicationStatement a side effect's suspected treatment points at: the regimen in
/// effect on the day it was felt, else the latest that started before, else the first.
#[derive(Default)]
struct Statements {
    /// Lower-case treatment name → (the name as stored, its statements in export order).
    by_name: std::collections::HashMap<String, (String, Vec<StatementRef>)>,
}

impl Statements {
    fn suspect<'a>(&'a self, name: &'a str, day: Date) -> (Option<&'a str>, &'a str) {
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

/// The whole Bundle for one patient. `now` stamps the bundle and decides which regimens
/// are still active.
pub fn export_bundle(handle: &str, zone: &Zone, records: &PatientRecords, now: Timestamp) -> Value {
    let mut b = Builder {
        handle,
        patient_ref: String::new(),
        entries: Vec::new(),
    };
    let patient = object(super::patient::resource(
        handle,
        records.identity.as_ref(),
        zone_ext(zone),
    ));
    b.patient_ref = b.add("patient", 0, patient);
    let today = tonus_domain::time::today(zone, now);
    for (i, e) in records.episodes.iter().enumerate() {
        let r = episode(&b, e);
        b.add("episode", i, r);
    }
    for (i, c) in records.checkins.iter().enumerate() {
        let r = checkin(&b, c);
        b.add("checkin", i, r);
    }
    let mut statements = Statements::default();
    for (i, t) in records.treatments.iter().enumerate() {
        let (_, refs) = statements
            .by_name
            .entry(t.treatment.name().to_lowercase())
            .or_insert_with(|| (t.treatment.name().to_string(), Vec::new()));
        if t.regimens.is_empty() {
            let r = statement(&b, &t.treatment, None, today);
            refs.push(StatementRef {
                reference: b.add("regimen", i * 1000, r),
                period: None,
            });
        }
        for (j, rr) in t.regimens.iter().enumerate() {
            let r = statement(&b, &t.treatment, Some(&rr.regimen), today);
            let reference = b.add("regimen", i * 1000 + j + 1, r);
            refs.push(StatementRef {
                reference: reference.clone(),
                period: Some((rr.regimen.start(), rr.regimen.end())),
            });
            for (k, d) in rr.doses.iter().enumerate() {
                let r = administration(&b, &t.treatment, &rr.regimen, &reference, d);
                b.add("dose", (i * 1000 + j) * 1_000_000 + k, r);
            }
        }
    }
    for (i, s) in records.exercise.iter().enumerate() {
        let r = exercise(&b, s);
        b.add("exercise", i, r);
    }
    for (i, e) in records.events.iter().enumerate() {
        let r = event(&b, e);
        b.add("event", i, r);
    }
    for (i, s) in records.side_effects.iter().enumerate() {
        let suspect = s
            .suspected_treatment()
            .map(|name| statements.suspect(name, s.at().local_date()));
        let r = side_effect(&b, s, suspect);
        b.add("side-effect", i, r);
    }
    json!({
        "resourceType": "Bundle",
        "id": uuid(&[handle, "bundle", &now.to_string()]),
        "meta": {"lastUpdated": now.to_string()},
        "type": "collection",
        "timestamp": now.to_string(),
        "entry": b.entries,
    })
}
