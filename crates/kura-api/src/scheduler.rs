//! The scheduler: backups per target on their schedules, the cleanup run on `cleanup.schedule`,
//! idle projects' histories rewritten with deltas, and automatic versions of quiet project
//! folders ([`AutoSnapshots`]), in whichever process (the desktop app or `kura serve`) holds the vault's
//! schedule lock. Missed runs are caught up once, a pause holds them back, a resting target waits
//! out its rest, an unreachable one is tried again after a while, and one target never runs twice
//! at once. A process that cannot take the lock still serves requests (a backup started by hand
//! runs anywhere) and tries for the lock again every little while, so when the app quits,
//! `kura serve` takes over.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::Local;
use kura_backup::{RunRecord, ScheduledTarget, CLEANUP_KEY};
use kura_core::{CleanupOptions, FileLock};

use crate::autosnapshot::AutoSnapshots;
use crate::backups::{lock, RECENT_RUNS};
use crate::operations::Operation;
use crate::{Api, VaultChange};

/// The lock file, under the vault folder, held by the process that runs the schedules.
pub const SCHEDULE_LOCK: &str = "locks/schedule.lock";
/// The agenda's key while histories are being rewritten with deltas (idle ones, or one a
/// version left due a repack; no target name has a colon).
pub(crate) const REPACK_KEY: &str = "repack:";
/// How many recent cleanup runs are looked at (to find the last one that was not a dry run).
const RECENT_CLEANUPS: u32 = 20;
/// The agenda's key while archives move to the cold tier.
const COLD_KEY: &str = "cold:";
/// After a failed pass of the cold tier (its target unreachable, say), the next waits this long.
const COLD_RETRY: Duration = Duration::from_secs(600);

/// How often the scheduler looks at the clock and tries for the lock, and what it runs.
#[derive(Clone, Copy, Debug)]
pub struct SchedulerOptions {
    /// Between two looks at the clock while holding the lock.
    pub tick: Duration,
    /// Between two tries for the lock while another process holds it.
    pub lock_retry: Duration,
    /// Whether the holder also watches project folders for automatic versions.
    pub auto_snapshots: bool,
    /// Between two looks at the vault's changes while a target is backed up after every change
    /// (a cheap look: the full tick still runs every `tick`).
    pub replication_probe: Duration,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            tick: Duration::from_secs(20),
            lock_retry: Duration::from_secs(30),
            auto_snapshots: true,
            replication_probe: Duration::from_secs(1),
        }
    }
}

/// The running scheduler of one process. Dropping it (or [`Scheduler::stop`]) stops the loop
/// and lets go of the schedule lock; runs already started finish.
pub struct Scheduler {
    stop: Arc<(Mutex<bool>, Condvar)>,
    holds_lock: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Scheduler {
    /// Starts the scheduler of `api` on a thread of its own, with the default timing: missed
    /// runs are caught up at once when it gets the lock. Works from any runtime (or none): call
    /// it once per process, and keep the handle as long as schedules should run.
    pub fn start(api: Arc<Api>) -> Scheduler {
        Scheduler::start_with(api, SchedulerOptions::default())
    }

    /// Like [`Scheduler::start`], with the given timing.
    pub fn start_with(api: Arc<Api>, options: SchedulerOptions) -> Scheduler {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let holds_lock = Arc::new(AtomicBool::new(false));
        let (s, h) = (stop.clone(), holds_lock.clone());
        let thread = std::thread::Builder::new()
            .name("kura-scheduler".into())
            .spawn(move || run_loop(&api, options, &s, &h))
            .map_err(|e| tracing::error!("the scheduler cannot start: {e}"))
            .ok();
        Scheduler {
            stop,
            holds_lock,
            thread,
        }
    }

    /// Whether this process runs the vault's schedules now.
    pub fn holds_lock(&self) -> bool {
        self.holds_lock.load(Ordering::SeqCst)
    }

    /// Stops the loop and lets go of the lock (waits for the loop, not for running backups).
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let (flag, wake) = &*self.stop;
        *lock(flag) = true;
        wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.shut_down();
    }
}

