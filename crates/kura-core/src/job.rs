//! Long work: progress reports and cancellation.
//!
//! The engine calls [`Job::report`] as it goes; the shell decides what to do with the updates
//! (a progress bar, a Tauri channel, an HTTP event stream) and may call [`Job::cancel`] from
//! another thread. Work checks [`Job::check`] between files and chunks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, Result};

/// One progress update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Progress {
    /// What is happening: "scanning", "storing", "writing", "verifying", ...
    pub phase: &'static str,
    /// Units done so far.
    pub done: u64,
    /// Units in all, when known.
    pub total: Option<u64>,
    /// What the units are: "bytes", or what is counted ("files", "packs", "backups"...).
    pub unit: &'static str,
    /// The item being worked on, when there is one.
    pub item: Option<String>,
}

type Sink = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A handle on one long operation: where its progress goes and whether it was cancelled.
#[derive(Clone, Default)]
pub struct Job {
    cancelled: Arc<AtomicBool>,
    sink: Option<Sink>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl Job {
    /// A job whose progress goes to `sink`.
    pub fn with_progress(sink: impl Fn(&Progress) + Send + Sync + 'static) -> Job {
        Job {
            cancelled: Arc::new(AtomicBool::new(false)),
            sink: Some(Arc::new(sink)),
        }
    }

    /// Asks the work to stop at the next safe point; it then fails with `cancelled` and leaves
    /// the vault as it was.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    /// Whether [`Job::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// The flag itself, for code that polls an `AtomicBool`.
    pub(crate) fn flag(&self) -> &AtomicBool {
        &self.cancelled
    }

    /// Fails with `cancelled` if the job was cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::cancelled())
        } else {
            Ok(())
        }
    }

    /// Sends a progress update.
    pub fn report(&self, progress: Progress) {
        if let Some(sink) = &self.sink {
            sink(&progress);
        }
    }

    pub(crate) fn files(&self, phase: &'static str, done: u64, total: Option<u64>) {
        if self.sink.is_some() {
            self.report(Progress {
                phase,
                done,
                total,
                unit: "files",
                item: None,
            });
        }
    }

    pub(crate) fn bytes(
        &self,
        phase: &'static str,
        done: u64,
        total: Option<u64>,
        item: Option<&str>,
    ) {
        if self.sink.is_some() {
            self.report(Progress {
                phase,
                done,
                total,
                unit: "bytes",
                item: item.map(str::to_string),
            });
        }
    }
}
