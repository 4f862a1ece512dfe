//! Garbage collection: drop dead chunks, delete and rewrite packs, sweep crash leftovers.

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File};
use std::path::Path;
use std::time::SystemTime;

use rusqlite::{params, TransactionBehavior};

use crate::error::io_at;
use crate::pack::{self, ChunkFault, PackEntry, PackListing, PackWriter, SealedPack};
use crate::{index, ChunkId, ChunkStore, Error, GC_GRACE};

/// What [`ChunkStore::gc`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Pack files deleted (dead, rewritten, or unindexed leftovers).
    pub packs_deleted: u32,
    /// Packs whose live chunks were copied into new packs.
    pub packs_rewritten: u32,
    /// Index rows removed because their chunk is not live.
    pub chunks_removed: u64,
    /// Disk bytes freed, net of the new packs written.
    pub bytes_freed: u64,
}

/// A pack whose live chunks move to new packs.
struct Rewrite {
    pack: String,
    live: Vec<PackEntry>,
}

/// Removes from the index the rows of chunks not in `live`, deletes the packs left without a
/// row, rewrites the packs less than half live into new packs, and sweeps the leftovers of
/// crashed or abandoned writers older than `GC_GRACE` at `now`.
///
/// The order is what keeps a crash safe: the new packs are written and made durable first, then
/// one transaction drops the dead rows and points the moved chunks at the new packs, and only
/// then are the old packs deleted. A crash before the transaction leaves unindexed new packs for
/// a later sweep; a crash after it leaves old packs no row points to.
pub(crate) fn gc(
    store: &ChunkStore,
    live: &HashSet<ChunkId>,
    now: SystemTime,
) -> Result<GcReport, Error> {
    let mut report = GcReport::default();
    let on_disk = pack::list_packs(&store.packs_dir)?;
    let indexed = index::packs(&*store.db()?)?;
    let plan = plan(store, live, &on_disk, &indexed)?;
    let mut copies = copy_live_chunks(store, &on_disk, &plan.rewrites)?;
    let written: u64 = copies.writer.sealed.iter().map(|p| p.len).sum();
    report.chunks_removed = update_index(store, &plan.dead_rows, &copies.writer.sealed)?;
    copies.writer.keep();
    report.packs_rewritten = copies.rewritten.len() as u32;
    let dropped: BTreeSet<&String> = plan
        .emptied
        .iter()
        .chain(copies.rewritten.iter().map(|r| &r.pack))
        .collect();
    let deleted = delete_dropped_packs(store, &on_disk, &dropped)?;
    let swept = sweep_leftovers(store, &on_disk, &dropped, now)?;
    report.packs_deleted = deleted.packs + swept.packs;
    let freed = deleted.bytes + swept.bytes;
    report.bytes_freed = freed.saturating_sub(written);
    tracing::info!(?report, "chunk store gc");
    Ok(report)
}

/// An index row that dies: the chunk `id` in pack `pack`.
struct DeadRow {
    pack: String,
    id: ChunkId,
}

/// What gc is to do: which rows die, which packs die, which packs get rewritten.
struct GcPlan {
    dead_rows: Vec<DeadRow>,
    /// Packs left without a live chunk.
    emptied: Vec<String>,
    rewrites: Vec<Rewrite>,
}

/// Plans gc for the `indexed` packs: each row whose chunk is not in `live` dies, a pack without
/// a live chunk dies, and a pack found `on_disk` whose live chunks take less than half of it is
/// rewritten. A pack missing from the disk keeps its live rows, so verify keeps reporting them.
fn plan(
    store: &ChunkStore,
    live: &HashSet<ChunkId>,
    on_disk: &PackListing,
    indexed: &[String],
) -> Result<GcPlan, Error> {
    let mut dead_rows: Vec<DeadRow> = Vec::new();
    let mut emptied: Vec<String> = Vec::new();
    let mut rewrites: Vec<Rewrite> = Vec::new();
    for pack_id in indexed {
        let rows = index::pack_rows(&*store.db()?, pack_id)?;
        let (live_rows, dead): (Vec<PackEntry>, Vec<PackEntry>) =
            rows.into_iter().partition(|r| live.contains(&r.id));
        dead_rows.extend(dead.iter().map(|r| DeadRow {
            pack: pack_id.clone(),
            id: r.id,
        }));
        if live_rows.is_empty() {
            emptied.push(pack_id.clone());
            continue;
        }
        let Some(found) = on_disk.packs.get(pack_id) else {
            continue; // missing: keep its live rows so verify keeps reporting them
        };
        let live_bytes: u64 = live_rows.iter().map(|r| u64::from(r.stored_len)).sum();
        if live_bytes * 2 < found.len {
            rewrites.push(Rewrite {
                pack: pack_id.clone(),
                live: live_rows,
            });
        }
    }
    Ok(GcPlan {
        dead_rows,
        emptied,
        rewrites,
    })
}

/// The new packs holding the live chunks of rewritten packs, and which packs were rewritten.
struct LiveCopies<'p> {
    /// Its packs are sealed and durable, but not yet in the index: dropped without `keep`, it
    /// deletes them.
    writer: PackWriter,
    rewritten: Vec<&'p Rewrite>,
}

