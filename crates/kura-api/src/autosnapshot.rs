//! Automatic versions: project folders are watched, and a version is taken once a folder has
//! been quiet for `snapshots.quiet_period_secs` (on by default for managed projects;
//! `snapshots.auto_snapshot`). The [`crate::Scheduler`] runs this in the process holding the
//! vault's schedule lock, so one process takes a vault's automatic versions. Changes are announced as `vault.changed` events: reason `files`
//! while files change (at most one per project per [`LIVE_EVENT_INTERVAL`]), `snapshot` when a
//! version was taken. The watched folders follow the projects: they are brought in line by
//! [`Api::changed`] itself, before the door that changed projects or settings answers, so a file
//! written right after is seen.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kura_core::{AutoSnapshot, Job, ProjectFilter, ProjectStatus, SnapshotOptions, Trigger};
use notify::{RecursiveMode, Watcher as _};

use crate::backups::lock;
use crate::{Api, VaultChange};

/// How often quiet folders are looked for.
pub const QUIET_CHECK_INTERVAL: Duration = Duration::from_millis(500);
/// Least time between two `files` changes of one project announced.
const LIVE_EVENT_INTERVAL: Duration = Duration::from_millis(750);

#[derive(Default)]
struct Pending {
    /// Last change seen, per project.
    changed: HashMap<String, Instant>,
    /// Last `files` change announced, per project.
    announced: HashMap<String, Instant>,
}

pub(crate) struct Shared {
    api: Weak<Api>,
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
    /// Watched folder → project id.
    watched: Mutex<HashMap<PathBuf, String>>,
    pending: Mutex<Pending>,
    stop: AtomicBool,
}

/// The folder watcher of one process; stops when dropped.
pub struct AutoSnapshots {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl AutoSnapshots {
    /// Starts watching the project folders of `api`'s vault, and the thread taking the versions.
    pub fn start(api: &Arc<Api>) -> AutoSnapshots {
        let shared = Arc::new(Shared {
            api: Arc::downgrade(api),
            watcher: Mutex::new(None),
            watched: Mutex::default(),
            pending: Mutex::default(),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if let Ok(event) = res {
                s.saw(&event);
            }
        });
        match watcher {
            Ok(w) => *lock(&shared.watcher) = Some(w),
            Err(e) => tracing::warn!("folders cannot be watched, automatic versions are off: {e}"),
        }
        shared.refresh();
        *lock(&api.folder_watch) = Some(Arc::downgrade(&shared));
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("kura-autosnapshot".into())
            .spawn(move || {
                while !s.stop.load(Ordering::SeqCst) {
                    std::thread::sleep(QUIET_CHECK_INTERVAL);
                    s.take_quiet_snapshots();
                }
            })
            .map_err(|e| tracing::warn!("automatic versions cannot start: {e}"))
            .ok();
        AutoSnapshots { shared, thread }
    }

    /// Brings the watched folders in line with the projects and the `auto_snapshot` setting now
    /// (it also happens by itself when this process changes them).
    pub fn refresh(&self) {
        self.shared.refresh();
    }

    /// The folders watched now.
    pub fn watched(&self) -> Vec<PathBuf> {
        lock(&self.shared.watched).keys().cloned().collect()
    }
}

impl Drop for AutoSnapshots {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        lock(&self.shared.watcher).take();
    }
}

