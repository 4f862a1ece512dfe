//! Each endpoint group's answers, success and error, over real HTTP.

use std::io::Read;
use std::time::Duration;

use http_body_util::BodyExt;
use kura_server::Scope;
use serde_json::{json, Value};

use crate::harness::{project_with_file, TestServer};

#[tokio::test]
async fn vault_status_stats_config_quota() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Admin);
    let r = c.get("/v1/status").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["vault"], s.vault_root().display().to_string());
    assert_eq!(c.get("/v1/stats").await.status, 200);
    assert_eq!(c.get("/v1/quota").await.status, 200);
    assert_eq!(c.get("/v1/templates").await.status, 200);
    assert_eq!(c.get("/v1/cleanup/runs").await.status, 200);
    assert_eq!(c.get("/v1/cleanup/next").await.status, 200);
    let r = c.get("/v1/config").await;
    assert_eq!(r.status, 200);
    let r = c
        .patch(
            "/v1/config",
            json!({"key": "archive.archive_after_days", "value": "30"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["archive"]["archive_after_days"], 30);
    let r = c
        .patch("/v1/config", json!({"key": "no.such_key", "value": "1"}))
        .await;
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"));
    let r = c
        .patch(
            "/v1/config",
            json!({"key": "archive.archive_after_days", "value": "soon"}),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (422, "invalid_input"));
    let r = c
        .call("PATCH", "/v1/config")
        .header("content-type", "application/json")
        .bytes("{not json")
        .send()
        .await;
    assert_eq!((r.status, r.code().as_str()), (422, "invalid_input"));
    let r = c.get("/v1/nothing-here").await;
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"));
    // A path parameter that is not UTF-8 once decoded is the client's fault, said in the error
    // shape of every other error: on a route written from its call's entry, on a hand-written
    // one, and on a file's path.
    for path in [
        "/v1/projects/%FF",
        "/v1/backups/targets/%FF/prune",
        "/v1/projects/site/files/%FF",
    ] {
        let r = if path.ends_with("prune") {
            c.post(path, json!({"dry_run": true})).await
        } else {
            c.get(path).await
        };
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "bad_request"),
            "{path}"
        );
        assert!(
            r.json()["message"].as_str().unwrap().contains("UTF-8"),
            "{path}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn workspaces_create_rename_switch_delete() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Admin);
    let r = c.post("/v1/workspaces", json!({"name": "work"})).await;
    assert_eq!(r.status, 201);
    assert_eq!(
        c.post("/v1/workspaces", json!({"name": "work"}))
            .await
            .code(),
        "already_exists"
    );
    // The body names the argument it carries: `{"name": ...}` is refused, saying what is missing.
    let r = c.patch("/v1/workspaces/work", json!({"name": "job"})).await;
    assert_eq!((r.status, r.code().as_str()), (422, "invalid_input"));
    assert!(r.json()["message"].as_str().unwrap().contains("`new_name`"));
    assert_eq!(
        c.patch("/v1/workspaces/work", json!({"new_name": "job"}))
            .await
            .json()["name"],
        "job"
    );
    assert_eq!(
        c.post("/v1/workspaces/job/switch", json!({})).await.status,
        200
    );
    let list = c.get("/v1/workspaces").await.json();
    assert!(list.as_array().unwrap().iter().any(|w| w["name"] == "job"));
    assert_eq!(
        c.post("/v1/workspaces/default/switch", json!({}))
            .await
            .status,
        200
    );
    assert_eq!(c.delete("/v1/workspaces/job").await.status, 200);
    assert_eq!(c.delete("/v1/workspaces/job").await.status, 404);
    s.stop().await;
}

#[tokio::test]
async fn projects_create_list_edit_tag_trash() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Write);
    let id = project_with_file(&c, "site", "index.html", b"<h1>hi</h1>").await;
    project_with_file(&c, "api", "main.rs", b"fn main() {}").await;
    assert_eq!(
        c.post("/v1/projects", json!({"name": "site"})).await.code(),
        "already_exists"
    );
    assert_eq!(
        c.post("/v1/projects", json!({"name": ""})).await.status,
        422
    );
    let r = c
        .patch(
            &format!("/v1/projects/{id}"),
            json!({"name": "web", "description": "the site"}),
        )
        .await;
    assert_eq!(r.json()["name"], "web");
    assert_eq!(r.json()["description"], "the site");
    // An edit is one change: refused as a whole when a part is refused (no such workspace),
    // and announced once when it lands.
    let r = c
        .patch(
            &format!("/v1/projects/{id}"),
            json!({"name": "renamed", "description": "changed", "workspace": "nowhere"}),
        )
        .await;
    assert_eq!(r.code(), "not_found");
    let p = c.get(&format!("/v1/projects/{id}")).await.json();
    assert_eq!(
        (p["name"].as_str(), p["description"].as_str()),
        (Some("web"), Some("the site"))
    );
    let before = s.api.events().last_id().unwrap();
    c.post("/v1/workspaces", json!({"name": "clients"})).await;
    let r = c
        .patch(
            &format!("/v1/projects/{id}"),
            json!({"name": "shop", "workspace": "clients", "kind": "web"}),
        )
        .await;
    assert_eq!(
        (r.json()["name"].as_str(), r.json()["workspace"].as_str()),
        (Some("shop"), Some("clients"))
    );
    let changes: Vec<_> = s
        .api
        .events()
        .since(before, &["vault.changed".to_string()], 100)
        .unwrap()
        .events
        .into_iter()
        .filter(|e| e.project_id.as_deref() == Some(id.as_str()))
        .collect();
    assert_eq!(changes.len(), 1, "one event for one edit: {changes:?}");
    let r = c
        .patch(
            &format!("/v1/projects/{id}"),
            json!({"name": "web", "workspace": "default"}),
        )
        .await;
    assert_eq!(r.json()["name"], "web");
    let r = c
        .post(
            &format!("/v1/projects/{id}/tags"),
            json!({"add": ["blue", "green"]}),
        )
        .await;
    assert_eq!(r.json()["tags"], json!(["blue", "green"]));
    let r = c
        .patch(
            &format!("/v1/projects/{id}/metadata"),
            json!({"changes": [{"key": "owner", "value": "me"}]}),
        )
        .await;
    assert_eq!(r.json()["metadata"]["owner"], "me");
    let names = |v: Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(c.get("/v1/projects?tags=blue").await.json()), ["web"]);
    assert_eq!(
        names(c.get("/v1/projects?metadata=owner=me").await.json()),
        ["web"]
    );
    assert_eq!(
        names(c.get("/v1/projects?sort=name").await.json()),
        ["api", "web"]
    );
    assert_eq!(c.get("/v1/projects?sort=sideways").await.status, 422);
    assert_eq!(c.get("/v1/projects/web").await.json()["id"], id);
    assert_eq!(c.get("/v1/projects/nope").await.code(), "not_found");
    let r = c.post(&format!("/v1/projects/{id}/trash"), json!({})).await;
    assert_eq!(r.json()["status"], "deleted");
    assert_eq!(
        names(
            c.get("/v1/projects?status=deleted&all_workspaces=true")
                .await
                .json()
        ),
        ["web"]
    );
    assert_eq!(
        c.post(&format!("/v1/projects/{id}/untrash"), json!({}))
            .await
            .json()["status"],
        "active"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_named_pipe_or_a_device_is_refused_at_once_by_read_preview_and_upload() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Write);
    let id = project_with_file(&c, "site", "a.txt", b"a").await;
    let folder = c.get(&format!("/v1/projects/{id}")).await.json()["path"]
        .as_str()
        .unwrap()
        .to_string();
    // Opening a pipe with no writer to read it would wait for a writer forever.
    mkfifo(&std::path::Path::new(&folder).join("pipe"));
    for path in [
        format!("/v1/projects/{id}/files/pipe"),
        format!("/v1/projects/{id}/preview?path=pipe"),
    ] {
        let r = tokio::time::timeout(Duration::from_secs(60), c.get(&path))
            .await
            .unwrap_or_else(|_| panic!("{path} waited on the pipe"));
        assert_eq!(
            r.status,
            422,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let message = r.json()["message"].as_str().unwrap().to_string();
        assert!(message.contains("not a regular file"), "{message}");
    }
    // The server still answers, and the file beside the pipe still reads.
    assert_eq!(
        c.get(&format!("/v1/projects/{id}/files/a.txt")).await.body,
        b"a"
    );
    // Copied in from the server's disk, a device or a pipe is refused before anything is
    // copied: `/dev/zero` would fill the disk, a pipe hold the operation for ever.
    let admin = s.client(Scope::Admin);
    let pipe = s.dir.path().join("pipe");
    mkfifo(&pipe);
    for source in [std::path::PathBuf::from("/dev/zero"), pipe] {
        let r = admin
            .call("POST", format!("/v1/projects/{id}/upload?wait=true"))
            .json(json!({"sources": [source]}))
            .send()
            .await;
        assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
        assert!(
            r.json()["message"].as_str().unwrap().contains("not a file"),
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }
    s.stop().await;
}

fn mkfifo(path: &std::path::Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

#[tokio::test]
async fn files_save_read_range_rename_delete_upload() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Write);
    let id = project_with_file(&c, "site", "src/app.js", b"0123456789").await;
    let r = c.get(&format!("/v1/projects/{id}/files/src/app.js")).await;
    assert_eq!((r.status, r.body.as_slice()), (200, &b"0123456789"[..]));
    assert_eq!(r.header("accept-ranges").as_deref(), Some("bytes"));
    let r = c
        .call("GET", format!("/v1/projects/{id}/files/src/app.js"))
        .header("range", "bytes=2-5")
        .send()
        .await;
    assert_eq!((r.status, r.body.as_slice()), (206, &b"2345"[..]));
    assert_eq!(r.header("content-range").as_deref(), Some("bytes 2-5/10"));
    let r = c
        .call("GET", format!("/v1/projects/{id}/files/src/app.js"))
        .header("range", "bytes=-3")
        .send()
        .await;
    assert_eq!(r.body, b"789");
    let r = c
        .call("GET", format!("/v1/projects/{id}/files/src/app.js"))
        .header("range", "bytes=20-")
        .send()
        .await;
    assert_eq!(r.status, 416);
    assert_eq!(
        c.get(&format!("/v1/projects/{id}/files/missing.txt"))
            .await
            .code(),
        "not_found"
    );
    let r = c
        .call(
            "PUT",
            format!("/v1/projects/{id}/files/..%2F..%2Fescape.txt"),
        )
        .bytes("x")
        .send()
        .await;
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    let list = c.get(&format!("/v1/projects/{id}/files")).await.json();
    assert_eq!(list[0]["path"], "src/app.js");
    assert_eq!(list[0]["size"], 10);
    let p = c
        .get(&format!("/v1/projects/{id}/preview?path=src/app.js"))
        .await
        .json();
    assert_eq!(p["text"], "0123456789");
    assert_eq!(
        c.post(
            &format!("/v1/projects/{id}/files-rename"),
            json!({"from": "src/app.js", "to": "app.js"})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        c.get(&format!("/v1/projects/{id}/files/app.js"))
            .await
            .status,
        200
    );
    // Deleting a file may lose what no version holds yet: the admin's.
    let r = c.delete(&format!("/v1/projects/{id}/files/app.js")).await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let admin = s.client(Scope::Admin);
    assert_eq!(
        admin
            .delete(&format!("/v1/projects/{id}/files/app.js"))
            .await
            .status,
        200
    );
    assert_eq!(
        c.get(&format!("/v1/projects/{id}/files/app.js"))
            .await
            .status,
        404
    );

    // A browser's multipart upload: one part per file, the filename its relative path.
    let boundary = "XkuraBoundary";
    let mut body = Vec::new();
    for (name, content) in [("docs/readme.md", "# hi\n"), ("logo.svg", "<svg/>")] {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n{content}\r\n").as_bytes());
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    let r = c
        .call(
            "POST",
            format!("/v1/projects/{id}/upload?dest_dir=assets&wait=true"),
        )
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .bytes(body)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["result"]["files"], 2);
    let r = c
        .get(&format!("/v1/projects/{id}/files/assets/docs/readme.md"))
        .await;
    assert_eq!(r.body, b"# hi\n");
    // A part that would land outside the project.
    let evil = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../x\"\r\n\r\nx\r\n--{boundary}--\r\n");
    let r = c
        .call("POST", format!("/v1/projects/{id}/upload"))
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .bytes(evil)
        .send()
        .await;
    assert_eq!((r.status, r.code().as_str()), (422, "path_escape"));
    s.stop().await;
}

