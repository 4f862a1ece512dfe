//! Records in-process, side by side with plain SQLite doing the same work (same pragmas: WAL,
//! `synchronous=FULL`; the same expression index): gets, durable single puts, batches of 1,000
//! puts and an indexed query, over a collection of N records. Prints one JSON object.
//!
//!   cargo run --release -p kura-records --example records_bench -- [N] [DIR]
//!
//! Run by `bench/records.sh`, which adds the HTTP numbers and prints the table.

use std::path::Path;
use std::time::Instant;

use kura_records::{CollectionSettings, RecordFilter, RecordOp, RecordPut, RecordQuery, Records};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

const SCOPE: &str = "bench-project";
const STATUSES: [&str; 50] = [
    "s00", "s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08", "s09", "s10", "s11", "s12",
    "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25",
    "s26", "s27", "s28", "s29", "s30", "s31", "s32", "s33", "s34", "s35", "s36", "s37", "s38",
    "s39", "s40", "s41", "s42", "s43", "s44", "s45", "s46", "s47", "s48", "s49",
];

/// A small deterministic generator (xorshift), so both sides get the same keys.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn doc(i: u64) -> Value {
    json!({
        "title": format!("Task number {i}"),
        "status": STATUSES[(i % 50) as usize],
        "priority": i % 5,
        "n": i,
        "tags": ["bench", "records"],
        "body": "Some text an agent kept about this task, long enough to look like a note.",
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at]
}

/// Milliseconds each call of `f` took, `n` times; (p50, p99).
fn timed(n: usize, mut f: impl FnMut(usize)) -> (f64, f64) {
    let mut times: Vec<f64> = (0..n)
        .map(|i| {
            let t = Instant::now();
            f(i);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

struct Side {
    get: (f64, f64),
    put: (f64, f64),
    batch: (f64, f64),
    query: (f64, f64),
    load_s: f64,
}

fn kura(dir: &Path, n: u64) -> Side {
    let records = Records::open(&dir.join("records.db")).unwrap();
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let ops = chunk
            .iter()
            .map(|&i| {
                RecordOp::Put(RecordPut {
                    collection: "tasks".into(),
                    key: format!("task-{i:07}"),
                    value: doc(i),
                    ..Default::default()
                })
            })
            .collect();
        records.batch(SCOPE, ops).unwrap();
    }
    records
        .configure(
            SCOPE,
            "tasks",
            CollectionSettings {
                indexes: vec!["status".into()],
                schema: None,
            },
        )
        .unwrap();
    let load_s = started.elapsed().as_secs_f64();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let get = timed(20_000, |_| {
        let key = format!("task-{:07}", rng.below(n));
        records.get(SCOPE, "tasks", &key).unwrap();
    });
    let put = timed(300, |i| {
        records
            .put(
                SCOPE,
                RecordPut {
                    collection: "tasks".into(),
                    key: format!("task-{:07}", i as u64 * 331 % n),
                    value: doc(i as u64),
                    ..Default::default()
                },
            )
            .unwrap();
    });
    let batch = timed(20, |b| {
        let ops = (0..1000u64)
            .map(|j| {
                RecordOp::Put(RecordPut {
                    collection: "tasks".into(),
                    key: format!("task-{:07}", (b as u64 * 1000 + j) * 7 % n),
                    value: doc(j),
                    ..Default::default()
                })
            })
            .collect();
        records.batch(SCOPE, ops).unwrap();
    });
    let query = timed(300, |i| {
        let q = RecordQuery {
            filters: vec![RecordFilter {
                field: "status".into(),
                eq: Some(json!(STATUSES[i % 50])),
                ..Default::default()
            }],
            limit: Some(100),
            ..Default::default()
        };
        let page = records.query(SCOPE, "tasks", &q).unwrap();
        assert_eq!(page.records.len(), 100);
    });
    Side {
        get,
        put,
        batch,
        query,
        load_s,
    }
}

/// The same work on one plain SQLite table with the same pragmas and index.
fn sqlite(dir: &Path, n: u64) -> Side {
    let conn = Connection::open(dir.join("plain.db")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE kv (key TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;",
    )
    .unwrap();
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let tx = conn.unchecked_transaction().unwrap();
        for &i in chunk {
            tx.prepare_cached("INSERT OR REPLACE INTO kv VALUES (?1, ?2)")
                .unwrap()
                .execute(params![format!("task-{i:07}"), doc(i).to_string()])
                .unwrap();
        }
        tx.commit().unwrap();
    }
    conn.execute_batch("CREATE INDEX kv_status ON kv (json_extract(doc, '$.\"status\"'), key)")
        .unwrap();
    let load_s = started.elapsed().as_secs_f64();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let get = timed(20_000, |_| {
        let key = format!("task-{:07}", rng.below(n));
        let text: String = conn
            .prepare_cached("SELECT doc FROM kv WHERE key = ?1")
            .unwrap()
            .query_row([key], |r| r.get(0))
            .unwrap();
        let _: Value = serde_json::from_str(&text).unwrap();
    });
    let put = timed(300, |i| {
        conn.prepare_cached("INSERT OR REPLACE INTO kv VALUES (?1, ?2)")
            .unwrap()
            .execute(params![
                format!("task-{:07}", i as u64 * 331 % n),
                doc(i as u64).to_string()
            ])
            .unwrap();
    });
    let batch = timed(20, |b| {
        let tx = conn.unchecked_transaction().unwrap();
        for j in 0..1000u64 {
            tx.prepare_cached("INSERT OR REPLACE INTO kv VALUES (?1, ?2)")
                .unwrap()
                .execute(params![
                    format!("task-{:07}", (b as u64 * 1000 + j) * 7 % n),
                    doc(j).to_string()
                ])
                .unwrap();
        }
        tx.commit().unwrap();
    });
    let query = timed(300, |i| {
        let mut stmt = conn
            .prepare_cached(
                "SELECT key, doc FROM kv WHERE json_extract(doc, '$.\"status\"') = ?1 ORDER BY key LIMIT 100",
            )
            .unwrap();
        let rows: Vec<(String, Value)> = stmt
            .query_map([STATUSES[i % 50]], |r| {
                Ok((
                    r.get(0)?,
                    serde_json::from_str(&r.get::<_, String>(1)?).unwrap(),
                ))
            })
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(rows.len(), 100);
    });
    Side {
        get,
        put,
        batch,
        query,
        load_s,
    }
}

fn side_json(s: &Side) -> Value {
    json!({
        "load_s": s.load_s,
        "get_p50_ms": s.get.0, "get_p99_ms": s.get.1,
        "put_p50_ms": s.put.0, "put_p99_ms": s.put.1,
        "batch_1000_p50_ms": s.batch.0, "batch_1000_p99_ms": s.batch.1,
        "query_p50_ms": s.query.0, "query_p99_ms": s.query.1,
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let scratch = match args.next() {
        Some(dir) => tempfile::tempdir_in(dir).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let k = kura(scratch.path(), n);
    let s = sqlite(scratch.path(), n);
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "records": n,
            "kura": side_json(&k),
            "sqlite": side_json(&s),
        }))
        .unwrap()
    );
}
