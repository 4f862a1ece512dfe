//! Archives, imports of archives and the cleanup run, announced as `vault.changed`.

use std::path::Path;

use kura_core::{ArchiveInfo, CleanupOptions, CleanupReport, ImportArchiveOptions, Job, Project};

use crate::error::ApiResult;
use crate::projects::project_error;
use crate::Api;

impl Api {
    /// Archives a project to a `tar.zst` file and removes it from the working set.
    pub fn archive_project(&self, id: &str, job: &Job) -> ApiResult<ArchiveInfo> {
        let info = self
            .vault
            .archive_project(id, job)
            .map_err(|e| project_error(e, id))?;
        self.changed(Some(&info.project_id), "archived");
        self.purge_discarded_in_background();
        Ok(info)
    }

    /// Brings an archived project back.
    pub fn unarchive_project(&self, reference: &str, job: &Job) -> ApiResult<Project> {
        let p = self.vault.unarchive_project(reference, job)?;
        self.changed(Some(&p.id), "unarchived");
        Ok(p)
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
        self.changed(Some(&p.id), "created");
        Ok(p)
    }

    /// Runs the cleanup by hand; a dry run changes nothing and announces nothing.
    pub fn cleanup(&self, opts: &CleanupOptions, job: &Job) -> ApiResult<CleanupReport> {
        let r = self.vault.cleanup(opts, job)?;
        if !opts.dry_run {
            self.changed(None, "cleanup");
            self.purge_discarded_in_background();
        }
        Ok(r)
    }

    /// When the next scheduled cleanup is due, if one is scheduled.
    pub fn next_cleanup_at(&self) -> ApiResult<Option<i64>> {
        Ok(self.vault.next_cleanup_at(self.now())?)
    }
}
