//! Cleanup: purge the trash after `cleanup.trash_days`, archive idle projects, thin automatic
//! versions by the retention rule, collect unreferenced chunks, and clear temporary leftovers.
//! A dry run lists what would go and changes nothing; every run (dry or not) is recorded with
//! the bytes freed per category.
//!
//! Thinning rewrites a project's history: kept versions are re-parented onto each other (same
//! trees, messages, authors and times; their ids change), a new pack of what is reachable is
//! written and made durable, then `main` moves, then the catalog's references follow in one
//! transaction, and only then are the old packs and loose objects deleted. Manual versions
//! (and those taken before a restore or an archive, or by the API) are never removed.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use git2::Oid;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::catalog::{self, filelist, projects, upkeep};
use crate::config::RetentionConfig;
use crate::error::{Error, Result};
use crate::fs::staging::{self, Leftover};
use crate::history::snapshot::dir_size;
use crate::history::{self, Trigger};
use crate::job::Job;
use crate::vault::Vault;
use crate::vault::VaultReader;

/// Temporary leftovers younger than this may belong to a running operation.
const LEFTOVER_AGE_SECS: u64 = 3600;

/// What cleanup may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CleanupCategory {
    /// Temporary files left by interrupted operations, and the catalog's write-ahead log.
    Cache,
    /// Projects in the trash for longer than `cleanup.trash_days`.
    Trash,
    /// Active projects idle longer than `archive.archive_after_days` get archived.
    Archive,
    /// Automatic versions the retention rule (`versions.*`) does not keep.
    Versions,
    /// Chunks no version references.
    Chunks,
}

impl CleanupCategory {
    /// Every category, in the order a run does them.
    pub const ALL: [CleanupCategory; 5] = [
        CleanupCategory::Trash,
        CleanupCategory::Archive,
        CleanupCategory::Versions,
        CleanupCategory::Chunks,
        CleanupCategory::Cache,
    ];

    /// The spelling in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            CleanupCategory::Cache => "cache",
            CleanupCategory::Trash => "trash",
            CleanupCategory::Archive => "archive",
            CleanupCategory::Versions => "versions",
            CleanupCategory::Chunks => "chunks",
        }
    }
}

impl std::str::FromStr for CleanupCategory {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        CleanupCategory::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "'{s}' is not a cleanup category; use cache, trash, archive, versions or chunks"
                ))
            })
    }
}

/// How to clean up.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CleanupOptions {
    /// List what would go; change nothing.
    pub dry_run: bool,
    /// Only these categories; all when empty.
    pub only: Vec<CleanupCategory>,
}

/// One thing cleanup removed (or would remove).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct CleanupItem {
    /// What it is, for people.
    pub description: String,
    /// The project it belongs to, by name.
    pub project: Option<String>,
    /// Bytes it frees (for a dry run, an estimate; 0 when it cannot be known beforehand).
    pub bytes: u64,
}

/// One category of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct CleanupCategoryReport {
    /// Which category.
    pub category: CleanupCategory,
    /// What went (or would go).
    pub items: Vec<CleanupItem>,
    /// Bytes freed (estimated for a dry run).
    pub bytes_freed: u64,
}

/// What a cleanup run did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct CleanupReport {
    /// The run's id in the history of runs.
    pub id: i64,
    /// True for a dry run (nothing was changed).
    pub dry_run: bool,
    /// Seconds since the epoch.
    pub started_at: i64,
    /// Seconds since the epoch.
    pub finished_at: i64,
    /// Per category, in the order they ran.
    pub categories: Vec<CleanupCategoryReport>,
    /// Bytes freed in all (estimated for a dry run).
    pub bytes_freed: u64,
}

