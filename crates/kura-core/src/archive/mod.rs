//! The archiver: a project packed into one standard `tar.zst` under `archives/YYYY/MM/`, and
//! back.
//!
//! An archive opens with plain tools: `tar --zstd -xf` unpacks it, `git clone history.bundle`
//! gives the history. Inside, everything sits under one folder named after the project:
//!
//! ```text
//! <name>/metadata.json            the catalog row: id, name, kind, tags, metadata, times, sizes
//! <name>/history.bundle           every version, as a git bundle (v2) with deltas (the history
//!                                 is repacked first unless it is one repacked pack already)
//! <name>/files/...                the working folder exactly as it was (ignored files and a
//!                                 `.git` folder included), so deleting the folder loses nothing
//! <name>/large-files/<blake3>     content of large files of earlier versions (see below)
//! <name>/records.jsonl            the project's records, one JSON object per line (if any)
//! <name>/record-collections.json  what each collection of records indexes and checks
//! ```
//!
//! Large and binary files live in the chunk store, and the history only holds a pointer to
//! them (`kura-chunked-file v1`, with the BLAKE3 of the whole content). The latest version's
//! large files are in `files/`; those of earlier versions that differ are in
//! `large-files/<blake3 of the content>`, so the archive alone brings back every version.
//!
//! Writing streams into a temp file in the destination folder, then fsync, rename, fsync the
//! folder. The zstd stream is a sequence of frames (`tar --zstd` and `zstd -d` read them as one
//! stream): the first holds `metadata.json` and the history bundle in stored blocks (git has
//! deflated it already; see [`crate::rawframe`]), written by one thread while another
//! compresses the rest (multithreaded zstd, with a checksum) into the frames after it. A
//! cancelled or failed archive leaves no file and the project untouched. The SHA-256 of the file is recorded in the catalog
//! (`sha256sum` checks it without Kura) and checked again by unarchive and verify.
//!
//! Unpacking an archive safely, whatever it holds, is [`unpack`]'s; importing one made
//! elsewhere is [`import`]'s; a version packed as a `tar.zst` for someone else is [`export`]'s;
//! which archives have a verified copy at a backup target (the cold tier) is [`cold`]'s.

pub(crate) mod cold;
pub(crate) mod export;
pub(crate) mod import;
pub(crate) mod unpack;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog;
use crate::durable;
use crate::error::{Error, ErrorKind, Result};
use crate::history::snapshot::SnapshotOptions;
use crate::history::{self, Trigger};
use crate::job::Job;
use crate::model::{Project, ProjectStatus};
use crate::pointer::Pointer;
use crate::rawframe;
use crate::staging::Staging;
use crate::vault::Vault;
use crate::vault::VaultReader;
use unpack::Format;

/// Buffer between the compressor and the archive file.
const WRITE_BUFFER: usize = 1 << 20;
/// Bytes between progress reports and cancellation checks while reading a file.
const READ_CHUNK: usize = 1 << 20;
/// What `metadata.json` says it is.
const FORMAT: &str = "kura-archive v1";
/// The first line of a git bundle, version 2.
const BUNDLE_HEADER: &[u8] = b"# v2 git bundle\n";

/// One archive in the vault.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ArchiveInfo {
    /// Stable id (16 hex digits).
    pub id: String,
    /// The project it holds.
    pub project_id: String,
    /// The project's name when it was archived.
    pub project_name: String,
    /// Its workspace then.
    pub workspace: String,
    /// The `.tar.zst` file.
    #[cfg_attr(feature = "utoipa", schema(value_type = String))]
    pub path: PathBuf,
    /// Bytes of the file.
    pub size: u64,
    /// Bytes inside it before compression (files, history, metadata, tar headers).
    pub content_size: u64,
    /// `content_size / size` (2.0 means half the size).
    pub compression_ratio: f64,
    /// Files of the working folder inside.
    pub file_count: u64,
    /// Versions in its history.
    pub versions: u64,
    /// SHA-256 of the file, hex (what `sha256sum` prints).
    pub sha256: String,
    /// When it was made, seconds since the epoch.
    pub created_at: i64,
    /// False when the file is not on this disk (missing, or only in the cold tier).
    pub present: bool,
    /// The backup target holding a verified copy (the cold tier), if any.
    pub cold_target: Option<String>,
}

/// What checking an archive found.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ArchiveVerifyReport {
    /// The archive checked.
    pub archive: ArchiveInfo,
    /// The SHA-256 the file has now.
    pub sha256: String,
    /// Entries read.
    pub entries: u64,
    /// Everything wrong; empty when the archive is sound.
    pub problems: Vec<String>,
}

impl ArchiveVerifyReport {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What extracting an archive wrote.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ExtractReport {
    /// The archive file.
    #[cfg_attr(feature = "utoipa", schema(value_type = String))]
    pub archive: PathBuf,
    /// Where it went.
    #[cfg_attr(feature = "utoipa", schema(value_type = String))]
    pub dest: PathBuf,
    /// Files written.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// `metadata.json`: the project's catalog row at archive time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ArchiveMetadata {
    pub format: String,
    pub id: String,
    pub name: String,
    pub workspace: String,
    pub kind: String,
    pub description: String,
    pub linked: bool,
    pub path: PathBuf,
    pub git_remote: Option<String>,
    pub languages: Vec<String>,
    pub frameworks: Vec<String>,
    pub tags: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_opened_at: Option<i64>,
    pub archived_at: i64,
    pub logical_size: u64,
    pub file_count: u64,
    pub head: Option<String>,
    pub versions: u64,
}

/// Counts the bytes written into the compressor (the archive's content size).
struct CountWriter<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for CountWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The marker inside an `io::Error` that means "the job was cancelled".
#[derive(Debug)]
struct CancelledIo;

impl std::fmt::Display for CancelledIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for CancelledIo {}

fn is_cancel(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<CancelledIo>())
}

/// What the tail of an archive fails with when the history bundle's thread failed.
const BUNDLE_MISSING: &str = "the history bundle was not written";

/// Fails writes with [`CancelledIo`] once `stop` says so.
struct StopWriter<'a, W> {
    inner: W,
    stop: &'a dyn Fn() -> bool,
}

impl<W: Write> Write for StopWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if (self.stop)() {
            return Err(std::io::Error::other(CancelledIo));
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Reads exactly `size` bytes of a file for the tar stream, reporting progress and stopping
/// when the job is cancelled; a file that shrank or grew meanwhile is an error (the tar header
/// already holds its size).
struct FileReader<'a> {
    inner: File,
    left: u64,
    path: &'a Path,
    job: &'a Job,
    progress: &'a mut Progress,
}

