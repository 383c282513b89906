//! FHIR R4 Bundle → domain records, through the domain constructors. Reads what
//! [`super::export_bundle`] writes; resources it does not recognise (another system's
//! Observations, say) are skipped and counted, never guessed at.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::Timestamp;
use serde_json::Value;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::time::Zone;
use tonus_domain::{
    ClinicalEvent, DoseLog, DoseStatus, Effect, Episode, EventKind, ExerciseSession, ExerciseType, LocalInstant,
    MriRegion, Pain, RecordUid, Region, Schedule, Severity, SideEffect, SpasmKind, Trigger, ValidationError,
};

use super::report::{Place, SkipReason};
use super::{cs, effect_snomed, ext, obs, AE_NOTE_EXT, AE_SEVERITY, LOINC, LOINC_PAIN, SNOMED};
use crate::InteropError;

/// A resource with its place in the bundle, for error messages.
pub(super) struct Res<'a> {
    pub(super) at: String,
    pub(super) place: Place,
    pub(super) r: &'a Value,
}

pub(super) type R<T> = Result<T, InteropError>;

/// A resource's identifiers: a list in most resources, one in some (AdverseEvent in R4).
fn identifiers(r: &Value) -> impl Iterator<Item = &Value> {
    let list: &[Value] = match r.get("identifier") {
        Some(Value::Array(list)) => list,
        Some(one) => std::slice::from_ref(one),
        None => &[],
    };
    list.iter()
}

impl<'a> Res<'a> {
    pub(super) fn new(place: Place, r: &'a Value) -> Self {
        Self {
            at: place.to_string(),
            place,
            r,
        }
    }

    pub(super) fn missing(&self, what: &str) -> InteropError {
        InteropError::Fhir(format!("{}: {what} is missing or malformed", self.at))
    }

    pub(super) fn invalid(&self, e: ValidationError) -> InteropError {
        InteropError::invalid(self.at.clone(), e)
    }

    pub(super) fn str(&self, pointer: &str) -> Option<&'a str> {
        self.r.pointer(pointer).and_then(Value::as_str)
    }

    pub(super) fn req(&self, pointer: &str) -> R<&'a str> {
        self.str(pointer).ok_or_else(|| self.missing(pointer))
    }

    pub(super) fn extension(&self, name: &str) -> Option<&'a Value> {
        let url = ext(name);
        self.r
            .get("extension")?
            .as_array()?
            .iter()
            .find(|e| e.get("url").and_then(Value::as_str) == Some(url.as_str()))
    }

    pub(super) fn ext_str(&self, name: &str) -> Option<&'a str> {
        self.extension(name)
            .and_then(|e| e.get("valueString").or_else(|| e.get("valueCode")))
            .and_then(Value::as_str)
    }

    pub(super) fn zone(&self, default: &Zone) -> R<Zone> {
        self.ext_str("time-zone")
            .map_or_else(|| Ok(default.clone()), |z| Zone::parse(z).map_err(|e| self.invalid(e)))
    }

    /// The record's uid (issue #13): as Tonus exports it, an identifier of system
    /// `urn:ietf:rfc:3986` whose value is `urn:uuid:…`, else the resource id when that is a
    /// UUID, else one derived from the resource (see [`Self::derived_uid`]). Importing the
    /// same resource again then finds the record it made, and skips it.
    pub(super) fn uid(&self) -> Option<RecordUid> {
        self.uid_in(super::URI_SYSTEM)
            .or_else(|| self.place.id.as_deref().and_then(|id| RecordUid::parse(id).ok()))
            .or_else(|| self.derived_uid())
    }

    /// Another system's record has no uid of ours, but it has an identity of its own: its
    /// first business identifier with a system names it across versions (an updated
    /// resource is still the same record, so it is skipped, never doubled); without one,
    /// its content (less `meta`, which a server rewrites on every read) does, so the same
    /// file read twice is stored once while a different resource is always new.
    fn derived_uid(&self) -> Option<RecordUid> {
        let kind = self.place.resource_type.as_str();
        let business = identifiers(self.r).find_map(|i| {
            let system = i.get("system").and_then(Value::as_str)?;
            let value = i.get("value").and_then(Value::as_str)?;
            Some((system, value))
        });
        let id = match business {
            Some((system, value)) => super::ids::uuid(&["identifier", kind, system, value]),
            None => {
                // Keys are sorted (a BTreeMap here, serde_json's map below it), so the text
                // is the same however the file ordered them.
                let content: std::collections::BTreeMap<&String, &Value> = self
                    .r
                    .as_object()
                    .map(|o| o.iter().filter(|(k, _)| *k != "meta").collect())
                    .unwrap_or_default();
                let text = serde_json::to_string(&content).ok()?;
                super::ids::uuid(&["content", kind, &text])
            }
        };
        RecordUid::parse(&id).ok()
    }

    /// The first `urn:uuid:` value of an identifier of `system`.
    pub(super) fn uid_in(&self, system: &str) -> Option<RecordUid> {
        identifiers(self.r)
            .filter(|i| i.get("system").and_then(Value::as_str) == Some(system))
            .filter_map(|i| i.get("value").and_then(Value::as_str))
            .filter(|v| v.starts_with("urn:uuid:"))
            .find_map(|v| RecordUid::parse(v).ok())
    }

    pub(super) fn note(&self) -> Option<&'a str> {
        self.str("/note/0/text")
    }

    pub(super) fn instant(&self, pointer: &str, zone: &Zone) -> R<LocalInstant> {
        let text = self.req(pointer)?;
        let at: Timestamp = text.parse().map_err(|_| {
            self.invalid(ValidationError::new(
                pointer,
                "a FHIR dateTime with time and offset",
                format!("{text:?}"),
            ))
        })?;
        Ok(LocalInstant { at, zone: zone.clone() })
    }

    pub(super) fn date(&self, pointer: &str) -> R<Date> {
        let text = self.req(pointer)?;
        text.get(..10)
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| self.invalid(ValidationError::new(pointer, "a date YYYY-MM-DD", format!("{text:?}"))))
    }

    pub(super) fn components(&self) -> &'a [Value] {
        self.r
            .get("component")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// Components whose code has `code` in `system`.
    pub(super) fn component_values(&self, system: &str, code: &str) -> Vec<&'a Value> {
        self.components()
            .iter()
            .filter(|c| code_in(c.get("code"), system) == Some(code))
            .collect()
    }

    pub(super) fn int_component(&self, system: &str, code: &str) -> Option<i64> {
        self.component_values(system, code)
            .first()
            .and_then(|c| c.get("valueInteger"))
            .and_then(Value::as_i64)
    }
}

