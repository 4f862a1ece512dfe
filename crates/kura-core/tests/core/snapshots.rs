//! Versions: the files cache, layers, dedup, restore, diff, verify and gc.

use kura_core::{Change, ErrorKind, FileState, Job, Layer, SnapshotOptions, Trigger};

use crate::{noise, read_tree, write, Fixture};

#[test]
fn an_unchanged_tree_reads_no_file_again_and_makes_no_version() {
    let f = Fixture::new();
    let files: Vec<(String, Vec<u8>)> = (0..300)
        .map(|i| {
            (
                format!("d{}/f{i}.txt", i % 7),
                format!("file {i}\n").into_bytes(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_slice()))
        .collect();
    let root = f.tree("src", &refs);
    // Backdate the files so none is "racily" recent.
    for (rel, _) in &files {
        crate::backdate(&root.join(rel));
    }
    f.link(&root, "p");
    let again = f.snapshot("p", "again");
    assert!(again.version.is_none(), "nothing changed, so no version");
    assert_eq!(
        again.files_read, 0,
        "the files cache should make reading unnecessary"
    );
    assert_eq!(f.vault.versions("p", None).unwrap().len(), 1);

    write(&root, "d1/f1.txt", b"changed\n");
    let r = f.snapshot("p", "one change");
    assert_eq!(r.files_read, 1);
    assert_eq!(
        (r.changes.added, r.changes.modified, r.changes.removed),
        (0, 1, 0)
    );
}

/// A snapshot reads the history's head from the branch's file; a branch that `git gc` packed
/// into `packed-refs` (no file left) is read through the repository, and versions go on.
#[test]
fn a_history_whose_branch_was_packed_by_git_gc_takes_versions_as_before() {
    let f = Fixture::new();
    let root = f.tree("src", &[("a.txt", b"one\n"), ("b.txt", b"two\n")]);
    for rel in ["a.txt", "b.txt"] {
        crate::backdate(&root.join(rel));
    }
    let p = f.link(&root, "p");
    let history = f.vault.root().join(format!("histories/{}.git", p.id));
    let first = f.vault.versions("p", None).unwrap()[0].id.clone();
    let packed = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&history)
        .args(["pack-refs", "--all", "--prune"])
        .output()
        .unwrap();
    assert!(
        packed.status.success(),
        "{}",
        String::from_utf8_lossy(&packed.stderr)
    );
    assert!(
        !history.join("refs/heads/main").exists(),
        "git packed the branch"
    );
    assert!(std::fs::read_to_string(history.join("packed-refs"))
        .unwrap()
        .contains(&first));

    let again = f.snapshot("p", "unchanged");
    assert!(again.version.is_none(), "nothing changed, so no version");
    assert_eq!(again.files_read, 0, "the files cache was still valid");

    write(&root, "a.txt", b"changed\n");
    let next = f.snapshot("p", "one change").version.unwrap();
    assert_eq!(next.parent.as_deref(), Some(first.as_str()));
    assert_eq!(
        std::fs::read_to_string(history.join("refs/heads/main")).unwrap(),
        format!("{}\n", next.id)
    );
    assert_eq!(f.vault.versions("p", None).unwrap().len(), 2);
}

/// The author given is the version's; one no author line can hold is refused whether or not
/// anything changed, and nothing is written; without one, the version still has an author.
#[test]
fn a_version_has_the_author_given_and_one_with_a_line_break_is_refused() {
    let f = Fixture::new();
    let root = f.tree("src", &[("a.txt", b"one\n")]);
    f.link(&root, "p");
    let take = |author: &str| {
        f.vault.snapshot(
            "p",
            &SnapshotOptions {
                author: Some(author.into()),
                ..Default::default()
            },
            &Job::default(),
        )
    };
    for author in ["Ann\nEve <a@b>", "Ann\0"] {
        let err = take(author).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{author:?}: {err}");
        assert!(err.to_string().contains("line breaks"), "{err}");
    }
    write(&root, "a.txt", b"two\n");
    assert_eq!(
        take("Ann\nEve").unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        f.vault.versions("p", None).unwrap().len(),
        1,
        "nothing was written"
    );

    let given = take("Ann Lee <ann@example.org>\n")
        .unwrap()
        .version
        .unwrap();
    assert_eq!(given.author, "Ann Lee <ann@example.org>");
    write(&root, "a.txt", b"three\n");
    let default = f.snapshot("p", "no author given").version.unwrap();
    assert!(
        default.author.contains('<') && default.author.len() > 3,
        "an author line from git's configuration or the account: {}",
        default.author
    );
}

/// The scan and the files cache are walked side by side in byte order of whole paths, which is
/// not the order of their components (`a-b/` and `a.txt` come before `a/`, `a0.txt` after it):
/// every file is still known unchanged, and one change is one change.
#[test]
fn names_that_sort_apart_by_component_are_still_known_unchanged() {
    let f = Fixture::new();
    let names = [
        "a/b.txt",
        "a/b/c/d.txt",
        "a-b/c.txt",
        "a.txt",
        "a0.txt",
        "A.txt",
        "a b/c.txt",
        "\u{e4}/x.txt",
        "a/.hidden",
        "z.txt",
    ];
    let files: Vec<(&str, Vec<u8>)> = names
        .iter()
        .map(|n| (*n, format!("{n}\n").into_bytes()))
        .collect();
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(a, b)| (*a, b.as_slice())).collect();
    let root = f.tree("src", &refs);
    for n in names {
        crate::backdate(&root.join(n));
    }
    f.link(&root, "p");
    let again = f.snapshot("p", "again");
    assert!(again.version.is_none(), "{again:?}");
    assert_eq!(again.files_read, 0, "{again:?}");
    assert_eq!(again.files, names.len() as u64);

    write(&root, "a0.txt", b"changed\n");
    let r = f.snapshot("p", "one change");
    assert_eq!(r.files_read, 1, "{r:?}");
    assert_eq!(
        (r.changes.added, r.changes.modified, r.changes.removed),
        (0, 1, 0)
    );

    // One of each, among them: counted once each, and the unchanged keep their last version.
    std::fs::remove_file(root.join("a-b/c.txt")).unwrap();
    write(&root, "a/0.txt", b"new\n");
    write(&root, "a.txt", b"changed too\n");
    let r = f.snapshot("p", "one of each");
    assert_eq!(
        (r.changes.added, r.changes.modified, r.changes.removed),
        (1, 1, 1),
        "{r:?}"
    );
    let first = f
        .vault
        .versions("p", None)
        .unwrap()
        .last()
        .unwrap()
        .id
        .clone();
    let newest = r.version.unwrap().id;
    let last_version = |path: &str| {
        let files = f.vault.list_files("p", None).unwrap();
        let e = files.into_iter().find(|e| e.path == path).unwrap();
        e.last_version.unwrap()
    };
    assert_eq!(last_version("z.txt"), first);
    assert_eq!(last_version("a/b/c/d.txt"), first);
    assert_eq!(last_version("a.txt"), newest);
    assert_eq!(last_version("a/0.txt"), newest);
}

