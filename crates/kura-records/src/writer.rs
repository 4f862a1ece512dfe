//! The writer thread: every write to the records database, committed in groups.
//!
//! Callers hand it work and wait for the answer. The thread takes whatever work has arrived
//! (up to [`GROUP_MAX`]), runs each piece in a savepoint of its own inside one transaction, and
//! commits once: under load, many writers share one fsync. A piece that fails is rolled back to
//! its savepoint and answered with its error; the others still commit. When the commit itself
//! fails, every piece of the group is answered with that error and nothing of it was kept.

use std::collections::{BTreeSet, HashMap};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::query::FieldPath;
use crate::{
    check_collection, check_key, Clock, CollectionSettings, Record, RecordDelete, RecordOp,
    RecordOpResult, RecordPut, ScopeSettings, MAX_INDEXES, MAX_VALUE_BYTES,
};

/// The most pieces of work one transaction takes.
const GROUP_MAX: usize = 1024;
/// Expired records are swept at most this often (ms), this many at a time.
const SWEEP_EVERY_MS: i64 = 1000;
const SWEEP_MAX: i64 = 1000;

/// A piece of work for the writer.
trait Work: Send {
    /// Runs inside the group's transaction, in a savepoint of its own when `alone` is false;
    /// keeps its answer. Whether it failed.
    fn run(&mut self, w: &mut State, alone: bool) -> bool;
    /// Answers the caller, once the group is committed (or with the group's error).
    fn finish(self: Box<Self>, group: Result<()>);
}

struct Task<T, F> {
    work: Option<F>,
    answer: Option<Result<T>>,
    reply: SyncSender<Result<T>>,
}

impl<T: Send, F: FnOnce(&mut State) -> Result<T> + Send> Work for Task<T, F> {
    fn run(&mut self, w: &mut State, alone: bool) -> bool {
        let Some(work) = self.work.take() else {
            return true;
        };
        // A savepoint makes SQLite copy every page the piece changes into a statement journal:
        // a piece alone in its group goes without, and a failure rolls back the whole group.
        if !alone {
            if let Err(e) = w.conn.execute_batch("SAVEPOINT piece") {
                self.answer = Some(Err(e.into()));
                return true;
            }
        }
        let answer = work(w);
        let failed = answer.is_err();
        let end = match (alone, failed) {
            (true, _) => Ok(()),
            (false, false) => w.conn.execute_batch("RELEASE piece"),
            (false, true) => w.conn.execute_batch("ROLLBACK TO piece; RELEASE piece"),
        };
        self.answer = Some(match end {
            Ok(()) => answer,
            Err(e) => Err(e.into()),
        });
        failed || self.answer.as_ref().is_some_and(|a| a.is_err())
    }

    fn finish(self: Box<Self>, group: Result<()>) {
        let answer = match group {
            Err(e) => Err(e),
            Ok(()) => self
                .answer
                .unwrap_or_else(|| Err(Error::new(ErrorKind::Io, "the write was not run"))),
        };
        let _ = self.reply.send(answer);
    }
}

/// The handle callers use. Dropping it lets the thread finish what was queued and close the
/// connection (which folds the write-ahead log into the database file).
pub(crate) struct Writer {
    queue: Mutex<Option<mpsc::Sender<Box<dyn Work>>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.queue.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Writer {
    pub fn start(conn: Connection, clock: Clock) -> Result<Writer> {
        let last_rev: i64 = conn.query_row("SELECT last FROM revision", [], |r| r.get(0))?;
        let (tx, rx) = mpsc::channel::<Box<dyn Work>>();
        let mut state = State {
            conn,
            clock,
            rev: last_rev as u64,
            rev_at_begin: last_rev as u64,
            validators: HashMap::new(),
            schemas_read: Default::default(),
            last_sweep: 0,
            now: 0,
        };
        let thread = std::thread::Builder::new()
            .name("kura-records-writer".into())
            .spawn(move || state.serve(rx))
            .map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("cannot start the records writer: {e}"),
                )
            })?;
        Ok(Writer {
            queue: Mutex::new(Some(tx)),
            thread: Some(thread),
        })
    }

    /// Runs `work` in the writer thread and waits for its answer (after the commit).
    pub fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut State) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = mpsc::sync_channel(1);
        let task = Box::new(Task {
            work: Some(work),
            answer: None,
            reply,
        });
        let stopped = || Error::new(ErrorKind::Io, "the records writer has stopped");
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .ok_or_else(stopped)?
            .send(task)
            .map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }
}

