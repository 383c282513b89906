//! The home screen of a patient: the quick log (tap what happened, then Save), the last two
//! weeks of entries, and correcting or deleting one.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use serde::Deserialize;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::input::parse_duration_seconds;
use tonus_domain::time::{today, Zone};
use tonus_domain::{Episode, Region, SpasmKind, ValidationError};
use tonus_store::{Role, Stored};

use super::{field_err, fmt_ms, int_field, opt, render, see_other, FieldError, FormFields, MaybeAuth, Nav, Opt};
use crate::auth::{patient_auth, ClientAddr, CsrfToken, PatientAuth};
use crate::error::{AppError, AppResult};
use crate::service::episodes::{self, EpisodeInput};
use crate::service::{accounts, Own};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct HomeQuery {
    saved: Option<String>,
    deleted: Option<String>,
    confirmed: Option<String>,
    /// The episode just saved, which the page offers to undo.
    undo: Option<i64>,
}

/// GET /: the quick log for patients; everyone else is sent where they belong.
pub async fn home(
    State(state): State<AppState>,
    MaybeAuth(auth): MaybeAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Query(q): Query<HomeQuery>,
) -> AppResult<Response> {
    let Some(auth) = auth else {
        let to = if accounts::setup_open(&state).await? {
            "/setup"
        } else {
            "/login"
        };
        return Ok(see_other(to));
    };
    match auth.user.role {
        Role::Clinician => Ok(see_other("/clinician")),
        Role::Admin => Ok(see_other("/admin")),
        Role::Patient => {
            let pa = patient_auth(&state, auth).await?;
            let saved = if q.saved.is_some() {
                Some("Saved.".to_string())
            } else if q.deleted.is_some() {
                Some("Deleted.".to_string())
            } else if q.confirmed.is_some() {
                Some("Today is confirmed: what you logged is all there was.".to_string())
            } else {
                None
            };
            let mut page = quick_log_page(&Own::new(&state, &pa, &addr), &csrf, None, None, saved).await?;
            page.undo_id = q.undo.filter(|id| page.recent.iter().any(|e| e.id == *id));
            render(&page, page.status())
        }
    }
}

/// What the quick-log form holds (typed, or remembered).
#[derive(Default)]
pub struct QuickForm {
    kind: String,
    regions: Vec<String>,
    pain: String,
    when: String,
    duration: String,
    notes: String,
    /// Region and pain of the last entry, shown next to *Save* as ticked choices the person
    /// can untick: remembered values are never applied unseen.
    kept_regions: Vec<String>,
    kept_pain: String,
}

impl QuickForm {
    fn from_fields(form: &FormFields) -> Self {
        QuickForm {
            kind: form.get("kind").to_string(),
            regions: form.all("region"),
            pain: form.get("pain").to_string(),
            kept_regions: form.all("keep_region"),
            kept_pain: form.get("keep_pain").to_string(),
            when: form.get("when").to_string(),
            duration: form.get("duration").to_string(),
            notes: form.get("notes").to_string(),
        }
    }

    /// The use case's input; a field that is not even a number or a duration is refused here.
    fn input(&self) -> Result<EpisodeInput, ValidationError> {
        if self.kind.trim().is_empty() {
            return Err(ValidationError::new("kind", "chosen: tap what happened", "nothing"));
        }
        let duration_s = match self.duration.trim() {
            "" => None,
            d => Some(parse_duration_seconds("duration", d)?),
        };
        let mut regions = self.kept_regions.clone();
        regions.extend(self.regions.iter().filter(|r| !self.kept_regions.contains(r)).cloned());
        // A pain chosen in the details replaces the remembered one.
        let pain = if self.pain.trim().is_empty() {
            &self.kept_pain
        } else {
            &self.pain
        };
        Ok(EpisodeInput {
            draft: EpisodeDraft {
                kind: self.kind.clone(),
                regions,
                pain: int_field("pain", pain)?,
                duration_s,
                triggers: Vec::new(),
                trigger_note: None,
                notes: Some(self.notes.clone()),
            },
            started_at: Some(self.when.clone()),
        })
    }
}

