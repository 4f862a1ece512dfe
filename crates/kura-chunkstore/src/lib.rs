//! Kura's vault-wide chunk store for large and binary files.
//!
//! Content is split by content-defined chunking (FastCDC 2020), each chunk is named by the
//! BLAKE3 hash of its bytes, compressed with zstd and appended to a pack file. A chunk is stored
//! once for the whole vault however many files and versions contain it. The caller keeps the
//! recipe (the list of [`ChunkRef`]s) — in Kura, a small pointer file committed to git.
//!
//! ```
//! use std::collections::HashSet;
//! use std::sync::atomic::AtomicBool;
//! use kura_chunkstore::{ChunkStore, ChunkStoreOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let store = ChunkStore::open(dir.path(), ChunkStoreOptions::default())?;
//! let content = vec![7u8; 3_000_000];
//! let mut writer = store.writer();
//! let stored = writer.store(&mut &content[..], &mut |_| {}, &AtomicBool::new(false))?;
//! writer.finish()?; // only now is anything indexed
//!
//! let mut restored = Vec::new();
//! store.read_to(&stored.chunks, &mut restored)?;
//! assert_eq!(restored, content);
//!
//! let live: HashSet<_> = stored.chunks.iter().map(|c| c.id).collect();
//! store.gc(&live)?; // keeps what `live` names
//! assert!(store.verify(&mut |_, _| {})?.is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # On-disk layout
//!
//! The format is public and readable without Kura: a pack is plain framing around standard
//! zstd frames, the index is an ordinary SQLite database.
//!
//! ```text
//! <dir>/packs/<first 2 hex of pack id>/<pack id hex>.pack
//! <dir>/packs/tmp-<random hex>          a pack being written (or left by a crash)
//! <dir>/index.db                        SQLite, WAL mode
//! ```
//!
//! A **pack id** is 32 random bytes, written as 64 lower-case hex digits. (Random rather than a
//! content hash, so two writers that happen to write identical packs never share a file name.)
//!
//! **Pack file**, all integers little-endian:
//!
//! ```text
//! "KURAPACK"  u32 version = 1                      header, 12 bytes
//! blob, blob, ...                                  each blob is one zstd frame of one chunk
//! for each blob:                                   trailer entries, 48 bytes each
//!     [32] BLAKE3 of the raw (uncompressed) chunk = the chunk id
//!     u64 offset of the blob from the start of the file
//!     u32 stored_len (compressed bytes)   u32 raw_len (chunk bytes)
//! u32 entry count
//! [32] BLAKE3 of all trailer entry bytes
//! "KPACKEND"
//! ```
//!
//! To read a pack by hand: the last 44 bytes give the entry count; the entries sit just before
//! them; `dd` out `stored_len` bytes at `offset` and pipe them to `zstd -d`.
//!
//! **`index.db`** has one table, and `PRAGMA user_version` = 1:
//!
//! ```text
//! chunks(id BLOB PRIMARY KEY, pack TEXT, offset INTEGER, stored_len INTEGER, raw_len INTEGER)
//! ```
//!
//! `pack` is the pack id hex. The index is derivable from the pack trailers
//! ([`ChunkStore::rebuild_index`]).
//!
//! # Durability and commit order
//!
//! A pack is written to `packs/tmp-<random>`, fsynced, renamed into place, and its folder is
//! fsynced. Only when all packs of a writer session are durable are their index rows inserted,
//! in one SQLite transaction ([`ChunkWriter::finish`]). A crash leaves at worst an unindexed
//! pack or a `tmp-` file, which [`ChunkStore::gc`] deletes (after an hour) or
//! [`ChunkStore::rebuild_index`] adopts — never an index row pointing to a missing pack.
//! Several processes may write at once: the index uses a busy timeout and `INSERT OR IGNORE`,
//! so a chunk written twice is indexed once and the other copy becomes garbage for gc.
//!
//! [`ChunkStore::gc`] must not run while a writer whose chunks are not yet in its `live` set
//! is open (the caller serialises them, e.g. with a vault lock): a writer deduplicates against
//! indexed chunks that gc would consider dead.

