//! Integrity and space: `verify` checks the catalog, every history and every chunk, and names what
//! a problem affects; `gc` removes chunks no version references.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{mpsc, Mutex};

use git2::{ObjectType, Oid, Repository};
use kura_chunkstore::ChunkId;
use serde::Serialize;

use crate::catalog::{self, filelist, projects};
use crate::error::{ErrorKind, Result};
use crate::fs::names;
use crate::history;
use crate::history::pointer::Pointer;
use crate::job::Job;
use crate::model::{Project, ProjectStatus};
use crate::vault::Vault;
use crate::vault::VaultReader;

/// One problem found by `verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Problem {
    /// Which part of the vault: "catalog", "history", "chunks" or "records".
    pub area: String,
    /// The project affected, by name.
    pub project: Option<String>,
    /// The versions affected (short ids).
    pub versions: Vec<String>,
    /// The files affected.
    pub paths: Vec<String>,
    /// What is wrong.
    pub message: String,
}

/// What `verify` found.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct VerifyReport {
    /// Projects whose histories were read.
    pub projects_checked: u64,
    /// Versions read.
    pub versions_checked: u64,
    /// Git objects read and hash-checked.
    pub objects_checked: u64,
    /// Chunks read and hash-checked.
    pub chunks_checked: u64,
    /// Everything wrong; empty when the vault is sound.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// True when no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What `gc` freed.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct GcReport {
    /// Chunks no version referenced any more.
    pub chunks_removed: u64,
    /// Pack files deleted.
    pub packs_deleted: u64,
    /// Pack files rewritten without their dead chunks.
    pub packs_rewritten: u64,
    /// Bytes freed on disk (chunks, and histories rewritten with deltas).
    pub bytes_freed: u64,
    /// Project histories rewritten into one delta-compressed pack.
    pub histories_repacked: u64,
    /// The part of `bytes_freed` the rewritten histories gave back.
    pub history_bytes_freed: u64,
}

/// Where a pointer blob appears: (version short id, path).
type Uses = Vec<(String, String)>;

/// Everything reachable in one history.
#[derive(Default)]
struct Walked {
    versions: u64,
    objects: u64,
    /// Chunk id → its length and the pointer blobs naming it.
    chunk_users: HashMap<ChunkId, (u32, Vec<Oid>)>,
    /// Pointer blob → where it appears.
    pointer_uses: HashMap<Oid, Uses>,
    problems: Vec<Problem>,
}

/// Reads every commit, tree and blob reachable from the project's latest version (each object
/// once), hashing them when `hashes` says so; collects the chunks pointers refer to.
fn walk_history(repo: &Repository, project: &Project, hashes: Hashes, job: &Job) -> Result<Walked> {
    let mut w = Walked::default();
    let head = match history::head(repo) {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(w),
        Err(e) => {
            w.problems.push(history_problem(
                project,
                vec![],
                vec![],
                format!("the latest version cannot be found: {e}"),
            ));
            return Ok(w);
        }
    };
    // The blobs (most of a history's bytes) are read and hashed by readers of their own, each
    // with its own handle on the repository, while this thread walks the versions and their
    // trees.
    let (jobs, queue) = mpsc::channel::<Oid>();
    let queue = Mutex::new(queue);
    let (answers, results) = mpsc::channel();
    std::thread::scope(|scope| {
        let path = repo.path();
        for _ in 0..blob_readers() {
            let (queue, answers) = (&queue, answers.clone());
            scope.spawn(move || read_blobs(path, queue, answers, hashes, job));
        }
        drop(answers);
        let mut history_walk = HistoryWalk {
            repo,
            odb: repo.odb()?,
            project,
            hashes,
            seen_trees: HashSet::new(),
            seen_blobs: HashMap::new(),
            visits: Vec::new(),
            jobs: Some(jobs),
            results,
            walked: w,
        };
        let mut walk = repo.revwalk()?;
        if let Err(e) = walk.push(head) {
            history_walk.walked.problems.push(history_problem(
                project,
                vec![head.to_string()[..10].to_string()],
                vec![],
                format!("the latest version cannot be read: {}", e.message()),
            ));
            return Ok(history_walk.finish());
        }
        for id in walk {
            job.check()?;
            let id = match id {
                Ok(id) => id,
                Err(e) => {
                    history_walk.walked.problems.push(history_problem(
                        project,
                        vec![],
                        vec![],
                        format!("the list of versions is damaged: {}", e.message()),
                    ));
                    break;
                }
            };
            history_walk.walk_version(id);
        }
        let mut w = history_walk.finish();
        job.check()?;
        for (_, users) in w.chunk_users.values_mut() {
            users.sort();
            users.dedup();
        }
        Ok(w)
    })
}

