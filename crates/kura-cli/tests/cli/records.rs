//! Records from the command line, and how they travel with their project: through an archive
//! (readable with plain `tar`), into another vault, through a backup and its restore, and out
//! with a hard delete. Then the kill test: a `kura serve` taking writes from several clients is
//! killed with SIGKILL, and every write it acknowledged must be there afterwards.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::random::Rng;
use crate::sandbox::{s, Sandbox};

fn keys(page: &Value) -> Vec<String> {
    page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn records_from_the_command_line() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "shop"]);
    let r = sb.ok(&[
        "record",
        "-p",
        "shop",
        "put",
        "tasks",
        "t1",
        r#"{"title":"Fix login","status":"open","priority":3}"#,
    ]);
    let rev = r["rev"].as_u64().unwrap();
    let run = sb.run_with_input(
        &[
            "--json",
            "record",
            "--project",
            "shop",
            "put",
            "tasks",
            "t2",
            "-",
        ],
        br#"{"title":"Write docs","status":"done","priority":1}"#,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // People get the document; scripts get it with its revision.
    let text = sb.run(&["record", "-p", "shop", "get", "tasks", "t1"]);
    assert!(
        text.text().contains("\"title\": \"Fix login\""),
        "{}",
        text.text()
    );
    assert_eq!(
        sb.ok(&["record", "-p", "shop", "get", "tasks", "t1"])["rev"],
        rev
    );
    // Create-only and stale revisions are conflicts (exit 4); a missing record is 3.
    let err = sb.fails(
        &[
            "record", "-p", "shop", "put", "tasks", "t1", "{}", "--create",
        ],
        4,
    );
    assert_eq!(err["code"], "conflict");
    let err = sb.fails(
        &[
            "record", "-p", "shop", "put", "tasks", "t1", "{}", "--if-rev", "999999",
        ],
        4,
    );
    assert!(
        err["message"].as_str().unwrap().contains("not 999999"),
        "{err}"
    );
    sb.fails(&["record", "-p", "shop", "get", "tasks", "nope"], 3);
    sb.fails(
        &["record", "-p", "shop", "put", "tasks", "t3", "{not json"],
        2,
    );
    sb.fails(&["record", "-p", "nope", "list"], 3);

    // Query as a person writes it.
    let page = sb.ok(&[
        "record",
        "-p",
        "shop",
        "query",
        "tasks",
        "--where",
        "status=open",
        "--where",
        "priority>=2",
    ]);
    assert_eq!(keys(&page), ["t1"]);
    let page = sb.ok(&[
        "record",
        "-p",
        "shop",
        "query",
        "tasks",
        "--where",
        "title^=Write",
        "--sort",
        "priority",
        "--desc",
    ]);
    assert_eq!(keys(&page), ["t2"]);

    // A batch from standard input, one operation per line; all or nothing.
    let lines = concat!(
        r#"{"op":"put","collection":"tasks","key":"t3","value":{"status":"open","priority":2}}"#,
        "\n",
        r#"{"op":"delete","collection":"tasks","key":"t2"}"#,
        "\n",
    );
    let run = sb.run_with_input(
        &["--json", "record", "-p", "shop", "batch"],
        lines.as_bytes(),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let bad = concat!(
        r#"{"op":"delete","collection":"tasks","key":"t1"}"#,
        "\n",
        r#"{"op":"put","collection":"tasks","key":"t3","value":1,"if_rev":0}"#,
        "\n",
    );
    let run = sb.run_with_input(&["--json", "record", "-p", "shop", "batch"], bad.as_bytes());
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    let page = sb.ok(&["record", "-p", "shop", "list", "tasks"]);
    assert_eq!(keys(&page), ["t1", "t3"]);

    // Settings: an index and a schema.
    let schema = sb.path("schema.json");
    std::fs::write(&schema, r#"{"type":"object","required":["status"]}"#).unwrap();
    let info = sb.ok(&[
        "record",
        "-p",
        "shop",
        "settings",
        "tasks",
        "--index",
        "status",
        "--schema",
        s(&schema),
    ]);
    assert_eq!(info["indexes"], json!(["status"]));
    let err = sb.fails(
        &[
            "record",
            "-p",
            "shop",
            "put",
            "tasks",
            "t4",
            r#"{"title":"no status"}"#,
        ],
        2,
    );
    assert!(err["message"].as_str().unwrap().contains("schema"), "{err}");

    // The vault's own records are apart from the project's.
    sb.ok(&["record", "put", "prefs", "theme", r#""dark""#]);
    assert_eq!(sb.ok(&["record", "list"]).as_array().unwrap().len(), 1);
    let colls = sb.ok(&["record", "-p", "shop", "list"]);
    let names: Vec<&str> = colls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["tasks"]);

    // An expired record is gone.
    sb.ok(&[
        "record", "-p", "shop", "put", "locks", "build", "true", "--ttl", "1",
    ]);
    std::thread::sleep(Duration::from_millis(1100));
    sb.fails(&["record", "-p", "shop", "get", "locks", "build"], 3);

    sb.ok(&["record", "-p", "shop", "drop", "tasks"]);
    sb.fails(&["record", "-p", "shop", "get", "tasks", "t1"], 3);
}

#[test]
fn records_travel_in_archives_and_backups_and_leave_with_a_hard_delete() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "shop"]);
    sb.ok(&[
        "record",
        "-p",
        "shop",
        "put",
        "decisions",
        "db",
        r#"{"choice":"sqlite","why":"local-first"}"#,
    ]);
    sb.ok(&[
        "record",
        "-p",
        "shop",
        "settings",
        "decisions",
        "--index",
        "choice",
    ]);
    sb.ok(&["project", "create", "other"]);
    sb.ok(&["record", "-p", "other", "put", "notes", "n", "1"]);

    // An export takes them along when asked, beside the version's files.
    let plain = sb.path("export-plain");
    sb.ok(&["project", "export", "shop", s(&plain)]);
    assert!(!plain.join(".kura").exists());
    let with = sb.path("export-records");
    sb.ok(&["project", "export", "shop", s(&with), "--records"]);
    let text = std::fs::read_to_string(with.join(".kura/records.jsonl")).unwrap();
    let line: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(line["value"]["choice"], "sqlite");
    let settings: Value =
        serde_json::from_slice(&std::fs::read(with.join(".kura/record-collections.json")).unwrap())
            .unwrap();
    assert_eq!(
        settings["collections"]["decisions"]["indexes"],
        json!(["choice"])
    );
    // A version with a .kura of its own: refused, and the folder is left empty.
    let folder = std::path::PathBuf::from(
        sb.ok(&["project", "show", "shop"])["path"]
            .as_str()
            .unwrap(),
    );
    std::fs::create_dir_all(folder.join(".kura")).unwrap();
    std::fs::write(folder.join(".kura/mine.txt"), "mine").unwrap();
    sb.ok(&["snapshot", "shop", "-m", "a .kura folder of its own"]);
    let clash = sb.path("export-clash");
    let err = sb.fails(&["project", "export", "shop", s(&clash), "--records"], 4);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("'.kura' entry of its own"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&clash).map(|d| d.count()).unwrap_or(0), 0);

    // The archive holds them as JSON lines, readable with plain tar.
    let info = sb.ok(&["archive", "shop"]);
    // A copy: unarchiving takes the archive file back.
    let archive = s(&sb.path("shop.tar.zst")).to_string();
    std::fs::copy(info["path"].as_str().unwrap(), &archive).unwrap();
    let out = Command::new("tar")
        .args(["--zstd", "-xOf", &archive, "shop/records.jsonl"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        (line["collection"].as_str(), line["key"].as_str()),
        (Some("decisions"), Some("db"))
    );
    assert_eq!(line["value"]["choice"], "sqlite");
    // An archived project keeps its records here; unarchived, they are as they were.
    assert_eq!(
        sb.ok(&["record", "-p", "shop", "get", "decisions", "db"])["value"]["why"],
        "local-first"
    );
    sb.ok(&["unarchive", "shop"]);
    assert_eq!(
        sb.ok(&["record", "-p", "shop", "list"])[0]["indexes"],
        json!(["choice"])
    );

    // Imported into another vault, the project brings its records and their settings.
    let elsewhere = Sandbox::new();
    elsewhere.ok(&["import", &archive, "--name", "shop2"]);
    let got = elsewhere.ok(&["record", "-p", "shop2", "get", "decisions", "db"]);
    assert_eq!(got["value"]["choice"], "sqlite");
    let page = elsewhere.ok(&[
        "record",
        "-p",
        "shop2",
        "query",
        "decisions",
        "--where",
        "choice=sqlite",
    ]);
    assert_eq!(keys(&page), ["db"]);

    // A backup holds them; a restored vault has them.
    let drive = sb.path("drive");
    std::fs::create_dir_all(&drive).unwrap();
    sb.ok(&["backup", "target", "add", "usb", "--folder", s(&drive)]);
    sb.ok(&["backup", "run", "usb"]);
    let dest = sb.path("restored");
    sb.ok(&["backup", "restore", "usb", "--to", s(&dest)]);
    let restored = Sandbox::with_vault(dest);
    assert_eq!(
        restored.ok(&["record", "-p", "shop", "get", "decisions", "db"])["value"]["choice"],
        "sqlite"
    );

    // Trash keeps them; a hard delete takes them, and only them.
    sb.ok(&["project", "delete", "shop"]);
    sb.ok(&["record", "-p", "shop", "get", "decisions", "db"]);
    sb.ok(&["project", "delete", "shop", "--hard"]);
    let conn = rusqlite::Connection::open(sb.vault().join("records.db")).unwrap();
    let left: Vec<String> = conn
        .prepare("SELECT DISTINCT collection FROM records")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(left, ["notes"]);
}

