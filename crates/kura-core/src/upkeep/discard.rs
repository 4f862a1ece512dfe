//! Trees the vault no longer needs (the folder and history of a project just archived or
//! deleted for good) are moved aside in one rename and removed later, in the background.
//!
//! Unlinking tens of thousands of files can take longer than writing the archive that replaced
//! them (8.5 s for the 52,000 files of the Rust docs on a disk with online discard), and nobody
//! has to wait for it: the catalog stops naming a tree before it is moved aside, and a removal
//! cut short (a crash, a kill) is finished by the next purge. `kura` starts a purge in the
//! background after a command that discarded something; the desktop app purges on a thread;
//! `kura gc` purges before it returns.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fs::durable::{self, FileLock};
use crate::vault::Vault;
use crate::vault::VaultReader;

/// The bin under the vault folder.
const BIN: &str = "discard";
/// The bin in a projects folder that is not under the vault folder (a rename cannot cross
/// file systems, so each place has its own).
const OUTSIDE_BIN: &str = ".kura-discard";

impl Vault {
    /// Moves the folder `path` out of the way, to be removed by [`Vault::purge_discarded`]. When
    /// it cannot be moved (another file system, or a place no bin serves), it is removed now.
    pub(crate) fn discard(&self, path: &Path) -> Result<()> {
        let Ok(meta) = fs::symlink_metadata(path) else {
            return Ok(());
        };
        if let Some(bin) = self.bin_for(path) {
            durable::create_dir_all(&bin)?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let aside = bin.join(format!("{name}-{}", crate::archive::new_archive_id()));
            if kura_durable::rename_only(path, &aside).is_ok() {
                durable::sync_dir(path.parent().unwrap_or(self.root()))?;
                return Ok(());
            }
        }
        let removed = if meta.is_dir() {
            fs::remove_dir_all(path)
        } else {
            fs::remove_file(path)
        };
        removed.map_err(|e| Error::io("remove", path, e))
    }
}

impl VaultReader {
    /// True when something waits in a bin.
    pub fn has_discarded(&self) -> bool {
        self.bins().iter().any(|b| {
            fs::read_dir(b)
                .map(|mut rd| rd.next().is_some())
                .unwrap_or(false)
        })
    }
}

impl Vault {
    /// Removes everything waiting in the bins, and the catalog's file rows of archived projects;
    /// returns how many trees went. A purge already at work is waited for (and leaves this one
    /// little to do). Read-only folders (Go's module cache makes them) are made writable first; a
    /// tree that still cannot be removed is left for the next purge, with a warning, rather than
    /// failing the `gc` or cleanup that purges.
    pub fn purge_discarded(&self) -> Result<u64> {
        let _lock = FileLock::acquire(&self.root().join("locks/discard.lock"), true)?;
        let mut removed = 0;
        for bin in self.bins() {
            let Ok(rd) = fs::read_dir(&bin) else {
                continue;
            };
            for entry in rd.flatten() {
                let path = entry.path();
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                let remove = || {
                    if is_dir {
                        fs::remove_dir_all(&path)
                    } else {
                        fs::remove_file(&path)
                    }
                };
                let res = match remove() {
                    Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && is_dir => {
                        make_writable(&path);
                        remove()
                    }
                    other => other,
                };
                match res {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        tracing::warn!(path = %path.display(), "cannot remove a discarded folder yet: {e}")
                    }
                }
            }
        }
        Ok(removed)
    }
}

impl VaultReader {
    /// The bin a rename of `path` can reach: the vault's for what is under the vault folder,
    /// the projects folder's for what is under a projects folder kept elsewhere.
    fn bin_for(&self, path: &Path) -> Option<PathBuf> {
        let projects = self.projects_dir();
        if path.starts_with(self.root()) {
            Some(self.root().join(BIN))
        } else if path.starts_with(&projects) && path != projects {
            Some(projects.join(OUTSIDE_BIN))
        } else {
            None
        }
    }

    fn bins(&self) -> Vec<PathBuf> {
        let mut bins = vec![self.root().join(BIN)];
        let projects = self.projects_dir();
        if !projects.starts_with(self.root()) {
            bins.push(projects.join(OUTSIDE_BIN));
        }
        bins
    }
}

/// Gives the owner write permission on every folder under `root` (and `root`), so that what
/// they hold can be unlinked.
fn make_writable(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.file_type().is_dir())
        .flatten()
    {
        if let Ok(meta) = entry.metadata() {
            let mode = meta.permissions().mode();
            if mode & 0o700 != 0o700 {
                let _ = fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode | 0o700));
            }
        }
    }
}
