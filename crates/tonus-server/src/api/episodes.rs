//! Episodes through the API: log, read, correct, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tonus_domain::episode::{EpisodeDraft, Region, SpasmKind, Trigger};
use tonus_domain::Episode;
use tonus_store::Stored;
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, Type};
use utoipa::ToSchema;

use std::sync::Arc;

use tonus_store::{KeyedWrite, RenderAnswer};

use super::idempotency::{self, IdemKey, IdempotencyKeyHeader};
use super::{decode, ApiBody, ApiPath, ApiQuery, RangeQuery};
use crate::auth::{ClientAddr, PatientAuth};
use crate::error::{AppResult, ErrorBody};
use crate::service::episodes::{self, EpisodeInput};
use crate::service::{dates, Own};
use crate::state::AppState;

/// A spasm episode to log. Only `kind` is required.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EpisodeIn {
    /// twitch, jerk, clonus, flexor-spasm, extensor-spasm, cramp, sustained-stiffness
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    #[serde(default)]
    #[schema(schema_with = regions_schema)]
    pub regions: Vec<String>,
    /// 0–10
    #[schema(minimum = 0, maximum = 10)]
    pub pain: Option<i64>,
    /// Seconds, up to 24 hours.
    #[schema(minimum = 0, maximum = 86_400)]
    pub duration_s: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = triggers_schema)]
    pub triggers: Vec<String>,
    /// At most 200 characters once surrounding white space is trimmed (a bound JSON Schema's
    /// maxLength cannot state, so it is given here in words).
    pub trigger_note: Option<String>,
    /// At most 2,000 characters once surrounding white space is trimmed.
    pub notes: Option<String>,
    /// When it started: RFC 3339, or local time in the patient's zone ("2026-11-20 03:10");
    /// default now. Entries more than an hour old are marked back-filled.
    pub started_at: Option<String>,
}

impl From<EpisodeIn> for EpisodeInput {
    fn from(input: EpisodeIn) -> Self {
        EpisodeInput {
            draft: EpisodeDraft {
                kind: input.kind,
                regions: input.regions,
                pain: input.pain,
                duration_s: input.duration_s,
                triggers: input.triggers,
                trigger_note: input.trigger_note,
                notes: input.notes,
            },
            started_at: input.started_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EpisodeOut {
    pub id: i64,
    pub kind: String,
    pub family: String,
    /// RFC 3339 UTC
    pub started_at: String,
    pub time_zone: String,
    pub local_date: String,
    pub regions: Vec<String>,
    pub pain: Option<u8>,
    pub duration_s: Option<u32>,
    pub triggers: Vec<String>,
    pub trigger_note: Option<String>,
    pub notes: Option<String>,
    pub recorded_at: String,
    pub backfilled: bool,
}

/// The vocabularies come from the domain's own lists, so the document cannot drift from the
/// rules (parsing also accepts other cases and `_` for `-`; the document gives the codes).
fn codes<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(all.iter().map(|v| code(*v))))
        .build()
}

fn kind_schema() -> Object {
    codes(SpasmKind::ALL, SpasmKind::code)
}

fn regions_schema() -> Array {
    ArrayBuilder::new().items(codes(Region::ALL, Region::code)).build()
}

fn triggers_schema() -> Array {
    ArrayBuilder::new().items(codes(Trigger::ALL, Trigger::code)).build()
}

/// Instants as stored (to the millisecond), so an answer to a write and a later read agree.
pub(crate) fn millis(t: jiff::Timestamp) -> String {
    jiff::Timestamp::from_millisecond(t.as_millisecond())
        .unwrap_or(t)
        .to_string()
}

pub(crate) fn episode_out(id: i64, e: &Episode) -> EpisodeOut {
    EpisodeOut {
        id,
        kind: e.kind().code().to_string(),
        family: e.family().code().to_string(),
        started_at: millis(e.started_at().at),
        time_zone: e.started_at().zone.to_string(),
        local_date: e.started_at().local_date().to_string(),
        regions: e.regions().iter().map(|r| r.code().to_string()).collect(),
        pain: e.pain().map(|p| p.value()),
        duration_s: e.duration_s(),
        triggers: e.triggers().iter().map(|t| t.code().to_string()).collect(),
        trigger_note: e.trigger_note().map(str::to_string),
        notes: e.notes().map(str::to_string),
        recorded_at: millis(e.recorded_at()),
        backfilled: e.backfilled(),
    }
}

pub(crate) fn stored_out(e: &Stored<Episode>) -> EpisodeOut {
    episode_out(e.id, &e.value)
}

#[utoipa::path(get, path = "/api/episodes", tag = "episodes", params(RangeQuery),
    responses((status = 200, body = [EpisodeOut]), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn list_episodes(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<Vec<EpisodeOut>>> {
    let me = Own::new(&state, &pa, &addr);
    let (from, to) = dates(me.patient, q.from.as_deref(), q.to.as_deref())?;
    let rows = episodes::list(&me, from, to).await?;
    Ok(Json(rows.iter().map(stored_out).collect()))
}

#[utoipa::path(post, path = "/api/episodes", tag = "episodes", request_body = EpisodeIn,
    params(IdempotencyKeyHeader),
    responses((status = 201, body = EpisodeOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn create_episode(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    key: IdemKey,
    ApiBody(body): ApiBody,
) -> AppResult<Response> {
    let input: EpisodeIn = decode(&body)?;
    let me = Own::new(&state, &pa, &addr);
    if let Some(key) = key.for_request("POST /api/episodes", &body) {
        let episode = episodes::prepare(&me, input.into())?;
        let shown = episode.clone();
        let render: RenderAnswer = Arc::new(move |id| match id {
            Some(id) => idempotency::json(StatusCode::CREATED, &episode_out(id, &shown)),
            None => Err("an episode is always written".to_string()),
        });
        let answer = me.write_once(&key, KeyedWrite::Episode(episode), render).await?;
        return idempotency::respond(answer);
    }
    let (id, episode) = episodes::log(&me, input.into()).await?;
    Ok((StatusCode::CREATED, Json(episode_out(id, &episode))).into_response())
}

#[utoipa::path(put, path = "/api/episodes/{id}", tag = "episodes", params(("id" = i64, Path)), request_body = EpisodeIn,
    responses((status = 200, body = EpisodeOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// Replaces an episode with the body (a correction); fields left out are cleared, except
/// `started_at`, which stays as stored unless given.
pub async fn replace_episode(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiBody(body): ApiBody,
) -> AppResult<Json<EpisodeOut>> {
    let me = Own::new(&state, &pa, &addr);
    // A missing episode is a 404 whatever the body says.
    episodes::get(&me, id).await?;
    let input: EpisodeIn = decode(&body)?;
    let episode = episodes::correct(&me, id, input.into(), false).await?;
    Ok(Json(episode_out(id, &episode)))
}

#[utoipa::path(get, path = "/api/episodes/{id}", tag = "episodes", params(("id" = i64, Path)),
    responses((status = 200, body = EpisodeOut), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn get_episode(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<EpisodeOut>> {
    let e = episodes::get(&Own::new(&state, &pa, &addr), id).await?;
    Ok(Json(stored_out(&e)))
}

#[utoipa::path(delete, path = "/api/episodes/{id}", tag = "episodes", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn delete_episode(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    episodes::delete(&Own::new(&state, &pa, &addr), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
