//! Delta-compressed histories: a project's packs, written fast and whole by snapshots, rewritten
//! into one pack with deltas by libgit2's pack builder, so that every version costs about its
//! change and `git` still reads the history. libgit2 names each delta's base by its id
//! (`REF_DELTA`); the pack is then copied once more with the bases named by their distance back
//! (`OFS_DELTA`, as git writes them), 20 bytes less per delta.
//!
//! Crash-safe and never in a snapshot's way: the project lock is held only to list the packs and
//! read the tips; the new pack is written, fsynced and in place before any old one goes, and only
//! packs that existed when the tips were read are removed. A snapshot that lands meanwhile writes
//! a pack of its own, which is kept (its objects reuse only versions the new pack holds).

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::projects;
use crate::error::{Error, Result};
use crate::history;
use crate::job::Job;
use crate::model::Project;
use crate::vault::Vault;

/// What repacking histories did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RepackReport {
    /// Histories rewritten into one delta-compressed pack.
    pub histories_repacked: u64,
    /// Their packs' bytes before.
    pub bytes_before: u64,
    /// Their pack's bytes after.
    pub bytes_after: u64,
}

/// Packs no repack wrote (a snapshot writes one per version) at which a history is rewritten in
/// the background after a version. Each such pack stores every changed file whole; a repack
/// stores each as a delta against its other versions among what it takes, and takes only what
/// came since the last whole repack while that is small ([`INCREMENT_SHARE`]), so it costs
/// about what changed. Git starts its own in the background at 50 packs (`gc.autoPackLimit`);
/// this keeps a history of many versions below one incremental `tar | zstd` per version
/// (`bench/versions.sh`).
pub const PACKS_BEFORE_REPACK: usize = 8;

/// Objects the packs written since a history's last repack must hold (or else
/// [`BYTES_BEFORE_REPACK`]) before their share of the history alone makes it due a repack after
/// a version ([`Vault::repack_due`]): git's own count of loose objects at which a commit starts
/// `git gc --auto` (`gc.auto`).
pub const OBJECTS_BEFORE_REPACK: u64 = 6_700;

/// Bytes the packs written since a history's last repack must take (or else
/// [`OBJECTS_BEFORE_REPACK`] objects) before their share of the history alone makes it due a
/// repack after a version: from about here a whole repack takes seconds and saves megabytes
/// (the `std` docs of two toolchains, 2,655 files each: 18.5 MiB of history as the two versions
/// wrote it, 9.0 MiB once repacked, in 4.6 s), while a version of a small project never starts
/// one.
pub const BYTES_BEFORE_REPACK: u64 = 8 << 20;

/// Seconds without a change after which an active project's history is rewritten with deltas
/// in the background (by the process that runs the schedules).
pub const REPACK_AFTER_IDLE_SECS: i64 = 30 * 60;

/// The pack files (`.pack`) of a history, with their size.
fn packs(pack_dir: &Path) -> Result<Vec<(PathBuf, u64)>> {
    let rd = match fs::read_dir(pack_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", pack_dir, e)),
    };
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("list", pack_dir, e))?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "pack") {
            let len = entry
                .metadata()
                .map_err(|e| Error::io("read", &path, e))?
                .len();
            out.push((path, len));
        }
    }
    out.sort();
    Ok(out)
}

/// The file in a history folder that names the packs its repacks wrote (with deltas), a line
/// each: the last whole repack's first, then the pack of what came since, if any.
const REPACKED: &str = "kura-repacked";

/// A repack rewrites only what came since the last whole one (into one pack beside it) while
/// that is at most a quarter of it (one over this), in objects (and in bytes, once it is many
/// objects: [`Share::calls_for_whole`]); past it, the whole history again. Each repack then costs in proportion to what changed (the delta search is over the
/// objects it takes), and the history stays at most two packs with deltas (git's geometric
/// repacking, with two levels). What came since has no deltas against the whole pack's objects
/// until the next whole repack, as in git (`bench/README.md` has what that costs and saves).
const INCREMENT_SHARE: u64 = 4;

/// Records that packs `names` (their hashes) of the history at `repo` have deltas, the whole
/// repack's first.
pub(crate) fn mark_repacked(repo: &Path, names: &[&str]) -> Result<()> {
    let lines: String = names.iter().map(|n| format!("pack-{n}.pack\n")).collect();
    crate::fs::durable::write_file(&repo.join(REPACKED), lines.as_bytes())
}

/// A pack file's name as `kura-repacked` and git name it: the hash of `pack-<hash>.pack`.
fn pack_name(pack: &Path) -> Option<&str> {
    pack.file_stem()?.to_str()?.strip_prefix("pack-")
}

/// What a repack read under the project's lock: the packs then (with their bytes), the
/// commits to keep, and the plan.
struct Planned {
    old: Vec<(PathBuf, u64)>,
    tips: Vec<git2::Oid>,
    plan: Plan,
}