struct Progress {
    done: u64,
    total: u64,
    reported: u64,
}

impl Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.job.is_cancelled() {
            return Err(std::io::Error::other(CancelledIo));
        }
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(format!(
                    "{} grew while it was being archived; archive again",
                    self.path.display()
                ))),
            };
        }
        let want = buf.len().min(self.left as usize).min(READ_CHUNK);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::Error::other(format!(
                "{} shrank while it was being archived; archive again",
                self.path.display()
            )));
        }
        self.left -= n as u64;
        let p = &mut self.progress;
        p.done += n as u64;
        if p.done - p.reported >= 8 << 20 {
            p.reported = p.done;
            self.job
                .bytes("archiving", p.done, Some(p.total), self.path.to_str());
        }
        Ok(n)
    }
}

/// A new random id (of an archive, of a discarded folder): 16 hex digits.
pub(crate) fn new_archive_id() -> String {
    let mut buf = [0u8; 8];
    if let Ok(mut f) = File::open("/dev/urandom") {
        let _ = f.read_exact(&mut buf);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = blake3::Hasher::new();
    h.update(&buf);
    h.update(&now.to_le_bytes());
    h.update(&std::process::id().to_le_bytes());
    hex::encode(&h.finalize().as_bytes()[..8])
}

/// `(year, month, day)` of a Unix time, UTC.
fn ymd(ts: i64) -> (i32, u8, u8) {
    let t =
        time::OffsetDateTime::from_unix_timestamp(ts).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    (t.year(), t.month() as u8, t.day())
}

/// The history from `head` as a git bundle v2, ready to be written. Its pack joins the
/// history's packs as they are (no object is inflated or compressed again) plus its few loose
/// objects, so it is written at the speed of a copy (git's own packer would deflate every object
/// again and search for deltas), and its length is known before it is written.
pub(crate) struct Bundle<'a> {
    header: Vec<u8>,
    pack: kura_gitpack::JoinedPack<'a>,
    loose: &'a [kura_gitpack::EncodedObject],
}

fn bundle_failed(e: &dyn std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("cannot write the history bundle: {e}"),
    )
}

impl<'a> Bundle<'a> {
    /// Plans the bundle of `repo` at `head`; `loose` are the repository's loose objects
    /// ([`loose_objects`]).
    pub(crate) fn plan(
        repo: &Repository,
        head: Oid,
        loose: &'a [kura_gitpack::EncodedObject],
    ) -> Result<Bundle<'a>> {
        let mut header = BUNDLE_HEADER.to_vec();
        header.extend_from_slice(format!("{head} HEAD\n{head} {}\n\n", history::BRANCH).as_bytes());
        let pack = kura_gitpack::JoinedPack::plan(&repo.path().join("objects/pack"), loose)
            .map_err(|e| bundle_failed(&e))?;
        Ok(Bundle {
            header,
            pack,
            loose,
        })
    }

    /// Bytes the bundle takes.
    pub(crate) fn len(&self) -> u64 {
        self.header.len() as u64 + self.pack.len()
    }

    /// Writes the bundle to `out`. Returns the objects that may be chunk pointers: blobs that
    /// start like one, objects whose start the copy could not see (deltas), and the loose
    /// objects. Every other blob is certainly not a pointer.
    pub(crate) fn write(&self, out: &mut dyn Write) -> Result<HashSet<Oid>> {
        out.write_all(&self.header).map_err(|e| bundle_failed(&e))?;
        let copied = self
            .pack
            .write(crate::pointer::MAGIC, out)
            .map_err(|e| bundle_failed(&e))?;
        let mut candidates: HashSet<Oid> = HashSet::new();
        for id in copied.marked.iter().chain(&copied.deltas) {
            candidates.insert(Oid::from_bytes(id)?);
        }
        for o in self.loose {
            candidates.insert(Oid::from_bytes(&o.oid)?);
        }
        Ok(candidates)
    }
}

/// The repository's loose objects (left by git itself, or by older versions of Kura), encoded as
/// pack entries.
fn loose_objects(repo: &Repository) -> Result<Vec<kura_gitpack::EncodedObject>> {
    let objects = repo.path().join("objects");
    let odb = repo.odb()?;
    let mut found = Vec::new();
    for dir in fs::read_dir(&objects).map_err(|e| Error::io("read", &objects, e))? {
        let dir = dir.map_err(|e| Error::io("read", &objects, e))?;
        let prefix = dir.file_name().to_string_lossy().into_owned();
        if prefix.len() != 2 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        for f in fs::read_dir(dir.path()).map_err(|e| Error::io("read", &dir.path(), e))? {
            let f = f.map_err(|e| Error::io("read", &dir.path(), e))?;
            let rest = f.file_name().to_string_lossy().into_owned();
            let Ok(oid) = Oid::from_str(&format!("{prefix}{rest}")) else {
                continue;
            };
            let obj = odb.read(oid)?;
            let kind = match obj.kind() {
                ObjectType::Commit => kura_gitpack::ObjectKind::Commit,
                ObjectType::Tree => kura_gitpack::ObjectKind::Tree,
                ObjectType::Blob => kura_gitpack::ObjectKind::Blob,
                ObjectType::Tag => kura_gitpack::ObjectKind::Tag,
                _ => continue,
            };
            found.push(kura_gitpack::EncodedObject::encode(kind, obj.data(), 6));
        }
    }
    Ok(found)
}