#[test]
fn a_same_size_rewrite_within_the_same_second_is_still_seen() {
    let f = Fixture::new();
    let root = f.tree("src", &[("a.txt", b"aaaa")]);
    f.link(&root, "p");
    write(&root, "a.txt", b"bbbb");
    let r = f.snapshot("p", "rewrite");
    assert_eq!(r.changes.modified, 1);
    write(&root, "a.txt", b"cccc");
    let r = f.snapshot("p", "rewrite again");
    assert_eq!(r.changes.modified, 1);
    let mut out = Vec::new();
    f.vault.read_file("p", "a.txt", &mut out).unwrap();
    assert_eq!(out, b"cccc");
    let exported = f.dir.path().join("out");
    f.vault
        .export_version("p", None, &exported, &Job::default())
        .unwrap();
    assert_eq!(std::fs::read(exported.join("a.txt")).unwrap(), b"cccc");
}

#[test]
fn large_and_binary_files_go_to_the_chunk_store_and_dedup_across_projects() {
    let f = Fixture::new();
    let big = noise(3 << 20, 7);
    let mut small_bin = vec![0u8; 100 << 10];
    small_bin[10] = 1;
    let root = f.tree(
        "a",
        &[
            ("big.bin", &big),
            ("small.dat", &small_bin),
            ("code.rs", b"fn main() {}\n"),
        ],
    );
    f.link(&root, "a");
    let list = f.vault.list_files("a", None).unwrap();
    let layer = |p: &str| list.iter().find(|e| e.path == p).unwrap().layer;
    assert_eq!(layer("big.bin"), Some(Layer::Chunks));
    assert_eq!(
        layer("small.dat"),
        Some(Layer::Chunks),
        "binary above binary_min_size"
    );
    assert_eq!(layer("code.rs"), Some(Layer::Git));
    let chunks = |s: kura_core::Stats| {
        s.layers
            .iter()
            .find(|l| l.layer == "chunks")
            .unwrap()
            .on_disk_bytes
    };
    let before = chunks(f.vault.stats().unwrap());
    // The same big file in another project costs (almost) nothing more.
    let root_b = f.tree("b", &[("copy.bin", &big)]);
    f.link(&root_b, "b");
    let after = chunks(f.vault.stats().unwrap());
    assert!(
        after - before < 64 << 10,
        "dedup failed: {before} -> {after}"
    );
    let out = f.dir.path().join("out");
    f.vault
        .export_version("b", None, &out, &Job::default())
        .unwrap();
    assert_eq!(std::fs::read(out.join("copy.bin")).unwrap(), big);
}

