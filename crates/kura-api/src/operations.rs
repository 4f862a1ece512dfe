//! Long operations: each runs on a thread of its own, reports progress (also as
//! `operation.progress` events), can be cancelled, and leaves a result to wait for. A retried
//! request with the same idempotency key gets the operation the first one started.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kura_core::{Job, Progress};
use serde::Serialize;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::events::Events;

/// How many finished operations are remembered (and their idempotency keys).
pub const OPERATIONS_KEPT: usize = 256;

/// Least time between two `operation.progress` events of one operation.
const PROGRESS_EVENT_INTERVAL: Duration = Duration::from_millis(250);

/// Where an operation is.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OpState {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// A long operation, as a door shows it.
#[derive(Serialize, Debug, Clone)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Operation {
    /// Its id (the caller's, or one made up).
    pub id: String,
    /// What it does: `snapshot`, `archive`, `backup`, ...
    pub kind: String,
    /// The project it works on, if one.
    pub project_id: Option<String>,
    pub state: OpState,
    /// The latest progress report.
    pub progress: Option<Progress>,
    /// Seconds left, estimated from the progress so far.
    pub eta_secs: Option<f64>,
    /// When it started and ended, in milliseconds since the Unix epoch.
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// What it produced, when it succeeded.
    pub result: Option<serde_json::Value>,
    /// Why it failed or stopped.
    pub error: Option<ApiError>,
}

struct Entry {
    op: Operation,
    job: Job,
    started: Instant,
    progress_sent: Option<Instant>,
}

#[derive(Default)]
struct Inner {
    ops: HashMap<String, Entry>,
    finished: VecDeque<String>,
    keys: HashMap<String, String>,
}

