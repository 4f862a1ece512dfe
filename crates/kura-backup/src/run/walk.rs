//! Walking a folder into the run's list of items: each folder's entries sorted by name, temp
//! files of interrupted writes and FIFOs, sockets and device files left out.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use kura_core::{Error, ErrorKind, Result};

use super::Item;

/// True for `<id>.git/objects` (the history objects, read after the refs).
pub(super) fn is_objects(rel: &Path) -> bool {
    let parts: Vec<_> = rel.components().collect();
    parts.len() == 2 && parts[1].as_os_str() == "objects"
}

/// True for a temp file of libgit2 ([`kura_core::is_libgit2_temp`]): debris, like Kura's own
/// temp files, and never backed up (a link among a history's files would make the backup one
/// that restore refuses).
pub(super) fn is_git_temp(rel: &Path) -> bool {
    rel.file_name().is_some_and(kura_core::is_libgit2_temp)
}

/// Adds `dir` (as `prefix`) and everything under it that `keep` accepts (by path relative to
/// `dir`) to `items`, each folder's entries sorted by name; temp files of interrupted writes are
/// left out. A `dir` that is a link is followed. Entries are looked up relative to their open
/// folder (`fstatat`), not by full path: on a large tree that is most of the walk's cost.
pub(super) fn walk(
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
    items.push(Item::new(prefix.to_string(), dir.to_path_buf(), &meta));
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
            items.push(Item::new(child_name.clone(), child_abs.clone(), &meta));
            walk_folder(&child_abs, &child_rel, &child_name, items, keep, stop)?;
        } else {
            items.push(Item::new(child_name, child_abs, &meta));
        }
    }
    Ok(())
}
