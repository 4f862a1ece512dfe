//! Scheduled work while Kura runs (window open or only in the tray): backups per target on their
//! schedules and the cleanup run on `cleanup.schedule`. Missed runs are caught up at start, a
//! pause holds them back, one target never runs twice at once. The tray icon and its tooltip
//! show the backup state; a desktop notification says when a target fails and when it recovers.
//!
//! The policy (what is due, what is resting, when a target is overdue, the state at a glance)
//! lives in the engine, `kura_backup::policy` with `kura-schedule`'s agenda, pure and tested; this
//! module gathers the targets, their health and runs and the pause every [`TICK`], asks it with
//! the real clock and local time, and starts what it returns.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Local, TimeZone};
use kura_backup::{
    overall_state, BackupState, Backups, Pause, RunRecord, RunResult, ScheduledTarget, Target,
    TargetHealth, TargetStatus, CLEANUP_KEY,
};
use kura_core::{CleanupOptions, Job, Progress, Vault};
use kura_schedule::Agenda;
use serde::Serialize;
use tauri::{AppHandle, Manager};
use tauri_specta::Event;

use crate::commands::{AppState, VaultChanged};

/// How often the scheduler looks at the clock.
const TICK: Duration = Duration::from_secs(20);
/// How many recent runs of a target the policy looks at (to find the last one that counts).
const RECENT_RUNS: u32 = 50;
/// How many recent cleanup runs it looks at (to find the last one that was not a dry run).
const RECENT_CLEANUPS: u32 = 20;

/// Everything about backups, for the tray, the dashboard and the Backups view.
#[derive(Clone, Debug, Serialize, specta::Type, tauri_specta::Event)]
pub struct BackupStatus {
    /// The state at a glance.
    pub state: BackupState,
    /// The pause in force, if any.
    pub paused: Option<Pause>,
    /// Each target.
    pub targets: Vec<TargetStatus>,
    /// When the last successful backup (any target) finished.
    pub last_success: Option<i64>,
    /// When the next scheduled backup (any target) is due.
    pub next_run: Option<i64>,
    /// What went wrong reading the state, if something did.
    pub error: Option<String>,
}

/// What the scheduler remembers between ticks.
#[derive(Default)]
pub struct Scheduler {
    agenda: Mutex<Agenda>,
    /// Progress of backups running in this app, by target.
    progress: Mutex<HashMap<String, Progress>>,
    /// Jobs of running backups, by target (to cancel them).
    jobs: Mutex<HashMap<String, Job>>,
    /// When the scheduler first saw each target or the cleanup schedule: a schedule that never
    /// ran is first due after this.
    first_seen: Mutex<HashMap<String, i64>>,
    /// Whether each target's last finished run failed, for notifications on changes only.
    failing: Mutex<HashMap<String, bool>>,
    /// The last status sent, to send only changes.
    last_sent: Mutex<Option<String>>,
}

