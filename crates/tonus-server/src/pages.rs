//! Server-rendered pages. Forms post back to the same page; on bad input the page is shown
//! again with status 422, the message next to the field and everything typed kept; on success
//! the browser is redirected (post/redirect/get) so a reload never posts twice.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::Timestamp;
use serde::Deserialize;
use tonus_domain::episode::EpisodeDraft;
use tonus_domain::input::{parse_date, parse_duration_seconds, parse_when};
use tonus_domain::time::{today, LocalInstant, Zone};
use tonus_domain::{checkin::CheckInDraft, Episode, Region, SpasmKind, ValidationError};
use tonus_store::{NewSession, Redeemed, Role, Stored, User};

use crate::auth::{
    clear_session_cookie, consented_patient, form_urlencoded_pairs, patient_auth, session_cookie, AdminAuth, Auth,
    ClientAddr, ClinicianAuth, CsrfToken, PatientAuth, Via,
};
use crate::config::ms;
use crate::dashboard::Dashboard;
use crate::error::{AppError, AppResult};
use crate::exports::RangeQuery;
use crate::security::{
    check_password_rules, hash_password, invitation_code, normalise_code, random_hex, sha256_hex, verify_password,
};
use crate::state::AppState;

// ----- shared pieces -----

/// What the page header needs.
pub struct Nav {
    pub username: Option<String>,
    pub role: String,
    pub csrf: String,
}

impl Nav {
    pub(crate) fn new(auth: Option<&Auth>, csrf: &CsrfToken) -> Self {
        Self {
            username: auth.map(|a| a.user.username.clone()),
            role: auth.map(|a| a.user.role.code().to_string()).unwrap_or_default(),
            csrf: csrf.0.clone(),
        }
    }
}

/// The signed-in user if any (pages that anonymous visitors may see too).
pub struct MaybeAuth(pub Option<Auth>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeAuth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<Auth>().cloned()))
    }
}

/// A urlencoded form as ordered pairs: repeated fields (regions) and unknown fields are kept,
/// and a malformed body is a 400 of ours rather than the framework's.
pub struct FormFields(pub Vec<(String, String)>);

impl FormFields {
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormFields {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::BadRequest(ValidationError::new("body", "a readable form", "unreadable")))?;
        Ok(Self(form_urlencoded_pairs(&bytes)))
    }
}

/// A choice in a list of radio buttons, check boxes or options.
pub struct Opt {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

fn opt(code: impl Into<String>, label: impl Into<String>, selected: bool) -> Opt {
    Opt {
        code: code.into(),
        label: label.into(),
        selected,
    }
}

/// The error shown next to one field.
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl From<&ValidationError> for FieldError {
    fn from(e: &ValidationError) -> Self {
        Self {
            field: e.field.clone(),
            message: format!("must be {}; got {}", e.rule, e.value),
        }
    }
}

fn field_err<'a>(error: &'a Option<FieldError>, field: &str) -> Option<&'a str> {
    error.as_ref().filter(|e| e.field == field).map(|e| e.message.as_str())
}

pub(crate) fn render(t: &impl Template, status: StatusCode) -> AppResult<Response> {
    Ok((status, Html(t.render()?)).into_response())
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

fn with_cookie(mut res: Response, cookie: String) -> Response {
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn fmt_ms(ms: i64, zone: &Zone) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(zone.tz()).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

/// An optional integer field: empty is `None`; anything else must be an integer.
fn int_field(field: &str, raw: &str) -> Result<Option<i64>, ValidationError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| ValidationError::new(field, "a whole number", format!("{raw:?}")))
}

fn user_agent(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown browser")
        .chars()
        .take(200)
        .collect()
}

/// Opens a session for `user` and answers with a redirect that sets the cookie.
async fn sign_in(
    state: &AppState,
    user: &User,
    addr: &ClientAddr,
    headers: &axum::http::HeaderMap,
    to: &str,
) -> AppResult<Response> {
    let token = random_hex(32);
    let now = now_ms();
    let absolute = ms(state.config.session_absolute);
    state
        .store
        .create_session(&NewSession {
            user_id: user.id,
            token_hash: &sha256_hex(&token),
            csrf_token: &random_hex(32),
            now_ms: now,
            expires_at_ms: now.saturating_add(absolute),
            address: &addr.0,
            user_agent: &user_agent(headers),
        })
        .await?;
    state
        .audit((Some(user.id), &user.username), user.patient_id, "signin", &addr.0, "")
        .await?;
    Ok(with_cookie(see_other(to), session_cookie(&token, absolute / 1000)))
}

// ----- home and quick log -----

pub async fn home(
    State(state): State<AppState>,
    MaybeAuth(auth): MaybeAuth,
    csrf: CsrfToken,
    Query(q): Query<HomeQuery>,
) -> AppResult<Response> {
    let Some(auth) = auth else {
        let to = if state.store.count_users().await? == 0 {
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
            } else {
                None
            };
            quick_log_page(&state, &pa, &csrf, None, None, saved).await
        }
    }
}

#[derive(Deserialize)]
pub struct HomeQuery {
    saved: Option<String>,
    deleted: Option<String>,
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
}