/// Reads a git bundle v2 into the (new, empty) bare repository at `repo_path`: indexes its pack
/// and points `main` at the bundle's `refs/heads/main`. Returns that commit.
pub(crate) fn read_bundle(bundle: &Path, repo_path: &Path) -> Result<Oid> {
    let bad = |why: &str| {
        Error::corrupt(format!(
            "the history bundle {} is damaged ({why})",
            bundle.display()
        ))
    };
    let file = File::open(bundle).map_err(|e| Error::io("open", bundle, e))?;
    let mut reader = std::io::BufReader::with_capacity(WRITE_BUFFER, file);
    let mut line = Vec::new();
    let read_line = |r: &mut std::io::BufReader<File>, line: &mut Vec<u8>| -> Result<()> {
        line.clear();
        std::io::BufRead::read_until(r, b'\n', line).map_err(|e| Error::io("read", bundle, e))?;
        Ok(())
    };
    read_line(&mut reader, &mut line)?;
    if line != BUNDLE_HEADER {
        return Err(bad("it does not start with '# v2 git bundle'"));
    }
    let mut main = None;
    loop {
        read_line(&mut reader, &mut line)?;
        if line.is_empty() {
            return Err(bad("it ends before its pack"));
        }
        if line == b"\n" {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if text.starts_with('-') {
            return Err(bad("it needs prerequisite commits"));
        }
        if let Some((oid, name)) = text.split_once(' ') {
            if name == history::BRANCH || (main.is_none() && name == "HEAD") {
                main = Some(Oid::from_str(oid).map_err(|_| bad("a reference is not an id"))?);
            }
        }
    }
    let head = main.ok_or_else(|| bad("it has no refs/heads/main"))?;
    let repo = history::open(repo_path)?;
    let odb = repo.odb()?;
    let mut writer = odb.packwriter()?;
    std::io::copy(&mut reader, &mut writer).map_err(|e| bad(&e.to_string()))?;
    writer.commit().map_err(|e| bad(e.message()))?;
    repo.find_commit(head)
        .map_err(|_| bad("its main commit is not in its pack"))?;
    history::set_head(repo_path, head)?;
    Ok(head)
}

/// Every distinct chunk pointer in the history from `head`, with the path it has in the
/// latest version (if it is there). Only blobs in `candidates` are read, when it is given
/// (see [`write_bundle`]); otherwise every blob is.
fn history_pointers(
    repo: &Repository,
    head: Oid,
    candidates: Option<&HashSet<Oid>>,
) -> Result<Vec<(Pointer, Option<String>)>> {
    let latest: HashMap<Oid, String> = history::files_of(repo, head)?
        .into_iter()
        .map(|f| (f.oid, f.path))
        .collect();
    let mut seen_trees: HashSet<Oid> = HashSet::new();
    let mut seen_blobs: HashSet<Oid> = HashSet::new();
    let mut out = Vec::new();
    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    for id in walk {
        let commit = repo.find_commit(id?)?;
        let mut stack = vec![commit.tree_id()];
        while let Some(tid) = stack.pop() {
            if !seen_trees.insert(tid) {
                continue;
            }
            let tree = repo.find_tree(tid)?;
            for e in tree.iter() {
                match e.kind() {
                    Some(ObjectType::Tree) => stack.push(e.id()),
                    Some(ObjectType::Blob) if e.filemode() != 0o120000 => {
                        if !seen_blobs.insert(e.id())
                            || candidates.is_some_and(|c| !c.contains(&e.id()))
                        {
                            continue;
                        }
                        let blob = repo.find_blob(e.id())?;
                        if Pointer::is_pointer(blob.content()) {
                            out.push((
                                Pointer::decode(blob.content())?,
                                latest.get(&e.id()).cloned(),
                            ));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(out)
}

fn count_versions(repo: &Repository, head: Oid) -> Result<u64> {
    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    Ok(walk.count() as u64)
}

/// A file or folder of the working folder, in archive order.
struct FolderEntry {
    rel: PathBuf,
    md: fs::Metadata,
}

/// Everything in the working folder (hidden, ignored and `.git` included), folders before
/// their contents. Fifos, sockets and devices carry no data and are left out.
fn folder_entries(root: &Path) -> Result<Vec<FolderEntry>> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1)
    {
        let e = e.map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read {}: {e}; nothing was archived", root.display()),
            )
        })?;
        let md = e.metadata().map_err(|err| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read {}: {err}", e.path().display()),
            )
        })?;
        let ft = md.file_type();
        if !(ft.is_file() || ft.is_dir() || ft.is_symlink()) {
            continue;
        }
        let rel = e
            .path()
            .strip_prefix(root)
            .unwrap_or(e.path())
            .to_path_buf();
        // What could not be unpacked again is refused before anything is archived (folders come
        // before their contents, so a folder's name is met first).
        use std::os::unix::ffi::OsStrExt;
        if let Err(problem) = crate::names::check_archived_name(e.file_name().as_bytes()) {
            return Err(Error::new(
                problem.kind(),
                format!(
                    "'{}' in {} cannot be archived: {}; rename or remove it and archive again (nothing was archived)",
                    rel.display(),
                    root.display(),
                    problem.reason()
                ),
            ));
        }
        out.push(FolderEntry { rel, md });
    }
    Ok(out)
}

/// The catalog row as `ArchiveInfo`.
pub(crate) fn info_from_row(root: &Path, r: &rusqlite::Row<'_>) -> rusqlite::Result<ArchiveInfo> {
    let rel: String = r.get(4)?;
    let path = root.join(rel);
    let size = r.get::<_, i64>(5)? as u64;
    let content = r.get::<_, i64>(6)? as u64;
    Ok(ArchiveInfo {
        id: r.get(0)?,
        project_id: r.get(1)?,
        project_name: r.get(2)?,
        workspace: r.get(3)?,
        present: path.is_file(),
        path,
        size,
        content_size: content,
        compression_ratio: if size == 0 {
            0.0
        } else {
            ((content as f64 / size as f64) * 100.0).round() / 100.0
        },
        file_count: r.get::<_, i64>(7)? as u64,
        versions: r.get::<_, i64>(8)? as u64,
        sha256: r.get(9)?,
        created_at: r.get(10)?,
        cold_target: r.get(11)?,
    })
}

pub(crate) const ARCHIVE_COLUMNS: &str = "id, project_id, project_name, workspace, path, size,
    content_size, file_count, versions, sha256, created_at, cold_target";

