//! The catalog: one SQLite database (WAL) holding workspaces, projects, their labels and metadata,
//! and the current file list of every project (which doubles as the snapshot files cache). All
//! of the engine's SQL is here, one file a table or two: `workspaces.rs`, `projects.rs`,
//! `filelist.rs` (the files cache and what statistics keep beside it), `archives.rs`, `usage.rs` (what statistics and quotas count), `upkeep.rs` (cleanup runs, the change log).
//!
//! Everything in it except workspace/project metadata can be rebuilt from the histories.

pub(crate) mod archives;
// `pub`: lib.rs re-exports it as `kura_core::filelist` (for examples/catalog_queries.rs).
pub mod filelist;
pub(crate) mod projects;
pub(crate) mod upkeep;
pub(crate) mod usage;
pub(crate) mod workspaces;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};
use crate::model::{CachedFile, Layer};

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
    // 4: the file rows become one compressed list per project (see `filelist`); what was in
    // the rows is moved by `lists_from_rows` below.
    r#"
    CREATE TABLE file_lists (
        project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
        files      INTEGER NOT NULL,
        data       BLOB NOT NULL
    );
    CREATE TABLE large_files (
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        path       TEXT NOT NULL,
        size       INTEGER NOT NULL,
        layer      TEXT NOT NULL,
        PRIMARY KEY (project_id, path)
    ) WITHOUT ROWID;
    CREATE INDEX large_files_by_size ON large_files(size);
    "#,
    // 5: a revision number per project, moved by triggers on every change to what a project
    // list shows (its row, labels, metadata, workspace name) and for removals, so that the
    // in-memory project list reloads only what changed (see `listing`).
    r#"
    ALTER TABLE projects ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX projects_by_rev ON projects(rev);
    CREATE TABLE catalog_rev (n INTEGER NOT NULL);
    INSERT INTO catalog_rev (n) VALUES (0);
    CREATE TABLE removed_projects (id TEXT NOT NULL, rev INTEGER NOT NULL);
    CREATE INDEX removed_projects_by_rev ON removed_projects(rev);
    CREATE TRIGGER projects_rev_insert AFTER INSERT ON projects BEGIN
        UPDATE catalog_rev SET n = n + 1;
        UPDATE projects SET rev = (SELECT n FROM catalog_rev) WHERE id = NEW.id;
    END;
    CREATE TRIGGER projects_rev_update AFTER UPDATE ON projects WHEN NEW.rev = OLD.rev BEGIN
        UPDATE catalog_rev SET n = n + 1;
        UPDATE projects SET rev = (SELECT n FROM catalog_rev) WHERE id = NEW.id;
    END;
    CREATE TRIGGER projects_rev_delete AFTER DELETE ON projects BEGIN
        UPDATE catalog_rev SET n = n + 1;
        INSERT INTO removed_projects (id, rev) SELECT OLD.id, n FROM catalog_rev;
    END;
    CREATE TRIGGER labels_rev_insert AFTER INSERT ON labels BEGIN
        UPDATE catalog_rev SET n = n + 1;
        UPDATE projects SET rev = (SELECT n FROM catalog_rev) WHERE id = NEW.project_id;
    END;
    CREATE TRIGGER labels_rev_update AFTER UPDATE ON labels BEGIN
        UPDATE catalog_rev SET n = n + 1;
        UPDATE projects SET rev = (SELECT n FROM catalog_rev)
            WHERE id IN (OLD.project_id, NEW.project_id);
    END;
    CREATE TRIGGER labels_rev_delete AFTER DELETE ON labels BEGIN
        UPDATE catalog_rev SET n = n + 1;
        UPDATE projects SET rev = (SELECT n FROM catalog_rev) WHERE id = OLD.project_id;
    END;
    CREATE TRIGGER metadata_rev_insert AFTER INSERT ON metadata BEGIN
        UPDATE catalog_rev SET n = n + 1;
        UPDATE projects SET rev = (SELECT n FROM catalog_rev) WHERE id = NEW.project_id;
    END;
    CREATE TRIGGER metadata_rev_update AFTER UPDATE ON metadata BEGIN
        UPDATE catalog_rev SET n = n + 1;
        UPDATE projects SET rev = (SELECT n FROM catalog_rev)
            WHERE id IN (OLD.project_id, NEW.project_id);
    END;
    CREATE TRIGGER metadata_rev_delete AFTER DELETE ON metadata BEGIN
        UPDATE catalog_rev SET n = n + 1;
        UPDATE projects SET rev = (SELECT n FROM catalog_rev) WHERE id = OLD.project_id;
    END;
    CREATE TRIGGER workspaces_rev_update AFTER UPDATE OF name ON workspaces BEGIN
        UPDATE catalog_rev SET n = n + 1;
        UPDATE projects SET rev = (SELECT n FROM catalog_rev) WHERE workspace_id = NEW.id;
    END;
    "#,
    // 6: only the last 1,000 removals are remembered; `removed_floor` is the revision of the
    // newest one forgotten, and a list read before it reloads whole (see `listing`).
    r#"
    ALTER TABLE catalog_rev ADD COLUMN removed_floor INTEGER NOT NULL DEFAULT 0;
    DROP TRIGGER projects_rev_delete;
    CREATE TRIGGER projects_rev_delete AFTER DELETE ON projects BEGIN
        UPDATE catalog_rev SET n = n + 1;
        INSERT INTO removed_projects (id, rev) SELECT OLD.id, n FROM catalog_rev;
        UPDATE catalog_rev SET removed_floor = max(removed_floor, coalesce(
            (SELECT rev FROM removed_projects ORDER BY rev DESC LIMIT 1 OFFSET 1000), 0));
        DELETE FROM removed_projects WHERE rev <= (SELECT removed_floor FROM catalog_rev);
    END;
    UPDATE catalog_rev SET removed_floor = coalesce(
        (SELECT rev FROM removed_projects ORDER BY rev DESC LIMIT 1 OFFSET 1000), 0);
    DELETE FROM removed_projects WHERE rev <= (SELECT removed_floor FROM catalog_rev);
    "#,
    // 7: the seconds in which the catalog changed in a way a backup carries (a project's row
    // but not its sizes or when it was last opened, its labels, metadata and file list,
    // workspaces and archives; not the active workspace), so that a target backed up "after
    // every change" knows whether, and since when, it is behind. A week is kept (see
    // `Vault::changes_since`).
    // (A trigger's INSERT OR IGNORE would give way to the conflict clause of the statement that
    // fires it, an upsert's say: the triggers insert only a second not there yet instead.)
    r#"
    CREATE TABLE change_log (at INTEGER PRIMARY KEY) WITHOUT ROWID;
    CREATE TRIGGER change_log_forget AFTER INSERT ON change_log BEGIN
        DELETE FROM change_log WHERE at < NEW.at - 604800;
    END;
    CREATE TRIGGER workspaces_changed_insert AFTER INSERT ON workspaces BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER workspaces_changed_update AFTER UPDATE ON workspaces BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER workspaces_changed_delete AFTER DELETE ON workspaces BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER labels_changed_insert AFTER INSERT ON labels BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER labels_changed_update AFTER UPDATE ON labels BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER labels_changed_delete AFTER DELETE ON labels BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER metadata_changed_insert AFTER INSERT ON metadata BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER metadata_changed_update AFTER UPDATE ON metadata BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER metadata_changed_delete AFTER DELETE ON metadata BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER file_lists_changed_insert AFTER INSERT ON file_lists BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER file_lists_changed_update AFTER UPDATE ON file_lists BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER file_lists_changed_delete AFTER DELETE ON file_lists BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER archives_changed_insert AFTER INSERT ON archives BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER archives_changed_update AFTER UPDATE ON archives BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER archives_changed_delete AFTER DELETE ON archives BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER projects_changed_insert AFTER INSERT ON projects BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER projects_changed_delete AFTER DELETE ON projects BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    CREATE TRIGGER projects_changed_update AFTER UPDATE ON projects WHEN
        NEW.workspace_id IS NOT OLD.workspace_id
        OR NEW.name IS NOT OLD.name
        OR NEW.kind IS NOT OLD.kind
        OR NEW.description IS NOT OLD.description
        OR NEW.status IS NOT OLD.status
        OR NEW.linked IS NOT OLD.linked
        OR NEW.path IS NOT OLD.path
        OR NEW.git_remote IS NOT OLD.git_remote
        OR NEW.deleted_at IS NOT OLD.deleted_at
        OR NEW.head IS NOT OLD.head
    BEGIN INSERT INTO change_log (at) SELECT unixepoch() WHERE NOT EXISTS (SELECT 1 FROM change_log WHERE at = unixepoch()); END;
    "#,
    // 8: the cold tier: the target holding a verified copy of an archive (and the object's
    // key there), and when the local file was last made or fetched back (the local copy is
    // dropped `archive.keep_local_days` after that).
    r#"
    ALTER TABLE archives ADD COLUMN cold_target TEXT;
    ALTER TABLE archives ADD COLUMN cold_key TEXT;
    ALTER TABLE archives ADD COLUMN kept_local_at INTEGER;
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
    Ok(conn)
}

