//! How tools answer: engine calls on the blocking pool, results as JSON, engine errors as tool
//! errors, and long jobs with MCP progress notifications and cancellation.

use std::sync::Arc;

use kura_api::{Api, ApiError, ApiResult, ErrorCode};
use kura_core::{Job, Progress};
use rmcp::model::{CallToolResult, ContentBlock, ProgressNotificationParam};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde::Serialize;

/// What every tool returns: a tool result (success or tool error); `Err` only for protocol
/// failures, which the engine never causes.
pub(crate) type Reply = Result<CallToolResult, ErrorData>;

/// The successful result `value` as JSON: text content for every client, and the same object as
/// structured content.
pub(crate) fn ok(value: impl Serialize) -> Reply {
    match serde_json::to_value(value) {
        Ok(v) => Ok(CallToolResult::structured(v)),
        Err(e) => Ok(error(&ApiError::internal(format!(
            "cannot encode the result: {e}"
        )))),
    }
}

/// A tool error carrying `{ code, message }`.
pub(crate) fn error(e: &ApiError) -> CallToolResult {
    tool_error(e.code.code(), &e.message)
}

/// A tool error with a code of the door's own (`forbidden`) or the engine's: `isError`, and
/// `{code, message}` as the JSON text of its content. It carries no `structuredContent`: that
/// would have to fit the tool's `outputSchema` (clients such as the official TypeScript SDK
/// check it, error or not), and a tool's result is not an error.
pub(crate) fn tool_error(code: &str, message: &str) -> CallToolResult {
    let error = serde_json::json!({ "code": code, "message": message });
    CallToolResult::error(vec![ContentBlock::text(error.to_string())])
}

/// Runs `f` (engine calls: they block) on the blocking pool and answers with its result.
pub(crate) async fn blocking<T, F>(api: &Arc<Api>, f: F) -> Reply
where
    T: Serialize + Send + 'static,
    F: FnOnce(&Arc<Api>) -> ApiResult<T> + Send + 'static,
{
    let api = api.clone();
    answer(tokio::task::spawn_blocking(move || f(&api)).await)
}

/// Like [`blocking`], for long work: the engine's progress goes to the client as
/// `notifications/progress` when the request carried a progress token, and a cancelled request
/// cancels the job (the engine stops at its next safe point and leaves the vault as it was).
pub(crate) async fn long_job<T, F>(api: &Arc<Api>, ctx: &RequestContext<RoleServer>, f: F) -> Reply
where
    T: Serialize + Send + 'static,
    F: FnOnce(&Arc<Api>, &Job) -> ApiResult<T> + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
    let job = match ctx.meta.get_progress_token() {
        Some(_) => Job::with_progress(move |p| {
            let _ = tx.send(p.clone());
        }),
        None => Job::default(),
    };
    let forwarder = ctx.meta.get_progress_token().map(|token| {
        let peer = ctx.peer.clone();
        tokio::spawn(async move {
            let mut scale = Monotonic::default();
            // Only the newest update of each burst is sent: the engine may report per chunk.
            while let Some(mut p) = rx.recv().await {
                while let Ok(newer) = rx.try_recv() {
                    p = newer;
                }
                let Some((progress, total)) = scale.next(&p) else {
                    continue;
                };
                let mut n = ProgressNotificationParam::new(token.clone(), progress)
                    .with_message(progress_message(&p));
                if let Some(total) = total {
                    n = n.with_total(total);
                }
                if peer.notify_progress(n).await.is_err() {
                    break;
                }
            }
        })
    });
    let canceller = {
        let ct = ctx.ct.clone();
        let job = job.clone();
        tokio::spawn(async move {
            ct.cancelled().await;
            job.cancel();
        })
    };
    let api = api.clone();
    let result = tokio::task::spawn_blocking(move || f(&api, &job)).await;
    canceller.abort();
    // Dropped with its clone of the job, so the progress channel closes.
    let _ = canceller.await;
    if let Some(forwarder) = forwarder {
        // The job (and its sender) is gone: the forwarder sends what is left and ends.
        let _ = forwarder.await;
    }
    answer(result)
}

fn progress_message(p: &Progress) -> String {
    let total = p.total.map(|t| format!("/{t}")).unwrap_or_default();
    let item = p
        .item
        .as_deref()
        .map(|i| format!(" ({i})"))
        .unwrap_or_default();
    format!("{}: {}{total} {}{item}", p.phase, p.done, p.unit)
}

/// MCP wants the progress value to increase with every notification, but the engine counts
/// again from zero in each phase (files scanned, then bytes stored, ...): the phases are laid end
/// to end, and an update that would not move forward is not sent.
#[derive(Default)]
struct Monotonic {
    phase: &'static str,
    /// Where the current phase starts.
    base: f64,
    /// The current phase's count so far.
    done: f64,
    /// The last value sent.
    sent: Option<f64>,
}

impl Monotonic {
    /// The value (and total, when known) to send for `p`, or `None` to skip it.
    fn next(&mut self, p: &Progress) -> Option<(f64, Option<f64>)> {
        let done = p.done as f64;
        if p.phase != self.phase || done < self.done {
            self.base += self.done;
            self.phase = p.phase;
        }
        self.done = done;
        let value = self.base + done;
        if self.sent.is_some_and(|sent| value <= sent) {
            return None;
        }
        self.sent = Some(value);
        Some((value, p.total.map(|t| self.base + t as f64)))
    }
}

fn answer<T: Serialize>(result: Result<ApiResult<T>, tokio::task::JoinError>) -> Reply {
    match result {
        Ok(Ok(value)) => ok(value),
        Ok(Err(e)) => Ok(error(&e)),
        Err(e) => Ok(error(&ApiError::new(
            ErrorCode::Internal,
            format!("the operation failed unexpectedly: {e}"),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(phase: &'static str, done: u64, total: Option<u64>) -> Progress {
        Progress {
            phase,
            done,
            total,
            unit: "files",
            item: None,
        }
    }

    #[test]
    fn progress_only_moves_forward_across_phases() {
        let mut scale = Monotonic::default();
        assert_eq!(scale.next(&update("scanning", 0, None)), Some((0.0, None)));
        assert_eq!(scale.next(&update("scanning", 0, None)), None);
        assert_eq!(
            scale.next(&update("scanning", 40, None)),
            Some((40.0, None))
        );
        assert_eq!(
            scale.next(&update("storing", 10, Some(100))),
            Some((50.0, Some(140.0)))
        );
        assert_eq!(
            scale.next(&update("storing", 100, Some(100))),
            Some((140.0, Some(140.0)))
        );
        assert_eq!(
            scale.next(&update("committing", 0, Some(3))),
            None,
            "a new phase at zero does not move"
        );
        assert_eq!(
            scale.next(&update("committing", 3, Some(3))),
            Some((143.0, Some(143.0)))
        );
    }
}
