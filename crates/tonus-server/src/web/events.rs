//! Clinical events on the web: MRI results with lesion counts, relapses with their start and
//! end, infections, the diagnosis, anything else; edit and delete.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use tonus_domain::{ClinicalEvent, EventKind, MriRegion, ValidationError};
use tonus_store::Stored;

use super::side_effects::PageQuery;
use super::{field_err, int_field, opt, render, see_other, FieldError, FormFields, Nav, Opt};
use crate::auth::{ClientAddr, CsrfToken, PatientAuth};
use crate::error::{AppError, AppResult};
use crate::service::events::{self, EventInput};
use crate::service::Own;
use crate::state::AppState;

const KINDS: &[(&str, &str)] = &[
    ("mri", "MRI"),
    ("relapse", "relapse"),
    ("infection", "infection"),
    ("diagnosis", "diagnosis"),
    ("other", "other"),
];

/// The form as typed, every field text, so a failed save shows exactly what was typed.
#[derive(Default, Clone)]
struct Typed {
    kind: String,
    date: String,
    until: String,
    summary: String,
    name: String,
    mri_region: String,
    lesions_total: String,
    lesions_new: String,
    lesions_enhancing: String,
}

impl Typed {
    fn from_fields(f: &FormFields) -> Self {
        let g = |n: &str| f.get(n).to_string();
        Typed {
            kind: g("kind"),
            date: g("date"),
            until: g("until"),
            summary: g("summary"),
            name: g("name"),
            mri_region: g("mri_region"),
            lesions_total: g("lesions_total"),
            lesions_new: g("lesions_new"),
            lesions_enhancing: g("lesions_enhancing"),
        }
    }
    fn of(e: &ClinicalEvent) -> Self {
        let i = events::input_of(e);
        let n = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
        Typed {
            kind: i.kind,
            date: i.date.unwrap_or_default(),
            until: i.until.unwrap_or_default(),
            summary: i.summary.unwrap_or_default(),
            name: i.name.unwrap_or_default(),
            mri_region: i.mri_region.unwrap_or_default(),
            lesions_total: n(i.lesions_total),
            lesions_new: n(i.lesions_new),
            lesions_enhancing: n(i.lesions_enhancing),
        }
    }
    fn input(&self) -> Result<EventInput, ValidationError> {
        if self.kind.trim().is_empty() {
            return Err(ValidationError::new(
                "kind",
                "chosen: MRI, relapse, infection, diagnosis or other",
                "nothing",
            ));
        }
        Ok(EventInput {
            kind: self.kind.clone(),
            date: Some(self.date.clone()),
            until: Some(self.until.clone()),
            summary: Some(self.summary.clone()),
            name: Some(self.name.clone()),
            mri_region: Some(self.mri_region.clone()),
            lesions_total: int_field("lesions_total", &self.lesions_total)?,
            lesions_new: int_field("lesions_new", &self.lesions_new)?,
            lesions_enhancing: int_field("lesions_enhancing", &self.lesions_enhancing)?,
        })
    }
}

pub struct Row {
    pub id: i64,
    pub text: String,
}

pub(crate) fn event_text(e: &ClinicalEvent) -> String {
    let what = match e.kind() {
        EventKind::Mri {
            region,
            lesions_total,
            lesions_new,
            lesions_enhancing,
        } => {
            let n = |label: &str, v: &Option<u32>| v.map(|v| format!(", {v} {label}")).unwrap_or_default();
            format!(
                "MRI of the {}{}{}{}",
                region.label(),
                n("lesions", lesions_total),
                n("new", lesions_new),
                n("enhancing", lesions_enhancing)
            )
        }
        EventKind::Other { name } => name.clone(),
        k => KINDS
            .iter()
            .find(|(c, _)| *c == k.code())
            .map_or(k.code(), |(_, l)| l)
            .to_string(),
    };
    let when = match e.until() {
        Some(u) => format!("{} to {u}", e.on()),
        None => e.on().to_string(),
    };
    format!("{when} · {what}")
}

