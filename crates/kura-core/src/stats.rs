//! Where the space goes: logical vs stored bytes, savings, usage per workspace, project, layer and
//! file type, the largest files, free disk space and growth over time.

use rusqlite::params;
use serde::Serialize;

use crate::error::Result;
use crate::vault::Vault;

/// Projects by status.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct StatusCounts {
    /// In use.
    pub active: u64,
    /// Archived.
    pub archived: u64,
    /// In the trash.
    pub deleted: u64,
}

/// Usage of one storage layer.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct LayerUsage {
    /// "git", "chunks", "archives", "catalog" or "cache".
    pub layer: String,
    /// Files of the latest versions held in it (for archives: how many; 0 for catalog and cache).
    pub files: u64,
    /// Bytes of those files.
    pub logical_bytes: u64,
    /// Bytes on disk (for the cache: its upper bound in memory).
    pub stored_bytes: u64,
}

/// Usage of one workspace or project.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Usage {
    /// Workspace name, or project name.
    pub name: String,
    /// The project's id (empty for workspaces).
    pub id: String,
    /// The workspace (for projects).
    pub workspace: String,
    /// Projects (for workspaces; 1 for a project).
    pub projects: u64,
    /// Files in the latest versions.
    pub files: u64,
    /// Bytes of the latest versions.
    pub logical_bytes: u64,
    /// Bytes on disk for all versions.
    pub stored_bytes: u64,
}

/// Usage by file type.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct TypeUsage {
    /// Extension in lower case ("" for none).
    pub file_type: String,
    /// Files.
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
}

/// One of the largest files.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct LargeFile {
    /// Project name.
    pub project: String,
    /// Path inside it.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// "git" or "chunks".
    pub layer: String,
}

/// One sample of total usage.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct UsageSample {
    /// Seconds since the epoch.
    pub at: i64,
    /// Logical bytes then.
    pub logical_bytes: u64,
    /// Stored bytes then.
    pub stored_bytes: u64,
}

/// The whole picture.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Stats {
    /// The vault folder.
    pub vault: String,
    /// Projects by status.
    pub projects: StatusCounts,
    /// Bytes of every project's latest version: what the files take as plain files.
    pub logical_bytes: u64,
    /// Bytes the vault takes on disk for all versions of all projects.
    pub stored_bytes: u64,
    /// Bytes of large files before dedup (latest versions).
    pub chunk_logical_bytes: u64,
    /// Distinct chunk bytes, after dedup and before compression (all versions).
    pub chunk_unique_bytes: u64,
    /// Chunk bytes after compression.
    pub chunk_stored_bytes: u64,
    /// Bytes saved by dedup and compression: logical minus stored (0 if stored is larger).
    pub saved_bytes: u64,
    /// Per layer.
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
    pub quota: crate::quota::QuotaStatus,
}

impl Stats {
    /// How many projects `projects_usage` names at most.
    pub const TOP_PROJECTS: usize = 200;
}

