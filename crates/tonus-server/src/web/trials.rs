//! Personal trials on the web: plan one (the same rules as `tonus trial plan`), see its
//! calendar, and read its analysis. The analysis is `tonus_report::trials`, shared with the
//! CLI and the clinician report.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use tonus_domain::input::parse_date;
use tonus_domain::time::today;
use tonus_domain::ValidationError;
use tonus_report::trials::arms::{arms_of, instruction};
use tonus_report::trials::{day, design_of, parse_outcome, provenance, PlanRequest, TrialError, NOTICE};

use super::{render, status_for, FormFields, Nav};
use crate::auth::{ClientAddr, CsrfToken, PatientAuth};
use crate::error::{AppError, AppResult};
use crate::service::{trials, Own};
use crate::state::AppState;

fn trial_error(e: TrialError) -> AppError {
    match e {
        TrialError::Invalid(v) => AppError::Invalid(v),
        TrialError::NotStarted(_) => AppError::NotFound,
        other => {
            tracing::error!("trial: {other}");
            AppError::Internal
        }
    }
}

/// Why planning failed: a message for the form, or an error page.
enum PlanError {
    Shown(String),
    App(AppError),
}

impl From<AppError> for PlanError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(v) => PlanError::Shown(v.to_string()),
            other => PlanError::App(other),
        }
    }
}

impl From<ValidationError> for PlanError {
    fn from(v: ValidationError) -> Self {
        PlanError::Shown(v.to_string())
    }
}

impl From<TrialError> for PlanError {
    fn from(e: TrialError) -> Self {
        match e {
            TrialError::Invalid(v) => PlanError::Shown(v.to_string()),
            TrialError::Stats(tonus_stats::StatsError::InvalidDesign { field, rule }) => {
                PlanError::Shown(format!("{field} {rule}"))
            }
            other => PlanError::App(trial_error(other)),
        }
    }
}

pub struct TrialRow {
    pub id: i64,
    pub name: String,
    pub arms: String,
    pub start: String,
}

#[derive(Template)]
#[template(path = "trials.html")]
struct TrialsPage {
    nav: Nav,
    trials: Vec<TrialRow>,
    error: Option<String>,
    form: Vec<(String, String)>,
    /// The "check power first" result (a dry run: nothing was stored).
    power: Option<Vec<String>>,
}

impl TrialsPage {
    /// The primary-outcome choices; the one typed stays selected when the form comes back.
    fn primary_options(&self) -> [(&'static str, &'static str); 6] {
        [
            ("involuntary-count", "involuntary-movement episodes per day"),
            ("stiffness-count", "stiffness episodes per day"),
            ("episode-pain", "average episode pain"),
            ("spasticity-nrs", "spasticity rating"),
            ("pain-nrs", "pain rating"),
            ("night-wakings", "night wakings"),
        ]
    }

    fn primary_selected(&self, code: &str) -> bool {
        self.value("primary", "involuntary-count") == code
    }

    fn value(&self, name: &str, default: &str) -> String {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map_or(default.to_string(), |(_, v)| v.clone())
    }
}

async fn list_page(
    me: &Own<'_>,
    csrf: &CsrfToken,
    error: Option<String>,
    form: Vec<(String, String)>,
    power: Option<Vec<String>>,
) -> AppResult<Response> {
    let trials = trials::list(me)
        .await?
        .into_iter()
        .map(|t| TrialRow {
            id: t.id,
            arms: design_of(&t).map(|d| d.arms.join(" vs ")).unwrap_or_default(),
            start: match provenance(&t, &me.patient.zone) {
                Some(p) => format!("{} ({p})", t.start_date),
                None => t.start_date.to_string(),
            },
            name: t.name,
        })
        .collect();
    let status = status_for(&error);
    render(
        &TrialsPage {
            nav: Nav::new(Some(me.actor.auth), csrf),
            trials,
            error,
            form,
            power,
        },
        status,
    )
}

/// GET /trials
pub async fn trials(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    list_page(&Own::new(&state, &pa, &addr), &csrf, None, Vec::new(), None).await
}

fn number(form: &FormFields, field: &'static str, default: u32) -> Result<u32, ValidationError> {
    let v = form.get(field).trim();
    if v.is_empty() {
        return Ok(default);
    }
    v.parse()
        .map_err(|_| ValidationError::new(field, "a whole number", format!("{v:?}")))
}

/// What a POST to /trials did.
enum Planned {
    Trial(tonus_store::StoredTrial),
    /// The dry run's result, in words.
    DryRun(Vec<String>),
}

