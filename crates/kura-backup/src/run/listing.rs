//! What the target holds at the start of a run: the packs that waited in the outbox sent first,
//! the local blob cache brought up to date with the target's packs, the manifests that waited
//! sent once every chunk they name is held, and the latest backup's id.

use std::collections::HashSet;

use kura_core::Result;

use super::Context;
use crate::outbox;
use crate::session::Session;
use crate::state::{Counters, State};
use crate::store::Store;

/// What the target holds once the outbox is sent.
pub(super) struct Held {
    /// The blobs the target holds.
    pub(super) known: HashSet<[u8; 32]>,
    /// The latest backup's id, which the new one's follows.
    pub(super) latest: Option<String>,
}

/// Sends what waited in the outbox (packs, then manifests) and says what the target holds;
/// `listing` was read under the lock.
pub(super) fn catch_up(
    ctx: &Context,
    state: &mut State,
    counters: &mut Counters,
    listing: PackListing,
) -> Result<Held> {
    let session = ctx.session;
    let outbox = ctx.outbox.as_path();
    session.store.remove_temp_debris();
    session.upgrade()?;
    // Packs sent from the outbox were not in the listing made before.
    let listing = match outbox::send_packs(session, state, outbox, counters)? {
        0 => listing,
        _ => PackListing::read(&session.store)?,
    };
    let known = sync_blob_cache(session, state, listing)?;
    outbox::send_backups(session, outbox, &known, counters)?;
    // Under the lock no other run adds a backup, so the latest one can be read before the end.
    let latest = session.backup_ids()?.pop();
    Ok(Held { known, latest })
}

/// The packs a target holds, listed at the start of a run.
pub(crate) struct PackListing {
    /// Packs whose data object is there.
    stored: HashSet<String>,
    /// Packs whose index object is there.
    indexed: Vec<String>,
}

impl PackListing {
    pub fn read(store: &Store) -> Result<PackListing> {
        Ok(PackListing {
            stored: crate::session::stored_packs(store)?,
            indexed: crate::session::indexed_packs(store)?,
        })
    }
}

/// Brings the local list of blobs the target holds up to date with `listing` (another machine
/// may have pruned or written); returns the blob ids. A pack is held when both its index and its
/// data are there: the cache never claims a blob the target lacks, so a file whose chunks are
/// gone is read and sent again.
fn sync_blob_cache(
    session: &Session,
    state: &mut State,
    listing: PackListing,
) -> Result<HashSet<[u8; 32]>> {
    let name = &session.target.name;
    let at_target: HashSet<String> = listing
        .indexed
        .into_iter()
        .filter(|p| listing.stored.contains(p))
        .collect();
    let cached = state.cached_packs(name)?;
    let gone: Vec<String> = cached.difference(&at_target).cloned().collect();
    state.drop_packs(name, &gone)?;
    for pack in at_target.difference(&cached) {
        let index = session.read_index(pack)?;
        state.add_pack(name, pack, index.blobs.iter().map(|b| b.id))?;
    }
    state.cached_blobs(name)
}
