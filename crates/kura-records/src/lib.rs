//! Records: JSON documents under keys, in named collections, per project and one set for the
//! vault, for the agents and scripts that work on a project and need to keep state beside its
//! files (notes, task lists, decisions, settings) and query it later.
//!
//! - put, get, delete, and pages of a collection by key or by a [`RecordQuery`] (equality, ranges,
//!   prefixes and existence on fields of the JSON, a sort, cursor pagination);
//! - every write gets a revision from one vault-wide sequence that only grows, so a revision is
//!   never reused, not even after a delete; a write can name the revision it expects
//!   (compare-and-set, `0` for "must not exist") and is refused with `conflict` otherwise;
//! - batches: many puts and deletes applied together or not at all;
//! - a time to live per record; an expired record is gone for every reader at once and swept
//!   from the database soon after;
//! - per collection, fields to index (an SQLite index on that field's expression, shared by the
//!   collections that index the same field) and an optional JSON Schema that writes must match.
//!
//! Storage is one SQLite database in WAL mode, `records.db` in the vault. Writes go through one
//! writer thread that commits whatever arrived together in one transaction (a group commit, with
//! `synchronous=FULL`: an acknowledged write survives a crash or a power cut), each request in a
//! savepoint of its own so one failing request never fails its neighbours. Reads use a small pool
//! of connections of their own and never wait for the writer.

mod error;
mod query;
mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use error::{Error, ErrorKind, Result};
pub use query::{RecordFilter, RecordQuery, DEFAULT_LIMIT, MAX_FILTERS, MAX_LIMIT};

use query::{Cursor, FieldPath, Where};

/// The scope of the vault-wide records (a project's scope is its id).
pub const VAULT_SCOPE: &str = "";
/// The largest a record's JSON can be.
pub const MAX_VALUE_BYTES: usize = 1 << 20;
/// The longest a key can be, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// The most operations one batch can hold.
pub const MAX_BATCH: usize = 10_000;
/// The most fields one collection can index.
pub const MAX_INDEXES: usize = 16;

/// Milliseconds since the Unix epoch, by the clock records use.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// One record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
// TypeScript has a `Record` of its own (the name a struct gets does not show in its JSON).
#[serde(rename = "StoredRecord")]
pub struct Record {
    pub collection: String,
    pub key: String,
    /// The revision of its last write: pass it as `if_rev` to change it only if nobody else has.
    pub rev: u64,
    /// The document.
    pub value: Value,
    /// When it was first written, in milliseconds since the Unix epoch.
    pub created: i64,
    /// When it was last written (ms).
    pub updated: i64,
    /// When it expires (ms), if it does.
    pub expires: Option<i64>,
}

/// A page of records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RecordPage {
    pub records: Vec<Record>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next: Option<String>,
}

/// A write of one record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordPut {
    /// The collection (created on its first record).
    #[cfg_attr(
        feature = "utoipa",
        schema(pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    )]
    pub collection: String,
    /// The record's key in its collection: at most 512 bytes, no control characters.
    #[cfg_attr(feature = "utoipa", schema(min_length = 1, max_length = 512))]
    pub key: String,
    /// The record: any JSON value.
    pub value: Value,
    /// Write only if the record is at this revision now (`0`: only if it does not exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_rev: Option<u64>,
    /// Expire the record this many seconds after the write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(minimum = 1))]
    pub ttl_secs: Option<u64>,
}

/// A delete of one record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordDelete {
    /// The collection.
    #[cfg_attr(
        feature = "utoipa",
        schema(pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    )]
    pub collection: String,
    /// The record's key in its collection: at most 512 bytes, no control characters.
    #[cfg_attr(feature = "utoipa", schema(min_length = 1, max_length = 512))]
    pub key: String,
    /// Delete only if the record is at this revision now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_rev: Option<u64>,
}

/// One operation of a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RecordOp {
    Put(RecordPut),
    Delete(RecordDelete),
}

/// What one operation of a batch did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RecordOpResult {
    pub collection: String,
    pub key: String,
    /// The record's new revision; `0` when it was deleted.
    pub rev: u64,
    /// For a delete: whether there was a record to delete (always true for a put).
    pub existed: bool,
}

/// A JSON Schema as a value: an object, `true` or `false` (or none).
#[cfg(feature = "utoipa")]
fn json_schema_value() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{SchemaType, Type};
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([
            Type::Object,
            Type::Boolean,
            Type::Null,
        ]))
        .build()
}

