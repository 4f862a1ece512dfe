//! Slow clients: stalled uploads and downloads hold no thread and no one else's answer; a
//! transfer that stops moving is cut after the idle timeout; past the transfer limits, 503.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use kura_server::Scope;

use crate::harness::{project_with_file, TestServer};
use crate::raw::{self, Answer};

/// Stalled uploads and as many stalled downloads.
const STALLED: usize = 200;
/// The file the stalled downloads ask for: larger than any socket buffer takes in.
const BIG: usize = 8 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_stalled_transfers_hold_no_threads_and_saves_and_reads_are_answered() {
    let s = TestServer::start().await;
    let write = s.client(Scope::Write);
    let id = project_with_file(&write, "site", "small.txt", b"small").await;
    let r = write
        .call("PUT", format!("/v1/projects/{id}/files/big.bin"))
        .bytes(vec![7u8; BIG])
        .send()
        .await;
    assert_eq!(r.status, 200);
    let before = raw::thread_count();
    let (addr, host) = (s.addr, format!("127.0.0.1:{}", s.addr.port()));
    let (wt, rt) = (s.token(Scope::Write), s.token(Scope::Read));
    let project = id.clone();
    let stalled = tokio::task::spawn_blocking(move || {
        let mut conns = Vec::new();
        for n in 0..STALLED {
            conns.push(stalled_upload(
                addr,
                &host,
                &wt,
                &format!("/v1/projects/{project}/files/s{n}.bin"),
            ));
            conns.push(stalled_download(
                addr,
                &host,
                &rt,
                &format!("/v1/projects/{project}/files/big.bin"),
            ));
        }
        conns
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;

    // While they are held: a small save and a read are answered.
    let started = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        write
            .call("PUT", format!("/v1/projects/{id}/files/note.txt"))
            .bytes("hello")
            .send(),
    )
    .await
    .expect("a small save got no answer in 10 s while slow clients were held");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        s.client(Scope::Read)
            .get(&format!("/v1/projects/{id}/files/small.txt")),
    )
    .await
    .expect("a read got no answer in 10 s while slow clients were held");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"small"[..]));
    let answered_in = started.elapsed();
    let during = raw::thread_count();
    assert!(
        during < before + 100,
        "{} stalled connections made {} threads ({before} before)",
        2 * STALLED,
        during
    );
    eprintln!("answered in {answered_in:?}; threads {before} -> {during}");
    drop(stalled);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upload_or_download_is_cut_after_the_idle_timeout() {
    let s = TestServer::start_with(tempfile::tempdir().unwrap(), |o| {
        o.idle_timeout = Duration::from_secs(1); // new setting
    })
    .await;
    let write = s.client(Scope::Write);
    let id = project_with_file(&write, "site", "big.bin", &vec![7u8; BIG]).await;
    let (addr, host) = (s.addr, format!("127.0.0.1:{}", s.addr.port()));
    let (wt, rt) = (s.token(Scope::Write), s.token(Scope::Read));
    let (upload, download) = tokio::task::spawn_blocking(move || {
        let mut up = stalled_upload(
            addr,
            &host,
            &wt,
            &format!("/v1/projects/{id}/files/stalled.bin"),
        );
        let mut down = stalled_download(
            addr,
            &host,
            &rt,
            &format!("/v1/projects/{id}/files/big.bin"),
        );
        // The upload: a 408 or a closed connection within a few seconds.
        let upload = raw::read_head(&mut up, Duration::from_secs(10));
        // The download, not read for a while, then read: cut before the end.
        std::thread::sleep(Duration::from_secs(4));
        down.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut got = 0usize;
        let mut buf = vec![0u8; 1 << 16];
        let end = loop {
            match down.read(&mut buf) {
                Ok(0) => break "closed",
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break "still open",
                Err(_) => break "reset",
            }
        };
        (upload, (end, got))
    })
    .await
    .unwrap();
    match upload {
        Answer::Status(408, _) | Answer::Closed => {}
        other => panic!("a stalled upload was not cut: {other:?}"),
    }
    assert!(
        download.0 != "still open" && download.1 < BIG,
        "a stalled download was not cut: {download:?}"
    );
    assert_eq!(s.anonymous().get("/v1/health").await.status, 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_transfer_limit_an_upload_waits_then_gets_503_with_retry_after() {
    let s = TestServer::start_with(tempfile::tempdir().unwrap(), |o| {
        o.max_transfers_per_token = 1; // new setting
        o.transfer_queue_wait = Duration::from_secs(1); // new setting
    })
    .await;
    let write = s.client(Scope::Write);
    let id = project_with_file(&write, "site", "a.txt", b"a").await;
    let (addr, host, wt) = (
        s.addr,
        format!("127.0.0.1:{}", s.addr.port()),
        s.token(Scope::Write),
    );
    let project = id.clone();
    let (held, second) = tokio::task::spawn_blocking(move || {
        let stalled_put = |n: usize| {
            let mut c = raw::connect(addr);
            let req = raw::head(
                "PUT",
                &format!("/v1/projects/{project}/files/s{n}.bin"),
                &host,
                Some(&wt),
                &["Content-Length: 1073741824"],
            );
            c.write_all(req.as_bytes()).unwrap();
            c.write_all(b"x").unwrap();
            c
        };
        let held = stalled_put(0);
        std::thread::sleep(Duration::from_millis(500));
        let mut second = stalled_put(1);
        (held, raw::read_head(&mut second, Duration::from_secs(10)))
    })
    .await
    .unwrap();
    match second {
        Answer::Status(503, head) => {
            assert!(head.to_ascii_lowercase().contains("retry-after"), "{head}")
        }
        other => panic!("the second upload: {other:?}"),
    }
    // A small save needs no transfer slot.
    let r = write
        .call("PUT", format!("/v1/projects/{id}/files/b.txt"))
        .bytes("b")
        .send()
        .await;
    assert_eq!(r.status, 200);
    drop(held);
    s.stop().await;
}

/// An upload that announces a gigabyte and sends one byte.
fn stalled_upload(
    addr: std::net::SocketAddr,
    host: &str,
    token: &str,
    path: &str,
) -> std::net::TcpStream {
    let mut up = raw::connect(addr);
    let req = raw::head(
        "PUT",
        path,
        host,
        Some(token),
        &["Content-Length: 1073741824"],
    );
    up.write_all(req.as_bytes()).unwrap();
    up.write_all(b"x").unwrap();
    up
}

/// A download that no one reads, through a 4 KiB receive window.
fn stalled_download(
    addr: std::net::SocketAddr,
    host: &str,
    token: &str,
    path: &str,
) -> std::net::TcpStream {
    let mut down = raw::connect_small_window(addr);
    let req = raw::head("GET", path, host, Some(token), &[]);
    down.write_all(req.as_bytes()).unwrap();
    down
}
