//! The event log: what happened in the vault, for every subscriber.
//!
//! Each event is written to SQLite (`events.db` in the vault) before it is broadcast, so its id
//! keeps increasing across restarts (SQLite's AUTOINCREMENT never reuses one) and a subscriber
//! that reconnects with the last id it saw gets every later event exactly once. The newest
//! [`EVENTS_KEPT`] are kept; a subscriber asking for older ones is told so ([`EventPage::gap`]),
//! never silently served less.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::config::DbConfig;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::error::{ApiError, ApiResult};

/// How many events the log keeps.
pub const EVENTS_KEPT: i64 = 10_000;

/// How many inserts between two prunings of the log.
const PRUNE_EVERY: u64 = 256;

/// One thing that happened.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Event {
    /// Increases with every event, across restarts.
    pub id: i64,
    /// When, in milliseconds since the Unix epoch.
    pub at: i64,
    /// What happened: `vault.changed`, `operation.progress`, `operation.finished`,
    /// `backup.status`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The project concerned, if one is.
    pub project_id: Option<String>,
    /// The details, shaped by `type`.
    pub data: serde_json::Value,
}

/// Events after a given id.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    /// Events the caller asked for were pruned from the log before it could read them.
    pub gap: bool,
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// The highest id looked at (of any type): the next page starts after it.
    pub scanned: i64,
}

/// The log and its live subscribers. The log is opened when first written or read, and the
/// channel to live subscribers made when the first one subscribes: a CLI command that changes
/// nothing pays for neither.
pub struct Events {
    path: PathBuf,
    db: Mutex<Option<Db>>,
    live: OnceLock<broadcast::Sender<Event>>,
}

struct Db {
    conn: Connection,
    inserts: u64,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn db_error(e: rusqlite::Error) -> ApiError {
    ApiError::internal(format!("the event log cannot be used: {e}"))
}

impl Events {
    /// The log at `path`, created when first written or read.
    pub fn open(path: &Path) -> ApiResult<Events> {
        Ok(Events {
            path: path.to_path_buf(),
            db: Mutex::new(None),
            live: OnceLock::new(),
        })
    }

    /// Runs `f` on the log, opened (or created) now if it is not yet.
    fn with_db<R>(&self, f: impl FnOnce(&mut Db) -> ApiResult<R>) -> ApiResult<R> {
        let mut guard = self.db.lock().unwrap_or_else(|e| e.into_inner());
        let db = match guard.take() {
            Some(db) => db,
            None => Db {
                conn: open_log(&self.path)?,
                inserts: 0,
            },
        };
        f(guard.insert(db))
    }

    /// Records an event and hands it to live subscribers. An event that cannot be written is
    /// logged and still broadcast (with id 0): losing it from the log must not fail the operation
    /// that caused it.
    pub fn emit(&self, kind: &str, project_id: Option<&str>, data: serde_json::Value) -> Event {
        let mut event = Event {
            id: 0,
            at: now_ms(),
            kind: kind.to_string(),
            project_id: project_id.map(str::to_string),
            data,
        };
        match self.insert(&event) {
            Ok(id) => event.id = id,
            Err(e) => tracing::warn!("event {kind} not kept: {e}"),
        }
        if let Some(live) = self.live.get() {
            let _ = live.send(event.clone());
        }
        event
    }

