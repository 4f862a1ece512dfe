//! Checking the store: every indexed chunk (or a chosen set of them) and every pack's framing.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::File;

use rayon::prelude::*;

use crate::pack::{self, ChunkFault, FoundFile, PackEntry};
use crate::{index, ChunkId, ChunkStore, Error};

/// An indexed chunk that cannot be read back intact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadChunk {
    /// The chunk's id.
    pub id: ChunkId,
    /// The pack the index places it in (hex id).
    pub pack: String,
    /// Why it cannot be read ("its content does not match its id", "its pack is missing").
    pub why: String,
}

/// A pack file whose header or trailer is damaged (truncated, overwritten, unfinished).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadPack {
    /// The pack's id (hex).
    pub id: String,
    /// What is wrong with it.
    pub why: String,
    /// The indexed chunks it holds (checked one by one too: those that still read are at risk,
    /// as the pack cannot be re-indexed; the others are also in `bad_chunks`). Empty for a
    /// pack nothing in the index refers to.
    pub chunks: Vec<ChunkId>,
}

/// What [`ChunkStore::verify`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Indexed chunks examined.
    pub chunks_checked: u64,
    /// Indexed chunks that cannot be read back intact (damaged, or in a missing pack).
    pub bad_chunks: Vec<BadChunk>,
    /// Pack ids the index refers to whose files are gone.
    pub missing_packs: Vec<String>,
    /// Packs whose header or trailer is damaged.
    pub bad_packs: Vec<BadPack>,
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

/// Checks the chunks in `only` (every indexed chunk when `None`) and the packs holding them
/// (every pack on disk when `None`). Chunks of `only` that are not indexed are not reported
/// here: the caller knows which it expected.
pub(crate) fn verify(
    store: &ChunkStore,
    only: Option<&HashSet<ChunkId>>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, Error> {
    let mut report = VerifyReport::default();
    // The index first, then the folder: a pack that a writer seals and indexes between the two
    // is then on disk and only not checked, never indexed and "missing".
    let work = Work::of(store, only)?;
    let on_disk = pack::list_packs(&store.packs_dir)?.packs;
    progress(0, work.total);
    check_framing(store, &on_disk, &work, only.is_some(), &mut report)?;
    check_chunks(store, &on_disk, &work, &mut report, progress)?;
    progress(work.total, work.total);
    Ok(report)
}

/// The indexed packs to check and the bytes their rows to check hold.
struct Work {
    /// Each pack with its wanted rows under `only` (loaded here, as the packs holding them
    /// must be found anyway), else `None`: every row, loaded pack by pack when checked.
    packs: Vec<(String, Option<Vec<PackEntry>>)>,
    total: u64,
}

impl Work {
    /// The packs holding the chunks of `only`, with those rows; every indexed pack when `None`.
    fn of(store: &ChunkStore, only: Option<&HashSet<ChunkId>>) -> Result<Work, Error> {
        let db = store.db()?;
        match only {
            None => {
                let packs = index::packs(&db)?;
                Ok(Work {
                    packs: packs.into_iter().map(|p| (p, None)).collect(),
                    total: index::totals(&db)?.2,
                })
            }
            Some(set) => {
                let mut packs = Vec::new();
                let mut total = 0u64;
                for pack_id in index::packs(&db)? {
                    let rows: Vec<_> = index::pack_rows(&db, &pack_id)?
                        .into_iter()
                        .filter(|r| set.contains(&r.id))
                        .collect();
                    if !rows.is_empty() {
                        total += rows.iter().map(|r| u64::from(r.stored_len)).sum::<u64>();
                        packs.push((pack_id, Some(rows)));
                    }
                }
                Ok(Work { packs, total })
            }
        }
    }
}

/// Checks the header and trailer of every pack on disk (only the indexed ones to check when
/// `only_wanted`), and lists the packs no index row refers to.
fn check_framing(
    store: &ChunkStore,
    on_disk: &BTreeMap<String, FoundFile>,
    work: &Work,
    only_wanted: bool,
    report: &mut VerifyReport,
) -> Result<(), Error> {
    let indexed_set: BTreeSet<&String> = work.packs.iter().map(|(id, _)| id).collect();
    for (id, found) in on_disk {
        let indexed = indexed_set.contains(id);
        if !indexed {
            if only_wanted {
                continue;
            }
            report.unindexed_packs.push(id.clone());
        }
        let checked = File::open(&found.path)
            .map_err(|e| e.to_string())
            .and_then(|f| pack::read_trailer(&f, found.len));
        if let Err(why) = checked {
            tracing::warn!(pack = %id, "bad pack: {why}");
            let chunks = if indexed {
                index::pack_rows(&*store.db()?, id)?
                    .iter()
                    .map(|r| r.id)
                    .collect()
            } else {
                Vec::new()
            };
            report.bad_packs.push(BadPack {
                id: id.clone(),
                why,
                chunks,
            });
        }
    }
    Ok(())
}

/// Reads back every chunk to check, pack by pack, reporting progress in bytes. The chunks of a
/// pack are read, decompressed and hashed on every core: decompressing is most of a check's time.
fn check_chunks(
    store: &ChunkStore,
    on_disk: &BTreeMap<String, FoundFile>,
    work: &Work,
    report: &mut VerifyReport,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), Error> {
    let mut done = 0u64;
    for (pack_id, wanted) in &work.packs {
        let rows = match wanted {
            Some(rows) => rows.clone(),
            None => index::pack_rows(&*store.db()?, pack_id)?,
        };
        let file = on_disk
            .get(pack_id)
            .and_then(|found| File::open(&found.path).ok().map(|f| (f, found.len)));
        let faults: Vec<Option<String>> = match &file {
            None => {
                tracing::warn!(pack = %pack_id, "indexed pack is missing");
                report.missing_packs.push(pack_id.clone());
                vec![Some("its pack is missing".to_string()); rows.len()]
            }
            Some((f, len)) => rows
                .par_iter()
                .map_init(
                    pack::Scratch::default,
                    |scratch, row| match pack::check_chunk(f, *len, row, scratch) {
                        Ok(()) => None,
                        Err(ChunkFault::Bad(why)) => Some(why),
                        Err(ChunkFault::Io(e)) => Some(format!("reading it failed: {e}")),
                    },
                )
                .collect(),
        };
        for (row, fault) in rows.iter().zip(faults) {
            report.chunks_checked += 1;
            if let Some(why) = fault {
                tracing::warn!(chunk = %hex::encode(row.id), pack = %pack_id, "bad chunk: {why}");
                report.bad_chunks.push(BadChunk {
                    id: row.id,
                    pack: pack_id.clone(),
                    why,
                });
            }
            done += u64::from(row.stored_len);
        }
        progress(done.min(work.total), work.total);
    }
    Ok(())
}
