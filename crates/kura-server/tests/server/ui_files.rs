//! The built UI served as a web server serves it: the window's Content-Security-Policy, cache
//! headers, ETags and `304`, compression, and no file from outside the UI folder.

use std::io::{Read, Write};
use std::path::Path;

use crate::harness::{repo_root, Client, Resp, TestServer};
use crate::raw;

/// The policy a browser must get, written out: the window's without Tauri's sources, plus no
/// framing, `<base>` or form target elsewhere.
const POLICY: &str = "default-src 'self'; connect-src 'self'; img-src 'self' data:; \
style-src 'self' 'unsafe-inline'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

const INDEX: &str = "<!doctype html><title>Kura UI</title>\
<script type=module src=/assets/index-Ab12Cd34.js></script>";
const APP: &str = "console.log('the Kura app, long enough to be worth compressing: 0123456789');";
const SECRET: &str = "name = \"not for the web\"";

/// A built UI as Vite lays it out, with a `Cargo.toml` and a secret beside the UI folder.
async fn serve_ui() -> (TestServer, Client) {
    let dir = tempfile::tempdir().unwrap();
    let ui = dir.path().join("dist");
    std::fs::create_dir_all(ui.join("assets")).unwrap();
    std::fs::write(ui.join("index.html"), INDEX).unwrap();
    std::fs::write(ui.join("assets/index-Ab12Cd34.js"), APP).unwrap();
    std::fs::write(ui.join("assets/index-Ef56Gh78.css"), "body{margin:0}").unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), SECRET).unwrap();
    std::fs::write(dir.path().join("secret.txt"), SECRET).unwrap();
    let s = TestServer::start_with(dir, move |o| o.ui_dir = Some(ui)).await;
    let c = s.anonymous();
    (s, c)
}

fn ui_dir(s: &TestServer) -> std::path::PathBuf {
    s.dir.path().join("dist")
}

fn assert_page_headers(r: &Resp, what: &str) {
    assert_eq!(r.status, 200, "{what}");
    assert_eq!(
        r.header("content-security-policy").as_deref(),
        Some(POLICY),
        "{what}"
    );
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        r.header("referrer-policy").as_deref(),
        Some("no-referrer"),
        "{what}"
    );
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("no-cache"),
        "{what}"
    );
    assert!(r.header("etag").is_some(), "{what} has an ETag");
}

#[tokio::test]
async fn every_page_has_the_policy_and_is_asked_for_again() {
    let (s, c) = serve_ui().await;
    let first = c.get("/").await;
    assert_page_headers(&first, "/");
    assert_eq!(first.body, INDEX.as_bytes());
    assert_eq!(
        first.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    for page in [
        "/index.html",
        "/projects/site/history",
        "/settings/",
        "/favicon.ico",
    ] {
        let r = c.get(page).await;
        assert_page_headers(&r, page);
        assert_eq!(r.body, INDEX.as_bytes(), "{page} is the app");
        assert_eq!(r.header("etag"), first.header("etag"), "{page}");
    }
    s.stop().await;
}

#[tokio::test]
async fn the_browsers_policy_is_the_windows_without_tauris_sources() {
    let conf: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo_root().join("tauri.conf.json")).unwrap())
            .unwrap();
    let window = conf["app"]["security"]["csp"]
        .as_str()
        .expect("the window's csp");
    let tauri_only = [
        "ipc:",
        "http://ipc.localhost",
        "asset:",
        "http://asset.localhost",
    ];
    let directives = |policy: &str| -> Vec<(String, Vec<String>)> {
        policy
            .split(';')
            .filter_map(|d| {
                let mut words = d.split_whitespace();
                let name = words.next()?.to_string();
                let sources = words
                    .filter(|w| !tauri_only.contains(w))
                    .map(str::to_string)
                    .collect();
                Some((name, sources))
            })
            .collect()
    };
    let browser = directives(POLICY);
    for (name, sources) in directives(window) {
        let ours = browser.iter().find(|(n, _)| *n == name);
        assert_eq!(
            ours.map(|(_, s)| s),
            Some(&sources),
            "the window's {name} changed: change the browser's policy (routes/ui.rs) with it"
        );
    }
    // And the server sends that policy.
    let (s, c) = serve_ui().await;
    assert_eq!(
        c.get("/")
            .await
            .header("content-security-policy")
            .as_deref(),
        Some(POLICY)
    );
    s.stop().await;
}