/// The code of the first coding of `concept` in `system`.
pub(super) fn code_in<'a>(concept: Option<&'a Value>, system: &str) -> Option<&'a str> {
    concept?
        .get("coding")?
        .as_array()?
        .iter()
        .find(|c| c.get("system").and_then(Value::as_str) == Some(system))?
        .get("code")?
        .as_str()
}

pub(super) fn episode(res: &Res, zone: &Zone) -> R<Episode> {
    let zone = res.zone(zone)?;
    let started = res.instant("/effectivePeriod/start", &zone)?;
    let duration = match res.str("/effectivePeriod/end") {
        Some(_) => {
            Some((res.instant("/effectivePeriod/end", &zone)?.at.as_millisecond() - started.at.as_millisecond()) / 1000)
        }
        None => None,
    };
    let kind = code_in(res.r.get("code"), &cs("spasm-kind")).ok_or_else(|| res.missing("code (spasm kind)"))?;
    let codes = |code: &str, system: &str| -> Vec<&str> {
        res.component_values(&cs("observation"), code)
            .into_iter()
            .filter_map(|c| code_in(c.get("valueCodeableConcept"), system))
            .collect()
    };
    let build = || -> Result<Episode, ValidationError> {
        let recorded = match res.str("/issued") {
            Some(t) => t
                .parse()
                .map_err(|_| ValidationError::new("issued", "a FHIR instant", format!("{t:?}")))?,
            None => started.at,
        };
        Episode::new(
            started.clone(),
            SpasmKind::parse(kind)?,
            codes(obs::REGION, &cs("body-region"))
                .into_iter()
                .map(Region::parse)
                .collect::<Result<_, _>>()?,
            res.int_component(LOINC, LOINC_PAIN).map(Pain::new).transpose()?,
            duration,
            codes(obs::TRIGGER, &cs("trigger"))
                .into_iter()
                .map(Trigger::parse)
                .collect::<Result<_, _>>()?,
            res.ext_str("trigger-note"),
            res.note(),
            recorded,
        )
    };
    build().map_err(|e| res.invalid(e))
}

