//! The catalog's workspaces, and which one is active (the `active_workspace` setting).

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;
use crate::model::Workspace;

/// The setting that holds the active workspace's id.
const ACTIVE_KEY: &str = "active_workspace";

/// A workspace's columns: `id, name, created_at`, and how many projects it holds outside the
/// trash.
const SELECT: &str = "SELECT w.id, w.name, w.created_at,
        (SELECT count(*) FROM projects p WHERE p.workspace_id = w.id AND p.status != 'deleted')
     FROM workspaces w";

/// A workspace from a row of [`SELECT`].
fn from_row(r: &rusqlite::Row, active: bool) -> rusqlite::Result<Workspace> {
    Ok(Workspace {
        id: r.get(0)?,
        name: r.get(1)?,
        created_at: r.get(2)?,
        project_count: r.get::<_, i64>(3)? as u64,
        active,
    })
}

/// Creates workspace `name` when there is none at all. Every vault open asks, so it reads
/// first: an `INSERT` that adds nothing still waits for the catalog's write lock, which another
/// process's write holds.
pub(crate) fn create_first(db: &Connection, name: &str, now: i64) -> Result<()> {
    let any: bool = db.query_row("SELECT EXISTS (SELECT 1 FROM workspaces)", [], |r| r.get(0))?;
    if any {
        return Ok(());
    }
    // Two processes opening a new vault at once: the second adds nothing.
    db.execute(
        "INSERT INTO workspaces (name, created_at) SELECT ?1, ?2
         WHERE NOT EXISTS (SELECT 1 FROM workspaces)",
        params![name, now],
    )?;
    Ok(())
}

/// Every workspace, by name (none marked active).
pub(crate) fn all(db: &Connection) -> Result<Vec<Workspace>> {
    let mut stmt = db.prepare(&format!("{SELECT} ORDER BY w.name"))?;
    let rows = stmt.query_map([], |r| from_row(r, false))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The workspace named `name` (not marked active).
pub(crate) fn named(db: &Connection, name: &str) -> Result<Option<Workspace>> {
    Ok(db
        .query_row(&format!("{SELECT} WHERE w.name = ?1"), [name], |r| {
            from_row(r, false)
        })
        .optional()?)
}

/// The id the active workspace setting holds, if any.
pub(crate) fn active_id(db: &Connection) -> Result<Option<i64>> {
    let id: Option<String> = db
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [ACTIVE_KEY],
            |r| r.get(0),
        )
        .optional()?;
    Ok(id.and_then(|v| v.parse().ok()))
}

/// The active workspace: the one the setting names, else the one named `default_name`, else
/// the oldest.
pub(crate) fn active(db: &Connection, default_name: &str) -> Result<Workspace> {
    Ok(db.query_row(
        &format!(
            "{SELECT}
             ORDER BY (w.id = (SELECT CAST(value AS INTEGER) FROM settings WHERE key = ?1)) DESC,
                      (w.name = ?2) DESC, w.id
             LIMIT 1"
        ),
        params![ACTIVE_KEY, default_name],
        |r| from_row(r, true),
    )?)
}

/// Adds workspace `name`; a name taken fails as SQLite's uniqueness violation.
pub(crate) fn insert(db: &Connection, name: &str, now: i64) -> rusqlite::Result<usize> {
    db.execute(
        "INSERT INTO workspaces (name, created_at) VALUES (?1, ?2)",
        params![name, now],
    )
}

/// Whether a workspace other than `except` is named `name`.
pub(crate) fn name_taken(db: &Connection, name: &str, except: i64) -> Result<bool> {
    Ok(db.query_row(
        "SELECT EXISTS (SELECT 1 FROM workspaces WHERE name = ?1 AND id != ?2)",
        params![name, except],
        |r| r.get(0),
    )?)
}

pub(crate) fn rename(db: &Connection, id: i64, name: &str) -> Result<()> {
    db.execute(
        "UPDATE workspaces SET name = ?1 WHERE id = ?2",
        params![name, id],
    )?;
    Ok(())
}

/// Makes workspace `id` the active one.
pub(crate) fn set_active(db: &Connection, id: i64) -> Result<()> {
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![ACTIVE_KEY, id.to_string()],
    )?;
    Ok(())
}

/// How many workspaces there are.
pub(crate) fn count(db: &Connection) -> Result<i64> {
    Ok(db.query_row("SELECT count(*) FROM workspaces", [], |r| r.get(0))?)
}

/// How many projects workspace `id` holds, the trash included.
pub(crate) fn projects_held(db: &Connection, id: i64) -> Result<i64> {
    Ok(db.query_row(
        "SELECT count(*) FROM projects WHERE workspace_id = ?1",
        [id],
        |r| r.get(0),
    )?)
}

/// A project name that workspaces `from` and `to` both hold, if any.
pub(crate) fn shared_project_name(db: &Connection, from: i64, to: i64) -> Result<Option<String>> {
    Ok(db
        .query_row(
            "SELECT a.name FROM projects a JOIN projects b ON a.name = b.name
             WHERE a.workspace_id = ?1 AND b.workspace_id = ?2 LIMIT 1",
            params![from, to],
            |r| r.get(0),
        )
        .optional()?)
}

/// Moves every project of workspace `from` to `to`.
pub(crate) fn move_projects(db: &Connection, from: i64, to: i64) -> Result<()> {
    db.execute(
        "UPDATE projects SET workspace_id = ?1 WHERE workspace_id = ?2",
        params![to, from],
    )?;
    Ok(())
}

/// Deletes workspace `id`, and the active setting when it names it.
pub(crate) fn delete(db: &Connection, id: i64) -> Result<()> {
    db.execute("DELETE FROM workspaces WHERE id = ?1", [id])?;
    db.execute(
        "DELETE FROM settings WHERE key = ?1 AND value = ?2",
        params![ACTIVE_KEY, id.to_string()],
    )?;
    Ok(())
}
