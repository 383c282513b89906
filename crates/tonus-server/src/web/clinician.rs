//! The clinician's pages: the patients who shared with them, redeeming an invitation code,
//! and a consented patient's dashboard (read-only, audited).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use tonus_domain::time::Zone;
use tonus_report::pooled::POOLED_NOTICE;
use tonus_report::Section;
use tonus_store::Redeemed;

use super::dashboard::Dashboard;
use super::episodes::{recent_row, RecentEpisode};
use super::exports::RangeQuery;
use super::{fmt_ms, render, status_for, FormFields, Nav};
use crate::auth::{Auth, ClientAddr, ClinicianAuth, CsrfToken};
use crate::error::AppResult;
use crate::service::{clinician, sharing, Actor};
use crate::state::AppState;

pub struct PatientRow {
    pub id: i64,
    pub handle: String,
    pub since: String,
}

#[derive(Template)]
#[template(path = "clinician.html")]
pub struct ClinicianPage {
    nav: Nav,
    patients: Vec<PatientRow>,
    message: Option<String>,
    error: Option<String>,
}

async fn clinician_page(
    actor: &Actor<'_>,
    csrf: &CsrfToken,
    message: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let utc = Zone::utc();
    let patients = clinician::patients(actor)
        .await?
        .into_iter()
        .map(|c| PatientRow {
            id: c.patient_id,
            handle: c.patient_handle,
            since: fmt_ms(c.granted_at_ms, &utc),
        })
        .collect();
    let status = status_for(&error);
    render(
        &ClinicianPage {
            nav: Nav::new(Some(actor.auth), csrf),
            patients,
            message,
            error,
        },
        status,
    )
}

fn actor<'a>(state: &'a AppState, auth: &'a Auth, addr: &'a ClientAddr) -> Actor<'a> {
    Actor::new(state, auth, addr)
}

/// GET /clinician
pub async fn clinician_home(
    State(state): State<AppState>,
    ClinicianAuth(auth): ClinicianAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    clinician_page(&actor(&state, &auth, &addr), &csrf, None, None).await
}

/// POST /clinician/redeem: a patient's invitation code.
pub async fn redeem(
    State(state): State<AppState>,
    ClinicianAuth(auth): ClinicianAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let actor = actor(&state, &auth, &addr);
    let (message, error) = match sharing::redeem(&actor, form.get("code")).await? {
        Redeemed::Granted { .. } => (Some("Patient added."), None),
        Redeemed::AlreadyGranted { .. } => (Some("You already had access."), None),
        Redeemed::Invalid => (None, Some("That code is unknown, already used or expired.")),
    };
    clinician_page(&actor, &csrf, message.map(str::to_string), error.map(str::to_string)).await
}

#[derive(Template)]
#[template(path = "clinician_patient.html")]
pub struct ClinicianPatientPage {
    nav: Nav,
    handle: String,
    zone: String,
    dash: Dashboard,
    episodes: Vec<RecentEpisode>,
}

/// GET /clinician/patients/{id}: the patient's dashboard, read-only, audited.
pub async fn clinician_patient(
    State(state): State<AppState>,
    ClinicianAuth(auth): ClinicianAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(patient_id): Path<i64>,
    Query(q): Query<RangeQuery>,
) -> AppResult<Response> {
    let view = clinician::dashboard(
        &actor(&state, &auth, &addr),
        patient_id,
        (q.from.as_deref(), q.to.as_deref()),
        &Section::ALL,
        Some(30),
        "web",
    )
    .await?;
    let patient = view.patient;
    let dash = Dashboard::from_report(view.data, format!("/clinician/patients/{}", patient.id));
    render(
        &ClinicianPatientPage {
            nav: Nav::new(Some(&auth), &csrf),
            handle: patient.handle.clone(),
            zone: patient.zone.to_string(),
            dash,
            episodes: view.recent.iter().rev().map(|e| recent_row(e, &patient.zone)).collect(),
        },
        StatusCode::OK,
    )
}

/// One comparison as the pooled page shows it.
pub struct PooledView {
    pub title: String,
    pub patients: Vec<String>,
    pub summary: Vec<String>,
    pub pooled: bool,
}

#[derive(Template)]
#[template(path = "clinician_pooled.html")]
pub struct ClinicianPooledPage {
    nav: Nav,
    comparisons: Vec<PooledView>,
    notice: &'static str,
}

/// GET /clinician/pooled: trials of the same comparison pooled over consenting patients.
pub async fn clinician_pooled(
    State(state): State<AppState>,
    ClinicianAuth(auth): ClinicianAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    let found = clinician::pooled(&actor(&state, &auth, &addr), "web").await?;
    let comparisons = found
        .iter()
        .map(|c| PooledView {
            title: c.title(),
            patients: c.patient_lines(),
            summary: c.summary_lines(),
            pooled: c.pooled.is_some(),
        })
        .collect();
    render(
        &ClinicianPooledPage {
            nav: Nav::new(Some(&auth), &csrf),
            comparisons,
            notice: POOLED_NOTICE,
        },
        StatusCode::OK,
    )
}
