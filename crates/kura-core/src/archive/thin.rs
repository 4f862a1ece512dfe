//! A thin history bundle: the archive's `files/` holds the latest version's file contents
//! already, so the bundle leaves those blobs out (format `kura-archive v2`), and bringing the
//! archive back puts them into the history again from `files/`.
//!
//! Written whole, the bundle held a second copy of the working folder, deflated by git: for a
//! project of 90,000 files taken in once, 77 MB beside the 128 MB of `files/`, and the
//! history's first repack (14 s of delta search there) to make it that small. Left out, the
//! archive is about the size of `tar` + `zstd` of the folder, and written in not much more time.
//!
//! What is left out is only what the archive certainly carries:
//! - a blob of the latest version's tree, at a regular file's path, that the file list
//!   records in git's layer with the same id (a large file's pointer stays in the bundle);
//! - not a base a delta of the bundle needs (the bundle's planner keeps those);
//! - checked while it is written: the file read into `files/` must hash to that blob; one that
//!   changed or went since the version (a linked folder's file its user rewrote) has the
//!   version's content added as `history-blobs/<id>`, so nothing of the version is lost.
//!
//! Brought back ([`complete_history`]), each missing blob of the latest version is read from
//! `history-blobs/`, or else from `files/` at its path (never through a symbolic link), checked
//! against its id and written into a new pack of the history (as a delta against a like blob
//! just before it, as a snapshot writes them), before anything of the project exists. An
//! archive that does not hold them is refused as damaged.
//!
//! Without Kura, git opens it once the files are in its object store:
//! files' contents (and `history-blobs/`) hashed into a bare repository with `git hash-object -w
//! --no-filters`, then `git fetch history.bundle main:main` (the archives chapter has the
//! commands).

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};
use rayon::prelude::*;
use sha1::{Digest, Sha1};

use crate::catalog::filelist;
use crate::error::{Error, ErrorKind, Result};
use crate::fs::regular;
use crate::history::pointer::Pointer;
use crate::history::snapshot::KnownFiles;
use crate::history::{
    self,
    deltas::{self, Blob, DeltaRun},
};
use crate::job::Job;
use crate::model::Layer;
use crate::vault::Vault;

/// The format of an archive whose history bundle leaves out what `files/` holds.
pub(super) const FORMAT_THIN: &str = "kura-archive v2";

/// What an archive's `files/` carries of a version: its blobs by path, and the history's
/// bundle planned without them.
pub(super) struct Carried {
    pub(super) head: Oid,
    pub(super) files: HashMap<String, Oid>,
    pub(super) bundle: super::bundle::Bundle,
}

/// Bytes of files read at once (by all threads) while a history is completed.
const BATCH_BYTES: u64 = 32 << 20;

/// Files one thread encodes in order while a history is completed (the first of each run has no
/// blob before it to be stored as a delta against).
const DELTA_RUN_FILES: usize = 64;

/// Git file modes of regular files.
fn regular(mode: u32) -> bool {
    mode == 0o100644 || mode == 0o100755
}

impl Vault {
    /// The blobs of the latest version (`head`) that `files/` will carry, by path: regular
    /// files in git's layer whose file list entry names the tree's blob. Empty when the file
    /// list is missing or cannot be read (the bundle is then whole).
    ///
    /// When the catalog points `p` at `head`, its file list is that version's (a snapshot writes
    /// the list after the history's head and before the catalog's), and is read alone; else
    /// each entry is checked against the version's tree. Either way, each file the archive
    /// reads must still hash to its blob, or the blob goes into the archive from the history.
    pub(super) fn carried_by_files(
        &self,
        p: &crate::model::Project,
        repo: &Repository,
        head: Oid,
    ) -> Result<HashMap<String, Oid>> {
        let listed = match filelist::load_sorted(&self.db(), &p.id) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(project = %p.id, error = %e, "archive: the file list cannot be read; the history bundle goes in whole");
                return Ok(HashMap::new());
            }
        };
        let in_git = |c: &crate::model::CachedFile| c.layer == Layer::Git && regular(c.mode);
        if p.head.as_deref() == Some(head.to_string().as_str()) {
            let mut out = HashMap::with_capacity(listed.len());
            for (path, c) in listed {
                if in_git(&c) {
                    out.insert(path, Oid::from_bytes(&c.oid)?);
                }
            }
            return Ok(out);
        }
        let listed: HashMap<String, crate::model::CachedFile> = listed.into_iter().collect();
        let mut out = HashMap::new();
        for f in history::files_of(repo, head)? {
            let same = listed
                .get(&f.path)
                .is_some_and(|c| in_git(c) && c.oid == f.oid.as_bytes() && c.mode == f.mode);
            if same {
                out.insert(f.path, f.oid);
            }
        }
        Ok(out)
    }

    /// Whether the history of `p` is, for the most part, the latest version's file contents
    /// that an archive's `files/` carries: its bundle then leaves out at least three quarters of
    /// it, and repacking it first (a delta search over every object) would save little.
    /// When it is, the latest version and what `files/` carries of it, for the archive to
    /// use if no version comes after.
    pub(super) fn history_mostly_carried(
        &self,
        p: &crate::model::Project,
    ) -> Result<Option<Carried>> {
        let started = std::time::Instant::now();
        let repo = history::open(&self.history_path(&p.id))?;
        let Some(head) = history::head(&repo)? else {
            return Ok(None);
        };
        let files = self.carried_by_files(p, &repo, head)?;
        tracing::debug!(elapsed = ?started.elapsed(), files = files.len(), "archive: what files/ carries");
        let bundle = super::bundle::Bundle::without_carried(&repo, head, &files)?;
        tracing::debug!(elapsed = ?started.elapsed(), thin = bundle.len(), whole = bundle.whole_pack_len(), "archive: bundle planned");
        let mostly = bundle.len() * 4 <= bundle.whole_pack_len();
        Ok(mostly.then_some(Carried {
            head,
            files,
            bundle,
        }))
    }
}

