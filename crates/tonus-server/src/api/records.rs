//! Exercise sessions and clinical events through the API: record, read, correct, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tonus_domain::{ClinicalEvent, EventKind, ExerciseSession};
use tonus_store::Stored;
use utoipa::ToSchema;

use super::{decode, ApiBody, ApiJson, ApiPath, ApiQuery, RangeQuery};
use crate::auth::{ClientAddr, PatientAuth};
use crate::error::{AppResult, ErrorBody};
use crate::service::events::{self, EventInput};
use crate::service::exercise::{self, ExerciseInput};
use crate::service::{dates, Own};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExerciseIn {
    /// yoga, pilates, water, stretching, walking, cycling, strength, other
    #[serde(rename = "type")]
    pub exercise_type: String,
    /// 1–600
    #[schema(minimum = 1, maximum = 600)]
    pub minutes: i64,
    /// Perceived exertion 0–10 (gentle is about 2–4).
    #[schema(minimum = 0, maximum = 10)]
    pub exertion: i64,
    /// RFC 3339 or local time in the patient's zone; default now (a correction: as stored).
    pub at: Option<String>,
    pub note: Option<String>,
}

impl From<ExerciseIn> for ExerciseInput {
    fn from(i: ExerciseIn) -> Self {
        ExerciseInput {
            exercise_type: i.exercise_type,
            minutes: Some(i.minutes),
            exertion: Some(i.exertion),
            at: i.at,
            note: i.note,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ExerciseOut {
    pub id: i64,
    #[serde(rename = "type")]
    pub exercise_type: String,
    pub minutes: u16,
    pub exertion: u8,
    /// Minutes × exertion.
    pub load: u32,
    pub at: String,
    pub time_zone: String,
    pub local_date: String,
    pub note: Option<String>,
}

fn exercise_out(s: &Stored<ExerciseSession>) -> ExerciseOut {
    let v = &s.value;
    ExerciseOut {
        id: s.id,
        exercise_type: v.exercise_type().code().to_string(),
        minutes: v.minutes(),
        exertion: v.exertion(),
        load: v.load(),
        at: super::episodes::millis(v.at().at),
        time_zone: v.at().zone.to_string(),
        local_date: v.at().local_date().to_string(),
        note: v.note().map(str::to_string),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    /// mri, relapse, infection, diagnosis, other
    pub kind: String,
    /// The day (default today).
    pub date: Option<String>,
    /// Last day, for relapses, infections and other events that last (not MRI or diagnosis).
    pub until: Option<String>,
    pub summary: Option<String>,
    /// For `other`: what it was (1–100 characters).
    pub name: Option<String>,
    /// For `mri`: brain, cervical-cord, thoracic-cord.
    pub mri_region: Option<String>,
    #[schema(minimum = 0, maximum = 1000)]
    pub lesions_total: Option<i64>,
    #[schema(minimum = 0, maximum = 1000)]
    pub lesions_new: Option<i64>,
    #[schema(minimum = 0, maximum = 1000)]
    pub lesions_enhancing: Option<i64>,
}

impl From<EventIn> for EventInput {
    fn from(i: EventIn) -> Self {
        EventInput {
            kind: i.kind,
            date: i.date,
            until: i.until,
            summary: i.summary,
            name: i.name,
            mri_region: i.mri_region,
            lesions_total: i.lesions_total,
            lesions_new: i.lesions_new,
            lesions_enhancing: i.lesions_enhancing,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ClinicalEventOut {
    pub id: i64,
    pub kind: String,
    pub date: String,
    pub until: Option<String>,
    pub summary: Option<String>,
    pub name: Option<String>,
    pub mri_region: Option<String>,
    pub lesions_total: Option<u32>,
    pub lesions_new: Option<u32>,
    pub lesions_enhancing: Option<u32>,
}

fn event_out(e: &Stored<ClinicalEvent>) -> ClinicalEventOut {
    let v = &e.value;
    let mut out = ClinicalEventOut {
        id: e.id,
        kind: v.kind().code().to_string(),
        date: v.on().to_string(),
        until: v.until().map(|d| d.to_string()),
        summary: v.summary().map(str::to_string),
        name: None,
        mri_region: None,
        lesions_total: None,
        lesions_new: None,
        lesions_enhancing: None,
    };
    match v.kind() {
        EventKind::Mri {
            region,
            lesions_total,
            lesions_new,
            lesions_enhancing,
        } => {
            out.mri_region = Some(region.code().to_string());
            out.lesions_total = *lesions_total;
            out.lesions_new = *lesions_new;
            out.lesions_enhancing = *lesions_enhancing;
        }
        EventKind::Other { name } => out.name = Some(name.clone()),
        _ => {}
    }
    out
}

#[utoipa::path(get, path = "/api/exercise", tag = "exercise", params(RangeQuery),
    responses((status = 200, body = [ExerciseOut]), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn list_exercise(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<Vec<ExerciseOut>>> {
    let me = Own::new(&state, &pa, &addr);
    let (from, to) = dates(me.patient, q.from.as_deref(), q.to.as_deref())?;
    Ok(Json(
        exercise::list(&me, from, to).await?.iter().map(exercise_out).collect(),
    ))
}

#[utoipa::path(post, path = "/api/exercise", tag = "exercise", request_body = ExerciseIn,
    responses((status = 201, body = ExerciseOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn create_exercise(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiJson(input): ApiJson<ExerciseIn>,
) -> AppResult<Response> {
    let s = exercise::record(&Own::new(&state, &pa, &addr), &input.into()).await?;
    Ok((StatusCode::CREATED, Json(exercise_out(&s))).into_response())
}

#[utoipa::path(get, path = "/api/exercise/{id}", tag = "exercise", params(("id" = i64, Path)),
    responses((status = 200, body = ExerciseOut), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn get_exercise(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ExerciseOut>> {
    Ok(Json(exercise_out(
        &exercise::get(&Own::new(&state, &pa, &addr), id).await?,
    )))
}

#[utoipa::path(put, path = "/api/exercise/{id}", tag = "exercise", params(("id" = i64, Path)), request_body = ExerciseIn,
    responses((status = 200, body = ExerciseOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// Replaces a session with the body; `at` stays as stored unless given.
pub async fn replace_exercise(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiBody(body): ApiBody,
) -> AppResult<Json<ExerciseOut>> {
    let me = Own::new(&state, &pa, &addr);
    exercise::get(&me, id).await?;
    let input: ExerciseIn = decode(&body)?;
    Ok(Json(exercise_out(&exercise::correct(&me, id, &input.into()).await?)))
}

#[utoipa::path(delete, path = "/api/exercise/{id}", tag = "exercise", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn delete_exercise(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    exercise::delete(&Own::new(&state, &pa, &addr), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/events", tag = "events", params(RangeQuery),
    responses((status = 200, body = [ClinicalEventOut]), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn list_events(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<Vec<ClinicalEventOut>>> {
    let me = Own::new(&state, &pa, &addr);
    let (from, to) = dates(me.patient, q.from.as_deref(), q.to.as_deref())?;
    Ok(Json(events::list(&me, from, to).await?.iter().map(event_out).collect()))
}

#[utoipa::path(post, path = "/api/events", tag = "events", request_body = EventIn,
    responses((status = 201, body = ClinicalEventOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn create_event(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiJson(input): ApiJson<EventIn>,
) -> AppResult<Response> {
    let e = events::record(&Own::new(&state, &pa, &addr), &input.into()).await?;
    Ok((StatusCode::CREATED, Json(event_out(&e))).into_response())
}

#[utoipa::path(get, path = "/api/events/{id}", tag = "events", params(("id" = i64, Path)),
    responses((status = 200, body = ClinicalEventOut), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn get_event(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ClinicalEventOut>> {
    Ok(Json(event_out(&events::get(&Own::new(&state, &pa, &addr), id).await?)))
}

#[utoipa::path(put, path = "/api/events/{id}", tag = "events", params(("id" = i64, Path)), request_body = EventIn,
    responses((status = 200, body = ClinicalEventOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// Replaces an event with the body.
pub async fn replace_event(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiBody(body): ApiBody,
) -> AppResult<Json<ClinicalEventOut>> {
    let me = Own::new(&state, &pa, &addr);
    events::get(&me, id).await?;
    let input: EventIn = decode(&body)?;
    Ok(Json(event_out(&events::correct(&me, id, &input.into()).await?)))
}

#[utoipa::path(delete, path = "/api/events/{id}", tag = "events", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn delete_event(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    events::delete(&Own::new(&state, &pa, &addr), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
