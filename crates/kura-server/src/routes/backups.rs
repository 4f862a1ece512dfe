//! Backups: targets, runs (each an operation), the backups at a target, restore, verify, prune,
//! pause: adapters over kura-api's backups (the same runner the desktop app and the scheduler
//! use).

use axum::http::HeaderMap;
use axum::response::Response;
use kura_api::calls::{self, kinds};
use kura_backup::{LocationKind, RestorePreview, SecretVariable};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{blocking, json, long, St, Wait};
use crate::auth::Scope;
use crate::body::{Json, Path, Query};
use crate::error::{HttpError, HttpResult};
use crate::guard::Caller;

/// Starts a backup of a target now, as an operation (result: RunReport); refused while one
/// runs or while the target rests after repeated failures.
#[utoipa::path(post, path = "/v1/backups/targets/{target}/run", operation_id = "runBackup", tag = "backups", params(("target" = String, Path), Wait),
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
#[utoipa::path(get, path = "/v1/backups/targets/{target}/backups/{backup}/restore-preview", operation_id = "previewBackupRestore", tag = "backups",
    params(("target" = String, Path), ("backup" = String, Path), PreviewQuery),
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
#[utoipa::path(post, path = "/v1/backups/targets/{target}/backups/{backup}/restore", operation_id = "restoreBackup", tag = "backups",
    request_body = RestoreFromBackup, params(("target" = String, Path), ("backup" = String, Path), Wait),
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

/// A prune, or what it would remove.
#[derive(Deserialize, ToSchema)]
pub struct PruneRequest {
    #[serde(default)]
    pub dry_run: bool,
}

/// Removes backups the retention does not keep (admin unless a dry run; result: PruneReport).
#[utoipa::path(post, path = "/v1/backups/targets/{target}/prune", operation_id = "pruneBackups", tag = "backups", request_body = PruneRequest,
    params(("target" = String, Path), Wait),
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
