//! Downloads: the clinician report (PDF) for the patient and for a consented clinician, the
//! patient's whole archive (JSON), and the secret, revocable iCalendar reminder feed. Every
//! export is written to the audit log.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use serde::Deserialize;
use tonus_domain::input::parse_date;
use tonus_domain::time::today;
use tonus_domain::{Patient, ValidationError};
use tonus_report::Section;

use crate::auth::{consented_patient, ClientAddr, ClinicianAuth, CsrfToken, PatientAuth};
use crate::error::{AppError, AppResult};
use crate::pages::{render, Nav};
use crate::security::{random_hex, sha256_hex};
use crate::state::AppState;

/// Records an action of the signed-in patient on their own data.
async fn audit_own(state: &AppState, pa: &PatientAuth, addr: &ClientAddr, action: &str, detail: &str) -> AppResult<()> {
    let actor = &pa.auth.user;
    state
        .audit(
            (Some(actor.id), &actor.username),
            Some(pa.patient.id),
            action,
            &addr.0,
            detail,
        )
        .await
}

#[derive(Deserialize, Default)]
pub struct RangeQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The report's range: `from`/`to` as typed dates, by default the last 90 days.
pub(crate) fn range(q: &RangeQuery, p: &Patient, now: Timestamp) -> AppResult<(jiff::civil::Date, jiff::civil::Date)> {
    let to = match q.to.as_deref().filter(|s| !s.is_empty()) {
        Some(t) => parse_date("to", t, &p.zone, now)?,
        None => today(&p.zone, now),
    };
    let from = match q.from.as_deref().filter(|s| !s.is_empty()) {
        Some(f) => parse_date("from", f, &p.zone, now)?,
        None => to
            .checked_sub(jiff::Span::new().days(89))
            .map_err(|_| AppError::Internal)?,
    };
    if to < from || (to - from).get_days() > 3660 {
        return Err(AppError::Invalid(ValidationError::new(
            "from",
            "on or before `to` and at most 10 years earlier",
            from,
        )));
    }
    Ok((from, to))
}

async fn report_pdf(state: &AppState, patient: &Patient, q: &RangeQuery) -> AppResult<Response> {
    let now = Timestamp::now();
    let (from, to) = range(q, patient, now)?;
    let trials = tonus_report::trials::summaries(&state.store, patient, from, to, now)
        .await
        .map_err(|e| {
            tracing::error!("report trials: {e}");
            AppError::Internal
        })?;
    let data = tonus_report::gather(&state.store, patient, from, to, now, &Section::ALL, 4, &trials).await?;
    // Layout is CPU-bound: keep it off the request workers.
    let pdf = tokio::task::spawn_blocking(move || tonus_report::render_pdf(&data))
        .await
        .map_err(|_| AppError::Internal)?
        .map_err(|e| {
            tracing::error!("report: {e}");
            AppError::Internal
        })?;
    let name = format!("attachment; filename=\"tonus-{}-{from}-{to}.pdf\"", patient.handle);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        pdf,
    )
        .into_response())
}

/// GET /report.pdf: the patient's own report.
pub async fn own_report(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Query(q): Query<RangeQuery>,
) -> AppResult<Response> {
    let res = report_pdf(&state, &pa.patient, &q).await?;
    audit_own(&state, &pa, &addr, "export", "report (pdf)").await?;
    Ok(res)
}

/// GET /clinician/patients/{patient_id}/report.pdf: only while consent is live.
pub async fn clinician_report(
    State(state): State<AppState>,
    ClinicianAuth(auth): ClinicianAuth,
    addr: ClientAddr,
    Path(patient_id): Path<i64>,
    Query(q): Query<RangeQuery>,
) -> AppResult<Response> {
    let patient = consented_patient(&state, &auth, patient_id).await?;
    let res = report_pdf(&state, &patient, &q).await?;
    state
        .audit(
            (Some(auth.user.id), &auth.user.username),
            Some(patient.id),
            "clinician.export",
            &addr.0,
            "report (pdf)",
        )
        .await?;
    Ok(res)
}

