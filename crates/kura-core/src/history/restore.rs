//! Getting files back: export a version to a folder, restore a project or one file in place.
//! A restore in place first takes a version of the current state, so nothing is lost.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use git2::{Oid, Repository};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::fs::durable;
use crate::history::pointer::Pointer;
use crate::history::snapshot::SnapshotOptions;
use crate::history::{self, TreeFile, Trigger, Version};
use crate::job::Job;
use crate::vault::Vault;
use crate::vault::VaultReader;

/// What an export or restore wrote.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RestoreReport {
    /// The version whose files were written.
    pub version: String,
    /// Files written.
    pub files_written: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Files removed (restore in place only).
    pub files_removed: u64,
    /// The version taken of the state before the restore, if it differed from the latest.
    pub safety_version: Option<Version>,
}

/// What restoring a project to a version will do to its folder, worked out before it runs: the
/// same choice of files [`Vault::restore_project`] makes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RestorePlan {
    /// The version the folder will match.
    pub version: String,
    /// Files that will be written (created or overwritten) with the version's content.
    pub write: Vec<String>,
    /// Files that will be removed because the version does not have them.
    pub remove: Vec<String>,
    /// Changes in the folder not in any version yet; the version taken first keeps them.
    pub unsaved: u64,
}

/// How to write one file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WriteMode {
    /// Straight into a fresh folder.
    Fresh,
    /// Replacing a file in place: temp file then rename, so a crash leaves old or new, never half.
    Replace,
}

