//! Treatments and doses on the web: add a treatment, start, change or stop a regimen, and
//! the "due today" list where one tap logs a dose taken, late or missed.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tonus_domain::{Category, Route, Unit, ValidationError};
use tonus_store::StoredRegimen;

use super::{field_err, opt, render, see_other, FieldError, FormFields, Nav, Opt};
use crate::auth::{ClientAddr, CsrfToken, PatientAuth};
use crate::error::{AppError, AppResult};
use crate::service::treatments::{self, RegimenInput};
use crate::service::Own;
use crate::state::AppState;

/// Schedules offered on the page; the command line and the API take any valid one.
const SCHEDULES: &[(&str, &str)] = &[
    ("1x-daily", "once a day"),
    ("2x-daily", "twice a day"),
    ("3x-daily", "3 times a day"),
    ("4x-daily", "4 times a day"),
    ("every-2-days", "every 2 days"),
    ("every-1-weeks", "once a week"),
    ("every-2-weeks", "every 2 weeks"),
    ("every-4-weeks", "every 4 weeks"),
    ("every-12-weeks", "every 12 weeks"),
    ("every-26-weeks", "every 26 weeks"),
    ("as-needed", "only when needed"),
];

#[derive(Deserialize)]
pub struct SavedQuery {
    pub(super) saved: Option<String>,
}

/// The form that failed, what was typed into it, and the error, so the page can show the
/// message next to the field and keep everything typed.
#[derive(Default)]
pub struct Failed {
    pub(super) form: String,
    pub(super) typed: BTreeMap<String, String>,
    pub(super) error: Option<FieldError>,
}

pub struct RegimenRow {
    pub id: i64,
    pub text: String,
    pub running: bool,
}

pub struct TreatmentView {
    pub id: i64,
    pub name: String,
    pub category: &'static str,
    pub regimens: Vec<RegimenRow>,
    /// The running regimen, if any (a dose change or stop acts on it).
    pub running: Option<i64>,
    /// Names of this treatment's forms, so an error shows next to the form that failed.
    pub start_form: String,
    pub change_form: String,
    pub stop_form: String,
    pub edit_form: String,
    pub category_code: &'static str,
    pub notes: String,
}

pub(super) fn regimen_text(r: &StoredRegimen) -> String {
    let v = &r.value;
    let mut parts = Vec::new();
    if let Some(d) = v.dose() {
        parts.push(d.to_string());
    }
    if let Some(route) = v.route() {
        parts.push(route.label().to_string());
    }
    parts.push(
        SCHEDULES
            .iter()
            .find(|(c, _)| *c == v.schedule().code())
            .map_or(v.schedule().code(), |(_, l)| l.to_string()),
    );
    let span = match v.end() {
        Some(end) => format!("{} to {end}", v.start()),
        None => format!("since {}", v.start()),
    };
    format!("{} · {span}", parts.join(" · "))
}

#[derive(Template)]
#[template(path = "treatments.html")]
pub struct TreatmentsPage {
    nav: Nav,
    treatments: Vec<TreatmentView>,
    categories: Vec<Opt>,
    units: Vec<Opt>,
    routes: Vec<Opt>,
    schedules: Vec<Opt>,
    failed: Failed,
    saved: Option<String>,
}

impl TreatmentsPage {
    /// What the failed form `form` had in `field`, else `default`.
    fn val<'a>(&'a self, form: &str, field: &str, default: &'a str) -> &'a str {
        if self.failed.form == form {
            self.failed.typed.get(field).map_or("", String::as_str)
        } else {
            default
        }
    }
    fn err(&self, form: &str, field: &str) -> Option<&str> {
        if self.failed.form == form {
            field_err(&self.failed.error, field)
        } else {
            None
        }
    }
    fn chosen(&self, form: &str, field: &str, code: &str) -> bool {
        self.failed.form == form && self.failed.typed.get(field).is_some_and(|v| v == code)
    }
    /// The edit form's kind: as typed after a failed save, else the stored one.
    fn kind_chosen(&self, form: &str, code: &str, stored: &str) -> bool {
        if self.failed.form == form {
            self.chosen(form, "category", code)
        } else {
            code == stored
        }
    }
}

