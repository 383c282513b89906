//! Downloads and feeds on the web: the clinician report (PDF) for the patient and for a
//! consented clinician, the patient's whole archive (JSON), the report's charts as a page,
//! and the secret, revocable iCalendar reminder feeds.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tonus_report::Section;

use super::reminders::{self, PushSection};
use super::{fmt_ms, render, see_other, Nav};
use crate::auth::{Auth, ClientAddr, ClinicianAuth, CsrfToken, PatientAuth};
use crate::error::AppResult;
use crate::service::exports::{self, Pdf};
use crate::service::{clinician, Actor, Own};
use crate::state::AppState;

/// A range of local days as typed; empty means the default (the last 90 days).
#[derive(Deserialize, Default)]
pub struct RangeQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A report download: the range, and `notes=1` to include the patient's free-text notes
/// (left out by default).
#[derive(Deserialize, Default)]
pub struct ReportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub notes: Option<String>,
}

impl ReportQuery {
    /// A checkbox sends its value ("1"); anything else, or nothing, leaves the notes out.
    fn notes(&self) -> bool {
        matches!(self.notes.as_deref(), Some("1" | "on" | "true" | "yes"))
    }
}

fn attachment(content_type: &str, file_name: &str, body: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

fn pdf(p: Pdf) -> Response {
    attachment("application/pdf", &p.file_name, p.bytes)
}

/// GET /report.pdf: the patient's own report.
pub async fn own_report(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Query(q): Query<ReportQuery>,
    method: axum::http::Method,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    // A HEAD (link checkers, previews) exports nothing, so it builds and audits nothing.
    if method == axum::http::Method::HEAD {
        return Ok(([(axum::http::header::CONTENT_TYPE, "application/pdf")], ()).into_response());
    }
    Ok(pdf(exports::own_report(
        &me,
        q.from.as_deref(),
        q.to.as_deref(),
        q.notes(),
    )
    .await?))
}

/// GET /clinician/patients/{patient_id}/report.pdf: only while consent is live.
pub async fn clinician_report(
    State(state): State<AppState>,
    ClinicianAuth(auth): ClinicianAuth,
    addr: ClientAddr,
    Path(patient_id): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    let actor = Actor::new(&state, &auth, &addr);
    Ok(pdf(clinician::report(
        &actor,
        patient_id,
        q.from.as_deref(),
        q.to.as_deref(),
        q.notes(),
    )
    .await?))
}

/// GET /export/archive.json: everything the patient recorded, as one Tonus archive.
pub async fn own_archive(State(state): State<AppState>, pa: PatientAuth, addr: ClientAddr) -> AppResult<Response> {
    let text = exports::own_archive(&Own::new(&state, &pa, &addr)).await?;
    let name = format!("tonus-{}-archive.json", pa.patient.handle);
    Ok(attachment("application/json", &name, text))
}

pub struct FeedRow {
    pub id: i64,
    pub created: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    nav: Nav,
    new_url: Option<String>,
    feeds: Vec<FeedRow>,
    push: PushSection,
}

/// The Reminders page: push reminders on the patient's devices, then the calendar feeds.
pub(crate) async fn calendar_page(
    me: &Own<'_>,
    auth: &Auth,
    csrf: &CsrfToken,
    new_url: Option<String>,
    push: PushSection,
    status: StatusCode,
) -> AppResult<Response> {
    let feeds = exports::feeds(me)
        .await?
        .into_iter()
        .map(|f| FeedRow {
            id: f.id,
            created: fmt_ms(f.created_at_ms, &me.patient.zone),
            revoked: f.revoked_at_ms.is_some(),
        })
        .collect();
    render(
        &CalendarPage {
            nav: Nav::new(Some(auth), csrf),
            new_url,
            feeds,
            push,
        },
        status,
    )
}

/// GET /calendar: the patient's reminder feeds.
pub async fn calendar(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let push = reminders::section(&me, None).await?;
    calendar_page(&me, &pa.auth, &csrf, None, push, StatusCode::OK).await
}

/// POST /calendar/feeds: a new secret feed URL, shown once.
pub async fn create_feed(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let url = exports::create_feed(&me).await?;
    let push = reminders::section(&me, None).await?;
    calendar_page(&me, &pa.auth, &csrf, Some(url), push, StatusCode::OK).await
}

/// POST /calendar/feeds/{id}/revoke: the URL stops working on its next request.
pub async fn revoke_feed(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    exports::revoke_feed(&Own::new(&state, &pa, &addr), id).await?;
    Ok(see_other("/calendar"))
}

/// GET /feeds/{secret}.ics: the reminders, for a calendar app (no sign-in: the secret is the key).
pub async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> AppResult<Response> {
    let secret = file.strip_suffix(".ics").unwrap_or(&file);
    let text = exports::feed(&state, secret).await?;
    Ok(([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], text).into_response())
}

#[derive(Template)]
#[template(path = "charts.html")]
struct ChartsPage {
    nav: Nav,
    from: String,
    to: String,
    /// (title, SVG): the very charts of the PDF report, built by `tonus-report`.
    charts: Vec<(&'static str, String)>,
}

/// GET /charts: the report's charts as SVG in the page (same bytes as in the PDF).
pub async fn charts(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Query(q): Query<RangeQuery>,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let mut data = exports::dashboard(&me, q.from.as_deref(), q.to.as_deref(), &Section::ALL).await?;
    let charts = super::dashboard::take_charts(
        &mut data,
        &[
            ("counts", "Episodes per day"),
            ("scores", "Spasticity and pain"),
            ("psfs", "Penn Spasm Frequency Scale"),
            ("regions", "Body regions"),
            ("night", "Hour of the day"),
            ("exercise", "Exercise load"),
        ],
    );
    render(
        &ChartsPage {
            nav: Nav::new(Some(&pa.auth), &csrf),
            from: data.from.clone(),
            to: data.to.clone(),
            charts,
        },
        StatusCode::OK,
    )
}
