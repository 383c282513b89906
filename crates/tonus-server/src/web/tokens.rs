//! The patient's personal access tokens, for scripts using the JSON API.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use super::{fmt_ms, render, see_other, status_for, FormFields, Nav};
use crate::auth::{ClientAddr, CsrfToken, PatientAuth};
use crate::error::{AppError, AppResult};
use crate::service::{tokens, Own};
use crate::state::AppState;
use tonus_store::TokenScope;

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub scope: &'static str,
    pub created: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
pub struct TokensPage {
    nav: Nav,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    error: Option<String>,
    name: String,
}

async fn tokens_page(
    me: &Own<'_>,
    csrf: &CsrfToken,
    new_token: Option<String>,
    error: Option<String>,
    name: String,
) -> AppResult<Response> {
    let zone = &me.patient.zone;
    let tokens = tokens::list(me)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            scope: match t.scope {
                TokenScope::Read => "read only",
                TokenScope::ReadWrite => "read and write",
            },
            created: fmt_ms(t.created_at_ms, zone),
            revoked: t.revoked_at_ms.is_some(),
        })
        .collect();
    let status = status_for(&error);
    render(
        &TokensPage {
            nav: Nav::new(Some(me.actor.auth), csrf),
            tokens,
            new_token,
            error,
            name,
        },
        status,
    )
}

/// GET /tokens
pub async fn tokens(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    tokens_page(&Own::new(&state, &pa, &addr), &csrf, None, None, String::new()).await
}

/// POST /tokens: the secret is shown once, on this answer.
pub async fn create_token(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    // The form's default is read-write, the same as the API's (what tokens did before).
    let scope = match form.get("scope") {
        "" => Ok(TokenScope::ReadWrite),
        s => TokenScope::parse(s),
    };
    let created = match scope {
        Ok(scope) => tokens::create(&me, form.get("name"), scope).await,
        Err(e) => Err(AppError::Invalid(e)),
    };
    match created {
        Ok(t) => tokens_page(&me, &csrf, Some(t.secret), None, String::new()).await,
        Err(AppError::Invalid(e)) => {
            tokens_page(&me, &csrf, None, Some(e.to_string()), form.get("name").to_string()).await
        }
        Err(e) => Err(e),
    }
}

/// POST /tokens/{id}/revoke
pub async fn revoke_token(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    tokens::revoke(&Own::new(&state, &pa, &addr), id).await?;
    Ok(see_other("/tokens"))
}
