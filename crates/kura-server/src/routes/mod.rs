//! The routes of `/v1`, grouped by what they concern. Each handler parses its input, calls one
//! function of the service layer or the engine on a blocking thread, and converts the answer.

pub(crate) mod archives;
pub(crate) mod backups;
pub(crate) mod browser;
pub(crate) mod events;
pub(crate) mod files;
pub(crate) mod history;
pub(crate) mod operations;
pub(crate) mod projects;
pub(crate) mod records;
pub(crate) mod shares;
pub(crate) mod ui;
pub(crate) mod vault;
pub(crate) mod workspaces;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{middleware, Router};
use kura_api::{Api, ApiResult, OpState, Operation};
use kura_core::Job;
use serde::{Deserialize, Serialize};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::IntoParams;

use crate::error::{HttpError, HttpErrorCode, HttpResult};
use crate::AppState;

pub(crate) type St = axum::extract::State<Arc<AppState>>;

/// Every route, behind the guard and the body limits; all but the streamed uploads and
/// downloads also behind the time limit (a large upload may take longer than any request
/// should).
/// A path of the API asked with a method it does not have: 405 with the error body every other
/// error has (axum adds the `Allow` header).
async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> HttpError {
    HttpError::new(
        crate::error::HttpErrorCode::MethodNotAllowed,
        format!(
            "{} does not answer {method}; the Allow header lists what it answers",
            uri.path()
        ),
    )
}

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let max_json = state.options.max_json_body;
    let timeout = state.options.request_timeout;
    // Uploads stream to disk, so the JSON body limit does not apply; their own limit does.
    let uploads = Router::new()
        .route(
            "/v1/projects/{id}/files/{*path}",
            get(files::read_file)
                .put(files::save_file)
                .delete(files::delete_file),
        )
        .route("/v1/projects/{id}/upload", post(files::upload))
        .route("/v1/archives/upload", post(archives::upload_archive))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::disable());
    let api = Router::new()
        .route("/v1/health", get(vault::health))
        .route("/v1/status", get(vault::status))
        .route("/v1/openapi.json", get(vault::openapi))
        .route("/v1/stats", get(vault::stats))
        .route("/v1/config", get(vault::config).patch(vault::set_config))
        .route("/v1/quota", get(vault::quota))
        .route("/v1/verify", post(vault::verify))
        .route("/v1/gc", post(vault::gc))
        .route("/v1/cleanup", post(vault::cleanup))
        .route("/v1/cleanup/runs", get(vault::cleanup_runs))
        .route("/v1/cleanup/next", get(vault::next_cleanup))
        .route("/v1/templates", get(vault::templates))
        .route("/v1/command", get(vault::command))
        .route("/v1/snapshot-changed", post(history::snapshot_changed))
        .route(
            "/v1/workspaces",
            get(workspaces::list).post(workspaces::create),
        )
        .route(
            "/v1/workspaces/{name}",
            patch(workspaces::rename).delete(workspaces::delete),
        )
        .route("/v1/workspaces/{name}/switch", post(workspaces::switch))
        .route("/v1/projects", get(projects::list).post(projects::create))
        .route("/v1/projects/import", post(projects::import))
        .route(
            "/v1/projects/{id}",
            get(projects::get)
                .patch(projects::edit)
                .delete(projects::delete),
        )
        .route("/v1/projects/{id}/tags", post(projects::tag))
        .route("/v1/projects/{id}/metadata", patch(projects::set_metadata))
        .route("/v1/projects/{id}/trash", post(projects::trash))
        .route("/v1/projects/{id}/untrash", post(projects::untrash))
        .route("/v1/projects/{id}/template", post(projects::save_template))
        .route("/v1/projects/{id}/export", post(projects::export))
        .route(
            "/v1/projects/{id}/export.tar.zst",
            get(projects::export_stream),
        )
        .route("/v1/projects/{id}/files", get(files::list))
        .route("/v1/projects/{id}/preview", get(files::preview))
        .route("/v1/projects/{id}/files-rename", post(files::rename))
        .route("/v1/projects/{id}/snapshot", post(history::snapshot))
        .route("/v1/projects/{id}/versions", get(history::versions))
        .route("/v1/projects/{id}/diff", get(history::diff))
        .route("/v1/projects/{id}/restore", post(history::restore))
        .route("/v1/projects/{id}/restore-plan", get(history::restore_plan))
        .route("/v1/projects/{id}/git/status", get(history::git_status))
        .route("/v1/projects/{id}/git/log", get(history::git_log))
        .route("/v1/projects/{id}/git/init", post(history::git_init))
        .route(
            "/v1/projects/{id}/records",
            get(records::project_collections).post(records::project_batch),
        )
        .route(
            "/v1/projects/{id}/records/{collection}",
            get(records::project_list)
                .post(records::project_query)
                .put(records::project_configure)
                .delete(records::project_drop),
        )
        .route(
            "/v1/projects/{id}/records/{collection}/{key}",
            get(records::project_get)
                .put(records::project_put)
                .delete(records::project_delete),
        )
        .route(
            "/v1/records",
            get(records::vault_collections).post(records::vault_batch),
        )
        .route(
            "/v1/records/{collection}",
            get(records::vault_list)
                .post(records::vault_query)
                .put(records::vault_configure)
                .delete(records::vault_drop),
        )
        .route(
            "/v1/records/{collection}/{key}",
            get(records::vault_get)
                .put(records::vault_put)
                .delete(records::vault_delete),
        )
        .route("/v1/projects/{id}/shares", post(shares::create))
        .route("/v1/shares", get(shares::list))
        .route("/v1/shares/prune", post(shares::prune))
        .route("/v1/shares/{id}", delete(shares::revoke))
        .route("/v1/projects/{id}/archive", post(archives::archive))
        .route("/v1/archives", get(archives::list))
        .route("/v1/archives/unarchive", post(archives::unarchive))
        .route("/v1/archives/import", post(archives::import))
        .route("/v1/archives/cold", post(archives::cold))
        .route("/v1/archives/{archive}/extract", post(archives::extract))
        .route("/v1/archives/{archive}/verify", post(archives::verify))
        .route("/v1/operations", get(operations::list))
        .route(
            "/v1/operations/{id}",
            get(operations::get).delete(operations::cancel),
        )
        .route("/v1/events", get(events::events))
        .route("/v1/backups/status", get(backups::status))
        .route("/v1/backups/pause", post(backups::pause))
        .route("/v1/backups/runs", get(backups::runs))
        .route(
            "/v1/backups/secret-variables",
            get(backups::secret_variables),
        )
        .route("/v1/backups/targets", post(backups::add_target))
        .route(
            "/v1/backups/targets/{name}",
            patch(backups::update_target).delete(backups::remove_target),
        )
        .route(
            "/v1/backups/targets/{name}/test",
            post(backups::test_target),
        )
        .route(
            "/v1/backups/targets/{name}/run",
            post(backups::start).delete(backups::cancel),
        )
        .route(
            "/v1/backups/targets/{name}/backups",
            get(backups::backups_at),
        )
        .route(
            "/v1/backups/targets/{name}/backups/{backup}",
            get(backups::contents),
        )
        .route(
            "/v1/backups/targets/{name}/backups/{backup}/restore",
            post(backups::restore),
        )
        .route(
            "/v1/backups/targets/{name}/backups/{backup}/restore-preview",
            get(backups::restore_preview),
        )
        .route("/v1/backups/targets/{name}/verify", post(backups::verify))
        .route("/v1/backups/targets/{name}/prune", post(backups::prune))
        .route("/v1/session", get(browser::session).post(browser::sign_in))
        .route("/v1/session/links", post(browser::new_link))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_json))
        .layer(middleware::from_fn_with_state(timeout, time_limit));
    Router::new()
        .merge(api)
        .merge(uploads)
        .fallback_service(ui::router(state.options.ui_dir.clone()))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::guard::guard,
        ))
        .layer(middleware::from_fn_with_state(timeout, time_limit))
        .layer(middleware::from_fn_with_state(
            state.options.idle_timeout,
            idle_bodies,
        ))
        // API answers (and errors, the guard's too) are the vault's data as it is now: not kept
        // by a browser or a proxy. The UI's files say otherwise for themselves.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}

