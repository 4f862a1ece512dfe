//! Tauri commands: each parses its input, calls one engine function on a blocking thread (the UI
//! thread never waits on disk), and converts the result. State changes are announced with the
//! `VaultChanged` event so every open view stays current.

use std::path::PathBuf;
use std::sync::Arc;

use kura_core::{
    Config, Diff, FileEntry, FilePreview, FolderGitCommit, FolderGitStatus, GcReport,
    ImportOptions, NewProject, Progress, Project, ProjectFilter, RestoreReport, SnapshotOptions,
    SnapshotReport, Stats, Template, Trigger, UploadReport, Vault, VerifyReport, Version,
    Workspace,
};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_specta::Event;

use crate::error::{IpcError, IpcResult};
use crate::jobs::Jobs;

/// Shared state of the app.
pub struct AppState {
    /// The vault, or why it could not be opened (a missing drive, say): the UI shows that
    /// instead of opening anything half-way.
    pub vault: Result<Arc<Vault>, IpcError>,
    /// Running long operations.
    pub jobs: Arc<Jobs>,
}

/// Something in the vault changed; views showing it should refresh.
#[derive(Serialize, Deserialize, Debug, Clone, specta::Type, tauri_specta::Event)]
pub struct VaultChanged {
    /// The project concerned, or `None` for vault-wide changes (workspaces, settings).
    pub project_id: Option<String>,
    /// What happened ("snapshot", "files", "metadata", "workspaces", "settings", ...).
    pub reason: String,
}

impl VaultChanged {
    pub(crate) fn send(app: &AppHandle, project_id: Option<&str>, reason: &str) {
        let event = VaultChanged {
            project_id: project_id.map(str::to_string),
            reason: reason.to_string(),
        };
        if let Err(e) = event.emit(app) {
            tracing::warn!("cannot emit vault change: {e}");
        }
    }
}

/// About the running app.
#[derive(Serialize, Debug, Clone, specta::Type)]
pub struct AppInfo {
    /// The vault folder.
    pub vault: String,
    /// Kura's version.
    pub version: String,
    /// Path of config.toml.
    pub config_path: String,
}

impl AppState {
    fn vault(&self) -> IpcResult<Arc<Vault>> {
        self.vault.clone()
    }
}

/// Runs engine work on a blocking thread.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &State<'_, AppState>,
    work: impl FnOnce(&Vault) -> kura_core::Result<T> + Send + 'static,
) -> IpcResult<T> {
    let vault = state.vault()?;
    tauri::async_runtime::spawn_blocking(move || {
        let r = work(&vault).map_err(IpcError::from);
        purge_in_background(vault);
        r
    })
    .await
    .map_err(|e| IpcError::internal(format!("the operation stopped unexpectedly: {e}")))?
}

/// Removes on a thread of its own what an archive or a deletion moved aside (see
/// `Vault::purge_discarded`), so that nobody waits for it.
pub(crate) fn purge_in_background(vault: Arc<Vault>) {
    if !vault.has_discarded() {
        return;
    }
    tauri::async_runtime::spawn_blocking(move || {
        if let Err(e) = vault.purge_discarded() {
            tracing::warn!("removing discarded folders failed: {}", e.message());
        }
    });
}