#[test]
fn restoring_a_project_keeps_the_current_state_as_a_version_first() {
    let f = Fixture::new();
    let root = f.tree(
        "src",
        &[
            ("keep.txt", b"v1\n"),
            ("gone.txt", b"bye\n"),
            (".gitignore", b"build/\n"),
            ("build/out.o", b"obj"),
        ],
    );
    let p = f.link(&root, "p");
    let v1 = p.head.clone().unwrap();
    let v1_tree = read_tree(&root);
    write(&root, "keep.txt", b"v2\n");
    write(&root, "new.txt", b"hello\n");
    std::fs::remove_file(root.join("gone.txt")).unwrap();
    let r = f.vault.restore_project("p", &v1, &Job::default()).unwrap();
    let safety = r.safety_version.expect("the changed state was kept");
    assert_eq!(safety.trigger, Trigger::BeforeRestore);
    assert_eq!(
        read_tree(&root),
        v1_tree,
        "folder equals the restored version (ignored build/ untouched)"
    );
    // The state before the restore is still there.
    let out = f.dir.path().join("before");
    f.vault
        .export_version("p", Some(&safety.id), &out, &Job::default())
        .unwrap();
    assert_eq!(std::fs::read(out.join("new.txt")).unwrap(), b"hello\n");
    assert!(
        !out.join("build").exists(),
        "ignored files are not in versions"
    );
}

#[test]
fn a_restore_plan_names_the_files_the_restore_then_writes_and_removes() {
    let f = Fixture::new();
    let root = f.tree(
        "src",
        &[
            ("same.txt", b"same\n"),
            ("changed.txt", b"v1\n"),
            ("deleted-later.txt", b"here in v1\n"),
            ("edited-now.txt", b"v1\n"),
        ],
    );
    let v1 = f.link(&root, "p").head.unwrap();
    write(&root, "changed.txt", b"v2\n");
    write(&root, "added-later.txt", b"v2\n");
    std::fs::remove_file(root.join("deleted-later.txt")).unwrap();
    f.snapshot("p", "v2");
    // Not in any version yet: an edit, a new file, a deletion.
    write(&root, "edited-now.txt", b"unsaved\n");
    write(&root, "new-now.txt", b"unsaved\n");
    std::fs::remove_file(root.join("same.txt")).unwrap();

    let plan = f.vault.restore_plan("p", &v1).unwrap();
    assert_eq!(plan.version, v1);
    assert_eq!(
        plan.write,
        [
            "changed.txt",
            "deleted-later.txt",
            "edited-now.txt",
            "same.txt"
        ],
        "every file whose folder content differs from v1's"
    );
    assert_eq!(plan.remove, ["added-later.txt", "new-now.txt"]);
    assert_eq!(plan.unsaved, 3);
    let before = read_tree(&root);

    let r = f.vault.restore_project("p", &v1, &Job::default()).unwrap();
    assert_eq!(r.files_written, plan.write.len() as u64);
    assert_eq!(r.files_removed, plan.remove.len() as u64);
    assert_ne!(before, read_tree(&root));
    let again = f.vault.restore_plan("p", &v1).unwrap();
    assert!(
        again.write.is_empty() && again.remove.is_empty() && again.unsaved == 0,
        "after the restore the folder matches v1: {again:?}"
    );
}

