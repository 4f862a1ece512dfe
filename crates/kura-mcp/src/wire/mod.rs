//! The stdio wire: JSON-RPC messages one a line in, one a line out, with limits.
//!
//! rmcp's own stdio transport lets some lines go unanswered: a line that is not JSON or not
//! UTF-8, a message nested deeper than serde's recursion limit, a line over its 16 MiB cap (so a
//! 50 MB `save_file` got nothing back, and saved nothing). A client waits for those forever.
//! Here the lines are read and judged first ([`verdict`]): every request gets an answer, a
//! result from the service or a JSON-RPC error saying what was wrong and which limit it hit;
//! only notifications and responses get none, as JSON-RPC says. What passes goes on to rmcp as a
//! parsed message, through [`WireTransport`].
//!
//! One task writes the output, so the answers written here and rmcp's never mix within a line.
//! At the end of the input, rmcp still sends the answers of the requests running (for up to 5 s)
//! and the output is written to its end before [`serve`] returns.

mod lines;
mod scan;
mod verdict;

use std::future::Future;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use kura_api::Api;
use kura_core::{Error, ErrorKind};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, JsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::{RoleServer, ServiceExt};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::options::{Limits, Options};
use crate::server::KuraMcp;
use lines::{Line, Lines};
use verdict::Verdict;

/// How many parsed messages wait for the service at most (each may be up to
/// [`Limits::max_line_bytes`] long).
const WAITING_MESSAGES: usize = 2;
/// How many lines wait for the output at most.
const WAITING_LINES: usize = 64;
/// How long the output may take to write its last lines once the service has stopped.
const LAST_WRITES: Duration = Duration::from_secs(30);

/// Serves the MCP tools of `api`'s vault over a byte stream, JSON-RPC messages one a line, until
/// `input` ends. This is `kura mcp` with `input` and `output` its stdin and stdout;
/// `options.limits` bound each message.
pub async fn serve<R, W>(api: Arc<Api>, options: Options, input: R, output: W) -> Result<(), Error>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out, out_rx) = mpsc::channel(WAITING_LINES);
    let writer = tokio::spawn(write_lines(output, out_rx));
    let (messages, messages_rx) = mpsc::channel(WAITING_MESSAGES);
    let reader = tokio::spawn(read_lines(input, options.limits, messages, out.clone()));
    let transport = WireTransport {
        messages: messages_rx,
        out,
    };
    let served = async {
        let service = KuraMcp::new(api, options)
            .serve(transport)
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("the MCP client did not start a session: {e}"),
                )
            })?;
        service
            .waiting()
            .await
            .map_err(|e| Error::new(ErrorKind::Internal, format!("the MCP session failed: {e}")))?;
        Ok(())
    }
    .await;
    reader.abort();
    let _ = reader.await;
    // The writer ends when the last sender is gone, after writing what was sent.
    if tokio::time::timeout(LAST_WRITES, writer).await.is_err() {
        tracing::warn!("the last answers were not all written within {LAST_WRITES:?}");
    }
    served
}

/// Serves the MCP tools of `vault` over stdin/stdout until the client closes the connection
/// (see [`crate::serve`]). Blocks; starts its own tokio runtime.
pub fn run_stdio(api: Arc<Api>, options: Options) -> Result<(), Error> {
    if std::io::stdin().is_terminal() {
        eprintln!(
            "kura mcp speaks the Model Context Protocol on stdin and stdout: an MCP client (Claude \
             Desktop, Claude Code, ...) starts it. See docs/src/mcp.md; Ctrl-D ends it."
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot start tokio: {e}")))?;
    let served = runtime.block_on(async move {
        // Non-blocking pipes when the client made them (as MCP clients do), else stdin/stdout.
        let (input, output) = rmcp::transport::stdio_pipes();
        serve(api, options, input, output).await
    });
    // A read of a blocking stdin (a terminal) cannot be cancelled: do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    served
}

/// Reads the input line by line: passes messages on to the service, answers the lines that are
/// not, until the input ends (or the service is gone).
async fn read_lines<R: AsyncRead + Unpin>(
    input: R,
    limits: Limits,
    messages: mpsc::Sender<ClientJsonRpcMessage>,
    out: mpsc::Sender<Vec<u8>>,
) {
    let mut lines = Lines::new(input, limits.max_line_bytes);
    // Until the first request (other than a ping) starts a session, rmcp takes any other
    // message for a broken handshake and ends: those are let be.
    let mut started = false;
    loop {
        let verdict = match lines.next().await {
            Ok(Line::Whole(line)) => verdict::judge(line, &limits),
            Ok(Line::TooLong(start)) => Verdict::Answer(verdict::too_long(start, &limits)),
            Ok(Line::End) => return,
            Err(e) => {
                tracing::error!("cannot read the MCP input: {e}");
                return;
            }
        };
        match verdict {
            Verdict::Pass(message) => {
                match message.as_ref() {
                    JsonRpcMessage::Request(request) => {
                        started |= !matches!(request.request, ClientRequest::PingRequest(_));
                    }
                    _ if !started => {
                        tracing::debug!("a notification or response before the session: let be");
                        continue;
                    }
                    _ => {}
                }
                if messages.send(*message).await.is_err() {
                    return;
                }
            }
            Verdict::Answer(answer) => {
                tracing::debug!(%answer, "answered a line the MCP service cannot take");
                if out.send(line_of(&answer)).await.is_err() {
                    return;
                }
            }
            Verdict::Ignore(why) => tracing::debug!("let a line be: {why}"),
        }
    }
}

/// Writes lines to the output, flushing whenever none is waiting.
async fn write_lines<W: AsyncWrite + Unpin>(mut output: W, mut lines: mpsc::Receiver<Vec<u8>>) {
    while let Some(line) = lines.recv().await {
        let mut written = output.write_all(&line).await;
        if written.is_ok() && lines.is_empty() {
            written = output.flush().await;
        }
        if let Err(e) = written {
            tracing::error!("cannot write the MCP output: {e}");
            return;
        }
    }
    let _ = output.flush().await;
}

/// `value` as a line of output.
fn line_of(value: &impl serde::Serialize) -> Vec<u8> {
    let mut line = serde_json::to_vec(value).expect("a message serializes");
    line.push(b'\n');
    line
}

/// rmcp's side of the wire: the messages [`read_lines`] passed, and the output.
struct WireTransport {
    messages: mpsc::Receiver<ClientJsonRpcMessage>,
    out: mpsc::Sender<Vec<u8>>,
}

impl Transport<RoleServer> for WireTransport {
    type Error = std::io::Error;

    fn send(
        &mut self,
        message: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let line = match &message {
            // JSON-RPC 2.0 §5: an error whose request's id is unknown has `"id": null` (rmcp
            // leaves the id out, as MCP 2026-07-28 allows).
            ServerJsonRpcMessage::Error(error) if error.id.is_none() => {
                let mut value = serde_json::to_value(&message).unwrap_or(Value::Null);
                if let Value::Object(fields) = &mut value {
                    fields.insert("id".into(), Value::Null);
                }
                line_of(&value)
            }
            _ => line_of(&message),
        };
        let out = self.out.clone();
        async move {
            out.send(line).await.map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the MCP output is closed")
            })
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        self.messages.recv().await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.messages.close();
        Ok(())
    }
}
