//! Commands for shared links: each parses its input and calls one function of the service
//! layer.

use kura_api::ApiResult;
use kura_backup::{Share, ShareOptions};
use kura_core::Progress;
use tauri::ipc::Channel;
use tauri::State;

use crate::commands::{blocking, with_job};
use crate::state::AppState;

/// Uploads a version to an S3 target as a tar.zst and answers its download link.
#[tauri::command]
#[specta::specta]
pub async fn share_project(
    state: State<'_, AppState>,
    id: String,
    options: ShareOptions,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<Share> {
    with_job(&state, "share", job_id, on_progress, move |api, job| {
        api.share_project(&id, &options, job)
    })
    .await
}

/// Shared links, newest first; only one project's when `project` is given.
#[tauri::command]
#[specta::specta]
pub async fn list_shares(
    state: State<'_, AppState>,
    project: Option<String>,
) -> ApiResult<Vec<Share>> {
    blocking(&state, move |api| api.shares(project.as_deref())).await
}

/// Deletes a shared copy, so its link stops working.
#[tauri::command]
#[specta::specta]
pub async fn revoke_share(state: State<'_, AppState>, id: String) -> ApiResult<Share> {
    blocking(&state, move |api| api.revoke_share(&id)).await
}
