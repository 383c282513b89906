//! Exercise sessions on the web: log one (kind, minutes, how hard), the last 60 days, edit
//! and delete.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use jiff::Timestamp;
use tonus_domain::exercise::DEFAULT_GENTLE_LIMIT;
use tonus_domain::time::today;
use tonus_domain::{ExerciseType, ValidationError};

use super::side_effects::PageQuery;
use super::{field_err, fmt_ms, int_field, opt, render, see_other, FieldError, FormFields, Nav, Opt};
use crate::auth::{ClientAddr, CsrfToken, PatientAuth};
use crate::error::{AppError, AppResult};
use crate::service::episodes::minute_text;
use crate::service::exercise::{self, ExerciseInput};
use crate::service::Own;
use crate::state::AppState;

/// The form as typed (numbers kept as text, so a failed save shows what was typed).
#[derive(Default)]
struct Typed {
    exercise_type: String,
    minutes: String,
    exertion: String,
    at: String,
    note: String,
}

impl Typed {
    fn from_fields(f: &FormFields) -> Self {
        Typed {
            exercise_type: f.get("type").to_string(),
            minutes: f.get("minutes").to_string(),
            exertion: f.get("exertion").to_string(),
            at: f.get("at").to_string(),
            note: f.get("note").to_string(),
        }
    }
    fn input(&self) -> Result<ExerciseInput, ValidationError> {
        Ok(ExerciseInput {
            exercise_type: self.exercise_type.clone(),
            minutes: int_field("minutes", &self.minutes)?,
            exertion: int_field("exertion", &self.exertion)?,
            at: Some(self.at.clone()),
            note: Some(self.note.clone()),
        })
    }
}

pub struct Row {
    pub id: i64,
    pub text: String,
    pub beyond_gentle: bool,
}

#[derive(Template)]
#[template(path = "exercise.html")]
pub struct ExercisePage {
    nav: Nav,
    types: Vec<Opt>,
    exertions: Vec<Opt>,
    minutes: String,
    at: String,
    note: String,
    gentle_limit: u8,
    error: Option<FieldError>,
    saved: Option<String>,
    recent: Vec<Row>,
    edit_id: Option<i64>,
}

impl ExercisePage {
    fn err(&self, field: &str) -> Option<&str> {
        field_err(&self.error, field)
    }
}

fn form_page(pa: &PatientAuth, csrf: &CsrfToken, t: &Typed, error: Option<&ValidationError>) -> ExercisePage {
    ExercisePage {
        nav: Nav::new(Some(&pa.auth), csrf),
        types: ExerciseType::ALL
            .iter()
            .map(|k| opt(k.code(), k.label(), k.code() == t.exercise_type))
            .collect(),
        exertions: (0..=10)
            .map(|e| opt(e.to_string(), e.to_string(), t.exertion.trim() == e.to_string()))
            .collect(),
        minutes: t.minutes.clone(),
        at: super::shown_when(&pa.patient.zone, &t.at),
        note: t.note.clone(),
        gentle_limit: DEFAULT_GENTLE_LIMIT,
        error: error.map(FieldError::from),
        saved: None,
        recent: Vec::new(),
        edit_id: None,
    }
}

async fn list_page(
    me: &Own<'_>,
    pa: &PatientAuth,
    csrf: &CsrfToken,
    t: &Typed,
    error: Option<&ValidationError>,
    saved: Option<String>,
) -> AppResult<Response> {
    let zone = &me.patient.zone;
    let from = today(zone, Timestamp::now())
        .checked_sub(jiff::Span::new().days(60))
        .ok();
    let sessions = exercise::list(me, from, None).await?;
    let mut p = form_page(pa, csrf, t, error);
    p.saved = saved;
    p.recent = sessions
        .iter()
        .rev()
        .map(|s| Row {
            id: s.id,
            text: format!(
                "{} · {} · {} min · exertion {}",
                fmt_ms(s.value.at().millis(), zone),
                s.value.exercise_type().label(),
                s.value.minutes(),
                s.value.exertion()
            ),
            beyond_gentle: s.value.beyond_gentle(DEFAULT_GENTLE_LIMIT),
        })
        .collect();
    render(&p, super::status_for(&p.error))
}

/// GET /exercise
pub async fn page(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let saved = q.message();
    list_page(
        &Own::new(&state, &pa, &addr),
        &pa,
        &csrf,
        &Typed::default(),
        None,
        saved,
    )
    .await
}

/// POST /exercise
pub async fn record(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let t = Typed::from_fields(&form);
    let result = match t.input() {
        Ok(input) => exercise::record(&me, &input).await.map(|_| ()),
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(()) => Ok(see_other("/exercise?saved=1")),
        Err(AppError::Invalid(e)) => list_page(&me, &pa, &csrf, &t, Some(&e), None).await,
        Err(e) => Err(e),
    }
}

fn edit_page(
    pa: &PatientAuth,
    csrf: &CsrfToken,
    id: i64,
    t: &Typed,
    error: Option<&ValidationError>,
) -> AppResult<Response> {
    let mut p = form_page(pa, csrf, t, error);
    p.edit_id = Some(id);
    render(&p, super::status_for(&p.error))
}

/// GET /exercise/{id}/edit
pub async fn edit_form(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let s = exercise::get(&Own::new(&state, &pa, &addr), id).await?;
    let v = &s.value;
    let t = Typed {
        exercise_type: v.exercise_type().code().to_string(),
        minutes: v.minutes().to_string(),
        exertion: v.exertion().to_string(),
        at: minute_text(v.at().at, &pa.patient.zone),
        note: v.note().unwrap_or_default().to_string(),
    };
    edit_page(&pa, &csrf, id, &t, None)
}

/// POST /exercise/{id}/edit
pub async fn edit(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
    form: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    exercise::get(&me, id).await?;
    let t = Typed::from_fields(&form);
    let result = match t.input() {
        Ok(input) => exercise::correct(&me, id, &input).await.map(|_| ()),
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(()) => Ok(see_other("/exercise?saved=1")),
        Err(AppError::Invalid(e)) => edit_page(&pa, &csrf, id, &t, Some(&e)),
        Err(e) => Err(e),
    }
}

/// GET /exercise/{id}/delete
pub async fn delete_confirm(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let s = exercise::get(&Own::new(&state, &pa, &addr), id).await?;
    super::confirm_delete(
        &pa,
        &csrf,
        format!(
            "{} for {} min at {}",
            s.value.exercise_type().label(),
            s.value.minutes(),
            fmt_ms(s.value.at().millis(), &pa.patient.zone)
        ),
        format!("/exercise/{id}/delete"),
        "/exercise".to_string(),
    )
}

/// POST /exercise/{id}/delete
pub async fn delete(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    exercise::delete(&Own::new(&state, &pa, &addr), id).await?;
    Ok(see_other("/exercise?deleted=1"))
}