/// A list of field paths (`status`, `owner.name`) as a schema: none empty.
#[cfg(feature = "utoipa")]
fn field_paths() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1)),
        )
        .build()
}

/// What a collection indexes and checks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CollectionSettings {
    /// Fields to index (`status`, `owner.name`), so that queries on them stay fast.
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", schema(schema_with = field_paths))]
    pub indexes: Vec<String>,
    /// A JSON Schema every record written must match (an object, or `true`/`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(schema_with = json_schema_value))]
    pub schema: Option<Value>,
}

/// A collection and how many records it holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct CollectionInfo {
    pub name: String,
    pub records: u64,
    pub indexes: Vec<String>,
    pub schema: Option<Value>,
}

/// Everything of one scope, as it travels in an archive (see [`Records::export_scope`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScopeSettings {
    pub collections: BTreeMap<String, CollectionSettings>,
}

/// The records of a vault.
pub struct Records {
    path: PathBuf,
    clock: Clock,
    // Readers close first: the writer's connection, closing last, folds the write-ahead log
    // into the database file.
    readers: Mutex<Vec<Connection>>,
    writer: writer::Writer,
}

fn system_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Readers kept open between reads.
const READERS_KEPT: usize = 8;
/// The database is read through a memory map of up to this size, shared by every connection
/// (the OS page cache), instead of copying pages into each connection's cache.
const MMAP_BYTES: u64 = 256 << 20;
/// The writer's own page cache: a batch touching pages all over a large collection finds them
/// here.
const WRITER_CACHE_KIB: u64 = 16 << 10;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS records (
        scope TEXT NOT NULL,
        collection TEXT NOT NULL,
        key TEXT NOT NULL,
        rev INTEGER NOT NULL,
        doc TEXT NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        expires INTEGER,
        PRIMARY KEY (scope, collection, key)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS records_expiry ON records(expires) WHERE expires IS NOT NULL;
    CREATE TABLE IF NOT EXISTS collections (
        scope TEXT NOT NULL,
        collection TEXT NOT NULL,
        indexes TEXT NOT NULL DEFAULT '[]',
        schema TEXT,
        PRIMARY KEY (scope, collection)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS revision (
        one INTEGER PRIMARY KEY CHECK (one = 1),
        last INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO revision VALUES (1, 0);
    CREATE TABLE IF NOT EXISTS change_log (at INTEGER PRIMARY KEY) WITHOUT ROWID;
";

/// How long the seconds in which records changed are remembered (see [`Records::changes_since`]).
pub const CHANGE_LOG_SECS: i64 = 7 * 24 * 3600;

impl Records {
    /// Opens (or creates) the records database at `path`.
    pub fn open(path: &Path) -> Result<Records> {
        Records::open_with_clock(path, Arc::new(system_ms))
    }

    /// Like [`Records::open`], with the given clock (for expiry and times).
    pub fn open_with_clock(path: &Path, clock: Clock) -> Result<Records> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA mmap_size={MMAP_BYTES};
             PRAGMA cache_size=-{WRITER_CACHE_KIB}; PRAGMA temp_store=MEMORY;"
        ))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Records {
            path: path.to_path_buf(),
            writer: writer::Writer::start(conn, clock.clone())?,
            clock,
            readers: Mutex::new(Vec::new()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                c.busy_timeout(std::time::Duration::from_secs(5))?;
                c.set_prepared_statement_cache_capacity(64);
                c.execute_batch(&format!("PRAGMA mmap_size={MMAP_BYTES};"))?;
                c
            }
        };
        let result = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < READERS_KEPT {
            pool.push(conn);
        }
        result
    }

    /// The record `key` of `collection`; `not_found` when there is none (or it expired).
    pub fn get(&self, scope: &str, collection: &str, key: &str) -> Result<Record> {
        check_collection(collection)?;
        check_key(key)?;
        let now = (self.clock)();
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT key, rev, doc, created, updated, expires FROM records
                 WHERE scope = ?1 AND collection = ?2 AND key = ?3
                   AND (expires IS NULL OR expires > ?4)",
            )?;
            stmt.query_row(params![scope, collection, key, now], |row| {
                record_of(collection, row)
            })
            .optional()?
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("there is no record '{key}' in collection '{collection}'"),
                )
            })
        })
    }

    /// Writes one record; returns it as stored (with its new revision).
    pub fn put(&self, scope: &str, put: RecordPut) -> Result<Record> {
        let scope = scope.to_string();
        self.writer.run(move |w| w.put(&scope, &put))
    }

    /// Deletes one record; whether there was one.
    pub fn delete(&self, scope: &str, delete: RecordDelete) -> Result<bool> {
        let scope = scope.to_string();
        self.writer.run(move |w| w.delete(&scope, &delete))
    }

    /// Applies `ops` together: all of them, or (when one fails) none.
    pub fn batch(&self, scope: &str, ops: Vec<RecordOp>) -> Result<Vec<RecordOpResult>> {
        if ops.len() > MAX_BATCH {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!(
                    "a batch holds at most {MAX_BATCH} operations, this one {}; split it",
                    ops.len()
                ),
            ));
        }
        let scope = scope.to_string();
        self.writer.run(move |w| w.batch(&scope, &ops))
    }

    /// A page of `collection`, by key.
    pub fn list(
        &self,
        scope: &str,
        collection: &str,
        key_prefix: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<RecordPage> {
        self.query(
            scope,
            collection,
            &RecordQuery {
                key_prefix: key_prefix.map(str::to_string),
                cursor: cursor.map(str::to_string),
                limit,
                ..Default::default()
            },
        )
    }

    /// A page of the records of `collection` that match `q`.
    pub fn query(&self, scope: &str, collection: &str, q: &RecordQuery) -> Result<RecordPage> {
        check_collection(collection)?;
        let limit = query::limit(q.limit)?;
        if q.filters.len() > query::MAX_FILTERS {
            return Err(Error::invalid(format!(
                "a query holds at most {} conditions, this one {}",
                query::MAX_FILTERS,
                q.filters.len()
            )));
        }
        let now = (self.clock)();
        let mut w = live_records(scope, collection, now);
        for f in &q.filters {
            query::add_filter(&mut w, f)?;
        }
        if let Some(prefix) = q.key_prefix.as_deref().filter(|p| !p.is_empty()) {
            add_key_prefix(&mut w, prefix);
        }
        let order = Order::of(q)?;
        if let Some(cursor) = q.cursor.as_deref() {
            add_cursor(&mut w, cursor, &order)?;
        }
        let sql = self.page_sql(scope, collection, &q.filters, &order, &w, limit)?;
        self.read(|conn| read_page(conn, &sql, &w.params, collection, &order, limit))
    }

    /// The statement that reads a page: the conditions of `w` in `order`, through the index
    /// [`Records::index_for`] chooses, one row past `limit` (to know whether there are more).
    fn page_sql(
        &self,
        scope: &str,
        collection: &str,
        filters: &[RecordFilter],
        order: &Order,
        w: &Where,
        limit: u32,
    ) -> Result<String> {
        let (sort, dir) = (&order.field, order.dir);
        let (sort_col, order_by) = match sort {
            None => ("NULL".to_string(), format!("key {dir}")),
            Some(path) => (path.expr(), format!("{} {dir}, key {dir}", path.expr())),
        };
        let hint = match self.index_for(scope, collection, filters, sort.as_ref())? {
            Some(path) => format!(" INDEXED BY \"{}\"", path.index_name()),
            None => String::new(),
        };
        Ok(format!(
            "SELECT key, rev, doc, created, updated, expires, {sort_col} FROM records{hint} WHERE {} ORDER BY {order_by} LIMIT {}",
            w.conditions.join(" AND "),
            limit + 1
        ))
    }

    /// The field whose index a query goes through: the collection's own choice, not left to
    /// SQLite's planner, which without statistics prefers walking the whole collection by key.
    /// An equality on an indexed field first, then a range or prefix on one, then the sort field.
    fn index_for(
        &self,
        scope: &str,
        collection: &str,
        filters: &[RecordFilter],
        sort: Option<&FieldPath>,
    ) -> Result<Option<FieldPath>> {
        if filters.is_empty() && sort.is_none() {
            return Ok(None);
        }
        let indexed: Vec<String> = self.read(|conn| {
            let list: Option<String> = conn
                .prepare_cached(
                    "SELECT indexes FROM collections WHERE scope = ?1 AND collection = ?2",
                )?
                .query_row(params![scope, collection], |r| r.get(0))
                .optional()?;
            Ok(list
                .and_then(|l| serde_json::from_str(&l).ok())
                .unwrap_or_default())
        })?;
        let indexed: Vec<FieldPath> = indexed
            .iter()
            .filter_map(|f| FieldPath::parse(f).ok())
            .collect();
        let best = filters
            .iter()
            .filter(|f| query::index_use(f) > 0)
            .filter_map(|f| Some((query::index_use(f), FieldPath::parse(&f.field).ok()?)))
            .filter(|(_, path)| indexed.contains(path))
            .max_by_key(|(use_, _)| *use_)
            .map(|(_, path)| path);
        Ok(best.or_else(|| sort.filter(|s| indexed.contains(s)).cloned()))
    }

    /// The collections of a scope, with their record counts and settings.
    pub fn collections(&self, scope: &str) -> Result<Vec<CollectionInfo>> {
        let now = (self.clock)();
        self.read(|conn| {
            let mut out: BTreeMap<String, CollectionInfo> = BTreeMap::new();
            let mut stmt = conn.prepare_cached(
                "SELECT collection, count(*) FROM records
                 WHERE scope = ?1 AND (expires IS NULL OR expires > ?2) GROUP BY collection",
            )?;
            let rows = stmt.query_map(params![scope, now], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            for row in rows {
                let (name, n) = row?;
                out.insert(
                    name.clone(),
                    CollectionInfo {
                        name,
                        records: n as u64,
                        indexes: Vec::new(),
                        schema: None,
                    },
                );
            }
            for (name, settings) in settings_of(conn, scope)? {
                let info = out.entry(name.clone()).or_insert(CollectionInfo {
                    name,
                    records: 0,
                    indexes: Vec::new(),
                    schema: None,
                });
                info.indexes = settings.indexes;
                info.schema = settings.schema;
            }
            Ok(out.into_values().collect())
        })
    }

    /// Sets what `collection` indexes and checks (see [`CollectionSettings`]); the schema is
    /// checked against the records already there, and refused when one does not match.
    pub fn configure(
        &self,
        scope: &str,
        collection: &str,
        settings: CollectionSettings,
    ) -> Result<CollectionInfo> {
        check_collection(collection)?;
        let (owned_scope, name) = (scope.to_string(), collection.to_string());
        self.writer
            .run(move |w| w.configure(&owned_scope, &name, &settings))?;
        self.collections(scope)?
            .into_iter()
            .find(|c| c.name == collection)
            .ok_or_else(|| Error::new(ErrorKind::Io, "the collection's settings were not kept"))
    }

    /// Deletes every record of `collection` and its settings; how many records there were.
    pub fn drop_collection(&self, scope: &str, collection: &str) -> Result<u64> {
        check_collection(collection)?;
        let (scope, name) = (scope.to_string(), collection.to_string());
        self.writer.run(move |w| w.drop_collection(&scope, &name))
    }

    /// Deletes every record and setting of a scope (a project deleted for good); how many records
    /// there were.
    pub fn remove_scope(&self, scope: &str) -> Result<u64> {
        let scope = scope.to_string();
        self.writer.run(move |w| w.remove_scope(&scope))
    }

    /// Writes the live records of a scope as JSON lines (one [`Record`] per line, by collection
    /// and key) to `out`, and returns the collections' settings; how many were written.
    pub fn export_scope(
        &self,
        scope: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<(u64, ScopeSettings)> {
        let now = (self.clock)();
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT collection, key, rev, doc, created, updated, expires FROM records
                 WHERE scope = ?1 AND (expires IS NULL OR expires > ?2) ORDER BY collection, key",
            )?;
            let mut rows = stmt.query(params![scope, now])?;
            let mut n = 0;
            while let Some(row) = rows.next()? {
                let collection: String = row.get(0)?;
                let record = record_at(collection, row, 1)?;
                let mut line = serde_json::to_vec(&record)
                    .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
                line.push(b'\n');
                out.write_all(&line).map_err(|e| {
                    Error::new(ErrorKind::Io, format!("cannot write the records out: {e}"))
                })?;
                n += 1;
            }
            Ok((
                n,
                ScopeSettings {
                    collections: settings_of(conn, scope)?,
                },
            ))
        })
    }

    /// Replaces every record and setting of a scope with those read from JSON lines (as
    /// [`Records::export_scope`] writes them) and `settings`, in one transaction; each record gets
    /// a new revision. How many records were read.
    pub fn import_scope(
        &self,
        scope: &str,
        lines: &mut dyn std::io::BufRead,
        settings: ScopeSettings,
    ) -> Result<u64> {
        let mut records = Vec::new();
        let mut line = String::new();
        let mut number = 0;
        loop {
            line.clear();
            number += 1;
            let read = lines
                .read_line(&mut line)
                .map_err(|e| Error::new(ErrorKind::Io, format!("cannot read the records: {e}")))?;
            if read == 0 {
                break;
            }
            if line.trim().is_empty() {
                continue;
            }
            let r: Record = serde_json::from_str(&line).map_err(|e| {
                Error::new(
                    ErrorKind::Corrupt,
                    format!("line {number} of the records is not a record: {e}"),
                )
            })?;
            check_collection(&r.collection)?;
            check_key(&r.key)?;
            records.push(r);
        }
        let scope = scope.to_string();
        let n = records.len() as u64;
        self.writer
            .run(move |w| w.import_scope(&scope, &records, &settings))?;
        Ok(n)
    }

    /// What SQLite's integrity check finds wrong with the database (empty when it is sound).
    pub fn integrity_problems(&self) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare("PRAGMA integrity_check")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for row in rows {
                let row = row?;
                if row != "ok" {
                    out.push(row);
                }
            }
            Ok(out)
        })
    }

    /// Every scope that holds records or collection settings.
    pub fn scopes(&self) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT DISTINCT scope FROM records UNION SELECT DISTINCT scope FROM collections",
            )?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The first and the last second (Unix time) at or after `since` in which a write changed
    /// a record or a collection's settings; `None` when none did. Expiry is not a change. The
    /// log keeps [`CHANGE_LOG_SECS`]: a `since` older than that sees only what is kept.
    pub fn changes_since(&self, since: i64) -> Result<Option<(i64, i64)>> {
        self.read(|conn| {
            let (first, last) = conn
                .prepare_cached("SELECT min(at), max(at) FROM change_log WHERE at >= ?1")?
                .query_row([since], |r| {
                    Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?))
                })?;
            Ok(first.zip(last))
        })
    }

    /// Copies the database, consistent as of one moment, to `dest` (for backups).
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let _ = std::fs::remove_file(dest);
        self.read(|conn| Ok(conn.backup(rusqlite::MAIN_DB, dest, None)?))
    }
}

