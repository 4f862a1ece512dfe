//! The working folder as it goes into an archive: every entry listed, in archive order, and a
//! name no unpack could write back refused before anything is written.
//!
//! Folders are listed in parallel (each one's subfolders on the thread pool), then put together
//! in the order a depth-first walk sorted by name gives: a folder, then what it holds.

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, ErrorKind, Result};

/// A file or folder of the working folder, in archive order.
pub(super) struct FolderEntry {
    pub(super) rel: PathBuf,
    pub(super) md: fs::Metadata,
}

/// The working folder being listed ([`folder_entries`]) on a thread of its own.
pub(super) struct Listing(std::thread::JoinHandle<Result<Vec<FolderEntry>>>);

impl Listing {
    /// Starts listing the folder `root`.
    pub(super) fn start(root: PathBuf) -> Listing {
        Listing(std::thread::spawn(move || folder_entries(&root)))
    }

    /// Its entries, once listed.
    pub(super) fn entries(self) -> Result<Vec<FolderEntry>> {
        self.0
            .join()
            .unwrap_or_else(|_| Err(Error::internal("listing the folder failed")))
    }
}

/// Everything in the working folder (hidden, ignored and `.git` included), folders before
/// their contents, each folder's entries by name (bytes). Fifos, sockets and devices carry no
/// data and are left out. The first problem in that order is the one told.
pub(super) fn folder_entries(root: &Path) -> Result<Vec<FolderEntry>> {
    entries_under(root, Path::new(""))
}

/// The entries under the folder `rel` of `root`, in archive order.
fn entries_under(root: &Path, rel: &Path) -> Result<Vec<FolderEntry>> {
    let dir = root.join(rel);
    let cannot_read = |e: std::io::Error| {
        Error::new(
            ErrorKind::Io,
            format!("cannot read {}: {e}; nothing was archived", dir.display()),
        )
    };
    let mut listed: Vec<(OsString, fs::DirEntry)> = fs::read_dir(&dir)
        .map_err(cannot_read)?
        .map(|e| e.map(|e| (e.file_name(), e)))
        .collect::<std::io::Result<_>>()
        .map_err(cannot_read)?;
    listed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    // Each entry, or what is wrong with it; a problem is told only when the entries before
    // it (and what they hold) had none. Each is looked at by name in the folder held open
    // (`fstatat`), not by its whole path walked again.
    let entries: Vec<Result<Option<FolderEntry>>> = listed
        .par_iter()
        .map(|(name, e)| entry(root, &rel.join(name), || e.metadata()))
        .collect();
    // The folder is closed before its subfolders are listed.
    drop(listed);
    let held: Vec<Result<Vec<FolderEntry>>> = entries
        .par_iter()
        .map(|e| match e {
            Ok(Some(e)) if e.md.is_dir() => entries_under(root, &e.rel),
            _ => Ok(Vec::new()),
        })
        .collect();
    let mut out = Vec::with_capacity(entries.len());
    for (e, held) in entries.into_iter().zip(held) {
        if let Some(e) = e? {
            out.push(e);
            out.extend(held?);
        }
    }
    Ok(out)
}

/// The entry at `rel` in `root`, whose metadata (not following a link) `stat` gives; `None`
/// for what carries no data; refused when unpacking could not write its name back.
fn entry(
    root: &Path,
    rel: &Path,
    stat: impl FnOnce() -> std::io::Result<fs::Metadata>,
) -> Result<Option<FolderEntry>> {
    let md = stat().map_err(|err| {
        Error::new(
            ErrorKind::Io,
            format!("cannot read {}: {err}", root.join(rel).display()),
        )
    })?;
    let ft = md.file_type();
    if !(ft.is_file() || ft.is_dir() || ft.is_symlink()) {
        return Ok(None);
    }
    let name = rel.file_name().unwrap_or_default();
    if let Err(problem) = crate::fs::names::check_archived_name(name.as_bytes()) {
        return Err(Error::new(
            problem.kind(),
            format!(
                "'{}' in {} cannot be archived: {}; rename or remove it and archive again (nothing was archived)",
                rel.display(),
                root.display(),
                problem.reason()
            ),
        ));
    }
    Ok(Some(FolderEntry {
        rel: rel.to_path_buf(),
        md,
    }))
}
