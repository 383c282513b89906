//! The OpenAPI document served at `/api/openapi.json`, generated from the handlers' own
//! annotations so it cannot drift from the code. No Swagger UI assets: nothing is fetched.

use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::api::{
    account, checkins, clinician, consent, dashboard, episodes, identity, records, side_effects, treatments,
};
use crate::error;

#[derive(OpenApi)]
#[openapi(
    info(title = "Tonus API", description = "Log MS spasms and check-ins; share read access with clinicians by consent. Authenticate scripts with a personal access token (`Authorization: Bearer tonus_…`); browser sessions must send `X-CSRF-Token` on unsafe methods."),
    paths(
        account::me,
        identity::get_identity,
        identity::put_identity,
        episodes::list_episodes,
        episodes::create_episode,
        episodes::get_episode,
        episodes::replace_episode,
        episodes::delete_episode,
        side_effects::list_side_effects,
        side_effects::create_side_effect,
        side_effects::get_side_effect,
        side_effects::replace_side_effect,
        side_effects::delete_side_effect,
        treatments::list_treatments,
        treatments::create_treatment,
        treatments::delete_treatment,
        treatments::replace_treatment,
        treatments::start_regimen,
        treatments::change_regimen,
        treatments::stop_regimen,
        treatments::due_doses,
        treatments::list_doses,
        treatments::create_dose,
        treatments::delete_dose,
        treatments::replace_dose,
        records::list_exercise,
        records::create_exercise,
        records::get_exercise,
        records::replace_exercise,
        records::delete_exercise,
        records::list_events,
        records::create_event,
        records::get_event,
        records::replace_event,
        records::delete_event,
        checkins::confirm_day,
        checkins::create_checkin,
        checkins::list_checkins,
        dashboard::own_dashboard,
        account::list_tokens,
        account::create_token,
        account::revoke_token,
        consent::list_consents,
        consent::revoke_consent,
        consent::own_audit,
        clinician::clinician_patients,
        clinician::clinician_episodes,
        dashboard::clinician_dashboard,
    ),
    components(schemas(error::ErrorBody)),
    modifiers(&Security, &CommonErrors)
)]
struct Doc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))),
        );
    }
}

/// Answers any operation can give besides its own: signed-in ones may meet the role check,
/// a missing or wrong credential, and the token allowance; ones with a body may meet the body
/// rules and the size limit. Added here once rather than on every handler, so a new handler
/// cannot forget them and the spec stays true for conformance tests.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            // A clinician whose password an administrator set reaches no patient until they
            // set their own: 422 naming the "password" rule.
            let clinician = path.starts_with("/api/clinician");
            let ops = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                let mut add: Vec<(&str, &str)> = Vec::new();
                if op.security.is_some() {
                    add.push(("401", "No valid session or token (sign_in_required)"));
                    add.push((
                        "403",
                        "This account's role may not do this, a personal access token may not (tokens reach only the diary, within their scope), or a session's CSRF token is missing (forbidden, csrf)",
                    ));
                    add.push((
                        "429",
                        "The token's allowance is used up; see Retry-After (rate_limited)",
                    ));
                }
                let path_params = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Path));
                if path_params {
                    add.push((
                        "400",
                        "A path parameter is not a whole number in the 64-bit range (bad_request)",
                    ));
                }
                let query_params = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query));
                if query_params {
                    add.push(("400", "A query parameter is repeated or malformed (bad_request)"));
                }
                if clinician {
                    add.push((
                        "422",
                        "The password was set by an administrator and not changed since (invalid)",
                    ));
                }
                if op.request_body.is_some() {
                    add.push(("400", "The body is not JSON (bad_request)"));
                    add.push(("413", "The body is larger than the limit (too_large)"));
                    add.push(("422", "A field broke a rule (invalid)"));
                }
                for (code, description) in add {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| error_response(description));
                }
            }
        }
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}
