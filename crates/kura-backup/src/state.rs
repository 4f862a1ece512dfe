//! The backup crate's own state in the vault, `<vault>/backup/state.db` (SQLite, WAL): run
//! records, the health of each target, and per target the caches that make a re-run cheap
//! (which files were unchanged, which blobs the target already holds). Only the run records and
//! health are not derivable: the caches are rebuilt from the target when lost.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use kura_core::{Error, ErrorKind, Result};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS runs (
    id          TEXT PRIMARY KEY,
    target      TEXT NOT NULL,
    started     INTEGER NOT NULL,
    finished    INTEGER,
    result      TEXT NOT NULL,
    backup_id   TEXT,
    files       INTEGER NOT NULL DEFAULT 0,
    bytes_read  INTEGER NOT NULL DEFAULT 0,
    bytes_sent  INTEGER NOT NULL DEFAULT 0,
    new_blobs   INTEGER NOT NULL DEFAULT 0,
    error_code  TEXT,
    error       TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_target ON runs(target, started);
CREATE TABLE IF NOT EXISTS health (
    target               TEXT PRIMARY KEY,
    state                TEXT NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    last_error           TEXT,
    last_success         INTEGER,
    last_attempt         INTEGER,
    unhealthy_until      INTEGER
);
CREATE TABLE IF NOT EXISTS shares (
    id TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    object TEXT NOT NULL,
    project_id TEXT NOT NULL,
    project_name TEXT NOT NULL,
    version TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size INTEGER NOT NULL,
    url TEXT NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    revoked INTEGER,
    target_encrypted INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS file_cache (
    target   TEXT NOT NULL,
    path     TEXT NOT NULL,
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    inode    INTEGER NOT NULL,
    chunks   BLOB NOT NULL,
    PRIMARY KEY (target, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blob_cache (
    target TEXT NOT NULL,
    id     BLOB NOT NULL,
    pack   TEXT NOT NULL,
    PRIMARY KEY (target, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blob_cache_by_pack ON blob_cache(target, pack);
"#;

/// How many runs of each target are remembered.
pub const RUNS_KEPT: u32 = 2_000;

/// Consecutive failed runs after which a target is marked unhealthy.
pub const FAILURES_BEFORE_UNHEALTHY: u32 = 3;
/// How long an unhealthy target is skipped before it is tried again.
pub const UNHEALTHY_COOL_DOWN_SECS: i64 = 3600;

/// What happened to a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunResult {
    /// Still going (or the process died; see `interrupted`).
    Running,
    /// The backup was written.
    Ok,
    /// It failed; `error` says why.
    Failed,
    /// The target could not be reached; the run waits for it (not a failure of the data).
    Unavailable,
    /// Cancelled by the user.
    Cancelled,
    /// The process stopped before the run finished (killed, crashed, powered off).
    Interrupted,
}

impl RunResult {
    fn as_str(self) -> &'static str {
        match self {
            RunResult::Running => "running",
            RunResult::Ok => "ok",
            RunResult::Failed => "failed",
            RunResult::Unavailable => "unavailable",
            RunResult::Cancelled => "cancelled",
            RunResult::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> RunResult {
        match s {
            "running" => RunResult::Running,
            "ok" => RunResult::Ok,
            "unavailable" => RunResult::Unavailable,
            "cancelled" => RunResult::Cancelled,
            "interrupted" => RunResult::Interrupted,
            _ => RunResult::Failed,
        }
    }
}

/// What a run did, counted as it goes (the run and the outbox add to it); its record's numbers.
#[derive(Default)]
pub(crate) struct Counters {
    pub files: u64,
    pub bytes: u64,
    pub bytes_read: u64,
    pub bytes_sent: u64,
    pub new_blobs: u64,
}

/// One backup run, for the timeline.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RunRecord {
    /// The run's id.
    pub id: String,
    /// The target's name.
    pub target: String,
    /// When it started (seconds since the epoch).
    pub started: i64,
    /// When it ended.
    pub finished: Option<i64>,
    /// How it ended.
    pub result: RunResult,
    /// The backup it wrote.
    pub backup_id: Option<String>,
    /// Files in the backup.
    pub files: u64,
    /// Bytes read from disk (unchanged files are not read again).
    pub bytes_read: u64,
    /// Bytes uploaded (packs, indexes, the manifest).
    pub bytes_sent: u64,
    /// Blobs the target did not hold before.
    pub new_blobs: u64,
    /// The error's code (`unavailable`, `disk_full`, ...), when it failed.
    pub error_code: Option<String>,
    /// The error's message.
    pub error: Option<String>,
}

/// How a target is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// The last run succeeded (or none ran yet).
    Ok,
    /// The target could not be reached at the last attempt (a drive not connected, a server down).
    Unavailable,
    /// The last run failed.
    Failing,
    /// Several runs in a row failed: runs are skipped until `unhealthy_until` or a successful test.
    Unhealthy,
}

/// The health of one target.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct TargetHealth {
    /// The target's name.
    pub target: String,
    /// Its state.
    pub state: HealthState,
    /// Failed runs in a row.
    pub consecutive_failures: u32,
    /// The last error's message.
    pub last_error: Option<String>,
    /// When the last successful run ended.
    pub last_success: Option<i64>,
    /// When the last run was attempted.
    pub last_attempt: Option<i64>,
    /// Until when runs are skipped (unhealthy only).
    pub unhealthy_until: Option<i64>,
}

pub(crate) struct State {
    conn: Connection,
}

/// A file's stat data and chunks, from the last successful run.
#[derive(Debug)]
pub(crate) struct CachedFile {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub inode: u64,
    pub chunks: Vec<u8>,
}

impl State {
    pub fn open(vault_root: &Path) -> Result<State> {
        let dir = vault_root.join("backup");
        std::fs::create_dir_all(&dir).map_err(|e| Error::from_io("create folder", &dir, e))?;
        let conn = Connection::open(dir.join("state.db"))?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(State { conn })
    }

    /// The database connection (for the other modules' tables).
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn start_run(&self, id: &str, target: &str, started: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO runs (id, target, started, result) VALUES (?1, ?2, ?3, 'running')",
            (id, target, started),
        )?;
        Ok(())
    }

    /// Marks runs of `target` still "running" as interrupted (called while holding the target's
    /// run lock, so none of them is alive).
    pub fn close_interrupted(&self, target: &str, now: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET result = 'interrupted', finished = ?2,
                 error = 'the process stopped before the run finished; the next run resumes it'
             WHERE target = ?1 AND result = 'running'",
            (target, now),
        )?;
        Ok(())
    }

    /// Records how a run ended, and forgets the runs of its target older than the newest
    /// [`RUNS_KEPT`] (the latest successful one stays): a target backed up after every change
    /// runs hundreds of times a day.
    pub fn finish_run(&self, rec: &RunRecord) -> Result<()> {
        self.record_finish(rec)?;
        self.conn.execute(
            "DELETE FROM runs WHERE target = ?1 AND result != 'running'
                 AND started < (SELECT started FROM runs WHERE target = ?1
                                ORDER BY started DESC LIMIT 1 OFFSET ?2)
                 AND id != coalesce((SELECT id FROM runs WHERE target = ?1 AND result = 'ok'
                                     ORDER BY started DESC, rowid DESC LIMIT 1), '')",
            (&rec.target, RUNS_KEPT - 1),
        )?;
        Ok(())
    }

    fn record_finish(&self, rec: &RunRecord) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET finished = ?2, result = ?3, backup_id = ?4, files = ?5, bytes_read = ?6,
                 bytes_sent = ?7, new_blobs = ?8, error_code = ?9, error = ?10 WHERE id = ?1",
            rusqlite::params![
                rec.id,
                rec.finished,
                rec.result.as_str(),
                rec.backup_id,
                rec.files as i64,
                rec.bytes_read as i64,
                rec.bytes_sent as i64,
                rec.new_blobs as i64,
                rec.error_code,
                rec.error
            ],
        )?;
        Ok(())
    }

    pub fn runs(&self, target: Option<&str>, limit: u32) -> Result<Vec<RunRecord>> {
        self.select_runs(target, None, limit)
    }

    /// The latest run of `target` that ended with `result`.
    pub fn last_run_with(&self, target: &str, result: RunResult) -> Result<Option<RunRecord>> {
        Ok(self.select_runs(Some(target), Some(result), 1)?.pop())
    }

    fn select_runs(
        &self,
        target: Option<&str>,
        result: Option<RunResult>,
        limit: u32,
    ) -> Result<Vec<RunRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, target, started, finished, result, backup_id, files, bytes_read, bytes_sent,
                    new_blobs, error_code, error
             FROM runs WHERE (?1 IS NULL OR target = ?1) AND (?2 IS NULL OR result = ?2)
             ORDER BY started DESC, rowid DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map((target, result.map(RunResult::as_str), limit), |r| {
            Ok(RunRecord {
                id: r.get(0)?,
                target: r.get(1)?,
                started: r.get(2)?,
                finished: r.get(3)?,
                result: RunResult::parse(&r.get::<_, String>(4)?),
                backup_id: r.get(5)?,
                files: r.get::<_, i64>(6)? as u64,
                bytes_read: r.get::<_, i64>(7)? as u64,
                bytes_sent: r.get::<_, i64>(8)? as u64,
                new_blobs: r.get::<_, i64>(9)? as u64,
                error_code: r.get(10)?,
                error: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn health(&self, target: &str) -> Result<TargetHealth> {
        let row = self
            .conn
            .query_row(
                "SELECT state, consecutive_failures, last_error, last_success, last_attempt, unhealthy_until
                 FROM health WHERE target = ?1",
                [target],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, u32>(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()?;
        Ok(match row {
            None => TargetHealth {
                target: target.into(),
                state: HealthState::Ok,
                consecutive_failures: 0,
                last_error: None,
                last_success: None,
                last_attempt: None,
                unhealthy_until: None,
            },
            Some((state, failures, last_error, last_success, last_attempt, until)) => {
                TargetHealth {
                    target: target.into(),
                    state: match state.as_str() {
                        "unavailable" => HealthState::Unavailable,
                        "failing" => HealthState::Failing,
                        "unhealthy" => HealthState::Unhealthy,
                        _ => HealthState::Ok,
                    },
                    consecutive_failures: failures,
                    last_error,
                    last_success,
                    last_attempt,
                    unhealthy_until: until,
                }
            }
        })
    }

    /// Records the outcome of a run (or a test) in the target's health: a success resets it; an
    /// unavailable target waits; failures count, and enough of them in a row open the breaker.
    pub fn record_outcome(
        &self,
        target: &str,
        now: i64,
        outcome: Option<&Error>,
    ) -> Result<TargetHealth> {
        let mut h = self.health(target)?;
        h.last_attempt = Some(now);
        match outcome {
            None => {
                h.state = HealthState::Ok;
                h.consecutive_failures = 0;
                h.last_error = None;
                h.last_success = Some(now);
                h.unhealthy_until = None;
            }
            Some(e) if e.kind() == ErrorKind::Cancelled => return Ok(h),
            Some(e) if e.kind() == ErrorKind::Unavailable && h.state != HealthState::Unhealthy => {
                h.state = HealthState::Unavailable;
                h.last_error = Some(e.message().to_string());
            }
            Some(e) => {
                h.consecutive_failures += 1;
                h.last_error = Some(e.message().to_string());
                if h.consecutive_failures >= FAILURES_BEFORE_UNHEALTHY {
                    h.state = HealthState::Unhealthy;
                    h.unhealthy_until = Some(now + UNHEALTHY_COOL_DOWN_SECS);
                } else {
                    h.state = HealthState::Failing;
                }
            }
        }
        let state = match h.state {
            HealthState::Ok => "ok",
            HealthState::Unavailable => "unavailable",
            HealthState::Failing => "failing",
            HealthState::Unhealthy => "unhealthy",
        };
        self.conn.execute(
            "INSERT OR REPLACE INTO health (target, state, consecutive_failures, last_error, last_success, last_attempt, unhealthy_until)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![target, state, h.consecutive_failures, h.last_error, h.last_success, h.last_attempt, h.unhealthy_until],
        )?;
        Ok(h)
    }

    pub fn file_cache(&self, target: &str) -> Result<HashMap<String, CachedFile>> {
        let mut stmt = self.conn.prepare(
            "SELECT path, size, mtime_ns, ctime_ns, inode, chunks FROM file_cache WHERE target = ?1",
        )?;
        let rows = stmt.query_map([target], |r| {
            Ok((
                r.get::<_, String>(0)?,
                CachedFile {
                    size: r.get::<_, i64>(1)? as u64,
                    mtime_ns: r.get(2)?,
                    ctime_ns: r.get(3)?,
                    inode: r.get::<_, i64>(4)? as u64,
                    chunks: r.get(5)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Updates the file cache of `target`: the entries of `gone` are removed, those of `put`
    /// written.
    pub fn save_file_cache(
        &mut self,
        target: &str,
        gone: &[String],
        put: &[(String, CachedFile)],
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut del = tx.prepare("DELETE FROM file_cache WHERE target = ?1 AND path = ?2")?;
            for path in gone {
                del.execute((target, path))?;
            }
            let mut ins = tx.prepare(
                "INSERT OR REPLACE INTO file_cache (target, path, size, mtime_ns, ctime_ns, inode, chunks)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for (path, f) in put {
                ins.execute(rusqlite::params![
                    target,
                    path,
                    f.size as i64,
                    f.mtime_ns,
                    f.ctime_ns,
                    f.inode as i64,
                    f.chunks
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The packs the blob cache knows for `target`.
    pub fn cached_packs(&self, target: &str) -> Result<HashSet<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT pack FROM blob_cache WHERE target = ?1")?;
        let rows = stmt.query_map([target], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn cached_blobs(&self, target: &str) -> Result<HashSet<[u8; 32]>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM blob_cache WHERE target = ?1")?;
        let rows = stmt.query_map([target], |r| r.get::<_, [u8; 32]>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn add_pack(
        &mut self,
        target: &str,
        pack: &str,
        ids: impl Iterator<Item = [u8; 32]>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut put = tx.prepare(
                "INSERT OR IGNORE INTO blob_cache (target, id, pack) VALUES (?1, ?2, ?3)",
            )?;
            for id in ids {
                put.execute(rusqlite::params![target, id, pack])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn drop_packs(&mut self, target: &str, packs: &[String]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for p in packs {
            tx.execute(
                "DELETE FROM blob_cache WHERE target = ?1 AND pack = ?2",
                (target, p),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets every cache of `target` (removed, or its repository replaced).
    pub fn forget_target(&mut self, target: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM file_cache WHERE target = ?1", [target])?;
        tx.execute("DELETE FROM blob_cache WHERE target = ?1", [target])?;
        tx.execute("DELETE FROM health WHERE target = ?1", [target])?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finish(state: &State, n: i64, result: RunResult) {
        let id = format!("run-{n}");
        state.start_run(&id, "nas", n).unwrap();
        state
            .finish_run(&RunRecord {
                id,
                target: "nas".into(),
                started: n,
                finished: Some(n),
                result,
                backup_id: None,
                files: 0,
                bytes_read: 0,
                bytes_sent: 0,
                new_blobs: 0,
                error_code: None,
                error: None,
            })
            .unwrap();
    }

    #[test]
    fn old_runs_are_forgotten_but_the_latest_success_stays() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).unwrap();
        finish(&state, 1, RunResult::Ok);
        let total = i64::from(RUNS_KEPT) + 50;
        for n in 2..=total {
            finish(&state, n, RunResult::Failed);
        }
        let runs = state.runs(Some("nas"), u32::MAX).unwrap();
        assert_eq!(
            runs.len(),
            RUNS_KEPT as usize + 1,
            "kept: the newest, plus the success"
        );
        assert_eq!(runs.first().unwrap().started, total);
        let ok = state.last_run_with("nas", RunResult::Ok).unwrap().unwrap();
        assert_eq!(ok.started, 1);
        finish(&state, total + 1, RunResult::Ok);
        let runs = state.runs(Some("nas"), u32::MAX).unwrap();
        assert_eq!(runs.len(), RUNS_KEPT as usize);
        assert!(
            runs.iter().all(|r| r.started != 1),
            "the older success is forgotten now"
        );
    }
}
