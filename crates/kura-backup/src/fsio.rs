//! Durable local writes of the backup crate's own files (targets, outbox, restores), through
//! `kura_durable`'s storage seam; its failures become the engine's errors here.

use std::path::Path;

use kura_core::{Error, Result};

fn failed(f: kura_durable::Failure) -> Error {
    Error::from_io(f.action, &f.path, f.source)
}

/// Writes `data` to `path` through a temp file in the same folder, fsynced and renamed, then
/// fsyncs the folder.
pub(crate) fn write_durably(path: &Path, data: &[u8]) -> Result<()> {
    kura_durable::write_file(path, data).map_err(failed)
}

/// Fsyncs a folder so new entries and renames in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    kura_durable::sync_dir(dir).map_err(failed)
}

/// Renames `from` to `to` and fsyncs the folders involved.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<()> {
    kura_durable::rename(from, to).map_err(failed)
}
