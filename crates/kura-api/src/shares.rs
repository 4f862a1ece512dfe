//! Shared links (see `kura_backup`'s shares): made, listed and revoked through every door, each
//! change announced as a `share.changed` event.

use kura_backup::{Share, ShareRequest};
use kura_core::Job;

use crate::error::{ApiResult, SubjectKind};
use crate::projects::project_error;
use crate::Api;

impl Api {
    fn share_changed(&self, share: &Share) {
        self.events.emit(
            "share.changed",
            Some(&share.project_id),
            serde_json::json!({
                "id": share.id,
                "project_id": share.project_id,
                "state": share.state,
            }),
        );
    }

    /// Packs a version of a project, uploads it to an S3 target and returns the share with its
    /// download link (see [`kura_backup::Backups::share`]).
    pub fn share_project(&self, req: &ShareRequest, job: &Job) -> ApiResult<Share> {
        // An unknown project is named as the subject, before the target is looked at.
        self.vault
            .project(&req.project)
            .map_err(|e| project_error(e, &req.project))?;
        let share = self.backups().share(req, job).map_err(|e| {
            let err = crate::ApiError::from(e);
            if err.subject.is_some() {
                err
            } else {
                err.about(SubjectKind::Target, &req.target)
            }
        })?;
        self.share_changed(&share);
        Ok(share)
    }

    /// Every share, newest first; only those of one project when `project` (a name or an id)
    /// is given.
    pub fn shares(&self, project: Option<&str>) -> ApiResult<Vec<Share>> {
        self.backups().shares(project).map_err(|e| match project {
            Some(p) => project_error(e, p),
            None => e.into(),
        })
    }

    /// Revokes a share: its copy at the target is deleted, so the link stops working.
    pub fn revoke_share(&self, id: &str) -> ApiResult<Share> {
        let share = self.backups().revoke_share(id)?;
        self.share_changed(&share);
        Ok(share)
    }
}