/// Computes the SHA-256 of a file (hex, as `sha256sum` prints it), checking the job between
/// reads.
pub fn sha256_of(path: &Path, job: &Job) -> Result<String> {
    let mut f = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let total = f.metadata().map(|m| m.len()).ok();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut done = 0u64;
    loop {
        job.check()?;
        let n = f.read(&mut buf).map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        done += n as u64;
        job.bytes("checking", done, total, None);
    }
    Ok(hex::encode(h.finalize()))
}

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
    if meta.format != FORMAT {
        return Err(Error::invalid(format!(
            "the archive is in format '{}', which this Kura does not read (it reads '{FORMAT}')",
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

impl Vault {
    /// Archives a project now: takes a version if the folder changed ("before archive"), writes
    /// `archives/YYYY/MM/<name>-<date>-<id>.tar.zst`, records its checksum, marks the project
    /// archived and frees its working folder and history (moved aside at once, removed in the
    /// background: see [`Vault::purge_discarded`]). A linked project's folder belongs to the user
    /// and is left where it is (the archive holds a copy).
    pub fn archive_project(&self, reference: &str, job: &Job) -> Result<ArchiveInfo> {
        let p = self.project(reference)?;
        match p.status {
            ProjectStatus::Active => {}
            ProjectStatus::Archived => {
                return Err(Error::conflict(format!(
                    "project '{}' is already archived",
                    p.name
                )))
            }
            ProjectStatus::Deleted => {
                return Err(Error::conflict(format!(
                    "project '{}' is in the trash; restore it before archiving",
                    p.name
                )))
            }
        }
        self.require_folder(&p)?;
        let started = std::time::Instant::now();
        let snap = self.snapshot(
            &p.id,
            &SnapshotOptions {
                message: Some("Before archive".into()),
                trigger: Some(Trigger::BeforeArchive),
                ..Default::default()
            },
            job,
        )?;
        if !snap.skipped.is_empty() {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "project '{}' was not archived: {} file(s) could not be taken into a version ({}); fix their permissions or rename them, and archive again",
                    p.name,
                    snap.skipped.len(),
                    snap.skipped
                        .iter()
                        .take(3)
                        .map(|s| format!("'{}': {}", s.path, s.reason))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        // The history goes in with deltas: rewritten now, unless a repack did it already.
        match self.repack_history(&p, job) {
            Ok(_) => {}
            // Another repack of it is under way: the archive joins the packs as they are.
            Err(e) if e.kind() == ErrorKind::Busy => {}
            Err(e) => return Err(e),
        }
        tracing::debug!(elapsed = ?started.elapsed(), "archive: history repacked");
        let _lock = self.lock_project(&p.id)?;
        let p = self.project_by_id(&p.id)?;
        let repo_path = self.history_path(&p.id);
        let repo = history::open(&repo_path)?;
        let head = history::head(&repo)?
            .ok_or_else(|| Error::internal("a project without versions cannot be archived"))?;
        let now = self.now();
        let (y, m, d) = ymd(now);
        let dir_rel = format!("archives/{y:04}/{m:02}");
        let dir = self.root().join(&dir_rel);
        durable::create_dir_all(&dir)?;
        let id = new_archive_id();
        let file_name = format!(
            "{}-{y:04}{m:02}{d:02}-{}.tar.zst",
            crate::project::folder_name(&p.name),
            &id[..8]
        );
        let dest = dir.join(&file_name);
        let versions = count_versions(&repo, head)?;
        let meta = ArchiveMetadata {
            format: FORMAT.into(),
            id: p.id.clone(),
            name: p.name.clone(),
            workspace: p.workspace.clone(),
            kind: p.kind.clone(),
            description: p.description.clone(),
            linked: p.linked,
            path: p.path.clone(),
            git_remote: p.git_remote.clone(),
            languages: p.languages.clone(),
            frameworks: p.frameworks.clone(),
            tags: p.tags.clone(),
            metadata: p.metadata.clone(),
            created_at: p.created_at,
            updated_at: p.updated_at,
            last_opened_at: p.last_opened_at,
            archived_at: now,
            logical_size: p.logical_size,
            file_count: p.file_count,
            head: Some(head.to_string()),
            versions,
        };
        tracing::debug!(elapsed = ?started.elapsed(), "archive: version taken");
        let written = self.write_archive(&p, &repo, head, &meta, &dest, job)?;
        tracing::debug!(elapsed = ?started.elapsed(), size = written.size, "archive: written");
        // The file is durable; now the catalog, then free the folder and history.
        {
            let mut db = self.db();
            let tx = db.transaction()?;
            tx.execute(
                "INSERT INTO archives (id, project_id, project_name, workspace, path, size, content_size, file_count, versions, sha256, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    id,
                    p.id,
                    p.name,
                    p.workspace,
                    format!("{dir_rel}/{file_name}"),
                    written.size as i64,
                    written.content as i64,
                    written.files as i64,
                    versions as i64,
                    written.sha256,
                    now
                ],
            )?;
            tx.execute(
                "UPDATE projects SET status = 'archived', updated_at = ?1, stored_size = ?2, chunk_stored = 0 WHERE id = ?3",
                params![now, written.size as i64, p.id],
            )?;
            crate::filelist::remove(&tx, &p.id)?;
            tx.commit()?;
        }
        tracing::debug!(elapsed = ?started.elapsed(), "archive: catalog updated");
        drop(repo);
        self.discard(&repo_path)?;
        if !p.linked && p.path.starts_with(self.projects_dir()) {
            self.discard(&p.path)?;
        }
        self.archive_info(&id)
    }

    /// Streams the archive of `p` to `dest` (temp file, fsync, rename).
    ///
    /// Two threads write the file at once. The tar stream opens with `metadata.json` and the
    /// history bundle, whose lengths are known before a byte is written; they go into a first
    /// zstd frame of stored blocks (git has deflated the history already), whose size therefore
    /// is known too. A thread writes that frame at the start of the file while this one
    /// compresses the working folder (and the large files of earlier versions) into the frames
    /// after it; then the first thread reads back and hashes what this one wrote.
    fn write_archive(
        &self,
        p: &Project,
        repo: &Repository,
        head: Oid,
        meta: &ArchiveMetadata,
        dest: &Path,
        job: &Job,
    ) -> Result<Written> {
        let dir = dest.parent().unwrap_or(self.root());
        let config = self.config();
        let top = PathBuf::from(crate::project::folder_name(&p.name));
        job.files("scanning", 0, None);
        // The folder is listed while the history goes into the archive.
        let folder = p.path.clone();
        let listing = std::thread::spawn(move || folder_entries(&folder));
        let tmp = tempfile::Builder::new()
            .prefix(".kura-tmp-")
            .tempfile_in(dir)
            .map_err(|e| Error::io("create a temporary file in", dir, e))?;
        let loose = loose_objects(repo)?;
        let bundle = Bundle::plan(repo, head, &loose)?;
        job.check()?;
        let io = |e: std::io::Error| -> Error {
            if is_cancel(&e) {
                Error::cancelled()
            } else if crate::error::is_disk_full(&e) {
                Error::new(
                    ErrorKind::DiskFull,
                    format!(
                        "the disk is full while writing {}; free some space and try again",
                        dest.display()
                    ),
                )
            } else {
                Error::new(
                    ErrorKind::Io,
                    format!("cannot write the archive {}: {e}", dest.display()),
                )
            }
        };
        let threads = match config.archive.threads {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            n => n as usize,
        } as u32;

        // The head of the tar stream: metadata.json first (so `tar -xO` finds it fast), then the
        // bundle's tar header; the bundle and its padding follow.
        let mut head_tar = tar::Builder::new(Vec::new());
        head_tar.mode(tar::HeaderMode::Complete);
        let meta_json = serde_json::to_vec_pretty(meta)
            .map_err(|e| Error::internal(format!("cannot write metadata.json: {e}")))?;
        let mut h = plain_header(meta_json.len() as u64, 0o644, meta.archived_at);
        head_tar
            .append_data(&mut h, top.join("metadata.json"), &meta_json[..])
            .map_err(io)?;
        if let Some((lines, collections)) = self.records_for_archive(&meta.id)? {
            for (name, bytes) in [
                (crate::records::ARCHIVE_RECORDS, lines),
                (crate::records::ARCHIVE_COLLECTIONS, collections),
            ] {
                let mut h = plain_header(bytes.len() as u64, 0o644, meta.archived_at);
                head_tar
                    .append_data(&mut h, top.join(name), &bytes[..])
                    .map_err(io)?;
            }
        }
        let mut h = plain_header(bundle.len(), 0o644, meta.archived_at);
        // Only the header: the bundle itself is written by the frame's thread.
        head_tar
            .append_data(&mut h, top.join("history.bundle"), std::io::empty())
            .map_err(io)?;
        let head_bytes = std::mem::take(head_tar.get_mut());
        let padding = (512 - bundle.len() % 512) % 512;
        let head_content = head_bytes.len() as u64 + bundle.len() + padding;
        let head_len = rawframe::frame_len(head_content);

        let frame_file = tmp
            .as_file()
            .try_clone()
            .map_err(|e| Error::io("write", tmp.path(), e))?;
        let mut tail_file = tmp
            .as_file()
            .try_clone()
            .map_err(|e| Error::io("write", tmp.path(), e))?;
        tail_file
            .seek(std::io::SeekFrom::Start(head_len))
            .map_err(io)?;
        let published = rawframe::Published::default();
        let (candidates_tx, candidates_rx) = std::sync::mpsc::channel();
        let (tail, hashed) = std::thread::scope(|s| {
            let frame_thread = s.spawn(|| {
                let frame = rawframe::RawFrame::new(&frame_file, 0, head_content).map_err(io)?;
                // Stops when the job is cancelled or the rest of the archive failed.
                let mut frame = StopWriter {
                    inner: frame,
                    stop: &|| job.is_cancelled() || published.failed(),
                };
                frame.write_all(&head_bytes).map_err(io)?;
                let candidates = bundle.write(&mut frame).map_err(|e| {
                    if job.is_cancelled() {
                        Error::cancelled()
                    } else {
                        e
                    }
                })?;
                frame
                    .write_all(&[0u8; 512][..padding as usize])
                    .map_err(io)?;
                let hasher = frame.inner.finish().map_err(|e| bundle_failed(&e))?;
                let _ = candidates_tx.send(candidates);
                rawframe::follow(&frame_file, head_len, &published, hasher).map_err(io)
            });
            let _end = rawframe::EndGuard(&published);
            let sink = rawframe::Publishing {
                file: tail_file,
                published: &published,
            };
            let tail = listing
                .join()
                .unwrap_or_else(|_| Err(Error::internal("listing the folder failed")))
                .and_then(|entries| {
                    self.write_archive_tail(
                        p,
                        repo,
                        head,
                        meta,
                        &top,
                        &entries,
                        BufWriter::with_capacity(WRITE_BUFFER, sink),
                        threads,
                        &candidates_rx,
                        &io,
                        job,
                    )
                });
            published.end(tail.is_ok());
            let hashed = frame_thread
                .join()
                .unwrap_or_else(|_| Err(Error::internal("the archive writer thread panicked")));
            (tail, hashed)
        });
        // When the frame's thread fails, the tail only sees the bundle missing: its error is the
        // one to tell. When the tail fails, the frame's thread stops and has nothing to tell.
        let ((file_count, content, tail_len), hashed) = match (tail, hashed) {
            (Ok(tail), Ok(hashed)) => (tail, hashed),
            (Err(e), Err(frame)) if e.message() == BUNDLE_MISSING => return Err(frame),
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        let sha256 = hashed
            .map(hex::encode)
            .ok_or_else(|| Error::internal("the archive's checksum was not computed"))?;
        job.check()?;
        durable::sync_file(tmp.as_file(), dest)?;
        // The name holds a new random id: it exists only by a clash, which is refused.
        let tmp = tmp.into_temp_path();
        kura_durable::rename_new(&tmp, dest).map_err(durable::failed)?;
        let _ = tmp.keep();
        durable::sync_dir(dir)?;
        Ok(Written {
            size: head_len + tail_len,
            content: head_content + content,
            sha256,
            files: file_count,
        })
    }

    /// The archive's tar stream after the history bundle, compressed into `out`: the working
    /// folder, then the large files of earlier versions (which are known once the bundle's
    /// thread sends the blobs that may be pointers on `candidates`). Returns the files archived,
    /// the tar bytes and the compressed bytes.
    #[allow(clippy::too_many_arguments)]
    fn write_archive_tail(
        &self,
        p: &Project,
        repo: &Repository,
        head: Oid,
        meta: &ArchiveMetadata,
        top: &Path,
        entries: &[FolderEntry],
        out: BufWriter<rawframe::Publishing>,
        threads: u32,
        candidates: &std::sync::mpsc::Receiver<HashSet<Oid>>,
        io: &dyn Fn(std::io::Error) -> Error,
        job: &Job,
    ) -> Result<(u64, u64, u64)> {
        let level = self.config().archive.compression_level;
        let mut encoder = zstd::stream::write::Encoder::new(
            CountWriter {
                inner: out,
                bytes: 0,
            },
            level,
        )
        .map_err(io)?;
        encoder.include_checksum(true).map_err(io)?;
        if threads > 1 {
            encoder.multithread(threads).map_err(io)?;
        }
        let mut builder = tar::Builder::new(CountWriter {
            inner: encoder,
            bytes: 0,
        });
        builder.mode(tar::HeaderMode::Complete);
        builder.follow_symlinks(false);
        let mut progress = Progress {
            done: 0,
            total: entries
                .iter()
                .filter(|e| e.md.is_file())
                .map(|e| e.md.len())
                .sum::<u64>(),
            reported: 0,
        };
        // The working folder.
        let files_dir = top.join("files");
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        h.set_mtime(meta.archived_at.max(0) as u64);
        builder
            .append_data(&mut h, &files_dir, std::io::empty())
            .map_err(io)?;
        let mut file_count = 0u64;
        for e in entries {
            job.check()?;
            let name = files_dir.join(&e.rel);
            let full = p.path.join(&e.rel);
            let mut h = tar::Header::new_gnu();
            h.set_metadata_in_mode(&e.md, tar::HeaderMode::Complete);
            let ft = e.md.file_type();
            if ft.is_symlink() {
                let target =
                    fs::read_link(&full).map_err(|err| Error::io("read link", &full, err))?;
                h.set_size(0);
                builder.append_link(&mut h, &name, &target).map_err(io)?;
            } else if ft.is_dir() {
                h.set_size(0);
                builder
                    .append_data(&mut h, &name, std::io::empty())
                    .map_err(io)?;
            } else {
                let f = File::open(&full).map_err(|err| Error::io("read", &full, err))?;
                let reader = FileReader {
                    inner: f,
                    left: e.md.len(),
                    path: &full,
                    job,
                    progress: &mut progress,
                };
                builder.append_data(&mut h, &name, reader).map_err(io)?;
                file_count += 1;
            }
        }

        // Large files of earlier versions, streamed out of the chunk store.
        let candidates = candidates
            .recv()
            .map_err(|_| Error::internal(BUNDLE_MISSING))?;
        let pointers = history_pointers(repo, head, Some(&candidates))?;
        let latest_hashes: HashSet<[u8; 32]> = pointers
            .iter()
            .filter(|(_, latest)| latest.is_some())
            .map(|(ptr, _)| ptr.hash)
            .collect();
        let mut old_large: Vec<&Pointer> = Vec::new();
        let mut old_seen: HashSet<[u8; 32]> = HashSet::new();
        for (ptr, latest) in &pointers {
            if latest.is_none() && !latest_hashes.contains(&ptr.hash) && old_seen.insert(ptr.hash) {
                old_large.push(ptr);
            }
        }
        progress.total += old_large.iter().map(|p| p.size).sum::<u64>();
        for ptr in old_large {
            job.check()?;
            let mut h = plain_header(ptr.size, 0o644, meta.archived_at);
            let name = top.join("large-files").join(hex::encode(ptr.hash));
            let (reader, mut writer) = std::io::pipe().map_err(io)?;
            let chunks = self.chunks();
            let res = std::thread::scope(|s| {
                let feeder = s.spawn(move || {
                    let r = chunks.read_to(&ptr.chunks, &mut writer);
                    drop(writer);
                    r
                });
                let appended = builder.append_data(&mut h, &name, reader);
                let fed = feeder
                    .join()
                    .unwrap_or_else(|_| Err(kura_chunkstore::Error::Cancelled));
                (appended, fed)
            });
            match res {
                (_, Err(e)) => return Err(e.into()),
                (Err(e), _) => return Err(io(e)),
                (Ok(()), Ok(n)) if n != ptr.size => {
                    return Err(Error::corrupt(format!(
                        "a large file of an earlier version has {n} bytes, its pointer says {}; run `kura verify`",
                        ptr.size
                    )))
                }
                _ => {}
            }
            progress.done += ptr.size;
        }
        job.bytes("archiving", progress.done, Some(progress.total), None);
        let counted = builder.into_inner().map_err(io)?;
        let content = counted.bytes;
        let mut written = counted.inner.finish().map_err(io)?;
        written.inner.flush().map_err(io)?;
        Ok((file_count, content, written.bytes))
    }

    /// Archives every active project idle longer than `archive.archive_after_days` (nothing
    /// when it is 0); returns the archives made.
    pub fn archive_idle_projects(&self, job: &Job) -> Result<Vec<ArchiveInfo>> {
        let mut out = Vec::new();
        for p in self.idle_projects()? {
            job.check()?;
            out.push(self.archive_project(&p.id, job)?);
        }
        Ok(out)
    }
}

impl VaultReader {
    /// Active projects nobody changed or opened for `archive.archive_after_days` days.
    pub fn idle_projects(&self) -> Result<Vec<Project>> {
        let days = self.config().archive.archive_after_days;
        if days == 0 {
            return Ok(Vec::new());
        }
        let cutoff = self.now() - days as i64 * 86_400;
        let ids = self.project_ids(
            "status = 'active' AND max(updated_at, coalesce(last_opened_at, 0)) < ?1",
            [cutoff],
        )?;
        ids.iter()
            .map(|id| self.project_by_id(id))
            .filter(|p| p.as_ref().map_or(true, |p| p.path.is_dir()))
            .collect()
    }

    /// Every archive, newest first.
    pub fn list_archives(&self) -> Result<Vec<ArchiveInfo>> {
        let db = self.db();
        let mut stmt = db.prepare(&format!(
            "SELECT {ARCHIVE_COLUMNS} FROM archives ORDER BY created_at DESC, id"
        ))?;
        let rows = stmt.query_map([], |r| info_from_row(self.root(), r))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn archive_info(&self, id: &str) -> Result<ArchiveInfo> {
        let db = self.db();
        db.query_row(
            &format!("SELECT {ARCHIVE_COLUMNS} FROM archives WHERE id = ?1"),
            [id],
            |r| info_from_row(self.root(), r),
        )
        .optional()?
        .ok_or_else(|| Error::not_found(format!("there is no archive {id}")))
    }

    /// Finds an archive by id (or a prefix of at least 4 digits), else by project (its latest
    /// archive).
    pub fn find_archive(&self, reference: &str) -> Result<ArchiveInfo> {
        let r = reference.trim();
        if r.len() >= 4 && r.chars().all(|c| c.is_ascii_hexdigit()) {
            let ids: Vec<String> = {
                let db = self.db();
                let mut stmt = db.prepare("SELECT id FROM archives WHERE id LIKE ?1 || '%'")?;
                let rows =
                    stmt.query_map([r.to_ascii_lowercase()], |row| row.get::<_, String>(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            match ids.len() {
                1 => return self.archive_info(&ids[0]),
                0 => {}
                _ => {
                    return Err(Error::invalid(format!(
                        "'{r}' matches several archives; give more digits"
                    )))
                }
            }
        }
        let p = self.project(r).map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                Error::not_found(format!(
                    "there is no archive or project '{r}'; `kura archive list` shows the archives"
                ))
            } else {
                e
            }
        })?;
        let id: Option<String> = self
            .db()
            .query_row(
                "SELECT id FROM archives WHERE project_id = ?1 ORDER BY created_at DESC LIMIT 1",
                [&p.id],
                |row| row.get(0),
            )
            .optional()?;
        match id {
            Some(id) => self.archive_info(&id),
            None => Err(Error::not_found(format!(
                "project '{}' has no archive",
                p.name
            ))),
        }
    }

    /// Checks an archive: its SHA-256 against the catalog, and every entry readable to the end
    /// (zstd's own checksums included), with `metadata.json` and `history.bundle` present.
    pub fn verify_archive(&self, reference: &str, job: &Job) -> Result<ArchiveVerifyReport> {
        let info = self.find_archive(reference)?;
        let mut problems = Vec::new();
        if !info.present {
            problems.push(format!("the file {} is missing", info.path.display()));
            return Ok(ArchiveVerifyReport {
                archive: info,
                sha256: String::new(),
                entries: 0,
                problems,
            });
        }
        let sha256 = sha256_of(&info.path, job)?;
        if sha256 != info.sha256 {
            problems.push(format!(
                "the checksum does not match: the file's SHA-256 is {sha256}, {} was recorded when it was made",
                info.sha256
            ));
        }
        let mut entries = 0u64;
        let mut seen_meta = false;
        let mut seen_bundle = false;
        let file = File::open(&info.path).map_err(|e| Error::io("open", &info.path, e))?;
        let walked = zstd::stream::read::Decoder::new(file)
            .map_err(|e| Error::corrupt(e.to_string()))
            .and_then(|dec| {
                unpack::walk_tar(dec, &info.path, job, |rel, data| {
                    entries += 1;
                    let mut parts = rel.components().skip(1);
                    match parts.next().and_then(|c| c.as_os_str().to_str()) {
                        Some("metadata.json") if parts.next().is_none() => {
                            let mut text = Vec::new();
                            data.read_to_end(&mut text)
                                .map_err(|e| Error::corrupt(e.to_string()))?;
                            seen_meta = serde_json::from_slice::<ArchiveMetadata>(&text).is_ok();
                        }
                        Some("history.bundle") if parts.next().is_none() => {
                            let mut head = [0u8; 16];
                            seen_bundle =
                                data.read_exact(&mut head).is_ok() && head == BUNDLE_HEADER;
                        }
                        _ => {}
                    }
                    Ok(())
                })
            });
        match walked {
            Ok(_) => {
                if !seen_meta {
                    problems.push("metadata.json is missing or unreadable".into());
                }
                if !seen_bundle {
                    problems.push("history.bundle is missing or not a git bundle".into());
                }
            }
            Err(e) if e.kind() == ErrorKind::Cancelled => return Err(e),
            Err(e) => problems.push(e.message().to_string()),
        }
        Ok(ArchiveVerifyReport {
            archive: info,
            sha256,
            entries,
            problems,
        })
    }
}

impl Vault {
    /// Unpacks an archive — one of the vault's (by id or project) or any `.tar.zst`, `.tar.gz`
    /// or `.zip` file — into `dest`, which must not exist or be empty. Entries that would land
    /// outside `dest` are refused; on any failure what was written is removed.
    pub fn extract_archive(&self, archive: &str, dest: &Path, job: &Job) -> Result<ExtractReport> {
        let file = Path::new(archive);
        let path = if file.is_file() {
            file.to_path_buf()
        } else {
            let info = self.find_archive(archive)?;
            if !info.present {
                return Err(Error::not_found(format!(
                    "the archive file {} is missing",
                    info.path.display()
                )));
            }
            info.path
        };
        let format = Format::detect(&path)?;
        let created = durable::claim_empty_dir(dest, "extract")?;
        match unpack::unpack(&path, format, dest, None, &self.config().archive, job) {
            Ok(u) => Ok(ExtractReport {
                archive: path,
                dest: dest.to_path_buf(),
                files: u.files,
                bytes: u.bytes,
            }),
            Err(e) => {
                durable::empty_out(dest, created);
                Err(e)
            }
        }
    }

    /// Brings an archived project back exactly (files, history, metadata) from its archive
    /// (named by archive id or by project), after checking the archive's SHA-256. The archive
    /// file is removed once the project is back. A project hard-deleted since it was archived
    /// is recreated with the same id.
    pub fn unarchive_project(&self, reference: &str, job: &Job) -> Result<Project> {
        let info = self.find_archive(reference)?;
        if !info.present {
            return Err(Error::not_found(format!(
                "the archive file {} is missing",
                info.path.display()
            )));
        }
        let existing = match self.project_by_id(&info.project_id) {
            Ok(p) if p.status == ProjectStatus::Archived => Some(p),
            Ok(p) => {
                return Err(Error::conflict(format!(
                    "project '{}' is not archived (it is {}); extract the archive elsewhere with `kura extract`",
                    p.name,
                    p.status.as_str()
                )))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let sha = sha256_of(&info.path, job)?;
        if sha != info.sha256 {
            return Err(Error::corrupt(format!(
                "the archive {} is damaged: its SHA-256 is {sha}, {} was recorded; the project stays archived",
                info.path.display(),
                info.sha256
            )));
        }
        let staging = self.staging_dir("unarchive")?;
        let unpacked = staging.content();
        let res = (|| {
            let budget = self.quota_budget(
                existing
                    .as_ref()
                    .map(|p| p.name.as_str())
                    .unwrap_or(&info.project_name),
            )?;
            unpack::unpack(
                &info.path,
                Format::TarZst,
                &unpacked,
                budget.as_ref(),
                &self.config().archive,
                job,
            )?;
            let top = kura_archive_top(&unpacked)?.ok_or_else(|| {
                Error::corrupt(format!(
                    "{} is not a Kura archive (no metadata.json, history.bundle and files/ under one folder)",
                    info.path.display()
                ))
            })?;
            let target = match existing {
                Some(p) => Target::Existing(Box::new(p)),
                None => Target::New {
                    name: info.project_name.clone(),
                    workspace: Some(info.workspace.clone()),
                },
            };
            self.restore_unpacked(&top, target, true, job)
        })();
        let p = res?;
        self.db()
            .execute("DELETE FROM archives WHERE id = ?1", [&info.id])?;
        durable::remove_file(&info.path)?;
        Ok(p)
    }

    /// A fresh folder beside the managed projects, removed on drop.
    pub(crate) fn staging_dir(&self, what: &str) -> Result<Staging> {
        Staging::new(&self.projects_dir(), what)
    }

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
        let (id, name) = match &target {
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
        crate::workspace::check_name("project", &name)?;
        if let Target::New { workspace, .. } = &target {
            self.check_name_free(&name, workspace.as_deref())?;
        }
        // History: into a temp folder, then renamed into place.
        let repo_path = self.history_path(&id);
        if repo_path.exists() {
            return Err(Error::conflict(format!(
                "a history already exists at {}; move it away first",
                repo_path.display()
            )));
        }
        // Its staging folder also records what this call makes outside it, so that cleanup
        // removes those when the process dies before the catalog row exists.
        let hist_staging = Staging::new(&self.root().join("histories"), "history")?;
        let hist_tmp = hist_staging.content();
        history::init(&hist_tmp)?;
        job.files("history", 0, None);
        let head = read_bundle(&top.join("history.bundle"), &hist_tmp)?;
        job.check()?;
        // Every version must come back as it went in: refuse a history that holds a path no
        // restore would write, before anything of the project exists.
        crate::names::refuse_unsafe_history(
            &history::open(&hist_tmp)?,
            head,
            &format!("the history of archived project '{}'", meta.name),
            job,
        )?;
        self.restore_chunks(&hist_tmp, head, top, job)?;
        let (workspace_id, ws_name) = match &target {
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
        };
        // The folder: `files/` must be a real folder, never a link to one.
        crate::files::require_real_folder(&files_dir, "the archive's files/")?;
        let (folder, path) = match &target {
            Target::Existing(p) if p.linked && p.path.exists() => (None, p.path.clone()),
            Target::Existing(p) if p.linked || !p.path.exists() => {
                (Some(p.path.clone()), p.path.clone())
            }
            _ => {
                // Claimed empty, so no other import can take it; the rename replaces it.
                let f = self.unique_project_folder_for(&name, Some(&hist_staging))?;
                (Some(f.clone()), f)
            }
        };
        // From here on, whatever fails removes what this call made: the history, the folder
        // (only one this call made) and the catalog row, so a refused import leaves nothing.
        let hist_final = hist_tmp;
        let undo_all = |e: Error| {
            let _ = fs::remove_dir_all(&hist_final);
            let _ = fs::remove_dir_all(&repo_path);
            if let Some(f) = &folder {
                let _ = fs::remove_dir_all(f);
            }
            e
        };
        if !matches!(target, Target::Existing(_)) {
            hist_staging.claim(&repo_path).map_err(undo_all)?;
        }
        durable::rename(&hist_final, &repo_path).map_err(undo_all)?;
        if let Some(f) = &folder {
            if let Some(parent) = f.parent() {
                durable::create_dir_all(parent).map_err(undo_all)?;
            }
            durable::rename(&files_dir, f).map_err(undo_all)?;
        }
        let now = self.now();
        let res = (|| -> Result<()> {
            let mut db = self.db();
            let tx = db.transaction()?;
            match &target {
                Target::Existing(_) => {
                    tx.execute(
                        "UPDATE projects SET status = 'active', path = ?1, head = NULL, stored_size = 0, chunk_stored = 0, updated_at = ?2 WHERE id = ?3",
                        params![path.to_string_lossy(), now, id],
                    )?;
                }
                Target::New { .. } => {
                    let ws = workspace_id.unwrap_or_default();
                    let res = tx.execute(
                        "INSERT INTO projects (id, workspace_id, name, kind, description, status, linked, path, git_remote, created_at, updated_at, last_opened_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, 'active', 0, ?6, ?7, ?8, ?9, ?10)",
                        params![id, ws, name, meta.kind, meta.description, path.to_string_lossy(), meta.git_remote, meta.created_at, now, meta.last_opened_at],
                    );
                    // Another import or create of the same name got there first.
                    catalog::unique(res, || crate::project::name_taken_message(&ws_name, &name))?;
                    for t in &meta.tags {
                        tx.execute(
                            "INSERT OR IGNORE INTO labels (project_id, kind, value) VALUES (?1, 'tag', ?2)",
                            params![id, t],
                        )?;
                    }
                    for (k, v) in &meta.metadata {
                        tx.execute(
                            "INSERT OR REPLACE INTO metadata (project_id, key, value) VALUES (?1, ?2, ?3)",
                            params![id, k, v],
                        )?;
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })();
        res.map_err(undo_all)?;
        let forget_records = || {
            if let Target::New { .. } = &target {
                let _ = self.records().map(|r| r.remove_scope(&id));
            }
        };
        if let Err(e) = self.import_records(&id, top) {
            forget_records();
            self.undo_restored_row(&target, &id);
            return Err(undo_all(e));
        }
        // Rebuilds the files cache and sizes from the history (no version: nothing changed).
        let rebuilt = self
            .snapshot(
                &id,
                &SnapshotOptions {
                    message: Some("Unarchived".into()),
                    ..Default::default()
                },
                &Job::default(),
            )
            .and_then(|_| self.project_by_id(&id));
        rebuilt.map_err(|e| {
            forget_records();
            self.undo_restored_row(&target, &id);
            undo_all(e)
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
                    tx.execute("DELETE FROM projects WHERE id = ?1", [id])?;
                }
                Target::Existing(p) => {
                    tx.execute(
                        "UPDATE projects SET status = 'archived', path = ?1, head = ?2, stored_size = ?3, chunk_stored = 0, updated_at = ?4 WHERE id = ?5",
                        params![p.path.to_string_lossy(), p.head, p.stored_size as i64, p.updated_at, id],
                    )?;
                    crate::filelist::remove(&tx, id)?;
                }
            }
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = res {
            tracing::warn!(project = id, error = %e, "could not take back a failed import's catalog row");
        }
    }

    /// Puts back into the chunk store every chunk the history needs and the store lacks, from
    /// `files/` (latest version) or `large-files/` (earlier ones).
    fn restore_chunks(&self, repo_path: &Path, head: Oid, top: &Path, job: &Job) -> Result<()> {
        let repo = history::open(repo_path)?;
        let pointers = history_pointers(&repo, head, None)?;
        let mut missing: Vec<(Pointer, Option<String>)> = Vec::new();
        for (ptr, latest) in pointers {
            let mut whole = true;
            for c in &ptr.chunks {
                if !self.chunks().contains(&c.id)? {
                    whole = false;
                    break;
                }
            }
            if !whole {
                missing.push((ptr, latest));
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let _chunks_lock = self.lock_chunks(false)?;
        let mut writer = self.chunks().writer();
        for (ptr, latest) in &missing {
            job.check()?;
            let by_hash = top.join("large-files").join(hex::encode(ptr.hash));
            let source = if by_hash.is_file() {
                by_hash
            } else if let Some(rel) = latest {
                top.join("files").join(rel)
            } else {
                return Err(Error::corrupt(format!(
                    "the archive lacks the content of a large file of an earlier version (BLAKE3 {})",
                    hex::encode(ptr.hash)
                )));
            };
            let mut f = File::open(&source).map_err(|e| Error::io("read", &source, e))?;
            let stored = writer.store(&mut f as &mut dyn Read, &mut |_| {}, job.flag())?;
            if stored.hash != ptr.hash || stored.chunks != ptr.chunks {
                return Err(Error::corrupt(format!(
                    "{} does not match the version history (its content changed after the last version was taken)",
                    source.display()
                )));
            }
        }
        writer.finish()?;
        Ok(())
    }
}

/// What writing an archive produced.
struct Written {
    size: u64,
    content: u64,
    sha256: String,
    files: u64,
}

/// A header for a regular file Kura writes itself.
fn plain_header(size: u64, mode: u32, mtime: i64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(mtime.max(0) as u64);
    h
}