/// The operations of this process.
pub struct Operations {
    events: Arc<Events>,
    inner: Mutex<Inner>,
    ended: Condvar,
    counter: AtomicU64,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Whether `id` may name an operation: 1 to 64 of `A-Z a-z 0-9 - _ .`.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

impl Operations {
    pub fn new(events: Arc<Events>) -> Operations {
        Operations {
            events,
            inner: Mutex::default(),
            ended: Condvar::new(),
            counter: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts `work` as operation `kind` on a thread of its own and returns it at once.
    /// - `id`: the caller's id for it (the UI's job id), or `None` to make one up;
    /// - `idempotency_key`: when an operation was already started with this key, that one is
    ///   returned and nothing new runs.
    pub fn start<T: Serialize>(
        self: &Arc<Self>,
        kind: &str,
        project_id: Option<&str>,
        id: Option<String>,
        idempotency_key: Option<String>,
        work: impl FnOnce(&Job) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<Operation> {
        let mut inner = self.lock();
        if let Some(key) = &idempotency_key {
            if let Some(entry) = inner.keys.get(key).and_then(|id| inner.ops.get(id)) {
                return Ok(entry.op.clone());
            }
        }
        let id = match id {
            Some(id) if !valid_id(&id) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidInput,
                    "an operation id is 1 to 64 letters, digits, '-', '_' or '.'",
                ))
            }
            Some(id) => id,
            None => format!(
                "op-{}-{}",
                now_ms(),
                self.counter.fetch_add(1, Ordering::Relaxed)
            ),
        };
        if inner
            .ops
            .get(&id)
            .is_some_and(|e| e.op.state == OpState::Running)
        {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("operation {id} is already running"),
            ));
        }
        let weak: Weak<Operations> = Arc::downgrade(self);
        let progress_id = id.clone();
        let job = Job::with_progress(move |p| {
            if let Some(ops) = weak.upgrade() {
                ops.progressed(&progress_id, p);
            }
        });
        let op = Operation {
            id: id.clone(),
            kind: kind.to_string(),
            project_id: project_id.map(str::to_string),
            state: OpState::Running,
            progress: None,
            eta_secs: None,
            started_at: now_ms(),
            finished_at: None,
            result: None,
            error: None,
        };
        inner.ops.insert(
            id.clone(),
            Entry {
                op: op.clone(),
                job: job.clone(),
                started: Instant::now(),
                progress_sent: None,
            },
        );
        if let Some(key) = idempotency_key {
            inner.keys.insert(key, id.clone());
        }
        drop(inner);
        self.events
            .emit("operation.started", project_id, to_json(&op));
        let ops = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("kura-op-{kind}"))
            .spawn(move || {
                let outcome = work(&job).and_then(|value| {
                    serde_json::to_value(value)
                        .map_err(|e| ApiError::internal(format!("the result cannot be sent: {e}")))
                });
                ops.finish(&id, outcome);
            });
        if let Err(e) = spawned {
            let err = ApiError::internal(format!("no thread for the operation: {e}"));
            self.finish(&op.id, Err(err.clone()));
            return Err(err);
        }
        Ok(op)
    }

    fn progressed(&self, id: &str, p: &Progress) {
        let mut inner = self.lock();
        let Some(entry) = inner.ops.get_mut(id) else {
            return;
        };
        entry.op.progress = Some(p.clone());
        entry.op.eta_secs = p.total.and_then(|total| {
            let elapsed = entry.started.elapsed().as_secs_f64();
            (p.done > 0 && total >= p.done && elapsed > 0.5)
                .then(|| elapsed * (total - p.done) as f64 / p.done as f64)
        });
        let due = entry
            .progress_sent
            .is_none_or(|at| at.elapsed() >= PROGRESS_EVENT_INTERVAL);
        if !due {
            return;
        }
        entry.progress_sent = Some(Instant::now());
        let op = entry.op.clone();
        drop(inner);
        self.events
            .emit("operation.progress", op.project_id.as_deref(), to_json(&op));
    }

    fn finish(&self, id: &str, outcome: ApiResult<serde_json::Value>) {
        let mut inner = self.lock();
        let Some(entry) = inner.ops.get_mut(id) else {
            return;
        };
        let op = &mut entry.op;
        op.finished_at = Some(now_ms());
        op.eta_secs = None;
        match outcome {
            Ok(value) => {
                op.state = OpState::Succeeded;
                op.result = Some(value);
            }
            Err(e) => {
                op.state = if e.code == ErrorCode::Cancelled {
                    OpState::Cancelled
                } else {
                    OpState::Failed
                };
                op.error = Some(e);
            }
        }
        let op = op.clone();
        inner.finished.push_back(id.to_string());
        while inner.finished.len() > OPERATIONS_KEPT {
            if let Some(old) = inner.finished.pop_front() {
                inner.ops.remove(&old);
                inner.keys.retain(|_, v| *v != old);
            }
        }
        drop(inner);
        self.ended.notify_all();
        self.events
            .emit("operation.finished", op.project_id.as_deref(), to_json(&op));
    }

    /// The operation `id` as it is now.
    pub fn get(&self, id: &str) -> ApiResult<Operation> {
        self.lock()
            .ops
            .get(id)
            .map(|e| e.op.clone())
            .ok_or_else(|| not_found(id))
    }

    /// Running and recently finished operations, oldest first.
    pub fn list(&self) -> Vec<Operation> {
        let mut ops: Vec<Operation> = self.lock().ops.values().map(|e| e.op.clone()).collect();
        ops.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
        ops
    }

    /// Waits up to `timeout` for operation `id` to end, and returns it as it is then.
    pub fn wait(&self, id: &str, timeout: Duration) -> ApiResult<Operation> {
        let deadline = Instant::now() + timeout;
        let mut inner = self.lock();
        loop {
            let entry = inner.ops.get(id).ok_or_else(|| not_found(id))?;
            let now = Instant::now();
            if entry.op.state != OpState::Running || now >= deadline {
                return Ok(entry.op.clone());
            }
            inner = self
                .ended
                .wait_timeout(inner, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Asks operation `id` to stop at its next safe point; it then ends as `cancelled` and leaves
    /// the vault as it was. Cancelling a finished operation changes nothing.
    pub fn cancel(&self, id: &str) -> ApiResult<Operation> {
        let inner = self.lock();
        let entry = inner.ops.get(id).ok_or_else(|| not_found(id))?;
        entry.job.cancel();
        Ok(entry.op.clone())
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("there is no operation {id} (finished operations are kept for a while only)"),
    )
}

fn to_json(op: &Operation) -> serde_json::Value {
    serde_json::to_value(op).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operations() -> (tempfile::TempDir, Arc<Operations>) {
        let dir = tempfile::tempdir().unwrap();
        let events = Arc::new(Events::open(&dir.path().join("events.db")).unwrap());
        (dir, Arc::new(Operations::new(events)))
    }

    #[test]
    fn an_operation_runs_reports_and_ends_with_its_result() {
        let (_dir, ops) = operations();
        let op = ops
            .start("count", None, None, None, |job| {
                job.report(Progress {
                    phase: "counting",
                    done: 1,
                    total: Some(2),
                    unit: "files",
                    item: None,
                });
                Ok(42)
            })
            .unwrap();
        let done = ops.wait(&op.id, Duration::from_secs(30)).unwrap();
        assert_eq!(done.state, OpState::Succeeded);
        assert_eq!(done.result, Some(serde_json::json!(42)));
        assert_eq!(done.progress.unwrap().done, 1);
        let kinds: Vec<String> = ops
            .events
            .since(0, &[], 100)
            .unwrap()
            .events
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                "operation.started",
                "operation.progress",
                "operation.finished"
            ]
        );
    }

    #[test]
    fn a_cancelled_operation_ends_cancelled() {
        let (_dir, ops) = operations();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let op = ops
            .start("wait", None, Some("mine".into()), None, move |job| {
                rx.recv().unwrap();
                job.check()?;
                Ok(())
            })
            .unwrap();
        assert_eq!(op.id, "mine");
        ops.cancel("mine").unwrap();
        tx.send(()).unwrap();
        let done = ops.wait("mine", Duration::from_secs(30)).unwrap();
        assert_eq!(done.state, OpState::Cancelled);
        assert_eq!(done.error.unwrap().code, ErrorCode::Cancelled);
    }

    #[test]
    fn the_same_idempotency_key_does_the_work_once() {
        let (_dir, ops) = operations();
        let runs = Arc::new(AtomicU64::new(0));
        let start = |runs: Arc<AtomicU64>| {
            ops.start("once", None, None, Some("key-1".into()), move |_| {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
            .unwrap()
        };
        let first = start(runs.clone());
        ops.wait(&first.id, Duration::from_secs(30)).unwrap();
        let second = start(runs.clone());
        assert_eq!(first.id, second.id);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn bad_ids_and_unknown_operations_are_refused() {
        let (_dir, ops) = operations();
        let err = ops
            .start("x", None, Some("../x".into()), None, |_| Ok(()))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert_eq!(ops.get("nope").unwrap_err().code, ErrorCode::NotFound);
    }
}