/// The engine's real clock: what the scheduler, the tray and the commands call now.
pub(crate) fn now() -> i64 {
    use kura_core::Clock;
    kura_core::SystemClock.now()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Scheduler {
    fn since(&self, key: &str, now: i64) -> i64 {
        *lock(&self.first_seen).entry(key.to_string()).or_insert(now)
    }

    /// The state of every target and of backups as a whole.
    pub fn status(&self, vault: &Vault) -> BackupStatus {
        match self.read_status(vault) {
            Ok(s) => s,
            Err(e) => BackupStatus {
                state: BackupState::Failed,
                paused: None,
                targets: Vec::new(),
                last_success: None,
                next_run: None,
                error: Some(e.message().to_string()),
            },
        }
    }

    /// One target as the policy sees it. A schedule that never ran is first due after the
    /// scheduler first saw it (not after the target was added on demand only).
    fn scheduled<'a>(
        &self,
        target: &'a Target,
        health: &'a [TargetHealth],
        runs: &'a [RunRecord],
        now: i64,
    ) -> ScheduledTarget<'a> {
        ScheduledTarget {
            target,
            health: health.iter().find(|h| h.target == target.name),
            runs,
            since: if target.schedule.trim().is_empty() {
                now
            } else {
                self.since(&target.name, now)
            },
        }
    }

    fn read_status(&self, vault: &Vault) -> kura_core::Result<BackupStatus> {
        let backups = Backups::new(vault);
        let now = now();
        let paused = backups.paused()?;
        let health = backups.health()?;
        let progress = lock(&self.progress).clone();
        let mut targets = Vec::new();
        for target in backups.targets()? {
            let runs = backups.runs(Some(&target.name), RECENT_RUNS)?;
            let last_success = backups.last_success(&target.name)?;
            targets.push(kura_backup::target_status(
                &self.scheduled(&target, &health, &runs, now),
                last_success.as_ref(),
                progress.get(&target.name).cloned(),
                now,
                &Local,
            ));
        }
        Ok(BackupStatus {
            state: overall_state(&targets, paused.is_some()),
            paused,
            last_success: targets.iter().filter_map(|t| t.last_success).max(),
            next_run: targets.iter().filter_map(|t| t.next_run).min(),
            targets,
            error: None,
        })
    }

    /// Starts a backup of `target` now (by schedule or by hand), unless one is running or the
    /// target is resting after repeated failures (its circuit breaker is open).
    pub fn start_backup(self: &Arc<Self>, app: &AppHandle, target: &str) -> kura_core::Result<()> {
        if let Ok(vault) = app.state::<AppState>().vault.clone() {
            Backups::new(&vault).check_not_resting(target)?;
        }
        if !lock(&self.agenda).start(target) {
            return Err(kura_core::Error::new(
                kura_core::ErrorKind::Busy,
                format!("a backup to '{target}' is already running"),
            ));
        }
        let me = self.clone();
        let app = app.clone();
        let name = target.to_string();
        let progress_me = self.clone();
        let progress_app = app.clone();
        let progress_name = name.clone();
        let job = Job::with_progress(move |p| {
            lock(&progress_me.progress).insert(progress_name.clone(), p.clone());
            progress_me.publish(&progress_app);
        });
        lock(&self.jobs).insert(name.clone(), job.clone());
        lock(&self.progress).insert(
            name.clone(),
            Progress {
                phase: "starting",
                done: 0,
                total: None,
                unit: "files",
                item: None,
            },
        );
        self.publish(&app);
        std::thread::spawn(move || {
            let result = match app.state::<AppState>().vault.clone() {
                Ok(vault) => Backups::new(&vault).run_backup(&name, &job).map(|_| ()),
                Err(e) => Err(kura_core::Error::new(
                    kura_core::ErrorKind::NotFound,
                    e.message,
                )),
            };
            lock(&me.progress).remove(&name);
            lock(&me.jobs).remove(&name);
            lock(&me.agenda).finish(&name);
            me.after_run(&app, &name, result);
        });
        Ok(())
    }

    /// Cancels the running backup of `target`, if any.
    pub fn cancel_backup(&self, target: &str) -> bool {
        match lock(&self.jobs).get(target) {
            Some(job) => {
                job.cancel();
                true
            }
            None => false,
        }
    }

    /// Notifies on a change between failing and working (never once per failed run), then
    /// refreshes the tray and the views.
    fn after_run(&self, app: &AppHandle, target: &str, result: kura_core::Result<()>) {
        let failed = match &result {
            Ok(()) => Some(false),
            // A drive that is not connected, or a cancel, is not a failure of the backup.
            Err(e) if e.kind() == kura_core::ErrorKind::Unavailable => None,
            Err(e) if e.kind() == kura_core::ErrorKind::Cancelled => None,
            Err(_) => Some(true),
        };
        if let Some(failed) = failed {
            let was_failing = lock(&self.failing).insert(target.to_string(), failed);
            match (was_failing, failed, &result) {
                (Some(false) | None, true, Err(e)) => {
                    notify(app, &format!("Backup to {target} failed"), e.message())
                }
                (Some(true), false, _) => notify(
                    app,
                    &format!("Backups to {target} work again"),
                    "The last backup finished without errors.",
                ),
                _ => {}
            }
        }
        if let Err(e) = &result {
            tracing::warn!("backup to {target}: {e}");
        }
        VaultChanged::send(app, None, "backup");
        self.publish(app);
    }

    /// Sends the status to the views and the tray when it changed.
    pub fn publish(&self, app: &AppHandle) {
        let Ok(vault) = app.state::<AppState>().vault.clone() else {
            return;
        };
        let status = self.status(&vault);
        let text = serde_json::to_string(&status).unwrap_or_default();
        {
            let mut last = lock(&self.last_sent);
            if last.as_deref() == Some(text.as_str()) {
                return;
            }
            *last = Some(text);
        }
        crate::tray::show_backup_status(app, &status);
        if let Err(e) = status.emit(app) {
            tracing::warn!("cannot send the backup status: {e}");
        }
    }

    /// One look at the clock: starts due backups and a due cleanup.
    fn tick(self: &Arc<Self>, app: &AppHandle) {
        let Ok(vault) = app.state::<AppState>().vault.clone() else {
            return;
        };
        let now = now();
        let backups = Backups::new(&vault);
        let paused = backups.paused().unwrap_or(None);
        let targets = backups.targets().unwrap_or_default();
        let health = backups.health().unwrap_or_default();
        let runs: Vec<Vec<RunRecord>> = targets
            .iter()
            .map(|t| backups.runs(Some(&t.name), RECENT_RUNS).unwrap_or_default())
            .collect();
        let scheduled: Vec<ScheduledTarget> = targets
            .iter()
            .zip(&runs)
            .map(|(t, runs)| self.scheduled(t, &health, runs, now))
            .collect();
        let due = kura_backup::due_backups(&lock(&self.agenda), &scheduled, paused, now, &Local);
        for target in due {
            // A target that cannot be reached waits quietly; it is overdue, not failed.
            if let Err(e) = self.start_backup(app, &target) {
                tracing::info!("{e}");
            }
        }
        self.cleanup_if_due(app, &vault, now);
        self.publish(app);
    }

    fn cleanup_if_due(self: &Arc<Self>, app: &AppHandle, vault: &Arc<Vault>, now: i64) {
        let Ok(Some(schedule)) = vault.config().cleanup.parsed_schedule() else {
            return;
        };
        let runs = vault
            .cleanup_runs(Some(RECENT_CLEANUPS))
            .unwrap_or_default();
        let since = self.since(CLEANUP_KEY, now);
        let due =
            kura_backup::cleanup_due(&lock(&self.agenda), &schedule, &runs, since, now, &Local);
        if !due || !lock(&self.agenda).start(CLEANUP_KEY) {
            return;
        }
        let me = self.clone();
        let app = app.clone();
        let vault = vault.clone();
        std::thread::spawn(move || {
            match vault.cleanup(&CleanupOptions::default(), &Job::default()) {
                Ok(report) => {
                    tracing::info!("scheduled cleanup freed {} bytes", report.bytes_freed);
                    VaultChanged::send(&app, None, "cleanup");
                    crate::watcher::refresh(&app);
                }
                Err(e) => tracing::warn!("scheduled cleanup failed: {e}"),
            }
            lock(&me.agenda).finish(CLEANUP_KEY);
        });
    }
}

