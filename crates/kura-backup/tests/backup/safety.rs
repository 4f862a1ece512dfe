//! What keeps backups safe when things go wrong around them: locks held by long runs, backups
//! waiting in the outbox, debris of killed runs, a target that must stay encrypted, crafted
//! manifests, special files in the vault, leftovers at a folder target.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicI64;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use kura_backup::{Backups, Retention, SecretKind, Secrets, Target, VerifyMode};
use kura_core::{ErrorKind, Job, Vault};
use serde_json::{json, Value};

use crate::{noise, object_body, save, seal_plain_object, snapshot, tree_digest, Scene, TestClock};

/// A folder target "usb" at `<scene>/drive`, added to the scene's vault.
fn drive(scene: &Scene, backups: &Backups) -> PathBuf {
    let drive = scene.path("drive");
    std::fs::create_dir(&drive).unwrap();
    backups
        .add_target(&Target::folder("usb", &drive), &Secrets::default(), false)
        .unwrap();
    drive
}

fn backup_ids(drive: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(drive.join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn outbox(scene: &Scene) -> PathBuf {
    scene.vault.root().join("backup/usb/outbox")
}

/// The backup's manifest upload failed: it waits in the outbox (its packs are at the target).
fn as_if_left_in_the_outbox(scene: &Scene, drive: &Path, id: &str) {
    std::fs::create_dir_all(outbox(scene)).unwrap();
    std::fs::rename(
        drive.join("backups").join(id),
        outbox(scene).join(format!("{id}.backup")),
    )
    .unwrap();
}

#[test]
fn a_long_backup_keeps_its_lock_fresh_so_a_prune_from_elsewhere_waits_for_it() {
    const T0: i64 = 1_800_000_000;
    let scene = Scene::new();
    let clock = Arc::new(TestClock(AtomicI64::new(T0)));
    let backups = Backups::with_clock(&scene.vault, clock.clone());
    let drive = drive(&scene, &backups);
    // Two hours into the run (by the clock), another vault prunes the same target.
    // The lock object as refreshed, and what the prune did.
    type Seen = (Option<Value>, Result<u64, ErrorKind>);
    let seen: Arc<Mutex<Option<Seen>>> = Arc::default();
    let job = {
        let (clock, drive, seen, other) = (
            clock.clone(),
            drive.clone(),
            seen.clone(),
            scene.path("other"),
        );
        Job::with_progress(move |p| {
            if p.phase != "backing up" || p.done != 0 {
                return;
            }
            clock.advance(2 * 3600);
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut lock = None;
            while lock.is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
                lock = files_in(&drive.join("locks"))
                    .first()
                    .and_then(|n| std::fs::read(drive.join("locks").join(n)).ok())
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                    .filter(|l| l["heartbeat"] == T0 + 2 * 3600);
            }
            let other = Vault::open(&other).unwrap();
            let elsewhere = Backups::with_clock(&other, clock.clone());
            let target = Target {
                retention: Retention {
                    keep_last: 1,
                    ..Default::default()
                },
                ..Target::folder("usb", &drive)
            };
            elsewhere
                .add_target(&target, &Secrets::default(), false)
                .unwrap();
            let pruned = elsewhere
                .prune("usb", false, &Job::default())
                .map(|r| r.packs_deleted)
                .map_err(|e| e.kind());
            *seen.lock().unwrap() = Some((lock, pruned));
        })
    };
    backups.run_backup("usb", &job).unwrap();
    let (lock, pruned) = seen.lock().unwrap().take().expect("the run reported");
    let lock = lock.expect("the lock object's heartbeat was refreshed by the run's clock");
    assert_eq!(lock["started"], T0, "only the heartbeat moves: {lock}");
    assert_eq!(
        pruned,
        Err(ErrorKind::Busy),
        "a prune must not run under a backup"
    );
    assert!(
        files_in(&drive.join("locks")).is_empty(),
        "the lock is released"
    );
    assert!(backups
        .verify("usb", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
}

#[test]
fn a_backup_waiting_in_the_outbox_blocks_prune_here_and_goes_out_with_the_next_run() {
    let scene = Scene::new();
    let backups = Backups::new(&scene.vault);
    let drive = drive(&scene, &backups);
    let first = backups
        .run_backup("usb", &Job::default())
        .unwrap()
        .backup
        .id;
    save(
        &scene.vault,
        "site",
        "late.txt",
        b"written after the first backup\n",
    );
    snapshot(&scene.vault, "site", "late");
    let second = backups
        .run_backup("usb", &Job::default())
        .unwrap()
        .backup
        .id;
    as_if_left_in_the_outbox(&scene, &drive, &second);
    backups
        .update_target("usb", |t| {
            t.retention = Retention {
                keep_last: 1,
                ..Default::default()
            }
        })
        .unwrap();
    let before = tree_digest(&drive);

    let err = backups.prune("usb", false, &Job::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(
        err.message()
            .contains("target 'usb' has a backup waiting in the outbox; run a backup first"),
        "{err}"
    );
    assert_eq!(tree_digest(&drive), before, "prune deleted nothing");

    let third = backups
        .run_backup("usb", &Job::default())
        .unwrap()
        .backup
        .id;
    assert_eq!(backup_ids(&drive), [first, second, third.clone()]);
    assert!(files_in(&outbox(&scene)).is_empty());
    assert!(backups
        .verify("usb", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
    backups.prune("usb", false, &Job::default()).unwrap();
    assert_eq!(backup_ids(&drive), [third]);
}

#[test]
fn a_backup_in_the_outbox_whose_data_was_pruned_elsewhere_is_dropped_and_its_files_sent_again() {
    let scene = Scene::new();
    let backups = Backups::new(&scene.vault);
    let drive = drive(&scene, &backups);
    let first = backups
        .run_backup("usb", &Job::default())
        .unwrap()
        .backup
        .id;
    save(&scene.vault, "site", "late.bin", &noise(2 << 20, 31));
    snapshot(&scene.vault, "site", "late");
    let second = backups
        .run_backup("usb", &Job::default())
        .unwrap()
        .backup
        .id;
    as_if_left_in_the_outbox(&scene, &drive, &second);

    // Another machine prunes: it cannot see this vault's outbox, so the second backup's packs
    // look unused to it.
    let other = Vault::open(&scene.path("other")).unwrap();
    let elsewhere = Backups::new(&other);
    let target = Target {
        retention: Retention {
            keep_last: 1,
            ..Default::default()
        },
        ..Target::folder("usb", &drive)
    };
    elsewhere
        .add_target(&target, &Secrets::default(), false)
        .unwrap();
    let pruned = elsewhere.prune("usb", false, &Job::default()).unwrap();
    assert!(pruned.packs_deleted > 0, "{pruned:?}");

    let third = backups.run_backup("usb", &Job::default()).unwrap();
    assert_eq!(
        backup_ids(&drive),
        [first, third.backup.id.clone()],
        "the waiting backup would point at missing data: it is dropped, not sent"
    );
    assert!(third.run.new_blobs > 0, "the pruned content is sent again");
    assert!(files_in(&outbox(&scene)).is_empty());
    let report = backups
        .verify("usb", VerifyMode::Full, &Job::default())
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    let dest = scene.path("restored");
    backups
        .restore("usb", "latest", Some("site"), &dest, &Job::default())
        .unwrap();
    assert_eq!(
        std::fs::read(dest.join("late.bin")).unwrap(),
        noise(2 << 20, 31)
    );
}

#[test]
fn a_pack_gone_from_the_target_is_not_counted_as_held_and_the_next_backup_restores_whole() {
    let scene = Scene::new();
    let backups = Backups::new(&scene.vault);
    let drive = drive(&scene, &backups);
    backups.run_backup("usb", &Job::default()).unwrap();
    // The biggest pack disappears (a bad sector, a hand-cleaned drive); its index stays.
    let pack = walkdir::WalkDir::new(drive.join("data"))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .max_by_key(|e| e.metadata().unwrap().len())
        .unwrap();
    std::fs::remove_file(pack.path()).unwrap();

    let second = backups.run_backup("usb", &Job::default()).unwrap();
    assert!(second.run.new_blobs > 0, "the lost content is sent again");
    let dest = scene.path("restored");
    backups
        .restore("usb", "latest", None, &dest, &Job::default())
        .unwrap();
    assert!(Vault::open(&dest)
        .unwrap()
        .verify(None, &Job::default())
        .unwrap()
        .is_ok());
    let site = Vault::open(&dest).unwrap().project("site").unwrap().path;
    assert_eq!(
        std::fs::read(site.join("assets/video.bin")).unwrap(),
        noise(3 << 20, 7)
    );
}

#[test]
fn a_pack_left_in_the_outbox_without_its_index_is_removed_instead_of_blocking_every_run() {
    let scene = Scene::new();
    let backups = Backups::new(&scene.vault);
    let drive = drive(&scene, &backups);
    // A run was killed between writing a pack to the outbox and writing its index.
    let pack = "ab".repeat(32);
    std::fs::create_dir_all(outbox(&scene)).unwrap();
    std::fs::write(
        outbox(&scene).join(format!("{pack}.pack")),
        b"KBPACK01 cut short",
    )
    .unwrap();
    std::fs::write(outbox(&scene).join(".kura-tmp-a1b2c3"), b"half").unwrap();

    backups.run_backup("usb", &Job::default()).unwrap();
    assert!(files_in(&outbox(&scene)).is_empty());
    assert!(!drive.join("data/ab").join(&pack).exists());
    assert!(backups
        .verify("usb", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
}

#[test]
fn an_encrypted_target_never_gets_plain_data() {
    let scene = Scene::new();
    let backups = Backups::new(&scene.vault);
    let drive = drive(&scene, &backups);
    backups.run_backup("usb", &Job::default()).unwrap();

    // The same location, added again as an encrypted target: its repository is not encrypted.
    std::env::set_var(
        kura_backup::secret_env_var("usb-sealed", SecretKind::Passphrase),
        "correct horse battery staple",
    );
    let sealed = Target {
        encrypt: true,
        ..Target::folder("usb-sealed", &drive)
    };
    let err = backups
        .add_target(&sealed, &Secrets::default(), false)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.message().contains("unencrypted"), "{err}");
    assert!(backups.target("usb-sealed").is_err(), "nothing was saved");

    // An encrypted target whose config lost its key (damaged or replaced) refuses to run.
    let crypt = scene.path("crypt");
    std::fs::create_dir(&crypt).unwrap();
    std::env::set_var(
        kura_backup::secret_env_var("vaulted", SecretKind::Passphrase),
        "correct horse battery staple",
    );
    let target = Target {
        encrypt: true,
        ..Target::folder("vaulted", &crypt)
    };
    backups
        .add_target(&target, &Secrets::default(), false)
        .unwrap();
    backups.run_backup("vaulted", &Job::default()).unwrap();
    let mut config: Value =
        serde_json::from_slice(&std::fs::read(crypt.join("config")).unwrap()).unwrap();
    config.as_object_mut().unwrap().remove("key");
    std::fs::write(crypt.join("config"), serde_json::to_vec(&config).unwrap()).unwrap();
    let before = tree_digest(&crypt);
    save(
        &scene.vault,
        "site",
        "plain.txt",
        b"must never reach the drive in clear\n",
    );
    let err = backups.run_backup("vaulted", &Job::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("has no key"), "{err}");
    assert_eq!(tree_digest(&crypt), before, "nothing was written");
}

/// Writes a copy of the latest manifest of the unencrypted target at `drive`, changed by `edit`,
/// as a new backup, with the checksum that makes it pass for one (as anyone who can write to an
/// unencrypted target can make); returns its id.
fn crafted_backup(drive: &Path, name: &str, edit: impl FnOnce(&mut Vec<Value>)) -> String {
    let ids = backup_ids(drive);
    let bytes = std::fs::read(drive.join("backups").join(ids.last().unwrap())).unwrap();
    let (_, body) = object_body(&bytes);
    let mut manifest: Value =
        serde_json::from_slice(&zstd::stream::decode_all(body).unwrap()).unwrap();
    edit(manifest["entries"].as_array_mut().unwrap());
    let id = format!("29990101T000000Z-0000-{name}");
    manifest["info"]["id"] = json!(id);
    let json = serde_json::to_vec(&manifest).unwrap();
    let object = format!("backups/{id}");
    std::fs::write(drive.join(&object), seal_plain_object(&object, &json)).unwrap();
    id
}

/// A copy of the manifest's entry for `site/index.html`, at `path`.
fn file_entry(entries: &[Value], path: &str) -> Value {
    let mut e = entries
        .iter()
        .find(|e| e["path"].as_str().unwrap().ends_with("site/index.html"))
        .unwrap()
        .clone();
    e["path"] = json!(path);
    e
}

fn link_entry(path: &str, to: &Path) -> Value {
    json!({"path": path, "kind": "symlink", "size": 0, "mode": 41471, "mtime_ns": 0,
           "link": to.display().to_string()})
}

#[test]
fn a_crafted_manifest_with_dot_dot_cannot_write_outside_the_destination() {
    let scene = Scene::new();
    let backups = Backups::new(&scene.vault);
    let drive = drive(&scene, &backups);
    backups.run_backup("usb", &Job::default()).unwrap();
    let id = crafted_backup(&drive, "dd00", |entries| {
        let escape = file_entry(entries, "vault/../escape");
        entries.push(escape);
    });
    let restores = scene.path("restores");
    let dest = restores.join("dest");
    let err = backups
        .restore("usb", &id, None, &dest, &Job::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PathEscape, "{err}");
    assert!(err.message().contains("'vault/../escape'"), "{err}");
    assert!(!restores.join("escape").exists(), "written outside");
    assert!(files_in(&restores).is_empty(), "nothing was written");
}

#[test]
fn a_crafted_manifest_cannot_make_restore_write_through_a_link_it_restores() {
    let scene = Scene::new();
    let backups = Backups::new(&scene.vault);
    let drive = drive(&scene, &backups);
    backups.run_backup("usb", &Job::default()).unwrap();
    let outside = scene.path("not-the-destination");
    std::fs::create_dir(&outside).unwrap();
    let prefix = backups
        .backup_contents("usb", "latest")
        .unwrap()
        .projects
        .into_iter()
        .find(|p| p.name == "site")
        .unwrap()
        .prefix;

    // A link, then a file "inside" it.
    let through = crafted_backup(&drive, "aa01", |entries| {
        let file = file_entry(entries, &format!("{prefix}/lnk/pwned"));
        entries.push(link_entry(&format!("{prefix}/lnk"), &outside));
        entries.push(file);
    });
    // A link, then a link "inside" it.
    let nested = crafted_backup(&drive, "aa02", |entries| {
        entries.push(link_entry(&format!("{prefix}/lnk"), &outside));
        entries.push(link_entry(&format!("{prefix}/lnk/planted"), Path::new("/")));
    });
    // The vault's chunk store replaced by a link: opening the restored vault would write there.
    let chunks = crafted_backup(&drive, "aa03", |entries| {
        entries.retain(|e| !e["path"].as_str().unwrap().starts_with("vault/chunks"));
        entries.push(link_entry("vault/chunks", &outside));
    });
    for (id, project) in [
        (&through, Some("site")),
        (&nested, Some("site")),
        (&chunks, None),
    ] {
        let dest = scene.path(&format!("restored-{id}"));
        let err = backups
            .restore("usb", id, project, &dest, &Job::default())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PathEscape, "{id}: {err}");
        assert!(
            files_in(&outside).is_empty(),
            "{id} wrote through a link: {:?}",
            files_in(&outside)
        );
    }
    // A real backup's links still come back.
    let dest = scene.path("restored");
    backups
        .restore("usb", "latest", Some("tool"), &dest, &Job::default())
        .unwrap();
    assert_eq!(
        std::fs::read_link(dest.join("LINK.md")).unwrap(),
        Path::new("README.md")
    );
}

#[test]
fn a_fifo_or_socket_in_a_project_is_skipped_and_does_not_hang_the_run() {
    let scene = Scene::new();
    let site = scene.vault.project("site").unwrap().path;
    let made = std::process::Command::new("mkfifo")
        .arg(site.join("pipe"))
        .status()
        .unwrap();
    assert!(made.success());
    let socket = std::os::unix::net::UnixListener::bind(site.join("control.sock")).unwrap();
    let (done, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let backups = Backups::new(&scene.vault);
        let drive = drive(&scene, &backups);
        let run = backups.run_backup("usb", &Job::default());
        let dest = scene.path("restored");
        let restored = run.map(|_| {
            backups
                .restore("usb", "latest", Some("site"), &dest, &Job::default())
                .unwrap();
            (files_in(&dest), files_in(&drive.join("backups")).len())
        });
        done.send(restored.map_err(|e| e.to_string())).unwrap();
    });
    let outcome = outcome
        .recv_timeout(Duration::from_secs(120))
        .expect("the backup hangs on the FIFO");
    drop(socket);
    let (restored, backups) = outcome.unwrap();
    assert_eq!(backups, 1);
    assert!(restored.contains(&"index.html".to_string()), "{restored:?}");
    assert!(!restored.contains(&"pipe".to_string()), "{restored:?}");
    assert!(
        !restored.contains(&"control.sock".to_string()),
        "{restored:?}"
    );
}

#[test]
fn a_run_removes_old_leftovers_of_killed_writes_at_a_folder_target() {
    let scene = Scene::new();
    let backups = Backups::new(&scene.vault);
    let drive = drive(&scene, &backups);
    let tmp = drive.join(".tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let old = tmp.join("0123abcd.killed");
    std::fs::write(&old, noise(1 << 20, 3)).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(2 * 3600))
        .unwrap();
    let recent = tmp.join("4567cdef.writing");
    std::fs::write(&recent, b"another machine is writing this now").unwrap();
    backups.run_backup("usb", &Job::default()).unwrap();
    assert!(!old.exists(), "a leftover of two hours ago is removed");
    assert!(recent.exists(), "a write under way is left alone");
}

/// libgit2 probes a new history for symbolic links with a link named `_git2_` and 16 random hex
/// digits (libgit2 1.9; six letters or digits before), and names the packs it writes the same
/// way; a process killed at that moment leaves the file behind. It is not backed up (a link
/// among a history's files makes restore refuse the whole backup), and the backup restores.
#[test]
fn a_link_libgit2_left_in_a_history_is_not_backed_up_and_the_backup_restores() {
    let scene = Scene::new();
    let backups = Backups::new(&scene.vault);
    let drive = drive(&scene, &backups);
    let site = scene.vault.project("site").unwrap();
    let history = scene
        .vault
        .root()
        .join(format!("histories/{}.git", site.id));
    // The name a killed CI run left (2026-11-27), and a pack libgit2 was writing.
    std::os::unix::fs::symlink("testing", history.join("_git2_19c6262260497c2d")).unwrap();
    std::fs::write(
        history.join("objects/pack/pack_git2_0123456789abcdef"),
        b"PACK",
    )
    .unwrap();
    std::os::unix::fs::symlink("testing", history.join("_git2_Ab12Cd")).unwrap();
    backups.run_backup("usb", &Job::default()).unwrap();
    let stored = latest_manifest_paths(&drive);
    assert!(stored.iter().any(|p| p.ends_with("/HEAD")), "{stored:?}");
    let debris: Vec<_> = stored.iter().filter(|p| p.contains("_git2_")).collect();
    assert!(debris.is_empty(), "backed up: {debris:?}");

    let restored = restore_into_fresh_vault(&scene, &drive, "latest");
    let back = restored.join(format!("histories/{}.git", site.id));
    assert!(back.join("HEAD").exists());
    assert!(!back.join("_git2_19c6262260497c2d").is_symlink());
}

/// A backup made before libgit2's temp files were left out may hold one: a restore of the whole
/// vault skips it instead of refusing the backup, and the vault it makes is whole.
#[test]
fn a_backup_holding_a_link_libgit2_left_still_restores() {
    let scene = Scene::new();
    let backups = Backups::new(&scene.vault);
    let drive = drive(&scene, &backups);
    let site = scene.vault.project("site").unwrap();
    backups.run_backup("usb", &Job::default()).unwrap();
    let history = format!("vault/histories/{}.git", site.id);
    let probe = format!("{history}/_git2_19c6262260497c2d");
    let id = crafted_backup(&drive, "9e00", |entries| {
        entries.push(link_entry(&probe, Path::new("testing")));
    });
    assert!(latest_manifest_paths(&drive).contains(&probe));

    let restored = restore_into_fresh_vault(&scene, &drive, &id);
    let back = restored.join(format!("histories/{}.git", site.id));
    assert!(back.join("HEAD").exists());
    assert!(!back.join("_git2_19c6262260497c2d").is_symlink());
    let site_back = Vault::open(&restored).unwrap().project("site").unwrap();
    assert_eq!(
        std::fs::read(site_back.path.join("index.html")).unwrap(),
        b"<h1>second</h1>\n"
    );
}

/// The paths in the newest backup's manifest on the unencrypted target at `drive`.
fn latest_manifest_paths(drive: &Path) -> Vec<String> {
    let ids = backup_ids(drive);
    let bytes = std::fs::read(drive.join("backups").join(ids.last().unwrap())).unwrap();
    let (_, body) = object_body(&bytes);
    let manifest: Value = serde_json::from_slice(&zstd::stream::decode_all(body).unwrap()).unwrap();
    manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect()
}

/// Restores backup `id` of the target at `drive`, whole, from a fresh vault (as on a new
/// machine); checks that the vault it made verifies, and returns where it is.
fn restore_into_fresh_vault(scene: &Scene, drive: &Path, id: &str) -> PathBuf {
    let restored = scene.path("restored");
    let fresh = Vault::open(&scene.path("fresh")).unwrap();
    let again = Backups::new(&fresh);
    again
        .add_target(&Target::folder("usb", drive), &Secrets::default(), false)
        .unwrap();
    again
        .restore("usb", id, None, &restored, &Job::default())
        .unwrap();
    assert!(Vault::open(&restored)
        .unwrap()
        .verify(None, &Job::default())
        .unwrap()
        .is_ok());
    restored
}