impl QuickForm {
    fn from_fields(form: &FormFields) -> Self {
        QuickForm {
            kind: form.get("kind").to_string(),
            regions: form.all("region"),
            pain: form.get("pain").to_string(),
            when: form.get("when").to_string(),
            duration: form.get("duration").to_string(),
            notes: form.get("notes").to_string(),
        }
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

fn recent_row(e: &Stored<Episode>, zone: &Zone) -> RecentEpisode {
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
    remembered: bool,
    error: Option<FieldError>,
    saved: Option<String>,
    recent: Vec<RecentEpisode>,
    /// Set when the form edits a stored episode rather than logging a new one.
    edit_id: Option<i64>,
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
            when: form.when,
            duration: form.duration,
            notes: form.notes,
            remembered: false,
            error: error.map(FieldError::from),
            saved: None,
            recent: Vec::new(),
            edit_id: None,
        }
    }

    fn status(&self) -> StatusCode {
        if self.error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        }
    }

    fn err(&self, field: &str) -> Option<&str> {
        field_err(&self.error, field)
    }
    fn has_detail_error(&self) -> bool {
        self.error.as_ref().is_some_and(|e| e.field != "kind")
    }
}

async fn quick_log_page(
    state: &AppState,
    pa: &PatientAuth,
    csrf: &CsrfToken,
    typed: Option<QuickForm>,
    error: Option<ValidationError>,
    saved: Option<String>,
) -> AppResult<Response> {
    let zone = &pa.patient.zone;
    let now = Timestamp::now();
    let from = today(zone, now).checked_sub(jiff::Span::new().days(14)).ok();
    let episodes = state.store.list_episodes(&pa.patient, from, None).await?;
    // Region and pain are remembered from the last entry, so the usual episode is two taps.
    let remembered = typed.is_none() && !episodes.is_empty();
    let form = typed.unwrap_or_else(|| match episodes.last() {
        Some(last) => QuickForm {
            regions: last.value.regions().iter().map(|r| r.code().to_string()).collect(),
            pain: last.value.pain().map(|p| p.value().to_string()).unwrap_or_default(),
            ..QuickForm::default()
        },
        None => QuickForm::default(),
    });
    let recent = episodes.iter().rev().take(20).map(|e| recent_row(e, zone)).collect();
    let mut page = QuickLogPage::new(pa, csrf, form, error.as_ref());
    page.remembered = remembered;
    page.saved = saved;
    page.recent = recent;
    render(&page, page.status())
}

pub async fn quick_log(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    form: FormFields,
) -> AppResult<Response> {
    let typed = QuickForm::from_fields(&form);
    match episode_from_form(&typed, &pa.patient.zone) {
        Ok(episode) => {
            state.store.insert_episode(&pa.patient, &episode).await?;
            Ok(see_other("/?saved=1"))
        }
        Err(e) => quick_log_page(&state, &pa, &csrf, Some(typed), Some(e), None).await,
    }
}

fn episode_from_form(f: &QuickForm, zone: &Zone) -> Result<Episode, ValidationError> {
    episode_from_form_with(f, zone, Vec::new(), None, None)
}

/// `keep_at`: when editing, the stored start, kept exactly unless the typed time changed.
fn episode_from_form_with(
    f: &QuickForm,
    zone: &Zone,
    triggers: Vec<String>,
    trigger_note: Option<String>,
    keep_at: Option<Timestamp>,
) -> Result<Episode, ValidationError> {
    let now = Timestamp::now();
    if f.kind.trim().is_empty() {
        return Err(ValidationError::new("kind", "chosen: tap what happened", "nothing"));
    }
    let duration_s = match f.duration.trim() {
        "" => None,
        d => Some(parse_duration_seconds("duration", d)?),
    };
    let unchanged = |w: &str| keep_at.is_some_and(|t| w.is_empty() || w == fmt_ms(t.as_millisecond(), zone));
    let at = match (f.when.trim(), keep_at) {
        (w, Some(t)) if unchanged(w) => t,
        ("", _) => now,
        (w, _) => parse_when("started_at", w, zone, now)?,
    };
    let draft = EpisodeDraft {
        kind: f.kind.clone(),
        regions: f.regions.clone(),
        pain: int_field("pain", &f.pain)?,
        duration_s,
        triggers,
        trigger_note,
        notes: Some(f.notes.clone()),
    };
    draft.validate(LocalInstant { at, zone: zone.clone() }, now)
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    nav: Nav,
    summary: String,
    action: String,
}

