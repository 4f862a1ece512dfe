//! Cleanup with a clock: the trash is purged after `trash_days`, automatic versions are thinned
//! by the retention rule (manual ones never), unreferenced chunks are collected, a dry run
//! changes nothing, and every run is recorded.

use std::process::Command;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use kura_core::{
    CleanupCategory, CleanupOptions, Job, NewProject, SnapshotOptions, Trigger, Vault,
};

use crate::{noise, write};

const DAY: i64 = 86_400;

struct At(AtomicI64);

impl kura_core::Clock for At {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn vault() -> (tempfile::TempDir, Vault, Arc<At>) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(At(AtomicI64::new(1_700_000_000)));
    let vault = Vault::open_with_clock(&dir.path().join("vault"), clock.clone()).unwrap();
    (dir, vault, clock)
}

fn only(cat: CleanupCategory, dry_run: bool) -> CleanupOptions {
    CleanupOptions {
        dry_run,
        only: vec![cat],
    }
}

#[test]
fn the_trash_is_purged_after_trash_days_and_its_chunks_collected() {
    let (_dir, vault, clock) = vault();
    for name in ["old", "recent"] {
        let p = vault
            .create_project(&NewProject {
                name: name.into(),
                ..Default::default()
            })
            .unwrap();
        write(&p.path, "big.bin", &noise(2 << 20, name.len() as u64));
        vault
            .snapshot(name, &SnapshotOptions::default(), &Job::default())
            .unwrap();
    }
    vault.trash_project("old").unwrap();
    clock.0.fetch_add(25 * DAY, Ordering::SeqCst);
    vault.trash_project("recent").unwrap();
    clock.0.fetch_add(6 * DAY, Ordering::SeqCst);

    let preview = vault
        .cleanup(
            &CleanupOptions {
                dry_run: true,
                only: vec![],
            },
            &Job::default(),
        )
        .unwrap();
    let trash = &preview
        .categories
        .iter()
        .find(|c| c.category == CleanupCategory::Trash)
        .unwrap();
    assert_eq!(trash.items.len(), 1);
    assert_eq!(trash.items[0].project.as_deref(), Some("old"));
    assert!(vault.project("old").is_ok(), "a dry run changes nothing");

    let run = vault
        .cleanup(&only(CleanupCategory::Trash, false), &Job::default())
        .unwrap();
    assert_eq!(
        run.categories[0].items, trash.items,
        "the run removes what the preview listed"
    );
    assert!(run.categories[0].bytes_freed > 0);
    assert!(vault.project("old").is_err());
    assert!(vault.project("recent").is_ok());

    let chunks_preview = vault
        .cleanup(&only(CleanupCategory::Chunks, true), &Job::default())
        .unwrap();
    let estimated = chunks_preview.bytes_freed;
    assert!(estimated > 1 << 20, "{estimated}");
    let chunks = vault
        .cleanup(&only(CleanupCategory::Chunks, false), &Job::default())
        .unwrap();
    assert!(chunks.bytes_freed > 1 << 20);
    assert!(vault.verify(None, &Job::default()).unwrap().is_ok());

    let runs = vault.cleanup_runs(None).unwrap();
    assert_eq!(runs.len(), 4);
    assert_eq!(runs[0].id, chunks.id);
    assert_eq!(runs[0].bytes_freed, chunks.bytes_freed);
    assert!(runs[3].dry_run);
}

