//! The catalog's projects: their rows, labels (languages, frameworks, tags) and metadata, and
//! the revisions the in-memory project list follows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::Result;
use crate::model::{Project, ProjectStatus};

/// The columns of the project row itself (the first 17 that [`from_row`] reads).
macro_rules! base_columns {
    () => {
        "p.id, p.name, w.name, p.kind, p.description, p.status, p.linked, p.path,
         p.git_remote, p.created_at, p.updated_at, p.last_opened_at, p.deleted_at, p.logical_size,
         p.stored_size, p.file_count, p.head"
    };
}

const BASE_COLUMNS: &str = base_columns!();

/// The project columns, with its labels and metadata folded into two strings (unit and record
/// separators) so one query returns a whole project.
const COLUMNS: &str = concat!(
    base_columns!(),
    ", (SELECT group_concat(l.kind || char(31) || l.value, char(30)) FROM labels l WHERE l.project_id = p.id),
     (SELECT group_concat(m.key || char(31) || m.value, char(30)) FROM metadata m WHERE m.project_id = p.id)"
);

fn from_row(r: &Row<'_>) -> rusqlite::Result<Project> {
    let mut p = Project {
        id: r.get(0)?,
        name: r.get(1)?,
        workspace: r.get(2)?,
        kind: r.get(3)?,
        description: r.get(4)?,
        status: ProjectStatus::parse(&r.get::<_, String>(5)?),
        linked: r.get(6)?,
        path: PathBuf::from(r.get::<_, String>(7)?),
        git_remote: r.get(8)?,
        languages: Vec::new(),
        frameworks: Vec::new(),
        tags: Vec::new(),
        metadata: BTreeMap::new(),
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        last_opened_at: r.get(11)?,
        deleted_at: r.get(12)?,
        logical_size: r.get::<_, i64>(13)? as u64,
        stored_size: r.get::<_, i64>(14)? as u64,
        file_count: r.get::<_, i64>(15)? as u64,
        head: r.get(16)?,
    };
    if let Some(labels) = r.get_ref(17)?.as_str_or_null()? {
        for item in labels.split('\x1e') {
            if let Some((kind, value)) = item.split_once('\x1f') {
                add_label(&mut p, kind, value.to_string());
            }
        }
    }
    if let Some(meta) = r.get_ref(18)?.as_str_or_null()? {
        for item in meta.split('\x1e') {
            if let Some((k, v)) = item.split_once('\x1f') {
                p.metadata.insert(k.to_string(), v.to_string());
            }
        }
    }
    Ok(p)
}

/// Files a label of `kind` under its list.
fn add_label(p: &mut Project, kind: &str, value: String) {
    match kind {
        "language" => p.languages.push(value),
        "framework" => p.frameworks.push(value),
        _ => p.tags.push(value),
    }
}

/// Every project of the catalog (the caller holds a read transaction): three table scans
/// (projects, labels, metadata) cost far less than a labels and a metadata lookup per project.
pub(crate) fn every(tx: &Connection) -> Result<Vec<Project>> {
    let mut projects: Vec<Project> = tx
        .prepare(&format!(
            "SELECT {BASE_COLUMNS}, NULL, NULL FROM projects p JOIN workspaces w ON w.id = p.workspace_id"
        ))?
        .query_map([], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let at: rustc_hash::FxHashMap<String, usize> = projects
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i))
        .collect();
    // Text is looked at in place; only what is kept is copied out.
    fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
        Ok(r.get_ref(i)?.as_str()?)
    }
    let mut labels = tx.prepare("SELECT project_id, kind, value FROM labels")?;
    let mut rows = labels.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(&i) = at.get(text(r, 0)?) {
            add_label(&mut projects[i], text(r, 1)?, text(r, 2)?.to_string());
        }
    }
    let mut metadata = tx.prepare("SELECT project_id, key, value FROM metadata")?;
    let mut rows = metadata.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(&i) = at.get(text(r, 0)?) {
            projects[i]
                .metadata
                .insert(text(r, 1)?.to_string(), text(r, 2)?.to_string());
        }
    }
    Ok(projects)
}

