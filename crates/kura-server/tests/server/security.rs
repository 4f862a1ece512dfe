//! Who may call, and what browsers cannot do.

use std::os::unix::fs::PermissionsExt;

use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use kura_server::{Bind, Discovery, Scope, Tokens};
use serde_json::json;

use crate::harness::{project_with_file, TestServer};

#[tokio::test]
async fn no_token_or_a_wrong_one_is_401_and_health_needs_none() {
    let s = TestServer::start().await;
    let anon = s.anonymous();
    let r = anon.get("/v1/projects").await;
    assert_eq!((r.status, r.code().as_str()), (401, "unauthorized"));
    // Says how to authenticate (RFC 9110).
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some("Bearer realm=\"kura\"")
    );
    let r = anon
        .call("GET", "/v1/projects")
        .header("authorization", "Bearer kura_admin_0000")
        .send()
        .await;
    assert_eq!((r.status, r.code().as_str()), (401, "unauthorized"));
    let r = anon
        .call("GET", "/v1/projects")
        .header("authorization", "Basic abc")
        .send()
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(anon.get("/v1/health").await.status, 200);
    s.stop().await;
}

#[tokio::test]
async fn a_method_a_path_does_not_have_is_405_with_allow_and_the_error_body() {
    let s = TestServer::start().await;
    let admin = s.client(Scope::Admin);
    for (method, path, allowed) in [
        ("PUT", "/v1/projects", "GET,HEAD,POST"),
        ("DELETE", "/v1/stats", "GET,HEAD"),
        ("POST", "/v1/projects/p/files/a.txt", "GET,HEAD,PUT,DELETE"),
    ] {
        let r = admin.call(method, path).send().await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (405, "method_not_allowed"),
            "{method} {path}"
        );
        let mut allow: Vec<String> = r
            .header("allow")
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_string())
            .collect();
        allow.sort();
        let mut want: Vec<&str> = allowed.split(',').collect();
        want.sort();
        assert_eq!(allow, want, "{method} {path}");
        assert!(r.json()["message"].as_str().unwrap().contains(method));
    }
    s.stop().await;
}

#[tokio::test]
async fn scopes_read_cannot_write_and_write_cannot_destroy() {
    let s = TestServer::start().await;
    let admin = s.client(Scope::Admin);
    let id = project_with_file(&admin, "site", "a.txt", b"a").await;
    let read = s.client(Scope::Read);
    assert_eq!(read.get("/v1/projects").await.status, 200);
    // A caller may ask what it may do.
    assert_eq!(
        read.get("/v1/caller").await.json(),
        json!({"scope": "read"})
    );
    assert_eq!(
        admin.get("/v1/caller").await.json(),
        json!({"scope": "admin"})
    );
    assert_eq!(s.anonymous().get("/v1/caller").await.status, 401);
    let r = read.post("/v1/projects", json!({"name": "nope"})).await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let r = read
        .call("PUT", format!("/v1/projects/{id}/files/b.txt"))
        .bytes("b")
        .send()
        .await;
    assert_eq!(r.status, 403);

    let write = s.client(Scope::Write);
    assert_eq!(
        write
            .post("/v1/projects", json!({"name": "other"}))
            .await
            .status,
        201
    );
    let r = write.delete(&format!("/v1/projects/{id}")).await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let r = write.post("/v1/gc", json!({})).await;
    assert_eq!(r.status, 403);
    let r = write.post("/v1/cleanup", json!({"dry_run": false})).await;
    assert_eq!(r.status, 403);
    let r = write
        .patch(
            "/v1/config",
            json!({"key": "archive.archive_after_days", "value": "5"}),
        )
        .await;
    assert_eq!(r.status, 403);
    // The project is still there; admin may delete it.
    assert_eq!(read.get(&format!("/v1/projects/{id}")).await.status, 200);
    assert_eq!(
        admin.delete(&format!("/v1/projects/{id}")).await.status,
        200
    );
    assert_eq!(read.get(&format!("/v1/projects/{id}")).await.status, 404);
    s.stop().await;
}