#[test]
fn restoring_one_file_and_listing_its_versions() {
    let f = Fixture::new();
    let root = f.tree("src", &[("notes.md", b"first\n"), ("other.md", b"x\n")]);
    let p = f.link(&root, "p");
    let v1 = p.head.unwrap();
    write(&root, "notes.md", b"second\n");
    write(&root, "other.md", b"y\n");
    f.snapshot("p", "edit");
    f.vault
        .restore_file("p", &v1, "notes.md", &Job::default())
        .unwrap();
    assert_eq!(std::fs::read(root.join("notes.md")).unwrap(), b"first\n");
    assert_eq!(
        std::fs::read(root.join("other.md")).unwrap(),
        b"y\n",
        "other files untouched"
    );
    let versions = f.vault.file_versions("p", "notes.md").unwrap();
    assert_eq!(versions.len(), 3, "created, edited, restored");
    let err = f
        .vault
        .restore_file("p", &v1, "missing.md", &Job::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = f
        .vault
        .restore_file("p", &v1, "../escape", &Job::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PathEscape);
}

#[test]
fn diffs_list_changes_and_give_unified_text_diffs() {
    let f = Fixture::new();
    let root = f.tree(
        "src",
        &[
            ("a.txt", b"one\ntwo\nthree\n"),
            ("b.txt", b"b\n"),
            ("img.bin", &[0u8, 1, 2, 0]),
        ],
    );
    f.link(&root, "p");
    write(&root, "a.txt", b"one\n2\nthree\n");
    std::fs::remove_file(root.join("b.txt")).unwrap();
    write(&root, "c.txt", b"c\n");
    write(&root, "img.bin", &[0u8, 9, 9, 0]);
    f.snapshot("p", "edits");
    let d = f.vault.diff("p", "latest~1", None, None, true).unwrap();
    let kinds: Vec<(&str, Change)> = d
        .files
        .iter()
        .map(|x| (x.path.as_str(), x.change))
        .collect();
    assert_eq!(
        kinds,
        [
            ("a.txt", Change::Modified),
            ("b.txt", Change::Deleted),
            ("c.txt", Change::Added),
            ("img.bin", Change::Modified)
        ]
    );
    let patch = d.files[0].patch.as_deref().unwrap();
    assert!(patch.contains("-two\n+2\n"), "{patch}");
    assert!(d.files[3].binary && d.files[3].patch.is_none());
    let only = f
        .vault
        .diff("p", "latest~1", Some("latest"), Some("c.txt"), false)
        .unwrap();
    assert_eq!(only.files.len(), 1);
    assert_eq!(
        f.vault
            .diff("p", "zz", None, None, false)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        f.vault
            .diff("p", "latest~9", None, None, false)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn the_files_view_marks_new_modified_and_deleted_files() {
    let f = Fixture::new();
    let root = f.tree("src", &[("a.txt", b"a"), ("b.txt", b"b")]);
    f.link(&root, "p");
    write(&root, "a.txt", b"changed");
    write(&root, "n.txt", b"new");
    std::fs::remove_file(root.join("b.txt")).unwrap();
    let list = f.vault.list_files("p", None).unwrap();
    let state = |p: &str| list.iter().find(|e| e.path == p).unwrap().state;
    assert_eq!(state("a.txt"), FileState::Modified);
    assert_eq!(state("n.txt"), FileState::New);
    assert_eq!(state("b.txt"), FileState::Deleted);
}

#[test]
fn verify_names_damaged_files_and_gc_frees_unreferenced_chunks() {
    let f = Fixture::new();
    let big = noise(2 << 20, 3);
    let root = f.tree("a", &[("data/big.bin", &big), ("x.txt", b"x")]);
    f.link(&root, "a");
    let other = f.tree("b", &[("other.bin", &noise(2 << 20, 4))]);
    f.link(&other, "b");
    let report = f.vault.verify(None, &Job::default()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert!(report.chunks_checked > 0);

    // Deleting project b makes its chunks garbage.
    f.vault.delete_project("b").unwrap();
    let gc = f.vault.gc(&Job::default()).unwrap();
    assert!(gc.bytes_freed >= 1 << 20, "{gc:?}");
    assert!(f.vault.verify(None, &Job::default()).unwrap().is_ok());
    let out = f.dir.path().join("out");
    f.vault
        .export_version("a", None, &out, &Job::default())
        .unwrap();
    assert_eq!(
        std::fs::read(out.join("data/big.bin")).unwrap(),
        big,
        "gc kept live chunks"
    );

    // Flip a byte in the middle of the remaining chunk pack.
    let pack = walk_packs(&f.vault.root().join("chunks/packs"));
    assert_eq!(pack.len(), 1);
    let mut bytes = std::fs::read(&pack[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&pack[0], bytes).unwrap();
    let report = f.vault.verify(None, &Job::default()).unwrap();
    assert!(!report.is_ok());
    let p = report
        .problems
        .iter()
        .find(|p| p.area == "chunks" && p.project.as_deref() == Some("a"))
        .expect("names project a");
    assert_eq!(p.paths, ["data/big.bin"]);
    assert!(!p.versions.is_empty());
    // A fresh handle: this one's memory cache still holds the good chunks it exported above.
    let fresh = kura_core::Vault::open(f.vault.root()).unwrap();
    let err = fresh
        .export_version("a", None, &f.dir.path().join("out2"), &Job::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(
        !f.dir.path().join("out2").exists(),
        "a failed export leaves nothing behind"
    );
}

/// A garbage collection that starts while a verify reads the chunk store (the app's cleanup
/// beside a `kura verify`) waits for it: the verify never reports as damage the packs the
/// collection deletes under it.
#[test]
fn gc_waits_for_a_verify_reading_the_chunks_and_the_verify_finds_nothing_wrong() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Mutex};

    let f = Fixture::new();
    let root = f.tree("a", &[("big.bin", &noise(2 << 20, 5))]);
    f.link(&root, "a");
    let other = f.tree("b", &[("other.bin", &noise(2 << 20, 6))]);
    f.link(&other, "b");
    // Project b's chunks become garbage, in a pack of their own: gc deletes it.
    f.vault.delete_project("b").unwrap();

    let (reading_tx, reading_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = Mutex::new(go_rx);
    let paused = AtomicBool::new(false);
    let job = Job::with_progress(move |p| {
        if p.phase == "verifying chunks" && !paused.swap(true, Ordering::SeqCst) {
            reading_tx.send(()).unwrap();
            go_rx.lock().unwrap().recv().unwrap();
        }
    });
    let gc_done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let verify = s.spawn(|| f.vault.verify(None, &job));
        reading_rx.recv().unwrap();
        let gc = s.spawn(|| {
            let r = f.vault.gc(&Job::default());
            gc_done.store(true, Ordering::SeqCst);
            r
        });
        // Whatever the machine's speed, a gc that waits cannot have ended.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let gc_ran_meanwhile = gc_done.load(Ordering::SeqCst);
        go_tx.send(()).unwrap();
        let report = verify.join().unwrap().unwrap();
        assert!(
            !gc_ran_meanwhile,
            "gc ran while verify was reading the chunk packs"
        );
        assert!(report.is_ok(), "{:?}", report.problems);
        let gc = gc.join().unwrap().unwrap();
        assert!(gc.bytes_freed >= 1 << 20, "{gc:?}");
    });
    // What gc kept still reads: project a's file is in the chunks checked again.
    let again = f.vault.verify(Some("a"), &Job::default()).unwrap();
    assert!(again.is_ok() && again.chunks_checked > 0, "{again:?}");
}

fn walk_packs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk_packs(&p));
        } else if p.extension().is_some_and(|x| x == "pack") {
            out.push(p);
        }
    }
    out
}