/// The projects whose revision is above `rev`, and the ids of projects removed since.
pub(crate) fn changed_since(tx: &Connection, rev: i64) -> Result<(Vec<Project>, Vec<String>)> {
    let changed = tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM projects p JOIN workspaces w ON w.id = p.workspace_id WHERE p.rev > ?1"
        ))?
        .query_map([rev], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let removed = tx
        .prepare_cached("SELECT id FROM removed_projects WHERE rev > ?1")?
        .query_map([rev], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok((changed, removed))
}

/// How many projects changed since revision `rev`.
pub(crate) fn count_changed_since(tx: &Connection, rev: i64) -> Result<i64> {
    Ok(
        tx.query_row("SELECT count(*) FROM projects WHERE rev > ?1", [rev], |r| {
            r.get(0)
        })?,
    )
}

/// The catalog's revision of its projects, and the oldest revision whose removals it still
/// remembers.
pub(crate) fn revision(tx: &Connection) -> Result<(i64, i64)> {
    Ok(
        tx.query_row("SELECT n, removed_floor FROM catalog_rev", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?,
    )
}

/// What moves when the catalog changed: SQLite's `data_version` (another connection
/// committed) and this connection's count of changes.
pub(crate) fn read_state(conn: &Connection) -> Result<(i64, u64)> {
    let version = conn
        .prepare_cached("PRAGMA data_version")?
        .query_row([], |r| r.get::<_, i64>(0))?;
    Ok((version, conn.total_changes()))
}

/// The project with this id.
pub(crate) fn by_id(db: &Connection, id: &str) -> Result<Option<Project>> {
    Ok(db
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM projects p JOIN workspaces w ON w.id = p.workspace_id WHERE p.id = ?1"
        ))?
        .query_row([id], from_row)
        .optional()?)
}

/// `id` when a project has it.
pub(crate) fn id_if_known(db: &Connection, id: &str) -> Result<Option<String>> {
    Ok(db
        .prepare_cached("SELECT id FROM projects WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// The id of project `name` in the workspace named `workspace`.
pub(crate) fn id_in_workspace_named(
    db: &Connection,
    workspace: &str,
    name: &str,
) -> Result<Option<String>> {
    Ok(db
        .prepare_cached(
            "SELECT p.id FROM projects p JOIN workspaces w ON w.id = p.workspace_id
             WHERE w.name = ?1 AND p.name = ?2",
        )?
        .query_row(params![workspace, name], |r| r.get(0))
        .optional()?)
}

/// The id of project `name` in workspace `workspace_id`.
pub(crate) fn id_in_workspace(
    db: &Connection,
    workspace_id: i64,
    name: &str,
) -> Result<Option<String>> {
    Ok(db
        .prepare_cached("SELECT id FROM projects WHERE workspace_id = ?1 AND name = ?2")?
        .query_row(params![workspace_id, name], |r| r.get(0))
        .optional()?)
}

/// The ids of every project named `name`, with their workspaces' names.
pub(crate) fn ids_named(db: &Connection, name: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = db.prepare(
        "SELECT p.id, w.name FROM projects p JOIN workspaces w ON w.id = p.workspace_id WHERE p.name = ?1",
    )?;
    let hits = stmt
        .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(hits)
}

/// The name of the project whose folder is `path`.
pub(crate) fn name_at(db: &Connection, path: &Path) -> Result<Option<String>> {
    Ok(db
        .query_row(
            "SELECT name FROM projects WHERE path = ?1",
            [path.to_string_lossy()],
            |r| r.get(0),
        )
        .optional()?)
}

/// Whether workspace `workspace_id` has a project named `name`.
pub(crate) fn name_taken(db: &Connection, workspace_id: i64, name: &str) -> Result<bool> {
    Ok(db.query_row(
        "SELECT EXISTS (SELECT 1 FROM projects WHERE workspace_id = ?1 AND name = ?2)",
        params![workspace_id, name],
        |r| r.get(0),
    )?)
}

/// A new project's row.
pub(crate) struct NewRow<'a> {
    pub(crate) id: &'a str,
    pub(crate) workspace_id: i64,
    pub(crate) name: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) description: &'a str,
    pub(crate) linked: bool,
    pub(crate) folder: &'a Path,
    pub(crate) git_remote: Option<&'a str>,
    /// When it was made (an archive made elsewhere brings its own time).
    pub(crate) created_at: i64,
    pub(crate) last_opened_at: Option<i64>,
    pub(crate) now: i64,
}

impl<'a> NewRow<'a> {
    /// The row of a project made now.
    pub(crate) fn made_now(
        id: &'a str,
        workspace_id: i64,
        name: &'a str,
        folder: &'a Path,
        now: i64,
    ) -> NewRow<'a> {
        NewRow {
            id,
            workspace_id,
            name,
            kind: "",
            description: "",
            linked: false,
            folder,
            git_remote: None,
            created_at: now,
            last_opened_at: Some(now),
            now,
        }
    }
}

