//! Who is asking. One middleware resolves the session cookie or bearer token once per
//! request, applies the idle and absolute limits, enforces CSRF on unsafe methods, and leaves
//! the result in the request's extensions for the extractors below.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use tonus_domain::Patient;
use tonus_store::{Role, TokenScope, User};

use crate::config::ms;
use crate::error::{AppError, AppResult};
use crate::security::{constant_time_eq, random_hex, sha256_hex};
use crate::state::AppState;

/// `__Host-` makes browsers refuse the cookie unless it is Secure, has Path=/ and no Domain,
/// so a sibling sub-domain cannot plant or read it.
pub const SESSION_COOKIE: &str = "__Host-tonus-session";
/// Double-submit token for forms shown before sign-in (login, set-up, sign-up).
pub const CSRF_COOKIE: &str = "__Host-tonus-csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf";
/// Largest form body the CSRF check buffers.
const MAX_FORM_BYTES: usize = 64 * 1024;
/// Refreshing last-seen at most this often keeps reads from turning into writes.
const TOUCH_EVERY_MS: i64 = 60_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Session {
        id: i64,
        csrf: String,
    },
    /// A personal access token: which one (audited by name) and what it may do.
    Token {
        id: i64,
        name: String,
        scope: TokenScope,
    },
}

/// A signed-in user and how they proved it.
#[derive(Debug, Clone)]
pub struct Auth {
    pub user: User,
    pub via: Via,
}

/// The caller's address: the TCP peer's, or, when the peer is one of the configured
/// `trusted_proxies`, the right-most untrusted address of its forwarding header
/// ([`crate::proxy::client_ip`]).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

/// The CSRF token forms on this page must carry.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn session_cookie(token: &str, max_age_s: i64) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age_s}")
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

fn csrf_cookie(token: &str) -> String {
    format!("{CSRF_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict")
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Resolves the caller, checks CSRF, and runs the handler.
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match resolve(&state, req).await {
        Ok((req, set_cookies)) => {
            let mut res = next.run(req).await;
            for c in set_cookies {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Err((e, set_cookies, pending)) => {
            let mut res = e.into_response();
            if let Some(p) = pending {
                res.extensions_mut().insert(p);
            }
            for c in set_cookies {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
    }
}

type Resolved = Result<(Request, Vec<String>), (AppError, Vec<String>, Option<PendingForm>)>;

/// A browser form refused only because its CSRF token no longer matches (the session ended,
/// after a long pause or elsewhere, or was replaced): what was typed, so the page layer can
/// offer to save it instead of losing it. `csrf` is the token a new form must carry now:
/// the session's when still signed in, else the sign-in form's double-submit token.
#[derive(Debug, Clone)]
pub struct PendingForm {
    /// Path and query the form was posted to.
    pub to: String,
    /// The fields as typed, in order, without the stale token.
    pub fields: Vec<(String, String)>,
    pub csrf: String,
    /// Still signed in (only the token was stale), or not.
    pub auth: Option<Auth>,
}

async fn resolve(state: &AppState, mut req: Request) -> Resolved {
    let mut set_cookies = Vec::new();
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| crate::proxy::client_ip(c.0.ip(), req.headers(), &state.config.trusted_proxies).to_string())
        .unwrap_or_else(|| "unknown".to_string());
    req.extensions_mut().insert(ClientAddr(address));
    let now = Timestamp::now().as_millisecond();

    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let mut auth = None;
    if let Some(token) = bearer {
        // A wrong token is an error, not an anonymous request: scripts should fail loudly.
        let token_hash = sha256_hex(&token);
        match state.store.api_token_use(&token_hash, now).await {
            Ok(Some(t)) if !t.user.disabled => {
                if let Err(e) = state.token_limiter.take(&state.store, &token_hash, now).await {
                    return Err((e, set_cookies, None));
                }
                // Deny by default: a token reaches only the diary routes its scope allows.
                let route = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map(|m| m.as_str().to_string());
                if let Some(route) = route {
                    if !crate::service::tokens::may(req.method(), &route, t.scope) {
                        return Err((AppError::Forbidden, set_cookies, None));
                    }
                }
                auth = Some(Auth {
                    user: t.user,
                    via: Via::Token {
                        id: t.id,
                        name: t.name,
                        scope: t.scope,
                    },
                })
            }
            Ok(_) => return Err((AppError::SignInRequired, set_cookies, None)),
            Err(e) => return Err((e.into(), set_cookies, None)),
        }
    } else if let Some(token) = cookie(req.headers(), SESSION_COOKIE).map(str::to_string) {
        match state.store.session_by_token_hash(&sha256_hex(&token)).await {
            Ok(Some((session, user))) => {
                let idle_limit = session.last_seen_at_ms + ms(state.config.session_idle);
                if user.disabled || now >= session.expires_at_ms || now >= idle_limit {
                    if let Err(e) = state.store.delete_session(user.id, session.id).await {
                        return Err((e.into(), set_cookies, None));
                    }
                    set_cookies.push(clear_session_cookie());
                } else {
                    if now - session.last_seen_at_ms > TOUCH_EVERY_MS {
                        if let Err(e) = state.store.touch_session(session.id, now).await {
                            return Err((e.into(), set_cookies, None));
                        }
                    }
                    auth = Some(Auth {
                        user,
                        via: Via::Session {
                            id: session.id,
                            csrf: session.csrf_token,
                        },
                    });
                }
            }
            Ok(None) => set_cookies.push(clear_session_cookie()),
            Err(e) => return Err((e.into(), set_cookies, None)),
        }
    }

    // The token forms must carry: the session's own, else a double-submit cookie. An
    // anonymous API call carries no ambient credential to abuse, so it skips the check and
    // meets the handler's 401 instead.
    let anonymous_api = auth.is_none() && req.uri().path().starts_with("/api/");
    let expected = match &auth {
        None if anonymous_api => None,
        Some(Auth {
            via: Via::Session { csrf, .. },
            ..
        }) => Some(csrf.clone()),
        Some(Auth {
            via: Via::Token { .. }, ..
        }) => None,
        None => match cookie(req.headers(), CSRF_COOKIE) {
            Some(c) if c.len() == 64 => Some(c.to_string()),
            _ => {
                let fresh = random_hex(32);
                set_cookies.push(csrf_cookie(&fresh));
                // A request without the cookie presents no token that can match a fresh
                // one, so an unsafe request fails the check below, as intended (and keeps
                // what was typed).
                Some(fresh)
            }
        },
    };
    if let Some(expected) = &expected {
        req.extensions_mut().insert(CsrfToken(expected.clone()));
        if !is_safe(req.method()) {
            let (req2, presented, form) = match presented_csrf(req).await {
                Ok(v) => v,
                Err(e) => return Err((e, set_cookies, None)),
            };
            req = req2;
            if !presented.is_some_and(|p| constant_time_eq(&p, expected)) {
                let pending = form
                    .filter(|_| !req.uri().path().starts_with("/api/"))
                    .map(|fields| PendingForm {
                        to: req
                            .uri()
                            .path_and_query()
                            .map_or_else(|| req.uri().path().to_string(), |p| p.to_string()),
                        fields: fields.into_iter().filter(|(k, _)| k != CSRF_FIELD).collect(),
                        csrf: expected.clone(),
                        auth: auth.clone(),
                    });
                return Err((AppError::Csrf, set_cookies, pending));
            }
        }
    }
    if let Some(a) = auth {
        req.extensions_mut().insert(a);
    }
    Ok((req, set_cookies))
}

type Presented = (Request, Option<String>, Option<Vec<(String, String)>>);

/// The token from the `X-CSRF-Token` header, or from the `csrf` field of a urlencoded form
/// (the body is buffered and put back for the handler), with the form's fields when it is one.
async fn presented_csrf(req: Request) -> AppResult<Presented> {
    if let Some(h) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let h = h.to_string();
        return Ok((req, Some(h), None));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((req, None, None));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|e| {
        if crate::limits::is_length_limit(&e) {
            AppError::TooLarge(MAX_FORM_BYTES)
        } else {
            AppError::BadRequest(tonus_domain::ValidationError::new(
                "body",
                "a readable request body",
                "unreadable",
            ))
        }
    })?;
    let fields = form_urlencoded_pairs(&bytes);
    let token = fields.iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.clone());
    Ok((Request::from_parts(parts, Body::from(bytes)), token, Some(fields)))
}

pub fn form_urlencoded_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes).unwrap_or_default()
}

