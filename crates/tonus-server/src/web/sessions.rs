//! Where the user is signed in, with "sign out" per session and everywhere.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use tonus_domain::time::Zone;

use super::{fmt_ms, render, see_other, with_cookie, Nav};
use crate::auth::{clear_session_cookie, Auth, ClientAddr, CsrfToken, Via};
use crate::error::AppResult;
use crate::service::{sessions, Actor};
use crate::state::AppState;

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

/// GET /sessions
pub async fn sessions(
    State(state): State<AppState>,
    auth: Auth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    let current = match auth.via {
        Via::Session { id, .. } => Some(id),
        Via::Token { .. } => None,
    };
    let utc = Zone::utc();
    let rows = sessions::list(&Actor::new(&state, &auth, &addr))
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

/// POST /sessions/{id}/end
pub async fn end_session(
    State(state): State<AppState>,
    auth: Auth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    if sessions::end(&Actor::new(&state, &auth, &addr), id).await? {
        return Ok(with_cookie(see_other("/login"), clear_session_cookie()));
    }
    Ok(see_other("/sessions"))
}

/// POST /sessions/end-all
pub async fn end_all_sessions(State(state): State<AppState>, auth: Auth, addr: ClientAddr) -> AppResult<Response> {
    sessions::end_all(&Actor::new(&state, &auth, &addr)).await?;
    Ok(with_cookie(see_other("/login"), clear_session_cookie()))
}