/// Refreshes the query planner's statistics of the tables that grew or shrank much since they
/// were taken (SQLite's `PRAGMA optimize`: usually nothing to do, and then cheap). `every_table`:
/// look at all of them, not only those this connection read or wrote.
///
/// SQLite's advice is to run it as a connection closes ([`Vault`](crate::vault::Vault) does),
/// and now and then in one that stays open (the cleanup does). Run as every command opened the
/// catalog instead, it made the first command after an import analyse the tables the import
/// filled, and wait for the checkpoint's fsyncs of what that wrote.
pub(crate) fn optimize(conn: &Connection, every_table: bool) -> Result<()> {
    conn.execute_batch(if every_table {
        "PRAGMA optimize=0x10002"
    } else {
        "PRAGMA optimize"
    })?;
    Ok(())
}

/// [`optimize`] as the connection closes: at once or not at all, never waiting for another
/// process's write to end.
pub(crate) fn optimize_on_close(conn: &Connection) {
    let done = conn
        .busy_timeout(Duration::ZERO)
        .map_err(Error::from)
        .and_then(|()| optimize(conn, false));
    if let Err(e) = done {
        tracing::debug!("the catalog's statistics were not refreshed: {e}");
    }
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
            .map_err(Error::from)
            .and_then(|_| match i + 1 {
                4 => lists_from_rows(conn),
                _ => Ok(()),
            })
            .and_then(|_| Ok(conn.pragma_update(None, "user_version", i + 1)?));
        match res {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Migration 4: each project's file rows (the last version as hex text) become its file list;
/// archived projects' rows, which a purge would have removed, are dropped.
fn lists_from_rows(conn: &Connection) -> Result<()> {
    let mut projects = conn.prepare(
        "SELECT id FROM projects WHERE status != 'archived' AND id IN (SELECT DISTINCT project_id FROM files)",
    )?;
    let ids: Vec<String> = projects
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut rows = conn.prepare(
        "SELECT path, size, mtime_ns, ctime_ns, inode, mode, layer, oid, last_version FROM files
         WHERE project_id = ?1 ORDER BY path",
    )?;
    for id in ids {
        let files: Vec<(String, CachedFile)> = rows
            .query_map([&id], |r| {
                let hex_id: String = r.get(8)?;
                let mut last_version = [0u8; 20];
                // Kura wrote 40 hex digits; anything else (a hand-edited catalog) reads as
                // zeros rather than failing the whole migration.
                let _ = hex::decode_to_slice(hex_id, &mut last_version);
                Ok((
                    r.get(0)?,
                    CachedFile {
                        size: r.get::<_, i64>(1)? as u64,
                        mtime_ns: r.get(2)?,
                        ctime_ns: r.get(3)?,
                        inode: r.get::<_, i64>(4)? as u64,
                        mode: r.get(5)?,
                        layer: Layer::parse(&r.get::<_, String>(6)?),
                        oid: r.get(7)?,
                        last_version,
                    },
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let files: Vec<(&str, CachedFile)> = files.iter().map(|(p, f)| (p.as_str(), *f)).collect();
        filelist::store(conn, &id, &files)?;
    }
    conn.execute_batch("DROP TABLE files")?;
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

/// Folds the write-ahead log into the catalog and truncates it.
pub(crate) fn fold_wal(conn: &Connection) -> Result<()> {
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    Ok(())
}

/// Writes a consistent copy of the catalog to `dest` with SQLite's online backup API, while
/// other connections keep reading and writing.
pub(crate) fn copy_to(conn: &Connection, dest: &Path) -> rusqlite::Result<()> {
    conn.backup(rusqlite::MAIN_DB, dest, None)
}
