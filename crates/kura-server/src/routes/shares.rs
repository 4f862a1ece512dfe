//! Shared links: a version of a project uploaded to an S3 target as a `tar.zst` with a presigned
//! download link; listed, revoked (the shared copy deleted), and the copies of expired ones
//! deleted.

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use kura_api::calls::{self, kinds};
use kura_backup::{Share, ShareOptions};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{blocking, json, long, St, Wait};
use crate::body::{Json, Query};
use crate::error::HttpResult;

/// Uploads a version as a `tar.zst` to an S3 target and makes a download link that works until
/// it expires (result: Share). The shared copy is not encrypted, even on an encrypting target.
#[utoipa::path(post, path = "/v1/projects/{id}/shares", operation_id = "shareProject", tag = "shares", request_body = ShareOptions,
    params(("id" = String, Path), Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: Share")))]
pub async fn create(
    st: St,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(w): Query<Wait>,
    Json(b): Json<ShareOptions>,
) -> HttpResult<Response> {
    let project = id.clone();
    long(
        &st,
        &headers,
        &w,
        kinds::share_project,
        Some(id),
        move |a, job| calls::share_project(a, project, b, job),
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SharesQuery {
    /// Only the shares of this project (a name or an id).
    pub project: Option<String>,
}

/// Shared links, newest first, with whether each still works.
#[utoipa::path(get, path = "/v1/shares", operation_id = "listShares", tag = "shares", params(SharesQuery),
    responses((status = 200, body = Vec<Share>)))]
pub async fn list(st: St, Query(q): Query<SharesQuery>) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| Ok(calls::list_shares(a, q.project)?)).await?,
    ))
}

/// Revokes a shared link: its copy at the target is deleted, so the link stops working.
#[utoipa::path(delete, path = "/v1/shares/{id}", operation_id = "revokeShare", tag = "shares", params(("id" = String, Path)),
    responses((status = 200, body = Share)))]
pub async fn revoke(st: St, Path(id): Path<String>) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| Ok(calls::revoke_share(a, id)?)).await?,
    ))
}

/// Deletes the copies of shared links that have expired (nobody can download them any more);
/// the shares stay listed as expired. `kura serve` also does this every minute.
#[utoipa::path(post, path = "/v1/shares/prune", operation_id = "pruneShares", tag = "shares",
    responses((status = 200, body = kura_api::SharesPruned)))]
pub async fn prune(st: St) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| {
            Ok(kura_api::SharesPruned {
                deleted: a.delete_expired_shares()?,
            })
        })
        .await?,
    ))
}
