//! The account through the API: who am I, and the personal access tokens.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, ApiPath};
use crate::auth::{Auth, ClientAddr, PatientAuth};
use crate::error::{AppResult, ErrorBody};
use crate::service::{tokens, Own};
use crate::state::AppState;
use tonus_store::TokenScope;

#[derive(Serialize, ToSchema)]
pub struct MeOut {
    pub id: i64,
    pub username: String,
    /// patient, clinician or admin
    pub role: String,
    pub patient_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/me", tag = "account",
    responses((status = 200, body = MeOut), (status = 401, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn me(auth: Auth) -> Json<MeOut> {
    Json(MeOut {
        id: auth.user.id,
        username: auth.user.username,
        role: auth.user.role.code().to_string(),
        patient_id: auth.user.patient_id,
    })
}

#[derive(Serialize, ToSchema)]
pub struct TokenOut {
    pub id: i64,
    pub name: String,
    /// `read` or `read-write`.
    pub scope: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenIn {
    /// What the script is for: 1–64 characters once surrounding white space is trimmed, no
    /// control characters.
    #[schema(min_length = 1)]
    pub name: String,
    /// `read` (GET only) or `read-write` (also log episodes and check-ins). Default:
    /// `read-write`, what tokens could do before scopes existed. No scope reaches tokens,
    /// sharing, invitations, calendar feeds or the account.
    #[serde(default)]
    pub scope: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NewTokenOut {
    pub id: i64,
    pub name: String,
    pub scope: String,
    /// The secret, shown only in this answer: send it as `Authorization: Bearer …`.
    pub token: String,
}

#[utoipa::path(get, path = "/api/tokens", tag = "account",
    responses((status = 200, body = [TokenOut])), security(("token" = []), ("session" = [])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
) -> AppResult<Json<Vec<TokenOut>>> {
    let tokens = tokens::list(&Own::new(&state, &pa, &addr)).await?;
    Ok(Json(
        tokens
            .into_iter()
            .map(|t| TokenOut {
                id: t.id,
                name: t.name,
                scope: t.scope.code().to_string(),
                created_at_ms: t.created_at_ms,
                last_used_at_ms: t.last_used_at_ms,
                revoked_at_ms: t.revoked_at_ms,
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/tokens", tag = "account", request_body = TokenIn,
    responses((status = 201, body = NewTokenOut), (status = 422, body = ErrorBody)), security(("token" = []), ("session" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiJson(input): ApiJson<TokenIn>,
) -> AppResult<Response> {
    let scope = match input.scope.as_deref() {
        None => TokenScope::ReadWrite,
        Some(s) => TokenScope::parse(s)?,
    };
    let t = tokens::create(&Own::new(&state, &pa, &addr), &input.name, scope).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewTokenOut {
            id: t.id,
            name: t.name,
            scope: t.scope.code().to_string(),
            token: t.secret,
        }),
    )
        .into_response())
}

#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "account", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("token" = []), ("session" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    tokens::revoke(&Own::new(&state, &pa, &addr), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
