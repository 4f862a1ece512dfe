//! Each project's history is a bare git repository: versions are commits on `refs/heads/main`.
//! This room holds what happens to versions: they are written ([`snapshot`]), listed and
//! compared ([`versions`]), brought back ([`restore`]) and packed tight ([`repack`]); who made
//! one is [`author`], and the text git keeps in place of a file held in the chunk store is a
//! [`pointer`]. This file reads them: versions, their files, and references to them.

// `pub`: lib.rs re-exports it as `kura_core::author`.
pub mod author;
pub(crate) mod deltas;
pub(crate) mod pointer;
pub(crate) mod repack;
pub(crate) mod restore;
pub(crate) mod snapshot;
pub(crate) mod versions;

use std::path::Path;

use git2::{ObjectType, Oid, Repository, RepositoryInitOptions};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::fs::durable;

/// Whether `name` is a temp file of libgit2: `<name>_git2_` and 16 hex digits (the libgit2 Kura
/// builds, 1.9: `git_futils_mktmp`), or six letters or digits (`mkstemp`'s, in older ones). libgit2 makes one to probe a new history
/// for symbolic links (a link named `_git2_…` at its top), and one for each pack or loose object
/// it writes, and removes it within milliseconds; a process killed in between leaves it behind.
/// Such a file is debris: backups leave it out, restores skip it, cleanup removes it.
pub fn is_libgit2_temp(name: &std::ffi::OsStr) -> bool {
    let n = name.as_encoded_bytes();
    let random = |len: usize, ok: fn(&u8) -> bool| {
        n.len() >= len + 6
            && &n[n.len() - len - 6..n.len() - len] == b"_git2_"
            && n[n.len() - len..].iter().all(ok)
    };
    random(16, u8::is_ascii_hexdigit) || random(6, u8::is_ascii_alphanumeric)
}

/// The branch versions are committed to.
pub(crate) const BRANCH: &str = "refs/heads/main";

/// What made a version: the door it came through, or the engine's own reason. The same words
/// name it in commit trailers, JSON, the CLI's `--trigger` and the UI's labels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A person in the desktop window.
    Desktop,
    /// The `kura` command line.
    Cli,
    /// The HTTP API (`kura serve`) or the browser UI it serves.
    Http,
    /// An AI agent through `kura mcp`.
    Mcp,
    /// The folder changed and the watcher took it (older versions say `auto`, still read so).
    #[serde(alias = "auto")]
    Automatic,
    /// A schedule took it.
    Schedule,
    /// Taken before a restore, so the restore loses nothing.
    BeforeRestore,
    /// Taken before archiving.
    BeforeArchive,
    /// A person, through a door that did not say which (and versions made before doors were
    /// recorded).
    #[default]
    Manual,
    /// A script or agent through the CLI or API (versions made before doors were recorded).
    Api,
}

impl Trigger {
    /// The spelling used in commit trailers and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Desktop => "desktop",
            Trigger::Cli => "cli",
            Trigger::Http => "http",
            Trigger::Mcp => "mcp",
            Trigger::Automatic => "automatic",
            Trigger::Schedule => "schedule",
            Trigger::BeforeRestore => "before_restore",
            Trigger::BeforeArchive => "before_archive",
            Trigger::Manual => "manual",
            Trigger::Api => "api",
        }
    }

    /// Every trigger, in the order [`Trigger::as_str`] lists them.
    pub const ALL: [Trigger; 10] = [
        Trigger::Desktop,
        Trigger::Cli,
        Trigger::Http,
        Trigger::Mcp,
        Trigger::Automatic,
        Trigger::Schedule,
        Trigger::BeforeRestore,
        Trigger::BeforeArchive,
        Trigger::Manual,
        Trigger::Api,
    ];

    fn known(s: &str) -> Option<Trigger> {
        if s == "auto" {
            return Some(Trigger::Automatic);
        }
        Trigger::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Reads a commit trailer; an unknown word (a newer Kura's) reads as [`Trigger::Manual`].
    fn parse(s: &str) -> Trigger {
        Trigger::known(s).unwrap_or(Trigger::Manual)
    }
}

impl std::str::FromStr for Trigger {
    type Err = Error;
    fn from_str(s: &str) -> Result<Trigger> {
        Trigger::known(s).ok_or_else(|| {
            // The two older words are still taken, but not offered.
            let words: Vec<&str> = Trigger::ALL[..8].iter().map(|t| t.as_str()).collect();
            Error::invalid(format!("'{s}' is not a trigger; use {}", words.join(", ")))
        })
    }
}

/// Counts of files changed by a version, relative to its parent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ChangeCounts {
    /// Files that are new.
    pub added: u64,
    /// Files whose content or mode changed.
    pub modified: u64,
    /// Files that are gone.
    pub removed: u64,
}

