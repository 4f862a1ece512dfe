//! The catalog: one SQLite database (WAL) holding workspaces, projects, their labels and metadata,
//! and the current file list of every project (which doubles as the snapshot files cache).
//!
//! Everything in it except workspace/project metadata can be rebuilt from the histories.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
    CREATE TABLE workspaces (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created_at  INTEGER NOT NULL
    );
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE projects (
        id             TEXT PRIMARY KEY,
        workspace_id   INTEGER NOT NULL REFERENCES workspaces(id),
        name           TEXT NOT NULL COLLATE NOCASE,
        kind           TEXT NOT NULL,
        description    TEXT NOT NULL DEFAULT '',
        status         TEXT NOT NULL,
        linked         INTEGER NOT NULL,
        path           TEXT NOT NULL,
        git_remote     TEXT,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        last_opened_at INTEGER,
        deleted_at     INTEGER,
        logical_size   INTEGER NOT NULL DEFAULT 0,
        stored_size    INTEGER NOT NULL DEFAULT 0,
        chunk_stored   INTEGER NOT NULL DEFAULT 0,
        file_count     INTEGER NOT NULL DEFAULT 0,
        head           TEXT,
        UNIQUE (workspace_id, name)
    );
    CREATE INDEX projects_by_status ON projects(status);
    CREATE INDEX projects_by_updated ON projects(updated_at);
    CREATE INDEX projects_by_size ON projects(logical_size);
    -- languages, frameworks and tags
    CREATE TABLE labels (
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        kind       TEXT NOT NULL,
        value      TEXT NOT NULL COLLATE NOCASE,
        PRIMARY KEY (project_id, kind, value)
    ) WITHOUT ROWID;
    CREATE INDEX labels_by_value ON labels(kind, value);
    CREATE TABLE metadata (
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        key        TEXT NOT NULL,
        value      TEXT NOT NULL,
        PRIMARY KEY (project_id, key)
    ) WITHOUT ROWID;
    CREATE INDEX metadata_by_key ON metadata(key, value);
    -- the files of each project's latest version, with the stat data that lets the next
    -- snapshot skip unchanged files
    CREATE TABLE files (
        project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        path         TEXT NOT NULL,
        size         INTEGER NOT NULL,
        mtime_ns     INTEGER NOT NULL,
        ctime_ns     INTEGER NOT NULL,
        inode        INTEGER NOT NULL,
        mode         INTEGER NOT NULL,
        layer        TEXT NOT NULL,
        oid          BLOB NOT NULL,
        ext          TEXT NOT NULL,
        last_version TEXT NOT NULL,
        PRIMARY KEY (project_id, path)
    ) WITHOUT ROWID;
    CREATE INDEX files_by_size ON files(size);
    -- samples of total usage, for growth over time
    CREATE TABLE usage_samples (
        at       INTEGER NOT NULL,
        logical  INTEGER NOT NULL,
        stored   INTEGER NOT NULL
    );
    "#,
    // 2: files and bytes per project, layer and file type, rewritten with the project's files,
    // so that statistics never scan every file of the vault.
    r#"
    CREATE TABLE file_usage (
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        layer      TEXT NOT NULL,
        ext        TEXT NOT NULL,
        files      INTEGER NOT NULL,
        bytes      INTEGER NOT NULL,
        PRIMARY KEY (project_id, layer, ext)
    ) WITHOUT ROWID;
    INSERT INTO file_usage (project_id, layer, ext, files, bytes)
        SELECT project_id, layer, ext, count(*), sum(size) FROM files GROUP BY project_id, layer, ext;
    "#,
    // 3: archives and cleanup runs.
    r#"
    CREATE TABLE archives (
        id           TEXT PRIMARY KEY,
        project_id   TEXT NOT NULL,
        project_name TEXT NOT NULL,
        workspace    TEXT NOT NULL,
        path         TEXT NOT NULL,
        size         INTEGER NOT NULL,
        content_size INTEGER NOT NULL,
        file_count   INTEGER NOT NULL,
        versions     INTEGER NOT NULL,
        sha256       TEXT NOT NULL,
        created_at   INTEGER NOT NULL
    );
    CREATE INDEX archives_by_project ON archives(project_id);
    CREATE TABLE cleanup_runs (
        id          INTEGER PRIMARY KEY,
        started_at  INTEGER NOT NULL,
        finished_at INTEGER NOT NULL,
        dry_run     INTEGER NOT NULL,
        bytes_freed INTEGER NOT NULL,
        report      TEXT NOT NULL
    );
    "#,
];

/// Opens (creating if needed) the catalog at `path` and brings its schema up to date.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::corrupt(format!("cannot open the catalog {}: {e}", path.display())))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrate(&conn)?;
    // Keeps the query planner's statistics fresh (cheap; analyses only tables that need it).
    conn.execute_batch("PRAGMA optimize=0x10002")?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> Result<()> {
    let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > MIGRATIONS.len() {
        return Err(Error::conflict(format!(
            "the catalog was written by a newer Kura (schema {version}, this one knows {}); upgrade Kura",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        // BEGIN IMMEDIATE: two processes opening a fresh vault at once must not both migrate.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if current > i {
            conn.execute_batch("COMMIT")?;
            continue;
        }
        let res = conn
            .execute_batch(sql)
            .and_then(|_| conn.pragma_update(None, "user_version", i + 1));
        match res {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e.into());
            }
        }
    }
    Ok(())
}

/// Turns a uniqueness violation into `already_exists` with `message`; other errors pass through.
pub(crate) fn unique(
    res: rusqlite::Result<usize>,
    message: impl FnOnce() -> String,
) -> Result<usize> {
    match res {
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(Error::new(
                crate::error::ErrorKind::AlreadyExists,
                message(),
            ))
        }
        other => Ok(other?),
    }
}

/// Runs SQLite's own integrity check; returns the problems it reports (empty when fine).
pub(crate) fn integrity_problems(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        let row = row?;
        if row != "ok" {
            out.push(row);
        }
    }
    let mut fk = conn.prepare("PRAGMA foreign_key_check")?;
    let rows = fk.query_map([], |r| r.get::<_, String>(0))?;
    for row in rows {
        out.push(format!("row in table {} refers to a missing parent", row?));
    }
    Ok(out)
}
