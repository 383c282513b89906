//! The one web error type. Every handler returns it; it becomes a status code and a short
//! JSON body (or, outside `/api`, an HTML page) that never carries internal details: those go
//! to the log only.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tonus_domain::ValidationError;
use tonus_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Also used for everything a caller may not know exists (another patient, no consent).
    #[error("not found")]
    NotFound,
    #[error("sign in first")]
    SignInRequired,
    #[error("this account may not do that")]
    Forbidden,
    #[error("the form has expired or did not come from Tonus; reload the page and try again")]
    Csrf,
    #[error("too many failed sign-ins; wait a few minutes and try again")]
    TooManyAttempts,
    /// A token used faster than its allowance: 429 with `Retry-After`.
    #[error("too many requests with this token; wait {0} seconds and try again")]
    RateLimited(u64),
    /// The request body is larger than the limit (bytes): 413.
    #[error("the request body is larger than the limit of {0} bytes")]
    TooLarge(usize),
    /// The path exists but not with this method: 405 (axum's own answer has no body).
    #[error("this address does not accept that method; see the Allow header")]
    MethodNotAllowed,
    /// The request was not completed within the limit (seconds): 408.
    #[error("the request was not completed within {0} seconds; try again")]
    Timeout(u64),
    /// A value broke a domain rule: 422 naming the field.
    #[error("{0}")]
    Invalid(ValidationError),
    /// The request itself could not be read (malformed JSON, wrong content type): 400.
    #[error("{0}")]
    BadRequest(ValidationError),
    #[error("{0}")]
    Conflict(String),
    /// Details are logged where the error is made, never sent.
    #[error("internal error")]
    Internal,
}

/// Body of every error answer. `field`, `rule` and `value` are set for 400 and 422.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code: not_found, sign_in_required, forbidden, csrf,
    /// too_many_attempts, rate_limited, too_large, timeout, method_not_allowed, invalid,
    /// bad_request, conflict, internal.
    pub error: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::SignInRequired => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::TooManyAttempts | AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let code = match self {
            AppError::NotFound => "not_found",
            AppError::SignInRequired => "sign_in_required",
            AppError::Forbidden => "forbidden",
            AppError::Csrf => "csrf",
            AppError::TooManyAttempts => "too_many_attempts",
            AppError::RateLimited(_) => "rate_limited",
            AppError::TooLarge(_) => "too_large",
            AppError::Timeout(_) => "timeout",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Invalid(_) => "invalid",
            AppError::BadRequest(_) => "bad_request",
            AppError::Conflict(_) => "conflict",
            AppError::Internal => "internal",
        };
        let (field, rule, value) = match self {
            AppError::Invalid(v) | AppError::BadRequest(v) => {
                (Some(v.field.clone()), Some(v.rule.clone()), Some(v.value.clone()))
            }
            _ => (None, None, None),
        };
        ErrorBody {
            error: code,
            message: self.to_string(),
            field,
            rule,
            value,
        }
    }

    /// Logs the real cause and returns the opaque error.
    pub fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!("{context}: {cause}");
        AppError::Internal
    }
}

/// Marks an error response so the HTML layer can turn it into a page for browsers.
#[derive(Debug, Clone)]
pub struct ErrorMarker(pub ErrorBody);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut res = (self.status(), axum::Json(body.clone())).into_response();
        if let AppError::RateLimited(seconds) = self {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        res.extensions_mut().insert(ErrorMarker(body));
        res
    }
}

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        AppError::Invalid(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(msg) => AppError::Conflict(msg),
            StoreError::Invalid(e) => AppError::Invalid(e),
            other => AppError::internal("storage", other),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::internal("rendering a template", e)
    }
}

pub type AppResult<T> = Result<T, AppError>;
