//! The HTTP client under S3 targets: reqwest with a connect timeout and a bound on each request,
//! and a watch on every request for silence: when no byte of it moves, sent or received, for the
//! io timeout, it fails. A server that accepts connections and never answers, or that stops in
//! the middle of an upload, then ends the call with [`TimedOut`] instead of hanging.

use std::future::Future as _;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use kura_core::NetworkConfig;
use opendal::raw::{parse_content_encoding, parse_content_length, HttpBody, HttpFetch};
use opendal::Buffer;
use tokio::time::{Instant, Sleep};

/// Request bodies are handed to the connection in pieces of this size, each counting as bytes
/// that moved.
const BODY_PIECE: usize = 64 << 10;

/// The time limits of calls to a target, from the `[network]` settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeouts {
    /// For a connection to be accepted.
    pub connect: Duration,
    /// Without a byte moving.
    pub io: Duration,
    /// For one request in all (and an upload's retries after its first failure).
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts::from(&NetworkConfig::default())
    }
}

impl From<&NetworkConfig> for Timeouts {
    fn from(c: &NetworkConfig) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(c.connect_timeout_secs),
            io: Duration::from_secs(c.io_timeout_secs),
            operation: Duration::from_secs(c.operation_timeout_secs),
        }
    }
}

/// Which limit passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimedOut {
    /// No connection within the connect timeout.
    Connect(Duration),
    /// Nothing moved for the io timeout.
    Silent(Duration),
    /// The request took longer than the operation timeout.
    Operation(Duration),
}

impl TimedOut {
    /// "did not answer within 10 s", for messages.
    pub fn describe(self) -> String {
        match self {
            TimedOut::Connect(d) => format!("did not accept a connection within {} s", d.as_secs()),
            TimedOut::Silent(d) => format!("did not answer within {} s", d.as_secs()),
            TimedOut::Operation(d) => format!(
                "did not finish a request within {} s (network.operation_timeout_secs)",
                d.as_secs()
            ),
        }
    }

    /// The [`TimedOut`] behind an OpenDAL error, if one is.
    pub fn find(e: &opendal::Error) -> Option<TimedOut> {
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            if let Some(t) = s.downcast_ref::<TimedOut>() {
                return Some(*t);
            }
            source = s.source();
        }
        None
    }

    fn into_opendal(self, url: &str) -> opendal::Error {
        opendal::Error::new(opendal::ErrorKind::Unexpected, "the server timed out")
            .with_context("url", url)
            .set_temporary()
            .set_source(self)
    }
}

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the server {}", self.describe())
    }
}

impl std::error::Error for TimedOut {}

/// Makes ring the process's TLS cryptography: reqwest is built without one (see Cargo.toml),
/// and OpenDAL makes a client of its own as any storage opens, a folder's too. A provider the
/// program installed before stays.
pub(crate) fn use_ring_for_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The client OpenDAL's S3 service sends its requests through.
pub(crate) struct TimedClient {
    client: reqwest::Client,
    timeouts: Timeouts,
}

impl TimedClient {
    pub fn new(timeouts: Timeouts) -> Result<TimedClient, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.operation)
            .build()?;
        Ok(TimedClient { client, timeouts })
    }

    fn error(&self, e: reqwest::Error, url: &str, what: &'static str) -> opendal::Error {
        if e.is_timeout() {
            let t = if e.is_connect() {
                TimedOut::Connect(self.timeouts.connect)
            } else {
                TimedOut::Operation(self.timeouts.operation)
            };
            return t.into_opendal(url);
        }
        let temporary = e.is_request() || e.is_body() || e.is_decode() || e.is_connect();
        opendal::Error::new(opendal::ErrorKind::Unexpected, what)
            .with_context("url", url)
            .with_temporary(temporary)
            .set_source(e)
    }
}

