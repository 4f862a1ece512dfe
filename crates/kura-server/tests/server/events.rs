//! The event stream: live, resumable exactly once, a gap when too far behind, ids increasing
//! across restarts.

use kura_server::Scope;
use serde_json::json;

use crate::harness::{read_until, sse_events, TestServer};

#[tokio::test]
async fn changes_are_announced_live_and_filtered_by_type() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Write);
    let mut all = c.call("GET", "/v1/events").open().await;
    assert_eq!(all.status(), 200);
    assert!(all.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut ops = c.call("GET", "/v1/events?types=operation.*").open().await;
    let r = c.post("/v1/projects", json!({"name": "live"})).await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    c.call("POST", format!("/v1/projects/{id}/snapshot?wait=true"))
        .json(json!({"allow_empty": true}))
        .send()
        .await;
    let text = read_until(&mut all, |t| t.contains("operation.finished")).await;
    let events = sse_events(&text);
    let first = &events[0];
    assert_eq!(first.1, "vault.changed");
    assert_eq!(
        first.2["data"],
        json!({"project_id": id, "reason": "created"})
    );
    assert_eq!(first.2["id"].as_i64(), first.0);
    let text = read_until(&mut ops, |t| t.contains("operation.finished")).await;
    let kinds: Vec<String> = sse_events(&text).into_iter().map(|e| e.1).collect();
    assert!(
        kinds.iter().all(|k| k.starts_with("operation.")),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"operation.started".to_string()));
    drop((all, ops));
    s.stop().await;
}

#[tokio::test]
async fn a_client_reconnecting_with_last_event_id_gets_every_event_exactly_once() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Write);
    let mut first = c.call("GET", "/v1/events?since=0").open().await;
    for name in ["a", "b"] {
        assert_eq!(
            c.post("/v1/projects", json!({"name": name})).await.status,
            201
        );
    }
    let text = read_until(&mut first, |t| sse_events(t).len() >= 2).await;
    let seen: Vec<i64> = sse_events(&text).iter().map(|e| e.0.unwrap()).collect();
    drop(first);
    // While disconnected.
    for name in ["c", "d", "e"] {
        assert_eq!(
            c.post("/v1/projects", json!({"name": name})).await.status,
            201
        );
    }
    let last = *seen.last().unwrap();
    let mut again = c
        .call("GET", "/v1/events")
        .header("last-event-id", &last.to_string())
        .open()
        .await;
    // And after reconnecting.
    assert_eq!(
        c.post("/v1/projects", json!({"name": "f"})).await.status,
        201
    );
    let text = read_until(&mut again, |t| sse_events(t).len() >= 4).await;
    let resumed: Vec<i64> = sse_events(&text).iter().map(|e| e.0.unwrap()).collect();
    let logged: Vec<i64> = s
        .api
        .events()
        .since(0, &[], 1000)
        .unwrap()
        .events
        .iter()
        .map(|e| e.id)
        .collect();
    let mut together = seen.clone();
    together.extend(&resumed);
    assert_eq!(together, logged, "every event once, in order");
    drop(again);

    // The NDJSON variant resumes the same way.
    let mut nd = c
        .call("GET", format!("/v1/events?since={last}&format=ndjson"))
        .open()
        .await;
    assert_eq!(nd.headers()["content-type"], "application/x-ndjson");
    let text = read_until(&mut nd, |t| {
        t.lines().filter(|l| !l.is_empty()).count() >= 4
    })
    .await;
    let ids: Vec<i64> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, resumed);
    drop(nd);
    s.stop().await;
}

