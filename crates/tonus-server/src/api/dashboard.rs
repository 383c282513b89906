//! The dashboard as JSON: what the dashboard page shows, for scripts and other front ends.
//! Days the patient did not confirm carry `confirmed: false`; their counts are what was
//! logged, not evidence of a spasm-free day.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use tonus_report::harms::HarmCount;
use tonus_report::{ReportData, Section};
use utoipa::{IntoParams, ToSchema};

use super::{ApiPath, ApiQuery};
use crate::auth::{ClientAddr, ClinicianAuth, PatientAuth};
use crate::error::{AppResult, ErrorBody};
use crate::service::{clinician, exports, Actor, Own};
use crate::state::AppState;

/// Only the figures: no charts to draw.
const SECTIONS: [Section; 3] = [Section::Summary, Section::Treatments, Section::Events];

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// First local day (2026-11-01, today, -89); default 89 days before `to`.
    pub from: Option<String>,
    /// Last local day; default today.
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DayOut {
    pub date: String,
    /// The patient confirmed the day's log is complete.
    pub confirmed: bool,
    pub involuntary: usize,
    pub stiffness: usize,
}

#[derive(Serialize, ToSchema)]
pub struct TreatmentOut {
    pub name: String,
    pub category: String,
    pub dose: String,
    pub route: String,
    pub schedule: String,
    pub from: String,
    /// A date, or "ongoing".
    pub to: String,
    pub adherence: String,
}

