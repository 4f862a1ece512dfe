//! Random request shapes on a raw socket: the door always answers with a well-formed response
//! below 500 (or closes a request it cannot parse), never hangs, and keeps serving.
//! Seeded, so a failure repeats: `KURA_FUZZ_SEED=N` picks another run, `KURA_FUZZ_CASES` more.

use std::time::Duration;

use kura_server::Scope;

use crate::harness::{project_with_file, TestServer};
use crate::raw::{self, Answer};

/// xorshift64*: small, seeded, good enough to pick shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn method(r: &mut Rng) -> String {
    match r.below(12) {
        0 => "G\0T".into(),
        1 => "A".repeat(1 + r.below(70_000)),
        2 => "get".into(),
        3 => "BREW".into(),
        4 => "OPTIONS".into(),
        5 => "HEAD".into(),
        _ => r
            .pick(&["GET", "POST", "PUT", "PATCH", "DELETE"])
            .to_string(),
    }
}

fn path(r: &mut Rng, project: &str) -> String {
    let bases = [
        "/v1/health".to_string(),
        "/v1/projects".to_string(),
        format!("/v1/projects/{project}"),
        format!("/v1/projects/{project}/files/a.txt"),
        format!("/v1/projects/{project}/files/dir/new.bin"),
        format!("/v1/projects/{project}/upload"),
        format!("/v1/projects/{project}/records/things/k1"),
        "/v1/records/things".to_string(),
        "/v1/events?since=0".to_string(),
        "/v1/config".to_string(),
        "/v1/openapi.json".to_string(),
        "/".to_string(),
    ];
    let base = r.pick(&bases).clone();
    match r.below(14) {
        0 => format!("{base}/../../../etc/passwd"),
        1 => format!("/v1/projects/{project}/files/%2e%2e/%2e%2e/x"),
        2 => format!(
            "/v1/projects/{project}/files/{}",
            "d/".repeat(r.below(3000))
        ),
        3 => format!("{base}%00"),
        4 => format!("/v1/projects/{project}/files/a%00b.txt"),
        5 => format!("/v1/projects/{project}/files/ünïcødé-文件.txt"),
        6 => format!("/v1/projects/{project}/files/%ff%fe.bin"),
        7 => format!("{base}?{}", "a=1&".repeat(r.below(2000))),
        8 => "*".to_string(),
        9 => "http://evil.example/v1/health".to_string(),
        10 => format!("{base}/%"),
        _ => base,
    }
}

fn deep_json(depth: usize) -> Vec<u8> {
    let mut v = "[".repeat(depth).into_bytes();
    v.extend("]".repeat(depth).into_bytes());
    v
}

