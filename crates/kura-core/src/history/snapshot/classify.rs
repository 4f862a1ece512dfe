//! Classifying the scan: files the cache knows unchanged become entries of the new version as they
//! are; the rest are to be read.

use std::path::Path;

use super::scan::{Previous, Walk};
use super::tunables::RACY_WINDOW_NS;
use super::{Context, Draft, Entry};
use crate::files::{EntryKind, Scan, ScannedFile};
use crate::model::CachedFile;
use crate::project::detect::{self, Detected};

/// The scan, sorted.
pub(super) struct Classified {
    /// The new version so far: the files known unchanged, and what the scan left out.
    pub draft: Draft,
    /// The files to read.
    pub to_read: Vec<ScannedFile>,
}

/// Sorts the scan into known-unchanged entries and files to read. `cache` is in path order, as
/// the scan is: the two are walked side by side.
pub(super) fn classify(scan: Scan, cache: &[(String, CachedFile)], scan_start: i64) -> Classified {
    let mut entries: Vec<Entry> = Vec::with_capacity(scan.files.len());
    let mut to_read: Vec<ScannedFile> = Vec::new();
    let skipped = scan.skipped;
    let mut cached = Walk::new(cache);
    for f in scan.files {
        let racy = f.mtime_ns >= scan_start - RACY_WINDOW_NS;
        let known = cached.seek(&f.rel, |_| {});
        match known {
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
    Classified {
        draft: Draft {
            entries,
            skipped,
            files_read: 0,
        },
        to_read,
    }
}

impl Classified {
    /// The common case of automatic and scheduled snapshots: every file is as the cache
    /// says and none is gone, so the tree is the head's. Nothing to read, build or write.
    pub(super) fn is_head_as_is(&self, ctx: &Context<'_>, previous: &Previous) -> bool {
        previous.cache_valid
            && ctx.head.is_some()
            && self.to_read.is_empty()
            && self.draft.skipped.is_empty()
            && self.draft.entries.len() == previous.files.len()
    }

    /// Languages and frameworks from the regular files (symlinks are not code).
    pub(super) fn detect(&self, root: &Path) -> Detected {
        detect::detect(
            root,
            self.draft
                .entries
                .iter()
                .filter(|e| e.mode != 0o120000)
                .map(|e| (e.path.as_str(), e.size))
                .chain(
                    self.to_read
                        .iter()
                        .filter(|f| f.kind == EntryKind::File)
                        .map(|f| (f.rel.as_str(), f.size)),
                ),
        )
    }
}