pub async fn delete_episode_confirm(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let e = state
        .store
        .get_episode(&pa.patient, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let row = recent_row(&e, &pa.patient.zone);
    let page = ConfirmPage {
        nav: Nav::new(Some(&pa.auth), &csrf),
        summary: format!("{} at {}", row.kind, row.when),
        action: format!("/episodes/{id}/delete"),
    };
    render(&page, StatusCode::OK)
}

pub async fn delete_episode(
    State(state): State<AppState>,
    pa: PatientAuth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    if !state.store.delete_episode(&pa.patient, id).await? {
        return Err(AppError::NotFound);
    }
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
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let e = state
        .store
        .get_episode(&pa.patient, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let v = &e.value;
    let form = QuickForm {
        kind: v.kind().code().to_string(),
        regions: v.regions().iter().map(|r| r.code().to_string()).collect(),
        pain: v.pain().map(|p| p.value().to_string()).unwrap_or_default(),
        when: fmt_ms(v.started_at().millis(), &pa.patient.zone),
        duration: v.duration_s().map(|d| format!("{d}s")).unwrap_or_default(),
        notes: v.notes().unwrap_or_default().to_string(),
    };
    edit_page(&pa, &csrf, id, form, None)
}

/// POST /episodes/{id}/edit: replaces the episode with what the form says; triggers recorded
/// elsewhere (CLI, API) are kept, since the form does not show them.
pub async fn edit_episode(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    form: FormFields,
) -> AppResult<Response> {
    let old = state
        .store
        .get_episode(&pa.patient, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let typed = QuickForm::from_fields(&form);
    let old_triggers: Vec<String> = old.value.triggers().iter().map(|t| t.code().to_string()).collect();
    let old_note = old.value.trigger_note().map(str::to_string);
    let keep_at = Some(old.value.started_at().at);
    match episode_from_form_with(&typed, &pa.patient.zone, old_triggers, old_note, keep_at) {
        Ok(episode) => {
            if !state.store.update_episode(&pa.patient, id, &episode).await? {
                return Err(AppError::NotFound);
            }
            Ok(see_other("/?saved=1"))
        }
        Err(e) => edit_page(&pa, &csrf, id, typed, Some(e)),
    }
}

// ----- daily check-in -----

pub struct ScaleField {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<Opt>,
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
        "night_wakings" => (0..=20).map(|v| labelled(v, v.to_string())).collect(),
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
            .map(|(name, label)| ScaleField {
                name,
                label,
                options: scale_options(name, form.get(name)),
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

pub async fn checkin_form(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    Query(q): Query<CheckinQuery>,
) -> AppResult<Response> {
    let zone = &pa.patient.zone;
    let date = match q.date.as_deref() {
        Some(d) => parse_date("date", d, zone, Timestamp::now())?,
        None => today(zone, Timestamp::now()),
    };
    // Show the day's earlier answers so the form edits rather than overwrites blindly.
    let existing = state.store.list_checkins(&pa.patient, Some(date), Some(date)).await?;
    let mut pairs = vec![("date".to_string(), date.to_string())];
    if let Some(c) = existing.first().map(|c| &c.value) {
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

pub async fn checkin(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    form: FormFields,
) -> AppResult<Response> {
    let zone = &pa.patient.zone;
    let now = Timestamp::now();
    let parsed = (|| {
        let date = match form.get("date").trim() {
            "" => today(zone, now),
            d => parse_date("date", d, zone, now)?,
        };
        let draft = CheckInDraft {
            spasticity_nrs: int_field("spasticity_nrs", form.get("spasticity_nrs"))?,
            pain_nrs: int_field("pain_nrs", form.get("pain_nrs"))?,
            psfs_frequency: int_field("psfs_frequency", form.get("psfs_frequency"))?,
            psfs_severity: int_field("psfs_severity", form.get("psfs_severity"))?,
            night_wakings: int_field("night_wakings", form.get("night_wakings"))?,
            log_complete: !form.get("log_complete").is_empty(),
            note: Some(form.get("note").to_string()),
        };
        draft.validate(date, zone, now)
    })();
    match parsed {
        Ok(c) => {
            state.store.upsert_checkin(&pa.patient, &c).await?;
            Ok(see_other(&format!("/checkin?date={0}&saved={0}", c.date())))
        }
        Err(e) => render(
            &checkin_page(&pa.auth, &csrf, &form, Some(&e), None),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}

// ----- sign-in, set-up, sign-up, sign-out -----

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    nav: Nav,
    heading: &'static str,
    intro: &'static str,
    action: &'static str,
    submit: &'static str,
    new_password: bool,
    ask_zone: bool,
    /// The sign-in form's optional second-factor field.
    ask_code: bool,
    username: String,
    time_zone: String,
    message: Option<String>,
    error: Option<FieldError>,
}

impl LoginPage {
    fn err(&self, field: &str) -> Option<&str> {
        field_err(&self.error, field)
    }

    fn login(csrf: &CsrfToken) -> Self {
        Self {
            nav: Nav::new(None, csrf),
            heading: "Sign in",
            intro: "",
            action: "/login",
            submit: "Sign in",
            new_password: false,
            ask_zone: false,
            ask_code: true,
            username: String::new(),
            time_zone: String::new(),
            message: None,
            error: None,
        }
    }

    fn setup(csrf: &CsrfToken) -> Self {
        Self {
            heading: "Create the administrator",
            intro: "Tonus has no accounts yet. The administrator creates the accounts of patients and clinicians, and does not see health data.",
            action: "/setup",
            submit: "Create administrator",
            new_password: true,
            ask_code: false,
            ..Self::login(csrf)
        }
    }

    fn signup(csrf: &CsrfToken) -> Self {
        Self {
            heading: "Create your account",
            intro: "A patient account: your data is yours, shared only with clinicians you choose.",
            action: "/signup",
            submit: "Create account",
            new_password: true,
            ask_code: false,
            ask_zone: true,
            time_zone: "UTC".to_string(),
            ..Self::login(csrf)
        }
    }
}

pub async fn login_form(MaybeAuth(auth): MaybeAuth, csrf: CsrfToken) -> AppResult<Response> {
    if auth.is_some() {
        return Ok(see_other("/"));
    }
    render(&LoginPage::login(&csrf), StatusCode::OK)
}

pub async fn login(
    State(state): State<AppState>,
    csrf: CsrfToken,
    addr: ClientAddr,
    headers: axum::http::HeaderMap,
    form: FormFields,
) -> AppResult<Response> {
    let name = form.get("username").trim().to_lowercase();
    let password = form.get("password").to_string();
    let now = now_ms();
    let cfg = &state.config;
    let mut page = LoginPage::login(&csrf);
    page.username = name.clone();

    let (by_user, by_address) = state
        .store
        .failed_logins_since(&name, &addr.0, now - ms(cfg.login_window))
        .await?;
    if by_user >= cfg.max_failures_per_account || by_address >= cfg.max_failures_per_address {
        state
            .audit((None, &name), None, "signin.throttled", &addr.0, "")
            .await?;
        page.message = Some(AppError::TooManyAttempts.to_string());
        // The window slides: the oldest failure leaves it within the window's length at most.
        let mut res = render(&page, StatusCode::TOO_MANY_REQUESTS)?;
        res.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(cfg.login_window.as_secs()),
        );
        return Ok(res);
    }

    let creds = state.store.user_credentials(&name).await?;
    let hash = creds.as_ref().map(|(_, h)| h.clone());
    let password_ok = verify_password(password, hash).await? && creds.as_ref().is_some_and(|(u, _)| !u.disabled);
    // The second factor is asked only of accounts that turned it on, and only judged once the
    // password matched, so a wrong code tells nothing about unknown names.
    let second_factor_ok = match (&creds, password_ok) {
        (Some((user, _)), true) => match state.store.totp_secret(user.id).await? {
            Some(secret) => crate::account::code_matches(&secret, &user.username, form.get("code")),
            None => true,
        },
        _ => true,
    };
    let ok = password_ok && second_factor_ok;
    state.store.record_login_attempt(&name, &addr.0, ok, now).await?;
    match creds {
        Some((user, _)) if ok => sign_in(&state, &user, &addr, &headers, "/").await,
        other => {
            let (actor_id, patient_id) = other.map_or((None, None), |(u, _)| (Some(u.id), u.patient_id));
            let detail = if password_ok { "second factor" } else { "" };
            state
                .audit((actor_id, &name), patient_id, "signin.failed", &addr.0, detail)
                .await?;
            page.message = Some(if password_ok {
                "Enter the 6-digit code your authenticator app shows now (two-step sign-in is on for this account)."
                    .to_string()
            } else {
                // One message for unknown names and wrong passwords: no account enumeration.
                "That user name and password do not match.".to_string()
            });
            render(&page, StatusCode::UNAUTHORIZED)
        }
    }
}

pub async fn setup_form(State(state): State<AppState>, csrf: CsrfToken) -> AppResult<Response> {
    if state.store.count_users().await? > 0 {
        return Err(AppError::NotFound);
    }
    render(&LoginPage::setup(&csrf), StatusCode::OK)
}

pub async fn setup(
    State(state): State<AppState>,
    csrf: CsrfToken,
    addr: ClientAddr,
    headers: axum::http::HeaderMap,
    form: FormFields,
) -> AppResult<Response> {
    if state.store.count_users().await? > 0 {
        return Err(AppError::NotFound);
    }
    let mut page = LoginPage::setup(&csrf);
    page.username = form.get("username").trim().to_string();
    match create_account(
        &state,
        form.get("username"),
        form.get("password"),
        Role::Admin,
        "UTC",
        None,
        &addr,
    )
    .await
    {
        Ok(user) => sign_in(&state, &user, &addr, &headers, "/admin").await,
        Err(AppError::Invalid(e)) => {
            page.error = Some(FieldError::from(&e));
            render(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

pub async fn signup_form(
    State(state): State<AppState>,
    MaybeAuth(auth): MaybeAuth,
    csrf: CsrfToken,
) -> AppResult<Response> {
    if !state.config.open_registration {
        return Err(AppError::NotFound);
    }
    if auth.is_some() {
        return Ok(see_other("/"));
    }
    render(&LoginPage::signup(&csrf), StatusCode::OK)
}

pub async fn signup(
    State(state): State<AppState>,
    csrf: CsrfToken,
    addr: ClientAddr,
    headers: axum::http::HeaderMap,
    form: FormFields,
) -> AppResult<Response> {
    if !state.config.open_registration {
        return Err(AppError::NotFound);
    }
    let mut page = LoginPage::signup(&csrf);
    page.username = form.get("username").trim().to_string();
    page.time_zone = form.get("time_zone").trim().to_string();
    match create_account(
        &state,
        form.get("username"),
        form.get("password"),
        Role::Patient,
        form.get("time_zone"),
        None,
        &addr,
    )
    .await
    {
        Ok(user) => sign_in(&state, &user, &addr, &headers, "/").await,
        Err(AppError::Invalid(e)) => {
            page.error = Some(FieldError::from(&e));
            render(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

/// Checks every rule, hashes, creates, audits. A taken name is reported on the username field.
async fn create_account(
    state: &AppState,
    username: &str,
    password: &str,
    role: Role,
    zone: &str,
    by: Option<&User>,
    addr: &ClientAddr,
) -> AppResult<User> {
    let username = tonus_store::validate_username(&username.to_lowercase(), role)?;
    let zone = Zone::parse(if zone.trim().is_empty() { "UTC" } else { zone })?;
    check_password_rules(password, &username)?;
    if state.store.user_by_username(&username).await?.is_some() {
        return Err(AppError::Invalid(ValidationError::new(
            "username",
            "a name nobody uses yet",
            format!("{username:?}"),
        )));
    }
    let hash = hash_password(password.to_string()).await?;
    let user = state.store.create_user(&username, role, &hash, &zone).await?;
    let actor = by.map_or((Some(user.id), user.username.as_str()), |b| {
        (Some(b.id), b.username.as_str())
    });
    state
        .audit(
            actor,
            user.patient_id,
            "user.create",
            &addr.0,
            &format!("{} {}", role, user.username),
        )
        .await?;
    Ok(user)
}

pub async fn logout(State(state): State<AppState>, auth: Auth, addr: ClientAddr) -> AppResult<Response> {
    if let Via::Session { id, .. } = auth.via {
        state.store.delete_session(auth.user.id, id).await?;
        state
            .audit(
                (Some(auth.user.id), &auth.user.username),
                auth.user.patient_id,
                "signout",
                &addr.0,
                "",
            )
            .await?;
    }
    Ok(with_cookie(see_other("/login"), clear_session_cookie()))
}

// ----- sessions -----

pub struct SessionRow {
    pub id: i64,
    pub user_agent: String,
    pub address: String,
    pub created: String,
    pub last_seen: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "sessions.html")]
pub struct SessionsPage {
    nav: Nav,
    sessions: Vec<SessionRow>,
}

pub async fn sessions(State(state): State<AppState>, auth: Auth, csrf: CsrfToken) -> AppResult<Response> {
    let current = match auth.via {
        Via::Session { id, .. } => Some(id),
        Via::Token => None,
    };
    let utc = Zone::utc();
    let rows = state
        .store
        .list_sessions(auth.user.id)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            id: s.id,
            user_agent: s.user_agent,
            address: s.address,
            created: format!("{} UTC", fmt_ms(s.created_at_ms, &utc)),
            last_seen: format!("{} UTC", fmt_ms(s.last_seen_at_ms, &utc)),
            current: Some(s.id) == current,
        })
        .collect();
    render(
        &SessionsPage {
            nav: Nav::new(Some(&auth), &csrf),
            sessions: rows,
        },
        StatusCode::OK,
    )
}

pub async fn end_session(State(state): State<AppState>, auth: Auth, Path(id): Path<i64>) -> AppResult<Response> {
    if !state.store.delete_session(auth.user.id, id).await? {
        return Err(AppError::NotFound);
    }
    if matches!(auth.via, Via::Session { id: cur, .. } if cur == id) {
        return Ok(with_cookie(see_other("/login"), clear_session_cookie()));
    }
    Ok(see_other("/sessions"))
}

pub async fn end_all_sessions(State(state): State<AppState>, auth: Auth, addr: ClientAddr) -> AppResult<Response> {
    let n = state.store.delete_user_sessions(auth.user.id).await?;
    state
        .audit(
            (Some(auth.user.id), &auth.user.username),
            auth.user.patient_id,
            "signout.everywhere",
            &addr.0,
            &format!("{n} sessions"),
        )
        .await?;
    Ok(with_cookie(see_other("/login"), clear_session_cookie()))
}

// ----- sharing (patients) -----

pub struct ConsentRow {
    pub id: i64,
    pub clinician: String,
    pub since: String,
    pub until: String,
}

#[derive(Template)]
#[template(path = "sharing.html")]
pub struct SharingPage {
    nav: Nav,
    live: Vec<ConsentRow>,
    past: Vec<ConsentRow>,
    new_code: Option<String>,
    code_days: u64,
    message: Option<String>,
    error: Option<String>,
    clinician: String,
}

async fn sharing_page(
    state: &AppState,
    pa: &PatientAuth,
    csrf: &CsrfToken,
    new_code: Option<String>,
    message: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let zone = &pa.patient.zone;
    let (live, past): (Vec<_>, Vec<_>) = state
        .store
        .consents_of_patient(pa.patient.id)
        .await?
        .into_iter()
        .partition(|c| c.revoked_at_ms.is_none());
    let row = |c: tonus_store::Consent| ConsentRow {
        id: c.id,
        clinician: c.clinician_username,
        since: fmt_ms(c.granted_at_ms, zone),
        until: c.revoked_at_ms.map(|m| fmt_ms(m, zone)).unwrap_or_default(),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = SharingPage {
        nav: Nav::new(Some(&pa.auth), csrf),
        live: live.into_iter().map(row).collect(),
        past: past.into_iter().map(row).collect(),
        new_code,
        code_days: state.config.invitation_ttl.as_secs() / 86_400,
        message,
        error,
        clinician: String::new(),
    };
    render(&page, status)
}

pub async fn sharing(State(state): State<AppState>, pa: PatientAuth, csrf: CsrfToken) -> AppResult<Response> {
    sharing_page(&state, &pa, &csrf, None, None, None).await
}

pub async fn create_invitation(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    let code = invitation_code();
    let now = now_ms();
    state
        .store
        .create_invitation(
            pa.patient.id,
            &sha256_hex(&normalise_code(&code)),
            now,
            now + ms(state.config.invitation_ttl),
        )
        .await?;
    state
        .audit(
            (Some(pa.auth.user.id), &pa.auth.user.username),
            Some(pa.patient.id),
            "consent.invite",
            &addr.0,
            "",
        )
        .await?;
    // Shown once, never stored in clear: hence rendered here rather than after a redirect.
    sharing_page(&state, &pa, &csrf, Some(code), None, None).await
}

pub async fn grant_by_handle(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let handle = form.get("clinician").trim().to_lowercase();
    let clinician = state
        .store
        .user_by_username(&handle)
        .await?
        .filter(|u| u.role == Role::Clinician && !u.disabled);
    let Some(clinician) = clinician else {
        return sharing_page(
            &state,
            &pa,
            &csrf,
            None,
            None,
            Some(format!("No clinician is called {handle:?}.")),
        )
        .await;
    };
    let granted = state
        .store
        .grant_consent(pa.patient.id, clinician.id, "handle", now_ms())
        .await?;
    if granted.is_some() {
        state
            .audit(
                (Some(pa.auth.user.id), &pa.auth.user.username),
                Some(pa.patient.id),
                "consent.grant",
                &addr.0,
                &format!("to {} by user name", clinician.username),
            )
            .await?;
    }
    let msg = format!("{} can now read your data.", clinician.username);
    sharing_page(&state, &pa, &csrf, None, Some(msg), None).await
}

pub async fn revoke_consent(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    revoke_consent_audited(&state, &pa, &addr, id).await?;
    Ok(see_other("/sharing"))
}

/// Revokes one of the patient's grants (404 if it is not theirs or already revoked) and
/// records it in the audit log; shared by the sharing page and the API.
pub(crate) async fn revoke_consent_audited(
    state: &AppState,
    pa: &PatientAuth,
    addr: &ClientAddr,
    consent_id: i64,
) -> AppResult<()> {
    let clinician = state
        .store
        .revoke_consent(pa.patient.id, consent_id, now_ms())
        .await?
        .ok_or(AppError::NotFound)?;
    let name = state
        .store
        .user_by_id(clinician)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    state
        .audit(
            (Some(pa.auth.user.id), &pa.auth.user.username),
            Some(pa.patient.id),
            "consent.revoke",
            &addr.0,
            &format!("from {name}"),
        )
        .await
}

pub struct AuditRow {
    pub when: String,
    pub actor: String,
    pub action: String,
    pub address: String,
}

#[derive(Template)]
#[template(path = "activity.html")]
pub struct ActivityPage {
    nav: Nav,
    rows: Vec<AuditRow>,
}

pub async fn activity(State(state): State<AppState>, pa: PatientAuth, csrf: CsrfToken) -> AppResult<Response> {
    let utc = Zone::utc();
    let rows = state
        .store
        .list_audit(Some(pa.patient.id), 500)
        .await?
        .into_iter()
        .map(|r| AuditRow {
            when: fmt_ms(r.at_ms, &utc),
            actor: r.actor,
            action: if r.detail.is_empty() {
                r.action
            } else {
                format!("{} ({})", r.action, r.detail)
            },
            address: r.address,
        })
        .collect();
    render(
        &ActivityPage {
            nav: Nav::new(Some(&pa.auth), &csrf),
            rows,
        },
        StatusCode::OK,
    )
}

// ----- personal access tokens -----

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub created: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
pub struct TokensPage {
    nav: Nav,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    error: Option<String>,
    name: String,
}

async fn tokens_page(
    state: &AppState,
    pa: &PatientAuth,
    csrf: &CsrfToken,
    new_token: Option<String>,
    error: Option<String>,
    name: String,
) -> AppResult<Response> {
    let zone = &pa.patient.zone;
    let tokens = state
        .store
        .list_api_tokens(pa.auth.user.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created: fmt_ms(t.created_at_ms, zone),
            revoked: t.revoked_at_ms.is_some(),
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        &TokensPage {
            nav: Nav::new(Some(&pa.auth), csrf),
            tokens,
            new_token,
            error,
            name,
        },
        status,
    )
}

pub async fn tokens(State(state): State<AppState>, pa: PatientAuth, csrf: CsrfToken) -> AppResult<Response> {
    tokens_page(&state, &pa, &csrf, None, None, String::new()).await
}

/// Creates a token for `user`; returns (id, the secret shown once).
pub(crate) async fn new_api_token(
    state: &AppState,
    user: &User,
    name: &str,
    addr: &ClientAddr,
) -> AppResult<(i64, String)> {
    // The same rule as every other text the domain takes; a name is shown on the tokens page.
    if name.chars().any(char::is_control) {
        return Err(AppError::Invalid(ValidationError::new(
            "name",
            "text without control characters",
            format!("{name:?}"),
        )));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AppError::Invalid(ValidationError::new(
            "name",
            "1–64 characters",
            format!("{} characters", name.chars().count()),
        )));
    }
    // The prefix lets secret scanners recognise a leaked Tonus token.
    let secret = format!("tonus_{}", random_hex(32));
    let id = state
        .store
        .create_api_token(user.id, name, &sha256_hex(&secret), now_ms())
        .await?;
    state
        .audit(
            (Some(user.id), &user.username),
            user.patient_id,
            "token.create",
            &addr.0,
            name,
        )
        .await?;
    Ok((id, secret))
}

pub async fn create_token(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    match new_api_token(&state, &pa.auth.user, form.get("name"), &addr).await {
        Ok((_, secret)) => tokens_page(&state, &pa, &csrf, Some(secret), None, String::new()).await,
        Err(AppError::Invalid(e)) => {
            tokens_page(
                &state,
                &pa,
                &csrf,
                None,
                Some(e.to_string()),
                form.get("name").to_string(),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    if !state.store.revoke_api_token(pa.auth.user.id, id, now_ms()).await? {
        return Err(AppError::NotFound);
    }
    state
        .audit(
            (Some(pa.auth.user.id), &pa.auth.user.username),
            Some(pa.patient.id),
            "token.revoke",
            &addr.0,
            "",
        )
        .await?;
    Ok(see_other("/tokens"))
}

// ----- clinicians -----

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
    state: &AppState,
    auth: &Auth,
    csrf: &CsrfToken,
    message: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let utc = Zone::utc();
    let patients = state
        .store
        .consents_of_clinician(auth.user.id)
        .await?
        .into_iter()
        .map(|c| PatientRow {
            id: c.patient_id,
            handle: c.patient_handle,
            since: fmt_ms(c.granted_at_ms, &utc),
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        &ClinicianPage {
            nav: Nav::new(Some(auth), csrf),
            patients,
            message,
            error,
        },
        status,
    )
}

pub async fn clinician_home(
    State(state): State<AppState>,
    ClinicianAuth(auth): ClinicianAuth,
    csrf: CsrfToken,
) -> AppResult<Response> {
    clinician_page(&state, &auth, &csrf, None, None).await
}

pub async fn redeem(
    State(state): State<AppState>,
    ClinicianAuth(auth): ClinicianAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let code = normalise_code(form.get("code"));
    let outcome = state
        .store
        .redeem_invitation(&sha256_hex(&code), auth.user.id, now_ms())
        .await?;
    match outcome {
        Redeemed::Granted { patient_id, .. } => {
            state
                .audit(
                    (Some(auth.user.id), &auth.user.username),
                    Some(patient_id),
                    "consent.grant",
                    &addr.0,
                    &format!("to {} by invitation", auth.user.username),
                )
                .await?;
            clinician_page(&state, &auth, &csrf, Some("Patient added.".to_string()), None).await
        }
        Redeemed::AlreadyGranted { .. } => {
            clinician_page(&state, &auth, &csrf, Some("You already had access.".to_string()), None).await
        }
        Redeemed::Invalid => {
            let msg = "That code is unknown, already used or expired.".to_string();
            clinician_page(&state, &auth, &csrf, None, Some(msg)).await
        }
    }
}

#[derive(Template)]
#[template(path = "clinician_patient.html")]
pub struct ClinicianPatientPage {
    nav: Nav,
    patient_id: i64,
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
    let patient = consented_patient(&state, &auth, patient_id).await?;
    let dash = Dashboard::load(&state, &patient, &q, &format!("/clinician/patients/{}", patient.id)).await?;
    state
        .audit(
            (Some(auth.user.id), &auth.user.username),
            Some(patient.id),
            "clinician.view",
            &addr.0,
            &format!("dashboard {} to {} (web)", dash.from, dash.to),
        )
        .await?;
    let from = today(&patient.zone, Timestamp::now())
        .checked_sub(jiff::Span::new().days(30))
        .ok();
    let episodes = state.store.list_episodes(&patient, from, None).await?;
    render(
        &ClinicianPatientPage {
            nav: Nav::new(Some(&auth), &csrf),
            patient_id: patient.id,
            handle: patient.handle.clone(),
            zone: patient.zone.to_string(),
            dash,
            episodes: episodes.iter().rev().map(|e| recent_row(e, &patient.zone)).collect(),
        },
        StatusCode::OK,
    )
}

// ----- administrators -----

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub created: String,
    pub disabled: bool,
    pub is_me: bool,
}

#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    nav: Nav,
    users: Vec<UserRow>,
    roles: Vec<Opt>,
    username: String,
    time_zone: String,
    message: Option<String>,
    error: Option<FieldError>,
}

impl AdminPage {
    fn err(&self, field: &str) -> Option<&str> {
        field_err(&self.error, field)
    }
}

async fn admin_page(
    state: &AppState,
    auth: &Auth,
    csrf: &CsrfToken,
    form: &FormFields,
    message: Option<String>,
    error: Option<ValidationError>,
) -> AppResult<Response> {
    let utc = Zone::utc();
    let users = state
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            is_me: u.id == auth.user.id,
            username: u.username,
            role: u.role.code().to_string(),
            created: fmt_ms(u.created_at_ms, &utc),
            disabled: u.disabled,
        })
        .collect();
    let role = match form.get("role") {
        "" => "patient",
        r => r,
    };
    let zone = match form.get("time_zone") {
        "" => "UTC",
        z => z,
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        &AdminPage {
            nav: Nav::new(Some(auth), csrf),
            users,
            roles: Role::ALL
                .iter()
                .map(|r| opt(r.code(), r.code(), r.code() == role))
                .collect(),
            username: form.get("username").to_string(),
            time_zone: zone.to_string(),
            message,
            error: error.as_ref().map(FieldError::from),
        },
        status,
    )
}

pub async fn admin_home(
    State(state): State<AppState>,
    AdminAuth(auth): AdminAuth,
    csrf: CsrfToken,
) -> AppResult<Response> {
    admin_page(&state, &auth, &csrf, &FormFields(Vec::new()), None, None).await
}

pub async fn admin_create_user(
    State(state): State<AppState>,
    AdminAuth(auth): AdminAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let created = match Role::parse(form.get("role")) {
        Ok(role) => {
            create_account(
                &state,
                form.get("username"),
                form.get("password"),
                role,
                form.get("time_zone"),
                Some(&auth.user),
                &addr,
            )
            .await
        }
        Err(e) => Err(AppError::Invalid(e)),
    };
    match created {
        Ok(u) => {
            let msg = format!("Created {} account {}.", u.role, u.username);
            admin_page(&state, &auth, &csrf, &FormFields(Vec::new()), Some(msg), None).await
        }
        Err(AppError::Invalid(e)) => admin_page(&state, &auth, &csrf, &form, None, Some(e)).await,
        Err(e) => Err(e),
    }
}

/// The account an administrator acts on; never their own (no locking oneself out).
async fn other_account(state: &AppState, admin: &Auth, id: i64) -> AppResult<User> {
    let user = state.store.user_by_id(id).await?.ok_or(AppError::NotFound)?;
    if user.id == admin.user.id {
        return Err(AppError::Invalid(ValidationError::new(
            "user",
            "another administrator's or user's account (use Account for your own)",
            "your own account",
        )));
    }
    Ok(user)
}

/// POST /admin/users/{id}/disable and /enable. Disabling ends the account's sessions at once;
/// its API tokens stop working while it is disabled.
async fn set_disabled(
    state: &AppState,
    auth: &Auth,
    csrf: &CsrfToken,
    addr: &ClientAddr,
    id: i64,
    disable: bool,
) -> AppResult<Response> {
    let user = match other_account(state, auth, id).await {
        Ok(u) => u,
        Err(AppError::Invalid(e)) => {
            return admin_page(state, auth, csrf, &FormFields(Vec::new()), None, Some(e)).await;
        }
        Err(e) => return Err(e),
    };
    state.store.set_disabled(user.id, disable.then(now_ms)).await?;
    let ended = if disable {
        state.store.delete_user_sessions(user.id).await?
    } else {
        0
    };
    let action = if disable { "user.disable" } else { "user.enable" };
    state
        .audit(
            (Some(auth.user.id), &auth.user.username),
            user.patient_id,
            action,
            &addr.0,
            &format!("{} ({ended} sessions ended)", user.username),
        )
        .await?;
    let msg = if disable {
        format!("Disabled {}: signed out everywhere, cannot sign in.", user.username)
    } else {
        format!("Enabled {}.", user.username)
    };
    admin_page(state, auth, csrf, &FormFields(Vec::new()), Some(msg), None).await
}

pub async fn admin_disable_user(
    State(state): State<AppState>,
    AdminAuth(auth): AdminAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    set_disabled(&state, &auth, &csrf, &addr, id, true).await
}

pub async fn admin_enable_user(
    State(state): State<AppState>,
    AdminAuth(auth): AdminAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    set_disabled(&state, &auth, &csrf, &addr, id, false).await
}

/// POST /admin/users/{id}/password: sets a new password for someone who lost theirs and ends
/// their sessions. Recorded in the audit log, which the patient can read.
pub async fn admin_reset_password(
    State(state): State<AppState>,
    AdminAuth(auth): AdminAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Path(id): Path<i64>,
    form: FormFields,
) -> AppResult<Response> {
    let result = async {
        let user = other_account(&state, &auth, id).await?;
        let password = form.get("password");
        check_password_rules(password, &user.username)?;
        let hash = hash_password(password.to_string()).await?;
        state.store.set_password_hash(user.id, &hash).await?;
        let ended = state.store.delete_user_sessions(user.id).await?;
        state
            .audit(
                (Some(auth.user.id), &auth.user.username),
                user.patient_id,
                "user.password.reset",
                &addr.0,
                &format!("{} ({ended} sessions ended)", user.username),
            )
            .await?;
        Ok::<_, AppError>(user)
    }
    .await;
    match result {
        Ok(u) => {
            let msg = format!("New password set for {}; their sessions were ended.", u.username);
            admin_page(&state, &auth, &csrf, &FormFields(Vec::new()), Some(msg), None).await
        }
        Err(AppError::Invalid(e)) => admin_page(&state, &auth, &csrf, &FormFields(Vec::new()), None, Some(e)).await,
        Err(e) => Err(e),
    }
}

// ----- assets -----

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/app.css"),
    )
        .into_response()
}
