//! Two-step sign-in (TOTP) beyond the basics in `account.rs`: the server generates and keeps
//! the secret while the user sets up their app, each code is accepted at most once, ten
//! single-use recovery codes stand in for a lost phone, and an administrator can remove a
//! user's second factor (audited; the user is told at their next sign-in).

use tonus_domain::ValidationError;
use tonus_store::User;

use super::account::{current_password, session_id, setup_for, totp, TotpSetup};
use super::{now_ms, Actor};
use crate::error::{AppError, AppResult};
use crate::security::{constant_time_eq, random_hex, sha256_hex};
use crate::state::AppState;

/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;

/// The 30-second step whose code `code` is (one step of clock skew either way), if any.
pub(crate) fn matching_step(secret: &str, account: &str, code: &str) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret, account).ok()?;
    let now = u64::try_from(now_ms() / 1000).ok()?;
    let step = now / 30;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .find(|s| constant_time_eq(&t.generate(s * 30), &code))
        .and_then(|s| i64::try_from(s).ok())
}

/// A recovery code as typed, normalised: 12 hex digits (dashes and spaces ignored).
fn recovery_form(code: &str) -> Option<String> {
    let c: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    (c.len() == 12 && c.chars().all(|c| c.is_ascii_hexdigit())).then_some(c)
}

/// Stored per user, so one code's hash means nothing for another account.
fn recovery_hash(user_id: i64, code: &str) -> String {
    sha256_hex(&format!("tonus-recovery:{user_id}:{code}"))
}

/// Checks the second factor of an account that has one: a TOTP code not used before, or an
/// unused recovery code (then spent).
pub async fn check(state: &AppState, user: &User, secret: &str, code: &str) -> AppResult<bool> {
    if let Some(step) = matching_step(secret, &user.username, code) {
        return Ok(state.store.accept_totp_step(user.id, step).await?);
    }
    if let Some(rc) = recovery_form(code) {
        let used = state
            .store
            .use_recovery_code(user.id, &recovery_hash(user.id, &rc), now_ms())
            .await?;
        if used {
            let left = state.store.recovery_codes_left(user.id).await?;
            state
                .audit(
                    (Some(user.id), &user.username),
                    user.patient_id,
                    "account.recovery_code",
                    "-",
                    &format!("{left} left"),
                )
                .await?;
        }
        return Ok(used);
    }
    Ok(false)
}

/// A fresh secret, kept server-side until a code proves the app has it.
pub async fn start(actor: &Actor<'_>) -> AppResult<TotpSetup> {
    session_id(actor)?;
    let setup = super::account::new_setup(&actor.auth.user.username)?;
    actor
        .state
        .store
        .set_totp_pending(actor.auth.user.id, Some(&setup.secret))
        .await?;
    Ok(setup)
}

/// The pending secret again (after a wrong code), if there is one.
pub async fn pending(actor: &Actor<'_>) -> AppResult<Option<TotpSetup>> {
    match actor.state.store.totp_pending(actor.auth.user.id).await? {
        Some(secret) => Ok(Some(setup_for(secret, &actor.auth.user.username)?)),
        None => Ok(None),
    }
}

fn wrong_code() -> AppError {
    AppError::Invalid(ValidationError::new(
        "code",
        "the 6-digit code your app shows now, not used before",
        "a code that does not match",
    ))
}

/// Turns two-step sign-in on with the pending secret once `code` proves the app has it;
/// returns the recovery codes, shown once (only their hashes are stored).
pub async fn enable(actor: &Actor<'_>, code: &str) -> AppResult<Vec<String>> {
    session_id(actor)?;
    let user = &actor.auth.user;
    let store = &actor.state.store;
    let Some(secret) = store.totp_pending(user.id).await? else {
        return Err(AppError::Invalid(ValidationError::new(
            "code",
            "a code for the key shown by “Set up two-step sign-in”",
            "no key being set up",
        )));
    };
    let step = matching_step(&secret, &user.username, code).ok_or_else(wrong_code)?;
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let h = random_hex(6);
            format!("{}-{}-{}", &h[0..4], &h[4..8], &h[8..12])
        })
        .collect();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| recovery_form(c))
        .map(|c| recovery_hash(user.id, &c))
        .collect();
    store.enable_totp(user.id, &secret, step, &hashes).await?;
    actor
        .audit(
            user.patient_id,
            "account.totp.on",
            &format!("{RECOVERY_CODES} recovery codes"),
        )
        .await?;
    Ok(codes)
}

/// Turns two-step sign-in off; needs the password and a code (or a recovery code). False if
/// it was off.
pub async fn disable(actor: &Actor<'_>, current: &str, code: &str) -> AppResult<bool> {
    session_id(actor)?;
    let user = &actor.auth.user;
    let Some(secret) = actor.state.store.totp_secret(user.id).await? else {
        return Ok(false);
    };
    current_password(actor, current).await?;
    if !check(actor.state, user, &secret, code).await? {
        return Err(wrong_code());
    }
    actor.state.store.remove_totp(user.id, None).await?;
    actor.audit(user.patient_id, "account.totp.off", "").await?;
    Ok(true)
}

/// An administrator removes a user's second factor (the user lost their phone and codes).
/// Audited; the user reads a notice at their next sign-in.
pub async fn remove_by_admin(actor: &Actor<'_>, id: i64) -> AppResult<User> {
    let user = super::admin::other_account(actor, id).await?;
    if actor.state.store.totp_secret(user.id).await?.is_none() {
        return Err(AppError::Invalid(ValidationError::new(
            "user",
            "an account with two-step sign-in on",
            format!("{} (two-step sign-in is off)", user.username),
        )));
    }
    let notice = format!(
        "An administrator ({}) removed your two-step sign-in on {}. If you did not ask for this, tell them; you can turn it on again below.",
        actor.auth.user.username,
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M UTC")
    );
    if !actor.state.store.remove_totp(user.id, Some(&notice)).await? {
        return Err(AppError::NotFound);
    }
    actor.audit(user.patient_id, "user.totp.remove", &user.username).await?;
    Ok(user)
}

/// Whether a notice waits for the user (sign-in then lands on the account page to show it).
pub async fn has_notice(state: &AppState, user: &User) -> AppResult<bool> {
    Ok(state.store.has_notice(user.id).await?)
}

/// The notice left for the signed-in user, shown once.
pub async fn take_notice(actor: &Actor<'_>) -> AppResult<Option<String>> {
    Ok(actor.state.store.take_notice(actor.auth.user.id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_normalised() {
        assert_eq!(recovery_form("AB12-cd34-ef56").as_deref(), Some("ab12cd34ef56"));
        assert_eq!(recovery_form(" ab12 cd34 ef56 ").as_deref(), Some("ab12cd34ef56"));
        assert!(recovery_form("123456").is_none());
        assert!(recovery_form("zz12-cd34-ef56").is_none());
        assert_ne!(recovery_hash(1, "ab12cd34ef56"), recovery_hash(2, "ab12cd34ef56"));
    }
}
