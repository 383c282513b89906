//! Browser-facing response shaping: security headers on every answer, and error answers
//! outside `/api` turned into pages (or a redirect to sign in) instead of JSON.

use askama::Template;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::error::{AppError, ErrorMarker};

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    message: String,
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}

pub async fn middleware(req: Request, next: Next) -> Response {
    // FHIR clients, like API clients, get machine-readable errors, never a page.
    let is_api = req.uri().path().starts_with("/api/") || req.uri().path().starts_with("/fhir/");
    let mut res = next.run(req).await;
    if !is_api {
        if let Some(ErrorMarker(body)) = res.extensions().get::<ErrorMarker>().cloned() {
            let status = res.status();
            let cookies: Vec<HeaderValue> = res.headers().get_all(header::SET_COOKIE).iter().cloned().collect();
            let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
            let pending = (body.error == "csrf")
                .then(|| res.extensions().get::<crate::auth::PendingForm>().cloned())
                .flatten()
                .and_then(crate::web::resume::answer);
            res = if let Some(offer) = pending {
                offer
            } else if status == StatusCode::UNAUTHORIZED {
                Redirect::to("/login").into_response()
            } else {
                let page = ErrorPage {
                    title: status.canonical_reason().unwrap_or("Error").to_string(),
                    message: body.message,
                };
                match page.render() {
                    Ok(html) => (status, Html(html)).into_response(),
                    Err(_) => (status, body.error).into_response(),
                }
            };
            for c in cookies {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            if let Some(v) = retry_after {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
    }
    let h = res.headers_mut();
    // Everything is served by Tonus itself, so the policy can forbid every other origin.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Health data must not linger in shared caches or the back-button cache of a shared phone.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
