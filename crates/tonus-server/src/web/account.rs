//! The signed-in user's own account page: password change and two-step sign-in (TOTP).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use tonus_domain::ValidationError;

use super::{render, see_other, FieldError, FormFields, Nav};
use crate::auth::{Auth, ClientAddr, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::service::account::{self, TotpSetup};
use crate::service::{second_factor, Actor};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    username: String,
    role: String,
    totp_on: bool,
    setup: Option<TotpSetup>,
    /// Shown once, right after two-step sign-in is turned on.
    recovery_codes: Vec<String>,
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

async fn page(actor: &Actor<'_>, csrf: &CsrfToken) -> AppResult<AccountPage> {
    account::session_id(actor)?;
    Ok(AccountPage {
        nav: Nav::new(Some(actor.auth), csrf),
        username: actor.auth.user.username.clone(),
        role: actor.auth.user.role.code().to_string(),
        totp_on: account::totp_on(actor).await?,
        setup: None,
        recovery_codes: Vec::new(),
        // E.g. "an administrator removed your two-step sign-in": shown once.
        message: second_factor::take_notice(actor).await?,
        error: None,
    })
}

fn invalid(mut p: AccountPage, e: ValidationError) -> AppResult<Response> {
    p.error = Some(FieldError::from(&e));
    render(&p, StatusCode::UNPROCESSABLE_ENTITY)
}

/// GET /account
pub async fn account(
    State(state): State<AppState>,
    auth: Auth,
    csrf: CsrfToken,
    addr: ClientAddr,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let actor = Actor::new(&state, &auth, &addr);
    let mut p = page(&actor, &csrf).await?;
    // Right after sign-up: the server added digits to the name typed, so say the whole name.
    if query.as_deref() == Some("welcome") && p.message.is_none() {
        p.message = Some(format!(
            "Your account is ready. Your sign-in name is {}: write it down or let your browser save it, you need it with your password to sign in.",
            p.username
        ));
    }
    render(&p, StatusCode::OK)
}

/// POST /account/password: current password, new password twice. Every other session ends.
pub async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let actor = Actor::new(&state, &auth, &addr);
    let mut p = page(&actor, &csrf).await?;
    let changed = account::change_password(
        &actor,
        form.get("current_password"),
        form.get("new_password"),
        form.get("confirm_password"),
    )
    .await;
    match changed {
        Ok(ended) => {
            p.message = Some(format!(
                "Password changed. {ended} other session{} signed out.",
                if ended == 1 { " was" } else { "s were" }
            ));
            render(&p, StatusCode::OK)
        }
        Err(AppError::Invalid(e)) => invalid(p, e),
        Err(e) => Err(e),
    }
}

/// POST /account/totp/start: shows a new secret (text and QR code) to add to an authenticator app.
pub async fn totp_start(
    State(state): State<AppState>,
    auth: Auth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    let actor = Actor::new(&state, &auth, &addr);
    let mut p = page(&actor, &csrf).await?;
    if p.totp_on {
        return Ok(see_other("/account"));
    }
    p.setup = Some(second_factor::start(&actor).await?);
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
    let actor = Actor::new(&state, &auth, &addr);
    let mut p = page(&actor, &csrf).await?;
    if p.totp_on {
        return Ok(see_other("/account"));
    }
    // The secret is the one the server keeps; a "secret" field in the form is ignored.
    match second_factor::enable(&actor, form.get("code")).await {
        Ok(codes) => {
            p.totp_on = true;
            p.recovery_codes = codes;
            p.message = Some("Two-step sign-in is on: from now on, sign-in asks for a code from your app.".into());
            render(&p, StatusCode::OK)
        }
        // A wrong code shows the same secret again, to retry with the app's next code.
        Err(AppError::Invalid(e)) if e.field == "code" => {
            p.setup = second_factor::pending(&actor).await?;
            invalid(p, e)
        }
        Err(e) => Err(e),
    }
}

/// POST /account/totp/disable: needs the password and a current code.
pub async fn totp_disable(
    State(state): State<AppState>,
    auth: Auth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let actor = Actor::new(&state, &auth, &addr);
    let mut p = page(&actor, &csrf).await?;
    match second_factor::disable(&actor, form.get("current_password"), form.get("code")).await {
        Ok(true) => {
            p.totp_on = false;
            p.message = Some("Two-step sign-in is off.".into());
            render(&p, StatusCode::OK)
        }
        Ok(false) => Ok(see_other("/account")),
        Err(AppError::Invalid(e)) => invalid(p, e),
        Err(e) => Err(e),
    }
}
