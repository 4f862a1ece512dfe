//! Errors as they cross to the UI: `{ code, message }`. The UI switches on `code`.

use serde::Serialize;

/// An engine error, for the UI.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct IpcError {
    /// Stable machine-readable code (`not_found`, `path_escape`, ...).
    pub code: String,
    /// What happened, to what, and what to do.
    pub message: String,
}

impl From<kura_core::Error> for IpcError {
    fn from(e: kura_core::Error) -> IpcError {
        IpcError {
            code: e.kind().code().to_string(),
            message: e.message().to_string(),
        }
    }
}

impl IpcError {
    pub(crate) fn internal(message: impl Into<String>) -> IpcError {
        IpcError {
            code: "internal".into(),
            message: message.into(),
        }
    }
}

/// What every command returns.
pub type IpcResult<T> = Result<T, IpcError>;
