//! Projects and workspaces: made (blank, from a template, imported), found, listed, edited and
//! trashed. This file holds a project's life (creation, lookup, metadata, trash);
//! `listing.rs` answers project lists from memory, `template.rs` the templates, `workspace.rs`
//! the workspaces, and `detect.rs` tells a project's languages and frameworks from its files.

pub(crate) mod detect;
pub(crate) mod listing;
pub(crate) mod template;
pub(crate) mod workspace;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{params, OptionalExtension, Row};

use self::workspace::check_name;
use crate::catalog;
use crate::error::{Error, ErrorKind, Result};
use crate::fs::durable;
use crate::fs::staging::Staging;
use crate::history;
use crate::history::snapshot::SnapshotOptions;
use crate::job::Job;
use crate::vault::Vault;
use crate::vault::VaultReader;

use crate::model::{ImportOptions, NewProject, Project, ProjectEdit, ProjectFilter, ProjectStatus};

/// The columns of the project row itself (the first 17 that `project_from_row` reads).
macro_rules! project_base_columns {
    () => {
        "p.id, p.name, w.name, p.kind, p.description, p.status, p.linked, p.path,
         p.git_remote, p.created_at, p.updated_at, p.last_opened_at, p.deleted_at, p.logical_size,
         p.stored_size, p.file_count, p.head"
    };
}

const PROJECT_BASE_COLUMNS: &str = project_base_columns!();

/// The project columns, with its labels and metadata folded into two strings (unit and record
/// separators) so one query returns a whole project.
const PROJECT_COLUMNS: &str = concat!(
    project_base_columns!(),
    ", (SELECT group_concat(l.kind || char(31) || l.value, char(30)) FROM labels l WHERE l.project_id = p.id),
     (SELECT group_concat(m.key || char(31) || m.value, char(30)) FROM metadata m WHERE m.project_id = p.id)"
);

/// Every project of the catalog (the caller holds a read transaction): three table scans
/// (projects, labels, metadata) cost far less than a labels and a metadata lookup per project.
fn load_every_project(tx: &rusqlite::Connection) -> Result<Vec<Project>> {
    let mut projects: Vec<Project> = tx
        .prepare(&format!(
            "SELECT {PROJECT_BASE_COLUMNS}, NULL, NULL FROM projects p JOIN workspaces w ON w.id = p.workspace_id"
        ))?
        .query_map([], project_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let at: rustc_hash::FxHashMap<String, usize> = projects
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i))
        .collect();
    // Text is looked at in place; only what is kept is copied out.
    fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
        Ok(r.get_ref(i)?.as_str()?)
    }
    {
        let mut labels = tx.prepare("SELECT project_id, kind, value FROM labels")?;
        let mut rows = labels.query([])?;
        while let Some(r) = rows.next()? {
            if let Some(&i) = at.get(text(r, 0)?) {
                let value = text(r, 2)?.to_string();
                let p = &mut projects[i];
                match text(r, 1)? {
                    "language" => p.languages.push(value),
                    "framework" => p.frameworks.push(value),
                    _ => p.tags.push(value),
                }
            }
        }
        let mut metadata = tx.prepare("SELECT project_id, key, value FROM metadata")?;
        let mut rows = metadata.query([])?;
        while let Some(r) = rows.next()? {
            if let Some(&i) = at.get(text(r, 0)?) {
                projects[i]
                    .metadata
                    .insert(text(r, 1)?.to_string(), text(r, 2)?.to_string());
            }
        }
    }
    Ok(projects)
}

