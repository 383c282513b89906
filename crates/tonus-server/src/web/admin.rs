//! The administrator's page: create accounts, disable or enable them, set a new password.
//! Administrators never see health data.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use tonus_domain::time::Zone;
use tonus_domain::ValidationError;
use tonus_store::Role;

use super::{field_err, fmt_ms, opt, render, status_for, FieldError, FormFields, Nav, Opt};
use crate::auth::{AdminAuth, ClientAddr, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::service::accounts::{self, NewAccount};
use crate::service::{admin, second_factor, Actor};
use crate::state::AppState;

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub created: String,
    pub disabled: bool,
    pub is_me: bool,
}

#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    nav: Nav,
    users: Vec<UserRow>,
    roles: Vec<Opt>,
    username: String,
    time_zone: String,
    message: Option<String>,
    error: Option<FieldError>,
}

impl AdminPage {
    fn err(&self, field: &str) -> Option<&str> {
        field_err(&self.error, field)
    }
}

async fn admin_page(
    actor: &Actor<'_>,
    csrf: &CsrfToken,
    form: &FormFields,
    message: Option<String>,
    error: Option<ValidationError>,
) -> AppResult<Response> {
    let utc = Zone::utc();
    let users = admin::users(actor)
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            is_me: u.id == actor.auth.user.id,
            username: u.username,
            role: u.role.code().to_string(),
            created: fmt_ms(u.created_at_ms, &utc),
            disabled: u.disabled,
        })
        .collect();
    let role = match form.get("role") {
        "" => "patient",
        r => r,
    };
    let zone = match form.get("time_zone") {
        "" => "UTC",
        z => z,
    };
    let status = status_for(&error);
    render(
        &AdminPage {
            nav: Nav::new(Some(actor.auth), csrf),
            users,
            roles: Role::ALL
                .iter()
                .map(|r| opt(r.code(), r.code(), r.code() == role))
                .collect(),
            username: form.get("username").to_string(),
            time_zone: zone.to_string(),
            message,
            error: error.as_ref().map(FieldError::from),
        },
        status,
    )
}

/// The page with a message on success, or with the broken rule; other errors as they are.
async fn outcome(
    actor: &Actor<'_>,
    csrf: &CsrfToken,
    form: &FormFields,
    result: AppResult<String>,
) -> AppResult<Response> {
    let blank = FormFields(Vec::new());
    match result {
        Ok(msg) => admin_page(actor, csrf, &blank, Some(msg), None).await,
        Err(AppError::Invalid(e)) => admin_page(actor, csrf, form, None, Some(e)).await,
        Err(e) => Err(e),
    }
}

/// GET /admin
pub async fn admin_home(
    State(state): State<AppState>,
    AdminAuth(auth): AdminAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    let actor = Actor::new(&state, &auth, &addr);
    admin_page(&actor, &csrf, &FormFields(Vec::new()), None, None).await
}

/// POST /admin/users
pub async fn admin_create_user(
    State(state): State<AppState>,
    AdminAuth(auth): AdminAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let actor = Actor::new(&state, &auth, &addr);
    let created = match Role::parse(form.get("role")) {
        Ok(role) => {
            let input = NewAccount {
                username: form.get("username"),
                password: form.get("password"),
                role,
                time_zone: form.get("time_zone"),
            };
            accounts::create_by_admin(&actor, &input).await
        }
        Err(e) => Err(AppError::Invalid(e)),
    };
    let result = created.map(|u| format!("Created {} account {}.", u.role, u.username));
    outcome(&actor, &csrf, &form, result).await
}

async fn set_disabled(
    state: &AppState,
    auth: &AdminAuth,
    csrf: &CsrfToken,
    addr: &ClientAddr,
    id: i64,
    disable: bool,
) -> AppResult<Response> {
    let actor = Actor::new(state, &auth.0, addr);
    let result = admin::set_disabled(&actor, id, disable).await.map(|(user, _)| {
        if disable {
            format!("Disabled {}: signed out everywhere, cannot sign in.", user.username)
        } else {
            format!("Enabled {}.", user.username)
        }
    });
    outcome(&actor, csrf, &FormFields(Vec::new()), result).await
}

/// POST /admin/users/{id}/disable: the account's sessions end at once.
pub async fn admin_disable_user(
    State(state): State<AppState>,
    auth: AdminAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    set_disabled(&state, &auth, &csrf, &addr, id, true).await
}

/// POST /admin/users/{id}/enable
pub async fn admin_enable_user(
    State(state): State<AppState>,
    auth: AdminAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    set_disabled(&state, &auth, &csrf, &addr, id, false).await
}

/// POST /admin/users/{id}/password: a new password for someone who lost theirs; their
/// sessions end.
pub async fn admin_reset_password(
    State(state): State<AppState>,
    AdminAuth(auth): AdminAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
    form: FormFields,
) -> AppResult<Response> {
    let actor = Actor::new(&state, &auth, &addr);
    let result = admin::reset_password(&actor, id, form.get("password"))
        .await
        .map(|u| format!("New password set for {}; their sessions were ended.", u.username));
    outcome(&actor, &csrf, &FormFields(Vec::new()), result).await
}

/// POST /admin/users/{id}/totp/remove: for someone who lost their phone and recovery codes.
/// Audited; they are told at their next sign-in.
pub async fn admin_remove_totp(
    State(state): State<AppState>,
    AdminAuth(auth): AdminAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let actor = Actor::new(&state, &auth, &addr);
    let result = second_factor::remove_by_admin(&actor, id).await.map(|u| {
        format!(
            "Removed two-step sign-in from {}; they will be told when they sign in.",
            u.username
        )
    });
    outcome(&actor, &csrf, &FormFields(Vec::new()), result).await
}