#![warn(missing_docs)]

mod cache;
pub mod chunker;
mod error;
mod gc;
mod index;
mod pack;
mod readahead;
mod rebuild;
mod verify;
mod writer;

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use rusqlite::Connection;

use crate::cache::ChunkCache;
use crate::error::io_at;
use crate::pack::ChunkFault;

pub use crate::chunker::Chunker;
pub use crate::error::Error;
pub use crate::gc::GcReport;
pub use crate::readahead::ReadAhead;
pub use crate::verify::{BadChunk, BadPack, VerifyReport};
pub use crate::writer::{chunk_compressor, ChunkWriter, StoredFile, WriteStats};

// Tunables, in one place.

/// A pack is sealed once it holds this many bytes, so many small chunks don't make many files.
pub const PACK_TARGET_SIZE: u64 = 16 * 1024 * 1024;
/// Default smallest chunk; content shorter than this is one chunk.
pub const DEFAULT_MIN_CHUNK: u32 = 256 * 1024;
/// Default average chunk size.
pub const DEFAULT_AVG_CHUNK: u32 = 1024 * 1024;
/// Default largest chunk.
pub const DEFAULT_MAX_CHUNK: u32 = 4 * 1024 * 1024;
/// Largest chunk any store writes or accepts (FastCDC's maximum).
pub const MAX_CHUNK_LEN: u32 = fastcdc::v2020::MAXIMUM_MAX;
/// Default level: Kura's own, between zstd's 2 and 3 (see [`chunk_compressor`]).
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;
/// Default size of the cache of decompressed chunks.
pub const DEFAULT_CACHE_BYTES: usize = 64 * 1024 * 1024;
/// Unindexed packs and `tmp-` files younger than this are left alone by gc: a concurrent writer
/// may still be finishing them.
pub const GC_GRACE: Duration = Duration::from_secs(60 * 60);

/// Files of at least this many chunks are read with read-ahead threads.
const READ_AHEAD_MIN_CHUNKS: usize = 4;
/// Chunks the read-ahead threads may hold ready together (bounds memory: at most this many
/// chunks, or one per thread).
const READ_AHEAD_CHUNKS: usize = 4;
/// Most read-ahead threads for one file (fewer on machines with fewer cores).
const MAX_READERS: usize = 4;
/// How long a statement waits for another process holding the index's write lock.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Most compression threads a writer session uses (fewer on machines with fewer cores).
pub(crate) const MAX_COMPRESSORS: usize = 4;
/// Raw chunks queued per compression thread; with the other queues this bounds memory per
/// writer session to a few dozen chunks whatever the file size.
pub(crate) const RAW_QUEUE_PER_WORKER: usize = 2;
/// Compressed chunks queued for the packer thread. Full packs are fsynced on a thread of their
/// own (see `PackWriter`), so the packer only copies blobs into the page cache and a short
/// queue keeps up.
pub(crate) const BLOB_QUEUE: usize = 4;
/// Write buffer of a pack being written.
pub(crate) const PACK_WRITE_BUFFER: usize = 256 * 1024;

/// A chunk's id: the BLAKE3 hash of its raw bytes.
pub type ChunkId = [u8; 32];

/// One chunk of a file's recipe.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChunkRef {
    /// BLAKE3 of the chunk's bytes.
    pub id: ChunkId,
    /// Length of the chunk in bytes.
    pub len: u32,
}

/// Settings of a [`ChunkStore`].
///
/// Chunk sizes affect deduplication: stores that should share chunks must use the same sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkStoreOptions {
    /// zstd compression level for new chunks (default 3, Kura's own: see [`chunk_compressor`]).
    pub zstd_level: i32,
    /// Bytes of decompressed chunks kept in memory for repeated reads (default 64 MiB; 0 = off).
    pub cache_bytes: usize,
    /// Smallest chunk in bytes (default 256 KiB, 64 B..=1 MiB).
    pub min_chunk: u32,
    /// Average chunk in bytes (default 1 MiB, 256 B..=4 MiB).
    pub avg_chunk: u32,
    /// Largest chunk in bytes (default 4 MiB, 1 KiB..=16 MiB).
    pub max_chunk: u32,
}

