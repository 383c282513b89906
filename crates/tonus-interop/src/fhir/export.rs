//! Domain records → FHIR R4 resources in a `collection` Bundle.

use jiff::civil::Date;
use jiff::{Span, Timestamp};
use serde_json::{json, Map, Value};
use tonus_domain::time::Zone;
use tonus_domain::RecordUid;
use tonus_domain::{
    CheckIn, ClinicalEvent, DoseLog, DoseStatus, Episode, EventKind, ExerciseSession, LocalInstant, Regimen, Schedule,
    Treatment,
};
use tonus_store::archive::PatientRecords;

use super::adverse::{side_effect, StatementRef, Statements};
use super::ids::uuid;
use super::ips::{
    claim, medication_concept, meets_ips, region_concept, IPS_CONDITION, IPS_MEDICATION_STATEMENT, IPS_PATIENT,
};
use super::patient::patient_resource_id;
use super::{
    cs, ext, id_system, obs, route_snomed, CONDITION_CATEGORY, CONDITION_CLINICAL, LOINC, LOINC_PAIN, OBS_CATEGORY,
    SCT_CRAMP, SCT_MS, SCT_SPASM, SNOMED, UCUM, URI_SYSTEM,
};
use super::{imaging, questionnaire};

/// An instant as FHIR `dateTime`: local time with the UTC offset it had then (see
/// [`crate::local_rfc3339`] for the offsets that cannot be written).
pub(crate) fn date_time(li: &LocalInstant) -> String {
    crate::local_rfc3339(li)
}

pub(super) fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({"system": system, "code": code, "display": display})
}

pub(super) fn concept(codings: Vec<Value>, text: &str) -> Value {
    json!({"coding": codings, "text": text})
}

fn tonus_concept(system: &str, code: &str, display: &str) -> Value {
    concept(vec![coding(&cs(system), code, display)], display)
}

pub(super) fn ext_string(name: &str, value: &str) -> Value {
    json!({"url": ext(name), "valueString": value})
}

pub(super) fn zone_ext(zone: &Zone) -> Value {
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

pub(super) struct Builder<'a> {
    handle: &'a str,
    patient_ref: String,
    /// Where each entry goes as soon as it is made: a file being written, so ten years of
    /// records never stand in memory as JSON at once.
    emit: &'a mut dyn FnMut(Value),
    /// The Patient meets IPS (a name and a birth date), so resources that meet their IPS
    /// profile may say so.
    ips: bool,
}

impl Builder<'_> {
    /// Adds a resource, giving it a stable id and fullUrl, from the record's uid when it
    /// has one (and then an identifier holding it, which an import reads back); returns its
    /// reference.
    fn add(&mut self, kind: &str, index: usize, uid: Option<RecordUid>, resource: Map<String, Value>) -> String {
        let id = uid.map_or_else(|| uuid(&[self.handle, kind, &index.to_string()]), |u| u.to_string());
        self.put(&id, uid.map(|u| u.urn()), resource)
    }

    /// The id of a resource made from a record (record `kind` number `index`, uid `uid`) as
    /// `name`: a check-in's QuestionnaireResponse, an MRI's DiagnosticReport. As stable as
    /// the record's own id, and never the same.
    pub(super) fn derived_id(&self, kind: &str, index: usize, uid: Option<RecordUid>, name: &str) -> String {
        match uid {
            Some(u) => uuid(&[&u.to_string(), name]),
            None => uuid(&[self.handle, kind, &index.to_string(), name]),
        }
    }

    /// Adds a resource made from a record (or the Questionnaire) under `id`. Its identifier
    /// is its own id, never the record's uid: an import reading that uid would take it for
    /// the record a second time, while a server's conditional create still finds it again.
    pub(super) fn add_derived(&mut self, id: &str, resource: Map<String, Value>) -> String {
        self.put(id, Some(format!("urn:uuid:{id}")), resource)
    }

    fn put(&mut self, id: &str, urn: Option<String>, mut resource: Map<String, Value>) -> String {
        resource.insert("id".into(), id.into());
        if let Some(u) = urn {
            let identifier = json!({"system": URI_SYSTEM, "value": u});
            // AdverseEvent.identifier and QuestionnaireResponse.identifier are a single
            // Identifier in R4; elsewhere a list, where the record's own comes first (a
            // statement also names its treatment).
            let single = matches!(
                resource.get("resourceType").and_then(Value::as_str),
                Some("AdverseEvent" | "QuestionnaireResponse")
            );
            match resource.get_mut("identifier") {
                Some(Value::Array(list)) => list.insert(0, identifier),
                _ if single => {
                    resource.insert("identifier".into(), identifier);
                }
                _ => {
                    resource.insert("identifier".into(), json!([identifier]));
                }
            }
        }
        let full = format!("urn:uuid:{id}");
        (self.emit)(json!({"fullUrl": full, "resource": Value::Object(resource)}));
        full
    }

    pub(super) fn subject(&self) -> Value {
        json!({"reference": self.patient_ref})
    }

    /// Whether resources may claim their IPS profile (the Patient meets IPS).
    pub(super) fn ips(&self) -> bool {
        self.ips
    }
}

