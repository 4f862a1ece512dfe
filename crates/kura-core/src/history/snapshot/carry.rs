//! What the new version takes from the previous one: the content of files that could not be
//! read, and the last version of files that did not change; and what changed between the two.

use rustc_hash::{FxHashMap, FxHashSet};

use super::{Draft, Entry};
use crate::history::ChangeCounts;
use crate::model::CachedFile;

/// What changed since the previous version.
pub(super) struct Changes<'p> {
    pub counts: ChangeCounts,
    /// The paths of the previous version that are gone.
    pub removed: Vec<&'p str>,
}

/// Files that could not be read, and every file of the previous version under a folder
/// that could not be read, keep their previous content: nothing is lost. A name that breaks
/// the rule (taken in by an older Kura) is not carried on: no restore would write it back.
pub(super) fn carry_unreadable(previous: &FxHashMap<&str, &CachedFile>, draft: &mut Draft) {
    let present: FxHashSet<&str> = draft.entries.iter().map(|e| e.path.as_str()).collect();
    let unread: FxHashSet<&str> = draft
        .skipped
        .iter()
        .map(|s| s.path.as_str())
        .filter(|p| !p.is_empty())
        .collect();
    let mut carried = Vec::new();
    if !unread.is_empty() {
        for (&path, c) in previous.iter() {
            let is_unread = unread.contains(path)
                || path
                    .match_indices('/')
                    .any(|(i, _)| unread.contains(&path[..i]));
            if !is_unread
                || present.contains(path)
                || crate::fs::names::check_stored(path).is_err()
                // A link is skipped only when it leads out of the project: not kept either.
                || (c.mode == 0o120000 && unread.contains(path))
            {
                continue;
            }
            carried.push(Entry {
                path: path.to_string(),
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
    draft.entries.extend(carried);
}

/// Gives the entries whose content did not change their last version, and counts what was
/// added, modified and removed.
pub(super) fn compare<'p>(
    previous: &FxHashMap<&'p str, &'p CachedFile>,
    entries: &mut [Entry],
) -> Changes<'p> {
    // Entries whose content did not change keep their last_version.
    for e in entries.iter_mut().filter(|e| e.last_version.is_none()) {
        if let Some(c) = previous.get(e.path.as_str()) {
            if c.mode == e.mode && c.oid == e.oid {
                e.last_version = Some(c.last_version);
            }
        }
    }
    let mut changes = ChangeCounts::default();
    let new_paths: FxHashSet<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    for e in entries.iter() {
        match previous.get(e.path.as_str()) {
            None => changes.added += 1,
            Some(c) if c.mode != e.mode || c.oid != e.oid => changes.modified += 1,
            Some(_) => {}
        }
    }
    let removed: Vec<&str> = previous
        .keys()
        .copied()
        .filter(|k| !new_paths.contains(k))
        .collect();
    changes.removed = removed.len() as u64;
    Changes {
        counts: changes,
        removed,
    }
}
