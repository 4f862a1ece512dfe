//! The checks every request passes before a handler sees it: the Host allow-list (DNS
//! rebinding), Origin and `Sec-Fetch-Site` (other sites in a browser), CORS only for configured
//! origins, then the caller: a bearer token or a session cookie with its CSRF header.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use kura_api::catalog::{Access, Declared};

use crate::auth::{self, Scope};
use crate::error::{HttpError, HttpErrorCode, HttpResult};
use crate::AppState;

/// Who is calling, as the guard found out.
#[derive(Clone, Debug)]
pub struct Caller {
    pub scope: Scope,
    /// The token or browser session this caller presented: what per-caller limits count by.
    pub key: Arc<str>,
}

impl Caller {
    /// Refuses with 403 unless the caller's scope allows `need`.
    pub fn require(&self, need: Scope) -> HttpResult<()> {
        auth::require(self.scope, need)
    }

    /// Refuses with 403 unless an admin calls: a path on the server's machine (a file to copy
    /// in, a folder to import, export, extract or restore to) reaches past the vault, to
    /// whatever the server's user may read or write. `field` is the request's field that names
    /// it.
    pub fn require_server_paths(&self, field: &str) -> HttpResult<()> {
        if self.scope >= Scope::Admin {
            return Ok(());
        }
        Err(HttpError::forbidden(format!(
            "'{field}' is a path on the server's machine, which only an admin token may name \
             (this one is '{}'); send the files in the request body instead, or use \
             `kura serve token --scope admin`",
            self.scope.as_str()
        )))
    }
}

impl Caller {
    /// The path on the server's machine that the request names in `field`, when an admin calls
    /// (see [`Caller::require_server_paths`]) and it is absolute: a relative path would be read
    /// against wherever the server was started, which a client cannot know.
    pub fn server_path(&self, field: &str, path: &str) -> HttpResult<std::path::PathBuf> {
        self.require_server_paths(field)?;
        let path = std::path::PathBuf::from(path);
        if !path.is_absolute() {
            return Err(HttpError::invalid(format!(
                "'{field}' must be an absolute path on the server's machine (starting with /), not '{}'",
                path.display()
            )));
        }
        Ok(path)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, HttpError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| auth::unauthorized("this needs a token"))
    }
}

/// Paths anyone who reached the server may ask for (still behind the Host and Origin checks):
/// the health check, the document, the UI, and signing in (with a link, or a token in the body).
/// HEAD is GET without the body, so what GET may read, HEAD may too.
fn is_public(method: &Method, path: &str) -> bool {
    match *method {
        Method::GET | Method::HEAD => {
            path == "/v1/health"
                || path == "/v1/openapi.json"
                || path == "/v1/session"
                || !path.starts_with("/v1/")
        }
        Method::POST => path == "/v1/session",
        _ => false,
    }
}

/// Who failed attempts are counted against: the client's IP address (`local` over the Unix
/// socket).
fn client_key(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".to_string())
}

/// The client a request came from, as failed attempts are counted (see [`failed_attempt`]).
pub struct Client(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Client, Self::Rejection> {
        Ok(Client(client_key(&parts.extensions)))
    }
}

