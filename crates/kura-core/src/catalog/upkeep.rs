//! The catalog's records of upkeep: past cleanup runs, and when the catalog last changed.

use rusqlite::{params, Connection};

use crate::error::Result;

/// Records a cleanup run whose report is `report` (JSON); returns its id.
pub(crate) fn insert_cleanup_run(
    db: &Connection,
    started_at: i64,
    finished_at: i64,
    dry_run: bool,
    bytes_freed: u64,
    report: &str,
) -> Result<i64> {
    db.execute(
        "INSERT INTO cleanup_runs (started_at, finished_at, dry_run, bytes_freed, report) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![started_at, finished_at, dry_run, bytes_freed as i64, report],
    )?;
    Ok(db.last_insert_rowid())
}

/// The latest `limit` cleanup runs, newest first: their ids and reports (JSON).
pub(crate) fn cleanup_runs(db: &Connection, limit: u32) -> Result<Vec<(i64, String)>> {
    let mut stmt = db.prepare(
        "SELECT id, report FROM cleanup_runs ORDER BY started_at DESC, id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The first and last time the catalog's change log records at or after `since`.
pub(crate) fn changed_between(db: &Connection, since: i64) -> Result<(Option<i64>, Option<i64>)> {
    Ok(db
        .prepare_cached("SELECT min(at), max(at) FROM change_log WHERE at >= ?1")?
        .query_row([since], |r| Ok((r.get(0)?, r.get(1)?)))?)
}
