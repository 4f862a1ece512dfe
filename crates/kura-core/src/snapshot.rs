//! Taking a version: scan the folder, read only what changed, store small text in git and large or
//! binary files in the chunk store, and commit, all in one git pack.
//!
//! Commit order (a crash at any point leaves garbage for gc, never a reference to missing data):
//! chunk packs → chunk index → git pack + .idx → `refs/heads/main` → catalog rows.

use rustc_hash::{FxHashMap, FxHashSet};
use std::fs;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use git2::{OdbLookupFlags, Oid};
use kura_gitpack::{encode_tree, object_id, EncodedObject, ObjectKind, PackWriter, TreeEntry};
use rayon::prelude::*;
use rusqlite::params;
use serde::Serialize;

use crate::config::Config;
use crate::detect;
use crate::error::{Error, ErrorKind, Result};
use crate::files::{self, CachedFile, EntryKind, Layer, ScannedFile, SkippedFile};
use crate::history::{self, ChangeCounts, Trigger, Version};
use crate::job::Job;
use crate::pointer::{Pointer, MAGIC};
use crate::project::ProjectStatus;
use crate::vault::Vault;

/// Files changed less than this long before the scan are re-read even when their stat data
/// matches the cache (their mtime may not have ticked yet after a write).
const RACY_WINDOW_NS: i64 = 2_000_000_000;
/// Threads reading and compressing small files: more than the cores, since reads wait on the
/// disk (a cold tree of 50,000 files is read about twice as fast with 8 readers as with 2).
const READERS: usize = 8;
/// Encoded small files waiting to be appended to the pack.
const READ_QUEUE: usize = 64;
/// Bytes of small files being read or waiting for the pack: a reader waits before a file that
/// would go over (unless nothing is in flight), so memory stays bounded when many files near
/// `large_file_threshold` come at once.
const READ_BUDGET: u64 = 32 << 20;

/// The bytes in flight between the readers and the pack writer (see [`READ_BUDGET`]).
#[derive(Default)]
struct ReadBudget {
    /// Bytes in flight, and whether the writer has stopped taking files.
    state: std::sync::Mutex<(u64, bool)>,
    freed: std::sync::Condvar,
}

impl ReadBudget {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, bool)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `n` more bytes fit (or nothing is in flight), then counts them.
    fn take(&self, n: u64) {
        let mut s = self.lock();
        while !s.1 && s.0 > 0 && s.0 + n > READ_BUDGET {
            s = self.freed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        s.0 += n;
    }

    fn give(&self, n: u64) {
        {
            let mut s = self.lock();
            s.0 = s.0.saturating_sub(n);
        }
        self.freed.notify_all();
    }

    /// The writer stopped (done, or failed): no reader waits any more.
    fn close(&self) {
        self.lock().1 = true;
        self.freed.notify_all();
    }
}

/// Closes a [`ReadBudget`] when the writer's loop ends, however it ends.
struct CloseOnDrop<'a>(&'a ReadBudget);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}
/// Bytes read to decide whether a file is binary.
const BINARY_SNIFF: usize = 8192;

/// How to take a version.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SnapshotOptions {
    /// The message; a default one names the trigger.
    pub message: Option<String>,
    /// "name <email>" or a name; the person's git identity (else their OS account) when `None`.
    pub author: Option<String>,
    /// What asked for it; the door the vault serves ([`Vault::door`]) when `None`.
    pub trigger: Option<Trigger>,
    /// Make a version even when nothing changed.
    pub allow_empty: bool,
}

/// What a snapshot did.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SnapshotReport {
    /// The project's id.
    pub project_id: String,
    /// The new version, or `None` when nothing had changed.
    pub version: Option<Version>,
    /// Files added, modified, removed since the previous version.
    pub changes: ChangeCounts,
    /// Files in the folder's current state.
    pub files: u64,
    /// Their bytes.
    pub size: u64,
    /// Files actually read (the rest were known unchanged).
    pub files_read: u64,
    /// Bytes actually read.
    pub bytes_read: u64,
    /// New bytes added to the chunk store (after dedup and compression).
    pub new_chunk_bytes: u64,
    /// Files that could not be read (their previous content, if any, was kept), and files and
    /// folders whose names no restore could write back (not taken in).
    pub skipped: Vec<SkippedFile>,
}

