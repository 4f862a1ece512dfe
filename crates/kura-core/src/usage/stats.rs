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

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::error::Result;
use crate::vault::VaultReader;

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
    /// The project's status (its space counts in the trash and archived too); `None` for
    /// workspaces.
    pub status: Option<crate::ProjectStatus>,
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
        let archive_count =
            db.query_row("SELECT count(*) FROM archives", [], |r| r.get::<_, i64>(0))? as u64;
        let projects = status_counts(&db)?;
        let layers = layer_usage(&db, &disk, archive_count)?;
        let workspaces = workspace_usage(&db)?;
        let projects_usage = largest_projects(&db)?;
        let file_types = file_type_usage(&db)?;
        let largest_files = largest_files(&db)?;
        let growth = usage_growth(&db)?;
        let latest_bytes = latest_bytes(&db)?;
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
        let ids: Vec<String> = self
            .db()
            .prepare("SELECT id FROM projects WHERE status != 'archived'")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
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

/// Counts the projects by status (anything neither archived nor deleted is active).
fn status_counts(db: &Connection) -> Result<StatusCounts> {
    let mut projects = StatusCounts::default();
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
    Ok(projects)
}

/// Each storage layer's usage: its share of the bytes on disk from `disk`, and the files of the
/// latest versions it holds from the file list (for archives, `archive_count`).
fn layer_usage(db: &Connection, disk: &DiskUsage, archive_count: u64) -> Result<Vec<LayerUsage>> {
    let layer_rows = |layer: &str| -> Result<(u64, u64)> {
        Ok(db.query_row(
            "SELECT coalesce(sum(files), 0), coalesce(sum(bytes), 0) FROM file_usage WHERE layer = ?1",
            [layer],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?)
    };
    let (git_files, git_bytes) = layer_rows("git")?;
    let (chunk_files, chunk_bytes) = layer_rows("chunks")?;
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

/// Reads one row of a usage query: name, id, workspace, projects, files, logical bytes, stored
/// bytes and status, in that order.
fn usage_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Usage> {
    Ok(Usage {
        name: r.get(0)?,
        id: r.get(1)?,
        workspace: r.get(2)?,
        projects: r.get::<_, i64>(3)? as u64,
        files: r.get::<_, i64>(4)? as u64,
        logical_bytes: r.get::<_, i64>(5)? as u64,
        stored_bytes: r.get::<_, i64>(6)? as u64,
        status: r
            .get::<_, Option<String>>(7)?
            .map(|s| crate::model::ProjectStatus::parse(&s)),
    })
}

/// The usage of every workspace, largest stored first (then by name).
fn workspace_usage(db: &Connection) -> Result<Vec<Usage>> {
    Ok(db
        .prepare(
            "SELECT w.name, '', w.name, count(p.id), coalesce(sum(p.file_count), 0),
                    coalesce(sum(p.logical_size), 0), coalesce(sum(p.stored_size), 0), NULL
             FROM workspaces w LEFT JOIN projects p ON p.workspace_id = w.id
             GROUP BY w.id ORDER BY 7 DESC, w.name",
        )?
        .query_map([], usage_from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// The usage of the largest projects by stored bytes, largest first (at most
/// [`Stats::TOP_PROJECTS`]).
fn largest_projects(db: &Connection) -> Result<Vec<Usage>> {
    Ok(db
        .prepare(
            "SELECT p.name, p.id, w.name, 1, p.file_count, p.logical_size, p.stored_size, p.status
             FROM projects p JOIN workspaces w ON w.id = p.workspace_id
             ORDER BY p.stored_size DESC, p.name LIMIT ?1",
        )?
        .query_map([Stats::TOP_PROJECTS as i64], usage_from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// The usage of the 20 file types that take the most bytes, largest first.
fn file_type_usage(db: &Connection) -> Result<Vec<TypeUsage>> {
    Ok(db
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
        .collect::<rusqlite::Result<_>>()?)
}

/// The vault's largest files outside archived projects, largest first. Each project's largest
/// files are kept beside its file list; the vault's are among them.
fn largest_files(db: &Connection) -> Result<Vec<LargeFile>> {
    Ok(db
        .prepare(
            "SELECT p.name, f.path, f.size, f.layer FROM large_files f JOIN projects p ON p.id = f.project_id
             WHERE p.status != 'archived' ORDER BY f.size DESC LIMIT ?1",
        )?
        .query_map([crate::catalog::filelist::LARGEST as i64], |r| {
            Ok(LargeFile {
                project: r.get(0)?,
                path: r.get(1)?,
                size: r.get::<_, i64>(2)? as u64,
                layer: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

/// The latest 365 samples of total usage, oldest first.
fn usage_growth(db: &Connection) -> Result<Vec<UsageSample>> {
    let mut growth: Vec<UsageSample> = db
        .prepare(
            "SELECT at, logical, stored FROM usage_samples ORDER BY at DESC, rowid DESC LIMIT ?1",
        )?
        .query_map(params![365], |r| {
            Ok(UsageSample {
                at: r.get(0)?,
                logical_bytes: r.get::<_, i64>(1)? as u64,
                stored_bytes: r.get::<_, i64>(2)? as u64,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    growth.reverse();
    Ok(growth)
}

/// What the latest versions hold: the content size of every project's latest version.
fn latest_bytes(db: &Connection) -> Result<u64> {
    Ok(db.query_row(
        "SELECT coalesce(sum(logical_size), 0) FROM projects",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64)
}
