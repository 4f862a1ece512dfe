//! The routes of `/v1`, grouped by what they concern. Each handler parses its input, calls one
//! function of the service layer or the engine on a blocking thread, and converts the answer.

pub(crate) mod archives;
pub(crate) mod backups;
pub(crate) mod browser;
pub(crate) mod calls;
pub(crate) mod events;
pub(crate) mod files;
pub(crate) mod history;
pub(crate) mod operations;
pub(crate) mod projects;
pub(crate) mod records;
pub(crate) mod shares;
pub(crate) mod ui;
pub(crate) mod vault;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{middleware, Router};
use kura_api::{Api, ApiResult, OpState, Operation};
use kura_core::Job;
use serde::{Deserialize, Serialize};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{HttpError, HttpErrorCode, HttpResult};
use crate::AppState;

pub(crate) type St = axum::extract::State<Arc<AppState>>;

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

/// The routes whose bodies stream (file saves, uploads, archive uploads): no JSON body limit (their
/// own limits apply) and no time limit (a large upload may take longer than any request should).
/// A file's path may hold slashes, which a documented `{path}` cannot say to the router: those
/// routes are documented at `{path}` and routed at `{*path}`.
fn streamed_routes() -> OpenApiRouter<Arc<AppState>> {
    let (schemas, paths, files) = routes!(files::read_file, files::save_file, files::delete_file);
    let mut router = OpenApiRouter::new()
        .route("/v1/projects/{id}/files/{*path}", files)
        .routes(routes!(files::upload))
        .routes(routes!(archives::upload_archive));
    let doc = router.get_openapi_mut();
    doc.paths.paths.extend(paths.paths);
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
    router
}

/// Every other route. Each handler's `#[utoipa::path]` says its method and path once: the router
/// and the OpenAPI document both take them from there.
fn json_routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(vault::health))
        .routes(routes!(vault::openapi))
        .routes(routes!(vault::verify))
        .routes(routes!(vault::cleanup))
        .routes(routes!(projects::list))
        .routes(routes!(projects::tag))
        .routes(routes!(projects::import))
        .routes(routes!(projects::export))
        .routes(routes!(projects::export_stream))
        .routes(routes!(files::rename))
        .routes(routes!(history::snapshot))
        .routes(routes!(
            records::project_collections,
            records::project_batch
        ))
        .routes(routes!(
            records::project_list,
            records::project_query,
            records::project_configure,
            records::project_drop
        ))
        .routes(routes!(
            records::project_get,
            records::project_put,
            records::project_delete
        ))
        .routes(routes!(records::vault_collections, records::vault_batch))
        .routes(routes!(
            records::vault_list,
            records::vault_query,
            records::vault_configure,
            records::vault_drop
        ))
        .routes(routes!(
            records::vault_get,
            records::vault_put,
            records::vault_delete
        ))
        .routes(routes!(shares::prune))
        .routes(routes!(archives::import))
        .routes(routes!(archives::extract))
        .routes(routes!(operations::list))
        .routes(routes!(operations::get, operations::cancel))
        .routes(routes!(events::events))
        .routes(routes!(backups::secret_variables))
        .routes(routes!(backups::start))
        .routes(routes!(backups::restore))
        .routes(routes!(backups::restore_preview))
        .routes(routes!(backups::prune))
        .routes(routes!(browser::session, browser::sign_in))
        .routes(routes!(browser::new_link))
        .routes(routes!(browser::caller))
        .merge(calls::routes())
}

/// The OpenAPI document as pretty JSON (what `docs/api/openapi.json` holds): the routes the
/// server answers, described by `crate::openapi`.
pub fn openapi_json() -> String {
    crate::openapi::document(json_routes().merge(streamed_routes()).into_openapi())
}

/// Every route, behind the guard and the body limits; all but the streamed uploads and
/// downloads also behind the time limit.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    let max_json = state.options.max_json_body;
    let timeout = state.options.request_timeout;
    let (uploads, uploads_doc) = streamed_routes().split_for_parts();
    let (api, api_doc) = json_routes().split_for_parts();
    let access = Arc::new(crate::guard::RouteAccess::of(
        &api_doc.merge_from(uploads_doc),
    ));
    let declared_access = middleware::from_fn_with_state(access, crate::guard::declared_access);
    let uploads = uploads
        .route_layer(declared_access.clone())
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(None, idempotent_requests))
        .layer(DefaultBodyLimit::disable());
    let api = api
        .route_layer(declared_access)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            Some(max_json),
            idempotent_requests,
        ))
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

/// The header that carries, from [`idempotent_requests`] to [`long`], the request an
/// `Idempotency-Key` came with; one a client sends is dropped.
const IDEMPOTENT_REQUEST: &str = "kura-idempotent-request";

/// For a request with an `Idempotency-Key`: notes what the request is, so that the key is
/// refused with another request instead of answering the first one's operation. The request is
/// its method, path and query (without `wait` and `timeout_secs`, which change how it is
/// answered, not what it does) and the BLAKE3 hash of its body; of a streamed upload
/// (`max_body` `None`), its length instead.
async fn idempotent_requests(
    axum::extract::State(max_body): axum::extract::State<Option<usize>>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    parts.headers.remove(IDEMPOTENT_REQUEST);
    if !parts.headers.contains_key("idempotency-key") {
        return next
            .run(axum::extract::Request::from_parts(parts, body))
            .await;
    }
    let query: Vec<&str> = parts
        .uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| {
            let name = p.split('=').next().unwrap_or("");
            !name.is_empty() && name != "wait" && name != "timeout_secs"
        })
        .collect();
    let (body, content) = match max_body {
        Some(max) => match axum::body::to_bytes(body, max).await {
            Ok(bytes) => {
                let hash = blake3::hash(&bytes).to_hex().to_string();
                (axum::body::Body::from(bytes), hash)
            }
            Err(_) => {
                return HttpError::new(
                    HttpErrorCode::PayloadTooLarge,
                    "the request body is larger than this server accepts",
                )
                .into_response()
            }
        },
        None => {
            let length = header_str(&parts.headers, "content-length");
            (
                body,
                format!("length {}", length.as_deref().unwrap_or("unknown")),
            )
        }
    };
    let request = format!(
        "{} {}{}{} {content}",
        parts.method,
        parts.uri.path(),
        if query.is_empty() { "" } else { "?" },
        query.join("&")
    );
    // A path or query is ASCII as it arrives; should one not make a header value, its hash does.
    let value = HeaderValue::from_str(&request).unwrap_or_else(|_| {
        HeaderValue::from_str(blake3::hash(request.as_bytes()).to_hex().as_str())
            .expect("a hex digest is a header value")
    });
    parts.headers.insert(IDEMPOTENT_REQUEST, value);
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
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
    work: impl FnOnce(&Arc<Api>) -> HttpResult<T> + Send + 'static,
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
    work: impl FnOnce(&Arc<Api>, &Job) -> ApiResult<T> + Send + 'static,
) -> HttpResult<Response> {
    let id = header_str(headers, "kura-operation-id");
    let key = header_str(headers, "idempotency-key").map(|key| kura_api::IdempotencyKey {
        key,
        request: header_str(headers, IDEMPOTENT_REQUEST).unwrap_or_default(),
    });
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
