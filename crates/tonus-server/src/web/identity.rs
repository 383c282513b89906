//! The patient's identity page: what a clinic needs to file reports and exports to the
//! right chart. Everything is optional.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use tonus_domain::identity::MAX_IDENTIFIERS;
use tonus_domain::AdministrativeSex;

use super::side_effects::PageQuery;
use super::{field_err, opt, render, see_other, FieldError, FormFields, Nav, Opt};
use crate::auth::{ClientAddr, CsrfToken, PatientAuth};
use crate::error::{AppError, AppResult};
use crate::service::identity::{self, IdentityInput};
use crate::service::Own;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "identity.html")]
pub struct IdentityPage {
    nav: Nav,
    name: String,
    birth_date: String,
    sexes: Vec<Opt>,
    no_sex: bool,
    /// (system, value) rows: the stored ones and empty rows up to the maximum.
    rows: Vec<(String, String)>,
    error: Option<FieldError>,
    saved: Option<String>,
}

impl IdentityPage {
    fn err(&self, field: &str) -> Option<&str> {
        field_err(&self.error, field)
    }
}

fn page(
    pa: &PatientAuth,
    csrf: &CsrfToken,
    input: &IdentityInput,
    error: Option<&AppError>,
    saved: Option<String>,
) -> IdentityPage {
    let sex = input.sex.clone().unwrap_or_default();
    let mut rows = input.identifiers.clone();
    rows.resize(MAX_IDENTIFIERS.max(rows.len()), (String::new(), String::new()));
    IdentityPage {
        nav: Nav::new(Some(&pa.auth), csrf),
        name: input.name.clone().unwrap_or_default(),
        birth_date: input.birth_date.clone().unwrap_or_default(),
        sexes: AdministrativeSex::ALL
            .iter()
            .map(|s| opt(s.code(), s.label(), s.code() == sex))
            .collect(),
        no_sex: sex.is_empty(),
        rows,
        error: match error {
            Some(AppError::Invalid(e)) => Some(FieldError::from(e)),
            _ => None,
        },
        saved,
    }
}

/// GET /identity
pub async fn identity_form(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let id = identity::get(&Own::new(&state, &pa, &addr)).await?;
    let input = IdentityInput {
        name: id.name.clone(),
        birth_date: id.birth_date.map(|d| d.to_string()),
        sex: id.sex.map(|s| s.code().to_string()),
        identifiers: id
            .identifiers
            .iter()
            .map(|i| (i.system.clone(), i.value.clone()))
            .collect(),
    };
    let p = page(&pa, &csrf, &input, None, q.message());
    render(&p, super::status_for(&p.error))
}

/// POST /identity
pub async fn save(
    State(state): State<AppState>,
    pa: PatientAuth,
    csrf: CsrfToken,
    addr: ClientAddr,
    form: FormFields,
) -> AppResult<Response> {
    let input = IdentityInput {
        name: Some(form.get("name").to_string()),
        birth_date: Some(form.get("birth_date").to_string()),
        sex: Some(form.get("sex").to_string()),
        identifiers: form
            .all("identifier_system")
            .into_iter()
            .zip(form.all("identifier_value"))
            .collect(),
    };
    match identity::save(&Own::new(&state, &pa, &addr), &input).await {
        Ok(_) => Ok(see_other("/identity?saved=1")),
        Err(e @ AppError::Invalid(_)) => {
            let p = page(&pa, &csrf, &input, Some(&e), None);
            render(&p, super::status_for(&p.error))
        }
        Err(e) => Err(e),
    }
}
