//! Doses on the web: the "due today" list where one tap logs a dose taken, late or missed,
//! back-filling, the last week's log, and correcting or deleting a dose.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use jiff::civil::Date;
use tonus_domain::due::DueItem;
use tonus_domain::time::Zone;
use tonus_domain::ValidationError;
use tonus_store::StoredRegimen;

use super::treatments::{failed, regimen_text, Failed, SavedQuery};
use super::{field_err, fmt_ms, opt, render, see_other, FieldError, FormFields, Nav, Opt};
use crate::auth::{ClientAddr, CsrfToken, PatientAuth};
use crate::error::{AppError, AppResult};
use crate::service::treatments;
use crate::service::Own;
use crate::state::AppState;

pub struct DueRow {
    pub regimen_id: i64,
    pub treatment: String,
    pub status: String,
    pub remaining: u32,
    pub as_needed: bool,
}

fn due_row(i: &DueItem) -> DueRow {
    let status = if i.as_needed {
        format!("when needed · {} logged today", i.logged)
    } else if i.planned == 0 {
        match i.next_due {
            Some(d) => format!("not due today · next on {d}"),
            None => "not due today".to_string(),
        }
    } else {
        format!("{} of {} logged today", i.logged.min(i.planned), i.planned)
    };
    DueRow {
        regimen_id: i.regimen_id,
        treatment: i.treatment.clone(),
        status,
        remaining: i.remaining(),
        as_needed: i.as_needed,
    }
}

pub struct LoggedDose {
    pub id: i64,
    pub regimen_id: i64,
    pub when: String,
    pub treatment: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "doses.html")]
pub struct DosesPage {
    nav: Nav,
    day: String,
    due: Vec<DueRow>,
    logged: Vec<LoggedDose>,
    regimens: Vec<Opt>,
    failed: Failed,
    saved: Option<String>,
}

impl DosesPage {
    fn val<'a>(&'a self, field: &str) -> &'a str {
        self.failed.typed.get(field).map_or("", String::as_str)
    }
    fn err(&self, field: &str) -> Option<&str> {
        field_err(&self.failed.error, field)
    }
    fn chosen(&self, field: &str, code: &str) -> bool {
        self.failed.typed.get(field).is_some_and(|v| v == code)
    }
}

fn logged_rows(
    doses: &[(i64, tonus_store::Stored<tonus_domain::DoseLog>)],
    regimens: &[StoredRegimen],
    zone: &Zone,
) -> Vec<LoggedDose> {
    doses
        .iter()
        .rev()
        .map(|(rid, d)| LoggedDose {
            id: d.id,
            regimen_id: *rid,
            when: fmt_ms(d.value.at().millis(), zone),
            treatment: regimens
                .iter()
                .find(|r| r.id == *rid)
                .map_or_else(String::new, |r| r.treatment_name.clone()),
            status: d.value.status().label(),
        })
        .collect()
}

async fn doses_page(me: &Own<'_>, csrf: &CsrfToken, failed: Failed, saved: Option<String>) -> AppResult<Response> {
    let (day, items) = treatments::due(me, None).await?;
    let (_, regimens) = treatments::overview(me).await?;
    let week_ago: Option<Date> = day.checked_sub(jiff::Span::new().days(7)).ok();
    let doses = treatments::doses(me, week_ago, None).await?;
    let status = super::status_for(&failed.error);
    let page = DosesPage {
        nav: Nav::new(Some(me.actor.auth), csrf),
        day: day.to_string(),
        due: items.iter().map(due_row).collect(),
        logged: logged_rows(&doses, &regimens, &me.patient.zone),
        regimens: regimens
            .iter()
            .rev()
            .map(|r| {
                opt(
                    r.id.to_string(),
                    format!("{} ({})", r.treatment_name, regimen_text(r)),
                    false,
                )
            })
            .collect(),
        failed,
        saved,
    };
    render(&page, status)
}