impl VaultReader {
    /// Writes one file of a version to `dest`; returns its size.
    fn write_tree_file(
        &self,
        repo: &Repository,
        f: &TreeFile,
        dest: &Path,
        how: WriteMode,
    ) -> Result<u64> {
        // Fresh exports create every folder up front.
        if how == WriteMode::Replace {
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent).map_err(|e| Error::io("create folder", parent, e))?;
            }
        }
        if how == WriteMode::Replace {
            if let Ok(md) = fs::symlink_metadata(dest) {
                if md.is_dir() {
                    return Err(Error::conflict(format!(
                        "{} is a folder now, but the version has a file there; move the folder away and restore again",
                        dest.display()
                    )));
                } else if md.file_type().is_symlink() || f.mode == 0o120000 {
                    fs::remove_file(dest).map_err(|e| Error::io("replace", dest, e))?;
                }
            }
        }
        let blob = repo.find_blob(f.oid)?;
        let data = blob.content();
        if f.mode == 0o120000 {
            use std::os::unix::ffi::OsStrExt;
            let target = std::ffi::OsStr::from_bytes(data);
            std::os::unix::fs::symlink(target, dest)
                .map_err(|e| Error::io("create link", dest, e))?;
            return Ok(0);
        }
        let perms = fs::Permissions::from_mode(if f.mode == 0o100755 { 0o755 } else { 0o644 });
        let fill = |w: &mut dyn Write| -> Result<u64> {
            if Pointer::is_pointer(data) {
                let p = Pointer::decode(data)?;
                self.chunks()
                    .read_to(&p.chunks, w)
                    .map_err(|e| content_error(&f.path, e))
            } else {
                w.write_all(data).map_err(|e| Error::io("write", dest, e))?;
                Ok(data.len() as u64)
            }
        };
        match how {
            WriteMode::Fresh => {
                let mut file = fs::File::create(dest).map_err(|e| Error::io("create", dest, e))?;
                // A git blob is in memory already: one write. Chunks come in pieces of their own
                // size, each one write too.
                let n = fill(&mut file)?;
                if f.mode == 0o100755 {
                    file.set_permissions(perms)
                        .map_err(|e| Error::io("set permissions of", dest, e))?;
                }
                Ok(n)
            }
            WriteMode::Replace => {
                let mut n = 0;
                // The content's own error (damaged data is `corrupt`) is kept, not flattened
                // into an I/O error of the temp file; the file in place stays as it was.
                let mut failed = None;
                let written = durable::write_with(dest, |w| {
                    match fill(w) {
                        Ok(len) => n = len,
                        Err(e) => {
                            failed = Some(e);
                            return Err(std::io::Error::other("the content could not be read"));
                        }
                    }
                    w.get_ref().set_permissions(perms.clone())
                });
                if let Some(e) = failed {
                    return Err(e);
                }
                written?;
                Ok(n)
            }
        }
    }

    /// Writes `files` of the history at `repo_path` under `root`, on several threads.
    fn write_files(
        &self,
        repo_path: &Path,
        files: &[&TreeFile],
        root: &Path,
        how: WriteMode,
        job: &Job,
    ) -> Result<u64> {
        let done = AtomicU64::new(0);
        let bytes = AtomicU64::new(0);
        let total = files.len() as u64;
        if how == WriteMode::Fresh {
            let mut dirs: Vec<&str> = files
                .iter()
                .filter_map(|f| f.path.rsplit_once('/').map(|(d, _)| d))
                .collect();
            dirs.dedup();
            for d in dirs {
                let dir = root.join(d);
                fs::create_dir_all(&dir).map_err(|e| Error::io("create folder", &dir, e))?;
            }
        }
        files.par_iter().try_for_each_init(
            || Repository::open_bare(repo_path),
            |repo, f| -> Result<()> {
                job.check()?;
                let repo = repo
                    .as_ref()
                    .map_err(|e| Error::corrupt(format!("cannot open history: {}", e.message())))?;
                let n = self.write_tree_file(repo, f, &root.join(&f.path), how)?;
                bytes.fetch_add(n, Ordering::Relaxed);
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if d.is_multiple_of(512) {
                    job.files("writing", d, Some(total));
                }
                Ok(())
            },
        )?;
        job.files("writing", total, Some(total));
        Ok(bytes.into_inner())
    }

    /// Writes the files of a version (the latest when `version` is `None`) into `dest`, which
    /// must not exist or be an empty folder. On failure, what was written is removed.
    pub fn export_version(
        &self,
        reference: &str,
        version: Option<&str>,
        dest: &Path,
        job: &Job,
    ) -> Result<RestoreReport> {
        let p = self.project(reference)?;
        let repo_path = self.history_path(&p.id);
        let repo = self.open_history(&p)?;
        // An archive that ends while the version is looked up takes the history away: the
        // export is then told the project is archived, not that the version is not there.
        let (id, files) = (|| {
            let id = history::resolve(&repo, version.unwrap_or("latest"))?;
            crate::fs::names::refuse_unsafe_version(&repo, id)?;
            Ok((id, history::files_of(&repo, id)?))
        })()
        .map_err(|e| self.archived_since(&p, e))?;
        let created = durable::claim_empty_dir(dest, "export")?;
        let refs: Vec<&TreeFile> = files.iter().collect();
        match self.write_files(&repo_path, &refs, dest, WriteMode::Fresh, job) {
            Ok(bytes) => Ok(RestoreReport {
                version: id.to_string(),
                files_written: files.len() as u64,
                bytes_written: bytes,
                files_removed: 0,
                safety_version: None,
            }),
            Err(e) => {
                durable::empty_out(dest, created);
                Err(self.archived_since(&p, e))
            }
        }
    }

    /// What [`Vault::restore_project`] would write and remove to make the folder match
    /// `version`, without changing anything.
    pub fn restore_plan(&self, reference: &str, version: &str) -> Result<RestorePlan> {
        let p = self.project(reference)?;
        self.require_folder(&p)?;
        let (target, target_files, latest) = {
            let repo = self.open_history(&p)?;
            let target = history::resolve(&repo, version)?;
            crate::fs::names::refuse_unsafe_version(&repo, target)?;
            let latest: HashMap<String, (Oid, u32)> = match history::head(&repo)? {
                Some(head) => history::files_of(&repo, head)?
                    .into_iter()
                    .map(|f| (f.path, (f.oid, f.mode)))
                    .collect(),
                None => HashMap::new(),
            };
            (target, history::files_of(&repo, target)?, latest)
        };
        let folder: HashMap<String, crate::FileState> = self
            .list_files(&p.id, None)?
            .into_iter()
            .map(|f| (f.path, f.state))
            .collect();
        let in_folder = |state: Option<&crate::FileState>| {
            state.is_some_and(|s| *s != crate::FileState::Deleted)
        };
        // A file in the folder as the latest version has it, and the same there as in the
        // target, is left alone; every other file of the target is written.
        let mut write: Vec<String> = target_files
            .iter()
            .filter(|f| {
                folder.get(&f.path) != Some(&crate::FileState::Unchanged)
                    || latest.get(&f.path) != Some(&(f.oid, f.mode))
            })
            .map(|f| f.path.clone())
            .collect();
        let wanted: HashSet<&str> = target_files.iter().map(|f| f.path.as_str()).collect();
        let mut remove: Vec<String> = folder
            .iter()
            .filter(|(path, state)| in_folder(Some(state)) && !wanted.contains(path.as_str()))
            .map(|(path, _)| path.clone())
            .collect();
        write.sort();
        remove.sort();
        let unsaved = folder
            .values()
            .filter(|s| **s != crate::FileState::Unchanged)
            .count() as u64;
        Ok(RestorePlan {
            version: target.to_string(),
            write,
            remove,
            unsaved,
        })
    }
}