/// Every operation the server documents asks of its caller what the service declares it
/// needs (`Declared::access`): a token one scope short is refused with 403 before anything runs,
/// and a token of that scope is not refused for its scope. Handlers ask for more where the
/// request says so: a path on the server's machine (`server_paths.rs`), a run that is not dry
/// of an operation that has dry runs, and a batch of records that deletes one.
#[tokio::test]
async fn every_operation_asks_the_scope_its_declaration_says() {
    use kura_api::catalog::{Access, OPERATIONS};
    let s = TestServer::start().await;
    let scope = |a: Access| match a {
        Access::Read => Scope::Read,
        Access::Write => Scope::Write,
        Access::Admin => Scope::Admin,
    };
    let doc: serde_json::Value = serde_json::from_str(&kura_server::openapi_json()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        // Names nothing that exists: whatever a handler would do, it finds nothing to do it to.
        let path = path
            .replace("{path}", "kura-scope-test.txt")
            .replace('{', "kura-scope-")
            .replace('}', "");
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            let d = OPERATIONS.iter().find(|d| d.operation_id() == id).unwrap();
            if id == "signIn" {
                // Open to anyone, whatever session it replaces (`sign_in.rs`).
                continue;
            }
            let method = method.to_uppercase();
            let send = |scope: Scope, body: serde_json::Value| {
                let client = s.client(scope);
                let method = method.clone();
                let path = path.clone();
                async move {
                    let call = client.call(&method, &path);
                    if method == "GET" || method == "DELETE" {
                        call.send().await
                    } else {
                        call.json(body).send().await
                    }
                }
            };
            let need = scope(d.dry_run_access());
            let below = match need {
                Scope::Admin => Some(Scope::Write),
                Scope::Write => Some(Scope::Read),
                Scope::Read => None,
            };
            if let Some(below) = below {
                let r = send(below, json!({})).await;
                assert_eq!(
                    (r.status, r.code().as_str()),
                    (403, "forbidden"),
                    "{method} {path} ({id}) with a {} token",
                    below.as_str()
                );
                assert!(
                    r.json()["message"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("scope '{}'", need.as_str())),
                    "{id}: {}",
                    r.json()
                );
            }
            let body = if d.dry_run {
                json!({"dry_run": true})
            } else {
                json!({})
            };
            if id == "streamEvents" {
                // Allowed, it streams until the client leaves (the events tests read it).
                checked += 1;
                continue;
            }
            // It may refuse for what the request says (a path on the server's machine), never
            // for the token's scope.
            let r = send(need, body).await;
            let message = r.json()["message"].as_str().unwrap_or_default().to_string();
            assert!(
                r.status != 403 || !message.starts_with("this needs a token of scope"),
                "{method} {path} ({id}) with a {} token: {message}",
                need.as_str(),
            );
            if d.dry_run {
                let r = send(Scope::Write, json!({"dry_run": false})).await;
                assert_eq!(r.status, 403, "{id}: a run that is not dry is the admin's");
            }
            checked += 1;
        }
    }
    assert!(checked > 80, "only {checked} operations were documented");
    // A batch that deletes is the admin's; one that only puts is a writer's.
    let write = s.client(Scope::Write);
    let put = json!({"op": "put", "collection": "notes", "key": "a", "value": {"n": 1}});
    let delete = json!({"op": "delete", "collection": "notes", "key": "a"});
    let r = write.post("/v1/records", json!({"ops": [put]})).await;
    assert_eq!(r.status, 200, "{}", r.json());
    let r = write.post("/v1/records", json!({"ops": [delete]})).await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let admin = s.client(Scope::Admin);
    assert_eq!(admin.get("/v1/records/notes/a").await.status, 200);
    let r = admin.post("/v1/records", json!({"ops": [delete]})).await;
    assert_eq!(r.status, 200, "{}", r.json());
    assert_eq!(admin.get("/v1/records/notes/a").await.status, 404);
    s.stop().await;
}

