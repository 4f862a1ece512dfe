//! One backup run: walk the vault (catalog and records copies, settings, histories, chunk packs, working
//! folders), cut new content into chunks, pack what the target does not hold yet, upload the
//! packs and their indexes, then the manifest.
//!
//! Incremental: a file whose size, mtime, ctime and inode match the last run and whose chunks the
//! target holds is not read again. Deduplicated: a chunk the target holds is never sent again.
//! Packed: blobs go into ~16 MiB packs; a large file's blobs into packs of their own, so that
//! when it is gone from every kept backup (a project deleted, a chunk-store pack collected)
//! prune frees all of it. Failed uploads are retried with backoff; when the target
//! stays down, the packs (and the manifest) wait in `<vault>/backup/<target>/outbox/` and are sent
//! first at the next run. Only files, folders and symbolic links are backed up: FIFOs, sockets
//! and device files are skipped (with a warning).
//!
//! Crash safety: packs go up with their indexes (pack first) and enter the blob cache once both
//! are stored; the manifest that names them goes up only after every pack is uploaded and
//! indexed; the file cache is saved last. A crash leaves packs no backup names (prune collects
//! them), never a manifest that names a missing pack.
//!
//! [`run`] starts the run in the local state ([`record`]), opens the target ([`open`]) while
//! [`scan`] lists the vault on a thread, runs [`backup`] under the target's lock, and records
//! how the run ended ([`record`]) whatever happened.
//!
//! [`backup`] runs the stages in this order, each in its own file:
//! 1. [`listing`]: what the target holds: the outbox sent first, the blob cache synced with the
//!    target's packs, the latest backup's id;
//! 2. [`scan`]: the local half, made on its own thread while the target was opened: the vault
//!    held against chunk gc, the catalog copied, everything to back up listed ([`walk`]), the
//!    last run's file cache loaded;
//! 3. [`read`]: what changed read and cut into chunks on the chunking threads while [`pack`]
//!    packs the new ones and uploads the packs (at most as fast as [`throttle`] lets them);
//! 4. [`manifest`]: the entries sorted, the manifest sealed and uploaded;
//! 5. the file cache saved for the next run, the catalog copies removed.
//!
//! Their tunables are in [`tunables`].

mod listing;
mod manifest;
mod open;
mod pack;
mod read;
mod record;
mod scan;
mod throttle;
mod tunables;
mod walk;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use kura_core::{Error, ErrorKind, Job, Result, Vault};

use self::listing::PackListing;
use self::open::Opened;
use self::record::Started;
use self::scan::Scan;
use crate::lock::{self, Heartbeat};
use crate::manifest::BackupInfo;
use crate::outbox;
use crate::session::Session;
use crate::state::{Counters, State};
use crate::target::Target;
use crate::{Backups, RunReport};

/// A file, folder or link to back up.
struct Item {
    name: String,
    abs: PathBuf,
    stat: Stat,
}

impl Item {
    fn new(name: String, abs: PathBuf, meta: &std::fs::Metadata) -> Item {
        Item {
            name,
            abs,
            stat: Stat::of(meta),
        }
    }
}

/// What a run keeps of an item's stat data, as the walk saw it: 40 bytes where a whole
/// `std::fs::Metadata` takes 176, for every file of the vault until the run ends.
#[derive(Clone, Copy)]
struct Stat {
    /// `st_mode`: the kind of file and its permissions.
    mode: u32,
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    inode: u64,
}

impl Stat {
    fn of(meta: &std::fs::Metadata) -> Stat {
        use std::os::unix::fs::MetadataExt;
        Stat {
            mode: meta.mode(),
            size: meta.len(),
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
            inode: meta.ino(),
        }
    }

    fn kind(&self) -> u32 {
        self.mode & libc::S_IFMT
    }

    fn is_dir(&self) -> bool {
        self.kind() == libc::S_IFDIR
    }

    fn is_symlink(&self) -> bool {
        self.kind() == libc::S_IFLNK
    }
}

