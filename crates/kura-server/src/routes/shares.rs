//! Shared links: a version of a project uploaded to an S3 target as a `tar.zst` with a presigned
//! download link; listed, revoked (the shared copy deleted), and the copies of expired ones
//! deleted.

use axum::response::Response;

use super::{blocking, json, St};
use crate::error::HttpResult;

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
