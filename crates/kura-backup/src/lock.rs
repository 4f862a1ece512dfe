//! Locks on a target, so that no two runs write one target at once and prune never deletes what
//! a running backup is writing.
//!
//! Two layers: a local advisory lock per target in the vault (`<vault>/backup/<target>/run.lock`,
//! released by the OS when the process dies, so it is never stale), and a lock object on the
//! target itself (`locks/<run id>`: kind, host, pid, start and heartbeat time), which other
//! machines and prune see. While work holds a lock object, a background thread refreshes its
//! heartbeat every [`HEARTBEAT_SECS`] ([`hold`]). A lock object is stale when it was written on
//! this host by a process that no longer runs, or, written elsewhere, when its heartbeat is older
//! than [`STALE_AFTER_SECS`]; stale locks are removed. A lock is taken by checking the others,
//! writing it, and checking again (two runs starting at the same moment both back off).

use std::fs::File;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

use kura_core::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

use crate::store::Store;

/// A lock object written on another machine whose heartbeat is older than this is stale.
pub const STALE_AFTER_SECS: i64 = 30 * 60;
/// Running work refreshes its lock object this often (by the [`crate::Backups`] clock).
pub(crate) const HEARTBEAT_SECS: i64 = 60;
/// How often (in real time) the heartbeat thread looks at the clock.
const HEARTBEAT_POLL: Duration = Duration::from_millis(250);
/// Work gives up its lock when the heartbeat could not be written for this long: by then another
/// machine may soon take the lock for stale (its clock may be ahead of ours).
const LOST_AFTER_SECS: i64 = STALE_AFTER_SECS / 2;

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
    /// Which process `pid` was when the lock was written (boot id and start time), so that a pid
    /// reused after a crash or a reboot is not taken for the holder. Absent in older locks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
}

impl LockInfo {
    fn describe(&self) -> String {
        format!(
            "a {} (run {}) by process {} on {}",
            self.kind, self.run, self.pid, self.host
        )
    }

    /// Whether the process that wrote it is gone (or, on another machine, silent for too long).
    /// A lock whose holder still runs on this machine is never stale, however old its heartbeat;
    /// one written by this very process is stale once no work of it holds it (its release failed
    /// because the target stopped answering: the desktop app lives on, and must not be locked
    /// out of its own target until it restarts).
    pub fn is_stale(&self, now: i64) -> bool {
        if self.host == host_name() && self.pid == std::process::id() {
            return !held_here(&self.run);
        }
        if self.host == host_name() {
            if let Some(alive) = process_alive(self.pid, self.process.as_deref()) {
                return !alive;
            }
        }
        now - self.heartbeat > STALE_AFTER_SECS
    }
}

/// Whether process `pid` (the one `identity` names, when given) runs on this machine; `None`
/// when this system cannot tell (no `/proc`).
fn process_alive(pid: u32, identity: Option<&str>) -> Option<bool> {
    if !Path::new("/proc/self").exists() {
        return None;
    }
    if !Path::new("/proc").join(pid.to_string()).exists() {
        return Some(false);
    }
    Some(match (identity, process_identity(pid)) {
        (Some(written), Some(now)) => written == now,
        _ => true,
    })
}

/// `<boot id>/<start time in clock ticks since boot>` of process `pid`: unique on this machine
/// across pid reuse and reboots. `None` without `/proc`.
fn process_identity(pid: u32) -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    // Field 22, the start time, is the 20th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let start = rest.split_whitespace().nth(19)?;
    Some(format!("{}/{start}", boot.trim()))
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
    // A lock released a moment ago can still be held for an instant by a child process another
    // thread was starting (it shares the open file until it runs its program): wait that out,
    // but not a real run.
    let deadline = std::time::Instant::now() + LOCAL_LOCK_PATIENCE;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(RunLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::WouldBlock) => return Err(Error::new(
                ErrorKind::Busy,
                format!("a backup, verify or prune of target '{target}' is already running; wait for it to finish"),
            )),
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::from_io("lock", &path, e)),
        }
    }
}

/// How long taking the local run lock waits before saying another run holds it.
const LOCAL_LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// A lock object written to the target; removed by [`TargetLock::release`] (or [`hold`]).
pub(crate) struct TargetLock {
    pub info: LockInfo,
}