#[tokio::test]
async fn snapshot_versions_diff_restore_and_export_stream() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Write);
    let id = project_with_file(&c, "site", "a.txt", b"one\n").await;
    let r = c
        .call("POST", format!("/v1/projects/{id}/snapshot?wait=true"))
        .json(json!({"message": "first"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let op = r.json();
    assert_eq!(op["state"], "succeeded");
    assert_eq!(op["project_id"], id);
    let first = op["result"]["version"]["id"].as_str().unwrap().to_string();
    c.call("PUT", format!("/v1/projects/{id}/files/a.txt"))
        .bytes("two\n")
        .send()
        .await;
    // Without wait: 202 and a Location to follow.
    let r = c
        .call("POST", format!("/v1/projects/{id}/snapshot"))
        .send()
        .await;
    assert_eq!(r.status, 202);
    let location = r.header("location").unwrap();
    let done = c.get(&format!("{location}?wait=true")).await.json();
    assert_eq!(done["state"], "succeeded");
    let versions = c.get(&format!("/v1/projects/{id}/versions")).await.json();
    let versions = versions.as_array().unwrap();
    assert!(versions.len() >= 3);
    // Every version made through this door, the first (the project's creation) too, says so.
    for v in versions {
        assert_eq!(v["trigger"], "http", "{v}");
    }
    assert_eq!(
        c.get(&format!("/v1/projects/{id}/versions?path=a.txt"))
            .await
            .status,
        200
    );
    let d = c.get(&format!("/v1/projects/{id}/diff?from={first}")).await;
    assert_eq!(d.status, 200);
    assert!(d.body.windows(3).any(|w| w == b"two"));
    assert_eq!(
        c.get(&format!("/v1/projects/{id}/diff?from=zzzz"))
            .await
            .status
            / 100,
        4
    );

    // What the restore will do, before it runs; nothing once the folder matches.
    let plan = c
        .get(&format!("/v1/projects/{id}/restore-plan?version={first}"))
        .await
        .json();
    assert_eq!(plan["write"], json!(["a.txt"]));
    assert_eq!(plan["remove"], json!([]));
    assert_eq!(
        c.get(&format!("/v1/projects/{id}/restore-plan?version=zzzz"))
            .await
            .code(),
        "invalid_input"
    );
    // Restoring may overwrite what no version holds: the admin's, as MCP's
    // `--allow-destructive` is.
    let restore = |c: crate::harness::Client| {
        let path = format!("/v1/projects/{id}/restore?wait=true");
        let body = json!({"version": first});
        async move { c.call("POST", path).json(body).send().await }
    };
    assert_eq!(restore(c.clone()).await.status, 403);
    let r = restore(s.client(Scope::Admin)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        c.get(&format!("/v1/projects/{id}/files/a.txt")).await.body,
        b"one\n"
    );
    let plan = c
        .get(&format!("/v1/projects/{id}/restore-plan?version={first}"))
        .await
        .json();
    assert_eq!(
        (plan["write"].clone(), plan["unsaved"].clone()),
        (json!([]), json!(0))
    );

    // The latest version as a streamed tar.zst.
    let res = c
        .call("GET", format!("/v1/projects/{id}/export.tar.zst"))
        .open()
        .await;
    assert_eq!(res.status(), 200);
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let mut tar = tar::Archive::new(zstd::Decoder::new(&bytes[..]).unwrap());
    let mut found = None;
    for entry in tar.entries().unwrap() {
        let mut e = entry.unwrap();
        if e.path().unwrap().ends_with("a.txt") {
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
            found = Some(s);
        }
    }
    assert_eq!(found.as_deref(), Some("one\n"));
    assert_eq!(
        c.get("/v1/projects/nope/export.tar.zst").await.code(),
        "not_found"
    );
    let r = c.post("/v1/projects/nope/snapshot", json!({})).await;
    assert_eq!(r.code(), "not_found");
    s.stop().await;
}

#[tokio::test]
async fn archive_and_unarchive() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Write);
    let id = project_with_file(&c, "old", "a.txt", b"keep me\n").await;
    c.call("POST", format!("/v1/projects/{id}/snapshot?wait=true"))
        .send()
        .await;
    let r = c
        .call("POST", format!("/v1/projects/{id}/archive?wait=true"))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // What the archive moved aside is removed in the background by the service that archived.
    let bin = s.api.vault().root().join("discard");
    let waited = std::time::Instant::now();
    while std::fs::read_dir(&bin).map_or(0, |d| d.count()) > 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "the archived folder was never removed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let archives = c.get("/v1/archives").await.json();
    assert_eq!(archives.as_array().unwrap().len(), 1);
    let archive_id = archives[0]["id"].as_str().unwrap().to_string();
    let r = c
        .call(
            "POST",
            format!("/v1/archives/{archive_id}/verify?wait=true"),
        )
        .send()
        .await;
    assert_eq!(r.status, 200);
    let r = c
        .call("POST", "/v1/archives/unarchive?wait=true")
        .json(json!({"archive": "old"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        c.get(&format!("/v1/projects/{id}/files/a.txt")).await.body,
        b"keep me\n"
    );
    s.stop().await;
}

#[tokio::test]
async fn operations_idempotency_key_chosen_id_and_cancel() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Write);
    let id = project_with_file(&c, "site", "a.txt", b"a").await;
    let count = |v: Value| v.as_array().unwrap().len();
    let before = count(c.get(&format!("/v1/projects/{id}/versions")).await.json());
    let first = c
        .call("POST", format!("/v1/projects/{id}/snapshot?wait=true"))
        .header("idempotency-key", "k-1")
        .send()
        .await
        .json();
    // A retry (waiting or not) answers the first request's operation.
    let again = c
        .call("POST", format!("/v1/projects/{id}/snapshot"))
        .header("idempotency-key", "k-1")
        .send()
        .await
        .json();
    assert_eq!(first["id"], again["id"]);
    let after = count(c.get(&format!("/v1/projects/{id}/versions")).await.json());
    assert_eq!(after, before + 1, "the work was done once");
    // The key with another request (another body, another endpoint) is refused, naming the
    // request it stands for, and nothing runs.
    for (path, body) in [
        (
            format!("/v1/projects/{id}/snapshot?wait=true"),
            json!({"allow_empty": true}),
        ),
        ("/v1/snapshot-changed?wait=true".to_string(), json!({})),
    ] {
        let r = c
            .call("POST", path.clone())
            .header("idempotency-key", "k-1")
            .json(body)
            .send()
            .await;
        assert_eq!((r.status, r.code().as_str()), (409, "conflict"), "{path}");
        let message = r.json()["message"].as_str().unwrap().to_string();
        assert!(
            message.contains(&format!("POST /v1/projects/{id}/snapshot")),
            "{message}"
        );
    }
    let after_refusals = count(c.get(&format!("/v1/projects/{id}/versions")).await.json());
    assert_eq!(after_refusals, after);

    let r = c
        .call("POST", format!("/v1/projects/{id}/snapshot?wait=true"))
        .header("kura-operation-id", "ui-job-7")
        .json(json!({"allow_empty": true}))
        .send()
        .await;
    assert_eq!(r.json()["id"], "ui-job-7");
    let r = c
        .call("POST", format!("/v1/projects/{id}/snapshot"))
        .header("kura-operation-id", "../bad")
        .send()
        .await;
    assert_eq!((r.status, r.code().as_str()), (422, "invalid_input"));
    assert!(c
        .get("/v1/operations")
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["id"] == "ui-job-7"));
    assert_eq!(c.get("/v1/operations/none-such").await.code(), "not_found");

    // A running operation, cancelled over HTTP: it ends cancelled.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let op = s
        .api
        .operations()
        .start("wait", None, Some("long-1".into()), None, move |job| {
            let _ = rx.recv_timeout(Duration::from_secs(60));
            job.check()?;
            Ok(())
        })
        .unwrap();
    let r = c.delete(&format!("/v1/operations/{}", op.id)).await;
    assert_eq!(r.status, 200);
    tx.send(()).unwrap();
    // Reading an operation is a read: 200 with the operation, whatever its end.
    let done = c.get("/v1/operations/long-1?wait=true").await.json();
    assert_eq!(done["state"], "cancelled");
    assert_eq!(done["error"]["code"], "cancelled");
    s.stop().await;
}