fn notify(app: &AppHandle, title: &str, body: &str) {
    use tauri_plugin_notification::NotificationExt;
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!("cannot show a notification ({title}): {e}");
    }
}

/// A time for the tray's tooltip: "14:05" today, "Mon 02:00" within a week, else the date.
pub fn short_time(at: i64, now: i64) -> String {
    let (Some(t), Some(n)) = (
        Local.timestamp_opt(at, 0).single(),
        Local.timestamp_opt(now, 0).single(),
    ) else {
        return String::new();
    };
    if t.date_naive() == n.date_naive() {
        t.format("today %H:%M").to_string()
    } else if (at - now).abs() < 6 * 86_400 {
        t.format("%a %H:%M").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// Starts the scheduler: catches up missed runs at once, then looks every [`TICK`].
pub fn start(app: &AppHandle) -> Arc<Scheduler> {
    let scheduler = Arc::new(Scheduler::default());
    let me = scheduler.clone();
    let app = app.clone();
    std::thread::Builder::new()
        .name("kura-scheduler".into())
        .spawn(move || loop {
            me.tick(&app);
            std::thread::sleep(TICK);
        })
        .map_err(|e| tracing::error!("the scheduler cannot start: {e}"))
        .ok();
    scheduler
}

/// The last run's outcome in words, for the tooltip.
pub fn describe_result(r: &RunRecord) -> &'static str {
    match r.result {
        RunResult::Ok => "ok",
        RunResult::Failed => "failed",
        RunResult::Unavailable => "target unavailable",
        RunResult::Cancelled => "cancelled",
        RunResult::Interrupted => "interrupted",
        RunResult::Running => "running",
    }
}