    fn insert(&self, event: &Event) -> ApiResult<i64> {
        self.with_db(|db| {
            db.conn
                .prepare_cached(
                    "INSERT INTO events (at, type, project_id, data) VALUES (?1, ?2, ?3, ?4)",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        event.at,
                        event.kind,
                        event.project_id,
                        event.data.to_string()
                    ])
                })
                .map_err(db_error)?;
            let id = db.conn.last_insert_rowid();
            db.inserts += 1;
            if db.inserts.is_multiple_of(PRUNE_EVERY) {
                prune(&db.conn, id - EVENTS_KEPT).map_err(db_error)?;
            }
            Ok(id)
        })
    }

    /// Live events from now on. A receiver that falls behind gets `Lagged` and should catch up
    /// with [`Events::since`].
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.live
            .get_or_init(|| broadcast::channel(4096).0)
            .subscribe()
    }

    /// The newest event's id (0 when there is none).
    pub fn last_id(&self) -> ApiResult<i64> {
        self.with_db(|db| {
            db.conn
                .query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))
                .map_err(db_error)
        })
    }

    /// Up to `limit` events with an id above `after`, oldest first, of the given types (all
    /// when `types` is empty; a type ending in `.` or `*` matches by prefix). A gap when events
    /// after `after` are no longer kept: pruned, or given by an earlier log of this vault (an
    /// id below this log's first; 0 means "from the start" and is never one).
    pub fn since(&self, after: i64, types: &[String], limit: usize) -> ApiResult<EventPage> {
        self.with_db(|db| Self::page(db, after, types, limit))
    }

    fn page(db: &Db, after: i64, types: &[String], limit: usize) -> ApiResult<EventPage> {
        let one = |sql: &str| -> ApiResult<i64> {
            Ok(db
                .conn
                .query_row(sql, [], |r| r.get(0))
                .optional()
                .map_err(db_error)?
                .unwrap_or(0))
        };
        let pruned = one("SELECT through FROM events_pruned WHERE one = 1")?;
        let origin = one("SELECT before FROM events_origin WHERE one = 1")?;
        let mut stmt = db
            .conn
            .prepare_cached(
                "SELECT id, at, type, project_id, data FROM events WHERE id > ?1 ORDER BY id",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map([after], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(db_error)?;
        let mut events = Vec::new();
        let mut scanned = after;
        for row in rows {
            let (id, at, kind, project_id, data) = row.map_err(db_error)?;
            scanned = id;
            if !matches_types(&kind, types) {
                continue;
            }
            events.push(Event {
                id,
                at,
                kind,
                project_id,
                data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
            });
            if events.len() >= limit {
                break;
            }
        }
        Ok(EventPage {
            gap: after < pruned || (after > 0 && after < origin),
            events,
            scanned,
        })
    }
}

/// Opens (or creates) the log at `path`.
fn open_log(path: &Path) -> ApiResult<Connection> {
    let conn = Connection::open(path).map_err(db_error)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(db_error)?;
    // No checkpoint (and its two fsyncs) each time a process lets go of the log: every CLI
    // command that changes the vault writes an event. The log checkpoints as it grows.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .map_err(db_error)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS events (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 at INTEGER NOT NULL,
                 type TEXT NOT NULL,
                 project_id TEXT,
                 data TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS events_pruned (
                 one INTEGER PRIMARY KEY CHECK (one = 1),
                 through INTEGER NOT NULL
             );",
    )
    .map_err(db_error)?;
    // A new log (the vault's first, or one that replaced a lost or deleted file; backups
    // leave the log out) numbers its events from the time it was made, in thousandths of a
    // millisecond: above every id an earlier log of this vault gave, so that a client
    // resuming from one of those is told of a gap (see `since`), never left waiting. Such
    // ids stay below 2^53 (exact in JavaScript) until the 23rd century.
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS events_origin (
                 one INTEGER PRIMARY KEY CHECK (one = 1),
                 before INTEGER NOT NULL
             );",
    )
    .map_err(db_error)?;
    let fresh: bool = conn
        .query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events')",
            [],
            |r| r.get(0),
        )
        .map_err(db_error)?;
    if fresh {
        let origin = now_ms().saturating_mul(1000);
        conn.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?1)",
            [origin],
        )
        .and_then(|_| {
            conn.execute(
                "INSERT OR REPLACE INTO events_origin (one, before) VALUES (1, ?1)",
                [origin],
            )
        })
        .map_err(db_error)?;
    }
    Ok(conn)
}

