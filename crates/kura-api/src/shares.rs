//! Shared links (see `kura_backup`'s shares): made, listed and revoked through every door, each
//! change announced as a `share.changed` event; the copies of expired ones deleted by the
//! scheduler.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kura_backup::{Share, ShareOptions};
use kura_core::Job;

use crate::backups::lock;
use crate::error::{ApiResult, SubjectKind};
use crate::projects::project_error;
use crate::Api;

/// The shares whose copies a prune deleted.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SharesPruned {
    /// Their ids.
    pub deleted: Vec<String>,
}

/// The agenda's key while the copies of expired shares are deleted.
const SHARES_KEY: &str = "shares:";
/// Between two looks for expired shares whose copies are still at their targets.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// After a target could not be reached, the next look waits this long.
const SWEEP_RETRY: Duration = Duration::from_secs(600);

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
    pub fn share_project(&self, project: &str, req: &ShareOptions, job: &Job) -> ApiResult<Share> {
        // An unknown project is named as the subject, before the target is looked at.
        self.vault
            .project(project)
            .map_err(|e| project_error(e, project))?;
        let share = self.backups().share(project, req, job).map_err(|e| {
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

    /// Deletes the copies of shares whose links have expired (see
    /// [`kura_backup::Backups::delete_expired_shares`]); returns their ids.
    pub fn delete_expired_shares(&self) -> ApiResult<Vec<String>> {
        let ids = self.backups().delete_expired_shares()?;
        if !ids.is_empty() {
            for share in self.backups().shares(None)? {
                if ids.contains(&share.id) {
                    self.share_changed(&share);
                }
            }
        }
        Ok(ids)
    }

    /// Deletes the copies of expired shares on a thread of its own, at most every
    /// [`SWEEP_EVERY`] (after a target could not be reached, [`SWEEP_RETRY`]). Returns the
    /// thread, if one started.
    pub(crate) fn expired_shares_in_background(self: &Arc<Self>) -> Option<JoinHandle<()>> {
        {
            let mut next = lock(&self.backups.share_sweep_at);
            if next.is_some_and(|t| Instant::now() < t) {
                return None;
            }
            *next = Some(Instant::now() + SWEEP_EVERY);
        }
        self.in_background(SHARES_KEY, "kura-shares", |api| {
            match api.delete_expired_shares() {
                Ok(ids) if !ids.is_empty() => {
                    tracing::info!("deleted the copies of {} expired shares", ids.len());
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("the copies of expired shares wait: {}", e.message);
                    *lock(&api.backups.share_sweep_at) = Some(Instant::now() + SWEEP_RETRY);
                }
            }
        })
    }
}
