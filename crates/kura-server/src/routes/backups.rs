//! Backups: targets, runs (each an operation), the backups at a target, restore, verify, prune,
//! pause: adapters over kura-api's backups (the same runner the desktop app and the scheduler
//! use).

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use kura_api::calls::{self, kinds};
use kura_api::{BackupStatus, TargetChanges, TargetSecrets};
use kura_backup::{
    BackupContents, BackupInfo, LocationKind, PauseLength, RestorePreview, RunRecord,
    SecretVariable, Target, TestReport, VerifyMode,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{blocking, done, json, long, St, Wait};
use crate::auth::Scope;
use crate::body::{Json, Query};
use crate::error::{HttpError, HttpResult};
use crate::guard::Caller;

#[utoipa::path(get, path = "/v1/backups/status", operation_id = "getBackupStatus", tag = "backups", responses((status = 200, body = BackupStatus)))]
pub async fn status(st: St) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, |a| Ok(calls::get_backup_status(a)?)).await?,
    ))
}

/// A target to add.
#[derive(Deserialize, ToSchema)]
pub struct NewTarget {
    pub target: Target,
    #[serde(default)]
    pub secrets: TargetSecrets,
    #[serde(default)]
    pub use_keyring: bool,
}

/// Adds a target after testing it (admin: secrets and where backups go).
#[utoipa::path(post, path = "/v1/backups/targets", operation_id = "addBackupTarget", tag = "backups", request_body = NewTarget,
    responses((status = 200, body = TestReport)))]
pub async fn add_target(st: St, Json(b): Json<NewTarget>) -> HttpResult<Response> {
    let r = blocking(&st, move |a| {
        Ok(calls::add_backup_target(
            a,
            b.target,
            b.secrets,
            b.use_keyring,
        )?)
    })
    .await?;
    Ok(json(r))
}

#[utoipa::path(patch, path = "/v1/backups/targets/{name}", operation_id = "updateBackupTarget", tag = "backups", request_body = TargetChanges,
    params(("name" = String, Path)), responses((status = 200, body = Target)))]
pub async fn update_target(
    st: St,
    Path(name): Path<String>,
    Json(c): Json<TargetChanges>,
) -> HttpResult<Response> {
    let t = blocking(&st, move |a| Ok(calls::update_backup_target(a, name, c)?)).await?;
    Ok(json(t))
}

/// Removes a target (admin; the backups at it stay where they are).
#[utoipa::path(delete, path = "/v1/backups/targets/{name}", operation_id = "removeBackupTarget", tag = "backups",
    params(("name" = String, Path)), responses((status = 200, body = super::Done)))]
pub async fn remove_target(st: St, Path(name): Path<String>) -> HttpResult<Response> {
    blocking(&st, move |a| Ok(calls::remove_backup_target(a, name)?)).await?;
    Ok(done())
}

#[utoipa::path(post, path = "/v1/backups/targets/{name}/test", operation_id = "testBackupTarget", tag = "backups",
    params(("name" = String, Path)), responses((status = 200, body = TestReport)))]
pub async fn test_target(st: St, Path(name): Path<String>) -> HttpResult<Response> {
    let r = blocking(&st, move |a| Ok(calls::test_backup_target(a, name)?)).await?;
    Ok(json(r))
}

/// Starts a backup of a target now, as an operation (result: RunReport); refused while one
/// runs or while the target rests after repeated failures.
#[utoipa::path(post, path = "/v1/backups/targets/{name}/run", operation_id = "runBackup", tag = "backups", params(("name" = String, Path), Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: RunReport")))]
pub async fn start(
    st: St,
    Path(name): Path<String>,
    Query(w): Query<Wait>,
) -> HttpResult<Response> {
    let api = st.api.clone();
    let op = tokio::task::spawn_blocking(move || api.start_backup(&name))
        .await
        .map_err(|e| HttpError::internal(format!("the backup did not start: {e}")))??;
    super::answer_operation(&st, op, &w).await
}

/// Cancels the running backup of a target; it stops at its next safe point.
#[utoipa::path(delete, path = "/v1/backups/targets/{name}/run", operation_id = "cancelBackup", tag = "backups",
    params(("name" = String, Path)), responses((status = 200, body = kura_api::Cancelled)))]
pub async fn cancel(st: St, Path(name): Path<String>) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| Ok(calls::cancel_backup(a, name)?)).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// Only this target.
    pub target: Option<String>,
}

#[utoipa::path(get, path = "/v1/backups/runs", operation_id = "listBackupRuns", tag = "backups", params(RunsQuery),
    responses((status = 200, body = Vec<RunRecord>)))]
pub async fn runs(st: St, Query(q): Query<RunsQuery>) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| Ok(calls::list_backup_runs(a, q.target)?)).await?,
    ))
}

#[utoipa::path(get, path = "/v1/backups/targets/{name}/backups", operation_id = "listBackups", tag = "backups",
    params(("name" = String, Path)), responses((status = 200, body = Vec<BackupInfo>)))]
pub async fn backups_at(st: St, Path(name): Path<String>) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| Ok(calls::list_backups(a, name)?)).await?,
    ))
}

#[utoipa::path(get, path = "/v1/backups/targets/{name}/backups/{backup}", operation_id = "getBackupContents", tag = "backups",
    params(("name" = String, Path), ("backup" = String, Path)), responses((status = 200, body = BackupContents)))]
