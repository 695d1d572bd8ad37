//! The REST API under `/api/v1` and its OpenAPI document.
//!
//! Every API handler is annotated with `#[utoipa::path]` and registered through
//! `utoipa_axum::routes!`, so the routes served and the routes documented come from the same
//! declarations and cannot drift apart.

mod actions;
mod credentials;
pub(crate) mod extract;
mod openapi_json;
mod playbooks;
mod resources;
mod runs;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDoc, PathItem};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The prefix of every API route.
pub const API_PREFIX: &str = "/api/v1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Muster API",
        description = "Manage playbooks, credentials and resources, start and inspect runs, and \
                       receive webhooks. Every `/api/v1` route requires \
                       `Authorization: Bearer <token>`. Errors are \
                       `{\"code\", \"message\"}` with the matching HTTP status."
    ),
    paths(
        crate::webhooks::receive,
        crate::health::healthz,
        crate::health::readyz,
        crate::metrics::scrape,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::DiagnosticView)),
    modifiers(&BearerAuth),
    tags(
        (name = "playbooks", description = "Create, export, enable and delete playbooks."),
        (name = "runs", description = "Start runs, follow them, cancel them."),
        (name = "actions", description = "The action types this server can run."),
        (name = "credentials", description = "Secrets playbooks use by name; values are never returned."),
        (name = "resources", description = "Named non-secret values playbooks read as `resources.NAME`."),
        (name = "webhooks", description = "Inbound webhooks that start runs."),
        (name = "operations", description = "Health, readiness, metrics and this document."),
    )
)]
struct ApiDoc;

/// Declares the bearer scheme and requires it on every `/api/v1` operation.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn require_bearer(openapi: &mut OpenApiDoc) {
    let requirement = SecurityRequirement::new("bearer", Vec::<String>::new());
    for (path, item) in openapi.paths.paths.iter_mut() {
        if path.starts_with(API_PREFIX) {
            for operation in operations(item).into_iter().flatten() {
                operation.security = Some(vec![requirement.clone()]);
            }
        }
    }
}

fn operations(item: &mut PathItem) -> [Option<&mut utoipa::openapi::path::Operation>; 8] {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
}

/// The API routes, documented, relative to [`API_PREFIX`].
pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            playbooks::list_playbooks,
            playbooks::create_playbook
        ))
        .routes(routes!(
            playbooks::get_playbook,
            playbooks::replace_playbook,
            playbooks::delete_playbook
        ))
        .routes(routes!(playbooks::export_playbook))
        .routes(routes!(playbooks::enable_playbook))
        .routes(routes!(playbooks::disable_playbook))
        .routes(routes!(runs::start_run))
        .routes(routes!(runs::list_runs))
        .routes(routes!(runs::get_run))
        .routes(routes!(runs::cancel_run))
        .routes(routes!(runs::get_event))
        .routes(routes!(actions::list_actions))
        .routes(routes!(actions::get_action))
        .routes(routes!(
            credentials::list_credentials,
            credentials::set_credential
        ))
        .routes(routes!(
            credentials::get_credential,
            credentials::delete_credential
        ))
        .routes(routes!(credentials::rotate_credential))
        .routes(routes!(
            resources::list_resources,
            resources::create_resource
        ))
        .routes(routes!(
            resources::get_resource,
            resources::replace_resource,
            resources::delete_resource
        ))
        .routes(routes!(openapi_json::openapi_json))
}

/// The API router (routes under [`API_PREFIX`]) and the complete OpenAPI document, which
/// also describes the webhook and operational routes.
pub(crate) fn api_router_and_doc() -> (axum::Router<AppState>, OpenApiDoc) {
    let (router, api) = OpenApiRouter::<AppState>::new()
        .nest(API_PREFIX, api_routes())
        .split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.merge(api);
    require_bearer(&mut doc);
    (router, doc)
}

/// The OpenAPI 3.1 document of the server: every `/api/v1` route, the webhook route and the
/// operational routes, with their schemas.
pub fn openapi() -> OpenApiDoc {
    api_router_and_doc().1
}
