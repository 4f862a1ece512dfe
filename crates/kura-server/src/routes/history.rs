//! Versions: snapshot, list, diff, restore; the project folder's own git repository.

use axum::http::HeaderMap;
use axum::response::Response;
use kura_api::calls::{self, kinds};

use super::{long, St, Wait};
use crate::body::Path;
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
