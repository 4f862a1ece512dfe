//! When Kura's scheduled work is due: backups per target and the cleanup run.
//!
//! Everything here is a pure function of the times it is given, so the rules (catch-up of missed
//! runs, pause, never two runs of one job at once, overdue) are tested without sleeping. The
//! desktop app asks [`Agenda::due`] every little while with the real clock and local time zone.
//!
//! ```
//! use kura_schedule::{Agenda, Job, Schedule};
//! let tz = chrono::FixedOffset::east_opt(0).unwrap();
//! let nightly: Schedule = "daily at 02:00".parse().unwrap();
//! // Set up on 2026-11-20 at 12:00 UTC; never run. At 09:00 the next day, a run is due (and only one).
//! let job = Job { key: "nas".into(), schedule: &nightly, last_started: None, since: 1_795_176_000 };
//! let mut agenda = Agenda::default();
//! assert_eq!(agenda.due([job], None, 1_795_251_600, &tz), vec!["nas".to_string()]);
//! ```

mod agenda;
mod schedule;

pub use agenda::{Agenda, Job, Pause, PauseLength};
/// The bound on the time zones the schedules work in (`chrono::Local`, `FixedOffset`, `Utc`):
/// re-exported so that code generic over the time zone names it without depending on `croner`.
pub use croner::time::CronDateTime;
pub use schedule::{Schedule, ScheduleError};
