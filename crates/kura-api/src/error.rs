//! Errors as every door shows them: `{ code, message }`. Doors switch on `code`, never on the
//! message, which is for people.

use serde::{Deserialize, Serialize};

/// The stable machine-readable error codes: the engine's own [`ErrorKind`], under the name the
/// doors' clients see. What only a door can say (`unauthorized`, `forbidden`) is the door's.
pub use kura_core::ErrorKind as ErrorCode;

/// What kind of thing an error is about.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Subject {
    pub kind: SubjectKind,
    pub name: String,
}

/// An engine error, for a door.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
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
        let err = ApiError::new(e.kind(), e.message());
        match e.field() {
            Some(field) => err.about(SubjectKind::Field, field),
            None => err,
        }
    }
}

/// Back to the engine's error, for a door that reports those (the CLI: its exit codes and
/// `--json` errors are by kind). The subject is dropped; the message names it.
impl From<ApiError> for kura_core::Error {
    fn from(e: ApiError) -> kura_core::Error {
        kura_core::Error::new(e.code, e.message)
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
