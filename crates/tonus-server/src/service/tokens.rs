//! Personal access tokens, for the patient's own scripts.

use axum::http::Method;
use tonus_domain::ValidationError;
use tonus_store::{ApiToken, TokenScope};

use super::{now_ms, Own};
use crate::error::{AppError, AppResult};
use crate::security::{random_hex, sha256_hex};

/// A token just made: its secret is shown once and never stored in clear.
pub struct NewToken {
    pub id: i64,
    pub name: String,
    pub scope: TokenScope,
    pub secret: String,
}

/// The routes a token may call, by scope: the diary only. Everything else (tokens, sharing
/// and consent, invitations, calendar feeds, the account, pages) needs a browser session, so
/// a leaked token cannot mint more tokens, share the record, or lock its owner out.
const READ_ROUTES: &[&str] = &[
    "/api/me",
    "/api/identity",
    "/api/episodes",
    "/api/episodes/{id}",
    "/api/checkins",
    "/api/side-effects",
    "/api/side-effects/{id}",
    "/api/treatments",
    "/api/doses",
    "/api/doses/due",
    "/api/exercise",
    "/api/exercise/{id}",
    "/api/events",
    "/api/events/{id}",
    "/api/dashboard",
    "/api/openapi.json",
    // Exports are reads of the whole diary (a nightly backup script); audited with the token.
    "/export/archive.json",
    "/report.pdf",
    // FHIR R4 is read-only and serves the token owner's own record.
    "/fhir/r4/metadata",
    "/fhir/r4/Patient",
    "/fhir/r4/Patient/{fhir_id}",
    "/fhir/r4/Patient/{fhir_id}/$everything",
    "/fhir/r4/Observation",
    "/fhir/r4/Condition",
    "/fhir/r4/MedicationStatement",
    "/fhir/r4/MedicationAdministration",
    "/fhir/r4/AdverseEvent",
];
const WRITE_ROUTES: &[(Method, &str)] = &[
    (Method::POST, "/api/episodes"),
    (Method::PUT, "/api/episodes/{id}"),
    (Method::DELETE, "/api/episodes/{id}"),
    (Method::POST, "/api/checkins"),
    (Method::POST, "/api/side-effects"),
    (Method::PUT, "/api/side-effects/{id}"),
    (Method::DELETE, "/api/side-effects/{id}"),
    (Method::POST, "/api/treatments"),
    (Method::DELETE, "/api/treatments/{id}"),
    (Method::PUT, "/api/treatments/{id}"),
    (Method::PUT, "/api/doses/{id}"),
    (Method::POST, "/api/treatments/{id}/regimens"),
    (Method::POST, "/api/regimens/{id}/change"),
    (Method::POST, "/api/regimens/{id}/stop"),
    (Method::POST, "/api/doses"),
    (Method::DELETE, "/api/doses/{id}"),
    (Method::POST, "/api/exercise"),
    (Method::PUT, "/api/exercise/{id}"),
    (Method::DELETE, "/api/exercise/{id}"),
    (Method::POST, "/api/events"),
    (Method::PUT, "/api/events/{id}"),
    (Method::DELETE, "/api/events/{id}"),
    (Method::POST, "/api/days/confirm"),
];

/// Whether a token of `scope` may call (`method`, route template `route`).
pub fn may(method: &Method, route: &str, scope: TokenScope) -> bool {
    if *method == Method::GET || *method == Method::HEAD {
        return READ_ROUTES.contains(&route);
    }
    scope == TokenScope::ReadWrite && WRITE_ROUTES.iter().any(|(m, r)| m == method && *r == route)
}

/// Creates a token named `name` (1–64 characters once trimmed, no control characters) with
/// `scope`. Only from a browser session: a token cannot make tokens.
pub async fn create(me: &Own<'_>, name: &str, scope: TokenScope) -> AppResult<NewToken> {
    me.actor.require_session()?;
    // The same rule as every other text the domain takes; a name is shown on the tokens page.
    // Bidirectional controls (U+202A–202E, U+2066–2069, U+200E/200F) could make a name read
    // differently on the page than what was stored ("Trojan Source").
    if name.chars().any(|c| {
        c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
    }) {
        return Err(AppError::Invalid(ValidationError::new(
            "name",
            "text without control or bidirectional-control characters",
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
    let user = &me.actor.auth.user;
    let id = me
        .state()
        .store
        .create_scoped_api_token(user.id, name, scope, &sha256_hex(&secret), now_ms())
        .await?;
    // The detail keeps the name alone for read-write (as before scopes) so old entries and
    // new ones read alike; a read-only token says so.
    let detail = match scope {
        TokenScope::ReadWrite => name.to_string(),
        TokenScope::Read => format!("{name} (read-only)"),
    };
    me.audit("token.create", &detail).await?;
    Ok(NewToken {
        id,
        name: name.to_string(),
        scope,
        secret,
    })
}

/// The account's tokens, revoked ones included.
pub async fn list(me: &Own<'_>) -> AppResult<Vec<ApiToken>> {
    me.actor.require_session()?;
    Ok(me.state().store.list_api_tokens(me.actor.auth.user.id).await?)
}

/// Revokes one of the account's tokens (404 if it is not theirs or already revoked).
pub async fn revoke(me: &Own<'_>, id: i64) -> AppResult<()> {
    me.actor.require_session()?;
    if !me
        .state()
        .store
        .revoke_api_token(me.actor.auth.user.id, id, now_ms())
        .await?
    {
        return Err(AppError::NotFound);
    }
    me.audit("token.revoke", "").await
}
