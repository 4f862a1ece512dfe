//! Tauri commands: each parses its input, calls one function of the service layer
//! (`kura_api::Api`) on a blocking thread (the UI thread never waits on disk), and converts the
//! result. Long commands run as operations of the service, with the UI's job id as their id and
//! their progress forwarded to the call's channel. Changes are announced by the service as
//! `vault.changed` events, which `events.rs` forwards to the window. The service they call is the
//! app's state (`state.rs`).

use std::path::PathBuf;
use std::sync::Arc;

use kura_api::{
    Api, ApiError, ApiResult, AppInfo, DiffRequest, MetadataChange, ProgressSink, RestoreRequest,
    SnapshotRequest, VerifyVault, VersionsRequest,
};
use kura_core::{
    Config, Diff, FileEntry, FilePreview, FolderGitCommit, FolderGitStatus, GcReport,
    ImportOptions, Job, NewProject, Progress, Project, ProjectFilter, RestorePlan, RestoreReport,
    SnapshotOptions, SnapshotReport, Stats, Template, Trigger, UploadReport, VerifyReport, Version,
    Workspace,
};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::state::AppState;

/// Runs service work on a blocking thread.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &State<'_, AppState>,
    work: impl FnOnce(&Arc<Api>) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let api = state.api()?;
    tauri::async_runtime::spawn_blocking(move || work(&api))
        .await
        .map_err(|e| ApiError::internal(format!("the operation stopped unexpectedly: {e}")))?
}

