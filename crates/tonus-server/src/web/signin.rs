//! Signing in and out, the first-visit set-up of the administrator, and open sign-up.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tonus_store::User;

use super::{field_err, render, resume, see_other, with_cookie, FieldError, FormFields, MaybeAuth, Nav};
use crate::auth::{clear_session_cookie, session_cookie, Auth, ClientAddr, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::service::accounts::{self, SignIn};
use crate::service::{sessions, Actor};
use crate::state::AppState;

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
    /// Under the user name field: sign-up says digits will be added.
    username_hint: &'static str,
    time_zone: String,
    message: Option<String>,
    error: Option<FieldError>,
    /// A stale form waiting for this sign-in: where it goes and its fields, packed.
    resume_to: String,
    resume: String,
    /// The same fields, for reading.
    typed: Vec<(String, String)>,
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
            username_hint: "",
            time_zone: String::new(),
            message: None,
            error: None,
            resume_to: String::new(),
            resume: String::new(),
            typed: Vec::new(),
        }
    }

    /// Keeps a stale form through the sign-in (and its failures), when there is one.
    fn carry(&mut self, to: &str, fields: &[(String, String)]) {
        if resume::resumable(to) && !fields.is_empty() {
            self.resume_to = to.to_string();
            self.resume = resume::pack(fields);
            self.typed = resume::shown(fields);
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
            username_hint: "Tonus adds four digits to the name you choose (for example anne-4821), so nobody can find out who has an account here. You will see your full sign-in name next; you need it to sign in.",
            time_zone: "UTC".to_string(),
            ..Self::login(csrf)
        }
    }
}

fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown browser")
        .chars()
        .take(200)
        .collect()
}

/// Opens a session for `user` and answers with a redirect that sets the cookie.
async fn start_session(
    state: &AppState,
    user: &User,
    addr: &ClientAddr,
    headers: &HeaderMap,
    to: &str,
) -> AppResult<Response> {
    let opened = accounts::open_session(state, user, addr, &user_agent(headers)).await?;
    Ok(with_cookie(
        see_other(to),
        session_cookie(&opened.token, opened.max_age_s),
    ))
}

/// The sign-in page offered for a form that went stale while signed out: what was typed is
/// listed and carried through the sign-in, then offered for saving.
pub(crate) fn sign_in_to_resume(csrf: &CsrfToken, to: &str, fields: &[(String, String)]) -> Response {
    let mut page = LoginPage::login(csrf);
    page.heading = "Sign in to save what you typed";
    page.message = Some(
        "Not saved yet: you were signed out (after a long pause, or elsewhere). Nothing you typed is lost: sign in and you can save it."
            .to_string(),
    );
    page.carry(to, fields);
    // The form was refused for its token, as before; the page is what changed.
    match render(&page, StatusCode::FORBIDDEN) {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

/// GET /login
pub async fn login_form(MaybeAuth(auth): MaybeAuth, csrf: CsrfToken) -> AppResult<Response> {
    if auth.is_some() {
        return Ok(see_other("/"));
    }
    render(&LoginPage::login(&csrf), StatusCode::OK)
}

/// POST /login
pub async fn login(
    State(state): State<AppState>,
    csrf: CsrfToken,
    addr: ClientAddr,
    headers: HeaderMap,
    form: FormFields,
) -> AppResult<Response> {
    let mut page = LoginPage::login(&csrf);
    page.username = form.get("username").trim().to_lowercase();
    let resume_to = form.get("resume_to").to_string();
    let typed = resume::unpack(form.get("resume"));
    page.carry(&resume_to, &typed);
    let outcome = accounts::sign_in(
        &state,
        &addr,
        form.get("username"),
        form.get("password"),
        form.get("code"),
    )
    .await?;
    match outcome {
        SignIn::Accepted(user) if !page.resume_to.is_empty() => {
            // Signed in again to save a stale form: offer it at once with the new token.
            let opened = accounts::open_session(&state, &user, &addr, &user_agent(&headers)).await?;
            let nav = Nav {
                username: Some(user.username.clone()),
                role: user.role.code().to_string(),
                csrf: opened.csrf,
            };
            let res = resume::save_page(nav, &page.resume_to, typed);
            Ok(with_cookie(res, session_cookie(&opened.token, opened.max_age_s)))
        }
        SignIn::Accepted(user) => {
            let to = if crate::service::second_factor::has_notice(&state, &user).await? {
                "/account"
            } else {
                "/"
            };
            start_session(&state, &user, &addr, &headers, to).await
        }
        SignIn::Throttled(retry_after_s) => {
            page.message = Some(format!(
                "{} (from this address, for about {}).",
                AppError::TooManyAttempts,
                human_wait(retry_after_s)
            ));
            let mut res = render(&page, StatusCode::TOO_MANY_REQUESTS)?;
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after_s));
            Ok(res)
        }
        SignIn::SecondFactorNeeded => {
            page.message = Some(
                "Enter the 6-digit code your authenticator app shows now (two-step sign-in is on for this account)."
                    .to_string(),
            );
            render(&page, StatusCode::UNAUTHORIZED)
        }
        SignIn::Refused => {
            // One message for unknown names and wrong passwords: no account enumeration.
            page.message = Some("That user name and password do not match.".to_string());
            render(&page, StatusCode::UNAUTHORIZED)
        }
    }
}

