//! Taking a version: scan the folder, read only what changed, store small text in git and large or
//! binary files in the chunk store, and commit, all in one git pack.
//!
//! Commit order (a crash at any point leaves garbage for gc, never a reference to missing data):
//! chunk packs → chunk index → git pack + .idx → `refs/heads/main` → catalog rows.
//!
//! [`Vault::snapshot`] runs the stages in this order, each in its own file:
//! 1. [`scan`]: list the folder while the files cache loads (rebuilt from the history when the
//!    catalog is behind it);
//! 2. [`classify`]: files the cache knows unchanged against files to read; when none is to read
//!    and none is gone the tree is the head's, and the snapshot ends there;
//! 3. [`read`]: small files into the history's new pack ([`small_files`]; alike ones as deltas,
//!    also against their [`namesakes`]), large and binary ones through the chunk store
//!    ([`large_files`]), both held in [`writers`];
//! 4. [`carry`]: files that could not be read keep their previous content, unchanged ones their
//!    last version; what was added, modified, removed;
//! 5. [`trees`]: the tree objects;
//! 6. [`commit`]: the commit object, then the commit order above and the catalog.
//!
//! Their tunables are in [`tunables`].

mod budget;
mod carry;
mod classify;
mod commit;
mod large_files;
mod namesakes;
mod read;
mod scan;
pub(crate) use scan::KnownFiles;
mod small_files;
mod trees;
mod tunables;
mod writers;

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use self::classify::Classified;
use self::commit::{Contents, Message};
use self::scan::Scanned;
use self::writers::Writers;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::files::{self, SkippedFile};
use crate::history::{self, ChangeCounts, Trigger, Version};
use crate::job::Job;
use crate::model::{Layer, Project, ProjectStatus};
use crate::vault::Vault;

/// How to take a version.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SnapshotOptions {
    /// The message; a default one names the trigger.
    pub message: Option<String>,
    /// "name <email>" or a name; the person's git identity (else their OS account) when `None`.
    pub author: Option<String>,
    /// What asked for it; the door the vault serves ([`Vault::door`]) when `None`.
    pub trigger: Option<Trigger>,
    /// Make a version even when nothing changed.
    pub allow_empty: bool,
}

/// What a snapshot did.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SnapshotReport {
    /// The project's id.
    pub project_id: String,
    /// The new version, or `None` when nothing had changed.
    pub version: Option<Version>,
    /// Files added, modified, removed since the previous version.
    pub changes: ChangeCounts,
    /// Files in the folder's current state.
    pub files: u64,
    /// Their bytes.
    pub size: u64,
    /// Files actually read (the rest were known unchanged).
    pub files_read: u64,
    /// Bytes actually read.
    pub bytes_read: u64,
    /// New bytes added to the chunk store (after dedup and compression).
    pub new_chunk_bytes: u64,
    /// Files that could not be read (their previous content, if any, was kept), and files and
    /// folders whose names no restore could write back (not taken in).
    pub skipped: Vec<SkippedFile>,
}

impl SnapshotReport {
    /// The report of a snapshot that found the head's tree without reading a file.
    fn head_as_is(project_id: String, draft: Draft) -> Self {
        let report = SnapshotReport {
            project_id,
            version: None,
            changes: ChangeCounts::default(),
            files: draft.entries.len() as u64,
            size: draft.entries.iter().map(|e| e.size).sum(),
            files_read: 0,
            bytes_read: 0,
            new_chunk_bytes: 0,
            skipped: draft.skipped,
        };
        free_later(draft.entries);
        report
    }
}

/// Frees `big` on a thread of its own. A snapshot that finds nothing changed holds two lists
/// of every file's path: freeing them one by one was a tenth of its time on 50,000 files, and
/// nothing waits for it. A short list is freed here, in less time than a thread takes to
/// start. (Freed here too when no thread can be started.)
fn free_later<T: Send + 'static>(big: Vec<T>) {
    if big.len() < FREE_HERE_MAX {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("kura-free".into())
        .spawn(move || drop(big));
}

/// A list shorter than this is freed by [`free_later`] on the calling thread.
const FREE_HERE_MAX: usize = 5_000;

