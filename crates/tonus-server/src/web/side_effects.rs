//! The side-effect page: record what was felt (tap the effect and how bad, optionally the
//! suspected treatment), the last 60 days of entries, and correcting or deleting one.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use jiff::Timestamp;
use serde::Deserialize;
use tonus_domain::time::{today, Zone};
use tonus_domain::{Effect, Severity, SideEffect};
use tonus_store::Stored;

use super::{field_err, fmt_ms, opt, render, see_other, FieldError, FormFields, Nav, Opt};
use crate::auth::{ClientAddr, CsrfToken, PatientAuth};
use crate::error::{AppError, AppResult};
use crate::service::episodes::minute_text;
use crate::service::side_effects::{self, SideEffectInput};
use crate::service::Own;
use crate::state::AppState;

/// `?saved` or `?deleted` after a redirect: the confirmation to show.
#[derive(Deserialize)]
pub struct PageQuery {
    saved: Option<String>,
    deleted: Option<String>,
}

impl PageQuery {
    pub(crate) fn message(&self) -> Option<String> {
        if self.saved.is_some() {
            Some("Saved.".to_string())
        } else if self.deleted.is_some() {
            Some("Deleted.".to_string())
        } else {
            None
        }
    }
}

pub struct RecentSideEffect {
    pub id: i64,
    pub when: String,
    pub what: String,
    pub severity: &'static str,
    pub treatment: Option<String>,
    pub note: Option<String>,
}

pub(crate) fn recent_row(s: &Stored<SideEffect>, zone: &Zone) -> RecentSideEffect {
    let v = &s.value;
    RecentSideEffect {
        id: s.id,
        when: fmt_ms(v.at().millis(), zone),
        what: v.what().to_string(),
        severity: v.severity().label(),
        treatment: v.suspected_treatment().map(str::to_string),
        note: v.note().map(str::to_string),
    }
}

#[derive(Template)]
#[template(path = "side_effects.html")]
pub struct SideEffectPage {
    nav: Nav,
    effects: Vec<Opt>,
    severities: Vec<Opt>,
    treatments: Vec<Opt>,
    description: String,
    at: String,
    note: String,
    error: Option<FieldError>,
    saved: Option<String>,
    recent: Vec<RecentSideEffect>,
    edit_id: Option<i64>,
}

impl SideEffectPage {
    fn err(&self, field: &str) -> Option<&str> {
        field_err(&self.error, field)
    }
}

fn typed(form: &FormFields) -> SideEffectInput {
    let text = |name: &str| Some(form.get(name).to_string());
    SideEffectInput {
        effect: form.get("effect").to_string(),
        description: text("description"),
        severity: form.get("severity").to_string(),
        suspected_treatment: text("suspected_treatment"),
        note: text("note"),
        at: text("at"),
    }
}

/// The form filled with `input` (typed or stored); a suspected treatment that is no longer
/// among the patient's stays offered, so a failed save never changes what was chosen.
fn form_page(
    pa: &PatientAuth,
    csrf: &CsrfToken,
    mut names: Vec<String>,
    input: &SideEffectInput,
    error: Option<&AppError>,
) -> SideEffectPage {
    let chosen = input.suspected_treatment.as_deref().map(str::trim).unwrap_or("");
    if !chosen.is_empty() && !names.iter().any(|n| n.eq_ignore_ascii_case(chosen)) {
        names.push(chosen.to_string());
    }
    SideEffectPage {
        nav: Nav::new(Some(&pa.auth), csrf),
        effects: Effect::ALL
            .iter()
            .map(|e| opt(e.code(), e.label(), e.code() == input.effect))
            .collect(),
        severities: Severity::ALL
            .iter()
            .map(|s| opt(s.code(), s.label(), s.code() == input.severity))
            .collect(),
        treatments: names
            .into_iter()
            .map(|n| {
                let selected = n.eq_ignore_ascii_case(chosen);
                opt(n.clone(), n, selected)
            })
            .collect(),
        description: input.description.clone().unwrap_or_default(),
        at: super::shown_when(&pa.patient.zone, input.at.as_deref().unwrap_or_default()),
        note: input.note.clone().unwrap_or_default(),
        error: match error {
            Some(AppError::Invalid(e)) => Some(FieldError::from(e)),
            _ => None,
        },
        saved: None,
        recent: Vec::new(),
        edit_id: None,
    }
}

async fn list_page(
    me: &Own<'_>,
    pa: &PatientAuth,
    csrf: &CsrfToken,
    input: &SideEffectInput,
    error: Option<&AppError>,
    saved: Option<String>,
) -> AppResult<Response> {
    let zone = &me.patient.zone;
    let from = today(zone, Timestamp::now())
        .checked_sub(jiff::Span::new().days(60))
        .ok();
    let recent = side_effects::list(me, from, None).await?;
    let mut p = form_page(pa, csrf, side_effects::treatment_names(me).await?, input, error);
    p.saved = saved;
    p.recent = recent.iter().rev().map(|s| recent_row(s, zone)).collect();
    render(&p, super::status_for(&p.error))
}

/// GET /side-effects
pub async fn page(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let saved = q.message();
    list_page(&me, &pa, &csrf, &SideEffectInput::default(), None, saved).await
}

/// POST /side-effects
pub async fn record(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let input = typed(&form);
    match side_effects::record(&me, &input).await {
        Ok(_) => Ok(see_other("/side-effects?saved=1")),
        Err(e @ AppError::Invalid(_)) => list_page(&me, &pa, &csrf, &input, Some(&e), None).await,
        Err(e) => Err(e),
    }
}

async fn edit_page(
    me: &Own<'_>,
    pa: &PatientAuth,
    csrf: &CsrfToken,
    id: i64,
    input: &SideEffectInput,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let mut p = form_page(pa, csrf, side_effects::treatment_names(me).await?, input, error);
    p.edit_id = Some(id);
    render(&p, super::status_for(&p.error))
}

/// GET /side-effects/{id}/edit
pub async fn edit_form(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let s = side_effects::get(&me, id).await?;
    let v = &s.value;
    let input = SideEffectInput {
        effect: v.effect().code().to_string(),
        description: v.description().map(str::to_string),
        severity: v.severity().code().to_string(),
        suspected_treatment: v.suspected_treatment().map(str::to_string),
        note: v.note().map(str::to_string),
        at: Some(minute_text(v.at().at, &pa.patient.zone)),
    };
    edit_page(&me, &pa, &csrf, id, &input, None).await
}

/// POST /side-effects/{id}/edit
pub async fn edit(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
    form: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    // A missing side effect is a 404 whatever the form says.
    side_effects::get(&me, id).await?;
    let input = typed(&form);
    match side_effects::correct(&me, id, &input).await {
        Ok(_) => Ok(see_other("/side-effects?saved=1")),
        Err(e @ AppError::Invalid(_)) => edit_page(&me, &pa, &csrf, id, &input, Some(&e)).await,
        Err(e) => Err(e),
    }
}

/// GET /side-effects/{id}/delete: asks before deleting.
pub async fn delete_confirm(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let s = side_effects::get(&Own::new(&state, &pa, &addr), id).await?;
    let row = recent_row(&s, &pa.patient.zone);
    super::confirm_delete(
        &pa,
        &csrf,
        format!("{} ({}) at {}", row.what, row.severity, row.when),
        format!("/side-effects/{id}/delete"),
        "/side-effects".to_string(),
    )
}

/// POST /side-effects/{id}/delete
pub async fn delete(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    side_effects::delete(&Own::new(&state, &pa, &addr), id).await?;
    Ok(see_other("/side-effects?deleted=1"))
}
