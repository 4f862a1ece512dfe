//! The scan: list the project's folder while the files cache (what the previous version held, with
//! the stat data it was read with) loads from the catalog, or is rebuilt from the history.

use std::cmp::Ordering;

use super::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::files::{self, Scan};
use crate::history;
use crate::history::pointer::Pointer;
use crate::model::{CachedFile, Layer};

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
    let (scan, loaded) = std::thread::scope(|s| {
        let scanning = s.spawn(|| files::scan(root, config));
        let loaded = if cache_valid {
            Some(crate::catalog::filelist::load_sorted(
                &ctx.vault.db(),
                &p.id,
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
        cache_from_history(ctx.repo, h)?
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

/// The files of the version `head` as a files cache whose stat data matches no file, in path
/// order.
fn cache_from_history(repo: &git2::Repository, h: git2::Oid) -> Result<Vec<(String, CachedFile)>> {
    let head_id = history::id_bytes(h);
    let mut m = Vec::new();
    for t in history::files_of(repo, h)? {
        let blob = repo.find_blob(t.oid)?;
        let (layer, size) = if Pointer::is_pointer(blob.content()) {
            (Layer::Chunks, Pointer::decode(blob.content())?.size)
        } else {
            (Layer::Git, blob.size() as u64)
        };
        let mut oid = [0u8; 20];
        oid.copy_from_slice(t.oid.as_bytes());
        m.push((
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
        ));
    }
    m.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(m)
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
