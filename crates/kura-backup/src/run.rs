//! One backup run: walk the vault (catalog and records copies, settings, histories, chunk packs, working
//! folders), cut new content into chunks, pack what the target does not hold yet, upload the
//! packs and their indexes, then the manifest.
//!
//! Incremental: a file whose size, mtime, ctime and inode match the last run and whose chunks the
//! target holds is not read again. Deduplicated: a chunk the target holds is never sent again.
//! Packed: blobs go into ~16 MiB packs; a large file's blobs into packs of their own, so that
//! when it is gone from every kept backup (a project deleted, a chunk-store pack collected)
//! prune frees all of it. Failed uploads are retried with backoff; when the target
//! stays down, the packs (and the manifest) wait in `<vault>/backup/<target>/outbox/` and are sent
//! first at the next run. Only files, folders and symbolic links are backed up: FIFOs, sockets
//! and device files are skipped (with a warning).

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kura_core::{Error, ErrorKind, Job, Progress, ProjectFilter, ProjectStatus, Result, Vault};
use rayon::prelude::*;

use crate::crypto;
use crate::lock::Heartbeat;
use crate::manifest::{BackupInfo, BackupProject, Entry, EntryKind, Manifest};
use crate::outbox;
use crate::repo::{self, BlobEntry, PackIndex, PACK_MAGIC, PACK_TARGET_SIZE};
use crate::session::Session;
use crate::state::{CachedFile, Counters, State};
use crate::store::{Store, Upload};

/// Blobs waiting between the chunking threads and the packer.
const BLOB_QUEUE: usize = 64;
/// The largest a blob can be: a whole chunk that did not compress (zstd's bound), sealed.
const MAX_BLOB_LEN: usize = repo::CHUNK_MAX as usize + (repo::CHUNK_MAX as usize >> 7) + 4096;
/// Progress is reported every this many files.
const PROGRESS_EVERY: u64 = 256;
/// Files of at least this size get packs of their own: shared packs are kept whole while any
/// blob in them is used, so a large dead file sharing them would stay at the target.
const OWN_PACKS_FROM: u64 = 4 << 20;

/// A file, folder or link to back up.
struct Item {
    name: String,
    abs: PathBuf,
    meta: std::fs::Metadata,
}

/// A chunk the target does not hold, compressed and sealed.
struct NewBlob {
    id: [u8; 32],
    stored: Vec<u8>,
    raw_len: u32,
}

/// What the chunking threads send the packer.
enum ToPacker {
    /// A new blob; `file` (the item's index) is set for a large file's, which get own packs.
    Blob { blob: NewBlob, file: Option<usize> },
    /// Large file `file` is read: its last pack, however full, can go.
    FileDone(usize),
}

/// The local half of a run, made while the target is being opened: the vault held against chunk
/// gc, the catalog copied, everything to back up listed, and the last run's file cache loaded.
pub(crate) struct Scan {
    _hold: kura_core::ChunkHold,
    started: i64,
    catalog_copy: PathBuf,
    items: Vec<Item>,
    projects: Vec<BackupProject>,
    old_cache: HashMap<String, CachedFile>,
}

/// Makes the [`Scan`] of a run of `target` that starts at `started`; gives up (`cancelled`) soon
/// after `stop` is set, as when the target turned out to be unavailable.
pub(crate) fn scan(vault: &Vault, target: &str, started: i64, stop: &AtomicBool) -> Result<Scan> {
    let hold = vault.hold_chunks()?;
    let catalog_copy = vault.root().join("backup").join(target).join("catalog.db");
    // The last run's file cache is loaded meanwhile.
    let (listed, old_cache) = std::thread::scope(|s| {
        let cache = s.spawn(|| State::open(vault.root())?.file_cache(target));
        let listed = vault
            .backup_catalog_to(&catalog_copy)
            .and_then(|()| vault.backup_records_to(&records_copy(&catalog_copy)))
            .and_then(|()| collect(vault, &catalog_copy, stop));
        (listed, cache.join())
    });
    let (items, projects) = listed?;
    let old_cache =
        old_cache.map_err(|_| Error::new(ErrorKind::Internal, "a backup thread panicked"))??;
    Ok(Scan {
        _hold: hold,
        started,
        catalog_copy,
        items,
        projects,
        old_cache,
    })
}