#[tokio::test]
async fn a_rotated_token_stops_working_at_once_and_the_file_is_private() {
    let s = TestServer::start().await;
    let old = s.client(Scope::Write);
    assert_eq!(old.get("/v1/projects").await.status, 200);
    let tokens = Tokens::of_vault(&s.vault_root());
    let fresh = tokens.rotate(Some(Scope::Write)).unwrap();
    assert_eq!(old.get("/v1/projects").await.status, 401);
    let mut new = old.clone();
    new.token = Some(fresh[0].token.clone());
    assert_eq!(new.get("/v1/projects").await.status, 200);
    let mode = std::fs::metadata(tokens.path())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(tokens.path().parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    // 256 random bits, as hex, after the scope.
    assert_eq!(fresh[0].token.rsplit('_').next().unwrap().len(), 64);
    s.stop().await;
}

#[tokio::test]
async fn a_foreign_host_is_421_dns_rebinding() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Admin);
    for host in [
        "evil.example",
        "evil.example:80",
        &format!("127.0.0.2:{}", s.addr.port()),
        "127.0.0.1",
    ] {
        let r = c
            .call("GET", "/v1/projects")
            .header("host", host)
            .send()
            .await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (421, "misdirected"),
            "host {host}"
        );
    }
    let r = c
        .call("GET", "/v1/health")
        .header("host", "rebind.attacker.test")
        .send()
        .await;
    assert_eq!(r.status, 421);
    let r = c
        .call("GET", "/v1/projects")
        .header("host", &format!("localhost:{}", s.addr.port()))
        .send()
        .await;
    assert_eq!(r.status, 200);
    s.stop().await;
}