/// Adds an active project; a name its workspace has fails as SQLite's uniqueness violation.
pub(crate) fn insert(db: &Connection, row: &NewRow) -> rusqlite::Result<usize> {
    db.execute(
        "INSERT INTO projects (id, workspace_id, name, kind, description, status, linked, path, git_remote, created_at, updated_at, last_opened_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            row.id,
            row.workspace_id,
            row.name,
            row.kind,
            row.description,
            row.linked,
            row.folder.to_string_lossy(),
            row.git_remote,
            row.created_at,
            row.now,
            row.last_opened_at
        ],
    )
}

/// What a change to a project's row sets (`None`: unchanged; an empty git remote clears it).
pub(crate) struct Change<'a> {
    pub(crate) name: Option<&'a str>,
    pub(crate) workspace_id: Option<i64>,
    pub(crate) description: Option<&'a str>,
    pub(crate) kind: Option<&'a str>,
    pub(crate) git_remote: Option<&'a str>,
}

/// Changes project `id`'s row as `change` says; a name its workspace has fails as SQLite's
/// uniqueness violation.
pub(crate) fn change(
    db: &Connection,
    id: &str,
    change: &Change,
    now: i64,
) -> rusqlite::Result<usize> {
    db.execute(
        "UPDATE projects SET
            name = coalesce(?1, name),
            workspace_id = coalesce(?2, workspace_id),
            description = coalesce(?3, description),
            kind = coalesce(?4, kind),
            git_remote = CASE WHEN ?5 IS NULL THEN git_remote WHEN ?5 = '' THEN NULL ELSE ?5 END,
            updated_at = ?6
         WHERE id = ?7",
        params![
            change.name,
            change.workspace_id,
            change.description,
            change.kind,
            change.git_remote,
            now,
            id
        ],
    )
}

pub(crate) fn add_tag(db: &Connection, id: &str, tag: &str) -> Result<()> {
    db.execute(
        "INSERT OR IGNORE INTO labels (project_id, kind, value) VALUES (?1, 'tag', ?2)",
        params![id, tag],
    )?;
    Ok(())
}

pub(crate) fn remove_tag(db: &Connection, id: &str, tag: &str) -> Result<()> {
    db.execute(
        "DELETE FROM labels WHERE project_id = ?1 AND kind = 'tag' AND value = ?2",
        params![id, tag],
    )?;
    Ok(())
}

/// Sets metadata `key` of project `id` (`None`: removes it).
pub(crate) fn set_metadata(
    db: &Connection,
    id: &str,
    key: &str,
    value: Option<&str>,
) -> Result<()> {
    match value {
        Some(v) => db.execute(
            "INSERT INTO metadata (project_id, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT(project_id, key) DO UPDATE SET value = excluded.value",
            params![id, key, v],
        )?,
        None => db.execute(
            "DELETE FROM metadata WHERE project_id = ?1 AND key = ?2",
            params![id, key],
        )?,
    };
    Ok(())
}

/// Marks project `id` as changed at `now`.
pub(crate) fn set_updated(db: &Connection, id: &str, now: i64) -> Result<()> {
    db.execute(
        "UPDATE projects SET updated_at = ?1 WHERE id = ?2",
        params![now, id],
    )?;
    Ok(())
}

/// Marks project `id` as opened at `now`.
pub(crate) fn set_opened(db: &Connection, id: &str, now: i64) -> Result<()> {
    db.execute(
        "UPDATE projects SET last_opened_at = ?1 WHERE id = ?2",
        params![now, id],
    )?;
    Ok(())
}

/// Moves project `id` to the trash.
pub(crate) fn trash(db: &Connection, id: &str, now: i64) -> Result<()> {
    db.execute(
        "UPDATE projects SET status = 'deleted', deleted_at = ?1, updated_at = ?1 WHERE id = ?2",
        params![now, id],
    )?;
    Ok(())
}