#[tokio::test]
async fn hashed_assets_are_kept_for_a_year_and_the_api_is_not_kept() {
    let (s, c) = serve_ui().await;
    let r = c.get("/assets/index-Ab12Cd34.js").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, APP.as_bytes());
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert!(r.header("etag").is_some());
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    let css = c.get("/assets/index-Ef56Gh78.css").await;
    assert_eq!(
        css.header("content-type").as_deref(),
        Some("text/css; charset=utf-8")
    );

    // The API's answers, and its errors, are not kept anywhere and carry no page policy.
    let admin = s.client(kura_server::Scope::Admin);
    for r in [
        c.get("/v1/health").await,
        admin.get("/v1/projects").await,
        c.get("/v1/projects").await,
        admin.get("/v1/nothing-here").await,
    ] {
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        assert!(r.header("content-security-policy").is_none());
        assert!(r.header("etag").is_none());
    }
    s.stop().await;
}

#[tokio::test]
async fn a_missing_asset_is_404_and_not_the_app() {
    let (s, c) = serve_ui().await;
    for path in ["/assets/index-Gone0000.js", "/assets/", "/assets/sub/x.css"] {
        let r = c.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(
            !String::from_utf8_lossy(&r.body).contains("Kura UI"),
            "{path} is not index.html"
        );
        assert_ne!(
            r.header("cache-control").as_deref(),
            Some("public, max-age=31536000, immutable"),
            "a 404 is not kept for a year"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn an_etag_that_still_matches_is_304_with_no_body() {
    let (s, c) = serve_ui().await;
    for path in ["/", "/projects/site", "/assets/index-Ab12Cd34.js"] {
        let first = c.get(path).await;
        let tag = first.header("etag").expect("an ETag");
        let again = c
            .call("GET", path)
            .header("if-none-match", &tag)
            .send()
            .await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(tag.clone()));
        assert_eq!(again.header("cache-control"), first.header("cache-control"));
        // One of a list; and a browser that had it gzipped.
        let listed = c
            .call("GET", path)
            .header("if-none-match", &format!("\"other\", {tag}"))
            .header("accept-encoding", "gzip")
            .send()
            .await;
        assert_eq!(listed.status, 304, "{path}");
        assert!(listed.body.is_empty());
        // Another tag: the whole file.
        let other = c
            .call("GET", path)
            .header("if-none-match", "W/\"other\"")
            .send()
            .await;
        assert_eq!(other.status, 200);
        assert_eq!(other.body, first.body);
    }
    // HEAD: the same tag, no body.
    let get = c.get("/").await;
    let head = c.call("HEAD", "/").send().await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag"), get.header("etag"));
    s.stop().await;
}

#[tokio::test]
async fn a_rebuilt_file_gets_a_new_etag_within_the_same_second() {
    let (s, c) = serve_ui().await;
    let first = c.get("/").await;
    let tag = first.header("etag").unwrap();
    let modified = first.header("last-modified").unwrap();
    // The same length and, to a second, the same time: only the content tells them apart.
    let rebuilt = INDEX.replace("Ab12Cd34", "Zz99Yy88");
    std::fs::write(ui_dir(&s).join("index.html"), &rebuilt).unwrap();
    let r = c
        .call("GET", "/")
        .header("if-none-match", &tag)
        .header("if-modified-since", &modified)
        .send()
        .await;
    assert_eq!(r.status, 200, "the new index.html, not 304");
    assert_eq!(r.body, rebuilt.as_bytes());
    assert_ne!(r.header("etag"), Some(tag));
    s.stop().await;
}

#[tokio::test]
async fn gzip_is_sent_to_a_browser_that_takes_it() {
    use flate2::read::GzDecoder;
    let (s, c) = serve_ui().await;
    for (path, content) in [
        ("/assets/index-Ab12Cd34.js", APP),
        ("/", INDEX),
        ("/projects/site", INDEX),
    ] {
        let r = c
            .call("GET", path)
            .header("accept-encoding", "gzip")
            .send()
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-encoding").as_deref(),
            Some("gzip"),
            "{path}"
        );
        assert!(r
            .header("vary")
            .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")));
        let mut plain = String::new();
        GzDecoder::new(&r.body[..])
            .read_to_string(&mut plain)
            .unwrap();
        assert_eq!(plain, content, "{path}");
        assert!(
            r.header("content-security-policy").is_some(),
            "{path} keeps its headers"
        );
        // Without Accept-Encoding: as it is.
        let r = c.get(path).await;
        assert!(r.header("content-encoding").is_none());
        assert_eq!(r.body, content.as_bytes());
    }
    // The API is not compressed by the UI's layer.
    let r = c
        .call("GET", "/v1/health")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert!(r.header("content-encoding").is_none());
    s.stop().await;
}

/// Sends `path` byte for byte (as no URL parser would let through) and reads the whole answer.
fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    let host = format!("127.0.0.1:{}", addr.port());
    let head = raw::head("GET", path, &host, None, &["Connection: close"]);
    let mut stream = raw::connect(addr);
    stream.write_all(head.as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    String::from_utf8_lossy(&got).to_string()
}

#[tokio::test]
async fn no_path_leaves_the_ui_folder() {
    let (s, c) = serve_ui().await;
    assert!(Path::new(&s.dir.path().join("Cargo.toml")).is_file());
    let paths = [
        "/assets/../../Cargo.toml",
        "/../Cargo.toml",
        "/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/%2E%2E/secret.txt",
        "/assets/..%2f..%2fCargo.toml",
        "/assets/..%2F..%2Fsecret.txt",
        "/..%2fsecret.txt",
        "/assets/..%5c..%5cCargo.toml",
        "/..%5csecret.txt",
        "/assets/%252e%252e/%252e%252e/Cargo.toml",
        "//secret.txt",
        "/%2fsecret.txt",
    ];
    for path in paths {
        let r = c.get(path).await;
        let body = String::from_utf8_lossy(&r.body);
        assert!(!body.contains("not for the web"), "{path} served {body}");
        assert!(
            r.status == 404 || r.status == 400 || body == INDEX,
            "{path}: {} {body}",
            r.status
        );
    }
    // Backslashes as they are, which a URL parser refuses but a socket carries.
    for path in [
        "/assets/..\\..\\Cargo.toml",
        "/..\\secret.txt",
        "/assets\\..\\..\\secret.txt",
    ] {
        let addr = s.addr;
        let answer = tokio::task::spawn_blocking(move || raw_get(addr, path))
            .await
            .unwrap();
        assert!(!answer.contains("not for the web"), "{path}: {answer}");
    }
    s.stop().await;
}

#[tokio::test]
async fn without_the_ui_built_the_page_says_so_with_the_policy() {
    let s = TestServer::start().await;
    let c = s.anonymous();
    for path in ["/", "/projects/site"] {
        let r = c.get(path).await;
        assert_eq!(r.status, 200);
        assert!(String::from_utf8_lossy(&r.body).contains("not built"));
        assert_eq!(r.header("content-security-policy").as_deref(), Some(POLICY));
        assert_eq!(r.header("cache-control").as_deref(), Some("no-cache"));
    }
    s.stop().await;
}
