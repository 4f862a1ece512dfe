//! The browser door: a one-time link that opens a session (cookies), and the built UI.

use std::path::{Component, Path, PathBuf};

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::St;
use crate::auth::unauthorized;
use crate::body::Query;
use crate::error::{HttpError, HttpErrorCode, HttpResult};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// The one-time token of the link `kura serve --open` printed.
    pub token: String,
}

/// Opens a browser session from a one-time link: sets `kura_session` (HttpOnly,
/// SameSite=Strict) and the readable `kura_csrf` cookie, and redirects to `/`. Session requests
/// other than GET need the header `X-Kura-CSRF` equal to the `kura_csrf` cookie.
#[utoipa::path(get, path = "/v1/session", tag = "browser", security(()), params(SessionQuery),
    responses((status = 303, description = "session opened; to /")))]
pub async fn session(st: St, Query(q): Query<SessionQuery>) -> HttpResult<Response> {
    let (id, session) = st.sessions.open(&q.token).ok_or_else(|| {
        unauthorized(
            "this link was used already or is too old; ask `kura serve --open` for a new one",
        )
    })?;
    let mut res = StatusCode::SEE_OTHER.into_response();
    let h = res.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static("/"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
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
    Ok(res)
}

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Kura</title>\
<p>The Kura UI is not built. Build it with <code>npm run build</code> (it goes to <code>ui/dist</code>), \
or point <code>kura serve --ui DIR</code> or <code>KURA_UI_DIR</code> at a built copy. \
The API answers under <code>/v1/</code>.</p>";

/// The built UI: its files, and `index.html` for any other path outside `/v1/`.
pub async fn ui(st: St, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/v1/") || path == "/v1" {
        return HttpError::new(
            HttpErrorCode::NotFound,
            format!("there is no endpoint {} {path}", req.method()),
        )
        .into_response();
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return HttpError::new(HttpErrorCode::NotFound, "the UI only answers GET").into_response();
    }
    let Some(dir) = st.options.ui_dir.clone() else {
        return Html(NOT_BUILT).into_response();
    };
    match tokio::task::spawn_blocking(move || ui_file(&dir, &path)).await {
        Ok(Some((bytes, mime))) => {
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
            h.insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            h.insert("x-frame-options", HeaderValue::from_static("DENY"));
            res
        }
        _ => Html(NOT_BUILT).into_response(),
    }
}

fn ui_file(dir: &Path, path: &str) -> Option<(Vec<u8>, &'static str)> {
    let rel = PathBuf::from(path.trim_start_matches('/'));
    let safe = rel.components().all(|c| matches!(c, Component::Normal(_)));
    let candidate = dir.join(&rel);
    let file = if safe && !path.ends_with('/') && candidate.is_file() {
        candidate
    } else {
        dir.join("index.html")
    };
    let bytes = std::fs::read(&file).ok()?;
    let mime = match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    };
    Some((bytes, mime))
}