/// Runs one backup of `vault` to the open session, whose lock object `heartbeat` keeps; returns
/// the manifest's summary. `listing` was read under the lock; `scan` waits for the run's
/// [`Scan`], made meanwhile.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backup(
    vault: &Vault,
    session: &Session,
    state: &mut State,
    now: &dyn Fn() -> i64,
    job: &Job,
    counters: &mut Counters,
    heartbeat: &Heartbeat,
    listing: PackListing,
    scan: impl FnOnce() -> Result<Scan>,
) -> Result<BackupInfo> {
    let name = session.target.name.clone();
    let outbox = outbox::dir(vault.root(), &name);
    session.store.remove_temp_debris();
    session.upgrade()?;
    // Packs sent from the outbox were not in the listing made before.
    let listing = match outbox::send_packs(session, state, &outbox, counters)? {
        0 => listing,
        _ => PackListing::read(&session.store)?,
    };
    let known = sync_blob_cache(session, state, listing)?;
    outbox::send_backups(session, &outbox, &known, counters)?;
    // Under the lock no other run adds a backup, so the latest one can be read before the end.
    let latest = session.backup_ids()?.pop();
    let Scan {
        _hold,
        started,
        catalog_copy,
        items,
        projects,
        old_cache,
    } = scan()?;
    job.report(Progress {
        phase: "backing up",
        done: 0,
        total: Some(items.len() as u64),
        unit: "files",
        item: None,
    });
    let mut packer = Packer::new(session, &outbox, known.clone())?;
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let read = AtomicU64::new(0);
    let total = items.len() as u64;
    let (results, pack_error) = std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<ToPacker>(BLOB_QUEUE);
        let producer = s.spawn(|| {
            items
                .par_iter()
                .enumerate()
                .map_with(tx, |tx, (index, item)| {
                    if stop.load(Ordering::Relaxed) {
                        return Err(Error::new(ErrorKind::Cancelled, "stopped"));
                    }
                    job.check()?;
                    let r = process(
                        (index, item),
                        &old_cache,
                        &known,
                        session,
                        tx,
                        &read,
                    );
                    if let Ok(None) = r {
                        tracing::warn!(path = %item.abs.display(), "skipped: it is no longer a regular file (only files, folders and links are backed up)");
                    }
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if n.is_multiple_of(PROGRESS_EVERY) || n == total {
                        job.report(Progress {
                            phase: "backing up",
                            done: n,
                            total: Some(total),
                            unit: "files",
                            item: Some(item.name.clone()),
                        });
                    }
                    r
                })
                .collect::<Result<Vec<_>>>()
        });
        let pack_error = pack_all(&mut packer, state, &rx, &stop);
        drop(rx);
        (producer.join(), pack_error)
    });
    let results =
        results.map_err(|_| Error::new(ErrorKind::Internal, "a backup thread panicked"))?;
    pack_error?;
    let results = results?;
    packer.finish(state)?;
    counters.bytes_sent += packer.bytes_sent;
    counters.new_blobs += packer.new_blobs;
    counters.bytes_read = read.load(Ordering::Relaxed);

    let mut entries = Vec::with_capacity(results.len());
    let mut cached = Vec::with_capacity(results.len());
    let mut put = Vec::new();
    for (entry, update) in results.into_iter().flatten() {
        if entry.kind != EntryKind::Dir {
            counters.files += 1;
            counters.bytes += entry.size;
        }
        match update {
            CacheUpdate::Keep => cached.push(true),
            CacheUpdate::Put(c) => {
                cached.push(true);
                put.push((entry.path.clone(), c));
            }
            CacheUpdate::None => cached.push(false),
        }
        entries.push(entry);
    }
    let gone = gone_from_cache(&old_cache, &entries, &cached);
    let id = backup_id(started, latest.as_deref())?;
    let manifest = Manifest {
        info: BackupInfo {
            id: id.clone(),
            started,
            finished: now(),
            host: crate::lock::host_name(),
            vault: vault.root().display().to_string(),
            files: counters.files,
            bytes: counters.bytes,
            projects: projects.len() as u64,
        },
        projects,
        entries,
    };
    let sealed = Bytes::from(repo::seal_object(
        &session.keys,
        &repo::backup_path(&id),
        &manifest,
    )?);
    // Packs this run sent are safe from prune only while its lock holds.
    heartbeat.ensure_held()?;
    counters.bytes_sent += sealed.len() as u64;
    let upload = session
        .store
        .write_in_background(vec![(repo::backup_path(&id), sealed.clone())]);
    if let Err(e) = session.store.wait(upload) {
        outbox::put_backup(&outbox, &id, &sealed)?;
        return Err(e);
    }
    state.save_file_cache(&name, &gone, &put)?;
    let _ = std::fs::remove_file(&catalog_copy);
    let _ = std::fs::remove_file(records_copy(&catalog_copy));
    Ok(manifest.info)
}