/// How many threads read a history's blobs.
fn blob_readers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4))
}

/// A blob reader: reads and (when asked) hashes each blob `queue` gives it, with its own handle
/// on the repository at `path`, until the queue closes; after a cancel it answers without
/// reading.
fn read_blobs(
    path: &std::path::Path,
    queue: &Mutex<mpsc::Receiver<Oid>>,
    answers: mpsc::Sender<(Oid, BlobRead)>,
    hashes: Hashes,
    job: &Job,
) {
    let repo = Repository::open(path).map_err(|e| e.message().to_string());
    let odb = repo
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|r| r.odb().map_err(|e| e.message().to_string()));
    loop {
        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(oid) = next else {
            return;
        };
        let read = match &odb {
            _ if job.is_cancelled() => BlobRead::Unreadable("the check was cancelled".into()),
            Ok(odb) => read_blob(odb, oid, hashes),
            Err(e) => BlobRead::Unreadable(e.clone()),
        };
        if answers.send((oid, read)).is_err() {
            return;
        }
    }
}

/// What reading one blob found.
enum BlobRead {
    /// A file's content.
    Plain,
    /// A pointer to chunks: (chunk, its length).
    Pointer(Vec<(ChunkId, u32)>),
    /// A pointer that cannot be decoded, and why.
    BadPointer(String),
    /// It cannot be read (or does not match its id), and why.
    Unreadable(String),
}

/// Reads the blob `oid`, hashing it when asked, and decodes it when it is a pointer.
fn read_blob(odb: &git2::Odb<'_>, oid: Oid, hashes: Hashes) -> BlobRead {
    match read_object(odb, oid, hashes) {
        Ok(obj) => {
            let data = obj.data();
            if !Pointer::is_pointer(data) {
                return BlobRead::Plain;
            }
            match Pointer::decode(data) {
                Ok(p) => BlobRead::Pointer(p.chunks.iter().map(|c| (c.id, c.len)).collect()),
                Err(e) => BlobRead::BadPointer(e.to_string()),
            }
        }
        Err(e) => BlobRead::Unreadable(e),
    }
}

/// A problem of the project's history: in `versions` (short ids), affecting `paths`.
fn history_problem(
    project: &Project,
    versions: Vec<String>,
    paths: Vec<String>,
    message: String,
) -> Problem {
    Problem {
        area: "history".into(),
        project: Some(project.name.clone()),
        versions,
        paths,
        message,
    }
}

/// The state of one walk of a history: what it reads from, what it has seen already (so each
/// object is read once), and what it has found so far.
struct HistoryWalk<'r> {
    repo: &'r Repository,
    odb: git2::Odb<'r>,
    project: &'r Project,
    hashes: Hashes,
    /// Trees read already.
    seen_trees: HashSet<Oid>,
    /// Blobs seen already: sent to a reader, or read (and whether each is a pointer).
    seen_blobs: HashMap<Oid, Blob>,
    /// Where blobs that are pointers, or may be (not read yet), appear, in the walk's order:
    /// (blob, version short id, path).
    visits: Vec<(Oid, String, String)>,
    /// The readers' queue; closed by `finish`.
    jobs: Option<mpsc::Sender<Oid>>,
    /// What the readers found.
    results: mpsc::Receiver<(Oid, BlobRead)>,
    walked: Walked,
}

