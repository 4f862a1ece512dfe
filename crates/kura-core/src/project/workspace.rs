//! Workspaces: named groups of projects, one of them active.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::catalog;
use crate::error::{Error, ErrorKind, Result};
use crate::vault::VaultReader;
use crate::vault::{Vault, DEFAULT_WORKSPACE};

/// A named group of projects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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

const ACTIVE_KEY: &str = "active_workspace";

/// A workspace from a row of `id, name, created_at, project count`.
fn workspace_from_row(r: &rusqlite::Row, active: bool) -> rusqlite::Result<Workspace> {
    Ok(Workspace {
        id: r.get(0)?,
        name: r.get(1)?,
        created_at: r.get(2)?,
        project_count: r.get::<_, i64>(3)? as u64,
        active,
    })
}

/// Most characters in a workspace, project or template name.
pub(crate) const MAX_NAME_CHARS: usize = 120;
/// Most bytes (UTF-8) in such a name: a project's folder and a template's are named after it,
/// with a suffix of a few bytes (`-2`, `.saving-`), within the file systems' 255 bytes a name.
pub(crate) const MAX_NAME_BYTES: usize = 200;

/// Checks a workspace or project name: not empty, not too long, no path separators or control
/// characters, not `.` or `..`.
pub(crate) fn check_name(what: &str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid(format!("a {what} name cannot be empty")));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.len() > MAX_NAME_BYTES {
        return Err(Error::invalid(format!(
            "the {what} name '{name}' is too long: at most {MAX_NAME_CHARS} characters and {MAX_NAME_BYTES} bytes (in UTF-8) are allowed, as it becomes a folder name"
        )));
    }
    if name == "." || name == ".." {
        return Err(Error::invalid(format!(
            "'{name}' is not a valid {what} name: '.' and '..' already name folders (this one and the one above); choose another name"
        )));
    }
    if name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "'{name}' is not a valid {what} name: it may not contain '/', '\\' or control characters; choose another name"
        )));
    }
    Ok(name.to_string())
}

/// Checks a new project's name as creating it would (see [`check_name`]); the trimmed name.
pub fn check_project_name(name: &str) -> Result<String> {
    check_name("project", name)
}

impl Vault {
    pub(crate) fn ensure_default_workspace(&self) -> Result<()> {
        let db = self.db();
        let now = self.now();
        db.execute(
            "INSERT INTO workspaces (name, created_at) SELECT ?1, ?2
             WHERE NOT EXISTS (SELECT 1 FROM workspaces)",
            params![DEFAULT_WORKSPACE, now],
        )?;
        Ok(())
    }
}

impl VaultReader {
    /// All workspaces, by name.
    pub fn workspaces(&self) -> Result<Vec<Workspace>> {
        let active = self.current_workspace()?.id;
        let db = self.db();
        let mut stmt = db.prepare(
            "SELECT w.id, w.name, w.created_at,
                    (SELECT count(*) FROM projects p WHERE p.workspace_id = w.id AND p.status != 'deleted')
             FROM workspaces w ORDER BY w.name",
        )?;
        let rows = stmt.query_map([], |r| workspace_from_row(r, false))?;
        let mut out = Vec::new();
        for row in rows {
            let mut ws = row?;
            ws.active = ws.id == active;
            out.push(ws);
        }
        Ok(out)
    }

    /// The workspace with this name.
    pub fn workspace(&self, name: &str) -> Result<Workspace> {
        let db = self.db();
        let ws = db
            .query_row(
                "SELECT w.id, w.name, w.created_at,
                        (SELECT count(*) FROM projects p WHERE p.workspace_id = w.id AND p.status != 'deleted')
                 FROM workspaces w WHERE w.name = ?1",
                [name.trim()],
                |r| {
                    workspace_from_row(r, false)
                },
            )
            .optional()?;
        drop(db);
        let mut ws = ws.ok_or_else(|| {
            Error::not_found(format!(
                "there is no workspace named '{name}'; `kura workspace list` shows them"
            ))
        })?;
        ws.active = self.active_workspace_id()? == Some(ws.id);
        Ok(ws)
    }