#[test]
fn thinning_keeps_manual_versions_and_the_rules_picks_and_they_still_restore() {
    let (dir, vault, clock) = vault();
    let p = vault
        .create_project(&NewProject {
            name: "app".into(),
            ..Default::default()
        })
        .unwrap();
    for k in 0..60 {
        clock.0.fetch_add(6 * 3600, Ordering::SeqCst);
        write(&p.path, "n.txt", format!("v{k}").as_bytes());
        let trigger = if k % 20 == 5 {
            Trigger::Manual
        } else {
            Trigger::Automatic
        };
        vault
            .snapshot(
                "app",
                &SnapshotOptions {
                    message: Some(format!("step {k}")),
                    trigger: Some(trigger),
                    ..Default::default()
                },
                &Job::default(),
            )
            .unwrap();
    }
    clock.0.fetch_add(2 * DAY, Ordering::SeqCst);
    let before = vault.versions("app", None).unwrap();
    assert_eq!(before.len(), 61);

    let preview = vault
        .cleanup(&only(CleanupCategory::Versions, true), &Job::default())
        .unwrap();
    let listed = preview.categories[0].items.len();
    assert!(listed > 20, "{listed}");
    assert_eq!(
        vault.versions("app", None).unwrap(),
        before,
        "a dry run changes nothing"
    );

    let run = vault
        .cleanup(&only(CleanupCategory::Versions, false), &Job::default())
        .unwrap();
    assert_eq!(run.categories[0].items.len(), listed);
    let after = vault.versions("app", None).unwrap();
    assert_eq!(after.len(), before.len() - listed);
    // Every manual (and API) version is still there, and the newest.
    for v in before.iter().filter(|v| v.trigger != Trigger::Automatic) {
        assert!(
            after
                .iter()
                .any(|a| a.message == v.message && a.trigger == v.trigger),
            "{}",
            v.message
        );
    }
    assert_eq!(after[0].message, before[0].message);
    // Younger than hourly_days (7): every automatic version kept.
    let now = clock.0.load(Ordering::SeqCst);
    for v in before.iter().filter(|v| now - v.created_at < 7 * DAY) {
        assert!(
            after.iter().any(|a| a.message == v.message),
            "{}",
            v.message
        );
    }
    // Times and authors kept; each kept version restores its own content.
    for v in &after {
        let old = before.iter().find(|b| b.message == v.message).unwrap();
        assert_eq!((v.created_at, &v.author), (old.created_at, &old.author));
        if let Some(k) = v.message.strip_prefix("step ") {
            let out = dir.path().join(format!("export-{k}"));
            vault
                .export_version("app", Some(&v.id), &out, &Job::default())
                .unwrap();
            assert_eq!(
                std::fs::read_to_string(out.join("n.txt")).unwrap(),
                format!("v{k}")
            );
        }
    }
    let git = Command::new("git")
        .arg("--git-dir")
        .arg(vault.root().join(format!("histories/{}.git", p.id)))
        .args(["fsck", "--strict", "--no-dangling"])
        .output()
        .unwrap();
    assert!(
        git.status.success(),
        "{}",
        String::from_utf8_lossy(&git.stderr)
    );
    assert!(vault.verify(None, &Job::default()).unwrap().is_ok());
    // The files cache follows the rewritten history: the next snapshot sees nothing new.
    let again = vault
        .snapshot("app", &SnapshotOptions::default(), &Job::default())
        .unwrap();
    assert!(again.version.is_none());
    let files = vault.list_files("app", None).unwrap();
    assert!(files.iter().all(|f| f
        .last_version
        .as_deref()
        .is_some_and(|l| after.iter().any(|v| v.id == l))));
    // The rewritten history (repacked, with deltas) archives into a bundle git clones, and
    // unarchives with every kept version.
    let info = vault.archive_project("app", &Job::default()).unwrap();
    let x = dir.path().join("opened");
    std::fs::create_dir(&x).unwrap();
    let tar = Command::new("tar")
        .args(["--zstd", "-xf"])
        .arg(&info.path)
        .arg("-C")
        .arg(&x)
        .status()
        .unwrap();
    assert!(tar.success());
    crate::archive::git_clone_archive(&x.join("app"), &x.join("clone"));
    let count = Command::new("git")
        .arg("-C")
        .arg(x.join("clone"))
        .args(["rev-list", "--count", "HEAD"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&count.stdout).trim(),
        after.len().to_string()
    );
    vault.unarchive_project(&info.id, &Job::default()).unwrap();
    assert_eq!(vault.versions("app", None).unwrap().len(), after.len());
}

#[test]
fn the_schedule_gives_the_next_run() {
    let (_dir, vault, _clock) = vault();
    // The default schedule is 03:00 every day, local time.
    use chrono::{Datelike, Local, TimeZone, Timelike};
    let next = vault.next_cleanup_at(1_700_000_000).unwrap().unwrap();
    let at = Local.timestamp_opt(next, 0).unwrap();
    assert_eq!((at.hour(), at.minute()), (3, 0));
    assert!(next > 1_700_000_000 && next <= 1_700_000_000 + 86_400);
    vault
        .set_config("cleanup.schedule", "weekly on mon at 04:30")
        .unwrap();
    let next = vault.next_cleanup_at(1_700_000_000).unwrap().unwrap();
    let at = Local.timestamp_opt(next, 0).unwrap();
    assert_eq!(
        (at.weekday(), at.hour(), at.minute()),
        (chrono::Weekday::Mon, 4, 30)
    );
    vault.set_config("cleanup.schedule", "off").unwrap();
    assert_eq!(vault.next_cleanup_at(1_700_000_000).unwrap(), None);
    let err = vault
        .set_config("cleanup.schedule", "every day")
        .unwrap_err();
    assert!(err.message().contains("cleanup.schedule"), "{err}");
}

/// Sets the time of `path` itself (a link is not followed) to two hours ago, as a file a killed
/// process left behind would be; `touch` is the real tool.
fn two_hours_old(path: &std::path::Path) {
    let st = Command::new("touch")
        .args(["-h", "-d", "2 hours ago"])
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
}

