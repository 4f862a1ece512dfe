//! Making a project of an unpacked Kura archive (unarchive and import): its history from the
//! bundle, the chunks of its large files, its folder from `files/`, its catalog row, its
//! records; whatever fails on the way takes back what was made.

use std::fs;
use std::path::{Path, PathBuf};

use git2::Oid;

use super::bundle::read_bundle;
use super::thin::{complete_history, FORMAT_THIN};
use super::{ArchiveMetadata, FORMAT};
use crate::catalog::{self, filelist, projects};
use crate::error::{Error, ErrorKind, Result};
use crate::fs::durable;
use crate::fs::staging::Staging;
use crate::history;
use crate::history::snapshot::{KnownFiles, SnapshotOptions};
use crate::job::Job;
use crate::model::Project;
use crate::vault::Vault;

/// The single folder at the top of an unpacked Kura archive, if it is one: a real folder
/// holding `metadata.json`, `history.bundle` and `files/`. An archive laid out like that whose
/// parts are links or of the wrong type (`files -> ..` would make the vault itself the new
/// project's folder) is refused with `path_escape`.
pub(crate) fn kura_archive_top(staging: &Path) -> Result<Option<PathBuf>> {
    let Ok(mut entries) = fs::read_dir(staging) else {
        return Ok(None);
    };
    let Some(Ok(first)) = entries.next() else {
        return Ok(None);
    };
    if entries.next().is_some() || !first.file_type().is_ok_and(|t| t.is_dir()) {
        return Ok(None);
    }
    let top = first.path();
    let parts = [
        ("metadata.json", false),
        ("history.bundle", false),
        ("files", true),
    ];
    if !parts
        .iter()
        .all(|(name, _)| fs::symlink_metadata(top.join(name)).is_ok())
    {
        return Ok(None);
    }
    let optional = [
        ("large-files", true),
        (super::thin::HISTORY_BLOBS, true),
        (crate::records::ARCHIVE_RECORDS, false),
        (crate::records::ARCHIVE_COLLECTIONS, false),
    ];
    for (name, folder) in parts.iter().chain(optional.iter()) {
        let path = top.join(name);
        let Ok(md) = fs::symlink_metadata(&path) else {
            continue;
        };
        let right = if *folder { md.is_dir() } else { md.is_file() };
        if md.file_type().is_symlink() || !right {
            return Err(Error::new(
                ErrorKind::PathEscape,
                format!(
                    "the archive's '{}/{name}' is {}, not the {} a Kura archive holds there; the archive is refused and nothing was kept",
                    first.file_name().to_string_lossy(),
                    if md.file_type().is_symlink() { "a symbolic link" } else { "of another type" },
                    if *folder { "folder" } else { "file" },
                ),
            ));
        }
    }
    Ok(Some(top))
}

/// Reads `metadata.json` of an unpacked archive.
pub(crate) fn read_metadata(top: &Path) -> Result<ArchiveMetadata> {
    let path = top.join("metadata.json");
    let text = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
    let meta: ArchiveMetadata = serde_json::from_slice(&text).map_err(|e| {
        Error::corrupt(format!(
            "{} is not a Kura archive's metadata: {e}",
            path.display()
        ))
    })?;
    if meta.format != FORMAT && meta.format != FORMAT_THIN {
        return Err(Error::invalid(format!(
            "the archive is in format '{}', which this Kura does not read (it reads '{FORMAT}' and '{FORMAT_THIN}')",
            meta.format
        )));
    }
    Ok(meta)
}

/// Where an unpacked archive's project goes.
pub(crate) enum Target {
    /// Back into its own catalog row (unarchive).
    Existing(Box<Project>),
    /// A new project (import), with this name and workspace.
    New {
        name: String,
        workspace: Option<String>,
    },
}

/// The history of a project being restored, in its staging folder until it is moved into place.
struct RestoredHistory {
    /// Where it goes.
    repo_path: PathBuf,
    /// Its staging folder; it also records what the restore makes outside it.
    staging: Staging,
    /// The history in the staging folder.
    tmp: PathBuf,
    /// The bundle's `main`.
    head: Oid,
}

/// What a restore that failed after the move into place removes: the history (in staging or in
/// place) and the folder this call made (only one this call made).
struct Undo<'a> {
    history: &'a Path,
    repo_path: &'a Path,
    folder: Option<&'a Path>,
}

impl Undo<'_> {
    /// Removes what the restore made, and passes `e` on.
    fn all(&self, e: Error) -> Error {
        let _ = fs::remove_dir_all(self.history);
        let _ = fs::remove_dir_all(self.repo_path);
        if let Some(f) = self.folder {
            let _ = fs::remove_dir_all(f);
        }
        e
    }
}

