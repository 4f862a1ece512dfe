//! Request and response bodies: JSON with errors in the API's shape, and byte streams between
//! the engine's blocking readers and writers and the async HTTP bodies.

use std::io::{Read, Write};

use axum::body::{Body, Bytes};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::error::{HttpError, HttpErrorCode};

/// A JSON object as the body; a malformed one, JSON that is not an object (serde would read an
/// array as a struct's fields in order) or an object with a field the request does not take is
/// `invalid_input` (422), a too large one `payload_too_large`.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, HttpError> {
        let JsonValue(value) = JsonValue::from_request(req, state).await?;
        if !value.is_object() {
            return Err(HttpError::invalid(
                "the JSON body must be an object ({...})",
            ));
        }
        object(value).map(Json)
    }
}

/// Reads a JSON object as `T`. A field `T` does not have, at any depth, is refused by name
/// rather than ignored: a misspelt option (`dry-run` for `dry_run`) would otherwise be dropped
/// in silence and the request run without it. One rule for every body; the document says so
/// with `additionalProperties: false`.
fn object<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, HttpError> {
    let mut unknown = None;
    let read: T = serde_ignored::deserialize(value, |path| {
        unknown.get_or_insert_with(|| field_path(&path));
    })
    .map_err(|e| HttpError::invalid(format!("the JSON body is not valid: {e}")))?;
    match unknown {
        None => Ok(read),
        Some(field) => Err(HttpError::invalid(format!(
            "the JSON body has a field this request does not take: `{field}`"
        ))),
    }
}

/// Any JSON value as the body (a record's value).
pub struct JsonValue(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for JsonValue {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, HttpError> {
        match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonValue(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

fn json_rejection(e: JsonRejection) -> HttpError {
    if let JsonRejection::BytesRejection(b) = &e {
        if b.status() != StatusCode::PAYLOAD_TOO_LARGE {
            return unreadable_body(&e);
        }
    }
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        HttpError::new(
            HttpErrorCode::PayloadTooLarge,
            "the request body is larger than this server accepts",
        )
    } else {
        HttpError::invalid(e.body_text())
    }
}

/// The answer for a request body that could not be read as sent: the client's fault (a broken
/// chunked encoding, a body shorter than announced, one that stopped arriving), so 400, or 408
/// when it stopped arriving; never a server error.
pub fn unreadable_body(e: &(dyn std::error::Error + 'static)) -> HttpError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut deepest = e.to_string();
    while let Some(s) = source {
        if s.downcast_ref::<IdleBody>().is_some() {
            return HttpError::new(HttpErrorCode::Timeout, s.to_string());
        }
        deepest = s.to_string();
        source = s.source();
    }
    HttpError::bad_request(format!("the request body could not be read: {deepest}"))
}

/// The error of a request body that stopped arriving.
#[derive(Debug)]
pub struct IdleBody(pub std::time::Duration);

impl std::fmt::Display for IdleBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no byte of the request body arrived for {} s; the request was cut",
            self.0.as_secs()
        )
    }
}

impl std::error::Error for IdleBody {}

/// Where a field is in a body, as a person writes it: `retention.keep_daily`, `ops[2].value`.
fn field_path(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", field_path(parent)),
        Path::Map { parent, key } => match field_path(parent) {
            p if p.is_empty() => key.clone(),
            p => format!("{p}.{key}"),
        },
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => field_path(parent),
    }
}

/// A JSON body that may be left out (then the type's default).
pub fn optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, HttpError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    // `null` is no body too: the document says the body may be left out, and a generated
    // client that has none to send may send `null`.
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| HttpError::invalid(format!("the JSON body is not valid: {e}")))?;
    match value {
        serde_json::Value::Null => Ok(T::default()),
        serde_json::Value::Object(_) => object(value),
        _ => Err(HttpError::invalid(
            "the JSON body must be an object ({...})",
        )),
    }
}

/// The path's parameters; a path that cannot be read (a parameter that is not UTF-8 once
/// decoded) is `bad_request` (400), in the API's error shape like every other error.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => Err(HttpError::bad_request(e.body_text())),
        }
    }
}

/// Query parameters; malformed ones are `invalid_input` (422).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => Err(query_rejection(e)),
        }
    }
}

fn query_rejection(e: QueryRejection) -> HttpError {
    HttpError::invalid(e.body_text())
}