/// GET /doses: what is due today, one tap per dose, and the last week's log.
pub async fn doses(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Query(q): Query<SavedQuery>,
) -> AppResult<Response> {
    let saved = q.saved.map(|_| "Saved.".to_string());
    doses_page(&Own::new(&state, &pa, &addr), &csrf, Failed::default(), saved).await
}

/// POST /doses: logs a dose (now, or at the time given for back-filling).
pub async fn log_dose(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    fields: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let regimen: Result<i64, ValidationError> = fields.get("regimen").trim().parse().map_err(|_| {
        ValidationError::new(
            "regimen",
            "chosen: one of your regimens",
            format!("{:?}", fields.get("regimen")),
        )
    });
    let result = match regimen {
        Ok(id) => {
            treatments::log_dose(
                &me,
                id,
                fields.get("status"),
                Some(fields.get("at")),
                Some(fields.get("note")),
            )
            .await
        }
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(_) => Ok(see_other("/doses?saved=1")),
        // A regimen that is not the patient's is refused like a typo, never revealed.
        Err(AppError::Invalid(e)) => doses_page(&me, &csrf, failed("dose", &fields, &e), None).await,
        Err(AppError::NotFound) => {
            let e = ValidationError::new("regimen", "chosen: one of your regimens", fields.get("regimen"));
            doses_page(&me, &csrf, failed("dose", &fields, &e), None).await
        }
        Err(e) => Err(e),
    }
}

/// GET /doses/{id}/delete: asks before deleting.
pub async fn delete_dose_confirm(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let (_, regimens) = treatments::overview(&me).await?;
    let doses = treatments::doses(&me, None, None).await?;
    let row = logged_rows(&doses, &regimens, &pa.patient.zone)
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(AppError::NotFound)?;
    super::confirm_delete(
        &pa,
        &csrf,
        format!("{} {} at {}", row.treatment, row.status, row.when),
        format!("/doses/{id}/delete"),
        "/doses".to_string(),
    )
}

/// POST /doses/{id}/delete: takes back a dose logged by mistake.
pub async fn delete_dose(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    treatments::delete_dose(&Own::new(&state, &pa, &addr), id).await?;
    Ok(see_other("/doses?saved=1"))
}

#[derive(Template)]
#[template(path = "dose_edit.html")]
pub struct DoseEditPage {
    nav: Nav,
    id: i64,
    treatment: String,
    status: String,
    at: String,
    note: String,
    error: Option<FieldError>,
}

impl DoseEditPage {
    fn err(&self, field: &str) -> Option<&str> {
        field_err(&self.error, field)
    }
    fn is_status(&self, code: &str) -> bool {
        self.status == code
    }
}

/// GET /doses/{id}/edit
pub async fn edit_dose_form(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let (rid, d) = treatments::dose(&me, id).await?;
    let r = treatments::regimen(&me, rid).await?;
    let page = DoseEditPage {
        nav: Nav::new(Some(&pa.auth), &csrf),
        id,
        treatment: r.treatment_name,
        status: d.value.status().code().to_string(),
        at: crate::service::episodes::minute_text(d.value.at().at, &pa.patient.zone),
        note: d.value.note().unwrap_or_default().to_string(),
        error: None,
    };
    render(&page, axum::http::StatusCode::OK)
}

/// POST /doses/{id}/edit
pub async fn edit_dose(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
    fields: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let (rid, _) = treatments::dose(&me, id).await?;
    let result = treatments::correct_dose(
        &me,
        id,
        fields.get("status"),
        Some(fields.get("at")),
        Some(fields.get("note")),
    )
    .await;
    match result {
        Ok(_) => Ok(see_other("/doses?saved=1")),
        Err(AppError::Invalid(e)) => {
            let r = treatments::regimen(&me, rid).await?;
            let page = DoseEditPage {
                nav: Nav::new(Some(&pa.auth), &csrf),
                id,
                treatment: r.treatment_name,
                status: fields.get("status").to_string(),
                at: super::shown_when(&pa.patient.zone, fields.get("at")),
                note: fields.get("note").to_string(),
                error: Some(FieldError::from(&e)),
            };
            render(&page, axum::http::StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}
