//! The scheduler's policy: which targets are due now, which are resting or waiting for an
//! unreachable target, when a target is overdue, the state of backups at a glance, and when the
//! cleanup run is due.
//!
//! Everything here is a plain function of plain data (targets, their health, their runs, the
//! pause) and of `now` and the time zone it is given: no clock, no disk, no threads. The desktop
//! shell gathers the data every little while and starts what [`due_backups`] returns; a future
//! `kura serve` uses the same rules. When each schedule repeats, catch-up of missed runs, the
//! pause and "never two runs of one job at once" are `kura-schedule`'s [`Agenda`] and [`Job`].

use chrono::{DateTime, TimeZone};
use kura_core::{Changes, CleanupReport, Progress};
use kura_schedule::{Agenda, CronDateTime, Job, Pause, Schedule};
use serde::{Deserialize, Serialize};

use crate::{HealthState, RunRecord, RunResult, Target, TargetHealth};

/// A scheduled time missed by more than this without a success makes a target overdue.
pub const OVERDUE_GRACE_SECS: i64 = 3600;
/// How soon a run that could not reach its target is tried again (the drive may come back),
/// without waiting for the next scheduled time.
pub const UNAVAILABLE_RETRY_SECS: i64 = 600;
/// The agenda's key for the cleanup run (target names cannot contain ':').
pub const CLEANUP_KEY: &str = "cleanup:";
/// The schedule of a target that is backed up after every change (a new version, a record
/// written, a project edited) instead of at set times.
pub const AFTER_EVERY_CHANGE: &str = "after every change";
/// A target backed up after every change waits until the vault has been still this long...
pub const REPLICATION_QUIET_SECS: i64 = 2;
/// ... or, while changes keep coming, until the first one it lacks is this old.
pub const REPLICATION_MAX_WAIT_SECS: i64 = 30;
/// After a failed run it waits this long before the next try (a run that could not reach the
/// target waits [`UNAVAILABLE_RETRY_SECS`]; repeated failures rest it).
pub const REPLICATION_RETRY_SECS: i64 = 60;
/// A target backed up after every change that still lacks a change this old is overdue.
pub const REPLICATION_OVERDUE_SECS: i64 = 600;

/// One target as the scheduler sees it: what was read from the vault for this look at the clock.
#[derive(Clone, Copy, Debug)]
pub struct ScheduledTarget<'a> {
    /// Its settings (the schedule string among them).
    pub target: &'a Target,
    /// Its health, when one was recorded.
    pub health: Option<&'a TargetHealth>,
    /// Its recent runs, newest first.
    pub runs: &'a [RunRecord],
    /// When the scheduler first saw it: a schedule that never ran is first due after this.
    pub since: i64,
    /// For a target backed up [`AFTER_EVERY_CHANGE`]: the vault's changes since its last
    /// successful backup started (`None`: that backup holds them all). Not looked at for others.
    pub pending: Option<Changes>,
}

/// Whether `target` is backed up after every change rather than at set times.
pub fn after_every_change(target: &Target) -> bool {
    target
        .schedule
        .trim()
        .eq_ignore_ascii_case(AFTER_EVERY_CHANGE)
}

/// The state of backups at a glance: what the tray icon shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
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
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
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
    /// Whether a scheduled time passed without a successful run (for a target backed up after
    /// every change: whether a change older than ten minutes is still not backed up).
    pub overdue: bool,
    /// Whether it is backed up after every change (its schedule is [`AFTER_EVERY_CHANGE`]).
    pub after_every_change: bool,
    /// For a target backed up after every change, the first change its last backup lacks
    /// (Unix seconds): it is that far behind. `None` when it is up to date (or runs at set
    /// times).
    pub behind_since: Option<i64>,
    /// The progress of its running backup, when one runs in this app.
    pub running: Option<Progress>,
}

/// A target's schedule; `None` when it runs on demand only (or its schedule cannot be read,
/// which is logged: targets are checked when saved, so only a hand-edited file gets here).
pub fn schedule_of(target: &Target) -> Option<Schedule> {
    let text = target.schedule.trim();
    if text.is_empty() || after_every_change(target) {
        return None;
    }
    match text.parse() {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(
                "schedule '{text}' of target '{}' cannot be read: {e}",
                target.name
            );
            None
        }
    }
}