/// The condition every query starts from: the records of `collection` in `scope` that have not
/// expired at `now`.
fn live_records(scope: &str, collection: &str, now: i64) -> Where {
    let mut w = Where {
        conditions: Vec::new(),
        params: Vec::new(),
    };
    let scope_p = w.bind(rusqlite::types::Value::Text(scope.into()));
    let coll_p = w.bind(rusqlite::types::Value::Text(collection.into()));
    let now_p = w.bind(rusqlite::types::Value::Integer(now));
    w.conditions.push(format!(
        "scope = {scope_p} AND collection = {coll_p} AND (expires IS NULL OR expires > {now_p})"
    ));
    w
}

/// Adds the condition that the key starts with `prefix`, as a range of keys.
fn add_key_prefix(w: &mut Where, prefix: &str) {
    let from = w.bind(rusqlite::types::Value::Text(prefix.into()));
    let mut cond = format!("key >= {from}");
    if let Some(end) = query::prefix_end(prefix) {
        let to = w.bind(rusqlite::types::Value::Text(end));
        cond.push_str(&format!(" AND key < {to}"));
    }
    w.conditions.push(cond);
}

/// The order of a query's page: by a field then the key, or by the key alone.
struct Order {
    /// The field sorted on, if any.
    field: Option<FieldPath>,
    /// Descending.
    desc: bool,
    /// How a later record's sort value compares with an earlier one's (`<` when descending).
    cmp: &'static str,
    /// `ASC` or `DESC`.
    dir: &'static str,
}

