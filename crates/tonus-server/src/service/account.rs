//! The signed-in user's own account: password change (which ends every other session) and the
//! optional second factor (TOTP, RFC 6238, as authenticator apps implement it).

use tonus_domain::ValidationError;
use totp_rs::{Algorithm, Secret, TOTP};

use super::{now_ms, Actor};
use crate::auth::Via;
use crate::error::{AppError, AppResult};
use crate::security::{check_password_rules, hash_password, verify_password};

const ISSUER: &str = "Tonus";

/// The TOTP of a base32 secret: SHA-1, 6 digits, 30 s steps, one step of clock skew either
/// way — the parameters every common authenticator app uses.
pub fn totp(secret_base32: &str, account: &str) -> Result<TOTP, ValidationError> {
    let bad = || ValidationError::new("secret", "a base32 TOTP secret of at least 128 bits", "unusable");
    let bytes = Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .map_err(|_| bad())?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some(ISSUER.to_string()),
        account.to_string(),
    )
    .map_err(|_| bad())
}

/// Checks a typed code (spaces allowed) against the current time window (tests only: sign-in
/// uses second_factor::check, which also refuses a code used before).
#[cfg(test)]
pub(crate) fn code_matches(secret_base32: &str, account: &str, code: &str) -> bool {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    totp(secret_base32, account).is_ok_and(|t| t.check_current(&code).unwrap_or(false))
}

/// A secret being set up: shown once, confirmed by a code before it is stored.
pub struct TotpSetup {
    pub secret: String,
    pub url: String,
    pub qr_svg: String,
}

/// A fresh secret to add to an authenticator app.
pub fn new_setup(account: &str) -> AppResult<TotpSetup> {
    let secret = match Secret::generate_secret().to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => return Err(AppError::Internal),
    };
    setup_for(secret, account)
}

/// The link and QR code of a secret.
pub fn setup_for(secret: String, account: &str) -> AppResult<TotpSetup> {
    let url = totp(&secret, account)?.get_url();
    let qr_svg = qrcode::QrCode::new(url.as_bytes())
        .map(|qr| {
            qr.render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build()
        })
        .map_err(|e| {
            tracing::error!("QR code: {e}");
            AppError::Internal
        })?;
    Ok(TotpSetup { secret, url, qr_svg })
}

/// The session making the change. Account changes need a browser session (and its CSRF
/// check), not an API token.
pub fn session_id(actor: &Actor<'_>) -> AppResult<i64> {
    match actor.auth.via {
        Via::Session { id, .. } => Ok(id),
        Via::Token { .. } => Err(AppError::Forbidden),
    }
}

/// Whether two-step sign-in is on for the account.
pub async fn totp_on(actor: &Actor<'_>) -> AppResult<bool> {
    Ok(actor.state.store.totp_secret(actor.auth.user.id).await?.is_some())
}

/// Confirms the signed-in user's current password before a change to their credentials.
pub(crate) async fn current_password(actor: &Actor<'_>, typed: &str) -> AppResult<()> {
    let hash = actor.state.store.password_hash(actor.auth.user.id).await?;
    if verify_password(typed.to_string(), hash).await? {
        Ok(())
    } else {
        Err(AppError::Invalid(ValidationError::new(
            "current_password",
            "your current password",
            "a different one",
        )))
    }
}

/// Changes the password; every other session ends. Returns how many ended.
pub async fn change_password(actor: &Actor<'_>, current: &str, new: &str, confirm: &str) -> AppResult<u64> {
    let keep = session_id(actor)?;
    current_password(actor, current).await?;
    let user = &actor.auth.user;
    check_password_rules(new, &user.username).map_err(|e| ValidationError {
        field: "new_password".into(),
        ..e
    })?;
    if confirm != new {
        return Err(AppError::Invalid(ValidationError::new(
            "confirm_password",
            "the same as the new password",
            "a different text",
        )));
    }
    let hash = hash_password(new.to_string()).await?;
    let store = &actor.state.store;
    store.set_password_hash(user.id, &hash).await?;
    // Their own password now: a clinician suspended by an administrator's reset is back.
    store.set_password_reset(user.id, None).await?;
    let ended = store.delete_other_sessions(user.id, keep).await?;
    // A token made with the old password might be what leaked with it: they all end.
    let tokens = store.revoke_all_api_tokens(user.id, now_ms()).await?;
    actor
        .audit(
            user.patient_id,
            "account.password",
            &format!("{ended} other sessions ended, {tokens} tokens revoked"),
        )
        .await?;
    Ok(ended)
}

// Turning two-step sign-in on and off: see second_factor.rs (a server-kept secret, codes
// accepted once, recovery codes).

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked_against_the_secret() {
        let setup = new_setup("anne").unwrap();
        assert!(setup.url.starts_with("otpauth://totp/Tonus:anne?"), "{}", setup.url);
        assert!(setup.qr_svg.contains("<svg"));
        let t = totp(&setup.secret, "anne").unwrap();
        let code = t.generate_current().unwrap();
        assert!(code_matches(&setup.secret, "anne", &code));
        assert!(code_matches(
            &setup.secret,
            "anne",
            &format!("{} {}", &code[..3], &code[3..])
        ));
        let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
        assert!(!code_matches(&setup.secret, "anne", &wrong));
        assert!(!code_matches(&setup.secret, "anne", "12345"));
        assert!(!code_matches(&setup.secret, "anne", "abcdef"));
        assert!(totp("not base32!", "anne").is_err());
    }
}
