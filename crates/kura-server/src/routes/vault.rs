//! The vault as a whole: status, health, statistics, settings, quota, verify, gc, cleanup.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use kura_api::calls::{self, kinds};
use kura_api::AppInfo;
use kura_core::{CleanupOptions, CleanupReport, Config, QuotaStatus, Stats, Template};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, json, long, St, Wait};
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

#[utoipa::path(get, path = "/v1/status", operation_id = "getStatus", tag = "vault", responses((status = 200, body = AppInfo)))]
pub async fn status(st: St) -> HttpResult<Response> {
    Ok(json(blocking(&st, |a| Ok(calls::get_status(a)?)).await?))
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

#[utoipa::path(get, path = "/v1/stats", operation_id = "getStats", tag = "vault", responses((status = 200, body = Stats)))]
pub async fn stats(st: St) -> HttpResult<Response> {
    Ok(json(blocking(&st, |a| Ok(calls::get_stats(a)?)).await?))
}

#[utoipa::path(get, path = "/v1/config", operation_id = "getConfig", tag = "vault", responses((status = 200, body = Config)))]
pub async fn config(st: St) -> HttpResult<Response> {
    Ok(json(blocking(&st, |a| Ok(calls::get_config(a)?)).await?))
}

/// One setting to change.
#[derive(Deserialize, ToSchema)]
pub struct SetConfig {
    /// `section.field`, as `kura config set` takes it.
    pub key: String,
    /// The new value, as text.
    pub value: String,
}

/// Changes one setting (admin: settings can move where data goes).
#[utoipa::path(patch, path = "/v1/config", operation_id = "setConfig", tag = "vault", request_body = SetConfig,
    responses((status = 200, body = Config)))]
pub async fn set_config(st: St, Json(b): Json<SetConfig>) -> HttpResult<Response> {
    let c = blocking(&st, move |a| Ok(calls::set_config(a, b.key, b.value)?)).await?;
    Ok(json(c))
}

#[utoipa::path(get, path = "/v1/quota", operation_id = "getQuota", tag = "vault", responses((status = 200, body = QuotaStatus)))]
pub async fn quota(st: St) -> HttpResult<Response> {
    Ok(json(blocking(&st, |a| Ok(calls::get_quota(a)?)).await?))
}

#[utoipa::path(get, path = "/v1/templates", operation_id = "listTemplates", tag = "projects", responses((status = 200, body = Vec<Template>)))]
pub async fn templates(st: St) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, |a| Ok(calls::list_templates(a)?)).await?,
    ))
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

/// Removes chunks no version references (admin; result: GcReport).
#[utoipa::path(post, path = "/v1/gc", operation_id = "collectGarbage", tag = "vault", params(Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: GcReport")))]
pub async fn gc(st: St, headers: HeaderMap, Query(w): Query<Wait>) -> HttpResult<Response> {
    long(&st, &headers, &w, kinds::collect_garbage, None, |a, job| {
        calls::collect_garbage(a, job)
    })
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

#[utoipa::path(get, path = "/v1/cleanup/runs", operation_id = "listCleanupRuns", tag = "cleanup", responses((status = 200, body = Vec<CleanupReport>)))]
pub async fn cleanup_runs(st: St) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, |a| Ok(calls::list_cleanup_runs(a)?)).await?,
    ))
}

/// When the next scheduled cleanup is due (seconds since the epoch), or null.
#[utoipa::path(get, path = "/v1/cleanup/next", operation_id = "getNextCleanup", tag = "cleanup", responses((status = 200, body = Option<i64>)))]
pub async fn next_cleanup(st: St) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, |a| Ok(calls::get_next_cleanup(a)?)).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommandQuery {
    /// What was typed in the command bar.
    pub text: String,
    /// The project on screen (its id), which "snapshot" and "list files" mean alone.
    pub project: Option<String>,
}

/// Reads a command as a person types it ("snapshot shop", "switch to clients", "back up now"):
/// the action, what it would do, why it cannot run, completions. Changes nothing.
#[utoipa::path(get, path = "/v1/command", operation_id = "planCommand", tag = "vault", params(CommandQuery),
    responses((status = 200, body = kura_api::CommandPlan)))]
pub async fn command(st: St, Query(q): Query<CommandQuery>) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| {
            let input = kura_api::CommandInput {
                text: q.text,
                project: q.project,
            };
            Ok(calls::plan_command(a, input)?)
        })
        .await?,
    ))
}
