//! The patient's identity for filing: read and set by the patient only.

use jiff::Timestamp;
use tonus_domain::input::parse_date;
use tonus_domain::{AdministrativeSex, PatientIdentifier, PatientIdentity};

use super::Own;
use crate::error::AppResult;

/// The identity as typed; identifier rows with both parts empty are ignored.
#[derive(Debug, Default, Clone)]
pub struct IdentityInput {
    pub name: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub identifiers: Vec<(String, String)>,
}

pub async fn get(me: &Own<'_>) -> AppResult<PatientIdentity> {
    Ok(me.state().store.patient_identity(me.patient).await?.unwrap_or_default())
}

/// Replaces the identity (all fields empty: removes it).
pub async fn save(me: &Own<'_>, input: &IdentityInput) -> AppResult<PatientIdentity> {
    let now = Timestamp::now();
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let birth_date = match text(&input.birth_date) {
        Some(d) => Some(parse_date("birth_date", &d, &me.patient.zone, now)?),
        None => None,
    };
    let sex = text(&input.sex).map(|s| AdministrativeSex::parse(&s)).transpose()?;
    let identifiers = input
        .identifiers
        .iter()
        .filter(|(s, v)| !s.trim().is_empty() || !v.trim().is_empty())
        .map(|(s, v)| PatientIdentifier::new(s, v))
        .collect::<Result<Vec<_>, _>>()?;
    let identity = PatientIdentity::new(
        text(&input.name).as_deref(),
        birth_date,
        sex,
        identifiers,
        &me.patient.zone,
        now,
    )?;
    me.state().store.set_patient_identity(me.patient, &identity).await?;
    Ok(identity)
}
