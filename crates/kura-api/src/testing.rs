//! What the tests of this crate share: a clock they move by hand and a vault with a backup
//! target.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{Local, TimeZone};
use kura_backup::{RunResult, Target};
use kura_core::{Clock, Job, NewProject, SnapshotOptions, Vault};

use crate::operations::OpState;
use crate::Api;

pub(crate) struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub(crate) struct Scene {
    pub dir: tempfile::TempDir,
    pub api: Arc<Api>,
    pub clock: Arc<TestClock>,
}

/// 2026-11-23 at `h:m:s`, local time (the schedules are in local time).
pub(crate) fn at(h: u32, m: u32, s: u32) -> i64 {
    Local
        .with_ymd_and_hms(2026, 11, 23, h, m, s)
        .single()
        .unwrap()
        .timestamp()
}

pub(crate) fn open(root: &Path, clock: &Arc<TestClock>) -> Arc<Api> {
    let vault = Vault::open_with_clock(root, clock.clone()).unwrap();
    Api::open_with_clock(vault, clock.clone()).unwrap()
}

/// The real time in Unix seconds.
pub(crate) fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Waits for the next real second and returns it.
pub(crate) fn next_real_second() -> i64 {
    let t = real_now() + 1;
    while real_now() < t {
        std::thread::sleep(Duration::from_millis(20));
    }
    t
}

impl Scene {
    /// A vault with one project, at 10:10, and a folder target `drive` backed up hourly.
    pub fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(TestClock(AtomicI64::new(at(10, 10, 0))));
        let api = open(&dir.path().join("vault"), &clock);
        let p = api
            .create_project(&NewProject {
                name: "site".into(),
                ..Default::default()
            })
            .unwrap();
        std::fs::write(p.path.join("index.html"), "<h1>hello</h1>\n").unwrap();
        api.snapshot("site", &SnapshotOptions::default(), &Job::default())
            .unwrap();
        std::fs::create_dir_all(dir.path().join("drive")).unwrap();
        let mut target = Target::folder("drive", &dir.path().join("drive/kura"));
        target.schedule = "hourly".into();
        api.add_backup_target(&target, Default::default(), false)
            .unwrap();
        Scene { dir, api, clock }
    }

    /// A vault with one project and a folder target `drive` backed up after every change, on
    /// a clock that starts at the real time (the vault's change log is kept in real seconds).
    pub fn replicated() -> Scene {
        let s = Scene::new();
        // Its clock is the real one, so the daily cleanup could fall due in the middle of a
        // test (near 03:00): these tests count backups only.
        s.api.set_config("cleanup.schedule", "off").unwrap();
        // The next second: the project's creation lies wholly before the first backup.
        s.set(next_real_second());
        s.api
            .update_backup_target(
                "drive",
                crate::backups::TargetChanges {
                    schedule: kura_backup::AFTER_EVERY_CHANGE.into(),
                    retention: Default::default(),
                    bandwidth_limit: None,
                },
            )
            .unwrap();
        s
    }

    pub fn set(&self, now: i64) {
        self.clock.0.store(now, Ordering::SeqCst);
    }

    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("drive/kura")
    }

    /// One look at the clock; waits for what it started and returns how each ended.
    pub fn tick(&self) -> Vec<OpState> {
        self.api
            .run_schedules()
            .iter()
            .map(|op| {
                self.api
                    .operations()
                    .wait(&op.id, Duration::from_secs(60))
                    .unwrap()
                    .state
            })
            .collect()
    }

    pub fn runs(&self) -> Vec<RunResult> {
        self.api
            .backup_runs(Some("drive"), 200)
            .unwrap()
            .into_iter()
            .map(|r| r.result)
            .collect()
    }
}