impl Default for ChunkStoreOptions {
    fn default() -> Self {
        ChunkStoreOptions {
            zstd_level: DEFAULT_ZSTD_LEVEL,
            cache_bytes: DEFAULT_CACHE_BYTES,
            min_chunk: DEFAULT_MIN_CHUNK,
            avg_chunk: DEFAULT_AVG_CHUNK,
            max_chunk: DEFAULT_MAX_CHUNK,
        }
    }
}

impl ChunkStoreOptions {
    fn check(&self) -> Result<(), Error> {
        use fastcdc::v2020::{
            AVERAGE_MAX, AVERAGE_MIN, MAXIMUM_MAX, MAXIMUM_MIN, MINIMUM_MAX, MINIMUM_MIN,
        };
        let bad = |msg: String| Err(Error::InvalidOptions(msg));
        if !(MINIMUM_MIN..=MINIMUM_MAX).contains(&self.min_chunk) {
            return bad(format!(
                "min_chunk {} is outside {MINIMUM_MIN}..={MINIMUM_MAX}",
                self.min_chunk
            ));
        }
        if !(AVERAGE_MIN..=AVERAGE_MAX).contains(&self.avg_chunk) {
            return bad(format!(
                "avg_chunk {} is outside {AVERAGE_MIN}..={AVERAGE_MAX}",
                self.avg_chunk
            ));
        }
        if !(MAXIMUM_MIN..=MAXIMUM_MAX).contains(&self.max_chunk) {
            return bad(format!(
                "max_chunk {} is outside {MAXIMUM_MIN}..={MAXIMUM_MAX}",
                self.max_chunk
            ));
        }
        if !(self.min_chunk <= self.avg_chunk && self.avg_chunk <= self.max_chunk) {
            return bad("chunk sizes must satisfy min_chunk <= avg_chunk <= max_chunk".into());
        }
        let levels = zstd::compression_level_range();
        if !levels.contains(&self.zstd_level) {
            return bad(format!(
                "zstd_level {} is outside {}..={}",
                self.zstd_level,
                levels.start(),
                levels.end()
            ));
        }
        Ok(())
    }
}

/// Space used by the store, from [`ChunkStore::usage`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Indexed chunks.
    pub chunks: u64,
    /// Pack files on disk (indexed or not).
    pub packs: u64,
    /// Sum of the pack file sizes.
    pub stored_bytes: u64,
    /// Sum of the raw lengths of the indexed chunks.
    pub raw_bytes: u64,
}

/// A chunk store in a folder. `Send + Sync`: share it between threads by reference.
pub struct ChunkStore {
    dir: PathBuf,
    packs_dir: PathBuf,
    opts: ChunkStoreOptions,
    /// The index, opened when first used: a command that reads no large file never opens it.
    db: OnceLock<Mutex<Connection>>,
    cache: Mutex<ChunkCache>,
}

/// A chunk a read-ahead thread loaded: shared with the cache, or in a buffer of the thread's,
/// given back to it once written. A long file is streamed once, front to back, past the cache:
/// its chunks would only push out the hot ones (and an export of a tree of large files would hold
/// the whole cache's worth of memory for nothing).
enum Loaded {
    Cached(Arc<Vec<u8>>),
    Read(Vec<u8>),
}

impl Loaded {
    fn bytes(&self) -> &[u8] {
        match self {
            Loaded::Cached(data) => data,
            Loaded::Read(data) => data,
        }
    }
}

impl ChunkStore {
    /// Opens the store in `dir`, creating the folder and `packs/` if missing; `index.db` is
    /// opened (and made if missing) when first used.
    pub fn open(dir: &Path, opts: ChunkStoreOptions) -> Result<ChunkStore, Error> {
        opts.check()?;
        let packs_dir = dir.join("packs");
        std::fs::create_dir_all(&packs_dir).map_err(io_at(&packs_dir))?;
        Ok(ChunkStore {
            dir: dir.to_path_buf(),
            packs_dir,
            cache: Mutex::new(ChunkCache::new(opts.cache_bytes)),
            opts,
            db: OnceLock::new(),
        })
    }