pub(super) fn checkin(res: &Res, zone: &Zone, now: Timestamp) -> R<tonus_domain::CheckIn> {
    let date = res.date("/effectiveDateTime")?;
    let t = |code| res.int_component(&cs("observation"), code);
    let log_complete = res
        .component_values(&cs("observation"), obs::LOG_COMPLETE)
        .first()
        .and_then(|c| c.get("valueBoolean"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    CheckInDraft {
        spasticity_nrs: t(obs::SPASTICITY),
        pain_nrs: res.int_component(LOINC, LOINC_PAIN),
        psfs_frequency: t(obs::PSFS_FREQUENCY),
        psfs_severity: t(obs::PSFS_SEVERITY),
        night_wakings: t(obs::NIGHT_WAKINGS),
        log_complete,
        note: res.note().map(str::to_string),
    }
    .validate(date, zone, now)
    .map_err(|e| res.invalid(e))
}

pub(super) fn exercise(res: &Res, zone: &Zone, now: Timestamp) -> R<ExerciseSession> {
    let zone = res.zone(zone)?;
    let at = res.instant("/effectiveDateTime", &zone)?;
    let o = cs("observation");
    let kind = res
        .component_values(&o, obs::EXERCISE_TYPE)
        .first()
        .and_then(|c| code_in(c.get("valueCodeableConcept"), &cs("exercise-type")))
        .ok_or_else(|| res.missing("component exercise-type"))?;
    let minutes = res
        .component_values(&o, obs::MINUTES)
        .first()
        .and_then(|c| c.pointer("/valueQuantity/value"))
        .and_then(Value::as_i64)
        .ok_or_else(|| res.missing("component exercise-minutes"))?;
    let exertion = res
        .int_component(&o, obs::EXERTION)
        .ok_or_else(|| res.missing("component perceived-exertion"))?;
    ExerciseType::parse(kind)
        .and_then(|k| ExerciseSession::new(at, k, minutes, exertion, res.note(), now))
        .map_err(|e| res.invalid(e))
}

pub(super) fn event(res: &Res, code: &str, zone: &Zone, now: Timestamp) -> R<ClinicalEvent> {
    let (on, until) = if res.r.get("effectivePeriod").is_some() {
        let until = match res.str("/effectivePeriod/end") {
            Some(_) => Some(res.date("/effectivePeriod/end")?),
            None => None,
        };
        (res.date("/effectivePeriod/start")?, until)
    } else {
        (res.date("/effectiveDateTime")?, None)
    };
    let o = cs("observation");
    let build = || -> Result<ClinicalEvent, ValidationError> {
        let kind = match code {
            "mri" => EventKind::mri(
                MriRegion::parse(code_in(res.r.get("bodySite"), &cs("mri-region")).unwrap_or_default())?,
                res.int_component(&o, obs::LESIONS_TOTAL),
                res.int_component(&o, obs::LESIONS_NEW),
                res.int_component(&o, obs::LESIONS_ENHANCING),
            )?,
            "relapse" => EventKind::Relapse,
            "infection" => EventKind::Infection,
            "diagnosis" => EventKind::Diagnosis,
            "other" => EventKind::other(res.str("/valueString").unwrap_or_default())?,
            other => {
                return Err(ValidationError::new(
                    "event kind",
                    "mri, relapse, infection, diagnosis or other",
                    other,
                ))
            }
        };
        ClinicalEvent::new(kind, on, until, res.note(), zone, now)
    };
    build().map_err(|e| res.invalid(e))
}

pub(super) fn schedule(res: &Res) -> R<Schedule> {
    if let Some(text) = res.str("/dosage/0/text") {
        if let Ok(s) = Schedule::parse(text) {
            return Ok(s);
        }
    }
    if res.r.pointer("/dosage/0/asNeededBoolean").and_then(Value::as_bool) == Some(true) {
        return Ok(Schedule::AsNeeded);
    }
    let rep = res
        .r
        .pointer("/dosage/0/timing/repeat")
        .ok_or_else(|| res.missing("dosage timing"))?;
    let n = |k: &str| rep.get(k).and_then(Value::as_u64);
    let code = match (
        n("frequency"),
        n("period"),
        rep.get("periodUnit").and_then(Value::as_str),
    ) {
        (Some(f), Some(1), Some("d")) => format!("{f}x-daily"),
        (Some(1), Some(p), Some("d")) => format!("every-{p}-days"),
        (Some(1), Some(p), Some("wk")) => format!("every-{p}-weeks"),
        _ => return Err(res.missing("a dosage timing Tonus can express")),
    };
    Schedule::parse(&code).map_err(|e| res.invalid(e))
}

pub(super) fn administration(res: &Res, zone: &Zone, now: Timestamp) -> R<DoseLog> {
    let zone = res.zone(zone)?;
    let at = res.instant("/effectiveDateTime", &zone)?;
    let status = match (res.ext_str("dose-status"), res.str("/status")) {
        (Some(code), _) => DoseStatus::parse(code).map_err(|e| res.invalid(e))?,
        (None, Some("not-done")) => DoseStatus::Missed,
        _ => DoseStatus::Taken,
    };
    DoseLog::new(at, status, res.note(), now).map_err(|e| res.invalid(e))
}

/// A side effect from an `AdverseEvent`. One Tonus wrote (its `event` has a Tonus code) must
/// read back whole, so anything missing is an error; another system's is read when it says
/// what was felt (a Tonus or known SNOMED CT code, else its text as an "other" effect), how
/// bad, and when (a dateTime with time and offset), and otherwise skipped with the reason.
/// Only events that happened (`actuality` actual) are side effects; a potential one (a near
/// miss) is not. `statements` maps a MedicationStatement's fullUrl to its treatment's name;
/// `names` maps the bundle's treatment names in lower case to their spelling, so a name
/// given only as a display is spelt like the treatment it names (as the store would).
pub(super) fn side_effect(
    res: &Res,
    zone: &Zone,
    now: Timestamp,
    statements: &HashMap<String, String>,
    names: &HashMap<String, String>,
) -> R<Result<SideEffect, SkipReason>> {
    match res.str("/actuality") {
        Some("actual") => {}
        Some(other) => {
            return Ok(Err(SkipReason::Status {
                field: "actuality".into(),
                value: other.into(),
            }))
        }
        None => return Ok(Err(incomplete("no actuality (actual or potential)"))),
    }
    let event = res.r.get("event");
    let tonus_code = code_in(event, &cs("side-effect"));
    let ours = tonus_code.is_some();
    let text = res.str("/event/text");
    let effect = match tonus_code {
        Some(code) => Some(Effect::parse(code).map_err(|e| res.invalid(e))?),
        None => code_in(event, SNOMED)
            .and_then(|code| {
                Effect::ALL
                    .iter()
                    .copied()
                    .find(|e| effect_snomed(*e).is_some_and(|(c, _)| c == code))
            })
            .or(text.map(|_| Effect::Other)),
    };
    let description = match (ours, effect) {
        (true, _) => res.ext_str("side-effect-description"),
        // Another system's words for an effect Tonus has no code for.
        (false, Some(Effect::Other)) => text,
        (false, _) => None,
    };
    let severity = code_in(res.r.get("severity"), AE_SEVERITY);
    let at = res.zone(zone).and_then(|z| res.instant("/date", &z));
    let (effect, severity, at) = match (effect, severity, at) {
        (Some(e), Some(s), Ok(at)) => (e, s, at),
        (_, _, Err(e)) if ours => return Err(e),
        _ if ours => return Err(res.missing("severity")),
        (None, _, _) => return Ok(Err(incomplete("no event code or text saying what was felt"))),
        (_, None, _) => return Ok(Err(incomplete("no severity (mild, moderate or severe)"))),
        (_, _, Err(_)) => return Ok(Err(incomplete("no date with a time and offset"))),
    };
    let note = res
        .r
        .get("extension")
        .and_then(Value::as_array)
        .and_then(|exts| {
            exts.iter()
                .find(|e| e.get("url").and_then(Value::as_str) == Some(AE_NOTE_EXT))
        })
        .and_then(|e| e.pointer("/valueAnnotation/text"))
        .and_then(Value::as_str);
    // The suspected treatment: the statement referenced, else (Tonus's own export only,
    // where it is the treatment's name) the display.
    let instance = res.r.pointer("/suspectEntity/0/instance");
    let suspected = instance
        .and_then(|i| i.get("reference"))
        .and_then(Value::as_str)
        .and_then(|r| statements.get(r))
        .map(String::as_str)
        .or_else(|| {
            if ours {
                let display = instance.and_then(|i| i.get("display")).and_then(Value::as_str)?;
                Some(
                    names
                        .get(&display.trim().to_lowercase())
                        .map_or(display, String::as_str),
                )
            } else {
                None
            }
        });
    let built = Severity::parse(severity)
        .and_then(|severity| SideEffect::new(at, effect, description, severity, suspected, note, now));
    match built {
        Ok(s) => Ok(Ok(s)),
        Err(e) if ours => Err(res.invalid(e)),
        Err(e) => Ok(Err(e.into())),
    }
}

pub(super) fn incomplete(detail: impl Into<String>) -> SkipReason {
    SkipReason::Incomplete { detail: detail.into() }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::report::Place;
    use super::Res;

    /// The uid of a resource without an identifier is what was stored on earlier imports:
    /// the hash of its text without `meta`, keys sorted at every depth. Changing how that text
    /// is made would make every re-import of such a resource a new record.
    #[test]
    fn a_derived_uid_hashes_the_content_without_meta_as_before() {
        let r = json!({"resourceType": "Observation", "status": "final", "meta": {"versionId": "3"},
            "code": {"text": "x", "coding": [{"system": "s", "code": "c"}]}, "valueInteger": 4});
        let place = Place {
            entry: 0,
            resource_type: "Observation".into(),
            id: None,
        };
        let mut without: Value = r.clone();
        without.as_object_mut().unwrap().remove("meta");
        let expected = super::super::ids::uuid(&["content", "Observation", &without.to_string()]);
        let uid = Res::new(place.clone(), &r).derived_uid().unwrap();
        assert_eq!(uid.to_string(), expected);
        let mut touched = r.clone();
        touched["meta"]["versionId"] = json!("4");
        assert_eq!(
            Res::new(place, &touched).derived_uid(),
            Some(uid),
            "meta is not content"
        );
    }
}
