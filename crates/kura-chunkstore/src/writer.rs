//! The write path: read → chunk → hash → dedup on the caller's thread, compress on worker
//! threads, append to packs on a packer thread, all over bounded channels; index at `finish`.

use std::collections::HashSet;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;

use fastcdc::v2020::{ChunkData, StreamCDC};
use rusqlite::TransactionBehavior;

use crate::pack::PackWriter;
use crate::{
    index, ChunkId, ChunkRef, ChunkStore, Error, BLOB_QUEUE, MAX_COMPRESSORS, RAW_QUEUE_PER_WORKER,
};

/// The result of storing one file: its recipe and what it added to the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    /// Length of the content in bytes.
    pub size: u64,
    /// BLAKE3 hash of the whole content.
    pub hash: [u8; 32],
    /// The chunks in order; concatenated they are the content. Empty for empty content.
    pub chunks: Vec<ChunkRef>,
    /// Chunks that were neither indexed nor already written in this session.
    pub new_chunks: u32,
    /// Compressed bytes those new chunks take in packs.
    pub new_stored_bytes: u64,
}

/// What a writer session added, returned by [`ChunkWriter::finish`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Pack files kept (packs whose chunks were all indexed by someone else meanwhile are deleted).
    pub packs_written: u32,
    /// Index rows added.
    pub chunks_written: u64,
    /// Sum of the raw lengths of the chunks indexed.
    pub raw_bytes_written: u64,
    /// Size on disk of the pack files kept.
    pub stored_bytes_written: u64,
}

/// A writer session: stores files into new packs, indexes them all at [`ChunkWriter::finish`].
///
/// Dropped without `finish`, it deletes its packs and indexes nothing.
pub struct ChunkWriter<'a> {
    store: &'a ChunkStore,
    packs: PackWriter,
    /// Chunks written in this session and not rolled back, for dedup before they are indexed.
    pending: HashSet<ChunkId>,
    /// `store` calls that failed: their chunks are not indexed.
    failed_stores: HashSet<u32>,
    stores: u32,
    /// zstd contexts, kept across files: setting one up allocates and touches a few MiB.
    compressors: Vec<zstd::bulk::Compressor<'static>>,
}

struct RawChunk {
    id: ChunkId,
    data: Vec<u8>,
}

struct Blob {
    id: ChunkId,
    raw_len: u32,
    data: Vec<u8>,
}

/// Hashes chunks in order into the recipe and the whole-content hash.
struct Recipe {
    hasher: blake3::Hasher,
    chunks: Vec<ChunkRef>,
    size: u64,
}

impl Recipe {
    fn add(&mut self, data: &[u8]) -> ChunkId {
        self.hasher.update(data);
        let id = *blake3::hash(data).as_bytes();
        self.chunks.push(ChunkRef {
            id,
            len: data.len() as u32,
        });
        self.size += data.len() as u64;
        id
    }
}

/// Decides whether a chunk must be written: not indexed and not written in this session.
struct Dedup<'s> {
    store: &'s ChunkStore,
    pending: &'s mut HashSet<ChunkId>,
    added: Vec<ChunkId>,
}

impl Dedup<'_> {
    fn is_new(&mut self, id: &ChunkId) -> Result<bool, Error> {
        if self.pending.contains(id) || index::contains(&self.store.db(), id)? {
            return Ok(false);
        }
        self.pending.insert(*id);
        self.added.push(*id);
        Ok(true)
    }
}

fn next_chunk(
    cdc: &mut StreamCDC<&mut dyn Read>,
    cancel: &AtomicBool,
) -> Result<Option<ChunkData>, Error> {
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }
    match cdc.next() {
        None => Ok(None),
        Some(Ok(chunk)) => Ok(Some(chunk)),
        Some(Err(fastcdc::v2020::Error::IoError(e))) => Err(Error::Input(e)),
        Some(Err(e)) => Err(Error::Input(std::io::Error::other(e.to_string()))),
    }
}

fn new_compressor(level: i32) -> Result<zstd::bulk::Compressor<'static>, Error> {
    zstd::bulk::Compressor::new(level)
        .map_err(|e| Error::Internal(format!("cannot set up zstd level {level}: {e}")))
}

fn compress(c: &mut zstd::bulk::Compressor<'static>, data: &[u8]) -> Result<Vec<u8>, Error> {
    c.compress(data)
        .map_err(|e| Error::Internal(format!("zstd compression failed: {e}")))
}

