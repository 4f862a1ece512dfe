//! The built UI, served as a web server serves a single-page app: its files from the UI folder
//! (tower-http's `ServeDir`: paths that leave the folder are refused, `Last-Modified` and
//! ranges), `index.html` for every other page, with the window's Content-Security-Policy, cache
//! headers, ETags and compression.
//!
//! Why `ServeDir` and a small ETag layer rather than an embedding crate (`rust-embed`,
//! `memory-serve`, which hash at build time): the UI folder is chosen when the server starts
//! (`--ui DIR`, `KURA_UI_DIR`), not when it is compiled, and `ServeDir` has no ETag. The tag is
//! a hash of what is served, so it changes exactly when the file does, which a size and a
//! modification time in whole seconds (the `Last-Modified` a rebuild may keep) do not promise.

use std::convert::Infallible;
use std::path::PathBuf;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::{HttpError, HttpErrorCode};

/// The policy of the desktop window (`csp` in `tauri.conf.json`) for a page a browser loads
/// from this server: everything from this origin only (`connect-src 'self'` for `fetch` and
/// `EventSource`), images also as `data:` URLs, inline styles (Svelte's `style=` attributes), no
/// scripts but the UI's own files. The window's `ipc:` and `asset:` sources are Tauri's and have
/// no use here. Beyond the window: no framing by other pages (clickjacking), no `<base>` or form
/// that sends elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; connect-src 'self'; \
img-src 'self' data:; style-src 'self' 'unsafe-inline'; base-uri 'self'; form-action 'self'; \
frame-ancestors 'none'";

/// For the files under `/assets/`: Vite puts a hash of the content in their names, so a name
/// never changes content and a browser may keep them for a year without asking.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// For `index.html` (and every page that is it) and the other unhashed files: kept, but asked
/// again (with `If-None-Match`) each time, so a new build is seen on the next load.
const REVALIDATE: &str = "no-cache";

/// Files larger than this are sent without an ETag (revalidated by `Last-Modified` alone) rather
/// than read into memory to be hashed; a built UI has no file near it.
const MAX_TAGGED_BYTES: usize = 32 << 20;

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Kura</title>\
<p>The Kura UI is not built. Build it with <code>npm run build</code> (it goes to <code>ui/dist</code>), \
or point <code>kura serve --ui DIR</code> or <code>KURA_UI_DIR</code> at a built copy. \
The API answers under <code>/v1/</code>.</p>";

/// What answers every request no API route took: the UI in `ui_dir`, or a page that says it is
/// not built; unknown `/v1` paths and methods other than GET and HEAD are 404.
pub(crate) fn router(ui_dir: Option<PathBuf>) -> Router {
    let pages = match ui_dir {
        None => Router::new()
            .fallback(|| async { ([(header::CACHE_CONTROL, REVALIDATE)], Html(NOT_BUILT)) }),
        Some(dir) => {
            // A missing asset is an error, not the app: a page built before may ask for it.
            let assets = ServeDir::new(dir.join("assets")).not_found_service(
                tower::service_fn(|_: Request| async {
                    Ok::<_, Infallible>(
                        HttpError::new(
                            HttpErrorCode::NotFound,
                            "this file is not part of the UI; if the UI was built again since the page opened, reload it",
                        )
                        .into_response(),
                    )
                }),
            );
            let app = ServeDir::new(&dir).fallback(ServeFile::new(dir.join("index.html")));
            Router::new()
                .nest_service(
                    "/assets",
                    ServiceBuilder::new()
                        .layer(cache_control(IMMUTABLE))
                        .service(assets),
                )
                .fallback_service(
                    ServiceBuilder::new()
                        .layer(cache_control(REVALIDATE))
                        .service(app),
                )
                .layer(middleware::from_fn(etag))
                .layer(middleware::map_response(utf8_text))
                .layer(CompressionLayer::new())
        }
    };
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    pages
        .layer(
            ServiceBuilder::new()
                .layer(header(
                    header::CONTENT_SECURITY_POLICY,
                    CONTENT_SECURITY_POLICY,
                ))
                .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .layer(header(header::REFERRER_POLICY, "no-referrer"))
                // For browsers older than `frame-ancestors`.
                .layer(header(header::X_FRAME_OPTIONS, "DENY")),
        )
        .layer(middleware::from_fn(pages_only))
}

/// `Cache-Control: value` on a file that was found (200, 206 or 304), not on a 404.
fn cache_control<B>(
    value: &'static str,
) -> SetResponseHeaderLayer<impl FnMut(&Response<B>) -> Option<HeaderValue> + Clone> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, move |res: &Response<B>| {
        let found = res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED;
        found.then(|| HeaderValue::from_static(value))
    })
}

/// The UI answers GET and HEAD outside `/v1`; the rest is an API error.
async fn pages_only(req: Request, next: Next) -> Response<Body> {
    let path = req.uri().path();
    if path == "/v1" || path.starts_with("/v1/") {
        let msg = format!("there is no endpoint {} {path}", req.method());
        return HttpError::new(HttpErrorCode::NotFound, msg).into_response();
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return HttpError::new(HttpErrorCode::NotFound, "the UI only answers GET").into_response();
    }
    next.run(req).await
}

/// A weak ETag on every whole file (a hash of its bytes, the same for each encoding the
/// compression layer may choose, hence weak), and `304 Not Modified` without a body when
/// `If-None-Match` names it. `If-None-Match` decides alone when it is sent (RFC 9110 §13.2.2):
/// the file service's own `If-Modified-Since` check, good to a second, is not asked.
async fn etag(mut req: Request, next: Next) -> Response<Body> {
    let if_none_match = req.headers_mut().remove(header::IF_NONE_MATCH);
    if if_none_match.is_some() {
        req.headers_mut().remove(header::IF_MODIFIED_SINCE);
    }
    // A HEAD answer carries the tag of the body a GET would have.
    let head = req.method() == Method::HEAD;
    if head {
        *req.method_mut() = Method::GET;
    }
    let res = next.run(req).await;
    let small = res
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|len| len <= MAX_TAGGED_BYTES);
    if res.status() != StatusCode::OK || !small {
        return if head { without_body(res) } else { res };
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_TAGGED_BYTES).await else {
        return HttpError::internal("a file of the UI could not be read").into_response();
    };
    let hash = blake3::hash(&bytes);
    let tag = format!("W/\"{}\"", &hash.to_hex()[..32]);
    let h = &mut parts.headers;
    h.insert(header::ETAG, HeaderValue::from_str(&tag).expect("hex"));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if if_none_match.is_some_and(|v| names(&v, &tag)) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    let body = if head {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    Response::from_parts(parts, body)
}

fn without_body(res: Response<Body>) -> Response<Body> {
    let (parts, _) = res.into_parts();
    Response::from_parts(parts, Body::empty())
}

/// Whether an `If-None-Match` value (`*` or a list of tags) names `tag`, compared weakly.
fn names(if_none_match: &HeaderValue, tag: &str) -> bool {
    let Ok(list) = if_none_match.to_str() else {
        return false;
    };
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    list.split(',')
        .any(|t| t.trim() == "*" || opaque(t) == opaque(tag))
}

/// Text files are UTF-8 (Vite writes them so): says so in their `Content-Type`, which the file
/// service leaves without a charset.
async fn utf8_text(mut res: Response<Body>) -> Response<Body> {
    let h: &mut HeaderMap = res.headers_mut();
    let text = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|t| t.starts_with("text/") && !t.contains("charset"))
        .map(|t| format!("{t}; charset=utf-8"));
    if let Some(v) = text.and_then(|t| HeaderValue::from_str(&t).ok()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    res
}