/// The projects whose revision is above `rev`, and the ids of projects removed since.
fn load_changed_projects(
    tx: &rusqlite::Connection,
    rev: i64,
) -> Result<(Vec<Project>, Vec<String>)> {
    let changed = tx
        .prepare_cached(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects p JOIN workspaces w ON w.id = p.workspace_id WHERE p.rev > ?1"
        ))?
        .query_map([rev], project_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let removed = tx
        .prepare_cached("SELECT id FROM removed_projects WHERE rev > ?1")?
        .query_map([rev], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok((changed, removed))
}

fn project_from_row(r: &Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project {
        id: r.get(0)?,
        name: r.get(1)?,
        workspace: r.get(2)?,
        kind: r.get(3)?,
        description: r.get(4)?,
        status: ProjectStatus::parse(&r.get::<_, String>(5)?),
        linked: r.get(6)?,
        path: PathBuf::from(r.get::<_, String>(7)?),
        git_remote: r.get(8)?,
        languages: Vec::new(),
        frameworks: Vec::new(),
        tags: Vec::new(),
        metadata: BTreeMap::new(),
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        last_opened_at: r.get(11)?,
        deleted_at: r.get(12)?,
        logical_size: r.get::<_, i64>(13)? as u64,
        stored_size: r.get::<_, i64>(14)? as u64,
        file_count: r.get::<_, i64>(15)? as u64,
        head: r.get(16)?,
    })
    .and_then(|mut p| {
        if let Some(labels) = r.get_ref(17)?.as_str_or_null()? {
            for item in labels.split('\x1e') {
                if let Some((kind, value)) = item.split_once('\x1f') {
                    match kind {
                        "language" => p.languages.push(value.to_string()),
                        "framework" => p.frameworks.push(value.to_string()),
                        _ => p.tags.push(value.to_string()),
                    }
                }
            }
        }
        if let Some(meta) = r.get_ref(18)?.as_str_or_null()? {
            for item in meta.split('\x1e') {
                if let Some((k, v)) = item.split_once('\x1f') {
                    p.metadata.insert(k.to_string(), v.to_string());
                }
            }
        }
        Ok(p)
    })
}

/// A new random project id: 16 hex digits.
pub(crate) fn new_project_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = blake3::Hasher::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.update(&now.to_le_bytes());
    h.update(&std::process::id().to_le_bytes());
    h.update(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    h.update(&rand_bytes());
    hex::encode(&h.finalize().as_bytes()[..8])
}

fn rand_bytes() -> [u8; 16] {
    let mut buf = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut buf);
    }
    buf
}

/// A folder name for a managed project: the name with unsafe characters replaced.
pub(crate) fn folder_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches(['-', '.']).to_string();
    if s.is_empty() {
        "project".to_string()
    } else {
        s
    }
}

/// What a create, import or unarchive is told when the workspace has a project of that name
/// already (checked first, and again by the catalog's uniqueness when two race).
pub(crate) fn name_taken_message(workspace: &str, name: &str) -> String {
    format!("workspace '{workspace}' already has a project named '{name}'; pass another name")
}

fn check_tag(tag: &str) -> Result<String> {
    let t = tag.trim();
    if t.is_empty() || t.len() > 64 || t.chars().any(|c| c.is_control() || c == ',') {
        return Err(Error::invalid(format!(
            "'{tag}' is not a valid tag: 1 to 64 characters, no commas"
        ))
        .with_field("tags"));
    }
    Ok(t.to_string())
}

impl VaultReader {
    /// Finds a project by id, by `workspace/name`, or by name (in the active workspace first,
    /// then anywhere if the name is unique).
    pub fn project(&self, reference: &str) -> Result<Project> {
        // Doors name projects by id on every request: answered from the in-memory list.
        let known = {
            let db = self.db();
            self.listing().get(
                &db,
                reference.trim(),
                load_every_project,
                load_changed_projects,
            )?
        };
        if let Some(p) = known {
            return Ok((*p).clone());
        }
        let id = self.resolve_project(reference)?;
        self.project_by_id(&id)
    }