/// One random request, as bytes.
fn request(r: &mut Rng, project: &str, host: &str, token: &str) -> Vec<u8> {
    let m = method(r);
    let p = path(r, project);
    let mut head = format!("{m} {p} HTTP/1.1\r\n");
    match r.below(8) {
        0 => {}
        1 => head.push_str(&format!("Host: {host}\r\nHost: {host}\r\n")),
        2 => head.push_str("Host: evil.example\r\n"),
        3 => head.push_str(&format!("Host: {host}\r\nHost: evil.example\r\n")),
        _ => head.push_str(&format!("Host: {host}\r\n")),
    }
    // Rarely without a valid token: each failure slows the next answers down (on purpose).
    match r.below(25) {
        0 => {}
        1 => head.push_str("Authorization: Bearer kura_admin_nope\r\n"),
        2 => head.push_str(&format!(
            "Authorization: Bearer {token}\r\nAuthorization: Bearer x\r\n"
        )),
        _ => head.push_str(&format!("Authorization: Bearer {token}\r\n")),
    }
    if r.below(3) == 0 {
        const EXTRA: &[&str] = &[
            "Content-Type: application/json\r\n",
            "Content-Type: multipart/form-data; boundary=\r\n",
            "Content-Type: multipart/form-data; boundary=XX\r\n",
            "Content-Type: text/plain\r\n",
            "Range: bytes=5-2\r\n",
            "Range: bytes=-0\r\n",
            "Last-Event-ID: 99999999999999999999\r\n",
            "Last-Event-ID: 123456789\r\n",
            "Origin: http://evil.example\r\n",
            "X-Long: \r\n",
        ];
        let extra: &&str = r.pick(EXTRA);
        head.push_str(extra);
    }
    if r.below(10) == 0 {
        head.push_str(&format!("X-Big: {}\r\n", "b".repeat(r.below(200_000))));
    }
    // The body, and how its length is told.
    let body: Vec<u8> = match r.below(7) {
        0 => Vec::new(),
        1 => deep_json(1 + r.below(100_000)),
        2 => vec![0xff, 0xfe, b'{', 0xc3, 0x28, b'}'],
        3 => br#"{"name": "fuzzed", "tags": [1, {"a": null}]}"#.to_vec(),
        4 => {
            let n = r.below(5000);
            r.bytes(n)
        }
        5 => br#"{"sources": ["/etc/passwd"]}"#.to_vec(),
        _ => format!("{{\"name\": \"{}\"}}", "\\u0000".repeat(r.below(100))).into_bytes(),
    };
    let mut out = head.into_bytes();
    match r.below(9) {
        0 => out.extend(format!("Content-Length: {}\r\n\r\n", body.len()).bytes()),
        1 => out.extend(b"Content-Length: abc\r\n\r\n"),
        2 => out.extend(b"Content-Length: -1\r\n\r\n"),
        3 => out.extend(
            format!(
                "Content-Length: {}\r\nContent-Length: 1\r\n\r\n",
                body.len()
            )
            .bytes(),
        ),
        4 => out.extend(b"Content-Length: 99999999999999999999999\r\n\r\n"),
        5 => {
            out.extend(b"Transfer-Encoding: chunked\r\n\r\n");
            let mut chunked = format!("{:x}\r\n", body.len()).into_bytes();
            chunked.extend(&body);
            chunked.extend(b"\r\n0\r\n\r\n");
            out.extend(chunked);
            return out;
        }
        6 => {
            out.extend(b"Transfer-Encoding: chunked\r\n\r\n");
            out.extend(*r.pick(&[
                &b"ffffffffffffffffff\r\nabc"[..],
                b"zz\r\nabc\r\n0\r\n\r\n",
                b"3\r\nabcdef\r\n0\r\n\r\n",
                b"-1\r\n\r\n",
                b"3;ext=\"\r\nabc\r\n0\r\n\r\n",
            ]));
            return out;
        }
        7 => out.extend(
            format!(
                "Content-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
                body.len()
            )
            .bytes(),
        ),
        _ => out.extend(format!("Content-Length: {}\r\n\r\n", body.len()).bytes()),
    }
    out.extend(body);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_requests_get_well_formed_answers_below_500_and_the_server_keeps_serving() {
    let s = TestServer::start().await;
    let write = s.client(Scope::Write);
    let project = project_with_file(&write, "fuzz", "a.txt", b"hello").await;
    let seed: u64 = std::env::var("KURA_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x6b75_7261);
    let cases: usize = std::env::var("KURA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let (addr, host, token) = (
        s.addr,
        format!("127.0.0.1:{}", s.addr.port()),
        s.token(Scope::Write),
    );
    let mut rng = Rng(seed | 1);
    for case in 0..cases {
        let req = request(&mut rng, &project, &host, &token);
        let shown = String::from_utf8_lossy(&req[..req.len().min(300)]).to_string();
        let answer =
            tokio::task::spawn_blocking(move || raw::send(addr, &req, Duration::from_secs(10)))
                .await
                .unwrap();
        match answer {
            Answer::Status(code, head) => assert!(
                code < 500,
                "case {case} (seed {seed}): {code}\n{head}\nfor: {shown:?}"
            ),
            Answer::Closed => {}
            Answer::Silent => panic!("case {case} (seed {seed}): no answer in 10 s for: {shown:?}"),
        }
        if case % 25 == 0 {
            // (The fuzzed requests may change the project's files, not the project.)
            let r = write.get(&format!("/v1/projects/{project}")).await;
            assert_eq!(r.status, 200, "case {case}: the server stopped serving");
        }
    }
    let r = write
        .call("PUT", format!("/v1/projects/{project}/files/after.txt"))
        .bytes("after")
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = write
        .get(&format!("/v1/projects/{project}/files/after.txt"))
        .await;
    assert_eq!((r.status, r.body.as_slice()), (200, &b"after"[..]));
    s.stop().await;
}
