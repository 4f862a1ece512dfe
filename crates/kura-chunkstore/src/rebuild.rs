//! Rebuilding `index.db` from the pack trailers.

use std::fs::File;

use rusqlite::TransactionBehavior;

use crate::{index, pack, ChunkStore, Error};

pub(crate) fn rebuild_index(store: &ChunkStore) -> Result<u64, Error> {
    let listing = pack::list_packs(&store.packs_dir)?;
    let mut trailers = Vec::with_capacity(listing.packs.len());
    for (id, found) in &listing.packs {
        let entries = File::open(&found.path)
            .map_err(|e| e.to_string())
            .and_then(|f| pack::read_trailer(&f, found.len));
        match entries {
            Ok(entries) => trailers.push((id, entries)),
            Err(why) => tracing::warn!(pack = %id, "skipping unreadable pack: {why}"),
        }
    }
    let mut conn = store.db()?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute("DELETE FROM chunks", [])?;
    let mut indexed = 0u64;
    for (id, entries) in &trailers {
        for entry in entries {
            if index::insert(&tx, id, entry)? {
                indexed += 1;
            }
        }
    }
    tx.commit()?;
    tracing::info!(
        packs = trailers.len(),
        chunks = indexed,
        "rebuilt chunk index"
    );
    Ok(indexed)
}