impl Order {
    /// The order `q` asks for.
    fn of(q: &RecordQuery) -> Result<Order> {
        let sort = q.sort.as_deref().map(FieldPath::parse).transpose()?;
        let (cmp, dir) = if q.desc { ("<", "DESC") } else { (">", "ASC") };
        Ok(Order {
            field: sort,
            desc: q.desc,
            cmp,
            dir,
        })
    }
}

/// Adds the condition that a record comes after the cursor (the last of the page before) in
/// `order`.
fn add_cursor(w: &mut Where, cursor: &str, order: &Order) -> Result<()> {
    let (sort, cmp) = (&order.field, order.cmp);
    let c = Cursor::decode(cursor)?;
    let k = w.bind(rusqlite::types::Value::Text(c.key));
    let cond = match (sort, c.value) {
        (None, _) => format!("key {cmp} {k}"),
        (Some(path), v) => {
            let e = path.expr();
            match (v.unwrap_or(Value::Null), order.desc) {
                (Value::Null, false) => {
                    format!("(({e} IS NULL AND key > {k}) OR {e} IS NOT NULL)")
                }
                (Value::Null, true) => format!("({e} IS NULL AND key < {k})"),
                (v, desc) => {
                    let v = w.bind(query::to_sql(&v));
                    let nulls = if desc {
                        format!(" OR {e} IS NULL")
                    } else {
                        String::new()
                    };
                    format!("({e} {cmp} {v} OR ({e} = {v} AND key {cmp} {k}){nulls})")
                }
            }
        }
    };
    w.conditions.push(cond);
    Ok(())
}

