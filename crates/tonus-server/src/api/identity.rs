//! The patient's identity for filing through the API.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use tonus_domain::PatientIdentity;
use utoipa::ToSchema;

use super::ApiJson;
use crate::auth::{ClientAddr, PatientAuth};
use crate::error::{AppResult, ErrorBody};
use crate::service::identity::{self, IdentityInput};
use crate::service::Own;
use crate::state::AppState;

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierIo {
    /// URI of the issuer (https://… or urn:oid:…).
    pub system: String,
    pub value: String,
}

/// Everything optional; `PUT` replaces the whole identity (all absent: removes it).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityIo {
    pub name: Option<String>,
    /// YYYY-MM-DD
    pub birth_date: Option<String>,
    /// female, male, other, unknown (FHIR administrative gender)
    pub sex: Option<String>,
    /// At most 5, one per system.
    #[serde(default)]
    pub identifiers: Vec<IdentifierIo>,
}

fn out(i: &PatientIdentity) -> IdentityIo {
    IdentityIo {
        name: i.name.clone(),
        birth_date: i.birth_date.map(|d| d.to_string()),
        sex: i.sex.map(|s| s.code().to_string()),
        identifiers: i
            .identifiers
            .iter()
            .map(|x| IdentifierIo {
                system: x.system.clone(),
                value: x.value.clone(),
            })
            .collect(),
    }
}

#[utoipa::path(get, path = "/api/identity", tag = "account",
    responses((status = 200, body = IdentityIo), (status = 401, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn get_identity(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
) -> AppResult<Json<IdentityIo>> {
    Ok(Json(out(&identity::get(&Own::new(&state, &pa, &addr)).await?)))
}

#[utoipa::path(put, path = "/api/identity", tag = "account", request_body = IdentityIo,
    responses((status = 200, body = IdentityIo), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = [])))]
/// Replaces the identity printed on reports and put in exports.
pub async fn put_identity(
    State(state): State<AppState>,
    pa: PatientAuth,
    addr: ClientAddr,
    ApiJson(input): ApiJson<IdentityIo>,
) -> AppResult<Json<IdentityIo>> {
    let input = IdentityInput {
        name: input.name,
        birth_date: input.birth_date,
        sex: input.sex,
        identifiers: input.identifiers.into_iter().map(|i| (i.system, i.value)).collect(),
    };
    Ok(Json(out(&identity::save(&Own::new(&state, &pa, &addr), &input).await?)))
}
