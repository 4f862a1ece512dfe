//! Unarchiving: the archived project an archive brings back, the archive's checksum, and the
//! archive unpacked within the project's quota and made a project again.

use std::path::Path;

use super::restore::{kura_archive_top, Target};
use super::unpack::{self, Format};
use super::verify::sha256_of;
use crate::error::{Error, ErrorKind, Result};
use crate::job::Job;
use crate::model::ArchiveInfo;
use crate::model::{Project, ProjectStatus};
use crate::vault::Vault;

impl Vault {
    /// The project an archive brings back into its own row: archived, or `None` when it was
    /// hard-deleted since (it is then recreated with the same id). Any other state is refused.
    pub(super) fn archived_project_of(&self, info: &ArchiveInfo) -> Result<Option<Project>> {
        match self.project_by_id(&info.project_id) {
            Ok(p) if p.status == ProjectStatus::Archived => Ok(Some(p)),
            Ok(p) => Err(Error::conflict(format!(
                "project '{}' is not archived (it is {}); extract the archive elsewhere with `kura extract`",
                p.name,
                p.status.as_str()
            ))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Unpacks the archive into `unpacked` (within the project's quota) and makes the project
    /// of it again.
    pub(super) fn restore_archive(
        &self,
        info: &ArchiveInfo,
        existing: Option<Project>,
        unpacked: &Path,
        job: &Job,
    ) -> Result<Project> {
        let budget = self.quota_budget(
            existing
                .as_ref()
                .map(|p| p.name.as_str())
                .unwrap_or(&info.project_name),
        )?;
        unpack::unpack(
            &info.path,
            Format::TarZst,
            unpacked,
            budget.as_ref(),
            &self.config().archive,
            job,
        )?;
        let top = kura_archive_top(unpacked)?.ok_or_else(|| {
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
    }
}

/// Refuses an archive whose SHA-256 is not the one recorded: the project stays archived.
pub(super) fn check_checksum(info: &ArchiveInfo, job: &Job) -> Result<()> {
    let sha = sha256_of(&info.path, job)?;
    if sha != info.sha256 {
        return Err(Error::corrupt(format!(
            "the archive {} is damaged: its SHA-256 is {sha}, {} was recorded; the project stays archived",
            info.path.display(),
            info.sha256
        )));
    }
    Ok(())
}
