//! The working folder as it goes into an archive: every entry listed, in archive order, and a
//! name no unpack could write back refused before anything is written.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// A file or folder of the working folder, in archive order.
pub(super) struct FolderEntry {
    pub(super) rel: PathBuf,
    pub(super) md: fs::Metadata,
}

/// Everything in the working folder (hidden, ignored and `.git` included), folders before
/// their contents. Fifos, sockets and devices carry no data and are left out.
pub(super) fn folder_entries(root: &Path) -> Result<Vec<FolderEntry>> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1)
    {
        let e = e.map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read {}: {e}; nothing was archived", root.display()),
            )
        })?;
        let md = e.metadata().map_err(|err| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read {}: {err}", e.path().display()),
            )
        })?;
        let ft = md.file_type();
        if !(ft.is_file() || ft.is_dir() || ft.is_symlink()) {
            continue;
        }
        let rel = e
            .path()
            .strip_prefix(root)
            .unwrap_or(e.path())
            .to_path_buf();
        // What could not be unpacked again is refused before anything is archived (folders come
        // before their contents, so a folder's name is met first).
        use std::os::unix::ffi::OsStrExt;
        if let Err(problem) = crate::fs::names::check_archived_name(e.file_name().as_bytes()) {
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
        out.push(FolderEntry { rel, md });
    }
    Ok(out)
}
