//! The edges of HTTP itself: duplicate Host headers, broken chunked bodies, an endless method
//! name, and an event stream resumed from an id the log never reached.

use std::time::Duration;

use kura_server::Scope;
use serde_json::json;

use crate::harness::{project_with_file, read_until, sse_events, TestServer};
use crate::raw::{self, Answer};

fn ours(s: &TestServer) -> String {
    format!("127.0.0.1:{}", s.addr.port())
}

/// Sends `method path` with a chunked body (`chunked`: the body as it goes on the wire, chunk
/// sizes and all) and answers the response's head and body, read on a blocking thread.
async fn send_chunked(
    s: &TestServer,
    method: &str,
    path: &str,
    content_type: &str,
    chunked: Vec<u8>,
) -> Answer {
    let (addr, host, token) = (s.addr, ours(s), s.token(Scope::Write));
    let (method, path, content_type) = (
        method.to_string(),
        path.to_string(),
        content_type.to_string(),
    );
    tokio::task::spawn_blocking(move || {
        let content_type = format!("Content-Type: {content_type}");
        let mut req = raw::head(
            &method,
            &path,
            &host,
            Some(&token),
            &["Transfer-Encoding: chunked", &content_type],
        )
        .into_bytes();
        req.extend_from_slice(&chunked);
        let mut conn = raw::connect(addr);
        let _ = std::io::Write::write_all(&mut conn, &req);
        let mut answer = raw::read_head(&mut conn, Duration::from_secs(10));
        if let Answer::Status(_, head) = &mut answer {
            // The body, for its code.
            let mut rest = Vec::new();
            let _ = std::io::Read::read_to_end(&mut conn, &mut rest);
            head.push_str(&String::from_utf8_lossy(&rest));
        }
        answer
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_host_headers_are_400_even_when_the_first_is_ours() {
    let s = TestServer::start().await;
    let token = s.token(Scope::Read);
    let (addr, host) = (s.addr, ours(&s));
    let answer = tokio::task::spawn_blocking(move || {
        let req = raw::head(
            "GET",
            "/v1/projects",
            &host,
            Some(&token),
            &["Host: evil.example"],
        );
        raw::send(addr, req.as_bytes(), Duration::from_secs(10))
    })
    .await
    .unwrap();
    assert!(
        matches!(answer, Answer::Status(400, _)),
        "two Host headers: {answer:?}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_size_that_overflows_is_400_not_500() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Write);
    let id = project_with_file(&c, "site", "a.txt", b"a").await;
    for (method, path) in [
        ("PUT", format!("/v1/projects/{id}/files/big.bin")),
        ("POST", "/v1/projects".to_string()),
    ] {
        let broken = b"ffffffffffffffffff\r\nabc".to_vec();
        let answer = send_chunked(&s, method, &path, "application/json", broken).await;
        match answer {
            Answer::Status(400, text) => assert!(text.contains("bad_request"), "{text}"),
            other => panic!("a broken chunk size: {other:?}"),
        }
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_method_name_is_refused_promptly() {
    let s = TestServer::start().await;
    let (addr, host) = (s.addr, ours(&s));
    let answers = tokio::task::spawn_blocking(move || {
        let letters = "A".repeat(100 * 1024);
        // Without the rest of the request line, and with it.
        let partial = raw::send(addr, letters.as_bytes(), Duration::from_secs(5));
        let whole = raw::send(
            addr,
            raw::head(&letters, "/v1/health", &host, None, &[]).as_bytes(),
            Duration::from_secs(5),
        );
        (partial, whole)
    })
    .await
    .unwrap();
    for answer in [answers.0, answers.1] {
        match answer {
            Answer::Status(code, _) => assert!((400..500).contains(&code), "{code}"),
            Answer::Closed => {}
            Answer::Silent => panic!("a 100 KB method name held the connection open"),
        }
    }
    assert_eq!(s.anonymous().get("/v1/health").await.status, 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_event_id_past_the_end_of_the_log_is_told_to_start_over() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Write);
    c.post("/v1/projects", json!({"name": "first"})).await;
    // Ids start above every id an earlier log of the vault gave; this one is past the end.
    let beyond = s.api.events().last_id().unwrap() + 1_000_000;
    let mut res = c
        .call("GET", "/v1/events")
        .header("last-event-id", &beyond.to_string())
        .open()
        .await;
    assert_eq!(res.status(), 200);
    let text = tokio::time::timeout(
        Duration::from_secs(10),
        read_until(&mut res, |t| t.contains("event: reset")),
    )
    .await
    .expect("the stream stayed silent about an id past the end of the log");
    let events = sse_events(&text);
    let reset = events.iter().find(|e| e.1 == "reset").unwrap();
    assert_eq!(reset.2["since"], beyond);
    let last = reset.2["last_id"].as_i64().unwrap();
    assert!(last > 0 && last < beyond, "{}", reset.2);
    // From there on, new events come.
    let r = c.post("/v1/projects", json!({"name": "second"})).await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    let text = tokio::time::timeout(
        Duration::from_secs(10),
        read_until(&mut res, |t| t.contains(&id)),
    )
    .await
    .expect("no event after the reset");
    assert!(text.contains("vault.changed"), "{text}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_upload_past_the_limit_is_413_not_a_message_about_a_failed_read() {
    // Chunked, so no Content-Length announces the size: the limit is met while streaming.
    let s = TestServer::start_with(tempfile::tempdir().unwrap(), |o| o.max_upload = 4096).await;
    let c = s.client(Scope::Write);
    let id = project_with_file(&c, "site", "a.txt", b"a").await;
    for (method, path) in [
        ("PUT", format!("/v1/projects/{id}/files/big.bin")),
        (
            "POST",
            "/v1/archives/upload?filename=big.tar.zst".to_string(),
        ),
    ] {
        let mut body = Vec::new();
        for _ in 0..4 {
            body.extend_from_slice(b"800\r\n");
            body.extend_from_slice(&[7u8; 2048]);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"0\r\n\r\n");
        let answer = send_chunked(&s, method, &path, "application/octet-stream", body).await;
        match answer {
            Answer::Status(413, text) => assert!(
                text.contains("payload_too_large") && text.contains("at most 4096 bytes"),
                "{path}: {text}"
            ),
            other => panic!("{path}: {other:?}"),
        }
    }
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