#[derive(Template)]
#[template(path = "events.html")]
pub struct EventsPage {
    nav: Nav,
    kinds: Vec<Opt>,
    regions: Vec<Opt>,
    form: TypedView,
    error: Option<FieldError>,
    saved: Option<String>,
    recent: Vec<Row>,
    edit_id: Option<i64>,
}

/// The typed values the template reads.
pub struct TypedView {
    pub date: String,
    pub until: String,
    pub summary: String,
    pub name: String,
    pub lesions_total: String,
    pub lesions_new: String,
    pub lesions_enhancing: String,
}

impl EventsPage {
    fn err(&self, field: &str) -> Option<&str> {
        field_err(&self.error, field)
    }
    fn lesion_fields(&self) -> [(&'static str, &'static str, &str); 3] {
        [
            ("lesions_total", "Lesions in total", &self.form.lesions_total),
            ("lesions_new", "New lesions", &self.form.lesions_new),
            (
                "lesions_enhancing",
                "Enhancing (gadolinium) lesions",
                &self.form.lesions_enhancing,
            ),
        ]
    }
}

fn form_page(pa: &PatientAuth, csrf: &CsrfToken, t: &Typed, error: Option<&ValidationError>) -> EventsPage {
    EventsPage {
        nav: Nav::new(Some(&pa.auth), csrf),
        kinds: KINDS.iter().map(|(c, l)| opt(*c, *l, *c == t.kind)).collect(),
        regions: MriRegion::ALL
            .iter()
            .map(|r| opt(r.code(), r.label(), r.code() == t.mri_region))
            .collect(),
        form: TypedView {
            date: t.date.clone(),
            until: t.until.clone(),
            summary: t.summary.clone(),
            name: t.name.clone(),
            lesions_total: t.lesions_total.clone(),
            lesions_new: t.lesions_new.clone(),
            lesions_enhancing: t.lesions_enhancing.clone(),
        },
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
    let all: Vec<Stored<ClinicalEvent>> = events::list(me, None, None).await?;
    let mut p = form_page(pa, csrf, t, error);
    p.saved = saved;
    p.recent = all
        .iter()
        .rev()
        .map(|e| Row {
            id: e.id,
            text: event_text(&e.value),
        })
        .collect();
    render(&p, super::status_for(&p.error))
}

/// GET /events
pub async fn page(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    list_page(
        &Own::new(&state, &pa, &addr),
        &pa,
        &csrf,
        &Typed::default(),
        None,
        q.message(),
    )
    .await
}

/// POST /events
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
        Ok(input) => events::record(&me, &input).await.map(|_| ()),
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(()) => Ok(see_other("/events?saved=1")),
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

/// GET /events/{id}/edit
pub async fn edit_form(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let e = events::get(&Own::new(&state, &pa, &addr), id).await?;
    edit_page(&pa, &csrf, id, &Typed::of(&e.value), None)
}

/// POST /events/{id}/edit
pub async fn edit(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
    form: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    events::get(&me, id).await?;
    let t = Typed::from_fields(&form);
    let result = match t.input() {
        Ok(input) => events::correct(&me, id, &input).await.map(|_| ()),
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(()) => Ok(see_other("/events?saved=1")),
        Err(AppError::Invalid(e)) => edit_page(&pa, &csrf, id, &t, Some(&e)),
        Err(e) => Err(e),
    }
}

/// GET /events/{id}/delete
pub async fn delete_confirm(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let e = events::get(&Own::new(&state, &pa, &addr), id).await?;
    super::confirm_delete(
        &pa,
        &csrf,
        event_text(&e.value),
        format!("/events/{id}/delete"),
        "/events".to_string(),
    )
}

/// POST /events/{id}/delete
pub async fn delete(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    events::delete(&Own::new(&state, &pa, &addr), id).await?;
    Ok(see_other("/events?deleted=1"))
}
