//! Durable local writes of the backup crate's own files (targets, outbox).

use std::io::Write;
use std::path::Path;

use kura_core::{Error, Result};

/// Writes `data` to `path` through a temp file in the same folder, fsynced and renamed, then
/// fsyncs the folder.
pub(crate) fn write_durably(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::from_io("create folder", dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".kura-tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::from_io("create a temporary file in", dir, e))?;
    tmp.write_all(data)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::from_io("write", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::from_io("replace", path, e.error))?;
    sync_dir(dir)
}

/// Fsyncs a folder so new entries and renames in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::from_io("sync folder", dir, e))
}
