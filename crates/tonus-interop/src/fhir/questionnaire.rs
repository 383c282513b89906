//! The daily check-in as a QuestionnaireResponse too (issue #13 point 4), beside its
//! Observation: systems that file patient-reported questionnaires read QuestionnaireResponses,
//! not a Tonus-coded Observation's components. Its answers are the Observation's components,
//! question by question (one table, below, makes both), and it answers a Tonus Questionnaire
//! that the Bundle carries once, so a receiver can read the questions without knowing Tonus.

use serde_json::{json, Map, Value};
use tonus_domain::CheckIn;

use super::export::{coding, object, Builder};
use super::ids::uuid;
use super::import::Res;
use super::{base, cs, obs, LOINC, LOINC_PAIN};

/// The Questionnaire's name in its canonical URL (`{base}/Questionnaire/daily-checkin`).
pub(super) const NAME: &str = "daily-checkin";
/// Its version: a new one whenever a question changes, so an old answer keeps its question.
pub(super) const VERSION: &str = "1";
/// What a check-in's QuestionnaireResponse id is derived from, beside the record's uid.
pub(super) const RESPONSE: &str = "questionnaire-response";

/// The Questionnaire's canonical URL under this installation's base.
pub(super) fn url() -> String {
    format!("{}/Questionnaire/{NAME}", base())
}

/// The Questionnaire's id: the same in every patient's Bundle of this installation (it is one
/// definition), so a server given several patients' Bundles keeps one.
pub(super) fn id() -> String {
    uuid(&[base(), "Questionnaire", NAME, VERSION])
}

/// What a question takes, and its bounds (the check-in's own validation rules).
#[derive(Clone, Copy)]
enum Kind {
    Integer { min: i64, max: i64 },
    Boolean,
}

/// One question of the check-in: its linkId (the Observation component's Tonus code, or
/// `pain-nrs` for the LOINC-coded pain score), the words the web form asks it with, and the
/// coding its Observation component carries.
pub(super) struct Question {
    link_id: &'static str,
    text: &'static str,
    /// LOINC when the component is LOINC-coded, else the Tonus `observation` code system.
    loinc: bool,
    code: &'static str,
    pub(super) display: &'static str,
    kind: Kind,
}

impl Question {
    pub(super) fn coding(&self) -> Value {
        let system = if self.loinc {
            LOINC.to_string()
        } else {
            cs("observation")
        };
        coding(&system, self.code, self.display)
    }
}

const SPASTICITY: Question = Question {
    link_id: obs::SPASTICITY,
    text: "Spasticity, average over the last 24 hours (0 none – 10 worst possible)",
    loinc: false,
    code: obs::SPASTICITY,
    display: "spasticity NRS, last 24 hours (0-10)",
    kind: Kind::Integer { min: 0, max: 10 },
};
const PAIN: Question = Question {
    link_id: "pain-nrs",
    text: "Pain, average over the last 24 hours (0 none – 10 worst imaginable)",
    loinc: true,
    code: LOINC_PAIN,
    display: "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
    kind: Kind::Integer { min: 0, max: 10 },
};
const PSFS_FREQUENCY: Question = Question {
    link_id: obs::PSFS_FREQUENCY,
    text: "How often spasms came (Penn Spasm Frequency Scale): 0 no spasms, 1 spasms only when stimulated, \
           2 spasms less than once an hour, 3 spasms more than once an hour, 4 spasms more than ten times an hour",
    loinc: false,
    code: obs::PSFS_FREQUENCY,
    display: "Penn Spasm Frequency Scale, frequency (0-4)",
    kind: Kind::Integer { min: 0, max: 4 },
};
const PSFS_SEVERITY: Question = Question {
    link_id: obs::PSFS_SEVERITY,
    text: "How severe they were (only if you had spasms): 1 mild, 2 moderate, 3 severe",
    loinc: false,
    code: obs::PSFS_SEVERITY,
    display: "Penn Spasm Frequency Scale, severity (1-3)",
    kind: Kind::Integer { min: 1, max: 3 },
};
const NIGHT_WAKINGS: Question = Question {
    link_id: obs::NIGHT_WAKINGS,
    text: "Times spasms woke you last night",
    loinc: false,
    code: obs::NIGHT_WAKINGS,
    display: "night wakings from spasms",
    kind: Kind::Integer {
        min: 0,
        max: tonus_domain::checkin::MAX_NIGHT_WAKINGS,
    },
};
const LOG_COMPLETE: Question = Question {
    link_id: obs::LOG_COMPLETE,
    text: "I logged every spasm of this day",
    loinc: false,
    code: obs::LOG_COMPLETE,
    display: "episode log complete for the day",
    kind: Kind::Boolean,
};

