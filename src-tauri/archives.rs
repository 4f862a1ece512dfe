//! Commands for archives, quotas and cleanup: each parses its input, calls one engine function
//! on a blocking thread and announces what changed.

use std::path::PathBuf;

use kura_core::{
    ArchiveInfo, ArchiveVerifyReport, CleanupOptions, CleanupReport, ExtractReport,
    ImportArchiveOptions, Progress, Project, QuotaStatus,
};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use crate::commands::{blocking, with_job, AppState, VaultChanged};
use crate::error::IpcResult;

#[tauri::command]
#[specta::specta]
pub async fn archives(state: State<'_, AppState>) -> IpcResult<Vec<ArchiveInfo>> {
    blocking(&state, |v| v.list_archives()).await
}

#[tauri::command]
#[specta::specta]
pub async fn archive_project(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<ArchiveInfo> {
    let info = with_job(&state, job_id, on_progress, move |v, job| {
        v.archive_project(&id, job)
    })
    .await?;
    VaultChanged::send(&app, Some(&info.project_id), "archived");
    crate::watcher::refresh(&app);
    Ok(info)
}

#[tauri::command]
#[specta::specta]
pub async fn unarchive_project(
    app: AppHandle,
    state: State<'_, AppState>,
    reference: String,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<Project> {
    let p = with_job(&state, job_id, on_progress, move |v, job| {
        v.unarchive_project(&reference, job)
    })
    .await?;
    VaultChanged::send(&app, Some(&p.id), "unarchived");
    crate::watcher::refresh(&app);
    Ok(p)
}

#[tauri::command]
#[specta::specta]
pub async fn extract_archive(
    state: State<'_, AppState>,
    archive: String,
    dest: String,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<ExtractReport> {
    with_job(&state, job_id, on_progress, move |v, job| {
        v.extract_archive(&archive, &PathBuf::from(dest), job)
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
) -> IpcResult<ArchiveVerifyReport> {
    with_job(&state, job_id, on_progress, move |v, job| {
        v.verify_archive(&archive, job)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn import_archive(
    app: AppHandle,
    state: State<'_, AppState>,
    path: String,
    options: ImportArchiveOptions,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<Project> {
    let p = with_job(&state, job_id, on_progress, move |v, job| {
        v.import_archive(&PathBuf::from(path), &options, job)
    })
    .await?;
    VaultChanged::send(&app, Some(&p.id), "created");
    crate::watcher::refresh(&app);
    Ok(p)
}

#[tauri::command]
#[specta::specta]
pub async fn quota_status(state: State<'_, AppState>) -> IpcResult<QuotaStatus> {
    blocking(&state, |v| v.quota_status()).await
}

#[tauri::command]
#[specta::specta]
pub async fn cleanup(
    app: AppHandle,
    state: State<'_, AppState>,
    options: CleanupOptions,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<CleanupReport> {
    let dry_run = options.dry_run;
    let report = with_job(&state, job_id, on_progress, move |v, job| {
        v.cleanup(&options, job)
    })
    .await?;
    if !dry_run {
        VaultChanged::send(&app, None, "cleanup");
        crate::watcher::refresh(&app);
    }
    Ok(report)
}

#[tauri::command]
#[specta::specta]
pub async fn cleanup_runs(state: State<'_, AppState>) -> IpcResult<Vec<CleanupReport>> {
    blocking(&state, |v| v.cleanup_runs(Some(50))).await
}

#[tauri::command]
#[specta::specta]
pub async fn next_cleanup_at(state: State<'_, AppState>) -> IpcResult<Option<i64>> {
    blocking(&state, |v| v.next_cleanup_at(crate::scheduler::now())).await
}