/// Backs the vault up to target `name` now (see [`Backups::run_backup`]): the run is started,
/// the backup made, and the run recorded whatever happened.
pub(crate) fn run(backups: &Backups, name: &str, job: &Job) -> Result<RunReport> {
    let target = backups.target(name)?;
    let _lock = lock::lock_local(backups.root(), name)?;
    let mut state = State::open(backups.root())?;
    let started = record::start(&state, name, backups.now())?;
    let mut counters = Counters::default();
    let result = open_and_back_up(
        backups,
        &target,
        name,
        &started,
        &mut state,
        &mut counters,
        job,
    );
    let finished = backups.now();
    record::finish(&state, name, started, finished, &counters, result)
}

/// Opens the target and runs the [`backup`] under its lock, the vault scanned meanwhile.
fn open_and_back_up(
    backups: &Backups,
    target: &Target,
    name: &str,
    started: &Started,
    state: &mut State,
    counters: &mut Counters,
    job: &Job,
) -> Result<BackupInfo> {
    let (now, run_id) = (started.at, started.id.as_str());
    let clock = backups.clock.clone();
    // Nothing waits for what it does not need: the vault is scanned on a thread while the
    // target is opened, and under the target's lock the key is derived (slow on purpose) on
    // another while the target's packs are listed.
    let stop_scan = AtomicBool::new(false);
    std::thread::scope(|s| {
        let scan = s.spawn(|| scan::scan(backups.vault, name, now, &stop_scan));
        // Leaving early (the target is unavailable, the passphrase wrong...) stops the scan
        // instead of waiting for it; on the way through, the run has joined it already.
        let _stop_scan = StopOnDrop(&stop_scan);
        let scan = move || {
            scan.join()
                .map_err(|_| Error::new(ErrorKind::Internal, "the scan thread panicked"))?
        };
        let Opened {
            session,
            lock: tlock,
            listing,
        } = open::open(target, name, run_id, now, backups.timeouts())?;
        lock::hold(&session.store, tlock, &|| clock.now(), |heartbeat| {
            let ctx = Context {
                vault: backups.vault,
                session: &session,
                job,
                now: &|| clock.now(),
                heartbeat,
                outbox: outbox::dir(backups.vault.root(), &session.target.name),
            };
            backup(&ctx, state, counters, listing, scan)
        })
    })
}

/// Sets its flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What every stage of one run reads.
struct Context<'a> {
    vault: &'a Vault,
    /// The open target.
    session: &'a Session,
    job: &'a Job,
    /// The clock, for the manifest's finishing time.
    now: &'a dyn Fn() -> i64,
    /// Keeps the target's lock object.
    heartbeat: &'a Heartbeat,
    /// Where packs and manifests wait when their upload fails.
    outbox: PathBuf,
}

/// Runs one backup of the vault to the open session, whose lock object the context's heartbeat
/// keeps; returns the manifest's summary. `listing` was read under the lock; `scan` waits for
/// the run's [`Scan`], made meanwhile.
fn backup(
    ctx: &Context,
    state: &mut State,
    counters: &mut Counters,
    listing: PackListing,
    scan: impl FnOnce() -> Result<Scan>,
) -> Result<BackupInfo> {
    let held = listing::catch_up(ctx, state, counters, listing)?;
    let Scan {
        _hold,
        started,
        catalog_copy,
        items,
        projects,
        old_cache,
    } = scan()?;
    let backed = read::read_and_pack(ctx, state, counters, &items, &old_cache, &held.known)?;
    let contents = manifest::contents(backed, &old_cache, counters);
    let latest = held.latest.as_deref();
    let info = manifest::write(ctx, counters, (started, latest), projects, contents.entries)?;
    state.save_file_cache(&ctx.session.target.name, &contents.gone, &contents.put)?;
    let _ = std::fs::remove_file(&catalog_copy);
    let _ = std::fs::remove_file(scan::records_copy(&catalog_copy));
    Ok(info)
}
