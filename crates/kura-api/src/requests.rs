//! What a caller asks of an operation, as every door takes it: the service function's input,
//! the HTTP request body and an MCP tool's arguments (beside the project they name,
//! `#[serde(flatten)]`) are these types, so each is declared, documented and described once.

use kura_core::SnapshotOptions;
use serde::Deserialize;

/// What to say about a new version.
#[derive(Clone, Debug, Default, Deserialize)]
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
    /// The engine's options for this request. The version names the door it came through as
    /// its trigger (the vault's [`door`](kura_core::VaultReader::door), which each door sets
    /// when it opens the vault).
    pub fn options(self) -> SnapshotOptions {
        SnapshotOptions {
            message: self.message,
            author: self.author,
            trigger: None,
            allow_empty: self.allow_empty,
        }
    }
}

/// What to verify: one project, or the whole vault.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct VerifyVault {
    /// Only this project (name or id); the whole vault when absent.
    #[serde(default)]
    pub project: Option<String>,
}

/// One key of a project's metadata, set or removed.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct MetadataChange {
    #[cfg_attr(feature = "utoipa", schema(min_length = 1, max_length = 128))]
    pub key: String,
    /// The new value; `null` removes the key.
    pub value: Option<String>,
}

impl MetadataChange {
    /// The changes as the service takes them: (key, value or none to remove).
    pub fn pairs(changes: Vec<MetadataChange>) -> Vec<(String, Option<String>)> {
        changes.into_iter().map(|c| (c.key, c.value)).collect()
    }
}

/// A file or folder moved inside a project.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RenameFile {
    /// The file or folder to move, relative to the project folder, with `/`.
    #[cfg_attr(feature = "utoipa", schema(min_length = 1))]
    pub from: String,
    /// Its new path; refused if something is there already.
    #[cfg_attr(feature = "utoipa", schema(min_length = 1))]
    pub to: String,
}

/// A version to restore a project's folder to, or one file of it.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RestoreRequest {
    /// The version: an id, a unique prefix of one, `latest` or `latest~N`.
    #[cfg_attr(feature = "utoipa", schema(min_length = 1))]
    pub version: String,
    /// Restore only this file (relative to the project folder, with `/`); the whole folder when
    /// absent.
    #[serde(default)]
    pub path: Option<String>,
}

/// Which versions of a project to list (newest first).
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
pub struct VersionsRequest {
    /// At most this many.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only the versions in which this file (relative to the project folder, with `/`) changed.
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", param(min_length = 1), schema(min_length = 1))]
    pub path: Option<String>,
}

/// Two versions of a project to compare.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
pub struct DiffRequest {
    /// The older version: an id, a unique prefix of one, `latest` or `latest~N`.
    #[cfg_attr(feature = "utoipa", param(min_length = 1), schema(min_length = 1))]
    pub from: String,
    /// The newer version (default: `latest`).
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", param(min_length = 1), schema(min_length = 1))]
    pub to: Option<String>,
    /// Only this file or folder.
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", param(min_length = 1), schema(min_length = 1))]
    pub path: Option<String>,
    /// Only the list of changed files, without the line-by-line patches.
    #[serde(default)]
    pub stat_only: bool,
}

/// An archived project to bring back.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ArchiveReference {
    /// The archived project's name or id, or an archive id (as the list of archives gives it).
    #[cfg_attr(feature = "utoipa", schema(min_length = 1))]
    pub archive: String,
}
