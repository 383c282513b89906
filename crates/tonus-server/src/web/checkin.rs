//! The daily check-in form: the validated scales of the day, and whether the day's log is
//! complete (an unconfirmed day is unknown, never zero).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tonus_domain::checkin::CheckInDraft;
use tonus_domain::ValidationError;

use super::{field_err, int_field, opt, render, see_other, FieldError, FormFields, Nav, Opt};
use crate::auth::{Auth, ClientAddr, CsrfToken, PatientAuth};
use crate::error::{AppError, AppResult};
use crate::service::{checkins, Own};
use crate::state::AppState;

pub struct ScaleField {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<Opt>,
    /// Long labels (PSFS) are listed one per row; numbers sit six to a row.
    pub long: bool,
    pub answered: bool,
}

#[derive(Template)]
#[template(path = "checkin.html")]
pub struct CheckinPage {
    nav: Nav,
    date: String,
    fields: Vec<ScaleField>,
    log_complete: bool,
    note: String,
    error: Option<FieldError>,
    saved: Option<String>,
}

impl CheckinPage {
    fn err(&self, field: &str) -> Option<&str> {
        field_err(&self.error, field)
    }
}

const SCALES: [(&str, &str); 5] = [
    (
        "spasticity_nrs",
        "Spasticity, average over the last 24 hours (0 none – 10 worst possible)",
    ),
    (
        "pain_nrs",
        "Pain, average over the last 24 hours (0 none – 10 worst imaginable)",
    ),
    ("psfs_frequency", "How often spasms came (Penn Spasm Frequency Scale)"),
    ("psfs_severity", "How severe they were (only if you had spasms)"),
    ("night_wakings", "Times spasms woke you last night"),
];

fn scale_options(name: &str, selected: &str) -> Vec<Opt> {
    let labelled = |v: i64, label: String| opt(v.to_string(), label, selected == v.to_string());
    match name {
        "psfs_frequency" => (0..=4)
            .filter_map(|v| {
                tonus_domain::PsfsFrequency::new(v)
                    .ok()
                    .map(|f| labelled(v, format!("{v} – {}", f.label())))
            })
            .collect(),
        "psfs_severity" => (1..=3)
            .filter_map(|v| {
                tonus_domain::PsfsSeverity::new(v)
                    .ok()
                    .map(|f| labelled(v, format!("{v} – {}", f.label())))
            })
            .collect(),
        // 0–10 covers almost every night; a larger stored answer stays offered, so saving the
        // form never clears it.
        "night_wakings" => {
            let top = selected.trim().parse::<i64>().map_or(10, |v| v.clamp(10, 50));
            (0..=top).map(|v| labelled(v, v.to_string())).collect()
        }
        _ => (0..=10).map(|v| labelled(v, v.to_string())).collect(),
    }
}

fn checkin_page(
    auth: &Auth,
    csrf: &CsrfToken,
    form: &FormFields,
    error: Option<&ValidationError>,
    saved: Option<String>,
) -> CheckinPage {
    CheckinPage {
        nav: Nav::new(Some(auth), csrf),
        date: form.get("date").to_string(),
        fields: SCALES
            .iter()
            .map(|(name, label)| {
                let options = scale_options(name, form.get(name));
                ScaleField {
                    name,
                    label,
                    long: name.starts_with("psfs"),
                    answered: options.iter().any(|o| o.selected),
                    options,
                }
            })
            .collect(),
        log_complete: !form.get("log_complete").is_empty(),
        note: form.get("note").to_string(),
        error: error.map(FieldError::from),
        saved,
    }
}

#[derive(Deserialize)]
pub struct CheckinQuery {
    date: Option<String>,
    saved: Option<String>,
}

/// GET /checkin[?date=…]: the day's form, filled with its earlier answers so the form edits
/// rather than overwrites blindly.
pub async fn checkin_form(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Query(q): Query<CheckinQuery>,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let date = checkins::day(&me, q.date.as_deref())?;
    let mut pairs = vec![("date".to_string(), date.to_string())];
    if let Some(c) = checkins::of_day(&me, date).await? {
        let mut put = |k: &str, v: Option<u8>| {
            if let Some(v) = v {
                pairs.push((k.to_string(), v.to_string()));
            }
        };
        put("spasticity_nrs", c.spasticity_nrs());
        put("pain_nrs", c.pain_nrs());
        put("psfs_frequency", c.psfs_frequency().map(|v| v.value()));
        put("psfs_severity", c.psfs_severity().map(|v| v.value()));
        put("night_wakings", c.night_wakings());
        if c.log_complete() {
            pairs.push(("log_complete".to_string(), "on".to_string()));
        }
        if let Some(n) = c.note() {
            pairs.push(("note".to_string(), n.to_string()));
        }
    }
    let saved = q.saved.map(|d| format!("Check-in for {d} saved."));
    render(
        &checkin_page(&pa.auth, &csrf, &FormFields(pairs), None, saved),
        StatusCode::OK,
    )
}

fn draft(form: &FormFields) -> Result<CheckInDraft, ValidationError> {
    Ok(CheckInDraft {
        spasticity_nrs: int_field("spasticity_nrs", form.get("spasticity_nrs"))?,
        pain_nrs: int_field("pain_nrs", form.get("pain_nrs"))?,
        psfs_frequency: int_field("psfs_frequency", form.get("psfs_frequency"))?,
        psfs_severity: int_field("psfs_severity", form.get("psfs_severity"))?,
        night_wakings: int_field("night_wakings", form.get("night_wakings"))?,
        log_complete: !form.get("log_complete").is_empty(),
        note: Some(form.get("note").to_string()),
    })
}

/// POST /checkin
pub async fn checkin(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let saved = match draft(&form) {
        Ok(d) => checkins::save(&me, Some(form.get("date")), d).await,
        Err(e) => Err(AppError::Invalid(e)),
    };
    match saved {
        Ok((_, c)) => Ok(see_other(&format!("/checkin?date={0}&saved={0}", c.date()))),
        Err(AppError::Invalid(e)) => {
            // The day goes back as a date the native date input can show ("yesterday" would
            // be blanked by the browser and then saved as today).
            let mut pairs = form.0.clone();
            if let Ok(day) = checkins::day(&me, Some(form.get("date"))) {
                pairs.retain(|(k, _)| k != "date");
                pairs.push(("date".to_string(), day.to_string()));
            }
            render(
                &checkin_page(&pa.auth, &csrf, &FormFields(pairs), Some(&e), None),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => Err(e),
    }
}
