//! Git integration: push a project's history to a remote, and look at (or create) the git
//! repository of the project's own folder.

use std::process::Command;

use git2::{Repository, StatusOptions};
use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::history;
use crate::vault::Vault;
use crate::vault::VaultReader;

/// The state of the git repository in a project's folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct FolderGitStatus {
    /// The checked-out branch (`None` when detached or before the first commit).
    pub branch: Option<String>,
    /// The commit checked out.
    pub head: Option<String>,
    /// Changed, new and deleted files, as `git status --porcelain` would list them.
    pub changes: Vec<FolderGitChange>,
}

/// One changed file in the folder's own repository.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct FolderGitChange {
    /// Path inside the folder.
    pub path: String,
    /// Two letters like `git status --porcelain`: index then work tree (`M`, `A`, `D`, `R`, `?`).
    pub status: String,
}

/// A commit of the folder's own repository.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct FolderGitCommit {
    /// Commit id.
    pub id: String,
    /// First line of the message.
    pub summary: String,
    /// "name <email>".
    pub author: String,
    /// Seconds since the epoch.
    pub time: i64,
}

/// What a push did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct PushReport {
    /// Where to.
    pub remote: String,
    /// The remote branch updated.
    pub branch: String,
    /// The version pushed.
    pub version: String,
}

fn status_letters(s: git2::Status) -> String {
    let index = if s.is_index_new() {
        'A'
    } else if s.is_index_modified() {
        'M'
    } else if s.is_index_deleted() {
        'D'
    } else if s.is_index_renamed() {
        'R'
    } else if s.is_wt_new() {
        '?'
    } else {
        ' '
    };
    let tree = if s.is_wt_new() {
        '?'
    } else if s.is_wt_modified() {
        'M'
    } else if s.is_wt_deleted() {
        'D'
    } else if s.is_wt_renamed() {
        'R'
    } else {
        ' '
    };
    format!("{index}{tree}")
}

impl VaultReader {
    fn folder_repo(&self, reference: &str) -> Result<(crate::Project, Repository)> {
        let p = self.project(reference)?;
        self.require_folder(&p)?;
        if !p.path.join(".git").exists() {
            return Err(Error::not_found(format!(
                "the folder of project '{}' is not a git repository; `kura git init {}` makes one",
                p.name, p.name
            )));
        }
        let repo = Repository::open(&p.path)?;
        Ok((p, repo))
    }

    /// `git status` of the project's own folder (when it is a git repository).
    pub fn folder_git_status(&self, reference: &str) -> Result<FolderGitStatus> {
        let (_, repo) = self.folder_repo(reference)?;
        let head = repo.head().ok();
        let branch = head
            .as_ref()
            .filter(|h| h.is_branch())
            .and_then(|h| h.shorthand().ok().map(str::to_string));
        let head_id = head.and_then(|h| h.target()).map(|o| o.to_string());
        let mut opts = StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .renames_head_to_index(true);
        let statuses = repo.statuses(Some(&mut opts))?;
        let changes = statuses
            .iter()
            .filter(|e| !e.status().is_ignored())
            .map(|e| FolderGitChange {
                path: e.path().unwrap_or("?").to_string(),
                status: status_letters(e.status()),
            })
            .collect();
        Ok(FolderGitStatus {
            branch,
            head: head_id,
            changes,
        })
    }

    /// `git log` of the project's own folder, newest first.
    pub fn folder_git_log(&self, reference: &str, limit: usize) -> Result<Vec<FolderGitCommit>> {
        let (_, repo) = self.folder_repo(reference)?;
        let Ok(head) = repo.head() else {
            return Ok(Vec::new());
        };
        let Some(target) = head.target() else {
            return Ok(Vec::new());
        };
        let mut walk = repo.revwalk()?;
        walk.push(target)?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)?;
        let mut out = Vec::new();
        for id in walk.take(limit) {
            let c = repo.find_commit(id?)?;
            let a = c.author();
            out.push(FolderGitCommit {
                id: c.id().to_string(),
                summary: c.summary().ok().flatten().unwrap_or("").to_string(),
                author: format!("{} <{}>", a.name().unwrap_or(""), a.email().unwrap_or("")),
                time: c.time().seconds(),
            });
        }
        Ok(out)
    }
}

impl Vault {
    /// Creates a git repository in the project's folder (`git init`).
    pub fn init_folder_git(&self, reference: &str) -> Result<()> {
        let (p, _held) = self.folder_to_change(reference)?;
        if p.path.join(".git").exists() {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "the folder of project '{}' is already a git repository",
                    p.name
                ),
            ));
        }
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        Repository::init_opts(&p.path, &opts)?;
        Ok(())
    }
}

impl VaultReader {
    /// Pushes the project's version history to `remote` (default: the project's git remote) as
    /// `branch` (default `main`). Uses the `git` program, so the user's credentials, SSH agent and
    /// URL rewrites apply. A remote whose branch has other history is refused, never overwritten.
    pub fn push_history(
        &self,
        reference: &str,
        remote: Option<&str>,
        branch: Option<&str>,
    ) -> Result<PushReport> {
        let p = self.project(reference)?;
        let remote = remote
            .map(str::to_string)
            .or_else(|| p.git_remote.clone())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "project '{}' has no git remote; pass one or set it with `kura project edit {} --git-remote URL`",
                    p.name, p.name
                ))
            })?;
        let branch = branch.unwrap_or("main");
        if branch.is_empty()
            || branch.starts_with('-')
            || branch.contains(['~', '^', ':', ' ', '\\'])
            || branch.contains("..")
        {
            return Err(Error::invalid(format!(
                "'{branch}' is not a valid branch name"
            )));
        }
        if remote.starts_with('-') {
            return Err(Error::invalid(format!("'{remote}' is not a valid remote")));
        }
        let repo_path = self.history_path(&p.id);
        let repo = self.open_history(&p)?;
        let head = history::head(&repo)?.ok_or_else(|| {
            Error::conflict(format!("project '{}' has no versions to push", p.name))
        })?;
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(&repo_path)
            .args(["push", "--porcelain", "--"])
            .arg(&remote)
            .arg(format!("{}:refs/heads/{branch}", history::BRANCH))
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .map_err(|e| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("cannot run git to push ({e}); install git"),
                )
            })?;
        if !out.status.success() {
            let text = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let rejected = text.contains("rejected") || stdout.contains("[rejected]");
            return Err(Error::new(
                if rejected {
                    ErrorKind::Conflict
                } else {
                    ErrorKind::Busy
                },
                format!(
                    "pushing project '{}' to {remote} failed{}: {}",
                    p.name,
                    if rejected {
                        " (the remote branch has other history; push to another --branch)"
                    } else {
                        ""
                    },
                    text.trim()
                ),
            ));
        }
        Ok(PushReport {
            remote,
            branch: branch.to_string(),
            version: head.to_string(),
        })
    }
}