/// The runs whose lock objects work in this process holds now.
static HELD: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn held_here(run: &str) -> bool {
    HELD.lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .any(|r| r == run)
}

impl TargetLock {
    /// Marks `info`'s run as held by this process until the lock is dropped.
    fn new(info: LockInfo) -> TargetLock {
        HELD.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(info.run.clone());
        TargetLock { info }
    }
}

impl Drop for TargetLock {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = held.iter().position(|r| *r == self.info.run) {
            held.swap_remove(at);
        }
    }
}

impl TargetLock {
    /// Writes a lock object for this run after checking the others (a live prune blocks
    /// everything, a live backup blocks prune; stale ones are removed), then checks again: when a
    /// conflicting lock appeared meanwhile (two started at the same moment), it removes its own
    /// and is `busy`.
    pub fn acquire(
        store: &Store,
        target: &str,
        run: &str,
        kind: &str,
        now: i64,
    ) -> Result<TargetLock> {
        Self::acquire_with(store, target, run, kind, now, &|| {})
    }

    /// [`TargetLock::acquire`], calling `between` after the first check and before the write
    /// (where another machine's lock may appear).
    fn acquire_with(
        store: &Store,
        target: &str,
        run: &str,
        kind: &str,
        now: i64,
        between: &dyn Fn(),
    ) -> Result<TargetLock> {
        if let Some(other) = conflicting(&live_locks(store, now)?, run, kind) {
            return Err(busy(target, other));
        }
        between();
        let info = LockInfo {
            run: run.into(),
            kind: kind.into(),
            host: host_name(),
            pid: std::process::id(),
            started: now,
            heartbeat: now,
            process: process_identity(std::process::id()),
        };
        let lock = TargetLock::new(info);
        write(store, &lock.info)?;
        match live_locks(store, now) {
            Ok(live) => match conflicting(&live, run, kind) {
                None => Ok(lock),
                Some(other) => {
                    let err = busy(target, other);
                    tracing::info!(run, "backing off: {err}");
                    lock.release(store)?;
                    Err(err)
                }
            },
            Err(e) => {
                let _ = lock.release(store);
                Err(e)
            }
        }
    }

    /// Deletes the lock object. When that fails (the target stopped answering), the object is
    /// left behind, and taken for stale by the next run here or elsewhere (see
    /// [`LockInfo::is_stale`]).
    pub fn release(self, store: &Store) -> Result<()> {
        store.delete(&lock_path(&self.info.run))
    }
}

/// A live lock among `live` (other than `run`'s own) that forbids starting work of `kind`.
fn conflicting<'l>(live: &'l [LockInfo], run: &str, kind: &str) -> Option<&'l LockInfo> {
    live.iter()
        .find(|other| other.run != run && (other.kind == "prune" || kind == "prune"))
}

fn busy(target: &str, other: &LockInfo) -> Error {
    Error::new(
        ErrorKind::Busy,
        format!(
            "target '{target}' is locked by {} since {}; try again when it is done",
            other.describe(),
            other.started
        ),
    )
}

/// Whether the lock object of running work is still its own; see [`hold`].
pub(crate) struct Heartbeat {
    lost: Mutex<Option<String>>,
}

impl Heartbeat {
    /// Fails (`conflict`) when the lock could not be kept: its object was removed by another
    /// machine that took it for stale, or it could not be refreshed for a long time. Work checks
    /// this before a step that relies on the lock (writing a manifest, deleting).
    pub fn ensure_held(&self) -> Result<()> {
        match &*self.lost.lock().unwrap_or_else(|e| e.into_inner()) {
            None => Ok(()),
            Some(why) => Err(Error::new(ErrorKind::Conflict, why.clone())),
        }
    }

    fn lose(&self, why: String) {
        tracing::warn!("{why}");
        *self.lost.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
    }
}

/// Runs `work` while holding `lock`: a background thread refreshes the lock object's heartbeat
/// every [`HEARTBEAT_SECS`] by `clock`, and notices when the lock is lost ([`Heartbeat`]).
/// Afterwards, whatever `work` returned, the lock object is deleted.
pub(crate) fn hold<T>(
    store: &Store,
    lock: TargetLock,
    clock: &(dyn Fn() -> i64 + Sync),
    work: impl FnOnce(&Heartbeat) -> Result<T>,
) -> Result<T> {
    let heartbeat = Heartbeat {
        lost: Mutex::new(None),
    };
    let result = std::thread::scope(|s| {
        let (stop, stopped) = mpsc::channel::<()>();
        let (info, heartbeat) = (&lock.info, &heartbeat);
        s.spawn(move || beat(store, info, clock, heartbeat, &stopped));
        let result = work(heartbeat);
        drop(stop);
        result
    });
    let released = lock.release(store);
    let value = result?;
    released?;
    Ok(value)
}

