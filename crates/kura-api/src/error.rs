//! Errors as every door shows them: `{ code, message }`. Doors switch on `code`, never on the
//! message, which is for people.

use kura_core::ErrorKind;
use serde::{Deserialize, Serialize};

/// The stable machine-readable error codes (the engine's [`ErrorKind`], plus what only the doors
/// can say: `unauthorized`, `forbidden`).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotFound,
    InvalidInput,
    AlreadyExists,
    Conflict,
    PathEscape,
    QuotaExceeded,
    DiskFull,
    Corrupt,
    Busy,
    Cancelled,
    Io,
    Internal,
    Unavailable,
    WrongPassphrase,
}

impl From<ErrorKind> for ErrorCode {
    fn from(kind: ErrorKind) -> ErrorCode {
        match kind {
            ErrorKind::NotFound => ErrorCode::NotFound,
            ErrorKind::InvalidInput => ErrorCode::InvalidInput,
            ErrorKind::AlreadyExists => ErrorCode::AlreadyExists,
            ErrorKind::Conflict => ErrorCode::Conflict,
            ErrorKind::PathEscape => ErrorCode::PathEscape,
            ErrorKind::QuotaExceeded => ErrorCode::QuotaExceeded,
            ErrorKind::DiskFull => ErrorCode::DiskFull,
            ErrorKind::Corrupt => ErrorCode::Corrupt,
            ErrorKind::Busy => ErrorCode::Busy,
            ErrorKind::Cancelled => ErrorCode::Cancelled,
            ErrorKind::Io => ErrorCode::Io,
            ErrorKind::Internal => ErrorCode::Internal,
            ErrorKind::Unavailable => ErrorCode::Unavailable,
            ErrorKind::WrongPassphrase => ErrorCode::WrongPassphrase,
        }
    }
}

impl ErrorCode {
    /// The code as it is written on the wire (`not_found`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PathEscape => "path_escape",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::DiskFull => "disk_full",
            ErrorCode::Corrupt => "corrupt",
            ErrorCode::Busy => "busy",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::Io => "io",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::WrongPassphrase => "wrong_passphrase",
        }
    }
}

/// What kind of thing an error is about.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// An input field of the request (`name`, `tags`, `path`, `schedule`, ...): a form shows the
    /// message next to it.
    Field,
    Project,
    Target,
    Workspace,
}

/// What an error is about, so a door can point at it without reading the message.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Subject {
    pub kind: SubjectKind,
    pub name: String,
}

/// An engine error, for a door.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// What kind of failure; switch on this.
    pub code: ErrorCode,
    /// What happened, to what, and what to do.
    pub message: String,
    /// What it is about (a field of the request, a project, a target), when that is known.
    #[serde(default)]
    pub subject: Option<Subject>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            subject: None,
        }
    }

    /// The same error, about `name` of `kind`.
    pub fn about(mut self, kind: SubjectKind, name: impl Into<String>) -> ApiError {
        self.subject = Some(Subject {
            kind,
            name: name.into(),
        });
        self
    }

    /// A bug or an unexpected state.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Internal, message)
    }
}

impl From<kura_core::Error> for ApiError {
    fn from(e: kura_core::Error) -> ApiError {
        let err = ApiError::new(e.kind().into(), e.message());
        match e.field() {
            Some(field) => err.about(SubjectKind::Field, field),
            None => err,
        }
    }
}

impl From<kura_records::Error> for ApiError {
    fn from(e: kura_records::Error) -> ApiError {
        kura_core::Error::from(e).into()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

/// What every service function returns.
pub type ApiResult<T> = Result<T, ApiError>;