/// A file's place in the new version.
#[derive(Clone, Debug)]
struct Entry {
    path: String,
    mode: u32,
    oid: [u8; 20],
    layer: Layer,
    /// Stat data for the cache; `None` for entries carried over from the previous version.
    stat: Option<files::Stat>,
    /// The commit id of the version where it last changed; `None` means "this new version".
    last_version: Option<[u8; 20]>,
    size: u64,
    /// Whether the cache row must be (re)written.
    dirty: bool,
}

/// The new version as the stages build it.
struct Draft {
    /// Its files so far (sorted by path once every stage has added its own).
    entries: Vec<Entry>,
    /// Files that could not be read, and files and folders whose names no restore could write
    /// back.
    skipped: Vec<SkippedFile>,
    /// Files actually read.
    files_read: u64,
}

impl Draft {
    /// Sorts the entries by path, as trees are built, and the skipped files by path too (the
    /// readers skip them in the order they finish, which differs from run to run).
    fn sort_by_path(&mut self) {
        self.entries
            .sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        self.skipped
            .sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    }
}

/// What every stage of one snapshot reads.
struct Context<'a> {
    vault: &'a Vault,
    project: &'a Project,
    config: &'a Config,
    /// The project's folder.
    root: &'a Path,
    job: &'a Job,
    /// The history, opened when first needed ([`Context::repo`]).
    repo: std::cell::OnceCell<git2::Repository>,
    repo_path: &'a Path,
    /// The history's head before this snapshot.
    head: Option<git2::Oid>,
    /// When the scan started (ns since the epoch), to tell racily clean files.
    scan_start: i64,
    /// For the debug log's timings.
    started: Instant,
}

impl Context<'_> {
    /// The history, opened the first time a stage needs it: a snapshot that finds nothing
    /// changed needs only its head, which it reads from the branch's file.
    fn repo(&self) -> Result<&git2::Repository> {
        if let Some(repo) = self.repo.get() {
            return Ok(repo);
        }
        let repo = history::open(self.repo_path)?;
        Ok(self.repo.get_or_init(|| repo))
    }
}

/// Refuses an author no git author line can hold.
fn check_author(author: &str) -> Result<()> {
    if author.trim().contains(['\n', '\0']) {
        return Err(Error::invalid("the author may not contain line breaks"));
    }
    Ok(())
}

