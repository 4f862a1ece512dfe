//! `kura backup` against servers on 127.0.0.1: one that accepts connections and never answers
//! (every verb ends `unavailable` within its timeouts, nothing is left locked or half-written),
//! and a real S3 server (`rclone serve s3`) for the secrets test (no passphrase or secret key
//! in any file Kura writes, at the targets, or in its output and logs) and over HTTPS (used when
//! its certificate's authority is trusted, refused in words when not).

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kura_test_support::{free_port, S3Server};
use serde_json::Value;

use crate::disk;
use crate::sandbox::{s, Sandbox};

/// How long one kura command may run before the test calls it hung and kills it.
const WATCHDOG: Duration = Duration::from_secs(120);
/// How long a silent server keeps its connections at most (it stops itself after that).
const SILENT_FOR: Duration = Duration::from_secs(600);
/// The exit code of `unavailable`.
const UNAVAILABLE: i32 = 12;

/// Timeouts short enough for a test: a silent second ends a call.
const SHORT: [(&str, &str); 3] = [
    ("KURA_NETWORK_CONNECT_TIMEOUT_SECS", "1"),
    ("KURA_NETWORK_IO_TIMEOUT_SECS", "1"),
    ("KURA_NETWORK_OPERATION_TIMEOUT_SECS", "5"),
];

