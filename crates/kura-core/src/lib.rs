//! Kura's engine: a local-first vault for software projects.
//!
//! A [`Vault`] holds workspaces and projects. Every project's history is a real bare git
//! repository (versions are commits); large and binary files go to a vault-wide deduplicating
//! chunk store instead, with a small pointer in git. The catalog is SQLite. The desktop app, the
//! `kura` CLI and the REST API are thin doors onto this library.
//!
//! ```
//! use kura_core::{Job, NewProject, SnapshotOptions, Vault};
//!
//! # fn main() -> Result<(), kura_core::Error> {
//! let dir = tempfile::tempdir().unwrap();
//! let vault = Vault::open(dir.path())?;
//! let project = vault.create_project(&NewProject { name: "site".into(), ..Default::default() })?;
//! vault.save_file("site", "index.html", &mut &b"<h1>hello</h1>\n"[..])?;
//! let report = vault.snapshot("site", &SnapshotOptions::default(), &Job::default())?;
//! assert_eq!(report.changes.added, 1);
//! assert_eq!(vault.versions(&project.id, None)?.len(), 2);
//! # Ok(())
//! # }
//! ```

mod archive;
mod catalog;
mod changes;
pub mod config;
mod error;
mod files;
mod fs;
mod gitops;
mod history;
pub mod human;
mod job;
mod model;
mod project;
mod records;
mod upkeep;
mod usage;
mod vault;

pub use archive::{sha256_of as sha256_file, ArchiveVerifyReport, ExtractReport};
#[doc(hidden)]
pub use catalog::filelist;
/// Renames a file and syncs its folder, so the new name survives a crash.
pub fn rename_durably(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    fs::durable::rename(from, to)
}
pub use archive::cold::ColdCopy;
pub use archive::export::{ExportedVersion, EXPORT_ZSTD_LEVEL};
pub use archive::import::ImportArchiveOptions;
pub use changes::{Changes, CHANGE_LOG_SECS};
pub use config::{parse_rate, AutoSnapshot, ByteSize, Config, NetworkConfig};
pub use error::{Error, ErrorKind, Result};
pub use files::upload::Upload;
pub use files::{FileEntry, FilePreview, FileState, PreviewKind, SkippedFile, UploadReport};
pub use fs::durable::FileLock;
pub use gitops::{FolderGitChange, FolderGitCommit, FolderGitStatus, PushReport};
pub use history::author;
pub use history::repack::{
    RepackReport, BYTES_BEFORE_REPACK, OBJECTS_BEFORE_REPACK, PACKS_BEFORE_REPACK,
    REPACK_AFTER_IDLE_SECS,
};
pub use history::restore::{RestorePlan, RestoreReport};
pub use history::snapshot::{SnapshotOptions, SnapshotReport};
pub use history::versions::{Change, Diff, FileDiff};
pub use history::{is_libgit2_temp, ChangeCounts, Trigger, Version};
pub use job::{Job, Progress};
#[cfg(feature = "utoipa")]
pub use model::tag_list;
pub use model::Layer;
pub use model::{
    ArchiveInfo, ImportOptions, NewProject, Project, ProjectEdit, ProjectFilter, ProjectSort,
    ProjectStatus, Workspace,
};
pub use project::template::Template;
pub use project::workspace::check_project_name;
pub use project::ImportReport;
pub use records::{
    CollectionInfo, CollectionSettings, Record, RecordDelete, RecordFilter, RecordOp,
    RecordOpResult, RecordPage, RecordPut, RecordQuery, Records, VAULT_SCOPE,
};
pub use upkeep::cleanup::{
    CleanupCategory, CleanupCategoryReport, CleanupItem, CleanupOptions, CleanupReport,
};
pub use upkeep::verify::{GcReport, Problem, VerifyReport};
pub use usage::quota::{DiskSpace, QuotaLevel, QuotaStatus, QuotaUsage};
pub use usage::stats::{LargeFile, LayerUsage, Stats, StatusCounts, TypeUsage, Usage, UsageSample};
pub use vault::{
    give_back_freed_memory, ChunkHold, Clock, SystemClock, Vault, VaultReader, DEFAULT_WORKSPACE,
};
