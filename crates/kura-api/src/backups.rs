//! Backups as the doors see them: the status of every target and of backups as a whole, runs
//! started by hand or by the scheduler (never two of one target at once in this process; the
//! engine's target lock keeps other processes out), and the target settings with their secrets.
//!
//! The policy (what is due, resting, overdue, the state at a glance) is `kura_backup::policy`;
//! this module gathers what it needs from the vault and acts on its answers. Status changes are
//! published as `backup.status` events (data: the [`BackupStatus`]); a target that starts failing
//! or works again as `backup.health` (`{ target, failing, message }`), for a notification.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Local;
use kura_backup::{
    overall_state, BackupContents, BackupInfo, BackupRestoreReport, BackupState,
    BackupVerifyReport, Backups, Pause, PauseLength, PruneReport, Rate, RestorePreview, Retention,
    RunRecord, RunReport, ScheduledTarget, Secrets, Target, TargetHealth, TargetStatus, TestReport,
    VerifyMode,
};
use kura_core::{ErrorKind, Job, Progress};
use kura_schedule::Agenda;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, ErrorCode, SubjectKind};
use crate::operations::{Operation, ProgressSink};
use crate::{Api, VaultChange};

/// Whether a running backup was asked to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Cancelled {
    /// False when no backup of this target was running.
    pub cancelled: bool,
}

/// How many recent runs of a target the policy looks at (to find the last one that counts).
pub(crate) const RECENT_RUNS: u32 = 50;
/// Least time between two `backup.status` events that differ only in progress counts.
const STATUS_EVENT_INTERVAL: Duration = Duration::from_secs(1);

/// Everything about backups, for the tray, the dashboard and the Backups view.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
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

impl BackupStatus {
    /// The status of these targets as a whole: the state at a glance, the last success and the
    /// next run of any of them.
    pub fn of(targets: Vec<TargetStatus>, paused: Option<Pause>) -> BackupStatus {
        BackupStatus {
            state: overall_state(&targets, paused.is_some()),
            paused,
            last_success: targets.iter().filter_map(|t| t.last_success).max(),
            next_run: targets.iter().filter_map(|t| t.next_run).min(),
            targets,
            error: None,
        }
    }
}

/// Secrets typed into the target form. They go to the OS keyring (or nowhere, when the person
/// chose the environment) and never into a file.
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct TargetSecrets {
    /// S3 access key id.
    pub access_key_id: Option<String>,
    /// S3 secret access key.
    pub secret_access_key: Option<String>,
    /// Encryption passphrase.
    pub passphrase: Option<String>,
}

/// The settings of a target that can change after it is added.
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct TargetChanges {
    /// When it runs ("daily at 02:00", ...); empty for on demand only.
    pub schedule: String,
    /// Which backups prune keeps.
    pub retention: Retention,
    /// Upload limit: bytes per second, or as people write it ("5 MiB/s"); `None` or empty text
    /// for none.
    pub bandwidth_limit: Option<Rate>,
}

/// What the backup runner of this process remembers.
#[derive(Default)]
pub(crate) struct Runner {
    /// Runs in progress (and the cleanup), so one never starts twice.
    pub(crate) agenda: Mutex<Agenda>,
    /// Progress of the backups running in this process, by target.
    progress: Mutex<HashMap<String, Progress>>,
    /// The operation of each running backup, by target (to cancel it).
    operations: Mutex<HashMap<String, String>>,
    /// When this process first saw each schedule: one that never ran is first due after this.
    first_seen: Mutex<HashMap<String, i64>>,
    /// The last status published, to publish changes only.
    last_sent: Mutex<Option<String>>,
    /// The last status logged as an event (its progress counts left out), and when.
    last_logged: Mutex<Option<(String, Instant)>>,
    /// When the cold tier's last pass failed (the next waits a while).
    pub(crate) cold_failed_at: Mutex<Option<Instant>>,
    /// When the copies of expired shares are looked for next.
    pub(crate) share_sweep_at: Mutex<Option<Instant>>,
    /// Called on the run's thread before it starts (tests hold a run open with it).
    #[cfg(test)]
    pub(crate) before_run: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Runner {
    pub(crate) fn since(&self, key: &str, now: i64) -> i64 {
        *lock(&self.first_seen).entry(key.to_string()).or_insert(now)
    }

    /// One target as the policy sees it. A schedule that never ran is first due after this
    /// process first saw it.
    pub(crate) fn scheduled<'a>(
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
            pending: None,
        }
    }
}