/// The versions the retention rule keeps, given `(id, time, trigger)` oldest first. The latest
/// version and every version that is not automatic are always kept; of automatic ones, all
/// younger than `keep_all_days`, then the newest of each hour until `hourly_days`, of each day
/// until `daily_days`, of each week after.
pub(crate) fn retained(
    versions: &[(Oid, i64, Trigger)],
    rule: &RetentionConfig,
    now: i64,
) -> HashSet<Oid> {
    const DAY: i64 = 86_400;
    let mut keep = HashSet::new();
    let mut buckets: HashMap<(u8, i64), (i64, Oid)> = HashMap::new();
    for (i, (id, at, trigger)) in versions.iter().enumerate() {
        let age = now - at;
        if *trigger != Trigger::Automatic
            || i + 1 == versions.len()
            || age < rule.keep_all_days as i64 * DAY
        {
            keep.insert(*id);
            continue;
        }
        let bucket = if age < rule.hourly_days as i64 * DAY {
            (0, at.div_euclid(3600))
        } else if age < rule.daily_days as i64 * DAY {
            (1, at.div_euclid(DAY))
        } else {
            (2, at.div_euclid(7 * DAY))
        };
        let slot = buckets.entry(bucket).or_insert((*at, *id));
        if *at >= slot.0 {
            *slot = (*at, *id);
        }
    }
    keep.extend(buckets.into_values().map(|(_, id)| id));
    keep
}

/// Removes the leftovers of interrupted operations under `dir`, one level deep: staging folders
/// whose process is gone (`crate::fs::staging`), with the project folders and histories they made
/// that no catalog row took (`owned` says which a row took), whatever their age; other entries
/// whose name `is_temp` accepts once they are older than an hour. Returns what they took.
fn leftovers(
    dir: &Path,
    is_temp: &dyn Fn(&str) -> bool,
    remove: bool,
    owned: &dyn Fn(&Path) -> bool,
    items: &mut Vec<CleanupItem>,
) {
    let Ok(rd) = fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let old = |md: &fs::Metadata| {
        md.modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|d| d.as_secs() >= LEFTOVER_AGE_SECS)
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // The spares of saves (`kura_durable::Spares`) hold only zeros, and the processes that
        // keep them are alive (their `.owner` files locked); a process gone leaves its spares
        // to the next, which takes them over.
        if !is_temp(&name) || name == kura_durable::SPARES_DIR {
            continue;
        }
        let Ok(md) = fs::symlink_metadata(e.path()) else {
            continue;
        };
        let mut made = Vec::new();
        if md.is_dir() {
            match staging::inspect(&e.path()) {
                Leftover::Running => continue,
                Leftover::Abandoned { claims, _lock } => {
                    made = claims
                        .into_iter()
                        .filter(|c| c.is_dir() && !owned(c))
                        .collect();
                }
                Leftover::Unknown if !old(&md) => continue,
                Leftover::Unknown => {}
            }
        } else if !old(&md) {
            continue;
        }
        for folder in made {
            let bytes = dir_size(&folder);
            if remove && fs::remove_dir_all(&folder).is_err() {
                continue;
            }
            items.push(CleanupItem {
                description: format!(
                    "made by an interrupted operation, never finished: {}",
                    folder.display()
                ),
                project: None,
                bytes,
            });
        }
        let bytes = if md.is_dir() {
            dir_size(&e.path())
        } else {
            md.len()
        };
        if remove {
            let res = if md.is_dir() {
                fs::remove_dir_all(e.path())
            } else {
                fs::remove_file(e.path())
            };
            if res.is_err() {
                continue;
            }
        }
        items.push(CleanupItem {
            description: format!(
                "left over by an interrupted operation: {}",
                e.path().display()
            ),
            project: None,
            bytes,
        });
    }
}