/// Runs a page's statement: at most `limit` records, and the cursor to the next page when there
/// are more.
fn read_page(
    conn: &Connection,
    sql: &str,
    params: &[rusqlite::types::Value],
    collection: &str,
    order: &Order,
    limit: u32,
) -> Result<RecordPage> {
    let sort = &order.field;
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    let mut records = Vec::new();
    let mut last_sort = None;
    let mut more = false;
    while let Some(row) = rows.next()? {
        if records.len() == limit as usize {
            more = true;
            break;
        }
        records.push(record_of(collection, row)?);
        last_sort = Some(row.get::<_, rusqlite::types::Value>(6)?);
    }
    let next = match (more, records.last()) {
        (true, Some(last)) => Some(
            Cursor {
                value: sort.as_ref().and(last_sort.map(query::from_sql)),
                key: last.key.clone(),
            }
            .encode(),
        ),
        _ => None,
    };
    Ok(RecordPage { records, next })
}

fn record_of(collection: &str, row: &rusqlite::Row) -> rusqlite::Result<Record> {
    record_at(collection.to_string(), row, 0)
}

/// The record in `row`, whose columns from `at` on are key, rev, doc, created, updated, expires.
fn record_at(collection: String, row: &rusqlite::Row, at: usize) -> rusqlite::Result<Record> {
    let doc: String = row.get(at + 2)?;
    let value = serde_json::from_str(&doc).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(at + 2, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Record {
        collection,
        key: row.get(at)?,
        rev: row.get::<_, i64>(at + 1)? as u64,
        value,
        created: row.get(at + 3)?,
        updated: row.get(at + 4)?,
        expires: row.get(at + 5)?,
    })
}