/// Runs service work as operation `kind` with the UI's `job_id`, its progress sent to
/// `on_progress`; answers when it ends.
pub(crate) async fn with_job<T: Serialize + Send + 'static>(
    state: &State<'_, AppState>,
    kind: &'static str,
    job_id: String,
    on_progress: Channel<Progress>,
    work: impl FnOnce(&Arc<Api>, &Job) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    blocking(state, move |api| {
        let sink: ProgressSink = Arc::new(move |p: &Progress| {
            let _ = on_progress.send(p.clone());
        });
        let worker = api.clone();
        api.operations()
            .run(kind, None, Some(job_id), Some(sink), move |job| {
                work(&worker, job)
            })
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn get_status(state: State<'_, AppState>) -> ApiResult<AppInfo> {
    blocking(&state, |api| Ok(api.app_info())).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_workspaces(state: State<'_, AppState>) -> ApiResult<Vec<Workspace>> {
    blocking(&state, |api| Ok(api.vault().workspaces()?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn create_workspace(state: State<'_, AppState>, name: String) -> ApiResult<Workspace> {
    blocking(&state, move |api| api.create_workspace(&name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn rename_workspace(
    state: State<'_, AppState>,
    name: String,
    new_name: String,
) -> ApiResult<Workspace> {
    blocking(&state, move |api| api.rename_workspace(&name, &new_name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn switch_workspace(state: State<'_, AppState>, name: String) -> ApiResult<Workspace> {
    blocking(&state, move |api| api.switch_workspace(&name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn delete_workspace(
    state: State<'_, AppState>,
    name: String,
    move_to: Option<String>,
) -> ApiResult<()> {
    blocking(&state, move |api| {
        api.delete_workspace(&name, move_to.as_deref())
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn list_projects(
    state: State<'_, AppState>,
    filter: ProjectFilter,
) -> ApiResult<Vec<Arc<Project>>> {
    blocking(&state, move |api| Ok(api.vault().projects(&filter)?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_project(state: State<'_, AppState>, id: String) -> ApiResult<Project> {
    blocking(&state, move |api| api.open_project(&id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn create_project(
    state: State<'_, AppState>,
    new_project: NewProject,
) -> ApiResult<Project> {
    blocking(&state, move |api| api.create_project(&new_project)).await
}

#[tauri::command]
#[specta::specta]
pub async fn import_folder(
    state: State<'_, AppState>,
    path: String,
    options: ImportOptions,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<Project> {
    with_job(&state, "import", job_id, on_progress, move |api, job| {
        api.import_folder(&PathBuf::from(path), &options, job)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn rename_project(
    state: State<'_, AppState>,
    id: String,
    name: String,
) -> ApiResult<Project> {
    blocking(&state, move |api| api.rename_project(&id, &name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn move_project(
    state: State<'_, AppState>,
    id: String,
    workspace: String,
) -> ApiResult<Project> {
    blocking(&state, move |api| api.move_project(&id, &workspace)).await
}

#[tauri::command]
#[specta::specta]
pub async fn edit_project(
    state: State<'_, AppState>,
    id: String,
    description: Option<String>,
    kind: Option<String>,
    git_remote: Option<String>,
) -> ApiResult<Project> {
    blocking(&state, move |api| {
        api.edit_project(
            &id,
            description.as_deref(),
            kind.as_deref(),
            git_remote.as_deref(),
        )
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn tag_project(
    state: State<'_, AppState>,
    id: String,
    add: Vec<String>,
    remove: Vec<String>,
) -> ApiResult<Project> {
    blocking(&state, move |api| api.tag_project(&id, &add, &remove)).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_project_metadata(
    state: State<'_, AppState>,
    id: String,
    changes: Vec<MetadataChange>,
) -> ApiResult<Project> {
    let changes = MetadataChange::pairs(changes);
    blocking(&state, move |api| api.set_metadata(&id, &changes)).await
}

#[tauri::command]
#[specta::specta]
pub async fn trash_project(state: State<'_, AppState>, id: String) -> ApiResult<Project> {
    blocking(&state, move |api| api.trash_project(&id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn untrash_project(state: State<'_, AppState>, id: String) -> ApiResult<Project> {
    blocking(&state, move |api| api.untrash_project(&id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn delete_project(state: State<'_, AppState>, id: String) -> ApiResult<()> {
    blocking(&state, move |api| api.delete_project(&id)).await
}

/// Writes the project (at `version`, or as it is now) into the folder `dest`; with `records`,
/// its records go along as `.kura/records.jsonl`.
#[tauri::command]
#[specta::specta]
pub async fn export_project(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
    dest: String,
    records: bool,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<RestoreReport> {
    with_job(&state, "export", job_id, on_progress, move |api, job| {
        Ok(api.vault().export_version_with(
            &id,
            version.as_deref(),
            &PathBuf::from(dest),
            records,
            job,
        )?)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn list_templates(state: State<'_, AppState>) -> ApiResult<Vec<Template>> {
    blocking(&state, |api| Ok(api.vault().templates()?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn save_project_as_template(
    state: State<'_, AppState>,
    id: String,
    name: String,
) -> ApiResult<Template> {
    blocking(&state, move |api| api.save_template(&id, &name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_files(
    state: State<'_, AppState>,
    id: String,
    prefix: Option<String>,
) -> ApiResult<Vec<FileEntry>> {
    blocking(&state, move |api| {
        Ok(api.vault().list_files(&id, prefix.as_deref())?)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn preview_file(
    state: State<'_, AppState>,
    id: String,
    path: String,
) -> ApiResult<FilePreview> {
    blocking(&state, move |api| {
        Ok(api.vault().preview_file(&id, &path)?)
    })
    .await
}

/// Copies dropped files and folders into a project (the drag-and-drop path).
#[tauri::command]
#[specta::specta]
pub async fn upload_files(
    state: State<'_, AppState>,
    id: String,
    sources: Vec<String>,
    dest_dir: String,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<UploadReport> {
    let sources: Vec<PathBuf> = sources.into_iter().map(PathBuf::from).collect();
    with_job(&state, "upload", job_id, on_progress, move |api, job| {
        api.upload_files(&id, &sources, &dest_dir, job)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn snapshot_project(
    state: State<'_, AppState>,
    id: String,
    request: SnapshotRequest,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<SnapshotReport> {
    with_job(&state, "snapshot", job_id, on_progress, move |api, job| {
        api.snapshot(&id, &request.options(Trigger::Desktop), job)
    })
    .await
}

/// Takes a version of every active project that changed (the tray's "Snapshot now").
#[tauri::command]
#[specta::specta]
pub async fn snapshot_changed_projects(
    state: State<'_, AppState>,
) -> ApiResult<Vec<SnapshotReport>> {
    blocking(&state, |api| {
        api.snapshot_changed(true, &SnapshotOptions::default(), &Job::default())
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn list_versions(
    state: State<'_, AppState>,
    id: String,
    request: VersionsRequest,
) -> ApiResult<Vec<Version>> {
    blocking(&state, move |api| api.versions(&id, &request)).await
}

#[tauri::command]
#[specta::specta]
pub async fn diff_versions(
    state: State<'_, AppState>,
    id: String,
    request: DiffRequest,
) -> ApiResult<Diff> {
    blocking(&state, move |api| api.diff(&id, &request)).await
}

/// What restoring the project to `version` would write and remove, before it runs.
#[tauri::command]
#[specta::specta]
pub async fn plan_restore(
    state: State<'_, AppState>,
    id: String,
    version: String,
) -> ApiResult<RestorePlan> {
    blocking(&state, move |api| {
        Ok(api.vault().restore_plan(&id, &version)?)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn restore_project(
    state: State<'_, AppState>,
    id: String,
    request: RestoreRequest,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<RestoreReport> {
    with_job(&state, "restore", job_id, on_progress, move |api, job| {
        api.restore(&id, &request, job)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn get_git_status(state: State<'_, AppState>, id: String) -> ApiResult<FolderGitStatus> {
    blocking(&state, move |api| Ok(api.vault().folder_git_status(&id)?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_git_log(
    state: State<'_, AppState>,
    id: String,
    limit: u32,
) -> ApiResult<Vec<FolderGitCommit>> {
    blocking(&state, move |api| {
        Ok(api.vault().folder_git_log(&id, limit as usize)?)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn init_git_repository(state: State<'_, AppState>, id: String) -> ApiResult<()> {
    blocking(&state, move |api| api.init_folder_git(&id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_stats(state: State<'_, AppState>) -> ApiResult<Stats> {
    blocking(&state, |api| Ok(api.vault().stats()?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_config(state: State<'_, AppState>) -> ApiResult<Config> {
    blocking(&state, |api| Ok((*api.vault().config()).clone())).await
}

/// Changes one setting (validated) and returns the settings now in the file.
#[tauri::command]
#[specta::specta]
pub async fn set_config(
    state: State<'_, AppState>,
    key: String,
    value: String,
) -> ApiResult<Config> {
    blocking(&state, move |api| api.set_config(&key, &value)).await
}

#[tauri::command]
#[specta::specta]
pub async fn verify_vault(
    state: State<'_, AppState>,
    request: VerifyVault,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<VerifyReport> {
    with_job(&state, "verify", job_id, on_progress, move |api, job| {
        Ok(api.vault().verify(request.project.as_deref(), job)?)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn collect_garbage(
    state: State<'_, AppState>,
    job_id: String,
    on_progress: Channel<Progress>,
) -> ApiResult<GcReport> {
    with_job(&state, "gc", job_id, on_progress, |api, job| api.gc(job)).await
}

/// Cancels a running long command; finished or unknown jobs are ignored.
#[tauri::command]
#[specta::specta]
pub async fn cancel_operation(state: State<'_, AppState>, job_id: String) -> ApiResult<()> {
    let _ = state.api()?.operations().cancel(&job_id);
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn plan_command(
    state: State<'_, AppState>,
    input: kura_api::CommandInput,
) -> ApiResult<kura_api::CommandPlan> {
    blocking(&state, move |api| api.plan_command(&input)).await
}