    fn resolve_project(&self, reference: &str) -> Result<String> {
        let reference = reference.trim();
        // Doors name projects by id on every request: that lookup comes first and is cheap.
        let db = self.db();
        if let Some(id) = db
            .prepare_cached("SELECT id FROM projects WHERE id = ?1")?
            .query_row([reference], |r| r.get::<_, String>(0))
            .optional()?
        {
            return Ok(id);
        }
        if let Some((ws, name)) = reference.split_once('/') {
            if let Some(id) = db
                .prepare_cached(
                    "SELECT p.id FROM projects p JOIN workspaces w ON w.id = p.workspace_id
                     WHERE w.name = ?1 AND p.name = ?2",
                )?
                .query_row(params![ws, name], |r| r.get::<_, String>(0))
                .optional()?
            {
                return Ok(id);
            }
        }
        drop(db);
        let current = self.current_workspace()?;
        let db = self.db();
        if let Some(id) = db
            .prepare_cached("SELECT id FROM projects WHERE workspace_id = ?1 AND name = ?2")?
            .query_row(params![current.id, reference], |r| r.get::<_, String>(0))
            .optional()?
        {
            return Ok(id);
        }
        let mut stmt = db.prepare("SELECT p.id, w.name FROM projects p JOIN workspaces w ON w.id = p.workspace_id WHERE p.name = ?1")?;
        let hits: Vec<(String, String)> = stmt
            .query_map([reference], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        match hits.len() {
            1 => Ok(hits[0].0.clone()),
            0 => Err(Error::not_found(format!(
                "there is no project '{reference}'; `kura project list --all` shows them"
            ))),
            _ => {
                Err(Error::invalid(format!(
                "several workspaces have a project named '{reference}' ({}); write workspace/name",
                hits.iter().map(|h| h.1.as_str()).collect::<Vec<_>>().join(", ")
            )))
            }
        }
    }

    pub(crate) fn project_by_id(&self, id: &str) -> Result<Project> {
        let db = self.db();
        let p = db
            .prepare_cached(&format!(
                "SELECT {PROJECT_COLUMNS} FROM projects p JOIN workspaces w ON w.id = p.workspace_id WHERE p.id = ?1"
            ))?
            .query_row([id], project_from_row)
            .optional()?
            .ok_or_else(|| Error::not_found(format!("there is no project with id {id}")))?;
        Ok(p)
    }

    /// Projects matching `filter` (shared with the vault's in-memory list: no copies).
    pub fn projects(&self, filter: &ProjectFilter) -> Result<Vec<Arc<Project>>> {
        let workspace = match (&filter.workspace, filter.all_workspaces) {
            (_, true) => None,
            (Some(name), false) => Some(self.workspace(name)?.name),
            (None, false) => Some(self.current_workspace()?.name),
        };
        let all = {
            let db = self.db();
            self.listing()
                .all(&db, load_every_project, load_changed_projects)?
        };
        Ok(listing::select(&all, filter, workspace.as_deref()))
    }
}

impl Vault {
    /// Creates a project, blank or from a template, and records its first version.
    pub fn create_project(&self, new: &NewProject) -> Result<Project> {
        let template_name = new.template.as_deref().unwrap_or("empty");
        let tmpl = self.template(template_name)?;
        let folder = self.unique_project_folder(&new.name)?;
        durable::create_dir_all(&folder)?;
        if let Err(e) = template::write_into(&tmpl, &folder).and_then(|_| {
            self.check_quota(
                None,
                &new.name,
                crate::history::snapshot::dir_size(&folder),
                0,
            )
        }) {
            let _ = std::fs::remove_dir_all(&folder);
            return Err(e);
        }
        let kind = new.kind.clone().unwrap_or_else(|| "manual".to_string());
        let project = match self.insert_project(
            &new.name,
            new.workspace.as_deref(),
            &kind,
            &new.description,
            false,
            &folder,
            None,
        ) {
            Ok(p) => p,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&folder);
                return Err(e);
            }
        };
        for tag in &new.tags {
            self.add_tag(&project.id, tag)?;
        }
        self.snapshot(
            &project.id,
            &SnapshotOptions {
                message: Some(format!("Created from the {template_name} template")),
                ..Default::default()
            },
            &Job::default(),
        )?;
        self.project_by_id(&project.id)
    }

    /// Imports a folder as a new project: copies it into the vault (honouring ignore rules), or
    /// with `link`, tracks it in place. Records the first version.
    pub fn import_folder(&self, source: &Path, opts: &ImportOptions, job: &Job) -> Result<Project> {
        let source = source
            .canonicalize()
            .map_err(|e| Error::io("open folder", source, e).with_field("path"))?;
        if !source.is_dir() {
            return Err(
                Error::invalid(format!("{} is not a folder", source.display())).with_field("path"),
            );
        }
        if source.starts_with(self.root()) || self.root().starts_with(&source) {
            return Err(Error::invalid(format!(
                "{} overlaps the vault folder {}; import a folder outside the vault",
                source.display(),
                self.root().display()
            ))
            .with_field("path"));
        }
        let name = match &opts.name {
            Some(n) => n.clone(),
            None => source
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| Error::invalid("the folder has no name; pass --name"))?,
        };
        let kind = opts.kind.clone().unwrap_or_else(|| "imported".to_string());
        let incoming: u64 = crate::files::scan(&source, &self.config())?
            .files
            .iter()
            .map(|f| f.size)
            .sum();
        self.check_quota(None, &name, incoming, 0)?;
        let folder = if opts.link {
            if let Some(existing) = self.project_linked_at(&source)? {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!(
                        "{} is already tracked as project '{existing}'",
                        source.display()
                    ),
                ));
            }
            source.clone()
        } else {
            // Validate the name before copying anything.
            check_name("project", &name)?;
            let folder = self.unique_project_folder(&name)?;
            if let Err(e) = crate::files::copy_tree(&source, &folder, &self.config(), job) {
                let _ = std::fs::remove_dir_all(&folder);
                return Err(e);
            }
            folder
        };
        let project = match self.insert_project(
            &name,
            opts.workspace.as_deref(),
            &kind,
            "",
            opts.link,
            &folder,
            None,
        ) {
            Ok(p) => p,
            Err(e) => {
                if !opts.link {
                    let _ = std::fs::remove_dir_all(&folder);
                }
                return Err(e);
            }
        };
        self.first_version(
            &project.id,
            format!("Imported from {}", source.display()),
            job,
        )
    }

    /// Records a new project's first version; on failure the project is deleted again, so
    /// nothing half-made is left.
    pub(crate) fn first_version(&self, id: &str, message: String, job: &Job) -> Result<Project> {
        let snap = self.snapshot(
            id,
            &SnapshotOptions {
                message: Some(message),
                ..Default::default()
            },
            job,
        );
        if let Err(e) = snap {
            let _ = self.hard_delete_project(id);
            return Err(e);
        }
        self.project_by_id(id)
    }
}

