//! The archiver: real `tar`, `git` and `sha256sum` open what Kura writes; unarchive brings the
//! project back exactly; cancelled archives leave nothing; crafted archives are refused.

use std::path::Path;
use std::process::Command;

use kura_core::{ErrorKind, ImportArchiveOptions, ImportOptions, Job, ProjectStatus};

use kura_test_support::git;

use crate::{backdate, noise, read_tree, write, Fixture};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run a tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Unpacks `archive` with plain `tar --zstd` into a new folder; returns the folder.
fn untar(fx: &Fixture, archive: &Path) -> std::path::PathBuf {
    let out = fx.dir.path().join("untarred");
    std::fs::create_dir_all(&out).unwrap();
    run(Command::new("tar")
        .arg("--zstd")
        .arg("-xf")
        .arg(archive)
        .arg("-C")
        .arg(&out));
    out
}

/// Clones the history of the archive unpacked at `top` with plain git, as the archives chapter
/// says: the files' contents go into a bare repository first (the bundle leaves the latest
/// version's to `files/`), then the bundle is fetched into it.
pub(crate) fn git_clone_archive(top: &Path, clone: &Path) {
    let bare = git_clone_archive_bare(top, clone);
    run(Command::new("git")
        .arg("clone")
        .arg("-q")
        .arg(&bare)
        .arg(clone));
}

/// The bare repository of [`git_clone_archive`], `<clone>.git`, before the clone.
pub(crate) fn git_clone_archive_bare(top: &Path, clone: &Path) -> std::path::PathBuf {
    let bare = clone.with_extension("git");
    run(Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&bare));
    run(Command::new("sh")
        .arg("-c")
        .arg(r#"find files $(test -d history-blobs && echo history-blobs) -type f -exec git --git-dir="$1" hash-object -w --no-filters {} +"#)
        .arg("sh")
        .arg(&bare)
        .current_dir(top));
    run(Command::new("git")
        .arg("--git-dir")
        .arg(&bare)
        .args(["fetch", "-q", "history.bundle", "main:main"])
        .current_dir(top));
    bare
}

/// Files left anywhere under `dir` (not folders).
fn files_under(dir: &Path) -> Vec<String> {
    if !dir.exists() {
        return Vec::new();
    }
    walk(dir)
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path().display().to_string());
        }
    }
    out
}

/// A managed project with two versions, a large file that changed between them, an ignored
/// build folder, tags and metadata.
fn project_with_history(fx: &Fixture) -> (kura_core::Project, Vec<u8>) {
    let old_big = noise(3 << 20, 7);
    let src = fx.tree(
        "site",
        &[
            ("index.html", b"<h1>hi</h1>\n"),
            ("src/main.rs", b"fn main() {}\n"),
            (".gitignore", b"build/\n"),
            ("assets/big.bin", &old_big),
        ],
    );
    let p = fx
        .vault
        .import_folder(
            &src,
            &ImportOptions {
                name: Some("site".into()),
                ..Default::default()
            },
            &Job::default(),
        )
        .unwrap()
        .project;
    fx.vault.tag_project("site", &["demo".into()], &[]).unwrap();
    fx.vault
        .set_metadata("site", &[("owner".into(), Some("ana".into()))])
        .unwrap();
    write(&p.path, "assets/big.bin", &noise(3 << 20, 8));
    write(&p.path, "index.html", b"<h1>hello</h1>\n");
    fx.snapshot("site", "second");
    write(&p.path, "build/out.o", b"ignored build output");
    (fx.vault.project("site").unwrap(), old_big)
}

