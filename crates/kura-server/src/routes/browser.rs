//! The browser door: a one-time link or a pasted token that opens a session (cookies). The
//! built UI itself is [`super::ui`].

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::St;
use crate::auth::{unauthorized, Scope, Session};
use crate::body::{Json, Query};
use crate::error::{HttpError, HttpErrorCode, HttpResult};
use crate::guard::{failed_attempt, Caller, Client};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// The one-time token of the link `kura serve --open` printed.
    pub token: String,
}

/// Opens a browser session from a one-time link: sets `kura_session` (HttpOnly,
/// SameSite=Strict) and the readable `kura_csrf` cookie, and redirects to `/`. Session requests
/// other than GET need the header `X-Kura-CSRF` equal to the `kura_csrf` cookie.
#[utoipa::path(get, path = "/v1/session", operation_id = "getSession", tag = "browser", security(()), params(SessionQuery),
    responses((status = 303, description = "session opened; to /")))]
pub async fn session(
    st: St,
    headers: HeaderMap,
    Query(q): Query<SessionQuery>,
) -> HttpResult<Response> {
    let Some((id, session)) = st.sessions.open(&q.token) else {
        const WHY: &str = "this sign-in link was used already or is more than ten minutes old (a link works once)";
        // A person followed the link: a page that says what to do, not an API error.
        let browser = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
        if browser {
            let mut res = (StatusCode::UNAUTHORIZED, Html(SPENT_LINK)).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return Ok(res);
        }
        return Err(unauthorized(&format!(
            "{WHY}; run `kura serve link` on the server's machine for a new one"
        )));
    };
    let mut res = StatusCode::SEE_OTHER.into_response();
    let h = res.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static("/"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    set_session_cookies(&mut res, &id, &session)?;
    Ok(res)
}

/// Gives the browser session `id` to the browser that made the request: `kura_session`
/// (HttpOnly, SameSite=Strict), the readable `kura_csrf`, and no caching of the answer.
fn set_session_cookies(res: &mut Response, id: &str, session: &Session) -> HttpResult<()> {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let cookies = [
        format!("kura_session={id}; HttpOnly; SameSite=Strict; Path=/"),
        format!("kura_csrf={}; SameSite=Strict; Path=/", session.csrf),
    ];
    for c in cookies {
        h.append(
            header::SET_COOKIE,
            HeaderValue::from_str(&c).map_err(|e| HttpError::internal(e.to_string()))?,
        );
    }
    Ok(())
}

/// A token pasted in the sign-in page.
// No `Debug`: the token must not reach a log.
#[derive(Deserialize, ToSchema)]
pub struct SignIn {
    /// An API token of this server, as `kura serve token [--scope read|write|admin]` prints it.
    pub token: String,
}

/// A browser session a sign-in opened, or the caller of a request.
#[derive(Serialize, ToSchema)]
pub struct BrowserSession {
    /// The scope of the token it was opened with: what it may do.
    pub scope: Scope,
}

/// Opens a browser session from a pasted API token: the same cookies as a sign-in link, with the
/// token's scope. The token is checked as a bearer token is (constant time; failed attempts
/// from a client are answered later and later); requests from other web pages are refused as
/// everywhere (Origin, `Sec-Fetch-Site`; the JSON body cannot come from a plain form).
#[utoipa::path(post, path = "/v1/session", operation_id = "signIn", tag = "browser", security(()), request_body = SignIn,
    responses(
        (status = 200, description = "signed in: `kura_session` (HttpOnly, SameSite=Strict) and `kura_csrf` are set",
            body = BrowserSession,
            headers(("set-cookie" = String, description = "`kura_session` and `kura_csrf`"))),
        (status = 401, description = "not a token of this server", body = HttpError),
        (status = 403, description = "a request from another web page", body = HttpError)))]