#[tokio::test]
async fn other_sites_are_refused_and_no_cors_unless_configured() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Admin);
    let r = c
        .call("POST", "/v1/projects")
        .json(json!({"name": "x"}))
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let r = c
        .call("GET", "/v1/projects")
        .header("origin", "null")
        .send()
        .await;
    assert_eq!(r.status, 403);
    let r = c
        .call("GET", "/v1/projects")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await;
    assert_eq!(r.status, 403);
    let own = format!("http://127.0.0.1:{}", s.addr.port());
    let r = c
        .call("GET", "/v1/projects")
        .header("origin", &own)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert!(r.header("access-control-allow-origin").is_none());
    let r = c
        .call("OPTIONS", "/v1/projects")
        .header("origin", "https://app.example")
        .send()
        .await;
    assert_eq!(r.status, 403);
    assert!(r.header("access-control-allow-origin").is_none());
    s.stop().await;

    let s = TestServer::start_with(tempfile::tempdir().unwrap(), |o| {
        o.cors_origins = vec!["https://app.example".into()]
    })
    .await;
    let c = s.client(Scope::Read);
    let r = c
        .call("GET", "/v1/projects")
        .header("origin", "https://app.example")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
    let r = c
        .call("GET", "/v1/projects")
        .header("origin", "https://other.example")
        .send()
        .await;
    assert_eq!(r.status, 403);
    s.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let s = TestServer::start_with(tempfile::tempdir().unwrap(), |o| {
        o.max_json_body = 1024;
        o.max_upload = 4096;
    })
    .await;
    let c = s.client(Scope::Admin);
    let big = "x".repeat(4000);
    let r = c
        .post("/v1/projects", json!({"name": "n", "description": big}))
        .await;
    assert_eq!((r.status, r.code().as_str()), (413, "payload_too_large"));
    let id = project_with_file(&c, "site", "a.txt", b"small").await;
    let r = c
        .call("PUT", format!("/v1/projects/{id}/files/big.bin"))
        .bytes(vec![7u8; 10_000])
        .send()
        .await;
    assert_eq!((r.status, r.code().as_str()), (413, "payload_too_large"));
    // Nothing half-written is left.
    let files = c.get(&format!("/v1/projects/{id}/files")).await.json();
    assert!(
        files
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["path"] != "big.bin"),
        "{files}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_browser_session_needs_the_link_once_and_csrf_for_changes() {
    // The link is made by the server process (`kura serve --open` prints it).
    let dir = tempfile::tempdir().unwrap();
    let vault = kura_core::Vault::open(&dir.path().join("vault")).unwrap();
    let api = kura_api::Api::open(vault).unwrap();
    let mut options = kura_server::ServeOptions::new(Bind::Tcp("127.0.0.1:0".parse().unwrap()));
    options.discovery_file = Some(dir.path().join("serve.json"));
    options.schedules = false;
    let server = kura_server::Server::bind(api, options).await.unwrap();
    let addr = server.listening().addr.unwrap();
    let link = server.session_link(Scope::Admin);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server.serve(async move {
        let _ = rx.await;
    }));
    let c = crate::harness::Client {
        addr,
        token: None,
        host: format!("127.0.0.1:{}", addr.port()),
    };
    let path = link
        .split_once(&format!("{}", addr.port()))
        .unwrap()
        .1
        .to_string();
    let r = c.get(&path).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location").as_deref(), Some("/"));
    let cookies: Vec<String> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("kura_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Strict")
            && session.contains("Path=/")
    );
    let csrf_cookie = cookies
        .iter()
        .find(|c| c.starts_with("kura_csrf="))
        .unwrap();
    assert!(!csrf_cookie.contains("HttpOnly"));
    let sid = session.split(';').next().unwrap().to_string();
    let csrf = csrf_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("kura_csrf=")
        .to_string();
    let cookie = format!("{sid}; kura_csrf={csrf}");
    // Used once.
    assert_eq!(c.get(&path).await.status, 401);
    assert_eq!(
        c.call("GET", "/v1/projects")
            .header("cookie", &cookie)
            .send()
            .await
            .status,
        200
    );
    let r = c
        .call("POST", "/v1/projects")
        .header("cookie", &cookie)
        .json(json!({"name": "web"}))
        .send()
        .await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let r = c
        .call("POST", "/v1/projects")
        .header("cookie", &cookie)
        .header("x-kura-csrf", "wrong")
        .json(json!({"name": "web"}))
        .send()
        .await;
    assert_eq!(r.status, 403);
    let r = c
        .call("POST", "/v1/projects")
        .header("cookie", &cookie)
        .header("x-kura-csrf", &csrf)
        .json(json!({"name": "web"}))
        .send()
        .await;
    assert_eq!(r.status, 201);
    // Without the UI built, / says so.
    let r = c.get("/").await;
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("not built"));
    let _ = tx.send(());
    handle.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_unix_socket_is_private_and_the_discovery_file_comes_and_goes() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("rt").join("kura").join("api.sock");
    let s = TestServer::start_with(dir, |o| {
        o.bind = Bind::Unix(sock.clone());
        o.discovery_file = None;
    })
    .await;
    let folder = sock.parent().unwrap();
    assert_eq!(
        std::fs::metadata(folder).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let discovery = folder.join("serve.json");
    let d = Discovery::read_live(&discovery).expect("a discovery file");
    assert_eq!(d.pid, std::process::id());
    assert_eq!(d.socket.as_deref(), Some(sock.as_path()));

    // A real request over the socket.
    let token = s.token(Scope::Read);
    let stream = tokio::net::UnixStream::connect(&sock).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::get("/v1/workspaces")
        .header("host", "localhost")
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(bytes::Bytes::new()))
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let ws: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(ws[0]["name"], "default");

    s.stop().await;
    assert!(!sock.exists(), "the socket is removed on a clean stop");
    assert!(
        !discovery.exists(),
        "the discovery file is removed on a clean stop"
    );
}