impl HttpFetch for TimedClient {
    async fn fetch(&self, req: http::Request<Buffer>) -> opendal::Result<http::Response<HttpBody>> {
        // The response carries the request's uri (OpenDAL reads it from there).
        let uri = req.uri().clone();
        let url = uri.to_string();
        let is_head = req.method() == http::Method::HEAD;
        let (parts, body) = req.into_parts();
        let target = reqwest::Url::from_str(&url).map_err(|e| {
            opendal::Error::new(opendal::ErrorKind::Unexpected, "request url is invalid")
                .with_context("url", &url)
                .set_source(e)
        })?;
        let moved = Arc::new(LastMove::new());
        let mut request = self
            .client
            .request(parts.method, target)
            .headers(parts.headers)
            .version(parts.version);
        if !body.is_empty() {
            request = request.body(reqwest::Body::wrap(WatchedBody::new(body, moved.clone())));
        }
        let io = self.timeouts.io;
        let mut resp = tokio::select! {
            r = request.send() => r.map_err(|e| self.error(e, &url, "send http request"))?,
            () = moved.silence(io) => return Err(TimedOut::Silent(io).into_opendal(&url)),
        };
        let content_length = if is_head || parse_content_encoding(resp.headers())?.is_some() {
            None
        } else {
            parse_content_length(resp.headers())?
        };
        let mut out = http::Response::builder()
            .status(resp.status())
            .version(resp.version())
            .extension(uri);
        if let Some(headers) = out.headers_mut() {
            std::mem::swap(headers, resp.headers_mut());
        }
        let operation = self.timeouts.operation;
        let stream = WatchedStream {
            inner: Box::pin(resp.bytes_stream()),
            io,
            timer: Box::pin(tokio::time::sleep(io)),
            waiting: false,
            url: url.clone(),
            operation,
        };
        out.body(HttpBody::new(stream, content_length))
            .map_err(|e| {
                opendal::Error::new(opendal::ErrorKind::Unexpected, "cannot build the response")
                    .set_source(e)
            })
    }
}

/// When a byte of a request last moved, in milliseconds since the request started.
struct LastMove {
    start: Instant,
    at_ms: AtomicU64,
}

impl LastMove {
    fn new() -> LastMove {
        LastMove {
            start: Instant::now(),
            at_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.at_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// Returns once nothing has moved for `io`.
    async fn silence(&self, io: Duration) {
        loop {
            let last = self.start + Duration::from_millis(self.at_ms.load(Ordering::Relaxed));
            let deadline = last + io;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// A request body handed out in [`BODY_PIECE`]s; each piece taken by the connection counts as
/// movement.
struct WatchedBody {
    pieces: std::collections::VecDeque<Bytes>,
    left: u64,
    moved: Arc<LastMove>,
}

impl WatchedBody {
    fn new(body: Buffer, moved: Arc<LastMove>) -> WatchedBody {
        let mut pieces = std::collections::VecDeque::new();
        let left = body.len() as u64;
        for chunk in body {
            let mut at = 0;
            while at < chunk.len() {
                let end = (at + BODY_PIECE).min(chunk.len());
                pieces.push_back(chunk.slice(at..end));
                at = end;
            }
        }
        WatchedBody {
            pieces,
            left,
            moved,
        }
    }
}

impl http_body::Body for WatchedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.moved.touch();
        match self.pieces.pop_front() {
            Some(piece) => {
                self.left -= piece.len() as u64;
                Poll::Ready(Some(Ok(http_body::Frame::data(piece))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.left)
    }
}

/// A response body that fails when no data comes for the io timeout while it is being read.
struct WatchedStream<S> {
    inner: Pin<Box<S>>,
    io: Duration,
    timer: Pin<Box<Sleep>>,
    /// Whether a read is waiting (the timer runs only then).
    waiting: bool,
    url: String,
    operation: Duration,
}

impl<S> Stream for WatchedStream<S>
where
    S: Stream<Item = reqwest::Result<Bytes>>,
{
    type Item = opendal::Result<Buffer>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if !this.waiting {
            this.waiting = true;
            this.timer.as_mut().reset(Instant::now() + this.io);
        }
        loop {
            return match this.inner.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(b))) if b.is_empty() => continue,
                Poll::Ready(item) => {
                    this.waiting = false;
                    Poll::Ready(item.map(|r| {
                        r.map(Buffer::from).map_err(|e| {
                            if e.is_timeout() {
                                TimedOut::Operation(this.operation).into_opendal(&this.url)
                            } else {
                                opendal::Error::new(
                                    opendal::ErrorKind::Unexpected,
                                    "read data from http response",
                                )
                                .with_context("url", &this.url)
                                .set_temporary()
                                .set_source(e)
                            }
                        })
                    }))
                }
                Poll::Pending => match this.timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.waiting = false;
                        Poll::Ready(Some(Err(TimedOut::Silent(this.io).into_opendal(&this.url))))
                    }
                    Poll::Pending => Poll::Pending,
                },
            };
        }
    }
}