/// The heartbeat thread of [`hold`]: until `stopped` is closed, rewrites the lock object with a
/// new heartbeat when one is due, as long as the object is still there.
fn beat(
    store: &Store,
    info: &LockInfo,
    clock: &(dyn Fn() -> i64 + Sync),
    heartbeat: &Heartbeat,
    stopped: &mpsc::Receiver<()>,
) {
    let path = lock_path(&info.run);
    let mut last_try = info.heartbeat;
    let mut last_written = info.heartbeat;
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(HEARTBEAT_POLL) {
        let now = clock();
        if now - last_try < HEARTBEAT_SECS {
            continue;
        }
        last_try = now;
        let refreshed = LockInfo {
            heartbeat: now,
            ..info.clone()
        };
        match store
            .read_optional(&path)
            .and_then(|held| held.map(|_| write(store, &refreshed)).transpose())
        {
            Ok(Some(())) => last_written = now,
            Ok(None) => {
                heartbeat.lose(format!(
                    "the lock {path} was removed by another machine that took it for stale; stopping so that nothing relies on it (run again)"
                ));
                return;
            }
            Err(e) => tracing::warn!(run = %info.run, "cannot refresh the lock's heartbeat: {e}"),
        }
        if now - last_written > LOST_AFTER_SECS {
            heartbeat.lose(format!(
                "the lock {path} could not be refreshed for {} minutes, so other machines may take it for stale; stopping so that nothing relies on it (run again)",
                (now - last_written) / 60
            ));
            return;
        }
    }
}

fn lock_path(run: &str) -> String {
    format!("locks/{run}")
}

fn write(store: &Store, info: &LockInfo) -> Result<()> {
    let bytes =
        serde_json::to_vec(info).map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
    store.write(&lock_path(&info.run), bytes)
}

