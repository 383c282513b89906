//! The JSON API. Same rules as the pages (the domain's), same authorization (the extractors),
//! plus personal access tokens for scripts. Bad input answers 400 (unreadable) or 422 (a rule
//! broken) with `{ error, message, field, rule, value }`, and nothing is stored.

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::episode::{Region, SpasmKind, Trigger};
use tonus_domain::input::{parse_date, parse_when};
use tonus_domain::time::LocalInstant;
use tonus_domain::{checkin::CheckInDraft, CheckIn, Episode, Patient, ValidationError};
use tonus_store::Stored;
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{consented_patient, Auth, ClientAddr, ClinicianAuth, PatientAuth};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::pages::{new_api_token, revoke_consent_audited};
use crate::state::AppState;

/// A JSON body whose errors are ours: syntax → 400 naming `body`; a wrong type or missing
/// field → 422 naming the field by its path (`pain`, `regions[1]`).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiBody(bytes) = ApiBody::from_request(req, state).await?;
        decode(&bytes).map(ApiJson)
    }
}

/// The raw body, read within the size limit (413 beyond it), for handlers that decode it
/// later with [`decode`].
pub struct ApiBody(pub Bytes);

impl FromRequest<AppState> for ApiBody {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(ApiBody).map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge(state.config.max_body_bytes)
            } else {
                AppError::BadRequest(ValidationError::new("body", "a readable request body", "unreadable"))
            }
        })
    }
}

/// Decodes a JSON body with field-naming errors (see [`ApiJson`]); for handlers that must
/// check the target exists before judging the body (a 404 comes before a 422).
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        AppError::BadRequest(ValidationError::new(
            "body",
            "valid JSON",
            format!("error at line {} column {}", e.line(), e.column()),
        ))
    })?;
    if !value.is_object() {
        return Err(AppError::Invalid(ValidationError::new(
            "body",
            "a JSON object",
            "another JSON value",
        )));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = match e.path().to_string() {
            p if p == "." => "body".to_string(),
            p => p,
        };
        let inner = e.into_inner().to_string();
        // serde reports a missing field at the parent's path; name the field itself.
        let missing = inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(|name| {
                if field == "body" {
                    name.to_string()
                } else {
                    format!("{field}.{name}")
                }
            });
        match missing {
            Some(name) => AppError::Invalid(ValidationError::new(name, "present (it is required)", "missing")),
            None if inner.starts_with("unknown field") => {
                AppError::Invalid(ValidationError::new(field, "a documented field", inner))
            }
            None => AppError::Invalid(ValidationError::new(field, "of the documented type", inner)),
        }
    })
}

/// Query parameters whose errors are ours: a repeated or malformed parameter answers 400
/// naming `query`, as JSON, not axum's plain-text rejection.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| {
                AppError::BadRequest(ValidationError::new(
                    "query",
                    "documented parameters, each at most once",
                    e.body_text(),
                ))
            })
    }
}

/// A path parameter whose errors are ours: a value that is not an id (`abc`, or beyond the
/// 64-bit range) answers 400 naming the parameter, as JSON, not axum's plain-text rejection.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let (field, value) = match e.into_kind() {
                    ErrorKind::ParseErrorAtKey { key, value, .. } => (key, value),
                    ErrorKind::ParseError { value, .. } | ErrorKind::ParseErrorAtIndex { value, .. } => {
                        ("path".to_string(), value)
                    }
                    other => ("path".to_string(), other.to_string()),
                };
                Err(AppError::BadRequest(ValidationError::new(
                    field,
                    "a whole number within the 64-bit range",
                    value,
                )))
            }
            Err(other) => Err(AppError::BadRequest(ValidationError::new(
                "path",
                "valid path parameters",
                other.body_text(),
            ))),
        }
    }
}

// ----- who am I -----

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

// ----- episodes -----

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