/// Whether a past run counts as done: one that could not reach the target, or that the process
/// did not live to finish, does not; the scheduled run is still owed.
pub fn counts_as_done(run: &RunRecord) -> bool {
    !matches!(run.result, RunResult::Unavailable | RunResult::Interrupted)
}

/// Until when a target rests after repeated failures (its circuit breaker is open), if it still
/// does at `now`.
pub fn resting_until(health: Option<&TargetHealth>, now: i64) -> Option<i64> {
    health.and_then(|h| h.unhealthy_until).filter(|u| *u > now)
}

/// When a target whose last run could not reach it is tried again, if that is still ahead of
/// `now`. `runs` are newest first.
pub fn unavailable_retry_at(runs: &[RunRecord], now: i64) -> Option<i64> {
    runs.first()
        .filter(|r| r.result == RunResult::Unavailable)
        .map(|r| r.started + UNAVAILABLE_RETRY_SECS)
        .filter(|at| *at > now)
}

/// The agenda's job for a target with a schedule: its last run is the last one that counts as
/// done.
fn job<'s>(t: &ScheduledTarget<'_>, schedule: &'s Schedule) -> Job<'s> {
    Job {
        key: t.target.name.clone(),
        schedule,
        last_started: t.runs.iter().find(|r| counts_as_done(r)).map(|r| r.started),
        since: t.since,
    }
}