impl Vault {
    /// Restores a project's folder to a version: files are written back, files that the version
    /// does not have are removed (ignored files are left alone). The current state is kept as
    /// a version first, and the restored state is recorded as a new version after.
    pub fn restore_project(
        &self,
        reference: &str,
        version: &str,
        job: &Job,
    ) -> Result<RestoreReport> {
        let p = self.project(reference)?;
        self.require_folder(&p)?;
        let repo_path = self.history_path(&p.id);
        let target = {
            let repo = self.open_history(&p)?;
            let target = history::resolve(&repo, version)?;
            crate::fs::names::refuse_unsafe_version(&repo, target)?;
            target
        };
        let safety = self.record_version(
            &p.id,
            format!("Before restoring version {}", &target.to_string()[..10]),
            Some(Trigger::BeforeRestore),
            job,
        )?;
        let _lock = self.lock_project(&p.id)?;
        let repo = self.open_history(&p)?;
        let current_head =
            history::head(&repo)?.ok_or_else(|| Error::internal("no version after snapshot"))?;
        let target_files = history::files_of(&repo, target)?;
        let current: HashMap<String, (Oid, u32)> = history::files_of(&repo, current_head)?
            .into_iter()
            .map(|f| (f.path, (f.oid, f.mode)))
            .collect();
        let wanted: HashSet<&str> = target_files.iter().map(|f| f.path.as_str()).collect();
        let mut removed = 0;
        for path in current.keys().filter(|k| !wanted.contains(k.as_str())) {
            job.check()?;
            let full = crate::files::resolve_inside(&p.path, path, true)?;
            match fs::remove_file(&full) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", &full, e)),
            }
            remove_empty_parents(&p.path, &full);
        }
        // Every folder of the version is made a real folder: a link there is removed, never
        // followed (what it points to is untouched; the version before the restore kept the
        // link if it stayed inside the project). The files below a folder made anew are all
        // written, whatever the latest version says of them.
        let remade = real_folders(&p.path, &target_files)?;
        let to_write: Vec<&TreeFile> = target_files
            .iter()
            .filter(|f| {
                current.get(&f.path) != Some(&(f.oid, f.mode))
                    || remade.iter().any(|d| {
                        f.path
                            .strip_prefix(d.as_str())
                            .is_some_and(|r| r.starts_with('/'))
                    })
            })
            .collect();
        let bytes = self.write_files(&repo_path, &to_write, &p.path, WriteMode::Replace, job)?;
        drop(_lock);
        self.record_version(
            &p.id,
            format!("Restored version {}", &target.to_string()[..10]),
            None,
            &Job::default(),
        )?;
        Ok(RestoreReport {
            version: target.to_string(),
            files_written: to_write.len() as u64,
            bytes_written: bytes,
            files_removed: removed,
            safety_version: safety.version,
        })
    }

    /// Restores one file of a project's folder to its content in a version (the current state is
    /// kept as a version first).
    pub fn restore_file(
        &self,
        reference: &str,
        version: &str,
        path: &str,
        job: &Job,
    ) -> Result<RestoreReport> {
        let p = self.project(reference)?;
        self.require_folder(&p)?;
        let rel = crate::fs::names::argument(path)?;
        let rel = rel.as_str();
        let full = crate::files::resolve_inside(&p.path, rel, true)?;
        let (target, file) = {
            let repo = self.open_history(&p)?;
            let target = history::resolve(&repo, version)?;
            let file = history::files_of(&repo, target)?
                .into_iter()
                .find(|f| f.path == rel)
                .ok_or_else(|| {
                    Error::not_found(format!(
                        "'{rel}' is not in version {} of project '{}'",
                        &target.to_string()[..10],
                        p.name
                    ))
                })?;
            // A link is written back only when it stays inside the project (see `links`).
            if file.mode == 0o120000 {
                crate::fs::names::refuse_unsafe_version(&repo, target)?;
            }
            (target, file)
        };
        let safety = self.record_version(
            &p.id,
            format!(
                "Before restoring {rel} from version {}",
                &target.to_string()[..10]
            ),
            Some(Trigger::BeforeRestore),
            job,
        )?;
        let bytes = {
            let _lock = self.lock_project(&p.id)?;
            let repo = self.open_history(&p)?;
            real_folders(&p.path, std::slice::from_ref(&file))?;
            self.write_tree_file(&repo, &file, &full, WriteMode::Replace)?
        };
        self.record_version(
            &p.id,
            format!("Restored {rel} from version {}", &target.to_string()[..10]),
            None,
            &Job::default(),
        )?;
        Ok(RestoreReport {
            version: target.to_string(),
            files_written: 1,
            bytes_written: bytes,
            files_removed: 0,
            safety_version: safety.version,
        })
    }
}