/// The writer thread's connection and what it remembers between groups.
pub(crate) struct State {
    conn: Connection,
    clock: Clock,
    /// The last revision given out (read from the database at the start of each group).
    rev: u64,
    /// `rev` when the group began (restored when it fails).
    rev_at_begin: u64,
    /// Compiled schemas by (scope, collection), with the schema text they were compiled from;
    /// `None`: the collection has none.
    #[allow(clippy::type_complexity)]
    validators: HashMap<(String, String), (Option<String>, Option<Arc<jsonschema::Validator>>)>,
    /// The collections whose schema this group has read.
    schemas_read: std::collections::HashSet<(String, String)>,
    last_sweep: i64,
    /// The group's time.
    now: i64,
}

impl State {
    fn serve(&mut self, rx: Receiver<Box<dyn Work>>) {
        while let Ok(first) = rx.recv() {
            let mut group = vec![first];
            while group.len() < GROUP_MAX {
                match rx.try_recv() {
                    Ok(w) => group.push(w),
                    Err(_) => break,
                }
            }
            let outcome = self.commit_group(&mut group);
            if outcome.is_err() {
                self.rev = self.rev_at_begin;
                self.validators.clear();
            }
            for work in group {
                work.finish(outcome.clone());
            }
        }
    }

    fn commit_group(&mut self, group: &mut [Box<dyn Work>]) -> Result<()> {
        self.now = (self.clock)();
        self.schemas_read.clear();
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        // Another process may have written since: the sequence goes on from the database's.
        let last: Result<i64> = self
            .conn
            .prepare_cached("SELECT last FROM revision")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(Error::from);
        match last {
            Ok(last) => self.rev = last as u64,
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
        self.rev_at_begin = self.rev;
        let alone = group.len() == 1;
        let rows_before = self.conn.total_changes();
        for work in group.iter_mut() {
            if work.run(self, alone) && alone {
                // Its own error is its answer; nothing of it is kept.
                self.conn.execute_batch("ROLLBACK")?;
                return Ok(());
            }
        }
        let changed = self.conn.total_changes() != rows_before;
        let logged = if changed { self.log_change() } else { Ok(()) };
        let end = logged.and_then(|()| self.sweep()).and_then(|()| {
            if self.rev != self.rev_at_begin {
                self.conn
                    .execute("UPDATE revision SET last = ?1", [self.rev as i64])?;
            }
            Ok(self.conn.execute_batch("COMMIT")?)
        });
        if end.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        end
    }

    /// Notes this group's second in the change log (once per second), forgetting what is older
    /// than [`crate::CHANGE_LOG_SECS`].
    fn log_change(&mut self) -> Result<()> {
        let at = self.now.div_euclid(1000);
        let added = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO change_log (at) VALUES (?1)")?
            .execute([at])?;
        if added > 0 {
            self.conn
                .prepare_cached("DELETE FROM change_log WHERE at < ?1")?
                .execute([at - crate::CHANGE_LOG_SECS])?;
        }
        Ok(())
    }

    /// Deletes records that expired (a few at a time, at most once a second).
    fn sweep(&mut self) -> Result<()> {
        if self.now - self.last_sweep < SWEEP_EVERY_MS {
            return Ok(());
        }
        self.last_sweep = self.now;
        self.conn.execute(
            "DELETE FROM records WHERE (scope, collection, key) IN (
                 SELECT scope, collection, key FROM records
                 WHERE expires IS NOT NULL AND expires <= ?1 LIMIT ?2)",
            params![self.now, SWEEP_MAX],
        )?;
        Ok(())
    }

    fn next_rev(&mut self) -> u64 {
        self.rev += 1;
        self.rev
    }

