//! The write path: read → chunk → hash → dedup on the caller's thread; compress on worker
//! threads and append to packs on a packer thread. The workers live as long as the writer
//! session, so one file's last chunks are compressed while the next file is read; the queues
//! between them are bounded. Everything is indexed at `finish`.

use std::collections::HashSet;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use rusqlite::TransactionBehavior;

use crate::chunker::Chunker;
use crate::pack::PackWriter;
use crate::{
    index, ChunkId, ChunkRef, ChunkStore, Error, BLOB_QUEUE, DEFAULT_ZSTD_LEVEL, MAX_COMPRESSORS,
    RAW_QUEUE_PER_WORKER,
};

/// The result of storing one file: its recipe and what it added to the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    /// Length of the content in bytes.
    pub size: u64,
    /// BLAKE3 hash of the whole content.
    pub hash: [u8; 32],
    /// The chunks in order; concatenated they are the content. Empty for empty content.
    pub chunks: Vec<ChunkRef>,
    /// Chunks that were neither indexed nor already written in this session. They may still be
    /// being compressed when `store` returns; [`ChunkWriter::finish`] says what they took.
    pub new_chunks: u32,
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
    /// The packs, while no workers run (before the first new chunk, and after `finish` or a
    /// failure has stopped them); the packer thread holds them meanwhile.
    packs: Option<PackWriter>,
    workers: Option<Workers>,
    /// Chunks written in this session and not rolled back, for dedup before they are indexed.
    pending: HashSet<ChunkId>,
    /// `store` calls that failed: their chunks are not indexed.
    failed_stores: HashSet<u32>,
    stores: u32,
    /// The chunker's read buffer, kept across files.
    buffer: Vec<u8>,
}

/// A chunk to compress; `tag` is the `store` call it belongs to.
struct RawChunk {
    id: ChunkId,
    tag: u32,
    data: Vec<u8>,
}

struct Blob {
    id: ChunkId,
    tag: u32,
    raw_len: u32,
    data: Vec<u8>,
}

/// Buffers handed back by the thread done with them, for the next chunk: memory that is reused
/// is not faulted in and zeroed by the kernel again for every chunk.
struct Spares {
    buffers: Mutex<Vec<Vec<u8>>>,
    keep: usize,
}

impl Spares {
    fn new(keep: usize) -> Spares {
        Spares {
            buffers: Mutex::new(Vec::with_capacity(keep)),
            keep,
        }
    }

    /// An empty buffer of at least `capacity` bytes. Every buffer is asked for the capacity of
    /// the largest chunk, so a reused one never grows (growing is a fresh allocation).
    fn take(&self, capacity: usize) -> Vec<u8> {
        let mut buffer = self.lock().pop().unwrap_or_default();
        buffer.reserve(capacity);
        buffer
    }

