//! Requests written byte for byte on a plain socket, for what a well-behaved HTTP client cannot
//! send (duplicate headers, broken chunks, stalls), and the answers read back as bytes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How an answer ended.
#[derive(Debug)]
pub enum Answer {
    /// A response head arrived: its status and the text received (the head, maybe more).
    Status(u16, String),
    /// The server closed the connection (or reset it) without a response.
    Closed,
    /// Nothing within the time allowed.
    Silent,
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Sends `request` on a new connection and reads the response head within `within`.
pub fn send(addr: SocketAddr, request: &[u8], within: Duration) -> Answer {
    let mut s = connect(addr);
    // A server may answer (and close) before it has read all of a bad request.
    let _ = s.write_all(request);
    read_head(&mut s, within)
}

/// Reads a response head from `s` within `within`.
pub fn read_head(s: &mut TcpStream, within: Duration) -> Answer {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Answer::Silent;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if got.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Answer::Silent
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&got).to_string();
    if got.is_empty() {
        return Answer::Closed;
    }
    assert!(text.contains("\r\n\r\n"), "a torn response head: {text:?}");
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP/1.1 status line: {text:?}"));
    Answer::Status(status, text)
}

/// A request head with `Host` and, when given, the bearer token.
pub fn head(method: &str, path: &str, host: &str, token: Option<&str>, extra: &[&str]) -> String {
    let mut h = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
    if let Some(t) = token {
        h.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    for line in extra {
        h.push_str(line);
        h.push_str("\r\n");
    }
    h.push_str("\r\n");
    h
}

/// A connection whose receive buffer is 4 KiB (set before connecting, so the window stays
/// small): a client that reads nothing holds the server's writes back early. Call from a
/// blocking thread of a Tokio runtime (`spawn_blocking`).
pub fn connect_small_window(addr: SocketAddr) -> TcpStream {
    tokio::runtime::Handle::current().block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(addr).await.unwrap();
        let std = stream.into_std().unwrap();
        std.set_nonblocking(false).unwrap();
        std
    })
}

/// The threads of this process now.
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}
