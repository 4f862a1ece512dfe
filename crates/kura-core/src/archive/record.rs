//! The catalog's side of a new archive: its row, and the project marked archived.

use super::prepare::Place;
use super::write::Written;
use crate::catalog::{archives, filelist, projects};
use crate::error::Result;
use crate::model::Project;
use crate::vault::Vault;

impl Vault {
    /// Records the archive at `place` and marks `p` archived, in one transaction.
    pub(super) fn record_archive(
        &self,
        p: &Project,
        place: &Place,
        written: &Written,
        versions: u64,
        now: i64,
    ) -> Result<()> {
        let mut db = self.db();
        let tx = db.transaction()?;
        let path = format!("{}/{}", place.dir_rel, place.file_name);
        let row = archives::NewRow {
            id: &place.id,
            project_id: &p.id,
            project_name: &p.name,
            workspace: &p.workspace,
            path: &path,
            size: written.size,
            content_size: written.content,
            file_count: written.files,
            versions,
            sha256: &written.sha256,
            created_at: now,
        };
        archives::insert(&tx, &row)?;
        projects::mark_archived(&tx, &p.id, now, written.size)?;
        filelist::remove(&tx, &p.id)?;
        tx.commit()?;
        Ok(())
    }
}