impl Vault {
    /// Runs cleanup (or with `dry_run`, lists what it would do) and records the run.
    pub fn cleanup(&self, opts: &CleanupOptions, job: &Job) -> Result<CleanupReport> {
        let started_at = self.now();
        let mut categories = Vec::new();
        for cat in CleanupCategory::ALL {
            if !opts.only.is_empty() && !opts.only.contains(&cat) {
                continue;
            }
            job.check()?;
            job.files(cat.as_str(), 0, None);
            let items = match cat {
                CleanupCategory::Trash => self.purge_trash(opts.dry_run)?,
                CleanupCategory::Archive => self.archive_idle(opts.dry_run, job)?,
                CleanupCategory::Versions => self.thin_all_versions(opts.dry_run, job)?,
                CleanupCategory::Chunks => self.collect_chunks(opts.dry_run, job)?,
                CleanupCategory::Cache => self.clean_cache(opts.dry_run)?,
            };
            categories.push(CleanupCategoryReport {
                category: cat,
                bytes_freed: items.iter().map(|i| i.bytes).sum(),
                items,
            });
        }
        if !opts.dry_run {
            // What trash and archiving moved aside is removed before the run counts as done.
            self.purge_discarded()?;
            // The app and `kura serve` keep one connection open for days: their statistics
            // are refreshed here (a failure only leaves them as they were).
            if let Err(e) = crate::catalog::optimize(&self.db(), true) {
                tracing::warn!("the catalog's statistics were not refreshed: {e}");
            }
        }
        let mut report = CleanupReport {
            id: 0,
            dry_run: opts.dry_run,
            started_at,
            finished_at: self.now(),
            bytes_freed: categories.iter().map(|c| c.bytes_freed).sum(),
            categories,
        };
        let json = serde_json::to_string(&report)
            .map_err(|e| Error::internal(format!("cannot record the cleanup run: {e}")))?;
        report.id = upkeep::insert_cleanup_run(
            &self.db(),
            report.started_at,
            report.finished_at,
            report.dry_run,
            report.bytes_freed,
            &json,
        )?;
        Ok(report)
    }
}

impl VaultReader {
    /// Past cleanup runs, newest first (at most `limit`).
    pub fn cleanup_runs(&self, limit: Option<u32>) -> Result<Vec<CleanupReport>> {
        let rows = upkeep::cleanup_runs(&self.db(), limit.unwrap_or(u32::MAX))?;
        let mut out = Vec::new();
        for (id, text) in rows {
            let mut report: CleanupReport = serde_json::from_str(&text).map_err(|e| {
                Error::corrupt(format!(
                    "cleanup run {id} in the catalog is unreadable: {e}"
                ))
            })?;
            report.id = id;
            out.push(report);
        }
        Ok(out)
    }

    /// The next time cleanup is due by `cleanup.schedule` after `after` (seconds since the
    /// epoch), with times of day read in the local time zone; `None` when it is not scheduled.
    pub fn next_cleanup_at(&self, after: i64) -> Result<Option<i64>> {
        Ok(self
            .config()
            .cleanup
            .parsed_schedule()?
            .and_then(|s| s.next_after_secs(after, &chrono::Local)))
    }
}

impl Vault {
    fn purge_trash(&self, dry_run: bool) -> Result<Vec<CleanupItem>> {
        let days = self.config().cleanup.trash_days;
        if days == 0 {
            return Ok(Vec::new());
        }
        let cutoff = self.now() - days as i64 * 86_400;
        let ids = projects::ids_trashed_by(&self.db(), cutoff)?;
        let mut items = Vec::new();
        for id in ids {
            let p = self.project_by_id(&id)?;
            let mut bytes = dir_size(&self.history_path(&p.id));
            if !p.linked && p.path.starts_with(self.projects_dir()) {
                bytes += dir_size(&p.path);
            }
            if !dry_run {
                self.delete_project(&p.id)?;
            }
            items.push(CleanupItem {
                description: format!(
                    "project '{}' (in the trash since {})",
                    p.name,
                    local_date(p.deleted_at.unwrap_or_default(), "%Y-%m-%d")
                ),
                project: Some(p.name),
                bytes,
            });
        }
        Ok(items)
    }

    fn archive_idle(&self, dry_run: bool, job: &Job) -> Result<Vec<CleanupItem>> {
        let mut items = Vec::new();
        for p in self.idle_projects()? {
            let folder = if p.linked { 0 } else { dir_size(&p.path) };
            let before = folder + dir_size(&self.history_path(&p.id));
            let bytes = if dry_run {
                folder
            } else {
                let info = self.archive_project(&p.id, job)?;
                before.saturating_sub(info.size)
            };
            items.push(CleanupItem {
                description: format!(
                    "archive project '{}' (idle since {})",
                    p.name,
                    local_date(p.updated_at, "%Y-%m-%d")
                ),
                project: Some(p.name),
                bytes,
            });
        }
        Ok(items)
    }

    fn thin_all_versions(&self, dry_run: bool, job: &Job) -> Result<Vec<CleanupItem>> {
        let mut items = Vec::new();
        for p in self.all_projects()? {
            job.check()?;
            items.extend(self.thin_versions(&p.id, dry_run)?);
        }
        Ok(items)
    }

