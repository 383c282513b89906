//! The OpenAPI document served at `/api/openapi.json`, generated from the handlers' own
//! annotations so it cannot drift from the code. No Swagger UI assets: nothing is fetched.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{api, api_dashboard, error};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tonus API", description = "Log MS spasms and check-ins; share read access with clinicians by consent. Authenticate scripts with a personal access token (`Authorization: Bearer tonus_…`); browser sessions must send `X-CSRF-Token` on unsafe methods."),
    paths(
        api::me,
        api::list_episodes,
        api::create_episode,
        api::get_episode,
        api::replace_episode,
        api::delete_episode,
        api::create_checkin,
        api::list_checkins,
        api_dashboard::own_dashboard,
        api::list_tokens,
        api::create_token,
        api::revoke_token,
        api::list_consents,
        api::revoke_consent,
        api::own_audit,
        api::clinician_patients,
        api::clinician_episodes,
        api_dashboard::clinician_dashboard,
    ),
    components(schemas(error::ErrorBody)),
    modifiers(&Security)
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

pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}
