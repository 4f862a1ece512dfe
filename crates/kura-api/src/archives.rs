//! Archives, imports of archives and the cleanup run, announced as `vault.changed`.

use std::path::Path;

use kura_backup::ColdReport;
use kura_core::{
    ArchiveInfo, ArchiveVerifyReport, CleanupOptions, CleanupReport, ExtractReport,
    ImportArchiveOptions, Job, Project,
};

use crate::error::ApiResult;
use crate::projects::project_error;
use crate::{Api, ArchiveReference, VaultChange};

impl Api {
    /// Archives a project to a `tar.zst` file and removes it from the working set.
    pub fn archive_project(&self, id: &str, job: &Job) -> ApiResult<ArchiveInfo> {
        let info = self
            .vault
            .archive_project(id, job)
            .map_err(|e| project_error(e, id))?;
        self.changed(Some(&info.project_id), VaultChange::Archived);
        self.purge_discarded_in_background();
        Ok(info)
    }

    /// Archives every project idle for longer than `archive.archive_after_days` (`kura archive
    /// --idle`), announcing each.
    pub fn archive_idle_projects(&self, job: &Job) -> ApiResult<Vec<ArchiveInfo>> {
        let made = self.vault.archive_idle_projects(job)?;
        for info in &made {
            self.changed(Some(&info.project_id), VaultChange::Archived);
        }
        if !made.is_empty() {
            self.purge_discarded_in_background();
        }
        Ok(made)
    }

    /// Brings an archived project back (its archive fetched from the cold tier first when it
    /// is only there).
    pub fn unarchive_project(&self, reference: &ArchiveReference, job: &Job) -> ApiResult<Project> {
        let p = self.backups().unarchive_project(&reference.archive, job)?;
        self.changed(Some(&p.id), VaultChange::Unarchived);
        Ok(p)
    }

    /// Fetches the file of an archive kept only in the cold tier back to this disk; a path to
    /// an archive file, or an archive that is here, needs nothing.
    fn archive_here(&self, reference: &str, job: &Job) -> ApiResult<()> {
        match self.vault.find_archive(reference) {
            Ok(info) if !info.present => {
                self.backups().ensure_archive_local(&info.id, job)?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Unpacks an archive (an id, an archived project, or a path to an archive file) into a
    /// new folder, fetching it from the cold tier first when it is only there.
    pub fn extract_archive(
        &self,
        archive: &str,
        dest: &Path,
        job: &Job,
    ) -> ApiResult<ExtractReport> {
        self.archive_here(archive, job)?;
        Ok(self.vault.extract_archive(archive, dest, job)?)
    }

    /// Checks an archive, fetching it from the cold tier first when it is only there.
    pub fn verify_archive(&self, archive: &str, job: &Job) -> ApiResult<ArchiveVerifyReport> {
        self.archive_here(archive, job)?;
        Ok(self.vault.verify_archive(archive, job)?)
    }

    /// One pass of the cold tier now (see [`kura_backup::Backups::cold_pass`]).
    pub fn cold_pass(&self, job: &Job) -> ApiResult<ColdReport> {
        let report = self.backups().cold_pass(job)?;
        if !report.uploaded.is_empty() || !report.dropped.is_empty() {
            self.changed(None, VaultChange::ColdTier);
        }
        Ok(report)
    }

    /// Imports an archive file (tar, zip, a Kura archive) as a new project: a local path, or
    /// `s3://TARGET/path/to/file` for one kept at a backup target.
    pub fn import_archive(
        &self,
        path: &Path,
        opts: &ImportArchiveOptions,
        job: &Job,
    ) -> ApiResult<Project> {
        // An archive kept at a backup target: s3://TARGET/path/to/file.
        let remote = path
            .to_str()
            .filter(|p| kura_backup::remote_archive(p).is_some());
        let p = match remote {
            Some(url) => self.backups().import_archive(url, opts, job)?,
            None => self.vault.import_archive(path, opts, job)?,
        };
        self.changed(Some(&p.id), VaultChange::Created);
        Ok(p)
    }

    /// Runs the cleanup by hand; a dry run changes nothing and announces nothing.
    pub fn cleanup(&self, opts: &CleanupOptions, job: &Job) -> ApiResult<CleanupReport> {
        let r = self.vault.cleanup(opts, job)?;
        if !opts.dry_run {
            self.changed(None, VaultChange::Cleanup);
            self.purge_discarded_in_background();
        }
        Ok(r)
    }

    /// When the next scheduled cleanup is due, if one is scheduled.
    pub fn next_cleanup_at(&self) -> ApiResult<Option<i64>> {
        Ok(self.vault.next_cleanup_at(self.now())?)
    }
}
