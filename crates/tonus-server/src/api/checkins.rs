//! The daily check-in through the API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::CheckIn;
use utoipa::ToSchema;

use std::sync::Arc;

use tonus_store::{KeyedWrite, RenderAnswer};

use super::idempotency::{self, IdemKey, IdempotencyKeyHeader};
use super::{decode, ApiBody, ApiQuery, RangeQuery};
use crate::auth::{ClientAddr, PatientAuth};
use crate::error::{AppResult, ErrorBody};
use crate::service::{checkins, dates, Own};
use crate::state::AppState;

/// One day's check-in; saving the same day again replaces it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckinIn {
    /// Local day (2026-11-20, today, yesterday); default today.
    pub date: Option<String>,
    /// 0–10
    #[schema(minimum = 0, maximum = 10)]
    pub spasticity_nrs: Option<i64>,
    /// 0–10
    #[schema(minimum = 0, maximum = 10)]
    pub pain_nrs: Option<i64>,
    /// Penn Spasm Frequency Scale 0–4
    #[schema(minimum = 0, maximum = 4)]
    pub psfs_frequency: Option<i64>,
    /// 1–3, only with psfs_frequency above 0
    #[schema(minimum = 1, maximum = 3)]
    pub psfs_severity: Option<i64>,
    #[schema(minimum = 0, maximum = 50)]
    pub night_wakings: Option<i64>,
    /// The day's episode log is complete (missing days are unknown, not zero).
    #[serde(default)]
    pub log_complete: bool,
    pub note: Option<String>,
    /// When the answers were given (RFC 3339 with offset; default now), for a check-in sent
    /// later from a phone's offline queue. With an `Idempotency-Key`, a check-in replaces the
    /// day's stored one only if that was answered no later; otherwise it is not applied and
    /// the answer is 409 (the answer given last wins, whichever device synced first).
    pub answered_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CheckinOut {
    pub id: i64,
    pub date: String,
    pub spasticity_nrs: Option<u8>,
    pub pain_nrs: Option<u8>,
    pub psfs_frequency: Option<u8>,
    pub psfs_severity: Option<u8>,
    pub night_wakings: Option<u8>,
    pub log_complete: bool,
    pub note: Option<String>,
}

fn checkin_out(id: i64, c: &CheckIn) -> CheckinOut {
    CheckinOut {
        id,
        date: c.date().to_string(),
        spasticity_nrs: c.spasticity_nrs(),
        pain_nrs: c.pain_nrs(),
        psfs_frequency: c.psfs_frequency().map(|v| v.value()),
        psfs_severity: c.psfs_severity().map(|v| v.value()),
        night_wakings: c.night_wakings(),
        log_complete: c.log_complete(),
        note: c.note().map(str::to_string),
    }
}

#[utoipa::path(post, path = "/api/checkins", tag = "check-ins", request_body = CheckinIn,
    params(IdempotencyKeyHeader),
    responses((status = 201, body = CheckinOut), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn create_checkin(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    key: IdemKey,
    ApiBody(body): ApiBody,
) -> AppResult<Response> {
    let input: CheckinIn = decode(&body)?;
    let answered_at = checkins::answered_at(input.answered_at.as_deref())?;
    let draft = CheckInDraft {
        spasticity_nrs: input.spasticity_nrs,
        pain_nrs: input.pain_nrs,
        psfs_frequency: input.psfs_frequency,
        psfs_severity: input.psfs_severity,
        night_wakings: input.night_wakings,
        log_complete: input.log_complete,
        note: input.note,
    };
    let me = Own::new(&state, &pa, &addr);
    if let Some(key) = key.for_request("POST /api/checkins", &body) {
        let checkin = checkins::prepare(&me, input.date.as_deref(), draft)?;
        let shown = checkin.clone();
        let render: RenderAnswer = Arc::new(move |id| match id {
            Some(id) => idempotency::json(StatusCode::CREATED, &checkin_out(id, &shown)),
            None => idempotency::json(StatusCode::CONFLICT, &superseded(&shown)),
        });
        let write = KeyedWrite::CheckIn {
            checkin,
            answered_at_ms: answered_at.as_millisecond(),
        };
        let answer = me.write_once(&key, write, render).await?;
        return idempotency::respond(answer);
    }
    let (id, checkin) = checkins::save(&me, input.date.as_deref(), draft).await?;
    Ok((StatusCode::CREATED, Json(checkin_out(id, &checkin))).into_response())
}

#[utoipa::path(get, path = "/api/checkins", tag = "check-ins", params(RangeQuery),
    responses((status = 200, body = [CheckinOut]), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn list_checkins(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<Vec<CheckinOut>>> {
    let me = Own::new(&state, &pa, &addr);
    let (from, to) = dates(me.patient, q.from.as_deref(), q.to.as_deref())?;
    let rows = checkins::list(&me, from, to).await?;
    Ok(Json(rows.iter().map(|c| checkin_out(c.id, &c.value)).collect()))
}

/// The 409 kept for a queued check-in that a later answer (another device) superseded.
fn superseded(c: &CheckIn) -> ErrorBody {
    ErrorBody {
        error: "conflict",
        message: format!(
            "not applied: the check-in of {} was answered later on another device, and the answer given last is kept",
            c.date()
        ),
        field: Some("answered_at".to_string()),
        rule: None,
        value: None,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmIn {
    /// Local day (2026-11-20, today, yesterday); default today.
    pub date: Option<String>,
}

#[utoipa::path(post, path = "/api/days/confirm", tag = "checkins", request_body = ConfirmIn,
    params(IdempotencyKeyHeader),
    responses((status = 200, body = CheckinOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// Confirms a day's log is complete ("no (more) spasms"), keeping its other check-in answers.
pub async fn confirm_day(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    key: IdemKey,
    ApiBody(body): ApiBody,
) -> AppResult<Response> {
    let input: ConfirmIn = decode(&body)?;
    let me = Own::new(&state, &pa, &addr);
    if let Some(key) = key.for_request("POST /api/days/confirm", &body) {
        let checkin = checkins::prepare_confirm(&me, input.date.as_deref()).await?;
        let shown = checkin.clone();
        let render: RenderAnswer = Arc::new(move |id| match id {
            Some(id) => idempotency::json(StatusCode::OK, &checkin_out(id, &shown)),
            None => Err("a confirmation is always written".to_string()),
        });
        let answer = me.write_once(&key, KeyedWrite::ConfirmDay(checkin), render).await?;
        return idempotency::respond(answer);
    }
    let (id, c) = checkins::confirm_day(&me, input.date.as_deref()).await?;
    Ok(Json(checkin_out(id, &c)).into_response())
}
