//! Reading the version history: list versions of a project or of one file, and diff two versions.

use std::collections::BTreeMap;

use git2::{Oid, Repository};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::history::pointer::Pointer;
use crate::history::{self, ChangeCounts, TreeFile, Version};
use crate::vault::VaultReader;

/// How a file differs between two versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Only in the newer version.
    Added,
    /// In both, with other content or mode.
    Modified,
    /// Only in the older version.
    Deleted,
}

/// One changed file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct FileDiff {
    /// Path inside the project.
    pub path: String,
    /// What changed.
    pub change: Change,
    /// Size in the older version.
    pub old_size: Option<u64>,
    /// Size in the newer version.
    pub new_size: Option<u64>,
    /// True when either side is not text (no line diff then).
    pub binary: bool,
    /// Unified diff of the lines, when asked for and both sides are text.
    pub patch: Option<String>,
}

/// The difference between two versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Diff {
    /// The older version's id.
    pub from: String,
    /// The newer version's id.
    pub to: String,
    /// Counts by kind of change.
    pub changes: ChangeCounts,
    /// The changed files, by path.
    pub files: Vec<FileDiff>,
}

/// Text diffs are skipped for files larger than this.
const MAX_PATCH_BYTES: usize = 4 << 20;

/// A blob's content, size and whether it is text; pointers are not loaded.
struct BlobInfo {
    size: u64,
    text: Option<String>,
    binary: bool,
}

fn blob_info(repo: &Repository, oid: Oid, mode: u32, want_text: bool) -> Result<BlobInfo> {
    let blob = repo.find_blob(oid)?;
    let data = blob.content();
    if Pointer::is_pointer(data) {
        let p = Pointer::decode(data)?;
        return Ok(BlobInfo {
            size: p.size,
            text: None,
            binary: true,
        });
    }
    let binary = mode == 0o120000 || data[..data.len().min(8192)].contains(&0);
    let text = if want_text && !binary && data.len() <= MAX_PATCH_BYTES {
        std::str::from_utf8(data).ok().map(str::to_string)
    } else {
        None
    };
    let binary = binary || (want_text && text.is_none() && data.len() <= MAX_PATCH_BYTES);
    Ok(BlobInfo {
        size: data.len() as u64,
        text,
        binary,
    })
}

