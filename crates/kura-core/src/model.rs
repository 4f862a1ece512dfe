//! The shared domain types: what a project is and how it is listed, and how the files cache
//! remembers a file. A leaf: it names no other room of the engine.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A list of tags as a schema: each 1 to 64 characters, no commas.
#[cfg(feature = "utoipa")]
pub fn tag_list() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(64))
                .pattern(Some("^[^,]+$")),
        )
        .build()
}

/// Where a project is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    /// In use.
    Active,
    /// Packed away (the archiver).
    Archived,
    /// In the trash; can be restored.
    Deleted,
}

impl ProjectStatus {
    /// The catalog's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Active => "active",
            ProjectStatus::Archived => "archived",
            ProjectStatus::Deleted => "deleted",
        }
    }

    pub(crate) fn parse(s: &str) -> ProjectStatus {
        match s {
            "archived" => ProjectStatus::Archived,
            "deleted" => ProjectStatus::Deleted,
            _ => ProjectStatus::Active,
        }
    }
}

impl std::str::FromStr for ProjectStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "active" => Ok(ProjectStatus::Active),
            "archived" => Ok(ProjectStatus::Archived),
            "deleted" | "trash" | "trashed" => Ok(ProjectStatus::Deleted),
            _ => Err(Error::invalid(format!(
                "'{s}' is not a project status; use active, archived or deleted"
            ))),
        }
    }
}

/// A project and its metadata.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Project {
    /// Stable id.
    pub id: String,
    /// Name, unique within its workspace.
    pub name: String,
    /// The workspace it belongs to.
    pub workspace: String,
    /// What kind of project: generation, migration, imported, manual, ...
    pub kind: String,
    /// Free text.
    pub description: String,
    /// Active, archived or deleted (in the trash).
    pub status: ProjectStatus,
    /// True when Kura tracks an existing folder in place rather than its own managed folder.
    pub linked: bool,
    /// The working folder.
    #[cfg_attr(feature = "utoipa", schema(value_type = String))]
    pub path: PathBuf,
    /// The git remote its history is pushed to, if any.
    pub git_remote: Option<String>,
    /// Languages detected from its files.
    pub languages: Vec<String>,
    /// Frameworks detected from its manifests.
    pub frameworks: Vec<String>,
    /// Tags given by people or agents.
    pub tags: Vec<String>,
    /// Free key/value metadata.
    pub metadata: BTreeMap<String, String>,
    /// Seconds since the epoch.
    pub created_at: i64,
    /// Last change (metadata or a new version).
    pub updated_at: i64,
    /// Last time it was opened in the app or CLI.
    pub last_opened_at: Option<i64>,
    /// When it was moved to the trash.
    pub deleted_at: Option<i64>,
    /// Bytes of its files in the latest version.
    pub logical_size: u64,
    /// Bytes its history and chunks take on disk.
    pub stored_size: u64,
    /// Files in the latest version.
    pub file_count: u64,
    /// The latest version's id (a git commit id).
    pub head: Option<String>,
}

/// How to sort a project list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProjectSort {
    /// By name, A to Z.
    #[default]
    Name,
    /// Largest first.
    Size,
    /// Most recently changed first.
    Updated,
    /// Newest first.
    Created,
}

impl std::str::FromStr for ProjectSort {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "name" => Ok(ProjectSort::Name),
            "size" => Ok(ProjectSort::Size),
            "updated" | "changed" => Ok(ProjectSort::Updated),
            "created" => Ok(ProjectSort::Created),
            _ => Err(Error::invalid(format!(
                "cannot sort by '{s}'; use name, size, updated or created"
            ))),
        }
    }
}

/// Which projects to list; filters combine (all must match), and absent ones do not filter. The
/// desktop app and the MCP tool take this; the HTTP door reads its query into it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ProjectFilter {
    /// Only this workspace; the active one when absent (unless `all_workspaces`).
    pub workspace: Option<String>,
    /// List projects of every workspace.
    pub all_workspaces: bool,
    /// Only projects in this state; when absent, active and archived (not the trash).
    pub status: Option<ProjectStatus>,
    /// Has this language (e.g. "rust", "typescript").
    pub language: Option<String>,
    /// Uses this framework (e.g. "svelte", "axum").
    pub framework: Option<String>,
    /// Has every one of these tags.
    pub tags: Vec<String>,
    /// At least this many bytes.
    pub min_size: Option<u64>,
    /// At most this many bytes.
    pub max_size: Option<u64>,
    /// Changed at or after this time (seconds since the Unix epoch).
    pub updated_since: Option<i64>,
    /// Changed before this time.
    pub updated_before: Option<i64>,
    /// Text found in the name, description or tags (case-insensitive).
    pub text: Option<String>,
    /// Metadata conditions, each `[key, value]`: the key equal to the value, or only present
    /// when the value is null.
    pub metadata: Vec<(String, Option<String>)>,
    /// Order: name (default), size (largest first), updated or created (newest first).
    pub sort: ProjectSort,
    /// At most this many projects.
    pub limit: Option<u32>,
}

