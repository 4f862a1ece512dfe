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
/// Least time between two reports to an operation's own progress sink (a window's progress
/// bar); the first and the last report always go.
const PROGRESS_SINK_INTERVAL: Duration = Duration::from_millis(100);

/// Where one operation's progress goes besides its events (the desktop's per-call channel, say).
pub type ProgressSink = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Where an operation is.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
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
    sink: Option<ProgressSink>,
    sink_sent: Option<Instant>,
    sink_pending: Option<Progress>,
}

#[derive(Default)]
struct Inner {
    ops: HashMap<String, Entry>,
    finished: VecDeque<String>,
    /// Each idempotency key: the operation it started, and the request it stood for.
    keys: HashMap<String, (String, String)>,
}

impl Inner {
    /// The operation a request with `key` started already, if it is still remembered; a key
    /// first sent with another request is refused.
    fn started_with(&self, key: &IdempotencyKey) -> ApiResult<Option<Operation>> {
        let Some((first, request)) = self.keys.get(&key.key) else {
            return Ok(None);
        };
        if *request != key.request {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "the Idempotency-Key '{}' was sent with another request first ({}); a key stands for one request, so send a new key for this one",
                    key.key,
                    request.split(' ').take(2).collect::<Vec<_>>().join(" ")
                ),
            )
            .about(crate::SubjectKind::Field, "Idempotency-Key"));
        }
        Ok(self.ops.get(first).map(|entry| entry.op.clone()))
    }

    /// Takes `id` for a new operation: refused while an operation of that id runs. An id used
    /// again names the new operation from now on: a key that named the finished one no longer
    /// answers with this one (which may be of another kind).
    fn take_id(&mut self, id: &str) -> ApiResult<()> {
        if self
            .ops
            .get(id)
            .is_some_and(|e| e.op.state == OpState::Running)
        {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("operation {id} is already running"),
            ));
        }
        if self.ops.contains_key(id) {
            self.keys.retain(|_, (first, _)| first.as_str() != id);
        }
        Ok(())
    }
}