#[test]
fn verify_names_a_damaged_records_database() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "shop"]);
    for i in 0..200 {
        sb.ok(&[
            "record",
            "-p",
            "shop",
            "put",
            "notes",
            &format!("n{i:03}"),
            &format!("{{\"text\": \"note {i} {}\"}}", "x".repeat(200)),
        ]);
    }
    assert!(sb.ok(&["verify"])["problems"]
        .as_array()
        .unwrap()
        .is_empty());
    // Garbage over a page in the middle of the file (no process has it open: the WAL was
    // folded in when the last one closed it).
    let db = sb.vault().join("records.db");
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 8 * 4096, "{} bytes", bytes.len());
    for b in &mut bytes[4 * 4096..5 * 4096] {
        *b = 0xa5;
    }
    std::fs::write(&db, &bytes).unwrap();
    let run = sb.json_run(&["verify"]);
    assert_eq!(run.code, Some(8), "{}", run.text());
    let report = run.json();
    let problems = report["problems"].as_array().unwrap();
    assert!(problems.iter().any(|p| p["area"] == "records"), "{report}");
}

/// One keep-alive HTTP/1.1 connection to `kura serve`.
struct Conn {
    stream: BufReader<std::net::TcpStream>,
    host: String,
    token: String,
}

impl Conn {
    fn open(host: &str, token: &str) -> std::io::Result<Conn> {
        let stream = std::net::TcpStream::connect(host)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn {
            stream: BufReader::new(stream),
            host: host.into(),
            token: token.into(),
        })
    }

    /// `PUT path` with a JSON body; the status, or an error when the server is gone.
    fn put(&mut self, path: &str, body: &str) -> std::io::Result<u16> {
        write!(
            self.stream.get_mut(),
            "PUT {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            self.token,
            body.len()
        )?;
        let mut status_line = String::new();
        if self.stream.read_line(&mut status_line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status: u16 = status_line
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .ok_or(std::io::ErrorKind::InvalidData)?;
        let mut length = 0;
        loop {
            let mut line = String::new();
            if self.stream.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body)?;
        Ok(status)
    }
}

