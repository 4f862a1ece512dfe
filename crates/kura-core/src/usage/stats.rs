//! Where the space goes. Four figures, each defined here once and named the same in every door
//! (the dashboard, `kura stats`, the HTTP API):
//!
//! - [`Stats::on_disk_bytes`]: what the vault takes on disk, all of it: the length of every file
//!   under the vault folder (catalog, histories, chunks, archives, project folders, templates,
//!   spare files, locks), plus the projects folder when it is configured outside the vault.
//! - [`Stats::latest_bytes`]: what the latest versions hold, the content size of every project's
//!   latest version.
//! - [`Stats::all_versions_bytes`], [`Stats::versions_on_disk_bytes`], [`Stats::saved_bytes`]:
//!   what every version would take as plain copies, what the histories and chunks that hold them
//!   take, and the difference when it is a saving (0 otherwise, never negative).
//! - [`Stats::layers`]: each storage layer's share of `on_disk_bytes`; they add up to it exactly
//!   ("other" holds what no other layer names).

use rusqlite::Connection;
use serde::Serialize;

use crate::catalog::usage;
pub use crate::catalog::usage::{LargeFile, StatusCounts, TypeUsage, Usage, UsageSample};
use crate::error::Result;
use crate::vault::VaultReader;

/// Usage of one storage layer.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct LayerUsage {
    /// "files" (the project folders), "git" (histories), "chunks" (large files), "archives",
    /// "catalog" (the catalog and the chunk store's index) or "other" (settings, templates,
    /// spare files, locks).
    pub layer: String,
    /// Files of the latest versions held in it (for archives: how many; 0 for the rest).
    pub files: u64,
    /// Bytes of those files (0 for archives, catalog and other).
    pub logical_bytes: u64,
    /// Bytes it takes on disk: its share of [`Stats::on_disk_bytes`].
    pub on_disk_bytes: u64,
}

/// The whole picture.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Stats {
    /// The vault folder.
    pub vault: String,
    /// The projects folder when it is configured outside the vault folder (its files count in
    /// `on_disk_bytes` and in the "files" layer); `None` when it is inside.
    pub projects_folder: Option<String>,
    /// Projects by status.
    pub projects: StatusCounts,
    /// What the vault takes on disk, all of it: every file under the vault folder, plus the
    /// projects folder when it is elsewhere. The layers add up to it.
    pub on_disk_bytes: u64,
    /// What the latest versions hold: the content size of every project's latest version.
    pub latest_bytes: u64,
    /// Versions kept in histories (archived projects' are in their archives).
    pub versions: u64,
    /// What those versions would take as plain, uncompressed copies of their files.
    pub all_versions_bytes: u64,
    /// What they take on disk: the histories and chunks that hold them.
    pub versions_on_disk_bytes: u64,
    /// What dedup and compression saved: `all_versions_bytes - versions_on_disk_bytes`, or 0
    /// when the versions take more than plain copies would (a small vault's overhead).
    pub saved_bytes: u64,
    /// Per layer, adding up to `on_disk_bytes`.
    pub layers: Vec<LayerUsage>,
    /// Per workspace.
    pub workspaces: Vec<Usage>,
    /// The largest projects by stored bytes, largest first (at most [`Stats::TOP_PROJECTS`];
    /// `workspaces` holds the totals the rest make up).
    pub projects_usage: Vec<Usage>,
    /// Per file type, largest first (top 20).
    pub file_types: Vec<TypeUsage>,
    /// The largest files (top 20).
    pub largest_files: Vec<LargeFile>,
    /// Free bytes on the vault's disk.
    pub disk_free_bytes: u64,
    /// Size of the vault's disk.
    pub disk_total_bytes: u64,
    /// Usage over time (up to 365 samples, oldest first).
    pub growth: Vec<UsageSample>,
    /// Usage against the quotas, with warnings at 80% and 90%.
    pub quota: crate::usage::quota::QuotaStatus,
}

impl Stats {
    /// How many projects `projects_usage` names at most.
    pub const TOP_PROJECTS: usize = 200;
}

impl VaultReader {
    /// Computes the storage statistics.
    pub fn stats(&self) -> Result<Stats> {
        let disk = self.disk_usage();
        let (all_versions_bytes, versions) = self.all_versions_bytes()?;
        let db = self.db();
        let archive_count = usage::archive_count(&db)?;
        let projects = usage::status_counts(&db)?;
        let layers = layer_usage(&db, &disk, archive_count)?;
        let workspaces = usage::workspaces(&db)?;
        let projects_usage = usage::largest_projects(&db, Stats::TOP_PROJECTS)?;
        let file_types = usage::file_types(&db)?;
        let largest_files = usage::largest_files(&db)?;
        let growth = usage::growth(&db)?;
        let latest_bytes = usage::latest_bytes(&db)?;
        drop(db);
        let versions_on_disk_bytes = disk.git + disk.chunks;
        let projects_dir = self.projects_dir();
        Ok(Stats {
            vault: self.root().display().to_string(),
            projects_folder: (!disk.projects_inside).then(|| projects_dir.display().to_string()),
            projects,
            on_disk_bytes: disk.total(),
            latest_bytes,
            versions,
            all_versions_bytes,
            versions_on_disk_bytes,
            saved_bytes: all_versions_bytes.saturating_sub(versions_on_disk_bytes),
            layers,
            workspaces,
            projects_usage,
            file_types,
            largest_files,
            disk_free_bytes: fs4::available_space(self.root()).unwrap_or(0),
            disk_total_bytes: fs4::total_space(self.root()).unwrap_or(0),
            growth,
            quota: self.quota_status()?,
        })
    }

