//! Crash-safe file writes: temp file in the same folder, fsync, rename, fsync the folder. The
//! steps themselves are `kura_durable`'s (one storage seam for every crate, with fault injection
//! for tests); this module turns its failures into the engine's [`Error`].

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// A failed durable step as the engine's error: `disk_full` when the disk is full, else `io`.
pub(crate) fn failed(f: kura_durable::Failure) -> Error {
    Error::io(f.action, &f.path, f.source)
}

/// Writes `data` to `path` atomically and durably.
pub(crate) fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    kura_durable::write_file(path, data).map_err(failed)
}

/// Streams `reader` into `path` atomically and durably; returns the number of bytes written.
pub(crate) fn write_from(path: &Path, reader: &mut dyn Read) -> Result<u64> {
    kura_durable::write_from(path, reader).map_err(failed)
}

/// Creates a temp file beside `path`, lets `fill` write it, then fsyncs and renames it into place.
/// On any error the temp file is removed and `path` is untouched.
pub(crate) fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<&File>) -> std::io::Result<()>,
) -> Result<()> {
    if path.parent().is_none() {
        return Err(Error::invalid(format!(
            "{} has no parent folder",
            path.display()
        )));
    }
    kura_durable::write_with(path, fill).map_err(failed)
}

/// Fsyncs a folder so that renames and new entries in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    kura_durable::sync_dir(dir).map_err(failed)
}

/// Fsyncs a file's content and metadata.
pub(crate) fn sync_file(file: &File, path: &Path) -> Result<()> {
    kura_durable::sync_file(file, path).map_err(failed)
}

/// Removes a file and syncs its folder, so the removal survives a crash.
pub(crate) fn remove_file(path: &Path) -> Result<()> {
    std::fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
    match path.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

/// Renames `from` to `to` and fsyncs the folders involved.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<()> {
    kura_durable::rename(from, to).map_err(failed)
}

/// Creates `dir` and any missing parents, fsyncing each new one's parent.
pub(crate) fn create_dir_all(dir: &Path) -> Result<()> {
    kura_durable::create_dir_all(dir).map_err(failed)
}

/// Makes `dest` ready to be filled: it must not exist (it is created) or be an empty folder.
/// Returns whether it was created, for [`empty_out`]. `verb` names the operation in the error.
pub(crate) fn claim_empty_dir(dest: &Path, verb: &str) -> Result<bool> {
    match fs::read_dir(dest) {
        Ok(mut rd) => {
            if rd.next().is_some() {
                return Err(Error::conflict(format!(
                    "{} is not empty; {verb} into a new or empty folder",
                    dest.display()
                )));
            }
            Ok(false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dest).map_err(|e| Error::io("create folder", dest, e))?;
            Ok(true)
        }
        Err(e) => Err(Error::io("open", dest, e)),
    }
}

/// Undoes a failed fill of a folder claimed by [`claim_empty_dir`]: removes it if it was
/// created, else everything put in it.
pub(crate) fn empty_out(dest: &Path, created: bool) {
    if created {
        let _ = fs::remove_dir_all(dest);
    } else if let Ok(rd) = fs::read_dir(dest) {
        for entry in rd.flatten() {
            let _ = fs::remove_dir_all(entry.path()).or_else(|_| fs::remove_file(entry.path()));
        }
    }
}

/// An exclusive or shared advisory lock on a file, released on drop (also by the OS when the
/// process ends). Locks of two opens of one file conflict even within one process.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes the lock, waiting for other holders.
    pub fn acquire(path: &Path, exclusive: bool) -> Result<FileLock> {
        let file = open_lock_file(path)?;
        let res = if exclusive {
            file.lock()
        } else {
            file.lock_shared()
        };
        res.map_err(|e| Error::io("lock", path, e))?;
        Ok(FileLock { _file: file })
    }

    /// Takes the lock if nobody else holds it; `None` when it is held elsewhere.
    pub fn try_acquire(path: &Path, exclusive: bool) -> Result<Option<FileLock>> {
        let file = open_lock_file(path)?;
        let res = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match res {
            Ok(()) => Ok(Some(FileLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(Error::io("lock", path, e)),
        }
    }
}

fn open_lock_file(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    }
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open lock file", path, e))
}
