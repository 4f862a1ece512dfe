//! The archiver: a project packed into one standard `tar.zst` under `archives/YYYY/MM/`, and
//! back.
//!
//! An archive opens with plain tools: `tar --zstd -xf` unpacks it, and git reads the history
//! bundle once the files' contents are in its object store (the bundle leaves out those of the
//! latest version, which `files/` carries: [`thin`]). Inside, everything sits under one folder
//! named after the project:
//!
//! ```text
//! <name>/metadata.json            the catalog row: id, name, kind, tags, metadata, times, sizes
//! <name>/history.bundle           every version, as a git bundle (v2), less the latest
//!                                 version's file contents in git's layer (`kura-archive v2`; the
//!                                 history is repacked first when the versions before hold more
//!                                 than a quarter of it, unless a repack did it already)
//! <name>/files/...                the working folder exactly as it was (ignored files and a
//!                                 `.git` folder included), so deleting the folder loses nothing
//! <name>/large-files/<blake3>     content of large files of earlier versions (see below)
//! <name>/history-blobs/<id>       the latest version's content of a file that changed while the
//!                                 archive read it (see [`thin`])
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
//! deflated it already; see [`crate::archive::rawframe`]), written by one thread while another
//! compresses the rest (multithreaded zstd, with a checksum) into the frames after it. A
//! cancelled or failed archive leaves no file and the project untouched. The SHA-256 of the file is recorded in the catalog
//! (`sha256sum` checks it without Kura) and checked again by unarchive and verify.
//!
//! Unpacking an archive safely, whatever it holds, is [`unpack`]'s; importing one made
//! elsewhere is [`import`]'s; a version packed as a `tar.zst` for someone else is [`export`]'s;
//! which archives have a verified copy at a backup target (the cold tier) is [`cold`]'s.
//!
//! [`Vault::archive_project`] runs these stages, each in its own file:
//! 1. [`prepare`]: the project checked (active, its folder present), its last version taken (the
//!    folder listed for the archive meanwhile: [`folder`]) and its history repacked; the file's
//!    place and `metadata.json`;
//! 2. [`write`](mod@write): the history bundle planned ([`bundle`]), or the plan made to decide
//!    whether to repack taken as it is; the two parts of the file written at once ([`frames`]:
//!    the first frame by one thread, the compressed [`tail`] with the large files of earlier
//!    versions ([`large_files`]) by the other, through the readers and writers of [`streams`]);
//!    then fsync, rename, fsync the folder;
//! 3. [`record`]: the catalog row, the project marked archived; then its folder and history are
//!    freed.
//!
//! [`Vault::unarchive_project`] checks the checksum and unpacks ([`unarchive`]), then makes the
//! project again ([`restore`], which import shares); [`VaultReader::verify_archive`] is
//! [`verify`]'s. The tunables are in [`tunables`].

mod bundle;
pub(crate) mod cold;
pub(crate) mod export;
mod folder;
mod frames;
pub(crate) mod import;
mod large_files;
mod prepare;
mod rawframe;
mod record;
mod restore;
mod streams;
mod tail;
mod thin;
mod tunables;
mod unarchive;
pub(crate) mod unpack;
mod verify;
mod write;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub(crate) use self::restore::{kura_archive_top, read_metadata, Target};
pub use self::verify::sha256_of;
use crate::catalog::{archives, projects};
use crate::error::{Error, ErrorKind, Result};
use crate::fs::durable;
use crate::fs::staging::Staging;
use crate::history;
use crate::job::Job;
use crate::model::{ArchiveInfo, Project};
use crate::vault::Vault;
use crate::vault::VaultReader;
use unpack::Format;

/// What `metadata.json` says it is when the bundle holds the whole history (archives made
/// before [`thin`], or of a project whose file list could not be read).
const FORMAT: &str = "kura-archive v1";
/// The first line of a git bundle, version 2.
const BUNDLE_HEADER: &[u8] = b"# v2 git bundle\n";
/// What the tail of an archive fails with when the history bundle's thread failed.
const BUNDLE_MISSING: &str = "the history bundle was not written";

/// What checking an archive found.
#[derive(Clone, Debug, Serialize)]
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