/// A server on 127.0.0.1 that accepts every connection and never sends a byte; it holds the
/// connections until dropped (or for [`SILENT_FOR`] at most).
struct SilentServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentServer {
    fn on(port: u16) -> SilentServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut held: Vec<TcpStream> = Vec::new();
                let until = Instant::now() + SILENT_FOR;
                while !stop.load(Ordering::SeqCst) && Instant::now() < until {
                    match listener.accept() {
                        Ok((stream, _)) => held.push(stream),
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        SilentServer {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What one bounded run of kura did.
struct Bounded {
    code: i32,
    json: Value,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs `kura --json <args>` with `env`, killing it and failing the test when it still runs
/// after [`WATCHDOG`].
fn kura(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Bounded {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let mut child = sb
        .command(&all)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start kura");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + WATCHDOG;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`kura {}` was still running after {} s against a server that does not answer",
                args.join(" "),
                WATCHDOG.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    let text = String::from_utf8_lossy(&stderr);
    assert!(!text.contains("panicked"), "kura panicked: {text}");
    Bounded {
        code: status.code().unwrap_or(-1),
        json: serde_json::from_slice(&stdout).unwrap_or(Value::Null),
        stdout,
        stderr,
    }
}

/// Like [`kura`], expecting exit code 0.
fn kura_ok(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Bounded {
    let run = kura(sb, args, env);
    assert_eq!(
        run.code,
        0,
        "`kura {}` failed: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    run
}

/// Like [`kura`], expecting `unavailable` (exit 12) with a message saying the server did not
/// answer.
fn kura_unavailable(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) {
    let run = kura(sb, args, env);
    assert_eq!(
        (run.code, run.json["error"]["code"].as_str()),
        (UNAVAILABLE, Some("unavailable")),
        "`kura {}`: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let message = run.json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("did not answer within 1 s") && message.contains("try again"),
        "`kura {}`: {message}",
        args.join(" ")
    );
}

/// The S3 key pair of target `name`, as kura reads it from the environment.
fn keys<'a>(name: &str, access: &'a str, secret: &'a str) -> Vec<(String, &'a str)> {
    let upper = name.to_ascii_uppercase();
    vec![
        (format!("KURA_BACKUP_{upper}_ACCESS_KEY_ID"), access),
        (format!("KURA_BACKUP_{upper}_SECRET_ACCESS_KEY"), secret),
    ]
}

fn env_refs<'a>(owned: &'a [(String, &'a str)]) -> Vec<(&'a str, &'a str)> {
    owned.iter().map(|(k, v)| (k.as_str(), *v)).collect()
}

fn add_s3(name: &str, port: u16) -> Vec<String> {
    add_s3_at(name, &format!("http://127.0.0.1:{port}"))
}

/// `backup target add NAME --s3` for the bucket `kura` at `endpoint`, prefix `vault`.
fn add_s3_at(name: &str, endpoint: &str) -> Vec<String> {
    [
        "backup",
        "target",
        "add",
        name,
        "--s3",
        "--endpoint",
        endpoint,
        "--bucket",
        "kura",
        "--prefix",
        "vault",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn small_project(sb: &Sandbox) {
    let src = sb.path("src-site");
    for i in 0..20 {
        disk::write(
            &src.join(format!("page{i}.html")),
            format!("<p>page {i}</p>\n").repeat(50),
        );
    }
    disk::write(
        &src.join("media/clip.bin"),
        crate::random::Rng::new(5).bytes(6 << 20),
    );
    sb.ok(&["project", "import", s(&src), "--name", "site"]);
}

/// Restores project `site` from target `cloud` to `dest` and checks it equals the project's
/// folder.
fn restore_site_as_it_is(sb: &Sandbox, dest: &Path, env: &[(&str, &str)]) {
    let args = [
        "backup",
        "restore",
        "cloud",
        "--project",
        "site",
        "--to",
        s(dest),
    ];
    kura_ok(sb, &args, env);
    assert_eq!(
        disk::Tree::read(dest),
        disk::Tree::read(&sb.vault().join("projects/site"))
    );
}

#[test]
fn every_backup_verb_against_a_server_that_never_answers_ends_unavailable() {
    let sb = Sandbox::new();
    let (access, secret) = ("silentaccess", "silentsecret0123456789");

    // Adding a target on a server that never answers: unavailable, nothing saved.
    let silent = SilentServer::on(0);
    let key_env = keys("mute", access, secret);
    let mut env = env_refs(&key_env);
    env.extend(SHORT);
    kura_unavailable(&sb, &strs(&add_s3("mute", silent.port)), &env);
    drop(silent);
    let targets = kura_ok(&sb, &["backup", "target", "list"], &[]);
    assert_eq!(targets.json, serde_json::json!([]), "nothing was saved");

    // A working target with a backup, whose server is then replaced by a silent one.
    small_project(&sb);
    let port = free_port();
    let data = sb.path("s3data");
    let server = S3Server::start(&data, port, access, secret);
    let key_env = keys("cloud", access, secret);
    let keys_only = env_refs(&key_env);
    kura_ok(&sb, &strs(&add_s3("cloud", port)), &keys_only);
    kura_ok(&sb, &["backup", "run", "cloud"], &keys_only);
    drop(server);
    let silent = SilentServer::on(port);

    let mut env = keys_only.clone();
    env.extend(SHORT);
    let dest = sb.path("restored");
    for args in [
        vec!["backup", "target", "test", "cloud"],
        vec!["backup", "run", "cloud"],
        vec!["backup", "list", "cloud"],
        vec!["backup", "list", "cloud", "--backup", "latest"],
        vec!["backup", "verify", "cloud", "--full"],
        vec!["backup", "prune", "cloud"],
        vec![
            "backup",
            "restore",
            "cloud",
            "--project",
            "site",
            "--to",
            s(&dest),
        ],
    ] {
        kura_unavailable(&sb, &args, &env);
    }
    assert!(!dest.exists(), "the restore wrote nothing");
    let runs = kura_ok(&sb, &["backup", "list", "--runs", "cloud"], &[]);
    assert_eq!(runs.json[0]["result"], "unavailable", "{}", runs.json);

    // The server answers again: nothing was left locked, everything works.
    drop(silent);
    let _server = S3Server::start(&data, port, access, secret);
    kura_ok(&sb, &["backup", "run", "cloud"], &keys_only);
    kura_ok(&sb, &["backup", "prune", "cloud"], &keys_only);
    let verify = kura_ok(&sb, &["backup", "verify", "cloud", "--full"], &keys_only);
    assert_eq!(verify.json["problems"], serde_json::json!([]));
    restore_site_as_it_is(&sb, &dest, &keys_only);
}

/// A certificate authority and a certificate it signed for 127.0.0.1, made by `openssl` in
/// `dir`: the authority's certificate, the server's certificate and the server's key.
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is not installed: run scripts/setup.sh");
        assert!(
            out.status.success(),
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let new_key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        &[
            &[
                "req",
                "-x509",
                "-days",
                "2",
                "-subj",
                "/CN=Kura test authority",
            ][..],
            &new_key,
            &["-keyout", "ca.key", "-out", "ca.pem"],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &[
            &["req"][..],
            &new_key,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
    );
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

#[test]
fn an_https_target_is_used_when_its_certificate_is_trusted_and_refused_in_words_when_not() {
    let sb = Sandbox::new();
    small_project(&sb);
    let (authority, cert, key) = certificates(&sb.path("tls"));
    let (access, secret) = ("tlsaccess", "tlssecret0123456789");
    let server =
        S3Server::start_https(&sb.path("s3data"), free_port(), access, secret, &cert, &key);
    let endpoint = server.endpoint();
    assert!(endpoint.starts_with("https://"), "{endpoint}");
    let add = add_s3_at("cloud", &endpoint);
    let add = strs(&add);
    let key_env = keys("cloud", access, secret);
    let keys_only = env_refs(&key_env);

    // Signed by an authority this machine does not trust: refused as such (not "unavailable,
    // try again"), the verifier's own log line not shown beside it, nothing saved.
    let untrusted = kura(&sb, &add, &keys_only);
    let message = untrusted.json["error"]["message"].as_str().unwrap_or("");
    assert_eq!(
        (untrusted.code, untrusted.json["error"]["code"].as_str()),
        (2, Some("invalid_input")),
        "{message}"
    );
    assert!(
        message.contains("certificate is not trusted") && message.contains("UnknownIssuer"),
        "{message}"
    );
    assert!(message.contains("SSL_CERT_FILE"), "{message}");
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert!(!stderr.contains("rustls"), "{stderr}");
    let targets = kura_ok(&sb, &["backup", "target", "list"], &[]);
    assert_eq!(targets.json, serde_json::json!([]), "nothing was saved");

    // The authority trusted (SSL_CERT_FILE, read as the system's certificates are): a backup
    // goes there over TLS and comes back whole.
    let mut trusted = keys_only.clone();
    trusted.push(("SSL_CERT_FILE", s(&authority)));
    kura_ok(&sb, &add, &trusted);
    kura_ok(&sb, &["backup", "run", "cloud"], &trusted);
    assert!(
        !files_under(&server.dir.join("kura/vault")).is_empty(),
        "the backup is in the bucket"
    );
    let dest = sb.path("restored");
    restore_site_as_it_is(&sb, &dest, &trusted);

    // Trusted no more: the next run is refused the same way.
    let later = kura(&sb, &["backup", "run", "cloud"], &keys_only);
    assert_eq!(later.code, 2, "{}", String::from_utf8_lossy(&later.stdout));
}

/// A distinctive random string: `prefix` and 32 hex digits.
fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut bytes)
        .unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// Every file under `root`.
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                folders.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn no_passphrase_or_secret_key_is_written_anywhere() {
    let sb = Sandbox::new();
    let folder_passphrase = random_secret("usb-passphrase-");
    let s3_passphrase = random_secret("cloud-passphrase-");
    let access = random_secret("AK");
    let secret = random_secret("cloud-secret-key-");
    let secrets = [&folder_passphrase, &s3_passphrase, &secret];
    small_project(&sb);
    kura_ok(
        &sb,
        &["config", "set", "snapshots.quiet_period_secs", "5"],
        &[],
    );
    let drive = sb.path("drive");
    std::fs::create_dir(&drive).unwrap();
    let port = free_port();
    let data = sb.path("s3data");
    let _server = S3Server::start(&data, port, &access, &secret);
    let mut owned = keys("cloud", &access, &secret);
    owned.push(("KURA_BACKUP_CLOUD_PASSPHRASE".into(), &s3_passphrase));
    owned.push(("KURA_BACKUP_USB_PASSPHRASE".into(), &folder_passphrase));
    let mut env = env_refs(&owned);

    // Each command's output and logs, as talkative as they get.
    env.push(("KURA_LOG", "debug"));
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let run = kura(&sb, args, env);
        let mut said = run.stdout.clone();
        said.extend_from_slice(&run.stderr);
        for secret in secrets {
            assert!(
                !contains(&said, secret),
                "the output or logs of `kura {}` hold a secret ({secret}):\n{}",
                args.join(" "),
                String::from_utf8_lossy(&said)
            );
        }
        run
    };
    let ok = |args: &[&str]| {
        let r = run(args, &env);
        assert_eq!(
            r.code,
            0,
            "`kura {}`: {}",
            args.join(" "),
            String::from_utf8_lossy(&r.stderr)
        );
    };
    ok(&[
        "backup",
        "target",
        "add",
        "usb",
        "--folder",
        s(&drive),
        "--encrypt",
    ]);
    let mut add = add_s3("cloud", port);
    add.push("--encrypt".into());
    ok(&strs(&add));
    for _ in 0..2 {
        ok(&["backup", "run", "--all"]);
    }
    ok(&["backup", "verify", "usb", "--full"]);
    ok(&["backup", "verify", "cloud", "--full"]);
    ok(&["backup", "list", "--runs"]);
    ok(&["backup", "health"]);
    let wrong = [
        ("KURA_BACKUP_USB_PASSPHRASE", "not-it"),
        ("KURA_LOG", "debug"),
    ];
    assert_eq!(
        run(&["backup", "run", "usb"], &wrong).code,
        13,
        "a wrong passphrase is refused"
    );

    let vault = sb.vault();
    let mut files = files_under(vault);
    for must in ["config.toml", "backup/targets.toml", "catalog.db"] {
        assert!(
            files.contains(&vault.join(must)),
            "{must} is among the files searched"
        );
    }
    assert!(
        files_under(&drive).len() > 3,
        "the folder target holds the backups"
    );
    assert!(files_under(&data).len() > 3, "the bucket holds the backups");
    files.extend(files_under(&drive));
    files.extend(files_under(&data));
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for secret in secrets {
            assert!(
                !contains(&bytes, secret),
                "{} holds a secret ({secret})",
                file.display()
            );
        }
    }
}

#[test]
fn an_archive_in_a_bucket_is_imported_through_the_targets_keys_and_hostile_ones_are_refused() {
    let sb = Sandbox::new();
    // A Kura archive (with its history and records), and a tarball with ../ in a member name,
    // put into the bucket as objects.
    small_project(&sb);
    disk::write(
        &sb.vault().join("projects/site/page0.html"),
        "<p>changed</p>\n",
    );
    kura_ok(&sb, &["snapshot", "site", "-m", "second"], &[]);
    kura_ok(
        &sb,
        &[
            "record",
            "-p",
            "site",
            "put",
            "notes",
            "n1",
            r#"{"text":"keep me"}"#,
        ],
        &[],
    );
    let versions = sb.version_ids("site");
    let archive = kura_ok(&sb, &["archive", "site"], &[]).json["path"]
        .as_str()
        .unwrap()
        .to_string();
    let data = sb.path("s3data");
    let exports = data.join("kura/exports");
    std::fs::create_dir_all(&exports).unwrap();
    std::fs::copy(&archive, exports.join("site.tar.zst")).unwrap();
    let work = sb.path("w/inner");
    disk::write(&work.join("ok.txt"), "fine\n");
    disk::write(&sb.path("w/evil.txt"), "outside\n");
    crate::sandbox::tool(
        Command::new("tar")
            .arg("-czf")
            .arg(exports.join("bad.tar.gz"))
            .arg("-C")
            .arg(&work)
            .args(["--absolute-names", "ok.txt", "../evil.txt"]),
    );

    let (access, secret) = ("AKIMPORT", "import-secret-key");
    let port = free_port();
    let server = S3Server::start(&data, port, access, secret);
    let owned = keys("bucket", access, secret);
    let env = env_refs(&owned);
    kura_ok(&sb, &strs(&add_s3("bucket", port)), &env);

    let p = kura_ok(
        &sb,
        &[
            "import",
            "s3://bucket/exports/site.tar.zst",
            "--name",
            "site2",
        ],
        &env,
    )
    .json;
    assert_eq!(p["name"], "site2");
    assert_eq!(
        sb.version_ids("site2"),
        versions,
        "every version comes along"
    );
    let page = std::fs::read_to_string(
        std::path::PathBuf::from(p["path"].as_str().unwrap()).join("page0.html"),
    )
    .unwrap();
    assert_eq!(page, "<p>changed</p>\n");
    let note = kura_ok(&sb, &["record", "-p", "site2", "get", "notes", "n1"], &[]).json;
    assert_eq!(note["value"]["text"], "keep me");

    // Hostile, missing, climbing and unknown: clear refusals, nothing made.
    let run = kura(&sb, &["import", "s3://bucket/exports/bad.tar.gz"], &env);
    assert_eq!(
        (run.code, run.json["error"]["code"].as_str()),
        (5, Some("path_escape"))
    );
    let run = kura(&sb, &["import", "s3://bucket/exports/none.tar.zst"], &env);
    assert_eq!(
        (run.code, run.json["error"]["code"].as_str()),
        (3, Some("not_found"))
    );
    let run = kura(
        &sb,
        &["import", "s3://bucket/exports/../../etc/passwd"],
        &env,
    );
    assert_eq!(
        (run.code, run.json["error"]["code"].as_str()),
        (5, Some("path_escape"))
    );
    let run = kura(&sb, &["import", "s3://nowhere/site.tar.zst"], &env);
    assert_eq!(
        (run.code, run.json["error"]["code"].as_str()),
        (3, Some("not_found"))
    );
    let names = sb.project_names(&["--all"]);
    assert_eq!(
        names,
        ["site", "site2"],
        "only the good import made a project"
    );
    assert!(
        std::fs::read_dir(sb.vault().join("backup"))
            .unwrap()
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().starts_with(".kura-tmp-")),
        "downloads are cleaned up"
    );

    // The server gone: unavailable, and it says so.
    drop(server);
    let run = kura(
        &sb,
        &[
            "import",
            "s3://bucket/exports/site.tar.zst",
            "--name",
            "site3",
        ],
        &env,
    );
    assert_eq!(
        (run.code, run.json["error"]["code"].as_str()),
        (UNAVAILABLE, Some("unavailable")),
        "{:?}",
        run.json
    );
}

/// `curl` (a real HTTP client) fetching `url` into `dest`; the HTTP status.
fn curl(url: &str, dest: &Path) -> u16 {
    let out = Command::new("curl")
        .args(["-s", "-o"])
        .arg(dest)
        .args(["-w", "%{http_code}", "--max-time", "30", url])
        .output()
        .expect("curl is not installed: run scripts/setup.sh");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

#[test]
fn a_shared_link_downloads_the_version_until_it_expires_or_is_revoked() {
    let sb = Sandbox::new();
    small_project(&sb);
    let (access, secret) = ("AKSHARE", "share-secret-key");
    let port = free_port();
    let _server = S3Server::start(&sb.path("s3data"), port, access, secret);
    let mut owned = keys("public", access, secret);
    owned.push((
        "KURA_BACKUP_PUBLIC_PASSPHRASE".into(),
        "a passphrase for the backups",
    ));
    let env = env_refs(&owned);
    let mut add = add_s3("public", port);
    add.push("--encrypt".into());
    kura_ok(&sb, &strs(&add), &env);

    // Shared for an hour: a person with the link and no keys downloads the version.
    let run = kura_ok(
        &sb,
        &["share", "site", "--target", "public", "--expires", "1h"],
        &env,
    );
    let share = run.json.clone();
    assert_eq!(share["state"], "active", "{share}");
    assert_eq!(share["target_encrypted"], true);
    let url = share["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{port}/kura/vault/shares/")),
        "{url}"
    );
    let got = sb.path("download.tar.zst");
    assert_eq!(curl(&url, &got), 200);
    let unpacked = sb.path("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    crate::sandbox::tool(
        Command::new("tar")
            .arg("--zstd")
            .arg("-xf")
            .arg(&got)
            .arg("-C")
            .arg(&unpacked),
    );
    let exported = sb.path("exported");
    kura_ok(&sb, &["project", "export", "site", s(&exported)], &[]);
    assert_eq!(disk::Tree::read(&unpacked), disk::Tree::read(&exported));
    // The person who shared it is told the copy is not encrypted like the backups.
    let human = sb
        .command(["share", "site", "--target", "public", "--expires", "30m"])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("the shared copy is not encrypted"), "{text}");
    // Backups to the same target are not disturbed by the shared copies.
    kura_ok(&sb, &["backup", "run", "public"], &env);
    kura_ok(&sb, &["backup", "verify", "public"], &env);

    // A link that expired no longer works.
    let short = kura_ok(
        &sb,
        &["share", "site", "--target", "public", "--expires", "2s"],
        &env,
    )
    .json;
    std::thread::sleep(Duration::from_secs(3));
    let status = curl(short["url"].as_str().unwrap(), &sb.path("late"));
    assert!(
        (400..500).contains(&status),
        "an expired link answered {status}"
    );
    // A revoked one neither, at once: its copy is gone.
    let id = share["id"].as_str().unwrap();
    let revoked = kura_ok(&sb, &["share", "revoke", id], &env).json;
    assert_eq!(revoked["state"], "revoked");
    assert_eq!(curl(&url, &sb.path("after-revoke")), 404);
    let list = kura_ok(&sb, &["share", "list", "--project", "site"], &env).json;
    let states: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["expired", "active", "revoked"],
        "newest first: {list}"
    );
    // The expired link's copy is deleted by a prune (the app's and the server's scheduler run
    // the same every minute); the active share's copy stays, and every share stays listed.
    let shares_dir = sb.path("s3data").join("kura/vault/shares");
    let copy = |share: &Value| {
        shares_dir
            .join(share["id"].as_str().unwrap())
            .join(share["file_name"].as_str().unwrap())
    };
    assert!(copy(&short).exists(), "{}", copy(&short).display());
    let active = list[1].clone();
    assert!(copy(&active).exists());
    let pruned = kura_ok(&sb, &["share", "prune"], &env).json;
    assert_eq!(pruned["deleted"], serde_json::json!([short["id"]]));
    assert!(!copy(&short).exists(), "the expired copy is gone");
    assert!(copy(&active).exists(), "the active copy stays");
    let again = kura_ok(&sb, &["share", "prune"], &env).json;
    assert_eq!(again["deleted"], serde_json::json!([]));
    let after = kura_ok(&sb, &["share", "list", "--project", "site"], &env).json;
    assert_eq!(after.as_array().unwrap().len(), 3, "{after}");
    assert_eq!(after[0]["state"], "expired");
    // `kura serve`'s scheduler does the same on its own.
    let late = kura_ok(
        &sb,
        &["share", "site", "--target", "public", "--expires", "1s"],
        &env,
    )
    .json;
    std::thread::sleep(Duration::from_secs(2));
    assert!(copy(&late).exists());
    let mut serve = sb
        .command(["serve", "--listen", "127.0.0.1:0"])
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while copy(&late).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(!copy(&late).exists(), "kura serve deleted the expired copy");
    assert!(copy(&active).exists());

    // Refused before anything is uploaded: a folder target, a week and a day, an unknown project.
    let drive = sb.path("drive");
    std::fs::create_dir_all(&drive).unwrap();
    kura_ok(
        &sb,
        &["backup", "target", "add", "usb", "--folder", s(&drive)],
        &[],
    );
    for (args, code) in [
        (vec!["share", "site", "--target", "usb"], "invalid_input"),
        (
            vec!["share", "site", "--target", "public", "--expires", "8d"],
            "invalid_input",
        ),
        (vec!["share", "nope", "--target", "public"], "not_found"),
        (
            vec![
                "share",
                "site",
                "--target",
                "public",
                "--version",
                "0000000",
            ],
            "not_found",
        ),
    ] {
        let run = kura(&sb, &args, &env);
        assert_eq!(run.json["error"]["code"], code, "{args:?}: {}", run.json);
    }
    assert_eq!(
        kura_ok(&sb, &["share", "list"], &env)
            .json
            .as_array()
            .unwrap()
            .len(),
        4,
        "a refused share leaves no trace"
    );
    // Copies at a target removed from the vault stay there; the prune does not fail on them.
    let orphan = kura_ok(
        &sb,
        &["share", "site", "--target", "public", "--expires", "1s"],
        &env,
    )
    .json;
    std::thread::sleep(Duration::from_secs(2));
    kura_ok(&sb, &["backup", "target", "remove", "public"], &env);
    let pruned = kura_ok(&sb, &["share", "prune"], &env).json;
    assert_eq!(pruned["deleted"], serde_json::json!([]));
    assert!(copy(&orphan).exists());
}

/// The archives as `kura archives` lists them.
fn archives(sb: &Sandbox, env: &[(&str, &str)]) -> Value {
    kura_ok(sb, &["archives"], env).json
}

#[test]
fn archives_move_to_a_bucket_and_come_back_checked_resumed_or_refused() {
    let sb = Sandbox::new();
    small_project(&sb);
    let site = sb.vault().join("projects/site");
    let before = disk::Tree::read(&site);
    let (access, secret) = ("AKCOLD", "cold-secret-key");
    let port = free_port();
    let data = sb.path("s3data");
    let mut server = S3Server::start(&data, port, access, secret);
    let owned = keys("cold", access, secret);
    let env = env_refs(&owned);
    kura_ok(&sb, &strs(&add_s3("cold", port)), &env);
    kura_ok(&sb, &["archive", "site"], &env);
    let listed = archives(&sb, &env);
    let id = listed[0]["id"].as_str().unwrap().to_string();
    let local = PathBuf::from(listed[0]["path"].as_str().unwrap());
    let size = std::fs::metadata(&local).unwrap().len();

    // Off until a target is named; then uploaded, read back, and the local file dropped.
    let off = kura_ok(&sb, &["archive", "cold"], &env).json;
    assert_eq!(off["target"], "");
    kura_ok(&sb, &["config", "set", "archive.cold_target", "cold"], &env);
    kura_ok(
        &sb,
        &["config", "set", "archive.keep_local_days", "0"],
        &env,
    );
    let r = kura_ok(&sb, &["archive", "cold"], &env).json;
    assert_eq!(
        (r["uploaded"][0].as_str(), r["dropped"][0].as_str()),
        (Some(id.as_str()), Some(id.as_str())),
        "{r}"
    );
    assert_eq!(r["bytes_freed"], size);
    assert!(!local.exists());
    let object = files_under(&data.join("kura/vault/archives"));
    assert_eq!(object.len(), 1, "{object:?}");
    assert_eq!(std::fs::metadata(&object[0]).unwrap().len(), size);
    let listed = archives(&sb, &env);
    assert_eq!(
        (
            listed[0]["present"].as_bool(),
            listed[0]["cold_target"].as_str()
        ),
        (Some(false), Some("cold"))
    );
    // The project is still listed and searchable, with its metadata.
    assert_eq!(
        kura_ok(&sb, &["project", "show", "site"], &env).json["status"],
        "archived"
    );

    // A stopped server: verify ends unavailable, and nothing changed here.
    drop(server);
    let down = kura(
        &sb,
        &["archive", "verify", "site"],
        &[&SHORT[..], &env[..]].concat(),
    );
    assert_eq!(
        (down.code, down.json["error"]["code"].as_str()),
        (UNAVAILABLE, Some("unavailable")),
        "{}",
        down.json
    );
    assert!(!local.exists());
    server = S3Server::start(&data, port, access, secret);

    // A download cut off half-way is resumed, checked, and the file is here again.
    let full = std::fs::read(&object[0]).unwrap();
    let mut part = local.as_os_str().to_owned();
    part.push(".part");
    std::fs::write(&part, &full[..full.len() / 2]).unwrap();
    kura_ok(
        &sb,
        &["config", "set", "archive.keep_local_days", "30"],
        &env,
    );
    let verified = kura_ok(&sb, &["archive", "verify", "site"], &env).json;
    assert_eq!(verified["problems"], serde_json::json!([]), "{verified}");
    assert_eq!(std::fs::read(&local).unwrap(), full);
    assert!(!PathBuf::from(&part).exists());
    // Fetched back, it stays here for keep_local_days again.
    let r = kura_ok(&sb, &["archive", "cold"], &env).json;
    assert_eq!(r["dropped"], serde_json::json!([]), "{r}");
    assert!(local.exists());

    // A damaged copy in the bucket is refused when fetched; the project stays archived.
    kura_ok(
        &sb,
        &["config", "set", "archive.keep_local_days", "0"],
        &env,
    );
    kura_ok(&sb, &["archive", "cold"], &env);
    assert!(!local.exists());
    let mut damaged = full.clone();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0xff;
    std::fs::write(&object[0], &damaged).unwrap();
    let bad = kura(&sb, &["unarchive", "site"], &env);
    assert_eq!(bad.json["error"]["code"], "corrupt", "{}", bad.json);
    assert_eq!(
        kura_ok(&sb, &["project", "show", "site"], &env).json["status"],
        "archived"
    );
    assert!(
        !PathBuf::from(&part).exists(),
        "the damaged download was left behind"
    );

    // Repaired, it comes back exactly, and its copy in the bucket goes.
    std::fs::write(&object[0], &full).unwrap();
    kura_ok(&sb, &["unarchive", "site"], &env);
    assert_eq!(disk::Tree::read(&site), before);
    let left = data.join("kura/vault/archives");
    assert!(
        !left.exists() || files_under(&left).is_empty(),
        "the bucket's copy stayed"
    );
    assert_eq!(archives(&sb, &env), serde_json::json!([]));
    drop(server);
}