fn episode_out(id: i64, e: &Episode) -> EpisodeOut {
    EpisodeOut {
        id,
        kind: e.kind().code().to_string(),
        family: e.family().code().to_string(),
        started_at: e.started_at().at.to_string(),
        time_zone: e.started_at().zone.to_string(),
        local_date: e.started_at().local_date().to_string(),
        regions: e.regions().iter().map(|r| r.code().to_string()).collect(),
        pain: e.pain().map(|p| p.value()),
        duration_s: e.duration_s(),
        triggers: e.triggers().iter().map(|t| t.code().to_string()).collect(),
        trigger_note: e.trigger_note().map(str::to_string),
        notes: e.notes().map(str::to_string),
        recorded_at: e.recorded_at().to_string(),
        backfilled: e.backfilled(),
    }
}

fn stored_out(e: &Stored<Episode>) -> EpisodeOut {
    episode_out(e.id, &e.value)
}

#[derive(Deserialize, IntoParams)]
pub struct RangeQuery {
    /// First local day (2026-11-01, today, -7)
    pub from: Option<String>,
    /// Last local day
    pub to: Option<String>,
}

fn range(q: &RangeQuery, patient: &Patient) -> AppResult<(Option<jiff::civil::Date>, Option<jiff::civil::Date>)> {
    let now = Timestamp::now();
    let d = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| parse_date(field, s, &patient.zone, now))
            .transpose()
    };
    Ok((d("from", &q.from)?, d("to", &q.to)?))
}