/// Starts `kura serve` on a free loopback port; returns it and its address.
fn serve(sb: &Sandbox) -> (std::process::Child, String) {
    let runtime = sb.path("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    let discovery = runtime.join("kura/serve.json");
    let _ = std::fs::remove_file(&discovery);
    let mut child = sb
        .command(["serve", "--no-schedules", "--listen", "127.0.0.1:0"])
        .env("XDG_RUNTIME_DIR", &runtime)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(v) = std::fs::read(&discovery)
            .ok()
            .and_then(|d| serde_json::from_slice::<Value>(&d).ok())
        {
            let url = v["url"]
                .as_str()
                .unwrap()
                .trim_start_matches("http://")
                .to_string();
            return (child, url);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("kura serve exited: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "kura serve did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_killed_server_loses_no_acknowledged_record() {
    let sb = Sandbox::new();
    let id = sb.ok(&["project", "create", "agents"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = sb.ok(&["serve", "token", "--scope", "write"])["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut rng = Rng::new(0x5eed_2026);
    // key -> the last value the server acknowledged for it.
    let mut acknowledged: BTreeMap<String, u64> = BTreeMap::new();
    for round in 0..6u64 {
        let (mut child, host) = serve(&sb);
        let kill_after = Duration::from_millis(150 + rng.below(600));
        let writers: Vec<_> = (0..4u64)
            .map(|w| {
                let (host, token, id) = (host.clone(), token.clone(), id.clone());
                std::thread::spawn(move || {
                    let mut acked = Vec::new();
                    let Ok(mut conn) = Conn::open(&host, &token) else {
                        return acked;
                    };
                    for i in 0.. {
                        // Each writer rewrites its own few keys, so later values replace earlier.
                        let key = format!("w{w}-k{}", i % 7);
                        let value = round * 1_000_000 + w * 100_000 + i;
                        match conn.put(
                            &format!("/v1/projects/{id}/records/log/{key}"),
                            &format!("{{\"v\":{value}}}"),
                        ) {
                            Ok(200) => acked.push((key, value)),
                            Ok(status) => panic!("a put answered {status}"),
                            Err(_) => break,
                        }
                    }
                    acked
                })
            })
            .collect();
        std::thread::sleep(kill_after);
        child.kill().unwrap();
        child.wait().unwrap();
        let mut writes = 0;
        for w in writers {
            for (key, value) in w.join().unwrap() {
                acknowledged.insert(key, value);
                writes += 1;
            }
        }
        assert!(
            writes > 0,
            "round {round}: no write was acknowledged before the kill"
        );
        // Every acknowledged write is there.
        let page = sb.ok(&["record", "-p", "agents", "list", "log", "-n", "1000"]);
        let stored: BTreeMap<String, u64> = page["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["key"].as_str().unwrap().to_string(),
                    r["value"]["v"].as_u64().unwrap(),
                )
            })
            .collect();
        for (key, value) in &acknowledged {
            let got = stored.get(key).copied();
            // A write in flight at the kill may have landed after the last acknowledged one.
            assert!(
                got.is_some_and(|g| g >= *value),
                "round {round}: '{key}' acknowledged as {value}, stored {got:?}"
            );
        }
        sb.ok(&["verify"]);
    }
}
