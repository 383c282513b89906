//! Treatments, regimens and doses through the API: the same use cases as the pages.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tonus_domain::due::DueItem;
use tonus_domain::DoseLog;
use tonus_store::{StoredRegimen, StoredTreatment};
use utoipa::{IntoParams, ToSchema};

use super::idempotency::{IdemKey, IdempotencyKeyHeader};
use super::{decode, ApiBody, ApiJson, ApiPath, ApiQuery, RangeQuery};
use crate::auth::{ClientAddr, PatientAuth};
use crate::error::{AppResult, ErrorBody};
use crate::service::treatments::{self, RegimenInput};
use crate::service::{dates, Own};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreatmentIn {
    /// At most 100 characters; unique among the patient's treatments (ignoring case).
    pub name: String,
    /// drug, vitamin, supplement, exercise, other
    pub category: String,
    pub notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RegimenOut {
    pub id: i64,
    pub treatment_id: i64,
    pub treatment: String,
    pub dose: Option<f64>,
    /// UCUM: mg, ug, g, mL, [IU], {spray}, {tablet}
    pub unit: Option<String>,
    pub route: Option<String>,
    /// 3x-daily, every-2-days, every-4-weeks, as-needed …
    pub schedule: String,
    pub start: String,
    /// Last day taken, when stopped.
    pub end: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TreatmentWithRegimensOut {
    pub id: i64,
    pub name: String,
    pub category: String,
    pub notes: Option<String>,
    /// Oldest first; at most one without `end` (the running one).
    pub regimens: Vec<RegimenOut>,
}

/// A regimen: dose and unit together (required for drugs, vitamins and supplements).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegimenIn {
    pub dose: Option<f64>,
    pub unit: Option<String>,
    pub route: Option<String>,
    /// daily, twice-daily, Nx-daily (1–12), every-N-days, every-N-weeks, as-needed; for a
    /// change, absent keeps the running one.
    #[serde(default)]
    pub schedule: String,
    /// First day (default today). For a change: the day the new dose starts; the running
    /// regimen ends the day before.
    pub from: Option<String>,
    /// Last day, when planned (not for a change).
    pub until: Option<String>,
}

impl From<RegimenIn> for RegimenInput {
    fn from(r: RegimenIn) -> Self {
        RegimenInput {
            dose: r.dose.map(|d| d.to_string()),
            unit: r.unit,
            route: r.route,
            schedule: r.schedule,
            from: r.from,
            until: r.until,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopIn {
    /// Last day taken (default today).
    pub on: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoseIn {
    pub regimen_id: i64,
    /// taken, late, missed
    pub status: String,
    /// When: RFC 3339 or local time in the patient's zone; default now. Must fall on a day
    /// the regimen ran.
    pub at: Option<String>,
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DoseOut {
    pub id: i64,
    pub regimen_id: i64,
    pub status: String,
    /// RFC 3339 UTC
    pub at: String,
    pub time_zone: String,
    pub local_date: String,
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DueOut {
    pub regimen_id: i64,
    pub treatment: String,
    /// Doses planned on the day (0 for as-needed and interval regimens not due that day).
    pub planned: u32,
    pub logged: u32,
    pub remaining: u32,
    pub next_due: Option<String>,
    pub as_needed: bool,
}

#[derive(Serialize, ToSchema)]
pub struct DueDayOut {
    pub date: String,
    /// Regimens with doses still to log first.
    pub items: Vec<DueOut>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// Local day (default today).
    pub date: Option<String>,
}

fn regimen_out(r: &StoredRegimen) -> RegimenOut {
    let v = &r.value;
    RegimenOut {
        id: r.id,
        treatment_id: r.treatment_id,
        treatment: r.treatment_name.clone(),
        dose: v.dose().map(|d| d.amount()),
        unit: v.dose().map(|d| d.unit().code().to_string()),
        route: v.route().map(|r| r.code().to_string()),
        schedule: v.schedule().code(),
        start: v.start().to_string(),
        end: v.end().map(|d| d.to_string()),
    }
}

fn treatment_out(t: &StoredTreatment, regimens: &[StoredRegimen]) -> TreatmentWithRegimensOut {
    TreatmentWithRegimensOut {
        id: t.id,
        name: t.value.name().to_string(),
        category: t.value.category().code().to_string(),
        notes: t.value.notes().map(str::to_string),
        regimens: regimens
            .iter()
            .filter(|r| r.treatment_id == t.id)
            .map(regimen_out)
            .collect(),
    }
}

fn dose_out(regimen_id: i64, id: i64, d: &DoseLog) -> DoseOut {
    DoseOut {
        id,
        regimen_id,
        status: d.status().code().to_string(),
        at: super::episodes::millis(d.at().at),
        time_zone: d.at().zone.to_string(),
        local_date: d.at().local_date().to_string(),
        note: d.note().map(str::to_string),
    }
}

fn due_out(i: &DueItem) -> DueOut {
    DueOut {
        regimen_id: i.regimen_id,
        treatment: i.treatment.clone(),
        planned: i.planned,
        logged: i.logged,
        remaining: i.remaining(),
        next_due: i.next_due.map(|d| d.to_string()),
        as_needed: i.as_needed,
    }
}

#[utoipa::path(get, path = "/api/treatments", tag = "treatments",
    responses((status = 200, body = [TreatmentWithRegimensOut]), (status = 401, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn list_treatments(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
) -> AppResult<Json<Vec<TreatmentWithRegimensOut>>> {
    let (ts, rs) = treatments::overview(&Own::new(&state, &pa, &addr)).await?;
    Ok(Json(ts.iter().map(|t| treatment_out(t, &rs)).collect()))
}

#[utoipa::path(post, path = "/api/treatments", tag = "treatments", request_body = TreatmentIn,
    responses((status = 201, body = TreatmentWithRegimensOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn create_treatment(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiJson(input): ApiJson<TreatmentIn>,
) -> AppResult<Response> {
    let t = treatments::add(
        &Own::new(&state, &pa, &addr),
        &input.name,
        &input.category,
        input.notes.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(treatment_out(&t, &[]))).into_response())
}

#[utoipa::path(post, path = "/api/treatments/{id}/regimens", tag = "treatments", params(("id" = i64, Path)), request_body = RegimenIn,
    responses((status = 201, body = RegimenOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// Starts taking a treatment.
pub async fn start_regimen(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiBody(body): ApiBody,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    // Another patient's treatment is a 404 whatever the body says.
    treatments::treatment(&me, id).await?;
    let input: RegimenIn = decode(&body)?;
    let r = treatments::start(&me, id, &input.into()).await?;
    Ok((StatusCode::CREATED, Json(regimen_out(&r))).into_response())
}

#[utoipa::path(post, path = "/api/regimens/{id}/change", tag = "treatments", params(("id" = i64, Path)), request_body = RegimenIn,
    responses((status = 201, body = RegimenOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// A new dose, schedule or route from `from` on: the running regimen ends the day before
/// and the answer is the new one. Fields left out keep the running regimen's value.
pub async fn change_regimen(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiBody(body): ApiBody,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    treatments::regimen(&me, id).await?;
    let input: RegimenIn = decode(&body)?;
    let r = treatments::change(&me, id, &input.into()).await?;
    Ok((StatusCode::CREATED, Json(regimen_out(&r))).into_response())
}

#[utoipa::path(post, path = "/api/regimens/{id}/stop", tag = "treatments", params(("id" = i64, Path)), request_body = StopIn,
    responses((status = 200, body = RegimenOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// Stops a regimen; `on` is the last day taken.
pub async fn stop_regimen(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiBody(body): ApiBody,
) -> AppResult<Json<RegimenOut>> {
    let me = Own::new(&state, &pa, &addr);
    treatments::regimen(&me, id).await?;
    let input: StopIn = decode(&body)?;
    let r = treatments::stop(&me, id, input.on.as_deref()).await?;
    Ok(Json(regimen_out(&r)))
}

#[utoipa::path(get, path = "/api/doses/due", tag = "treatments", params(DueQuery),
    responses((status = 200, body = DueDayOut), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// What is due on a day: running regimens with the doses planned and already logged.
pub async fn due_doses(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiQuery(q): ApiQuery<DueQuery>,
) -> AppResult<Json<DueDayOut>> {
    let me = Own::new(&state, &pa, &addr);
    let (day, _) = dates(me.patient, q.date.as_deref(), None)?;
    let (day, items) = treatments::due(&me, day).await?;
    Ok(Json(DueDayOut {
        date: day.to_string(),
        items: items.iter().map(due_out).collect(),
    }))
}

#[utoipa::path(get, path = "/api/doses", tag = "treatments", params(RangeQuery),
    responses((status = 200, body = [DoseOut]), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn list_doses(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<Vec<DoseOut>>> {
    let me = Own::new(&state, &pa, &addr);
    let (from, to) = dates(me.patient, q.from.as_deref(), q.to.as_deref())?;
    let rows = treatments::doses(&me, from, to).await?;
    Ok(Json(
        rows.iter().map(|(rid, d)| dose_out(*rid, d.id, &d.value)).collect(),
    ))
}

#[utoipa::path(post, path = "/api/doses", tag = "treatments", request_body = DoseIn,
    params(IdempotencyKeyHeader),
    responses((status = 201, body = DoseOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// Logs a dose of one of the patient's regimens (404 for any other regimen id).
pub async fn create_dose(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    key: IdemKey,
    ApiBody(body): ApiBody,
) -> AppResult<Response> {
    let input: DoseIn = decode(&body)?;
    let me = Own::new(&state, &pa, &addr);
    if let Some(key) = key.for_request("POST /api/doses", &body) {
        let dose = treatments::prepare_dose(
            &me,
            input.regimen_id,
            &input.status,
            input.at.as_deref(),
            input.note.as_deref(),
        )
        .await?;
        let (regimen_id, shown) = (input.regimen_id, dose.clone());
        let render: tonus_store::RenderAnswer = std::sync::Arc::new(move |id| match id {
            Some(id) => super::idempotency::json(StatusCode::CREATED, &dose_out(regimen_id, id, &shown)),
            None => Err("a dose is always written".to_string()),
        });
        let write = tonus_store::KeyedWrite::Dose(input.regimen_id, dose);
        let answer = me.write_once(&key, write, render).await?;
        return super::idempotency::respond(answer);
    }
    let (id, dose) = treatments::log_dose(
        &me,
        input.regimen_id,
        &input.status,
        input.at.as_deref(),
        input.note.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(dose_out(input.regimen_id, id, &dose))).into_response())
}

#[utoipa::path(delete, path = "/api/doses/{id}", tag = "treatments", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn delete_dose(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    treatments::delete_dose(&Own::new(&state, &pa, &addr), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/treatments/{id}", tag = "treatments", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// Deletes a treatment with its regimens and doses; side effects naming it are kept.
pub async fn delete_treatment(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    treatments::delete(&Own::new(&state, &pa, &addr), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/treatments/{id}", tag = "treatments", params(("id" = i64, Path)), request_body = TreatmentIn,
    responses((status = 200, body = TreatmentWithRegimensOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// Renames a treatment or changes its kind or notes; its regimens and doses stay.
pub async fn replace_treatment(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiBody(body): ApiBody,
) -> AppResult<Json<TreatmentWithRegimensOut>> {
    let me = Own::new(&state, &pa, &addr);
    treatments::treatment(&me, id).await?;
    let input: TreatmentIn = decode(&body)?;
    let t = treatments::edit(&me, id, &input.name, &input.category, input.notes.as_deref()).await?;
    let (_, regimens) = treatments::overview(&me).await?;
    Ok(Json(treatment_out(&t, &regimens)))
}

/// A correction of a logged dose; its regimen stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoseCorrectionIn {
    /// taken, late, missed
    pub status: String,
    /// Absent: the stored time.
    pub at: Option<String>,
    pub note: Option<String>,
}

#[utoipa::path(put, path = "/api/doses/{id}", tag = "treatments", params(("id" = i64, Path)), request_body = DoseCorrectionIn,
    responses((status = 200, body = DoseOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn replace_dose(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiBody(body): ApiBody,
) -> AppResult<Json<DoseOut>> {
    let me = Own::new(&state, &pa, &addr);
    treatments::dose(&me, id).await?;
    let input: DoseCorrectionIn = decode(&body)?;
    let (rid, dose) =
        treatments::correct_dose(&me, id, &input.status, input.at.as_deref(), input.note.as_deref()).await?;
    Ok(Json(dose_out(rid, id, &dose)))
}
