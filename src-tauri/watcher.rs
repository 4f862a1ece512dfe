//! Watches project folders and takes automatic versions once a folder has been quiet for
//! `snapshots.quiet_period_secs` (on by default for managed projects; `snapshots.auto_snapshot`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kura_core::{AutoSnapshot, Job, ProjectFilter, ProjectStatus, SnapshotOptions, Trigger};
use notify::{RecursiveMode, Watcher as _};
use tauri::{AppHandle, Manager};

use crate::commands::{AppState, VaultChanged};

/// How often the debouncer looks for folders that went quiet.
const TICK: Duration = Duration::from_millis(500);
/// Least time between two "files changed" events of one project sent to the UI.
const LIVE_EVENT_INTERVAL: Duration = Duration::from_millis(750);

#[derive(Default)]
struct Pending {
    /// Last change seen, per project.
    changed: HashMap<String, Instant>,
    /// Last "files changed" event sent to the UI, per project.
    announced: HashMap<String, Instant>,
}

/// The folder watcher, kept in Tauri's state.
pub struct FolderWatcher {
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
    /// Watched folder → project id.
    watched: Arc<Mutex<HashMap<PathBuf, String>>>,
    pending: Arc<Mutex<Pending>>,
}

/// Starts watching and the debouncer thread.
pub fn start(app: &AppHandle) {
    let watched: Arc<Mutex<HashMap<PathBuf, String>>> = Arc::default();
    let pending: Arc<Mutex<Pending>> = Arc::default();
    let (w, p) = (watched.clone(), pending.clone());
    let handle = app.clone();
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return;
        }
        let map = w.lock().unwrap_or_else(|e| e.into_inner());
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
            let mut pend = p.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            pend.changed.insert(id.clone(), now);
            let due = pend
                .announced
                .get(id)
                .is_none_or(|t| now.duration_since(*t) >= LIVE_EVENT_INTERVAL);
            if due {
                pend.announced.insert(id.clone(), now);
                VaultChanged::send(&handle, Some(id), "files");
            }
        }
    });
    let watcher = match watcher {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("folders cannot be watched, automatic versions are off: {e}");
            None
        }
    };
    app.manage(FolderWatcher {
        watcher: Mutex::new(watcher),
        watched,
        pending: pending.clone(),
    });
    refresh(app);
    let app = app.clone();
    std::thread::Builder::new()
        .name("kura-autosnapshot".into())
        .spawn(move || loop {
            std::thread::sleep(TICK);
            take_quiet_snapshots(&app, &pending);
        })
        .ok();
}

fn take_quiet_snapshots(app: &AppHandle, pending: &Mutex<Pending>) {
    let state = app.state::<AppState>();
    let Ok(vault) = state.vault.clone() else {
        return;
    };
    let quiet = Duration::from_secs(vault.config().snapshots.quiet_period_secs);
    let due: Vec<String> = {
        let mut p = pending.lock().unwrap_or_else(|e| e.into_inner());
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
            trigger: Trigger::Auto,
            ..Default::default()
        };
        match vault.snapshot(&id, &opts, &Job::default()) {
            Ok(r) if r.version.is_some() => VaultChanged::send(app, Some(&id), "snapshot"),
            Ok(_) => {}
            // Another process is writing it: try again after the next quiet period.
            Err(e) if e.kind() == kura_core::ErrorKind::Busy => {
                pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .changed
                    .insert(id, Instant::now());
            }
            Err(e) => tracing::warn!("automatic version of {id} failed: {e}"),
        }
    }
}

/// Brings the watched folders in line with the projects and the `auto_snapshot` setting.
pub fn refresh(app: &AppHandle) {
    let Some(fw) = app.try_state::<FolderWatcher>() else {
        return;
    };
    let state = app.state::<AppState>();
    let Ok(vault) = state.vault.clone() else {
        return;
    };
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
    let mut guard = fw.watcher.lock().unwrap_or_else(|e| e.into_inner());
    let Some(watcher) = guard.as_mut() else {
        return;
    };
    let mut watched = fw.watched.lock().unwrap_or_else(|e| e.into_inner());
    let gone: Vec<PathBuf> = watched
        .keys()
        .filter(|p| !wanted.contains_key(*p))
        .cloned()
        .collect();
    for path in gone {
        let _ = watcher.unwatch(&path);
        if let Some(id) = watched.remove(&path) {
            fw.pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .changed
                .remove(&id);
        }
    }
    for (path, id) in wanted {
        if watched.contains_key(&path) {
            continue;
        }
        match watcher.watch(&path, RecursiveMode::Recursive) {
            Ok(()) => {
                watched.insert(path, id);
            }
            Err(e) => tracing::warn!("cannot watch {}: {e}", path.display()),
        }
    }
}
