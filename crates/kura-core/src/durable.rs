//! Crash-safe file writes: temp file in the same folder, fsync, rename, fsync the folder.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Size of the buffer used to stream file contents.
pub(crate) const COPY_BUFFER: usize = 1 << 20;

/// Writes `data` to `path` atomically and durably.
pub(crate) fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    write_with(path, |f| f.write_all(data))
}

/// Streams `reader` into `path` atomically and durably; returns the number of bytes written.
pub(crate) fn write_from(path: &Path, reader: &mut dyn Read) -> Result<u64> {
    let mut written = 0;
    write_with(path, |f| {
        written = std::io::copy(reader, f)?;
        Ok(())
    })?;
    Ok(written)
}

/// Creates a temp file beside `path`, lets `fill` write it, then fsyncs and renames it into place.
/// On any error the temp file is removed and `path` is untouched.
pub(crate) fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<&File>) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::invalid(format!("{} has no parent folder", path.display())))?;
    fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".kura-tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, e))?;
    {
        let file = tmp.as_file();
        let mut w = std::io::BufWriter::with_capacity(COPY_BUFFER, file);
        fill(&mut w).map_err(|e| Error::io("write", path, e))?;
        w.flush().map_err(|e| Error::io("write", path, e))?;
        drop(w);
        file.sync_all().map_err(|e| Error::io("sync", path, e))?;
    }
    tmp.persist(path)
        .map_err(|e| Error::io("replace", path, e.error))?;
    sync_dir(dir)
}

/// Fsyncs a folder so that renames and new entries in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let f = File::open(dir).map_err(|e| Error::io("open folder", dir, e))?;
    f.sync_all().map_err(|e| Error::io("sync folder", dir, e))
}

/// Creates `dir` and any missing parents, fsyncing each new one's parent.
pub(crate) fn create_dir_all(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut missing: Vec<PathBuf> = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    for d in missing.iter().rev() {
        if let Some(parent) = d.parent() {
            sync_dir(parent)?;
        }
    }
    Ok(())
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

/// An exclusive or shared advisory lock on a file, released on drop.
#[derive(Debug)]
pub(crate) struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes the lock, waiting for other holders.
    pub(crate) fn acquire(path: &Path, exclusive: bool) -> Result<FileLock> {
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
    pub(crate) fn try_acquire(path: &Path, exclusive: bool) -> Result<Option<FileLock>> {
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
