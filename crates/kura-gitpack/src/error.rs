//! The crate's error type.

use std::path::PathBuf;

/// What went wrong while writing a pack.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file operation on `path` failed (disk full, permissions, missing pack directory, ...).
    #[error("git pack I/O failed on '{}': {source}", path.display())]
    Io {
        /// The file or directory the operation was about.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A pack can hold at most `u32::MAX` objects; finish this pack and start another one.
    #[error("git pack '{}' is full ({} objects); finish it and start a new pack", path.display(), u32::MAX)]
    TooManyObjects {
        /// The temporary pack file being written.
        path: PathBuf,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
