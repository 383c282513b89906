//! The signed-in user's own account: password change (which ends every other session) and the
//! optional second factor (TOTP, RFC 6238, as authenticator apps implement it).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tonus_domain::ValidationError;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::auth::{Auth, ClientAddr, CsrfToken, Via};
use crate::error::{AppError, AppResult};
use crate::pages::{render, FieldError, FormFields, Nav};
use crate::security::{check_password_rules, hash_password, verify_password};
use crate::state::AppState;

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

/// Checks a typed code (spaces allowed) against the current time window.
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

fn new_setup(account: &str) -> AppResult<TotpSetup> {
    let secret = match Secret::generate_secret().to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => return Err(AppError::Internal),
    };
    setup_for(secret, account)
}

fn setup_for(secret: String, account: &str) -> AppResult<TotpSetup> {
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

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    username: String,
    role: String,
    totp_on: bool,
    setup: Option<TotpSetup>,
    message: Option<String>,
    error: Option<FieldError>,
}

impl AccountPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

async fn page(state: &AppState, auth: &Auth, csrf: &CsrfToken) -> AppResult<AccountPage> {
    Ok(AccountPage {
        nav: Nav::new(Some(auth), csrf),
        username: auth.user.username.clone(),
        role: auth.user.role.code().to_string(),
        totp_on: state.store.totp_secret(auth.user.id).await?.is_some(),
        setup: None,
        message: None,
        error: None,
    })
}

fn session_id(auth: &Auth) -> AppResult<i64> {
    match auth.via {
        Via::Session { id, .. } => Ok(id),
        // Account changes need a browser session (and its CSRF check), not an API token.
        Via::Token => Err(AppError::Forbidden),
    }
}

/// Confirms the signed-in user's current password before a change to their credentials.
async fn current_password_ok(state: &AppState, auth: &Auth, typed: &str) -> AppResult<bool> {
    let hash = state.store.password_hash(auth.user.id).await?;
    verify_password(typed.to_string(), hash).await
}

fn invalid(mut p: AccountPage, e: ValidationError) -> AppResult<Response> {
    p.error = Some(FieldError::from(&e));
    render(&p, StatusCode::UNPROCESSABLE_ENTITY)
}

/// GET /account
pub async fn account(State(state): State<AppState>, auth: Auth, csrf: CsrfToken) -> AppResult<Response> {
    session_id(&auth)?;
    render(&page(&state, &auth, &csrf).await?, StatusCode::OK)
}

/// POST /account/password: current password, new password twice. Every other session ends.
pub async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let keep = session_id(&auth)?;
    let p = page(&state, &auth, &csrf).await?;
    if !current_password_ok(&state, &auth, form.get("current_password")).await? {
        return invalid(
            p,
            ValidationError::new("current_password", "your current password", "a different one"),
        );
    }
    let new = form.get("new_password");
    if let Err(e) = check_password_rules(new, &auth.user.username) {
        return invalid(
            p,
            ValidationError {
                field: "new_password".into(),
                ..e
            },
        );
    }
    if form.get("confirm_password") != new {
        return invalid(
            p,
            ValidationError::new("confirm_password", "the same as the new password", "a different text"),
        );
    }
    let hash = hash_password(new.to_string()).await?;
    state.store.set_password_hash(auth.user.id, &hash).await?;
    let ended = state.store.delete_other_sessions(auth.user.id, keep).await?;
    state
        .audit(
            (Some(auth.user.id), &auth.user.username),
            auth.user.patient_id,
            "account.password",
            &addr.0,
            &format!("{ended} other sessions ended"),
        )
        .await?;
    let mut p = p;
    p.message = Some(format!(
        "Password changed. {ended} other session{} signed out.",
        if ended == 1 { " was" } else { "s were" }
    ));
    render(&p, StatusCode::OK)
}

/// POST /account/totp/start: shows a new secret (text and QR code) to add to an authenticator app.
pub async fn totp_start(State(state): State<AppState>, auth: Auth, csrf: CsrfToken) -> AppResult<Response> {
    session_id(&auth)?;
    let mut p = page(&state, &auth, &csrf).await?;
    if p.totp_on {
        return Ok(Redirect::to("/account").into_response());
    }
    p.setup = Some(new_setup(&auth.user.username)?);
    render(&p, StatusCode::OK)
}

/// POST /account/totp/enable: stores the secret once a code from the app proves it was added.
pub async fn totp_enable(
    State(state): State<AppState>,
    auth: Auth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    session_id(&auth)?;
    let mut p = page(&state, &auth, &csrf).await?;
    if p.totp_on {
        return Ok(Redirect::to("/account").into_response());
    }
    let secret = form.get("secret").trim().to_string();
    totp(&secret, &auth.user.username)?;
    if !code_matches(&secret, &auth.user.username, form.get("code")) {
        p.setup = Some(setup_for(secret, &auth.user.username)?);
        return invalid(
            p,
            ValidationError::new(
                "code",
                "the 6-digit code your app shows now",
                "a code that does not match",
            ),
        );
    }
    state.store.set_totp_secret(auth.user.id, Some(&secret)).await?;
    state
        .audit(
            (Some(auth.user.id), &auth.user.username),
            auth.user.patient_id,
            "account.totp.on",
            &addr.0,
            "",
        )
        .await?;
    p.totp_on = true;
    p.message = Some("Two-step sign-in is on: from now on, sign-in asks for a code from your app.".into());
    render(&p, StatusCode::OK)
}

/// POST /account/totp/disable: needs the password and a current code.
pub async fn totp_disable(
    State(state): State<AppState>,
    auth: Auth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    session_id(&auth)?;
    let mut p = page(&state, &auth, &csrf).await?;
    let Some(secret) = state.store.totp_secret(auth.user.id).await? else {
        return Ok(Redirect::to("/account").into_response());
    };
    if !current_password_ok(&state, &auth, form.get("current_password")).await? {
        return invalid(
            p,
            ValidationError::new("current_password", "your current password", "a different one"),
        );
    }
    if !code_matches(&secret, &auth.user.username, form.get("code")) {
        return invalid(
            p,
            ValidationError::new(
                "code",
                "the 6-digit code your app shows now",
                "a code that does not match",
            ),
        );
    }
    state.store.set_totp_secret(auth.user.id, None).await?;
    state
        .audit(
            (Some(auth.user.id), &auth.user.username),
            auth.user.patient_id,
            "account.totp.off",
            &addr.0,
            "",
        )
        .await?;
    p.totp_on = false;
    p.message = Some("Two-step sign-in is off.".into());
    render(&p, StatusCode::OK)
}

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
