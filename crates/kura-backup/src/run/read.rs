//! Reading what changed: each item from the file cache when unchanged, else read and cut into
//! chunks on the chunking threads, whose new chunks (compressed, sealed) go to the packer over a
//! bounded queue while it packs and uploads them on this thread.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};

use kura_core::{Error, ErrorKind, Progress, Result};
use rayon::prelude::*;

use super::pack::{pack_all, NewBlob, Packer, ToPacker};
use super::tunables::{BLOB_QUEUE, OWN_PACKS_FROM, PROGRESS_EVERY};
use super::{Context, Item, Stat};
use crate::manifest::{Entry, EntryKind};
use crate::repo;
use crate::state::{CachedFile, Counters, State};

/// What a run leaves in the file cache for one path.
pub(super) enum CacheUpdate {
    /// The cached entry is still right.
    Keep,
    /// The file was read: its new entry.
    Put(CachedFile),
    /// No entry: not a regular file, or it changed while it was read.
    None,
}

/// One item backed up: its manifest entry and what becomes of its cache entry; `None` for a file
/// that is gone or no longer a regular file (see [`Reader::item`]).
pub(super) type Backed = Option<(Entry, CacheUpdate)>;

/// Backs up every item, in order: the chunking threads read them while this thread packs and
/// uploads their new chunks; the packs are all uploaded (or in the outbox, on failure) when it
/// returns. Adds what was sent and read to `counters`.
pub(super) fn read_and_pack(
    ctx: &Context,
    state: &mut State,
    counters: &mut Counters,
    items: &[Item],
    old_cache: &HashMap<String, CachedFile>,
    known: &HashSet<[u8; 32]>,
) -> Result<impl ExactSizeIterator<Item = Backed>> {
    let job = ctx.job;
    job.report(Progress {
        phase: "backing up",
        done: 0,
        total: Some(items.len() as u64),
        unit: "files",
        item: None,
    });
    let mut packer = Packer::new(ctx.session, &ctx.outbox, known)?;
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let read = AtomicU64::new(0);
    let total = items.len() as u64;
    let reader = Reader {
        old_cache,
        known,
        session: ctx.session,
        read: &read,
    };
    // Each item's outcome in its place of one vector sized up front: collected as a `Result`,
    // rayon would gather the outcomes in pieces and then copy them into one, holding both for a
    // moment (152 bytes an item: 8 MB for the 54,000 items of a vault of 52,000 files).
    let mut results: Vec<Result<Backed>> = Vec::with_capacity(items.len());
    let pack_error = std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<ToPacker>(BLOB_QUEUE);
        let producer = s.spawn(|| {
            items
                .par_iter()
                .enumerate()
                .map_with(tx, |tx, (index, item)| {
                    if stop.load(Ordering::Relaxed) {
                        return Err(Error::new(ErrorKind::Cancelled, "stopped"));
                    }
                    let r = job.check().and_then(|()| reader.item((index, item), tx));
                    match &r {
                        Ok(None) => tracing::warn!(path = %item.abs.display(), "skipped: it is no longer a regular file (only files, folders and links are backed up)"),
                        Ok(Some(_)) => {}
                        Err(_) => stop.store(true, Ordering::Relaxed),
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
                .collect_into_vec(&mut results)
        });
        let pack_error = pack_all(&mut packer, state, &rx, &stop);
        drop(rx);
        producer
            .join()
            .map_err(|_| Error::new(ErrorKind::Internal, "a backup thread panicked"))?;
        pack_error
    });
    pack_error?;
    first_error(&mut results)?;
    packer.finish(state)?;
    counters.bytes_sent += packer.bytes_sent;
    counters.new_blobs += packer.new_blobs;
    counters.bytes_read = read.load(Ordering::Relaxed);
    Ok(results.into_iter().map(|r| r.ok().flatten()))
}

/// The error of the first item that failed for a reason of its own, else the first one stopped
/// because another failed (or the job was cancelled); taken out of `results`.
fn first_error(results: &mut [Result<Backed>]) -> Result<()> {
    let own = |r: &Result<Backed>| matches!(r, Err(e) if e.kind() != ErrorKind::Cancelled);
    let at = results
        .iter()
        .position(own)
        .or_else(|| results.iter().position(Result::is_err));
    match at.map(|at| std::mem::replace(&mut results[at], Ok(None))) {
        Some(Err(e)) => Err(e),
        _ => Ok(()),
    }
}

/// What the chunking threads share: the last run's file cache, the blobs the target holds, and
/// the count of bytes read.
struct Reader<'a> {
    old_cache: &'a HashMap<String, CachedFile>,
    known: &'a HashSet<[u8; 32]>,
    session: &'a crate::session::Session,
    read: &'a AtomicU64,
}