    fn give(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        let mut buffers = self.lock();
        if buffers.len() < self.keep {
            buffers.push(buffer);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        self.buffers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The session's compression threads and packer thread.
struct Workers {
    raw_tx: SyncSender<RawChunk>,
    /// Buffers of raw chunks already compressed.
    raw_spares: Arc<Spares>,
    compressors: Vec<JoinHandle<()>>,
    /// Gives the packs back, with the first error of compressing or appending, if any.
    packer: JoinHandle<(PackWriter, Result<(), Error>)>,
    /// Set by the packer when it failed, and by `Drop` to discard what is queued.
    stop: Arc<AtomicBool>,
}

impl Workers {
    /// Starts the threads; the packer takes `packs`, which must hold nothing yet: if a thread
    /// cannot start, they are dropped (deleting whatever they hold).
    fn start(packs: PackWriter, level: i32, max_chunk: usize) -> Result<Workers, Error> {
        let count = thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_COMPRESSORS);
        let (raw_tx, raw_rx) = sync_channel::<RawChunk>(count * RAW_QUEUE_PER_WORKER);
        let raw_rx = Arc::new(Mutex::new(raw_rx));
        let (blob_tx, blob_rx) = sync_channel::<Result<Blob, Error>>(BLOB_QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        // As many spares as buffers can be in flight (queued, being worked on, being filled):
        // whatever the pace of each thread, a buffer comes round again instead of a fresh one
        // being faulted in, and the memory kept is what the queues held at their fullest.
        let raw_spares = Arc::new(Spares::new(count * RAW_QUEUE_PER_WORKER + count + 1));
        let blob_spares = Arc::new(Spares::new(BLOB_QUEUE + count + 1));
        let mut compressors = Vec::with_capacity(count);
        for _ in 0..count {
            let queues = CompressQueues {
                raw_rx: Arc::clone(&raw_rx),
                blob_tx: blob_tx.clone(),
                raw_spares: Arc::clone(&raw_spares),
                blob_spares: Arc::clone(&blob_spares),
                blob_capacity: zstd::zstd_safe::compress_bound(max_chunk),
            };
            let stop = Arc::clone(&stop);
            match thread::Builder::new()
                .name("kura-compress".into())
                .spawn(move || compress_loop(&queues, level, &stop))
            {
                Ok(handle) => compressors.push(handle),
                // Fewer compressors are fine; none is not.
                Err(e) if compressors.is_empty() => {
                    return Err(Error::Internal(format!(
                        "cannot start a compression thread: {e}"
                    )))
                }
                Err(_) => break,
            }
        }
        drop(blob_tx);
        let packer = {
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name("kura-pack".into())
                .spawn(move || {
                    let mut packs = packs;
                    let result = pack_loop(blob_rx, &mut packs, &blob_spares, &stop);
                    (packs, result)
                })
        };
        match packer {
            Ok(packer) => Ok(Workers {
                raw_tx,
                raw_spares,
                compressors,
                packer,
                stop,
            }),
            Err(e) => {
                drop(raw_tx);
                for c in compressors {
                    let _ = c.join();
                }
                Err(Error::Internal(format!(
                    "cannot start the packer thread: {e}"
                )))
            }
        }
    }

    /// Lets the workers finish what is queued (or drop it, when `stop` is set) and waits for
    /// them: returns the packs and the first error.
    fn join(self) -> std::thread::Result<(PackWriter, Result<(), Error>)> {
        drop(self.raw_tx);
        let mut panicked = None;
        for c in self.compressors {
            if let Err(panic) = c.join() {
                panicked.get_or_insert(panic);
            }
        }
        let packed = self.packer.join()?;
        match panicked {
            Some(panic) => Err(panic),
            None => Ok(packed),
        }
    }
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

/// A zstd context for chunks at `level`.
///
/// Levels are zstd's, except 3 (the default), which is Kura's own, between zstd's 2 and 3:
/// zstd's fast match finder (level 2's) with a hash table of 2^17 entries and matches of 5
/// bytes or more. Measured on the 1 MiB chunks of the toolchain's libraries
/// (`cargo run --release -p kura-chunkstore --example zstd_params -- DIR`), it stores 2% more
/// than zstd's level 3 in about 20% less time, and 2.5% less than level 2. zstd shrinks the
/// table for short chunks as it does for its own levels.
pub fn chunk_compressor(level: i32) -> std::io::Result<zstd::bulk::Compressor<'static>> {
    use zstd::stream::raw::CParameter;
    if level != DEFAULT_ZSTD_LEVEL {
        return zstd::bulk::Compressor::new(level);
    }
    let mut c = zstd::bulk::Compressor::new(2)?;
    c.set_parameter(CParameter::HashLog(17))?;
    c.set_parameter(CParameter::MinMatch(5))?;
    Ok(c)
}

/// What a compression thread takes from and gives to.
struct CompressQueues {
    raw_rx: Arc<Mutex<Receiver<RawChunk>>>,
    blob_tx: SyncSender<Result<Blob, Error>>,
    raw_spares: Arc<Spares>,
    blob_spares: Arc<Spares>,
    /// Room for the largest chunk compressed.
    blob_capacity: usize,
}

fn compress_loop(queues: &CompressQueues, level: i32, stop: &AtomicBool) {
    let mut compressor = match chunk_compressor(level) {
        Ok(c) => c,
        Err(e) => {
            let why = format!("cannot set up zstd level {level}: {e}");
            let _ = queues.blob_tx.send(Err(Error::Internal(why)));
            return;
        }
    };
    loop {
        let next = queues
            .raw_rx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .recv();
        let Ok(raw) = next else {
            return;
        };
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let mut data = queues.blob_spares.take(queues.blob_capacity);
        let blob = compressor
            .compress_to_buffer(&raw.data, &mut data)
            .map(|_| Blob {
                id: raw.id,
                tag: raw.tag,
                raw_len: raw.data.len() as u32,
                data,
            })
            .map_err(|e| Error::Internal(format!("zstd compression failed: {e}")));
        queues.raw_spares.give(raw.data);
        if queues.blob_tx.send(blob).is_err() {
            return;
        }
    }
}

/// Appends blobs as they come; on the first failure, poisons the packs, sets `stop` and returns.
fn pack_loop(
    blob_rx: Receiver<Result<Blob, Error>>,
    packs: &mut PackWriter,
    spares: &Spares,
    stop: &AtomicBool,
) -> Result<(), Error> {
    for blob in blob_rx {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let appended = blob.and_then(|b| {
            packs.append(b.id, b.raw_len, &b.data, b.tag)?;
            spares.give(b.data);
            Ok(())
        });
        if let Err(e) = appended {
            packs.poison(&e);
            stop.store(true, Ordering::Relaxed);
            return Err(e);
        }
    }
    Ok(())
}

impl<'a> ChunkWriter<'a> {
    pub(crate) fn new(store: &'a ChunkStore) -> ChunkWriter<'a> {
        ChunkWriter {
            store,
            packs: Some(PackWriter::new(&store.packs_dir)),
            workers: None,
            pending: HashSet::new(),
            failed_stores: HashSet::new(),
            stores: 0,
            buffer: Vec::new(),
        }
    }

    /// Chunks, hashes, dedups (against the index and chunks pending in this session) and
    /// queues the new chunks for compression into this session's packs. Returns the recipe.
    ///
    /// `progress` gets the bytes read so far; `cancel` is checked between chunks and makes this
    /// return [`Error::Cancelled`]. After an error, nothing of this call gets indexed, and the
    /// writer can still store other files — unless compressing or writing a pack failed (disk
    /// full, I/O error): that makes this call or a later one fail, and always `finish`, and the
    /// session must be dropped.
    pub fn store(
        &mut self,
        reader: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
        cancel: &AtomicBool,
    ) -> Result<StoredFile, Error> {
        self.check()?;
        self.stores += 1;
        let tag = self.stores;
        let mut added = Vec::new();
        let result = self.store_stream(reader, progress, cancel, tag, &mut added);
        if result.is_err() {
            for id in &added {
                self.pending.remove(id);
            }
            self.failed_stores.insert(tag);
        }
        result
    }

    /// Waits for the chunks still being compressed, flushes the open pack and indexes
    /// everything durably: packs are fsynced and renamed into place as they fill; their rows go
    /// into the index in one transaction. Until this returns, nothing this writer stored is
    /// referenced.
    pub fn finish(mut self) -> Result<WriteStats, Error> {
        self.stop_workers()?;
        let packs = self
            .packs
            .as_mut()
            .expect("the workers gave the packs back");
        packs.seal_open()?;
        if packs.sealed.is_empty() {
            return Ok(WriteStats::default());
        }
        let failed = &self.failed_stores;
        let live = |tag: &u32| !failed.contains(tag);
        let mut inserted_per_pack = Vec::with_capacity(packs.sealed.len());
        let mut stats = WriteStats::default();
        {
            let mut conn = self.store.db()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for pack in &packs.sealed {
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
        let sealed = std::mem::take(&mut packs.sealed);
        packs.keep();
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

    /// Fails when compressing or writing failed earlier in this session.
    fn check(&mut self) -> Result<(), Error> {
        if self
            .workers
            .as_ref()
            .is_some_and(|w| w.stop.load(Ordering::Relaxed))
        {
            self.stop_workers()?;
        }
        match &self.packs {
            Some(packs) => packs.check(),
            None => Ok(()),
        }
    }

    /// Waits for the workers to handle what is queued and takes the packs back; returns their
    /// first error.
    fn stop_workers(&mut self) -> Result<(), Error> {
        let Some(workers) = self.workers.take() else {
            return Ok(());
        };
        let (packs, result) = workers
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        self.packs = Some(packs);
        result
    }

    /// Queues a copy of a new chunk for compression, starting the workers for the first one.
    fn send(&mut self, id: ChunkId, tag: u32, chunk: &[u8]) -> Result<(), Error> {
        let workers = match &mut self.workers {
            Some(workers) => workers,
            None => {
                let packs = self.packs.take().expect("no workers hold the packs");
                let opts = &self.store.opts;
                let started = Workers::start(packs, opts.zstd_level, opts.max_chunk as usize);
                if started.is_err() {
                    // Nothing was written yet: a fresh writer for the next attempt.
                    self.packs = Some(PackWriter::new(&self.store.packs_dir));
                }
                self.workers.insert(started?)
            }
        };
        let mut data = workers.raw_spares.take(self.store.opts.max_chunk as usize);
        data.extend_from_slice(chunk);
        let chunk = RawChunk { id, tag, data };
        if workers.stop.load(Ordering::Relaxed) || workers.raw_tx.send(chunk).is_err() {
            self.stop_workers()?;
            return Err(Error::Internal("the chunk writer's workers stopped".into()));
        }
        Ok(())
    }

    /// Feeds one stream: chunks arrive in order on this thread, are hashed into the recipe and
    /// deduplicated; new ones go to the workers. `added` gets the ids marked pending.
    fn store_stream(
        &mut self,
        reader: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
        cancel: &AtomicBool,
        tag: u32,
        added: &mut Vec<ChunkId>,
    ) -> Result<StoredFile, Error> {
        let opts = &self.store.opts;
        let buffer = std::mem::take(&mut self.buffer);
        let mut chunker = Chunker::with_buffer(
            reader,
            opts.min_chunk,
            opts.avg_chunk,
            opts.max_chunk,
            buffer,
        );
        let mut recipe = Recipe {
            hasher: blake3::Hasher::new(),
            chunks: Vec::new(),
            size: 0,
        };
        let mut new_chunks = 0u32;
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let Some(chunk) = chunker.next_chunk().map_err(Error::Input)? else {
                break;
            };
            let id = recipe.add(chunk);
            progress(recipe.size);
            if self.pending.contains(&id) || index::contains(&*self.store.db()?, &id)? {
                continue;
            }
            self.pending.insert(id);
            added.push(id);
            new_chunks += 1;
            self.send(id, tag, chunk)?;
        }
        self.buffer = chunker.into_buffer();
        Ok(StoredFile {
            size: recipe.size,
            hash: *recipe.hasher.finalize().as_bytes(),
            chunks: recipe.chunks,
            new_chunks,
        })
    }
}

impl Drop for ChunkWriter<'_> {
    /// Stops the workers without writing what is queued; the packs are deleted with them.
    fn drop(&mut self) {
        if let Some(workers) = self.workers.take() {
            workers.stop.store(true, Ordering::Relaxed);
            // A panic of a worker was reported by `store` or `finish`, or is moot now.
            let _ = workers.join();
        }
    }
}
