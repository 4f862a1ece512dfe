//! What can go wrong with records, in words a person or an agent can act on.

/// The kind of failure; the engine maps it onto its own kinds (and the doors onto status codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// No record (or collection) under that name.
    NotFound,
    /// A malformed request: a bad collection name, key, field path, filter or value.
    InvalidInput,
    /// A compare-and-set failed: the record's revision is not the one the writer expected.
    Conflict,
    /// A record or a batch is larger than allowed.
    TooLarge,
    /// The disk holding the vault is full.
    DiskFull,
    /// The records database is damaged.
    Corrupt,
    /// Another process holds the database for too long.
    Busy,
    /// Anything else about reading or writing the database.
    Io,
}

/// A failure, with a message that says what happened and what to do.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidInput, message)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Error {
        if let rusqlite::Error::SqliteFailure(e, _) = &err {
            match e.code {
                rusqlite::ErrorCode::DiskFull => {
                    return Error::new(
                        ErrorKind::DiskFull,
                        "the disk is full: records cannot be written; free some space and try again",
                    )
                }
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                    return Error::new(
                        ErrorKind::Busy,
                        "the records database is busy in another Kura process; try again in a moment",
                    )
                }
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase => {
                    return Error::new(
                        ErrorKind::Corrupt,
                        format!("the records database is damaged: {err}"),
                    )
                }
                _ => {}
            }
        }
        Error::new(ErrorKind::Io, format!("records database: {err}"))
    }
}