#[test]
fn cancelling_a_snapshot_changes_nothing() {
    let f = Fixture::new();
    let root = f.tree("src", &[("a.txt", b"a")]);
    f.link(&root, "p");
    write(&root, "b.bin", &noise(3 << 20, 1));
    let job = Job::default();
    job.cancel();
    let err = f
        .vault
        .snapshot("p", &SnapshotOptions::default(), &job)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert_eq!(f.vault.versions("p", None).unwrap().len(), 1);
    assert!(f.vault.verify(None, &Job::default()).unwrap().is_ok());
    let r = f.snapshot("p", "now for real");
    assert_eq!(r.changes.added, 1);
}

#[test]
fn dropped_files_and_folders_are_copied_in_and_escapes_refused() {
    let f = Fixture::new();
    let root = f.tree("proj", &[("README.md", b"# p\n")]);
    f.link(&root, "p");
    let outside = f.tree(
        "drop",
        &[
            ("notes.txt", b"notes\n"),
            ("assets/logo.svg", b"<svg/>"),
            ("assets/deep/a.bin", &noise(10_000, 2)),
        ],
    );
    std::os::unix::fs::symlink("/etc/passwd", outside.join("assets/link")).unwrap();
    // A named pipe in a dropped folder is left out, as a version leaves it out (copying it
    // would wait for a writer forever); one dropped on its own is refused.
    mkfifo(&outside.join("assets/pipe"));
    mkfifo(&outside.join("pipe"));
    let err = f
        .vault
        .upload_files("p", &[outside.join("pipe")], "docs", &Job::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("a named pipe"), "{err}");
    let sources = [outside.join("notes.txt"), outside.join("assets")];
    let r = f
        .vault
        .upload_files("p", &sources, "docs", &Job::default())
        .unwrap();
    assert_eq!(r.files, 4);
    assert!(r.skipped.is_empty(), "{:?}", r.skipped);
    assert!(!root.join("docs/assets/pipe").exists());
    assert_eq!(
        std::fs::read(root.join("docs/notes.txt")).unwrap(),
        b"notes\n"
    );
    assert_eq!(
        std::fs::read(root.join("docs/assets/deep/a.bin")).unwrap(),
        noise(10_000, 2)
    );
    // Links are copied as links, never followed.
    assert_eq!(
        std::fs::read_link(root.join("docs/assets/link")).unwrap(),
        std::path::Path::new("/etc/passwd")
    );
    let err = f
        .vault
        .upload_files("p", &sources, "../elsewhere", &Job::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PathEscape);
    assert!(!f.dir.path().join("elsewhere").exists());
    // A project cannot be dropped into itself.
    let err = f
        .vault
        .upload_files("p", std::slice::from_ref(&root), "", &Job::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // A file that cannot be read (even by root: the kernel's write-only switch to drop its
    // caches) is left out and named, and the rest is copied.
    let unreadable = std::path::PathBuf::from("/proc/sys/vm/drop_caches");
    let r = f
        .vault
        .upload_files(
            "p",
            &[unreadable, outside.join("notes.txt")],
            "more",
            &Job::default(),
        )
        .unwrap();
    assert_eq!(r.files, 1);
    assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
    assert_eq!(r.skipped[0].path, "more/drop_caches");
    assert!(
        r.skipped[0].reason.contains("Permission denied")
            && r.skipped[0].reason.contains("not copied"),
        "{:?}",
        r.skipped
    );
    assert!(!root.join("more/drop_caches").exists());
    assert_eq!(
        std::fs::read(root.join("more/notes.txt")).unwrap(),
        b"notes\n"
    );
    // The link to /etc/passwd leads outside the project: the version skips it, and says so.
    let snap = f.snapshot("p", "dropped");
    assert_eq!(snap.changes.added, 4);
    assert_eq!(snap.skipped.len(), 1);
    assert_eq!(snap.skipped[0].path, "docs/assets/link");
}

#[test]
fn previews_show_text_and_images_and_refuse_escapes() {
    let f = Fixture::new();
    let png = [0x89u8, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0];
    let root = f.tree(
        "proj",
        &[
            ("src/main.rs", b"fn main() {}\n"),
            ("logo.png", &png),
            ("data.bin", &[0u8, 1, 2]),
        ],
    );
    f.link(&root, "p");
    let text = f.vault.preview_file("p", "src/main.rs").unwrap();
    assert_eq!(text.kind, kura_core::PreviewKind::Text);
    assert_eq!(text.text.as_deref(), Some("fn main() {}\n"));
    assert_eq!(text.language.as_deref(), Some("rust"));
    let img = f.vault.preview_file("p", "logo.png").unwrap();
    assert_eq!(img.kind, kura_core::PreviewKind::Image);
    assert_eq!(
        img.data_url.as_deref(),
        Some("data:image/png;base64,iVBORw0KGgoAAA==")
    );
    assert_eq!(
        f.vault.preview_file("p", "data.bin").unwrap().kind,
        kura_core::PreviewKind::Binary
    );
    assert_eq!(
        f.vault
            .preview_file("p", "../proj/src/main.rs")
            .unwrap_err()
            .kind(),
        ErrorKind::PathEscape
    );
    // A named pipe is refused at once, not waited on, by a preview and by a read.
    mkfifo(&root.join("pipe"));
    let err = f.vault.preview_file("p", "pipe").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("not a regular file"), "{err}");
    let err = f.vault.read_file("p", "pipe", &mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        f.vault.preview_file("p", "src").unwrap_err().to_string(),
        "'src' is a folder, not a file"
    );
}

