//! Locks on a target, so that no two runs write one target at once and prune never deletes what
//! a running backup is writing.
//!
//! Two layers: a local advisory lock per target in the vault (`<vault>/backup/<target>/run.lock`,
//! released by the OS when the process dies, so it is never stale), and a lock object on the
//! target itself (`locks/<run id>`: kind, host, pid, start and heartbeat time), which other
//! machines and prune see. A lock object is stale when its heartbeat is older than
//! [`STALE_AFTER_SECS`], or when it was written on this host by a process that no longer exists;
//! stale locks are removed.

use std::fs::File;
use std::path::Path;

use kura_core::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

use crate::store::Store;

/// A lock object whose heartbeat is older than this is stale.
pub const STALE_AFTER_SECS: i64 = 30 * 60;
/// Running work refreshes its lock object at least this often.
pub(crate) const HEARTBEAT_SECS: i64 = 60;

/// What a lock object says.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct LockInfo {
    pub run: String,
    /// "backup" or "prune".
    pub kind: String,
    pub host: String,
    pub pid: u32,
    pub started: i64,
    pub heartbeat: i64,
}

impl LockInfo {
    fn describe(&self) -> String {
        format!(
            "a {} (run {}) by process {} on {}",
            self.kind, self.run, self.pid, self.host
        )
    }

    /// Whether the process that wrote it is gone (or silent for too long).
    pub fn is_stale(&self, now: i64) -> bool {
        if now - self.heartbeat > STALE_AFTER_SECS {
            return true;
        }
        self.host == host_name() && !Path::new("/proc").join(self.pid.to_string()).exists()
    }
}

/// The local per-target run lock, held for the whole run; see [`crate::Backups::lock_target`].
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// Takes the local run lock of `target` without waiting; `busy` when a run holds it.
pub(crate) fn lock_local(vault_root: &Path, target: &str) -> Result<RunLock> {
    let dir = vault_root.join("backup").join(target);
    std::fs::create_dir_all(&dir).map_err(|e| Error::from_io("create folder", &dir, e))?;
    let path = dir.join("run.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::from_io("open lock file", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(RunLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::new(
            ErrorKind::Busy,
            format!("a backup, verify or prune of target '{target}' is already running; wait for it to finish"),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::from_io("lock", &path, e)),
    }
}

/// A lock object written to the target; removed by [`TargetLock::release`].
pub(crate) struct TargetLock {
    pub info: LockInfo,
    last_beat: i64,
}

impl TargetLock {
    /// Writes a lock object for this run after checking the others: a live prune blocks
    /// everything, a live backup blocks prune; stale ones are removed.
    pub fn acquire(
        store: &Store,
        target: &str,
        run: &str,
        kind: &str,
        now: i64,
    ) -> Result<TargetLock> {
        for other in live_locks(store, now)? {
            if other.kind == "prune" || kind == "prune" {
                return Err(Error::new(
                    ErrorKind::Busy,
                    format!(
                        "target '{target}' is locked by {} since {}; try again when it is done",
                        other.describe(),
                        other.started
                    ),
                ));
            }
        }
        let info = LockInfo {
            run: run.into(),
            kind: kind.into(),
            host: host_name(),
            pid: std::process::id(),
            started: now,
            heartbeat: now,
        };
        write(store, &info)?;
        Ok(TargetLock {
            info,
            last_beat: now,
        })
    }

    /// Refreshes the heartbeat when it is due.
    pub fn beat(&mut self, store: &Store, now: i64) -> Result<()> {
        if now - self.last_beat >= HEARTBEAT_SECS {
            self.info.heartbeat = now;
            write(store, &self.info)?;
            self.last_beat = now;
        }
        Ok(())
    }

    pub fn release(self, store: &Store) -> Result<()> {
        store.delete(&format!("locks/{}", self.info.run))
    }
}

fn write(store: &Store, info: &LockInfo) -> Result<()> {
    let bytes =
        serde_json::to_vec(info).map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
    store.write(&format!("locks/{}", info.run), bytes)
}

/// The live lock objects on the target; stale ones are deleted on the way.
pub(crate) fn live_locks(store: &Store, now: i64) -> Result<Vec<LockInfo>> {
    let mut live = Vec::new();
    for obj in store.list("locks/")? {
        let path = format!("locks/{}", obj.name);
        let Some(bytes) = store.read_optional(&path)? else {
            continue;
        };
        match serde_json::from_slice::<LockInfo>(&bytes) {
            Ok(info) if !info.is_stale(now) => live.push(info),
            Ok(info) => {
                tracing::info!(run = %info.run, "removing a stale lock: {}", info.describe());
                store.delete(&path)?;
            }
            Err(_) => store.delete(&path)?,
        }
    }
    Ok(live)
}

/// This machine's name (for lock objects).
pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_of_dead_processes_and_old_heartbeats_are_stale() {
        let mut info = LockInfo {
            run: "r".into(),
            kind: "backup".into(),
            host: host_name(),
            pid: std::process::id(),
            started: 1000,
            heartbeat: 1000,
        };
        assert!(!info.is_stale(1000 + 60));
        assert!(info.is_stale(1000 + STALE_AFTER_SECS + 1));
        info.pid = u32::MAX - 1;
        assert!(info.is_stale(1000 + 60), "a dead pid on this host is stale");
        info.host = "elsewhere".into();
        assert!(
            !info.is_stale(1000 + 60),
            "another host's pid cannot be checked"
        );
    }
}