/// What to create.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct NewProject {
    /// Name, unique in its workspace (required).
    #[cfg_attr(feature = "utoipa", schema(min_length = 1))]
    pub name: String,
    /// Workspace; the active one when `None`.
    #[serde(default)]
    pub workspace: Option<String>,
    /// Built-in (`empty`, `backend`, `frontend`, `fullstack`) or saved template; `empty` when `None`.
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", schema(min_length = 1))]
    pub template: Option<String>,
    /// Project kind; `manual` when `None` (`imported` for imports).
    #[serde(default)]
    pub kind: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Tags.
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", schema(schema_with = tag_list))]
    pub tags: Vec<String>,
}

/// What to change in a project; absent fields stay as they are.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ProjectEdit {
    /// A new name, free in the project's (new) workspace.
    #[cfg_attr(feature = "utoipa", schema(min_length = 1))]
    pub name: Option<String>,
    /// Move it to this workspace.
    pub workspace: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new kind.
    pub kind: Option<String>,
    /// The git remote URL (`""` clears it).
    pub git_remote: Option<String>,
}

/// How to import a folder.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ImportOptions {
    /// Name; the folder's name when `None`.
    pub name: Option<String>,
    /// Workspace; the active one when `None`.
    pub workspace: Option<String>,
    /// Track the folder in place instead of copying it into the vault.
    pub link: bool,
    /// Project kind; `imported` when `None`.
    pub kind: Option<String>,
}

/// Which storage layer holds a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// A blob in the project's git history.
    Git,
    /// Chunks in the vault-wide chunk store (git holds a pointer).
    Chunks,
}

impl Layer {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Layer::Git => "git",
            Layer::Chunks => "chunks",
        }
    }

    pub(crate) fn parse(s: &str) -> Layer {
        if s == "chunks" {
            Layer::Chunks
        } else {
            Layer::Git
        }
    }
}

/// A file of the files cache (see [`crate::files::filelist`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CachedFile {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub inode: u64,
    pub mode: u32,
    pub layer: Layer,
    pub oid: [u8; 20],
    /// The commit id of the version where the file last changed.
    pub last_version: [u8; 20],
}

/// A named group of projects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Workspace {
    /// Catalog id.
    pub id: i64,
    /// Unique name (case-insensitive).
    pub name: String,
    /// Creation time, seconds since the epoch.
    pub created_at: i64,
    /// Projects in it that are not in the trash.
    pub project_count: u64,
    /// Whether this is the active workspace.
    pub active: bool,
}

/// A file's type from its name: its last extension that does not start with a digit, so that
/// version suffixes are passed over (`libLLVM.so.22.1` and `app.log.1` are "so" and "log"), else
/// its last extension (`notes.1`); in lower case; "" for none (a name starting with its only
/// dot is hidden, not an extension).
pub(crate) fn file_type_of(rel: &str) -> String {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let mut rest = name;
    let mut last = None;
    while let Some((stem, ext)) = rest.rsplit_once('.') {
        if stem.is_empty() || ext.len() > 12 {
            break;
        }
        if !ext.starts_with(|c: char| c.is_ascii_digit()) {
            return ext.to_ascii_lowercase();
        }
        last.get_or_insert(ext);
        rest = stem;
    }
    last.map(str::to_ascii_lowercase).unwrap_or_default()
}

/// One archive in the vault.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ArchiveInfo {
    /// Stable id (16 hex digits).
    pub id: String,
    /// The project it holds.
    pub project_id: String,
    /// The project's name when it was archived.
    pub project_name: String,
    /// Its workspace then.
    pub workspace: String,
    /// The `.tar.zst` file.
    #[cfg_attr(feature = "utoipa", schema(value_type = String))]
    pub path: PathBuf,
    /// Bytes of the file.
    pub size: u64,
    /// Bytes inside it before compression (files, history, metadata, tar headers).
    pub content_size: u64,
    /// `content_size / size` (2.0 means half the size).
    pub compression_ratio: f64,
    /// Files of the working folder inside.
    pub file_count: u64,
    /// Versions in its history.
    pub versions: u64,
    /// SHA-256 of the file, hex (what `sha256sum` prints).
    pub sha256: String,
    /// When it was made, seconds since the epoch.
    pub created_at: i64,
    /// False when the file is not on this disk (missing, or only in the cold tier).
    pub present: bool,
    /// The backup target holding a verified copy (the cold tier), if any.
    pub cold_target: Option<String>,
}