fn mkfifo(path: &std::path::Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

#[test]
fn a_folder_whose_ignore_file_is_a_pipe_or_a_device_is_left_out_and_keeps_its_content() {
    let f = Fixture::new();
    let root = f.tree(
        "proj",
        &[
            ("a.txt", b"a\n"),
            ("sub/b.txt", b"b\n"),
            ("dev/c.txt", b"c\n"),
            ("ok/.gitignore", b"*.log\n"),
            ("ok/d.log", b"d\n"),
            ("ok/e.txt", b"e\n"),
        ],
    );
    f.link(&root, "p");
    f.snapshot("p", "first");
    // The walk reads a folder's ignore files before its entries: a pipe would hold it until a
    // writer came, a link to /dev/zero read it without end.
    mkfifo(&root.join("sub/.gitignore"));
    std::os::unix::fs::symlink("/dev/zero", root.join("dev/.kuraignore")).unwrap();
    std::fs::write(root.join("a.txt"), b"changed\n").unwrap();
    std::fs::write(root.join("sub/b.txt"), b"changed, unseen\n").unwrap();
    let snap = within_two_minutes(|| f.snapshot("p", "second"));
    let skipped: Vec<(&str, &str)> = snap
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0].0, "dev");
    assert!(
        skipped[0].1.contains(".kuraignore is a link to a device"),
        "{skipped:?}"
    );
    assert_eq!(skipped[1].0, "sub");
    assert!(
        skipped[1].1.contains(".gitignore is a named pipe"),
        "{skipped:?}"
    );
    // What was there keeps its content; the rest of the project is taken in as usual.
    let out = f.dir.path().join("out");
    f.vault
        .export_version("p", None, &out, &Job::default())
        .unwrap();
    let tree = read_tree(&out);
    let file = |p: &str| {
        tree.iter()
            .find(|(q, _)| q == p)
            .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
    };
    assert_eq!(file("a.txt").as_deref(), Some("changed\n"));
    assert_eq!(file("sub/b.txt").as_deref(), Some("b\n"));
    assert_eq!(file("dev/c.txt").as_deref(), Some("c\n"));
    assert_eq!(file("ok/e.txt").as_deref(), Some("e\n"));
    assert_eq!(file("ok/d.log"), None, "ok/.gitignore is honoured");

    // One at the top: the snapshot is refused, and says why.
    mkfifo(&root.join(".kuraignore"));
    let err = within_two_minutes(|| {
        f.vault
            .snapshot("p", &SnapshotOptions::default(), &Job::default())
            .unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains(".kuraignore is a named pipe"),
        "{err}"
    );
}

