//! The daily check-in through the API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::CheckIn;
use utoipa::ToSchema;

use super::{ApiJson, ApiQuery, RangeQuery};
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
    responses((status = 201, body = CheckinOut), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn create_checkin(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiJson(input): ApiJson<CheckinIn>,
) -> AppResult<Response> {
    let draft = CheckInDraft {
        spasticity_nrs: input.spasticity_nrs,
        pain_nrs: input.pain_nrs,
        psfs_frequency: input.psfs_frequency,
        psfs_severity: input.psfs_severity,
        night_wakings: input.night_wakings,
        log_complete: input.log_complete,
        note: input.note,
    };
    let (id, checkin) = checkins::save(&Own::new(&state, &pa, &addr), input.date.as_deref(), draft).await?;
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmIn {
    /// Local day (2026-11-20, today, yesterday); default today.
    pub date: Option<String>,
}

#[utoipa::path(post, path = "/api/days/confirm", tag = "checkins", request_body = ConfirmIn,
    responses((status = 200, body = CheckinOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// Confirms a day's log is complete ("no (more) spasms"), keeping its other check-in answers.
pub async fn confirm_day(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiJson(input): ApiJson<ConfirmIn>,
) -> AppResult<Json<CheckinOut>> {
    let (id, c) = checkins::confirm_day(&Own::new(&state, &pa, &addr), input.date.as_deref()).await?;
    Ok(Json(checkin_out(id, &c)))
}