pub struct RecentEpisode {
    pub id: i64,
    pub when: String,
    pub kind: String,
    pub regions: String,
    pub pain: Option<u8>,
    pub backfilled: bool,
}

pub(crate) fn recent_row(e: &Stored<Episode>, zone: &Zone) -> RecentEpisode {
    let v = &e.value;
    RecentEpisode {
        id: e.id,
        when: fmt_ms(v.started_at().millis(), zone),
        kind: v.kind().label().to_string(),
        regions: v.regions().iter().map(|r| r.label()).collect::<Vec<_>>().join(", "),
        pain: v.pain().map(|p| p.value()),
        backfilled: v.backfilled(),
    }
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct QuickLogPage {
    nav: Nav,
    kinds: Vec<Opt>,
    regions: Vec<Opt>,
    pains: Vec<Opt>,
    when: String,
    duration: String,
    notes: String,
    kept_regions: Vec<Opt>,
    kept_pain: Option<String>,
    error: Option<FieldError>,
    saved: Option<String>,
    recent: Vec<RecentEpisode>,
    /// Set when the form edits a stored episode rather than logging a new one.
    edit_id: Option<i64>,
    /// The entry just saved, if it is still there: one tap takes it back.
    undo_id: Option<i64>,
}

impl QuickLogPage {
    /// The episode form filled with `form` (what was typed, remembered or stored).
    fn new(pa: &PatientAuth, csrf: &CsrfToken, form: QuickForm, error: Option<&ValidationError>) -> Self {
        QuickLogPage {
            nav: Nav::new(Some(&pa.auth), csrf),
            kinds: SpasmKind::ALL
                .iter()
                .map(|k| opt(k.code(), k.label(), k.code() == form.kind))
                .collect(),
            regions: Region::ALL
                .iter()
                .map(|r| opt(r.code(), r.label(), form.regions.iter().any(|x| x == r.code())))
                .collect(),
            pains: (0..=10)
                .map(|p| opt(p.to_string(), p.to_string(), form.pain == p.to_string()))
                .collect(),
            kept_regions: form
                .kept_regions
                .iter()
                .filter_map(|code| Region::parse(code).ok())
                .map(|r| opt(r.code(), r.label(), true))
                .collect(),
            kept_pain: Some(form.kept_pain.trim().to_string()).filter(|p| !p.is_empty()),
            when: super::shown_when(&pa.patient.zone, &form.when),
            duration: form.duration,
            notes: form.notes,
            error: error.map(FieldError::from),
            saved: None,
            recent: Vec::new(),
            edit_id: None,
            undo_id: None,
        }
    }

    fn status(&self) -> StatusCode {
        super::status_for(&self.error)
    }

    fn err(&self, field: &str) -> Option<&str> {
        field_err(&self.error, field)
    }
    fn has_detail_error(&self) -> bool {
        self.error.as_ref().is_some_and(|e| e.field != "kind")
    }
}

/// The patient account behind an [`Own`], for the page header.
fn patient_auth_of(me: &Own<'_>) -> PatientAuth {
    PatientAuth {
        auth: me.actor.auth.clone(),
        patient: me.patient.clone(),
    }
}

async fn quick_log_page(
    me: &Own<'_>,
    csrf: &CsrfToken,
    typed: Option<QuickForm>,
    error: Option<ValidationError>,
    saved: Option<String>,
) -> AppResult<QuickLogPage> {
    let zone = &me.patient.zone;
    let from = today(zone, Timestamp::now())
        .checked_sub(jiff::Span::new().days(14))
        .ok();
    let episodes = episodes::list(me, from, None).await?;
    // Region and pain are remembered from the last entry, so the usual episode is two taps;
    // they are shown next to Save, ticked, so what is stored is what the person saw.
    let form = typed.unwrap_or_else(|| match episodes.last() {
        Some(last) => QuickForm {
            kept_regions: last.value.regions().iter().map(|r| r.code().to_string()).collect(),
            kept_pain: last.value.pain().map(|p| p.value().to_string()).unwrap_or_default(),
            ..QuickForm::default()
        },
        None => QuickForm::default(),
    });
    let recent = episodes.iter().rev().take(20).map(|e| recent_row(e, zone)).collect();
    let mut page = QuickLogPage::new(&patient_auth_of(me), csrf, form, error.as_ref());
    page.saved = saved;
    page.recent = recent;
    Ok(page)
}

/// POST /episodes
pub async fn quick_log(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let typed = QuickForm::from_fields(&form);
    let logged = match typed.input() {
        Ok(input) => episodes::log(&me, input).await.map(|(id, _)| id),
        Err(e) => Err(AppError::Invalid(e)),
    };
    match logged {
        Ok(id) => Ok(see_other(&format!("/?saved=1&undo={id}"))),
        Err(AppError::Invalid(e)) => {
            let page = quick_log_page(&me, &csrf, Some(typed), Some(e), None).await?;
            render(&page, page.status())
        }
        Err(e) => Err(e),
    }
}

/// GET /episodes/{id}/delete: asks before deleting.
pub async fn delete_episode_confirm(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let e = episodes::get(&Own::new(&state, &pa, &addr), id).await?;
    let row = recent_row(&e, &pa.patient.zone);
    super::confirm_delete(
        &pa,
        &csrf,
        format!("{} at {}", row.kind, row.when),
        format!("/episodes/{id}/delete"),
        "/".to_string(),
    )
}

/// POST /episodes/{id}/delete
pub async fn delete_episode(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    episodes::delete(&Own::new(&state, &pa, &addr), id).await?;
    Ok(see_other("/?deleted=1"))
}

/// The quick-log form filled with a stored episode, for editing.
fn edit_page(
    pa: &PatientAuth,
    csrf: &CsrfToken,
    id: i64,
    form: QuickForm,
    error: Option<ValidationError>,
) -> AppResult<Response> {
    let mut page = QuickLogPage::new(pa, csrf, form, error.as_ref());
    page.edit_id = Some(id);
    render(&page, page.status())
}

/// GET /episodes/{id}/edit
pub async fn edit_episode_form(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let e = episodes::get(&Own::new(&state, &pa, &addr), id).await?;
    let v = &e.value;
    let form = QuickForm {
        kind: v.kind().code().to_string(),
        regions: v.regions().iter().map(|r| r.code().to_string()).collect(),
        pain: v.pain().map(|p| p.value().to_string()).unwrap_or_default(),
        when: episodes::minute_text(v.started_at().at, &pa.patient.zone),
        duration: v.duration_s().map(|d| format!("{d}s")).unwrap_or_default(),
        notes: v.notes().unwrap_or_default().to_string(),
        ..QuickForm::default()
    };
    edit_page(&pa, &csrf, id, form, None)
}

/// POST /episodes/{id}/edit: replaces the episode with what the form says; triggers recorded
/// elsewhere (CLI, API) are kept, since the form does not show them.
pub async fn edit_episode(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
    form: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    // A missing episode is a 404 whatever the form says.
    episodes::get(&me, id).await?;
    let typed = QuickForm::from_fields(&form);
    let corrected = match typed.input() {
        Ok(input) => episodes::correct(&me, id, input, true).await.map(|_| ()),
        Err(e) => Err(AppError::Invalid(e)),
    };
    match corrected {
        Ok(()) => Ok(see_other("/?saved=1")),
        Err(AppError::Invalid(e)) => edit_page(&pa, &csrf, id, typed, Some(e)),
        Err(e) => Err(e),
    }
}

/// POST /days/confirm: "no (more) spasms today" in one tap; the day's other check-in
/// answers stay as they were.
pub async fn confirm_today(State(state): State<AppState>, pa: PatientAuth, addr: ClientAddr) -> AppResult<Response> {
    crate::service::checkins::confirm_day(&Own::new(&state, &pa, &addr), None).await?;
    Ok(see_other("/?confirmed=1"))
}