/// A blob the walk has seen.
enum Blob {
    /// Sent to a reader; first seen at `path` in the version `short`.
    Sent { short: String, path: String },
    /// Read; whether it is a pointer.
    Read { pointer: bool },
}

impl<'r> HistoryWalk<'r> {
    /// Reads the version `id`: its commit, then its trees depth-first, then the blobs they hold.
    /// A version that cannot be read is a problem, and the walk goes on to the next.
    fn walk_version(&mut self, id: Oid) {
        let short = id.to_string()[..10].to_string();
        self.walked.versions += 1;
        self.walked.objects += 1;
        let commit = match check_object(&self.odb, id, self.hashes).and_then(|()| {
            self.repo
                .find_commit(id)
                .map_err(|e| e.message().to_string())
        }) {
            Ok(c) => c,
            Err(e) => {
                self.walked.problems.push(history_problem(
                    self.project,
                    vec![short],
                    vec![],
                    format!("the version cannot be read: {e}"),
                ));
                return;
            }
        };
        // Depth-first over trees, with the path prefix.
        let mut stack: Vec<(Oid, String)> = vec![(commit.tree_id(), String::new())];
        while let Some((tree_id, prefix)) = stack.pop() {
            self.walk_tree(&short, tree_id, &prefix, &mut stack);
        }
    }

    /// Reads the tree `tree_id` at the path `prefix` of the version `short`: its blobs are
    /// visited now, its subtrees pushed on `stack` with their path prefixes. Trees already
    /// walked hold only blobs already checked, but their pointer uses in this version still
    /// count for naming affected files, so they are walked again (without reading them again).
    fn walk_tree(
        &mut self,
        short: &str,
        tree_id: Oid,
        prefix: &str,
        stack: &mut Vec<(Oid, String)>,
    ) {
        let Some(tree) = self.open_tree(short, tree_id, prefix) else {
            return;
        };
        for entry in tree.iter() {
            let name = entry.name().unwrap_or("?");
            let path = format!("{prefix}{name}");
            match entry.kind() {
                Some(ObjectType::Tree) => stack.push((entry.id(), format!("{path}/"))),
                Some(ObjectType::Blob) => self.visit_blob(short, entry.id(), path),
                _ => {}
            }
        }
    }