/// How many chunks a stream buffers between the engine's thread and the connection.
const STREAM_CHUNKS: usize = 16;
/// Bytes per chunk sent.
const CHUNK: usize = 64 * 1024;

/// A `Write` on a blocking thread that feeds an HTTP body; writes fail once the client is gone,
/// which stops the engine's work.
pub struct BodyWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl BodyWriter {
    /// A writer and the body it feeds.
    pub fn new() -> (BodyWriter, Body) {
        let (tx, rx) = mpsc::channel(STREAM_CHUNKS);
        let stream = tokio_stream_from(rx);
        (
            BodyWriter {
                tx,
                buf: Vec::with_capacity(CHUNK),
            },
            Body::from_stream(stream),
        )
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

impl Write for BodyWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

impl Drop for BodyWriter {
    fn drop(&mut self) {
        let _ = self.send();
    }
}

fn tokio_stream_from(
    rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// A `Read` on a blocking thread over an HTTP request body, refusing more than `limit` bytes.
pub struct BodyReader {
    rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
    current: Bytes,
    read: u64,
    limit: u64,
    failure: BodyFailure,
}

/// What went wrong reading a request body, when it was the client's fault: the answer to give
/// instead of whatever the engine made of the failed read.
#[derive(Clone, Default)]
pub struct BodyFailure(std::sync::Arc<std::sync::OnceLock<HttpError>>);

impl BodyFailure {
    /// `error`, unless the body failed first: then what the client did wrong.
    pub fn or(&self, error: HttpError) -> HttpError {
        self.0.get().cloned().unwrap_or(error)
    }
}

/// Starts pumping `body` into a [`BodyReader`] (call from async code; read on a blocking thread).
pub fn body_reader(body: Body, limit: u64) -> BodyReader {
    let (tx, rx) = mpsc::channel(STREAM_CHUNKS);
    let failure = BodyFailure::default();
    let failed = failure.clone();
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        while let Some(item) = stream.next().await {
            let item = item.map_err(|e| {
                let _ = failed.0.set(unreadable_body(&e));
                std::io::Error::other(e)
            });
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                break;
            }
        }
    });
    BodyReader {
        rx,
        current: Bytes::new(),
        read: 0,
        limit,
        failure,
    }
}

impl BodyReader {
    /// Where a failure of the client's body is kept (take it before the reader moves away).
    pub fn failure(&self) -> BodyFailure {
        self.failure.clone()
    }
}

/// The start of the message of the error an upload past the server's limit answers.
pub const TOO_LARGE: &str = "the upload is larger than this server accepts (--max-upload)";

/// The answer to an upload past `limit` bytes: 413 `payload_too_large`.
pub fn too_large(limit: u64) -> HttpError {
    HttpError::new(
        crate::error::HttpErrorCode::PayloadTooLarge,
        format!("{TOO_LARGE}: at most {limit} bytes"),
    )
}

impl Read for BodyReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current.split_to(n));
        self.read += n as u64;
        if self.read > self.limit {
            // The client's fault, typed: whatever the engine makes of the failed read, the
            // answer is 413 (see `BodyFailure::or`).
            let _ = self.failure.0.set(too_large(self.limit));
            return Err(std::io::Error::other(TOO_LARGE));
        }
        Ok(n)
    }
}

/// A byte range asked for with `Range: bytes=...` (one range only), resolved against `size`:
/// `Ok(None)` for the whole file, `Err(())` when it cannot be satisfied.
pub fn parse_range(header: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(h) = header else { return Ok(None) };
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        // Several ranges: answered with the whole file, which RFC 9110 allows.
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            (size.saturating_sub(n), size.checked_sub(1).ok_or(())?)
        }
        (s, "") => (s.parse().map_err(|_| ())?, size.checked_sub(1).ok_or(())?),
        (s, e) => {
            let s: u64 = s.parse().map_err(|_| ())?;
            let e: u64 = e.parse().map_err(|_| ())?;
            (s, e.min(size.saturating_sub(1)))
        }
    };
    if start >= size || start > end {
        return Err(());
    }
    Ok(Some((start, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_like_rfc_9110_says() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-3"), 10), Ok(Some((0, 3))));
        assert_eq!(parse_range(Some("bytes=5-"), 10), Ok(Some((5, 9))));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Ok(Some((7, 9))));
        assert_eq!(parse_range(Some("bytes=8-100"), 10), Ok(Some((8, 9))));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=0-0"), 0), Err(()));
    }
}