/// `20261121T020000Z-0000-1a2b`: the start time, a sequence number that keeps backups started
/// in the same second (or after the clock went back) in order after `latest`, random digits.
fn backup_id(started: i64, latest: Option<&str>) -> Result<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(started)
        .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let mut stamp = t
        .format(fmt)
        .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
    let mut seq = 0u32;
    if let Some((last_stamp, rest)) = latest.and_then(|l| l.split_once('-')) {
        if last_stamp >= stamp.as_str() {
            stamp = last_stamp.to_string();
            seq = rest
                .split('-')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
                + 1;
        }
    }
    Ok(format!(
        "{stamp}-{seq:04}-{}",
        hex::encode(crypto::random::<2>()?)
    ))
}

fn pack_all(
    packer: &mut Packer,
    state: &mut State,
    rx: &Receiver<ToPacker>,
    stop: &AtomicBool,
) -> Result<()> {
    let mut result = Ok(());
    for message in rx.iter() {
        if result.is_ok() {
            let done = match message {
                ToPacker::Blob { blob, file } => packer.add(blob, file, state),
                ToPacker::FileDone(file) => packer.file_done(file, state),
            };
            if let Err(e) = done {
                stop.store(true, Ordering::Relaxed);
                result = Err(e);
            }
        }
    }
    result
}

/// What a run leaves in the file cache for one path.
enum CacheUpdate {
    /// The cached entry is still right.
    Keep,
    /// The file was read: its new entry.
    Put(CachedFile),
    /// No entry: not a regular file, or it changed while it was read.
    None,
}

/// The paths of `old` that are no longer cached: gone from the vault, or no longer cacheable.
/// `cached[i]` tells whether `entries[i]` keeps or gets a cache entry.
fn gone_from_cache(
    old: &HashMap<String, CachedFile>,
    entries: &[Entry],
    cached: &[bool],
) -> Vec<String> {
    let still: HashSet<&str> = entries
        .iter()
        .zip(cached)
        .filter(|(_, &c)| c)
        .map(|(e, _)| e.path.as_str())
        .collect();
    old.keys()
        .filter(|p| !still.contains(p.as_str()))
        .cloned()
        .collect()
}