    /// Opens the tree `tree_id`, checking it (and counting it) on its first visit only. A tree
    /// that cannot be read is a problem on its first visit, and `None` on every visit.
    fn open_tree(&mut self, short: &str, tree_id: Oid, prefix: &str) -> Option<git2::Tree<'r>> {
        let first_visit = self.seen_trees.insert(tree_id);
        let checked = if first_visit {
            check_object(&self.odb, tree_id, self.hashes)
        } else {
            Ok(())
        };
        match checked.and_then(|()| {
            self.repo
                .find_tree(tree_id)
                .map_err(|e| e.message().to_string())
        }) {
            Ok(tree) => {
                if first_visit {
                    self.walked.objects += 1;
                }
                Some(tree)
            }
            Err(e) => {
                if first_visit {
                    self.walked.problems.push(history_problem(
                        self.project,
                        vec![short.to_string()],
                        vec![if prefix.is_empty() {
                            "/".into()
                        } else {
                            prefix.to_string()
                        }],
                        format!("a folder of this version cannot be read: {e}"),
                    ));
                }
                None
            }
        }
    }

    /// Visits the blob `oid` at `path` in the version `short`: sends it to a reader on its first
    /// visit, and keeps where it appears while it may be a pointer.
    fn visit_blob(&mut self, short: &str, oid: Oid, path: String) {
        while let Ok((oid, read)) = self.results.try_recv() {
            self.found(oid, read);
        }
        match self.seen_blobs.get(&oid) {
            Some(Blob::Read { pointer: false }) => return,
            Some(_) => {}
            None => {
                let sent = self.jobs.as_ref().is_some_and(|q| q.send(oid).is_ok());
                self.seen_blobs.insert(
                    oid,
                    Blob::Sent {
                        short: short.to_string(),
                        path: path.clone(),
                    },
                );
                if !sent {
                    self.found(oid, BlobRead::Unreadable("no reader took it".into()));
                }
            }
        }
        self.visits.push((oid, short.to_string(), path));
    }

    /// Takes in what a reader found of the blob `oid`: a pointer records its chunks' users; a
    /// blob that cannot be read, or a pointer that cannot be decoded, is a problem of the
    /// version and path where it was first seen.
    fn found(&mut self, oid: Oid, read: BlobRead) {
        let Some(Blob::Sent { short, path }) = self.seen_blobs.remove(&oid) else {
            return;
        };
        let problem = |message| history_problem(self.project, vec![short], vec![path], message);
        let pointer = match read {
            BlobRead::Plain => false,
            BlobRead::Pointer(chunks) => {
                for (id, len) in chunks {
                    let users = self.walked.chunk_users.entry(id);
                    users.or_insert_with(|| (len, Vec::new())).1.push(oid);
                }
                true
            }
            BlobRead::BadPointer(e) => {
                self.walked.problems.push(problem(e));
                true
            }
            BlobRead::Unreadable(e) => {
                let message = format!("the file's content cannot be read: {e}");
                self.walked.problems.push(problem(message));
                self.seen_blobs.insert(oid, Blob::Read { pointer: false });
                return;
            }
        };
        self.walked.objects += 1;
        self.seen_blobs.insert(oid, Blob::Read { pointer });
    }

    /// Closes the readers' queue, takes in what they found, and keeps where each pointer
    /// appears.
    fn finish(mut self) -> Walked {
        self.jobs = None;
        while let Ok((oid, read)) = self.results.recv() {
            self.found(oid, read);
        }
        for (oid, short, path) in std::mem::take(&mut self.visits) {
            if matches!(
                self.seen_blobs.get(&oid),
                Some(Blob::Read { pointer: true })
            ) {
                let uses = self.walked.pointer_uses.entry(oid).or_default();
                uses.push((short, path));
            }
        }
        self.walked
    }
}

/// Whether a walk of a history hashes every object it reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hashes {
    /// `verify`: libgit2 is told not to check (see `vault::set_git_options`), and this is where
    /// damage that keeps a valid zlib stream shows.
    Check,
    /// Garbage collection, which needs the chunk pointers: damage zlib sees still stops it.
    Trust,
}

/// Reads an object, checking its content against its id when asked; the reason it cannot be
/// had otherwise.
fn read_object<'o>(
    odb: &'o git2::Odb<'_>,
    oid: Oid,
    hashes: Hashes,
) -> std::result::Result<git2::OdbObject<'o>, String> {
    let obj = odb.read(oid).map_err(|e| e.message().to_string())?;
    if hashes == Hashes::Trust {
        return Ok(obj);
    }
    let kind = match obj.kind() {
        ObjectType::Commit => kura_gitpack::ObjectKind::Commit,
        ObjectType::Tree => kura_gitpack::ObjectKind::Tree,
        ObjectType::Blob => kura_gitpack::ObjectKind::Blob,
        ObjectType::Tag => kura_gitpack::ObjectKind::Tag,
        other => return Err(format!("object {oid} is of an unexpected kind ({other})")),
    };
    // The plain SHA-1 of the object (with the CPU's SHA instructions where it has them), not
    // libgit2's collision-detecting one, which took half of a verify's time: this looks for
    // damage. A history that comes in from elsewhere (an archive's bundle) goes through
    // libgit2's indexer, whose hash refuses a collision made on purpose.
    let actual = kura_gitpack::object_id(kind, obj.data());
    if actual == *oid.as_bytes() {
        return Ok(obj);
    }
    let actual = Oid::from_bytes(&actual).map_err(|e| e.message().to_string())?;
    Err(format!(
        "object {oid} is damaged: its content hashes to {actual}"
    ))
}