#[tokio::test]
async fn backups_to_a_folder_target_run_as_operations() {
    let s = TestServer::start().await;
    let admin = s.client(Scope::Admin);
    let id = project_with_file(&admin, "site", "a.txt", b"backed up\n").await;
    admin
        .call("POST", format!("/v1/projects/{id}/snapshot?wait=true"))
        .send()
        .await;
    let dest = s.dir.path().join("backups");
    let target = json!({"name": "usb", "location": {"kind": "folder", "path": dest}});
    let r = admin
        .post("/v1/backups/targets", json!({"target": target}))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let status = admin.get("/v1/backups/status").await.json();
    assert_eq!(status["targets"][0]["target"]["name"], "usb");
    let r = admin
        .call("POST", "/v1/backups/targets/usb/run?wait=true")
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["kind"], "backup");
    let runs = admin.get("/v1/backups/runs?target=usb").await.json();
    assert_eq!(runs.as_array().unwrap().len(), 1);
    let backups = admin.get("/v1/backups/targets/usb/backups").await.json();
    let backup = backups[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        admin
            .get(&format!("/v1/backups/targets/usb/backups/{backup}"))
            .await
            .status,
        200
    );
    let dest = s.dir.path().join("restored");
    let preview = admin
        .get(&format!(
            "/v1/backups/targets/usb/backups/{backup}/restore-preview?project=site&destination={}",
            dest.display()
        ))
        .await
        .json();
    assert_eq!(preview["whole"], false);
    assert_eq!(preview["rows"][0]["name"], "site");
    assert_eq!(preview["rows"][0]["to"], dest.display().to_string());
    let vars = admin
        .get("/v1/backups/secret-variables?name=off-site&kind=s3&encrypt=true")
        .await
        .json();
    let names: Vec<&str> = vars
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["variable"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "KURA_BACKUP_OFF_SITE_ACCESS_KEY_ID",
            "KURA_BACKUP_OFF_SITE_SECRET_ACCESS_KEY",
            "KURA_BACKUP_OFF_SITE_PASSPHRASE"
        ]
    );
    assert_eq!(
        admin
            .get("/v1/backups/secret-variables?name=x&kind=tape")
            .await
            .status,
        422
    );
    assert_eq!(
        admin
            .post("/v1/backups/targets/nope/run", json!({}))
            .await
            .code(),
        "not_found"
    );
    let write = s.client(Scope::Write);
    assert_eq!(
        write
            .post("/v1/backups/targets/usb/prune", json!({"dry_run": false}))
            .await
            .status,
        403
    );
    let r = write
        .call("POST", "/v1/backups/targets/usb/prune?wait=true")
        .json(json!({"dry_run": true}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(write.delete("/v1/backups/targets/usb").await.status, 403);
    assert_eq!(admin.delete("/v1/backups/targets/usb").await.status, 200);
    s.stop().await;
}

#[tokio::test]
async fn verify_gc_cleanup_templates_git_import_and_export_to_a_folder() {
    let s = TestServer::start().await;
    let admin = s.client(Scope::Admin);
    let id = project_with_file(&admin, "site", "a.txt", b"hello\n").await;
    admin
        .call("POST", format!("/v1/projects/{id}/snapshot?wait=true"))
        .send()
        .await;
    project_with_file(&admin, "other", "b.txt", b"other\n").await;

    let r = admin.call("POST", "/v1/verify?wait=true").send().await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["kind"], "verify");
    assert_eq!(r.json()["result"]["projects_checked"], 2);
    // One project, as the CLI and MCP verify one.
    let r = admin
        .call("POST", "/v1/verify?wait=true")
        .json(json!({"project": "site"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["project_id"], id);
    assert_eq!(r.json()["result"]["projects_checked"], 1);
    let r = admin
        .call("POST", "/v1/verify?wait=true")
        .json(json!({"project": "nope"}))
        .send()
        .await;
    assert_eq!(r.code(), "not_found");
    assert_eq!(
        admin.call("POST", "/v1/gc?wait=true").send().await.status,
        200
    );
    let r = admin
        .call("POST", "/v1/cleanup?wait=true")
        .json(json!({"dry_run": true}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["result"]["dry_run"], true);

    let r = admin
        .post(
            &format!("/v1/projects/{id}/template"),
            json!({"name": "starter"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let templates = admin.get("/v1/templates").await.json();
    assert!(templates
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "starter"));

    let r = admin
        .post(&format!("/v1/projects/{id}/git/init"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        admin
            .get(&format!("/v1/projects/{id}/git/status"))
            .await
            .status,
        200
    );
    assert_eq!(
        admin
            .get(&format!("/v1/projects/{id}/git/log?limit=5"))
            .await
            .status,
        200
    );

    // Export the latest version to a folder on the server's machine.
    let dest = s.dir.path().join("exported");
    let r = admin
        .call("POST", format!("/v1/projects/{id}/export?wait=true"))
        .json(json!({"dest": dest}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(std::fs::read(dest.join("a.txt")).unwrap(), b"hello\n");
    // And import that folder as a new project. A link in it leads out of it: no version holds
    // such a link, and the result names it beside the project.
    std::os::unix::fs::symlink("/etc", dest.join("outside")).unwrap();
    let r = admin
        .call("POST", "/v1/projects/import?wait=true")
        .json(json!({"path": dest, "options": {"name": "copy"}}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let imported = &r.json()["result"];
    assert_eq!(imported["project"]["name"], "copy");
    assert_eq!(imported["project"]["file_count"], 1, "{imported}");
    assert_eq!(imported["skipped"][0]["path"], "outside", "{imported}");
    assert!(
        imported["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("symbolic link"),
        "{imported}"
    );
    assert_eq!(imported["skipped"].as_array().unwrap().len(), 1);
    // A folder that is not there: the operation fails with the engine's code, and says so.
    let r = admin
        .call("POST", "/v1/projects/import?wait=true")
        .json(json!({"path": "/no/such/folder"}))
        .send()
        .await;
    let e = r.json();
    assert_eq!(r.status, 404, "{e}");
    assert_eq!(e["code"], "not_found");
    assert!(
        e["message"].as_str().unwrap().contains("/no/such/folder"),
        "{e}"
    );
    assert_eq!(e["operation"]["state"], "failed");
    assert_eq!(
        r.header("location"),
        Some(format!(
            "/v1/operations/{}",
            e["operation"]["id"].as_str().unwrap()
        ))
    );

    // A workspace with projects is not deleted without a place for them.
    admin.post("/v1/workspaces", json!({"name": "full"})).await;
    admin
        .patch(&format!("/v1/projects/{id}"), json!({"workspace": "full"}))
        .await;
    let r = admin.delete("/v1/workspaces/full").await;
    assert_eq!(r.status / 100, 4, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        admin
            .delete("/v1/workspaces/full?move_to=default")
            .await
            .status,
        200
    );
    s.stop().await;
}

#[tokio::test]
async fn shares_are_refused_through_a_folder_target_and_listed_and_revoked_by_id() {
    let s = TestServer::start().await;
    let admin = s.client(Scope::Admin);
    let writer = s.client(Scope::Write);
    let id = project_with_file(&admin, "site", "a.txt", b"shared\n").await;
    admin
        .call("POST", format!("/v1/projects/{id}/snapshot?wait=true"))
        .send()
        .await;
    let dest = s.dir.path().join("drive");
    std::fs::create_dir_all(&dest).unwrap();
    let target = json!({"name": "usb", "location": {"kind": "folder", "path": dest}});
    assert_eq!(
        admin
            .post("/v1/backups/targets", json!({"target": target}))
            .await
            .status,
        200
    );
    // A folder has no link to hand out: the operation fails, naming the target.
    let r = writer
        .call("POST", format!("/v1/projects/{id}/shares?wait=true"))
        .json(json!({"target": "usb", "expires": "24h"}))
        .send()
        .await;
    let e = r.json();
    assert_eq!(e["operation"]["state"], "failed", "{e}");
    assert_eq!(e["code"], "invalid_input");
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("share through an S3 target"));
    // An unknown field, a missing project: refused as any request.
    let r = writer
        .call("POST", format!("/v1/projects/{id}/shares"))
        .json(json!({"target": "usb", "expires": "24h", "public": true}))
        .send()
        .await;
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    let r = writer
        .call("POST", "/v1/projects/nope/shares")
        .json(json!({"target": "usb", "expires": "24h"}))
        .send()
        .await;
    assert_eq!(r.status, 404);
    // Nothing was shared; revoking what does not exist is a 404.
    assert_eq!(
        s.client(Scope::Read).get("/v1/shares").await.json(),
        json!([])
    );
    assert_eq!(
        writer.get(&format!("/v1/shares?project={id}")).await.json(),
        json!([])
    );
    let r = writer.delete("/v1/shares/0123456789abcdef01234567").await;
    assert_eq!((r.status, r.code()), (404, "not_found".into()));
    // No expired share has a copy to delete; a read token may not ask.
    let r = writer.call("POST", "/v1/shares/prune").send().await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json(), json!({"deleted": []}));
    let r = s
        .client(Scope::Read)
        .call("POST", "/v1/shares/prune")
        .send()
        .await;
    assert_eq!(r.status, 403);
    s.stop().await;
}

#[tokio::test]
async fn the_command_bar_reads_commands_with_a_read_token_and_changes_nothing() {
    let s = TestServer::start().await;
    let admin = s.client(Scope::Admin);
    let id = project_with_file(&admin, "site", "a.txt", b"x\n").await;
    let reader = s.client(Scope::Read);
    let plan = reader.get("/v1/command?text=snapshot%20si").await.json();
    assert_eq!(plan["is_command"], true);
    assert_eq!(plan["completions"][0]["text"], "snapshot site", "{plan}");
    let plan = reader.get("/v1/command?text=archive%20site").await.json();
    assert_eq!(plan["action"]["kind"], "archive");
    assert_eq!(plan["action"]["project_id"], id.as_str());
    assert_eq!(plan["confirm"], true);
    let plan = reader
        .get(&format!("/v1/command?text=list%20files&project={id}"))
        .await
        .json();
    assert_eq!(plan["action"]["kind"], "list_files", "{plan}");
    let plan = reader.get("/v1/command?text=invoices").await.json();
    assert_eq!(plan["is_command"], false);
    let r = reader.get("/v1/command").await;
    assert_eq!(r.status, 422, "the text is required");
    assert_eq!(
        reader.get(&format!("/v1/projects/{id}")).await.json()["status"],
        "active"
    );
    s.stop().await;
}