/// Runs engine work that reports progress as job `job_id`.
pub(crate) async fn with_job<T: Send + 'static>(
    state: &State<'_, AppState>,
    job_id: String,
    on_progress: Channel<Progress>,
    work: impl FnOnce(&Vault, &kura_core::Job) -> kura_core::Result<T> + Send + 'static,
) -> IpcResult<T> {
    let running = state.jobs.start(job_id, on_progress);
    blocking(state, move |v| {
        let r = work(v, &running.job);
        drop(running);
        r
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn app_info(state: State<'_, AppState>) -> IpcResult<AppInfo> {
    blocking(&state, |v| {
        Ok(AppInfo {
            vault: v.root().display().to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            config_path: v.config_path().display().to_string(),
        })
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn workspaces(state: State<'_, AppState>) -> IpcResult<Vec<Workspace>> {
    blocking(&state, |v| v.workspaces()).await
}

#[tauri::command]
#[specta::specta]
pub async fn create_workspace(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> IpcResult<Workspace> {
    let r = blocking(&state, move |v| v.create_workspace(&name)).await?;
    VaultChanged::send(&app, None, "workspaces");
    Ok(r)
}

#[tauri::command]
#[specta::specta]
pub async fn rename_workspace(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    new_name: String,
) -> IpcResult<Workspace> {
    let r = blocking(&state, move |v| v.rename_workspace(&name, &new_name)).await?;
    VaultChanged::send(&app, None, "workspaces");
    Ok(r)
}

#[tauri::command]
#[specta::specta]
pub async fn switch_workspace(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> IpcResult<Workspace> {
    let r = blocking(&state, move |v| v.switch_workspace(&name)).await?;
    VaultChanged::send(&app, None, "workspaces");
    Ok(r)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_workspace(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    move_to: Option<String>,
) -> IpcResult<()> {
    blocking(&state, move |v| {
        v.delete_workspace(&name, move_to.as_deref())
    })
    .await?;
    VaultChanged::send(&app, None, "workspaces");
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn projects(
    state: State<'_, AppState>,
    filter: ProjectFilter,
) -> IpcResult<Vec<Arc<Project>>> {
    blocking(&state, move |v| v.projects(&filter)).await
}

#[tauri::command]
#[specta::specta]
pub async fn project(state: State<'_, AppState>, id: String) -> IpcResult<Project> {
    blocking(&state, move |v| {
        v.touch_project(&id)?;
        v.project(&id)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn create_project(
    app: AppHandle,
    state: State<'_, AppState>,
    new_project: NewProject,
) -> IpcResult<Project> {
    let p = blocking(&state, move |v| v.create_project(&new_project)).await?;
    VaultChanged::send(&app, Some(&p.id), "created");
    crate::watcher::refresh(&app);
    Ok(p)
}

#[tauri::command]
#[specta::specta]
pub async fn import_folder(
    app: AppHandle,
    state: State<'_, AppState>,
    path: String,
    options: ImportOptions,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<Project> {
    let p = with_job(&state, job_id, on_progress, move |v, job| {
        v.import_folder(&PathBuf::from(path), &options, job)
    })
    .await?;
    VaultChanged::send(&app, Some(&p.id), "created");
    crate::watcher::refresh(&app);
    Ok(p)
}

#[tauri::command]
#[specta::specta]
pub async fn rename_project(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    new_name: String,
) -> IpcResult<Project> {
    let p = blocking(&state, move |v| v.rename_project(&id, &new_name)).await?;
    VaultChanged::send(&app, Some(&p.id), "metadata");
    Ok(p)
}

#[tauri::command]
#[specta::specta]
pub async fn move_project(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    workspace: String,
) -> IpcResult<Project> {
    let p = blocking(&state, move |v| v.move_project(&id, &workspace)).await?;
    VaultChanged::send(&app, Some(&p.id), "metadata");
    Ok(p)
}

#[tauri::command]
#[specta::specta]
pub async fn edit_project(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    description: Option<String>,
    kind: Option<String>,
    git_remote: Option<String>,
) -> IpcResult<Project> {
    let p = blocking(&state, move |v| {
        v.edit_project(
            &id,
            description.as_deref(),
            kind.as_deref(),
            git_remote.as_deref(),
        )
    })
    .await?;
    VaultChanged::send(&app, Some(&p.id), "metadata");
    Ok(p)
}

#[tauri::command]
#[specta::specta]
pub async fn tag_project(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    add: Vec<String>,
    remove: Vec<String>,
) -> IpcResult<Project> {
    let p = blocking(&state, move |v| v.tag_project(&id, &add, &remove)).await?;
    VaultChanged::send(&app, Some(&p.id), "metadata");
    Ok(p)
}

#[tauri::command]
#[specta::specta]
pub async fn set_metadata(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    changes: Vec<(String, Option<String>)>,
) -> IpcResult<Project> {
    let p = blocking(&state, move |v| v.set_metadata(&id, &changes)).await?;
    VaultChanged::send(&app, Some(&p.id), "metadata");
    Ok(p)
}

#[tauri::command]
#[specta::specta]
pub async fn trash_project(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> IpcResult<Project> {
    let p = blocking(&state, move |v| v.trash_project(&id)).await?;
    VaultChanged::send(&app, Some(&p.id), "trash");
    crate::watcher::refresh(&app);
    Ok(p)
}

#[tauri::command]
#[specta::specta]
pub async fn untrash_project(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> IpcResult<Project> {
    let p = blocking(&state, move |v| v.untrash_project(&id)).await?;
    VaultChanged::send(&app, Some(&p.id), "trash");
    crate::watcher::refresh(&app);
    Ok(p)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_project(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> IpcResult<()> {
    let key = id.clone();
    blocking(&state, move |v| v.delete_project(&id)).await?;
    VaultChanged::send(&app, Some(&key), "deleted");
    crate::watcher::refresh(&app);
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn export_project(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
    dest: String,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<RestoreReport> {
    with_job(&state, job_id, on_progress, move |v, job| {
        v.export_version(&id, version.as_deref(), &PathBuf::from(dest), job)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn templates(state: State<'_, AppState>) -> IpcResult<Vec<Template>> {
    blocking(&state, |v| v.templates()).await
}

#[tauri::command]
#[specta::specta]
pub async fn save_template(
    state: State<'_, AppState>,
    id: String,
    name: String,
) -> IpcResult<Template> {
    blocking(&state, move |v| v.save_template(&id, &name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_files(
    state: State<'_, AppState>,
    id: String,
    prefix: Option<String>,
) -> IpcResult<Vec<FileEntry>> {
    blocking(&state, move |v| v.list_files(&id, prefix.as_deref())).await
}

#[tauri::command]
#[specta::specta]
pub async fn preview_file(
    state: State<'_, AppState>,
    id: String,
    path: String,
) -> IpcResult<FilePreview> {
    blocking(&state, move |v| v.preview_file(&id, &path)).await
}

/// Copies dropped files and folders into a project (the drag-and-drop path).
#[tauri::command]
#[specta::specta]
pub async fn upload_files(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    sources: Vec<String>,
    dest_dir: String,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<UploadReport> {
    let key = id.clone();
    let sources: Vec<PathBuf> = sources.into_iter().map(PathBuf::from).collect();
    let r = with_job(&state, job_id, on_progress, move |v, job| {
        v.upload_files(&id, &sources, &dest_dir, job)
    })
    .await?;
    VaultChanged::send(&app, Some(&key), "files");
    Ok(r)
}

#[tauri::command]
#[specta::specta]
pub async fn snapshot(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    message: Option<String>,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<SnapshotReport> {
    let r = with_job(&state, job_id, on_progress, move |v, job| {
        v.snapshot(
            &id,
            &SnapshotOptions {
                message,
                trigger: Trigger::Manual,
                ..Default::default()
            },
            job,
        )
    })
    .await?;
    VaultChanged::send(&app, Some(&r.project_id), "snapshot");
    Ok(r)
}

/// Takes a version of every active project that changed (the tray's "Snapshot now").
#[tauri::command]
#[specta::specta]
pub async fn snapshot_changed(
    app: AppHandle,
    state: State<'_, AppState>,
) -> IpcResult<Vec<SnapshotReport>> {
    let reports = blocking(&state, snapshot_all_changed).await?;
    for r in reports.iter().filter(|r| r.version.is_some()) {
        VaultChanged::send(&app, Some(&r.project_id), "snapshot");
    }
    Ok(reports)
}

pub(crate) fn snapshot_all_changed(v: &Vault) -> kura_core::Result<Vec<SnapshotReport>> {
    v.snapshot_changed(
        true,
        &SnapshotOptions::default(),
        &kura_core::Job::default(),
    )
}

#[tauri::command]
#[specta::specta]
pub async fn versions(
    state: State<'_, AppState>,
    id: String,
    limit: Option<u32>,
) -> IpcResult<Vec<Version>> {
    blocking(&state, move |v| v.versions(&id, limit.map(|l| l as usize))).await
}

#[tauri::command]
#[specta::specta]
pub async fn file_versions(
    state: State<'_, AppState>,
    id: String,
    path: String,
) -> IpcResult<Vec<Version>> {
    blocking(&state, move |v| v.file_versions(&id, &path)).await
}

#[tauri::command]
#[specta::specta]
pub async fn diff(
    state: State<'_, AppState>,
    id: String,
    from: String,
    to: Option<String>,
    path: Option<String>,
) -> IpcResult<Diff> {
    blocking(&state, move |v| {
        v.diff(&id, &from, to.as_deref(), path.as_deref(), true)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn restore_project(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    version: String,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<RestoreReport> {
    let key = id.clone();
    let r = with_job(&state, job_id, on_progress, move |v, job| {
        v.restore_project(&id, &version, job)
    })
    .await?;
    VaultChanged::send(&app, Some(&key), "restore");
    Ok(r)
}

#[tauri::command]
#[specta::specta]
pub async fn restore_file(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    version: String,
    path: String,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<RestoreReport> {
    let key = id.clone();
    let r = with_job(&state, job_id, on_progress, move |v, job| {
        v.restore_file(&id, &version, &path, job)
    })
    .await?;
    VaultChanged::send(&app, Some(&key), "restore");
    Ok(r)
}

#[tauri::command]
#[specta::specta]
pub async fn folder_git_status(
    state: State<'_, AppState>,
    id: String,
) -> IpcResult<FolderGitStatus> {
    blocking(&state, move |v| v.folder_git_status(&id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn folder_git_log(
    state: State<'_, AppState>,
    id: String,
    limit: u32,
) -> IpcResult<Vec<FolderGitCommit>> {
    blocking(&state, move |v| v.folder_git_log(&id, limit as usize)).await
}

#[tauri::command]
#[specta::specta]
pub async fn init_folder_git(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> IpcResult<()> {
    let key = id.clone();
    blocking(&state, move |v| v.init_folder_git(&id)).await?;
    VaultChanged::send(&app, Some(&key), "git");
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn stats(state: State<'_, AppState>) -> IpcResult<Stats> {
    blocking(&state, |v| v.stats()).await
}

#[tauri::command]
#[specta::specta]
pub async fn config(state: State<'_, AppState>) -> IpcResult<Config> {
    blocking(&state, |v| Ok((*v.config()).clone())).await
}

/// Changes one setting (validated) and returns the settings now in the file.
#[tauri::command]
#[specta::specta]
pub async fn set_config(
    app: AppHandle,
    state: State<'_, AppState>,
    key: String,
    value: String,
) -> IpcResult<Config> {
    let c = blocking(&state, move |v| {
        v.set_config(&key, &value).map(|c| (*c).clone())
    })
    .await?;
    VaultChanged::send(&app, None, "settings");
    crate::watcher::refresh(&app);
    Ok(c)
}

#[tauri::command]
#[specta::specta]
pub async fn verify(
    state: State<'_, AppState>,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<VerifyReport> {
    with_job(&state, job_id, on_progress, |v, job| v.verify(None, job)).await
}

#[tauri::command]
#[specta::specta]
pub async fn gc(
    app: AppHandle,
    state: State<'_, AppState>,
    job_id: String,
    on_progress: Channel<Progress>,
) -> IpcResult<GcReport> {
    let r = with_job(&state, job_id, on_progress, |v, job| v.gc(job)).await?;
    VaultChanged::send(&app, None, "gc");
    Ok(r)
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_job(state: State<'_, AppState>, job_id: String) -> IpcResult<()> {
    state.jobs.cancel(&job_id);
    Ok(())
}