/// Checks a commit or tree against its id when asked (libgit2 reads it again, from its cache,
/// to parse it); nothing to read when the walk trusts the history.
fn check_object(odb: &git2::Odb<'_>, oid: Oid, hashes: Hashes) -> std::result::Result<(), String> {
    match hashes {
        Hashes::Check => read_object(odb, oid, hashes).map(|_| ()),
        Hashes::Trust => Ok(()),
    }
}

/// Versions of the project's history that hold a path no restore would write (see `names`),
/// one problem per path, naming every version that holds it.
fn unrestorable_versions(repo: &Repository, project: &Project, job: &Job) -> Result<Vec<Problem>> {
    let Ok(Some(head)) = history::head(repo) else {
        return Ok(Vec::new());
    };
    let found = match names::unsafe_versions(repo, head, job) {
        Ok(found) => found,
        Err(e) if e.kind() == ErrorKind::Cancelled => return Err(e),
        // What cannot be read is reported by the history walk.
        Err(_) => return Ok(Vec::new()),
    };
    let mut by_path: Vec<(names::UnsafePath, Vec<String>)> = Vec::new();
    for (id, bad) in found {
        let short = id.to_string()[..10].to_string();
        match by_path.iter_mut().find(|(b, _)| *b == bad) {
            Some((_, versions)) => versions.push(short),
            None => by_path.push((bad, vec![short])),
        }
    }
    Ok(by_path
        .into_iter()
        .map(|(bad, versions)| Problem {
            area: "history".into(),
            project: Some(project.name.clone()),
            message: format!(
                "version {}{} cannot be restored: it holds the path '{}' ({}); export or restore another version",
                versions[0],
                match versions.len() {
                    1 => String::new(),
                    n => format!(" and {} more", n - 1),
                },
                bad.path,
                bad.reason
            ),
            versions,
            paths: vec![bad.path],
        })
        .collect())
}

impl VaultReader {
    /// Refuses (`path_escape`) when a version of the project's history holds a path no restore
    /// would write back (what `verify` reports): a backup restore checks the histories it brings
    /// back with it.
    /// An archived project without a history folder has nothing to check.
    pub fn check_history_restorable(&self, project_id: &str, job: &Job) -> Result<()> {
        let path = self.history_path(project_id);
        if !path.exists() {
            return Ok(());
        }
        let name = self
            .project_by_id(project_id)
            .map_or_else(|_| project_id.to_string(), |p| p.name);
        let repo = history::open(&path)?;
        match history::head(&repo)? {
            Some(head) => names::refuse_unsafe_history(
                &repo,
                head,
                &format!("the history of project '{name}'"),
                job,
            ),
            None => Ok(()),
        }
    }

    /// What is wrong with the records database: damage SQLite finds, and records kept for a
    /// project the catalog no longer has.
    fn records_problems(&self) -> Vec<Problem> {
        let problem = |message: String| Problem {
            area: "records".into(),
            project: None,
            versions: vec![],
            paths: vec![],
            message,
        };
        let records = match self.records_store() {
            Ok(r) => r,
            Err(e) => {
                return vec![problem(format!(
                    "the records database cannot be opened: {e}"
                ))]
            }
        };
        let mut out: Vec<Problem> = match records.integrity_problems() {
            Ok(found) => found.into_iter().map(problem).collect(),
            Err(e) => vec![problem(format!("the records database cannot be read: {e}"))],
        };
        if out.is_empty() {
            let known: std::collections::HashSet<String> = self
                .all_projects()
                .map(|ps| ps.into_iter().map(|p| p.id).collect())
                .unwrap_or_default();
            for scope in records.scopes().unwrap_or_default() {
                if scope != crate::records::VAULT_SCOPE && !known.contains(&scope) {
                    out.push(problem(format!(
                        "records are kept for project id {scope}, which the catalog does not have"
                    )));
                }
            }
        }
        out
    }