    /// The folder of the store.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts a writer session. Several may run at once, in this or other processes.
    pub fn writer(&self) -> ChunkWriter<'_> {
        ChunkWriter::new(self)
    }

    /// Streams a file's content back to `out` from its recipe, verifying each chunk's BLAKE3 id;
    /// hot chunks come from the bounded cache of decompressed chunks (a file of many chunks is
    /// streamed past it: its chunks are not kept). Returns the bytes written.
    ///
    /// A damaged chunk gives [`Error::Corrupt`] naming the chunk and its pack; a chunk missing
    /// from the index gives [`Error::NotFound`].
    pub fn read_to(&self, chunks: &[ChunkRef], out: &mut dyn Write) -> Result<u64, Error> {
        if chunks.len() < READ_AHEAD_MIN_CHUNKS {
            let mut open: Option<(String, File, u64)> = None;
            let mut total = 0u64;
            for chunk in chunks {
                let data = self.load(&chunk.id, &mut open)?;
                total += self.write_chunk(chunk, &data, out)?;
            }
            out.flush().map_err(Error::Output)?;
            return Ok(total);
        }
        // Long files: reader threads read, decompress and verify chunks ahead, each every
        // `readers`th one, while this thread writes them out in order. One reader left the
        // other cores idle at the end of a restore, on the largest file.
        let readers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_READERS);
        let ahead = (READ_AHEAD_CHUNKS / readers).max(1);
        std::thread::scope(|scope| {
            let mut ready = Vec::with_capacity(readers);
            let mut written = Vec::with_capacity(readers);
            for first in 0..readers {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Loaded, Error>>(ahead);
                // The buffer a reader decompressed into comes back once written, for its next
                // chunk; one more than it takes is freed, so it keeps only what it has out.
                let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(1);
                ready.push(rx);
                written.push(back_tx);
                scope.spawn(move || {
                    let mut open: Option<(String, File, u64)> = None;
                    let mut scratch = pack::Scratch::default();
                    for chunk in chunks.iter().skip(first).step_by(readers) {
                        let spare = back_rx.try_recv().unwrap_or_default();
                        let loaded = self.load_into(&chunk.id, &mut open, &mut scratch, spare);
                        let failed = loaded.is_err();
                        if tx.send(loaded).is_err() || failed {
                            break;
                        }
                    }
                });
            }
            let mut total = 0u64;
            for (i, chunk) in chunks.iter().enumerate() {
                let loaded = ready[i % readers]
                    .recv()
                    .map_err(|_| Error::Internal("the chunk reader stopped early".into()))??;
                total += self.write_chunk(chunk, loaded.bytes(), out)?;
                if let Loaded::Read(data) = loaded {
                    let _ = written[i % readers].try_send(data);
                }
            }
            out.flush().map_err(Error::Output)?;
            Ok(total)
        })
    }

    /// Loads one chunk as [`ChunkStore::load`] does without keeping it, decompressing it into
    /// `spare` (a buffer of an earlier chunk, which then faults in no new memory) unless the
    /// cache holds it.
    fn load_into(
        &self,
        id: &ChunkId,
        open: &mut Option<(String, File, u64)>,
        scratch: &mut pack::Scratch,
        spare: Vec<u8>,
    ) -> Result<Loaded, Error> {
        if let Some(data) = self.cache().get(id) {
            return Ok(Loaded::Cached(data));
        }
        let (file, len, loc) = self.open_pack_of(id, open)?;
        scratch.data = spare;
        match pack::check_chunk(file, len, &loc.entry, scratch) {
            Ok(()) => Ok(Loaded::Read(std::mem::take(&mut scratch.data))),
            Err(fault) => Err(self.chunk_fault(id, &loc.pack, fault)),
        }
    }

    /// Looks `id` up in the index and opens its pack, unless `open` is that pack already.
    fn open_pack_of<'o>(
        &self,
        id: &ChunkId,
        open: &'o mut Option<(String, File, u64)>,
    ) -> Result<(&'o File, u64, index::Location), Error> {
        let loc =
            index::lookup(&*self.db()?, id)?.ok_or_else(|| Error::NotFound(hex::encode(id)))?;
        if open.as_ref().is_none_or(|(pack, _, _)| *pack != loc.pack) {
            let path = pack::pack_path(&self.packs_dir, &loc.pack);
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(self.chunk_fault(
                        id,
                        &loc.pack,
                        pack::ChunkFault::Bad("the pack file is missing".into()),
                    ))
                }
                Err(e) => return Err(io_at(&path)(e)),
            };
            let len = file.metadata().map_err(io_at(&path))?.len();
            *open = Some((loc.pack.clone(), file, len));
        }
        let (_, file, len) = open.as_ref().expect("opened above");
        Ok((file, *len, loc))
    }

    /// The error for a chunk of `pack` that could not be read.
    fn chunk_fault(&self, id: &ChunkId, pack: &str, fault: ChunkFault) -> Error {
        match fault {
            ChunkFault::Bad(why) => Error::Corrupt {
                what: format!("chunk {} in pack {pack}: {why}", hex::encode(id)),
            },
            ChunkFault::Io(e) => io_at(&pack::pack_path(&self.packs_dir, pack))(e),
        }
    }

    /// Checks a loaded chunk against its recipe entry and writes it.
    fn write_chunk(
        &self,
        chunk: &ChunkRef,
        data: &[u8],
        out: &mut dyn Write,
    ) -> Result<u64, Error> {
        {
            if data.len() != chunk.len as usize {
                return Err(Error::Corrupt {
                    what: format!(
                        "chunk {} has {} bytes but the recipe says {}",
                        hex::encode(chunk.id),
                        data.len(),
                        chunk.len
                    ),
                });
            }
            out.write_all(data).map_err(Error::Output)?;
        }
        Ok(data.len() as u64)
    }

    /// Loads one chunk, from the cache or its pack (`open` keeps the last pack open); one read
    /// from its pack goes into the cache.
    fn load(
        &self,
        id: &ChunkId,
        open: &mut Option<(String, File, u64)>,
    ) -> Result<Arc<Vec<u8>>, Error> {
        if let Some(data) = self.cache().get(id) {
            return Ok(data);
        }
        let (file, len, loc) = self.open_pack_of(id, open)?;
        let data = match pack::read_chunk(file, len, &loc.entry) {
            Ok(data) => Arc::new(data),
            Err(fault) => return Err(self.chunk_fault(id, &loc.pack, fault)),
        };
        self.cache().insert(*id, Arc::clone(&data));
        Ok(data)
    }

    /// True when the chunk is indexed (stored and committed by a finished writer).
    pub fn contains(&self, id: &ChunkId) -> Result<bool, Error> {
        index::contains(&*self.db()?, id)
    }

    /// The stored (compressed) bytes of the chunks of `ids` that are indexed.
    pub fn stored_bytes(&self, ids: &HashSet<ChunkId>) -> Result<u64, Error> {
        let db = self.db()?;
        let mut bytes = 0u64;
        for id in ids {
            if let Some(at) = index::lookup(&db, id)? {
                bytes += u64::from(at.entry.stored_len);
            }
        }
        Ok(bytes)
    }

    /// Reads every indexed chunk of every pack and checks it decompresses to its id; also
    /// reports packs with bad headers or trailers, indexed packs that are missing, and pack files
    /// nothing in the index points to. Never panics on garbage bytes. `progress` is called with
    /// (bytes done, bytes total) of compressed chunk data.
    pub fn verify(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport, Error> {
        verify::verify(self, None, progress)
    }

    /// Like [`ChunkStore::verify`], for the chunks in `only` and the packs holding them: the
    /// same checks and the same report, so checking a part agrees with checking everything.
    /// Chunks of `only` that are not indexed are not reported (see [`ChunkStore::contains`]).
    pub fn verify_chunks(
        &self,
        only: &HashSet<ChunkId>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<VerifyReport, Error> {
        verify::verify(self, Some(only), progress)
    }

    /// Deletes packs none of whose chunks are in `live`; rewrites packs where less than half the
    /// bytes are live (live chunks are copied into new packs, indexed, then the old pack is
    /// deleted); removes the index rows of chunks not in `live`; deletes unindexed packs and
    /// `tmp-` files older than [`GC_GRACE`].
    pub fn gc(&self, live: &HashSet<ChunkId>) -> Result<GcReport, Error> {
        gc::gc(self, live, std::time::SystemTime::now())
    }

    /// The chunks not in `live` and their stored (compressed) bytes: what [`ChunkStore::gc`]
    /// drops. Changes nothing.
    pub fn garbage(&self, live: &HashSet<ChunkId>) -> Result<(u64, u64), Error> {
        let db = self.db()?;
        let (mut chunks, mut bytes) = (0u64, 0u64);
        for pack in index::packs(&db)? {
            for row in index::pack_rows(&db, &pack)? {
                if !live.contains(&row.id) {
                    chunks += 1;
                    bytes += u64::from(row.stored_len);
                }
            }
        }
        Ok((chunks, bytes))
    }

    /// Counts chunks, packs and bytes.
    pub fn usage(&self) -> Result<Usage, Error> {
        let (chunks, raw_bytes, _) = index::totals(&*self.db()?)?;
        let listing = pack::list_packs(&self.packs_dir)?;
        Ok(Usage {
            chunks,
            packs: listing.packs.len() as u64,
            stored_bytes: listing.packs.values().map(|p| p.len).sum(),
            raw_bytes,
        })
    }

    /// Rebuilds the index from the trailers of the pack files on disk (packs with a bad trailer
    /// are skipped and logged). Returns the number of chunks indexed.
    pub fn rebuild_index(&self) -> Result<u64, Error> {
        rebuild::rebuild_index(self)
    }

    /// The index, opened (or created) now if it is not yet.
    pub(crate) fn db(&self) -> Result<MutexGuard<'_, Connection>, Error> {
        let db = match self.db.get() {
            Some(db) => db,
            None => {
                let conn = index::open(&self.dir.join("index.db"))?;
                // Two threads may both open it: one connection is kept, the other closed.
                self.db.get_or_init(|| Mutex::new(conn))
            }
        };
        Ok(db.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn cache(&self) -> MutexGuard<'_, ChunkCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<ChunkStore>();
    }

    /// A long file is streamed past the cache (read once, front to back, its chunks would only
    /// push out hot ones and hold memory); a short one is kept for the next read of it.
    #[test]
    fn a_long_read_keeps_nothing_in_the_cache_and_a_short_one_does() {
        let dir = tempfile::tempdir().unwrap();
        let store = ChunkStore::open(dir.path(), ChunkStoreOptions::default()).unwrap();
        let mut state = 7u64;
        let long: Vec<u8> = (0..10 << 20)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                (state >> 33) as u8
            })
            .collect();
        let short = b"a file of one chunk".to_vec();
        let never = std::sync::atomic::AtomicBool::new(false);
        let mut writer = store.writer();
        let long_file = writer.store(&mut &long[..], &mut |_| {}, &never).unwrap();
        let short_file = writer.store(&mut &short[..], &mut |_| {}, &never).unwrap();
        writer.finish().unwrap();
        assert!(long_file.chunks.len() >= READ_AHEAD_MIN_CHUNKS);

        let mut out = Vec::new();
        store.read_to(&long_file.chunks, &mut out).unwrap();
        assert_eq!(out, long);
        assert_eq!(store.cache().used(), 0, "the long file's chunks were kept");

        out.clear();
        store.read_to(&short_file.chunks, &mut out).unwrap();
        assert_eq!(out, short);
        assert_eq!(store.cache().used(), short.len());
    }

    #[test]
    fn rejects_chunk_sizes_fastcdc_would_panic_on() {
        let dir = tempfile::tempdir().unwrap();
        let opts = ChunkStoreOptions {
            min_chunk: 1,
            ..ChunkStoreOptions::default()
        };
        assert!(matches!(
            ChunkStore::open(dir.path(), opts),
            Err(Error::InvalidOptions(_))
        ));
    }
}
