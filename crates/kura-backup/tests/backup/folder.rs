//! Backups to a local folder: disaster recovery, incremental runs, encryption, corruption,
//! an absent drive, retention and prune.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use kura_backup::{Backups, HealthState, Rate, Retention, RunResult, Secrets, Target, VerifyMode};
use kura_core::{ErrorKind, Job, Vault};

use crate::{git_log, noise, save, snapshot, tree_digest, Scene, TestClock};

#[test]
fn a_fresh_machine_gets_every_project_and_its_history_back_from_the_target_alone() {
    let scene = Scene::new();
    let drive = scene.path("drive");
    std::fs::create_dir(&drive).unwrap();
    let backups = Backups::new(&scene.vault);
    backups
        .add_target(&Target::folder("usb", &drive), &Secrets::default(), false)
        .unwrap();
    let report = backups.run_backup("usb", &Job::default()).unwrap();
    assert_eq!(report.run.result, RunResult::Ok);
    assert_eq!(report.backup.projects, 3);

    // What the user has before the disaster.
    let vault_root = scene.vault.root().to_path_buf();
    let mut logs = Vec::new();
    let mut folders = Vec::new();
    for p in ["site", "api", "tool"] {
        let project = scene.vault.project(p).unwrap();
        logs.push(git_log(
            &vault_root.join(format!("histories/{}.git", project.id)),
        ));
        folders.push(tree_digest(&project.path));
    }
    let versions: Vec<usize> = ["site", "api", "tool"]
        .iter()
        .map(|p| scene.vault.versions(p, None).unwrap().len())
        .collect();
    drop(backups);
    let Scene { dir, vault, linked } = scene;
    drop(vault);
    std::fs::remove_dir_all(&vault_root).unwrap();
    std::fs::remove_dir_all(&linked).unwrap();

    // A new machine: only the target is left.
    let fresh = Vault::open(&dir.path().join("fresh")).unwrap();
    let backups = Backups::new(&fresh);
    let test = backups
        .add_target(&Target::folder("usb", &drive), &Secrets::default(), false)
        .unwrap();
    assert_eq!(test.backups, 1);
    let listed = backups.backup_contents("usb", "latest").unwrap();
    let mut names: Vec<_> = listed.projects.iter().map(|p| p.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["api", "site", "tool"]);
    let dest = dir.path().join("restored");
    let restored = backups
        .restore("usb", "latest", None, &dest, &Job::default())
        .unwrap();
    assert_eq!(restored.projects.len(), 3);

    let vault = Vault::open(&dest).unwrap();
    assert!(
        vault.verify(None, &Job::default()).unwrap().is_ok(),
        "the restored vault verifies"
    );
    for (i, p) in ["site", "api", "tool"].iter().enumerate() {
        let project = vault.project(p).unwrap();
        assert!(
            project.path.starts_with(&dest),
            "{p} lives in the restored vault: {}",
            project.path.display()
        );
        assert_eq!(
            git_log(&dest.join(format!("histories/{}.git", project.id))),
            logs[i],
            "history of {p}"
        );
        assert_eq!(tree_digest(&project.path), folders[i], "files of {p}");
        assert_eq!(vault.versions(p, None).unwrap().len(), versions[i]);
    }
    assert!(dest.join("linked/tool/LINK.md").is_symlink());
    let mode = std::fs::metadata(dest.join("linked/tool/bin/run.sh")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o7777,
        0o750,
        "a file's permissions come back as they were"
    );
    // The big file, stored in the chunk store, comes back from an old version too.
    let old = vault.versions("site", None).unwrap();
    assert!(old.len() >= 3);
    let mut big = Vec::new();
    vault
        .read_file("site", "assets/video.bin", &mut big)
        .unwrap();
    assert_eq!(big, noise(3 << 20, 7));
}

#[test]
fn an_unchanged_vault_sends_only_a_manifest_and_reads_almost_nothing() {
    let scene = Scene::new();
    let drive = scene.path("drive");
    std::fs::create_dir(&drive).unwrap();
    let backups = Backups::new(&scene.vault);
    backups
        .add_target(&Target::folder("usb", &drive), &Secrets::default(), false)
        .unwrap();
    let first = backups.run_backup("usb", &Job::default()).unwrap().run;
    let second = backups.run_backup("usb", &Job::default()).unwrap().run;
    assert!(first.new_blobs > 0);
    assert_eq!(second.new_blobs, 0, "nothing new is packed");
    assert!(
        second.bytes_sent < 64 << 10,
        "only the manifest goes out: {} bytes",
        second.bytes_sent
    );
    assert!(
        second.bytes_read < first.bytes_read / 4,
        "unchanged files are not read again"
    );
    // A change sends just the new content.
    save(&scene.vault, "site", "new.txt", b"a new page\n");
    snapshot(&scene.vault, "site", "third");
    let third = backups.run_backup("usb", &Job::default()).unwrap().run;
    assert!(third.new_blobs > 0 && third.bytes_sent < 1 << 20);
    assert_eq!(backups.backups("usb").unwrap().len(), 3);
    assert_eq!(backups.last_run("usb").unwrap().unwrap().id, third.id);
    let restored = scene.path("one");
    backups
        .restore("usb", "latest", Some("site"), &restored, &Job::default())
        .unwrap();
    assert_eq!(
        std::fs::read(restored.join("new.txt")).unwrap(),
        b"a new page\n"
    );
    assert_eq!(
        std::fs::read(restored.join("assets/video.bin")).unwrap(),
        noise(3 << 20, 7)
    );
}

