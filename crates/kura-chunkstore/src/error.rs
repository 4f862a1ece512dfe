//! The one error type of the chunk store.

use std::io;
use std::path::{Path, PathBuf};

/// What went wrong in a chunk store operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder of the store could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Reading the content given to [`ChunkWriter::store`](crate::ChunkWriter::store) failed.
    #[error("reading the file to store failed: {0}")]
    Input(#[source] io::Error),
    /// Writing restored content to the caller's output failed.
    #[error("writing the restored file failed: {0}")]
    Output(#[source] io::Error),
    /// Stored data does not match what the index or its own checksums say.
    #[error("{what}; run a verify and restore the damaged data from a backup")]
    Corrupt {
        /// What is damaged: names the chunk id and the pack where known.
        what: String,
    },
    /// A chunk a recipe refers to is not in the index (hex chunk id).
    #[error("chunk {0} is not in the chunk store; run rebuild_index if the index was lost")]
    NotFound(String),
    /// The caller's cancel flag was set.
    #[error("cancelled")]
    Cancelled,
    /// The SQLite index failed.
    #[error("chunk index database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The [`ChunkStoreOptions`](crate::ChunkStoreOptions) are out of range.
    #[error("invalid chunk store options: {0}")]
    InvalidOptions(String),
    /// The index was written by a newer version of Kura.
    #[error("index.db has schema version {found}, newer than the {supported} this Kura understands; update Kura")]
    UnsupportedSchema {
        /// Version found in the file.
        found: i64,
        /// Newest version this code reads.
        supported: i64,
    },
    /// A bug or resource failure inside the store (compressor setup, worker thread).
    #[error("internal chunk store error: {0}")]
    Internal(String),
}

impl Error {
    /// True when the failure is "no space left on device" (on the store's disk or its index), so
    /// callers can say "disk full" instead of a generic I/O error.
    pub fn is_disk_full(&self) -> bool {
        match self {
            Error::Io { source, .. } | Error::Input(source) | Error::Output(source) => {
                io_is_disk_full(source)
            }
            Error::Db(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            _ => false,
        }
    }
}

fn io_is_disk_full(err: &io::Error) -> bool {
    #[cfg(unix)]
    if err.raw_os_error() == Some(libc::ENOSPC) {
        return true;
    }
    err.kind() == io::ErrorKind::StorageFull
}

/// Maps an I/O error to [`Error::Io`] naming `path`.
pub(crate) fn io_at(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