/// Brings project `id` back from the trash: archived when it has an archive (it went to the
/// trash while archived), else active.
pub(crate) fn untrash(db: &Connection, id: &str, now: i64) -> Result<()> {
    db.execute(
        "UPDATE projects SET deleted_at = NULL, updated_at = ?1,
            status = CASE WHEN EXISTS (SELECT 1 FROM archives WHERE project_id = ?2)
                     THEN 'archived' ELSE 'active' END
         WHERE id = ?2",
        params![now, id],
    )?;
    Ok(())
}

/// Removes project `id`'s row (the rows that refer to it go with it).
pub(crate) fn delete(db: &Connection, id: &str) -> Result<()> {
    db.execute("DELETE FROM projects WHERE id = ?1", [id])?;
    Ok(())
}

/// Marks project `id` archived at `now`: its history is in an archive of `stored_size` bytes.
pub(crate) fn mark_archived(db: &Connection, id: &str, now: i64, stored_size: u64) -> Result<()> {
    db.execute(
        "UPDATE projects SET status = 'archived', updated_at = ?1, stored_size = ?2, chunk_stored = 0 WHERE id = ?3",
        params![now, stored_size as i64, id],
    )?;
    Ok(())
}

/// Puts archived project `p`'s row back as it was (a failed unarchive taken back).
pub(crate) fn mark_archived_as_before(db: &Connection, p: &Project) -> Result<()> {
    db.execute(
        "UPDATE projects SET status = 'archived', path = ?1, head = ?2, stored_size = ?3, chunk_stored = 0, updated_at = ?4 WHERE id = ?5",
        params![p.path.to_string_lossy(), p.head, p.stored_size as i64, p.updated_at, p.id],
    )?;
    Ok(())
}

/// Makes archived project `id` active again in `folder`, its history to be rebuilt.
pub(crate) fn reactivate(db: &Connection, id: &str, folder: &Path, now: i64) -> Result<()> {
    db.execute(
        "UPDATE projects SET status = 'active', path = ?1, head = NULL, stored_size = 0, chunk_stored = 0, updated_at = ?2 WHERE id = ?3",
        params![folder.to_string_lossy(), now, id],
    )?;
    Ok(())
}

/// Sets project `id`'s latest version and its content (a catalog caught up with its history).
pub(crate) fn set_head(
    db: &Connection,
    id: &str,
    head: &str,
    logical_size: u64,
    file_count: u64,
) -> Result<()> {
    db.execute(
        "UPDATE projects SET head = ?1, logical_size = ?2, file_count = ?3 WHERE id = ?4",
        params![head, logical_size as i64, file_count as i64, id],
    )?;
    Ok(())
}

/// A new version of a project, as its row records it.
pub(crate) struct NewVersion<'a> {
    pub(crate) head: &'a str,
    pub(crate) logical_size: u64,
    pub(crate) file_count: u64,
    pub(crate) now: i64,
    /// Bytes the chunk store took for it.
    pub(crate) new_chunk_bytes: u64,
    /// Bytes its history takes now.
    pub(crate) history_bytes: u64,
}

/// Sets the bytes the chunk store took for project `id`'s large files (an unarchive put them
/// back).
pub(crate) fn set_chunk_stored(db: &Connection, id: &str, bytes: u64) -> Result<()> {
    db.execute(
        "UPDATE projects SET chunk_stored = ?1 WHERE id = ?2",
        params![bytes as i64, id],
    )?;
    Ok(())
}

/// Lowers what project `id` counts for the chunk store to `bytes` (the stored bytes of the
/// chunks its versions still reference) when it counts more, and its stored size with it:
/// each version adds the chunks it wrote, and versions thinned out and chunks collected since
/// took theirs away.
pub(crate) fn cap_chunk_stored(db: &Connection, id: &str, bytes: u64) -> Result<()> {
    db.execute(
        "UPDATE projects SET stored_size = MAX(stored_size - (chunk_stored - ?1), 0),
             chunk_stored = ?1
         WHERE id = ?2 AND chunk_stored > ?1",
        params![bytes as i64, id],
    )?;
    Ok(())
}

/// Points project `id` at a new version: its head, content, time and stored bytes.
pub(crate) fn record_version(db: &Connection, id: &str, v: &NewVersion) -> Result<()> {
    db.execute(
        "UPDATE projects SET head = ?1, logical_size = ?2, file_count = ?3, updated_at = ?4,
             chunk_stored = chunk_stored + ?5, stored_size = ?6 + chunk_stored + ?5
         WHERE id = ?7",
        params![
            v.head,
            v.logical_size as i64,
            v.file_count as i64,
            v.now,
            v.new_chunk_bytes as i64,
            v.history_bytes as i64,
            id
        ],
    )?;
    Ok(())
}