impl VaultReader {
    fn project_linked_at(&self, path: &Path) -> Result<Option<String>> {
        let db = self.db();
        Ok(db
            .query_row(
                "SELECT name FROM projects WHERE path = ?1",
                [path.to_string_lossy()],
                |r| r.get(0),
            )
            .optional()?)
    }
}

impl Vault {
    /// Claims a fresh folder for a managed project: created empty here, so that two creates or
    /// imports at the same moment never share one (and one's cleanup cannot remove the other's
    /// files). A rename of a finished folder onto the claimed one replaces it.
    pub(crate) fn unique_project_folder(&self, name: &str) -> Result<PathBuf> {
        self.unique_project_folder_for(name, None)
    }

    /// Like [`Vault::unique_project_folder`]; with `staging`, each name is claimed by it before
    /// the folder is made, so that no kill leaves a folder nobody claimed (cleanup leaves a
    /// claimed name alone while another running staging claims it too).
    pub(crate) fn unique_project_folder_for(
        &self,
        name: &str,
        staging: Option<&crate::fs::staging::Staging>,
    ) -> Result<PathBuf> {
        // The folder is named after the project: a name too long for it is refused first.
        check_name("project", name)?;
        let base = self.projects_dir();
        durable::create_dir_all(&base)?;
        let stem = folder_name(name);
        let mut candidate = base.join(&stem);
        let mut n = 2;
        loop {
            // Only a name nothing has is claimed: cleanup never takes a folder that was there.
            let taken = std::fs::symlink_metadata(&candidate).is_ok();
            if let (Some(staging), false) = (staging, taken) {
                staging.claim(&candidate)?;
            }
            let made = if taken {
                Err(std::io::ErrorKind::AlreadyExists.into())
            } else {
                std::fs::create_dir(&candidate)
            };
            match made {
                Ok(()) => return Ok(candidate),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    candidate = base.join(format!("{stem}-{n}"));
                    n += 1;
                }
                Err(e) => return Err(Error::io("create folder", &candidate, e)),
            }
        }
    }
}

impl VaultReader {
    /// Fails with `already_exists` when the workspace (the active one for `None`) has a project
    /// named `name`.
    pub(crate) fn check_name_free(&self, name: &str, workspace: Option<&str>) -> Result<()> {
        let ws = match workspace {
            Some(w) => self.workspace(w)?,
            None => self.current_workspace()?,
        };
        let taken: bool = self.db().query_row(
            "SELECT EXISTS (SELECT 1 FROM projects WHERE workspace_id = ?1 AND name = ?2)",
            params![ws.id, name],
            |r| r.get(0),
        )?;
        if taken {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                name_taken_message(&ws.name, name),
            ));
        }
        Ok(())
    }
}

