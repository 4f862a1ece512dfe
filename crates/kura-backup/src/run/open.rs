//! Opening the target for a run: its store and config read, its lock taken, then under the lock
//! the key derived (slow on purpose) on one thread while the target's packs are listed on this
//! one.

use kura_core::{Error, ErrorKind, Result};

use super::PackListing;
use crate::lock::TargetLock;
use crate::net::Timeouts;
use crate::repo;
use crate::session::Session;
use crate::store::Store;
use crate::target::{self, Target};

/// The target open for a run, its lock taken.
pub(super) struct Opened {
    pub(super) session: Session,
    /// The target's lock object, taken for this run.
    pub(super) lock: TargetLock,
    /// The packs the target holds, listed under the lock.
    pub(super) listing: PackListing,
}

/// Opens `target` (named `name`) for run `run_id` started at `now`; the lock is released again
/// when the key or the listing fails.
pub(super) fn open(
    target: &Target,
    name: &str,
    run_id: &str,
    now: i64,
    timeouts: Timeouts,
) -> Result<Opened> {
    let store = Store::open(target, timeouts)?;
    let config = repo::read_config(&store, name, target.encrypt)?;
    let tlock = TargetLock::acquire(&store, name, run_id, "backup", now)?;
    let (keys, listing) = std::thread::scope(|k| {
        let keys = k.spawn(|| {
            repo::unlock(&config, name, || {
                target::secret(name, target::SecretKind::Passphrase)
            })
        });
        let listing = PackListing::read(&store);
        let keys = keys
            .join()
            .map_err(|_| Error::new(ErrorKind::Internal, "the key thread panicked"))
            .and_then(|k| k);
        (keys, listing)
    });
    let (keys, listing) = match (keys, listing) {
        (Ok(keys), Ok(listing)) => (keys, listing),
        (Err(e), _) | (_, Err(e)) => {
            let _ = tlock.release(&store);
            return Err(e);
        }
    };
    let session = Session {
        target: target.clone(),
        store,
        keys,
        config,
    };
    Ok(Opened {
        session,
        lock: tlock,
        listing,
    })
}
