//! `kura serve` as a user runs it: tokens from the command line, a real server process on the
//! default Unix socket and on loopback TCP, stopped with SIGTERM.

use std::io::{BufRead, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::sandbox::Sandbox;

#[test]
fn serve_token_prints_the_same_token_until_rotated_and_keeps_it_private() {
    let sb = Sandbox::new();
    let first = sb.ok(&["serve", "token", "--scope", "read"]);
    assert_eq!(first["scope"], "read");
    let token = first["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("kura_read_"));
    let again = sb.ok(&["serve", "token", "--scope", "read"]);
    assert_eq!(again["token"], token.as_str());
    let rotated = sb.ok(&["serve", "token", "--scope", "read", "rotate"]);
    assert_ne!(rotated[0]["token"], token.as_str());
    let file = sb.vault().join("api").join("tokens.json");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let bad = sb.run(&["serve", "token", "--scope", "root"]);
    assert_eq!(bad.code, Some(2));
}

/// `kura serve` and `kura mcp` run in `kura-server`, which `kura` finds beside it or in
/// `../libexec/kura/` (where the packages put it) and starts in its own place; without it they
/// end with a message naming where it was looked for, and the other commands work.
#[test]
fn kura_serve_runs_in_the_kura_server_beside_it_or_in_libexec() {
    let sb = Sandbox::new();
    let bin = sb.path("prefix/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let kura = bin.join("kura");
    std::fs::copy(crate::sandbox::KURA, &kura).unwrap();
    let vault = sb.vault().to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        std::process::Command::new(&kura)
            .args(["--vault", &vault, "--json"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let alone = run(&["serve", "token"]);
    assert_eq!(alone.status.code(), Some(12), "{alone:?}");
    let error: Value = serde_json::from_slice(&alone.stdout).unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("kura-server") && message.contains("not installed"),
        "{message}"
    );
    assert_eq!(run(&["mcp"]).status.code(), Some(12));
    assert!(
        run(&["status"]).status.success(),
        "only serve and mcp need it"
    );

    let libexec = sb.path("prefix/libexec/kura");
    std::fs::create_dir_all(&libexec).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_kura-server"),
        libexec.join("kura-server"),
    )
    .unwrap();
    let served = run(&["serve", "token", "--scope", "read"]);
    assert!(served.status.success(), "{served:?}");
    let token: Value = serde_json::from_slice(&served.stdout).unwrap();
    assert!(
        token["token"].as_str().unwrap().starts_with("kura_read_"),
        "{token}"
    );
    // The same vault, through `kura` beside it: the token is the one it printed.
    assert_eq!(
        sb.ok(&["serve", "token", "--scope", "read"])["token"],
        token["token"]
    );
}

/// The token of `scope` (made if there is none).
fn token(sb: &Sandbox, scope: &str) -> String {
    sb.ok(&["serve", "token", "--scope", scope])["token"]
        .as_str()
        .unwrap()
        .to_string()
}

struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for the server to write its discovery file (it does before answering).
fn discovery(path: &Path, child: &mut Child) -> Value {
    let start = Instant::now();
    loop {
        if let Ok(data) = std::fs::read(path) {
            if let Ok(v) = serde_json::from_slice::<Value>(&data) {
                return v;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("kura serve exited: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "kura serve did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `kura serve --no-schedules` with `extra` arguments and its runtime folder (socket,
/// discovery file) in the sandbox; returns it once it answers, with the discovery file's content
/// and the runtime folder.
fn serve(sb: &Sandbox, extra: &[&str]) -> (Serving, Value, PathBuf) {
    serve_with_env(sb, extra, &[])
}

/// [`serve`], with these environment variables too.
fn serve_with_env(
    sb: &Sandbox,
    extra: &[&str],
    env: &[(&str, &Path)],
) -> (Serving, Value, PathBuf) {
    let runtime = sb.path("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    let mut child = Serving(
        sb.command(["serve", "--no-schedules"].iter().chain(extra))
            .envs(env.iter().copied())
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let info = discovery(&runtime.join("kura/serve.json"), &mut child.0);
    (child, info, runtime)
}

fn http(stream: &mut impl ReadWrite, host: &str, path: &str, token: &str) -> (u16, String) {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn stop(mut child: Serving) -> std::process::ExitStatus {
    let pid = child.0.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.0.wait().unwrap();
    std::mem::forget(child);
    status
}

#[test]
fn kura_serve_listens_on_a_private_socket_by_default_and_cleans_up_on_sigterm() {
    let sb = Sandbox::new();
    let token = token(&sb, "admin");
    let (child, info, runtime) = serve(&sb, &[]);
    let sock = runtime.join("kura/api.sock");
    assert_eq!(info["socket"], sock.display().to_string());
    assert_eq!(
        std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(runtime.join("kura"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    let (status, body) = http(&mut s, "localhost", "/v1/workspaces", &token);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"default\""));
    let status = stop(child);
    assert!(status.success(), "{status}");
    assert!(!sock.exists());
    assert!(!runtime.join("kura/serve.json").exists());
}

#[test]
fn kura_serve_listen_takes_a_free_loopback_port_and_refuses_others() {
    let sb = Sandbox::new();
    let token = token(&sb, "read");
    let (child, info, _) = serve(&sb, &["--listen", "127.0.0.1:0"]);
    let url = info["url"].as_str().unwrap().to_string();
    let host = url.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    let (status, body) = http(&mut s, &host, "/v1/projects", &token);
    assert_eq!(status, 200, "{body}");
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    let (status, _) = http(&mut s, "attacker.example", "/v1/projects", &token);
    assert_eq!(status, 421);
    assert!(stop(child).success());

    let refused = sb.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert_ne!(refused.code, Some(0));
    assert!(
        refused.stderr.contains("--allow-remote"),
        "{}",
        refused.stderr
    );
}

/// An agent following `kura serve`'s event stream sees what a script does with the CLI beside
/// it: the same `vault.changed` events, with the same reasons, as if it went through HTTP.
#[test]
fn changes_made_with_the_cli_reach_a_running_servers_event_stream() {
    let sb = Sandbox::new();
    let token = token(&sb, "read");
    let (child, _, runtime) = serve(&sb, &[]);
    let mut s = std::os::unix::net::UnixStream::connect(runtime.join("kura/api.sock")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    write!(s, "GET /v1/events?format=ndjson&types=vault.changed HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n").unwrap();
    let mut text = String::new();
    let mut buf = [0; 4096];
    let mut read_until = |s: &mut std::os::unix::net::UnixStream, text: &mut String, what: &str| {
        let start = Instant::now();
        while !text.contains(what) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no {what} in the stream:\n{text}"
            );
            match s.read(&mut buf) {
                Ok(0) => panic!("the stream ended:\n{text}"),
                Ok(n) => text.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => panic!("{e}"),
            }
        }
    };
    read_until(&mut s, &mut text, "\r\n\r\n");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");

    let id = sb.ok(&["project", "create", "notes"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let saved = sb.run_with_input(&["--json", "file", "save", "notes", "todo.txt"], b"milk\n");
    assert_eq!(saved.code, Some(0), "{}", saved.stderr);
    sb.ok(&["snapshot", "notes", "-m", "first list"]);
    read_until(&mut s, &mut text, "\"reason\":\"snapshot\"");
    let events: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(|v| v["type"] == "vault.changed")
        .collect();
    let seen: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["data"]["project_id"].as_str().unwrap_or(""),
                e["data"]["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (id.as_str(), "created"),
            (id.as_str(), "files"),
            (id.as_str(), "snapshot")
        ]
    );
    assert!(stop(child).success());
}

/// Every door saving the same files at once, each from its own process: `kura serve` (HTTP
/// `PUT`), `kura mcp` (`save_file`) and `kura file save`. Each save answers (success, or `busy`
/// where the door has it), no process dies, and every file ends holding one save's whole
/// content.
#[test]
fn every_door_saving_the_same_files_at_once_leaves_each_file_whole() {
    const SAVES: usize = 40;
    const FILES: usize = 3;
    let sb = Sandbox::new();
    let id = sb.ok(&["project", "create", "s"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = token(&sb, "write");
    let (server, _info, runtime) = serve(&sb, &[]);
    let sock = runtime.join("kura/api.sock");
    let mut mcp = sb
        .command(["mcp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let content = |door: &str, i: usize| format!("{door} save {i}\n").repeat(1 + i % 5);
    let written: std::sync::Mutex<Vec<String>> = Default::default();
    std::thread::scope(|scope| {
        let written = &written;
        scope.spawn(|| {
            for i in 0..SAVES {
                let data = content("http", i);
                let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
                write!(
                    s,
                    "PUT /v1/projects/{id}/files/d{}/f.txt HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{data}",
                    i % FILES,
                    data.len()
                )
                .unwrap();
                let mut answer = String::new();
                s.read_to_string(&mut answer).unwrap();
                let status: u16 = answer[9..12].parse().unwrap();
                assert!(
                    (200..300).contains(&status) || answer.contains("\"busy\""),
                    "HTTP save {i}: {answer}"
                );
                written.lock().unwrap().push(data);
            }
        });
        let stdin = mcp.stdin.take().unwrap();
        let stdout = mcp.stdout.take().unwrap();
        scope.spawn(move || {
            let mut stdin = stdin;
            let mut lines = std::io::BufReader::new(stdout).lines();
            // The next answer (notifications the server may send are passed over).
            let mut answer = move || loop {
                let v: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
                if v.get("id").is_some() {
                    return v;
                }
            };
            let mut send = |v: Value| writeln!(stdin, "{v}").unwrap();
            send(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "kura-tests", "version": "1"}}}));
            let init = answer();
            assert!(init["result"].is_object(), "{init}");
            send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
            for i in 0..SAVES {
                let data = content("mcp", i);
                send(json!({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call", "params": {
                    "name": "save_file",
                    "arguments": {"project": "s", "path": format!("d{}/f.txt", i % FILES), "content": data}}}));
                let got = answer();
                assert_eq!(got["id"], i + 1, "{got}");
                let result = &got["result"];
                assert!(
                    result.is_object()
                        && (result["isError"] != true
                            || result["content"][0]["text"]
                                .as_str()
                                .is_some_and(|t| t.contains(r#""code":"busy""#))),
                    "MCP save {i}: {got}"
                );
                written.lock().unwrap().push(data);
            }
        });
        scope.spawn(|| {
            for i in 0..SAVES {
                let data = content("cli", i);
                let path = format!("d{}/f.txt", i % FILES);
                let run =
                    sb.run_with_input(&["--json", "file", "save", "s", &path], data.as_bytes());
                assert!(
                    run.code == Some(0) || run.code == Some(9),
                    "CLI save {i}: {:?} {}",
                    run.code,
                    run.stderr
                );
                written.lock().unwrap().push(data);
            }
        });
    });
    drop(mcp.stdin.take());
    let status = mcp.wait().unwrap();
    assert!(status.success(), "kura mcp ended with {status}");
    let status = stop(server);
    assert!(status.success(), "kura serve ended with {status}");
    let written = written.into_inner().unwrap();
    for k in 0..FILES {
        let data =
            std::fs::read_to_string(sb.vault().join(format!("projects/s/d{k}/f.txt"))).unwrap();
        assert!(
            written.contains(&data),
            "d{k}/f.txt holds what no save wrote: {data:?}"
        );
    }
}

/// `kura serve --idle-timeout 1` cuts an upload that stopped sending (408), and a bad
/// `KURA_SERVE_*` value is refused with its name before anything starts.
#[test]
fn kura_serve_takes_its_client_limits_from_flags_and_the_environment() {
    let sb = Sandbox::new();
    let id = sb.ok(&["project", "create", "p"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = token(&sb, "write");
    let bad = sb
        .command(["serve", "--no-schedules"])
        .env("KURA_SERVE_MAX_TRANSFERS", "many")
        .env("XDG_RUNTIME_DIR", sb.path("bad-runtime"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("KURA_SERVE_MAX_TRANSFERS"),
        "{bad:?}"
    );

    let (server, _info, runtime) = serve(&sb, &["--idle-timeout", "1"]);
    let mut s = std::os::unix::net::UnixStream::connect(runtime.join("kura/api.sock")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "PUT /v1/projects/{id}/files/big.bin HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Length: 104857600\r\n\r\nx"
    )
    .unwrap();
    // Without the flag the default (30 s) would outlast this read's 20 s: no answer.
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(!sb.vault().join("projects/p/big.bin").exists());
    assert!(stop(server).success());
}

/// `kura serve` keeps a log a day in the XDG state folder (private to the user): an operation
/// that failed is there with its cause, and `kura logs` shows it.
#[test]
fn kura_serve_logs_to_a_file_that_kura_logs_shows() {
    let sb = Sandbox::new();
    let state = sb.path("state");
    let token = token(&sb, "admin");
    let (child, _, runtime) = serve_with_env(&sb, &[], &[("XDG_STATE_HOME", &state)]);
    // A snapshot of a project whose folder is gone fails, as an operation.
    sb.ok(&["project", "create", "gone"]);
    std::fs::remove_dir_all(sb.vault().join("projects/gone")).unwrap();
    let mut s = std::os::unix::net::UnixStream::connect(runtime.join("kura/api.sock")).unwrap();
    write!(s, "POST /v1/projects/gone/snapshot?wait=true HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.contains("failed"), "{answer}");
    assert!(stop(child).success());

    let folder = state.join("kura");
    let mode = std::fs::metadata(&folder).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    let logs = sb
        .command(["--json", "logs", "-n", "200"])
        .env("XDG_STATE_HOME", &state)
        .output()
        .unwrap();
    assert!(logs.status.success(), "{logs:?}");
    let v: Value = serde_json::from_slice(&logs.stdout).unwrap();
    let file = v["file"].as_str().unwrap();
    assert!(
        file.starts_with(folder.to_str().unwrap()) && file.contains("kura-serve."),
        "{v}"
    );
    let lines: Vec<&str> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("WARN") && l.contains("snapshot failed") && l.contains("missing")),
        "{lines:#?}"
    );
}

/// A browser signs in to a server that is running already: `kura serve link` asks it for a
/// one-time link over its loopback address. The link signs one browser in, once; opened again it
/// shows a page that says what to do (not an API error), and a server on a Unix socket, which a
/// browser cannot reach, is refused with what to do instead.
#[test]
fn kura_serve_link_signs_a_browser_in_to_a_running_server_once() {
    let sb = Sandbox::new();
    let (server, info, runtime) = serve(&sb, &["--listen", "127.0.0.1:0"]);
    // `kura serve link` run as the server was, with the same runtime folder.
    let link_run = |args: &[&str]| {
        let out = sb
            .command(["--json", "serve", "link"].iter().chain(args))
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        (out.status.code(), v)
    };
    let addr = info["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .to_string();
    let (code, link) = link_run(&["--scope", "write"]);
    assert_eq!(code, Some(0), "{link}");
    assert_eq!(link["scope"], "write", "{link}");
    let url = link["url"].as_str().unwrap();
    let path = url
        .strip_prefix(&format!("http://{addr}"))
        .unwrap_or_else(|| panic!("{url}"));
    let get = |accept: &str| {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text
    };
    let first = get("text/html,application/xhtml+xml");
    assert!(first.starts_with("HTTP/1.1 303"), "{first}");
    assert!(first.contains("kura_session="), "{first}");
    let again = get("text/html,application/xhtml+xml");
    assert!(again.starts_with("HTTP/1.1 401"), "{again}");
    assert!(
        again.contains("text/html") && again.contains("kura serve link"),
        "{again}"
    );
    assert!(
        !again.contains("\"code\""),
        "raw JSON shown to a person: {again}"
    );
    let api = get("application/json");
    assert!(
        api.starts_with("HTTP/1.1 401") && api.contains("\"code\""),
        "{api}"
    );
    assert!(stop(server).success());

    // No server: said so.
    let (code, err) = link_run(&[]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no kura serve is running"),
        "{err}"
    );
    // A server on its Unix socket: a browser cannot reach it.
    let (server, _, _) = serve(&sb, &[]);
    let (code, err) = link_run(&[]);
    assert_eq!(code, Some(4), "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--listen 127.0.0.1:PORT"),
        "{err}"
    );
    assert!(stop(server).success());
}

/// A server killed while it receives an upload leaves its half-received files in a staging
/// folder of the vault, never in the project; the next cleanup removes the folder.
#[test]
fn an_upload_cut_off_by_a_killed_server_is_cleared_by_the_next_cleanup() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "site"]);
    let token = token(&sb, "write");
    let (child, _, runtime) = serve(&sb, &[]);
    let mut s = std::os::unix::net::UnixStream::connect(runtime.join("kura/api.sock")).unwrap();
    let boundary = "kura-upload-boundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"docs/half.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    // The body says 1 MiB more than is sent: the server waits for the rest.
    let sent = vec![7u8; 64 * 1024];
    write!(
        s,
        "POST /v1/projects/site/upload HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n{head}",
        head.len() + sent.len() + (1 << 20)
    )
    .unwrap();
    s.write_all(&sent).unwrap();
    s.flush().unwrap();
    let projects = sb.vault().join("projects");
    let staged = || -> Vec<PathBuf> {
        std::fs::read_dir(&projects)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(".kura-tmp-upload-")
            })
            .collect()
    };
    let start = Instant::now();
    while !staged()
        .iter()
        .any(|d| d.join("content/docs/half.bin").exists())
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no upload was staged"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(child); // SIGKILL
    assert!(
        !projects.join("site/docs").exists(),
        "half an upload reached the project"
    );
    assert_eq!(staged().len(), 1);
    sb.ok(&["cleanup"]);
    assert!(
        staged().is_empty(),
        "the killed upload's folder is still there"
    );
    let leftovers: Vec<_> = std::fs::read_dir(sb.vault())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".upload"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// What a backup run adds to the vault's event log: how many `vault.changed` events of reason
/// `backup`, whether the last `backup.status` event says the first target's last run worked, and
/// the id of the last event.
fn backup_events(sb: &Sandbox, since: i64) -> (usize, Option<bool>, i64) {
    let log = kura_api::Events::open(&sb.vault().join("events.db")).unwrap();
    let events = log.since(since, &[], 10_000).unwrap().events;
    let changed = events
        .iter()
        .filter(|e| e.kind == "vault.changed" && e.data["reason"] == "backup")
        .count();
    let last_ok = events
        .iter()
        .rfind(|e| e.kind == "backup.status")
        .and_then(|e| {
            e.data["targets"][0]["last_run"]["result"]
                .as_str()
                .map(|r| r == "ok")
        });
    let last = events.last().map_or(since, |e| e.id);
    (changed, last_ok, last)
}

/// A backup run from the CLI and one over HTTP reach the vault's event log alike (one
/// `vault.changed` of reason `backup`, and a `backup.status` with the run's outcome), so the tray,
/// the window and every browser hear of both; `kura mcp`'s runs are checked the same way in
/// `mcp.rs`.
#[test]
fn a_backup_from_the_cli_or_over_http_announces_the_same_events() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "notes"]);
    std::fs::write(sb.vault().join("projects/notes/a.txt"), "a").unwrap();
    sb.folder_target("usb");
    let (_, _, start) = backup_events(&sb, 0);
    sb.ok(&["backup", "run", "usb"]);
    let (changed, ok, after_cli) = backup_events(&sb, start);
    assert_eq!((changed, ok), (1, Some(true)), "the CLI's run");

    std::fs::write(sb.vault().join("projects/notes/b.txt"), "b").unwrap();
    let token = token(&sb, "write");
    let (child, _, runtime) = serve(&sb, &[]);
    let mut s = std::os::unix::net::UnixStream::connect(runtime.join("kura/api.sock")).unwrap();
    write!(s, "POST /v1/backups/targets/usb/run?wait=true HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let (changed, ok, _) = backup_events(&sb, after_cli);
    assert_eq!((changed, ok), (1, Some(true)), "the HTTP run");
    drop(child);
}