impl Vault {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert_project(
        &self,
        name: &str,
        workspace: Option<&str>,
        kind: &str,
        description: &str,
        linked: bool,
        folder: &Path,
        staging: Option<&Staging>,
    ) -> Result<Project> {
        let name = check_name("project", name)?;
        let ws = match workspace {
            Some(w) => self.workspace(w)?,
            None => self.current_workspace()?,
        };
        let id = new_project_id();
        // Made before its row: an import's staging claims it, so that cleanup removes it when
        // the process dies in between.
        if let Some(s) = staging {
            s.claim(&self.history_path(&id))?;
        }
        history::init(&self.history_path(&id))?;
        let now = self.now();
        let res = self.db().execute(
            "INSERT INTO projects (id, workspace_id, name, kind, description, status, linked, path, created_at, updated_at, last_opened_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, ?8, ?8, ?8)",
            params![id, ws.id, name, kind, description, linked, folder.to_string_lossy(), now],
        );
        if let Err(e) = catalog::unique(res, || name_taken_message(&ws.name, &name)) {
            let _ = std::fs::remove_dir_all(self.history_path(&id));
            return Err(e);
        }
        self.project_by_id(&id)
    }

    /// Renames a project (its folder keeps its place).
    pub fn rename_project(&self, reference: &str, new_name: &str) -> Result<Project> {
        self.change_project(
            reference,
            &ProjectEdit {
                name: Some(new_name.to_string()),
                ..Default::default()
            },
        )
    }

    /// Moves a project to another workspace.
    pub fn move_project(&self, reference: &str, workspace: &str) -> Result<Project> {
        self.change_project(
            reference,
            &ProjectEdit {
                workspace: Some(workspace.to_string()),
                ..Default::default()
            },
        )
    }

    /// Changes the description, kind or git remote (fields left `None` are unchanged; an empty
    /// git remote clears it).
    pub fn edit_project(
        &self,
        reference: &str,
        description: Option<&str>,
        kind: Option<&str>,
        git_remote: Option<&str>,
    ) -> Result<Project> {
        self.change_project(
            reference,
            &ProjectEdit {
                description: description.map(str::to_string),
                kind: kind.map(str::to_string),
                git_remote: git_remote.map(str::to_string),
                ..Default::default()
            },
        )
    }

    /// Changes what `edit` names (name, workspace, description, kind, git remote) in one
    /// transaction: all of it or, when one part is refused (a name taken in the workspace, a
    /// workspace that does not exist), none of it.
    pub fn change_project(&self, reference: &str, edit: &ProjectEdit) -> Result<Project> {
        let p = self.project(reference)?;
        let name = edit
            .name
            .as_deref()
            .map(|n| check_name("project", n))
            .transpose()?;
        if let Some(k) = &edit.kind {
            check_name("project kind", k)?;
        }
        let ws = edit
            .workspace
            .as_deref()
            .map(|w| self.workspace(w))
            .transpose()?;
        let mut db = self.db();
        let tx = db.transaction()?;
        let res = tx.execute(
            "UPDATE projects SET
                name = coalesce(?1, name),
                workspace_id = coalesce(?2, workspace_id),
                description = coalesce(?3, description),
                kind = coalesce(?4, kind),
                git_remote = CASE WHEN ?5 IS NULL THEN git_remote WHEN ?5 = '' THEN NULL ELSE ?5 END,
                updated_at = ?6
             WHERE id = ?7",
            params![
                name,
                ws.as_ref().map(|w| w.id),
                edit.description,
                edit.kind.as_deref().map(str::trim),
                edit.git_remote.as_deref().map(str::trim),
                self.now(),
                p.id
            ],
        );
        catalog::unique(res, || {
            format!(
                "workspace '{}' already has a project named '{}'",
                ws.as_ref()
                    .map_or(p.workspace.as_str(), |w| w.name.as_str()),
                name.as_deref().unwrap_or(p.name.as_str())
            )
        })?;
        tx.commit()?;
        drop(db);
        self.project_by_id(&p.id)
    }

