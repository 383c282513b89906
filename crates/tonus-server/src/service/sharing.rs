//! Consent: a patient shares read access with a clinician (by invitation code or user name)
//! and revokes it; both sides of every change are in the audit log the patient reads.

use tonus_store::{AuditRecord, Consent, Redeemed, Role};

use super::{now_ms, Actor, Own};
use crate::config::ms;
use crate::error::{AppError, AppResult};
use crate::security::{invitation_code, normalise_code, sha256_hex};

/// Creates a one-time invitation code for a clinician; returns it (shown once, stored hashed).
pub async fn invite(me: &Own<'_>) -> AppResult<String> {
    // Sharing and feeds hand the record to someone else: a browser session only.
    me.actor.require_session()?;
    let code = invitation_code();
    let now = now_ms();
    let state = me.state();
    state
        .store
        .create_invitation(
            me.patient.id,
            &sha256_hex(&normalise_code(&code)),
            now,
            now + ms(state.config.invitation_ttl),
        )
        .await?;
    me.audit("consent.invite", "").await?;
    Ok(code)
}

/// What granting access by user name did.
pub enum Grant {
    /// Access given now (or already given earlier) to the named clinician.
    Granted(String),
    /// No enabled clinician has that name.
    NoSuchClinician(String),
}

/// Grants read access to the clinician with user name `handle`.
pub async fn grant_by_handle(me: &Own<'_>, handle: &str) -> AppResult<Grant> {
    // Sharing and feeds hand the record to someone else: a browser session only.
    me.actor.require_session()?;
    let handle = handle.trim().to_lowercase();
    let state = me.state();
    let clinician = state
        .store
        .user_by_username(&handle)
        .await?
        .filter(|u| u.role == Role::Clinician && !u.disabled);
    let Some(clinician) = clinician else {
        return Ok(Grant::NoSuchClinician(handle));
    };
    let granted = state
        .store
        .grant_consent(me.patient.id, clinician.id, "handle", now_ms())
        .await?;
    if granted.is_some() {
        me.audit("consent.grant", &format!("to {} by user name", clinician.username))
            .await?;
    }
    Ok(Grant::Granted(clinician.username))
}

/// A clinician redeems a patient's invitation code.
pub async fn redeem(actor: &Actor<'_>, code: &str) -> AppResult<Redeemed> {
    actor.require(Role::Clinician)?;
    let user = &actor.auth.user;
    let outcome = actor
        .state
        .store
        .redeem_invitation(&sha256_hex(&normalise_code(code)), user.id, now_ms())
        .await?;
    if let Redeemed::Granted { patient_id, .. } = &outcome {
        actor
            .audit(
                Some(*patient_id),
                "consent.grant",
                &format!("to {} by invitation", user.username),
            )
            .await?;
    }
    Ok(outcome)
}

/// Revokes one of the patient's grants (404 if it is not theirs or already revoked).
pub async fn revoke(me: &Own<'_>, consent_id: i64) -> AppResult<()> {
    // Sharing and feeds hand the record to someone else: a browser session only.
    me.actor.require_session()?;
    let state = me.state();
    let clinician = state
        .store
        .revoke_consent(me.patient.id, consent_id, now_ms())
        .await?
        .ok_or(AppError::NotFound)?;
    let name = state
        .store
        .user_by_id(clinician)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    me.audit("consent.revoke", &format!("from {name}")).await
}

/// Every grant the patient made, live and revoked.
pub async fn consents(me: &Own<'_>) -> AppResult<Vec<Consent>> {
    // Sharing and feeds hand the record to someone else: a browser session only.
    me.actor.require_session()?;
    Ok(me.state().store.consents_of_patient(me.patient.id).await?)
}

/// "Who viewed": the audit entries about the patient's record, newest first.
pub async fn access_log(me: &Own<'_>) -> AppResult<Vec<AuditRecord>> {
    Ok(me.state().store.list_audit(Some(me.patient.id), 500).await?)
}
