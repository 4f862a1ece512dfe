//! What a caller asks of an operation, as every door takes it: the HTTP request body and an MCP
//! tool's arguments (beside the project they name, `#[serde(flatten)]`) are these types, so
//! each is declared, documented and described once.

use kura_core::{SnapshotOptions, Trigger};
use serde::Deserialize;

/// What to say about a new version.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SnapshotRequest {
    /// What this version is (like a commit message); a default one is written when omitted.
    #[serde(default)]
    pub message: Option<String>,
    /// Who made it: "Name <email>" or a name (default: the person's git identity; for an MCP
    /// client, its name with the person's email).
    #[serde(default)]
    pub author: Option<String>,
    /// Make a version even if nothing changed.
    #[serde(default)]
    pub allow_empty: bool,
}

impl SnapshotRequest {
    /// The engine's options for this request, made through the door `trigger`.
    pub fn options(self, trigger: Trigger) -> SnapshotOptions {
        SnapshotOptions {
            message: self.message,
            author: self.author,
            trigger: Some(trigger),
            allow_empty: self.allow_empty,
        }
    }
}