/// The form again with the broken rule, or the error page for anything else.
fn refused(mut page: LoginPage, e: AppError) -> AppResult<Response> {
    match e {
        AppError::Invalid(e) => {
            page.error = Some(FieldError::from(&e));
            render(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        e => Err(e),
    }
}

/// GET /setup: only while no account exists.
pub async fn setup_form(State(state): State<AppState>, csrf: CsrfToken) -> AppResult<Response> {
    if !accounts::setup_open(&state).await? {
        return Err(AppError::NotFound);
    }
    render(&LoginPage::setup(&csrf), StatusCode::OK)
}

/// POST /setup: creates the administrator and signs them in.
pub async fn setup(
    State(state): State<AppState>,
    csrf: CsrfToken,
    addr: ClientAddr,
    headers: HeaderMap,
    form: FormFields,
) -> AppResult<Response> {
    let mut page = LoginPage::setup(&csrf);
    page.username = form.get("username").trim().to_string();
    match accounts::setup(&state, &addr, form.get("username"), form.get("password")).await {
        Ok(user) => start_session(&state, &user, &addr, &headers, "/admin").await,
        Err(e) => refused(page, e),
    }
}

/// GET /signup: only with open registration.
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

/// POST /signup: a patient account, signed in at once.
pub async fn signup(
    State(state): State<AppState>,
    csrf: CsrfToken,
    addr: ClientAddr,
    headers: HeaderMap,
    form: FormFields,
) -> AppResult<Response> {
    let mut page = LoginPage::signup(&csrf);
    page.username = form.get("username").trim().to_string();
    page.time_zone = form.get("time_zone").trim().to_string();
    let created = accounts::sign_up(
        &state,
        &addr,
        form.get("username"),
        form.get("password"),
        form.get("time_zone"),
    )
    .await;
    match created {
        // The account page shows the full sign-in name, digits included.
        Ok(user) => start_session(&state, &user, &addr, &headers, "/account?welcome").await,
        Err(AppError::RateLimited(wait)) => {
            page.message = Some(format!(
                "Too many new accounts were tried from this address; try again in about {}.",
                human_wait(wait)
            ));
            let mut res = render(&page, StatusCode::TOO_MANY_REQUESTS)?;
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
            Ok(res)
        }
        Err(e) => refused(page, e),
    }
}

/// POST /logout
pub async fn logout(State(state): State<AppState>, auth: Auth, addr: ClientAddr) -> AppResult<Response> {
    sessions::sign_out(&Actor::new(&state, &auth, &addr)).await?;
    Ok(with_cookie(see_other("/login"), clear_session_cookie()))
}

/// "40 seconds", "3 minutes": the wait in Retry-After, for people.
fn human_wait(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".to_string(),
        2..=90 => format!("{seconds} seconds"),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}
