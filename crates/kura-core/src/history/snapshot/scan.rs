//! The scan: list the project's folder while the files cache (what the previous version held, with
//! the stat data it was read with) loads from the catalog, or is rebuilt from the history.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use super::Context;
use crate::catalog::{filelist, projects};
use crate::error::{Error, ErrorKind, Result};
use crate::files::{self, Scan};
use crate::history;
use crate::history::pointer::Pointer;
use crate::model::{CachedFile, Layer};
use crate::vault::Vault;

/// What the scan found in the folder, and what the previous version held.
pub(super) struct Scanned {
    pub scan: Scan,
    pub previous: Previous,
}

/// The previous version's files, in path order (by bytes, as the scan's).
pub(super) struct Previous {
    pub files: Vec<(String, CachedFile)>,
    /// Whether the files cache matched the history's head; when not, it was rebuilt from the
    /// history and is written anew.
    pub cache_valid: bool,
}

/// Scans the folder while the files cache loads.
pub(super) fn scan_folder(ctx: &Context<'_>) -> Result<Scanned> {
    let p = ctx.project;
    let (root, config) = (ctx.root, ctx.config);
    let mut cache_valid = ctx.head.map(|h| h.to_string()) == p.head;
    let load =
        || cache_valid.then(|| crate::catalog::filelist::load_sorted(&ctx.vault.db(), &p.id));
    // A small project (by its last version) is walked on this thread, and its cache loaded
    // after: a thread costs more than either.
    let walk = files::Walk::for_files(ctx.head.map(|_| p.file_count));
    let (scan, loaded) = if walk == files::Walk::Here {
        (files::scan(root, config, walk), load())
    } else {
        std::thread::scope(|s| {
            let scanning = s.spawn(|| files::scan(root, config, walk));
            let loaded = load();
            let scan = scanning
                .join()
                .unwrap_or_else(|_| Err(Error::internal("the folder scan panicked")));
            (scan, loaded)
        })
    };
    let scan = scan?;
    tracing::debug!(files = scan.files.len(), elapsed = ?ctx.started.elapsed(), "scanned");
    ctx.job.check()?;
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
    } else if let Some(h) = ctx.head {
        cache_from_history(ctx.repo()?, h, &KnownFiles::default())?
    } else {
        Vec::new()
    };
    tracing::debug!(cached = cache.len(), elapsed = ?ctx.started.elapsed(), "loaded the files cache");
    Ok(Scanned {
        scan,
        previous: Previous {
            files: cache,
            cache_valid,
        },
    })
}

/// What is known of the files of a version whose history was just put back (an unarchive),
/// beyond what the history says.
#[derive(Default)]
pub(crate) struct KnownFiles {
    /// Files read where they now are and checked against their blobs, by path: their size and
    /// the stat data they were read with.
    pub stats: HashMap<String, (u64, files::Stat)>,
    /// Blobs known not to be chunk pointers: their size is read from the history's index of
    /// objects, not by reading them.
    pub not_pointers: HashSet<git2::Oid>,
}

/// The files of the version `head` as a files cache, in path order. A file `known` has stat
/// data of (read and checked against its blob where it is now) is cached with it, so that the
/// next snapshot need not read it; every other file with stat data that matches no file, so
/// that it is read again.
fn cache_from_history(
    repo: &git2::Repository,
    h: git2::Oid,
    known: &KnownFiles,
) -> Result<Vec<(String, CachedFile)>> {
    let head_id = history::id_bytes(h);
    let odb = repo.odb()?;
    let mut m = Vec::new();
    for t in history::files_of(repo, h)? {
        let (layer, size) = if known.not_pointers.contains(&t.oid) {
            (Layer::Git, odb.read_header(t.oid)?.0 as u64)
        } else {
            let blob = repo.find_blob(t.oid)?;
            if Pointer::is_pointer(blob.content()) {
                (Layer::Chunks, Pointer::decode(blob.content())?.size)
            } else {
                (Layer::Git, blob.size() as u64)
            }
        };
        let stat = match known.stats.get(&t.path) {
            Some((read, stat)) if layer == Layer::Git && *read == size => *stat,
            _ => files::Stat {
                mtime_ns: -1,
                ctime_ns: -1,
                inode: 0,
            },
        };
        let mut oid = [0u8; 20];
        oid.copy_from_slice(t.oid.as_bytes());
        m.push((
            t.path,
            CachedFile {
                size,
                mtime_ns: stat.mtime_ns,
                ctime_ns: stat.ctime_ns,
                inode: stat.inode,
                mode: t.mode,
                layer,
                oid,
                last_version: head_id,
            },
        ));
    }
    m.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(m)
}

impl Vault {
    /// Gives project `id`'s catalog row its history's head, with the files cache, sizes and
    /// stored bytes of that version, from the history and what is `known` of its files: after
    /// an unarchive, the next snapshot then reads only what `known` does not vouch for.
    pub(crate) fn seed_files_cache(&self, id: &str, known: &KnownFiles) -> Result<()> {
        let repo = history::open(&self.history_path(id))?;
        let Some(head) = history::head(&repo)? else {
            return Ok(());
        };
        let cache = cache_from_history(&repo, head, known)?;
        let list: Vec<(&str, CachedFile)> = cache.iter().map(|(p, c)| (p.as_str(), *c)).collect();
        let size = cache.iter().map(|(_, c)| c.size).sum();
        let mut db = self.db();
        let tx = db.transaction()?;
        filelist::store(&tx, id, &list)?;
        projects::set_head(&tx, id, &head.to_string(), size, cache.len() as u64)?;
        tx.commit()?;
        drop(db);
        self.record_history_bytes(id)
    }
}

/// A walk along the previous version's files, in path order, beside a list of paths in the same
/// order (each path once).
pub(super) struct Walk<'p> {
    files: std::iter::Peekable<std::slice::Iter<'p, (String, CachedFile)>>,
}

impl<'p> Walk<'p> {
    pub fn new(previous: &'p [(String, CachedFile)]) -> Walk<'p> {
        Walk {
            files: previous.iter().peekable(),
        }
    }

    /// What the previous version held at `path` (the walk's next path), giving `passed` each
    /// of its paths before it, which the list does not have. One comparison a step: paths share
    /// long prefixes, and comparing them is most of the walk.
    pub fn seek(&mut self, path: &str, mut passed: impl FnMut(&'p str)) -> Option<&'p CachedFile> {
        loop {
            let (held, c) = self.files.peek().copied()?;
            match held.as_bytes().cmp(path.as_bytes()) {
                Ordering::Less => passed(held),
                Ordering::Equal => {
                    self.files.next();
                    return Some(c);
                }
                Ordering::Greater => return None,
            }
            self.files.next();
        }
    }

    /// The paths after the last one sought.
    pub fn rest(self) -> impl Iterator<Item = &'p str> {
        self.files.map(|(path, _)| path.as_str())
    }
}
