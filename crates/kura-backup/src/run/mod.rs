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
mod pack;
mod read;
mod scan;
mod throttle;
mod tunables;
mod walk;

use std::path::PathBuf;

use kura_core::{Job, Result, Vault};

pub(crate) use self::listing::PackListing;
pub(crate) use self::scan::{scan, Scan};
use crate::lock::Heartbeat;
use crate::manifest::BackupInfo;
use crate::outbox;
use crate::session::Session;
use crate::state::{Counters, State};

/// A file, folder or link to back up.
struct Item {
    name: String,
    abs: PathBuf,
    meta: std::fs::Metadata,
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

/// Runs one backup of `vault` to the open session, whose lock object `heartbeat` keeps; returns
/// the manifest's summary. `listing` was read under the lock; `scan` waits for the run's
/// [`Scan`], made meanwhile.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backup(
    vault: &Vault,
    session: &Session,
    state: &mut State,
    now: &dyn Fn() -> i64,
    job: &Job,
    counters: &mut Counters,
    heartbeat: &Heartbeat,
    listing: PackListing,
    scan: impl FnOnce() -> Result<Scan>,
) -> Result<BackupInfo> {
    let ctx = Context {
        vault,
        session,
        job,
        now,
        heartbeat,
        outbox: outbox::dir(vault.root(), &session.target.name),
    };
    let held = listing::catch_up(&ctx, state, counters, listing)?;
    let Scan {
        _hold,
        started,
        catalog_copy,
        items,
        projects,
        old_cache,
    } = scan()?;
    let backed = read::read_and_pack(&ctx, state, counters, &items, &old_cache, &held.known)?;
    let contents = manifest::contents(backed, &old_cache, counters);
    let latest = held.latest.as_deref();
    let info = manifest::write(
        &ctx,
        counters,
        (started, latest),
        projects,
        contents.entries,
    )?;
    state.save_file_cache(&session.target.name, &contents.gone, &contents.put)?;
    let _ = std::fs::remove_file(&catalog_copy);
    let _ = std::fs::remove_file(scan::records_copy(&catalog_copy));
    Ok(info)
}