/// Backs up item number `index`: from the cache when unchanged, else read and chunked; new
/// chunks go to the packer through `tx`. `None` when a file turned into something else than a
/// regular file (a FIFO, a socket, a device) since the walk, or is gone (a temp file another
/// process renamed into place or removed: like one gone before the walk, it is not backed up).
fn process(
    (index, item): (usize, &Item),
    old_cache: &HashMap<String, CachedFile>,
    known: &HashSet<[u8; 32]>,
    session: &Session,
    tx: &mut std::sync::mpsc::SyncSender<ToPacker>,
    read: &AtomicU64,
) -> Result<Option<(Entry, CacheUpdate)>> {
    let keys = &session.keys;
    let meta = &item.meta;
    let mut entry = Entry {
        path: item.name.clone(),
        kind: EntryKind::File,
        size: 0,
        mode: meta.permissions().mode(),
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
        chunks: String::new(),
        link: None,
    };
    if meta.is_dir() {
        entry.kind = EntryKind::Dir;
        return Ok(Some((entry, CacheUpdate::None)));
    }
    if meta.file_type().is_symlink() {
        entry.kind = EntryKind::Symlink;
        let target =
            std::fs::read_link(&item.abs).map_err(|e| Error::from_io("read link", &item.abs, e))?;
        entry.link = Some(target.to_string_lossy().into_owned());
        return Ok(Some((entry, CacheUpdate::None)));
    }
    let stat = CachedFile {
        size: meta.len(),
        mtime_ns: entry.mtime_ns,
        ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
        inode: meta.ino(),
        chunks: Vec::new(),
    };
    if let Some(c) = old_cache.get(&item.name) {
        let same = c.size == stat.size
            && c.mtime_ns == stat.mtime_ns
            && c.ctime_ns == stat.ctime_ns
            && c.inode == stat.inode;
        if same && c.chunks.chunks_exact(32).all(|id| known.contains(id)) {
            entry.size = c.size;
            entry.chunks = hex::encode(&c.chunks);
            return Ok(Some((entry, CacheUpdate::Keep)));
        }
    }
    let cfg = &session.config;
    // Without waiting: should the file have become a FIFO since the walk, opening it must not
    // block the run until a writer comes (reads of regular files ignore the flag).
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&item.abs)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::from_io("read", &item.abs, e)),
    };
    if !file
        .metadata()
        .map_err(|e| Error::from_io("read", &item.abs, e))?
        .is_file()
    {
        return Ok(None);
    }
    let mut ids = Vec::new();
    let mut size = 0u64;
    let compressed = compressed_already(&item.name);
    let own_packs = (stat.size >= OWN_PACKS_FROM).then_some(index);
    let send = |tx: &mut std::sync::mpsc::SyncSender<ToPacker>, message| {
        tx.send(message)
            .map_err(|_| Error::new(ErrorKind::Cancelled, "the packer stopped"))
    };
    let mut handle = |data: &[u8]| -> Result<()> {
        let id = keys.blob_id(data);
        ids.extend_from_slice(&id);
        size += data.len() as u64;
        if !known.contains(&id) {
            let packed = repo::compress_blob(data, compressed)
                .map_err(|e| Error::new(ErrorKind::Internal, format!("compression failed: {e}")))?;
            let stored = keys.seal(packed)?;
            let blob = NewBlob {
                id,
                stored,
                raw_len: data.len() as u32,
            };
            send(
                tx,
                ToPacker::Blob {
                    blob,
                    file: own_packs,
                },
            )?;
        }
        Ok(())
    };
    if stat.size <= cfg.chunk_min as u64 {
        let mut data = Vec::with_capacity(stat.size as usize);
        (&file)
            .take(cfg.chunk_max as u64)
            .read_to_end(&mut data)
            .map_err(|e| Error::from_io("read", &item.abs, e))?;
        handle(&data)?;
    } else {
        let file = kura_chunkstore::ReadAhead::new(file);
        let mut chunker =
            kura_chunkstore::Chunker::new(file, cfg.chunk_min, cfg.chunk_avg, cfg.chunk_max);
        while let Some(chunk) = chunker
            .next_chunk()
            .map_err(|e| Error::from_io("read", &item.abs, e))?
        {
            handle(chunk)?;
        }
    }
    if let Some(file) = own_packs {
        send(tx, ToPacker::FileDone(file))?;
    }
    read.fetch_add(size, Ordering::Relaxed);
    entry.size = size;
    entry.chunks = hex::encode(&ids);
    let cached = CachedFile {
        size,
        chunks: ids,
        ..stat
    };
    // A file that changed while it was read is stored as read but not cached, so the next run
    // reads it again.
    let now_meta = std::fs::symlink_metadata(&item.abs).ok();
    let stable = now_meta.is_some_and(|m| {
        m.len() == size && m.mtime() * 1_000_000_000 + m.mtime_nsec() == entry.mtime_ns
    });
    let update = if stable {
        CacheUpdate::Put(cached)
    } else {
        CacheUpdate::None
    };
    Ok(Some((entry, update)))
}