impl Vault {
    /// Archives a project now: takes a version if the folder changed ("before archive"), writes
    /// `archives/YYYY/MM/<name>-<date>-<id>.tar.zst`, records its checksum, marks the project
    /// archived and frees its working folder and history (moved aside at once, removed in the
    /// background: see [`Vault::purge_discarded`]). A linked project's folder belongs to the user
    /// and is left where it is (the archive holds a copy).
    pub fn archive_project(&self, reference: &str, job: &Job) -> Result<ArchiveInfo> {
        let p = self.project_to_archive(reference)?;
        let started = std::time::Instant::now();
        // The version and the repack come before the project's lock is held for the rest.
        // Another archive, or a deletion, may take the project meanwhile and move its history
        // away under them: that is then the answer, not what it did to this one's repack.
        let carried = match self.version_before_archive(&p, job) {
            Ok(c) => c,
            Err(e) => {
                self.project_to_archive(&p.id)?;
                return Err(e);
            }
        };
        tracing::debug!(elapsed = ?started.elapsed(), "archive: history repacked");
        let _lock = self.lock_project_waiting(&p.id, job)?;
        // Still to archive, now that nothing else can change it.
        let p = self.project_to_archive(&p.id)?;
        // Files saved since the version above go into the archive too, and none can land from
        // here until the folder is freed.
        let _folder = self.lock_folder(&p.id, true)?;
        // The folder is listed for the archive while the version is taken: no file can land in
        // it now, and the archive checks each file it reads against the version.
        let listing = folder::Listing::start(p.path.clone());
        self.last_version_before_archive(&p, job)?;
        let repo_path = self.history_path(&p.id);
        let repo = history::open(&repo_path)?;
        let head = history::head(&repo)?
            .ok_or_else(|| Error::internal("a project without versions cannot be archived"))?;
        let now = self.now();
        let place = self.archive_place(&p, now)?;
        let versions = bundle::count_versions(&repo, head)?;
        let meta = ArchiveMetadata::of(&p, head, now, versions);
        tracing::debug!(elapsed = ?started.elapsed(), "archive: version taken");
        // What `files/` carries, if it was found before and no version came since.
        let carried = carried.filter(|c| c.head == head);
        let latest = write::Latest {
            repo: &repo,
            head,
            carried,
            listing,
        };
        let written = self.write_archive(&p, latest, &meta, &place.dest, job)?;
        tracing::debug!(elapsed = ?started.elapsed(), size = written.size, "archive: written");
        // The file is durable; now the catalog, then free the folder and history.
        self.record_archive(&p, &place, &written, versions, now)?;
        tracing::debug!(elapsed = ?started.elapsed(), "archive: catalog updated");
        drop(repo);
        self.discard(&repo_path)?;
        if !p.linked && p.path.starts_with(self.projects_dir()) {
            self.discard(&p.path)?;
        }
        self.archive_info(&place.id)
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
        let ids = projects::ids_idle_since(&self.db(), cutoff)?;
        ids.iter()
            .map(|id| self.project_by_id(id))
            .filter(|p| p.as_ref().map_or(true, |p| p.path.is_dir()))
            .collect()
    }

    /// Every archive, newest first.
    pub fn list_archives(&self) -> Result<Vec<ArchiveInfo>> {
        archives::all(&self.db(), self.root())
    }

    fn archive_info(&self, id: &str) -> Result<ArchiveInfo> {
        archives::by_id(&self.db(), self.root(), id)?
            .ok_or_else(|| Error::not_found(format!("there is no archive {id}")))
    }

    /// Finds an archive by id (or a prefix of at least 4 digits), else by project (its latest
    /// archive).
    pub fn find_archive(&self, reference: &str) -> Result<ArchiveInfo> {
        let r = reference.trim();
        if r.len() >= 4 && r.chars().all(|c| c.is_ascii_hexdigit()) {
            let ids = archives::ids_starting(&self.db(), &r.to_ascii_lowercase())?;
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
        // Bound first: the catalog's lock is free again before `archive_info` takes it.
        let latest = archives::latest_of(&self.db(), &p.id)?;
        match latest {
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
        if !info.present {
            let problems = vec![format!("the file {} is missing", info.path.display())];
            return Ok(ArchiveVerifyReport {
                archive: info,
                sha256: String::new(),
                entries: 0,
                problems,
            });
        }
        let sha256 = sha256_of(&info.path, job)?;
        let mut problems: Vec<String> = verify::checksum_problem(&info, &sha256)
            .into_iter()
            .collect();
        let content = verify::check_content(&info.path, job)?;
        problems.extend(content.problems);
        Ok(ArchiveVerifyReport {
            archive: info,
            sha256,
            entries: content.entries,
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
        let existing = self.archived_project_of(&info)?;
        unarchive::check_checksum(&info, job)?;
        let staging = self.staging_dir("unarchive")?;
        let p = self.restore_archive(&info, existing, &staging.content(), job)?;
        archives::delete(&self.db(), &info.id)?;
        durable::remove_file(&info.path)?;
        Ok(p)
    }

    /// A fresh folder beside the managed projects, removed on drop.
    pub(crate) fn staging_dir(&self, what: &str) -> Result<Staging> {
        Staging::new(&self.projects_dir(), what)
    }
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
