//! Turns for streamed uploads and downloads, and the idle limits on bodies: what a client can
//! hold of the server. A transfer that streams takes a turn (a limited number in all and per
//! token, waited for a little, else 503 with `Retry-After`); a request body that stops
//! arriving is cut ([`TimedBody`]), and so is a connection whose client stops taking the
//! response ([`StallGuard`]).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

use crate::body::IdleBody;
use crate::error::{HttpError, HttpErrorCode, HttpResult};
use crate::guard::Caller;
use crate::ServeOptions;

/// The turns: in all, and per token or session.
pub(crate) struct Transfers {
    all: Arc<Semaphore>,
    max_all: usize,
    per_caller: Mutex<HashMap<Arc<str>, Arc<Semaphore>>>,
    max_per_caller: usize,
    wait: Duration,
}

/// A transfer's turn, given back when dropped (when its body ends or its client goes).
pub(crate) struct Turn {
    _all: OwnedSemaphorePermit,
    _mine: OwnedSemaphorePermit,
}

impl Transfers {
    pub(crate) fn new(options: &ServeOptions) -> Transfers {
        let max_all = options.max_transfers.max(1);
        Transfers {
            all: Arc::new(Semaphore::new(max_all)),
            max_all,
            per_caller: Mutex::new(HashMap::new()),
            max_per_caller: options.max_transfers_per_token.max(1),
            wait: options.transfer_queue_wait,
        }
    }

    /// Waits for a turn for `caller` (theirs first, then one of all), at most the queue wait;
    /// then 503 with `Retry-After`.
    pub(crate) async fn turn(&self, caller: &Caller) -> HttpResult<Turn> {
        let mine = {
            let mut map = self.per_caller.lock().unwrap_or_else(|e| e.into_inner());
            // Callers with no transfer running are forgotten.
            map.retain(|_, s| s.available_permits() < self.max_per_caller);
            map.entry(caller.key.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.max_per_caller)))
                .clone()
        };
        let all = self.all.clone();
        let turn = tokio::time::timeout(self.wait, async move {
            let mine = mine.acquire_owned().await.ok()?;
            let all = all.acquire_owned().await.ok()?;
            Some(Turn {
                _all: all,
                _mine: mine,
            })
        })
        .await;
        match turn {
            Ok(Some(t)) => Ok(t),
            _ => {
                let mut e = HttpError::new(
                    HttpErrorCode::Unavailable,
                    format!(
                        "too many uploads and downloads at once ({} per token, {} in all); \
                         try again in a few seconds (see Retry-After)",
                        self.max_per_caller, self.max_all
                    ),
                );
                e.retry_after = Some(self.wait.as_secs().clamp(1, 30));
                Err(e)
            }
        }
    }
}

/// A request body that fails with [`IdleBody`] when no byte arrives for `idle` while it is
/// being read.
pub(crate) struct TimedBody {
    inner: Body,
    idle: Duration,
    timer: Option<Pin<Box<Sleep>>>,
}

impl TimedBody {
    pub(crate) fn wrap(inner: Body, idle: Duration) -> Body {
        Body::new(TimedBody {
            inner,
            idle,
            timer: None,
        })
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.timer = None;
                Poll::Ready(frame)
            }
            Poll::Pending => {
                let idle = this.idle;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(IdleBody(idle))))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection whose writes fail when the client takes nothing for `idle`: a response (a
/// download, an event stream) to a client that stopped reading ends, and so does what fed it.
pub(crate) struct StallGuard<T> {
    io: T,
    idle: Duration,
    timer: Option<Pin<Box<Sleep>>>,
}

impl<T> StallGuard<T> {
    pub(crate) fn new(io: T, idle: Duration) -> StallGuard<T> {
        StallGuard {
            io,
            idle,
            timer: None,
        }
    }

    /// Passes a write's outcome on; a write that waits longer than `idle` fails.
    fn watch<R>(
        &mut self,
        cx: &mut Context<'_>,
        r: Poll<std::io::Result<R>>,
    ) -> Poll<std::io::Result<R>> {
        match r {
            Poll::Ready(r) => {
                self.timer = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let idle = self.idle;
                let timer = self
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("the client took nothing for {} s", idle.as_secs()),
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for StallGuard<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StallGuard<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.watch(cx, r)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.watch(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_flush(cx);
        self.watch(cx, r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_shutdown(cx);
        self.watch(cx, r)
    }
}