/// Runs `work`, ending the whole test run should it take two minutes (it waits for ever).
fn within_two_minutes<T>(work: impl FnOnce() -> T) -> T {
    let (done, watched) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if watched.recv_timeout(std::time::Duration::from_secs(120))
            == Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        {
            eprintln!("the snapshot waited for two minutes: it is held by the pipe");
            std::process::abort();
        }
    });
    let out = work();
    drop(done);
    out
}

#[test]
fn statistics_follow_every_snapshot_per_layer_and_file_type() {
    let f = Fixture::new();
    let big = crate::noise(3 << 20, 7);
    let root = f.tree(
        "app",
        &[
            ("src/main.rs", b"fn main() {}\n"),
            ("src/lib.rs", b"pub fn f() {}\n"),
            ("README.md", b"# app\n"),
            ("assets/big.bin", &big),
        ],
    );
    f.link(&root, "app");
    let types = |s: &kura_core::Stats| -> Vec<(String, u64, u64)> {
        let mut t: Vec<_> = s
            .file_types
            .iter()
            .map(|t| (t.file_type.clone(), t.files, t.bytes))
            .collect();
        t.sort();
        t
    };
    let layer = |s: &kura_core::Stats, name: &str| -> (u64, u64) {
        let l = s.layers.iter().find(|l| l.layer == name).unwrap();
        (l.files, l.logical_bytes)
    };
    let s = f.vault.stats().unwrap();
    assert_eq!(
        types(&s),
        vec![
            ("bin".into(), 1, 3 << 20),
            ("md".into(), 1, 6),
            ("rs".into(), 2, 27)
        ]
    );
    assert_eq!(layer(&s, "git"), (3, 33));
    assert_eq!(layer(&s, "chunks"), (1, 3 << 20));
    assert!(
        s.layers
            .iter()
            .find(|l| l.layer == "git")
            .unwrap()
            .on_disk_bytes
            > 0
    );
    // Remove the big file, add a text file: the numbers follow the next snapshot.
    std::fs::remove_file(root.join("assets/big.bin")).unwrap();
    crate::write(&root, "notes.txt", b"hello\n");
    f.snapshot("app", "shrink");
    let s = f.vault.stats().unwrap();
    assert_eq!(
        types(&s),
        vec![
            ("md".into(), 1, 6),
            ("rs".into(), 2, 27),
            ("txt".into(), 1, 6)
        ]
    );
    assert_eq!(layer(&s, "chunks"), (0, 0));
    // A project deleted for good leaves no numbers behind.
    f.vault.trash_project("app").unwrap();
    f.vault.delete_project("app").unwrap();
    let s = f.vault.stats().unwrap();
    assert!(types(&s).is_empty());
    assert_eq!(layer(&s, "git"), (0, 0));
}