/// Removes what a repack killed half-way left in `pack_dir`: libgit2's temporary pack and the
/// lock files of its index (only a repack makes them). Called with the history's repack lock.
fn remove_interrupted_repack(pack_dir: &Path) {
    if let Ok(rd) = fs::read_dir(pack_dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with("pack_git2_")
                || (name.starts_with("pack-") && name.ends_with(".lock"))
            {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// Reports `builder`'s progress to `job` (reading the history, then finding deltas) and stops
/// it when the job is cancelled. Returns what tells, once the builder has stopped, whether it
/// was cancelled.
fn report_progress(builder: &mut git2::PackBuilder<'_>, job: &Job) -> Result<impl Fn() -> bool> {
    let count = builder.object_count() as u64;
    let cancelled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = cancelled.clone();
    let progress = job.clone();
    builder.set_progress_callback(move |stage, done, total| {
        let phase = match stage {
            git2::PackBuilderStage::AddingObjects => "reading history",
            git2::PackBuilderStage::Deltafication => "finding deltas",
        };
        progress.report(crate::job::Progress {
            phase,
            done: u64::from(done),
            total: Some(u64::from(total).max(count)),
            unit: "objects",
            item: None,
        });
        if progress.is_cancelled() {
            stopped.store(true, std::sync::atomic::Ordering::Relaxed);
            return false;
        }
        true
    })?;
    Ok(move || cancelled.load(std::sync::atomic::Ordering::Relaxed))
}

/// What a repack of a history does.
enum Plan {
    /// Nothing: the history is the packs its repacks wrote.
    Nothing,
    /// Everything reachable, into one pack.
    Whole,
    /// What `base` (the last whole repack's pack) does not hold, into one pack beside it.
    Since { base: PathBuf },
}

/// What a repack of a history (its bare repository folder) is to do: nothing when it is the
/// packs its repacks wrote; otherwise (other packs, as each snapshot writes one, or loose
/// objects) what came since the last whole repack, or everything once that calls for it
/// ([`Share::calls_for_whole`]: past a [`INCREMENT_SHARE`]th of it in objects, or in bytes once
/// it is many objects).
fn plan(repo: &Path) -> Result<Plan> {
    let objects = repo.join("objects");
    let packs = packs(&objects.join("pack"))?;
    let marked = repacked(repo);
    if !has_loose_objects(&objects) && packs.iter().all(|(path, _)| is_named(&marked, path)) {
        return Ok(Plan::Nothing);
    }
    let Some(base) = whole_pack(&packs, &marked) else {
        return Ok(Plan::Whole);
    };
    // An index that cannot be read is the whole repack's to meet (it reads every object and
    // names what is damaged), not this count's.
    Ok(match share(&packs, base) {
        Some(share) if !share.calls_for_whole() => Plan::Since {
            base: base.to_path_buf(),
        },
        _ => Plan::Whole,
    })
}

/// The last whole repack's pack among `packs`, if it is there (`marked` is `kura-repacked`).
fn whole_pack<'a>(packs: &'a [(PathBuf, u64)], marked: &[String]) -> Option<&'a Path> {
    let first = &marked[..marked.len().min(1)];
    packs
        .iter()
        .find(|(path, _)| is_named(first, path))
        .map(|(path, _)| path.as_path())
}

/// What a history's packs other than `base` hold, beside what `base` holds.
struct Share {
    since_objects: u64,
    since_bytes: u64,
    base_objects: u64,
    base_bytes: u64,
}

impl Share {
    /// Whether what came since is much in itself: at least [`OBJECTS_BEFORE_REPACK`] objects or
    /// [`BYTES_BEFORE_REPACK`] bytes.
    fn is_much(&self) -> bool {
        self.since_objects >= OBJECTS_BEFORE_REPACK || self.since_bytes >= BYTES_BEFORE_REPACK
    }

    /// Whether what came since calls for a whole repack rather than one of it alone (which has
    /// no deltas against the base's objects): it is past a [`INCREMENT_SHARE`]th of the base in
    /// objects, what the delta search costs in proportion to; or, once it is much in itself
    /// ([`Share::is_much`]), in bytes. A version that rewrote many files (an upgrade of a
    /// project's dependencies, docs generated anew) is a small share of a history's objects but
    /// a large one of its bytes, as snapshots store each changed file whole, and only a whole
    /// repack stores those files as deltas against their earlier versions.
    fn calls_for_whole(&self) -> bool {
        self.since_objects.saturating_mul(INCREMENT_SHARE) > self.base_objects
            || (self.is_much()
                && self.since_bytes.saturating_mul(INCREMENT_SHARE) > self.base_bytes)
    }
}

/// The [`Share`] of the packs beside `base` (one of `packs`, with their bytes); `None` when a
/// pack's index cannot be read.
fn share(packs: &[(PathBuf, u64)], base: &Path) -> Option<Share> {
    let count = |pack: &Path| pack_object_count(&pack.with_extension("idx")).ok();
    let mut share = Share {
        since_objects: 0,
        since_bytes: 0,
        base_objects: 0,
        base_bytes: 0,
    };
    for (path, bytes) in packs {
        let objects = count(path)?;
        if path == base {
            share.base_objects = objects;
            share.base_bytes = *bytes;
        } else {
            share.since_objects += objects;
            share.since_bytes += bytes;
        }
    }
    Some(share)
}

/// The file names of the packs the history at `repo`'s repacks wrote (`kura-repacked`), the
/// last whole repack's first.
fn repacked(repo: &Path) -> Vec<String> {
    let marked = fs::read_to_string(repo.join(REPACKED)).unwrap_or_default();
    marked.lines().map(|m| m.trim().to_string()).collect()
}

/// Whether `path` is a pack of `names` (file names).
fn is_named(names: &[String], path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| names.iter().any(|m| *n == **m))
}