/// One version of a project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Version {
    /// The git commit id (40 hex digits).
    pub id: String,
    /// The first 10 digits, enough to name it.
    pub short_id: String,
    /// The message given for it.
    pub message: String,
    /// Who made it ("name <email>").
    pub author: String,
    /// What made it.
    pub trigger: Trigger,
    /// When, seconds since the epoch.
    pub created_at: i64,
    /// The previous version.
    pub parent: Option<String>,
    /// Files changed relative to the previous version.
    pub changes: ChangeCounts,
    /// Files in this version.
    pub file_count: u64,
    /// Bytes of its files.
    pub size: u64,
}

/// A commit id as the 20 bytes the catalog's file lists record.
pub(crate) fn id_bytes(id: Oid) -> [u8; 20] {
    let mut out = [0u8; 20];
    out.copy_from_slice(id.as_bytes());
    out
}

/// Creates an empty bare repository whose HEAD points at `main`, from libgit2's own few lines of
/// template (a hooks README, `info/exclude`, a description) rather than the system's git
/// templates: a dozen sample hooks, 28 KB in every history, which nothing runs in a bare one.
pub(crate) fn init(path: &Path) -> Result<()> {
    let mut opts = RepositoryInitOptions::new();
    opts.bare(true)
        .initial_head("main")
        .mkpath(true)
        .external_template(false);
    Repository::init_opts(path, &opts)?;
    durable::sync_dir(path)?;
    if let Some(parent) = path.parent() {
        durable::sync_dir(parent)?;
    }
    Ok(())
}

pub(crate) fn open(path: &Path) -> Result<Repository> {
    Repository::open_bare(path).map_err(|e| {
        Error::corrupt(format!(
            "the history at {} cannot be opened: {}",
            path.display(),
            e.message()
        ))
    })
}

