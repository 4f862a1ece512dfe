//! Versions: snapshot, list, diff, restore; the project folder's own git repository.

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use kura_api::calls::{self, kinds};
use kura_core::{Diff, FolderGitCommit, Version};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{blocking, json, long, St, Wait};
use crate::body::Query;
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
