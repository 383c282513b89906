//! The canonical base of Tonus's own FHIR code systems, extensions and identifier systems,
//! chosen per installation (issue #13): an EHR files codes by their system URL, so the URL
//! should be one the installation answers for, not a placeholder under example.org.
//!
//! The base is set once at start-up (`tonus serve` from `fhir_canonical_url`, else
//! `public_url` + `/fhir`; the CLI from `--canonical-url` or the same environment
//! variables) and is then the same for every export of the process. Imports read
//! another installation's base (the Bundle's `meta.source`, which every export writes) and
//! exports written before the base was configurable, and map them onto this one.

use std::sync::OnceLock;

use serde_json::Value;

/// Used when nothing is configured: the address `tonus serve` listens on by default, where
/// this installation answers for it.
pub const DEFAULT_BASE: &str = "http://127.0.0.1:8080/fhir";

/// The base of exports written before it was configurable; still understood on import.
pub const LEGACY_BASE: &str = "https://tonus.example.org/fhir";

static CONFIGURED: OnceLock<String> = OnceLock::new();

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CanonicalError {
    #[error("canonical URL {0:?}: must be an http:// or https:// URL with a host and no query or fragment, such as https://tonus.clinic.example/fhir")]
    Invalid(String),
    #[error("canonical URL {new:?}: the base is already {current:?} in this process")]
    AlreadySet { current: String, new: String },
}

/// The base in use: the configured one, else [`DEFAULT_BASE`].
pub fn base() -> &'static str {
    CONFIGURED.get().map_or(DEFAULT_BASE, String::as_str)
}

/// Sets the base for the rest of the process. Setting the same value again is allowed (a
/// server and a command in one process agree); another value is refused, because exports
/// already written would then disagree with the next ones.
pub fn set_base(url: &str) -> Result<(), CanonicalError> {
    let url = validate(url)?;
    let current = CONFIGURED.get_or_init(|| url.clone());
    if *current == url {
        Ok(())
    } else {
        Err(CanonicalError::AlreadySet {
            current: current.clone(),
            new: url,
        })
    }
}

/// An http(s) URL with a host, no whitespace, query or fragment; a trailing `/` is dropped.
pub fn validate(url: &str) -> Result<String, CanonicalError> {
    let v = url.trim().trim_end_matches('/');
    let invalid = || CanonicalError::Invalid(url.to_string());
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .ok_or_else(invalid)?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || v.chars().any(|c| c.is_whitespace() || c == '?' || c == '#') {
        return Err(invalid());
    }
    Ok(v.to_string())
}

/// The bases to map onto ours: another installation's (a Bundle's `meta.source`) and the
/// legacy one, unless either is ours already.
pub(super) fn foreign_bases(source: Option<&str>) -> Vec<String> {
    let ours = base();
    let mut foreign: Vec<String> = vec![LEGACY_BASE.to_string()];
    if let Some(src) = source.and_then(|s| validate(s).ok()) {
        foreign.push(src);
    }
    foreign.retain(|f| f != ours);
    foreign
}

/// Replaces a foreign base by ours in every `system`, `url` and `questionnaire` (the canonical
/// a QuestionnaireResponse answers) of `v`; nothing else: a note that quotes a URL stays as
/// written.
pub(super) fn map_bases(v: &mut Value, foreign: &[String]) {
    if !foreign.is_empty() {
        rewrite(v, foreign, base());
    }
}

fn is_system_key(key: &str) -> bool {
    matches!(key, "system" | "url" | "questionnaire")
}

fn foreign_prefix<'a>(s: &str, foreign: &'a [String]) -> Option<&'a str> {
    foreign
        .iter()
        .find(|f| s.strip_prefix(f.as_str()).is_some_and(|rest| rest.starts_with('/')))
        .map(String::as_str)
}

fn rewrite(v: &mut Value, foreign: &[String], ours: &str) {
    match v {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                match v {
                    Value::String(s) if is_system_key(k) => {
                        if let Some(prefix) = foreign_prefix(s, foreign) {
                            *s = format!("{ours}{}", &s[prefix.len()..]);
                        }
                    }
                    _ => rewrite(v, foreign, ours),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| rewrite(v, foreign, ours)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validate_accepts_http_urls_and_names_the_rule_otherwise() {
        assert_eq!(
            validate("https://tonus.clinic.example/fhir/").unwrap(),
            "https://tonus.clinic.example/fhir"
        );
        for bad in [
            "",
            "tonus.org/fhir",
            "https://",
            "https://a/b?c",
            "https://a/b#c",
            "ftp://a/b",
            "https://a b/c",
        ] {
            let err = validate(bad).unwrap_err().to_string();
            assert!(err.contains("must be an http:// or https:// URL"), "{bad}: {err}");
        }
    }

    #[test]
    fn another_installations_codes_and_the_legacy_base_are_mapped_onto_ours() {
        let input = json!({
            "resourceType": "Bundle",
            "meta": {"source": "https://other.example/fhir"},
            "entry": [{"resource": {
                "extension": [{"url": "https://other.example/fhir/StructureDefinition/time-zone"}],
                "code": {"coding": [
                    {"system": "https://other.example/fhir/CodeSystem/spasm-kind", "code": "cramp"},
                    {"system": "https://tonus.example.org/fhir/CodeSystem/observation", "code": "x"},
                    {"system": "https://other.example/fhirish/CodeSystem/x", "code": "y"},
                    {"system": "http://snomed.info/sct", "code": "45352006"}
                ]},
                "note": [{"text": "https://other.example/fhir/CodeSystem/spasm-kind"}]
            }}, {"resource": {
                "resourceType": "QuestionnaireResponse",
                "questionnaire": "https://other.example/fhir/Questionnaire/daily-checkin|1"
            }}]
        });
        let mut out = input.clone();
        map_bases(
            &mut out,
            &foreign_bases(input.pointer("/meta/source").and_then(Value::as_str)),
        );
        let ours = base();
        let codings = out.pointer("/entry/0/resource/code/coding").unwrap();
        assert_eq!(codings[0]["system"], format!("{ours}/CodeSystem/spasm-kind"));
        assert_eq!(codings[1]["system"], format!("{ours}/CodeSystem/observation"));
        // Only the whole base, only in system/url: a longer host or a note stays as written.
        assert_eq!(codings[2]["system"], "https://other.example/fhirish/CodeSystem/x");
        assert_eq!(codings[3]["system"], "http://snomed.info/sct");
        assert_eq!(
            out.pointer("/entry/0/resource/extension/0/url").unwrap(),
            &json!(format!("{ours}/StructureDefinition/time-zone"))
        );
        assert_eq!(
            out.pointer("/entry/0/resource/note/0/text").unwrap(),
            "https://other.example/fhir/CodeSystem/spasm-kind"
        );
        assert_eq!(
            out.pointer("/entry/1/resource/questionnaire").unwrap(),
            &json!(format!("{ours}/Questionnaire/daily-checkin|1"))
        );
    }

    #[test]
    fn our_own_base_is_never_foreign() {
        assert_eq!(foreign_bases(Some(base())), vec![LEGACY_BASE.to_string()]);
        assert_eq!(foreign_bases(Some("not a url")), vec![LEGACY_BASE.to_string()]);
    }
}
