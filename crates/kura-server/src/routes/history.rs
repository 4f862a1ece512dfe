//! Versions: snapshot, list, diff, restore; the project folder's own git repository.

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use kura_api::calls::{self, kinds};
use kura_core::{Diff, FolderGitCommit, FolderGitStatus, RestorePlan, Version};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{blocking, done, json, long, St, Wait};
use crate::body::{Json, Query};
use crate::error::HttpResult;

/// Takes a version of a project (result: SnapshotReport).
#[utoipa::path(post, path = "/v1/projects/{id}/snapshot", operation_id = "snapshotProject", tag = "versions", request_body = Option<kura_api::SnapshotRequest>,
    params(("id" = String, Path), Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: SnapshotReport"),
              (status = 200, body = kura_api::Operation, description = "finished (?wait=true)")))]
pub async fn snapshot(
    st: St,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(w): Query<Wait>,
    body: axum::body::Bytes,
) -> HttpResult<Response> {
    let b: kura_api::SnapshotRequest = crate::body::optional_json(&body)?;
    let project = Some(id.clone());
    long(
        &st,
        &headers,
        &w,
        kinds::snapshot_project,
        project,
        move |a, job| calls::snapshot_project(a, id, b, job),
    )
    .await
}

/// Takes a version of every active project that changed (result: SnapshotReport[]).
#[utoipa::path(post, path = "/v1/snapshot-changed", operation_id = "snapshotChangedProjects", tag = "versions", params(Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: SnapshotReport[]")))]
pub async fn snapshot_changed(
    st: St,
    headers: HeaderMap,
    Query(w): Query<Wait>,
) -> HttpResult<Response> {
    long(
        &st,
        &headers,
        &w,
        kinds::snapshot_changed_projects,
        None,
        calls::snapshot_changed_projects,
    )
    .await
}

#[utoipa::path(get, path = "/v1/projects/{id}/versions", operation_id = "listVersions", tag = "versions", params(("id" = String, Path), kura_api::VersionsRequest),
    responses((status = 200, body = Vec<Version>)))]
pub async fn versions(
    st: St,
    Path(id): Path<String>,
    Query(q): Query<kura_api::VersionsRequest>,
) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| Ok(calls::list_versions(a, id, q)?)).await?,
    ))
}

#[utoipa::path(get, path = "/v1/projects/{id}/diff", operation_id = "diffVersions", tag = "versions", params(("id" = String, Path), kura_api::DiffRequest),
    responses((status = 200, body = Diff)))]
pub async fn diff(
    st: St,
    Path(id): Path<String>,
    Query(q): Query<kura_api::DiffRequest>,
) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| Ok(calls::diff_versions(a, id, q)?)).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// The version the folder would match (id, latest, latest~N).
    #[param(min_length = 1)]
    pub version: String,
}

/// What restoring the project to a version would write and remove, before it runs.
#[utoipa::path(get, path = "/v1/projects/{id}/restore-plan", operation_id = "planRestore", tag = "versions", params(("id" = String, Path), PlanQuery),
    responses((status = 200, body = RestorePlan)))]
pub async fn restore_plan(
    st: St,
    Path(id): Path<String>,
    Query(q): Query<PlanQuery>,
) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| Ok(calls::plan_restore(a, id, q.version)?)).await?,
    ))
}

/// Restores a project or one file (the current state is kept as a version first; result:
/// RestoreReport).
#[utoipa::path(post, path = "/v1/projects/{id}/restore", operation_id = "restoreProject", tag = "versions", request_body = kura_api::RestoreRequest,
    params(("id" = String, Path), Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: RestoreReport")))]
pub async fn restore(
    st: St,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(w): Query<Wait>,
    Json(b): Json<kura_api::RestoreRequest>,
) -> HttpResult<Response> {
    let project = Some(id.clone());
    long(
        &st,
        &headers,
        &w,
        kinds::restore_project,
        project,
        move |a, job| calls::restore_project(a, id, b, job),
    )
    .await
}

#[utoipa::path(get, path = "/v1/projects/{id}/git/status", operation_id = "getGitStatus", tag = "git", params(("id" = String, Path)),
    responses((status = 200, body = FolderGitStatus)))]
pub async fn git_status(st: St, Path(id): Path<String>) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| Ok(calls::get_git_status(a, id)?)).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// At most this many commits (default 20).
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/v1/projects/{id}/git/log", operation_id = "getGitLog", tag = "git", params(("id" = String, Path), LogQuery),
    responses((status = 200, body = Vec<FolderGitCommit>)))]
pub async fn git_log(
    st: St,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| {
            let limit = u32::try_from(q.limit.unwrap_or(20)).unwrap_or(u32::MAX);
            Ok(calls::get_git_log(a, id, limit)?)
        })
        .await?,
    ))
}

/// Makes the project's folder a git repository.
#[utoipa::path(post, path = "/v1/projects/{id}/git/init", operation_id = "initGitRepository", tag = "git", params(("id" = String, Path)),
    responses((status = 200, body = super::Done)))]
pub async fn git_init(st: St, Path(id): Path<String>) -> HttpResult<Response> {
    blocking(&st, move |a| Ok(calls::init_git_repository(a, id)?)).await?;
    Ok(done())
}