    /// Checks the catalog, every history (or one project's), every chunk's hash and (for the
    /// whole vault) the records database; each problem names the projects, versions and files it
    /// affects.
    pub fn verify(&self, project: Option<&str>, job: &Job) -> Result<VerifyReport> {
        // Garbage collection deletes and rewrites chunk packs, and a repack removes history
        // packs: neither while a verify reads them, or it would report as damage what is only
        // moving. Snapshots go on meanwhile.
        let _hold = self.hold_chunks()?;
        let mut report = VerifyReport::default();
        report.problems.extend(self.catalog_problems()?);
        if project.is_none() {
            report.problems.extend(self.records_problems());
        }
        let projects = self.projects_to_verify(project)?;
        let mut chunk_refs: ChunkRefs = HashMap::new();
        for (i, p) in projects.iter().enumerate() {
            job.files("verifying", i as u64, Some(projects.len() as u64));
            self.verify_history(p, &mut report, &mut chunk_refs, job)?;
        }
        let r = self.verify_chunk_store(project.is_some(), &chunk_refs, job)?;
        let total_projects = projects.len() as u64;
        job.files("verifying", total_projects, Some(total_projects));
        job.check()?;
        report.chunks_checked = r.chunks_checked;
        let mut damage = chunk_damage(&r);
        damage.extend(self.absent_chunks(&chunk_refs)?);
        for d in damage {
            report.problems.extend(d.problems(&chunk_refs));
        }
        Ok(report)
    }

    /// The damage SQLite finds in the catalog, one problem each.
    fn catalog_problems(&self) -> Result<Vec<Problem>> {
        let db = self.db();
        Ok(catalog::integrity_problems(&db)?
            .into_iter()
            .map(|p| Problem {
                area: "catalog".into(),
                project: None,
                versions: vec![],
                paths: vec![],
                message: p,
            })
            .collect())
    }

    /// The projects `verify` checks: the one named by `project` (whose history must open), or
    /// every project of the vault.
    fn projects_to_verify(&self, project: Option<&str>) -> Result<Vec<Project>> {
        Ok(match project {
            Some(r) => {
                let p = self.project(r)?;
                self.open_history(&p)?;
                vec![p]
            }
            None => self.all_projects()?,
        })
    }

    /// Checks one project: its files cache in the catalog, then its history (every object read
    /// and hash-checked, and the versions that could not be restored safely). What is wrong goes
    /// into `report`, with the counts of what was read; the chunks the history refers to, and
    /// where, into `chunk_refs`. A history that cannot be opened is a problem, and the project's
    /// check ends there.
    fn verify_history(
        &self,
        p: &Project,
        report: &mut VerifyReport,
        chunk_refs: &mut ChunkRefs,
        job: &Job,
    ) -> Result<()> {
        if let Err(e) = filelist::load(&self.db(), &p.id, 0) {
            report.problems.push(Problem {
                area: "catalog".into(),
                project: Some(p.name.clone()),
                versions: vec![],
                paths: vec![],
                message: e.to_string(),
            });
        }
        let repo = match Repository::open_bare(self.history_path(&p.id)) {
            Ok(r) => r,
            Err(e) => {
                report.problems.push(Problem {
                    area: "history".into(),
                    project: Some(p.name.clone()),
                    versions: vec![],
                    paths: vec![],
                    message: format!("the history cannot be opened: {}", e.message()),
                });
                return Ok(());
            }
        };
        let walked = walk_history(&repo, p, Hashes::Check, job)?;
        report
            .problems
            .extend(unrestorable_versions(&repo, p, job)?);
        report.projects_checked += 1;
        report.versions_checked += walked.versions;
        report.objects_checked += walked.objects;
        report.problems.extend(walked.problems);
        for (chunk, (len, blobs)) in walked.chunk_users {
            let uses: Uses = blobs
                .iter()
                .flat_map(|b| walked.pointer_uses.get(b).cloned().unwrap_or_default())
                .collect();
            chunk_refs
                .entry(chunk)
                .or_insert_with(|| (len, Vec::new()))
                .1
                .push((p.name.clone(), uses));
        }
        Ok(())
    }