/// A damaged file list in the catalog is named by `verify` and rebuilt from the history by the
/// next snapshot; nothing of the project is lost.
#[test]
fn a_damaged_file_list_is_reported_and_rebuilt_by_the_next_snapshot() {
    let f = Fixture::new();
    let root = f.tree(
        "app",
        &[
            ("src/main.rs", b"fn main() {}\n"),
            ("README.md", b"# app\n"),
        ],
    );
    let p = f.link(&root, "app");
    let db = rusqlite::Connection::open(f.vault.root().join("catalog.db")).unwrap();
    let changed = db
        .execute(
            "UPDATE file_lists SET data = x'28b52ffd0000' WHERE project_id = ?1",
            [&p.id],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let report = f.vault.verify(None, &Job::default()).unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!(report.problems[0].area, "catalog");
    assert_eq!(report.problems[0].project.as_deref(), Some("app"));
    assert!(report.problems[0].message.contains("file list"));
    let err = f.vault.list_files("app", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);

    // The next snapshot reads every file again, finds nothing changed, and writes a sound list.
    let again = f.snapshot("app", "after the damage");
    assert!(again.version.is_none());
    assert_eq!(again.files_read, 2);
    assert!(f.vault.verify(None, &Job::default()).unwrap().is_ok());
    let files = f.vault.list_files("app", None).unwrap();
    assert_eq!(files.len(), 2);
    assert!(files
        .iter()
        .all(|e| e.state == FileState::Unchanged && e.last_version.is_some()));
}
