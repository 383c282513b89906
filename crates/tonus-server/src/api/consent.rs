//! Consent through the API: the patient's grants, revoking one, and who viewed the data.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiPath;
use crate::auth::{ClientAddr, PatientAuth};
use crate::error::{AppResult, ErrorBody};
use crate::service::{sharing, Own};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ConsentOut {
    pub id: i64,
    pub clinician: String,
    pub via: String,
    pub granted_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

#[utoipa::path(get, path = "/api/consents", tag = "consent",
    responses((status = 200, body = [ConsentOut])), security(("token" = []), ("session" = [])))]
pub async fn list_consents(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
) -> AppResult<Json<Vec<ConsentOut>>> {
    let rows = sharing::consents(&Own::new(&state, &pa, &addr)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| ConsentOut {
                id: c.id,
                clinician: c.clinician_username,
                via: c.via,
                granted_at_ms: c.granted_at_ms,
                revoked_at_ms: c.revoked_at_ms,
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/consents/{id}/revoke", tag = "consent", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("token" = []), ("session" = [])))]
pub async fn revoke_consent(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    sharing::revoke(&Own::new(&state, &pa, &addr), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct AuditOut {
    pub id: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub address: String,
    pub detail: String,
}

#[utoipa::path(get, path = "/api/audit", tag = "consent",
    responses((status = 200, body = [AuditOut], description = "Who did what with your data, newest first")),
    security(("token" = []), ("session" = [])))]
pub async fn own_audit(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
) -> AppResult<Json<Vec<AuditOut>>> {
    let rows = sharing::access_log(&Own::new(&state, &pa, &addr)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditOut {
                id: r.id,
                at_ms: r.at_ms,
                actor: r.actor,
                action: r.action,
                address: r.address,
                detail: r.detail,
            })
            .collect(),
    ))
}