/// True for files whose content is compressed already: git packs, the chunk store's packs,
/// archives, and common compressed formats.
fn compressed_already(name: &str) -> bool {
    const EXTENSIONS: [&str; 14] = [
        ".pack", ".zst", ".gz", ".tgz", ".xz", ".bz2", ".zip", ".7z", ".jar", ".png", ".jpg",
        ".jpeg", ".webp", ".mp4",
    ];
    let lower = name.to_ascii_lowercase();
    name.starts_with("vault/chunks/") || EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

/// A buffer for a pack, room for a full pack and the blob that fills it made up front (growing
/// it by doubling would hold up to twice the pack in memory, for every pack in flight).
fn new_pack_buffer() -> Vec<u8> {
    let mut buf = Vec::with_capacity(PACK_TARGET_SIZE + MAX_BLOB_LEN);
    buf.extend_from_slice(PACK_MAGIC);
    buf
}

/// A pack being filled.
struct OpenPack {
    buf: Vec<u8>,
    blobs: Vec<BlobEntry>,
}

impl OpenPack {
    fn new() -> OpenPack {
        OpenPack {
            buf: new_pack_buffer(),
            blobs: Vec::new(),
        }
    }
}

/// Packs new blobs and uploads full packs, a few at a time: small files' blobs share packs,
/// each large file's go into packs of its own.
struct Packer<'a> {
    session: &'a Session,
    outbox: &'a Path,
    seen: HashSet<[u8; 32]>,
    shared: OpenPack,
    /// The open packs of large files being read, by item index.
    own: HashMap<usize, OpenPack>,
    inflight: VecDeque<Pending>,
    throttle: Option<Throttle>,
    bytes_sent: u64,
    new_blobs: u64,
}

struct Pending {
    pack: String,
    ids: Vec<[u8; 32]>,
    /// Shared with the upload: kept for the outbox, should the upload fail.
    bytes: Bytes,
    index: Bytes,
    upload: Upload,
}