#[derive(Serialize, ToSchema)]
pub struct EventOut {
    pub date: String,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct DashboardSideEffectOut {
    /// Local date and time, "2026-11-20 09:00".
    pub when: String,
    /// The effect's label, or the patient's words for it.
    pub what: String,
    /// mild, moderate or severe.
    pub severity: String,
    /// The treatment the patient suspects; their suspicion, not an established cause.
    pub suspected_treatment: Option<String>,
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EffectCountOut {
    pub effect: String,
    pub count: usize,
    /// The worst severity recorded for this effect.
    pub worst: String,
}

#[derive(Serialize, ToSchema)]
pub struct SuspectedTreatmentOut {
    /// A treatment's name, or "no treatment named".
    pub treatment: String,
    pub count: usize,
    pub effects: Vec<EffectCountOut>,
}

#[derive(Serialize, ToSchema)]
pub struct NoteOut {
    pub date: String,
    /// episode, episode trigger, check-in or side effect.
    pub source: String,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct DashboardOut {
    pub patient: String,
    pub time_zone: String,
    pub from: String,
    pub to: String,
    pub days_in_range: usize,
    pub confirmed_days: usize,
    pub involuntary_total: usize,
    pub stiffness_total: usize,
    /// Mean per confirmed day; null when no day was confirmed.
    pub involuntary_per_confirmed_day: Option<f64>,
    pub stiffness_per_confirmed_day: Option<f64>,
    pub mean_episode_pain: Option<f64>,
    pub mean_spasticity_nrs: Option<f64>,
    pub mean_pain_nrs: Option<f64>,
    pub active_treatments: Vec<String>,
    pub relapses: usize,
    pub days: Vec<DayOut>,
    pub treatments: Vec<TreatmentOut>,
    pub events: Vec<EventOut>,
    /// Side effects recorded in the range, oldest first. Empty means none were recorded, not
    /// that none happened.
    pub side_effects: Vec<DashboardSideEffectOut>,
    /// Count and worst severity per effect, most frequent first.
    pub side_effects_by_effect: Vec<EffectCountOut>,
    /// Per suspected treatment; "no treatment named" last.
    pub side_effects_by_treatment: Vec<SuspectedTreatmentOut>,
    /// Episode, check-in and side-effect notes, newest first (at most 50).
    pub notes: Vec<NoteOut>,
    /// Notes in the range beyond those listed.
    pub notes_not_shown: usize,
    /// How to read these figures.
    pub notice: String,
}

fn counts(list: Vec<HarmCount>) -> Vec<EffectCountOut> {
    list.into_iter()
        .map(|c| EffectCountOut {
            effect: c.effect,
            count: c.count,
            worst: c.worst.code().to_string(),
        })
        .collect()
}

fn out(d: ReportData) -> DashboardOut {
    let s = d.summary;
    let se = d.side_effects;
    DashboardOut {
        patient: d.patient,
        time_zone: d.zone,
        from: d.from,
        to: d.to,
        days_in_range: s.days,
        confirmed_days: s.confirmed_days,
        involuntary_total: s.involuntary_total,
        stiffness_total: s.stiffness_total,
        involuntary_per_confirmed_day: s.involuntary_per_day,
        stiffness_per_confirmed_day: s.stiffness_per_day,
        mean_episode_pain: s.mean_episode_pain,
        mean_spasticity_nrs: s.mean_spasticity_nrs,
        mean_pain_nrs: s.mean_pain_nrs,
        active_treatments: s.active_treatments,
        relapses: s.relapses,
        days: d
            .days
            .into_iter()
            .map(|c| DayOut {
                date: c.date.to_string(),
                confirmed: c.confirmed,
                involuntary: c.involuntary,
                stiffness: c.stiffness,
            })
            .collect(),
        treatments: d
            .treatments
            .into_iter()
            .map(|t| TreatmentOut {
                name: t.name,
                category: t.category,
                dose: t.dose,
                route: t.route,
                schedule: t.schedule,
                from: t.from,
                to: t.to,
                adherence: t.adherence,
            })
            .collect(),
        events: d
            .events
            .into_iter()
            .map(|e| EventOut {
                date: e.date,
                text: e.text,
            })
            .collect(),
        side_effects: se
            .rows
            .into_iter()
            .map(|r| DashboardSideEffectOut {
                when: r.when,
                what: r.what,
                severity: r.severity.to_string(),
                suspected_treatment: r.suspected_treatment,
                note: r.note,
            })
            .collect(),
        side_effects_by_effect: counts(se.by_effect),
        side_effects_by_treatment: se
            .by_treatment
            .into_iter()
            .map(|t| SuspectedTreatmentOut {
                treatment: t.treatment,
                count: t.count,
                effects: counts(t.effects),
            })
            .collect(),
        notes: d
            .notes
            .rows
            .into_iter()
            .map(|n| NoteOut {
                date: n.date,
                source: n.source.to_string(),
                text: n.text,
            })
            .collect(),
        notes_not_shown: d.notes.more,
        notice: d.notice.to_string(),
    }
}

#[utoipa::path(get, path = "/api/dashboard", tag = "dashboard", params(DashboardQuery),
    responses((status = 200, body = DashboardOut), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn own_dashboard(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> AppResult<Json<DashboardOut>> {
    let me = Own::new(&state, &pa, &addr);
    let data = exports::dashboard(&me, q.from.as_deref(), q.to.as_deref(), &SECTIONS).await?;
    Ok(Json(out(data)))
}

#[utoipa::path(get, path = "/api/clinician/patients/{patient_id}/dashboard", tag = "clinician",
    params(("patient_id" = i64, Path), DashboardQuery),
    responses((status = 200, body = DashboardOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
/// A consented patient's dashboard figures; recorded in the patient's access log.
pub async fn clinician_dashboard(
    State(state): State<AppState>,
    ClinicianAuth(auth): ClinicianAuth,
    addr: ClientAddr,
    ApiPath(patient_id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> AppResult<Json<DashboardOut>> {
    let view = clinician::dashboard(
        &Actor::new(&state, &auth, &addr),
        patient_id,
        (q.from.as_deref(), q.to.as_deref()),
        &SECTIONS,
        None,
        "api",
    )
    .await?;
    Ok(Json(out(view.data)))
}
