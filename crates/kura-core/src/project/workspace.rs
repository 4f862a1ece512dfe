//! Workspaces: named groups of projects, one of them active.

use crate::catalog::{self, workspaces};
use crate::error::{Error, ErrorKind, Result};
use crate::model::Workspace;
use crate::vault::VaultReader;
use crate::vault::{Vault, DEFAULT_WORKSPACE};

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
        workspaces::create_first(&self.db(), DEFAULT_WORKSPACE, self.now())
    }
}

impl VaultReader {
    /// All workspaces, by name.
    pub fn workspaces(&self) -> Result<Vec<Workspace>> {
        let active = self.current_workspace()?.id;
        let mut all = workspaces::all(&self.db())?;
        for ws in &mut all {
            ws.active = ws.id == active;
        }
        Ok(all)
    }

    /// The workspace with this name.
    pub fn workspace(&self, name: &str) -> Result<Workspace> {
        let ws = workspaces::named(&self.db(), name.trim())?;
        let mut ws = ws.ok_or_else(|| {
            Error::not_found(format!(
                "there is no workspace named '{name}'; `kura workspace list` shows them"
            ))
        })?;
        ws.active = workspaces::active_id(&self.db())? == Some(ws.id);
        Ok(ws)
    }

    /// The active workspace (the default one until another is switched to).
    pub fn current_workspace(&self) -> Result<Workspace> {
        workspaces::active(&self.db(), DEFAULT_WORKSPACE)
    }
}

impl Vault {
    /// Creates a workspace.
    pub fn create_workspace(&self, name: &str) -> Result<Workspace> {
        let name = check_name("workspace", name)?;
        catalog::unique(workspaces::insert(&self.db(), &name, self.now()), || {
            format!("a workspace named '{name}' already exists")
        })?;
        self.workspace(&name)
    }

    /// Renames a workspace.
    pub fn rename_workspace(&self, name: &str, new_name: &str) -> Result<Workspace> {
        let ws = self.workspace(name)?;
        let new_name = check_name("workspace", new_name)?;
        {
            let db = self.db();
            if workspaces::name_taken(&db, &new_name, ws.id)? {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("a workspace named '{new_name}' already exists"),
                ));
            }
            workspaces::rename(&db, ws.id, &new_name)?;
        }
        self.workspace(&new_name)
    }

    /// Makes a workspace the active one.
    pub fn switch_workspace(&self, name: &str) -> Result<Workspace> {
        let ws = self.workspace(name)?;
        workspaces::set_active(&self.db(), ws.id)?;
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
        if workspaces::count(&tx)? <= 1 {
            return Err(Error::conflict(format!(
                "'{}' is the only workspace; create another one before deleting it",
                ws.name
            )));
        }
        let held = workspaces::projects_held(&tx, ws.id)?;
        if held > 0 {
            let Some(t) = &target else {
                return Err(Error::conflict(format!(
                    "workspace '{}' still holds {held} project(s) (trash included); move them with --move-to <workspace> or delete them first",
                    ws.name
                ))
                .with_field("move_to"));
            };
            if let Some(clash) = workspaces::shared_project_name(&tx, ws.id, t.id)? {
                return Err(Error::conflict(format!(
                    "workspace '{}' already has a project named '{clash}'; rename one of them first",
                    t.name
                )));
            }
            workspaces::move_projects(&tx, ws.id, t.id)?;
        }
        workspaces::delete(&tx, ws.id)?;
        tx.commit()?;
        Ok(())
    }
}