#[test]
fn archive_opens_with_tar_and_git_and_unarchive_restores_exactly() {
    let fx = Fixture::new();
    let (p, old_big) = project_with_history(&fx);
    let before_files = read_tree(&p.path);
    let before_versions = fx.vault.versions("site", None).unwrap();

    let info = fx.vault.archive_project("site", &Job::default()).unwrap();
    assert!(info.path.starts_with(fx.vault.root().join("archives")));
    assert!(info.path.to_string_lossy().ends_with(".tar.zst"));
    assert_eq!(info.versions, before_versions.len() as u64);
    assert!(info.compression_ratio > 0.0);
    let sum = run(Command::new("sha256sum").arg(&info.path));
    assert!(sum.starts_with(&info.sha256), "{sum} vs {}", info.sha256);
    let archived = fx.vault.project("site").unwrap();
    assert_eq!(archived.status, ProjectStatus::Archived);
    assert!(!p.path.exists(), "the working folder is freed");
    // Moved aside in one rename; removed by a purge (here the one gc starts with).
    assert!(fx.vault.has_discarded());
    let bin = fx.vault.root().join("discard");
    assert_eq!(
        std::fs::read_dir(&bin).unwrap().count(),
        2,
        "folder and history"
    );
    assert_eq!(
        fx.vault.versions("site", None).unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert_eq!(fx.vault.list_archives().unwrap(), vec![info.clone()]);
    assert!(fx
        .vault
        .verify_archive(&info.id, &Job::default())
        .unwrap()
        .is_ok());
    assert!(fx.vault.verify(None, &Job::default()).unwrap().is_ok());
    // Its files leave the statistics and the catalog at once.
    let stats = fx.vault.stats().unwrap();
    assert!(
        stats.largest_files.iter().all(|f| f.project != "site"),
        "{:?}",
        stats.largest_files
    );
    assert!(stats.file_types.iter().all(|t| t.file_type != "html"));
    let lists: i64 = rusqlite::Connection::open(fx.vault.root().join("catalog.db"))
        .unwrap()
        .query_row(
            "SELECT count(*) FROM file_lists WHERE project_id = ?1",
            [&p.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(lists, 0);
    // The chunks only the archive needs now are garbage.
    assert!(fx.vault.gc(&Job::default()).unwrap().bytes_freed > 0);
    assert!(!fx.vault.has_discarded());
    assert_eq!(std::fs::read_dir(&bin).unwrap().count(), 0);

    // Plain tar and git open it.
    let out = untar(&fx, &info.path);
    assert_eq!(read_tree(&out.join("site/files")), before_files);
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("site/metadata.json")).unwrap()).unwrap();
    assert_eq!(meta["name"], "site");
    assert_eq!(meta["tags"][0], "demo");
    assert_eq!(meta["format"], "kura-archive v2");
    let clone = fx.dir.path().join("clone");
    git_clone_archive(&out.join("site"), &clone);
    let log = run(Command::new("git")
        .arg("-C")
        .arg(&clone)
        .args(["log", "--format=%H"]));
    let ids: Vec<&str> = log.lines().collect();
    let want: Vec<&str> = before_versions.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, want);
    run(Command::new("git")
        .arg("-C")
        .arg(&clone)
        .args(["fsck", "--strict"]));

    // Unarchive: files (ignored ones too), versions, metadata, old large-file contents.
    let back = fx.vault.unarchive_project("site", &Job::default()).unwrap();
    assert_eq!(back.status, ProjectStatus::Active);
    assert_eq!(back.id, p.id);
    assert_eq!(back.tags, vec!["demo".to_string()]);
    assert_eq!(back.metadata.get("owner").map(String::as_str), Some("ana"));
    assert_eq!(read_tree(&back.path), before_files);
    assert_eq!(fx.vault.versions("site", None).unwrap(), before_versions);
    assert!(
        !info.path.exists(),
        "the archive is removed once the project is back"
    );
    assert!(fx.vault.list_archives().unwrap().is_empty());
    let first = fx.dir.path().join("first");
    fx.vault
        .export_version("site", Some("latest~1"), &first, &Job::default())
        .unwrap();
    assert_eq!(
        std::fs::read(first.join("assets/big.bin")).unwrap(),
        old_big
    );
    assert!(fx.vault.verify(None, &Job::default()).unwrap().is_ok());
}

#[test]
fn an_archive_keeps_a_file_edited_in_many_versions_about_once() {
    let fx = Fixture::new();
    // 200 KiB of hex digits (compressed, still over 100 KiB), one line changed per version.
    let mut lines: Vec<String> = noise(100 << 10, 3)
        .chunks(32)
        .map(|c| format!("{}\n", hex::encode(c)))
        .collect();
    let root = fx.tree("notes", &[("notes.txt", lines.concat().as_bytes())]);
    fx.link(&root, "notes");
    let versions = 10;
    for v in 1..versions {
        lines[v * 300] = format!("edited in version {v}\n");
        write(&root, "notes.txt", lines.concat().as_bytes());
        fx.snapshot("notes", &format!("edit {v}"));
    }
    let text_len = lines.concat().len() as u64;
    let info = fx.vault.archive_project("notes", &Job::default()).unwrap();
    assert_eq!(info.versions, versions as u64);

    let out = untar(&fx, &info.path);
    let bundle = out.join("notes/history.bundle");
    let bundle_len = std::fs::metadata(&bundle).unwrap().len();
    // Whole, the ten versions would take about five times the text, compressed.
    assert!(
        bundle_len < text_len,
        "{versions} versions of a {text_len}-byte text took {bundle_len} bytes"
    );
    let clone = fx.dir.path().join("clone");
    git_clone_archive(&out.join("notes"), &clone);
    run(Command::new("git")
        .arg("-C")
        .arg(&clone)
        .args(["fsck", "--strict"]));
    let first = run(Command::new("git")
        .arg("-C")
        .arg(&clone)
        .args(["show", "HEAD~8:notes.txt"]));
    assert!(first.contains("edited in version 1\n") && !first.contains("edited in version 2\n"));
}