/// A wrong or missing token from `client`: `refusal`, answered only after a delay that grows
/// with each failure from that client (and, more gently, from everyone).
pub async fn failed_attempt(state: &AppState, client: &str, refusal: HttpError) -> HttpError {
    let delay = state.failures.failed(client);
    tokio::time::sleep(delay).await;
    refusal
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The guard, as an axum middleware: the host, the site the request comes from, a CORS
/// preflight, then the caller; the handler's answer gets the CORS headers of a configured
/// origin.
pub async fn guard(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    if let Err(refusal) = check_host(&state, req.headers()) {
        return refusal.into_response();
    }
    let cors_origin = match check_site(&state, req.headers()) {
        Ok(cors_origin) => cors_origin,
        Err(refusal) => return refusal.into_response(),
    };
    // CORS preflight, for configured origins only.
    if req.method() == Method::OPTIONS {
        let Some(o) = cors_origin else {
            return HttpError::forbidden("no CORS is configured for this origin").into_response();
        };
        let mut res = StatusCode::NO_CONTENT.into_response();
        add_cors(res.headers_mut(), &o);
        return res;
    }
    if let Err(refusal) = admit_caller(&state, &mut req).await {
        return refusal.into_response();
    }
    let mut res = next.run(req).await;
    if let Some(o) = cors_origin {
        add_cors(res.headers_mut(), &o);
    }
    res
}

/// The Host: exactly one of ours, or the request was meant for another name (rebinding). Two
/// Host headers are a request that means two things to two readers: refused whatever they say.
fn check_host(state: &AppState, headers: &HeaderMap) -> HttpResult<()> {
    if headers.get_all(header::HOST).iter().nth(1).is_some() {
        return Err(HttpError::bad_request(
            "the request has more than one Host header",
        ));
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let host_ok = match host {
        Some(h) => state.doors.hosts.iter().any(|a| a.eq_ignore_ascii_case(h)),
        None => state.doors.allow_missing_host,
    };
    if !host_ok {
        return Err(HttpError::new(
            HttpErrorCode::Misdirected,
            format!(
                "this server does not answer to host '{}' (it answers to {})",
                host.unwrap_or(""),
                state.doors.hosts.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The site the request comes from: an Origin of our own or one configured for CORS (anything
/// else is another site), and no browser saying it comes from another site. The origin
/// configured for CORS, if it is one.
fn check_site(state: &AppState, headers: &HeaderMap) -> HttpResult<Option<String>> {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_string);
    let cors_origin = origin
        .as_deref()
        .filter(|o| state.doors.cors_origins.iter().any(|c| c == o))
        .map(str::to_string);
    if let Some(o) = origin.as_deref() {
        let own = state.doors.hosts.iter().any(|h| {
            o.eq_ignore_ascii_case(&format!("http://{h}"))
                || o.eq_ignore_ascii_case(&format!("https://{h}"))
        });
        if !own && cors_origin.is_none() {
            return Err(HttpError::forbidden(format!(
                "requests from the web page at {o} are refused (not this server's own origin)"
            )));
        }
    }
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"));
    if cross_site && cors_origin.is_none() {
        return Err(HttpError::forbidden("cross-site requests are refused"));
    }
    Ok(cors_origin)
}

/// The caller: a token or a session whose scope allows the request (put in the request for
/// the handlers), or none on a public path. A wrong or missing one is answered after the
/// failed attempt's delay.
async fn admit_caller(state: &AppState, req: &mut Request) -> HttpResult<()> {
    let path = req.uri().path().to_string();
    let public = is_public(req.method(), &path);
    let client = client_key(req.extensions());
    let caller = match identify(state, req.headers(), req.method()) {
        Ok(c) => c,
        Err(e) if e.code == HttpErrorCode::Unauthorized && public => None,
        Err(e) if e.code == HttpErrorCode::Unauthorized => {
            return Err(failed_attempt(state, &client, e).await);
        }
        Err(e) => return Err(e),
    };
    match caller {
        Some(c) => {
            state.failures.succeeded(&client);
            // What the caller may ask is the route's to say, from its operation's declaration
            // (`declared_access`); signing in is open to anyone, whatever session it replaces.
            req.extensions_mut().insert(c);
        }
        None if public => {}
        None => {
            let e = auth::unauthorized(
                "this needs 'Authorization: Bearer <token>' (see `kura serve token`)",
            );
            return Err(failed_attempt(state, &client, e).await);
        }
    }
    Ok(())
}

fn add_cors(headers: &mut HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "authorization, content-type, idempotency-key, kura-operation-id, last-event-id, range",
        ),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("location, content-range"),
    );
}

/// The caller from a bearer token or a session cookie (`None`: neither was presented).
fn identify(state: &AppState, headers: &HeaderMap, method: &Method) -> HttpResult<Option<Caller>> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let presented = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                auth::unauthorized("the Authorization header is not 'Bearer <token>'")
            })?;
        let scope = state
            .tokens
            .scope_of(presented)
            .map_err(|e| HttpError::internal(format!("the token file cannot be read: {e}")))?
            .ok_or_else(|| auth::unauthorized("this token is not valid (rotated or mistyped?)"))?;
        return Ok(Some(Caller {
            scope,
            key: Arc::from(format!("token:{presented}")),
        }));
    }
    if let Some(id) = cookie(headers, "kura_session") {
        let session = state
            .sessions
            .get(id)
            .ok_or_else(|| auth::unauthorized("this browser session ended; open a new link"))?;
        if !matches!(*method, Method::GET | Method::HEAD) {
            let sent = headers.get("x-kura-csrf").and_then(|v| v.to_str().ok());
            let cookie_csrf = cookie(headers, "kura_csrf");
            let ok = match (sent, cookie_csrf) {
                (Some(s), Some(c)) => {
                    use subtle::ConstantTimeEq;
                    s == c && bool::from(s.as_bytes().ct_eq(session.csrf.as_bytes()))
                }
                _ => false,
            };
            if !ok {
                return Err(HttpError::forbidden(
                    "a browser request that changes something needs the X-Kura-CSRF header",
                ));
            }
        }
        return Ok(Some(Caller {
            scope: session.scope,
            key: Arc::from(format!("session:{id}")),
        }));
    }
    Ok(None)
}

/// What each route's operation needs of its caller, by method and documented path, from what
/// the service declares the operation does ([`kura_api::catalog::Declared::access`]): reading
/// needs `read`, changing `write`, and destroying what nothing else holds, setting up the vault
/// or the server, or its upkeep `admin`. The MCP door hides and refuses its tools by the same
/// declarations. A handler asks for more where the request says so (a path on the server's
/// machine, a batch that deletes, a cleanup or prune that is not a dry run).
pub(crate) struct RouteAccess(std::collections::HashMap<(Method, String), &'static Declared>);

impl RouteAccess {
    /// The operations of the routes `doc` documents.
    pub(crate) fn of(doc: &utoipa::openapi::OpenApi) -> RouteAccess {
        let mut map = std::collections::HashMap::new();
        for (path, item) in &doc.paths.paths {
            let methods = [
                (Method::GET, &item.get),
                (Method::PUT, &item.put),
                (Method::POST, &item.post),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
            ];
            for (method, op) in methods {
                let declared = op
                    .as_ref()
                    .and_then(|op| op.operation_id.as_deref())
                    .and_then(|id| {
                        kura_api::catalog::OPERATIONS
                            .iter()
                            .find(|d| d.operation_id() == id)
                    });
                if let Some(d) = declared {
                    map.insert((method, path.clone()), d);
                }
            }
        }
        RouteAccess(map)
    }

    /// The operation of `method` on the route documented (or routed, `{*path}`) as `route`.
    fn declared(&self, method: &Method, route: &str) -> Option<&'static Declared> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.0
            .get(&(method.clone(), route.replace("{*", "{")))
            .copied()
    }
}

/// The scope a caller needs for `need`.
pub(crate) fn scope_for(need: Access) -> Scope {
    match need {
        Access::Read => Scope::Read,
        Access::Write => Scope::Write,
        Access::Admin => Scope::Admin,
    }
}

/// Refuses (403) a caller whose scope is less than the route's operation needs (see
/// [`RouteAccess`]); a route no declared operation documents is refused to all but an admin.
/// Public routes are let through: the guard has decided them (signing in is open to anyone,
/// whatever session it replaces).
pub(crate) async fn declared_access(
    State(access): State<Arc<RouteAccess>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(caller) = req.extensions().get::<Caller>() else {
        return next.run(req).await;
    };
    if is_public(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let (need, why) = match access.declared(req.method(), &route) {
        Some(d) => {
            let need = d.dry_run_access();
            let why = match d.admin_only {
                _ if need < Access::Admin => String::new(),
                Some(why) => format!("{}: {why}", d.operation_id()),
                None => format!(
                    "{} can remove what no version holds, which is an admin's",
                    d.operation_id()
                ),
            };
            (scope_for(need), why)
        }
        None => (Scope::Admin, format!("{route} is not a declared operation")),
    };
    if caller.scope >= need {
        return next.run(req).await;
    }
    let message = format!(
        "this needs a token of scope '{}'; this one is '{}'{}{} (see `kura serve token --scope {}`)",
        need.as_str(),
        caller.scope.as_str(),
        if why.is_empty() { "" } else { ". " },
        why,
        need.as_str()
    );
    HttpError::forbidden(message).into_response()
}
