//! The use cases: one function for each thing a user can do. Each takes the acting account
//! (an [`Actor`], or [`Own`] for a patient acting on their own record) and typed input, checks
//! authorisation, writes the audit entry and returns a typed result or an [`AppError`].
//!
//! The HTML pages (`crate::web`) and the JSON API (`crate::api`) are thin adapters over these
//! functions: parse the request, call, render. Neither writes to the store or the audit log
//! on its own, so the two cannot drift apart in what they check or record.

pub mod account;
pub mod accounts;
pub mod admin;
pub mod checkins;
pub mod clinician;
pub mod episodes;
pub mod events;
pub mod exercise;
pub mod exports;
pub mod fhir;
pub mod identity;
pub mod reminders;
pub mod second_factor;
pub mod sessions;
pub mod sharing;
pub mod side_effects;
pub mod tokens;
pub mod treatments;
pub mod trials;

use jiff::Timestamp;
use tonus_domain::Patient;
use tonus_store::Role;

use crate::auth::{Auth, ClientAddr, PatientAuth, Via};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Who acts, how they signed in, and from where: what every use case needs to authorise the
/// action and to audit it.
pub struct Actor<'a> {
    pub state: &'a AppState,
    pub auth: &'a Auth,
    pub address: &'a str,
}

impl<'a> Actor<'a> {
    pub fn new(state: &'a AppState, auth: &'a Auth, addr: &'a ClientAddr) -> Self {
        Self {
            state,
            auth,
            address: &addr.0,
        }
    }

    /// Appends an audit entry in the actor's name. What a token did says which token: the
    /// detail ends with `[token #id "name"]` (no suffix: a browser session).
    pub async fn audit(&self, patient_id: Option<i64>, action: &str, detail: &str) -> AppResult<()> {
        let user = &self.auth.user;
        let detail = match &self.auth.via {
            Via::Token { id, name, .. } => {
                let channel = format!("[token #{id} {name:?}]");
                if detail.is_empty() {
                    channel
                } else {
                    format!("{detail} {channel}")
                }
            }
            Via::Session { .. } => detail.to_string(),
        };
        self.state
            .audit(
                (Some(user.id), &user.username),
                patient_id,
                action,
                self.address,
                &detail,
            )
            .await
    }

    /// A clinician whose password an administrator set reaches no patient until they set
    /// their own (after signing in, with their second factor if on): otherwise whoever runs
    /// the server could read health data by resetting a clinician's password.
    pub async fn require_own_password(&self) -> AppResult<()> {
        self.require(Role::Clinician)?;
        if self.state.store.password_reset_pending(self.auth.user.id).await? {
            return Err(AppError::Invalid(tonus_domain::ValidationError::new(
                "password",
                "a password you set yourself (Account → Change password) after an administrator reset it",
                "a password an administrator set",
            )));
        }
        Ok(())
    }

    /// Refuses (403) a personal access token: managing the account, tokens, sharing and
    /// calendar feeds needs a signed-in browser. (The middleware already keeps tokens to
    /// the diary routes; this keeps each use case safe on its own.)
    pub fn require_session(&self) -> AppResult<()> {
        match self.auth.via {
            Via::Session { .. } => Ok(()),
            Via::Token { .. } => Err(AppError::Forbidden),
        }
    }

    /// Refuses (403) anyone without `role`.
    pub fn require(&self, role: Role) -> AppResult<()> {
        if self.auth.user.role == role {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// A clinician's access to one patient, checked against live consent on every call.
    /// Without it the answer is 404, exactly as for a patient that does not exist.
    pub async fn consented_patient(&self, patient_id: i64) -> AppResult<Patient> {
        self.require_own_password().await?;
        if !self.state.store.has_consent(self.auth.user.id, patient_id).await? {
            return Err(AppError::NotFound);
        }
        self.state
            .store
            .patient_by_id(patient_id)
            .await?
            .ok_or(AppError::NotFound)
    }
}

/// A patient acting on their own record. Made only from a [`PatientAuth`], which proves the
/// role and loaded the record the account owns: patient use cases cannot reach another one.
pub struct Own<'a> {
    pub actor: Actor<'a>,
    pub patient: &'a Patient,
}

impl<'a> Own<'a> {
    pub fn new(state: &'a AppState, pa: &'a PatientAuth, addr: &'a ClientAddr) -> Self {
        Self {
            actor: Actor::new(state, &pa.auth, addr),
            patient: &pa.patient,
        }
    }

    pub fn state(&self) -> &'a AppState {
        self.actor.state
    }

    /// Writes `write` once per idempotency key (`Store::write_once`): a retry gets the first
    /// answer and stores nothing.
    pub async fn write_once(
        &self,
        key: &tonus_store::IdempotencyKey,
        write: tonus_store::KeyedWrite,
        render: tonus_store::RenderAnswer,
    ) -> AppResult<tonus_store::KeyedAnswer> {
        Ok(self.state().store.write_once(self.patient, key, write, render).await?)
    }

    /// Appends an audit entry about the patient's own record.
    pub async fn audit(&self, action: &str, detail: &str) -> AppResult<()> {
        self.actor.audit(Some(self.patient.id), action, detail).await
    }
}

/// Typed dates before 1900 are refused: none of a diary's entries can be that old, and such
/// a year is a typo (1026 for 2026). Imports of archives keep their own rules.
pub(crate) fn from_1900(field: &str, date: jiff::civil::Date) -> AppResult<()> {
    if date.year() < 1900 {
        return Err(AppError::Invalid(tonus_domain::ValidationError::new(
            field,
            "a date from 1900 on",
            date,
        )));
    }
    Ok(())
}

/// A moment as typed in the patient's zone (named `field` in errors); empty, or the shown
/// minute left untouched, keeps `stored` to the millisecond (or now when new).
pub(crate) fn typed_instant(
    me: &Own<'_>,
    field: &str,
    typed: Option<&str>,
    stored: Option<Timestamp>,
) -> AppResult<tonus_domain::time::LocalInstant> {
    let now = Timestamp::now();
    let zone = me.patient.zone.clone();
    let typed = typed.map(str::trim).unwrap_or("");
    let at = match stored {
        Some(t) if typed.is_empty() || typed == episodes::minute_text(t, &zone) => t,
        None if typed.is_empty() => now,
        _ => {
            let at = tonus_domain::input::parse_when(field, typed, &zone, now)?;
            from_1900(field, at.to_zoned(jiff::tz::TimeZone::UTC).date())?;
            at
        }
    };
    Ok(tonus_domain::time::LocalInstant { at, zone })
}

pub(crate) fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

/// An optional range of local days as typed (2026-11-01, today, -7), in the patient's zone.
pub fn dates(
    patient: &Patient,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<(Option<jiff::civil::Date>, Option<jiff::civil::Date>)> {
    let now = Timestamp::now();
    let d = |field: &str, v: Option<&str>| {
        v.map(|s| tonus_domain::input::parse_date(field, s, &patient.zone, now))
            .transpose()
    };
    Ok((d("from", from)?, d("to", to)?))
}
