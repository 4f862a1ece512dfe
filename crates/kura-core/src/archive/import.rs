//! Importing an archive file (`.tar.zst`, `.tar.gz`, `.zip`) as a new project.
//!
//! The archive is unpacked into a staging folder beside the managed projects (every entry
//! checked, see `unpack`), within the room the quotas leave; only then does a project appear.
//! A Kura archive (one folder holding `metadata.json`, `history.bundle` and `files/`) comes back
//! with its whole history, tags and metadata; any other archive becomes a project whose first
//! version is its content (a single top folder, as in `site-1.2/...`, is unwrapped).

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::archive::unpack::{self, Format};
use crate::archive::Target;
use crate::error::{Error, Result};
use crate::job::Job;
use crate::model::{Project, ProjectEdit};
use crate::vault::Vault;

/// How to import an archive file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ImportArchiveOptions {
    /// Name; else the archived project's name, the archive's single top folder, or the file name.
    pub name: Option<String>,
    /// Workspace; the active one when `None`.
    pub workspace: Option<String>,
    /// Project kind; `imported` when `None` (a Kura archive keeps its own).
    pub kind: Option<String>,
}

/// The file name without `.tar.zst`, `.tar.gz`, `.tgz` or `.zip`.
fn stem_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for ext in [".tar.zst", ".tar.gz", ".tzst", ".tgz", ".zip"] {
        if let Some(s) = name.strip_suffix(ext) {
            return s.to_string();
        }
    }
    name
}

/// The single folder an archive's entries all sit in, if there is exactly one and nothing else.
fn single_top(dir: &Path) -> Option<PathBuf> {
    let mut rd = fs::read_dir(dir).ok()?;
    let first = rd.next()?.ok()?;
    if rd.next().is_some() || !first.file_type().ok()?.is_dir() {
        return None;
    }
    Some(first.path())
}

impl Vault {
    /// Imports an archive file as a new project. Entries that would land outside the project
    /// (`..`, absolute paths, links pointing out, device files) are refused with `path_escape`;
    /// a truncated or damaged archive gives `corrupt`; either way no project is created and
    /// nothing is left behind.
    pub fn import_archive(
        &self,
        path: &Path,
        opts: &ImportArchiveOptions,
        job: &Job,
    ) -> Result<Project> {
        let format = self.check_import(path, opts)?;
        let guess = opts.name.clone().unwrap_or_else(|| stem_of(path));
        let staging = self.staging_dir("import")?;
        let unpacked = staging.content();
        let budget = self.quota_budget(&guess)?;
        unpack::unpack(
            path,
            format,
            &unpacked,
            budget.as_ref(),
            &self.config().archive,
            job,
        )?;
        job.check()?;
        match crate::archive::kura_archive_top(&unpacked)? {
            Some(top) => self.import_kura_archive(&top, opts, job),
            None => self.import_plain_archive(path, &unpacked, &staging, guess, opts, job),
        }
    }

    /// Refuses what an import could not carry out before anything is unpacked: a missing file, a
    /// format it does not read, a bad kind or name, a name taken, a workspace that does not exist.
    fn check_import(&self, path: &Path, opts: &ImportArchiveOptions) -> Result<Format> {
        if !path.is_file() {
            return Err(
                Error::not_found(format!("there is no archive file {}", path.display()))
                    .with_field("path"),
            );
        }
        let format = Format::detect(path).map_err(|e| e.with_field("path"))?;
        if let Some(kind) = &opts.kind {
            crate::project::workspace::check_name("project kind", kind)?;
        }
        if let Some(n) = &opts.name {
            crate::project::workspace::check_name("project", n)
                .and_then(|_| self.check_name_free(n, opts.workspace.as_deref()))
                .map_err(|e| e.with_field("name"))?;
        }
        if let Some(w) = &opts.workspace {
            self.workspace(w)?;
        }
        Ok(format)
    }

    /// A Kura archive unpacked at `top`: the project comes back with its history, under the
    /// archive's name unless `opts` names it, with `opts`'s kind if it gives one (or not at all).
    fn import_kura_archive(
        &self,
        top: &Path,
        opts: &ImportArchiveOptions,
        job: &Job,
    ) -> Result<Project> {
        let meta = crate::archive::read_metadata(top)?;
        let name = opts.name.clone().unwrap_or(meta.name);
        let p = self.restore_unpacked(
            top,
            Target::New {
                name,
                workspace: opts.workspace.clone(),
            },
            false,
            job,
        )?;
        let Some(kind) = &opts.kind else {
            return Ok(p);
        };
        let edit = ProjectEdit {
            kind: Some(kind.clone()),
            ..Default::default()
        };
        self.change_project(&p.id, &edit).inspect_err(|_| {
            let _ = self.hard_delete_project(&p.id);
        })
    }

    /// Any other archive, unpacked in `unpacked` (in `staging`): its content (a single top
    /// folder unwrapped) becomes a new project, named by `opts`, that folder or `guess` (the
    /// file's name), whose first version is what the archive held.
    fn import_plain_archive(
        &self,
        path: &Path,
        unpacked: &Path,
        staging: &crate::fs::staging::Staging,
        guess: String,
        opts: &ImportArchiveOptions,
        job: &Job,
    ) -> Result<Project> {
        let content = single_top(unpacked).unwrap_or_else(|| unpacked.to_path_buf());
        let name = match &opts.name {
            Some(n) => n.clone(),
            None if content != unpacked => content
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(guess),
            None => guess,
        };
        crate::project::workspace::check_name("project", &name)?;
        self.check_name_free(&name, opts.workspace.as_deref())?;
        crate::files::require_real_folder(&content, "the archive's content")?;
        // Until the catalog row exists, the folder is the staging's: cleanup removes it if
        // this process dies first.
        let folder = self.unique_project_folder_for(&name, Some(staging))?;
        if let Err(e) = crate::fs::durable::rename(&content, &folder) {
            let _ = fs::remove_dir(&folder);
            return Err(e);
        }
        let kind = opts.kind.clone().unwrap_or_else(|| "imported".into());
        let project = match self.insert_project(
            &name,
            opts.workspace.as_deref(),
            &kind,
            "",
            false,
            &folder,
            Some(staging),
        ) {
            Ok(p) => p,
            Err(e) => {
                let _ = fs::remove_dir_all(&folder);
                return Err(e);
            }
        };
        self.first_version(
            &project.id,
            format!("Imported from {}", path.display()),
            job,
        )
    }
}