#[test]
fn encrypted_targets_hide_the_data_and_refuse_a_wrong_passphrase() {
    let scene = Scene::new();
    save(
        &scene.vault,
        "site",
        "secret.txt",
        b"the launch code is SWORDFISH-1234\n",
    );
    snapshot(&scene.vault, "site", "secret");
    let drive = scene.path("vaultdrive");
    std::fs::create_dir(&drive).unwrap();
    let var = kura_backup::secret_env_var("crypt", kura_backup::SecretKind::Passphrase);
    std::env::set_var(&var, "correct horse battery staple");
    let backups = Backups::new(&scene.vault);
    let target = Target {
        encrypt: true,
        ..Target::folder("crypt", &drive)
    };
    assert!(
        backups
            .add_target(&target, &Secrets::default(), false)
            .unwrap()
            .encrypted
    );
    backups.run_backup("crypt", &Job::default()).unwrap();
    for entry in walkdir::WalkDir::new(&drive)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
    {
        let data = std::fs::read(entry.path()).unwrap();
        assert!(
            !data.windows(9).any(|w| w == b"SWORDFISH"),
            "{} holds plain text",
            entry.path().display()
        );
    }
    std::env::set_var(&var, "wrong");
    let err = backups.backups("crypt").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongPassphrase, "{err}");
    let err = backups
        .restore("crypt", "latest", None, &scene.path("r"), &Job::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongPassphrase);
    assert!(!scene.path("r").exists(), "nothing was written");
    // A run takes the target's lock while it derives the key: refused, it leaves no lock behind
    // and adds no backup.
    let err = backups.run_backup("crypt", &Job::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongPassphrase, "{err}");
    let locks: Vec<_> = std::fs::read_dir(drive.join("locks"))
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(locks.is_empty(), "locks left: {locks:?}");
    assert_eq!(std::fs::read_dir(drive.join("backups")).unwrap().count(), 1);
    std::env::set_var(&var, "correct horse battery staple");
    let dest = scene.path("r");
    backups
        .restore("crypt", "latest", Some("site"), &dest, &Job::default())
        .unwrap();
    assert_eq!(
        std::fs::read(dest.join("secret.txt")).unwrap(),
        b"the launch code is SWORDFISH-1234\n"
    );
    assert!(backups
        .verify("crypt", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
}

#[test]
fn targets_whose_secrets_would_share_environment_variables_are_refused() {
    let scene = Scene::new();
    let backups = Backups::new(&scene.vault);
    for name in ["usb-a", "usb_b"] {
        let drive = scene.path(name);
        std::fs::create_dir(&drive).unwrap();
        backups
            .add_target(&Target::folder(name, &drive), &Secrets::default(), false)
            .unwrap();
    }
    // Each of these reads KURA_BACKUP_USB_A_PASSPHRASE (or _B_): a passphrase set for one
    // would open the other.
    for (name, other) in [("usb_a", "usb-a"), ("USB-A", "usb-a"), ("usb-b", "usb_b")] {
        let drive = scene.path(&format!("{name}-drive"));
        std::fs::create_dir(&drive).unwrap();
        let err = backups
            .add_target(&Target::folder(name, &drive), &Secrets::default(), false)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
        let msg = err.to_string();
        assert!(msg.contains(&format!("target '{other}'")), "{msg}");
        assert!(msg.contains("KURA_BACKUP_USB_"), "{msg}");
    }
    let names: Vec<String> = backups
        .targets()
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn a_damaged_pack_is_named_with_what_it_affects() {
    let scene = Scene::new();
    let drive = scene.path("drive");
    std::fs::create_dir(&drive).unwrap();
    let backups = Backups::new(&scene.vault);
    backups
        .add_target(&Target::folder("usb", &drive), &Secrets::default(), false)
        .unwrap();
    let backup = backups.run_backup("usb", &Job::default()).unwrap().backup;
    assert!(backups
        .verify("usb", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
    let pack = walkdir::WalkDir::new(drive.join("data"))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .max_by_key(|e| e.metadata().unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(pack.path()).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(pack.path(), bytes).unwrap();
    assert!(
        backups
            .verify("usb", VerifyMode::Structure, &Job::default())
            .unwrap()
            .is_ok(),
        "the structure is intact"
    );
    let report = backups
        .verify("usb", VerifyMode::Full, &Job::default())
        .unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    let problem = &report.problems[0];
    let name = pack.file_name().to_string_lossy().to_string();
    assert!(problem.object.ends_with(&name), "{}", problem.object);
    assert!(problem.message.contains("damaged"));
    assert!(
        problem
            .affects
            .iter()
            .any(|a| a.starts_with(&format!("backup {}: vault/", backup.id))),
        "{:?}",
        problem.affects
    );
}

#[test]
fn a_missing_drive_is_unavailable_not_failed() {
    let scene = Scene::new();
    let drive = scene.path("drive");
    std::fs::create_dir(&drive).unwrap();
    let backups = Backups::new(&scene.vault);
    backups
        .add_target(&Target::folder("usb", &drive), &Secrets::default(), false)
        .unwrap();
    std::fs::rename(&drive, scene.path("unplugged")).unwrap();
    for _ in 0..4 {
        let err = backups.run_backup("usb", &Job::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    }
    let health = &backups.health().unwrap()[0];
    assert_eq!(health.state, HealthState::Unavailable);
    assert_eq!(
        health.consecutive_failures, 0,
        "waiting for a drive is not a failure"
    );
    assert_eq!(
        backups.last_run("usb").unwrap().unwrap().result,
        RunResult::Unavailable
    );
    std::fs::rename(scene.path("unplugged"), &drive).unwrap();
    backups.run_backup("usb", &Job::default()).unwrap();
    assert_eq!(backups.health().unwrap()[0].state, HealthState::Ok);
}

#[test]
fn prune_keeps_what_retention_says_and_the_rest_still_restores() {
    let scene = Scene::new();
    let drive = scene.path("drive");
    std::fs::create_dir(&drive).unwrap();
    let clock = Arc::new(TestClock(AtomicI64::new(1_800_000_000)));
    let backups = Backups::with_clock(&scene.vault, clock.clone());
    backups
        .add_target(&Target::folder("usb", &drive), &Secrets::default(), false)
        .unwrap();
    // A project with a lot of data, deleted for good after the first backup: only prune
    // removes it from the target, once no kept backup holds it. Its 40 MiB are in chunk-store
    // packs that are backed up beside the live project's (24 MiB): large files have backup
    // packs of their own, so the dead ones are freed whole, whatever was read beside them.
    scene
        .vault
        .create_project(&kura_core::NewProject {
            name: "old".into(),
            ..Default::default()
        })
        .unwrap();
    save(&scene.vault, "old", "huge.bin", &noise(40 << 20, 5));
    snapshot(&scene.vault, "old", "huge");
    save(&scene.vault, "site", "assets.bin", &noise(24 << 20, 6));
    let chunk_packs = || -> HashMap<PathBuf, u64> {
        walkdir::WalkDir::new(scene.vault.root().join("chunks/packs"))
            .into_iter()
            .map(Result::unwrap)
            .filter(|e| e.file_type().is_file())
            .map(|e| (e.path().to_path_buf(), e.metadata().unwrap().len()))
            .collect()
    };
    let mut dead_bytes = 0;
    for day in 0..4 {
        save(
            &scene.vault,
            "site",
            "day.txt",
            format!("day {day}\n").as_bytes(),
        );
        snapshot(&scene.vault, "site", &format!("day {day}"));
        backups.run_backup("usb", &Job::default()).unwrap();
        clock.0.fetch_add(86_400, Ordering::SeqCst);
        if day == 0 {
            let before = chunk_packs();
            scene.vault.delete_project("old").unwrap();
            scene.vault.gc(&Job::default()).unwrap();
            let after = chunk_packs();
            dead_bytes = before
                .iter()
                .filter(|(path, _)| !after.contains_key(*path))
                .map(|(_, len)| len)
                .sum::<u64>();
            assert!(dead_bytes >= 40 << 20, "gc removed the old project's packs");
        }
    }
    let before: u64 = tree_digest(&drive).len() as u64;
    backups
        .update_target("usb", |t| {
            t.retention = Retention {
                keep_last: 2,
                ..Default::default()
            }
        })
        .unwrap();
    let dry = backups.prune("usb", true, &Job::default()).unwrap();
    assert_eq!(dry.removed.len(), 2);
    assert_eq!(
        tree_digest(&drive).len() as u64,
        before,
        "a dry run deletes nothing"
    );
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let job = {
        let seen = Arc::clone(&seen);
        Job::with_progress(move |p| {
            seen.lock()
                .unwrap()
                .push((p.phase, p.done, p.total, p.unit))
        })
    };
    let report = backups.prune("usb", false, &job).unwrap();
    assert_eq!(report.kept.len(), 2);
    assert!(
        report.packs_deleted > 0 && report.bytes_freed >= dead_bytes,
        "{report:?}"
    );
    // Progress through each phase, ending with every deletion done: 2 backups, then each
    // dropped pack's index and the pack itself.
    let seen = seen.lock().unwrap();
    for phase in ["reading backups", "reading pack indexes", "deleting"] {
        assert!(seen.iter().any(|s| s.0 == phase), "no {phase} in {seen:?}");
    }
    let deleted = 2 + report.packs_deleted * 2;
    assert_eq!(
        seen.last(),
        Some(&("deleting", deleted, Some(deleted), "objects")),
        "{seen:?}"
    );
    assert_eq!(backups.backups("usb").unwrap().len(), 2);
    assert!(backups
        .verify("usb", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
    // The next run still works from the updated cache.
    save(&scene.vault, "site", "after.txt", b"after prune\n");
    backups.run_backup("usb", &Job::default()).unwrap();
    assert!(backups
        .verify("usb", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
    let dest = scene.path("r");
    backups
        .restore("usb", "latest", None, &dest, &Job::default())
        .unwrap();
    assert!(Vault::open(&dest)
        .unwrap()
        .verify(None, &Job::default())
        .unwrap()
        .is_ok());
}

#[test]
fn a_pause_holds_until_it_ends_or_is_resumed_and_survives_a_restart() {
    use kura_backup::PauseLength;
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(&dir.path().join("vault")).unwrap();
    let clock = Arc::new(TestClock(AtomicI64::new(1_800_000_000)));
    let backups = Backups::with_clock(&vault, clock.clone());
    assert_eq!(backups.paused().unwrap(), None);
    let pause = backups.pause(PauseLength::OneHour).unwrap();
    assert_eq!(pause.until, Some(1_800_003_600));
    assert_eq!(backups.paused().unwrap(), Some(pause));
    clock.0.store(1_800_003_600, Ordering::SeqCst);
    assert_eq!(backups.paused().unwrap(), None, "an hour later it is over");
    backups.pause(PauseLength::UntilResumed).unwrap();
    // Another handle on the vault (the app restarted) sees it.
    let again = Backups::with_clock(&vault, clock.clone());
    clock.0.store(1_900_000_000, Ordering::SeqCst);
    assert_eq!(again.paused().unwrap().map(|p| p.until), Some(None));
    again.resume().unwrap();
    assert_eq!(backups.paused().unwrap(), None);
}

#[test]
fn an_upload_limit_typed_as_text_is_kept_in_bytes_per_second_and_a_bad_one_names_its_field() {
    let scene = Scene::new();
    let drive = scene.path("drive");
    std::fs::create_dir(&drive).unwrap();
    let backups = Backups::new(&scene.vault);
    let typed = |text: &str| Some(Rate::Text(text.into()));

    let bad = Target {
        bandwidth_limit: typed("fast"),
        ..Target::folder("usb", &drive)
    };
    let e = backups
        .add_target(&bad, &Secrets::default(), false)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(e.field(), Some("bandwidth"));
    assert!(e.message().contains("'fast' is not a rate"), "{e}");
    assert!(backups.targets().unwrap().is_empty(), "nothing is saved");

    let good = Target {
        bandwidth_limit: typed("2 MiB/s"),
        ..Target::folder("usb", &drive)
    };
    backups
        .add_target(&good, &Secrets::default(), false)
        .unwrap();
    assert_eq!(
        backups.target("usb").unwrap().bandwidth_limit,
        Some(Rate::BytesPerSecond(2 << 20))
    );

    for (text, message) in [
        ("0 KiB/s", "must be above 0"),
        ("5 MiB/min", "is not a rate"),
    ] {
        let e = backups
            .update_target("usb", |t| t.bandwidth_limit = typed(text))
            .unwrap_err();
        assert_eq!(e.field(), Some("bandwidth"), "{text}");
        assert!(e.message().contains(message), "{text}: {e}");
    }
    assert_eq!(
        backups.target("usb").unwrap().upload_limit().unwrap(),
        Some(2 << 20),
        "a refused change keeps the limit"
    );
    let cleared = backups
        .update_target("usb", |t| t.bandwidth_limit = typed(" "))
        .unwrap();
    assert_eq!(cleared.bandwidth_limit, None, "empty text is no limit");
}