impl Reader<'_> {
    /// Backs up item number `index`: from the cache when unchanged, else read and chunked; new
    /// chunks go to the packer through `tx`. `None` when a file turned into something else than a
    /// regular file (a FIFO, a socket, a device) since the walk, or is gone (a temp file another
    /// process renamed into place or removed: like one gone before the walk, it is not backed up).
    fn item(&self, (index, item): (usize, &Item), tx: &mut SyncSender<ToPacker>) -> Result<Backed> {
        let seen = &item.stat;
        let mut entry = Entry {
            path: item.name.clone(),
            kind: EntryKind::File,
            size: 0,
            mode: seen.mode,
            mtime_ns: seen.mtime_ns,
            chunks: String::new(),
            link: None,
        };
        if seen.is_dir() {
            entry.kind = EntryKind::Dir;
            return Ok(Some((entry, CacheUpdate::None)));
        }
        if seen.is_symlink() {
            entry.kind = EntryKind::Symlink;
            let target = std::fs::read_link(&item.abs)
                .map_err(|e| Error::from_io("read link", &item.abs, e))?;
            entry.link = Some(target.to_string_lossy().into_owned());
            return Ok(Some((entry, CacheUpdate::None)));
        }
        let stat = CachedFile {
            size: seen.size,
            mtime_ns: seen.mtime_ns,
            ctime_ns: seen.ctime_ns,
            inode: seen.inode,
            chunks: Vec::new(),
        };
        if let Some(c) = self.old_cache.get(&item.name) {
            let same = c.size == stat.size
                && c.mtime_ns == stat.mtime_ns
                && c.ctime_ns == stat.ctime_ns
                && c.inode == stat.inode;
            if same && c.chunks.chunks_exact(32).all(|id| self.known.contains(id)) {
                entry.size = c.size;
                entry.chunks = hex::encode(&c.chunks);
                return Ok(Some((entry, CacheUpdate::Keep)));
            }
        }
        self.file((index, item), entry, stat, tx)
    }

    /// Reads file number `index` (`stat` as the walk saw it), whose cache entry is missing or
    /// stale; `None` when it is gone or no longer a regular file.
    fn file(
        &self,
        (index, item): (usize, &Item),
        mut entry: Entry,
        stat: CachedFile,
        tx: &mut SyncSender<ToPacker>,
    ) -> Result<Backed> {
        // Without waiting: should the file have become a FIFO since the walk, opening it must not
        // block the run until a writer comes (reads of regular files ignore the flag). Nor
        // through a link it was replaced by: what the link leads to is not this file.
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(&item.abs)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(None),
            Err(e) => return Err(Error::from_io("read", &item.abs, e)),
        };
        if !file
            .metadata()
            .map_err(|e| Error::from_io("read", &item.abs, e))?
            .is_file()
        {
            return Ok(None);
        }
        let (ids, size) = self.chunks((index, item), file, stat.size, tx)?;
        self.read.fetch_add(size, Ordering::Relaxed);
        entry.size = size;
        entry.chunks = hex::encode(&ids);
        let cached = CachedFile {
            size,
            chunks: ids,
            ..stat
        };
        // A file that changed while it was read is stored as read but not cached, so the next run
        // reads it again.
        let now = std::fs::symlink_metadata(&item.abs)
            .ok()
            .map(|m| Stat::of(&m));
        let stable = now.is_some_and(|now| now.size == size && now.mtime_ns == entry.mtime_ns);
        let update = if stable {
            CacheUpdate::Put(cached)
        } else {
            CacheUpdate::None
        };
        Ok(Some((entry, update)))
    }

    /// Cuts `file` (item number `index`, of `size_seen` bytes at the walk) into chunks and sends
    /// the packer those the target does not hold; returns the chunk ids and the bytes read.
    fn chunks(
        &self,
        (index, item): (usize, &Item),
        file: std::fs::File,
        size_seen: u64,
        tx: &mut SyncSender<ToPacker>,
    ) -> Result<(Vec<u8>, u64)> {
        let keys = &self.session.keys;
        let cfg = &self.session.config;
        let mut ids = Vec::new();
        let mut size = 0u64;
        let compressed = compressed_already(&item.name);
        let own_packs = (size_seen >= OWN_PACKS_FROM).then_some(index);
        let send = |tx: &mut SyncSender<ToPacker>, message| {
            tx.send(message)
                .map_err(|_| Error::new(ErrorKind::Cancelled, "the packer stopped"))
        };
        let mut handle = |data: &[u8]| -> Result<()> {
            let id = keys.blob_id(data);
            ids.extend_from_slice(&id);
            size += data.len() as u64;
            if !self.known.contains(&id) {
                let packed = repo::compress_blob(data, compressed).map_err(|e| {
                    Error::new(ErrorKind::Internal, format!("compression failed: {e}"))
                })?;
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
        if size_seen <= cfg.chunk_min as u64 {
            let mut data = Vec::with_capacity(size_seen as usize);
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
        Ok((ids, size))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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

    /// A file the walk saw, replaced by a link before it is read: what the link leads to is not
    /// read in its place, nor is a pipe waited on; the file itself is read.
    #[test]
    fn a_file_replaced_by_a_link_or_a_pipe_after_the_walk_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("target")).unwrap();
        let target = crate::Target::folder("t", &dir.path().join("target"));
        let session = crate::session::Session::open(&target, true, 0, Default::default()).unwrap();
        let (old_cache, known, read) = (HashMap::new(), HashSet::new(), AtomicU64::new(0));
        let reader = Reader {
            old_cache: &old_cache,
            known: &known,
            session: &session,
            read: &read,
        };
        let project = dir.path().join("project");
        std::fs::create_dir(&project).unwrap();
        std::fs::write(dir.path().join("secret"), b"not the project's").unwrap();
        for name in ["notes.txt", "link", "pipe"] {
            std::fs::write(project.join(name), b"as the walk saw it").unwrap();
        }
        let walked = |name: &str| Item {
            name: format!("folders/p/{name}"),
            abs: project.join(name),
            stat: Stat::of(&std::fs::symlink_metadata(project.join(name)).unwrap()),
        };
        let items = [walked("notes.txt"), walked("link"), walked("pipe")];
        std::fs::remove_file(project.join("link")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), project.join("link")).unwrap();
        std::fs::remove_file(project.join("pipe")).unwrap();
        use rustix::fs::{mknodat, FileType, Mode, CWD};
        mknodat(
            CWD,
            project.join("pipe"),
            FileType::Fifo,
            Mode::from(0o600),
            0,
        )
        .unwrap();

        let (tx, rx) = sync_channel::<ToPacker>(BLOB_QUEUE);
        let backed: Vec<Backed> = std::thread::scope(|s| {
            let reading = s.spawn(|| {
                let mut tx = tx;
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| reader.item((i, item), &mut tx).unwrap())
                    .collect()
            });
            let sent = rx.iter().count();
            assert_eq!(sent, 1, "one blob: the file's");
            reading.join().unwrap()
        });
        let (entry, _) = backed[0].as_ref().expect("the file is read");
        assert_eq!(entry.size, 18);
        assert!(backed[1].is_none(), "the link's target was read");
        assert!(backed[2].is_none(), "the pipe was read");
        assert_eq!(read.load(Ordering::Relaxed), 18);
    }

    #[test]
    fn the_error_told_is_the_first_items_own_not_a_stop_it_caused() {
        let stopped = || Err(Error::new(ErrorKind::Cancelled, "stopped"));
        let own = |m: &str| Err(Error::new(ErrorKind::Io, m.to_string()));
        let mut results: Vec<Result<Backed>> = vec![Ok(None), stopped(), own("a"), own("b")];
        let e = first_error(&mut results).unwrap_err();
        assert_eq!(
            (e.kind(), e.to_string().contains('a')),
            (ErrorKind::Io, true)
        );
        let mut results: Vec<Result<Backed>> = vec![Ok(None), stopped()];
        assert_eq!(
            first_error(&mut results).unwrap_err().kind(),
            ErrorKind::Cancelled
        );
        assert!(first_error(&mut [Ok(None), Ok(None)]).is_ok());
    }
}