#[test]
fn a_changed_folder_gets_a_before_archive_version() {
    let fx = Fixture::new();
    let (p, _) = project_with_history(&fx);
    write(&p.path, "notes.md", b"new\n");
    let before = fx.vault.versions("site", None).unwrap().len();
    let info = fx.vault.archive_project("site", &Job::default()).unwrap();
    assert_eq!(info.versions as usize, before + 1);
    fx.vault
        .unarchive_project(&info.id, &Job::default())
        .unwrap();
    let latest = &fx.vault.versions("site", Some(1)).unwrap()[0];
    assert_eq!(latest.trigger, kura_core::Trigger::BeforeArchive);
}

#[test]
fn an_archived_project_restored_from_the_trash_is_archived_again_and_unarchives() {
    let fx = Fixture::new();
    let (p, _) = project_with_history(&fx);
    let before = read_tree(&p.path);
    let info = fx.vault.archive_project("site", &Job::default()).unwrap();
    fx.vault.trash_project("site").unwrap();
    let back = fx.vault.untrash_project("site").unwrap();
    assert_eq!(back.status, ProjectStatus::Archived);
    fx.vault
        .unarchive_project(&info.id, &Job::default())
        .unwrap();
    assert_eq!(read_tree(&p.path), before);
}

#[test]
fn a_cancelled_archive_leaves_no_file_and_the_project_untouched() {
    let fx = Fixture::new();
    let (p, _) = project_with_history(&fx);
    write(&p.path, "video.bin", &noise(24 << 20, 3));
    fx.snapshot("site", "video");
    let before = read_tree(&p.path);
    let slot: std::sync::Arc<std::sync::OnceLock<Job>> = Default::default();
    let seen = slot.clone();
    let job = Job::with_progress(move |pr| {
        if pr.phase == "archiving" {
            if let Some(j) = seen.get() {
                j.cancel();
            }
        }
    });
    slot.set(job.clone()).unwrap();
    let err = fx.vault.archive_project("site", &job).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert_eq!(
        files_under(&fx.vault.root().join("archives")),
        Vec::<String>::new()
    );
    let p2 = fx.vault.project("site").unwrap();
    assert_eq!(p2.status, ProjectStatus::Active);
    assert_eq!(read_tree(&p.path), before);
    assert!(fx.vault.list_archives().unwrap().is_empty());
    assert!(fx.vault.verify(None, &Job::default()).unwrap().is_ok());
}