impl VaultReader {
    /// Versions of a project, newest first (at most `limit`).
    pub fn versions(&self, reference: &str, limit: Option<usize>) -> Result<Vec<Version>> {
        let p = self.project(reference)?;
        let repo = self.open_history(&p)?;
        let Some(head) = history::head(&repo)? else {
            return Ok(Vec::new());
        };
        let mut walk = repo.revwalk()?;
        walk.push(head)?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL)?;
        let mut out = Vec::new();
        for id in walk {
            if limit.is_some_and(|l| out.len() >= l) {
                break;
            }
            out.push(history::version_of(&repo.find_commit(id?)?));
        }
        Ok(out)
    }

    /// A project's history as every door shows it: its versions, or (`file`) those in which
    /// one file changed, newest first, at most `limit`.
    pub fn history(
        &self,
        reference: &str,
        file: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<Version>> {
        let mut versions = match file {
            Some(file) => self.file_versions(reference, file)?,
            None => self.versions(reference, limit)?,
        };
        versions.truncate(limit.unwrap_or(usize::MAX));
        Ok(versions)
    }

    /// One version of a project.
    pub fn version(&self, reference: &str, version: &str) -> Result<Version> {
        let p = self.project(reference)?;
        let repo = self.open_history(&p)?;
        let id = history::resolve(&repo, version)?;
        let commit = repo.find_commit(id)?;
        Ok(history::version_of(&commit))
    }

    /// Versions in which one file changed (added, modified or deleted), newest first.
    pub fn file_versions(&self, reference: &str, path: &str) -> Result<Vec<Version>> {
        let p = self.project(reference)?;
        let repo = self.open_history(&p)?;
        let Some(head) = history::head(&repo)? else {
            return Ok(Vec::new());
        };
        let path = crate::fs::names::argument(path)?;
        let path = path.as_str();
        let entry_of = |c: &git2::Commit<'_>| -> Result<Option<(Oid, i32)>> {
            match c.tree()?.get_path(std::path::Path::new(path)) {
                Ok(e) => Ok(Some((e.id(), e.filemode()))),
                Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            }
        };
        let mut walk = repo.revwalk()?;
        walk.push(head)?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL)?;
        let mut out = Vec::new();
        let mut ever = false;
        for id in walk {
            let c = repo.find_commit(id?)?;
            let mine = entry_of(&c)?;
            let parent = match c.parent(0) {
                Ok(pc) => entry_of(&pc)?,
                Err(_) => None,
            };
            ever |= mine.is_some();
            if mine != parent {
                out.push(history::version_of(&c));
            }
        }
        if !ever {
            return Err(Error::not_found(format!(
                "'{path}' is not in any version of project '{}'",
                p.name
            )));
        }
        Ok(out)
    }

    /// Compares two versions (`to` defaults to the latest). With `path`, only that file or
    /// folder; with `patch`, unified line diffs of text files.
    pub fn diff(
        &self,
        reference: &str,
        from: &str,
        to: Option<&str>,
        path: Option<&str>,
        patch: bool,
    ) -> Result<Diff> {
        let p = self.project(reference)?;
        let repo = self.open_history(&p)?;
        let from_id = history::resolve(&repo, from)?;
        let to_id = history::resolve(&repo, to.unwrap_or("latest"))?;
        let prefix = match path.filter(|s| !s.trim_matches('/').is_empty()) {
            Some(s) => Some(crate::fs::names::argument(s)?),
            None => None,
        };
        let old = files_under(&repo, from_id, prefix.as_deref())?;
        let new = files_under(&repo, to_id, prefix.as_deref())?;
        let mut files = Vec::new();
        let mut changes = ChangeCounts::default();
        let mut paths: Vec<&String> = old.keys().chain(new.keys()).collect();
        paths.sort();
        paths.dedup();
        for path in paths {
            let (a, b) = (old.get(path), new.get(path));
            let change = match (a, b) {
                (None, Some(_)) => Change::Added,
                (Some(_), None) => Change::Deleted,
                (Some(x), Some(y)) if x.oid != y.oid || x.mode != y.mode => Change::Modified,
                _ => continue,
            };
            match change {
                Change::Added => changes.added += 1,
                Change::Modified => changes.modified += 1,
                Change::Deleted => changes.removed += 1,
            }
            files.push(file_diff(&repo, path, change, a, b, patch)?);
        }
        Ok(Diff {
            from: from_id.to_string(),
            to: to_id.to_string(),
            changes,
            files,
        })
    }
}

/// The files of version `id` at or under `prefix` (all of them without one), by path.
fn files_under(
    repo: &git2::Repository,
    id: git2::Oid,
    prefix: Option<&str>,
) -> Result<BTreeMap<String, TreeFile>> {
    let keep = |f: &TreeFile| match prefix {
        None => true,
        Some(pre) => f.path == pre || f.path.starts_with(&format!("{pre}/")),
    };
    Ok(history::files_of(repo, id)?
        .into_iter()
        .filter(keep)
        .map(|f| (f.path.clone(), f))
        .collect())
}

/// How file `path` changed from `a` to `b` (either missing when it was added or deleted): sizes,
/// whether it is binary, and with `patch` its unified diff when it is text.
fn file_diff(
    repo: &git2::Repository,
    path: &str,
    change: Change,
    a: Option<&TreeFile>,
    b: Option<&TreeFile>,
    patch: bool,
) -> Result<FileDiff> {
    let ai = a
        .map(|f| blob_info(repo, f.oid, f.mode, patch))
        .transpose()?;
    let bi = b
        .map(|f| blob_info(repo, f.oid, f.mode, patch))
        .transpose()?;
    let binary = ai.as_ref().is_some_and(|i| i.binary) || bi.as_ref().is_some_and(|i| i.binary);
    let text_patch = (patch && !binary).then(|| {
        let at = ai.as_ref().and_then(|i| i.text.as_deref()).unwrap_or("");
        let bt = bi.as_ref().and_then(|i| i.text.as_deref()).unwrap_or("");
        let name = |side: &str, present: bool| {
            if present {
                format!("{side}/{path}")
            } else {
                "/dev/null".into()
            }
        };
        similar::TextDiff::from_lines(at, bt)
            .unified_diff()
            .context_radius(3)
            .header(&name("a", a.is_some()), &name("b", b.is_some()))
            .to_string()
    });
    Ok(FileDiff {
        path: path.to_string(),
        change,
        old_size: ai.map(|i| i.size),
        new_size: bi.map(|i| i.size),
        binary,
        patch: text_patch,
    })
}
