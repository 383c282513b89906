//! Nothing typed is lost when a form's session or token has gone stale (the idle timeout
//! passed at 3 a.m., or the person signed out in another tab): instead of "form has expired",
//! the person sees what they typed and saves it with one tap, signing in again first if
//! needed. The fields travel in the page itself (hidden inputs), never in a server-side
//! store, so nothing waits on the server for someone who walks away.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::Nav;
use crate::auth::{CsrfToken, PendingForm};

#[derive(Template)]
#[template(path = "resume.html")]
struct ResumePage {
    nav: Nav,
    to: String,
    fields: Vec<(String, String)>,
    shown: Vec<(String, String)>,
}

/// Whether a stale form may be offered again: a page form of this site, never the account
/// doors themselves (sign-in, set-up, sign-up, sign-out) nor the JSON API.
pub(crate) fn resumable(to: &str) -> bool {
    let path = to.split('?').next().unwrap_or_default();
    path.starts_with('/')
        && !path.starts_with("//")
        && path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
        && to.chars().all(|c| !c.is_control())
        && !matches!(path, "/login" | "/logout" | "/setup" | "/signup")
        && !path.starts_with("/api/")
}

/// What the person typed, for reading: non-empty values under readable names.
pub(crate) fn shown(fields: &[(String, String)]) -> Vec<(String, String)> {
    fields
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.replace('_', " "), v.clone()))
        .collect()
}

/// The fields packed into one hidden value that travels through the sign-in form.
pub(crate) fn pack(fields: &[(String, String)]) -> String {
    serde_urlencoded::to_string(fields).unwrap_or_default()
}

pub(crate) fn unpack(packed: &str) -> Vec<(String, String)> {
    crate::auth::form_urlencoded_pairs(packed.as_bytes())
}

/// The "save what you typed" page for a signed-in person: the same form, a fresh token.
pub(crate) fn save_page(nav: Nav, to: &str, fields: Vec<(String, String)>) -> Response {
    let page = ResumePage {
        nav,
        to: to.to_string(),
        shown: shown(&fields),
        fields,
    };
    match page.render() {
        Ok(html) => (StatusCode::OK, Html(html)).into_response(),
        Err(e) => crate::error::AppError::internal("rendering the resume page", e).into_response(),
    }
}

/// The answer to a stale form (see `PendingForm`): the save page when still signed in, else
/// the sign-in page carrying the fields. `None` when the form is not one to offer again.
pub(crate) fn answer(p: PendingForm) -> Option<Response> {
    // A form with nothing typed (a delete, a sign-out button) is simply refused as before.
    if !resumable(&p.to) || p.fields.iter().all(|(_, v)| v.trim().is_empty()) {
        return None;
    }
    if p.auth.is_some() {
        let nav = Nav::new(p.auth.as_ref(), &CsrfToken(p.csrf.clone()));
        let mut res = save_page(nav, &p.to, p.fields);
        // Not saved yet: the status says so to scripts; the page tells people.
        *res.status_mut() = StatusCode::FORBIDDEN;
        return Some(res);
    }
    Some(super::signin::sign_in_to_resume(&CsrfToken(p.csrf), &p.to, &p.fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_page_forms_are_offered_again() {
        for ok in [
            "/episodes",
            "/episodes/12/edit",
            "/checkin?date=2026-12-03",
            "/treatments/3/stop",
        ] {
            assert!(resumable(ok), "{ok}");
        }
        for bad in [
            "//evil.example/x",
            "https://evil.example/",
            "/login",
            "/signup",
            "/setup",
            "/logout",
            "/api/episodes",
            "/a\\b",
            "/a b",
            "",
        ] {
            assert!(!resumable(bad), "{bad}");
        }
    }

    #[test]
    fn packing_keeps_order_repeats_and_line_breaks() {
        let fields = vec![
            ("region".to_string(), "left-calf".to_string()),
            ("region".to_string(), "back".to_string()),
            ("notes".to_string(), "stairs,\r\ntwice & more=yes".to_string()),
        ];
        assert_eq!(unpack(&pack(&fields)), fields);
    }
}
