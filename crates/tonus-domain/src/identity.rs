//! Who the patient is, for filing: name, birth date, administrative sex and identifiers
//! (a national health number, a clinic's record number). All optional and set by the patient;
//! a report or export carries them so a clinic can file it to the right chart.

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{check_text, optional_text};
use crate::time::{not_future_date, Zone};
use crate::vocab::vocabulary;
use crate::ValidationError;

vocabulary! {
    /// FHIR's administrative gender (http://hl7.org/fhir/administrative-gender): what a
    /// health record files, not a statement about identity.
    AdministrativeSex, "sex" {
        Female = "female", "female";
        Male = "male", "male";
        Other = "other", "other";
        Unknown = "unknown", "not stated";
    }
}

pub const MAX_IDENTIFIERS: usize = 5;
const MAX_NAME_CHARS: usize = 200;
const MAX_SYSTEM_CHARS: usize = 200;
const MAX_VALUE_CHARS: usize = 100;

/// An identifier with the system that issued it, as a URI (FHIR `Identifier.system`), e.g.
/// `https://fhir.nhs.uk/Id/nhs-number` or `urn:oid:1.2.250.1.213.1.4.8`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientIdentifier {
    pub system: String,
    pub value: String,
}

impl PatientIdentifier {
    pub fn new(system: &str, value: &str) -> Result<Self, ValidationError> {
        let system = check_text("identifier_system", system, MAX_SYSTEM_CHARS)?;
        let uri = system.starts_with("urn:") || system.starts_with("https://") || system.starts_with("http://");
        if !uri || system.chars().any(char::is_whitespace) {
            return Err(ValidationError::new(
                "identifier_system",
                "a URI naming who issued the number (https://… or urn:oid:…)",
                format!("{system:?}"),
            ));
        }
        let value = check_text("identifier_value", value, MAX_VALUE_CHARS)?;
        if value.is_empty() || value.contains('\n') {
            return Err(ValidationError::new(
                "identifier_value",
                format!("1–{MAX_VALUE_CHARS} characters on one line"),
                format!("{value:?}"),
            ));
        }
        Ok(Self { system, value })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientIdentity {
    pub name: Option<String>,
    pub birth_date: Option<Date>,
    pub sex: Option<AdministrativeSex>,
    #[serde(default)]
    pub identifiers: Vec<PatientIdentifier>,
}

impl PatientIdentity {
    pub fn new(
        name: Option<&str>,
        birth_date: Option<Date>,
        sex: Option<AdministrativeSex>,
        identifiers: Vec<PatientIdentifier>,
        zone: &Zone,
        now: Timestamp,
    ) -> Result<Self, ValidationError> {
        let name = optional_text("name", name, MAX_NAME_CHARS)?;
        if name.as_deref().is_some_and(|n| n.contains('\n')) {
            return Err(ValidationError::new("name", "a name on one line", "a line break"));
        }
        let birth_date = match birth_date {
            Some(d) => {
                let d = not_future_date("birth_date", d, zone, now)?;
                if d.year() < 1900 {
                    return Err(ValidationError::new("birth_date", "a date from 1900 on", d));
                }
                Some(d)
            }
            None => None,
        };
        if identifiers.len() > MAX_IDENTIFIERS {
            return Err(ValidationError::new(
                "identifiers",
                format!("at most {MAX_IDENTIFIERS}"),
                identifiers.len(),
            ));
        }
        for (i, a) in identifiers.iter().enumerate() {
            if identifiers[..i].iter().any(|b| b.system == a.system) {
                return Err(ValidationError::new(
                    "identifier_system",
                    "one identifier per system",
                    format!("{:?} twice", a.system),
                ));
            }
        }
        Ok(Self {
            name,
            birth_date,
            sex,
            identifiers,
        })
    }

    /// The same identity with every rule checked again (for values read back from storage
    /// or a file), birth dates judged against the far future.
    pub fn revalidated(&self) -> Result<Self, ValidationError> {
        let identifiers = self
            .identifiers
            .iter()
            .map(|i| PatientIdentifier::new(&i.system, &i.value))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(
            self.name.as_deref(),
            self.birth_date,
            self.sex,
            identifiers,
            &Zone::utc(),
            Timestamp::MAX,
        )
    }

    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.birth_date.is_none() && self.sex.is_none() && self.identifiers.is_empty()
    }

    /// One line for a page header: "Anne Martin · born 1970-03-02 · NHS 943 476 5919".
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = &self.name {
            parts.push(n.clone());
        }
        if let Some(d) = self.birth_date {
            parts.push(format!("born {d}"));
        }
        if let Some(s) = self.sex.filter(|s| *s != AdministrativeSex::Unknown) {
            parts.push(s.label().to_string());
        }
        for i in &self.identifiers {
            parts.push(format!("{} {}", i.system, i.value));
        }
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn identity_rules_name_their_field() {
        let now: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let zone = Zone::utc();
        let nhs = PatientIdentifier::new("https://fhir.nhs.uk/Id/nhs-number", " 9434765919 ").unwrap();
        assert_eq!(nhs.value, "9434765919");
        let id = PatientIdentity::new(
            Some(" Anne Martin "),
            Some(date(1970, 3, 2)),
            Some(AdministrativeSex::Female),
            vec![nhs.clone()],
            &zone,
            now,
        )
        .unwrap();
        assert_eq!(
            id.line(),
            "Anne Martin · born 1970-03-02 · female · https://fhir.nhs.uk/Id/nhs-number 9434765919"
        );
        assert_eq!(
            PatientIdentifier::new("NHS", "1").unwrap_err().field,
            "identifier_system"
        );
        assert_eq!(
            PatientIdentifier::new("urn:oid:1.2.3", " ").unwrap_err().field,
            "identifier_value"
        );
        let future = PatientIdentity::new(None, Some(date(2027, 1, 1)), None, vec![], &zone, now);
        assert_eq!(future.unwrap_err().field, "birth_date");
        let old = PatientIdentity::new(None, Some(date(1850, 1, 1)), None, vec![], &zone, now);
        assert_eq!(old.unwrap_err().field, "birth_date");
        let twice = PatientIdentity::new(None, None, None, vec![nhs.clone(), nhs], &zone, now);
        assert_eq!(twice.unwrap_err().field, "identifier_system");
        assert!(PatientIdentity::default().is_empty());
        assert_eq!(AdministrativeSex::parse("F").unwrap_err().field, "sex");
    }
}