#[test]
fn idle_projects_are_archived_after_archive_after_days() {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;
    struct At(AtomicI64);
    impl kura_core::Clock for At {
        fn now(&self) -> i64 {
            self.0.load(Ordering::SeqCst)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(At(AtomicI64::new(1_700_000_000)));
    let vault = kura_core::Vault::open_with_clock(&dir.path().join("v"), clock.clone()).unwrap();
    for name in ["old", "fresh"] {
        vault
            .create_project(&kura_core::NewProject {
                name: name.into(),
                ..Default::default()
            })
            .unwrap();
    }
    clock.0.fetch_add(60 * 86_400, Ordering::SeqCst);
    vault.touch_project("fresh").unwrap();
    clock.0.fetch_add(31 * 86_400, Ordering::SeqCst);
    let idle: Vec<String> = vault
        .idle_projects()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(idle, vec!["old".to_string()]);
    let made = vault.archive_idle_projects(&Job::default()).unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(
        vault.project("old").unwrap().status,
        ProjectStatus::Archived
    );
    assert_eq!(
        vault.project("fresh").unwrap().status,
        ProjectStatus::Active
    );
    assert!(
        made[0]
            .path
            .to_string_lossy()
            .contains("/archives/2024/02/"),
        "{:?}",
        made[0].path
    );
}

#[test]
fn a_kura_archive_imports_as_a_project_with_its_history() {
    let fx = Fixture::new();
    let (_, _) = project_with_history(&fx);
    let versions = fx.vault.versions("site", None).unwrap();
    let info = fx.vault.archive_project("site", &Job::default()).unwrap();
    let copy = fx.dir.path().join("copy.tar.zst");
    std::fs::copy(&info.path, &copy).unwrap();
    let other = kura_core::Vault::open(&fx.dir.path().join("other")).unwrap();
    let p = other
        .import_archive(&copy, &ImportArchiveOptions::default(), &Job::default())
        .unwrap();
    assert_eq!(p.name, "site");
    assert_eq!(p.tags, vec!["demo".to_string()]);
    assert_eq!(other.versions("site", None).unwrap(), versions);
    assert!(other.verify(None, &Job::default()).unwrap().is_ok());
}

#[test]
fn extract_writes_any_archive_into_an_empty_folder() {
    let fx = Fixture::new();
    let (p, _) = project_with_history(&fx);
    let before = read_tree(&p.path);
    let info = fx.vault.archive_project("site", &Job::default()).unwrap();
    let dest = fx.dir.path().join("out");
    let r = fx
        .vault
        .extract_archive(&info.id, &dest, &Job::default())
        .unwrap();
    assert!(r.files >= before.len() as u64);
    assert_eq!(read_tree(&dest.join("site/files")), before);
    let err = fx
        .vault
        .extract_archive(&info.id, &dest, &Job::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
}

#[test]
fn a_projects_folder_outside_the_vault_has_its_own_bin() {
    let fx = Fixture::new();
    let elsewhere = fx.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    fx.vault
        .set_config("paths.projects", elsewhere.to_str().unwrap())
        .unwrap();
    let p = fx
        .vault
        .create_project(&kura_core::NewProject {
            name: "far".into(),
            ..Default::default()
        })
        .unwrap();
    assert!(p.path.starts_with(&elsewhere));
    fx.vault.archive_project("far", &Job::default()).unwrap();
    assert!(!p.path.exists());
    // A rename cannot leave the file system the folder is on: it waits beside it.
    let bin = elsewhere.join(".kura-discard");
    assert_eq!(std::fs::read_dir(&bin).unwrap().count(), 1);
    assert!(fx.vault.has_discarded());
    assert_eq!(fx.vault.purge_discarded().unwrap(), 2, "folder and history");
    assert_eq!(std::fs::read_dir(&bin).unwrap().count(), 0);
    assert!(!fx.vault.has_discarded());
}

/// Archives of one project asked for at once (two requests, two processes): one archives it;
/// every other is told the project is archived already (a conflict) or busy, never an error
/// about a history the first one moved away meanwhile. (Found by a fuzzer sending archive requests in
/// quick succession to `kura serve`.)
#[test]
fn archives_of_one_project_at_once_make_one_archive_and_a_clear_conflict() {
    for round in 0..3 {
        let fx = Fixture::new();
        let (p, _) = project_with_history(&fx);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let vault = kura_core::Vault::open(fx.vault.root()).unwrap();
                let id = p.id.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    vault.archive_project(&id, &Job::default())
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let archived = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(archived, 1, "round {round}: {results:?}");
        // Busy (the project is being written; try again) is the other answer a second archive
        // may get while the first holds the project; both are 409 over HTTP.
        for e in results.iter().filter_map(|r| r.as_ref().err()) {
            match e.kind() {
                ErrorKind::Conflict => {
                    assert!(
                        e.to_string().contains("already archived"),
                        "round {round}: {e}"
                    )
                }
                ErrorKind::Busy => {}
                other => panic!("round {round}: a second archive failed otherwise: {other:?}: {e}"),
            }
        }
        assert_eq!(fx.vault.list_archives().unwrap().len(), 1);
        assert_eq!(
            fx.vault.project(&p.id).unwrap().status,
            ProjectStatus::Archived
        );
    }
}

/// Versions asked for while the project is being archived either are taken before it goes or
/// are told it is archived or busy, never an error about its history having moved away.
#[test]
fn snapshots_during_an_archive_are_taken_or_told_the_project_is_archived() {
    for round in 0..3 {
        let fx = Fixture::new();
        let (p, _) = project_with_history(&fx);
        write(
            &p.path,
            "index.html",
            format!("<h1>round {round}</h1>\n").as_bytes(),
        );
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let vault = kura_core::Vault::open(fx.vault.root()).unwrap();
                let id = p.id.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    match i {
                        0 => vault.archive_project(&id, &Job::default()).map(|_| ()),
                        _ => vault
                            .snapshot(&id, &Default::default(), &Job::default())
                            .map(|_| ()),
                    }
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(results[0].is_ok(), "round {round}: {results:?}");
        // Busy (the project is being written; try again) and Conflict are both 409 over HTTP.
        for e in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                matches!(e.kind(), ErrorKind::Conflict | ErrorKind::Busy),
                "round {round}: {:?}: {e}",
                e.kind()
            );
        }
    }
}

/// Exports while the project is being archived either write the version or are told the project
/// is archived (a conflict), never that its history is damaged.
#[test]
fn exports_during_an_archive_are_written_or_told_the_project_is_archived() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let fx = Fixture::new();
    let (p, _) = project_with_history(&fx);
    let archived = std::sync::Arc::new(AtomicBool::new(false));
    let exporters: Vec<_> = (0..3)
        .map(|i| {
            let vault = kura_core::Vault::open(fx.vault.root()).unwrap();
            let id = p.id.clone();
            let dir = fx.dir.path().join(format!("exports-{i}"));
            let archived = archived.clone();
            std::thread::spawn(move || {
                let mut errors = Vec::new();
                let mut n = 0;
                while !archived.load(Ordering::SeqCst) {
                    n += 1;
                    let dest = dir.join(n.to_string());
                    if let Err(e) = vault.export_version(&id, None, &dest, &Job::default()) {
                        errors.push(e);
                    }
                }
                errors
            })
        })
        .collect();
    let archive = fx.vault.archive_project(&p.id, &Job::default());
    archived.store(true, Ordering::SeqCst);
    archive.unwrap();
    for t in exporters {
        for e in t.join().unwrap() {
            assert!(
                matches!(e.kind(), ErrorKind::Conflict | ErrorKind::Busy),
                "{:?}: {e}",
                e.kind()
            );
        }
    }
}

