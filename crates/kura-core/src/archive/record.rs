//! The catalog's side of a new archive: its row, and the project marked archived.

use rusqlite::params;

use super::prepare::Place;
use super::write::Written;
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
        tx.execute(
            "INSERT INTO archives (id, project_id, project_name, workspace, path, size, content_size, file_count, versions, sha256, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                place.id,
                p.id,
                p.name,
                p.workspace,
                format!("{}/{}", place.dir_rel, place.file_name),
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
        crate::catalog::filelist::remove(&tx, &p.id)?;
        tx.commit()?;
        Ok(())
    }
}