pub async fn contents(
    st: St,
    Path((name, backup)): Path<(String, String)>,
) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| {
            Ok(calls::get_backup_contents(a, name, backup)?)
        })
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// One project (name or id); every project when absent.
    pub project: Option<String>,
    /// The folder on the server's machine it would go to (admin only).
    #[param(pattern = "^/")]
    pub destination: String,
}

/// What restoring a project (or everything) of a backup into a folder of the server's machine
/// would write where. Admin only (403 otherwise): it looks at the server's disk.
#[utoipa::path(get, path = "/v1/backups/targets/{name}/backups/{backup}/restore-preview", operation_id = "previewBackupRestore", tag = "backups",
    params(("name" = String, Path), ("backup" = String, Path), PreviewQuery),
    responses((status = 200, body = RestorePreview)))]
pub async fn restore_preview(
    st: St,
    caller: Caller,
    Path((name, backup)): Path<(String, String)>,
    Query(q): Query<PreviewQuery>,
) -> HttpResult<Response> {
    caller.server_path("destination", &q.destination)?;
    Ok(json(
        blocking(&st, move |a| {
            Ok(calls::preview_backup_restore(
                a,
                name,
                backup,
                q.project,
                q.destination,
            )?)
        })
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VariablesQuery {
    /// The target's name (need not be valid yet).
    pub name: String,
    /// Where its repository lives.
    pub kind: LocationKind,
    /// Whether its backups are encrypted.
    #[serde(default)]
    pub encrypt: bool,
}

/// The environment variables a target with this name, kind and encryption reads its secrets
/// from, when they are not in the OS keyring.
#[utoipa::path(get, path = "/v1/backups/secret-variables", operation_id = "getBackupSecretVariables", tag = "backups", params(VariablesQuery),
    responses((status = 200, body = Vec<SecretVariable>)))]
pub async fn secret_variables(Query(q): Query<VariablesQuery>) -> HttpResult<Response> {
    Ok(json(calls::get_backup_secret_variables(
        q.name, q.kind, q.encrypt,
    )?))
}

/// What to restore from a backup, and where.
#[derive(Deserialize, ToSchema)]
pub struct RestoreFromBackup {
    /// One project (name or id); every project when absent.
    pub project: Option<String>,
    /// A folder on the server's machine (admin only).
    #[schema(pattern = "^/")]
    pub destination: String,
}

/// Restores one project or everything from a backup into a folder of the server's machine
/// (result: BackupRestoreReport). Admin only (403 otherwise): writing to the server's disk is an
/// admin act.
#[utoipa::path(post, path = "/v1/backups/targets/{name}/backups/{backup}/restore", operation_id = "restoreBackup", tag = "backups",
    request_body = RestoreFromBackup, params(("name" = String, Path), ("backup" = String, Path), Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: BackupRestoreReport")))]
pub async fn restore(
    st: St,
    caller: Caller,
    headers: HeaderMap,
    Path((name, backup)): Path<(String, String)>,
    Query(w): Query<Wait>,
    Json(b): Json<RestoreFromBackup>,
) -> HttpResult<Response> {
    caller.server_path("destination", &b.destination)?;
    long(
        &st,
        &headers,
        &w,
        kinds::restore_backup,
        None,
        move |a, job| calls::restore_backup(a, name, backup, b.project, b.destination, job),
    )
    .await
}

/// How thoroughly to verify.
#[derive(Deserialize, ToSchema)]
pub struct VerifyRequest {
    pub mode: VerifyMode,
}

/// Verifies the backups at a target (result: BackupVerifyReport).
#[utoipa::path(post, path = "/v1/backups/targets/{name}/verify", operation_id = "verifyBackups", tag = "backups", request_body = VerifyRequest,
    params(("name" = String, Path), Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: BackupVerifyReport")))]
pub async fn verify(
    st: St,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(w): Query<Wait>,
    Json(b): Json<VerifyRequest>,
) -> HttpResult<Response> {
    long(
        &st,
        &headers,
        &w,
        kinds::verify_backups,
        None,
        move |a, job| calls::verify_backups(a, name, b.mode, job),
    )
    .await
}

/// A prune, or what it would remove.
#[derive(Deserialize, ToSchema)]
pub struct PruneRequest {
    #[serde(default)]
    pub dry_run: bool,
}

/// Removes backups the retention does not keep (admin unless a dry run; result: PruneReport).
#[utoipa::path(post, path = "/v1/backups/targets/{name}/prune", operation_id = "pruneBackups", tag = "backups", request_body = PruneRequest,
    params(("name" = String, Path), Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: PruneReport")))]
pub async fn prune(
    st: St,
    caller: Caller,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(w): Query<Wait>,
    Json(b): Json<PruneRequest>,
) -> HttpResult<Response> {
    caller.require(if b.dry_run {
        Scope::Write
    } else {
        Scope::Admin
    })?;
    long(
        &st,
        &headers,
        &w,
        kinds::prune_backups,
        None,
        move |a, job| calls::prune_backups(a, name, b.dry_run, job),
    )
    .await
}

/// A pause of scheduled backups, or `null` to resume.
#[derive(Deserialize, ToSchema)]
pub struct PauseRequest {
    pub length: Option<PauseLength>,
}

#[utoipa::path(post, path = "/v1/backups/pause", operation_id = "pauseBackups", tag = "backups", request_body = PauseRequest,
    responses((status = 200, body = super::Done)))]
pub async fn pause(st: St, Json(b): Json<PauseRequest>) -> HttpResult<Response> {
    blocking(&st, move |a| Ok(calls::pause_backups(a, b.length)?)).await?;
    Ok(done())
}