#[tokio::test]
async fn a_stale_discovery_file_is_replaced_and_a_live_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let discovery = dir.path().join("run").join("serve.json");
    std::fs::create_dir_all(discovery.parent().unwrap()).unwrap();
    // pid_max on Linux is at most 2^22: this pid cannot be running.
    let stale = json!({"pid": 4_194_304 + 7, "url": "http://127.0.0.1:1", "socket": null, "vault": "/nowhere"});
    std::fs::write(&discovery, stale.to_string()).unwrap();
    assert!(Discovery::read_live(&discovery).is_none());
    let s = TestServer::start_with(dir, |_| {}).await;
    let d = Discovery::read_live(&discovery).unwrap();
    assert_eq!(d.pid, std::process::id());
    assert_eq!(d.url, format!("http://127.0.0.1:{}", s.addr.port()));

    // A live server's file (pid 1 is always running) is not taken over.
    let dir2 = tempfile::tempdir().unwrap();
    let other = dir2.path().join("serve.json");
    std::fs::write(
        &other,
        json!({"pid": 1, "url": "http://127.0.0.1:9", "socket": null, "vault": "/v"}).to_string(),
    )
    .unwrap();
    let vault = kura_core::Vault::open(&dir2.path().join("vault")).unwrap();
    let api = kura_api::Api::open(vault).unwrap();
    let mut options = kura_server::ServeOptions::new(Bind::Tcp("127.0.0.1:0".parse().unwrap()));
    options.discovery_file = Some(other);
    let err = kura_server::Server::bind(api, options)
        .await
        .err()
        .expect("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    s.stop().await;
}

#[tokio::test]
async fn a_non_loopback_address_needs_allow_remote() {
    let dir = tempfile::tempdir().unwrap();
    let vault = kura_core::Vault::open(&dir.path().join("vault")).unwrap();
    let api = kura_api::Api::open(vault).unwrap();
    let mut options = kura_server::ServeOptions::new(Bind::Tcp("0.0.0.0:0".parse().unwrap()));
    options.discovery_file = Some(dir.path().join("serve.json"));
    let err = kura_server::Server::bind(api, options)
        .await
        .err()
        .expect("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
}

#[tokio::test]
async fn the_built_ui_is_served_with_index_html_for_app_routes() {
    let dir = tempfile::tempdir().unwrap();
    let ui = dir.path().join("dist");
    std::fs::create_dir_all(ui.join("assets")).unwrap();
    std::fs::write(
        ui.join("index.html"),
        "<!doctype html><title>Kura UI</title>",
    )
    .unwrap();
    std::fs::write(ui.join("assets/app.js"), "console.log(1)").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "not for the web").unwrap();
    let s = TestServer::start_with(dir, move |o| o.ui_dir = Some(ui)).await;
    let c = s.anonymous();
    let r = c.get("/").await;
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("Kura UI"));
    let r = c.get("/assets/app.js").await;
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(r.body, b"console.log(1)");
    let r = c.get("/projects/site/history").await;
    assert!(String::from_utf8_lossy(&r.body).contains("Kura UI"));
    let r = c.get("/../secret.txt").await;
    assert!(!String::from_utf8_lossy(&r.body).contains("not for the web"));
    let r = c.get("/assets/..%2F..%2Fsecret.txt").await;
    assert!(!String::from_utf8_lossy(&r.body).contains("not for the web"));
    // The API behind it still needs a token.
    assert_eq!(c.get("/v1/projects").await.status, 401);
    s.stop().await;
}

#[tokio::test]
async fn a_client_that_sends_its_headers_slowly_is_cut_off_and_others_are_served() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = TestServer::start_with(tempfile::tempdir().unwrap(), |o| {
        o.header_timeout = std::time::Duration::from_secs(1);
    })
    .await;
    // Half a request line, then nothing: the server closes the connection.
    let mut slow = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        slow.read_to_end(&mut answer),
    )
    .await;
    assert!(
        closed.is_ok(),
        "the slow connection was still open after 20 s"
    );
    // Meanwhile and after, whole requests are answered.
    assert_eq!(s.anonymous().get("/v1/health").await.status, 200);
    s.stop().await;
}