    /// The chunk store's own check, reporting progress: of every chunk, or (`one_project`) of
    /// the chunks in `chunk_refs` only. The same checks either way, so the damage is named the
    /// same way.
    fn verify_chunk_store(
        &self,
        one_project: bool,
        chunk_refs: &ChunkRefs,
        job: &Job,
    ) -> Result<kura_chunkstore::VerifyReport> {
        let mut progress =
            |done: u64, total: u64| job.bytes("verifying chunks", done, Some(total), None);
        Ok(if one_project {
            let wanted: HashSet<ChunkId> = chunk_refs.keys().copied().collect();
            self.chunks().verify_chunks(&wanted, &mut progress)?
        } else {
            self.chunks().verify(&mut progress)?
        })
    }

    /// The chunks of `chunk_refs` that are not in the chunk store at all, in order of their
    /// ids, as damage each.
    fn absent_chunks(&self, chunk_refs: &ChunkRefs) -> Result<Vec<Damage>> {
        let mut absent: Vec<&ChunkId> = Vec::new();
        for id in chunk_refs.keys() {
            if !self.chunks().contains(id)? {
                absent.push(id);
            }
        }
        absent.sort();
        Ok(absent
            .into_iter()
            .map(|id| Damage {
                message: format!(
                    "chunk {} is missing from the chunk store",
                    hex::encode(&id[..8])
                ),
                chunks: vec![*id],
            })
            .collect())
    }
}

impl Vault {
    /// Removes chunks that no version of any project references, and compacts packs.
    pub fn gc(&self, job: &Job) -> Result<GcReport> {
        self.purge_discarded()?;
        // Histories first, and without the chunks lock: snapshots go on meanwhile.
        let repacked = self.repack_histories(job)?;
        let _lock = self.lock_chunks(true)?;
        let used = self.chunks_by_project(job)?;
        let live: HashSet<ChunkId> = used.iter().flat_map(|(_, c)| c.iter().copied()).collect();
        let r = self.chunks().gc(&live)?;
        // What each project counts for the chunk store, bounded by what its versions still
        // reference (thinning and the trash took some away).
        for (id, chunks) in &used {
            let bytes = self.chunks().stored_bytes(chunks)?;
            projects::cap_chunk_stored(&self.db(), id, bytes)?;
        }
        Ok(GcReport {
            chunks_removed: r.chunks_removed,
            packs_deleted: r.packs_deleted as u64,
            packs_rewritten: r.packs_rewritten as u64,
            bytes_freed: r.bytes_freed + repacked.bytes_before.saturating_sub(repacked.bytes_after),
            histories_repacked: repacked.histories_repacked,
            history_bytes_freed: repacked.bytes_before.saturating_sub(repacked.bytes_after),
        })
    }
}

impl VaultReader {
    /// Every chunk some version of some project (in the vault) references. Refuses when a
    /// history is damaged: chunks are never deleted on the word of a damaged history.
    pub(crate) fn live_chunks(&self, job: &Job) -> Result<HashSet<ChunkId>> {
        Ok(self
            .chunks_by_project(job)?
            .into_iter()
            .flat_map(|(_, chunks)| chunks)
            .collect())
    }