impl<'a> Packer<'a> {
    fn new(session: &'a Session, outbox: &'a Path, known: HashSet<[u8; 32]>) -> Result<Packer<'a>> {
        Ok(Packer {
            session,
            outbox,
            seen: known,
            shared: OpenPack::new(),
            own: HashMap::new(),
            inflight: VecDeque::new(),
            throttle: session.target.upload_limit()?.map(Throttle::new),
            bytes_sent: 0,
            new_blobs: 0,
        })
    }

    /// Adds a blob to the shared pack, or to large file `file`'s; sends the pack when full.
    fn add(&mut self, blob: NewBlob, file: Option<usize>, state: &mut State) -> Result<()> {
        if !self.seen.insert(blob.id) {
            return Ok(());
        }
        let pack = match file {
            None => &mut self.shared,
            Some(f) => self.own.entry(f).or_insert_with(OpenPack::new),
        };
        pack.blobs.push(BlobEntry {
            id: blob.id,
            offset: pack.buf.len() as u64,
            length: blob.stored.len() as u32,
            raw_length: blob.raw_len,
        });
        pack.buf.extend_from_slice(&blob.stored);
        self.new_blobs += 1;
        if pack.buf.len() >= PACK_TARGET_SIZE {
            let full = match file {
                None => std::mem::replace(&mut self.shared, OpenPack::new()),
                Some(f) => self.own.remove(&f).expect("just filled"),
            };
            self.close_pack(full, state)?;
        }
        Ok(())
    }

    /// Sends what large file `file` left in its open pack.
    fn file_done(&mut self, file: usize, state: &mut State) -> Result<()> {
        match self.own.remove(&file) {
            Some(pack) => self.close_pack(pack, state),
            None => Ok(()),
        }
    }

    fn close_pack(&mut self, pack: OpenPack, state: &mut State) -> Result<()> {
        if pack.blobs.is_empty() {
            return Ok(());
        }
        let OpenPack { buf, blobs } = pack;
        let bytes = Bytes::from(buf);
        let pack = blake3::hash(&bytes).to_hex().to_string();
        let index = Bytes::from(repo::seal_object(
            &self.session.keys,
            &repo::index_path(&pack),
            &PackIndex {
                pack: pack.clone(),
                size: bytes.len() as u64,
                blobs: blobs.clone(),
            },
        )?);
        if let Some(t) = &mut self.throttle {
            std::thread::sleep(t.delay_for(Instant::now(), (bytes.len() + index.len()) as u64));
        }
        self.bytes_sent += (bytes.len() + index.len()) as u64;
        let upload = self.session.store.write_in_background(vec![
            (repo::pack_path(&pack), bytes.clone()),
            (repo::index_path(&pack), index.clone()),
        ]);
        self.inflight.push_back(Pending {
            pack,
            ids: blobs.iter().map(|b| b.id).collect(),
            bytes,
            index,
            upload,
        });
        while self.inflight.len() > self.session.store.upload_parallelism() {
            self.wait_oldest(state)?;
        }
        Ok(())
    }

    /// Waits for the oldest upload; when it failed, every pack not yet sent goes to the outbox.
    fn wait_oldest(&mut self, state: &mut State) -> Result<()> {
        let Some(p) = self.inflight.pop_front() else {
            return Ok(());
        };
        match self.session.store.wait(p.upload) {
            Ok(()) => state.add_pack(&self.session.target.name, &p.pack, p.ids.into_iter()),
            Err(e) => {
                outbox::put_pack(self.outbox, &p.pack, &p.bytes, &p.index)?;
                while let Some(rest) = self.inflight.pop_front() {
                    match self.session.store.wait(rest.upload) {
                        Ok(()) => state.add_pack(
                            &self.session.target.name,
                            &rest.pack,
                            rest.ids.into_iter(),
                        )?,
                        Err(_) => {
                            outbox::put_pack(self.outbox, &rest.pack, &rest.bytes, &rest.index)?
                        }
                    }
                }
                Err(e)
            }
        }
    }

    fn finish(&mut self, state: &mut State) -> Result<()> {
        let shared = std::mem::replace(&mut self.shared, OpenPack::new());
        self.close_pack(shared, state)?;
        // Files whose reading failed never said they were done.
        let mut own: Vec<(usize, OpenPack)> = self.own.drain().collect();
        own.sort_by_key(|(file, _)| *file);
        for (_, pack) in own {
            self.close_pack(pack, state)?;
        }
        while !self.inflight.is_empty() {
            self.wait_oldest(state)?;
        }
        Ok(())
    }
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
pub(crate) fn sync_blob_cache(
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

/// Where a run keeps its consistent copy of the records database, beside the catalog's.
fn records_copy(catalog_copy: &Path) -> PathBuf {
    catalog_copy.with_file_name("records.db")
}

/// Everything to back up, in an order that keeps references consistent: the catalog copy, then
/// settings and other vault files, then history refs before history objects, then chunk packs
/// (held against gc), then working folders outside the vault.
fn collect(
    vault: &Vault,
    catalog_copy: &Path,
    stop: &AtomicBool,
) -> Result<(Vec<Item>, Vec<BackupProject>)> {
    let root = vault.root();
    let mut items = Vec::new();
    let meta = std::fs::symlink_metadata(catalog_copy)
        .map_err(|e| Error::from_io("read", catalog_copy, e))?;
    items.push(Item {
        name: "vault/catalog.db".into(),
        abs: catalog_copy.to_path_buf(),
        meta,
    });
    let records = records_copy(catalog_copy);
    let meta =
        std::fs::symlink_metadata(&records).map_err(|e| Error::from_io("read", &records, e))?;
    items.push(Item {
        name: "vault/records.db".into(),
        abs: records,
        meta,
    });
    let skip_top = [
        "backup",
        "locks",
        "discard",
        "catalog.db",
        "catalog.db-wal",
        "catalog.db-shm",
        "records.db",
        "records.db-wal",
        "records.db-shm",
        // The event log: what happened lately, for the doors' streams. A restored vault starts
        // a new one (numbered above this one's, see kura_api::Events).
        "events.db",
        "events.db-wal",
        "events.db-shm",
        "histories",
        "chunks",
    ];
    let top = |rel: &Path| {
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        !(rel.components().count() == 1 && first.as_deref().is_some_and(|f| skip_top.contains(&f)))
    };
    walk(root, "vault", &mut items, &top, stop)?;
    let histories = root.join("histories");
    walk(
        &histories,
        "vault/histories",
        &mut items,
        &|rel| !is_objects(rel),
        stop,
    )?;
    let mut objects = Vec::new();
    walk(&histories, "vault/histories", &mut objects, &|_| true, stop)?;
    items.extend(objects.into_iter().filter(|i| {
        let rel = Path::new(i.name.trim_start_matches("vault/histories/"));
        rel.ancestors().any(is_objects)
    }));
    walk(
        &root.join("chunks"),
        "vault/chunks",
        &mut items,
        &|rel: &Path| !rel.to_string_lossy().starts_with("index.db"),
        stop,
    )?;
    let mut projects = Vec::new();
    for status in [
        ProjectStatus::Active,
        ProjectStatus::Archived,
        ProjectStatus::Deleted,
    ] {
        let filter = ProjectFilter {
            all_workspaces: true,
            status: Some(status),
            ..Default::default()
        };
        for p in vault.projects(&filter)? {
            let prefix = match p.path.strip_prefix(root) {
                Ok(rel) => format!("vault/{}", rel.to_string_lossy()),
                Err(_) => {
                    let prefix = format!("folders/{}", p.id);
                    if p.path.is_dir() {
                        walk(&p.path, &prefix, &mut items, &|_| true, stop)?;
                    } else {
                        tracing::warn!(project = %p.name, path = %p.path.display(), "the folder of a linked project is missing; its history is still backed up");
                    }
                    prefix
                }
            };
            projects.push(BackupProject {
                id: p.id.clone(),
                name: p.name.clone(),
                workspace: p.workspace.clone(),
                linked: p.linked,
                status: p.status.as_str().to_string(),
                head: p.head.clone(),
                logical_size: p.logical_size,
                file_count: p.file_count,
                path: p.path.display().to_string(),
                prefix,
            });
        }
    }
    Ok((items, projects))
}

/// True for `<id>.git/objects` (the history objects, read after the refs).
fn is_objects(rel: &Path) -> bool {
    let parts: Vec<_> = rel.components().collect();
    parts.len() == 2 && parts[1].as_os_str() == "objects"
}

/// Adds `dir` (as `prefix`) and everything under it that `keep` accepts (by path relative to
/// `dir`) to `items`, each folder's entries sorted by name; temp files of interrupted writes are
/// left out. A `dir` that is a link is followed. Entries are looked up relative to their open
/// folder (`fstatat`), not by full path: on a large tree that is most of the walk's cost.
fn walk(
    dir: &Path,
    prefix: &str,
    items: &mut Vec<Item>,
    keep: &dyn Fn(&Path) -> bool,
    stop: &AtomicBool,
) -> Result<()> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::from_io("read", dir, e)),
    };
    let is_dir = meta.is_dir();
    items.push(Item {
        name: prefix.to_string(),
        abs: dir.to_path_buf(),
        meta,
    });
    if is_dir {
        walk_folder(dir, Path::new(""), prefix, items, keep, stop)?;
    }
    Ok(())
}

