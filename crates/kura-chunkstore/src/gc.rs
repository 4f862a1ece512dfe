//! Garbage collection: drop dead chunks, delete and rewrite packs, sweep crash leftovers.

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File};
use std::path::Path;
use std::time::SystemTime;

use rusqlite::{params, TransactionBehavior};

use crate::error::io_at;
use crate::pack::{self, ChunkFault, PackEntry, PackWriter};
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

pub(crate) fn gc(
    store: &ChunkStore,
    live: &HashSet<ChunkId>,
    now: SystemTime,
) -> Result<GcReport, Error> {
    let mut report = GcReport::default();
    let on_disk = pack::list_packs(&store.packs_dir)?;
    let indexed = index::packs(&store.db())?;

    // Plan: which rows die, which packs die, which packs get rewritten.
    let mut dead_rows: Vec<(String, ChunkId)> = Vec::new();
    let mut emptied: Vec<String> = Vec::new();
    let mut rewrites: Vec<Rewrite> = Vec::new();
    for pack_id in &indexed {
        let rows = index::pack_rows(&store.db(), pack_id)?;
        let (live_rows, dead): (Vec<PackEntry>, Vec<PackEntry>) =
            rows.into_iter().partition(|r| live.contains(&r.id));
        dead_rows.extend(dead.iter().map(|r| (pack_id.clone(), r.id)));
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

    // Copy the live chunks of sparse packs into new, durable packs.
    let mut writer = PackWriter::new(&store.packs_dir);
    let mut rewritten: Vec<&Rewrite> = Vec::new();
    for rewrite in &rewrites {
        let Some(blobs) = live_blobs(&on_disk.packs[&rewrite.pack].path, rewrite)? else {
            continue;
        };
        for (entry, blob) in rewrite.live.iter().zip(&blobs) {
            writer.append(entry.id, entry.raw_len, blob, 0)?;
        }
        rewritten.push(rewrite);
    }
    writer.seal_open()?;
    let written: u64 = writer.sealed.iter().map(|p| p.len).sum();

    // One transaction: drop dead rows, point moved chunks at their new packs.
    {
        let mut conn = store.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut delete = tx.prepare("DELETE FROM chunks WHERE id = ?1 AND pack = ?2")?;
            for (pack_id, id) in &dead_rows {
                report.chunks_removed += delete.execute(params![&id[..], pack_id])? as u64;
            }
            let mut update = tx.prepare(
                "UPDATE chunks SET pack = ?1, offset = ?2, stored_len = ?3, raw_len = ?4
                 WHERE id = ?5",
            )?;
            for new_pack in &writer.sealed {
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
    }
    writer.keep();
    report.packs_rewritten = rewritten.len() as u32;

    // Delete the packs no row points to any more.
    let mut freed = 0u64;
    let dropped: BTreeSet<&String> = emptied
        .iter()
        .chain(rewritten.iter().map(|r| &r.pack))
        .collect();
    for &pack_id in &dropped {
        if index::pack_row_count(&store.db(), pack_id)? > 0 {
            continue;
        }
        if let Some(found) = on_disk.packs.get(pack_id) {
            if remove(&found.path) {
                report.packs_deleted += 1;
                freed += found.len;
            }
        }
    }

    // Sweep leftovers of crashed or abandoned writers, once they are old enough.
    let still_indexed: BTreeSet<String> = index::packs(&store.db())?.into_iter().collect();
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
            report.packs_deleted += 1;
            freed += found.len;
        }
    }
    for tmp in &on_disk.tmp {
        if old(tmp.modified) && remove(&tmp.path) {
            freed += tmp.len;
        }
    }
    report.bytes_freed = freed.saturating_sub(written);
    tracing::info!(?report, "chunk store gc");
    Ok(report)
}

/// Reads and checks the live blobs of a pack to rewrite. `None` (logged) when one is damaged:
/// the pack is then left as it is, so verify keeps reporting it rather than gc hiding it.
fn live_blobs(path: &Path, rewrite: &Rewrite) -> Result<Option<Vec<Vec<u8>>>, Error> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(pack = %rewrite.pack, "not rewriting unreadable pack: {e}");
            return Ok(None);
        }
    };
    let len = file.metadata().map_err(io_at(path))?.len();
    let mut blobs = Vec::with_capacity(rewrite.live.len());
    for entry in &rewrite.live {
        let blob = pack::read_blob(&mut file, len, entry).and_then(|blob| {
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