/// Whether a repack would rewrite anything of the history at `repo`.
fn needs_repack(repo: &Path) -> Result<bool> {
    Ok(!matches!(plan(repo)?, Plan::Nothing))
}

/// Whether the history at `repo` is due a repack after a version ([`Vault::repack_due`]).
fn is_due(repo: &Path) -> Result<bool> {
    let marked = repacked(repo);
    let packs = packs(&repo.join("objects/pack"))?;
    // What versions brought since the last repack: the packs no repack wrote.
    let fresh: Vec<(PathBuf, u64)> = packs
        .iter()
        .filter(|(path, _)| !is_named(&marked, path))
        .cloned()
        .collect();
    if fresh.len() >= PACKS_BEFORE_REPACK {
        return Ok(true);
    }
    if fresh.is_empty() {
        return Ok(false);
    }
    // Before any repack, the pack of most objects: the first version's, as a rule (a pack of a
    // few large files is not the history those files came beside).
    let base = match whole_pack(&packs, &marked) {
        Some(base) => base.to_path_buf(),
        None => match fresh
            .iter()
            .max_by_key(|(path, _)| pack_object_count(&path.with_extension("idx")).unwrap_or(0))
        {
            Some((path, _)) => path.clone(),
            None => return Ok(false),
        },
    };
    // The base and the fresh packs: a pack of what came since that a repack wrote is neither,
    // and counting it would start the same repack again after every version.
    let mut weighed = fresh;
    if let Some(whole) = packs.iter().find(|(path, _)| *path == base) {
        if !weighed.contains(whole) {
            weighed.push(whole.clone());
        }
    }
    Ok(share(&weighed, &base).is_some_and(|share| share.is_much() && share.calls_for_whole()))
}

/// Whether the history has loose objects (written by git2 outside the pack writer).
fn has_loose_objects(objects: &Path) -> bool {
    fs::read_dir(objects).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.len() == 2
                && name.bytes().all(|b| b.is_ascii_hexdigit())
                && fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_some())
        })
    })
}

impl Vault {
    /// Rewrites every history of more than one pack (or with loose objects) into one
    /// delta-compressed pack. A project another process is writing is left for next time.
    pub fn repack_histories(&self, job: &Job) -> Result<RepackReport> {
        let mut report = RepackReport::default();
        let projects = self.all_projects()?;
        let total = projects.len() as u64;
        for (i, p) in projects.iter().enumerate() {
            job.check()?;
            job.files("repacking histories", i as u64, Some(total));
            match self.repack_history(p, job) {
                Ok(Some((before, after))) => {
                    report.histories_repacked += 1;
                    report.bytes_before += before;
                    report.bytes_after += after;
                }
                Ok(None) => {}
                Err(e) if e.kind() == crate::ErrorKind::Busy => {
                    tracing::debug!("history of {} is busy; repacked next time", p.name);
                }
                Err(e) => return Err(e),
            }
        }
        job.files("repacking histories", total, Some(total));
        Ok(report)
    }

