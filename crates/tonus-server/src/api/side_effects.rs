//! Side effects through the API: record, read, correct, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tonus_domain::{Effect, Severity, SideEffect};
use tonus_store::Stored;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::ToSchema;

use super::{decode, ApiBody, ApiPath, ApiQuery, RangeQuery};
use crate::auth::{ClientAddr, PatientAuth};
use crate::error::{AppResult, ErrorBody};
use crate::service::side_effects::{self, SideEffectInput};
use crate::service::{dates, Own};
use crate::state::AppState;

/// A side effect felt. `effect` and `severity` are required.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SideEffectIn {
    /// drowsiness, weakness, dizziness, fatigue, nausea, dry-mouth, headache, confusion, other
    #[schema(schema_with = effect_schema)]
    pub effect: String,
    /// What was felt in the patient's words; required for `other`; at most 100 characters.
    pub description: Option<String>,
    #[schema(schema_with = severity_schema)]
    pub severity: String,
    /// Name of one of the patient's treatments the patient suspects (case is ignored); a name
    /// that matches none is refused (422, field `suspected_treatment`).
    pub suspected_treatment: Option<String>,
    /// At most 2,000 characters once surrounding white space is trimmed.
    pub note: Option<String>,
    /// When it was felt: RFC 3339, or local time in the patient's zone; default now (for a
    /// correction: the stored time).
    pub at: Option<String>,
}

impl From<SideEffectIn> for SideEffectInput {
    fn from(i: SideEffectIn) -> Self {
        SideEffectInput {
            effect: i.effect,
            description: i.description,
            severity: i.severity,
            suspected_treatment: i.suspected_treatment,
            note: i.note,
            at: i.at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SideEffectOut {
    pub id: i64,
    pub effect: String,
    /// The label of the effect, or the patient's words when given.
    pub what: String,
    pub description: Option<String>,
    pub severity: String,
    pub suspected_treatment: Option<String>,
    pub note: Option<String>,
    /// RFC 3339 UTC
    pub at: String,
    pub time_zone: String,
    pub local_date: String,
}

fn effect_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Effect::ALL.iter().map(|v| v.code())))
        .build()
}

fn severity_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Severity::ALL.iter().map(|v| v.code())))
        .build()
}

pub(crate) fn side_effect_out(s: &Stored<SideEffect>) -> SideEffectOut {
    let v = &s.value;
    SideEffectOut {
        id: s.id,
        effect: v.effect().code().to_string(),
        what: v.what().to_string(),
        description: v.description().map(str::to_string),
        severity: v.severity().code().to_string(),
        suspected_treatment: v.suspected_treatment().map(str::to_string),
        note: v.note().map(str::to_string),
        at: super::episodes::millis(v.at().at),
        time_zone: v.at().zone.to_string(),
        local_date: v.at().local_date().to_string(),
    }
}

#[utoipa::path(get, path = "/api/side-effects", tag = "side effects", params(RangeQuery),
    responses((status = 200, body = [SideEffectOut]), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn list_side_effects(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<Vec<SideEffectOut>>> {
    let me = Own::new(&state, &pa, &addr);
    let (from, to) = dates(me.patient, q.from.as_deref(), q.to.as_deref())?;
    let rows = side_effects::list(&me, from, to).await?;
    Ok(Json(rows.iter().map(side_effect_out).collect()))
}

#[utoipa::path(post, path = "/api/side-effects", tag = "side effects", request_body = SideEffectIn,
    params(super::idempotency::IdempotencyKeyHeader),
    responses((status = 201, body = SideEffectOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn create_side_effect(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    key: super::idempotency::IdemKey,
    ApiBody(body): ApiBody,
) -> AppResult<Response> {
    let input: SideEffectIn = decode(&body)?;
    let me = Own::new(&state, &pa, &addr);
    if let Some(key) = key.for_request("POST /api/side-effects", &body) {
        let value = side_effects::prepare(&me, &input.into())?;
        let (shown, patient_id) = (value.clone(), me.patient.id);
        let render: tonus_store::RenderAnswer = std::sync::Arc::new(move |id| match id {
            Some(id) => {
                let stored = Stored {
                    id,
                    patient_id,
                    value: shown.clone(),
                };
                super::idempotency::json(StatusCode::CREATED, &side_effect_out(&stored))
            }
            None => Err("a side effect is always written".to_string()),
        });
        let answer = me
            .write_once(&key, tonus_store::KeyedWrite::SideEffect(value), render)
            .await?;
        return super::idempotency::respond(answer);
    }
    let stored = side_effects::record(&me, &input.into()).await?;
    Ok((StatusCode::CREATED, Json(side_effect_out(&stored))).into_response())
}

#[utoipa::path(get, path = "/api/side-effects/{id}", tag = "side effects", params(("id" = i64, Path)),
    responses((status = 200, body = SideEffectOut), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn get_side_effect(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<SideEffectOut>> {
    let s = side_effects::get(&Own::new(&state, &pa, &addr), id).await?;
    Ok(Json(side_effect_out(&s)))
}

#[utoipa::path(put, path = "/api/side-effects/{id}", tag = "side effects", params(("id" = i64, Path)), request_body = SideEffectIn,
    responses((status = 200, body = SideEffectOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// Replaces a side effect with the body (a correction); fields left out are cleared, except
/// `at`, which stays as stored unless given.
pub async fn replace_side_effect(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiBody(body): ApiBody,
) -> AppResult<Json<SideEffectOut>> {
    let me = Own::new(&state, &pa, &addr);
    // A missing side effect is a 404 whatever the body says.
    side_effects::get(&me, id).await?;
    let input: SideEffectIn = decode(&body)?;
    let stored = side_effects::correct(&me, id, &input.into()).await?;
    Ok(Json(side_effect_out(&stored)))
}

#[utoipa::path(delete, path = "/api/side-effects/{id}", tag = "side effects", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn delete_side_effect(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    side_effects::delete(&Own::new(&state, &pa, &addr), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
