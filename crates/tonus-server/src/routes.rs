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

use crate::api::{
    self, account as api_account, checkins as api_checkins, clinician as api_clinician, consent as api_consent,
    dashboard as api_dashboard, episodes as api_episodes, identity as api_identity, records as api_records,
    side_effects as api_side_effects, treatments as api_treatments,
};
use crate::state::AppState;
use crate::web::{
    account, admin, assets, checkin, clinician, dashboard, doses, episodes, events, exercise, exports, identity,
    reminders, sessions, sharing, side_effects, signin, tokens, treatments, trials,
};
use crate::{auth, fhir, html, limits, ops};

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
    .get("/", episodes::home)
    .get("/assets/app.css", assets::stylesheet)
    .get("/assets/offline.js", assets::offline_script)
    .get("/sw.js", assets::service_worker)
    .get("/assets/icons/{file}", assets::icon)
    .get("/manifest.webmanifest", assets::manifest)
    .get("/favicon.ico", assets::favicon)
    .get("/setup", signin::setup_form)
    .post("/setup", signin::setup)
    .get("/login", signin::login_form)
    .post("/login", signin::login)
    .get("/signup", signin::signup_form)
    .post("/signup", signin::signup)
    // Pages: any signed-in user.
    .post("/logout", signin::logout)
    .get("/sessions", sessions::sessions)
    .post("/sessions/end-all", sessions::end_all_sessions)
    .post("/sessions/{id}/end", sessions::end_session)
    .get("/account", account::account)
    .post("/account/password", account::change_password)
    .post("/account/totp/start", account::totp_start)
    .post("/account/totp/enable", account::totp_enable)
    .post("/account/totp/disable", account::totp_disable)
    // Pages: patients.
    .post("/episodes", episodes::quick_log)
    .get("/episodes/{id}/edit", episodes::edit_episode_form)
    .post("/episodes/{id}/edit", episodes::edit_episode)
    .get("/episodes/{id}/delete", episodes::delete_episode_confirm)
    .post("/episodes/{id}/delete", episodes::delete_episode)
    .get("/treatments", treatments::page)
    .post("/treatments", treatments::add)
    .post("/treatments/{id}/start", treatments::start)
    .post("/treatments/{id}/edit", treatments::edit)
    .get("/treatments/{id}/delete", treatments::delete_confirm)
    .post("/treatments/{id}/delete", treatments::delete)
    .post("/regimens/{id}/change", treatments::change)
    .post("/regimens/{id}/stop", treatments::stop)
    .get("/doses", doses::doses)
    .post("/doses", doses::log_dose)
    .get("/doses/{id}/edit", doses::edit_dose_form)
    .post("/doses/{id}/edit", doses::edit_dose)
    .get("/doses/{id}/delete", doses::delete_dose_confirm)
    .post("/doses/{id}/delete", doses::delete_dose)
    .get("/exercise", exercise::page)
    .post("/exercise", exercise::record)
    .get("/exercise/{id}/edit", exercise::edit_form)
    .post("/exercise/{id}/edit", exercise::edit)
    .get("/exercise/{id}/delete", exercise::delete_confirm)
    .post("/exercise/{id}/delete", exercise::delete)
    .get("/events", events::page)
    .post("/events", events::record)
    .get("/events/{id}/edit", events::edit_form)
    .post("/events/{id}/edit", events::edit)
    .get("/events/{id}/delete", events::delete_confirm)
    .post("/events/{id}/delete", events::delete)
    .get("/identity", identity::identity_form)
    .post("/identity", identity::save)
    .get("/side-effects", side_effects::page)
    .post("/side-effects", side_effects::record)
    .get("/side-effects/{id}/edit", side_effects::edit_form)
    .post("/side-effects/{id}/edit", side_effects::edit)
    .get("/side-effects/{id}/delete", side_effects::delete_confirm)
    .post("/side-effects/{id}/delete", side_effects::delete)
    .post("/days/confirm", episodes::confirm_today)
    .get("/checkin", checkin::checkin_form)
    .post("/checkin", checkin::checkin)
    .get("/sharing", sharing::sharing)
    .post("/sharing/invitations", sharing::create_invitation)
    .post("/sharing/grant", sharing::grant_by_handle)
    .post("/sharing/{id}/revoke", sharing::revoke_consent)
    .get("/activity", sharing::activity)
    .get("/tokens", tokens::tokens)
    .post("/tokens", tokens::create_token)
    .post("/tokens/{id}/revoke", tokens::revoke_token)
    .get("/dashboard", dashboard::dashboard)
    .get("/charts", exports::charts)
    .get("/report.pdf", exports::own_report)
    .get("/export/archive.json", exports::own_archive)
    .get("/trials", trials::trials)
    .post("/trials", trials::plan)
    .get("/trials/{id}", trials::trial)
    .post("/trials/{id}/delete", trials::delete)
    .get("/calendar", exports::calendar)
    .post("/calendar/feeds", exports::create_feed)
    .post("/calendar/feeds/{id}/revoke", exports::revoke_feed)
    .post("/reminders/devices", reminders::subscribe)
    .post("/reminders/devices/{id}", reminders::update)
    .post("/reminders/devices/{id}/delete", reminders::remove)
    // Calendar apps: the secret in the path is the credential.
    .get("/feeds/{file}", exports::feed)
    // Pages: clinicians.
    .get("/clinician", clinician::clinician_home)
    .post("/clinician/redeem", clinician::redeem)
    .get("/clinician/pooled", clinician::clinician_pooled)
    .get("/clinician/patients/{patient_id}", clinician::clinician_patient)
    .get("/clinician/patients/{patient_id}/report.pdf", exports::clinician_report)
    // Pages: administrators.
    .get("/admin", admin::admin_home)
    .post("/admin/users", admin::admin_create_user)
    .post("/admin/users/{id}/disable", admin::admin_disable_user)
    .post("/admin/users/{id}/enable", admin::admin_enable_user)
    .post("/admin/users/{id}/password", admin::admin_reset_password)
    .post("/admin/users/{id}/totp/remove", admin::admin_remove_totp)
    // JSON API.
    .get("/api/openapi.json", api::openapi_json)
    .get("/api/me", api_account::me)
    .get("/api/identity", api_identity::get_identity)
    .put("/api/identity", api_identity::put_identity)
    .get("/api/episodes", api_episodes::list_episodes)
    .post("/api/episodes", api_episodes::create_episode)
    .get("/api/episodes/{id}", api_episodes::get_episode)
    .put("/api/episodes/{id}", api_episodes::replace_episode)
    .delete("/api/episodes/{id}", api_episodes::delete_episode)
    .get("/api/side-effects", api_side_effects::list_side_effects)
    .post("/api/side-effects", api_side_effects::create_side_effect)
    .get("/api/side-effects/{id}", api_side_effects::get_side_effect)
    .put("/api/side-effects/{id}", api_side_effects::replace_side_effect)
    .delete("/api/side-effects/{id}", api_side_effects::delete_side_effect)
    .get("/api/treatments", api_treatments::list_treatments)
    .post("/api/treatments", api_treatments::create_treatment)
    .put("/api/treatments/{id}", api_treatments::replace_treatment)
    .delete("/api/treatments/{id}", api_treatments::delete_treatment)
    .post("/api/treatments/{id}/regimens", api_treatments::start_regimen)
    .post("/api/regimens/{id}/change", api_treatments::change_regimen)
    .post("/api/regimens/{id}/stop", api_treatments::stop_regimen)
    .get("/api/doses/due", api_treatments::due_doses)
    .get("/api/doses", api_treatments::list_doses)
    .post("/api/doses", api_treatments::create_dose)
    .put("/api/doses/{id}", api_treatments::replace_dose)
    .delete("/api/doses/{id}", api_treatments::delete_dose)
    .get("/api/exercise", api_records::list_exercise)
    .post("/api/exercise", api_records::create_exercise)
    .get("/api/exercise/{id}", api_records::get_exercise)
    .put("/api/exercise/{id}", api_records::replace_exercise)
    .delete("/api/exercise/{id}", api_records::delete_exercise)
    .get("/api/events", api_records::list_events)
    .post("/api/events", api_records::create_event)
    .get("/api/events/{id}", api_records::get_event)
    .put("/api/events/{id}", api_records::replace_event)
    .delete("/api/events/{id}", api_records::delete_event)
    .post("/api/days/confirm", api_checkins::confirm_day)
    .get("/api/checkins", api_checkins::list_checkins)
    .get("/api/dashboard", api_dashboard::own_dashboard)
    .post("/api/checkins", api_checkins::create_checkin)
    .get("/api/tokens", api_account::list_tokens)
    .post("/api/tokens", api_account::create_token)
    .delete("/api/tokens/{id}", api_account::revoke_token)
    .get("/api/consents", api_consent::list_consents)
    .post("/api/consents/{id}/revoke", api_consent::revoke_consent)
    .get("/api/audit", api_consent::own_audit)
    // FHIR R4, read-only: a patient's own record, or a consented patient's (audited).
    .get("/fhir/r4/metadata", fhir::metadata)
    .get("/fhir/r4/Patient", fhir::patient_search)
    .get("/fhir/r4/Patient/{fhir_id}", fhir::patient_read)
    .get("/fhir/r4/Patient/{fhir_id}/$everything", fhir::everything)
    .get("/fhir/r4/Observation", fhir::observations)
    .get("/fhir/r4/Condition", fhir::conditions)
    .get("/fhir/r4/MedicationStatement", fhir::medication_statements)
    .get("/fhir/r4/MedicationAdministration", fhir::medication_administrations)
    .get("/fhir/r4/AdverseEvent", fhir::adverse_events)
    .get("/api/clinician/patients", api_clinician::clinician_patients)
    .get(
        "/api/clinician/patients/{patient_id}/episodes",
        api_clinician::clinician_episodes,
    )
    .get(
        "/api/clinician/patients/{patient_id}/dashboard",
        api_dashboard::clinician_dashboard,
    )
}

/// Every (method, path template) the application serves.
pub fn route_list() -> Vec<(Method, &'static str)> {
    let mut list = table().list;
    list.extend(ops::PROBE_ROUTES.map(|p| (Method::GET, p)));
    list
}

/// The application with its layers. Order (outermost first): trace, security headers and
/// HTML error pages, error bodies for the limits, timeout, body limit, then caller resolution
/// (with the token allowance) and CSRF. The page layer sits outside the limits so that their
/// answers get the same headers and pages as every other. The health probes are merged in
/// outside all of those (a load balancer has no session, and must not be handed a CSRF
/// cookie); the metrics layer, when metrics are on, wraps everything so it times whole requests.
pub fn app(state: AppState) -> Router {
    let config = state.config.clone();
    let metrics = state.metrics.clone();
    let app = table()
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
        .with_state(state.clone())
        .merge(ops::probes(state))
        .layer(TraceLayer::new_for_http());
    match metrics {
        Some(m) => app.layer(axum::middleware::from_fn_with_state(m, ops::track)),
        None => app,
    }
}
