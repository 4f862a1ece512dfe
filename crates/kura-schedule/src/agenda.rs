//! Which scheduled jobs are due now, given when each last ran, whether work is paused and what is
//! already running.

use std::collections::HashSet;

use chrono::{DateTime, Days, TimeZone};
use serde::{Deserialize, Serialize};

use crate::Schedule;

/// One piece of scheduled work, as the scheduler sees it.
#[derive(Clone, Debug)]
pub struct Job<'a> {
    /// What it is (a backup target's name, "cleanup").
    pub key: String,
    /// When it repeats.
    pub schedule: &'a Schedule,
    /// When its last run started, whatever its result; `None` if it never ran.
    pub last_started: Option<i64>,
    /// When the job was set up; it is first due at the first scheduled time after this.
    pub since: i64,
}

impl Job<'_> {
    /// When the next run is due: the first scheduled time after the last run started (or after
    /// the job was set up). A time in the past means runs were missed (the machine slept, the
    /// app was closed): one run is due now, however many were missed.
    pub fn next_due<Tz: TimeZone>(&self, tz: &Tz) -> Option<i64>
    where
        DateTime<Tz>: croner::time::CronDateTime,
    {
        let from = self.last_started.unwrap_or(self.since);
        self.schedule.next_after_secs(from, tz)
    }

    /// Whether a run is due at `now`.
    pub fn is_due<Tz: TimeZone>(&self, now: i64, tz: &Tz) -> bool
    where
        DateTime<Tz>: croner::time::CronDateTime,
    {
        self.next_due(tz).is_some_and(|due| due <= now)
    }

    /// The time to show as "next run": the due time if it is still ahead, else `now` (a missed
    /// run is caught up at once).
    pub fn next_run<Tz: TimeZone>(&self, now: i64, tz: &Tz) -> Option<i64>
    where
        DateTime<Tz>: croner::time::CronDateTime,
    {
        self.next_due(tz).map(|due| due.max(now))
    }

    /// Whether the job is overdue: a scheduled time passed more than `grace_secs` ago without a
    /// successful run since. `last_success` is when the last successful run started.
    pub fn is_overdue<Tz: TimeZone>(
        &self,
        last_success: Option<i64>,
        now: i64,
        grace_secs: i64,
        tz: &Tz,
    ) -> bool
    where
        DateTime<Tz>: croner::time::CronDateTime,
    {
        let from = last_success.unwrap_or(self.since);
        self.schedule
            .next_after_secs(from, tz)
            .is_some_and(|missed| missed + grace_secs < now)
    }
}

/// How long scheduled work is paused for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PauseLength {
    /// One hour from now.
    OneHour,
    /// Until the start of the next day (local midnight).
    UntilTomorrow,
    /// Until someone resumes.
    UntilResumed,
}

/// A pause of scheduled work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Pause {
    /// When the pause ends by itself (Unix seconds); `None` when it lasts until resumed.
    pub until: Option<i64>,
}

impl Pause {
    /// A pause of `length` starting at `now`, with days counted in the time zone `tz`.
    pub fn starting<Tz: TimeZone>(now: i64, length: PauseLength, tz: &Tz) -> Pause {
        let until = match length {
            PauseLength::OneHour => Some(now + 3600),
            PauseLength::UntilResumed => None,
            PauseLength::UntilTomorrow => tz
                .timestamp_opt(now, 0)
                .single()
                .and_then(|t| t.date_naive().checked_add_days(Days::new(1)))
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .and_then(|midnight| tz.from_local_datetime(&midnight).earliest())
                .map(|t| t.timestamp())
                // A zone with no midnight that day: a day from now is the honest fallback.
                .or(Some(now + 86_400)),
        };
        Pause { until }
    }

    /// Whether the pause still holds at `now`.
    pub fn is_active(&self, now: i64) -> bool {
        self.until.is_none_or(|until| now < until)
    }
}

/// The scheduler's memory of what is running, so that one job never runs twice at once.
#[derive(Debug, Default)]
pub struct Agenda {
    running: HashSet<String>,
}

