//! Commands for archives, quotas and cleanup: each parses its input and calls one function of
//! the service layer, which announces what changed.

use std::path::PathBuf;

use kura_api::{ApiResult, ArchiveReference};
use kura_core::{
    ArchiveInfo, ArchiveVerifyReport, CleanupOptions, CleanupReport, ExtractReport,
    ImportArchiveOptions, Progress, Project, QuotaStatus,
};
use tauri::ipc::Channel;
use tauri::State;

use crate::commands::{blocking, with_job};
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub async fn list_archives(state: State<'_, AppState>) -> ApiResult<Vec<ArchiveInfo>> {
    blocking(&state, |api| Ok(api.vault().list_archives()?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn archive_project(
    state: State<'_, AppState>,
    id: String,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<ArchiveInfo> {
    with_job(&state, "archive", job_id, on_progress, move |api, job| {
        api.archive_project(&id, job)
    })
    .await
}

/// Brings an archived project back; `reference` is an archive id, or the archived project's
/// id or name.
#[tauri::command]
#[specta::specta]
pub async fn unarchive_project(
    state: State<'_, AppState>,
    reference: ArchiveReference,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<Project> {
    with_job(&state, "unarchive", job_id, on_progress, move |api, job| {
        api.unarchive_project(&reference, job)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn extract_archive(
    state: State<'_, AppState>,
    archive: String,
    dest: String,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<ExtractReport> {
    with_job(&state, "extract", job_id, on_progress, move |api, job| {
        api.extract_archive(&archive, &PathBuf::from(dest), job)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn verify_archive(
    state: State<'_, AppState>,
    archive: String,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<ArchiveVerifyReport> {
    with_job(
        &state,
        "verify_archive",
        job_id,
        on_progress,
        move |api, job| api.verify_archive(&archive, job),
    )
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn import_archive(
    state: State<'_, AppState>,
    path: String,
    options: ImportArchiveOptions,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<Project> {
    with_job(
        &state,
        "import_archive",
        job_id,
        on_progress,
        move |api, job| api.import_archive(&PathBuf::from(path), &options, job),
    )
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn get_quota(state: State<'_, AppState>) -> ApiResult<QuotaStatus> {
    blocking(&state, |api| Ok(api.vault().quota_status()?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn run_cleanup(
    state: State<'_, AppState>,
    options: CleanupOptions,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<CleanupReport> {
    with_job(&state, "cleanup", job_id, on_progress, move |api, job| {
        api.cleanup(&options, job)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn list_cleanup_runs(state: State<'_, AppState>) -> ApiResult<Vec<CleanupReport>> {
    blocking(&state, |api| Ok(api.vault().cleanup_runs(Some(50))?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_next_cleanup(state: State<'_, AppState>) -> ApiResult<Option<i64>> {
    blocking(&state, |api| api.next_cleanup_at()).await
}