    /// Drops the automatic versions of one project that the retention rule does not keep: the
    /// kept versions after the first dropped one are rewritten, a pack of what is reachable is
    /// written, then `main` moves, then the catalog follows, and only then do the old packs and
    /// loose objects go.
    fn thin_versions(&self, id: &str, dry_run: bool) -> Result<Vec<CleanupItem>> {
        let p = self.project_by_id(id)?;
        let rule = self.config().versions.clone();
        let now = self.now();
        let _lock = if dry_run {
            None
        } else {
            Some(self.lock_project(&p.id)?)
        };
        let repo_path = self.history_path(&p.id);
        let repo = history::open(&repo_path)?;
        let Some(head) = history::head(&repo)? else {
            return Ok(Vec::new());
        };
        let chain = version_chain(&repo, head)?;
        let keep = retained(&chain, &rule, now);
        let mut items = dropped_version_items(&p.name, &chain, &keep);
        if items.is_empty() || dry_run {
            return Ok(items);
        }
        let before = dir_size(&repo_path);
        let rewritten = rewrite_kept_versions(&repo, &chain, &keep)?;
        // A pack of everything reachable, durable before anything points at it.
        let old_packs = pack_folder_files(&repo_path)?;
        let (new_pack, name) = self.pack_reachable(&repo, &repo_path, rewritten.head, &p.name)?;
        history::set_head(&repo_path, rewritten.head)?;
        self.rename_thinned_versions(&p.id, &rewritten)?;
        // Now the old packs and loose objects are unreferenced.
        self.remove_unreferenced_objects(&repo_path, &name, old_packs, &new_pack)?;
        let after = dir_size(&repo_path);
        projects::set_history_bytes(&self.db(), &p.id, after)?;
        if let Some(first) = items.first_mut() {
            first.bytes = before.saturating_sub(after);
        }
        Ok(items)
    }

    /// Writes a pack of everything reachable from `head` in the history at `repo_path` and
    /// makes it durable. Returns the pack's path and its name.
    fn pack_reachable(
        &self,
        repo: &git2::Repository,
        repo_path: &Path,
        head: Oid,
        project: &str,
    ) -> Result<(PathBuf, String)> {
        let mut pb = crate::history::repack::pack_builder(repo)?;
        let mut inserted = crate::history::repack::insert_reachable(repo, &mut pb, &[head])?;
        let (new_pack, name) =
            self.write_pack(repo_path, &mut pb, &mut inserted, project, || false)?;
        drop(pb);
        Ok((new_pack, name))
    }