impl<'a> ChunkWriter<'a> {
    pub(crate) fn new(store: &'a ChunkStore) -> ChunkWriter<'a> {
        ChunkWriter {
            store,
            packs: PackWriter::new(&store.packs_dir),
            pending: HashSet::new(),
            failed_stores: HashSet::new(),
            stores: 0,
            compressors: Vec::new(),
        }
    }

    /// Chunks, hashes, dedups (against the index and chunks pending in this session) and
    /// compresses the stream, appending new chunks to this session's packs. Returns the recipe.
    ///
    /// `progress` gets the bytes read so far; `cancel` is checked between chunks and makes this
    /// return [`Error::Cancelled`]. After an error, nothing of this call gets indexed, and the
    /// writer can still store other files — unless writing a pack failed (disk full, I/O error):
    /// then every later call, `finish` included, fails and the session must be dropped.
    pub fn store(
        &mut self,
        reader: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
        cancel: &AtomicBool,
    ) -> Result<StoredFile, Error> {
        self.packs.check()?;
        self.stores += 1;
        let tag = self.stores;
        let mut dedup = Dedup {
            store: self.store,
            pending: &mut self.pending,
            added: Vec::new(),
        };
        let result = store_stream(
            self.store,
            &mut self.packs,
            &mut self.compressors,
            &mut dedup,
            reader,
            progress,
            cancel,
            tag,
        );
        if result.is_err() {
            for id in &dedup.added {
                dedup.pending.remove(id);
            }
            self.failed_stores.insert(tag);
        }
        result
    }

    /// Flushes the open pack and indexes everything durably: packs are already fsynced and
    /// renamed into place; their rows go into the index in one transaction. Until this returns,
    /// nothing this writer stored is referenced.
    pub fn finish(mut self) -> Result<WriteStats, Error> {
        self.packs.seal_open()?;
        if self.packs.sealed.is_empty() {
            return Ok(WriteStats::default());
        }
        let failed = &self.failed_stores;
        let live = |tag: &u32| !failed.contains(tag);
        let mut inserted_per_pack = Vec::with_capacity(self.packs.sealed.len());
        let mut stats = WriteStats::default();
        {
            let mut conn = self.store.db();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for pack in &self.packs.sealed {
                let mut inserted = 0u64;
                for (entry, tag) in pack.entries.iter().zip(&pack.tags) {
                    if live(tag) && index::insert(&tx, &pack.id, entry)? {
                        inserted += 1;
                        stats.raw_bytes_written += u64::from(entry.raw_len);
                    }
                }
                inserted_per_pack.push(inserted);
            }
            tx.commit()?;
        }
        let sealed = std::mem::take(&mut self.packs.sealed);
        self.packs.keep();
        for (pack, inserted) in sealed.iter().zip(inserted_per_pack) {
            if inserted == 0 {
                // Rolled back, or all its chunks were indexed by a concurrent writer first.
                if let Err(e) = std::fs::remove_file(&pack.path) {
                    tracing::warn!(pack = %pack.id, "could not remove unneeded pack: {e}");
                }
                continue;
            }
            stats.packs_written += 1;
            stats.chunks_written += inserted;
            stats.stored_bytes_written += pack.len;
        }
        tracing::debug!(?stats, "chunk writer finished");
        Ok(stats)
    }
}

#[allow(clippy::too_many_arguments)]
fn store_stream(
    store: &ChunkStore,
    packs: &mut PackWriter,
    compressors: &mut Vec<zstd::bulk::Compressor<'static>>,
    dedup: &mut Dedup<'_>,
    reader: &mut dyn Read,
    progress: &mut dyn FnMut(u64),
    cancel: &AtomicBool,
    tag: u32,
) -> Result<StoredFile, Error> {
    let opts = &store.opts;
    let mut cdc = StreamCDC::new(reader, opts.min_chunk, opts.avg_chunk, opts.max_chunk);
    let mut recipe = Recipe {
        hasher: blake3::Hasher::new(),
        chunks: Vec::new(),
        size: 0,
    };
    let first = next_chunk(&mut cdc, cancel)?;
    let second = match first {
        Some(_) => next_chunk(&mut cdc, cancel)?,
        None => None,
    };
    let (new_chunks, new_stored_bytes) = match (first, second) {
        (None, _) => (0, 0),
        // One chunk: no threads for small files.
        (Some(chunk), None) => {
            let id = recipe.add(&chunk.data);
            progress(recipe.size);
            if dedup.is_new(&id)? {
                if compressors.is_empty() {
                    compressors.push(new_compressor(opts.zstd_level)?);
                }
                let blob = compress(&mut compressors[0], &chunk.data)?;
                packs.append(id, chunk.data.len() as u32, &blob, tag)?;
                (1, blob.len() as u64)
            } else {
                (0, 0)
            }
        }
        (Some(first), Some(second)) => {
            let chunks = [Ok(Some(first)), Ok(Some(second))]
                .into_iter()
                .chain(std::iter::from_fn(|| Some(next_chunk(&mut cdc, cancel))));
            pipeline(
                chunks,
                &mut recipe,
                dedup,
                packs,
                compressors,
                store.opts.zstd_level,
                progress,
                tag,
            )?
        }
    };
    Ok(StoredFile {
        size: recipe.size,
        hash: *recipe.hasher.finalize().as_bytes(),
        chunks: recipe.chunks,
        new_chunks,
        new_stored_bytes,
    })
}

/// Runs the threaded pipeline over `chunks`, one worker per context of `compressors` (made up
/// to one per core); returns (new chunks, their stored bytes).
#[allow(clippy::too_many_arguments)]
fn pipeline(
    chunks: impl Iterator<Item = Result<Option<ChunkData>, Error>>,
    recipe: &mut Recipe,
    dedup: &mut Dedup<'_>,
    packs: &mut PackWriter,
    compressors: &mut Vec<zstd::bulk::Compressor<'static>>,
    level: i32,
    progress: &mut dyn FnMut(u64),
    tag: u32,
) -> Result<(u32, u64), Error> {
    let workers = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_COMPRESSORS);
    while compressors.len() < workers {
        compressors.push(new_compressor(level)?);
    }
    let (raw_tx, raw_rx) = sync_channel::<RawChunk>(workers * RAW_QUEUE_PER_WORKER);
    let raw_rx = Arc::new(Mutex::new(raw_rx));
    let (blob_tx, blob_rx) = sync_channel::<Result<Blob, Error>>(BLOB_QUEUE);
    let abort = AtomicBool::new(false);