#[tokio::test]
async fn a_client_too_far_behind_is_told_with_a_gap_event() {
    let s = TestServer::start().await;
    // Fill the log past what it keeps, through a second handle on the same log.
    {
        let log = kura_api::Events::open(&s.vault_root().join("events.db")).unwrap();
        for _ in 0..(kura_api::EVENTS_KEPT + 600) {
            log.emit("test.filler", None, json!({}));
        }
    }
    let c = s.client(Scope::Read);
    let mut res = c.call("GET", "/v1/events?since=1").open().await;
    let text = read_until(&mut res, |t| sse_events(t).len() >= 2).await;
    let events = sse_events(&text);
    assert_eq!(events[0].1, "gap");
    assert_eq!(events[0].2, json!({"since": 1}));
    assert!(
        events[1].0.unwrap() > 1 + 600 - 256,
        "the events after the gap follow: {:?}",
        events[1]
    );
    drop(res);
    // A client that is not behind gets no gap.
    let newest = s.api.events().last_id().unwrap();
    let mut res = c
        .call("GET", format!("/v1/events?since={}", newest - 1))
        .open()
        .await;
    let text = read_until(&mut res, |t| !sse_events(t).is_empty()).await;
    assert_eq!(sse_events(&text)[0].1, "test.filler");
    drop(res);
    s.stop().await;
}

#[tokio::test]
async fn event_ids_keep_increasing_after_a_restart() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Write);
    c.post("/v1/projects", json!({"name": "before"})).await;
    let before = s.api.events().last_id().unwrap();
    let dir = s.stop().await;
    let s = TestServer::start_with(dir, |_| {}).await;
    let c = s.client(Scope::Write);
    let mut res = c
        .call("GET", "/v1/events")
        .header("last-event-id", &before.to_string())
        .open()
        .await;
    c.post("/v1/projects", json!({"name": "after"})).await;
    let text = read_until(&mut res, |t| !sse_events(t).is_empty()).await;
    let e = &sse_events(&text)[0];
    assert!(e.0.unwrap() > before);
    assert_eq!(e.2["data"]["reason"], "created");
    drop(res);
    s.stop().await;
}

/// Versions through the API leave a pack each; once they are many, the history is rewritten
/// with deltas in the background (the server's answer did not wait for it) and that is
/// announced. Git reads every version back from the one pack left.
#[tokio::test]
async fn a_history_versions_left_in_many_packs_is_repacked_in_the_background_and_announced() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Write);
    let mut changes = c.call("GET", "/v1/events?types=vault.changed").open().await;
    let id = crate::harness::project_with_file(&c, "many", "notes.txt", b"0\n").await;
    let history = s.vault_root().join("histories").join(format!("{id}.git"));
    let packs = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(history.join("objects/pack"))
            .map(|rd| {
                rd.map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|e| e == "pack"))
                    .collect()
            })
            .unwrap_or_default()
    };
    // Versions (a pack each) until as many packs as make a repack due.
    let versions = kura_core::PACKS_BEFORE_REPACK - packs().len();
    for i in 1..=versions {
        let text: String = (0..200)
            .map(|l| format!("line {l} of version {i}\n"))
            .collect();
        let r = c
            .call("PUT", format!("/v1/projects/{id}/files/notes.txt"))
            .bytes(text.into_bytes())
            .send()
            .await;
        assert_eq!(r.status, 200);
        let r = c
            .call("POST", format!("/v1/projects/{id}/snapshot?wait=true"))
            .json(json!({}))
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let text = read_until(&mut changes, |t| t.contains("\"repacked\"")).await;
    let repacked = sse_events(&text)
        .into_iter()
        .find(|e| e.2["data"]["reason"] == "repacked")
        .expect("a repack is announced");
    assert_eq!(repacked.2["data"]["project_id"], json!(id));

    let left = packs();
    assert_eq!(left.len(), 1, "{left:?}");
    let fsck = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&history)
        .args(["fsck", "--full", "--strict"])
        .output()
        .unwrap();
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    let listed = c.get(&format!("/v1/projects/{id}/versions")).await.json();
    assert!(listed.as_array().unwrap().len() >= versions, "{listed}");
    drop(changes);
    s.stop().await;
}