    /// Points the catalog at the rewritten history of the project `project_id`, in one
    /// transaction: the file lists' versions take their new ids, and the project its new head.
    fn rename_thinned_versions(
        &self,
        project_id: &str,
        rewritten: &RewrittenHistory,
    ) -> Result<()> {
        let mut db = self.db();
        let tx = db.transaction()?;
        let renamed: FxHashMap<[u8; 20], [u8; 20]> = rewritten
            .new_ids
            .iter()
            .filter(|(o, n)| o != n)
            .map(|(o, n)| (history::id_bytes(*o), history::id_bytes(*n)))
            .collect();
        filelist::rename_versions(&tx, project_id, &renamed)?;
        projects::set_head_only(&tx, project_id, &rewritten.head.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// Once the catalog points at the new pack `name` (at `new_pack`), removes what it replaced:
    /// the old packs among `old_files` (the pack folder's files before it was written) and, when
    /// they could be retired (no backup is reading the histories), the loose objects.
    fn remove_unreferenced_objects(
        &self,
        repo_path: &Path,
        name: &str,
        old_files: Vec<PathBuf>,
        new_pack: &Path,
    ) -> Result<()> {
        crate::history::repack::mark_repacked(repo_path, &[name])?;
        let old_packs: Vec<PathBuf> = old_files
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "pack"))
            .collect();
        let retired = self.retire_packs(repo_path, &old_packs, new_pack)?;
        if let Some(rd) = retired
            .then(|| fs::read_dir(repo_path.join("objects")).ok())
            .flatten()
        {
            for e in rd.flatten() {
                let n = e.file_name();
                let n = n.to_string_lossy();
                if n.len() == 2 && n.chars().all(|c| c.is_ascii_hexdigit()) {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
        Ok(())
    }

    fn collect_chunks(&self, dry_run: bool, job: &Job) -> Result<Vec<CleanupItem>> {
        // Histories to rewrite with deltas (what that saves is known only once it is done).
        let (chunks, bytes, histories, history_bytes) = if dry_run {
            let live = self.live_chunks(job)?;
            let (chunks, bytes) = self.chunks().garbage(&live)?;
            (chunks, bytes, self.histories_to_repack()?, 0)
        } else {
            let r = self.gc(job)?;
            (
                r.chunks_removed,
                r.bytes_freed - r.history_bytes_freed,
                r.histories_repacked,
                r.history_bytes_freed,
            )
        };
        let mut items = Vec::new();
        if chunks > 0 || bytes > 0 {
            items.push(CleanupItem {
                description: format!("{chunks} chunk(s) no version references"),
                project: None,
                bytes,
            });
        }
        if histories > 0 {
            items.push(CleanupItem {
                description: format!(
                    "{histories} project histor{} rewritten with deltas",
                    if histories == 1 { "y" } else { "ies" }
                ),
                project: None,
                bytes: history_bytes,
            });
        }
        Ok(items)
    }
}

impl VaultReader {
    /// Whether a catalog row has `path` as its project folder or its history. Also true for a
    /// path that is not one of the vault's own project folders or histories (a claim names
    /// nothing else), and when the catalog cannot be read: then nothing is removed.
    fn catalog_owns(&self, path: &Path) -> bool {
        let managed = [self.projects_dir(), self.root().join("histories")];
        if !managed.iter().any(|m| path.parent() == Some(m.as_path())) {
            return true;
        }
        let id = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".git"))
            .filter(|id| self.history_path(id) == path)
            .unwrap_or("");
        projects::holds_path_or_id(&self.db(), path, id).unwrap_or(true)
    }
}

impl Vault {
    fn clean_cache(&self, dry_run: bool) -> Result<Vec<CleanupItem>> {
        let mut items = Vec::new();
        let tmp = |name: &str| name.starts_with(kura_durable::TEMP_PREFIX);
        // A path is kept when the catalog has it, or a running import or unarchive claims it.
        let busy = crate::fs::staging::running_claims(&[
            self.projects_dir(),
            self.root().join("histories"),
        ]);
        let owned = |path: &Path| busy.contains(path) || self.catalog_owns(path);
        leftovers(&self.projects_dir(), &tmp, !dry_run, &owned, &mut items);
        let histories = self.root().join("histories");
        leftovers(&histories, &tmp, !dry_run, &owned, &mut items);
        // libgit2's temp files in a history: its probe for links at the top, the packs and
        // loose objects it was writing.
        let git_temp = |name: &str| crate::history::is_libgit2_temp(std::ffi::OsStr::new(name));
        for history in fs::read_dir(&histories).into_iter().flatten().flatten() {
            let objects = history.path().join("objects");
            let loose = fs::read_dir(&objects).into_iter().flatten().flatten();
            for dir in [history.path(), objects.join("pack")]
                .into_iter()
                .chain(loose.map(|e| e.path()).filter(|p| is_loose_dir(p)))
            {
                leftovers(&dir, &git_temp, !dry_run, &owned, &mut items);
            }
        }
        leftovers(
            &self.templates_dir(),
            &|name: &str| name.starts_with(".saving-"),
            !dry_run,
            &owned,
            &mut items,
        );
        if let Ok(years) = fs::read_dir(self.root().join("archives")) {
            for y in years.flatten() {
                if let Ok(months) = fs::read_dir(y.path()) {
                    for m in months.flatten() {
                        leftovers(&m.path(), &tmp, !dry_run, &owned, &mut items);
                    }
                }
            }
        }
        let wal = self.root().join("catalog.db-wal");
        let wal_before = fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        if wal_before > 0 {
            let freed = if dry_run {
                wal_before
            } else {
                catalog::fold_wal(&self.db())?;
                wal_before.saturating_sub(fs::metadata(&wal).map(|m| m.len()).unwrap_or(0))
            };
            if freed > 0 {
                items.push(CleanupItem {
                    description: "the catalog's write-ahead log, folded into the catalog".into(),
                    project: None,
                    bytes: freed,
                });
            }
        }
        Ok(items)
    }
}

/// Whether `dir` is one of a history's folders of loose objects (`objects/` and two hex digits).
fn is_loose_dir(dir: &Path) -> bool {
    dir.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A time in the machine's local time zone, for descriptions people read.
fn local_date(ts: i64, format: &str) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_opt(ts, 0)
        .single()
        .map(|t| t.format(format).to_string())
        .unwrap_or_else(|| ts.to_string())
}

/// The versions of a history as `(id, time, trigger)`, oldest first, along first parents from
/// `head` (Kura's histories are linear).
fn version_chain(repo: &git2::Repository, head: Oid) -> Result<Vec<(Oid, i64, Trigger)>> {
    let mut chain: Vec<(Oid, i64, Trigger)> = Vec::new();
    let mut cur = Some(repo.find_commit(head)?);
    while let Some(c) = cur {
        let v = history::version_of(&c);
        chain.push((c.id(), c.time().seconds(), v.trigger));
        cur = c.parent(0).ok();
    }
    chain.reverse();
    Ok(chain)
}

/// One cleanup item for each version of `chain` not in `keep`, oldest first, each freeing 0
/// bytes (the caller sets what thinning freed on the first).
fn dropped_version_items(
    project: &str,
    chain: &[(Oid, i64, Trigger)],
    keep: &HashSet<Oid>,
) -> Vec<CleanupItem> {
    chain
        .iter()
        .filter(|(id, _, _)| !keep.contains(id))
        .map(|(oid, at, _)| CleanupItem {
            description: format!(
                "automatic version {} of project '{}' from {}",
                &oid.to_string()[..10],
                project,
                local_date(*at, "%Y-%m-%d %H:%M")
            ),
            project: Some(project.to_string()),
            bytes: 0,
        })
        .collect()
}

/// A history after thinning: the new id of every version (a kept version before the first
/// dropped one keeps its id; a dropped one maps to the next kept version's new id), and the new
/// latest version.
struct RewrittenHistory {
    new_ids: HashMap<Oid, Oid>,
    head: Oid,
}

/// Writes new commits for the kept versions of `chain` after the first dropped one, each onto
/// the previous kept version (same tree, message, author and time). Nothing points at them yet.
fn rewrite_kept_versions(
    repo: &git2::Repository,
    chain: &[(Oid, i64, Trigger)],
    keep: &HashSet<Oid>,
) -> Result<RewrittenHistory> {
    let mut map: HashMap<Oid, Oid> = HashMap::new();
    let mut pending: Vec<Oid> = Vec::new();
    let mut parent: Option<Oid> = None;
    let mut rewriting = false;
    for (old, _, _) in chain {
        if !keep.contains(old) {
            rewriting = true;
            pending.push(*old);
            continue;
        }
        let new = if rewriting {
            let c = repo.find_commit(*old)?;
            let parents: Vec<git2::Commit<'_>> = match parent {
                Some(pid) => vec![repo.find_commit(pid)?],
                None => vec![],
            };
            let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
            let message = c
                .message_raw()
                .map_err(|_| Error::corrupt("a version's message is not UTF-8"))?;
            let (author, committer, tree) = (c.author(), c.committer(), c.tree()?);
            repo.commit(None, &author, &committer, message, &tree, &refs)?
        } else {
            *old
        };
        map.insert(*old, new);
        for d in pending.drain(..) {
            map.insert(d, new);
        }
        parent = Some(new);
    }
    let head = parent.ok_or_else(|| Error::internal("thinning kept no version"))?;
    Ok(RewrittenHistory { new_ids: map, head })
}

/// The files in the pack folder of the history at `repo_path`.
fn pack_folder_files(repo_path: &Path) -> Result<Vec<PathBuf>> {
    let pack_dir = repo_path.join("objects/pack");
    Ok(fs::read_dir(&pack_dir)
        .map_err(|e| Error::io("read", &pack_dir, e))?
        .flatten()
        .map(|e| e.path())
        .collect())
}
