//! Full check of the store: every indexed chunk, every pack's framing.

use std::collections::BTreeSet;
use std::fs::File;

use crate::pack::{self, ChunkFault};
use crate::{index, ChunkId, ChunkStore, Error};

/// What [`ChunkStore::verify`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Indexed chunks examined.
    pub chunks_checked: u64,
    /// Indexed chunks that cannot be read back intact (damaged, or in a missing pack).
    pub bad_chunks: Vec<ChunkId>,
    /// Pack ids the index refers to whose files are gone.
    pub missing_packs: Vec<String>,
    /// Pack ids whose header or trailer is damaged (truncated, overwritten, unfinished).
    pub bad_packs: Vec<String>,
    /// Pack ids on disk that no index row refers to: garbage from a crash or a concurrent writer,
    /// adopted by `rebuild_index` or deleted by `gc`.
    pub unindexed_packs: Vec<String>,
}

impl VerifyReport {
    /// True when every indexed chunk is intact and every pack is well-formed. Unindexed packs
    /// are garbage, not damage, and do not count.
    pub fn is_ok(&self) -> bool {
        self.bad_chunks.is_empty() && self.missing_packs.is_empty() && self.bad_packs.is_empty()
    }
}

pub(crate) fn verify(
    store: &ChunkStore,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, Error> {
    let mut report = VerifyReport::default();
    let (indexed, total) = {
        let db = store.db();
        (index::packs(&db)?, index::totals(&db)?.2)
    };
    let on_disk = pack::list_packs(&store.packs_dir)?.packs;
    let indexed_set: BTreeSet<&String> = indexed.iter().collect();
    let mut done = 0u64;
    progress(done, total);

    for (id, found) in &on_disk {
        if !indexed_set.contains(id) {
            report.unindexed_packs.push(id.clone());
        }
        let checked = File::open(&found.path)
            .map_err(|e| e.to_string())
            .and_then(|mut f| pack::read_trailer(&mut f, found.len));
        if let Err(why) = checked {
            tracing::warn!(pack = %id, "bad pack: {why}");
            report.bad_packs.push(id.clone());
        }
    }

    for pack_id in &indexed {
        let rows = index::pack_rows(&store.db(), pack_id)?;
        let mut file = on_disk
            .get(pack_id)
            .and_then(|found| File::open(&found.path).ok().map(|f| (f, found.len)));
        if file.is_none() {
            tracing::warn!(pack = %pack_id, "indexed pack is missing");
            report.missing_packs.push(pack_id.clone());
        }
        for row in &rows {
            report.chunks_checked += 1;
            let fault = match file.as_mut() {
                None => Some("its pack is missing".to_string()),
                Some((f, len)) => match pack::read_chunk(f, *len, row) {
                    Ok(_) => None,
                    Err(ChunkFault::Bad(why)) => Some(why),
                    Err(ChunkFault::Io(e)) => Some(format!("reading it failed: {e}")),
                },
            };
            if let Some(why) = fault {
                tracing::warn!(chunk = %hex::encode(row.id), pack = %pack_id, "bad chunk: {why}");
                report.bad_chunks.push(row.id);
            }
            done += u64::from(row.stored_len);
            progress(done.min(total), total);
        }
    }
    progress(total, total);
    Ok(report)
}