/// A file's place in the new version.
#[derive(Clone, Debug)]
struct Entry {
    path: String,
    mode: u32,
    oid: [u8; 20],
    layer: Layer,
    /// Stat data for the cache; `None` for entries carried over from the previous version.
    stat: Option<files::Stat>,
    /// The commit id of the version where it last changed; `None` means "this new version".
    last_version: Option<[u8; 20]>,
    size: u64,
    /// Whether the cache row must be (re)written.
    dirty: bool,
}

enum Outcome {
    Git(EncodedObject),
    Large,
    Skipped(String),
}

fn author_line(author: &str) -> Result<String> {
    let a = author.trim();
    if a.contains(['\n', '\0']) {
        return Err(Error::invalid("the author may not contain line breaks"));
    }
    if a.contains('<') && a.ends_with('>') {
        Ok(a.to_string())
    } else if a.is_empty() {
        Ok(crate::author::person())
    } else {
        Ok(format!("{} <>", a.replace(['<', '>'], "")))
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// Which files go to the chunk store by size or name alone (before reading them).
fn large_by_rule(f: &ScannedFile, config: &Config) -> bool {
    let s = &config.storage;
    if f.size >= s.large_file_threshold.0 {
        return true;
    }
    if f.size >= 4096 {
        let ext = files::file_type_of(&f.rel);
        if !ext.is_empty()
            && s.chunk_extensions
                .iter()
                .any(|e| e.eq_ignore_ascii_case(&ext))
        {
            return true;
        }
    }
    false
}

/// Reads a small file (or a link) and encodes it as a git blob, or says it belongs in the chunk
/// store after all.
fn read_small(root: &Path, f: &ScannedFile, config: &Config) -> Outcome {
    let path = root.join(&f.rel);
    let level = config.storage.history_compression_level;
    if f.kind == EntryKind::Symlink {
        return match fs::read_link(&path) {
            Ok(target) => {
                use std::os::unix::ffi::OsStrExt;
                Outcome::Git(EncodedObject::encode(
                    ObjectKind::Blob,
                    target.as_os_str().as_bytes(),
                    level,
                ))
            }
            Err(e) => Outcome::Skipped(e.to_string()),
        };
    }
    // Sized from the scan, so reading needs no stat of its own.
    let read = fs::File::open(&path).and_then(|mut file| {
        let mut data =
            Vec::with_capacity(f.size.min(config.storage.large_file_threshold.0) as usize + 1);
        file.read_to_end(&mut data)?;
        Ok(data)
    });
    let data = match read {
        Ok(d) => d,
        Err(e) => return Outcome::Skipped(e.to_string()),
    };
    let s = &config.storage;
    if data.len() as u64 >= s.large_file_threshold.0 || data.starts_with(MAGIC) {
        return Outcome::Large;
    }
    if data.len() as u64 >= s.binary_min_size.0 && memchr0(&data[..data.len().min(BINARY_SNIFF)]) {
        return Outcome::Large;
    }
    Outcome::Git(EncodedObject::encode(ObjectKind::Blob, &data, level))
}

/// What became of a file meant for the chunk store.
enum LargeOutcome<'f> {
    Stored(&'f ScannedFile, kura_chunkstore::StoredFile),
    /// It could not be read (the reason).
    Skipped(&'f ScannedFile, String),
}

/// Streams `files` into the chunk store, adding what is read to `done` and reporting progress.
fn store_large<'f>(
    chunk_writer: &mut kura_chunkstore::ChunkWriter<'_>,
    root: &Path,
    files: &[&'f ScannedFile],
    job: &Job,
    done: &AtomicU64,
    progress: &(dyn Fn(Option<&str>) + Sync),
) -> Result<Vec<LargeOutcome<'f>>> {
    let mut out = Vec::with_capacity(files.len());
    for &f in files {
        job.check()?;
        let file = match fs::File::open(root.join(&f.rel)) {
            Ok(file) => file,
            Err(e) => {
                out.push(LargeOutcome::Skipped(f, e.to_string()));
                continue;
            }
        };
        let mut counted = 0u64;
        let stored = {
            let mut report = |n: u64| {
                done.fetch_add(n - counted, Ordering::Relaxed);
                counted = n;
                progress(Some(&f.rel));
            };
            let mut file = kura_chunkstore::ReadAhead::new(file);
            chunk_writer.store(&mut file as &mut dyn Read, &mut report, job.flag())
        };
        match stored {
            Ok(stored) => {
                done.fetch_add(stored.size.saturating_sub(counted), Ordering::Relaxed);
                out.push(LargeOutcome::Stored(f, stored));
            }
            Err(kura_chunkstore::Error::Input(source)) => {
                done.fetch_sub(counted, Ordering::Relaxed);
                out.push(LargeOutcome::Skipped(f, source.to_string()));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

fn memchr0(data: &[u8]) -> bool {
    data.contains(&0)
}

impl Vault {
    /// Takes a version of a project's folder. When nothing changed (and `allow_empty` is not
    /// set) no version is made and the report's `version` is `None`.
    pub fn snapshot(
        &self,
        reference: &str,
        opts: &SnapshotOptions,
        job: &Job,
    ) -> Result<SnapshotReport> {
        let p = self.project(reference)?;
        if p.status == ProjectStatus::Deleted {
            return Err(Error::conflict(format!(
                "project '{}' is in the trash; restore it before taking versions",
                p.name
            )));
        }
        self.require_folder(&p)?;
        let author = author_line(opts.author.as_deref().unwrap_or(""))?;
        let trigger = opts.trigger.unwrap_or_else(|| self.door());
        let _lock = self.lock_project(&p.id)?;
        let _chunks_lock = self.lock_chunks(false)?;
        let config_in_force = self.config();
        let config = &*config_in_force;
        let root = p.path.as_path();

        let scan_start = now_ns();
        job.files("scanning", 0, None);
        let started = std::time::Instant::now();
        let repo_path = self.history_path(&p.id);
        let repo = history::open(&repo_path)?;
        let head = history::head(&repo)?;
        let mut cache_valid = head.map(|h| h.to_string()) == p.head;
        // Scan the folder while the files cache loads.
        let (scan, loaded) = std::thread::scope(|s| {
            let scanning = s.spawn(|| files::scan(root, config));
            let loaded = if cache_valid {
                Some(crate::filelist::load(
                    &self.db(),
                    &p.id,
                    p.file_count as usize,
                ))
            } else {
                None
            };
            let scan = scanning
                .join()
                .unwrap_or_else(|_| Err(Error::internal("the folder scan panicked")));
            (scan, loaded)
        });
        let scan = scan?;
        tracing::debug!(files = scan.files.len(), elapsed = ?started.elapsed(), "scanned");
        job.check()?;
        // The cache doubles as "what the previous version held". When the catalog is behind
        // the history (a crash between the two), or its file list is damaged, rebuild it from the
        // history with stat data that matches nothing, so every file is read again.
        let loaded = match loaded {
            Some(Err(e)) if e.kind() == ErrorKind::Corrupt => {
                tracing::warn!("{e}; rebuilding it from the history");
                cache_valid = false;
                None
            }
            other => other,
        };
        let cache = if let Some(loaded) = loaded {
            loaded?
        } else if let Some(h) = head {
            let head_id = history::id_bytes(h);
            let mut m = FxHashMap::default();
            for t in history::files_of(&repo, h)? {
                let blob = repo.find_blob(t.oid)?;
                let (layer, size) = if Pointer::is_pointer(blob.content()) {
                    (Layer::Chunks, Pointer::decode(blob.content())?.size)
                } else {
                    (Layer::Git, blob.size() as u64)
                };
                let mut oid = [0u8; 20];
                oid.copy_from_slice(t.oid.as_bytes());
                m.insert(
                    t.path,
                    CachedFile {
                        size,
                        mtime_ns: -1,
                        ctime_ns: -1,
                        inode: 0,
                        mode: t.mode,
                        layer,
                        oid,
                        last_version: head_id,
                    },
                );
            }
            m
        } else {
            FxHashMap::default()
        };
        let base = &cache;

        tracing::debug!(cached = cache.len(), elapsed = ?started.elapsed(), "loaded the files cache");
        // Sort the scan into known-unchanged entries and files to read.
        let mut entries: Vec<Entry> = Vec::with_capacity(scan.files.len());
        let mut to_read: Vec<ScannedFile> = Vec::new();
        let mut skipped = scan.skipped;
        for f in scan.files {
            let racy = f.mtime_ns >= scan_start - RACY_WINDOW_NS;
            match cache.get(&f.rel) {
                Some(c) if !racy && c.matches(&f) => entries.push(Entry {
                    stat: Some(f.stat()),
                    path: f.rel,
                    mode: c.mode,
                    oid: c.oid,
                    layer: c.layer,
                    last_version: Some(c.last_version),
                    size: f.size,
                    dirty: false,
                }),
                _ => to_read.push(f),
            }
        }

        // The common case of automatic and scheduled snapshots: every file is as the cache
        // says and none is gone, so the tree is the head's. Nothing to read, build or write.
        if cache_valid
            && head.is_some()
            && to_read.is_empty()
            && skipped.is_empty()
            && entries.len() == cache.len()
            && !opts.allow_empty
        {
            tracing::debug!(elapsed = ?started.elapsed(), "unchanged");
            return Ok(SnapshotReport {
                project_id: p.id,
                version: None,
                changes: ChangeCounts::default(),
                files: entries.len() as u64,
                size: entries.iter().map(|e| e.size).sum(),
                files_read: 0,
                bytes_read: 0,
                new_chunk_bytes: 0,
                skipped,
            });
        }
        // Languages and frameworks from the regular files (symlinks are not code).
        let detected = detect::detect(
            root,
            entries
                .iter()
                .filter(|e| e.mode != 0o120000)
                .map(|e| (e.path.as_str(), e.size))
                .chain(
                    to_read
                        .iter()
                        .filter(|f| f.kind == EntryKind::File)
                        .map(|f| (f.rel.as_str(), f.size)),
                ),
        );
        // Read what changed: small files in parallel batches into the git pack, large ones
        // streamed through the chunk store.
        let mut pack = PackWriter::create(&repo_path.join("objects/pack"))?;
        let odb = repo.odb()?;
        // Whether the history holds an object already. A history without a head has none worth
        // looking for (at most a pack a crash left unreferenced: a duplicate does no harm). The
        // object database was opened just now, so a miss need not re-read the pack folder, which
        // libgit2 would otherwise do for every new object.
        let known = |pack: &PackWriter, oid: &[u8; 20]| -> Result<bool> {
            Ok(pack.contains(oid)
                || (head.is_some()
                    && odb.exists_ext(Oid::from_bytes(oid)?, OdbLookupFlags::NO_REFRESH)))
        };
        let mut chunk_writer = self.chunks().writer();
        let mut large: Vec<&ScannedFile> = Vec::new();
        let mut small: Vec<&ScannedFile> = Vec::new();
        for f in &to_read {
            if f.kind == EntryKind::File && large_by_rule(f, config) {
                large.push(f);
            } else {
                small.push(f);
            }
        }
        let total_read_bytes: u64 = small.iter().chain(large.iter()).map(|f| f.size).sum();
        // Bytes read so far, by both of the threads below.
        let done = AtomicU64::new(0);
        let mut files_read = 0u64;
        // Small files: a pool of readers (more threads than cores, as reads wait on the disk)
        // hash and deflate them; this thread appends the results to the pack as they come.
        // Meanwhile another thread streams the files known to be large into the chunk store.
        let progress = |item: Option<&str>| {
            job.bytes(
                "storing",
                done.load(Ordering::Relaxed),
                Some(total_read_bytes),
                item,
            )
        };
        let mut found_large: Vec<&ScannedFile> = Vec::new();
        let stored_large = {
            let readers = rayon::ThreadPoolBuilder::new()
                .num_threads(READERS)
                .thread_name(|i| format!("kura-read-{i}"))
                .build()
                .map_err(|e| Error::internal(format!("cannot start reader threads: {e}")))?;
            let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Outcome)>(READ_QUEUE);
            let small_ref = &small;
            let cancelled = job.flag();
            let budget = ReadBudget::default();
            let budget = &budget;
            std::thread::scope(|scope| -> Result<Vec<LargeOutcome<'_>>> {
                scope.spawn(move || {
                    readers.install(|| {
                        small_ref
                            .par_iter()
                            .enumerate()
                            .for_each_with(tx, |tx, (i, f)| {
                                if cancelled.load(Ordering::Relaxed) {
                                    return;
                                }
                                budget.take(f.size);
                                let _ = tx.send((i, read_small(root, f, config)));
                            })
                    })
                });
                let large_ref = &large;
                let chunk_writer = &mut chunk_writer;
                let (done, progress) = (&done, &progress);
                let storing = std::thread::Builder::new()
                    .name("kura-large".into())
                    .spawn_scoped(scope, move || {
                        store_large(chunk_writer, root, large_ref, job, done, progress)
                    })
                    .map_err(|e| Error::internal(format!("cannot start a thread: {e}")))?;
                let mut last_report = std::time::Instant::now();
                let _closing = CloseOnDrop(budget);
                for (i, outcome) in rx {
                    let f = small[i];
                    budget.give(f.size);
                    match outcome {
                        Outcome::Git(obj) => {
                            if !known(&pack, &obj.oid)? {
                                pack.add(&obj)?;
                            }
                            done.fetch_add(f.size, Ordering::Relaxed);
                            files_read += 1;
                            entries.push(Entry {
                                path: f.rel.clone(),
                                mode: f.git_mode(),
                                oid: obj.oid,
                                layer: Layer::Git,
                                stat: Some(f.stat()),
                                last_version: None,
                                size: f.size,
                                dirty: true,
                            });
                        }
                        Outcome::Large => found_large.push(f),
                        Outcome::Skipped(reason) => skipped.push(SkippedFile {
                            path: f.rel.clone(),
                            reason,
                        }),
                    }
                    if last_report.elapsed() >= std::time::Duration::from_millis(100) {
                        progress(None);
                        last_report = std::time::Instant::now();
                    }
                }
                storing
                    .join()
                    .unwrap_or_else(|_| Err(Error::internal("storing large files panicked")))
            })?
        };
        job.check()?;
        // Files found to be binary only once read go to the chunk store now.
        let stored_found =
            store_large(&mut chunk_writer, root, &found_large, job, &done, &progress)?;
        for outcome in stored_large.into_iter().chain(stored_found) {
            let (f, stored) = match outcome {
                LargeOutcome::Stored(f, stored) => (f, stored),
                LargeOutcome::Skipped(f, reason) => {
                    skipped.push(SkippedFile {
                        path: f.rel.clone(),
                        reason,
                    });
                    continue;
                }
            };
            files_read += 1;
            let pointer = Pointer {
                size: stored.size,
                hash: stored.hash,
                chunks: stored.chunks,
            }
            .encode();
            let obj = EncodedObject::encode(
                ObjectKind::Blob,
                &pointer,
                config.storage.history_compression_level,
            );
            if !known(&pack, &obj.oid)? {
                pack.add(&obj)?;
            }
            entries.push(Entry {
                path: f.rel.clone(),
                mode: f.git_mode(),
                oid: obj.oid,
                layer: Layer::Chunks,
                stat: Some(f.stat()),
                last_version: None,
                size: stored.size,
                dirty: true,
            });
        }
        let bytes_read = done.load(Ordering::Relaxed);

        // Files that could not be read, and every file of the previous version under a folder
        // that could not be read, keep their previous content: nothing is lost. A name that breaks
        // the rule (taken in by an older Kura) is not carried on: no restore would write it back.
        let present: FxHashSet<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        let unread: FxHashSet<&str> = skipped
            .iter()
            .map(|s| s.path.as_str())
            .filter(|p| !p.is_empty())
            .collect();
        let mut carried = Vec::new();
        if !unread.is_empty() {
            for (path, c) in base.iter() {
                let is_unread = unread.contains(path.as_str())
                    || path
                        .match_indices('/')
                        .any(|(i, _)| unread.contains(&path[..i]));
                if !is_unread
                    || present.contains(path.as_str())
                    || crate::names::check_stored(path).is_err()
                    // A link is skipped only when it leads out of the project: not kept either.
                    || (c.mode == 0o120000 && unread.contains(path.as_str()))
                {
                    continue;
                }
                carried.push(Entry {
                    path: path.clone(),
                    mode: c.mode,
                    oid: c.oid,
                    layer: c.layer,
                    stat: None,
                    last_version: Some(c.last_version),
                    size: c.size,
                    dirty: false,
                });
            }
        }
        entries.extend(carried);
        entries.sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));

        // Entries whose content did not change keep their last_version.
        for e in entries.iter_mut().filter(|e| e.last_version.is_none()) {
            if let Some(c) = base.get(&e.path) {
                if c.mode == e.mode && c.oid == e.oid {
                    e.last_version = Some(c.last_version);
                }
            }
        }
        let mut changes = ChangeCounts::default();
        let new_paths: FxHashSet<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        for e in &entries {
            match base.get(&e.path) {
                None => changes.added += 1,
                Some(c) if c.mode != e.mode || c.oid != e.oid => changes.modified += 1,
                Some(_) => {}
            }
        }
        let removed: Vec<&str> = base
            .keys()
            .map(String::as_str)
            .filter(|k| !new_paths.contains(k))
            .collect();
        changes.removed = removed.len() as u64;

        tracing::debug!(read = files_read, elapsed = ?started.elapsed(), "read changed files");
        // Trees.
        let mut trees: Vec<([u8; 20], Vec<u8>)> = Vec::new();
        let root_tree = build_tree(&entries, 0, &mut trees);
        let head_tree = match head {
            Some(h) => Some(repo.find_commit(h)?.tree_id()),
            None => None,
        };
        let unchanged = head_tree.map(|t| t.as_bytes() == root_tree) == Some(true);
        let total_size: u64 = entries.iter().map(|e| e.size).sum();
        let file_count = entries.len() as u64;

        tracing::debug!(trees = trees.len(), elapsed = ?started.elapsed(), "built trees");
        if unchanged && !opts.allow_empty {
            // Nothing to commit; keep the cache fresh so the next scan is quick.
            drop(pack);
            let new_chunk_bytes = chunk_writer.finish()?.stored_bytes_written;
            let head_id = head.map(|h| h.to_string()).unwrap_or_default();
            let head_bytes = head.map(history::id_bytes).unwrap_or_default();
            self.write_cache(
                &p.id,
                &entries,
                &removed,
                &head_bytes,
                !cache_valid,
                scan_start,
            )?;
            if !cache_valid {
                // The catalog was behind the history (a crash between the two): catch it up.
                self.db().execute(
                    "UPDATE projects SET head = ?1, logical_size = ?2, file_count = ?3 WHERE id = ?4",
                    params![head_id, total_size as i64, file_count as i64, p.id],
                )?;
            }
            return Ok(SnapshotReport {
                project_id: p.id,
                version: None,
                changes: ChangeCounts::default(),
                files: file_count,
                size: total_size,
                files_read,
                bytes_read,
                new_chunk_bytes,
                skipped,
            });
        }
        job.check()?;
        let level = config.storage.history_compression_level;
        for (oid, data) in &trees {
            if !known(&pack, oid)? {
                pack.add(&EncodedObject::encode(ObjectKind::Tree, data, level))?;
            }
        }
        let now = self.now();
        let message = opts
            .message
            .clone()
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| default_message(trigger, &changes));
        let mut commit = format!("tree {}\n", hex::encode(root_tree));
        if let Some(h) = head {
            commit.push_str(&format!("parent {h}\n"));
        }
        commit.push_str(&format!(
            "author {author} {now} +0000\ncommitter Kura <kura@localhost> {now} +0000\n\n{}\n\nKura-Trigger: {}\nKura-Changes: +{} ~{} -{}\nKura-Files: {} {}\n",
            message.trim_end(),
            trigger.as_str(),
            changes.added,
            changes.modified,
            changes.removed,
            file_count,
            total_size
        ));
        let commit_oid = object_id(ObjectKind::Commit, commit.as_bytes());
        pack.add(&EncodedObject::encode(
            ObjectKind::Commit,
            commit.as_bytes(),
            level,
        ))?;

        // The commit order.
        job.files("committing", file_count, Some(file_count));
        let new_chunk_bytes = chunk_writer.finish()?.stored_bytes_written;
        tracing::debug!(elapsed = ?started.elapsed(), "chunks committed");
        pack.finish()?;
        tracing::debug!(elapsed = ?started.elapsed(), "history pack committed");
        let commit_id = Oid::from_bytes(&commit_oid)?;
        history::set_head(&repo_path, commit_id)?;
        let version_id = commit_id.to_string();
        self.write_cache(
            &p.id,
            &entries,
            &removed,
            &commit_oid,
            !cache_valid,
            scan_start,
        )?;
        tracing::debug!(elapsed = ?started.elapsed(), "files cache written");
        let history_bytes = dir_size(&repo_path);
        {
            let mut db = self.db();
            let tx = db.transaction()?;
            tx.execute(
                "UPDATE projects SET head = ?1, logical_size = ?2, file_count = ?3, updated_at = ?4,
                     chunk_stored = chunk_stored + ?5, stored_size = ?6 + chunk_stored + ?5
                 WHERE id = ?7",
                params![version_id, total_size as i64, file_count as i64, now, new_chunk_bytes as i64, history_bytes as i64, p.id],
            )?;
            tx.execute(
                "DELETE FROM labels WHERE project_id = ?1 AND kind IN ('language', 'framework')",
                [&p.id],
            )?;
            for l in &detected.languages {
                tx.execute(
                    "INSERT OR IGNORE INTO labels (project_id, kind, value) VALUES (?1, 'language', ?2)",
                    params![p.id, l],
                )?;
            }
            for f in &detected.frameworks {
                tx.execute(
                    "INSERT OR IGNORE INTO labels (project_id, kind, value) VALUES (?1, 'framework', ?2)",
                    params![p.id, f],
                )?;
            }
            tx.commit()?;
        }
        self.record_usage_sample()?;
        tracing::debug!(elapsed = ?started.elapsed(), "catalog updated");
        let version = history::version_of(&repo.find_commit(commit_id)?);
        Ok(SnapshotReport {
            project_id: p.id,
            version: Some(version),
            changes,
            files: file_count,
            size: total_size,
            files_read,
            bytes_read,
            new_chunk_bytes,
            skipped,
        })
    }

    /// Takes a version of every active project (of the active workspace, or of all with
    /// `all_workspaces`) whose folder is present and changed; returns one report per project.
    pub fn snapshot_changed(
        &self,
        all_workspaces: bool,
        opts: &SnapshotOptions,
        job: &Job,
    ) -> Result<Vec<SnapshotReport>> {
        let active = self.projects(&crate::ProjectFilter {
            all_workspaces,
            status: Some(ProjectStatus::Active),
            ..Default::default()
        })?;
        active
            .iter()
            .filter(|p| p.path.is_dir())
            .map(|p| self.snapshot(&p.id, opts, job))
            .collect()
    }

    /// Replaces the files cache with `entries` (files that changed in `version` get it as their
    /// last version), unless nothing changed: no entry is dirty, none was `removed`, and the
    /// cache is not to be rebuilt (`rewrite_all`).
    fn write_cache(
        &self,
        project_id: &str,
        entries: &[Entry],
        removed: &[&str],
        version: &[u8; 20],
        rewrite_all: bool,
        scan_start: i64,
    ) -> Result<()> {
        if !rewrite_all && removed.is_empty() && !entries.iter().any(|e| e.dirty) {
            return Ok(());
        }
        let list: Vec<(&str, CachedFile)> = entries
            .iter()
            .map(|e| {
                let (mtime_ns, ctime_ns, inode) = match &e.stat {
                    // A file written just before the scan is stored with an impossible mtime so
                    // that the next snapshot reads it again (the "racily clean" problem).
                    Some(s) if s.mtime_ns >= scan_start - RACY_WINDOW_NS => {
                        (-1, s.ctime_ns, s.inode)
                    }
                    Some(s) => (s.mtime_ns, s.ctime_ns, s.inode),
                    None => (-1, -1, 0),
                };
                let file = CachedFile {
                    size: e.size,
                    mtime_ns,
                    ctime_ns,
                    inode,
                    mode: e.mode,
                    layer: e.layer,
                    oid: e.oid,
                    last_version: e.last_version.unwrap_or(*version),
                };
                (e.path.as_str(), file)
            })
            .collect();
        let mut db = self.db();
        let tx = db.transaction()?;
        crate::filelist::store(&tx, project_id, &list)?;
        tx.commit()?;
        Ok(())
    }

    /// Records the vault's total logical and stored bytes now, for growth over time.
    fn record_usage_sample(&self) -> Result<()> {
        let now = self.now();
        let db = self.db();
        db.execute(
            "INSERT INTO usage_samples (at, logical, stored)
             SELECT ?1, coalesce(sum(logical_size), 0), coalesce(sum(stored_size), 0) FROM projects",
            [now],
        )?;
        Ok(())
    }
}

fn default_message(trigger: Trigger, c: &ChangeCounts) -> String {
    let what = match trigger {
        Trigger::Desktop
        | Trigger::Cli
        | Trigger::Http
        | Trigger::Mcp
        | Trigger::Manual
        | Trigger::Api => "Snapshot",
        Trigger::Automatic => "Automatic snapshot",
        Trigger::Schedule => "Scheduled snapshot",
        Trigger::BeforeRestore => "Before restore",
        Trigger::BeforeArchive => "Before archive",
    };
    format!(
        "{what}: {} added, {} modified, {} removed",
        c.added, c.modified, c.removed
    )
}

/// Builds the tree objects for sorted `entries` (paths relative to the tree at `offset`), pushing
/// each into `out`; returns the root tree's id.
fn build_tree(entries: &[Entry], offset: usize, out: &mut Vec<([u8; 20], Vec<u8>)>) -> [u8; 20] {
    let mut items: Vec<TreeEntry> = Vec::new();
    let mut i = 0;
    while i < entries.len() {
        let rest = &entries[i].path[offset..];
        match rest.find('/') {
            Some(slash) => {
                let dir = &rest[..=slash]; // includes the slash
                let mut j = i + 1;
                while j < entries.len() && entries[j].path[offset..].starts_with(dir) {
                    j += 1;
                }
                let sub = build_tree(&entries[i..j], offset + slash + 1, out);
                items.push(TreeEntry {
                    mode: 0o040000,
                    name: dir.as_bytes()[..slash].to_vec(),
                    oid: sub,
                });
                i = j;
            }
            None => {
                items.push(TreeEntry {
                    mode: entries[i].mode,
                    name: rest.as_bytes().to_vec(),
                    oid: entries[i].oid,
                });
                i += 1;
            }
        }
    }
    let data = encode_tree(&mut items);
    let oid = object_id(ObjectKind::Tree, &data);
    out.push((oid, data));
    oid
}

/// Bytes of the files under `dir` (best effort).
pub(crate) fn dir_size(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}