    fn active_workspace_id(&self) -> Result<Option<i64>> {
        let db = self.db();
        let id: Option<String> = db
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [ACTIVE_KEY],
                |r| r.get(0),
            )
            .optional()?;
        Ok(id.and_then(|v| v.parse().ok()))
    }

    /// The active workspace (the default one until another is switched to).
    pub fn current_workspace(&self) -> Result<Workspace> {
        let db = self.db();
        let ws = db.query_row(
            "SELECT w.id, w.name, w.created_at,
                    (SELECT count(*) FROM projects p WHERE p.workspace_id = w.id AND p.status != 'deleted')
             FROM workspaces w
             ORDER BY (w.id = (SELECT CAST(value AS INTEGER) FROM settings WHERE key = ?1)) DESC,
                      (w.name = ?2) DESC, w.id
             LIMIT 1",
            params![ACTIVE_KEY, DEFAULT_WORKSPACE],
            |r| {
                workspace_from_row(r, true)
            },
        )?;
        Ok(ws)
    }
}

impl Vault {
    /// Creates a workspace.
    pub fn create_workspace(&self, name: &str) -> Result<Workspace> {
        let name = check_name("workspace", name)?;
        {
            let db = self.db();
            catalog::unique(
                db.execute(
                    "INSERT INTO workspaces (name, created_at) VALUES (?1, ?2)",
                    params![name, self.now()],
                ),
                || format!("a workspace named '{name}' already exists"),
            )?;
        }
        self.workspace(&name)
    }

    /// Renames a workspace.
    pub fn rename_workspace(&self, name: &str, new_name: &str) -> Result<Workspace> {
        let ws = self.workspace(name)?;
        let new_name = check_name("workspace", new_name)?;
        {
            let db = self.db();
            let taken: bool = db.query_row(
                "SELECT EXISTS (SELECT 1 FROM workspaces WHERE name = ?1 AND id != ?2)",
                params![new_name, ws.id],
                |r| r.get(0),
            )?;
            if taken {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("a workspace named '{new_name}' already exists"),
                ));
            }
            db.execute(
                "UPDATE workspaces SET name = ?1 WHERE id = ?2",
                params![new_name, ws.id],
            )?;
        }
        self.workspace(&new_name)
    }

    /// Makes a workspace the active one.
    pub fn switch_workspace(&self, name: &str) -> Result<Workspace> {
        let ws = self.workspace(name)?;
        self.db().execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![ACTIVE_KEY, ws.id.to_string()],
        )?;
        self.workspace(name)
    }

    /// Deletes a workspace. Refused while it holds projects (trash included), unless `move_to`
    /// names a workspace to move them to first (in the same transaction). The last workspace
    /// cannot be deleted.
    pub fn delete_workspace(&self, name: &str, move_to: Option<&str>) -> Result<()> {
        let ws = self.workspace(name)?;
        let target = move_to.map(|t| self.workspace(t)).transpose()?;
        if let Some(t) = &target {
            if t.id == ws.id {
                return Err(Error::invalid(
                    "cannot move projects to the workspace being deleted",
                ));
            }
        }
        let mut db = self.db();
        let tx = db.transaction()?;
        let count: i64 = tx.query_row("SELECT count(*) FROM workspaces", [], |r| r.get(0))?;
        if count <= 1 {
            return Err(Error::conflict(format!(
                "'{}' is the only workspace; create another one before deleting it",
                ws.name
            )));
        }
        let held: i64 = tx.query_row(
            "SELECT count(*) FROM projects WHERE workspace_id = ?1",
            [ws.id],
            |r| r.get(0),
        )?;
        if held > 0 {
            let Some(t) = &target else {
                return Err(Error::conflict(format!(
                    "workspace '{}' still holds {held} project(s) (trash included); move them with --move-to <workspace> or delete them first",
                    ws.name
                ))
                .with_field("move_to"));
            };
            let clash: Option<String> = tx
                .query_row(
                    "SELECT a.name FROM projects a JOIN projects b ON a.name = b.name
                     WHERE a.workspace_id = ?1 AND b.workspace_id = ?2 LIMIT 1",
                    params![ws.id, t.id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(clash) = clash {
                return Err(Error::conflict(format!(
                    "workspace '{}' already has a project named '{clash}'; rename one of them first",
                    t.name
                )));
            }
            tx.execute(
                "UPDATE projects SET workspace_id = ?1 WHERE workspace_id = ?2",
                params![t.id, ws.id],
            )?;
        }
        tx.execute("DELETE FROM workspaces WHERE id = ?1", [ws.id])?;
        tx.execute(
            "DELETE FROM settings WHERE key = ?1 AND value = ?2",
            params![ACTIVE_KEY, ws.id.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }
}
