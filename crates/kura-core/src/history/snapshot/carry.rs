//! What the new version takes from the previous one: the content of files that could not be
//! read, and the last version of files that did not change; and what changed between the two.

use rustc_hash::FxHashSet;

use super::scan::Walk;
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
pub(super) fn carry_unreadable(previous: &[(String, CachedFile)], draft: &mut Draft) {
    let unread: FxHashSet<&str> = draft
        .skipped
        .iter()
        .map(|s| s.path.as_str())
        .filter(|p| !p.is_empty())
        .collect();
    if unread.is_empty() {
        return;
    }
    let present: FxHashSet<&str> = draft.entries.iter().map(|e| e.path.as_str()).collect();
    let mut carried = Vec::new();
    for (path, c) in previous {
        let is_unread = unread.contains(path.as_str())
            || path
                .match_indices('/')
                .any(|(i, _)| unread.contains(&path[..i]));
        if !is_unread
            || present.contains(path.as_str())
            || crate::fs::names::check_stored(path).is_err()
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
    draft.entries.extend(carried);
}

/// Gives the entries whose content did not change their last version, and counts what was
/// added, modified and removed. `previous` and `entries` are in path order (by bytes).
pub(super) fn compare<'p>(
    previous: &'p [(String, CachedFile)],
    entries: &mut [Entry],
) -> Changes<'p> {
    let mut changes = ChangeCounts::default();
    let mut removed: Vec<&str> = Vec::new();
    let mut walk = Walk::new(previous);
    for e in entries.iter_mut() {
        match walk.seek(&e.path, |gone| removed.push(gone)) {
            None => changes.added += 1,
            Some(c) if c.mode != e.mode || c.oid != e.oid => changes.modified += 1,
            // Its content did not change: it keeps its last version.
            Some(c) => {
                e.last_version.get_or_insert(c.last_version);
            }
        }
    }
    removed.extend(walk.rest());
    changes.removed = removed.len() as u64;
    Changes {
        counts: changes,
        removed,
    }
}