pub(super) fn object(v: Value) -> Map<String, Value> {
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
            "valueCodeableConcept": region_concept(*r),
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
        // An episode is the patient's own report, like the check-in's scores: `survey`, the
        // category IPS and EHRs file patient-reported observations under.
        "category": [concept(vec![coding(OBS_CATEGORY, "survey", "Survey")], "Survey")],
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
        m.insert("bodySite".into(), region_concept(*only));
    }
    if !components.is_empty() {
        m.insert("component".into(), components.into());
    }
    put(&mut m, "note", notes(e.notes()));
    m
}

/// A check-in's answers as components, made from the same table as its
/// QuestionnaireResponse (see [`super::questionnaire`]), so the two never disagree.
fn checkin(b: &Builder, c: &CheckIn) -> Map<String, Value> {
    let components: Vec<Value> = questionnaire::answers(c)
        .into_iter()
        .map(|(q, a)| {
            let (key, value) = a.value();
            json!({"code": concept(vec![q.coding()], q.display), key: value})
        })
        .collect();
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
        if b.ips {
            claim(&mut m, IPS_CONDITION);
        }
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
/// A MedicationStatement: of regimen `r` of treatment `t`, or of `t` alone (no regimen yet).
/// Its own uid is the regimen's (or the treatment's); `treatment_uid` is given only beside
/// a regimen, as a Tonus identifier, so an import keeps the treatment's identity too.
fn statement(
    b: &Builder,
    t: &Treatment,
    r: Option<&Regimen>,
    treatment_uid: Option<RecordUid>,
    today: Date,
) -> Map<String, Value> {
    let status = match r {
        None => "intended",
        Some(r) if r.end().is_some_and(|e| e < today) => "completed",
        Some(_) => "active",
    };
    let mut m = object(json!({
        "resourceType": "MedicationStatement",
        "status": status,
        "category": tonus_concept("treatment-category", t.category().code(), t.category().label()),
        "medicationCodeableConcept": medication_concept(t),
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
        // IPS needs `effective[x]`, which a treatment without a regimen does not have.
        if b.ips {
            claim(&mut m, IPS_MEDICATION_STATEMENT);
        }
    }
    put(&mut m, "note", notes(t.notes()));
    if let Some(u) = treatment_uid {
        m.insert(
            "identifier".into(),
            json!([{"system": id_system("treatment"), "value": u.urn()}]),
        );
    }
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
        "medicationCodeableConcept": medication_concept(t),
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

/// The whole Bundle for one patient, in memory (the REST endpoint and the web download);
/// files are written entry by entry with [`super::write_bundle`].
pub fn export_bundle(handle: &str, zone: &Zone, records: &PatientRecords, now: Timestamp) -> Value {
    let mut entries = Vec::new();
    export_entries(handle, zone, records, now, &mut |e| entries.push(e));
    let mut bundle = bundle_header(handle, now);
    bundle.insert("entry".into(), entries.into());
    Value::Object(bundle)
}

/// The Bundle's own elements, without its entries.
pub fn bundle_header(handle: &str, now: Timestamp) -> Map<String, Value> {
    object(json!({
        "resourceType": "Bundle",
        "id": uuid(&[handle, "bundle", &now.to_string()]),
        // `source` names the installation whose code systems the bundle uses, so another
        // installation's import can map them onto its own.
        "meta": {"lastUpdated": now.to_string(), "source": super::base()},
        "type": "collection",
        "timestamp": now.to_string(),
    }))
}

/// Every entry of one patient's Bundle, in order, each passed to `emit` as it is made.
/// `now` decides which regimens are still active.
pub fn export_entries(
    handle: &str,
    zone: &Zone,
    records: &PatientRecords,
    now: Timestamp,
    emit: &mut dyn FnMut(Value),
) {
    let ips = meets_ips(records.identity.as_ref());
    let mut b = Builder {
        handle,
        patient_ref: String::new(),
        emit,
        ips,
    };
    let mut patient = object(super::patient::resource(
        handle,
        records.identity.as_ref(),
        zone_ext(zone),
    ));
    if ips {
        claim(&mut patient, IPS_PATIENT);
    }
    b.patient_ref = b.add("patient", 0, None, patient);
    debug_assert_eq!(b.patient_ref, format!("urn:uuid:{}", patient_resource_id(handle)));
    let today = tonus_domain::time::today(zone, now);
    for (i, e) in records.episodes.iter().enumerate() {
        let r = episode(&b, e);
        b.add("episode", i, records.uids.episodes.get(i).copied(), r);
    }
    // The Questionnaire the check-ins' QuestionnaireResponses answer, once.
    if !records.checkins.is_empty() {
        b.add_derived(&questionnaire::id(), questionnaire::questionnaire());
    }
    for (i, c) in records.checkins.iter().enumerate() {
        let uid = records.uids.checkins.get(i).copied();
        let response = b.derived_id("checkin", i, uid, questionnaire::RESPONSE);
        let mut r = checkin(&b, c);
        r.insert(
            "derivedFrom".into(),
            json!([{"reference": format!("urn:uuid:{response}")}]),
        );
        b.add("checkin", i, uid, r);
        let r = questionnaire::response(&b, c);
        b.add_derived(&response, r);
    }
    let mut statements = Statements::default();
    for (i, t) in records.treatments.iter().enumerate() {
        let (_, refs) = statements
            .by_name
            .entry(t.treatment.name().to_lowercase())
            .or_insert_with(|| (t.treatment.name().to_string(), Vec::new()));
        if t.regimens.is_empty() {
            let r = statement(&b, &t.treatment, None, None, today);
            refs.push(StatementRef {
                reference: b.add("regimen", i * 1000, t.uid, r),
                period: None,
            });
        }
        for (j, rr) in t.regimens.iter().enumerate() {
            let r = statement(&b, &t.treatment, Some(&rr.regimen), t.uid, today);
            let reference = b.add("regimen", i * 1000 + j + 1, rr.uid, r);
            refs.push(StatementRef {
                reference: reference.clone(),
                period: Some((rr.regimen.start(), rr.regimen.end())),
            });
            for (k, d) in rr.doses.iter().enumerate() {
                let r = administration(&b, &t.treatment, &rr.regimen, &reference, d);
                b.add("dose", (i * 1000 + j) * 1_000_000 + k, rr.dose_uids.get(k).copied(), r);
            }
        }
    }
    for (i, s) in records.exercise.iter().enumerate() {
        let r = exercise(&b, s);
        b.add("exercise", i, records.uids.exercise.get(i).copied(), r);
    }
    for (i, e) in records.events.iter().enumerate() {
        let uid = records.uids.events.get(i).copied();
        let r = event(&b, e);
        let observation = b.add("event", i, uid, r);
        if let EventKind::Mri { region, .. } = e.kind() {
            let id = b.derived_id("event", i, uid, imaging::REPORT);
            let r = imaging::report(&b, e, *region, &observation);
            b.add_derived(&id, r);
        }
    }
    for (i, s) in records.side_effects.iter().enumerate() {
        let suspect = s
            .suspected_treatment()
            .map(|name| statements.suspect(name, s.at().local_date()));
        let r = side_effect(&b, s, suspect);
        b.add("side-effect", i, records.uids.side_effects.get(i).copied(), r);
    }
}