/// Files saved, renamed or deleted while the project is being archived either are in the archive
/// (and come back with the project) or are refused as archived or busy: a change the archive's
/// version missed is never freed with the folder. Checked by unarchiving: every save that
/// answered Ok is there with its content.
#[test]
fn saves_during_an_archive_are_in_the_archive_or_refused() {
    use std::sync::atomic::{AtomicBool, Ordering};
    for round in 0..3 {
        let fx = Fixture::new();
        let (p, _) = project_with_history(&fx);
        let archived = std::sync::Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..3)
            .map(|i| {
                let vault = kura_core::Vault::open(fx.vault.root()).unwrap();
                let id = p.id.clone();
                let archived = archived.clone();
                std::thread::spawn(move || {
                    let (mut saved, mut errors) = (Vec::new(), Vec::new());
                    let mut n = 0;
                    while !archived.load(Ordering::SeqCst) {
                        n += 1;
                        let rel = format!("notes/{i}-{n}.txt");
                        let body = format!("writer {i}, save {n}\n");
                        match vault.save_file(&id, &rel, &mut body.as_bytes()) {
                            Ok(_) => saved.push((rel, body)),
                            Err(e) => errors.push(e),
                        }
                    }
                    (saved, errors)
                })
            })
            .collect();
        // Let the writers start before the archive does.
        std::thread::sleep(std::time::Duration::from_millis(30));
        let archive = fx.vault.archive_project(&p.id, &Job::default());
        archived.store(true, Ordering::SeqCst);
        archive.unwrap();
        let mut all_saved = Vec::new();
        for t in writers {
            let (saved, errors) = t.join().unwrap();
            for e in errors {
                assert!(
                    matches!(e.kind(), ErrorKind::Conflict | ErrorKind::Busy),
                    "round {round}: {:?}: {e}",
                    e.kind()
                );
            }
            all_saved.extend(saved);
        }
        assert!(!all_saved.is_empty(), "round {round}: no save got through");
        let back = fx.vault.unarchive_project(&p.id, &Job::default()).unwrap();
        for (rel, body) in &all_saved {
            let got = std::fs::read_to_string(back.path.join(rel))
                .unwrap_or_else(|e| panic!("round {round}: {rel} answered Ok, then lost: {e}"));
            assert_eq!(&got, body, "round {round}: {rel}");
        }
    }
}

/// An archived project moved to the trash has no history in the vault (it is in the archive):
/// reading its versions is a conflict that says so, not a damaged history. (Found by a fuzzer
/// asking `kura serve` for such a project's export.)
#[test]
fn an_archived_project_in_the_trash_answers_reads_of_its_history_with_a_conflict() {
    let fx = Fixture::new();
    let (p, _) = project_with_history(&fx);
    fx.vault.archive_project(&p.id, &Job::default()).unwrap();
    fx.vault.trash_project(&p.id).unwrap();
    let out = fx.dir.path().join("out");
    let export = fx
        .vault
        .export_version(&p.id, None, &out, &Job::default())
        .unwrap_err();
    assert_eq!(export.kind(), ErrorKind::Conflict, "{export}");
    assert!(export.to_string().contains("in the trash"), "{export}");
    let versions = fx.vault.versions(&p.id, Some(10)).unwrap_err();
    assert_eq!(versions.kind(), ErrorKind::Conflict, "{versions}");
    // Upkeep walks every history in the vault; this project has none there, and that is fine.
    let report = fx.vault.verify(None, &Job::default()).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    fx.vault.gc(&Job::default()).unwrap();
    // Back from the trash it is archived, and unarchives whole.
    fx.vault.untrash_project(&p.id).unwrap();
    let back = fx.vault.unarchive_project(&p.id, &Job::default()).unwrap();
    assert_eq!(back.status, ProjectStatus::Active);
    fx.vault
        .export_version(&p.id, None, &fx.dir.path().join("out2"), &Job::default())
        .unwrap();
}

/// The objects a history bundle's pack holds, by type, as `git verify-pack` lists them.
fn bundle_objects(bundle: &Path, scratch: &Path) -> Vec<(String, String)> {
    let bytes = std::fs::read(bundle).unwrap();
    let start = bytes.windows(2).position(|w| w == b"\n\n").unwrap() + 2;
    let pack = scratch.join("bundle.pack");
    std::fs::write(&pack, &bytes[start..]).unwrap();
    run(Command::new("git").arg("index-pack").arg(&pack));
    let listed = run(Command::new("git")
        .args(["verify-pack", "-v"])
        .arg(pack.with_extension("idx")));
    listed
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (id, kind) = (w.next()?, w.next()?);
            (id.len() == 40).then(|| (id.to_string(), kind.to_string()))
        })
        .collect()
}

