//! The JSON API, one module per feature. Each handler decodes the request with the extractors
//! below, calls the use case in `crate::service` (the very function the pages call), and
//! answers JSON. Personal access tokens serve scripts. Bad input answers 400 (unreadable) or
//! 422 (a rule broken) with `{ error, message, field, rule, value }`, and nothing is stored.

pub mod account;
pub mod checkins;
pub mod clinician;
pub mod consent;
pub mod dashboard;
pub mod episodes;
pub mod idempotency;
pub mod identity;
pub mod records;
pub mod side_effects;
pub mod treatments;

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tonus_domain::ValidationError;
use utoipa::IntoParams;

use crate::error::AppError;
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First local day (2026-11-01, today, -7)
    pub from: Option<String>,
    /// Last local day
    pub to: Option<String>,
}

pub async fn openapi_json() -> Response {
    Json(crate::openapi::document()).into_response()
}
