//! Paths on the server's machine (copy from, import, export, extract, restore to) are an admin
//! act: a `read` or `write` token is refused with 403 before anything is read or written.

use serde_json::json;

use crate::harness::{project_with_file, TestServer};
use kura_server::Scope;

#[tokio::test]
async fn a_write_token_cannot_copy_a_file_of_the_servers_machine_into_a_project() {
    let s = TestServer::start().await;
    let secret = s.dir.path().join("secret.txt");
    std::fs::write(&secret, b"the server's own file\n").unwrap();
    let admin = s.client(Scope::Admin);
    let id = project_with_file(&admin, "site", "a.txt", b"a").await;
    for scope in [Scope::Read, Scope::Write] {
        let r = s
            .client(scope)
            .call("POST", format!("/v1/projects/{id}/upload?wait=true"))
            .json(json!({"sources": [secret]}))
            .send()
            .await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "forbidden"),
            "{scope:?}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let r = s
        .client(Scope::Read)
        .get(&format!("/v1/projects/{id}/files/secret.txt"))
        .await;
    assert_eq!(r.status, 404, "the file was copied in");
    // A browser's multipart upload carries the bytes itself: a write token may send it.
    let boundary = "XkuraBoundary";
    let body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"sent.txt\"\r\n\r\nsent\r\n--{boundary}--\r\n");
    let r = s
        .client(Scope::Write)
        .call("POST", format!("/v1/projects/{id}/upload?wait=true"))
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .bytes(body)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // Admin may still copy from the server's disk.
    let r = admin
        .call("POST", format!("/v1/projects/{id}/upload?wait=true"))
        .json(json!({"sources": [secret]}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    s.stop().await;
}

#[tokio::test]
async fn every_endpoint_taking_a_server_path_needs_admin() {
    let s = TestServer::start().await;
    let admin = s.client(Scope::Admin);
    let write = s.client(Scope::Write);
    let id = project_with_file(&admin, "site", "a.txt", b"a").await;
    let r = admin
        .call("POST", format!("/v1/projects/{id}/snapshot?wait=true"))
        .send()
        .await;
    assert_eq!(r.status, 200);
    let somewhere = s.dir.path().join("somewhere");
    let folder = s.dir.path().join("a-folder");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("f.txt"), b"f").unwrap();
    let calls = [
        (
            "/v1/projects/import".to_string(),
            json!({"path": folder, "options": {"name": "copied"}}),
        ),
        (
            format!("/v1/projects/{id}/export"),
            json!({"dest": somewhere}),
        ),
        (
            "/v1/archives/import".to_string(),
            json!({"path": folder.join("f.tar.zst")}),
        ),
        (
            "/v1/archives/site/extract".to_string(),
            json!({"dest": somewhere}),
        ),
        (
            "/v1/backups/targets/usb/backups/x/restore".to_string(),
            json!({"destination": somewhere}),
        ),
    ];
    for (path, body) in &calls {
        let r = write.post(path, body.clone()).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "forbidden"),
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(r.json()["message"].as_str().unwrap().contains("admin"));
    }
    assert!(!somewhere.exists(), "something was written on the server");
    // What a restore would write where, on the server's disk: admin too.
    let r = s
        .client(Scope::Read)
        .get(&format!(
            "/v1/backups/targets/usb/backups/x/restore-preview?destination={}",
            somewhere.display()
        ))
        .await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    // A relative path would be read against wherever the server was started, which a client
    // cannot know: refused, even for an admin, before anything is read or written.
    let cwd = std::env::current_dir().unwrap();
    let relative = [
        (
            "/v1/projects/import".to_string(),
            json!({"path": "a-folder"}),
        ),
        (
            format!("/v1/projects/{id}/export"),
            json!({"dest": "kura-relative-export"}),
        ),
        (
            "/v1/archives/import".to_string(),
            json!({"path": "f.tar.zst"}),
        ),
        (
            "/v1/archives/site/extract".to_string(),
            json!({"dest": "kura-relative-extract"}),
        ),
        (
            "/v1/backups/targets/usb/backups/x/restore".to_string(),
            json!({"destination": "kura-relative-restore"}),
        ),
        (
            format!("/v1/projects/{id}/upload"),
            json!({"sources": ["Cargo.toml"]}),
        ),
    ];
    for (path, body) in &relative {
        let r = admin.post(path, body.clone()).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (422, "invalid_input"),
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(r.json()["message"].as_str().unwrap().contains("absolute"));
    }
    for name in [
        "kura-relative-export",
        "kura-relative-extract",
        "kura-relative-restore",
    ] {
        assert!(
            !cwd.join(name).exists(),
            "{name} was written in the server's folder"
        );
    }
    // Admin gets past the scope check (to the engine's own answers).
    let r = admin
        .call("POST", "/v1/projects/import?wait=true")
        .json(json!({"path": folder, "options": {"name": "copied"}}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    s.stop().await;
}

#[tokio::test]
async fn an_admin_browser_session_still_copies_from_the_servers_disk() {
    let s = TestServer::start().await;
    let admin = s.client(Scope::Admin);
    let id = project_with_file(&admin, "site", "a.txt", b"a").await;
    let file = s.dir.path().join("mine.txt");
    std::fs::write(&file, b"mine").unwrap();
    for (scope, want) in [(Scope::Write, 403), (Scope::Admin, 200)] {
        let (cookie, csrf) = crate::harness::browser_session(&s, scope).await;
        let r = s
            .anonymous()
            .call("POST", format!("/v1/projects/{id}/upload?wait=true"))
            .header("cookie", &cookie)
            .header("x-kura-csrf", &csrf)
            .json(json!({"sources": [file]}))
            .send()
            .await;
        assert_eq!(r.status, want, "{}", String::from_utf8_lossy(&r.body));
    }
    s.stop().await;
}
