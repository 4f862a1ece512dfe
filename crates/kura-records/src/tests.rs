use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use super::*;

struct Fixture {
    _dir: tempfile::TempDir,
    records: Records,
    now: Arc<AtomicI64>,
}

fn open() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicI64::new(1_000_000));
    let clock = now.clone();
    let records = Records::open_with_clock(
        &dir.path().join("records.db"),
        Arc::new(move || clock.load(Ordering::SeqCst)),
    )
    .unwrap();
    Fixture {
        _dir: dir,
        records,
        now,
    }
}

fn put(c: &str, k: &str, v: Value) -> RecordPut {
    RecordPut {
        collection: c.into(),
        key: k.into(),
        value: v,
        ..Default::default()
    }
}

fn keys(page: &RecordPage) -> Vec<&str> {
    page.records.iter().map(|r| r.key.as_str()).collect()
}

const P: &str = "project-1";

#[test]
fn a_record_comes_back_as_written_and_each_write_gets_a_higher_revision() {
    let f = open();
    let first = f
        .records
        .put(P, put("notes", "plan", json!({"text": "ship it", "n": 1})))
        .unwrap();
    let got = f.records.get(P, "notes", "plan").unwrap();
    assert_eq!(got, first);
    assert_eq!(got.value, json!({"text": "ship it", "n": 1}));
    let second = f
        .records
        .put(P, put("notes", "plan", json!({"text": "shipped"})))
        .unwrap();
    assert!(second.rev > first.rev);
    assert_eq!(
        second.created, first.created,
        "an update keeps the creation time"
    );
    // Another scope and the vault's own records are apart.
    assert_eq!(
        f.records
            .get("project-2", "notes", "plan")
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        f.records
            .get(VAULT_SCOPE, "notes", "plan")
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
}

#[test]
fn compare_and_set_refuses_a_stale_revision_and_a_revision_is_never_reused() {
    let f = open();
    let a = f
        .records
        .put(
            P,
            RecordPut {
                if_rev: Some(0),
                ..put("tasks", "t1", json!(1))
            },
        )
        .unwrap();
    // Create-only fails once it exists.
    let err = f
        .records
        .put(
            P,
            RecordPut {
                if_rev: Some(0),
                ..put("tasks", "t1", json!(2))
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert!(err.message.contains("exists already"), "{err}");
    // Two agents read revision a.rev; the first write wins, the second is refused.
    let b = f
        .records
        .put(
            P,
            RecordPut {
                if_rev: Some(a.rev),
                ..put("tasks", "t1", json!(3))
            },
        )
        .unwrap();
    let err = f
        .records
        .put(
            P,
            RecordPut {
                if_rev: Some(a.rev),
                ..put("tasks", "t1", json!(4))
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert!(
        err.message.contains(&format!("at revision {}", b.rev)),
        "{err}"
    );
    assert_eq!(f.records.get(P, "tasks", "t1").unwrap().value, json!(3));
    // A delete with a stale revision is refused too; with the right one it goes.
    let err = f
        .records
        .delete(
            P,
            RecordDelete {
                collection: "tasks".into(),
                key: "t1".into(),
                if_rev: Some(a.rev),
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert!(f
        .records
        .delete(
            P,
            RecordDelete {
                collection: "tasks".into(),
                key: "t1".into(),
                if_rev: Some(b.rev)
            }
        )
        .unwrap());
    // Re-created after the delete, it does not get a revision an agent may still hold.
    let c = f.records.put(P, put("tasks", "t1", json!(5))).unwrap();
    assert!(c.rev > b.rev);
    let err = f
        .records
        .put(
            P,
            RecordPut {
                if_rev: Some(a.rev),
                ..put("tasks", "t1", json!(6))
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
}

#[test]
fn revisions_keep_growing_after_the_database_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.db");
    let before = {
        let r = Records::open(&path).unwrap();
        r.put(P, put("c", "a", json!(1))).unwrap();
        r.put(P, put("c", "b", json!(1))).unwrap().rev
    };
    let r = Records::open(&path).unwrap();
    assert!(r.put(P, put("c", "a", json!(2))).unwrap().rev > before);
}

#[test]
fn a_batch_is_written_whole_or_not_at_all() {
    let f = open();
    let old = f
        .records
        .put(P, put("tasks", "keep", json!("old")))
        .unwrap();
    let ops = vec![
        RecordOp::Put(put("tasks", "new1", json!(1))),
        RecordOp::Delete(RecordDelete {
            collection: "tasks".into(),
            key: "keep".into(),
            if_rev: None,
        }),
        RecordOp::Put(RecordPut {
            if_rev: Some(old.rev + 1000),
            ..put("tasks", "new2", json!(2))
        }),
    ];
    let err = f.records.batch(P, ops).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert!(err.message.contains("operation 3 of 3"), "{err}");
    assert!(
        err.message.contains("nothing of the batch was written"),
        "{err}"
    );
    assert_eq!(
        f.records.get(P, "tasks", "keep").unwrap().value,
        json!("old")
    );
    assert_eq!(
        f.records.get(P, "tasks", "new1").unwrap_err().kind,
        ErrorKind::NotFound
    );

    let done = f
        .records
        .batch(
            P,
            vec![
                RecordOp::Put(put("tasks", "new1", json!(1))),
                RecordOp::Delete(RecordDelete {
                    collection: "tasks".into(),
                    key: "keep".into(),
                    if_rev: Some(old.rev),
                }),
                RecordOp::Delete(RecordDelete {
                    collection: "tasks".into(),
                    key: "never".into(),
                    if_rev: None,
                }),
            ],
        )
        .unwrap();
    assert_eq!(
        done.iter().map(|d| d.existed).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(
        keys(&f.records.list(P, "tasks", None, None, None).unwrap()),
        ["new1"]
    );
}

#[test]
fn a_failing_write_does_not_fail_the_writes_committed_with_it() {
    let f = open();
    f.records.put(P, put("c", "taken", json!(1))).unwrap();
    let results: Vec<Result<Record>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let r = &f.records;
                s.spawn(move || {
                    if i % 4 == 0 {
                        r.put(
                            P,
                            RecordPut {
                                if_rev: Some(0),
                                ..put("c", "taken", json!(i))
                            },
                        )
                    } else {
                        r.put(P, put("c", &format!("k{i}"), json!(i)))
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.is_ok(), i % 4 != 0, "write {i}: {r:?}");
    }
    let page = f.records.list(P, "c", None, None, None).unwrap();
    assert_eq!(page.records.len(), 13);
    let revs: HashSet<u64> = page.records.iter().map(|r| r.rev).collect();
    assert_eq!(revs.len(), 13, "every write has a revision of its own");
}

#[test]
fn an_expired_record_is_gone_for_every_reader_and_swept_later() {
    let f = open();
    f.records
        .put(
            P,
            RecordPut {
                ttl_secs: Some(60),
                ..put("locks", "build", json!({"by": "agent-1"}))
            },
        )
        .unwrap();
    f.records
        .put(P, put("locks", "forever", json!(true)))
        .unwrap();
    assert_eq!(
        f.records.get(P, "locks", "build").unwrap().expires,
        Some(1_000_000 + 60_000)
    );
    f.now.fetch_add(60_001, Ordering::SeqCst);
    assert_eq!(
        f.records.get(P, "locks", "build").unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        keys(&f.records.list(P, "locks", None, None, None).unwrap()),
        ["forever"]
    );
    assert_eq!(f.records.collections(P).unwrap()[0].records, 1);
    // Taking an expired lock is a create, as if it were never there.
    let again = f
        .records
        .put(
            P,
            RecordPut {
                if_rev: Some(0),
                ..put("locks", "build", json!({"by": "agent-2"}))
            },
        )
        .unwrap();
    assert_eq!(again.created, f.now.load(Ordering::SeqCst));
    // The next write a second later sweeps what expired.
    f.records
        .put(
            P,
            RecordPut {
                ttl_secs: Some(1),
                ..put("locks", "short", json!(1))
            },
        )
        .unwrap();
    f.now.fetch_add(5_000, Ordering::SeqCst);
    f.records.put(P, put("locks", "other", json!(1))).unwrap();
    let conn = rusqlite::Connection::open(f.records.path()).unwrap();
    let stored: i64 = conn
        .query_row(
            "SELECT count(*) FROM records WHERE key = 'short'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0, "the expired record is still in the database");
}

fn seed_tasks(f: &Fixture) {
    let docs = [
        (
            "a",
            json!({"status": "open", "priority": 3, "title": "Fix login", "owner": {"name": "ana"}}),
        ),
        (
            "b",
            json!({"status": "done", "priority": 1, "title": "Fix logout"}),
        ),
        (
            "c",
            json!({"status": "open", "priority": "high", "title": "Write docs"}),
        ),
        (
            "d",
            json!({"status": "open", "priority": 2.5, "title": "Fixture data", "owner": {"name": "bo"}}),
        ),
        ("e", json!({"status": true, "priority": 1, "title": null})),
        ("f", json!({"status": "open"})),
    ];
    let ops = docs
        .into_iter()
        .map(|(k, v)| RecordOp::Put(put("tasks", k, v)))
        .collect();
    f.records.batch(P, ops).unwrap();
}

fn find(f: &Fixture, filters: Value) -> Vec<String> {
    let q = RecordQuery {
        filters: serde_json::from_value(filters).unwrap(),
        ..Default::default()
    };
    let page = f.records.query(P, "tasks", &q).unwrap();
    page.records.into_iter().map(|r| r.key).collect()
}

#[test]
fn filters_compare_like_json_does() {
    let f = open();
    seed_tasks(&f);
    assert_eq!(
        find(&f, json!([{"field": "status", "eq": "open"}])),
        ["a", "c", "d", "f"]
    );
    assert_eq!(find(&f, json!([{"field": "status", "eq": true}])), ["e"]);
    assert_eq!(
        find(&f, json!([{"field": "priority", "eq": 1}])),
        ["b", "e"]
    );
    // Ranges on numbers never match strings or booleans, and the other way round.
    assert_eq!(
        find(&f, json!([{"field": "priority", "gte": 2}])),
        ["a", "d"]
    );
    assert_eq!(
        find(&f, json!([{"field": "priority", "gt": 1, "lt": 3}])),
        ["d"]
    );
    assert_eq!(find(&f, json!([{"field": "priority", "gte": "a"}])), ["c"]);
    assert_eq!(
        find(&f, json!([{"field": "title", "prefix": "Fix"}])),
        ["a", "b", "d"]
    );
    assert_eq!(
        find(&f, json!([{"field": "title", "prefix": "Fix l"}])),
        ["a", "b"]
    );
    assert_eq!(find(&f, json!([{"field": "title", "eq": null}])), ["e"]);
    assert_eq!(
        find(&f, json!([{"field": "title", "exists": false}])),
        ["f"]
    );
    assert_eq!(
        find(&f, json!([{"field": "owner.name", "exists": true}])),
        ["a", "d"]
    );
    assert_eq!(
        find(
            &f,
            json!([{"field": "status", "eq": "open"}, {"field": "$.owner.name", "eq": "bo"}])
        ),
        ["d"]
    );
    for (bad, says) in [
        (json!([{"field": "status"}]), "says nothing to compare"),
        (
            json!([{"field": "status", "eq": {"a": 1}}]),
            "array or object",
        ),
        (
            json!([{"field": "status", "gt": true}]),
            "ranges compare numbers or strings",
        ),
        (
            json!([{"field": "a'); DROP TABLE records; --", "eq": 1}]),
            "not a field path",
        ),
    ] {
        let q = RecordQuery {
            filters: serde_json::from_value(bad).unwrap(),
            ..Default::default()
        };
        let err = f.records.query(P, "tasks", &q).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(err.message.contains(says), "{err}");
    }
    assert_eq!(
        f.records
            .list(P, "tasks", None, None, None)
            .unwrap()
            .records
            .len(),
        6
    );
}

/// Walks every page of `q` and returns the keys in order.
fn all_pages(f: &Fixture, q: &RecordQuery) -> Vec<String> {
    let mut out = Vec::new();
    let mut q = q.clone();
    loop {
        let page = f.records.query(P, "tasks", &q).unwrap();
        assert!(page.records.len() <= q.limit.unwrap() as usize);
        out.extend(page.records.into_iter().map(|r| r.key));
        match page.next {
            Some(next) => q.cursor = Some(next),
            None => return out,
        }
    }
}

#[test]
fn pages_sorted_by_a_field_hold_every_record_once_in_order() {
    let f = open();
    // Ties, missing values, numbers and strings in one field.
    let mut ops = Vec::new();
    for i in 0..57 {
        let rank = match i % 5 {
            0 => Value::Null,
            1 => json!(i % 3),
            2 => json!(format!("r{}", i % 4)),
            3 => json!({"x": 1}),
            _ => json!(i as f64 / 7.0),
        };
        let doc = if i % 11 == 0 {
            json!({})
        } else {
            json!({ "rank": rank })
        };
        ops.push(RecordOp::Put(put("tasks", &format!("k{i:02}"), doc)));
    }
    f.records.batch(P, ops).unwrap();
    for indexed in [false, true] {
        if indexed {
            f.records
                .configure(
                    P,
                    "tasks",
                    CollectionSettings {
                        indexes: vec!["rank".into()],
                        schema: None,
                    },
                )
                .unwrap();
        }
        for desc in [false, true] {
            for limit in [1, 4, 10] {
                let q = RecordQuery {
                    sort: Some("rank".into()),
                    desc,
                    limit: Some(limit),
                    ..Default::default()
                };
                let paged = all_pages(&f, &q);
                let whole = f
                    .records
                    .query(
                        P,
                        "tasks",
                        &RecordQuery {
                            limit: Some(1000),
                            ..q.clone()
                        },
                    )
                    .unwrap();
                let expected: Vec<String> = whole.records.into_iter().map(|r| r.key).collect();
                assert_eq!(expected.len(), 57);
                assert_eq!(
                    paged, expected,
                    "desc {desc}, limit {limit}, indexed {indexed}"
                );
            }
        }
    }
    // By key, with a prefix.
    let q = RecordQuery {
        key_prefix: Some("k1".into()),
        limit: Some(3),
        ..Default::default()
    };
    assert_eq!(
        all_pages(&f, &q),
        (10..20).map(|i| format!("k{i}")).collect::<Vec<_>>()
    );
}

#[test]
fn an_indexed_field_is_queried_through_its_index() {
    let f = open();
    seed_tasks(&f);
    let info = f
        .records
        .configure(
            P,
            "tasks",
            CollectionSettings {
                indexes: vec!["$.status".into(), "owner.name".into()],
                schema: None,
            },
        )
        .unwrap();
    assert_eq!(info.indexes, ["owner.name", "status"]);
    assert_eq!(info.records, 6);
    let conn = rusqlite::Connection::open(f.records.path()).unwrap();
    let path = query::FieldPath::parse("status").unwrap();
    let plan: Vec<String> = conn
        .prepare(&format!(
            "EXPLAIN QUERY PLAN SELECT key FROM records WHERE scope = 'p' AND collection = 'tasks' AND {} = 'open'",
            path.expr()
        ))
        .unwrap()
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert!(
        plan.iter().any(|p| p.contains(&path.index_name())),
        "{plan:?}"
    );
    // Another collection indexing the same field shares the index; dropping both removes it.
    f.records
        .configure(
            P,
            "other",
            CollectionSettings {
                indexes: vec!["status".into()],
                schema: None,
            },
        )
        .unwrap();
    let count = || -> i64 {
        conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'records_field_%'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(count(), 2);
    f.records
        .configure(P, "tasks", CollectionSettings::default())
        .unwrap();
    assert_eq!(count(), 1);
    f.records.drop_collection(P, "other").unwrap();
    assert_eq!(count(), 0);
    assert_eq!(
        find(&f, json!([{"field": "status", "eq": "open"}])),
        ["a", "c", "d", "f"]
    );
}

#[test]
fn a_schema_refuses_writes_that_do_not_match_and_cannot_be_set_over_records_that_do_not() {
    let f = open();
    let schema = json!({
        "type": "object",
        "required": ["title"],
        "properties": {"title": {"type": "string"}, "done": {"type": "boolean"}}
    });
    f.records
        .configure(
            P,
            "tasks",
            CollectionSettings {
                indexes: vec![],
                schema: Some(schema.clone()),
            },
        )
        .unwrap();
    f.records
        .put(P, put("tasks", "ok", json!({"title": "a", "done": false})))
        .unwrap();
    let err = f
        .records
        .put(P, put("tasks", "bad", json!({"title": 42})))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(
        err.message
            .contains("does not match the schema of collection 'tasks'"),
        "{err}"
    );
    assert!(err.message.contains("/title"), "{err}");
    assert_eq!(
        f.records.get(P, "tasks", "bad").unwrap_err().kind,
        ErrorKind::NotFound
    );
    // Other collections are not checked.
    f.records.put(P, put("notes", "x", json!(42))).unwrap();
    // A schema the notes already break is refused, and one that is not a schema too.
    let err = f
        .records
        .configure(
            P,
            "notes",
            CollectionSettings {
                indexes: vec![],
                schema: Some(schema),
            },
        )
        .unwrap_err();
    assert!(err.message.contains("the schema is not set"), "{err}");
    assert_eq!(err.kind, ErrorKind::Conflict);
    let err = f
        .records
        .configure(
            P,
            "notes",
            CollectionSettings {
                indexes: vec![],
                schema: Some(json!({"type": 12})),
            },
        )
        .unwrap_err();
    assert!(err.message.contains("not a valid JSON Schema"), "{err}");
    // A schema that reaches for the network is refused, not fetched.
    let err = f
        .records
        .configure(
            P,
            "notes",
            CollectionSettings {
                indexes: vec![],
                schema: Some(json!({"$ref": "http://127.0.0.1:9/x.json"})),
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput, "{err}");
}

#[test]
fn bad_names_keys_and_sizes_are_refused_with_a_reason() {
    let f = open();
    for (c, k) in [
        ("", "k"),
        ("a/b", "k"),
        ("_x", "k"),
        ("c", ""),
        ("c", "a\nb"),
        ("c", &"k".repeat(600)),
    ] {
        let err = f.records.put(P, put(c, k, json!(1))).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput, "{c:?} {k:?}");
    }
    let big = json!("x".repeat(MAX_VALUE_BYTES));
    assert_eq!(
        f.records.put(P, put("c", "k", big)).unwrap_err().kind,
        ErrorKind::TooLarge
    );
    // Keys can hold what names on disk cannot.
    for k in ["a/b/../c", "ключ", "with space", "%2F", "?x=1#y"] {
        f.records.put(P, put("c", k, json!(k))).unwrap();
        assert_eq!(f.records.get(P, "c", k).unwrap().value, json!(k));
    }
    let err = f
        .records
        .query(
            P,
            "c",
            &RecordQuery {
                limit: Some(5000),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(err.message.contains("follow `next`"), "{err}");
    assert_eq!(
        f.records
            .list(P, "c", None, Some("nonsense"), None)
            .unwrap_err()
            .kind,
        ErrorKind::InvalidInput
    );
    let many = RecordQuery {
        filters: (0..MAX_FILTERS + 1)
            .map(|i| RecordFilter {
                field: format!("f{i}"),
                exists: Some(true),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let err = f.records.query(P, "c", &many).unwrap_err();
    assert!(err.message.contains("at most 32 conditions"), "{err}");
}

#[test]
fn a_scope_travels_as_json_lines_and_leaves_with_a_hard_delete() {
    let f = open();
    seed_tasks(&f);
    f.records
        .configure(
            P,
            "tasks",
            CollectionSettings {
                indexes: vec!["status".into()],
                schema: Some(json!({"type": "object"})),
            },
        )
        .unwrap();
    f.records
        .put(
            P,
            RecordPut {
                ttl_secs: Some(3600),
                ..put("locks", "l", json!(1))
            },
        )
        .unwrap();
    f.records
        .put("project-2", put("tasks", "other", json!(1)))
        .unwrap();
    let mut lines = Vec::new();
    let (n, settings) = f.records.export_scope(P, &mut lines).unwrap();
    assert_eq!(n, 7);
    let text = String::from_utf8(lines.clone()).unwrap();
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["collection"], "locks");
    assert_eq!(first["value"], 1);
    assert_eq!(settings.collections["tasks"].indexes, ["status"]);

    assert_eq!(f.records.remove_scope(P).unwrap(), 7);
    assert!(f.records.collections(P).unwrap().is_empty());
    assert_eq!(
        f.records.get("project-2", "tasks", "other").unwrap().value,
        json!(1)
    );

    let back = f
        .records
        .import_scope("project-3", &mut lines.as_slice(), settings)
        .unwrap();
    assert_eq!(back, 7);
    let colls = f.records.collections("project-3").unwrap();
    assert_eq!(
        colls
            .iter()
            .map(|c| (c.name.as_str(), c.records))
            .collect::<Vec<_>>(),
        [("locks", 1), ("tasks", 6)]
    );
    assert_eq!(colls[1].schema, Some(json!({"type": "object"})));
    assert_eq!(find_in(&f, "project-3"), ["a", "c", "d", "f"]);
    let lock = f.records.get("project-3", "locks", "l").unwrap();
    assert_eq!(
        lock.expires,
        Some(1_000_000 + 3_600_000),
        "the expiry travels too"
    );

    let err = f
        .records
        .import_scope(
            "project-4",
            &mut &b"{\"not\": \"a record\"}\n"[..],
            ScopeSettings::default(),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Corrupt);
    assert!(err.message.contains("line 1"), "{err}");
}

fn find_in(f: &Fixture, scope: &str) -> Vec<String> {
    let q = RecordQuery {
        filters: vec![RecordFilter {
            field: "status".into(),
            eq: Some(json!("open")),
            ..Default::default()
        }],
        ..Default::default()
    };
    f.records
        .query(scope, "tasks", &q)
        .unwrap()
        .records
        .into_iter()
        .map(|r| r.key)
        .collect()
}

#[test]
fn a_schema_set_by_another_process_checks_the_next_write_here() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.db");
    let here = Records::open(&path).unwrap();
    let there = Records::open(&path).unwrap();
    here.put(P, put("notes", "a", json!({"text": "ok"})))
        .unwrap();
    there
        .configure(
            P,
            "notes",
            CollectionSettings {
                indexes: vec![],
                schema: Some(json!({"required": ["text"]})),
            },
        )
        .unwrap();
    let err = here
        .put(P, put("notes", "b", json!({"txt": "typo"})))
        .unwrap_err();
    assert!(err.message.contains("does not match the schema"), "{err}");
    there
        .configure(P, "notes", CollectionSettings::default())
        .unwrap();
    here.put(P, put("notes", "b", json!({"txt": "fine now"})))
        .unwrap();
}

#[test]
fn two_processes_writing_one_database_never_give_out_the_same_revision() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.db");
    let a = Records::open(&path).unwrap();
    let b = Records::open(&path).unwrap();
    let mut revs = HashSet::new();
    for i in 0..20 {
        let writer = if i % 3 == 0 { &a } else { &b };
        let r = writer
            .put(P, put("c", &format!("k{}", i % 4), json!(i)))
            .unwrap();
        assert!(revs.insert(r.rev), "revision {} given out twice", r.rev);
    }
    // A revision read through one and written over through the other still guards the write.
    let seen = a.get(P, "c", "k0").unwrap();
    b.put(P, put("c", "k0", json!("b was here"))).unwrap();
    let err = a
        .put(
            P,
            RecordPut {
                if_rev: Some(seen.rev),
                ..put("c", "k0", json!("a"))
            },
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
}

#[test]
fn the_change_log_tells_since_when_records_changed_and_ignores_reads_and_refusals() {
    let f = open();
    assert_eq!(f.records.changes_since(0).unwrap(), None);
    f.records.put(P, put("notes", "a", json!(1))).unwrap();
    // 1,000,000 ms is second 1,000.
    assert_eq!(f.records.changes_since(0).unwrap(), Some((1000, 1000)));
    f.now.store(1_004_500, Ordering::SeqCst);
    f.records.get(P, "notes", "a").unwrap();
    f.records
        .put(
            P,
            RecordPut {
                if_rev: Some(0),
                ..put("notes", "a", json!(2))
            },
        )
        .unwrap_err();
    assert_eq!(
        f.records.changes_since(1001).unwrap(),
        None,
        "a read or a refused write is not a change"
    );
    f.records
        .delete(
            P,
            RecordDelete {
                collection: "notes".into(),
                key: "a".into(),
                if_rev: None,
            },
        )
        .unwrap();
    assert_eq!(f.records.changes_since(0).unwrap(), Some((1000, 1004)));
    assert_eq!(f.records.changes_since(1001).unwrap(), Some((1004, 1004)));
    // What is older than the log's span is forgotten when the next change is noted.
    f.now
        .store((1004 + CHANGE_LOG_SECS + 1) * 1000, Ordering::SeqCst);
    f.records.put(P, put("notes", "b", json!(3))).unwrap();
    let last = 1004 + CHANGE_LOG_SECS + 1;
    assert_eq!(f.records.changes_since(0).unwrap(), Some((last, last)));
}