/// GET /export/archive.json: everything the patient recorded, as one Tonus archive.
pub async fn own_archive(State(state): State<AppState>, pa: PatientAuth, addr: ClientAddr) -> AppResult<Response> {
    let snapshots = state.store.snapshot(Some(&pa.patient)).await?;
    let text = tonus_interop::archive::Archive::new(snapshots, Timestamp::now())
        .to_json()
        .map_err(|e| {
            tracing::error!("archive: {e}");
            AppError::Internal
        })?;
    audit_own(&state, &pa, &addr, "export", "archive (json)").await?;
    let name = format!("attachment; filename=\"tonus-{}-archive.json\"", pa.patient.handle);
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        text,
    )
        .into_response())
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
}

async fn calendar_page(
    state: &AppState,
    pa: &PatientAuth,
    csrf: &CsrfToken,
    new_url: Option<String>,
) -> AppResult<Response> {
    let feeds = state
        .store
        .list_calendar_feeds(&pa.patient)
        .await?
        .into_iter()
        .map(|f| FeedRow {
            id: f.id,
            created: Timestamp::from_millisecond(f.created_at_ms)
                .map(|t| t.to_zoned(pa.patient.zone.tz()).strftime("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            revoked: f.revoked_at_ms.is_some(),
        })
        .collect();
    render(
        &CalendarPage {
            nav: Nav::new(Some(&pa.auth), csrf),
            new_url,
            feeds,
        },
        StatusCode::OK,
    )
}

/// GET /calendar: the patient's reminder feeds.
pub async fn calendar(State(state): State<AppState>, pa: PatientAuth, csrf: CsrfToken) -> AppResult<Response> {
    calendar_page(&state, &pa, &csrf, None).await
}

/// POST /calendar/feeds: a new secret feed URL, shown once.
pub async fn create_feed(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    let secret = random_hex(24);
    state
        .store
        .create_calendar_feed(&pa.patient, &sha256_hex(&secret), Timestamp::now().as_millisecond())
        .await?;
    audit_own(&state, &pa, &addr, "feed.create", "calendar feed").await?;
    calendar_page(&state, &pa, &csrf, Some(format!("/feeds/{secret}.ics"))).await
}

/// POST /calendar/feeds/{id}/revoke: the URL stops working on its next request.
pub async fn revoke_feed(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    if !state
        .store
        .revoke_calendar_feed(&pa.patient, id, Timestamp::now().as_millisecond())
        .await?
    {
        return Err(AppError::NotFound);
    }
    audit_own(&state, &pa, &addr, "feed.revoke", "calendar feed").await?;
    Ok(Redirect::to("/calendar").into_response())
}

/// GET /feeds/{secret}.ics: the reminders, for a calendar app (no sign-in: the secret is the key).
pub async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> AppResult<Response> {
    let secret = file.strip_suffix(".ics").unwrap_or(&file);
    if secret.len() != 48 || !secret.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let patient = state
        .store
        .patient_by_calendar_feed(&sha256_hex(secret))
        .await?
        .ok_or(AppError::NotFound)?;
    let records = state.store.patient_records(&patient).await?;
    let now = Timestamp::now();
    let changes = Vec::new();
    let text = tonus_interop::ical::calendar(&tonus_interop::ical::CalendarInput {
        patient: &patient.handle,
        zone: &patient.zone,
        treatments: &records.treatments,
        checkin_at: jiff::civil::Time::new(20, 0, 0, 0).ok(),
        period_changes: &changes,
        today: today(&patient.zone, now),
        stamp: now,
    });
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
    Query(q): Query<RangeQuery>,
) -> AppResult<Response> {
    let now = Timestamp::now();
    let (from, to) = range(&q, &pa.patient, now)?;
    let mut data = tonus_report::gather(&state.store, &pa.patient, from, to, now, &Section::ALL, 4, &[]).await?;
    let charts = crate::dashboard::take_charts(
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
            from: from.to_string(),
            to: to.to_string(),
            charts,
        },
        StatusCode::OK,
    )
}
