//! Long operations: each gets a job id from the UI, reports progress through a Tauri channel
//! (throttled, but the first and the last update always go), and can be cancelled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kura_core::{Job, Progress};
use tauri::ipc::Channel;

/// Least time between two progress messages of one job.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// The running jobs, by the id the UI gave them.
#[derive(Default)]
pub struct Jobs {
    running: Mutex<HashMap<String, Job>>,
}

/// A job registered in [`Jobs`]; unregistered when dropped (after sending the last progress).
pub struct RunningJob {
    pub job: Job,
    id: String,
    jobs: Arc<Jobs>,
    last: Arc<Mutex<Throttle>>,
    channel: Channel<Progress>,
}

struct Throttle {
    sent_at: Option<Instant>,
    pending: Option<Progress>,
}

impl Jobs {
    /// Starts a job whose progress goes to `channel`.
    pub fn start(self: &Arc<Self>, id: String, channel: Channel<Progress>) -> RunningJob {
        let last = Arc::new(Mutex::new(Throttle {
            sent_at: None,
            pending: None,
        }));
        let sink_last = last.clone();
        let sink_channel = channel.clone();
        let job = Job::with_progress(move |p| {
            let mut t = sink_last.lock().unwrap_or_else(|e| e.into_inner());
            let due = t.sent_at.is_none_or(|at| at.elapsed() >= PROGRESS_INTERVAL);
            if due {
                let _ = sink_channel.send(p.clone());
                t.sent_at = Some(Instant::now());
                t.pending = None;
            } else {
                t.pending = Some(p.clone());
            }
        });
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), job.clone());
        RunningJob {
            job,
            id,
            jobs: self.clone(),
            last,
            channel,
        }
    }

    /// Cancels a running job; unknown ids (already finished) are ignored.
    pub fn cancel(&self, id: &str) {
        if let Some(job) = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
        {
            job.cancel();
        }
    }
}

impl Drop for RunningJob {
    fn drop(&mut self) {
        let pending = self
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending
            .take();
        if let Some(p) = pending {
            let _ = self.channel.send(p);
        }
        self.jobs
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording_channel() -> (Channel<Progress>, Arc<Mutex<Vec<String>>>) {
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let s = seen.clone();
        let channel = Channel::new(move |body| {
            if let tauri::ipc::InvokeResponseBody::Json(json) = body {
                s.lock().unwrap().push(json);
            }
            Ok(())
        });
        (channel, seen)
    }

    fn progress(done: u64) -> Progress {
        Progress {
            phase: "storing",
            done,
            total: Some(100),
            unit: "files",
            item: None,
        }
    }

    #[test]
    fn a_burst_of_progress_is_thinned_but_the_first_and_last_updates_arrive() {
        let jobs = Arc::new(Jobs::default());
        let (channel, seen) = recording_channel();
        let running = jobs.start("job-1".into(), channel);
        for done in 0..=100 {
            running.job.report(progress(done));
        }
        drop(running);
        let seen = seen.lock().unwrap();
        assert!(
            seen.len() < 10,
            "a burst of 101 updates should be thinned, got {}",
            seen.len()
        );
        assert!(seen.first().unwrap().contains("\"done\":0"), "{seen:?}");
        assert!(seen.last().unwrap().contains("\"done\":100"), "{seen:?}");
    }

    #[test]
    fn cancelling_reaches_the_running_job_and_finished_jobs_are_forgotten() {
        let jobs = Arc::new(Jobs::default());
        let (channel, _) = recording_channel();
        let running = jobs.start("job-2".into(), channel);
        jobs.cancel("job-2");
        assert!(running.job.is_cancelled());
        assert_eq!(
            running.job.check().unwrap_err().kind(),
            kura_core::ErrorKind::Cancelled
        );
        drop(running);
        jobs.cancel("job-2"); // already gone: ignored
        assert!(jobs.running.lock().unwrap().is_empty());
    }
}
