//! Commands for backups: targets, runs, the backups at a target, restore, verify, prune, pause.
//! Each parses its input and calls one engine function; scheduled runs go through the
//! scheduler, so one target never runs twice at once.

use std::path::PathBuf;
use std::sync::Arc;

use kura_backup::{
    BackupContents, BackupInfo, BackupVerifyReport, Backups, PauseLength, PruneReport, Retention,
    RunRecord, Secrets, Target, TestReport, VerifyMode,
};
use kura_core::Progress;
use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use crate::commands::{blocking, with_job, AppState, VaultChanged};
use crate::error::{IpcError, IpcResult};
use crate::scheduler::{BackupStatus, Scheduler};

/// Secrets typed into the target form. They go to the OS keyring (or nowhere, when the person
/// chose the environment) and never into a file.
#[derive(Clone, Default, Deserialize, specta::Type)]
pub struct TargetSecrets {
    /// S3 access key id.
    pub access_key_id: Option<String>,
    /// S3 secret access key.
    pub secret_access_key: Option<String>,
    /// Encryption passphrase.
    pub passphrase: Option<String>,
}

/// The settings of a target that can change after it is added.
#[derive(Clone, Deserialize, specta::Type)]
pub struct TargetChanges {
    /// When it runs ("daily at 02:00", ...); empty for on demand only.
    pub schedule: String,
    /// Which backups prune keeps.
    pub retention: Retention,
    /// Upload limit in bytes per second; `None` for none.
    pub bandwidth_limit: Option<u64>,
}

#[tauri::command]
#[specta::specta]
pub async fn backup_status(
    state: State<'_, AppState>,
    scheduler: State<'_, Arc<Scheduler>>,
) -> IpcResult<BackupStatus> {
    let scheduler = scheduler.inner().clone();
    blocking(&state, move |v| Ok(scheduler.status(v))).await
}

#[tauri::command]
#[specta::specta]
pub async fn add_backup_target(
    app: AppHandle,
    state: State<'_, AppState>,
    scheduler: State<'_, Arc<Scheduler>>,
    target: Target,
    secrets: TargetSecrets,
    use_keyring: bool,
) -> IpcResult<TestReport> {
    let report = blocking(&state, move |v| {
        let secrets = Secrets {
            access_key_id: secrets.access_key_id.filter(|s| !s.is_empty()),
            secret_access_key: secrets.secret_access_key.filter(|s| !s.is_empty()),
            passphrase: secrets.passphrase.filter(|s| !s.is_empty()),
        };
        Backups::new(v).add_target(&target, &secrets, use_keyring)
    })
    .await?;
    VaultChanged::send(&app, None, "backup-targets");
    scheduler.publish(&app);
    Ok(report)
}

#[tauri::command]
#[specta::specta]
pub async fn update_backup_target(
    app: AppHandle,
    state: State<'_, AppState>,
    scheduler: State<'_, Arc<Scheduler>>,
    name: String,
    changes: TargetChanges,
) -> IpcResult<Target> {
    let t = blocking(&state, move |v| {
        Backups::new(v).update_target(&name, |t| {
            t.schedule = changes.schedule.trim().to_string();
            t.retention = changes.retention;
            t.bandwidth_limit = changes.bandwidth_limit;
        })
    })
    .await?;
    scheduler.publish(&app);
    Ok(t)
}

#[tauri::command]
#[specta::specta]
pub async fn remove_backup_target(
    app: AppHandle,
    state: State<'_, AppState>,
    scheduler: State<'_, Arc<Scheduler>>,
    name: String,
) -> IpcResult<()> {
    blocking(&state, move |v| Backups::new(v).remove_target(&name)).await?;
    VaultChanged::send(&app, None, "backup-targets");
    scheduler.publish(&app);
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn test_backup_target(
    app: AppHandle,
    state: State<'_, AppState>,
    scheduler: State<'_, Arc<Scheduler>>,
    name: String,
) -> IpcResult<TestReport> {
    let r = blocking(&state, move |v| Backups::new(v).test_target(&name)).await;
    scheduler.publish(&app);
    r
}

/// Starts a backup of `target` now; its progress arrives with the backup status.
#[tauri::command]
#[specta::specta]
pub async fn start_backup(
    app: AppHandle,
    scheduler: State<'_, Arc<Scheduler>>,
    target: String,
) -> IpcResult<()> {
    scheduler
        .start_backup(&app, &target)
        .map_err(IpcError::from)
}

/// Cancels the running backup of `target`; the run stops at its next safe point.
#[tauri::command]
#[specta::specta]
pub async fn cancel_backup(
    scheduler: State<'_, Arc<Scheduler>>,
    target: String,
) -> IpcResult<bool> {
    Ok(scheduler.cancel_backup(&target))
}

#[tauri::command]
#[specta::specta]
pub async fn backup_runs(
    state: State<'_, AppState>,
    target: Option<String>,
) -> IpcResult<Vec<RunRecord>> {
    blocking(&state, move |v| {
        Backups::new(v).runs(target.as_deref(), 200)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn backups_at(state: State<'_, AppState>, target: String) -> IpcResult<Vec<BackupInfo>> {
    blocking(&state, move |v| Backups::new(v).backups(&target)).await
}

#[tauri::command]
#[specta::specta]
pub async fn backup_contents(
    state: State<'_, AppState>,
    target: String,
    backup: String,
) -> IpcResult<BackupContents> {
    blocking(&state, move |v| {
        Backups::new(v).backup_contents(&target, &backup)
    })
    .await
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
) -> IpcResult<kura_backup::BackupRestoreReport> {
    with_job(&state, job_id, on_progress, move |v, job| {
        Backups::new(v).restore(
            &target,
            &backup,
            project.as_deref(),
            &PathBuf::from(destination),
            job,
        )
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn verify_backups(
    app: AppHandle,
    state: State<'_, AppState>,
    scheduler: State<'_, Arc<Scheduler>>,
    target: String,
    mode: VerifyMode,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<BackupVerifyReport> {
    let r = with_job(&state, job_id, on_progress, move |v, job| {
        Backups::new(v).verify(&target, mode, job)
    })
    .await;
    scheduler.publish(&app);
    r
}

#[tauri::command]
#[specta::specta]
pub async fn prune_backups(
    state: State<'_, AppState>,
    target: String,
    dry_run: bool,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<PruneReport> {
    with_job(&state, job_id, on_progress, move |v, job| {
        Backups::new(v).prune(&target, dry_run, job)
    })
    .await
}

/// Pauses scheduled backups for `length`, or resumes them when `length` is `None`.
#[tauri::command]
#[specta::specta]
pub async fn pause_backups(
    app: AppHandle,
    state: State<'_, AppState>,
    scheduler: State<'_, Arc<Scheduler>>,
    length: Option<PauseLength>,
) -> IpcResult<()> {
    blocking(&state, move |v| {
        let backups = Backups::new(v);
        match length {
            Some(l) => backups.pause(l).map(|_| ()),
            None => backups.resume(),
        }
    })
    .await?;
    scheduler.publish(&app);
    Ok(())
}