impl Vault {
    /// Takes a version with this message and trigger (nothing is made when nothing changed).
    fn record_version(
        &self,
        id: &str,
        message: String,
        trigger: Option<Trigger>,
        job: &Job,
    ) -> Result<crate::SnapshotReport> {
        self.snapshot(
            id,
            &SnapshotOptions {
                message: Some(message),
                trigger,
                ..Default::default()
            },
            job,
        )
    }
}

/// A failure reading a file's content from the chunk store; damage names the file.
fn content_error(path: &str, err: kura_chunkstore::Error) -> Error {
    let err = Error::from(err);
    if err.kind() == ErrorKind::Corrupt {
        return Error::corrupt(format!(
            "the stored content of '{path}' is damaged: {}",
            err.message()
        ));
    }
    err
}

/// Makes each folder that holds a file of `files` a real folder under `root`: a symbolic link
/// where the version has a folder is removed (never followed: what it points to is untouched)
/// and a folder made in its place, and missing folders are made. A file where the version has a
/// folder is a conflict. Returns the folders (relative, `/`-separated) that held a link, whose
/// files are to be written anew.
fn real_folders(root: &Path, files: &[TreeFile]) -> Result<Vec<String>> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut remade = Vec::new();
    for f in files {
        let mut end = 0;
        while let Some(i) = f.path[end..].find('/') {
            end += i;
            let dir = &f.path[..end];
            end += 1;
            if !seen.insert(dir) {
                continue;
            }
            let full = root.join(dir);
            match fs::symlink_metadata(&full) {
                Ok(md) if md.is_dir() => {}
                Ok(md) if md.file_type().is_symlink() => {
                    fs::remove_file(&full).map_err(|e| Error::io("remove the link", &full, e))?;
                    durable::create_dir_all(&full)?;
                    remade.push(dir.to_string());
                }
                Ok(_) => {
                    return Err(Error::conflict(format!(
                        "{} is a file now, but the version has a folder there; move the file away and restore again",
                        full.display()
                    )))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => durable::create_dir_all(&full)?,
                Err(e) => return Err(Error::io("read", &full, e)),
            }
        }
    }
    Ok(remade)
}

fn remove_empty_parents(root: &Path, file: &Path) {
    let mut cur = file.parent();
    while let Some(dir) = cur {
        if dir == root || !dir.starts_with(root) {
            break;
        }
        if fs::remove_dir(dir).is_err() {
            break;
        }
        cur = dir.parent();
    }
}