impl Vault {
    /// Computes the storage statistics.
    pub fn stats(&self) -> Result<Stats> {
        let chunk_usage = self.chunks().usage()?;
        let catalog_bytes: u64 = ["catalog.db", "catalog.db-wal", "catalog.db-shm"]
            .iter()
            .filter_map(|f| std::fs::metadata(self.root().join(f)).ok())
            .map(|m| m.len())
            .sum();
        let db = self.db();
        // Each snapshot records its history's size in the project row (stored = history +
        // chunks); summing those is far cheaper than walking thousands of repositories.
        // (An archived project's stored size is its archive's.)
        let histories = db.query_row(
            "SELECT coalesce(sum(max(stored_size - chunk_stored, 0)), 0) FROM projects
             WHERE status != 'archived'",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64;
        let (archive_count, archive_bytes) = db.query_row(
            "SELECT count(*), coalesce(sum(size), 0) FROM archives",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?;
        let mut projects = StatusCounts::default();
        {
            let mut stmt = db.prepare("SELECT status, count(*) FROM projects GROUP BY status")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?;
            for row in rows {
                let (s, n) = row?;
                match s.as_str() {
                    "archived" => projects.archived = n,
                    "deleted" => projects.deleted = n,
                    _ => projects.active = n,
                }
            }
        }
        let layer_rows = |layer: &str| -> Result<(u64, u64)> {
            Ok(db.query_row(
                "SELECT coalesce(sum(files), 0), coalesce(sum(bytes), 0) FROM file_usage WHERE layer = ?1",
                [layer],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )?)
        };
        let (git_files, git_bytes) = layer_rows("git")?;
        let (chunk_files, chunk_bytes) = layer_rows("chunks")?;
        let layers = vec![
            LayerUsage {
                layer: "git".into(),
                files: git_files,
                logical_bytes: git_bytes,
                stored_bytes: histories,
            },
            LayerUsage {
                layer: "chunks".into(),
                files: chunk_files,
                logical_bytes: chunk_bytes,
                stored_bytes: chunk_usage.stored_bytes,
            },
            LayerUsage {
                layer: "archives".into(),
                files: archive_count,
                logical_bytes: 0,
                stored_bytes: archive_bytes,
            },
            LayerUsage {
                layer: "catalog".into(),
                files: 0,
                logical_bytes: 0,
                stored_bytes: catalog_bytes,
            },
            LayerUsage {
                layer: "cache".into(),
                files: 0,
                logical_bytes: 0,
                stored_bytes: self.config().storage.cache_size.0,
            },
        ];
        let usage_row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Usage> {
            Ok(Usage {
                name: r.get(0)?,
                id: r.get(1)?,
                workspace: r.get(2)?,
                projects: r.get::<_, i64>(3)? as u64,
                files: r.get::<_, i64>(4)? as u64,
                logical_bytes: r.get::<_, i64>(5)? as u64,
                stored_bytes: r.get::<_, i64>(6)? as u64,
            })
        };
        let workspaces: Vec<Usage> = db
            .prepare(
                "SELECT w.name, '', w.name, count(p.id), coalesce(sum(p.file_count), 0),
                        coalesce(sum(p.logical_size), 0), coalesce(sum(p.stored_size), 0)
                 FROM workspaces w LEFT JOIN projects p ON p.workspace_id = w.id
                 GROUP BY w.id ORDER BY 7 DESC, w.name",
            )?
            .query_map([], usage_row)?
            .collect::<rusqlite::Result<_>>()?;
        let projects_usage: Vec<Usage> = db
            .prepare(
                "SELECT p.name, p.id, w.name, 1, p.file_count, p.logical_size, p.stored_size
                 FROM projects p JOIN workspaces w ON w.id = p.workspace_id
                 ORDER BY p.stored_size DESC, p.name LIMIT ?1",
            )?
            .query_map([Stats::TOP_PROJECTS as i64], usage_row)?
            .collect::<rusqlite::Result<_>>()?;
        let file_types: Vec<TypeUsage> = db
            .prepare(
                "SELECT ext, sum(files), sum(bytes) FROM file_usage GROUP BY ext ORDER BY 3 DESC, 1 LIMIT 20",
            )?
            .query_map([], |r| {
                Ok(TypeUsage {
                    file_type: r.get(0)?,
                    files: r.get::<_, i64>(1)? as u64,
                    bytes: r.get::<_, i64>(2)? as u64,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        // Each project's largest files are kept beside its file list; the vault's are among them.
        let largest_files: Vec<LargeFile> = db
            .prepare(
                "SELECT p.name, f.path, f.size, f.layer FROM large_files f JOIN projects p ON p.id = f.project_id
                 WHERE p.status != 'archived' ORDER BY f.size DESC LIMIT ?1",
            )?
            .query_map([crate::filelist::LARGEST as i64], |r| {
                Ok(LargeFile {
                    project: r.get(0)?,
                    path: r.get(1)?,
                    size: r.get::<_, i64>(2)? as u64,
                    layer: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut growth: Vec<UsageSample> = db
            .prepare("SELECT at, logical, stored FROM usage_samples ORDER BY at DESC, rowid DESC LIMIT ?1")?
            .query_map(params![365], |r| {
                Ok(UsageSample {
                    at: r.get(0)?,
                    logical_bytes: r.get::<_, i64>(1)? as u64,
                    stored_bytes: r.get::<_, i64>(2)? as u64,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        growth.reverse();
        let logical_bytes: u64 = db.query_row(
            "SELECT coalesce(sum(logical_size), 0) FROM projects",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64;
        drop(db);
        let stored_bytes = histories + chunk_usage.stored_bytes + archive_bytes + catalog_bytes;
        Ok(Stats {
            vault: self.root().display().to_string(),
            projects,
            logical_bytes,
            stored_bytes,
            chunk_logical_bytes: chunk_bytes,
            chunk_unique_bytes: chunk_usage.raw_bytes,
            chunk_stored_bytes: chunk_usage.stored_bytes,
            saved_bytes: logical_bytes.saturating_sub(stored_bytes),
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
}