async fn treatments_page(me: &Own<'_>, csrf: &CsrfToken, failed: Failed, saved: Option<String>) -> AppResult<Response> {
    let (treatments, regimens) = treatments::overview(me).await?;
    let views = treatments
        .into_iter()
        .map(|t| {
            let mine: Vec<&StoredRegimen> = regimens.iter().filter(|r| r.treatment_id == t.id).collect();
            let running = mine.iter().rev().find(|r| r.value.end().is_none()).map(|r| r.id);
            let rid = running.unwrap_or_default();
            TreatmentView {
                start_form: format!("start-{}", t.id),
                edit_form: format!("edit-{}", t.id),
                category_code: t.value.category().code(),
                notes: t.value.notes().unwrap_or_default().to_string(),
                change_form: format!("change-{rid}"),
                stop_form: format!("stop-{rid}"),
                id: t.id,
                name: t.value.name().to_string(),
                category: t.value.category().label(),
                running,
                regimens: mine
                    .iter()
                    .rev()
                    .map(|r| RegimenRow {
                        id: r.id,
                        text: regimen_text(r),
                        running: r.value.end().is_none(),
                    })
                    .collect(),
            }
        })
        .collect();
    let status = super::status_for(&failed.error);
    let page = TreatmentsPage {
        nav: Nav::new(Some(me.actor.auth), csrf),
        treatments: views,
        categories: Category::ALL.iter().map(|c| opt(c.code(), c.label(), false)).collect(),
        units: Unit::ALL.iter().map(|u| opt(u.code(), u.label(), false)).collect(),
        routes: Route::ALL.iter().map(|r| opt(r.code(), r.label(), false)).collect(),
        schedules: SCHEDULES.iter().map(|(c, l)| opt(*c, *l, false)).collect(),
        failed,
        saved,
    };
    render(&page, status)
}

pub(super) fn failed(form: &str, fields: &FormFields, e: &ValidationError) -> Failed {
    Failed {
        form: form.to_string(),
        typed: fields.0.iter().filter(|(k, _)| k != "csrf").cloned().collect(),
        error: Some(FieldError::from(e)),
    }
}

/// Renders the page again with the error when the use case refused the input.
async fn answer<T>(
    me: &Own<'_>,
    csrf: &CsrfToken,
    form: &str,
    fields: &FormFields,
    result: AppResult<T>,
    saved_to: &str,
) -> AppResult<Response> {
    match result {
        Ok(_) => Ok(see_other(saved_to)),
        Err(AppError::Invalid(e)) => treatments_page(me, csrf, failed(form, fields, &e), None).await,
        Err(e) => Err(e),
    }
}

/// GET /treatments
pub async fn page(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Query(q): Query<SavedQuery>,
) -> AppResult<Response> {
    let saved = q.saved.map(|_| "Saved.".to_string());
    treatments_page(&Own::new(&state, &pa, &addr), &csrf, Failed::default(), saved).await
}

fn opt_text(fields: &FormFields, name: &str) -> Option<String> {
    Some(fields.get(name).to_string())
}

fn regimen_input(fields: &FormFields) -> RegimenInput {
    RegimenInput {
        dose: opt_text(fields, "dose"),
        unit: opt_text(fields, "unit"),
        route: opt_text(fields, "route"),
        schedule: fields.get("schedule").to_string(),
        from: opt_text(fields, "from"),
        until: opt_text(fields, "until"),
    }
}

/// POST /treatments: adds a treatment.
pub async fn add(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    fields: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let notes = fields.get("notes");
    let r = treatments::add(&me, fields.get("name"), fields.get("category"), Some(notes)).await;
    answer(&me, &csrf, "add", &fields, r, "/treatments?saved=1").await
}

/// POST /treatments/{id}/edit: renames a treatment or changes its kind or notes.
pub async fn edit(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
    fields: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let notes = fields.get("notes");
    let r = treatments::edit(&me, id, fields.get("name"), fields.get("category"), Some(notes)).await;
    answer(&me, &csrf, &format!("edit-{id}"), &fields, r, "/treatments?saved=1").await
}

/// POST /treatments/{id}/start
pub async fn start(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
    fields: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let r = treatments::start(&me, id, &regimen_input(&fields)).await;
    answer(&me, &csrf, &format!("start-{id}"), &fields, r, "/treatments?saved=1").await
}

/// POST /regimens/{id}/change: a new dose (or schedule, route) from a day on.
pub async fn change(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
    fields: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let r = treatments::change(&me, id, &regimen_input(&fields)).await;
    answer(&me, &csrf, &format!("change-{id}"), &fields, r, "/treatments?saved=1").await
}

/// POST /regimens/{id}/stop
pub async fn stop(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
    fields: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let r = treatments::stop(&me, id, Some(fields.get("on"))).await;
    answer(&me, &csrf, &format!("stop-{id}"), &fields, r, "/treatments?saved=1").await
}

/// GET /treatments/{id}/delete: asks before deleting, saying what goes with it.
pub async fn delete_confirm(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let t = treatments::treatment(&me, id).await?;
    super::confirm_delete(
        &pa,
        &csrf,
        format!(
            "{} with all its regimens and logged doses (side effects that name it are kept, without the suspicion)",
            t.value.name()
        ),
        format!("/treatments/{id}/delete"),
        "/treatments".to_string(),
    )
}

/// POST /treatments/{id}/delete
pub async fn delete(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    treatments::delete(&Own::new(&state, &pa, &addr), id).await?;
    Ok(see_other("/treatments?saved=1"))
}