    /// How many histories [`Vault::repack_histories`] would rewrite now.
    pub(crate) fn histories_to_repack(&self) -> Result<u64> {
        let mut n = 0;
        for p in self.all_projects()? {
            if needs_repack(&self.history_path(&p.id))? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Active projects unchanged for `idle_secs` whose history a repack would rewrite (several
    /// packs, loose objects, or the one pack of a snapshot), by id.
    pub fn idle_histories_to_repack(&self, idle_secs: i64) -> Result<Vec<String>> {
        let cutoff = self.now() - idle_secs;
        let ids = projects::ids_changed_before(&self.db(), cutoff)?;
        let mut out = Vec::new();
        for id in ids {
            if needs_repack(&self.history_path(&id))? {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Rewrites one project's history with deltas if it is not one such pack already; true
    /// when it did. `Busy` when another process is writing the project.
    pub fn repack_project(&self, reference: &str, job: &Job) -> Result<bool> {
        let p = self.project(reference)?;
        Ok(self.repack_history(&p, job)?.is_some())
    }

    /// Whether project `id`'s history is one to rewrite in the background after a version
    /// ([`Vault::repack_if_due`]): it holds at least [`PACKS_BEFORE_REPACK`] packs no repack
    /// wrote, or those packs hold at least [`OBJECTS_BEFORE_REPACK`] objects or
    /// [`BYTES_BEFORE_REPACK`] bytes and are past a quarter of the history's base (the last whole repack's pack, or the one of most objects
    /// before any) in objects or in bytes. The second is a version that brought much at once,
    /// as an upgrade of a project's dependencies does, whose changed files the snapshot stored
    /// whole; the repack it starts is a whole one ([`Share::calls_for_whole`]), which stores
    /// each of them as a delta against its earlier versions.
    pub fn repack_due(&self, id: &str) -> Result<bool> {
        is_due(&self.history_path(id))
    }

    /// Rewrites the project's history with deltas once it is due ([`Vault::repack_due`]: many
    /// packs since the last repack, or one version that brought much); true when it did. For the
    /// background, after a version: the snapshot itself stays fast.
    pub fn repack_if_due(&self, reference: &str, job: &Job) -> Result<bool> {
        let p = self.project(reference)?;
        if !self.repack_due(&p.id)? {
            return Ok(false);
        }
        Ok(self.repack_history(&p, job)?.is_some())
    }

    /// Rewrites one project's history into one delta-compressed pack; `None` when it is one
    /// pack already, or another repack of it is under way. Returns the packs' bytes before and
    /// after.
    ///
    /// The stages: the history's repack lock taken and what a killed repack left removed; what
    /// to repack read under the project's lock ([`Self::repack_plan`]); the pack builder given
    /// what the plan takes; when the base pack holds it all already, only the redundant packs
    /// retired ([`Self::retire_redundant`]); otherwise the new pack written and put in place
    /// ([`Self::write_pack`], with the job's progress and cancellation), the packs with deltas
    /// recorded and the old packs retired ([`Self::put_repack_in_place`]).
    pub(crate) fn repack_history(&self, p: &Project, job: &Job) -> Result<Option<(u64, u64)>> {
        let repo_path = self.history_path(&p.id);
        // One repack of a history at a time (gc, cleanup and the background, in any process).
        let lock = self
            .root()
            .join("locks")
            .join(format!("{}.repack.lock", p.id));
        let Some(_repacking) = crate::fs::durable::FileLock::try_acquire(&lock, true)? else {
            return Ok(None);
        };
        remove_interrupted_repack(&repo_path.join("objects/pack"));
        let Some(Planned { old, tips, plan }) = self.repack_plan(p, &repo_path)? else {
            return Ok(None);
        };
        let before: u64 = old.iter().map(|(_, len)| len).sum();
        let old: Vec<PathBuf> = old.into_iter().map(|(path, _)| path).collect();
        let repo = history::open(&repo_path)?;
        let mut builder = pack_builder(&repo)?;
        let held = match &plan {
            Plan::Since { base } => pack_index_oids(&base.with_extension("idx"))?
                .into_iter()
                .map(|id| git2::Oid::from_bytes(&id))
                .collect::<std::result::Result<_, _>>()?,
            Plan::Whole | Plan::Nothing => std::collections::HashSet::new(),
        };
        let mut inserted = insert_reachable_except(&repo, &mut builder, &tips, &held)?;
        if let (Plan::Since { base }, true) = (&plan, inserted.is_empty()) {
            let after = self.retire_redundant(p, &repo_path, old, base)?;
            self.record_history_bytes(&p.id)?;
            return Ok(Some((before, after.unwrap_or(before))));
        }
        let cancelled = report_progress(&mut builder, job)?;
        let (new_pack, name) =
            self.write_pack(&repo_path, &mut builder, &mut inserted, &p.name, cancelled)?;
        drop(builder);
        let (after, retired) =
            self.put_repack_in_place(p, &repo_path, old, &plan, &new_pack, &name)?;
        self.record_history_bytes(&p.id)?;
        Ok(Some((before, if retired { after } else { after + before })))
    }

    /// Records in the catalog the bytes project `id`'s history takes on disk now (its stored
    /// size, with the chunks of its large files), as a version records them.
    pub(crate) fn record_history_bytes(&self, id: &str) -> Result<()> {
        let bytes = history::snapshot::dir_size(&self.history_path(id));
        projects::set_history_bytes(&self.db(), id, bytes)
    }

    /// What a repack of `p`'s history at `repo_path` is to do, read under the project's lock:
    /// the packs there now, the commits to keep, and the plan. `None` when there is nothing to
    /// do.
    fn repack_plan(&self, p: &Project, repo_path: &Path) -> Result<Option<Planned>> {
        let _lock = self.lock_project(&p.id)?;
        let plan = plan(repo_path)?;
        if matches!(plan, Plan::Nothing) {
            return Ok(None);
        }
        let old = packs(&repo_path.join("objects/pack"))?;
        let repo = history::open(repo_path)?;
        let mut tips = Vec::new();
        for r in repo.references()? {
            // Symbolic refs resolve to one of the others; tags peel to their commit.
            if let Ok(commit) = r?.peel_to_commit() {
                tips.push(commit.id());
            }
        }
        if tips.is_empty() {
            return Ok(None);
        }
        Ok(Some(Planned { old, tips, plan }))
    }

    /// The base pack holds everything reachable: the other packs (a snapshot that stored only
    /// what the history had, a pack a crash left) are redundant and go, unless the project is
    /// busy. Returns the base's bytes when they went.
    fn retire_redundant(
        &self,
        p: &Project,
        repo_path: &Path,
        old: Vec<PathBuf>,
        base: &Path,
    ) -> Result<Option<u64>> {
        let others: Vec<PathBuf> = old.into_iter().filter(|path| path != base).collect();
        if !self.retire_packs_unless_busy(p, repo_path, &others, base)? {
            return Ok(None);
        }
        if let Some(name) = pack_name(base) {
            mark_repacked(repo_path, &[name])?;
        }
        let after = fs::metadata(base)
            .map_err(|e| Error::io("read", base, e))?
            .len();
        Ok(Some(after))
    }

    /// Records the new pack `name` (with the base, for a repack of what came since) as the
    /// packs with deltas and retires the packs it replaces. Returns the bytes of the packs with
    /// deltas and whether the old packs went (not while the project is busy).
    fn put_repack_in_place(
        &self,
        p: &Project,
        repo_path: &Path,
        mut old: Vec<PathBuf>,
        plan: &Plan,
        new_pack: &Path,
        name: &str,
    ) -> Result<(u64, bool)> {
        let mut after = fs::metadata(new_pack)
            .map_err(|e| Error::io("read", new_pack, e))?
            .len();
        match plan {
            Plan::Since { base } => {
                let base_name =
                    pack_name(base).ok_or_else(|| Error::internal("the base pack has no name"))?;
                mark_repacked(repo_path, &[base_name, name])?;
                old.retain(|path| path != base);
                after += fs::metadata(base)
                    .map_err(|e| Error::io("read", base, e))?
                    .len();
            }
            Plan::Whole | Plan::Nothing => mark_repacked(repo_path, &[name])?,
        }
        let retired = self.retire_packs_unless_busy(p, repo_path, &old, new_pack)?;
        Ok((after, retired))
    }

    /// [`Self::retire_packs`] under the project's lock; `false` (nothing retired) when the
    /// project is busy. An archive of the project reads its packs by name under that lock.
    fn retire_packs_unless_busy(
        &self,
        p: &Project,
        repo_path: &Path,
        old: &[PathBuf],
        kept: &Path,
    ) -> Result<bool> {
        match self.lock_project(&p.id) {
            Ok(_lock) => self.retire_packs(repo_path, old, kept),
            Err(e) if e.kind() == crate::ErrorKind::Busy => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes `builder`'s pack for the history at `repo_path` and puts it in place: written,
    /// checked against `inserted` and rewritten with offset deltas in a staging folder beside
    /// the histories, then moved into `objects/pack` whole and durable, so that no reader (git,
    /// a backup, an archive) ever sees libgit2's own pack or a half-written one, and a process
    /// killed meanwhile leaves nothing in the history (cleanup removes the staging folder).
    /// Returns the pack's path and name. `cancelled` is asked once libgit2 has stopped writing.
    pub(crate) fn write_pack(
        &self,
        repo_path: &Path,
        builder: &mut git2::PackBuilder<'_>,
        inserted: &mut [git2::Oid],
        project: &str,
        cancelled: impl Fn() -> bool,
    ) -> Result<(PathBuf, String)> {
        let staging = crate::fs::staging::Staging::new(&self.root().join("histories"), "repack")?;
        let dir = staging.content();
        let written = builder.write(&dir, 0o444);
        if cancelled() {
            return Err(Error::cancelled());
        }
        written?;
        let name = builder
            .name()?
            .ok_or_else(|| Error::internal("the new pack has no name"))?
            .to_string();
        let written = dir.join(format!("pack-{name}.pack"));
        check_written(&written, inserted, project)?;
        let (pack, name) = durable_pack(&written, name)?;
        let pack_dir = repo_path.join("objects/pack");
        crate::fs::durable::create_dir_all(&pack_dir)?;
        let file_name = pack
            .file_name()
            .ok_or_else(|| Error::internal("the new pack has no file name"))?;
        let target = pack_dir.join(file_name);
        // The pack before its index: readers find packs by their index.
        for ext in ["pack", "idx"] {
            let from = pack.with_extension(ext);
            fs::rename(&from, target.with_extension(ext))
                .map_err(|e| Error::io("move", &from, e))?;
        }
        crate::fs::durable::sync_dir(&pack_dir)?;
        Ok((target, name))
    }

    /// Removes packs of a history that `new_pack` (fsynced, holding everything reachable) makes
    /// redundant, and the loose objects it holds; the caller holds the project's lock. Only while
    /// no backup run or verify reads the histories (see [`Vault::hold_chunks`]): then they stay
    /// beside the new pack, the history whole either way, until the next repack. True when
    /// they went.
    pub(crate) fn retire_packs(
        &self,
        repo_path: &Path,
        old: &[PathBuf],
        new_pack: &Path,
    ) -> Result<bool> {
        let Some(_no_reader) =
            crate::fs::durable::FileLock::try_acquire(&self.histories_lock(), true)?
        else {
            tracing::debug!(
                "a backup or a verify reads the histories; old packs are removed next time"
            );
            return Ok(false);
        };
        let pack_dir = repo_path.join("objects/pack");
        for path in old.iter().filter(|path| *path != new_pack) {
            // The index first: a pack without its index is ignored, an index without its pack
            // is an error to readers.
            for ext in ["idx", "rev", "bitmap", "pack"] {
                match fs::remove_file(path.with_extension(ext)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io("remove", path, e)),
                }
            }
        }
        crate::fs::durable::sync_dir(&pack_dir)?;
        remove_packed_loose_objects(&repo_path.join("objects"), &new_pack.with_extension("idx"))?;
        Ok(true)
    }
}

/// Makes the pack libgit2 wrote (`written`, named `name`) durable, then writes it again as git
/// writes packs, with its deltas' bases named by their distance back (`OFS_DELTA`) instead of
/// their ids (see [`kura_gitpack::with_offset_deltas`]). Returns the pack to keep and its name
/// (libgit2's, when it was written again, stays in the staging folder).
fn durable_pack(written: &Path, name: String) -> Result<(PathBuf, String)> {
    // Durable before anything goes: the pack, its index, and their names.
    for ext in ["pack", "idx"] {
        let path = written.with_extension(ext);
        let f = fs::File::open(&path).map_err(|e| Error::io("open", &path, e))?;
        crate::fs::durable::sync_file(&f, &path)?;
    }
    let pack_dir = written.parent().unwrap_or(Path::new("."));
    crate::fs::durable::sync_dir(pack_dir)?;
    match kura_gitpack::with_offset_deltas(written)? {
        Some(info) => {
            let name = info.name.trim_start_matches("pack-").to_string();
            Ok((info.pack_path, name))
        }
        None => Ok((written.to_path_buf(), name)),
    }
}

/// Inserts every commit, tree and blob reachable from `tips` into `builder` (files and folders
/// by name, which libgit2 groups deltas by, as its own walk does); returns their ids.
pub(crate) fn insert_reachable(
    repo: &git2::Repository,
    builder: &mut git2::PackBuilder<'_>,
    tips: &[git2::Oid],
) -> Result<Vec<git2::Oid>> {
    insert_reachable_except(repo, builder, tips, &std::collections::HashSet::new())
}

/// [`insert_reachable`], leaving out the objects of `held` (a whole repack's pack: with a commit
/// or a tree it holds everything below it, so the walk does not go there).
fn insert_reachable_except(
    repo: &git2::Repository,
    builder: &mut git2::PackBuilder<'_>,
    tips: &[git2::Oid],
    held: &std::collections::HashSet<git2::Oid>,
) -> Result<Vec<git2::Oid>> {
    let mut walk = repo.revwalk()?;
    for t in tips {
        walk.push(*t)?;
    }
    let mut seen = held.clone();
    let mut inserted = Vec::new();
    for id in walk {
        let commit = repo.find_commit(id?)?;
        if held.contains(&commit.id()) {
            continue;
        }
        builder.insert_object(commit.id(), None)?;
        inserted.push(commit.id());
        let mut trees = vec![(commit.tree_id(), None::<String>)];
        while let Some((tree_id, name)) = trees.pop() {
            if !seen.insert(tree_id) {
                continue;
            }
            builder.insert_object(tree_id, name.as_deref())?;
            inserted.push(tree_id);
            for entry in repo.find_tree(tree_id)?.iter() {
                let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                match entry.kind() {
                    Some(git2::ObjectType::Tree) => trees.push((entry.id(), Some(name))),
                    Some(git2::ObjectType::Blob) if seen.insert(entry.id()) => {
                        builder.insert_object(entry.id(), Some(&name))?;
                        inserted.push(entry.id());
                    }
                    // Blobs seen before; submodule commits, which are not in this history.
                    _ => {}
                }
            }
        }
    }
    Ok(inserted)
}

/// Checks that the pack a builder wrote holds every object inserted (`inserted`, sorted here):
/// libgit2 indexes what it wrote by hashing it, so an object whose stored content no longer
/// matches its id comes out under another id. Then the new pack is removed and nothing else
/// changes: a `corrupt` error naming the object.
fn check_written(new_pack: &Path, inserted: &mut [git2::Oid], project: &str) -> Result<()> {
    let written = pack_index_oids(&new_pack.with_extension("idx"))?;
    inserted.sort_unstable();
    let Some(missing) = inserted.iter().find(|id| {
        written
            .binary_search_by(|w| w.as_slice().cmp(id.as_bytes()))
            .is_err()
    }) else {
        return Ok(());
    };
    for ext in ["idx", "pack"] {
        let _ = fs::remove_file(new_pack.with_extension(ext));
    }
    Err(Error::corrupt(format!(
        "the history of project '{project}' holds a damaged object ({missing}); it was not rewritten; run `kura verify {project}`"
    )))
}

/// libgit2's pack builder for a history, finding deltas on every core and keeping those its
/// threads find (compressed there too) up to 64 KiB each and 128 MiB in all. By default it keeps
/// only those under 1,000 bytes and computes every other one again, on one thread, while it
/// writes the pack: 13% of a repack's time on the std docs. The settings are written once into
/// the history's own configuration, where the pack builder reads them.
pub(crate) fn pack_builder(repo: &git2::Repository) -> Result<git2::PackBuilder<'_>> {
    const SETTINGS: [(&str, i64); 2] = [
        ("pack.deltaCacheLimit", 65_535),
        // libgit2 also takes this as the size above which an object gets no delta (files that
        // large are in the chunk store anyway).
        ("pack.deltaCacheSize", 128 << 20),
    ];
    // A history whose settings cannot be written (another process writing them at the same
    // moment) is repacked with libgit2's defaults: slower, the same pack.
    let set = repo
        .config()
        .and_then(|c| c.open_level(git2::ConfigLevel::Local))
        .and_then(|mut config| {
            for (key, value) in SETTINGS {
                if config.get_i64(key).ok() != Some(value) {
                    config.set_i64(key, value)?;
                }
            }
            Ok(())
        });
    if let Err(e) = set {
        tracing::debug!(
            "the delta cache of {} stays libgit2's: {e}",
            repo.path().display()
        );
    }
    let mut builder = repo.packbuilder()?;
    builder.set_threads(0);
    Ok(builder)
}

/// Removes the loose objects the new pack (its index at `idx`) holds, as `git prune-packed`.
/// Others are left: one may be a version being written right now.
fn remove_packed_loose_objects(objects: &Path, idx: &Path) -> Result<()> {
    let packed = pack_index_oids(idx)?;
    let Ok(rd) = fs::read_dir(objects) else {
        return Ok(());
    };
    for dir in rd.flatten() {
        let prefix = dir.file_name().to_string_lossy().to_string();
        if prefix.len() != 2 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        for entry in fs::read_dir(dir.path()).into_iter().flatten().flatten() {
            let rest = entry.file_name().to_string_lossy().to_string();
            let Ok(oid) = hex::decode(format!("{prefix}{rest}")) else {
                continue;
            };
            if packed.binary_search_by(|o| o.as_slice().cmp(&oid)).is_ok() {
                fs::remove_file(entry.path()).map_err(|e| Error::io("remove", &entry.path(), e))?;
            }
        }
        // Only when empty.
        let _ = fs::remove_dir(dir.path());
    }
    Ok(())
}

/// How many objects a pack index (version 2) lists; 0 when it cannot be read (a pack without its
/// index is not read by anyone, and a repack takes it whole).
fn pack_object_count(idx: &Path) -> Result<u64> {
    let mut head = [0u8; 8 + 1024];
    let read = fs::File::open(idx).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head));
    match read {
        Ok(()) if head[..8] == [0xff, b't', b'O', b'c', 0, 0, 0, 2] => {
            Ok(u64::from(u32::from_be_bytes([
                head[1028], head[1029], head[1030], head[1031],
            ])))
        }
        Ok(()) => Err(Error::corrupt(format!(
            "{} is not a pack index of version 2",
            idx.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(Error::io("read", idx, e)),
    }
}

/// The object ids a pack index (version 2) lists, sorted.
fn pack_index_oids(idx: &Path) -> Result<Vec<[u8; 20]>> {
    let data = fs::read(idx).map_err(|e| Error::io("read", idx, e))?;
    let bad = || {
        Error::corrupt(format!(
            "{} is not a pack index of version 2",
            idx.display()
        ))
    };
    if data.len() < 8 + 1024 || data[..8] != [0xff, b't', b'O', b'c', 0, 0, 0, 2] {
        return Err(bad());
    }
    let n = u32::from_be_bytes(data[8 + 1020..8 + 1024].try_into().map_err(|_| bad())?) as usize;
    let ids = data.get(8 + 1024..8 + 1024 + n * 20).ok_or_else(bad)?;
    Ok(ids
        .chunks_exact(20)
        .map(|c| c.try_into().expect("20 bytes"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A history folder with packs of the given objects and bytes (an index of that count, a
    /// pack file of that length), the packs named `marked` recorded as a repack's.
    fn history(packs: &[(&str, u32, u64)], marked: &[&str]) -> tempfile::TempDir {
        let repo = tempfile::tempdir().unwrap();
        let dir = repo.path().join("objects/pack");
        fs::create_dir_all(&dir).unwrap();
        for (name, objects, bytes) in packs {
            let mut idx = vec![0xff, b't', b'O', b'c', 0, 0, 0, 2];
            idx.extend(std::iter::repeat_n(0u8, 1024));
            idx[1028..1032].copy_from_slice(&objects.to_be_bytes());
            fs::write(dir.join(format!("pack-{name}.idx")), idx).unwrap();
            let pack = fs::File::create(dir.join(format!("pack-{name}.pack"))).unwrap();
            pack.set_len(*bytes).unwrap();
        }
        if !marked.is_empty() {
            mark_repacked(repo.path(), marked).unwrap();
        }
        repo
    }

    const MB: u64 = 1 << 20;

    #[test]
    fn a_version_that_brought_many_objects_and_a_quarter_of_the_history_is_due() {
        // node_modules of May, then of November: 23% of the objects, 76% of the bytes.
        let upgrade = history(&[("a", 60_707, 95 * MB), ("b", 13_682, 72 * MB)], &[]);
        assert!(is_due(upgrade.path()).unwrap());
        // Fewer objects than git's `gc.auto`, but many bytes: due.
        let bytes = history(&[("a", 60_707, 95 * MB), ("b", 6_000, 72 * MB)], &[]);
        assert!(is_due(bytes.path()).unwrap());
        // Generated docs made anew: every page of 2,655 rewritten, 9.5 MB.
        let docs = history(&[("a", 2_700, 9 * MB), ("b", 2_700, 9 * MB + MB / 2)], &[]);
        assert!(is_due(docs.path()).unwrap());
        // A small project rewritten whole: neither many objects nor many bytes.
        let small_project = history(&[("a", 900, 3 * MB), ("b", 900, 3 * MB)], &[]);
        assert!(!is_due(small_project.path()).unwrap());
        // Many objects, a small share of both.
        let small = history(&[("a", 60_707, 95 * MB), ("b", 13_682, 10 * MB)], &[]);
        assert!(!is_due(small.path()).unwrap());
        // One pack: nothing beside it.
        let one = history(&[("a", 60_707, 95 * MB)], &[]);
        assert!(!is_due(one.path()).unwrap());
    }

    #[test]
    fn what_came_since_is_repacked_alone_unless_it_is_a_quarter_in_objects_or_much_and_in_bytes() {
        let is_since = |packs: &[(&str, u32, u64)]| {
            matches!(
                plan(history(packs, &["a"]).path()).unwrap(),
                Plan::Since { .. }
            )
        };
        // Versions of a few files: what came since, beside the whole pack.
        assert!(is_since(&[("a", 60_707, 85 * MB), ("b", 900, 7 * MB)]));
        assert!(is_since(&[("a", 60_707, 85 * MB), ("b", 13_682, 10 * MB)]));
        // An upgrade of dependencies after a whole repack: everything, so that its files are
        // deltas against their earlier versions.
        assert!(!is_since(&[("a", 60_707, 85 * MB), ("b", 13_682, 72 * MB)]));
        // More than a quarter of the objects.
        assert!(!is_since(&[("a", 20_000, 85 * MB), ("b", 5_001, MB)]));
        // Never repacked: everything.
        assert!(matches!(
            plan(history(&[("a", 60_707, 85 * MB), ("b", 900, MB)], &[]).path()).unwrap(),
            Plan::Whole
        ));
    }

    #[test]
    fn a_repack_of_what_came_since_is_not_weighed_again_after_the_next_version() {
        // The whole pack, the pack of an upgrade a repack wrote beside it, a small version.
        let repacked = history(
            &[
                ("a", 60_707, 85 * MB),
                ("b", 13_682, 65 * MB),
                ("c", 40, MB),
            ],
            &["a", "b"],
        );
        assert!(!is_due(repacked.path()).unwrap());
        // Before that repack, the upgrade's own pack made it due.
        let fresh = history(&[("a", 60_707, 85 * MB), ("b", 13_682, 65 * MB)], &["a"]);
        assert!(is_due(fresh.path()).unwrap());
        // Eight versions' packs, however small.
        let names: Vec<String> = (0..PACKS_BEFORE_REPACK).map(|i| format!("v{i}")).collect();
        let mut packs = vec![("a", 60_707, 85 * MB)];
        packs.extend(names.iter().map(|n| (n.as_str(), 10, 4096)));
        assert!(is_due(history(&packs, &["a"]).path()).unwrap());
        packs.pop();
        assert!(!is_due(history(&packs, &["a"]).path()).unwrap());
    }
}
