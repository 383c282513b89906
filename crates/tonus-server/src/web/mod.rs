//! Server-rendered pages, one module per feature. Each handler parses the form or query,
//! calls the use case in `crate::service`, and renders a page. Forms post back to the same
//! page; on bad input the page is shown again with status 422, the message next to the field
//! and everything typed kept; on success the browser is redirected (post/redirect/get) so a
//! reload never posts twice.

pub mod account;
pub mod admin;
pub mod assets;
pub mod checkin;
pub mod clinician;
pub mod dashboard;
pub mod doses;
pub mod episodes;
pub mod events;
pub mod exercise;
pub mod exports;
pub mod identity;
pub mod reminders;
pub mod resume;
pub mod sessions;
pub mod sharing;
pub mod side_effects;
pub mod signin;
pub mod tokens;
pub mod treatments;
pub mod trials;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::Timestamp;
use tonus_domain::time::Zone;
use tonus_domain::ValidationError;

use crate::auth::{form_urlencoded_pairs, Auth, CsrfToken};
use crate::error::{AppError, AppResult};

/// What the page header needs.
pub struct Nav {
    pub username: Option<String>,
    pub role: String,
    pub csrf: String,
}

impl Nav {
    pub(crate) fn new(auth: Option<&Auth>, csrf: &CsrfToken) -> Self {
        Self {
            username: auth.map(|a| a.user.username.clone()),
            role: auth.map(|a| a.user.role.code().to_string()).unwrap_or_default(),
            csrf: csrf.0.clone(),
        }
    }
}

/// The signed-in user if any (pages that anonymous visitors may see too).
pub struct MaybeAuth(pub Option<Auth>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeAuth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<Auth>().cloned()))
    }
}

/// A urlencoded form as ordered pairs: repeated fields (regions) and unknown fields are kept,
/// and a malformed body is a 400 of ours rather than the framework's.
pub struct FormFields(pub Vec<(String, String)>);

impl FormFields {
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormFields {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::BadRequest(ValidationError::new("body", "a readable form", "unreadable")))?;
        Ok(Self(form_urlencoded_pairs(&bytes)))
    }
}

/// A choice in a list of radio buttons, check boxes or options.
pub struct Opt {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

pub(crate) fn opt(code: impl Into<String>, label: impl Into<String>, selected: bool) -> Opt {
    Opt {
        code: code.into(),
        label: label.into(),
        selected,
    }
}

/// The error shown next to one field.
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl From<&ValidationError> for FieldError {
    fn from(e: &ValidationError) -> Self {
        Self {
            field: e.field.clone(),
            message: format!("must be {}; got {}", e.rule, e.value),
        }
    }
}

pub(crate) fn field_err<'a>(error: &'a Option<FieldError>, field: &str) -> Option<&'a str> {
    error.as_ref().filter(|e| e.field == field).map(|e| e.message.as_str())
}

pub(crate) fn render(t: &impl Template, status: StatusCode) -> AppResult<Response> {
    Ok((status, Html(t.render()?)).into_response())
}

/// 422 when the page shows an error, else 200.
pub(crate) fn status_for<T>(error: &Option<T>) -> StatusCode {
    if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

pub(crate) fn with_cookie(mut res: Response, cookie: String) -> Response {
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub(crate) fn fmt_ms(ms: i64, zone: &Zone) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(zone.tz()).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// An optional integer field: empty is `None`; anything else must be an integer.
pub(crate) fn int_field(field: &str, raw: &str) -> Result<Option<i64>, ValidationError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| ValidationError::new(field, "a whole number", format!("{raw:?}")))
}

/// A typed moment as a native date-time input can show it again: "yesterday 22:40" would be
/// blanked by the browser (and then saved as now), so what parses goes back as
/// `YYYY-MM-DDTHH:MM`; what does not stays as typed, next to its error.
pub(crate) fn shown_when(zone: &Zone, typed: &str) -> String {
    match tonus_domain::input::parse_when("at", typed, zone, Timestamp::now()) {
        Ok(at) if !typed.trim().is_empty() => crate::service::episodes::minute_text(at, zone),
        _ => typed.to_string(),
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    nav: Nav,
    summary: String,
    action: String,
    /// Where "No, keep it" leads: the page the entry was listed on.
    back: String,
}

/// The page that asks before deleting `summary`: Yes posts to `action`, No goes `back`.
pub(crate) fn confirm_delete(
    pa: &crate::auth::PatientAuth,
    csrf: &CsrfToken,
    summary: impl Into<String>,
    action: impl Into<String>,
    back: impl Into<String>,
) -> AppResult<Response> {
    let page = ConfirmPage {
        nav: Nav::new(Some(&pa.auth), csrf),
        summary: summary.into(),
        action: action.into(),
        back: back.into(),
    };
    render(&page, StatusCode::OK)
}