/// An idempotency key as a caller sent it, with the request it came with: a key stands for one
/// request, so the same key with another request is refused rather than answered with the
/// first request's operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The caller's key.
    pub key: String,
    /// What identifies the request: for HTTP, its method, path, query and a hash of its body.
    pub request: String,
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
    /// - `idempotency_key`: when an operation was already started with this key for the same
    ///   request, that one is returned and nothing new runs; for another request, the key is
    ///   refused (`conflict`: it is taken).
    pub fn start<T: Serialize>(
        self: &Arc<Self>,
        kind: &str,
        project_id: Option<&str>,
        id: Option<String>,
        idempotency_key: Option<IdempotencyKey>,
        work: impl FnOnce(&Job) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<Operation> {
        self.start_with_sink(kind, project_id, id, idempotency_key, None, work)
    }

    /// Like [`Operations::start`], with its progress also sent to `sink` (throttled to one
    /// report per 100 ms, the first and the last always sent).
    pub fn start_with_sink<T: Serialize>(
        self: &Arc<Self>,
        kind: &str,
        project_id: Option<&str>,
        id: Option<String>,
        idempotency_key: Option<IdempotencyKey>,
        sink: Option<ProgressSink>,
        work: impl FnOnce(&Job) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<Operation> {
        let mut inner = self.lock();
        if let Some(key) = &idempotency_key {
            if let Some(first) = inner.started_with(key)? {
                return Ok(first);
            }
        }
        let id = self.new_id(id)?;
        inner.take_id(&id)?;
        let job = self.job_of(&id);
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
                sink,
                sink_sent: None,
                sink_pending: None,
            },
        );
        if let Some(key) = idempotency_key {
            inner.keys.insert(key.key, (id.clone(), key.request));
        }
        drop(inner);
        self.events
            .emit("operation.started", project_id, to_json(&op));
        if let Err(err) = self.run_on_thread(kind, id, job, work) {
            self.finish(&op.id, Err(err.clone()));
            return Err(err);
        }
        Ok(op)
    }

    /// The id of a new operation: the caller's (`id`), or one made up.
    fn new_id(&self, id: Option<String>) -> ApiResult<String> {
        match id {
            Some(id) if !valid_id(&id) => Err(ApiError::new(
                ErrorCode::InvalidInput,
                "an operation id is 1 to 64 letters, digits, '-', '_' or '.'",
            )),
            Some(id) => Ok(id),
            None => Ok(format!(
                "op-{}-{}",
                now_ms(),
                self.counter.fetch_add(1, Ordering::Relaxed)
            )),
        }
    }

    /// The job of operation `id`: its progress reports go to the operation.
    fn job_of(self: &Arc<Self>, id: &str) -> Job {
        let weak: Weak<Operations> = Arc::downgrade(self);
        let progress_id = id.to_string();
        Job::with_progress(move |p| {
            if let Some(ops) = weak.upgrade() {
                ops.progressed(&progress_id, p);
            }
        })
    }

    /// Runs `work` on a thread of its own, then sends its last progress and records its
    /// outcome as the end of operation `id`.
    fn run_on_thread<T: Serialize>(
        self: &Arc<Self>,
        kind: &str,
        id: String,
        job: Job,
        work: impl FnOnce(&Job) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<()> {
        let ops = self.clone();
        std::thread::Builder::new()
            .name(format!("kura-op-{kind}"))
            .spawn(move || {
                let outcome = work(&job).and_then(|value| {
                    serde_json::to_value(value)
                        .map_err(|e| ApiError::internal(format!("the result cannot be sent: {e}")))
                });
                ops.flush_sink(&id);
                ops.finish(&id, outcome);
            })
            .map(drop)
            .map_err(|e| ApiError::internal(format!("no thread for the operation: {e}")))
    }

    /// Runs `work` as an operation like [`Operations::start_with_sink`], and blocks until it
    /// ends: for a door that answers a long call when it is done (the desktop's commands). The
    /// operation can still be cancelled, listed and watched meanwhile.
    pub fn run<T: Serialize + Send + 'static>(
        self: &Arc<Self>,
        kind: &str,
        project_id: Option<&str>,
        id: Option<String>,
        sink: Option<ProgressSink>,
        work: impl FnOnce(&Job) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let (tx, rx) = std::sync::mpsc::channel();
        let op = self.start_with_sink(kind, project_id, id, None, sink, move |job| {
            let outcome = work(job);
            let json = match &outcome {
                Ok(value) => serde_json::to_value(value)
                    .map_err(|e| ApiError::internal(format!("the result cannot be sent: {e}"))),
                Err(e) => Err(e.clone()),
            };
            let _ = tx.send(outcome);
            json
        })?;
        let outcome = rx
            .recv()
            .map_err(|_| ApiError::internal("the operation stopped unexpectedly"))?;
        // Its last progress report and its end are recorded before the caller hears of it.
        self.wait(&op.id, Duration::from_secs(60))?;
        outcome
    }

    fn flush_sink(&self, id: &str) {
        let mut inner = self.lock();
        let Some(entry) = inner.ops.get_mut(id) else {
            return;
        };
        let (Some(sink), Some(p)) = (entry.sink.clone(), entry.sink_pending.take()) else {
            return;
        };
        drop(inner);
        sink(&p);
    }

    fn progressed(&self, id: &str, p: &Progress) {
        let mut inner = self.lock();
        let Some(entry) = inner.ops.get_mut(id) else {
            return;
        };
        let sink = entry.sink.clone().filter(|_| {
            let due = entry
                .sink_sent
                .is_none_or(|at| at.elapsed() >= PROGRESS_SINK_INTERVAL);
            if due {
                entry.sink_sent = Some(Instant::now());
                entry.sink_pending = None;
            } else {
                entry.sink_pending = Some(p.clone());
            }
            due
        });
        if let Some(sink) = sink {
            drop(inner);
            sink(p);
            inner = self.lock();
        }
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
                inner.keys.retain(|_, (first, _)| *first != old);
            }
        }
        drop(inner);
        // In the log file too, outside the lock (the file is written as it happens), and before
        // the waiters are told, so that what they read next is there: a scheduled backup or
        // cleanup that failed at night is read about in the log.
        let project = op.project_id.as_deref().unwrap_or("-");
        match (&op.state, &op.error) {
            (OpState::Failed, Some(e)) => {
                tracing::warn!(operation = %op.id, project, "{} failed ({:?}): {}", op.kind, e.code, e.message)
            }
            (OpState::Cancelled, _) => {
                tracing::info!(operation = %op.id, project, "{} cancelled", op.kind)
            }
            _ => tracing::info!(operation = %op.id, project, "{} done", op.kind),
        }
        // The event first: whoever waited for the end may read the log at once.
        self.events
            .emit("operation.finished", op.project_id.as_deref(), to_json(&op));
        self.ended.notify_all();
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
        let key = |request: &str| IdempotencyKey {
            key: "key-1".into(),
            request: request.into(),
        };
        let start = |runs: Arc<AtomicU64>, request: &str| {
            ops.start("once", None, None, Some(key(request)), move |_| {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
        };
        let first = start(runs.clone(), "POST /v1/gc").unwrap();
        ops.wait(&first.id, Duration::from_secs(30)).unwrap();
        let second = start(runs.clone(), "POST /v1/gc").unwrap();
        assert_eq!(first.id, second.id);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // The same key with another request is refused, and runs nothing.
        let other = start(runs.clone(), "POST /v1/verify").unwrap_err();
        assert_eq!(other.code, ErrorCode::Conflict);
        assert!(other.message.contains("POST /v1/gc"), "{}", other.message);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    /// Found by schemathesis: a key whose operation's id was then taken by another kind of
    /// operation answered that one (a snapshot for a cold-tier pass).
    #[test]
    fn a_key_never_answers_an_operation_that_took_its_operations_id_since() {
        let (_dir, ops) = operations();
        let key = IdempotencyKey {
            key: "key-1".into(),
            request: "POST /v1/archives/cold".into(),
        };
        let first = ops
            .start("cold", None, Some("0".into()), Some(key.clone()), |_| Ok(1))
            .unwrap();
        ops.wait(&first.id, Duration::from_secs(30)).unwrap();
        let other = ops
            .start("snapshot", None, Some("0".into()), None, |_| Ok(2))
            .unwrap();
        ops.wait(&other.id, Duration::from_secs(30)).unwrap();
        let again = ops.start("cold", None, None, Some(key), |_| Ok(3)).unwrap();
        assert_eq!(again.kind, "cold");
        let done = ops.wait(&again.id, Duration::from_secs(30)).unwrap();
        assert_eq!(done.result, Some(serde_json::json!(3)));
    }

    #[test]
    fn a_burst_of_progress_reaches_the_sink_thinned_with_its_first_and_last_report() {
        let (_dir, ops) = operations();
        let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
        let s = seen.clone();
        let sink: ProgressSink = Arc::new(move |p: &Progress| s.lock().unwrap().push(p.done));
        let n = ops
            .run("burst", None, Some("job-1".into()), Some(sink), |job| {
                for done in 0..=100 {
                    job.report(Progress {
                        phase: "storing",
                        done,
                        total: Some(100),
                        unit: "files",
                        item: None,
                    });
                }
                Ok(7)
            })
            .unwrap();
        assert_eq!(n, 7, "run returns the typed result");
        assert_eq!(ops.get("job-1").unwrap().state, OpState::Succeeded);
        let seen = seen.lock().unwrap();
        assert!(seen.len() < 10, "101 reports should be thinned: {seen:?}");
        assert_eq!(seen.first(), Some(&0));
        assert_eq!(seen.last(), Some(&100));
    }

    #[test]
    fn a_failed_run_returns_its_error_and_is_recorded_as_failed() {
        let (_dir, ops) = operations();
        let err = ops
            .run(
                "fail",
                None,
                Some("job-2".into()),
                None,
                |_| -> ApiResult<()> { Err(ApiError::new(ErrorCode::NotFound, "no such project")) },
            )
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
        assert_eq!(ops.get("job-2").unwrap().state, OpState::Failed);
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
