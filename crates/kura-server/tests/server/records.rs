//! Records over real HTTP: per project and for the vault, conditional writes with ETags, batches,
//! queries with cursors, collection settings, scopes and events.

use kura_server::Scope;
use serde_json::{json, Value};

use crate::harness::{project_with_file, read_until, sse_events, TestServer};

fn keys(page: &Value) -> Vec<String> {
    page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn records_put_get_conditional_writes_and_delete() {
    let s = TestServer::start().await;
    // Deletes are the admin's (`security.rs` holds the scopes).
    let c = s.client(Scope::Admin);
    let id = project_with_file(&c, "shop", "README.md", b"shop").await;
    let base = format!("/v1/projects/{id}/records/tasks");

    let r = c
        .call("PUT", format!("{base}/t1"))
        .header("if-none-match", "*")
        .json(json!({"title": "Fix login", "status": "open"}))
        .send()
        .await;
    assert_eq!(r.status, 200);
    let rev = r.json()["rev"].as_u64().unwrap();
    assert_eq!(r.header("etag"), Some(format!("\"{rev}\"")));
    // By name or by id, the same records.
    let r = c.get("/v1/projects/shop/records/tasks/t1").await;
    assert_eq!(r.json()["value"]["title"], "Fix login");
    assert_eq!(r.header("etag"), Some(format!("\"{rev}\"")));

    // Create-only again: 409. A write over the revision read: fine; over an old one: 409.
    let again = c
        .call("PUT", format!("{base}/t1"))
        .header("if-none-match", "*")
        .json(json!({}))
        .send()
        .await;
    assert_eq!((again.status, again.code()), (409, "conflict".into()));
    let r = c
        .call("PUT", format!("{base}/t1"))
        .header("if-match", &format!("\"{rev}\""))
        .json(json!({"title": "Fix login", "status": "done"}))
        .send()
        .await;
    assert_eq!(r.status, 200);
    let stale = c
        .call("PUT", format!("{base}/t1?if_rev={rev}"))
        .json(json!({"title": "lost update"}))
        .send()
        .await;
    assert_eq!(stale.status, 409);
    assert!(stale.json()["message"]
        .as_str()
        .unwrap()
        .contains("someone else changed it"));
    assert_eq!(
        c.get(&format!("{base}/t1")).await.json()["value"]["status"],
        "done"
    );

    // Keys with a slash, percent-encoded; a key with a control character is refused.
    let r = c
        .call("PUT", format!("{base}/a%2Fb%20c"))
        .json(json!(1))
        .send()
        .await;
    assert_eq!(r.json()["key"], "a/b c");
    assert_eq!(
        c.call("PUT", format!("{base}/a%0Ab"))
            .json(json!(1))
            .send()
            .await
            .code(),
        "invalid_input"
    );
    // A body that is not JSON, an unknown query parameter, a bad If-Match.
    let r = c
        .call("PUT", format!("{base}/x"))
        .bytes("not json")
        .send()
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        c.call("PUT", format!("{base}/x?iff_rev=1"))
            .json(json!(1))
            .send()
            .await
            .status,
        422
    );
    let r = c
        .call("PUT", format!("{base}/x"))
        .header("if-match", "soon")
        .json(json!(1))
        .send()
        .await;
    assert_eq!(r.code(), "invalid_input");

    // Delete, conditional too; a missing record says so.
    assert_eq!(c.get(&format!("{base}/nope")).await.code(), "not_found");
    let r = c.call("DELETE", format!("{base}/t1?if_rev=1")).send().await;
    assert_eq!(r.status, 409);
    // A delete has no time to live to take.
    let r = c
        .call("DELETE", format!("{base}/t1?ttl_secs=5"))
        .send()
        .await;
    assert_eq!(r.code(), "invalid_input");
    let message = r.json()["message"].as_str().unwrap().to_string();
    assert!(message.contains("ttl_secs"), "{message}");
    let r = c.delete(&format!("{base}/t1")).await;
    assert_eq!(r.json()["existed"], true);
    assert_eq!(
        c.delete(&format!("{base}/t1")).await.json()["existed"],
        false
    );
    assert_eq!(c.get(&format!("{base}/t1")).await.status, 404);

    // An unknown project is 404, not an empty list.
    assert_eq!(c.get("/v1/projects/nope/records").await.code(), "not_found");
    // A read token reads but cannot write.
    let reader = s.client(Scope::Read);
    assert_eq!(reader.get(&format!("{base}/a%2Fb%20c")).await.status, 200);
    assert_eq!(
        reader
            .call("PUT", format!("{base}/y"))
            .json(json!(1))
            .send()
            .await
            .status,
        403
    );
    s.stop().await;
}

