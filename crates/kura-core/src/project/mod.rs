//! Projects and workspaces: made (blank, from a template, imported), found, listed, edited and
//! trashed. This file holds a project's life (creation, lookup, metadata, trash);
//! `listing.rs` answers project lists from memory, `template.rs` the templates, `workspace.rs`
//! the workspaces, and `detect.rs` tells a project's languages and frameworks from its files.

pub(crate) mod detect;
pub(crate) mod listing;
pub(crate) mod template;
pub(crate) mod workspace;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use self::workspace::check_name;
use crate::catalog::{self, projects};
use crate::error::{Error, ErrorKind, Result};
use crate::files::SkippedFile;
use crate::fs::durable;
use crate::fs::staging::Staging;
use crate::history;
use crate::history::snapshot::{SnapshotOptions, SnapshotReport};
use crate::job::Job;
use crate::vault::Vault;
use crate::vault::VaultReader;

use crate::model::{ImportOptions, NewProject, Project, ProjectEdit, ProjectFilter, ProjectStatus};

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
            self.listing().get(&db, reference.trim())?
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
        let known = projects::id_if_known(&self.db(), reference)?;
        if let Some(id) = known {
            return Ok(id);
        }
        if let Some((ws, name)) = reference.split_once('/') {
            let found = projects::id_in_workspace_named(&self.db(), ws, name)?;
            if let Some(id) = found {
                return Ok(id);
            }
        }
        let current = self.current_workspace()?;
        let db = self.db();
        if let Some(id) = projects::id_in_workspace(&db, current.id, reference)? {
            return Ok(id);
        }
        let hits = projects::ids_named(&db, reference)?;
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
        projects::by_id(&self.db(), id)?
            .ok_or_else(|| Error::not_found(format!("there is no project with id {id}")))
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
            self.listing().all(&db)?
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
    /// with `link`, tracks it in place. Records the first version, and answers with the project
    /// what of the folder that version does not hold.
    pub fn import_folder(
        &self,
        source: &Path,
        opts: &ImportOptions,
        job: &Job,
    ) -> Result<ImportReport> {
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
        // Measured only against a quota: the first version's scan reads the same folder again.
        if self.quota_set() {
            let incoming: u64 =
                crate::files::scan(&source, &self.config(), crate::files::Walk::Threads)?
                    .files
                    .iter()
                    .map(|f| f.size)
                    .sum();
            self.check_quota(None, &name, incoming, 0)?;
        }
        let mut skipped = Vec::new();
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
            match crate::files::copy_tree(&source, &folder, &self.config(), job) {
                Ok(left_out) => skipped = left_out,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&folder);
                    return Err(e);
                }
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
        let (project, report) = self.first_version_report(
            &project.id,
            format!("Imported from {}", source.display()),
            job,
        )?;
        skipped.extend(report.skipped);
        Ok(ImportReport { project, skipped })
    }

    /// Records a new project's first version; on failure the project is deleted again, so
    /// nothing half-made is left.
    pub(crate) fn first_version(&self, id: &str, message: String, job: &Job) -> Result<Project> {
        self.first_version_report(id, message, job).map(|(p, _)| p)
    }

    /// [`Vault::first_version`], with what the snapshot reported.
    fn first_version_report(
        &self,
        id: &str,
        message: String,
        job: &Job,
    ) -> Result<(Project, SnapshotReport)> {
        let snap = self.snapshot(
            id,
            &SnapshotOptions {
                message: Some(message),
                ..Default::default()
            },
            job,
        );
        match snap {
            Ok(report) => Ok((self.project_by_id(id)?, report)),
            Err(e) => {
                let _ = self.hard_delete_project(id);
                Err(e)
            }
        }
    }
}

/// What an import did: the new project, and what of the folder its first version does not hold.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// The new project.
    pub project: Project,
    /// What was left out, and why: files that could not be read (a copy leaves them out; a
    /// linked folder keeps them, unversioned), folders that could not be read, and names no
    /// restore could write back. Empty when the first version holds the whole folder.
    pub skipped: Vec<SkippedFile>,
}

impl VaultReader {
    fn project_linked_at(&self, path: &Path) -> Result<Option<String>> {
        projects::name_at(&self.db(), path)
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
        if projects::name_taken(&self.db(), ws.id, name)? {
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
        let row = projects::NewRow {
            kind,
            description,
            linked,
            ..projects::NewRow::made_now(&id, ws.id, &name, folder, self.now())
        };
        let res = projects::insert(&self.db(), &row);
        if let Err(e) = catalog::unique(res, || name_taken_message(&ws.name, &name)) {
            let _ = std::fs::remove_dir_all(self.history_path(&id));
            return Err(e);
        }
        self.project_by_id(&id)
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
        let change = projects::Change {
            name: name.as_deref(),
            workspace_id: ws.as_ref().map(|w| w.id),
            description: edit.description.as_deref(),
            kind: edit.kind.as_deref().map(str::trim),
            git_remote: edit.git_remote.as_deref().map(str::trim),
        };
        let res = projects::change(&tx, &p.id, &change, self.now());
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
            projects::add_tag(&tx, &p.id, t)?;
        }
        for t in remove {
            projects::remove_tag(&tx, &p.id, t.trim())?;
        }
        projects::set_updated(&tx, &p.id, self.now())?;
        tx.commit()?;
        drop(db);
        self.project_by_id(&p.id)
    }

    fn add_tag(&self, id: &str, tag: &str) -> Result<()> {
        projects::add_tag(&self.db(), id, &check_tag(tag)?)
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
            projects::set_metadata(&tx, &p.id, key, value.as_deref())?;
        }
        projects::set_updated(&tx, &p.id, self.now())?;
        tx.commit()?;
        drop(db);
        self.project_by_id(&p.id)
    }

    /// Records that the project was opened (for "recently opened" and idle detection).
    pub fn touch_project(&self, reference: &str) -> Result<()> {
        let p = self.project(reference)?;
        projects::set_opened(&self.db(), &p.id, self.now())
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
        projects::trash(&self.db(), &p.id, self.now())?;
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
        projects::untrash(&self.db(), &p.id, self.now())?;
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
            projects::delete(&tx, &p.id)?;
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