/// Copies the live chunks of the packs of `rewrites` into new, durable packs. A pack with a
/// chunk that cannot be read or is damaged is left as it is (see `live_blobs`).
fn copy_live_chunks<'p>(
    store: &ChunkStore,
    on_disk: &PackListing,
    rewrites: &'p [Rewrite],
) -> Result<LiveCopies<'p>, Error> {
    let mut writer = PackWriter::new(&store.packs_dir);
    let mut rewritten: Vec<&Rewrite> = Vec::new();
    for rewrite in rewrites {
        let Some(blobs) = live_blobs(&on_disk.packs[&rewrite.pack].path, rewrite)? else {
            continue;
        };
        for (entry, blob) in rewrite.live.iter().zip(&blobs) {
            writer.append(entry.id, entry.raw_len, blob, 0)?;
        }
        rewritten.push(rewrite);
    }
    writer.seal_open()?;
    Ok(LiveCopies { writer, rewritten })
}

/// In one transaction: drops the `dead_rows`, and points the chunks moved into the `sealed`
/// packs at them. Returns how many rows were dropped.
fn update_index(
    store: &ChunkStore,
    dead_rows: &[DeadRow],
    sealed: &[SealedPack],
) -> Result<u64, Error> {
    let mut chunks_removed = 0;
    let mut conn = store.db()?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut delete = tx.prepare("DELETE FROM chunks WHERE id = ?1 AND pack = ?2")?;
        for row in dead_rows {
            chunks_removed += delete.execute(params![&row.id[..], row.pack])? as u64;
        }
        let mut update = tx.prepare(
            "UPDATE chunks SET pack = ?1, offset = ?2, stored_len = ?3, raw_len = ?4
                 WHERE id = ?5",
        )?;
        for new_pack in sealed {
            for e in &new_pack.entries {
                update.execute(params![
                    new_pack.id,
                    e.offset as i64,
                    e.stored_len,
                    e.raw_len,
                    &e.id[..]
                ])?;
            }
        }
    }
    tx.commit()?;
    Ok(chunks_removed)
}

/// Pack files deleted and the bytes they held.
struct Freed {
    packs: u32,
    bytes: u64,
}

/// Deletes the `dropped` packs (emptied or rewritten) that no row points to any more.
fn delete_dropped_packs(
    store: &ChunkStore,
    on_disk: &PackListing,
    dropped: &BTreeSet<&String>,
) -> Result<Freed, Error> {
    let mut freed = Freed { packs: 0, bytes: 0 };
    for &pack_id in dropped {
        if index::pack_row_count(&*store.db()?, pack_id)? > 0 {
            continue;
        }
        if let Some(found) = on_disk.packs.get(pack_id) {
            if remove(&found.path) {
                freed.packs += 1;
                freed.bytes += found.len;
            }
        }
    }
    Ok(freed)
}

/// Sweeps the leftovers of crashed or abandoned writers, once they are old enough at `now`:
/// packs found `on_disk` that no row points to (other than the `dropped` ones, already dealt
/// with), then temporary files.
fn sweep_leftovers(
    store: &ChunkStore,
    on_disk: &PackListing,
    dropped: &BTreeSet<&String>,
    now: SystemTime,
) -> Result<Freed, Error> {
    let mut freed = Freed { packs: 0, bytes: 0 };
    let still_indexed: BTreeSet<String> = index::packs(&*store.db()?)?.into_iter().collect();
    let old = |modified: SystemTime| {
        now.duration_since(modified)
            .is_ok_and(|age| age >= GC_GRACE)
    };
    for (pack_id, found) in &on_disk.packs {
        if !still_indexed.contains(pack_id)
            && !dropped.contains(pack_id)
            && old(found.modified)
            && remove(&found.path)
        {
            freed.packs += 1;
            freed.bytes += found.len;
        }
    }
    for tmp in &on_disk.tmp {
        if old(tmp.modified) && remove(&tmp.path) {
            freed.bytes += tmp.len;
        }
    }
    Ok(freed)
}

/// Reads and checks the live blobs of a pack to rewrite. `None` (logged) when one is damaged:
/// the pack is then left as it is, so verify keeps reporting it rather than gc hiding it.
fn live_blobs(path: &Path, rewrite: &Rewrite) -> Result<Option<Vec<Vec<u8>>>, Error> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(pack = %rewrite.pack, "not rewriting unreadable pack: {e}");
            return Ok(None);
        }
    };
    let len = file.metadata().map_err(io_at(path))?.len();
    let mut blobs = Vec::with_capacity(rewrite.live.len());
    for entry in &rewrite.live {
        let blob = pack::read_blob(&file, len, entry).and_then(|blob| {
            pack::decode_blob(&blob, entry)
                .map(|_| blob)
                .map_err(ChunkFault::Bad)
        });
        match blob {
            Ok(blob) => blobs.push(blob),
            Err(fault) => {
                tracing::warn!(
                    pack = %rewrite.pack,
                    chunk = %hex::encode(entry.id),
                    "not rewriting a pack with a bad chunk: {fault}"
                );
                return Ok(None);
            }
        }
    }
    Ok(Some(blobs))
}

fn remove(path: &Path) -> bool {
    match fs::remove_file(path) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(path = %path.display(), "gc could not delete: {e}");
            false
        }
    }
}