#[tokio::test]
async fn records_batches_queries_settings_and_the_vault_scope() {
    let s = TestServer::start().await;
    // Deletes are the admin's (`security.rs` holds the scopes).
    let c = s.client(Scope::Admin);
    let id = project_with_file(&c, "shop", "README.md", b"shop").await;
    let root = format!("/v1/projects/{id}/records");

    let ops: Vec<Value> = (0..30)
        .map(|i| {
            json!({"op": "put", "collection": "tasks", "key": format!("t{i:02}"),
                   "value": {"priority": i % 4, "status": if i % 3 == 0 { "done" } else { "open" }}})
        })
        .collect();
    let r = c.post(&root, json!({ "ops": ops })).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().unwrap().len(), 30);
    // A batch with a failing operation changes nothing.
    let r = c
        .post(
            &root,
            json!({"ops": [
                {"op": "delete", "collection": "tasks", "key": "t00"},
                {"op": "put", "collection": "tasks", "key": "t01", "value": 1, "if_rev": 0}
            ]}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("operation 2 of 2"));
    assert_eq!(c.get(&format!("{root}/tasks/t00")).await.status, 200);

    // Index a field, then query it page by page.
    let r = c
        .call("PUT", format!("{root}/tasks"))
        .json(json!({"indexes": ["status", "priority"]}))
        .send()
        .await;
    assert_eq!(r.json()["indexes"], json!(["priority", "status"]));
    assert_eq!(r.json()["records"], 30);
    let mut q = json!({"where": [{"field": "status", "eq": "open"}, {"field": "priority", "gte": 2}],
                       "sort": "priority", "desc": true, "limit": 4});
    let mut found = Vec::new();
    loop {
        let page = c.post(&format!("{root}/tasks"), q.clone()).await.json();
        found.extend(keys(&page));
        match page["next"].as_str() {
            Some(next) => q["cursor"] = json!(next),
            None => break,
        }
    }
    let expected: Vec<String> = {
        let mut v: Vec<(i64, String)> = (0..30)
            .filter(|i| i % 3 != 0 && i % 4 >= 2)
            .map(|i| (i % 4, format!("t{i:02}")))
            .collect();
        v.sort_by(|a, b| b.cmp(a));
        v.into_iter().map(|(_, k)| k).collect()
    };
    assert_eq!(found, expected);
    let bad = c
        .post(
            &format!("{root}/tasks"),
            json!({"where": [{"field": "x'--", "eq": 1}]}),
        )
        .await;
    assert_eq!(bad.code(), "invalid_input");
    assert_eq!(
        c.post(&format!("{root}/tasks"), json!({"wher": []}))
            .await
            .status,
        422
    );
    // Listing by key prefix.
    let page = c
        .get(&format!("{root}/tasks?key_prefix=t1&limit=3"))
        .await
        .json();
    assert_eq!(keys(&page), ["t10", "t11", "t12"]);
    assert!(page["next"].is_string());

    // A schema refuses what does not match it.
    let r = c
        .call("PUT", format!("{root}/notes"))
        .json(json!({"schema": {"type": "object", "required": ["text"]}}))
        .send()
        .await;
    assert_eq!(r.status, 200);
    let r = c
        .call("PUT", format!("{root}/notes/n1"))
        .json(json!({"txt": "typo"}))
        .send()
        .await;
    assert_eq!(r.code(), "invalid_input");
    assert!(r.json()["message"].as_str().unwrap().contains("schema"));

    // The collections, then the vault's own records, apart from the project's.
    let list = c.get(&root).await.json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["notes", "tasks"]);
    assert_eq!(
        c.call("PUT", "/v1/records/settings/theme")
            .json(json!("dark"))
            .send()
            .await
            .status,
        200
    );
    assert_eq!(
        c.get("/v1/records/settings/theme").await.json()["value"],
        "dark"
    );
    assert_eq!(
        c.get("/v1/records").await.json().as_array().unwrap().len(),
        1
    );
    assert_eq!(c.get(&format!("{root}/settings/theme")).await.status, 404);
    // Dropping a collection needs admin.
    let write = s.client(Scope::Write);
    assert_eq!(write.delete(&format!("{root}/tasks")).await.status, 403);
    let admin = s.client(Scope::Admin);
    assert_eq!(
        admin.delete(&format!("{root}/tasks")).await.json()["records"],
        30
    );
    assert_eq!(c.get(&format!("{root}/tasks/t00")).await.status, 404);
    s.stop().await;
}

#[tokio::test]
async fn a_record_write_is_an_event() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Write);
    let id = project_with_file(&c, "shop", "README.md", b"shop").await;
    let mut stream = c
        .call("GET", "/v1/events?types=records.changed")
        .open()
        .await;
    let put = c
        .call("PUT", format!("/v1/projects/{id}/records/tasks/t1"))
        .json(json!({"a": 1}))
        .send()
        .await;
    assert_eq!(put.status, 200);
    let text = read_until(&mut stream, |t| t.contains("records.changed")).await;
    let events = sse_events(&text);
    let (_, _, data) = events.iter().find(|e| e.1 == "records.changed").unwrap();
    assert_eq!(data["data"]["collection"], "tasks");
    assert_eq!(data["data"]["keys"], json!(["t1"]));
    assert_eq!(data["project_id"], id);
    drop(stream);
    s.stop().await;
}