pub async fn sign_in(
    st: St,
    Client(client): Client,
    Json(b): Json<SignIn>,
) -> HttpResult<Response> {
    let scope = st
        .tokens
        .scope_of(b.token.trim())
        .map_err(|e| HttpError::internal(format!("the token file cannot be read: {e}")))?;
    let Some(scope) = scope else {
        let why = unauthorized(
            "that token is not valid for this server (mistyped, or rotated since?); on the computer Kura runs on, `kura serve token` prints the admin token (`--scope read` or `write` for less)",
        );
        return Err(failed_attempt(&st, &client, why).await);
    };
    st.failures.succeeded(&client);
    let (id, session) = st.sessions.start(scope);
    let mut res = axum::Json(BrowserSession { scope }).into_response();
    set_session_cookies(&mut res, &id, &session)?;
    Ok(res)
}

/// Who is calling: the scope of the token or browser session the request carries, so a client
/// (the browser's UI) can offer only what it may do. What each operation needs is in its
/// security requirement.
#[utoipa::path(get, path = "/v1/caller", operation_id = "getCaller", tag = "browser",
    responses((status = 200, body = BrowserSession)))]
pub async fn caller(caller: Caller) -> Response {
    axum::Json(BrowserSession {
        scope: caller.scope,
    })
    .into_response()
}

const SPENT_LINK: &str = "<!doctype html><meta charset=utf-8><title>Kura: sign-in link used</title>\
<meta name=viewport content=\"width=device-width\">\
<main style=\"font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#1d2330\">\
<h1 style=\"font-size:1.4em\">This sign-in link cannot be used</h1>\
<p>It was used already, or it is more than ten minutes old: a link signs in one browser, once.</p>\
<p>For a new link, run this on the machine where <code>kura serve</code> runs, and open what it prints:</p>\
<pre style=\"background:#f1f3f6;padding:.75em 1em;border-radius:6px\">kura serve link</pre>\
<p>Or open <a href=\"/\">Kura</a> and paste a token there (<code>kura serve token</code> prints one).</p>\
<p>A browser that is signed in already keeps its session until the server stops.</p></main>";

/// What asks for a new sign-in link.
#[derive(Deserialize, ToSchema, Default)]
pub struct NewSessionLink {
    /// The scope of the session the link opens (`read`, `write` or `admin`; default `admin`).
    #[serde(default)]
    pub scope: Option<Scope>,
}

/// A one-time sign-in link for a browser.
#[derive(Serialize, ToSchema)]
pub struct SessionLink {
    /// Open this in a browser: it signs that browser in, once.
    pub url: String,
    /// Seconds it stays valid.
    pub expires_in_secs: u64,
    pub scope: Scope,
}

/// Makes a one-time sign-in link for a browser (what `kura serve link` asks for): an `admin`
/// token only, since the session it opens may have any scope. A server on a Unix socket alone
/// cannot be reached by a browser: 409.
#[utoipa::path(post, path = "/v1/session/links", operation_id = "createSignInLink", tag = "browser", request_body = NewSessionLink,
    responses((status = 201, description = "the link", body = SessionLink),
        (status = 403, description = "not an admin token", body = HttpError),
        (status = 409, description = "the server listens on a Unix socket only", body = HttpError)))]
pub async fn new_link(
    st: St,
    headers: HeaderMap,
    Json(b): Json<NewSessionLink>,
) -> HttpResult<Response> {
    if matches!(st.options.bind, crate::Bind::Unix(_)) {
        return Err(HttpError::new(
            HttpErrorCode::Conflict,
            "this server listens on a Unix socket, which a browser cannot reach; start it with `kura serve --listen 127.0.0.1:PORT`",
        ));
    }
    // The guard let this Host through: it is one of the server's own names.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| HttpError::new(HttpErrorCode::BadRequest, "the request has no Host"))?;
    let scope = b.scope.unwrap_or(Scope::Admin);
    let token = st.sessions.new_link(scope);
    let link = SessionLink {
        url: format!("http://{host}/v1/session?token={token}"),
        expires_in_secs: crate::auth::SESSION_LINK_TTL.as_secs(),
        scope,
    };
    Ok((StatusCode::CREATED, axum::Json(link)).into_response())
}