/// Every request body fails (408) when no byte of it arrives for the idle timeout while it is
/// read, so a stalled upload ends instead of holding what reads it.
async fn idle_bodies(
    axum::extract::State(idle): axum::extract::State<Duration>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    next.run(req.map(|b| crate::transfer::TimedBody::wrap(b, idle)))
        .await
}

/// Answers `408 timeout` when a handler takes longer than the request time limit (a response
/// already started, like an event stream or a download, is not cut).
async fn time_limit(
    axum::extract::State(limit): axum::extract::State<Duration>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => HttpError::new(
            HttpErrorCode::Timeout,
            format!(
                "the request took longer than {} s; long work runs as an operation (202) instead",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

/// Runs engine work on a blocking thread. (What an archive or a deletion moves aside is removed
/// by the service that moved it, not after every request.)
pub(crate) async fn blocking<T: Send + 'static>(
    st: &AppState,
    work: impl FnOnce(&Api) -> HttpResult<T> + Send + 'static,
) -> HttpResult<T> {
    let api = st.api.clone();
    tokio::task::spawn_blocking(move || work(&api))
        .await
        .map_err(|e| HttpError::internal(format!("the operation stopped unexpectedly: {e}")))?
}

/// `?wait=true&timeout_secs=N` on long operations.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub(crate) struct Wait {
    /// Answer when the operation ends instead of at once with 202: 200 with the operation if
    /// it succeeded, else the error (`{code, message, operation}`) with its status.
    #[serde(default)]
    pub wait: bool,
    /// How long to wait at most (default and maximum: the server's request time limit).
    pub timeout_secs: Option<u64>,
}

/// Starts `work` as a long operation of `kind`: 202 with the operation and its `Location`, or,
/// with `?wait=true`, the finished operation. Honours `Kura-Operation-Id` and `Idempotency-Key`.
pub(crate) async fn long<T: Serialize + 'static>(
    st: &Arc<AppState>,
    headers: &HeaderMap,
    wait: &Wait,
    kind: &str,
    project_id: Option<String>,
    work: impl FnOnce(&Api, &Job) -> ApiResult<T> + Send + 'static,
) -> HttpResult<Response> {
    let id = header_str(headers, "kura-operation-id");
    let key = header_str(headers, "idempotency-key");
    // A project named by name or id is the project's id in the operation (and a missing one
    // answers 404 before anything starts).
    let project_id = match project_id {
        Some(reference) => {
            Some(blocking(st, move |a| Ok(a.vault().project(&reference)?.id)).await?)
        }
        None => None,
    };
    let api = st.api.clone();
    let op = st
        .api
        .operations()
        .start(kind, project_id.as_deref(), id, key, move |job| {
            work(&api, job)
        })?;
    answer_operation(st, op, wait).await
}

