//! Action type routes: what this server can run, with each type's option schema.

use axum::Json;
use axum::extract::State;

use super::extract::ApiPath;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::views::{ActionList, ActionSpecView};

/// Every action type, sorted by name.
#[utoipa::path(
    get,
    path = "/actions",
    tag = "actions",
    responses(
        (status = 200, description = "All action types", body = ActionList),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
    )
)]
pub async fn list_actions(State(state): State<AppState>) -> Json<ActionList> {
    let items: Vec<ActionSpecView> = state
        .engine
        .registry()
        .iter()
        .map(|action| ActionSpecView::from(action.spec()))
        .collect();
    Json(ActionList {
        total: items.len() as u64,
        items,
    })
}

/// One action type.
#[utoipa::path(
    get,
    path = "/actions/{type}",
    tag = "actions",
    params(("type" = String, Path, description = "Action type, e.g. `http_request`")),
    responses(
        (status = 200, description = "The action type", body = ActionSpecView),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such action type", body = ErrorBody),
    )
)]
pub async fn get_action(
    State(state): State<AppState>,
    ApiPath(kind): ApiPath<String>,
) -> Result<Json<ActionSpecView>, ApiError> {
    state
        .engine
        .registry()
        .get(&kind)
        .map(|action| Json(ActionSpecView::from(action.spec())))
        .ok_or_else(|| ApiError::not_found(format!("no action type `{kind}`")))
}
