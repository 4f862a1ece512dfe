//! The vault as a whole: status, health, statistics, settings, quota, verify, gc, cleanup.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use kura_api::calls::{self, kinds};
use kura_core::CleanupOptions;
use serde::Serialize;
use utoipa::ToSchema;

use super::{json, long, St, Wait};
use crate::auth::Scope;
use crate::body::{Json, Query};
use crate::error::HttpResult;
use crate::guard::Caller;

/// Whether the server answers.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always "ok" when it answers.
    pub status: String,
    /// Kura's version.
    pub version: String,
}

#[utoipa::path(get, path = "/v1/health", operation_id = "getHealth", tag = "vault", security(()),
    responses((status = 200, body = Health)))]
pub async fn health() -> Response {
    json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

#[utoipa::path(get, path = "/v1/openapi.json", operation_id = "getOpenApi", tag = "vault", security(()),
    responses((status = 200, description = "This API's OpenAPI 3.1 description", body = Object)))]
pub async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        super::openapi_json(),
    )
        .into_response()
}

/// Checks the catalog, histories and chunks (result: VerifyReport).
#[utoipa::path(post, path = "/v1/verify", operation_id = "verifyVault", tag = "vault", request_body = Option<kura_api::VerifyVault>, params(Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: VerifyReport"),
              (status = 200, body = kura_api::Operation, description = "finished (?wait=true)")))]
pub async fn verify(
    st: St,
    headers: HeaderMap,
    Query(w): Query<Wait>,
    body: axum::body::Bytes,
) -> HttpResult<Response> {
    let b: kura_api::VerifyVault = crate::body::optional_json(&body)?;
    let project = b.project.clone();
    long(
        &st,
        &headers,
        &w,
        kinds::verify_vault,
        project,
        move |a, job| calls::verify_vault(a, b, job),
    )
    .await
}

/// Purges the trash, archives idle projects, thins versions, collects chunks (admin unless a
/// dry run; result: CleanupReport).
#[utoipa::path(post, path = "/v1/cleanup", operation_id = "runCleanup", tag = "cleanup", params(Wait), request_body = CleanupOptions,
    responses((status = 202, body = kura_api::Operation, description = "started; result: CleanupReport")))]
pub async fn cleanup(
    st: St,
    caller: Caller,
    headers: HeaderMap,
    Query(w): Query<Wait>,
    Json(opts): Json<CleanupOptions>,
) -> HttpResult<Response> {
    caller.require(if opts.dry_run {
        Scope::Write
    } else {
        Scope::Admin
    })?;
    long(
        &st,
        &headers,
        &w,
        kinds::run_cleanup,
        None,
        move |a, job| calls::run_cleanup(a, opts, job),
    )
    .await
}
