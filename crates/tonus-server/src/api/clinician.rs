//! What a clinician reads through the API: the patients who shared with them, and a consented
//! patient's episodes (audited).

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::episodes::{stored_out, EpisodeOut};
use super::{ApiPath, ApiQuery, RangeQuery};
use crate::auth::{ClientAddr, ClinicianAuth};
use crate::error::{AppResult, ErrorBody};
use crate::service::{clinician, Actor};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct SharedPatientOut {
    pub patient_id: i64,
    pub handle: String,
    pub granted_at_ms: i64,
}

#[utoipa::path(get, path = "/api/clinician/patients", tag = "clinician",
    responses((status = 200, body = [SharedPatientOut]), (status = 403, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn clinician_patients(
    State(state): State<AppState>,
    ClinicianAuth(auth): ClinicianAuth,
    addr: ClientAddr,
) -> AppResult<Json<Vec<SharedPatientOut>>> {
    let rows = clinician::patients(&Actor::new(&state, &auth, &addr)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| SharedPatientOut {
                patient_id: c.patient_id,
                handle: c.patient_handle,
                granted_at_ms: c.granted_at_ms,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/clinician/patients/{patient_id}/episodes", tag = "clinician",
    params(("patient_id" = i64, Path), RangeQuery),
    responses((status = 200, body = [EpisodeOut]), (status = 404, body = ErrorBody, description = "No such patient, or no live consent")),
    security(("token" = []), ("session" = [])))]
pub async fn clinician_episodes(
    State(state): State<AppState>,
    ClinicianAuth(auth): ClinicianAuth,
    addr: ClientAddr,
    ApiPath(patient_id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<Vec<EpisodeOut>>> {
    let actor = Actor::new(&state, &auth, &addr);
    let rows = clinician::episodes(&actor, patient_id, q.from.as_deref(), q.to.as_deref(), "api").await?;
    Ok(Json(rows.iter().map(stored_out).collect()))
}