/// The live lock objects on the target; stale ones are deleted on the way.
pub(crate) fn live_locks(store: &Store, now: i64) -> Result<Vec<LockInfo>> {
    let mut live = Vec::new();
    for obj in store.list("locks/")? {
        let path = lock_path(&obj.name);
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
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Barrier;
    use std::time::Instant;

    use super::*;
    use crate::Target;

    fn lock(run: &str, kind: &str, host: &str, heartbeat: i64) -> LockInfo {
        LockInfo {
            run: run.into(),
            kind: kind.into(),
            host: host.into(),
            pid: std::process::id(),
            started: heartbeat,
            heartbeat,
            process: process_identity(std::process::id()),
        }
    }

    fn lock_names(store: &Store) -> Vec<String> {
        let mut names: Vec<_> = store
            .list("locks/")
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_lock_is_stale_when_its_process_is_gone_or_another_machine_went_silent() {
        let mut info = lock("r", "backup", &host_name(), 1000);
        // Another process of this machine that still runs (init).
        info.pid = 1;
        info.process = process_identity(1);
        assert!(!info.is_stale(1000 + 60));
        assert!(
            !info.is_stale(1000 + 10 * STALE_AFTER_SECS),
            "the holder runs on this machine: never stale, however old its heartbeat"
        );
        info.process = Some("another-boot/12345".into());
        assert!(
            info.is_stale(1000 + 60),
            "the pid now belongs to another process (reused after a crash or reboot)"
        );
        info.process = None;
        info.pid = u32::MAX - 1;
        assert!(info.is_stale(1000 + 60), "a dead pid on this host is stale");
        info.host = "elsewhere".into();
        assert!(
            !info.is_stale(1000 + 60),
            "another host's pid cannot be checked"
        );
        assert!(info.is_stale(1000 + STALE_AFTER_SECS + 1));
    }

    #[test]
    fn a_lock_this_process_left_behind_is_stale_but_one_it_holds_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Target::folder("t", dir.path()), Default::default()).unwrap();
        // A run of this process whose release failed (the target stopped answering) left its
        // lock object: a later prune here must not wait for it forever.
        let left = lock("1234567812345678", "backup", &host_name(), 1000);
        write(&store, &left).unwrap();
        let held = TargetLock::acquire(&store, "t", "8765432187654321", "backup", 1000).unwrap();
        let live: Vec<String> = live_locks(&store, 1000 + 60)
            .unwrap()
            .into_iter()
            .map(|l| l.run)
            .collect();
        assert_eq!(
            live,
            ["8765432187654321"],
            "only the lock still held is live"
        );
        assert_eq!(
            lock_names(&store),
            ["8765432187654321"],
            "the left one is removed"
        );
        held.release(&store).unwrap();
        let prune = TargetLock::acquire(&store, "t", "aaaaaaaaaaaaaaaa", "prune", 1000 + 60);
        assert!(prune.is_ok(), "nothing holds the target any more");
    }

    #[test]
    fn a_lock_that_appears_while_ours_is_written_makes_us_back_off() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Target::folder("t", dir.path()), Default::default()).unwrap();
        let theirs = lock("0123456789abcdef", "prune", "elsewhere", 1000);
        let err =
            TargetLock::acquire_with(&store, "t", "fedcba9876543210", "backup", 1000, &|| {
                write(&store, &theirs).unwrap()
            })
            .err()
            .expect("a prune that started at the same moment wins");
        assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
        assert!(
            err.message()
                .contains("a prune (run 0123456789abcdef) by process"),
            "{err}"
        );
        assert_eq!(
            lock_names(&store),
            ["0123456789abcdef"],
            "our own lock is gone, theirs is left"
        );
    }

    #[test]
    fn two_prunes_starting_at_the_same_moment_never_both_go_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let both_checked = Barrier::new(2);
        // Each thread hands back the lock it took, so that a lock is still held (not dropped)
        // while the other one checks.
        let taken: [Option<TargetLock>; 2] = std::thread::scope(|s| {
            let runs = ["1111111111111111", "2222222222222222"].map(|run| {
                let (dir, both_checked) = (dir.path(), &both_checked);
                s.spawn(move || {
                    let store = Store::open(&Target::folder("t", dir), Default::default()).unwrap();
                    TargetLock::acquire_with(&store, "t", run, "prune", 1000, &|| {
                        both_checked.wait();
                    })
                    .ok()
                })
            });
            runs.map(|r| r.join().unwrap())
        });
        let went_ahead: Vec<&str> = taken
            .iter()
            .flatten()
            .map(|l| l.info.run.as_str())
            .collect();
        assert!(
            went_ahead.len() <= 1,
            "both prunes took the lock: {went_ahead:?}"
        );
    }

    #[test]
    fn held_work_refreshes_its_heartbeat_by_the_clock_and_notices_a_lost_lock() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Target::folder("t", dir.path()), Default::default()).unwrap();
        let clock = AtomicI64::new(1000);
        let now = || clock.load(Ordering::SeqCst);
        let read = |store: &Store| -> Option<LockInfo> {
            let bytes = store.read_optional("locks/aaaaaaaaaaaaaaaa").unwrap()?;
            Some(serde_json::from_slice(&bytes).unwrap())
        };
        let wait_for = |what: &dyn Fn() -> bool| {
            let deadline = Instant::now() + Duration::from_secs(20);
            while !what() {
                assert!(Instant::now() < deadline, "timed out");
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        let tlock = TargetLock::acquire(&store, "t", "aaaaaaaaaaaaaaaa", "backup", 1000).unwrap();
        let result = hold(&store, tlock, &now, |heartbeat| {
            clock.store(1000 + 2 * 3600, Ordering::SeqCst);
            wait_for(&|| read(&store).is_some_and(|l| l.heartbeat == 1000 + 2 * 3600));
            heartbeat.ensure_held()?;
            let info = read(&store).unwrap();
            assert_eq!(info.started, 1000, "only the heartbeat changes");
            // Another machine removes the lock (it took it for stale): the work must not go on.
            store.delete("locks/aaaaaaaaaaaaaaaa").unwrap();
            clock.fetch_add(HEARTBEAT_SECS, Ordering::SeqCst);
            wait_for(&|| heartbeat.ensure_held().is_err());
            heartbeat.ensure_held()
        });
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
        assert!(
            err.message().contains("removed by another machine"),
            "{err}"
        );
        assert!(lock_names(&store).is_empty(), "the lock is released");
    }
}
