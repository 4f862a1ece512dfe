//! What comes before an archive is written: the checks that the project can be archived, its
//! last version, where the file goes and what `metadata.json` says.

use std::path::PathBuf;

use git2::Oid;

use super::thin::Carried;
use super::{new_archive_id, ArchiveMetadata, FORMAT};
use crate::error::{Error, ErrorKind, Result};
use crate::fs::durable;
use crate::history::snapshot::{SnapshotOptions, SnapshotReport};
use crate::history::Trigger;
use crate::job::Job;
use crate::model::{Project, ProjectStatus};
use crate::vault::Vault;

/// Where a new archive goes.
pub(super) struct Place {
    /// The archive's id.
    pub(super) id: String,
    /// Its folder, relative to the vault (`archives/YYYY/MM`).
    pub(super) dir_rel: String,
    /// Its file's name in that folder.
    pub(super) file_name: String,
    /// Its file.
    pub(super) dest: PathBuf,
}

impl Vault {
    /// The project `reference` names, if it can be archived: active, its folder present.
    pub(super) fn project_to_archive(&self, reference: &str) -> Result<Project> {
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
        Ok(p)
    }

    /// Takes a version if the folder changed ("before archive"), refused when a file could not
    /// be taken in, and repacks the history; neither when the archive's `files/` carries most
    /// of the history already.
    pub(super) fn version_before_archive(&self, p: &Project, job: &Job) -> Result<Option<Carried>> {
        // The bundle leaves out what `files/` carries; when that is most of the history, what
        // is left goes in as it is, and the version the archive takes holding the project
        // (`last_version_before_archive`) is the only one it needs.
        if let Ok(Some(carried)) = self.history_mostly_carried(p) {
            return Ok(Some(carried));
        }
        let snap = {
            // A snapshot or restore under way is waited for, not answered `busy`.
            let _lock = self.lock_project_waiting(&p.id, job)?;
            // Still to archive: another archive may have taken it meanwhile.
            let p = self.project_to_archive(&p.id)?;
            self.snapshot_held(p, &before_archive(), job)?
        };
        refuse_skipped(p, &snap)?;
        // The history goes in with deltas: rewritten now, unless a repack did it already.
        match self.repack_history(p, job) {
            Ok(_) => {}
            // Another repack of it is under way: the archive joins the packs as they are.
            Err(e) if e.kind() == ErrorKind::Busy => {}
            Err(e) => return Err(e),
        }
        Ok(None)
    }

    /// Takes a version of what changed since [`Self::version_before_archive`] (nothing, as a
    /// rule: a look at the folder's file list), with the project's lock and its folder held by
    /// the caller, so the archive holds every change the folder it frees had.
    pub(super) fn last_version_before_archive(&self, p: &Project, job: &Job) -> Result<()> {
        let snap = self.snapshot_held(p.clone(), &before_archive(), job)?;
        refuse_skipped(p, &snap)
    }

    /// A new archive's place, `archives/YYYY/MM/<name>-<date>-<id>.tar.zst`, its folder made.
    pub(super) fn archive_place(&self, p: &Project, now: i64) -> Result<Place> {
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
        Ok(Place {
            id,
            dir_rel,
            file_name,
            dest,
        })
    }
}

impl ArchiveMetadata {
    /// `metadata.json` of `p` archived at `now` with its history at `head`.
    pub(super) fn of(p: &Project, head: Oid, now: i64, versions: u64) -> ArchiveMetadata {
        ArchiveMetadata {
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
        }
    }
}

/// `(year, month, day)` of a Unix time, UTC.
fn ymd(ts: i64) -> (i32, u8, u8) {
    let t =
        time::OffsetDateTime::from_unix_timestamp(ts).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    (t.year(), t.month() as u8, t.day())
}

fn before_archive() -> SnapshotOptions {
    SnapshotOptions {
        message: Some("Before archive".into()),
        trigger: Some(Trigger::BeforeArchive),
        ..Default::default()
    }
}

/// Refuses to archive a folder with files no version could take in: freeing it would lose them.
fn refuse_skipped(p: &Project, snap: &SnapshotReport) -> Result<()> {
    if snap.skipped.is_empty() {
        return Ok(());
    }
    Err(Error::new(
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
    ))
}