/// The catalog row of a restored project.
struct RestoredRow<'a> {
    id: &'a str,
    name: &'a str,
    /// Its folder.
    path: &'a Path,
    /// The workspace of a new project (`None` when it comes back into its own row), and its
    /// name.
    workspace_id: Option<i64>,
    ws_name: &'a str,
    meta: &'a ArchiveMetadata,
    /// Bytes the chunk store took for its large files.
    chunk_bytes: u64,
}

impl Vault {
    /// Makes a project of an unpacked Kura archive at `top`: its history from the bundle, chunks
    /// of its large files, its folder from `files/`, its catalog row. With `keep_id` a new
    /// project takes the archived project's id (unarchive of a deleted project).
    pub(crate) fn restore_unpacked(
        &self,
        top: &Path,
        target: Target,
        keep_id: bool,
        job: &Job,
    ) -> Result<Project> {
        let meta = read_metadata(top)?;
        let files_dir = top.join("files");
        let (id, name) = self.restored_identity(&meta, &target, keep_id)?;
        let history = self.history_from_bundle(&id, top, &meta, job)?;
        let mut known = if meta.format == FORMAT_THIN {
            // The latest version's file contents, which the bundle left to `files/`.
            complete_history(&history.tmp, history.head, top, &self.config().storage, job)?
        } else {
            KnownFiles::default()
        };
        let chunk_bytes =
            self.restore_chunks(&history.tmp, history.head, top, &known.not_pointers, job)?;
        let (workspace_id, ws_name) = self.restored_workspace(&target)?;
        // The folder: `files/` must be a real folder, never a link to one.
        crate::files::require_real_folder(&files_dir, "the archive's files/")?;
        let (folder, path) = self.restored_folder(&target, &name, &history.staging)?;
        if folder.is_none() {
            // The folder stays as it is: what was read from `files/` vouches for nothing in it.
            known.stats.clear();
        }
        // From here on, whatever fails removes what this call made: the history, the folder
        // (only one this call made) and the catalog row, so a refused import leaves nothing.
        let undo = Undo {
            history: &history.tmp,
            repo_path: &history.repo_path,
            folder: folder.as_deref(),
        };
        move_into_place(&target, &history, &files_dir, folder.as_deref())
            .map_err(|e| undo.all(e))?;
        let row = RestoredRow {
            id: &id,
            name: &name,
            path: &path,
            workspace_id,
            ws_name: &ws_name,
            meta: &meta,
            chunk_bytes,
        };
        self.write_restored_row(&target, &row)
            .map_err(|e| undo.all(e))?;
        self.records_and_cache(&target, &id, top, &known, &undo)
    }

    /// The restored project's id and name, the name checked (and free, for a new project).
    fn restored_identity(
        &self,
        meta: &ArchiveMetadata,
        target: &Target,
        keep_id: bool,
    ) -> Result<(String, String)> {
        let (id, name) = match target {
            Target::Existing(p) => (p.id.clone(), p.name.clone()),
            Target::New { name, .. } => {
                let id = if keep_id && self.project_by_id(&meta.id).is_err() {
                    meta.id.clone()
                } else {
                    crate::project::new_project_id()
                };
                (id, name.clone())
            }
        };
        crate::project::workspace::check_name("project", &name)?;
        if let Target::New { workspace, .. } = target {
            self.check_name_free(&name, workspace.as_deref())?;
        }
        Ok((id, name))
    }

    /// The history read from the bundle into a staging folder, every version checked to come
    /// back as it went in.
    fn history_from_bundle(
        &self,
        id: &str,
        top: &Path,
        meta: &ArchiveMetadata,
        job: &Job,
    ) -> Result<RestoredHistory> {
        // History: into a temp folder, then renamed into place.
        let repo_path = self.history_path(id);
        if repo_path.exists() {
            return Err(Error::conflict(format!(
                "a history already exists at {}; move it away first",
                repo_path.display()
            )));
        }
        // Its staging folder also records what this call makes outside it, so that cleanup
        // removes those when the process dies before the catalog row exists.
        let staging = Staging::new(&self.root().join("histories"), "history")?;
        let tmp = staging.content();
        history::init(&tmp)?;
        job.files("history", 0, None);
        let head = read_bundle(&top.join("history.bundle"), &tmp)?;
        job.check()?;
        // Every version must come back as it went in: refuse a history that holds a path no
        // restore would write, before anything of the project exists.
        crate::fs::names::refuse_unsafe_history(
            &history::open(&tmp)?,
            head,
            &format!("the history of archived project '{}'", meta.name),
            job,
        )?;
        Ok(RestoredHistory {
            repo_path,
            staging,
            tmp,
            head,
        })
    }

    /// The workspace a new project goes into (named, else the current one) and its name.
    fn restored_workspace(&self, target: &Target) -> Result<(Option<i64>, String)> {
        Ok(match target {
            Target::Existing(_) => (None, String::new()),
            Target::New {
                workspace: Some(w), ..
            } => {
                let ws = self.workspace(w)?;
                (Some(ws.id), ws.name)
            }
            Target::New {
                workspace: None, ..
            } => {
                let ws = self.current_workspace()?;
                (Some(ws.id), ws.name)
            }
        })
    }