/// Tars `dir`'s `top` folder again as a `tar.zst`.
fn retar(dir: &Path, top: &str, dest: &Path) {
    run(Command::new("tar")
        .args(["--zstd", "-cf"])
        .arg(dest)
        .arg("-C")
        .arg(dir)
        .arg(top));
}

#[test]
fn the_history_bundle_leaves_out_what_files_carries_and_unarchive_puts_it_back() {
    let fx = Fixture::new();
    let files: Vec<(String, Vec<u8>)> = (0..40)
        .map(|i| {
            (
                format!("src/mod{i}/file{i}.txt"),
                format!("{}\n", hex::encode(noise(2000, i))).into_bytes(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    let src = fx.tree("many", &refs);
    fx.vault
        .import_folder(
            &src,
            &ImportOptions {
                name: Some("many".into()),
                ..Default::default()
            },
            &Job::default(),
        )
        .unwrap();
    let versions = fx.vault.versions("many", None).unwrap();
    let before = read_tree(&fx.vault.project("many").unwrap().path);
    let info = fx.vault.archive_project("many", &Job::default()).unwrap();

    // The pack holds the version's commit and folders, not one file's content: those are in
    // files/, once.
    let out = untar(&fx, &info.path);
    let objects = bundle_objects(&out.join("many/history.bundle"), fx.dir.path());
    assert!(
        objects.iter().all(|(_, kind)| kind != "blob"),
        "{objects:?}"
    );
    assert_eq!(objects.iter().filter(|(_, k)| k == "commit").count(), 1);
    let total: usize = files.iter().map(|(_, c)| c.len()).sum();
    assert!(
        info.size < total as u64,
        "{} bytes of text took {} in the archive",
        total,
        info.size
    );

    // Brought back, the history has every file's content again.
    let back = fx.vault.unarchive_project("many", &Job::default()).unwrap();
    assert_eq!(read_tree(&back.path), before);
    assert_eq!(fx.vault.versions("many", None).unwrap(), versions);
    assert!(fx.vault.verify(None, &Job::default()).unwrap().is_ok());
    std::fs::remove_dir_all(&back.path).unwrap();
    let first = fx.dir.path().join("first");
    fx.vault
        .export_version("many", None, &first, &Job::default())
        .unwrap();
    assert_eq!(read_tree(&first), before);
}

#[test]
fn an_archive_whose_files_do_not_hold_what_its_bundle_left_out_is_refused() {
    let fx = Fixture::new();
    let (_, _) = project_with_history(&fx);
    let info = fx.vault.archive_project("site", &Job::default()).unwrap();
    let out = untar(&fx, &info.path);
    let other = kura_core::Vault::open(&fx.dir.path().join("other")).unwrap();
    let import = |archive: &Path| {
        other
            .import_archive(archive, &ImportArchiveOptions::default(), &Job::default())
            .unwrap_err()
    };

    // A file's content changed after the archive was made.
    write(
        &out.join("site/files"),
        "src/main.rs",
        b"fn main() { evil() }\n",
    );
    let edited = fx.dir.path().join("edited.tar.zst");
    retar(&out, "site", &edited);
    let err = import(&edited);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("files/src/main.rs"), "{err}");

    // The version's content kept apart, but other bytes there.
    write(&out.join("site/files"), "src/main.rs", b"fn main() {}\n");
    let oid = run(Command::new("git")
        .args(["hash-object", "--no-filters"])
        .arg(out.join("site/files/src/main.rs")));
    write(
        &out.join("site/history-blobs"),
        oid.trim(),
        b"fn main() { evil() }\n",
    );
    let apart = fx.dir.path().join("apart.tar.zst");
    retar(&out, "site", &apart);
    let err = import(&apart);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    std::fs::remove_dir_all(out.join("site/history-blobs")).unwrap();

    // The folder holding it replaced by a link to a copy elsewhere.
    let elsewhere = fx.dir.path().join("elsewhere");
    std::fs::rename(out.join("site/files/src"), &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("site/files/src")).unwrap();
    let linked = fx.dir.path().join("linked.tar.zst");
    retar(&out, "site", &linked);
    let err = import(&linked);
    assert_eq!(err.kind(), ErrorKind::PathEscape, "{err}");

    // A file missing.
    std::fs::remove_file(out.join("site/files/src")).unwrap();
    let missing = fx.dir.path().join("missing.tar.zst");
    retar(&out, "site", &missing);
    let err = import(&missing);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");

    // Nothing of the refused imports was kept.
    let all = kura_core::ProjectFilter {
        all_workspaces: true,
        ..Default::default()
    };
    assert!(other.projects(&all).unwrap().is_empty());
    let histories: Vec<_> = std::fs::read_dir(other.root().join("histories"))
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(histories.is_empty(), "{histories:?}");
}

#[test]
fn an_archive_with_its_whole_history_in_the_bundle_still_imports() {
    // Archives written before the bundle left out what files/ carries ("kura-archive v1").
    let fx = Fixture::new();
    let (_, _) = project_with_history(&fx);
    let versions = fx.vault.versions("site", None).unwrap();
    let info = fx.vault.archive_project("site", &Job::default()).unwrap();
    let out = untar(&fx, &info.path);
    let top = out.join("site");
    let bare = crate::archive::git_clone_archive_bare(&top, &fx.dir.path().join("whole"));
    let bundle = top.join("history.bundle");
    std::fs::remove_file(&bundle).unwrap();
    run(Command::new("git")
        .arg("--git-dir")
        .arg(&bare)
        .args(["bundle", "create", "-q"])
        .arg(&bundle)
        .arg("refs/heads/main"));
    let meta_path = top.join("metadata.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta["format"] = "kura-archive v1".into();
    std::fs::write(&meta_path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
    let v1 = fx.dir.path().join("v1.tar.zst");
    retar(&out, "site", &v1);

    let other = kura_core::Vault::open(&fx.dir.path().join("other")).unwrap();
    other
        .import_archive(&v1, &ImportArchiveOptions::default(), &Job::default())
        .unwrap();
    assert_eq!(other.versions("site", None).unwrap(), versions);
    assert!(other.verify(None, &Job::default()).unwrap().is_ok());
}

/// A linked folder belongs to its user, who may rewrite a file while it is archived. Whatever
/// the timing, the archive holds the folder as it read it, and every version: a file that no
/// longer holds what the bundle left to it has the version's content kept apart, and unarchive
/// puts it back.
#[test]
fn a_file_rewritten_while_its_linked_folder_is_archived_is_never_lost() {
    use std::io::{Seek, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut apart = 0;
    for round in 0..4 {
        let fx = Fixture::new();
        let mut files: Vec<(String, Vec<u8>)> = (0..300)
            .map(|i| (format!("src/f{i}.txt"), noise(3000, i).to_vec()))
            .collect();
        files.push(("hot.txt".into(), vec![b'a'; 64 << 10]));
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_slice()))
            .collect();
        let root = fx.tree("linked", &refs);
        fx.link(&root, "linked");
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let hot = root.join("hot.txt");
        let writer = {
            let done = done.clone();
            std::thread::spawn(move || {
                // Rewritten in place, same size: only its bytes change.
                let mut f = std::fs::OpenOptions::new().write(true).open(&hot).unwrap();
                let mut n = 0u8;
                while !done.load(Ordering::SeqCst) {
                    n = n.wrapping_add(1);
                    f.rewind().unwrap();
                    f.write_all(&vec![b'a' + n % 26; 64 << 10]).unwrap();
                }
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        let archived = fx.vault.archive_project("linked", &Job::default());
        done.store(true, Ordering::SeqCst);
        writer.join().unwrap();
        let info = archived.unwrap_or_else(|e| panic!("round {round}: {e}"));
        let listing = run(Command::new("tar").arg("--zstd").arg("-tf").arg(&info.path));
        if listing.contains("linked/history-blobs/") {
            apart += 1;
            // Plain git opens it too, the content kept apart included.
            let out = untar(&fx, &info.path);
            let clone = fx.dir.path().join("clone");
            git_clone_archive(&out.join("linked"), &clone);
            run(Command::new("git")
                .arg("-C")
                .arg(&clone)
                .args(["fsck", "--strict"]));
        }
        let back = fx
            .vault
            .unarchive_project("linked", &Job::default())
            .unwrap();
        assert_eq!(back.status, ProjectStatus::Active, "round {round}");
        // The folder stayed the user's: it may have changed since, a version more then.
        let versions = fx.vault.versions("linked", None).unwrap().len() as u64;
        assert!(versions >= info.versions, "round {round}");
        assert!(
            fx.vault.verify(None, &Job::default()).unwrap().is_ok(),
            "round {round}"
        );
        let latest = fx.dir.path().join(format!("latest{round}"));
        fx.vault
            .export_version("linked", None, &latest, &Job::default())
            .unwrap();
        assert_eq!(
            std::fs::metadata(latest.join("hot.txt")).unwrap().len(),
            64 << 10
        );
    }
    assert!(apart > 0, "no round had hot.txt change under the archive");
}

/// Unarchive writes the latest version's files back into the history as a snapshot does: a page
/// like the one stored whole before it goes in as a delta against it, which git reads.
#[test]
fn unarchive_puts_files_alike_back_as_deltas_git_reads() {
    use crate::git::{blob_deltas, bytes_of, history_dir, pack_files};
    let fx = Fixture::new();
    // 4 KB every page shares and 1 KB of its own, neither of which zlib alone can shrink much.
    let shared = hex::encode(noise(2048, 1));
    let pages: Vec<(String, Vec<u8>)> = (0..300)
        .map(|i| {
            // (Odd seeds: `noise` makes every seed odd.)
            let own = hex::encode(noise(512, 2 * i + 101));
            (
                format!("site/page{i:03}.html"),
                format!("{shared}\n{own}\n").into_bytes(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = pages
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    let src = fx.tree("docs", &refs);
    let options = ImportOptions {
        name: Some("docs".into()),
        ..Default::default()
    };
    let p = fx
        .vault
        .import_folder(&src, &options, &Job::default())
        .unwrap()
        .project;
    let info = fx.vault.archive_project("docs", &Job::default()).unwrap();
    // The bundle left the pages to files/ (else unarchive would have nothing to put back).
    let out = untar(&fx, &info.path);
    let objects = bundle_objects(&out.join("docs/history.bundle"), fx.dir.path());
    assert!(
        objects.iter().all(|(_, kind)| kind != "blob"),
        "{objects:?}"
    );

    let back = fx.vault.unarchive_project("docs", &Job::default()).unwrap();
    let bare = history_dir(&fx, &p);
    git(&bare, &["fsck", "--full", "--strict"]);
    let packs = pack_files(&bare);
    let deltas = blob_deltas(&bare, &packs);
    // Runs of 64 pages: all but the first of each is a delta.
    assert!(deltas >= 290, "{deltas} of 300 pages are deltas");
    let raw: u64 = pages.iter().map(|(_, c)| c.len() as u64).sum();
    assert!(
        bytes_of(&packs) * 5 < raw,
        "the history holds {} bytes for {raw} bytes of pages",
        bytes_of(&packs)
    );
    let exported = fx.dir.path().join("exported");
    fx.vault
        .export_version("docs", None, &exported, &Job::default())
        .unwrap();
    assert_eq!(read_tree(&exported), read_tree(&back.path));
    assert_eq!(read_tree(&exported), read_tree(&src));
}

/// Unarchived, a project shows what its history takes on disk, and the files the unarchive
/// wrote back are known as they are: a snapshot reads none of them, and still sees one rewritten
/// since with the same size.
#[test]
fn unarchive_shows_the_stored_size_and_knows_the_files_it_wrote() {
    use crate::git::history_bytes;
    let fx = Fixture::new();
    let src = fx.tree(
        "app",
        &[
            ("README.md", b"# app\n"),
            ("src/main.rs", b"fn main() {}\n"),
            ("src/lib.rs", b"pub fn one() -> u32 { 1 }\n"),
        ],
    );
    // Written an hour ago, as a project's files are: not just now, which snapshots read again.
    for rel in ["README.md", "src/main.rs", "src/lib.rs"] {
        backdate(&src.join(rel));
    }
    let options = ImportOptions {
        name: Some("app".into()),
        ..Default::default()
    };
    fx.vault
        .import_folder(&src, &options, &Job::default())
        .unwrap();
    fx.vault.archive_project("app", &Job::default()).unwrap();
    let back = fx.vault.unarchive_project("app", &Job::default()).unwrap();
    assert!(!back.linked);
    assert_eq!(back.stored_size, history_bytes(&fx, &back));
    assert_eq!((back.file_count, back.logical_size), (3, 6 + 13 + 26));

    let again = fx.snapshot("app", "nothing changed");
    assert!(again.version.is_none(), "{again:?}");
    assert_eq!(again.files_read, 0, "{again:?}");
    // Same size, new content: the stat data the unarchive recorded must not hide it.
    write(&back.path, "src/lib.rs", b"pub fn two() -> u32 { 2 }\n");
    let changed = fx.snapshot("app", "two");
    assert!(changed.version.is_some(), "{changed:?}");
    assert_eq!((changed.files_read, changed.changes.modified), (1, 1));
}

/// A repack shrinks a history, and the project's stored size follows at once (not at its next
/// version).
#[test]
fn a_repack_updates_the_stored_size() {
    use crate::git::history_bytes;
    let fx = Fixture::new();
    let page = |i: u64| format!("{}\n{i}\n", hex::encode(noise(4096, 7))).into_bytes();
    let src = fx.tree("site", &[("index.html", &page(0))]);
    let options = ImportOptions {
        name: Some("site".into()),
        link: true,
        ..Default::default()
    };
    fx.vault
        .import_folder(&src, &options, &Job::default())
        .unwrap();
    for i in 1..6 {
        write(&src, "index.html", &page(i));
        fx.snapshot("site", &format!("v{i}"));
    }
    let before = fx.vault.project("site").unwrap();
    assert_eq!(before.stored_size, history_bytes(&fx, &before));
    assert!(fx.vault.repack_project("site", &Job::default()).unwrap());
    let after = fx.vault.project("site").unwrap();
    assert_eq!(after.stored_size, history_bytes(&fx, &after));
    assert!(
        after.stored_size < before.stored_size,
        "{} bytes after the repack, {} before",
        after.stored_size,
        before.stored_size
    );
}