impl Agenda {
    /// The keys of the jobs to start at `now`: due, not running already, and not paused.
    pub fn due<'a, Tz: TimeZone>(
        &self,
        jobs: impl IntoIterator<Item = Job<'a>>,
        pause: Option<Pause>,
        now: i64,
        tz: &Tz,
    ) -> Vec<String>
    where
        DateTime<Tz>: croner::time::CronDateTime,
    {
        if pause.is_some_and(|p| p.is_active(now)) {
            return Vec::new();
        }
        jobs.into_iter()
            .filter(|job| !self.running.contains(&job.key) && job.is_due(now, tz))
            .map(|job| job.key)
            .collect()
    }

    /// Marks `key` as running; `false` (and nothing changes) when it already is.
    pub fn start(&mut self, key: &str) -> bool {
        self.running.insert(key.to_string())
    }

    /// Marks `key` as no longer running.
    pub fn finish(&mut self, key: &str) {
        self.running.remove(key);
    }

    /// Whether `key` is running.
    pub fn is_running(&self, key: &str) -> bool {
        self.running.contains(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, NaiveDate};

    /// A test clock: Unix seconds of a wall-clock time in UTC+1.
    fn t(d: u32, h: u32, m: u32) -> i64 {
        let tz = FixedOffset::east_opt(3600).unwrap();
        let naive = NaiveDate::from_ymd_opt(2026, 11, d)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap();
        tz.from_local_datetime(&naive).single().unwrap().timestamp()
    }

    fn tz() -> FixedOffset {
        FixedOffset::east_opt(3600).unwrap()
    }

    fn job<'a>(key: &str, schedule: &'a Schedule, last: Option<i64>) -> Job<'a> {
        Job {
            key: key.into(),
            schedule,
            last_started: last,
            since: t(1, 12, 0),
        }
    }

    #[test]
    fn a_job_is_due_at_its_scheduled_time_and_not_before() {
        let nightly: Schedule = "daily at 02:00".parse().unwrap();
        let j = job("nas", &nightly, Some(t(20, 2, 0)));
        assert!(!j.is_due(t(21, 1, 59), &tz()));
        assert!(j.is_due(t(21, 2, 0), &tz()));
        assert_eq!(j.next_run(t(21, 1, 0), &tz()), Some(t(21, 2, 0)));
    }

    #[test]
    fn missed_runs_are_caught_up_once_at_start() {
        let nightly: Schedule = "daily at 02:00".parse().unwrap();
        // Last ran on the 10th; the app was closed until the 21st at 09:00: ten nights missed.
        let j = job("nas", &nightly, Some(t(10, 2, 0)));
        let agenda = Agenda::default();
        assert_eq!(
            agenda.due([j.clone()], None, t(21, 9, 0), &tz()),
            vec!["nas"]
        );
        assert_eq!(j.next_run(t(21, 9, 0), &tz()), Some(t(21, 9, 0)));
        // Once the catch-up run has started, the next one is tomorrow night, not another catch-up.
        let after = job("nas", &nightly, Some(t(21, 9, 0)));
        assert!(agenda
            .due([after.clone()], None, t(21, 9, 5), &tz())
            .is_empty());
        assert_eq!(after.next_due(&tz()), Some(t(22, 2, 0)));
    }

    #[test]
    fn a_job_that_never_ran_is_first_due_after_it_was_set_up() {
        let hourly: Schedule = "hourly at :30".parse().unwrap();
        let j = Job {
            key: "s3".into(),
            schedule: &hourly,
            last_started: None,
            since: t(21, 10, 40),
        };
        assert!(!j.is_due(t(21, 11, 0), &tz()));
        assert!(j.is_due(t(21, 11, 30), &tz()));
    }

    #[test]
    fn a_running_job_is_never_started_twice() {
        let hourly: Schedule = "hourly".parse().unwrap();
        let mut agenda = Agenda::default();
        let now = t(21, 12, 0);
        assert!(agenda.start("nas"));
        assert!(
            !agenda.start("nas"),
            "a second start of a running job is refused"
        );
        let due = agenda.due(
            [
                job("nas", &hourly, Some(t(21, 10, 0))),
                job("s3", &hourly, Some(t(21, 10, 0))),
            ],
            None,
            now,
            &tz(),
        );
        assert_eq!(
            due,
            vec!["s3"],
            "the running one is left alone, the other goes"
        );
        agenda.finish("nas");
        assert!(!agenda.is_running("nas"));
        assert!(agenda.start("nas"));
    }

    #[test]
    fn nothing_starts_while_paused_and_missed_runs_follow_the_pause() {
        let hourly: Schedule = "hourly".parse().unwrap();
        let agenda = Agenda::default();
        let j = job("nas", &hourly, Some(t(21, 9, 0)));
        let pause = Pause::starting(t(21, 9, 30), PauseLength::OneHour, &tz());
        assert_eq!(pause.until, Some(t(21, 10, 30)));
        assert!(agenda
            .due([j.clone()], Some(pause), t(21, 10, 0), &tz())
            .is_empty());
        assert_eq!(
            agenda.due([j], Some(pause), t(21, 10, 30), &tz()),
            vec!["nas"]
        );
    }

    #[test]
    fn pause_lengths() {
        let now = t(21, 22, 15);
        let tomorrow = Pause::starting(now, PauseLength::UntilTomorrow, &tz());
        assert_eq!(tomorrow.until, Some(t(22, 0, 0)));
        assert!(tomorrow.is_active(t(21, 23, 59)));
        assert!(!tomorrow.is_active(t(22, 0, 0)));
        let forever = Pause::starting(now, PauseLength::UntilResumed, &tz());
        assert_eq!(forever.until, None);
        assert!(forever.is_active(t(30, 0, 0)));
    }

    #[test]
    fn overdue_means_a_scheduled_time_passed_without_a_success() {
        let nightly: Schedule = "daily at 02:00".parse().unwrap();
        let j = job("nas", &nightly, Some(t(21, 2, 0)));
        let hour = 3600;
        // Succeeded last night: not overdue today.
        assert!(!j.is_overdue(Some(t(21, 2, 0)), t(21, 12, 0), hour, &tz()));
        // Last success two nights ago (last night's run failed): overdue once the grace is over.
        assert!(!j.is_overdue(Some(t(20, 2, 0)), t(21, 2, 30), hour, &tz()));
        assert!(j.is_overdue(Some(t(20, 2, 0)), t(21, 3, 1), hour, &tz()));
    }
}
