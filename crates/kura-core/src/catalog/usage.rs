//! The catalog's answers about space: projects by status, usage by workspace, project, layer
//! and file type, the largest files, the usage samples over time, and what quotas count.

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::error::Result;

/// Projects by status.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct StatusCounts {
    /// In use.
    pub active: u64,
    /// Archived.
    pub archived: u64,
    /// In the trash.
    pub deleted: u64,
}

/// Usage of one workspace or project.
#[derive(Clone, Debug, Serialize)]
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
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct UsageSample {
    /// Seconds since the epoch.
    pub at: i64,
    /// Logical bytes then.
    pub logical_bytes: u64,
    /// Stored bytes then.
    pub stored_bytes: u64,
}

/// Counts the projects by status (anything neither archived nor deleted is active).
pub(crate) fn status_counts(db: &Connection) -> Result<StatusCounts> {
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
pub(crate) fn workspaces(db: &Connection) -> Result<Vec<Usage>> {
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

/// The usage of the `top` largest projects by stored bytes, largest first.
pub(crate) fn largest_projects(db: &Connection, top: usize) -> Result<Vec<Usage>> {
    Ok(db
        .prepare(
            "SELECT p.name, p.id, w.name, 1, p.file_count, p.logical_size, p.stored_size, p.status
             FROM projects p JOIN workspaces w ON w.id = p.workspace_id
             ORDER BY p.stored_size DESC, p.name LIMIT ?1",
        )?
        .query_map([top as i64], usage_from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// The usage of the 20 file types that take the most bytes, largest first.
pub(crate) fn file_types(db: &Connection) -> Result<Vec<TypeUsage>> {
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
pub(crate) fn largest_files(db: &Connection) -> Result<Vec<LargeFile>> {
    Ok(db
        .prepare(
            "SELECT p.name, f.path, f.size, f.layer FROM large_files f JOIN projects p ON p.id = f.project_id
             WHERE p.status != 'archived' ORDER BY f.size DESC LIMIT ?1",
        )?
        .query_map([super::filelist::LARGEST as i64], |r| {
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
pub(crate) fn growth(db: &Connection) -> Result<Vec<UsageSample>> {
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
pub(crate) fn latest_bytes(db: &Connection) -> Result<u64> {
    Ok(db.query_row(
        "SELECT coalesce(sum(logical_size), 0) FROM projects",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64)
}

/// How many archives there are.
pub(crate) fn archive_count(db: &Connection) -> Result<u64> {
    Ok(db.query_row("SELECT count(*) FROM archives", [], |r| r.get::<_, i64>(0))? as u64)
}

/// Files and bytes of the latest versions held in `layer` ("git" or "chunks").
pub(crate) fn latest_in_layer(db: &Connection, layer: &str) -> Result<(u64, u64)> {
    Ok(db.query_row(
        "SELECT coalesce(sum(files), 0), coalesce(sum(bytes), 0) FROM file_usage WHERE layer = ?1",
        [layer],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
    )?)
}

/// The ids of the projects whose history is in the vault (not archived).
pub(crate) fn unarchived_project_ids(db: &Connection) -> Result<Vec<String>> {
    Ok(db
        .prepare("SELECT id FROM projects WHERE status != 'archived'")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Every active project's id, name and size of its latest version, largest first.
pub(crate) fn active_sizes(db: &Connection) -> Result<Vec<(String, String, u64)>> {
    let mut stmt = db.prepare(
        "SELECT id, name, logical_size FROM projects WHERE status = 'active'
         ORDER BY logical_size DESC, name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Bytes counted against the vault's quota: the latest versions of active projects, and what
/// every project stores.
pub(crate) fn quota_usage(db: &Connection) -> Result<u64> {
    let used: i64 = db.query_row(
        "SELECT coalesce(sum(CASE WHEN status = 'active' THEN logical_size ELSE 0 END), 0)
              + coalesce(sum(stored_size), 0) FROM projects",
        params![],
        |r| r.get(0),
    )?;
    Ok(used.max(0) as u64)
}

/// Records the vault's total logical and stored bytes at `now`, for growth over time.
pub(crate) fn record_sample(db: &Connection, now: i64) -> Result<()> {
    db.execute(
        "INSERT INTO usage_samples (at, logical, stored)
         SELECT ?1, coalesce(sum(logical_size), 0), coalesce(sum(stored_size), 0) FROM projects",
        [now],
    )?;
    Ok(())
}