/// libgit2 names its temp files `<name>_git2_` and 16 hex digits: the link that probes a new
/// history for symbolic links, the packs and loose objects it writes. A process killed while one
/// exists leaves it in the history; cleanup removes it once it is an hour old, and leaves a
/// fresh one (a write under way) and everything of the history alone.
#[test]
fn cleanup_removes_the_temp_files_libgit2_left_in_a_history() {
    let (_dir, vault, _clock) = vault();
    let p = vault
        .create_project(&NewProject {
            name: "site".into(),
            ..Default::default()
        })
        .unwrap();
    write(&p.path, "index.html", b"<h1>kept</h1>\n");
    vault
        .snapshot("site", &SnapshotOptions::default(), &Job::default())
        .unwrap();
    let history = vault.root().join(format!("histories/{}.git", p.id));
    let probe = history.join("_git2_19c6262260497c2d");
    std::os::unix::fs::symlink("testing", &probe).unwrap();
    let pack = history.join("objects/pack/pack_git2_0123456789abcdef");
    std::fs::write(&pack, b"PACK half written").unwrap();
    std::fs::create_dir_all(history.join("objects/ab")).unwrap();
    let object = history.join("objects/ab/tmp_object_git2_00112233445566ff");
    std::fs::write(&object, b"half an object").unwrap();
    for old in [&probe, &pack, &object] {
        two_hours_old(old);
    }
    let versions = vault.versions("site", None).unwrap();
    let writing = history.join("objects/pack/pack_git2_fedcba9876543210");
    std::fs::write(&writing, b"PACK being written").unwrap();

    let preview = vault
        .cleanup(&only(CleanupCategory::Cache, true), &Job::default())
        .unwrap();
    let listed: Vec<&str> = preview.categories[0]
        .items
        .iter()
        .map(|i| i.description.as_str())
        .collect();
    for old in [&probe, &pack, &object] {
        assert!(
            listed.iter().any(|d| d.ends_with(&*old.to_string_lossy())),
            "{old:?} not in {listed:?}"
        );
        assert!(
            old.is_symlink() || old.exists(),
            "a dry run removed {old:?}"
        );
    }
    assert!(!listed.iter().any(|d| d.contains("fedcba9876543210")));

    vault
        .cleanup(&only(CleanupCategory::Cache, false), &Job::default())
        .unwrap();
    for old in [&probe, &pack, &object] {
        assert!(!old.is_symlink() && !old.exists(), "{old:?} is still there");
    }
    assert!(writing.exists(), "a write under way was removed");
    assert!(history.join("HEAD").exists());
    assert!(vault.verify(None, &Job::default()).unwrap().is_ok());
    assert_eq!(vault.versions("site", None).unwrap(), versions);
}

/// What a project counts for the chunk store follows its versions: once thinning has dropped
/// versions and the chunks only they used are collected, the project's stored size is no more
/// than its history and the chunk store take on disk, not every chunk it ever wrote.
#[test]
fn the_stored_size_drops_when_thinned_versions_take_their_chunks_with_them() {
    let (_dir, vault, clock) = vault();
    let p = vault
        .create_project(&NewProject {
            name: "media".into(),
            ..Default::default()
        })
        .unwrap();
    for k in 0..60 {
        clock.0.fetch_add(6 * 3600, Ordering::SeqCst);
        write(&p.path, "clip.bin", &noise(256 << 10, k));
        let opts = SnapshotOptions {
            trigger: Some(Trigger::Automatic),
            ..Default::default()
        };
        vault.snapshot("media", &opts, &Job::default()).unwrap();
    }
    clock.0.fetch_add(2 * DAY, Ordering::SeqCst);
    let chunks_on_disk = |vault: &Vault| {
        let stats = vault.stats().unwrap();
        let layer = stats.layers.iter().find(|l| l.layer == "chunks").unwrap();
        layer.on_disk_bytes
    };
    let before = vault.project("media").unwrap().stored_size;
    for cat in [CleanupCategory::Versions, CleanupCategory::Chunks] {
        vault.cleanup(&only(cat, false), &Job::default()).unwrap();
    }
    let kept = vault.versions("media", None).unwrap().len();
    assert!(kept < 60, "{kept} versions kept");
    let history = crate::git::bytes_under(&vault.root().join(format!("histories/{}.git", p.id)));
    let after = vault.project("media").unwrap().stored_size;
    let chunks = chunks_on_disk(&vault);
    assert!(after < before, "{after} bytes, were {before}");
    assert!(
        after >= history && after - history <= chunks,
        "stored {after} bytes: history {history}, chunk store {chunks}"
    );
    // The kept versions' clips are still counted: the only project, it counts about all the
    // chunk store holds (less the packs' own headers).
    assert!(
        (after - history) * 10 >= chunks * 9,
        "stored {after} bytes: history {history}, chunk store {chunks}"
    );
}