    /// The live record's revision and creation time, if there is one.
    fn current(&self, scope: &str, collection: &str, key: &str) -> Result<Option<(u64, i64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT rev, created FROM records
             WHERE scope = ?1 AND collection = ?2 AND key = ?3
               AND (expires IS NULL OR expires > ?4)",
        )?;
        Ok(stmt
            .query_row(params![scope, collection, key, self.now], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
            })
            .optional()?)
    }

    fn check_rev(
        collection: &str,
        key: &str,
        current: Option<(u64, i64)>,
        want: Option<u64>,
    ) -> Result<()> {
        let Some(want) = want else { return Ok(()) };
        let now = current.map_or(0, |c| c.0);
        if now == want {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Conflict,
            match (now, want) {
                (0, _) => format!(
                    "record '{key}' in '{collection}' does not exist (any more), so it is not at revision {want}; read it again and decide"
                ),
                (_, 0) => format!(
                    "record '{key}' in '{collection}' exists already (revision {now}); read it and write with its revision to change it"
                ),
                _ => format!(
                    "record '{key}' in '{collection}' is at revision {now}, not {want}: someone else changed it; read it again and decide"
                ),
            },
        ))
    }

    /// The compiled schema of a collection. The schema is read on every write (another process
    /// may have changed it) and compiled again only when its text changed.
    fn validator(
        &mut self,
        scope: &str,
        collection: &str,
    ) -> Result<Option<Arc<jsonschema::Validator>>> {
        let id = (scope.to_string(), collection.to_string());
        // Within one group (one transaction, holding the write lock) no other process changes
        // a schema: it is read once per collection.
        if self.schemas_read.contains(&id) {
            if let Some((_, v)) = self.validators.get(&id) {
                return Ok(v.clone());
            }
        }
        let schema: Option<String> = self
            .conn
            .prepare_cached("SELECT schema FROM collections WHERE scope = ?1 AND collection = ?2")?
            .query_row(params![scope, collection], |r| r.get(0))
            .optional()?
            .flatten();
        self.schemas_read.insert(id.clone());
        if let Some((text, v)) = self.validators.get(&id) {
            if *text == schema {
                return Ok(v.clone());
            }
        }
        let v = match &schema {
            None => None,
            Some(text) => {
                let parsed: Value = serde_json::from_str(text).map_err(|e| {
                    Error::new(
                        ErrorKind::Corrupt,
                        format!("the schema of collection '{collection}' is damaged: {e}"),
                    )
                })?;
                Some(Arc::new(compile(collection, &parsed)?))
            }
        };
        self.validators.insert(id, (schema, v.clone()));
        Ok(v)
    }

    pub fn put(&mut self, scope: &str, put: &RecordPut) -> Result<Record> {
        let (rev, created, expires) = self.write(scope, put)?;
        Ok(Record {
            collection: put.collection.clone(),
            key: put.key.clone(),
            rev,
            value: put.value.clone(),
            created,
            updated: self.now,
            expires,
        })
    }

    /// Writes one record: its revision, creation time and expiry.
    fn write(&mut self, scope: &str, put: &RecordPut) -> Result<(u64, i64, Option<i64>)> {
        check_collection(&put.collection)?;
        check_key(&put.key)?;
        let doc = serde_json::to_string(&put.value)
            .map_err(|e| Error::invalid(format!("the record is not JSON: {e}")))?;
        if doc.len() > MAX_VALUE_BYTES {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!(
                    "record '{}' is {} bytes of JSON; a record holds at most {MAX_VALUE_BYTES} (keep large content in the project's files)",
                    put.key,
                    doc.len()
                ),
            ));
        }
        if let Some(v) = self.validator(scope, &put.collection)? {
            check_schema(&v, &put.collection, &put.key, &put.value)?;
        }
        if put.if_rev.is_some() {
            let current = self.current(scope, &put.collection, &put.key)?;
            Self::check_rev(&put.collection, &put.key, current, put.if_rev)?;
        }
        let expires = match put.ttl_secs {
            None => None,
            Some(0) => return Err(Error::invalid("a time to live must be at least 1 second")),
            Some(secs) => Some(
                self.now
                    .saturating_add(i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)),
            ),
        };
        let rev = self.next_rev();
        // One statement writes the record and keeps its creation time (unless the old one had
        // expired: then it is a new record).
        let created: i64 = self
            .conn
            .prepare_cached(
                "INSERT INTO records (scope, collection, key, rev, doc, created, updated, expires)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)
                 ON CONFLICT (scope, collection, key) DO UPDATE SET
                     rev = excluded.rev, doc = excluded.doc, updated = excluded.updated,
                     expires = excluded.expires,
                     created = CASE WHEN records.expires IS NOT NULL AND records.expires <= ?6
                                    THEN excluded.created ELSE records.created END
                 RETURNING created",
            )?
            .query_row(
                params![
                    scope,
                    put.collection,
                    put.key,
                    rev as i64,
                    doc,
                    self.now,
                    expires
                ],
                |r| r.get(0),
            )?;
        Ok((rev, created, expires))
    }

    pub fn delete(&mut self, scope: &str, delete: &RecordDelete) -> Result<bool> {
        check_collection(&delete.collection)?;
        check_key(&delete.key)?;
        let current = self.current(scope, &delete.collection, &delete.key)?;
        Self::check_rev(&delete.collection, &delete.key, current, delete.if_rev)?;
        self.conn
            .prepare_cached(
                "DELETE FROM records WHERE scope = ?1 AND collection = ?2 AND key = ?3",
            )?
            .execute(params![scope, delete.collection, delete.key])?;
        Ok(current.is_some())
    }

    pub fn batch(&mut self, scope: &str, ops: &[RecordOp]) -> Result<Vec<RecordOpResult>> {
        let mut out = Vec::with_capacity(ops.len());
        for (i, op) in ops.iter().enumerate() {
            let (what, collection, key) = match op {
                RecordOp::Put(p) => ("put", &p.collection, &p.key),
                RecordOp::Delete(d) => ("delete", &d.collection, &d.key),
            };
            let done = match op {
                RecordOp::Put(p) => self.write(scope, p).map(|(rev, _, _)| (rev, true)),
                RecordOp::Delete(d) => self.delete(scope, d).map(|existed| (0, existed)),
            };
            let (rev, existed) = done.map_err(|e| Error {
                kind: e.kind,
                message: format!(
                    "operation {} of {} ({what} '{key}' in '{collection}'): {}; nothing of the batch was written",
                    i + 1,
                    ops.len(),
                    e.message
                ),
            })?;
            out.push(RecordOpResult {
                collection: collection.clone(),
                key: key.clone(),
                rev,
                existed,
            });
        }
        Ok(out)
    }

    pub fn configure(
        &mut self,
        scope: &str,
        collection: &str,
        settings: &CollectionSettings,
    ) -> Result<()> {
        if settings.indexes.len() > MAX_INDEXES {
            return Err(Error::invalid(format!(
                "a collection indexes at most {MAX_INDEXES} fields, not {}",
                settings.indexes.len()
            )));
        }
        let mut fields = BTreeSet::new();
        for f in &settings.indexes {
            fields.insert(FieldPath::parse(f)?.display());
        }
        let schema = match &settings.schema {
            None => None,
            Some(schema) => {
                let v = compile(collection, schema)?;
                self.check_existing(scope, collection, &v)?;
                Some(schema.to_string())
            }
        };
        let indexes = serde_json::to_string(&fields.iter().collect::<Vec<_>>())
            .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        self.conn.execute(
            "INSERT OR REPLACE INTO collections (scope, collection, indexes, schema) VALUES (?1, ?2, ?3, ?4)",
            params![scope, collection, indexes, schema],
        )?;
        self.validators
            .remove(&(scope.to_string(), collection.to_string()));
        self.reconcile_indexes()
    }

    /// Refuses a schema that a record already in the collection does not match.
    fn check_existing(
        &self,
        scope: &str,
        collection: &str,
        v: &jsonschema::Validator,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT key, doc FROM records WHERE scope = ?1 AND collection = ?2
               AND (expires IS NULL OR expires > ?3)",
        )?;
        let mut rows = stmt.query(params![scope, collection, self.now])?;
        while let Some(row) = rows.next()? {
            let key: String = row.get(0)?;
            let doc: String = row.get(1)?;
            let value: Value = serde_json::from_str(&doc).unwrap_or(Value::Null);
            // The schema is fine; the records already there are not: a conflict with them.
            check_schema(v, collection, &key, &value).map_err(|e| {
                Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "the schema is not set: {}; change or delete that record first",
                        e.message
                    ),
                )
            })?;
        }
        Ok(())
    }

    /// Makes the SQLite indexes on fields exactly those some collection asks for.
    fn reconcile_indexes(&mut self) -> Result<()> {
        let mut wanted = HashMap::new();
        {
            let mut stmt = self.conn.prepare("SELECT indexes FROM collections")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for row in rows {
                let list: Vec<String> = serde_json::from_str(&row?).unwrap_or_default();
                for f in list {
                    let path = FieldPath::parse(&f)?;
                    wanted.insert(path.index_name(), path);
                }
            }
        }
        let existing: Vec<String> = {
            let mut stmt = self.conn.prepare(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'records_field_%'",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for name in &existing {
            if !wanted.contains_key(name) {
                self.conn.execute_batch(&format!("DROP INDEX \"{name}\""))?;
            }
        }
        for (name, path) in &wanted {
            if !existing.contains(name) {
                self.conn.execute_batch(&format!(
                    "CREATE INDEX \"{name}\" ON records (scope, collection, {}, key)",
                    path.expr()
                ))?;
            }
        }
        Ok(())
    }

    pub fn drop_collection(&mut self, scope: &str, collection: &str) -> Result<u64> {
        let n = self.conn.execute(
            "DELETE FROM records WHERE scope = ?1 AND collection = ?2",
            params![scope, collection],
        )?;
        let had = self.conn.execute(
            "DELETE FROM collections WHERE scope = ?1 AND collection = ?2",
            params![scope, collection],
        )?;
        if n == 0 && had == 0 {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("there is no collection '{collection}'"),
            ));
        }
        self.validators
            .remove(&(scope.to_string(), collection.to_string()));
        self.reconcile_indexes()?;
        Ok(n as u64)
    }

    pub fn remove_scope(&mut self, scope: &str) -> Result<u64> {
        let n = self
            .conn
            .execute("DELETE FROM records WHERE scope = ?1", [scope])?;
        self.conn
            .execute("DELETE FROM collections WHERE scope = ?1", [scope])?;
        self.validators.retain(|(s, _), _| s != scope);
        self.reconcile_indexes()?;
        Ok(n as u64)
    }

    pub fn import_scope(
        &mut self,
        scope: &str,
        records: &[Record],
        settings: &ScopeSettings,
    ) -> Result<()> {
        self.remove_scope(scope)?;
        for r in records {
            if r.expires.is_some_and(|e| e <= self.now) {
                continue;
            }
            let doc = r.value.to_string();
            let rev = self.next_rev();
            self.conn
                .prepare_cached(
                    "INSERT OR REPLACE INTO records (scope, collection, key, rev, doc, created, updated, expires)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    scope,
                    r.collection,
                    r.key,
                    rev as i64,
                    doc,
                    r.created,
                    r.updated,
                    r.expires
                ])?;
        }
        for (name, s) in &settings.collections {
            check_collection(name)?;
            self.configure(scope, name, s)?;
        }
        Ok(())
    }
}

fn compile(collection: &str, schema: &Value) -> Result<jsonschema::Validator> {
    jsonschema::validator_for(schema).map_err(|e| {
        Error::invalid(format!(
            "the schema of collection '{collection}' is not a valid JSON Schema: {e}"
        ))
    })
}

fn check_schema(
    v: &jsonschema::Validator,
    collection: &str,
    key: &str,
    value: &Value,
) -> Result<()> {
    let problems: Vec<String> = v
        .iter_errors(value)
        .take(3)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("at {at}: {e}")
            }
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "record '{key}' does not match the schema of collection '{collection}': {}",
        problems.join("; ")
    )))
}