const QUESTIONS: [&Question; 6] = [
    &SPASTICITY,
    &PAIN,
    &PSFS_FREQUENCY,
    &PSFS_SEVERITY,
    &NIGHT_WAKINGS,
    &LOG_COMPLETE,
];

/// One answer of a check-in.
pub(super) enum Answer {
    Integer(i64),
    Boolean(bool),
}

impl Answer {
    /// `valueInteger`/`valueBoolean`: the same key in an Observation component and a
    /// QuestionnaireResponse answer.
    pub(super) fn value(&self) -> (&'static str, Value) {
        match self {
            Self::Integer(v) => ("valueInteger", (*v).into()),
            Self::Boolean(b) => ("valueBoolean", (*b).into()),
        }
    }
}

/// The questions the check-in answered, in the Questionnaire's order, with their answers: a
/// skipped question has none (the log-complete box is always answered).
pub(super) fn answers(c: &CheckIn) -> Vec<(&'static Question, Answer)> {
    let int = |q: &'static Question, v: Option<i64>| v.map(|v| (q, Answer::Integer(v)));
    [
        int(&SPASTICITY, c.spasticity_nrs().map(i64::from)),
        int(&PAIN, c.pain_nrs().map(i64::from)),
        int(&PSFS_FREQUENCY, c.psfs_frequency().map(|f| i64::from(f.value()))),
        int(&PSFS_SEVERITY, c.psfs_severity().map(|s| i64::from(s.value()))),
        int(&NIGHT_WAKINGS, c.night_wakings().map(i64::from)),
        Some((&LOG_COMPLETE, Answer::Boolean(c.log_complete()))),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn item(q: &Question) -> Value {
    let mut m = object(json!({
        "linkId": q.link_id,
        "code": [q.coding()],
        "text": q.text,
    }));
    match q.kind {
        Kind::Integer { min, max } => {
            m.insert("type".into(), "integer".into());
            // R4 has no bounds on an item of its own; these core extensions are how a
            // Questionnaire says what an integer answer may be.
            m.insert(
                "extension".into(),
                json!([
                    {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": min},
                    {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": max},
                ]),
            );
        }
        Kind::Boolean => {
            m.insert("type".into(), "boolean".into());
            // The one question never skipped: without it the day's count is unknown.
            m.insert("required".into(), true.into());
        }
    }
    if q.link_id == PSFS_SEVERITY.link_id {
        // Asked only when there were spasms, as the check-in's validation requires.
        m.insert(
            "enableWhen".into(),
            json!([{"question": PSFS_FREQUENCY.link_id, "operator": ">", "answerInteger": 0}]),
        );
    }
    Value::Object(m)
}

/// The Tonus daily check-in Questionnaire, once per Bundle that has a check-in.
pub(super) fn questionnaire() -> Map<String, Value> {
    object(json!({
        "resourceType": "Questionnaire",
        "url": url(),
        "version": VERSION,
        "name": "TonusDailyCheckIn",
        "title": "Tonus daily check-in",
        "status": "active",
        "subjectType": ["Patient"],
        "description": "The questions a person with multiple sclerosis answers about one day in Tonus: spasticity and pain \
                        (0-10), the Penn Spasm Frequency Scale, night wakings from spasms, and whether every spasm of \
                        the day was logged.",
        "item": QUESTIONS.iter().map(|q| item(q)).collect::<Vec<_>>(),
    }))
}

/// A check-in as a QuestionnaireResponse: the patient's own answers, on the check-in's day.
pub(super) fn response(b: &Builder, c: &CheckIn) -> Map<String, Value> {
    let items: Vec<Value> = answers(c)
        .into_iter()
        .map(|(q, a)| {
            let (key, value) = a.value();
            json!({"linkId": q.link_id, "text": q.text, "answer": [{key: value}]})
        })
        .collect();
    object(json!({
        "resourceType": "QuestionnaireResponse",
        "questionnaire": format!("{}|{VERSION}", url()),
        // The patient submitted it; that nobody has verified it is said by the Observation's
        // `preliminary`, which is the record.
        "status": "completed",
        "subject": b.subject(),
        "authored": c.date().to_string(),
        "author": b.subject(),
        "source": b.subject(),
        "item": items,
    }))
}

/// A QuestionnaireResponse answering Tonus's check-in Questionnaire (any version), after
/// the import mapped the file's base onto ours.
pub(super) fn is_response(res: &Res) -> bool {
    res.str("/questionnaire")
        .is_some_and(|q| q.split('|').next() == Some(url().as_str()))
}

/// Tonus's check-in Questionnaire itself.
pub(super) fn is_questionnaire(res: &Res) -> bool {
    res.str("/url") == Some(url().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_are_the_check_ins_own_validation_rules() {
        use tonus_domain::checkin::CheckInDraft;
        let zone = tonus_domain::time::Zone::utc();
        let now: jiff::Timestamp = "2026-03-02T12:00:00Z".parse().unwrap();
        let day: jiff::civil::Date = "2026-03-01".parse().unwrap();
        for q in QUESTIONS {
            let Kind::Integer { min, max } = q.kind else {
                continue;
            };
            for (v, ok) in [(min, true), (max, true), (min - 1, false), (max + 1, false)] {
                let mut d = CheckInDraft {
                    psfs_frequency: Some(1),
                    ..CheckInDraft::default()
                };
                match q.link_id {
                    "spasticity-nrs" => d.spasticity_nrs = Some(v),
                    "pain-nrs" => d.pain_nrs = Some(v),
                    "psfs-frequency" => d.psfs_frequency = Some(v),
                    "psfs-severity" => d.psfs_severity = Some(v),
                    "night-wakings" => d.night_wakings = Some(v),
                    other => panic!("a question without a bound test: {other}"),
                }
                // Severity needs a frequency above 0; checked on its own below.
                if q.link_id == "psfs-frequency" {
                    d.psfs_severity = None;
                }
                assert_eq!(d.validate(day, &zone, now).is_ok(), ok, "{} = {v}", q.link_id);
            }
        }
    }

    #[test]
    fn the_psfs_questions_say_what_each_value_means_in_the_domains_words() {
        for v in 0..=4 {
            let label = tonus_domain::PsfsFrequency::new(v).unwrap().label();
            assert!(PSFS_FREQUENCY.text.contains(&format!("{v} {label}")), "{v} {label}");
        }
        for v in 1..=3 {
            let label = tonus_domain::PsfsSeverity::new(v).unwrap().label();
            assert!(PSFS_SEVERITY.text.contains(&format!("{v} {label}")), "{v} {label}");
        }
    }

    #[test]
    fn every_item_has_a_type_and_only_severity_depends_on_another() {
        let q = Value::Object(questionnaire());
        let items = q["item"].as_array().unwrap();
        assert_eq!(items.len(), 6);
        let ids: Vec<&str> = items.iter().map(|i| i["linkId"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                "spasticity-nrs",
                "pain-nrs",
                "psfs-frequency",
                "psfs-severity",
                "night-wakings",
                "log-complete"
            ]
        );
        for i in items {
            assert!(matches!(i["type"].as_str(), Some("integer" | "boolean")), "{i}");
            assert_eq!(i.get("enableWhen").is_some(), i["linkId"] == "psfs-severity", "{i}");
        }
        assert_eq!(q["url"], format!("{}/Questionnaire/daily-checkin", base()));
    }
}