/// The answer for an operation that was started (or found): see [`long`].
pub(crate) async fn answer_operation(
    st: &Arc<AppState>,
    op: Operation,
    wait: &Wait,
) -> HttpResult<Response> {
    if !wait.wait {
        let location = format!("/v1/operations/{}", op.id);
        let mut res = (StatusCode::ACCEPTED, axum::Json(op)).into_response();
        if let Ok(v) = HeaderValue::from_str(&location) {
            res.headers_mut().insert(header::LOCATION, v);
        }
        return Ok(res);
    }
    let done = wait_for(st, &op.id, wait).await?;
    Ok(operation_response(done))
}

/// Waits (as `wait` says, within the request time limit) for operation `id` to end, without
/// holding a thread: it looks again at each event (an operation's end is one) and every
/// quarter second.
pub(crate) async fn wait_for(st: &Arc<AppState>, id: &str, wait: &Wait) -> HttpResult<Operation> {
    let limit = st
        .options
        .request_timeout
        .saturating_sub(Duration::from_secs(1));
    let timeout = wait
        .timeout_secs
        .map(Duration::from_secs)
        .unwrap_or(limit)
        .min(limit);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut events = st.api.events().subscribe();
    loop {
        let op = st.api.operations().get(id)?;
        let now = tokio::time::Instant::now();
        if op.state != OpState::Running || now >= deadline {
            return Ok(op);
        }
        let next_look = (now + Duration::from_millis(250)).min(deadline);
        tokio::select! {
            _ = events.recv() => {}
            _ = tokio::time::sleep_until(next_look) => {}
        }
    }
}

/// An operation waited for, as its state calls for: 200 with the operation when it succeeded
/// (202 when the wait ran out first); when it failed or was cancelled, the error every other
/// failure answers (`{code, message}`, with its status), the operation in `operation` and its
/// URL in `Location`.
pub(crate) fn operation_response(op: Operation) -> Response {
    match (&op.state, &op.error) {
        (OpState::Succeeded, _) => (StatusCode::OK, axum::Json(op)).into_response(),
        (OpState::Running, _) => (StatusCode::ACCEPTED, axum::Json(op)).into_response(),
        (_, error) => {
            let location = format!("/v1/operations/{}", op.id);
            let mut e = match error {
                Some(e) => HttpError::from(e.clone()),
                None => HttpError::internal(format!("operation {} ended without a result", op.id)),
            };
            e.operation = Some(Box::new(op));
            let mut res = e.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
    }
}

pub(crate) fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A JSON answer.
pub(crate) fn json<T: Serialize>(value: T) -> Response {
    axum::Json(value).into_response()
}

/// `{}`: done, nothing to say.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Done {
    /// Always true.
    pub ok: bool,
}

pub(crate) fn done() -> Response {
    json(Done { ok: true })
}