    /// Adds tags and removes tags, in one transaction.
    pub fn tag_project(
        &self,
        reference: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<Project> {
        let p = self.project(reference)?;
        let add: Vec<String> = add.iter().map(|t| check_tag(t)).collect::<Result<_>>()?;
        let mut db = self.db();
        let tx = db.transaction()?;
        for t in &add {
            tx.execute(
                "INSERT OR IGNORE INTO labels (project_id, kind, value) VALUES (?1, 'tag', ?2)",
                params![p.id, t],
            )?;
        }
        for t in remove {
            tx.execute(
                "DELETE FROM labels WHERE project_id = ?1 AND kind = 'tag' AND value = ?2",
                params![p.id, t.trim()],
            )?;
        }
        tx.execute(
            "UPDATE projects SET updated_at = ?1 WHERE id = ?2",
            params![self.now(), p.id],
        )?;
        tx.commit()?;
        drop(db);
        self.project_by_id(&p.id)
    }

    fn add_tag(&self, id: &str, tag: &str) -> Result<()> {
        let tag = check_tag(tag)?;
        self.db().execute(
            "INSERT OR IGNORE INTO labels (project_id, kind, value) VALUES (?1, 'tag', ?2)",
            params![id, tag],
        )?;
        Ok(())
    }

    /// Sets (value `Some`) or removes (value `None`) metadata keys, in one transaction.
    pub fn set_metadata(
        &self,
        reference: &str,
        changes: &[(String, Option<String>)],
    ) -> Result<Project> {
        let p = self.project(reference)?;
        let mut db = self.db();
        let tx = db.transaction()?;
        for (key, value) in changes {
            let key = key.trim();
            if key.is_empty() || key.len() > 128 {
                return Err(Error::invalid(
                    "a metadata key must have 1 to 128 characters",
                ));
            }
            match value {
                Some(v) => tx.execute(
                    "INSERT INTO metadata (project_id, key, value) VALUES (?1, ?2, ?3)
                     ON CONFLICT(project_id, key) DO UPDATE SET value = excluded.value",
                    params![p.id, key, v],
                )?,
                None => tx.execute(
                    "DELETE FROM metadata WHERE project_id = ?1 AND key = ?2",
                    params![p.id, key],
                )?,
            };
        }
        tx.execute(
            "UPDATE projects SET updated_at = ?1 WHERE id = ?2",
            params![self.now(), p.id],
        )?;
        tx.commit()?;
        drop(db);
        self.project_by_id(&p.id)
    }

    /// Records that the project was opened (for "recently opened" and idle detection).
    pub fn touch_project(&self, reference: &str) -> Result<()> {
        let p = self.project(reference)?;
        self.db().execute(
            "UPDATE projects SET last_opened_at = ?1 WHERE id = ?2",
            params![self.now(), p.id],
        )?;
        Ok(())
    }

    /// Moves a project to the trash. Its folder and history stay until it is purged.
    pub fn trash_project(&self, reference: &str) -> Result<Project> {
        let p = self.project(reference)?;
        if p.status == ProjectStatus::Deleted {
            return Err(Error::conflict(format!(
                "project '{}' is already in the trash",
                p.name
            )));
        }
        let now = self.now();
        self.db().execute(
            "UPDATE projects SET status = 'deleted', deleted_at = ?1, updated_at = ?1 WHERE id = ?2",
            params![now, p.id],
        )?;
        self.project_by_id(&p.id)
    }

    /// Brings a project back from the trash.
    pub fn untrash_project(&self, reference: &str) -> Result<Project> {
        let p = self.project(reference)?;
        if p.status != ProjectStatus::Deleted {
            return Err(Error::conflict(format!(
                "project '{}' is not in the trash",
                p.name
            )));
        }
        // A project trashed while archived goes back to its archive, not to a working folder
        // it no longer has.
        self.db().execute(
            "UPDATE projects SET deleted_at = NULL, updated_at = ?1,
                status = CASE WHEN EXISTS (SELECT 1 FROM archives WHERE project_id = ?2)
                         THEN 'archived' ELSE 'active' END
             WHERE id = ?2",
            params![self.now(), p.id],
        )?;
        self.project_by_id(&p.id)
    }

    /// Deletes a project for good: catalog rows, records, history, and (for managed projects)
    /// its folder.
    /// A linked folder is left where it is. Chunks it alone used are freed by the next `gc`.
    pub fn delete_project(&self, reference: &str) -> Result<()> {
        let p = self.project(reference)?;
        self.hard_delete_project(&p.id)
    }

    pub(crate) fn hard_delete_project(&self, id: &str) -> Result<()> {
        let p = self.project_by_id(id)?;
        let _lock = self.lock_project(&p.id)?;
        self.records()?.remove_scope(&p.id)?;
        {
            let mut db = self.db();
            let tx = db.transaction()?;
            tx.execute("DELETE FROM projects WHERE id = ?1", [&p.id])?;
            tx.commit()?;
        }
        // The catalog no longer refers to them; removing can't leave a dangling reference.
        self.discard(&self.history_path(&p.id))?;
        if !p.linked && p.path.starts_with(self.projects_dir()) {
            self.discard(&p.path)?;
        }
        Ok(())
    }
}