/// The git author line of a new version: `author` as given, or, when none is given, the
/// person git's configuration names (read only here, when a version is written).
fn author_line(author: &str) -> Result<String> {
    check_author(author)?;
    let a = author.trim();
    if a.contains('<') && a.ends_with('>') {
        Ok(a.to_string())
    } else if a.is_empty() {
        Ok(crate::history::author::person())
    } else {
        Ok(format!("{} <>", a.replace(['<', '>'], "")))
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl Vault {
    /// Takes a version of a project's folder. When nothing changed (and `allow_empty` is not
    /// set) no version is made and the report's `version` is `None`.
    pub fn snapshot(
        &self,
        reference: &str,
        opts: &SnapshotOptions,
        job: &Job,
    ) -> Result<SnapshotReport> {
        let p = self.project_to_snapshot(reference)?;
        check_author(opts.author.as_deref().unwrap_or(""))?;
        let _lock = self.lock_project(&p.id)?;
        // Still one to take versions of, now that nothing else can change it: an archive or a
        // move to the trash that held the lock may have taken its history away meanwhile.
        let p = self.project_to_snapshot(&p.id)?;
        self.snapshot_held(p, opts, job)
    }

    /// [`Vault::snapshot`] of `p`, whose lock the caller holds (an archive takes its last
    /// version this way, with the folder held still).
    pub(crate) fn snapshot_held(
        &self,
        p: Project,
        opts: &SnapshotOptions,
        job: &Job,
    ) -> Result<SnapshotReport> {
        check_author(opts.author.as_deref().unwrap_or(""))?;
        let trigger = opts.trigger.unwrap_or_else(|| self.door());
        let _chunks_lock = self.lock_chunks(false)?;
        let config_in_force = self.config();

        let scan_start = now_ns();
        job.files("scanning", 0, None);
        let started = Instant::now();
        let repo_path = self.history_path(&p.id);
        let repo = std::cell::OnceCell::new();
        let head = match history::head_from_ref_file(&repo_path) {
            Some(head) => Some(head),
            None => {
                let opened = history::open(&repo_path)?;
                history::head(repo.get_or_init(|| opened))?
            }
        };
        let ctx = Context {
            vault: self,
            project: &p,
            config: &config_in_force,
            root: p.path.as_path(),
            job,
            repo,
            repo_path: &repo_path,
            head,
            scan_start,
            started,
        };
        let Scanned { scan, previous } = scan::scan_folder(&ctx)?;
        let classified = classify::classify(scan, &previous.files, scan_start);
        if classified.is_head_as_is(&ctx, &previous) && !opts.allow_empty {
            tracing::debug!(elapsed = ?started.elapsed(), "unchanged");
            let report = SnapshotReport::head_as_is(p.id, classified.draft);
            free_later(previous.files);
            return Ok(report);
        }
        let detected = classified.detect(ctx.root);
        let Classified { mut draft, to_read } = classified;
        let mut writers = Writers::open(&ctx)?;
        let bytes_read = read::read_changed(&ctx, &mut writers, &to_read, &mut draft)?;
        carry::carry_unreadable(&previous.files, &mut draft);
        draft.sort_by_path();
        let changes = carry::compare(&previous.files, &mut draft.entries);
        tracing::debug!(read = draft.files_read, elapsed = ?started.elapsed(), "read changed files");

        let trees = trees::build(&ctx, &draft.entries)?;
        let contents = Contents {
            entries: &draft.entries,
            changes: &changes,
            cache_valid: previous.cache_valid,
            total_size: draft.entries.iter().map(|e| e.size).sum(),
            file_count: draft.entries.len() as u64,
        };
        let (file_count, total_size) = (contents.file_count, contents.total_size);
        tracing::debug!(trees = trees.objects.len(), elapsed = ?started.elapsed(), "built trees");
        let (version, changes, new_chunk_bytes) = if trees.unchanged && !opts.allow_empty {
            let new_chunk_bytes = commit::refresh_cache(&ctx, writers, &contents)?;
            (None, ChangeCounts::default(), new_chunk_bytes)
        } else {
            let author = author_line(opts.author.as_deref().unwrap_or(""))?;
            let message = Message {
                opts,
                author: &author,
                trigger,
            };
            let committed = commit::commit(&ctx, writers, &contents, &trees, &message, &detected)?;
            (
                Some(committed.version),
                changes.counts,
                committed.new_chunk_bytes,
            )
        };
        Ok(SnapshotReport {
            project_id: p.id,
            version,
            changes,
            files: file_count,
            size: total_size,
            files_read: draft.files_read,
            bytes_read,
            new_chunk_bytes,
            skipped: draft.skipped,
        })
    }

    /// The project `reference` names, if a version of it can be taken: not in the trash, its
    /// folder present.
    fn project_to_snapshot(&self, reference: &str) -> Result<Project> {
        let p = self.project(reference)?;
        if p.status == ProjectStatus::Deleted {
            return Err(Error::conflict(format!(
                "project '{}' is in the trash; restore it before taking versions",
                p.name
            )));
        }
        self.require_folder(&p)?;
        Ok(p)
    }

    /// Takes a version of every active project (of the active workspace, or of all with
    /// `all_workspaces`) whose folder is present and changed; returns one report per project.
    pub fn snapshot_changed(
        &self,
        all_workspaces: bool,
        opts: &SnapshotOptions,
        job: &Job,
    ) -> Result<Vec<SnapshotReport>> {
        let active = self.projects(&crate::ProjectFilter {
            all_workspaces,
            status: Some(ProjectStatus::Active),
            ..Default::default()
        })?;
        active
            .iter()
            .filter(|p| p.path.is_dir())
            .map(|p| self.snapshot(&p.id, opts, job))
            .collect()
    }
}

/// Bytes of the files under `dir` (best effort).
pub(crate) fn dir_size(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}
