//! The patient's sharing page (invitation codes, access by user name, revocation) and "Who
//! viewed", their slice of the audit log.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use tonus_domain::time::Zone;

use super::{fmt_ms, render, see_other, status_for, FormFields, Nav};
use crate::auth::{ClientAddr, CsrfToken, PatientAuth};
use crate::error::AppResult;
use crate::service::sharing::{self, Grant};
use crate::service::Own;
use crate::state::AppState;

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
    me: &Own<'_>,
    csrf: &CsrfToken,
    new_code: Option<String>,
    message: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let zone = &me.patient.zone;
    let (live, past): (Vec<_>, Vec<_>) = sharing::consents(me)
        .await?
        .into_iter()
        .partition(|c| c.revoked_at_ms.is_none());
    let row = |c: tonus_store::Consent| ConsentRow {
        id: c.id,
        clinician: c.clinician_username,
        since: fmt_ms(c.granted_at_ms, zone),
        until: c.revoked_at_ms.map(|m| fmt_ms(m, zone)).unwrap_or_default(),
    };
    let page = SharingPage {
        nav: Nav::new(Some(me.actor.auth), csrf),
        live: live.into_iter().map(row).collect(),
        past: past.into_iter().map(row).collect(),
        new_code,
        code_days: me.state().config.invitation_ttl.as_secs() / 86_400,
        message,
        error,
        clinician: String::new(),
    };
    let status = status_for(&page.error);
    render(&page, status)
}

/// GET /sharing
pub async fn sharing(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    sharing_page(&Own::new(&state, &pa, &addr), &csrf, None, None, None).await
}

/// POST /sharing/invitations: the code is shown once, never stored in clear: hence rendered
/// here rather than after a redirect.
pub async fn create_invitation(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    let code = sharing::invite(&me).await?;
    sharing_page(&me, &csrf, Some(code), None, None).await
}

/// POST /sharing/grant
pub async fn grant_by_handle(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let me = Own::new(&state, &pa, &addr);
    match sharing::grant_by_handle(&me, form.get("clinician")).await? {
        Grant::Granted(name) => {
            let msg = format!("{name} can now read your data.");
            sharing_page(&me, &csrf, None, Some(msg), None).await
        }
        Grant::NoSuchClinician(handle) => {
            let msg = format!("No clinician is called {handle:?}.");
            sharing_page(&me, &csrf, None, None, Some(msg)).await
        }
    }
}

/// POST /sharing/{id}/revoke
pub async fn revoke_consent(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    sharing::revoke(&Own::new(&state, &pa, &addr), id).await?;
    Ok(see_other("/sharing"))
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

/// GET /activity: who did what with the patient's data.
pub async fn activity(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
) -> AppResult<Response> {
    let utc = Zone::utc();
    let rows = sharing::access_log(&Own::new(&state, &pa, &addr))
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