fn target_error(e: kura_core::Error, target: &str) -> ApiError {
    let err = ApiError::from(e);
    if err.subject.is_some() {
        err
    } else {
        err.about(SubjectKind::Target, target)
    }
}

impl Api {
    /// The backups of the vault, by this service's clock.
    pub(crate) fn backups(&self) -> Backups<'_> {
        Backups::with_clock(&self.vault, self.clock.clone())
    }

    /// The state of every target and of backups as a whole.
    pub fn backup_status(&self) -> BackupStatus {
        self.read_backup_status().unwrap_or_else(|e| BackupStatus {
            state: BackupState::Failed,
            paused: None,
            targets: Vec::new(),
            last_success: None,
            next_run: None,
            error: Some(e.message().to_string()),
        })
    }

    fn read_backup_status(&self) -> kura_core::Result<BackupStatus> {
        let backups = self.backups();
        let now = self.now();
        let paused = backups.paused()?;
        let health = backups.health()?;
        let progress = lock(&self.backups.progress).clone();
        let mut targets = Vec::new();
        for target in backups.targets()? {
            let runs = backups.runs(Some(&target.name), RECENT_RUNS)?;
            let last_success = backups.last_success(&target.name)?;
            targets.push(kura_backup::target_status(
                &self.scheduled(&target, &health, &runs, last_success.as_ref(), now),
                last_success.as_ref(),
                progress.get(&target.name).cloned(),
                now,
                &Local,
            ));
        }
        Ok(BackupStatus::of(targets, paused))
    }

    /// One target as the scheduler's policy sees it at `now`; for a target backed up after
    /// every change, with the vault's changes its last successful backup lacks (all of them,
    /// when it never had one).
    pub(crate) fn scheduled<'a>(
        &self,
        target: &'a Target,
        health: &'a [TargetHealth],
        runs: &'a [RunRecord],
        last_success: Option<&RunRecord>,
        now: i64,
    ) -> ScheduledTarget<'a> {
        let mut scheduled = self.backups.scheduled(target, health, runs, now);
        scheduled.pending = self
            .backups()
            .pending_changes(target, last_success, scheduled.since)
            .unwrap_or_else(|e| {
                tracing::warn!("cannot tell what changed since the last backup: {e}");
                None
            });
        scheduled
    }

    /// Publishes the backup status as a `backup.status` event when it changed since the last
    /// one this process published.
    pub fn publish_backup_status(&self) {
        let status = self.backup_status();
        let json = serde_json::to_value(&status).unwrap_or_default();
        let text = json.to_string();
        {
            let mut last = lock(&self.backups.last_sent);
            if last.as_deref() == Some(text.as_str()) {
                return;
            }
            *last = Some(text);
        }
        // The log gets every change but progress counts at most once per
        // STATUS_EVENT_INTERVAL: a long backup must not push everything else out of it.
        let mut stripped = status.clone();
        for t in &mut stripped.targets {
            if let Some(p) = &mut t.running {
                (p.done, p.total, p.item) = (0, None, None);
            }
        }
        let key = serde_json::to_string(&stripped).unwrap_or_default();
        let log = {
            let mut last = lock(&self.backups.last_logged);
            let due = last
                .as_ref()
                .is_none_or(|(k, at)| *k != key || at.elapsed() >= STATUS_EVENT_INTERVAL);
            if due {
                *last = Some((key, Instant::now()));
            }
            due
        };
        if log {
            self.events.emit("backup.status", None, json);
        }
        self.backup_status.send_replace(Some(status));
    }

    /// The backup status as last published, in this process: for a door that shows it as it
    /// changes (the desktop's tray and window), without reading it back from events.
    pub fn watch_backup_status(&self) -> tokio::sync::watch::Receiver<Option<BackupStatus>> {
        self.backup_status.subscribe()
    }

    /// Starts a backup of every target now (the tray's "Back up now"); targets already running
    /// or resting are skipped.
    pub fn start_all_backups(self: &Arc<Self>) -> ApiResult<Vec<Operation>> {
        let mut started = Vec::new();
        for t in self.backups().targets()? {
            match self.start_backup(&t.name) {
                Ok(op) => started.push(op),
                Err(e) => tracing::info!("{e}"),
            }
        }
        Ok(started)
    }

    /// Whether a backup of `target` runs in this process.
    pub fn backup_running(&self, target: &str) -> bool {
        lock(&self.backups.agenda).is_running(target)
    }

    /// Starts a backup of `target` now (by hand or by schedule) as an operation of kind
    /// `backup`, unless one runs already (`busy`) or the target rests after repeated failures
    /// (`unavailable`). Its progress shows in the backup status.
    pub fn start_backup(self: &Arc<Self>, target: &str) -> ApiResult<Operation> {
        // An unknown target is refused before anything starts.
        self.backups()
            .target(target)
            .map_err(|e| target_error(e, target))?;
        self.backups()
            .check_not_resting(target)
            .map_err(|e| target_error(e, target))?;
        if !lock(&self.backups.agenda).start(target) {
            return Err(ApiError::new(
                ErrorCode::Busy,
                format!("a backup to '{target}' is already running; wait for it or cancel it"),
            )
            .about(SubjectKind::Target, target));
        }
        lock(&self.backups.progress).insert(
            target.to_string(),
            Progress {
                phase: "starting",
                done: 0,
                total: None,
                unit: "files",
                item: None,
            },
        );
        self.publish_backup_status();
        let weak = Arc::downgrade(self);
        let name = target.to_string();
        let sink: ProgressSink = Arc::new(move |p: &Progress| {
            // A report flushed after the run ended is not progress any more.
            if let Some(api) = weak.upgrade().filter(|a| a.backup_running(&name)) {
                lock(&api.backups.progress).insert(name.clone(), p.clone());
                api.publish_backup_status();
            }
        });
        let api = self.clone();
        let name = target.to_string();
        let started = self.operations.start_with_sink(
            "backup",
            None,
            None,
            None,
            Some(sink),
            move |job: &Job| {
                #[cfg(test)]
                if let Some(hold) = lock(&api.backups.before_run).take() {
                    hold();
                }
                let result = api.backups().run_backup(&name, job);
                lock(&api.backups.progress).remove(&name);
                lock(&api.backups.operations).remove(&name);
                lock(&api.backups.agenda).finish(&name);
                api.after_backup(&name, result.as_ref().err());
                result.map_err(|e| target_error(e, &name))
            },
        );
        match started {
            Ok(op) => {
                lock(&self.backups.operations).insert(target.to_string(), op.id.clone());
                Ok(op)
            }
            Err(e) => {
                lock(&self.backups.progress).remove(target);
                lock(&self.backups.agenda).finish(target);
                Err(e)
            }
        }
    }

    /// Cancels the running backup of `target`, if one runs in this process; the run stops at
    /// its next safe point.
    pub fn cancel_backup(&self, target: &str) -> Cancelled {
        let id = lock(&self.backups.operations).get(target).cloned();
        Cancelled {
            cancelled: id.is_some_and(|id| self.operations.cancel(&id).is_ok()),
        }
    }

    /// Announces a change between failing and working (never once per failed run), and that
    /// the vault changed.
    fn after_backup(&self, target: &str, error: Option<&kura_core::Error>) {
        let failed = match error {
            None => Some(false),
            // A drive that is not connected, or a cancel, is not a failure of the backup.
            Some(e) if matches!(e.kind(), ErrorKind::Unavailable | ErrorKind::Cancelled) => None,
            Some(_) => Some(true),
        };
        if let Some(failed) = failed {
            if self.health.changed(&format!("backup:{target}"), failed) {
                let message = match error {
                    Some(e) if failed => e.message().to_string(),
                    _ => "The last backup finished without errors.".to_string(),
                };
                self.events.emit(
                    "backup.health",
                    None,
                    serde_json::json!({ "target": target, "failing": failed, "message": message }),
                );
            }
        }
        if let Some(e) = error {
            tracing::warn!("backup to {target}: {e}");
        }
        self.changed(None, VaultChange::Backup);
        self.publish_backup_status();
    }

    /// Adds a backup target. Empty secrets count as none; with `use_keyring` the secrets go to
    /// the OS keyring, otherwise they come from the environment at each run.
    pub fn add_backup_target(
        &self,
        target: &Target,
        secrets: TargetSecrets,
        use_keyring: bool,
    ) -> ApiResult<TestReport> {
        let secrets = Secrets {
            access_key_id: secrets.access_key_id.filter(|s| !s.is_empty()),
            secret_access_key: secrets.secret_access_key.filter(|s| !s.is_empty()),
            passphrase: secrets.passphrase.filter(|s| !s.is_empty()),
        };
        let report = self.backups().add_target(target, &secrets, use_keyring)?;
        self.changed(None, VaultChange::BackupTargets);
        self.publish_backup_status();
        Ok(report)
    }

    /// Changes a target's schedule, retention and upload limit.
    pub fn update_backup_target(&self, name: &str, changes: TargetChanges) -> ApiResult<Target> {
        self.change_backup_target(name, |t| {
            t.schedule = changes.schedule.trim().to_string();
            t.retention = changes.retention;
            t.bandwidth_limit = changes.bandwidth_limit;
        })
    }

    /// Changes what `change` changes of a target's settings; the result is checked as a whole
    /// before it is saved (its place and encryption cannot change).
    pub fn change_backup_target(
        &self,
        name: &str,
        change: impl FnOnce(&mut Target),
    ) -> ApiResult<Target> {
        let t = self
            .backups()
            .update_target(name, change)
            .map_err(|e| target_error(e, name))?;
        self.changed(None, VaultChange::BackupTargets);
        self.publish_backup_status();
        Ok(t)
    }

    /// Runs a backup of `target` on the calling thread (`kura backup run`), announced as one
    /// started with [`Api::start_backup`] is; a run of the same target in another process is
    /// refused (`busy`) by the target's lock.
    pub fn run_backup(&self, target: &str, job: &Job) -> ApiResult<RunReport> {
        self.backups()
            .target(target)
            .map_err(|e| target_error(e, target))?;
        let result = self.backups().run_backup(target, job);
        self.after_backup(target, result.as_ref().err());
        result.map_err(|e| target_error(e, target))
    }

    /// Removes a target (its backups stay where they are).
    pub fn remove_backup_target(&self, name: &str) -> ApiResult<()> {
        self.backups().remove_target(name)?;
        self.changed(None, VaultChange::BackupTargets);
        self.publish_backup_status();
        Ok(())
    }

    /// Connects to a target and checks its repository; a success ends its rest.
    pub fn test_backup_target(&self, name: &str) -> ApiResult<TestReport> {
        let r = self
            .backups()
            .test_target(name)
            .map_err(|e| target_error(e, name));
        self.publish_backup_status();
        r
    }

    /// Pauses scheduled backups for `length`, or resumes them when `length` is `None`; returns
    /// the pause now in force.
    pub fn pause_backups(&self, length: Option<PauseLength>) -> ApiResult<Option<Pause>> {
        let backups = self.backups();
        let pause = match length {
            Some(l) => Some(backups.pause(l)?),
            None => {
                backups.resume()?;
                None
            }
        };
        self.publish_backup_status();
        Ok(pause)
    }

    /// Recent runs (of one target, or all), newest first, at most `limit` of them.
    pub fn backup_runs(&self, target: Option<&str>, limit: u32) -> ApiResult<Vec<RunRecord>> {
        Ok(self.backups().runs(target, limit)?)
    }

    /// The backup targets, by name.
    pub fn backup_targets(&self) -> ApiResult<Vec<Target>> {
        Ok(self.backups().targets()?)
    }

    /// Each target's health: its state, failures in a row, last success and last error.
    pub fn backup_health(&self) -> ApiResult<Vec<TargetHealth>> {
        Ok(self.backups().health()?)
    }

    /// The backups kept at `target`.
    pub fn backups_at(&self, target: &str) -> ApiResult<Vec<BackupInfo>> {
        self.backups()
            .backups(target)
            .map_err(|e| target_error(e, target))
    }

    /// What one backup holds.
    pub fn backup_contents(&self, target: &str, backup: &str) -> ApiResult<BackupContents> {
        self.backups()
            .backup_contents(target, backup)
            .map_err(|e| target_error(e, target))
    }

    /// Restores a backup (one project, or everything) into `destination`.
    pub fn restore_backup(
        &self,
        target: &str,
        backup: &str,
        project: Option<&str>,
        destination: PathBuf,
        job: &Job,
    ) -> ApiResult<BackupRestoreReport> {
        self.backups()
            .restore(target, backup, project, &destination, job)
            .map_err(|e| target_error(e, target))
    }

    /// What restoring `project` (or everything) of `backup` into `destination` would write
    /// where, before it runs.
    pub fn restore_preview(
        &self,
        target: &str,
        backup: &str,
        project: Option<&str>,
        destination: PathBuf,
    ) -> ApiResult<RestorePreview> {
        self.backups()
            .restore_preview(target, backup, project, &destination)
            .map_err(|e| target_error(e, target))
    }

    /// Checks the backups at `target`.
    pub fn verify_backups(
        &self,
        target: &str,
        mode: VerifyMode,
        job: &Job,
    ) -> ApiResult<BackupVerifyReport> {
        let r = self
            .backups()
            .verify(target, mode, job)
            .map_err(|e| target_error(e, target));
        self.publish_backup_status();
        r
    }

    /// Removes the backups at `target` that its retention does not keep.
    pub fn prune_backups(&self, target: &str, dry_run: bool, job: &Job) -> ApiResult<PruneReport> {
        let r = self
            .backups()
            .prune(target, dry_run, job)
            .map_err(|e| target_error(e, target))?;
        if !dry_run {
            self.changed(None, VaultChange::Backup);
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use kura_backup::{secret_variables, LocationKind};
    use kura_core::Progress;

    use super::lock;
    use crate::testing::Scene;

    #[test]
    fn a_restore_writes_where_its_preview_said() {
        let s = Scene::new();
        let op = s.api.start_backup("drive").unwrap();
        s.api
            .operations()
            .wait(&op.id, std::time::Duration::from_secs(60))
            .unwrap();
        let dest = s.dir.path().join("restored");
        let preview = s
            .api
            .restore_preview("drive", "latest", None, dest.clone())
            .unwrap();
        assert!(preview.whole);
        assert_eq!(preview.rows.len(), 1);
        s.api
            .restore_backup(
                "drive",
                "latest",
                None,
                dest.clone(),
                &kura_core::Job::default(),
            )
            .unwrap();
        let folder = std::path::Path::new(&preview.rows[0].to);
        assert!(folder.starts_with(&dest), "{folder:?}");
        assert_eq!(
            std::fs::read_to_string(folder.join("index.html")).unwrap(),
            "<h1>hello</h1>\n",
            "the project's files are in the folder the preview named"
        );
        let one = s
            .api
            .restore_preview("drive", "latest", Some("site"), dest.join("one"))
            .unwrap();
        assert!(!one.whole);
        assert_eq!(one.rows[0].to, dest.join("one").display().to_string());
        let unknown = s
            .api
            .restore_preview("drive", "latest", Some("nope"), dest)
            .unwrap_err();
        assert_eq!(unknown.code, crate::ErrorCode::NotFound);
    }

    #[test]
    fn progress_reaches_the_live_status_at_once_and_the_log_thinned() {
        let s = Scene::new();
        let mut live = s.api.watch_backup_status();
        let before = s.api.events().last_id().unwrap();
        lock(&s.api.backups.agenda).start("drive");
        for done in 0..100 {
            let progress = Progress {
                phase: "storing",
                done,
                total: Some(100),
                unit: "files",
                item: None,
            };
            lock(&s.api.backups.progress).insert("drive".into(), progress);
            s.api.publish_backup_status();
        }
        let latest = live.borrow_and_update().clone().unwrap();
        assert_eq!(latest.targets[0].running.as_ref().unwrap().done, 99);
        let logged = s
            .api
            .events()
            .since(before, &["backup.status".into()], 1000)
            .unwrap()
            .events;
        assert!(
            (1..5).contains(&logged.len()),
            "100 progress reports should not fill the event log: {}",
            logged.len()
        );
    }

    #[test]
    fn the_secret_variables_of_a_target_follow_its_name_place_and_encryption() {
        let vars: Vec<String> = secret_variables("off-site", LocationKind::S3, true)
            .into_iter()
            .map(|v| v.variable)
            .collect();
        assert_eq!(
            vars,
            [
                "KURA_BACKUP_OFF_SITE_ACCESS_KEY_ID",
                "KURA_BACKUP_OFF_SITE_SECRET_ACCESS_KEY",
                "KURA_BACKUP_OFF_SITE_PASSPHRASE"
            ]
        );
        assert!(secret_variables("usb", LocationKind::Folder, false).is_empty());
    }
}