/// Whether an event of type `kind` is one of `types` (all when empty; `x.` or `x.*` by prefix).
pub fn matches_types(kind: &str, types: &[String]) -> bool {
    types.is_empty()
        || types.iter().any(|t| {
            if let Some(prefix) = t.strip_suffix('*') {
                kind.starts_with(prefix)
            } else if t.ends_with('.') {
                kind.starts_with(t.as_str())
            } else {
                kind == t
            }
        })
}

fn prune(conn: &Connection, through: i64) -> rusqlite::Result<()> {
    if through <= 0 {
        return Ok(());
    }
    conn.execute("DELETE FROM events WHERE id <= ?1", [through])?;
    conn.execute(
        "INSERT INTO events_pruned (one, through) VALUES (1, ?1)
         ON CONFLICT (one) DO UPDATE SET through = MAX(through, excluded.through)",
        [through],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_increasing_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        let first = Events::open(&path).unwrap();
        let a = first.emit("vault.changed", None, serde_json::json!({}));
        drop(first);
        let second = Events::open(&path).unwrap();
        let b = second.emit("vault.changed", Some("p1"), serde_json::json!({"x": 1}));
        assert!(b.id > a.id, "{} then {}", a.id, b.id);
        let page = second.since(a.id, &[], 100).unwrap();
        assert!(!page.gap);
        assert_eq!(page.events, vec![b]);
    }

    #[test]
    fn reading_past_what_was_pruned_is_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        let events = Events::open(&dir.path().join("events.db")).unwrap();
        let first = events
            .with_db(|db| {
                for _ in 0..5 {
                    db.conn
                        .execute(
                            "INSERT INTO events (at, type, data) VALUES (0, 't', '{}')",
                            [],
                        )
                        .unwrap();
                }
                let first = db.conn.last_insert_rowid() - 4;
                prune(&db.conn, first + 2).unwrap();
                Ok(first)
            })
            .unwrap();
        let page = events.since(first, &[], 100).unwrap();
        assert!(page.gap);
        let ids: Vec<i64> = page.events.iter().map(|e| e.id).collect();
        assert_eq!(ids, [first + 3, first + 4]);
        let page = events.since(first + 2, &[], 100).unwrap();
        assert!(!page.gap);
    }

    #[test]
    fn a_log_made_anew_numbers_above_the_old_one_and_tells_its_readers_of_the_gap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        let old = Events::open(&path).unwrap();
        let mut last = 0;
        for _ in 0..3 {
            last = old.emit("vault.changed", None, serde_json::json!({})).id;
        }
        drop(old);
        // Lost, deleted, or a vault restored from a backup (which leaves the log out).
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.path().join(format!("events.db{suffix}")));
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
        let new = Events::open(&path).unwrap();
        assert_eq!(new.last_id().unwrap(), 0);
        let first = new.emit("vault.changed", None, serde_json::json!({})).id;
        assert!(first > last, "{last} then {first}");
        // A reader that stopped at the old log's last event: told, then given what is kept.
        let page = new.since(last, &[], 100).unwrap();
        assert!(page.gap);
        assert_eq!(page.events.len(), 1);
        // From the start, or from this log's own events: no gap.
        assert!(!new.since(0, &[], 100).unwrap().gap);
        assert!(!new.since(first, &[], 100).unwrap().gap);
        // Reopened, it goes on from where it was.
        drop(new);
        let again = Events::open(&path).unwrap();
        assert!(again.emit("t", None, serde_json::json!({})).id == first + 1);
    }

    #[test]
    fn types_filter_exactly_or_by_prefix() {
        let types = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches_types("operation.progress", &[]));
        assert!(matches_types(
            "operation.progress",
            &types(&["operation.*"])
        ));
        assert!(matches_types("operation.progress", &types(&["operation."])));
        assert!(!matches_types("operation.progress", &types(&["operation"])));
        assert!(matches_types(
            "backup.status",
            &types(&["x", "backup.status"])
        ));
    }
}