    /// The folder `files/` is moved to, if it is moved (`None` for a linked project whose
    /// folder is there), and the project's path.
    fn restored_folder(
        &self,
        target: &Target,
        name: &str,
        hist_staging: &Staging,
    ) -> Result<(Option<PathBuf>, PathBuf)> {
        Ok(match target {
            Target::Existing(p) if p.linked && p.path.exists() => (None, p.path.clone()),
            Target::Existing(p) if p.linked || !p.path.exists() => {
                (Some(p.path.clone()), p.path.clone())
            }
            _ => {
                // Claimed empty, so no other import can take it; the rename replaces it.
                let f = self.unique_project_folder_for(name, Some(hist_staging))?;
                (Some(f.clone()), f)
            }
        })
    }

    /// The catalog row: the archived one active again, or a new one with its tags and metadata.
    fn write_restored_row(&self, target: &Target, row: &RestoredRow<'_>) -> Result<()> {
        let RestoredRow {
            id,
            name,
            path,
            workspace_id,
            ws_name,
            meta,
            chunk_bytes,
        } = *row;
        let now = self.now();
        let mut db = self.db();
        let tx = db.transaction()?;
        match target {
            Target::Existing(_) => {
                projects::reactivate(&tx, id, path, now)?;
            }
            Target::New { .. } => {
                let ws = workspace_id.unwrap_or_default();
                let row = projects::NewRow {
                    kind: &meta.kind,
                    description: &meta.description,
                    git_remote: meta.git_remote.as_deref(),
                    created_at: meta.created_at,
                    last_opened_at: meta.last_opened_at,
                    ..projects::NewRow::made_now(id, ws, name, path, now)
                };
                let res = projects::insert(&tx, &row);
                // Another import or create of the same name got there first.
                catalog::unique(res, || crate::project::name_taken_message(ws_name, name))?;
                for t in &meta.tags {
                    projects::add_tag(&tx, id, t)?;
                }
                for (k, v) in &meta.metadata {
                    projects::set_metadata(&tx, id, k, Some(v))?;
                }
            }
        }
        projects::set_chunk_stored(&tx, id, chunk_bytes)?;
        tx.commit()?;
        Ok(())
    }

    /// The project's records, then its files cache and sizes from the history and what is
    /// `known` of its files, then a snapshot (a version only if the folder is not the history's
    /// latest); a failure takes back the records, the catalog row and what `undo` names.
    fn records_and_cache(
        &self,
        target: &Target,
        id: &str,
        top: &Path,
        known: &KnownFiles,
        undo: &Undo<'_>,
    ) -> Result<Project> {
        let forget_records = || {
            if let Target::New { .. } = target {
                let _ = self.records().map(|r| r.remove_scope(id));
            }
        };
        if let Err(e) = self.import_records(id, top) {
            forget_records();
            self.undo_restored_row(target, id);
            return Err(undo.all(e));
        }
        // Reads only the files `known` does not vouch for (no version: nothing changed).
        let rebuilt = self
            .seed_files_cache(id, known)
            .and_then(|()| {
                self.snapshot(
                    id,
                    &SnapshotOptions {
                        message: Some("Unarchived".into()),
                        ..Default::default()
                    },
                    &Job::default(),
                )
            })
            .and_then(|_| self.project_by_id(id));
        rebuilt.map_err(|e| {
            forget_records();
            self.undo_restored_row(target, id);
            undo.all(e)
        })
    }

    /// Takes back the catalog change of a `restore_unpacked` that failed after it: a new row is
    /// deleted (its labels and metadata go with it), an unarchived one is archived again as it
    /// was.
    fn undo_restored_row(&self, target: &Target, id: &str) {
        let res = (|| -> Result<()> {
            let mut db = self.db();
            let tx = db.transaction()?;
            match target {
                Target::New { .. } => {
                    projects::delete(&tx, id)?;
                }
                Target::Existing(p) => {
                    projects::mark_archived_as_before(&tx, p)?;
                    filelist::remove(&tx, id)?;
                }
            }
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = res {
            tracing::warn!(project = id, error = %e, "could not take back a failed import's catalog row");
        }
    }
}

/// The history and the folder moved into place (a new project's history claimed first, so that
/// cleanup finds it should the process die before the catalog row exists).
fn move_into_place(
    target: &Target,
    history: &RestoredHistory,
    files_dir: &Path,
    folder: Option<&Path>,
) -> Result<()> {
    if !matches!(target, Target::Existing(_)) {
        history.staging.claim(&history.repo_path)?;
    }
    durable::rename(&history.tmp, &history.repo_path)?;
    if let Some(f) = folder {
        if let Some(parent) = f.parent() {
            durable::create_dir_all(parent)?;
        }
        durable::rename(files_dir, f)?;
    }
    Ok(())
}