/// The entries of folder `abs` (`rel` from the walk's root, `name` in the backup), recursively.
fn walk_folder(
    abs: &Path,
    rel: &Path,
    name: &str,
    items: &mut Vec<Item>,
    keep: &dyn Fn(&Path) -> bool,
    stop: &AtomicBool,
) -> Result<()> {
    if stop.load(Ordering::Relaxed) {
        return Err(Error::new(ErrorKind::Cancelled, "the run stopped"));
    }
    let read = match std::fs::read_dir(abs) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::from_io("read", abs, e)),
    };
    let mut entries = Vec::new();
    for entry in read {
        match entry {
            Ok(e) => entries.push((e.file_name(), e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::from_io("read", abs, e)),
        }
    }
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (file_name, entry) in entries {
        if kura_durable::is_temp_name(&file_name) {
            continue;
        }
        let child_rel = rel.join(&file_name);
        if !keep(&child_rel) {
            continue;
        }
        // Gone since the folder was read, or unreadable: not backed up.
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        let kind = meta.file_type();
        let child_abs = entry.path();
        if !(kind.is_file() || kind.is_dir() || kind.is_symlink()) {
            tracing::warn!(path = %child_abs.display(), "skipped: a FIFO, socket or device file (only files, folders and links are backed up)");
            continue;
        }
        let child_name = format!("{name}/{}", file_name.to_string_lossy());
        if kind.is_dir() {
            items.push(Item {
                name: child_name.clone(),
                abs: child_abs.clone(),
                meta,
            });
            walk_folder(&child_abs, &child_rel, &child_name, items, keep, stop)?;
        } else {
            items.push(Item {
                name: child_name,
                abs: child_abs,
                meta,
            });
        }
    }
    Ok(())
}