/// The latest version's commit id, if any.
pub(crate) fn head(repo: &Repository) -> Result<Option<Oid>> {
    match repo.refname_to_id(BRANCH) {
        Ok(id) => Ok(Some(id)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The latest version's commit id as the branch's own file holds it (Kura writes it there,
/// [`set_head`]), read without opening the repository. `None` when there is no such file or it
/// holds no commit id (the branch packed into `packed-refs` by a `git gc` run by hand, or a
/// symbolic ref): [`head`] of the opened repository knows then. A loose ref is what git reads
/// first too.
pub(crate) fn head_from_ref_file(repo_path: &Path) -> Option<Oid> {
    let text = std::fs::read(repo_path.join(BRANCH)).ok()?;
    let hex = text.strip_suffix(b"\n").unwrap_or(&text);
    // `Oid::from_str` takes a shorter prefix too (padded with zeros): a whole id only.
    if hex.len() != 40 {
        return None;
    }
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

/// Points `main` at `commit`, durably (temp file, fsync, rename, fsync folder).
pub(crate) fn set_head(repo_path: &Path, commit: Oid) -> Result<()> {
    let path = repo_path.join(BRANCH);
    durable::write_file(&path, format!("{commit}\n").as_bytes())
}

/// Resolves a version reference: `latest`/`HEAD`, a commit id or a prefix of at least 4 hex
/// digits, `HEAD~N` / `latest~N` (N versions back).
pub(crate) fn resolve(repo: &Repository, reference: &str) -> Result<Oid> {
    let r = reference.trim();
    let spec = if let Some(rest) = r.strip_prefix("latest") {
        format!("{BRANCH}{rest}")
    } else if let Some(rest) = r.strip_prefix("HEAD") {
        format!("{BRANCH}{rest}")
    } else {
        if r.len() < 4 || !r.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::invalid(format!(
                "'{r}' is not a version; use an id from `kura history` (at least 4 digits), latest, or latest~N"
            )));
        }
        r.to_string()
    };
    let relative = spec.starts_with(BRANCH);
    let obj = repo.revparse_single(&spec).map_err(|e| {
        if e.code() == git2::ErrorCode::Ambiguous {
            return Error::invalid(format!("'{r}' matches several versions; give more digits"));
        }
        // `latest` exists as a ref, but its commit (or an ancestor) cannot be read: damage.
        let damaged = matches!(
            e.class(),
            git2::ErrorClass::Odb | git2::ErrorClass::Zlib | git2::ErrorClass::Object
        ) && e.code() != git2::ErrorCode::NotFound
            || relative
                && repo
                    .refname_to_id(BRANCH)
                    .is_ok_and(|h| repo.find_commit(h).is_err());
        if damaged {
            Error::corrupt(format!(
                "version '{r}' cannot be read: the history is damaged ({}); run `kura verify`",
                e.message()
            ))
        } else {
            Error::not_found(format!("there is no version '{r}' in this project"))
        }
    })?;
    let commit = obj
        .peel_to_commit()
        .map_err(|_| Error::not_found(format!("'{r}' is not a version of this project")))?;
    Ok(commit.id())
}

/// A file in a version's tree.
#[derive(Clone, Debug)]
pub(crate) struct TreeFile {
    pub path: String,
    pub mode: u32,
    pub oid: Oid,
}

/// Every file of a commit, sorted by path.
pub(crate) fn files_of(repo: &Repository, commit: Oid) -> Result<Vec<TreeFile>> {
    let tree = repo.find_commit(commit)?.tree()?;
    let mut out = Vec::new();
    let mut err = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(ObjectType::Blob) {
            match entry.name().ok() {
                Some(name) => out.push(TreeFile {
                    path: format!("{dir}{name}"),
                    mode: entry.filemode() as u32,
                    oid: entry.id(),
                }),
                None => {
                    err = Some(Error::corrupt("a file name in the history is not UTF-8"));
                    return git2::TreeWalkResult::Abort;
                }
            }
        }
        git2::TreeWalkResult::Ok
    })?;
    if let Some(e) = err {
        return Err(e);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Builds a [`Version`] from a commit.
pub(crate) fn version_of(commit: &git2::Commit<'_>) -> Version {
    let msg = commit.message().unwrap_or("");
    let mut trigger = Trigger::Manual;
    let mut changes = ChangeCounts::default();
    let mut files = 0;
    let mut size = 0;
    let mut body = Vec::new();
    for line in msg.lines() {
        if let Some(v) = line.strip_prefix("Kura-Trigger: ") {
            trigger = Trigger::parse(v.trim());
        } else if let Some(v) = line.strip_prefix("Kura-Changes: ") {
            let mut it = v.split_whitespace();
            changes.added = it
                .next()
                .and_then(|s| s.trim_start_matches('+').parse().ok())
                .unwrap_or(0);
            changes.modified = it
                .next()
                .and_then(|s| s.trim_start_matches('~').parse().ok())
                .unwrap_or(0);
            changes.removed = it
                .next()
                .and_then(|s| s.trim_start_matches('-').parse().ok())
                .unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("Kura-Files: ") {
            let mut it = v.split_whitespace();
            files = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            size = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        } else {
            body.push(line);
        }
    }
    while body.last().is_some_and(|l| l.trim().is_empty()) {
        body.pop();
    }
    let id = commit.id().to_string();
    let author = commit.author();
    Version {
        short_id: id[..10].to_string(),
        id,
        message: body.join("\n"),
        author: format!(
            "{} <{}>",
            author.name().unwrap_or(""),
            author.email().unwrap_or("")
        ),
        trigger,
        created_at: commit.time().seconds(),
        parent: commit.parent_id(0).ok().map(|p| p.to_string()),
        changes,
        file_count: files,
        size,
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::is_libgit2_temp;

    #[test]
    fn libgit2_temp_names_are_told_from_other_names() {
        // The symlink probe's link as a killed process left it (libgit2 1.9), a pack and a
        // loose object it was writing, and `mkstemp`'s names of older libgit2.
        for name in [
            "_git2_19c6262260497c2d",
            "pack_git2_0123456789abcdef",
            "tmp_object_git2_a1b2c3d4e5f60718",
            "_git2_Ab12Cd",
        ] {
            assert!(is_libgit2_temp(OsStr::new(name)), "{name}");
        }
        for name in [
            "_git2_",
            "config",
            "notes_git2_.txt",
            "x_git2_12345",
            "_git2_19c6262260497c2g",
            "_git2_19c6262260497c2d.txt",
            "HEAD",
        ] {
            assert!(!is_libgit2_temp(OsStr::new(name)), "{name}");
        }
    }
}