    /// Walks the vault folder (and the projects folder when it is elsewhere) and sorts every
    /// file's length into its layer.
    fn disk_usage(&self) -> DiskUsage {
        let root = self.root();
        let projects = self.projects_dir();
        let projects = projects.canonicalize().unwrap_or(projects);
        let spares = projects.join(kura_durable::SPARES_DIR);
        let inside = projects.starts_with(root);
        let mut usage = DiskUsage {
            projects_inside: inside,
            ..DiskUsage::default()
        };
        let mut add = |path: &std::path::Path, len: u64| {
            let slot = if path.starts_with(&spares) {
                &mut usage.other
            } else if path.starts_with(&projects) {
                &mut usage.files
            } else if let Ok(rel) = path.strip_prefix(root) {
                let first = rel
                    .components()
                    .next()
                    .map(|c| c.as_os_str().to_string_lossy());
                let chunk_index = rel.starts_with("chunks")
                    && rel
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("index.db"));
                match first.as_deref() {
                    Some("histories") => &mut usage.git,
                    // The chunk store's index is bookkeeping, as the catalog is: an empty vault
                    // holds no large files.
                    Some("chunks") if chunk_index => &mut usage.catalog,
                    Some("chunks") => &mut usage.chunks,
                    Some("archives") => &mut usage.archives,
                    Some(f) if f.starts_with("catalog.db") => &mut usage.catalog,
                    _ => &mut usage.other,
                }
            } else {
                &mut usage.other
            };
            *slot += len;
        };
        let mut walk = |dir: &std::path::Path| {
            for entry in walkdir::WalkDir::new(dir)
                .follow_links(false)
                .into_iter()
                .flatten()
            {
                if entry.file_type().is_file() {
                    if let Ok(m) = entry.metadata() {
                        add(entry.path(), m.len());
                    }
                }
            }
        };
        walk(root);
        if !inside {
            walk(&projects);
        }
        usage
    }

    /// What every version kept in a history would take as plain copies of its files (each
    /// version records its files' total size), and how many versions there are.
    fn all_versions_bytes(&self) -> Result<(u64, u64)> {
        let ids = usage::unarchived_project_ids(&self.db())?;
        let (mut bytes, mut versions) = (0, 0);
        for id in ids {
            let Ok(repo) = git2::Repository::open_bare(self.history_path(&id)) else {
                continue;
            };
            let Ok(mut walk) = repo.revwalk() else {
                continue;
            };
            if walk.push_head().is_err() {
                continue;
            }
            for oid in walk.flatten() {
                if let Ok(commit) = repo.find_commit(oid) {
                    bytes += crate::history::version_of(&commit).size;
                    versions += 1;
                }
            }
        }
        Ok((bytes, versions))
    }
}

/// File lengths under the vault, by layer.
#[derive(Default)]
struct DiskUsage {
    projects_inside: bool,
    files: u64,
    git: u64,
    chunks: u64,
    archives: u64,
    catalog: u64,
    other: u64,
}

impl DiskUsage {
    fn total(&self) -> u64 {
        self.files + self.git + self.chunks + self.archives + self.catalog + self.other
    }
}

/// Each storage layer's usage: its share of the bytes on disk from `disk`, and the files of the
/// latest versions it holds from the file list (for archives, `archive_count`).
fn layer_usage(db: &Connection, disk: &DiskUsage, archive_count: u64) -> Result<Vec<LayerUsage>> {
    let (git_files, git_bytes) = usage::latest_in_layer(db, "git")?;
    let (chunk_files, chunk_bytes) = usage::latest_in_layer(db, "chunks")?;
    let layer = |layer: &str, files: u64, logical_bytes: u64, on_disk_bytes: u64| LayerUsage {
        layer: layer.into(),
        files,
        logical_bytes,
        on_disk_bytes,
    };
    Ok(vec![
        layer("files", 0, 0, disk.files),
        layer("git", git_files, git_bytes, disk.git),
        layer("chunks", chunk_files, chunk_bytes, disk.chunks),
        layer("archives", archive_count, 0, disk.archives),
        layer("catalog", 0, 0, disk.catalog),
        layer("other", 0, 0, disk.other),
    ])
}