/// A token bucket for uploads: each upload of `n` bytes waits until the bytes before it have
/// gone out at `rate` bytes/s.
#[derive(Debug)]
pub(crate) struct Throttle {
    rate: u64,
    free_at: Option<Instant>,
}

impl Throttle {
    pub fn new(rate: u64) -> Throttle {
        Throttle {
            rate: rate.max(1),
            free_at: None,
        }
    }

    /// How long to wait before sending `bytes` at `now`.
    pub fn delay_for(&mut self, now: Instant, bytes: u64) -> Duration {
        let start = self.free_at.filter(|t| *t > now).unwrap_or(now);
        self.free_at = Some(start + Duration::from_secs_f64(bytes as f64 / self.rate as f64));
        start - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blobs of two large files read at the same time and of small files, interleaved as the
    /// chunking threads send them: each large file's land in packs of their own.
    #[test]
    fn a_large_files_blobs_get_packs_of_their_own() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("target")).unwrap();
        let target = crate::Target::folder("t", &dir.path().join("target"));
        let session = Session::open(&target, true, 0, Default::default()).unwrap();
        let mut state = State::open(&dir.path().join("vault")).unwrap();
        let outbox = dir.path().join("outbox");
        let mut packer = Packer::new(&session, &outbox, HashSet::new()).unwrap();
        let blob = |n: u8| NewBlob {
            id: [n; 32],
            stored: vec![n; 1000],
            raw_len: 1000,
        };
        let sent: [(u8, Option<usize>); 7] = [
            (1, None),
            (10, Some(7)),
            (20, Some(9)),
            (2, None),
            (11, Some(7)),
            (21, Some(9)),
            (3, None),
        ];
        for (n, file) in sent {
            packer.add(blob(n), file, &mut state).unwrap();
            if n == 11 {
                packer.file_done(7, &mut state).unwrap();
            }
        }
        packer.finish(&mut state).unwrap();

        let mut packs: Vec<Vec<u8>> = session
            .indexed_packs()
            .unwrap()
            .iter()
            .map(|p| {
                let index = session.read_index(p).unwrap();
                let mut ids: Vec<u8> = index.blobs.iter().map(|b| b.id[0]).collect();
                ids.sort();
                ids
            })
            .collect();
        packs.sort();
        assert_eq!(packs, [vec![1, 2, 3], vec![10, 11], vec![20, 21]]);
    }

    #[test]
    fn compressed_content_is_recognised_by_place_and_name() {
        assert!(compressed_already(
            "vault/histories/ab.git/objects/pack/pack-1.pack"
        ));
        assert!(compressed_already("vault/chunks/packs/0a/0a1b"));
        assert!(compressed_already("vault/archives/2026/11/site.tar.zst"));
        assert!(compressed_already("folders/x/photos/IMG_1.JPG"));
        assert!(!compressed_already(
            "vault/histories/ab.git/objects/pack/pack-1.idx"
        ));
        assert!(!compressed_already("vault/projects/site/index.html"));
        assert!(!compressed_already("vault/catalog.db"));
    }

    #[test]
    fn a_stopped_scan_gives_up_and_a_running_one_lists_the_vault() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        std::fs::create_dir_all(dir.path().join("backup/usb")).unwrap();
        let scanned = scan(&vault, "usb", 0, &AtomicBool::new(false)).unwrap();
        assert!(scanned.items.iter().any(|i| i.name == "vault/catalog.db"));
        let err = scan(&vault, "usb", 0, &AtomicBool::new(true))
            .err()
            .expect("a stopped scan fails");
        assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    }

    #[test]
    fn throttle_spaces_uploads_at_the_rate() {
        let mut t = Throttle::new(1_000_000);
        let now = Instant::now();
        assert_eq!(t.delay_for(now, 2_000_000), Duration::ZERO);
        assert_eq!(t.delay_for(now, 1_000_000), Duration::from_secs(2));
        assert_eq!(
            t.delay_for(now + Duration::from_secs(10), 5),
            Duration::ZERO
        );
    }
}
