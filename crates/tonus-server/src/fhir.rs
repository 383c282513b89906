//! The read-only FHIR R4 endpoint under `/fhir/r4`: thin handlers over
//! [`crate::service::fhir`] (who may read what) and [`tonus_interop::fhir::rest`] (what a
//! search means). Every answer, errors included, is FHIR JSON: a client that speaks FHIR
//! never meets a Tonus page or a Tonus error body from these handlers.

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tonus_interop::fhir::rest::{self, operation_outcome, Page, Refusal, Search};

use crate::auth::{Auth, ClientAddr};
use crate::error::AppError;
use crate::service::{fhir, Actor};
use crate::state::AppState;

/// The caller, if signed in; the handlers answer a missing one with a FHIR 401 themselves.
pub struct MaybeAuth(Option<Auth>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeAuth {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<Auth>().cloned()))
    }
}

fn answer(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/fhir+json; fhirVersion=4.0")],
        body.to_string(),
    )
        .into_response()
}

/// Why a FHIR request was not answered, turned into an OperationOutcome response.
pub enum Failure {
    Refused(Refusal),
    App(AppError),
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Refused(r) => refused(r),
            Failure::App(e) => failed(e),
        }
    }
}

fn refused(r: Refusal) -> Response {
    answer(
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST),
        &r.outcome,
    )
}

fn failed(e: AppError) -> Response {
    let status = e.status();
    let code = match status {
        StatusCode::UNAUTHORIZED => "login",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::TOO_MANY_REQUESTS => "throttled",
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        _ => "exception",
    };
    let mut res = answer(status, &operation_outcome(code, &e.to_string()));
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"tonus\""),
        );
    }
    res
}

/// Where this endpoint lives as clients see it: the configured public URL, else the Host
/// the request came to.
fn base(state: &AppState, headers: &HeaderMap) -> String {
    match &state.config.public_url {
        Some(url) => format!("{}/fhir/r4", url.trim_end_matches('/')),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}/fhir/r4")
        }
    }
}

fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, Failure> {
    serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|_| Refusal::new(400, "invalid", "the query string is not URL-encoded").into())
}

fn signed_in(auth: MaybeAuth) -> Result<Auth, Failure> {
    auth.0.ok_or(Failure::App(AppError::SignInRequired))
}

pub async fn metadata(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let date = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    answer(
        StatusCode::OK,
        &rest::capability_statement(&base(&state, &headers), &date),
    )
}

/// One page of `matched`, linked from the request's own address.
fn page(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    query: &[(String, String)],
    found: Page,
    search: &Search,
) -> Response {
    let base = base(state, headers);
    let kept: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| k != "_count" && k != "_offset")
        .cloned()
        .collect();
    let mut url = format!("{base}{path}");
    if let Ok(q) = serde_urlencoded::to_string(&kept) {
        if !q.is_empty() {
            url = format!("{url}?{q}");
        }
    }
    answer(StatusCode::OK, &rest::searchset(&base, &url, found, search))
}

pub async fn patient_search(
    State(state): State<AppState>,
    auth: MaybeAuth,
    addr: ClientAddr,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let auth = signed_in(auth)?;
    let query = query_pairs(raw.as_deref())?;
    let search = rest::parse_search(None, &query)?;
    let actor = Actor::new(&state, &auth, &addr);
    let mut found = Vec::new();
    for p in fhir::readable(&actor).await? {
        found.push(fhir::patient_resource(&actor, &p, "Patient search").await?);
    }
    Ok(page(
        &state,
        &headers,
        "/Patient",
        &query,
        Page::of(found, &search),
        &search,
    ))
}

pub async fn patient_read(
    State(state): State<AppState>,
    auth: MaybeAuth,
    addr: ClientAddr,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let auth = signed_in(auth)?;
    let actor = Actor::new(&state, &auth, &addr);
    let patient = fhir::patient(&actor, &id).await?;
    let resource = fhir::patient_resource(&actor, &patient, "Patient read").await?;
    Ok(answer(StatusCode::OK, &resource))
}

pub async fn everything(
    State(state): State<AppState>,
    auth: MaybeAuth,
    addr: ClientAddr,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let auth = signed_in(auth)?;
    let query = query_pairs(raw.as_deref())?;
    let search = rest::parse_search(None, &query)?;
    let actor = Actor::new(&state, &auth, &addr);
    let patient = fhir::patient(&actor, &id).await?;
    let found = fhir::page(&actor, &patient, "Patient $everything", &search, None).await?;
    Ok(page(
        &state,
        &headers,
        &format!("/Patient/{id}/$everything"),
        &query,
        found,
        &search,
    ))
}

/// A search on `resource_type` for one patient: the `patient` parameter, or for a patient
/// their own record. Another patient's id finds nothing, exactly like an id that does not
/// exist.
async fn search(
    state: AppState,
    auth: MaybeAuth,
    addr: ClientAddr,
    headers: HeaderMap,
    raw: Option<String>,
    resource_type: &'static str,
) -> Result<Response, Failure> {
    let auth = signed_in(auth)?;
    let query = query_pairs(raw.as_deref())?;
    let search = rest::parse_search(Some(resource_type), &query)?;
    let actor = Actor::new(&state, &auth, &addr);
    let readable = fhir::readable(&actor).await?;
    let patient = match &search.patient {
        Some(id) => readable.into_iter().find(|p| fhir::patient_fhir_id(p) == *id),
        None if auth.user.role == tonus_store::Role::Patient => readable.into_iter().next(),
        None => {
            return Err(Refusal::new(
                400,
                "required",
                "search parameter patient: required for a clinician (the id of a patient who shared with you; see GET Patient)",
            )
            .into())
        }
    };
    let found = match patient {
        Some(p) => {
            let what = format!("{resource_type} search");
            fhir::page(&actor, &p, &what, &search, Some(resource_type)).await?
        }
        None => Page::default(),
    };
    Ok(page(
        &state,
        &headers,
        &format!("/{resource_type}"),
        &query,
        found,
        &search,
    ))
}

macro_rules! search_handler {
    ($name:ident, $type:literal) => {
        pub async fn $name(
            State(state): State<AppState>,
            auth: MaybeAuth,
            addr: ClientAddr,
            headers: HeaderMap,
            RawQuery(raw): RawQuery,
        ) -> Result<Response, Failure> {
            search(state, auth, addr, headers, raw, $type).await
        }
    };
}

search_handler!(observations, "Observation");
search_handler!(conditions, "Condition");
search_handler!(medication_statements, "MedicationStatement");
search_handler!(medication_administrations, "MedicationAdministration");
search_handler!(adverse_events, "AdverseEvent");
