//! Scheduled work while Kura runs (window open or only in the tray): backups per target on their
//! schedules and the cleanup run on `cleanup.schedule`. Missed runs are caught up at start, a
//! pause holds them back, one target never runs twice at once. The tray icon and its tooltip
//! show the backup state; a desktop notification says when a target fails and when it recovers.
//!
//! The rules live in `kura-schedule` (pure, tested with a test clock); this module asks them
//! every [`TICK`] with the real clock and local time, and starts what is due.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Local, TimeZone};
use kura_backup::{Backups, HealthState, Pause, RunRecord, RunResult, Target, TargetHealth};
use kura_core::{CleanupOptions, Job, Progress, Vault};
use kura_schedule::{Agenda, Schedule};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};
use tauri_specta::Event;

use crate::commands::{AppState, VaultChanged};

/// How often the scheduler looks at the clock.
const TICK: Duration = Duration::from_secs(20);
/// A scheduled time missed by more than this without a success makes a target overdue.
const OVERDUE_GRACE_SECS: i64 = 3600;
/// How soon a run that could not reach its target is tried again.
const UNAVAILABLE_RETRY_SECS: i64 = 600;
/// The agenda's key for the cleanup run (target names cannot contain ':').
const CLEANUP: &str = "cleanup:";

/// The state of backups at a glance: what the tray icon shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum BackupState {
    /// No backup target is set up.
    NoTargets,
    /// Every target's last backup worked (or none is due yet).
    Ok,
    /// A backup is running.
    Running,
    /// A target's last backup failed.
    Failed,
    /// A target missed its scheduled time (its drive is absent, say).
    Overdue,
    /// Scheduled backups are paused.
    Paused,
}

/// One target as the Backups view and the tray see it.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct TargetStatus {
    /// Its settings.
    pub target: Target,
    /// The schedule in words ("every day at 02:00"); empty when it runs on demand only.
    pub schedule_text: String,
    /// How it is doing.
    pub health: TargetHealth,
    /// Its last run.
    pub last_run: Option<RunRecord>,
    /// When its last successful run finished.
    pub last_success: Option<i64>,
    /// When the next scheduled run is due (now, for a missed run); `None` on demand only.
    pub next_run: Option<i64>,
    /// Whether a scheduled time passed without a successful run.
    pub overdue: bool,
    /// The progress of its running backup, when one runs in this app.
    pub running: Option<Progress>,
}

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

    fn read_status(&self, vault: &Vault) -> kura_core::Result<BackupStatus> {
        let backups = Backups::new(vault);
        let now = now();
        let paused = backups.paused()?;
        let health = backups.health()?;
        let progress = lock(&self.progress).clone();
        let mut targets = Vec::new();
        for target in backups.targets()? {
            let schedule = parse_schedule(&target.schedule);
            let last_run = backups.last_run(&target.name)?;
            let last_success = backups.last_success(&target.name)?;
            let job = schedule.as_ref().map(|s| kura_schedule::Job {
                key: target.name.clone(),
                schedule: s,
                last_started: last_run.as_ref().map(|r| r.started),
                since: self.since(&target.name, now),
            });
            let health = health
                .iter()
                .find(|h| h.target == target.name)
                .cloned()
                .unwrap_or(TargetHealth {
                    target: target.name.clone(),
                    state: HealthState::Ok,
                    consecutive_failures: 0,
                    last_error: None,
                    last_success: None,
                    last_attempt: None,
                    unhealthy_until: None,
                });
            targets.push(TargetStatus {
                schedule_text: schedule
                    .as_ref()
                    .map(Schedule::describe)
                    .unwrap_or_default(),
                next_run: job.as_ref().and_then(|j| j.next_run(now, &Local)),
                overdue: job.as_ref().is_some_and(|j| {
                    j.is_overdue(
                        last_success.as_ref().map(|r| r.started),
                        now,
                        OVERDUE_GRACE_SECS,
                        &Local,
                    )
                }),
                running: progress.get(&target.name).cloned(),
                last_success: last_success.and_then(|r| r.finished),
                last_run,
                health,
                target,
            });
        }
        let state = overall_state(&targets, paused.is_some());
        Ok(BackupStatus {
            state,
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
        let mut due = Vec::new();
        if let Ok(targets) = backups.targets() {
            let health = backups.health().unwrap_or_default();
            let schedules: Vec<(String, Schedule, Option<i64>)> = targets
                .iter()
                .filter(|t| {
                    // An unhealthy target is left alone until its cool-down is over.
                    !health
                        .iter()
                        .any(|h| h.target == t.name && h.unhealthy_until.is_some_and(|u| u > now))
                })
                .filter_map(|t| {
                    let s = parse_schedule(&t.schedule)?;
                    let runs = backups.runs(Some(&t.name), 50).unwrap_or_default();
                    // A target that could not be reached is tried again every little while
                    // (the drive may come back), without waiting for the next scheduled time.
                    if runs.first().is_some_and(|r| {
                        r.result == RunResult::Unavailable
                            && now - r.started < UNAVAILABLE_RETRY_SECS
                    }) {
                        return None;
                    }
                    // Runs that could not reach the target, or that the process did not live
                    // to finish, do not count as done: the scheduled run is still owed.
                    let last = runs
                        .iter()
                        .find(|r| {
                            !matches!(r.result, RunResult::Unavailable | RunResult::Interrupted)
                        })
                        .map(|r| r.started);
                    Some((t.name.clone(), s, last))
                })
                .collect();
            let jobs = schedules.iter().map(|(name, s, last)| kura_schedule::Job {
                key: name.clone(),
                schedule: s,
                last_started: *last,
                since: self.since(name, now),
            });
            due = lock(&self.agenda).due(jobs, paused, now, &Local);
        }
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
        let last = vault
            .cleanup_runs(Some(20))
            .ok()
            .and_then(|runs| runs.into_iter().find(|r| !r.dry_run).map(|r| r.started_at));
        let job = kura_schedule::Job {
            key: CLEANUP.into(),
            schedule: &schedule,
            last_started: last,
            since: self.since(CLEANUP, now),
        };
        let due = lock(&self.agenda).due([job], None, now, &Local);
        if due.is_empty() || !lock(&self.agenda).start(CLEANUP) {
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
            lock(&me.agenda).finish(CLEANUP);
        });
    }
}

/// The state at a glance, most pressing first: a running backup, then a failing target, a
/// pause, a missed schedule.
pub fn overall_state(targets: &[TargetStatus], paused: bool) -> BackupState {
    if targets.is_empty() {
        BackupState::NoTargets
    } else if targets.iter().any(|t| t.running.is_some()) {
        BackupState::Running
    } else if targets.iter().any(|t| {
        matches!(
            t.health.state,
            HealthState::Failing | HealthState::Unhealthy
        )
    }) {
        BackupState::Failed
    } else if paused {
        BackupState::Paused
    } else if targets.iter().any(|t| t.overdue) {
        BackupState::Overdue
    } else {
        BackupState::Ok
    }
}

fn parse_schedule(text: &str) -> Option<Schedule> {
    if text.trim().is_empty() {
        return None;
    }
    match text.parse() {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!("schedule '{text}' cannot be read: {e}");
            None
        }
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
