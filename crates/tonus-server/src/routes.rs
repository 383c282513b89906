//! The route table. Routes are added through [`Table`], which also records each (method,
//! path) pair, so [`route_list`] is exactly what the router serves: the authorization matrix
//! test walks it and fails on any route it has no expectation for.

use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use crate::{account, api, api_dashboard, auth, dashboard, exports, html, limits, pages, trials};

struct Table {
    router: Router<AppState>,
    list: Vec<(Method, &'static str)>,
}

impl Table {
    fn get<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, h: H) -> Self {
        self.list.push((Method::GET, path));
        self.router = self.router.route(path, get(h));
        self
    }
    fn post<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, h: H) -> Self {
        self.list.push((Method::POST, path));
        self.router = self.router.route(path, post(h));
        self
    }
    fn put<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, h: H) -> Self {
        self.list.push((Method::PUT, path));
        self.router = self.router.route(path, put(h));
        self
    }
    fn delete<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, h: H) -> Self {
        self.list.push((Method::DELETE, path));
        self.router = self.router.route(path, delete(h));
        self
    }
}

fn table() -> Table {
    Table {
        router: Router::new(),
        list: Vec::new(),
    }
    // Pages: anyone.
    .get("/", pages::home)
    .get("/assets/app.css", pages::stylesheet)
    .get("/setup", pages::setup_form)
    .post("/setup", pages::setup)
    .get("/login", pages::login_form)
    .post("/login", pages::login)
    .get("/signup", pages::signup_form)
    .post("/signup", pages::signup)
    // Pages: any signed-in user.
    .post("/logout", pages::logout)
    .get("/sessions", pages::sessions)
    .post("/sessions/end-all", pages::end_all_sessions)
    .post("/sessions/{id}/end", pages::end_session)
    .get("/account", account::account)
    .post("/account/password", account::change_password)
    .post("/account/totp/start", account::totp_start)
    .post("/account/totp/enable", account::totp_enable)
    .post("/account/totp/disable", account::totp_disable)
    // Pages: patients.
    .post("/episodes", pages::quick_log)
    .get("/episodes/{id}/edit", pages::edit_episode_form)
    .post("/episodes/{id}/edit", pages::edit_episode)
    .get("/episodes/{id}/delete", pages::delete_episode_confirm)
    .post("/episodes/{id}/delete", pages::delete_episode)
    .get("/checkin", pages::checkin_form)
    .post("/checkin", pages::checkin)
    .get("/sharing", pages::sharing)
    .post("/sharing/invitations", pages::create_invitation)
    .post("/sharing/grant", pages::grant_by_handle)
    .post("/sharing/{id}/revoke", pages::revoke_consent)
    .get("/activity", pages::activity)
    .get("/tokens", pages::tokens)
    .post("/tokens", pages::create_token)
    .post("/tokens/{id}/revoke", pages::revoke_token)
    .get("/dashboard", dashboard::dashboard)
    .get("/charts", exports::charts)
    .get("/report.pdf", exports::own_report)
    .get("/export/archive.json", exports::own_archive)
    .get("/trials", trials::trials)
    .post("/trials", trials::plan)
    .get("/trials/{id}", trials::trial)
    .get("/calendar", exports::calendar)
    .post("/calendar/feeds", exports::create_feed)
    .post("/calendar/feeds/{id}/revoke", exports::revoke_feed)
    // Calendar apps: the secret in the path is the credential.
    .get("/feeds/{file}", exports::feed)
    // Pages: clinicians.
    .get("/clinician", pages::clinician_home)
    .post("/clinician/redeem", pages::redeem)
    .get("/clinician/patients/{patient_id}", pages::clinician_patient)
    .get("/clinician/patients/{patient_id}/report.pdf", exports::clinician_report)
    // Pages: administrators.
    .get("/admin", pages::admin_home)
    .post("/admin/users", pages::admin_create_user)
    .post("/admin/users/{id}/disable", pages::admin_disable_user)
    .post("/admin/users/{id}/enable", pages::admin_enable_user)
    .post("/admin/users/{id}/password", pages::admin_reset_password)
    // JSON API.
    .get("/api/openapi.json", api::openapi_json)
    .get("/api/me", api::me)
    .get("/api/episodes", api::list_episodes)
    .post("/api/episodes", api::create_episode)
    .get("/api/episodes/{id}", api::get_episode)
    .put("/api/episodes/{id}", api::replace_episode)
    .delete("/api/episodes/{id}", api::delete_episode)
    .get("/api/checkins", api::list_checkins)
    .get("/api/dashboard", api_dashboard::own_dashboard)
    .post("/api/checkins", api::create_checkin)
    .get("/api/tokens", api::list_tokens)
    .post("/api/tokens", api::create_token)
    .delete("/api/tokens/{id}", api::revoke_token)
    .get("/api/consents", api::list_consents)
    .post("/api/consents/{id}/revoke", api::revoke_consent)
    .get("/api/audit", api::own_audit)
    .get("/api/clinician/patients", api::clinician_patients)
    .get("/api/clinician/patients/{patient_id}/episodes", api::clinician_episodes)
    .get(
        "/api/clinician/patients/{patient_id}/dashboard",
        api_dashboard::clinician_dashboard,
    )
}

/// Every (method, path template) the application serves.
pub fn route_list() -> Vec<(Method, &'static str)> {
    table().list
}

/// The application with its layers. Order (outermost first): trace, security headers and
/// HTML error pages, error bodies for the limits, timeout, body limit, then caller resolution
/// (with the token allowance) and CSRF. The page layer sits outside the limits so that their
/// answers get the same headers and pages as every other.
pub fn app(state: AppState) -> Router {
    let config = state.config.clone();
    table()
        .router
        .fallback(html::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::middleware))
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::explain))
        .layer(axum::middleware::from_fn(html::middleware))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
