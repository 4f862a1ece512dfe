//! The SQLite index `index.db`: chunk id → pack, offset, sizes. Derivable from the pack trailers.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::pack::PackEntry;
use crate::{ChunkId, Error, BUSY_TIMEOUT};

/// Schema version kept in `PRAGMA user_version`.
pub(crate) const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS chunks (
    id         BLOB PRIMARY KEY NOT NULL,
    pack       TEXT NOT NULL,
    offset     INTEGER NOT NULL,
    stored_len INTEGER NOT NULL,
    raw_len    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chunks_by_pack ON chunks(pack);
";

/// Where a chunk is stored.
#[derive(Clone, Debug)]
pub(crate) struct Location {
    pub pack: String,
    pub entry: PackEntry,
}

/// Opens (creating or migrating) the index database.
pub(crate) fn open(path: &Path) -> Result<Connection, Error> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets readers run beside a writer; FULL makes a commit durable once it returns, which
    // the writer's promise "after finish, indexed" needs.
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Error::UnsupportedSchema {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < SCHEMA_VERSION {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version == 0 {
            tx.execute_batch(SCHEMA)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        tx.commit()?;
    }
    Ok(conn)
}

fn entry_from_row(row: &rusqlite::Row<'_>, id: ChunkId) -> rusqlite::Result<PackEntry> {
    let offset: i64 = row.get("offset")?;
    let stored_len: i64 = row.get("stored_len")?;
    let raw_len: i64 = row.get("raw_len")?;
    // Out-of-range values become impossible sizes that the readers reject as corrupt.
    Ok(PackEntry {
        id,
        offset: u64::try_from(offset).unwrap_or(u64::MAX),
        stored_len: u32::try_from(stored_len).unwrap_or(u32::MAX),
        raw_len: u32::try_from(raw_len).unwrap_or(u32::MAX),
    })
}

fn id_from_blob(blob: Vec<u8>) -> ChunkId {
    let mut id = [0u8; 32];
    let n = blob.len().min(32);
    id[..n].copy_from_slice(&blob[..n]);
    id
}

/// The location of a chunk, if indexed.
pub(crate) fn lookup(conn: &Connection, id: &ChunkId) -> Result<Option<Location>, Error> {
    let mut stmt =
        conn.prepare_cached("SELECT pack, offset, stored_len, raw_len FROM chunks WHERE id = ?1")?;
    let found = stmt
        .query_row([&id[..]], |row| {
            Ok(Location {
                pack: row.get("pack")?,
                entry: entry_from_row(row, *id)?,
            })
        })
        .optional()?;
    Ok(found)
}

/// True when the chunk is indexed.
pub(crate) fn contains(conn: &Connection, id: &ChunkId) -> Result<bool, Error> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM chunks WHERE id = ?1")?;
    Ok(stmt.exists([&id[..]])?)
}

/// Inserts a row unless the id is already indexed; returns whether it was inserted.
pub(crate) fn insert(conn: &Connection, pack: &str, e: &PackEntry) -> Result<bool, Error> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO chunks (id, pack, offset, stored_len, raw_len)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let n = stmt.execute(params![
        &e.id[..],
        pack,
        e.offset as i64,
        e.stored_len,
        e.raw_len
    ])?;
    Ok(n == 1)
}

/// Every pack that has at least one index row.
pub(crate) fn packs(conn: &Connection) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare("SELECT DISTINCT pack FROM chunks ORDER BY pack")?;
    let packs = stmt
        .query_map([], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(packs)
}

/// Index rows of one pack, by offset.
pub(crate) fn pack_rows(conn: &Connection, pack: &str) -> Result<Vec<PackEntry>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, offset, stored_len, raw_len FROM chunks WHERE pack = ?1 ORDER BY offset",
    )?;
    let rows = stmt
        .query_map([pack], |row| {
            let id = id_from_blob(row.get("id")?);
            entry_from_row(row, id)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Number of index rows of one pack.
pub(crate) fn pack_row_count(conn: &Connection, pack: &str) -> Result<u64, Error> {
    let n: i64 = conn.query_row("SELECT count(*) FROM chunks WHERE pack = ?1", [pack], |r| {
        r.get(0)
    })?;
    Ok(n as u64)
}

/// (chunk count, sum of raw_len, sum of stored_len).
pub(crate) fn totals(conn: &Connection) -> Result<(u64, u64, u64), Error> {
    let (n, raw, stored): (i64, i64, i64) = conn.query_row(
        "SELECT count(*), coalesce(sum(raw_len), 0), coalesce(sum(stored_len), 0) FROM chunks",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok((n as u64, raw as u64, stored as u64))
}