impl Shared {
    fn saw(&self, event: &notify::Event) {
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return;
        }
        let Some(api) = self.api.upgrade() else {
            return;
        };
        let map = lock(&self.watched);
        for path in &event.paths {
            // The folder holding the path; never a .git folder's churn.
            if path.components().any(|c| c.as_os_str() == ".git") {
                continue;
            }
            let Some((_, id)) = map
                .iter()
                .filter(|(root, _)| path.starts_with(root))
                .max_by_key(|(root, _)| root.as_os_str().len())
            else {
                continue;
            };
            let mut pend = lock(&self.pending);
            let now = Instant::now();
            pend.changed.insert(id.clone(), now);
            let due = pend
                .announced
                .get(id)
                .is_none_or(|t| now.duration_since(*t) >= LIVE_EVENT_INTERVAL);
            if due {
                pend.announced.insert(id.clone(), now);
                api.changed(Some(id), VaultChange::Files);
            }
        }
    }

    fn take_quiet_snapshots(&self) {
        let Some(api) = self.api.upgrade() else {
            return;
        };
        let vault = &api.vault;
        let quiet = Duration::from_secs(vault.config().snapshots.quiet_period_secs);
        let due: Vec<String> = {
            let mut p = lock(&self.pending);
            let due: Vec<String> = p
                .changed
                .iter()
                .filter(|(_, t)| t.elapsed() >= quiet)
                .map(|(id, _)| id.clone())
                .collect();
            for id in &due {
                p.changed.remove(id);
            }
            due
        };
        for id in due {
            let opts = SnapshotOptions {
                trigger: Some(Trigger::Automatic),
                ..Default::default()
            };
            let name = || vault.project(&id).map_or_else(|_| id.clone(), |p| p.name);
            match vault.snapshot(&id, &opts, &Job::default()) {
                Ok(r) => {
                    if r.version.is_some() {
                        api.changed(Some(&id), VaultChange::Snapshot);
                        api.repack_in_background(&id);
                    }
                    api.automatic_version_health(&id, &name(), None);
                }
                // Another process is writing it: try again after the next quiet period.
                Err(e) if e.kind() == kura_core::ErrorKind::Busy => {
                    lock(&self.pending).changed.insert(id, Instant::now());
                }
                // Moved to the trash or deleted meanwhile: nothing to announce.
                Err(e) if e.kind() == kura_core::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!("automatic version of {id} failed: {e}");
                    api.automatic_version_health(&id, &name(), Some(e.message()));
                }
            }
        }
    }

    pub(crate) fn refresh(&self) {
        let Some(api) = self.api.upgrade() else {
            return;
        };
        let vault = api.vault();
        let mode = vault.config().snapshots.auto_snapshot;
        let wanted: HashMap<PathBuf, String> = if mode == AutoSnapshot::Off {
            HashMap::new()
        } else {
            let filter = ProjectFilter {
                all_workspaces: true,
                status: Some(ProjectStatus::Active),
                ..Default::default()
            };
            match vault.projects(&filter) {
                Ok(list) => list
                    .into_iter()
                    .filter(|p| mode == AutoSnapshot::All || !p.linked)
                    .filter(|p| p.path.is_dir())
                    .map(|p| (p.path.clone(), p.id.clone()))
                    .collect(),
                Err(e) => {
                    tracing::warn!("cannot list projects to watch: {e}");
                    return;
                }
            }
        };
        // The watched map is not held while notify is called: its event thread takes it.
        let (gone, new): (Vec<PathBuf>, Vec<(PathBuf, String)>) = {
            let watched = lock(&self.watched);
            (
                watched
                    .keys()
                    .filter(|p| !wanted.contains_key(*p))
                    .cloned()
                    .collect(),
                wanted
                    .into_iter()
                    .filter(|(p, _)| !watched.contains_key(p))
                    .collect(),
            )
        };
        let mut guard = lock(&self.watcher);
        let Some(watcher) = guard.as_mut() else {
            return;
        };
        for path in gone {
            let _ = watcher.unwatch(&path);
            if let Some(id) = lock(&self.watched).remove(&path) {
                lock(&self.pending).changed.remove(&id);
            }
        }
        for (path, id) in new {
            match watcher.watch(&path, RecursiveMode::Recursive) {
                Ok(()) => {
                    lock(&self.watched).insert(path, id);
                }
                Err(e) => tracing::warn!("cannot watch {}: {e}", path.display()),
            }
        }
    }
}