    thread::scope(|s| {
        let compressors: Vec<_> = compressors
            .iter_mut()
            .take(workers)
            .map(|compressor| {
                let raw_rx = Arc::clone(&raw_rx);
                let blob_tx = blob_tx.clone();
                thread::Builder::new()
                    .name("kura-compress".into())
                    .spawn_scoped(s, move || compress_loop(&raw_rx, &blob_tx, compressor))
            })
            .collect();
        drop(raw_rx);
        drop(blob_tx);
        let abort = &abort;
        let packer = thread::Builder::new()
            .name("kura-pack".into())
            .spawn_scoped(s, move || pack_loop(blob_rx, packs, tag, abort));

        let fed = match (compressors.iter().all(Result::is_ok), &packer) {
            (true, Ok(_)) => feed(chunks, recipe, dedup, progress, raw_tx, abort),
            _ => {
                drop(raw_tx);
                Err(Error::Internal("cannot start worker threads".into()))
            }
        };
        for c in compressors.into_iter().flatten() {
            if let Err(panic) = c.join() {
                std::panic::resume_unwind(panic);
            }
        }
        let packed = match packer {
            Ok(p) => p
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(e) => Err(Error::Internal(format!("cannot start packer thread: {e}"))),
        };
        match (fed, packed) {
            (Err(Error::Internal(_)), Err(e)) => Err(e),
            (Err(e), _) => Err(e),
            (Ok(()), packed) => packed,
        }
    })
}

/// Caller thread: chunks arrive in order; hash, record, dedup, send new ones to compression.
fn feed(
    chunks: impl Iterator<Item = Result<Option<ChunkData>, Error>>,
    recipe: &mut Recipe,
    dedup: &mut Dedup<'_>,
    progress: &mut dyn FnMut(u64),
    raw_tx: SyncSender<RawChunk>,
    abort: &AtomicBool,
) -> Result<(), Error> {
    for chunk in chunks {
        let Some(chunk) = chunk? else {
            break;
        };
        let id = recipe.add(&chunk.data);
        progress(recipe.size);
        if !dedup.is_new(&id)? {
            continue;
        }
        if abort.load(Ordering::Relaxed)
            || raw_tx
                .send(RawChunk {
                    id,
                    data: chunk.data,
                })
                .is_err()
        {
            return Err(Error::Internal("the packer stopped".into()));
        }
    }
    Ok(())
}

fn compress_loop(
    raw_rx: &Mutex<Receiver<RawChunk>>,
    blob_tx: &SyncSender<Result<Blob, Error>>,
    compressor: &mut zstd::bulk::Compressor<'static>,
) {
    loop {
        let next = raw_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(raw) = next else {
            return;
        };
        let blob = compress(compressor, &raw.data).map(|data| Blob {
            id: raw.id,
            raw_len: raw.data.len() as u32,
            data,
        });
        if blob_tx.send(blob).is_err() {
            return;
        }
    }
}

fn pack_loop(
    blob_rx: Receiver<Result<Blob, Error>>,
    packs: &mut PackWriter,
    tag: u32,
    abort: &AtomicBool,
) -> Result<(u32, u64), Error> {
    let mut new_chunks = 0u32;
    let mut stored = 0u64;
    for blob in blob_rx {
        let result = blob.and_then(|b| {
            packs.append(b.id, b.raw_len, &b.data, tag)?;
            Ok(b.data.len() as u64)
        });
        match result {
            Ok(len) => {
                new_chunks += 1;
                stored += len;
            }
            Err(e) => {
                abort.store(true, Ordering::Relaxed);
                return Err(e);
            }
        }
    }
    Ok((new_chunks, stored))
}