#[utoipa::path(get, path = "/api/episodes", tag = "episodes", params(RangeQuery),
    responses((status = 200, body = [EpisodeOut]), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn list_episodes(
    State(state): State<AppState>,
    pa: PatientAuth,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<Vec<EpisodeOut>>> {
    let (from, to) = range(&q, &pa.patient)?;
    let rows = state.store.list_episodes(&pa.patient, from, to).await?;
    Ok(Json(rows.iter().map(stored_out).collect()))
}

#[utoipa::path(post, path = "/api/episodes", tag = "episodes", request_body = EpisodeIn,
    responses((status = 201, body = EpisodeOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn create_episode(
    State(state): State<AppState>,
    pa: PatientAuth,
    ApiJson(input): ApiJson<EpisodeIn>,
) -> AppResult<Response> {
    let episode = episode_from_in(input, &pa.patient, None)?;
    let id = state.store.insert_episode(&pa.patient, &episode).await?;
    Ok((StatusCode::CREATED, Json(episode_out(id, &episode))).into_response())
}

/// Validates an episode body. Without `started_at`, a new episode starts now and a replaced
/// one keeps its stored start (`keep_at`).
fn episode_from_in(input: EpisodeIn, patient: &Patient, keep_at: Option<Timestamp>) -> AppResult<Episode> {
    let now = Timestamp::now();
    let zone = patient.zone.clone();
    let at = match input.started_at.as_deref().map(str::trim) {
        None | Some("") => keep_at.unwrap_or(now),
        Some(s) => parse_when("started_at", s, &zone, now)?,
    };
    let draft = EpisodeDraft {
        kind: input.kind,
        regions: input.regions,
        pain: input.pain,
        duration_s: input.duration_s,
        triggers: input.triggers,
        trigger_note: input.trigger_note,
        notes: input.notes,
    };
    Ok(draft.validate(LocalInstant { at, zone }, now)?)
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
    ApiPath(id): ApiPath<i64>,
    ApiBody(body): ApiBody,
) -> AppResult<Json<EpisodeOut>> {
    let old = state
        .store
        .get_episode(&pa.patient, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let input: EpisodeIn = decode(&body)?;
    let episode = episode_from_in(input, &pa.patient, Some(old.value.started_at().at))?;
    if !state.store.update_episode(&pa.patient, id, &episode).await? {
        return Err(AppError::NotFound);
    }
    Ok(Json(episode_out(id, &episode)))
}

#[utoipa::path(get, path = "/api/episodes/{id}", tag = "episodes", params(("id" = i64, Path)),
    responses((status = 200, body = EpisodeOut), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn get_episode(
    State(state): State<AppState>,
    pa: PatientAuth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<EpisodeOut>> {
    let e = state
        .store
        .get_episode(&pa.patient, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(stored_out(&e)))
}

#[utoipa::path(delete, path = "/api/episodes/{id}", tag = "episodes", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn delete_episode(
    State(state): State<AppState>,
    pa: PatientAuth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    if state.store.delete_episode(&pa.patient, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

// ----- check-ins -----

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
    ApiJson(input): ApiJson<CheckinIn>,
) -> AppResult<Response> {
    let now = Timestamp::now();
    let zone = &pa.patient.zone;
    let date = parse_date("date", input.date.as_deref().unwrap_or("today"), zone, now)?;
    let draft = CheckInDraft {
        spasticity_nrs: input.spasticity_nrs,
        pain_nrs: input.pain_nrs,
        psfs_frequency: input.psfs_frequency,
        psfs_severity: input.psfs_severity,
        night_wakings: input.night_wakings,
        log_complete: input.log_complete,
        note: input.note,
    };
    let checkin = draft.validate(date, zone, now)?;
    let id = state.store.upsert_checkin(&pa.patient, &checkin).await?;
    Ok((StatusCode::CREATED, Json(checkin_out(id, &checkin))).into_response())
}

#[utoipa::path(get, path = "/api/checkins", tag = "check-ins", params(RangeQuery),
    responses((status = 200, body = [CheckinOut]), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn list_checkins(
    State(state): State<AppState>,
    pa: PatientAuth,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<Vec<CheckinOut>>> {
    let (from, to) = range(&q, &pa.patient)?;
    let rows = state.store.list_checkins(&pa.patient, from, to).await?;
    Ok(Json(rows.iter().map(|c| checkin_out(c.id, &c.value)).collect()))
}

// ----- personal access tokens -----

#[derive(Serialize, ToSchema)]
pub struct TokenOut {
    pub id: i64,
    pub name: String,
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
}

#[derive(Serialize, ToSchema)]
pub struct NewTokenOut {
    pub id: i64,
    pub name: String,
    /// The secret, shown only in this answer: send it as `Authorization: Bearer …`.
    pub token: String,
}

#[utoipa::path(get, path = "/api/tokens", tag = "account",
    responses((status = 200, body = [TokenOut])), security(("token" = []), ("session" = [])))]
pub async fn list_tokens(State(state): State<AppState>, pa: PatientAuth) -> AppResult<Json<Vec<TokenOut>>> {
    let tokens = state.store.list_api_tokens(pa.auth.user.id).await?;
    Ok(Json(
        tokens
            .into_iter()
            .map(|t| TokenOut {
                id: t.id,
                name: t.name,
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
    let (id, token) = new_api_token(&state, &pa.auth.user, &input.name, &addr).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewTokenOut {
            id,
            name: input.name.trim().to_string(),
            token,
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
    if !state
        .store
        .revoke_api_token(pa.auth.user.id, id, Timestamp::now().as_millisecond())
        .await?
    {
        return Err(AppError::NotFound);
    }
    state
        .audit(
            (Some(pa.auth.user.id), &pa.auth.user.username),
            Some(pa.patient.id),
            "token.revoke",
            &addr.0,
            "",
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- consent (patients) -----

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
pub async fn list_consents(State(state): State<AppState>, pa: PatientAuth) -> AppResult<Json<Vec<ConsentOut>>> {
    let rows = state.store.consents_of_patient(pa.patient.id).await?;
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
    revoke_consent_audited(&state, &pa, &addr, id).await?;
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
pub async fn own_audit(State(state): State<AppState>, pa: PatientAuth) -> AppResult<Json<Vec<AuditOut>>> {
    let rows = state.store.list_audit(Some(pa.patient.id), 500).await?;
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

// ----- clinicians -----

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
) -> AppResult<Json<Vec<SharedPatientOut>>> {
    let rows = state.store.consents_of_clinician(auth.user.id).await?;
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
    let patient = consented_patient(&state, &auth, patient_id).await?;
    let (from, to) = range(&q, &patient)?;
    state
        .audit(
            (Some(auth.user.id), &auth.user.username),
            Some(patient.id),
            "clinician.view",
            &addr.0,
            "episodes (api)",
        )
        .await?;
    let rows = state.store.list_episodes(&patient, from, to).await?;
    Ok(Json(rows.iter().map(stored_out).collect()))
}

// ----- OpenAPI -----

pub async fn openapi_json() -> Response {
    Json(crate::openapi::document()).into_response()
}
