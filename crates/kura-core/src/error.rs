//! The one error type of the engine's public API.
//!
//! Every error carries a [`ErrorKind`] that callers act on (the CLI maps it to an exit code, the
//! REST API and the desktop shell send it as `code`), and a message written for a person: what
//! happened, to what, and what to do.

use std::fmt;
use std::path::Path;

/// What went wrong, in terms a caller can act on: the stable machine-readable code every door
/// (the CLI, the desktop app, HTTP, MCP) gives with an error.
// The doors' clients know it as `ErrorCode` (kura_api re-exports it under that name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema), schema(as = ErrorCode))]
#[serde(rename = "ErrorCode", rename_all = "snake_case")]
pub enum ErrorKind {
    /// A workspace, project, version or file does not exist.
    NotFound,
    /// The request itself is malformed: a bad name, a bad version reference, a bad setting.
    InvalidInput,
    /// Something with that name already exists.
    AlreadyExists,
    /// The request contradicts the current state (e.g. deleting a workspace that holds projects).
    Conflict,
    /// A path would leave the folder it must stay in (`..`, absolute, through a symlink).
    PathEscape,
    /// A size limit would be exceeded.
    QuotaExceeded,
    /// The disk holding the vault (or a destination) is full.
    DiskFull,
    /// Stored data failed an integrity check.
    Corrupt,
    /// Another process holds a lock the operation needs, or a resource is temporarily unavailable.
    Busy,
    /// The operation was cancelled by the caller.
    Cancelled,
    /// A file could not be read or written for another reason (permissions, I/O error).
    Io,
    /// A bug or an unexpected state inside the engine.
    Internal,
    /// A backup target cannot be reached right now (its drive is not connected, its server does
    /// not answer): wait and try again later; this is not a failure of the data.
    Unavailable,
    /// The passphrase given for an encrypted backup target does not open it.
    WrongPassphrase,
}

impl ErrorKind {
    /// The stable machine-readable code (`not_found`, `path_escape`, ...).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PathEscape => "path_escape",
            ErrorKind::QuotaExceeded => "quota_exceeded",
            ErrorKind::DiskFull => "disk_full",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Busy => "busy",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Io => "io",
            ErrorKind::Internal => "internal",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::WrongPassphrase => "wrong_passphrase",
        }
    }

    /// True for failures that may go away by themselves (a retry can succeed).
    pub fn is_temporary(self) -> bool {
        matches!(
            self,
            ErrorKind::Busy | ErrorKind::DiskFull | ErrorKind::Unavailable
        )
    }
}

/// The engine's error: a kind and a message for people.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    field: Option<&'static str>,
}

/// Shorthand for results of engine operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Builds an error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            field: None,
        }
    }

    /// The same error, about the input field `field` (`name`, `tags`, `schedule`, ...): forms
    /// put the message next to that field instead of reading the message.
    pub fn with_field(mut self, field: &'static str) -> Error {
        self.field = Some(field);
        self
    }

    /// The input field this error is about, when it is about one.
    pub fn field(&self) -> Option<&'static str> {
        self.field
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::NotFound, message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidInput, message)
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Conflict, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }

    pub(crate) fn corrupt(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Corrupt, message)
    }

    pub(crate) fn cancelled() -> Error {
        Error::new(ErrorKind::Cancelled, "the operation was cancelled")
    }

    /// An I/O error while trying to `action` (a verb: "read", "write") `path`, classified like the
    /// engine's own (disk full, not found, other I/O).
    pub fn from_io(action: &str, path: &Path, err: std::io::Error) -> Error {
        Error::io(action, path, err)
    }

    /// An I/O error on `path`, classified (disk full, permission denied, not found).
    pub(crate) fn io(action: &str, path: &Path, err: std::io::Error) -> Error {
        let kind = if is_disk_full(&err) {
            return Error::new(
                ErrorKind::DiskFull,
                format!(
                    "the disk is full while trying to {action} {}; free some space and try again",
                    path.display()
                ),
            );
        } else if err.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Io
        };
        Error::new(kind, format!("cannot {action} {}: {err}", path.display()))
    }
}

/// True when an I/O error means "no space left on device" (or "quota exceeded" of the OS).
pub(crate) fn is_disk_full(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || err.raw_os_error() == Some(libc::ENOSPC)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Error {
        if let rusqlite::Error::SqliteFailure(e, _) = &err {
            match e.code {
                rusqlite::ErrorCode::DiskFull => {
                    return Error::new(
                        ErrorKind::DiskFull,
                        "the disk is full: the catalog cannot be written; free some space and try again",
                    )
                }
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                    return Error::new(
                        ErrorKind::Busy,
                        "the catalog is busy in another Kura process; try again in a moment",
                    )
                }
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase => {
                    return Error::corrupt(format!("the catalog is damaged: {err}"))
                }
                _ => {}
            }
        }
        Error::internal(format!("catalog error: {err}"))
    }
}

impl From<git2::Error> for Error {
    fn from(err: git2::Error) -> Error {
        let kind = match err.code() {
            git2::ErrorCode::NotFound => ErrorKind::NotFound,
            git2::ErrorCode::Locked => ErrorKind::Busy,
            _ => match err.class() {
                git2::ErrorClass::Odb | git2::ErrorClass::Zlib | git2::ErrorClass::Object => {
                    ErrorKind::Corrupt
                }
                _ => ErrorKind::Internal,
            },
        };
        Error::new(kind, format!("history error: {}", err.message()))
    }
}

impl From<kura_chunkstore::Error> for Error {
    fn from(err: kura_chunkstore::Error) -> Error {
        use kura_chunkstore::Error as E;
        if err.is_disk_full() {
            return Error::new(
                ErrorKind::DiskFull,
                format!("the disk is full while writing the chunk store ({err}); free some space and try again"),
            );
        }
        let kind = match &err {
            E::Cancelled => ErrorKind::Cancelled,
            E::Corrupt { .. } => ErrorKind::Corrupt,
            E::NotFound(_) => ErrorKind::Corrupt,
            _ => ErrorKind::Io,
        };
        Error::new(kind, format!("chunk store: {err}"))
    }
}

impl From<kura_gitpack::Error> for Error {
    fn from(err: kura_gitpack::Error) -> Error {
        let text = err.to_string();
        if let kura_gitpack::Error::Io { source, .. } = &err {
            if is_disk_full(source) {
                return Error::new(
                    ErrorKind::DiskFull,
                    format!("the disk is full while writing history ({text}); free some space and try again"),
                );
            }
        }
        Error::new(ErrorKind::Io, format!("history pack: {text}"))
    }
}