/// Replaces project `id`'s detected languages and frameworks.
pub(crate) fn set_detected(
    db: &Connection,
    id: &str,
    languages: &[String],
    frameworks: &[String],
) -> Result<()> {
    db.execute(
        "DELETE FROM labels WHERE project_id = ?1 AND kind IN ('language', 'framework')",
        [id],
    )?;
    for (kind, values) in [("language", languages), ("framework", frameworks)] {
        for v in values {
            db.execute(
                "INSERT OR IGNORE INTO labels (project_id, kind, value) VALUES (?1, ?2, ?3)",
                params![id, kind, v],
            )?;
        }
    }
    Ok(())
}

/// The ids of the projects with a history in the vault (not archived), by name.
pub(crate) fn ids_with_history(db: &Connection) -> Result<Vec<String>> {
    ids_where(db, "status != 'archived'", [])
}

/// The ids of the active projects last changed before `cutoff`, by name.
pub(crate) fn ids_changed_before(db: &Connection, cutoff: i64) -> Result<Vec<String>> {
    ids_where(db, "status = 'active' AND updated_at < ?1", [cutoff])
}

/// The ids of the active projects neither changed nor opened since `cutoff`, by name.
pub(crate) fn ids_idle_since(db: &Connection, cutoff: i64) -> Result<Vec<String>> {
    ids_where(
        db,
        "status = 'active' AND max(updated_at, coalesce(last_opened_at, 0)) < ?1",
        [cutoff],
    )
}

/// The ids of the projects moved to the trash at or before `cutoff`, by name.
pub(crate) fn ids_trashed_by(db: &Connection, cutoff: i64) -> Result<Vec<String>> {
    ids_where(db, "status = 'deleted' AND deleted_at <= ?1", [cutoff])
}

fn ids_where(db: &Connection, filter: &str, args: impl rusqlite::Params) -> Result<Vec<String>> {
    let mut stmt = db.prepare(&format!(
        "SELECT id FROM projects WHERE {filter} ORDER BY name"
    ))?;
    let rows = stmt.query_map(args, |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether a project has its folder at `path` or the id `id`.
pub(crate) fn holds_path_or_id(db: &Connection, path: &Path, id: &str) -> Result<bool> {
    Ok(db.query_row(
        "SELECT EXISTS (SELECT 1 FROM projects WHERE path = ?1 OR id = ?2)",
        params![path.to_string_lossy(), id],
        |r| r.get(0),
    )?)
}

/// Whether project `project_id` has an archive.
pub(crate) fn has_archive(db: &Connection, project_id: &str) -> Result<bool> {
    Ok(db.query_row(
        "SELECT EXISTS (SELECT 1 FROM archives WHERE project_id = ?1)",
        [project_id],
        |row| row.get(0),
    )?)
}

/// Marks project `id` as changed at `now`, unless it already is (no write then).
pub(crate) fn touch_updated(db: &Connection, id: &str, now: i64) -> Result<()> {
    db.prepare_cached("UPDATE projects SET updated_at = ?1 WHERE id = ?2 AND updated_at != ?1")?
        .execute(params![now, id])?;
    Ok(())
}

/// Points project `id` at the folder `path`; false when there is no such project.
pub(crate) fn set_path(db: &Connection, id: &str, path: &str) -> Result<bool> {
    Ok(db.execute("UPDATE projects SET path = ?1 WHERE id = ?2", (path, id))? > 0)
}

/// Sets project `id`'s stored bytes to its history's `history_bytes` and its chunks'.
pub(crate) fn set_history_bytes(db: &Connection, id: &str, history_bytes: u64) -> Result<()> {
    db.execute(
        "UPDATE projects SET stored_size = ?1 + chunk_stored WHERE id = ?2",
        params![history_bytes as i64, id],
    )?;
    Ok(())
}

/// Points project `id` at version `head` (its history rewritten).
pub(crate) fn set_head_only(db: &Connection, id: &str, head: &str) -> Result<()> {
    db.execute(
        "UPDATE projects SET head = ?1 WHERE id = ?2",
        params![head, id],
    )?;
    Ok(())
}