    /// [`VaultReader::live_chunks`], by project (id): the chunks some version of each
    /// references.
    pub(crate) fn chunks_by_project(&self, job: &Job) -> Result<Vec<(String, HashSet<ChunkId>)>> {
        let mut used = Vec::new();
        let projects = self.all_projects()?;
        for p in &projects {
            let repo = history::open(&self.history_path(&p.id))?;
            let walked = walk_history(&repo, p, Hashes::Trust, job)?;
            if let Some(problem) = walked.problems.first() {
                // Never delete chunks on the word of a damaged history.
                return Err(crate::error::Error::corrupt(format!(
                    "garbage collection stopped: the history of project '{}' is damaged ({}); run `kura verify`",
                    p.name, problem.message
                )));
            }
            used.push((p.id.clone(), walked.chunk_users.into_keys().collect()));
        }
        job.check()?;
        Ok(used)
    }

    /// Every project with a history in the vault (the trash included; archived projects keep
    /// theirs in the archive).
    pub(crate) fn all_projects(&self) -> Result<Vec<Project>> {
        let ids = projects::ids_with_history(&self.db())?;
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            let p = self.project_by_id(id)?;
            // Archived, then moved to the trash: its history is in the archive, not here. (One
            // unarchived before it went to the trash has its history here, and is walked.)
            if p.status == ProjectStatus::Deleted
                && self.has_archive(&p.id)
                && !self.history_path(&p.id).exists()
            {
                continue;
            }
            out.push(p);
        }
        Ok(out)
    }
}

/// Chunk → its length and, per project using it, where (version, path).
type ChunkRefs = HashMap<ChunkId, (u32, Vec<(String, Uses)>)>;

/// One thing wrong in the chunk store and the chunks it takes down with it.
struct Damage {
    /// What is wrong, naming the chunk or pack.
    message: String,
    /// The chunks affected.
    chunks: Vec<ChunkId>,
}

impl Damage {
    /// One problem per project using any of the chunks, naming its versions and files; a
    /// problem naming no project when nothing uses them.
    fn problems(&self, refs: &ChunkRefs) -> Vec<Problem> {
        // project → (versions, paths)
        let mut by_project: BTreeMap<&str, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
        for id in &self.chunks {
            for (project, uses) in refs.get(id).map(|r| r.1.as_slice()).unwrap_or_default() {
                let (versions, paths) = by_project.entry(project).or_default();
                for (version, path) in uses {
                    versions.insert(version);
                    paths.insert(path);
                }
            }
        }
        if by_project.is_empty() {
            return vec![Problem {
                area: "chunks".into(),
                project: None,
                versions: vec![],
                paths: vec![],
                message: format!("{}; no version uses it, `kura gc` removes it", self.message),
            }];
        }
        by_project
            .into_iter()
            .map(|(project, (versions, paths))| Problem {
                area: "chunks".into(),
                project: Some(project.to_string()),
                versions: versions.into_iter().map(String::from).collect(),
                paths: paths.into_iter().map(String::from).collect(),
                message: format!(
                    "{}; the files listed depend on it: restore them from a backup",
                    self.message
                ),
            })
            .collect()
    }
}

/// What the chunk store's check found, as damage to name: a missing pack and the chunks it
/// held, a damaged pack and the chunks it holds (they may still read, but the pack cannot be
/// re-indexed), and each other chunk that does not read back intact.
fn chunk_damage(r: &kura_chunkstore::VerifyReport) -> Vec<Damage> {
    let mut out = Vec::new();
    for pack in &r.missing_packs {
        out.push(Damage {
            message: format!("pack {pack} is missing"),
            chunks: r
                .bad_chunks
                .iter()
                .filter(|c| &c.pack == pack)
                .map(|c| c.id)
                .collect(),
        });
    }
    for pack in &r.bad_packs {
        out.push(Damage {
            message: format!("pack {} is damaged ({})", pack.id, pack.why),
            chunks: pack.chunks.clone(),
        });
    }
    for c in r
        .bad_chunks
        .iter()
        .filter(|c| !r.missing_packs.contains(&c.pack))
    {
        out.push(Damage {
            message: format!(
                "chunk {} in pack {} is damaged: {}",
                hex::encode(&c.id[..8]),
                c.pack,
                c.why
            ),
            chunks: vec![c.id],
        });
    }
    out
}
