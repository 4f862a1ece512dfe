//! The catalog's archives: one row a `.tar.zst` file, with its checksum and its copy in the
//! cold tier.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;
use crate::model::ArchiveInfo;

const COLUMNS: &str = "id, project_id, project_name, workspace, path, size,
    content_size, file_count, versions, sha256, created_at, cold_target";

/// A row of [`COLUMNS`] as `ArchiveInfo`; its file is looked for under `root`.
fn from_row(root: &Path, r: &rusqlite::Row<'_>) -> rusqlite::Result<ArchiveInfo> {
    let rel: String = r.get(4)?;
    let path = root.join(rel);
    let size = r.get::<_, i64>(5)? as u64;
    let content = r.get::<_, i64>(6)? as u64;
    Ok(ArchiveInfo {
        id: r.get(0)?,
        project_id: r.get(1)?,
        project_name: r.get(2)?,
        workspace: r.get(3)?,
        present: path.is_file(),
        path,
        size,
        content_size: content,
        compression_ratio: if size == 0 {
            0.0
        } else {
            ((content as f64 / size as f64) * 100.0).round() / 100.0
        },
        file_count: r.get::<_, i64>(7)? as u64,
        versions: r.get::<_, i64>(8)? as u64,
        sha256: r.get(9)?,
        created_at: r.get(10)?,
        cold_target: r.get(11)?,
    })
}

/// Every archive, newest first.
pub(crate) fn all(db: &Connection, root: &Path) -> Result<Vec<ArchiveInfo>> {
    let mut stmt = db.prepare(&format!(
        "SELECT {COLUMNS} FROM archives ORDER BY created_at DESC, id"
    ))?;
    let rows = stmt.query_map([], |r| from_row(root, r))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every archive with the time its local file was made or fetched back, that time's oldest
/// first.
pub(crate) fn by_local_age(db: &Connection, root: &Path) -> Result<Vec<(ArchiveInfo, i64)>> {
    let mut stmt = db.prepare(&format!(
        "SELECT {COLUMNS}, coalesce(kept_local_at, created_at) FROM archives
         ORDER BY coalesce(kept_local_at, created_at), id"
    ))?;
    let rows = stmt.query_map([], |r| Ok((from_row(root, r)?, r.get(12)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Archive `id`.
pub(crate) fn by_id(db: &Connection, root: &Path, id: &str) -> Result<Option<ArchiveInfo>> {
    Ok(db
        .query_row(
            &format!("SELECT {COLUMNS} FROM archives WHERE id = ?1"),
            [id],
            |r| from_row(root, r),
        )
        .optional()?)
}

/// The ids of the archives whose id starts with `prefix` (lower case hex).
pub(crate) fn ids_starting(db: &Connection, prefix: &str) -> Result<Vec<String>> {
    let mut stmt = db.prepare("SELECT id FROM archives WHERE id LIKE ?1 || '%'")?;
    let rows = stmt.query_map([prefix], |row| row.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The id of project `project_id`'s latest archive.
pub(crate) fn latest_of(db: &Connection, project_id: &str) -> Result<Option<String>> {
    Ok(db
        .query_row(
            "SELECT id FROM archives WHERE project_id = ?1 ORDER BY created_at DESC LIMIT 1",
            [project_id],
            |row| row.get(0),
        )
        .optional()?)
}

/// A new archive's row.
pub(crate) struct NewRow<'a> {
    pub(crate) id: &'a str,
    pub(crate) project_id: &'a str,
    pub(crate) project_name: &'a str,
    pub(crate) workspace: &'a str,
    /// Its file, relative to the vault.
    pub(crate) path: &'a str,
    pub(crate) size: u64,
    pub(crate) content_size: u64,
    pub(crate) file_count: u64,
    pub(crate) versions: u64,
    pub(crate) sha256: &'a str,
    pub(crate) created_at: i64,
}

pub(crate) fn insert(db: &Connection, row: &NewRow) -> Result<()> {
    db.execute(
        "INSERT INTO archives (id, project_id, project_name, workspace, path, size, content_size, file_count, versions, sha256, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            row.id,
            row.project_id,
            row.project_name,
            row.workspace,
            row.path,
            row.size as i64,
            row.content_size as i64,
            row.file_count as i64,
            row.versions as i64,
            row.sha256,
            row.created_at
        ],
    )?;
    Ok(())
}

pub(crate) fn delete(db: &Connection, id: &str) -> Result<()> {
    db.execute("DELETE FROM archives WHERE id = ?1", [id])?;
    Ok(())
}

/// Archive `id`'s copy in the cold tier: `None` when there is no such archive, else its target
/// and key (both set, or neither).
pub(crate) fn cold_copy(
    db: &Connection,
    id: &str,
) -> Result<Option<(Option<String>, Option<String>)>> {
    Ok(db
        .query_row(
            "SELECT cold_target, cold_key FROM archives WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Records archive `id`'s copy in the cold tier; false when there is no such archive.
pub(crate) fn set_cold_copy(db: &Connection, id: &str, target: &str, key: &str) -> Result<bool> {
    let n = db.execute(
        "UPDATE archives SET cold_target = ?2, cold_key = ?3 WHERE id = ?1",
        params![id, target, key],
    )?;
    Ok(n > 0)
}

/// Records that archive `id`'s local file was fetched back at `now`.
pub(crate) fn set_fetched(db: &Connection, id: &str, now: i64) -> Result<()> {
    db.execute(
        "UPDATE archives SET kept_local_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}