// ----- extractors -----

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Auth>().cloned().ok_or(AppError::SignInRequired)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientAddr>()
            .cloned()
            .unwrap_or_else(|| ClientAddr("unknown".to_string())))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Token-authenticated requests have none; they never render forms.
        Ok(parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .unwrap_or_else(|| CsrfToken(String::new())))
    }
}

/// A signed-in patient and the patients row they own.
#[derive(Debug, Clone)]
pub struct PatientAuth {
    pub auth: Auth,
    pub patient: Patient,
}

impl FromRequestParts<AppState> for PatientAuth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_request_parts(parts, state).await?;
        patient_auth(state, auth).await
    }
}

/// Checks that `auth` is a patient and loads the patients row they own.
pub async fn patient_auth(state: &AppState, auth: Auth) -> AppResult<PatientAuth> {
    let Some(pid) = auth.user.patient_id.filter(|_| auth.user.role == Role::Patient) else {
        return Err(AppError::Forbidden);
    };
    let patient = state.store.patient_by_id(pid).await?.ok_or(AppError::NotFound)?;
    Ok(PatientAuth { auth, patient })
}

/// A signed-in clinician.
#[derive(Debug, Clone)]
pub struct ClinicianAuth(pub Auth);

impl<S: Send + Sync> FromRequestParts<S> for ClinicianAuth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_request_parts(parts, state).await?;
        if auth.user.role != Role::Clinician {
            return Err(AppError::Forbidden);
        }
        Ok(Self(auth))
    }
}

/// A signed-in administrator.
#[derive(Debug, Clone)]
pub struct AdminAuth(pub Auth);

impl<S: Send + Sync> FromRequestParts<S> for AdminAuth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_request_parts(parts, state).await?;
        if auth.user.role != Role::Admin {
            return Err(AppError::Forbidden);
        }
        Ok(Self(auth))
    }
}
