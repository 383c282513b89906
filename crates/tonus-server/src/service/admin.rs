//! What administrators do: manage accounts. They never reach health data.

use tonus_domain::ValidationError;
use tonus_store::{Role, User};

use super::{now_ms, Actor};
use crate::error::{AppError, AppResult};
use crate::security::{check_password_rules, hash_password};

/// Every account.
pub async fn users(actor: &Actor<'_>) -> AppResult<Vec<User>> {
    actor.require(Role::Admin)?;
    Ok(actor.state.store.list_users().await?)
}

/// The account an administrator acts on; never their own (no locking oneself out).
pub(crate) async fn other_account(actor: &Actor<'_>, id: i64) -> AppResult<User> {
    actor.require(Role::Admin)?;
    let user = actor.state.store.user_by_id(id).await?.ok_or(AppError::NotFound)?;
    if user.id == actor.auth.user.id {
        return Err(AppError::Invalid(ValidationError::new(
            "user",
            "another administrator's or user's account (use Account for your own)",
            "your own account",
        )));
    }
    Ok(user)
}

/// Disables (ending the account's sessions at once; its API tokens stop working while it is
/// disabled) or enables an account. Returns the account and how many sessions ended.
pub async fn set_disabled(actor: &Actor<'_>, id: i64, disable: bool) -> AppResult<(User, u64)> {
    let user = other_account(actor, id).await?;
    let store = &actor.state.store;
    store.set_disabled(user.id, disable.then(now_ms)).await?;
    let ended = if disable {
        store.delete_user_sessions(user.id).await?
    } else {
        0
    };
    let action = if disable { "user.disable" } else { "user.enable" };
    actor
        .audit(
            user.patient_id,
            action,
            &format!("{} ({ended} sessions ended)", user.username),
        )
        .await?;
    Ok((user, ended))
}

/// Sets a new password for someone who lost theirs and ends their sessions. Recorded in the
/// audit log, which the patient can read.
pub async fn reset_password(actor: &Actor<'_>, id: i64, password: &str) -> AppResult<User> {
    let user = other_account(actor, id).await?;
    check_password_rules(password, &user.username)?;
    let hash = hash_password(password.to_string()).await?;
    let store = &actor.state.store;
    store.set_password_hash(user.id, &hash).await?;
    // The administrator now knows the password: until its owner sets their own, a
    // clinician reaches no patient (see Actor::require_own_password).
    store.set_password_reset(user.id, Some(now_ms())).await?;
    let ended = store.delete_user_sessions(user.id).await?;
    let tokens = store.revoke_all_api_tokens(user.id, now_ms()).await?;
    actor
        .audit(
            user.patient_id,
            "user.password.reset",
            &format!("{} ({ended} sessions ended, {tokens} tokens revoked)", user.username),
        )
        .await?;
    // Each patient who shares with this clinician sees the reset under "Who viewed".
    if user.role == Role::Clinician {
        for c in store.consents_of_clinician(user.id).await? {
            actor
                .audit(
                    Some(c.patient_id),
                    "clinician.password.reset",
                    &format!(
                        "an administrator reset {}'s password; their access is suspended until they set their own",
                        user.username
                    ),
                )
                .await?;
        }
    }
    Ok(user)
}