/// The settings of the collections of a scope that have any.
fn settings_of(conn: &Connection, scope: &str) -> Result<BTreeMap<String, CollectionSettings>> {
    let mut stmt = conn
        .prepare_cached("SELECT collection, indexes, schema FROM collections WHERE scope = ?1")?;
    let rows = stmt.query_map([scope], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (name, indexes, schema) = row?;
        let corrupt = |e: serde_json::Error| {
            Error::new(
                ErrorKind::Corrupt,
                format!("the settings of collection '{name}' are damaged: {e}"),
            )
        };
        let settings = CollectionSettings {
            indexes: serde_json::from_str(&indexes).map_err(corrupt)?,
            schema: schema
                .map(|s| serde_json::from_str(&s))
                .transpose()
                .map_err(corrupt)?,
        };
        out.insert(name, settings);
    }
    Ok(out)
}

/// Refuses a collection name that is not 1–64 letters, digits, `_`, `-` and `.` (starting with a
/// letter or digit).
pub fn check_collection(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "'{}' is not a collection name: use 1 to 64 letters, digits, '_', '-' and '.', starting with a letter or digit",
            name.escape_debug()
        )))
    }
}

/// Refuses a key that is empty, longer than [`MAX_KEY_BYTES`] or holds control characters.
pub fn check_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid("a record's key cannot be empty"));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::invalid(format!(
            "a record's key is at most {MAX_KEY_BYTES} bytes, this one {}",
            key.len()
        )));
    }
    if key.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "the key '{}' holds control characters, which keys cannot",
            key.escape_debug()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