fn run_loop(
    api: &Arc<Api>,
    options: SchedulerOptions,
    stop: &(Mutex<bool>, Condvar),
    holds_lock: &AtomicBool,
) {
    let path = api.vault().root().join(SCHEDULE_LOCK);
    let mut held: Option<FileLock> = None;
    let mut watching: Option<AutoSnapshots> = None;
    let mut last_tick: Option<Instant> = None;
    loop {
        if held.is_none() {
            match FileLock::try_acquire(&path, true) {
                Ok(Some(l)) => {
                    tracing::info!("this process runs the vault's schedules");
                    held = Some(l);
                    holds_lock.store(true, Ordering::SeqCst);
                    if options.auto_snapshots {
                        watching = Some(AutoSnapshots::start(api));
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("the schedule lock cannot be taken: {e}"),
            }
        }
        let replicating = held.is_some() && api.replicates();
        if held.is_some() && last_tick.is_none_or(|t| t.elapsed() >= options.tick) {
            api.run_schedules();
            last_tick = Some(Instant::now());
        } else if replicating {
            api.run_due_backups();
            api.publish_backup_status();
        } else if held.is_none() {
            // Another process runs the schedules; the views here still want a fresh status.
            api.publish_backup_status();
        }
        let wait = if replicating {
            options.replication_probe.min(options.tick)
        } else if held.is_some() {
            options.tick
        } else {
            options.lock_retry
        };
        let (flag, wake) = stop;
        let stopped = lock(flag);
        let stopped = wake
            .wait_timeout_while(stopped, wait, |s| !*s)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        if *stopped {
            break;
        }
    }
    drop(watching);
    holds_lock.store(false, Ordering::SeqCst);
    drop(held);
}

impl Api {
    /// Starts the backups that are due now and returns their operations; the status is not
    /// published (the caller does).
    fn run_due_backups(self: &Arc<Self>) -> Vec<Operation> {
        let now = self.now();
        let backups = self.backups();
        let paused = backups.paused().unwrap_or(None);
        let targets = backups.targets().unwrap_or_default();
        let health = backups.health().unwrap_or_default();
        let runs: Vec<Vec<RunRecord>> = targets
            .iter()
            .map(|t| backups.runs(Some(&t.name), RECENT_RUNS).unwrap_or_default())
            .collect();
        let successes: Vec<Option<RunRecord>> = targets
            .iter()
            .map(|t| {
                if kura_backup::after_every_change(t) {
                    backups.last_success(&t.name).unwrap_or_default()
                } else {
                    None
                }
            })
            .collect();
        let scheduled: Vec<ScheduledTarget> = targets
            .iter()
            .zip(&runs)
            .zip(&successes)
            .map(|((t, runs), ok)| self.scheduled(t, &health, runs, ok.as_ref(), now))
            .collect();
        let due =
            kura_backup::due_backups(&lock(&self.backups.agenda), &scheduled, paused, now, &Local);
        let mut started = Vec::new();
        for target in due {
            match self.start_backup(&target) {
                Ok(op) => started.push(op),
                // A target that cannot be reached waits quietly; it is overdue, not failed.
                Err(e) => tracing::info!("{e}"),
            }
        }
        started
    }

    /// One look at the clock: starts the backups that are due (targets backed up after every
    /// change among them) and a due cleanup, rewrites idle histories, moves archives to the cold
    /// tier, deletes the copies of expired shares, announces a change of the disk's free space or the
    /// quotas, and publishes the backup status. Returns the operations it started. [`Scheduler`] calls this every little while in
    /// the process that holds the schedule lock.
    pub fn run_schedules(self: &Arc<Self>) -> Vec<Operation> {
        let mut started = self.run_due_backups();
        started.extend(self.cleanup_if_due(self.now()));
        self.repack_idle_histories();
        self.cold_tier_in_background();
        self.expired_shares_in_background();
        self.check_disk_and_quotas();
        self.publish_backup_status();
        started
    }

    /// Whether a target is backed up after every change: the scheduler then looks at the
    /// vault every [`SchedulerOptions::replication_probe`] instead of every tick.
    pub fn replicates(&self) -> bool {
        self.backups()
            .targets()
            .is_ok_and(|t| t.iter().any(kura_backup::after_every_change))
    }

    /// Rewrites with deltas, one after another on a thread of their own, the histories of
    /// projects left alone for [`kura_core::REPACK_AFTER_IDLE_SECS`] that are not one such pack
    /// yet. Snapshots stay fast (their only deltas are between alike files of the same
    /// snapshot); this is where a quiet project's versions shrink to about their changes.
    /// Returns the thread, if one started.
    pub(crate) fn repack_idle_histories(self: &Arc<Self>) -> Option<JoinHandle<()>> {
        let idle = match self
            .vault
            .idle_histories_to_repack(kura_core::REPACK_AFTER_IDLE_SECS)
        {
            Ok(ids) if !ids.is_empty() => ids,
            Ok(_) => return None,
            Err(e) => {
                tracing::warn!("cannot look for histories to rewrite with deltas: {e}");
                return None;
            }
        };
        self.in_background(REPACK_KEY, "kura-repack-idle", move |api| {
            for id in idle {
                match api.vault.repack_project(&id, &kura_core::Job::default()) {
                    Ok(true) => api.changed(Some(&id), VaultChange::Repacked),
                    Ok(false) => {}
                    Err(e) if e.kind() == kura_core::ErrorKind::Busy => {}
                    Err(e) => {
                        tracing::warn!("rewriting the history of {id} with deltas failed: {e}")
                    }
                }
            }
        })
    }

    /// Runs `work` on a thread of its own (named `name`) under the agenda's `key`, unless work
    /// under that key is under way already. Returns the thread, if one started.
    pub(crate) fn in_background(
        self: &Arc<Self>,
        key: &'static str,
        name: &str,
        work: impl FnOnce(&Arc<Api>) + Send + 'static,
    ) -> Option<JoinHandle<()>> {
        if !lock(&self.backups.agenda).start(key) {
            return None;
        }
        let api = self.clone();
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                work(&api);
                lock(&api.backups.agenda).finish(key);
            });
        match spawned {
            Ok(handle) => Some(handle),
            Err(e) => {
                lock(&self.backups.agenda).finish(key);
                tracing::warn!("no thread for {name}: {e}");
                None
            }
        }
    }

    /// Moves archives to the cold tier on a thread of its own when `archive.cold_target` is
    /// set and there is something to do (an archive not uploaded yet, a local file that may
    /// go); after a failure, not again for [`COLD_RETRY`]. Returns the thread, if one started.
    pub(crate) fn cold_tier_in_background(self: &Arc<Self>) -> Option<JoinHandle<()>> {
        let cfg = self.vault.config().archive.clone();
        if cfg.cold_target.trim().is_empty()
            || lock(&self.backups.cold_failed_at).is_some_and(|t| t.elapsed() < COLD_RETRY)
        {
            return None;
        }
        let waiting = self
            .vault
            .list_archives()
            .ok()?
            .iter()
            .any(|a| a.present && a.cold_target.is_none())
            || !self
                .vault
                .archives_to_drop_locally(cfg.keep_local_days, cfg.local_cap.0)
                .ok()?
                .is_empty();
        if !waiting {
            return None;
        }
        self.in_background(COLD_KEY, "kura-cold-tier", |api| {
            match api.cold_pass(&kura_core::Job::default()) {
                Ok(r) => tracing::info!(
                    "cold tier '{}': {} archives uploaded, {} local files dropped",
                    r.target,
                    r.uploaded.len(),
                    r.dropped.len()
                ),
                Err(e) => {
                    tracing::warn!("moving archives to the cold tier failed: {e}");
                    *lock(&api.backups.cold_failed_at) = Some(Instant::now());
                }
            }
        })
    }

    fn cleanup_if_due(self: &Arc<Self>, now: i64) -> Option<Operation> {
        let schedule = self.vault.config().cleanup.parsed_schedule().ok()??;
        let runs = self
            .vault
            .cleanup_runs(Some(RECENT_CLEANUPS))
            .unwrap_or_default();
        let since = self.backups.since(CLEANUP_KEY, now);
        let due = kura_backup::cleanup_due(
            &lock(&self.backups.agenda),
            &schedule,
            &runs,
            since,
            now,
            &Local,
        );
        if !due || !lock(&self.backups.agenda).start(CLEANUP_KEY) {
            return None;
        }
        let api = self.clone();
        let started = self
            .operations
            .start("cleanup", None, None, None, move |job| {
                let result = api.vault.cleanup(&CleanupOptions::default(), job);
                lock(&api.backups.agenda).finish(CLEANUP_KEY);
                let report = result?;
                tracing::info!("scheduled cleanup freed {} bytes", report.bytes_freed);
                api.changed(None, VaultChange::Cleanup);
                api.purge_discarded_in_background();
                Ok(report)
            });
        match started {
            Ok(op) => Some(op),
            Err(e) => {
                lock(&self.backups.agenda).finish(CLEANUP_KEY);
                tracing::warn!("scheduled cleanup cannot start: {e}");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use kura_backup::{HealthState, PauseLength, RunResult};

    use super::*;
    use crate::error::ErrorCode;
    use crate::operations::OpState;

    use crate::testing::{at, next_real_second, open, real_now, Scene};
    use kura_core::{Job, SnapshotOptions};

    #[test]
    fn a_target_runs_at_its_time_once_and_a_sleep_is_caught_up_with_one_run() {
        let s = Scene::new();
        assert!(
            s.tick().is_empty(),
            "nothing is due when the target was just added"
        );
        s.set(at(10, 59, 59));
        assert!(s.tick().is_empty(), "not before its time");
        s.set(at(11, 0, 5));
        assert_eq!(s.tick(), [OpState::Succeeded]);
        assert!(s.tick().is_empty(), "one run per scheduled time");
        let status = s.api.backup_status();
        assert_eq!(status.targets[0].last_success, Some(at(11, 0, 5)));
        assert_eq!(status.next_run, Some(at(12, 0, 0)));
        // The machine sleeps from 11:01 to 16:20: five runs were missed, one catches up.
        s.set(at(16, 20, 0));
        assert_eq!(s.tick(), [OpState::Succeeded]);
        assert!(s.tick().is_empty());
        assert_eq!(s.runs(), [RunResult::Ok, RunResult::Ok]);
    }

    #[test]
    fn a_target_backed_up_after_every_change_follows_each_version_and_record_write() {
        let s = Scene::replicated();
        let behind = |s: &Scene| s.api.backup_status().targets[0].behind_since;
        // Never backed up: it is behind from the start and runs at once.
        assert!(behind(&s).is_some());
        assert_eq!(s.tick(), [OpState::Succeeded]);
        assert_eq!(behind(&s), None);
        s.set(real_now() + 5);
        assert!(s.tick().is_empty(), "nothing changed: nothing to do");
        assert_eq!(
            s.api.backup_status().targets[0].schedule_text,
            "after every change"
        );

        // A new version: behind from its second on, backed up once the vault is quiet.
        let changed = next_real_second();
        let p = s.api.vault().project("site").unwrap();
        std::fs::write(p.path.join("about.html"), "<p>about</p>\n").unwrap();
        s.api
            .snapshot("site", &SnapshotOptions::default(), &Job::default())
            .unwrap();
        assert_eq!(behind(&s), Some(changed));
        s.set(changed + 1);
        assert!(s.tick().is_empty(), "it waits for a quiet moment");
        assert_eq!(
            s.api.backup_status().targets[0].next_run,
            Some(changed + kura_backup::REPLICATION_QUIET_SECS)
        );
        s.set(changed + kura_backup::REPLICATION_QUIET_SECS);
        assert_eq!(s.tick(), [OpState::Succeeded]);
        assert_eq!(behind(&s), None, "the backup holds the change");
        // The real clock catches up with the test's (the change log is in real seconds).
        while real_now() <= s.api.now() {
            std::thread::sleep(Duration::from_millis(20));
        }
        s.set(real_now() + kura_backup::REPLICATION_MAX_WAIT_SECS);
        assert!(s.tick().is_empty(), "a backup is no change of its own");
        s.set(real_now());
        let latest = s.api.backups_at("drive").unwrap().pop().unwrap();
        let held = s.api.backup_contents("drive", &latest.id).unwrap();
        assert_eq!(
            held.projects[0].head,
            s.api.vault().project("site").unwrap().head,
            "the new version is in the backup"
        );

        // A record written is a change as well.
        let changed = next_real_second();
        s.api
            .record_put(
                None,
                kura_core::RecordPut {
                    collection: "notes".into(),
                    key: "today".into(),
                    value: serde_json::json!({"text": "replicated"}),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(behind(&s), Some(changed));
        s.set(changed + kura_backup::REPLICATION_QUIET_SECS);
        assert_eq!(s.tick(), [OpState::Succeeded]);
        assert_eq!(behind(&s), None);
        assert_eq!(s.api.backups_at("drive").unwrap().len(), 3);
    }

    #[test]
    fn a_target_backed_up_after_every_change_that_is_absent_stays_behind_and_catches_up() {
        let s = Scene::replicated();
        assert_eq!(s.tick(), [OpState::Succeeded]);
        let drive = s.dir.path().join("drive");
        let unplugged = s.dir.path().join("unplugged");
        std::fs::rename(&drive, &unplugged).unwrap();
        // A new version while the drive is away: the run cannot reach it.
        let changed = next_real_second();
        let p = s.api.vault().project("site").unwrap();
        std::fs::write(p.path.join("away.html"), "<p>made while away</p>\n").unwrap();
        s.api
            .snapshot("site", &SnapshotOptions::default(), &Job::default())
            .unwrap();
        s.set(changed + kura_backup::REPLICATION_QUIET_SECS);
        assert_eq!(s.tick(), [OpState::Failed]);
        assert_eq!(s.runs()[0], RunResult::Unavailable);
        let status = s.api.backup_status();
        assert_eq!(
            status.targets[0].behind_since,
            Some(changed),
            "the change is still owed"
        );
        assert_ne!(
            status.state,
            kura_backup::BackupState::Failed,
            "an absent drive is no failure"
        );
        // Not tried again at once; past ten minutes behind it is overdue, which the tray shows.
        s.set(changed + 300);
        assert!(s.tick().is_empty());
        s.set(changed + kura_backup::REPLICATION_OVERDUE_SECS + 1);
        assert_eq!(
            s.api.backup_status().state,
            kura_backup::BackupState::Overdue
        );
        // Back, it catches up at the retry, and the copy holds the version.
        std::fs::rename(&unplugged, &drive).unwrap();
        s.set(changed + kura_backup::REPLICATION_QUIET_SECS + kura_backup::UNAVAILABLE_RETRY_SECS);
        assert_eq!(s.tick(), [OpState::Succeeded]);
        let status = s.api.backup_status();
        assert_eq!(
            (status.targets[0].behind_since, status.state),
            (None, kura_backup::BackupState::Ok)
        );
    }

    #[test]
    fn an_unreachable_target_waits_quietly_and_is_tried_again_after_a_while() {
        let s = Scene::new();
        std::fs::remove_dir_all(s.dir.path().join("drive")).unwrap();
        s.set(at(11, 0, 5));
        assert_eq!(s.tick(), [OpState::Failed]);
        assert_eq!(s.runs(), [RunResult::Unavailable]);
        s.set(at(11, 5, 0));
        assert!(s.tick().is_empty(), "not tried again at once");
        let status = s.api.backup_status();
        assert_ne!(
            status.state,
            kura_backup::BackupState::Failed,
            "an absent drive is not a failure"
        );
        // The drive is back: the run still owed is tried after the retry interval, before 12:00.
        std::fs::create_dir_all(s.dir.path().join("drive")).unwrap();
        s.set(at(11, 10, 6));
        let states = s.tick();
        assert_eq!(states.len(), 1, "tried again after the retry interval");
        assert!(s.tick().is_empty());
    }

    #[test]
    fn a_target_that_keeps_failing_rests_then_is_tried_again() {
        let s = Scene::new();
        // The repository's settings are damaged: every run fails (it is reachable, so this is
        // a failure, not "unavailable").
        std::fs::write(s.repo().join("config"), "garbage").unwrap();
        let mut now = at(11, 0, 5);
        for _ in 0..kura_backup::FAILURES_BEFORE_UNHEALTHY {
            s.set(now);
            assert_eq!(s.tick(), [OpState::Failed]);
            now += 3600;
        }
        let health = &s.api.backup_status().targets[0].health;
        assert_eq!(health.state, HealthState::Unhealthy, "{health:?}");
        // It rests for an hour after the third failure (13:00:05), past its 14:00 run.
        s.set(at(14, 0, 0));
        assert!(
            s.tick().is_empty(),
            "a resting target is not started by its schedule"
        );
        let err = s.api.start_backup("drive").unwrap_err();
        assert_eq!(err.code, ErrorCode::Unavailable);
        assert_eq!(err.subject.unwrap().name, "drive");
        s.set(now - 3600 + kura_backup::UNHEALTHY_COOL_DOWN_SECS + 1);
        assert_eq!(s.tick().len(), 1, "tried again once its rest is over");
    }

    #[test]
    fn a_pause_holds_scheduled_backups_until_it_is_resumed() {
        let s = Scene::new();
        s.api
            .pause_backups(Some(PauseLength::UntilResumed))
            .unwrap();
        s.set(at(11, 0, 5));
        assert!(s.tick().is_empty());
        assert_eq!(
            s.api.backup_status().state,
            kura_backup::BackupState::Paused
        );
        // A backup by hand still runs.
        let op = s.api.start_backup("drive").unwrap();
        let done = s
            .api
            .operations()
            .wait(&op.id, Duration::from_secs(60))
            .unwrap();
        assert_eq!(done.state, OpState::Succeeded);
        s.api.pause_backups(None).unwrap();
        s.set(at(12, 0, 5));
        assert_eq!(s.tick(), [OpState::Succeeded]);
    }

    #[test]
    fn one_target_never_runs_twice_at_once_and_a_run_can_be_cancelled() {
        let s = Scene::new();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        *lock(&s.api.backups.before_run) = Some(Box::new(move || {
            let _ = hold.recv();
        }));
        let first = s.api.start_backup("drive").unwrap();
        let err = s.api.start_backup("drive").unwrap_err();
        assert_eq!(err.code, ErrorCode::Busy);
        s.set(at(11, 0, 5));
        assert!(
            s.api.run_schedules().is_empty(),
            "the due run waits for the running one"
        );
        assert_eq!(
            s.api.backup_status().state,
            kura_backup::BackupState::Running
        );
        assert!(s.api.cancel_backup("drive").cancelled);
        release.send(()).unwrap();
        let done = s
            .api
            .operations()
            .wait(&first.id, Duration::from_secs(60))
            .unwrap();
        assert_eq!(done.state, OpState::Cancelled);
        assert!(!s.api.backup_running("drive"));
        assert_eq!(s.runs(), [RunResult::Cancelled]);
        s.set(at(12, 0, 5));
        assert_eq!(s.tick(), [OpState::Succeeded]);
    }

    #[test]
    fn the_cleanup_runs_on_its_schedule_once() {
        let s = Scene::new();
        s.api.remove_backup_target("drive").unwrap();
        assert!(
            s.tick().is_empty(),
            "first seen at 10:10; cleanup is daily at 03:00"
        );
        s.set(at(3, 0, 5) + 86_400);
        let ops = s.api.run_schedules();
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].kind, "cleanup");
        let done = s
            .api
            .operations()
            .wait(&ops[0].id, Duration::from_secs(60))
            .unwrap();
        assert_eq!(done.state, OpState::Succeeded);
        assert_eq!(s.api.vault().cleanup_runs(None).unwrap().len(), 1);
        s.set(at(9, 0, 0) + 86_400);
        assert!(s.tick().is_empty(), "once a day");
    }

    #[test]
    fn a_project_left_alone_for_half_an_hour_has_its_history_rewritten_with_deltas() {
        let s = Scene::new();
        let vault = s.api.vault();
        let id = vault.project("site").unwrap().id;
        let packs = || {
            let dir = vault
                .root()
                .join(format!("histories/{id}.git/objects/pack"));
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".pack"))
                .collect();
            names.sort();
            names
        };
        let written_by_snapshots = packs();
        assert!(
            s.api.repack_idle_histories().is_none(),
            "the project changed a moment ago"
        );
        let mut events = s.api.events().subscribe();
        s.set(at(10, 10, 1) + kura_core::REPACK_AFTER_IDLE_SECS);
        s.api
            .repack_idle_histories()
            .expect("the idle project's history is rewritten")
            .join()
            .unwrap();
        let repacked = packs();
        assert_eq!(repacked.len(), 1);
        assert!(
            !written_by_snapshots.contains(&repacked[0]),
            "{written_by_snapshots:?} became one new pack"
        );
        let event = events.try_recv().expect("the views hear of it");
        assert_eq!(event.data["reason"], "repacked");
        assert!(
            s.api.repack_idle_histories().is_none(),
            "once: the history is one pack with deltas now"
        );
        let out = s.dir.path().join("out");
        vault
            .export_version("site", None, &out, &Job::default())
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("index.html")).unwrap(),
            "<h1>hello</h1>\n"
        );
    }

    #[test]
    fn status_changes_are_published_as_events() {
        let s = Scene::new();
        let mut events = s.api.events().subscribe();
        s.set(at(11, 0, 5));
        s.tick();
        let mut states = Vec::new();
        while let Ok(e) = events.try_recv() {
            if e.kind == "backup.status" {
                states.push(e.data["state"].as_str().unwrap_or_default().to_string());
            }
        }
        assert_eq!(
            states.first().map(String::as_str),
            Some("running"),
            "{states:?}"
        );
        assert_eq!(states.last().map(String::as_str), Some("ok"), "{states:?}");
    }

    fn wait_until(what: &str, check: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !check() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn one_process_runs_the_schedules_and_another_takes_over_when_it_stops() {
        let s = Scene::new();
        let other = open(&s.dir.path().join("vault"), &s.clock);
        let fast = SchedulerOptions {
            tick: Duration::from_millis(20),
            lock_retry: Duration::from_millis(20),
            auto_snapshots: false,
            replication_probe: Duration::from_millis(20),
        };
        let first = Scheduler::start_with(s.api.clone(), fast);
        wait_until("the first scheduler holds the lock", || first.holds_lock());
        let second = Scheduler::start_with(other.clone(), fast);
        std::thread::sleep(Duration::from_millis(200));
        assert!(!second.holds_lock(), "two schedulers run one vault");
        // A due run is started by the holder only.
        s.set(at(11, 0, 5));
        wait_until("the due backup ran", || {
            s.runs().len() == 1 && !s.api.backup_running("drive")
        });
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(s.runs().len(), 1, "the due run ran once");
        first.stop();
        wait_until("the second scheduler took over", || second.holds_lock());
        s.set(at(12, 0, 5));
        wait_until("the next run, by the second", || s.runs().len() == 2);
    }
}