/// The git blob id of content being read, `len` bytes in all.
pub(super) struct BlobHasher(Sha1);

impl BlobHasher {
    pub(super) fn new(len: u64) -> BlobHasher {
        let mut h = Sha1::new();
        h.update(format!("blob {len}\0").as_bytes());
        BlobHasher(h)
    }

    pub(super) fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub(super) fn finish(self) -> Oid {
        Oid::from_bytes(&self.0.finalize()).expect("a SHA-1 is 20 bytes")
    }
}

/// A reader that hashes what it reads as a git blob.
pub(super) struct HashingReader<R> {
    pub(super) inner: R,
    pub(super) hasher: BlobHasher,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Where an archive keeps, by id, the content of a blob the bundle left out but `files/` does
/// not hold (its file changed or went after the version was taken).
pub(super) const HISTORY_BLOBS: &str = "history-blobs";

/// Appends each blob of `oids`, read from the history, as `history-blobs/<id>`.
pub(super) fn append_history_blobs<W: std::io::Write>(
    builder: &mut tar::Builder<W>,
    repo: &Repository,
    oids: &[Oid],
    top: &Path,
    meta: &super::ArchiveMetadata,
    io: &dyn Fn(std::io::Error) -> Error,
) -> Result<()> {
    let odb = repo.odb()?;
    let mut oids = oids.to_vec();
    oids.sort();
    oids.dedup();
    for oid in &oids {
        let blob = odb.read(*oid)?;
        let mut h = super::plain_header(blob.data().len() as u64, 0o644, meta.archived_at);
        builder
            .append_data(
                &mut h,
                top.join(HISTORY_BLOBS).join(oid.to_string()),
                blob.data(),
            )
            .map_err(io)?;
    }
    Ok(())
}

/// Puts the latest version's blobs that the bundle left out back into the history at
/// `repo_path`, read from the unpacked archive at `top` (`files/`, or `history-blobs/` for a
/// file that changed while it was archived). Returns what it learnt of the version's files:
/// the blobs that are not chunk pointers (all of them, in an archive Kura wrote), and the stat
/// data of each file of `files/` it read and found to hold its blob. Refuses (as damaged) an
/// archive whose `files/` lacks one, holds other content, or reaches it through a symbolic
/// link.
pub(super) fn complete_history(
    repo_path: &Path,
    head: Oid,
    top: &Path,
    storage: &crate::config::StorageConfig,
    job: &Job,
) -> Result<KnownFiles> {
    // Git's layer holds files under the large-file threshold; an older setting may have been
    // higher, so the bound on what is read whole is generous.
    let largest = storage.large_file_threshold.0.max(256 << 20);
    let level = storage.history_compression_level;
    let repo = history::open(repo_path)?;
    let odb = repo.odb()?;
    let mut seen = HashSet::new();
    let missing: Vec<history::TreeFile> = history::files_of(&repo, head)?
        .into_iter()
        .filter(|f| regular(f.mode) && !odb.exists(f.oid) && seen.insert(f.oid))
        .collect();
    let mut known = KnownFiles::default();
    if missing.is_empty() {
        return Ok(known);
    }
    let total = missing.len() as u64;
    job.files("history", 0, Some(total));
    let files_dir = top.join("files");
    let apart_dir = top.join(HISTORY_BLOBS);
    let mut folders = RealFolders::new(&files_dir);
    let mut pack = kura_gitpack::PackWriter::create(&repo_path.join("objects/pack"))
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot complete the history: {e}")))?;
    let mut batch: Vec<(&history::TreeFile, PathBuf, bool)> = Vec::new();
    let mut batch_bytes = 0u64;
    let mut done = 0u64;
    let mut flush = |batch: &mut Vec<(&history::TreeFile, PathBuf, bool)>| -> Result<()> {
        job.check()?;
        // Runs of files in path order, each on one thread: a blob like the one stored whole
        // before it goes in as a delta against it, as a snapshot stores them. Every blob is new
        // to the history and they are appended in order, so a delta's base is always in the
        // pack before it: its content need not be kept.
        let encoded: Vec<Vec<Result<PutBack>>> = batch
            .par_chunks(DELTA_RUN_FILES)
            .map(|run| {
                let mut deltas = DeltaRun::default();
                run.iter()
                    .map(|(f, path, apart)| {
                        encode_carried(f, path, *apart, largest, level, &mut deltas)
                    })
                    .collect()
            })
            .collect();
        for (encoded, (f, _, apart)) in encoded.into_iter().flatten().zip(batch.iter()) {
            let PutBack {
                blob,
                pointer,
                stat,
            } = encoded?;
            deltas::add_blob(&mut pack, &blob, level)?;
            if !pointer {
                known.not_pointers.insert(f.oid);
                if !apart {
                    known.stats.insert(f.path.clone(), stat);
                }
            }
        }
        done += batch.len() as u64;
        job.files("history", done, Some(total));
        batch.clear();
        Ok(())
    };
    for f in &missing {
        // A file that changed while it was archived: the version's content is kept apart.
        let apart = apart_dir.join(f.oid.to_string());
        let is_apart = std::fs::symlink_metadata(&apart).is_ok_and(|m| m.is_file());
        let path = if is_apart {
            apart
        } else {
            folders.file(&f.path)?
        };
        let size = std::fs::symlink_metadata(&path)
            .map(|m| m.len())
            .unwrap_or(0);
        if batch_bytes + size > BATCH_BYTES && !batch.is_empty() {
            flush(&mut batch)?;
            batch_bytes = 0;
        }
        batch_bytes += size;
        batch.push((f, path, is_apart));
    }
    flush(&mut batch)?;
    pack.finish()
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot complete the history: {e}")))?;
    Ok(known)
}

/// A blob put back from the archive.
struct PutBack {
    blob: Blob,
    /// Whether it is a chunk pointer.
    pointer: bool,
    /// The size and stat data of the file it was read from, as it was read.
    stat: (u64, crate::files::Stat),
}

/// The blob of `f`, read from `path` (in `history-blobs/` when `apart`) and checked against its
/// id; a delta against the run's base when it is alike.
fn encode_carried(
    f: &history::TreeFile,
    path: &Path,
    apart: bool,
    largest: u64,
    level: u32,
    run: &mut DeltaRun,
) -> Result<PutBack> {
    // What the archive calls it: files/<path>, or history-blobs/<id>.
    let shown = if apart {
        format!("{HISTORY_BLOBS}/{}", f.oid)
    } else {
        format!("files/{}", f.path)
    };
    let damaged = |why: &str| {
        Error::corrupt(format!(
            "the archive is damaged: its {shown} {why}, and its history bundle leaves that content to it"
        ))
    };
    let (file, md) = regular::open_regular(path).map_err(|e| {
        damaged(if regular::is_not_regular(&e) {
            "is not a file"
        } else {
            "cannot be read"
        })
    })?;
    if md.len() > largest {
        return Err(damaged("is larger than any file the history keeps in git"));
    }
    let stat = (md.len(), crate::files::Stat::of(&md));
    let mut data = Vec::with_capacity(md.len() as usize);
    file.take(largest + 1)
        .read_to_end(&mut data)
        .map_err(|e| Error::io("read", path, e))?;
    let pointer = Pointer::is_pointer(&data);
    let blob = run
        .encode(data, level, deltas::kind_of(&f.path))
        .base_is_ahead();
    if blob.oid() != f.oid.as_bytes() {
        return Err(damaged("does not hold the latest version's content"));
    }
    Ok(PutBack {
        blob,
        pointer,
        stat,
    })
}

/// Paths under a folder whose every parent is a real folder (no symbolic link), each folder
/// checked once.
struct RealFolders<'a> {
    root: &'a Path,
    checked: HashSet<PathBuf>,
}

impl<'a> RealFolders<'a> {
    fn new(root: &'a Path) -> RealFolders<'a> {
        RealFolders {
            root,
            checked: HashSet::new(),
        }
    }

    /// `root/rel`, its parents checked to be real folders.
    fn file(&mut self, rel: &str) -> Result<PathBuf> {
        let refused = || {
            Error::new(
                ErrorKind::PathEscape,
                format!(
                    "the archive's files/{rel} is reached through a symbolic link or is not a plain path; the archive is refused and nothing was kept"
                ),
            )
        };
        let mut cur = self.root.to_path_buf();
        let parts: Vec<&str> = rel.split('/').collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == "..")
        {
            return Err(refused());
        }
        for part in &parts[..parts.len() - 1] {
            cur.push(part);
            if self.checked.contains(&cur) {
                continue;
            }
            match std::fs::symlink_metadata(&cur) {
                Ok(md) if md.is_dir() => {
                    self.checked.insert(cur.clone());
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(Error::corrupt(format!(
                        "the archive is damaged: its files/{rel} is missing, and its history bundle leaves that content to it"
                    )))
                }
                _ => return Err(refused()),
            }
        }
        cur.push(parts[parts.len() - 1]);
        Ok(cur)
    }
}