/// POST /trials: plan a trial, or with `dry_run` only check its power (nothing stored); on a
/// broken rule the form comes back with the message.
pub async fn plan(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let now = Timestamp::now();
    let p = &pa.patient;
    // The "check power first" button: simulate the design, store nothing.
    let dry_run = !form.get("dry_run").trim().is_empty();
    let attempt = async {
        let start = match form.get("start").trim() {
            "" => today(&p.zone, now)
                .tomorrow()
                .map_err(|_| PlanError::App(AppError::Internal))?,
            s => parse_date("start", s, &p.zone, now)?,
        };
        let threshold_pct = match form.get("threshold").trim() {
            "" => 30.0,
            t => t
                .parse::<f64>()
                .map_err(|_| ValidationError::new("threshold", "a percentage such as 30", format!("{t:?}")))?,
        };
        let arms: Vec<String> = form.get("arms").split(',').map(|a| a.trim().to_string()).collect();
        let primary = match form.get("primary").trim() {
            "" => "involuntary-count",
            s => s,
        };
        let request = PlanRequest {
            name: form.get("name"),
            arms: &arms,
            start,
            baseline_days: number(&form, "baseline_days", 14)?,
            period_days: number(&form, "period_days", 14)?,
            washout_days: number(&form, "washout_days", 4)?,
            blocks: number(&form, "blocks", 3)?,
            seed: u64::from(rand::random::<u32>()),
            primary: parse_outcome(primary)?,
            threshold: threshold_pct / 100.0,
        };
        if dry_run {
            return Ok(Planned::DryRun(trials::dry_run(&me, &request).await?));
        }
        Ok::<_, PlanError>(Planned::Trial(trials::plan(&me, &request).await?))
    };
    match attempt.await {
        Ok(Planned::Trial(t)) => Ok(Redirect::to(&format!("/trials/{}", t.id)).into_response()),
        // The form comes back as typed, with the result above it: the patient can adjust the
        // design and check again, or plan it.
        Ok(Planned::DryRun(lines)) => list_page(&me, &csrf, None, form.0.clone(), Some(lines)).await,
        Err(PlanError::Shown(message)) => list_page(&me, &csrf, Some(message), form.0.clone(), None).await,
        Err(PlanError::App(e)) => Err(e),
    }
}

pub struct PeriodRow {
    pub index: u32,
    pub arm: String,
    /// Every treatment of the arm, "Baclofen and Stretching"; empty for `none`.
    pub take: String,
    /// The trial's treatments the arm leaves out.
    pub stop: String,
    pub from: String,
    pub to: String,
    pub washout_until: String,
    /// Side effects recorded in the period; empty before it starts.
    pub side_effects: String,
}

#[derive(Template)]
#[template(path = "trial.html")]
struct TrialPage {
    nav: Nav,
    name: String,
    design: String,
    baseline: String,
    periods: Vec<PeriodRow>,
    results: Vec<String>,
    /// Doses logged per period and per treatment of its arm; empty before the start.
    adherence: Vec<String>,
    /// Side effects per arm (and on washout and run-in days); empty before the start.
    harms: Vec<String>,
    notice: &'static str,
    /// Arms whose drug must not be stopped abruptly: agree a tapering plan first.
    cautions: Vec<String>,
    id: i64,
    /// Not started yet: it can still be deleted.
    planned: bool,
}

/// GET /trials/{id}: the calendar and, once started, the analysis.
pub async fn trial(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let t = trials::get(&me, id).await?;
    let design = design_of(&t).map_err(trial_error)?;
    let cal = design.calendar().map_err(|e| trial_error(e.into()))?;
    let d = |i: u32| day(t.start_date, i).map(|d| d.to_string()).map_err(trial_error);
    let arms = arms_of(&t, &design);
    let mut periods = Vec::new();
    for p in &cal.periods {
        let what = instruction(&arms, p.arm);
        periods.push(PeriodRow {
            index: p.index + 1,
            arm: design.arms[p.arm].clone(),
            take: what.take.join(" and "),
            stop: what.stop.join(", "),
            from: d(p.days.start)?,
            to: d(p.days.end - 1)?,
            washout_until: if p.washout.is_empty() {
                String::new()
            } else {
                d(p.washout.end - 1)?
            },
            side_effects: String::new(),
        });
    }
    let baseline = if cal.baseline.is_empty() {
        String::new()
    } else {
        format!("{} to {}", d(0)?, d(cal.baseline.end - 1)?)
    };
    let (results, adherence, harms) = match trials::summary(&me, &t).await {
        Ok((lines, adherence, harms)) => {
            for h in &harms.periods {
                if let Some(row) = periods.iter_mut().find(|r| r.index == h.period) {
                    row.side_effects = h.counts();
                }
            }
            (lines, adherence, harms.lines())
        }
        Err(TrialError::NotStarted(msg)) => (vec![msg], Vec::new(), Vec::new()),
        Err(e) => return Err(trial_error(e)),
    };
    let page = TrialPage {
        nav: Nav::new(Some(&pa.auth), &csrf),
        name: t.name.clone(),
        design: format!(
            "{}; run-in {} days; {} blocks of {}-day periods with {} washout days; primary outcome {}; a fall of {:.0} % is meaningful; random order from seed {}{}.",
            design.arms.join(" vs "),
            design.baseline_days,
            design.blocks,
            design.period_days,
            design.washout_days,
            design.primary_outcome.label(),
            design.success_threshold * 100.0,
            design.seed,
            provenance(&t, &pa.patient.zone).map_or(String::new(), |p| format!("; {p}"))
        ),
        baseline,
        periods,
        results,
        adherence,
        harms,
        notice: NOTICE,
        cautions: tonus_domain::taper::trial_cautions(&arms),
        id: t.id,
        planned: t.start_date > today(&pa.patient.zone, Timestamp::now()),
    };
    render(&page, StatusCode::OK)
}

/// POST /trials/{id}/delete: only a trial that has not started.
pub async fn delete(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    trials::delete(&Own::new(&state, &pa, &addr), id).await?;
    Ok(Redirect::to("/trials").into_response())
}