/// The names of the targets to back up at `now`: due by their schedule (a missed run once),
/// not running already, not paused, not resting after failures, and not waiting out
/// [`UNAVAILABLE_RETRY_SECS`] after a run that could not reach them.
pub fn due_backups<Tz: TimeZone>(
    agenda: &Agenda,
    targets: &[ScheduledTarget<'_>],
    pause: Option<Pause>,
    now: i64,
    tz: &Tz,
) -> Vec<String>
where
    DateTime<Tz>: CronDateTime,
{
    let ready: Vec<&ScheduledTarget<'_>> = targets
        .iter()
        .filter(|t| resting_until(t.health, now).is_none())
        .filter(|t| unavailable_retry_at(t.runs, now).is_none())
        .collect();
    let schedules: Vec<(&ScheduledTarget<'_>, Schedule)> = ready
        .iter()
        .filter_map(|t| Some((*t, schedule_of(t.target)?)))
        .collect();
    let mut due = agenda.due(schedules.iter().map(|(t, s)| job(t, s)), pause, now, tz);
    if !pause.is_some_and(|p| p.is_active(now)) {
        due.extend(
            ready
                .iter()
                .filter(|t| !agenda.is_running(&t.target.name))
                .filter(|t| replication_at(t).is_some_and(|at| at <= now))
                .map(|t| t.target.name.clone()),
        );
    }
    due
}

/// When a target backed up [`AFTER_EVERY_CHANGE`] that lacks changes runs next: once the vault
/// has been quiet for [`REPLICATION_QUIET_SECS`], or once the first change it lacks is
/// [`REPLICATION_MAX_WAIT_SECS`] old, and not within [`REPLICATION_RETRY_SECS`] of a failed
/// run. `None` when it is up to date or runs at set times.
pub fn replication_at(t: &ScheduledTarget<'_>) -> Option<i64> {
    if !after_every_change(t.target) {
        return None;
    }
    let pending = t.pending?;
    let at = (pending.last + REPLICATION_QUIET_SECS)
        .min(pending.first + REPLICATION_MAX_WAIT_SECS)
        .max(pending.first);
    let retry = t
        .runs
        .first()
        .filter(|r| r.result == RunResult::Failed)
        .map(|r| r.finished.unwrap_or(r.started) + REPLICATION_RETRY_SECS);
    Some(retry.map_or(at, |r| at.max(r)))
}

/// Whether the cleanup run on `schedule` is due at `now` (and not running already). `runs` are
/// past cleanup runs, newest first; a dry run does not count.
pub fn cleanup_due<Tz: TimeZone>(
    agenda: &Agenda,
    schedule: &Schedule,
    runs: &[CleanupReport],
    since: i64,
    now: i64,
    tz: &Tz,
) -> bool
where
    DateTime<Tz>: CronDateTime,
{
    let job = Job {
        key: CLEANUP_KEY.into(),
        schedule,
        last_started: runs.iter().find(|r| !r.dry_run).map(|r| r.started_at),
        since,
    };
    !agenda.due([job], None, now, tz).is_empty()
}

/// How a target is doing at `now`. `last_success` is its last successful run (which may be older
/// than the runs in `t`); `running` the progress of its backup running in this app.
pub fn target_status<Tz: TimeZone>(
    t: &ScheduledTarget<'_>,
    last_success: Option<&RunRecord>,
    running: Option<Progress>,
    now: i64,
    tz: &Tz,
) -> TargetStatus
where
    DateTime<Tz>: CronDateTime,
{
    let schedule = schedule_of(t.target);
    let job = schedule.as_ref().map(|s| job(t, s));
    let replicated = after_every_change(t.target);
    let behind_since = t.pending.filter(|_| replicated).map(|p| p.first);
    // The next run is the one the scheduler will start: not before a rest or a retry is over.
    let next = job
        .as_ref()
        .and_then(|j| j.next_run(now, tz))
        .or_else(|| replication_at(t).map(|at| at.max(now)));
    let next_run = next.map(|at| {
        at.max(resting_until(t.health, now).unwrap_or(at))
            .max(unavailable_retry_at(t.runs, now).unwrap_or(at))
    });
    let overdue = job.as_ref().is_some_and(|j| {
        j.is_overdue(last_success.map(|r| r.started), now, OVERDUE_GRACE_SECS, tz)
    }) || behind_since.is_some_and(|b| now - b > REPLICATION_OVERDUE_SECS);
    TargetStatus {
        target: t.target.clone(),
        schedule_text: if replicated {
            AFTER_EVERY_CHANGE.to_string()
        } else {
            schedule
                .as_ref()
                .map(Schedule::describe)
                .unwrap_or_default()
        },
        health: t.health.cloned().unwrap_or_else(|| TargetHealth {
            target: t.target.name.clone(),
            state: HealthState::Ok,
            consecutive_failures: 0,
            last_error: None,
            last_success: None,
            last_attempt: None,
            unhealthy_until: None,
        }),
        last_run: t.runs.first().cloned(),
        last_success: last_success.and_then(|r| r.finished),
        next_run,
        overdue,
        after_every_change: replicated,
        behind_since,
        running,
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::{FixedOffset, NaiveDate};
    use kura_schedule::PauseLength;

    use super::*;

    /// A test clock: Unix seconds of a wall-clock time in November 2026, UTC+1.
    fn t(d: u32, h: u32, m: u32) -> i64 {
        let naive = NaiveDate::from_ymd_opt(2026, 11, d)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap();
        tz().from_local_datetime(&naive)
            .single()
            .unwrap()
            .timestamp()
    }

    fn tz() -> FixedOffset {
        FixedOffset::east_opt(3600).unwrap()
    }

    fn nightly(name: &str) -> Target {
        let mut target = Target::folder(name, Path::new("/media/usb"));
        target.schedule = "daily at 02:00".into();
        target
    }

    fn run(started: i64, result: RunResult) -> RunRecord {
        RunRecord {
            id: format!("run-{started}"),
            target: "usb".into(),
            started,
            finished: Some(started + 90),
            result,
            backup_id: None,
            files: 10,
            bytes_read: 0,
            bytes_sent: 0,
            new_blobs: 0,
            error_code: None,
            error: None,
        }
    }

    fn health(state: HealthState, unhealthy_until: Option<i64>) -> TargetHealth {
        TargetHealth {
            target: "usb".into(),
            state,
            consecutive_failures: if state == HealthState::Ok { 0 } else { 3 },
            last_error: None,
            last_success: None,
            last_attempt: None,
            unhealthy_until,
        }
    }

    /// The targets due at `now`, for one target with these runs (newest first) and health.
    fn due(
        target: &Target,
        runs: &[RunRecord],
        health: Option<&TargetHealth>,
        pause: Option<Pause>,
        now: i64,
    ) -> Vec<String> {
        let t = ScheduledTarget {
            target,
            health,
            runs,
            since: t(1, 12, 0),
            pending: None,
        };
        due_backups(&Agenda::default(), &[t], pause, now, &tz())
    }

    #[test]
    fn a_daily_target_is_due_once_its_time_passed_and_not_after_a_successful_run() {
        let usb = nightly("usb");
        let last_night = [run(t(20, 2, 0), RunResult::Ok)];
        assert!(due(&usb, &last_night, None, None, t(21, 1, 59)).is_empty());
        assert_eq!(due(&usb, &last_night, None, None, t(21, 2, 0)), vec!["usb"]);
        let tonight = [run(t(21, 2, 0), RunResult::Ok), last_night[0].clone()];
        assert!(due(&usb, &tonight, None, None, t(21, 9, 0)).is_empty());
        // A target on demand only is never due.
        let on_demand = Target::folder("usb", Path::new("/media/usb"));
        assert!(due(&on_demand, &[], None, None, t(21, 9, 0)).is_empty());
    }

    #[test]
    fn an_unreachable_target_is_owed_its_run_and_tried_again_after_the_retry_interval() {
        let usb = nightly("usb");
        let absent = [
            run(t(21, 2, 0), RunResult::Unavailable),
            run(t(20, 2, 0), RunResult::Ok),
        ];
        assert!(!counts_as_done(&absent[0]));
        // Right after the failed attempt, and until the interval is over: left alone.
        assert!(due(&usb, &absent, None, None, t(21, 2, 1)).is_empty());
        assert!(due(&usb, &absent, None, None, t(21, 2, 9)).is_empty());
        // Then tried again, without waiting for tomorrow night.
        assert_eq!(due(&usb, &absent, None, None, t(21, 2, 10)), vec!["usb"]);
        // The view says when that is.
        let st = ScheduledTarget {
            target: &usb,
            health: None,
            runs: &absent,
            since: t(1, 12, 0),
            pending: None,
        };
        let status = target_status(&st, Some(&absent[1]), None, t(21, 2, 5), &tz());
        assert_eq!(status.next_run, Some(t(21, 2, 10)));
    }

    #[test]
    fn an_interrupted_run_does_not_count_as_done() {
        let usb = nightly("usb");
        let killed = [
            run(t(21, 2, 0), RunResult::Interrupted),
            run(t(20, 2, 0), RunResult::Ok),
        ];
        assert!(!counts_as_done(&killed[0]));
        assert_eq!(due(&usb, &killed, None, None, t(21, 9, 0)), vec!["usb"]);
        // A failed run does count: the next try is the next scheduled time (or the rest rule).
        let failed = [
            run(t(21, 2, 0), RunResult::Failed),
            run(t(20, 2, 0), RunResult::Ok),
        ];
        assert!(due(&usb, &failed, None, None, t(21, 9, 0)).is_empty());
    }

    #[test]
    fn a_resting_target_is_not_started_until_its_rest_is_over() {
        let usb = nightly("usb");
        let runs = [run(t(20, 2, 0), RunResult::Failed)];
        let resting = health(HealthState::Unhealthy, Some(t(21, 3, 0)));
        assert!(due(&usb, &runs, Some(&resting), None, t(21, 2, 30)).is_empty());
        assert_eq!(
            due(&usb, &runs, Some(&resting), None, t(21, 3, 0)),
            vec!["usb"]
        );
        // The view shows the run after the rest, not the missed time.
        let st = ScheduledTarget {
            target: &usb,
            health: Some(&resting),
            runs: &runs,
            since: t(1, 12, 0),
            pending: None,
        };
        let status = target_status(&st, None, None, t(21, 2, 30), &tz());
        assert_eq!(status.next_run, Some(t(21, 3, 0)));
    }

    #[test]
    fn a_pause_holds_scheduled_runs_back_and_they_are_caught_up_after_it() {
        let usb = nightly("usb");
        let runs = [run(t(20, 2, 0), RunResult::Ok)];
        let pause = Pause::starting(t(21, 1, 30), PauseLength::OneHour, &tz());
        assert!(due(&usb, &runs, None, Some(pause), t(21, 2, 15)).is_empty());
        assert_eq!(
            due(&usb, &runs, None, Some(pause), t(21, 2, 30)),
            vec!["usb"]
        );
    }

    #[test]
    fn a_target_is_overdue_after_the_grace_period_and_not_before() {
        let usb = nightly("usb");
        let ok = run(t(20, 2, 0), RunResult::Ok);
        let runs = [run(t(21, 2, 0), RunResult::Unavailable), ok.clone()];
        let st = ScheduledTarget {
            target: &usb,
            health: None,
            runs: &runs,
            since: t(1, 12, 0),
            pending: None,
        };
        let at = |now| target_status(&st, Some(&ok), None, now, &tz()).overdue;
        assert!(!at(t(21, 2, 59)));
        assert!(!at(t(21, 3, 0)));
        assert!(at(t(21, 3, 1)));
        // After a success tonight, it is not.
        let tonight = run(t(21, 3, 5), RunResult::Ok);
        assert!(!target_status(&st, Some(&tonight), None, t(21, 9, 0), &tz()).overdue);
    }

    fn status(state: HealthState, overdue: bool, running: bool) -> TargetStatus {
        let usb = nightly("usb");
        let health = health(state, None);
        let st = ScheduledTarget {
            target: &usb,
            health: Some(&health),
            runs: &[],
            since: t(1, 12, 0),
            pending: None,
        };
        let progress = running.then_some(Progress {
            phase: "storing",
            done: 3,
            total: Some(4),
            unit: "files",
            item: None,
        });
        let mut s = target_status(&st, None, progress, t(1, 13, 0), &tz());
        s.overdue = overdue;
        s
    }

    #[test]
    fn the_state_at_a_glance_ranks_running_failed_paused_overdue_ok() {
        use BackupState::*;
        assert_eq!(overall_state(&[], false), NoTargets);
        assert_eq!(overall_state(&[], true), NoTargets);
        let ok = status(HealthState::Ok, false, false);
        let overdue = status(HealthState::Ok, true, false);
        let failing = status(HealthState::Failing, false, false);
        let unhealthy = status(HealthState::Unhealthy, false, false);
        let absent = status(HealthState::Unavailable, false, false);
        let running = status(HealthState::Ok, false, true);
        assert_eq!(overall_state(std::slice::from_ref(&ok), false), Ok);
        // An unreachable drive is not a failure.
        assert_eq!(overall_state(std::slice::from_ref(&absent), false), Ok);
        assert_eq!(
            overall_state(&[ok.clone(), overdue.clone()], false),
            Overdue
        );
        // A pause explains a missed schedule.
        assert_eq!(overall_state(&[ok.clone(), overdue.clone()], true), Paused);
        assert_eq!(
            overall_state(&[overdue.clone(), failing.clone()], true),
            Failed
        );
        assert_eq!(overall_state(&[ok.clone(), unhealthy], false), Failed);
        // Only a running backup hides a failure (it may be the retry).
        assert_eq!(overall_state(&[failing, overdue, running], true), Running);
    }

    #[test]
    fn cleanup_is_due_on_its_schedule_and_a_dry_run_does_not_count() {
        let nightly: Schedule = "daily at 03:00".parse().unwrap();
        let report = |started_at, dry_run| CleanupReport {
            id: 1,
            dry_run,
            started_at,
            finished_at: started_at + 5,
            categories: Vec::new(),
            bytes_freed: 0,
        };
        let agenda = Agenda::default();
        let since = t(1, 12, 0);
        let real = [report(t(21, 3, 0), false)];
        assert!(!cleanup_due(
            &agenda,
            &nightly,
            &real,
            since,
            t(21, 9, 0),
            &tz()
        ));
        assert!(cleanup_due(
            &agenda,
            &nightly,
            &real,
            since,
            t(22, 3, 0),
            &tz()
        ));
        let dry = [report(t(22, 3, 0), true), real[0].clone()];
        assert!(cleanup_due(
            &agenda,
            &nightly,
            &dry,
            since,
            t(22, 9, 0),
            &tz()
        ));
        let mut running = Agenda::default();
        running.start(CLEANUP_KEY);
        assert!(!cleanup_due(
            &running,
            &nightly,
            &real,
            since,
            t(22, 3, 0),
            &tz()
        ));
    }

    #[test]
    fn a_target_backed_up_after_every_change_waits_for_a_quiet_moment_and_says_how_far_behind_it_is(
    ) {
        let mut nas = Target::folder("nas", Path::new("/mnt/nas"));
        nas.schedule = "After every change".into();
        let ten = t(21, 10, 0);
        let ok = run(t(21, 9, 0), RunResult::Ok);
        let runs = [ok.clone()];
        let at = |pending: Option<Changes>, runs: &[RunRecord], agenda: &Agenda, now: i64| {
            let st = ScheduledTarget {
                target: &nas,
                health: None,
                runs,
                since: t(1, 12, 0),
                pending,
            };
            (
                due_backups(agenda, &[st], None, now, &tz()),
                target_status(&st, runs.first(), None, now, &tz()),
            )
        };
        let idle = Agenda::default();
        // Up to date: never due, not behind, no time set.
        let (due, status) = at(None, &runs, &idle, ten);
        assert!(due.is_empty());
        assert_eq!(
            (
                status.behind_since,
                status.next_run,
                status.schedule_text.as_str()
            ),
            (None, None, AFTER_EVERY_CHANGE)
        );
        // One change at 10:00:00: it waits for two quiet seconds.
        let one = Some(Changes {
            first: ten,
            last: ten,
        });
        let (due, status) = at(one, &runs, &idle, ten + 1);
        assert!(due.is_empty());
        assert_eq!(
            (status.behind_since, status.next_run),
            (Some(ten), Some(ten + 2))
        );
        assert_eq!(at(one, &runs, &idle, ten + 2).0, ["nas"]);
        // Changes that keep coming hold it back until the first is 30 seconds old.
        let busy = |now| {
            Some(Changes {
                first: ten,
                last: now,
            })
        };
        assert!(at(busy(ten + 29), &runs, &idle, ten + 29).0.is_empty());
        assert_eq!(at(busy(ten + 30), &runs, &idle, ten + 30).0, ["nas"]);
        // A run under way is not started twice, and a pause holds it back.
        let mut running = Agenda::default();
        running.start("nas");
        assert!(at(one, &runs, &running, ten + 5).0.is_empty());
        let st = ScheduledTarget {
            target: &nas,
            health: None,
            runs: &runs,
            since: t(1, 12, 0),
            pending: one,
        };
        let pause = Pause::starting(ten, PauseLength::OneHour, &tz());
        assert!(due_backups(&idle, &[st], Some(pause), ten + 5, &tz()).is_empty());
        // After a failed run it waits a minute; after one that found the target absent, ten.
        let failed = [
            RunRecord {
                finished: Some(ten + 3),
                ..run(ten + 2, RunResult::Failed)
            },
            ok.clone(),
        ];
        assert!(at(one, &failed, &idle, ten + 62).0.is_empty());
        assert_eq!(at(one, &failed, &idle, ten + 63).0, ["nas"]);
        let absent = [run(ten + 2, RunResult::Unavailable), ok.clone()];
        assert!(at(one, &absent, &idle, ten + 300).0.is_empty());
        assert_eq!(at(one, &absent, &idle, ten + 602).0, ["nas"]);
        // Still behind after ten minutes: overdue, which the tray shows.
        assert!(!at(one, &absent, &idle, ten + 600).1.overdue);
        assert!(at(one, &absent, &idle, ten + 601).1.overdue);
        // A nightly target never looks at changes.
        let nightly = nightly("usb");
        let st = ScheduledTarget {
            target: &nightly,
            health: None,
            runs: &runs,
            since: t(1, 12, 0),
            pending: one,
        };
        assert!(due_backups(&idle, &[st], None, ten + 5, &tz()).is_empty());
        assert_eq!(
            target_status(&st, Some(&ok), None, ten + 5, &tz()).behind_since,
            None
        );
    }
}
