//! The `Idempotency-Key` header of the write routes the offline queue uses.
//!
//! A phone that logged entries without network sends each with a client-generated key (a
//! UUID) until it hears an answer; the store keeps the key with the record it created
//! (`Store::write_once`), so however often it is retried the entry is stored once and every
//! retry gets the first answer. Keys are per patient.

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tonus_domain::ValidationError;
use tonus_store::{IdempotencyKey, KeyedAnswer};

use crate::error::AppError;

/// The header's name, as documented in the OpenAPI document.
pub const HEADER: &str = "Idempotency-Key";

/// Longest key accepted: a UUID is 36 characters; room for other schemes, bounded so a key
/// cannot be used to store arbitrary data.
const MAX_LEN: usize = 100;

/// The request's `Idempotency-Key`, if it sent one (checked: 1–100 visible ASCII characters).
pub struct IdemKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdemKey {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(HEADER) else {
            return Ok(IdemKey(None));
        };
        let rule = "1 to 100 visible ASCII characters (a UUID)";
        let text = value
            .to_str()
            .map_err(|_| AppError::Invalid(ValidationError::new(HEADER, rule, "non-ASCII bytes")))?;
        if text.is_empty() || text.len() > MAX_LEN || !text.bytes().all(|b| b.is_ascii_graphic()) {
            let shown: String = text.chars().take(MAX_LEN).collect();
            return Err(AppError::Invalid(ValidationError::new(
                HEADER,
                rule,
                format!("{shown:?}"),
            )));
        }
        Ok(IdemKey(Some(text.to_string())))
    }
}

impl IdemKey {
    /// The key with the route and the body's SHA-256, as the store keeps it; `None` without
    /// a header (the write then happens as before, once per request).
    pub fn for_request(&self, route: &str, body: &Bytes) -> Option<IdempotencyKey> {
        self.0.as_ref().map(|key| IdempotencyKey {
            key: key.clone(),
            route: route.to_string(),
            body_hash: hex::encode(Sha256::digest(body)),
        })
    }
}

/// The stored answer as a response; a retry is marked `Idempotent-Replayed: true`.
pub fn respond(answer: KeyedAnswer) -> Result<Response, AppError> {
    let status = StatusCode::from_u16(answer.status).map_err(|e| AppError::internal("replaying a stored answer", e))?;
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if answer.replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Serialises an answer body for the store to keep.
pub fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Result<(u16, String), String> {
    serde_json::to_string(value)
        .map(|body| (status.as_u16(), body))
        .map_err(|e| e.to_string())
}

/// The header as documented on each route that accepts it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyKeyHeader {
    /// A client-generated key (a UUID), one per entry. The first request with it stores the
    /// entry and its answer; a retry with the same key and body gets the same status and body
    /// (marked `Idempotent-Replayed: true`) and stores nothing; the same key with another
    /// body or route is refused with 422 naming `Idempotency-Key`. Keys are per patient.
    #[param(
        rename = "Idempotency-Key",
        required = false,
        min_length = 1,
        max_length = 100,
        pattern = "^[!-~]{1,100}$"
    )]
    idempotency_key: String,
}
