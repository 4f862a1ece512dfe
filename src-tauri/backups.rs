//! Commands for backups: targets, runs, the backups at a target, restore, verify, prune, pause.
//! Each parses its input and calls one function of the service layer, where runs by hand and by
//! schedule share one runner (one target never runs twice at once).

use std::path::PathBuf;

use kura_api::{ApiResult, BackupStatus, TargetChanges, TargetSecrets};
use kura_backup::{
    BackupContents, BackupInfo, BackupRestoreReport, BackupVerifyReport, LocationKind, PauseLength,
    PruneReport, RestorePreview, RunRecord, SecretVariable, Target, TestReport, VerifyMode,
};
use kura_core::Progress;
use tauri::ipc::Channel;
use tauri::State;

use crate::commands::{blocking, with_job};
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub async fn get_backup_status(state: State<'_, AppState>) -> ApiResult<BackupStatus> {
    blocking(&state, |api| Ok(api.backup_status())).await
}

#[tauri::command]
#[specta::specta]
pub async fn add_backup_target(
    state: State<'_, AppState>,
    target: Target,
    secrets: TargetSecrets,
    use_keyring: bool,
) -> ApiResult<TestReport> {
    blocking(&state, move |api| {
        api.add_backup_target(&target, secrets, use_keyring)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn update_backup_target(
    state: State<'_, AppState>,
    target: String,
    changes: TargetChanges,
) -> ApiResult<Target> {
    blocking(&state, move |api| {
        api.update_backup_target(&target, changes)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn remove_backup_target(state: State<'_, AppState>, target: String) -> ApiResult<()> {
    blocking(&state, move |api| api.remove_backup_target(&target)).await
}

#[tauri::command]
#[specta::specta]
pub async fn test_backup_target(
    state: State<'_, AppState>,
    target: String,
) -> ApiResult<TestReport> {
    blocking(&state, move |api| api.test_backup_target(&target)).await
}

/// Starts a backup of `target` now; its progress arrives with the backup status.
#[tauri::command]
#[specta::specta]
pub async fn run_backup(state: State<'_, AppState>, target: String) -> ApiResult<()> {
    blocking(&state, move |api| api.start_backup(&target).map(|_| ())).await
}

/// Cancels the running backup of `target`; the run stops at its next safe point.
#[tauri::command]
#[specta::specta]
pub async fn cancel_backup(
    state: State<'_, AppState>,
    target: String,
) -> ApiResult<kura_api::Cancelled> {
    Ok(state.api()?.cancel_backup(&target))
}

#[tauri::command]
#[specta::specta]
pub async fn list_backup_runs(
    state: State<'_, AppState>,
    target: Option<String>,
) -> ApiResult<Vec<RunRecord>> {
    blocking(&state, move |api| api.backup_runs(target.as_deref(), 200)).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_backups(
    state: State<'_, AppState>,
    target: String,
) -> ApiResult<Vec<BackupInfo>> {
    blocking(&state, move |api| api.backups_at(&target)).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_backup_contents(
    state: State<'_, AppState>,
    target: String,
    backup: String,
) -> ApiResult<BackupContents> {
    blocking(&state, move |api| api.backup_contents(&target, &backup)).await
}

#[tauri::command]
#[specta::specta]
#[allow(clippy::too_many_arguments)]
pub async fn restore_backup(
    state: State<'_, AppState>,
    target: String,
    backup: String,
    project: Option<String>,
    destination: String,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<BackupRestoreReport> {
    with_job(
        &state,
        "restore_backup",
        job_id,
        on_progress,
        move |api, job| {
            api.restore_backup(
                &target,
                &backup,
                project.as_deref(),
                PathBuf::from(destination),
                job,
            )
        },
    )
    .await
}

/// What a restore would write where, before it runs.
#[tauri::command]
#[specta::specta]
pub async fn preview_backup_restore(
    state: State<'_, AppState>,
    target: String,
    backup: String,
    project: Option<String>,
    destination: String,
) -> ApiResult<RestorePreview> {
    blocking(&state, move |api| {
        api.restore_preview(
            &target,
            &backup,
            project.as_deref(),
            PathBuf::from(destination),
        )
    })
    .await
}

/// The environment variables a target reads its secrets from, for the target form. It cannot
/// fail, but answers a `Result` like every other command, so the UI calls it like the rest.
#[tauri::command]
#[specta::specta]
pub fn get_backup_secret_variables(
    name: String,
    kind: LocationKind,
    encrypt: bool,
) -> ApiResult<Vec<SecretVariable>> {
    Ok(kura_backup::secret_variables(&name, kind, encrypt))
}

#[tauri::command]
#[specta::specta]
pub async fn verify_backups(
    state: State<'_, AppState>,
    target: String,
    mode: VerifyMode,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<BackupVerifyReport> {
    with_job(
        &state,
        "verify_backups",
        job_id,
        on_progress,
        move |api, job| api.verify_backups(&target, mode, job),
    )
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn prune_backups(
    state: State<'_, AppState>,
    target: String,
    dry_run: bool,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<PruneReport> {
    with_job(
        &state,
        "prune_backups",
        job_id,
        on_progress,
        move |api, job| api.prune_backups(&target, dry_run, job),
    )
    .await
}

/// Pauses scheduled backups for `length`, or resumes them when `length` is `None`.
#[tauri::command]
#[specta::specta]
pub async fn pause_backups(
    state: State<'_, AppState>,
    length: Option<PauseLength>,
) -> ApiResult<()> {
    blocking(&state, move |api| api.pause_backups(length).map(|_| ())).await
}
