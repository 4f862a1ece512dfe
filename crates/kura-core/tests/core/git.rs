//! Git integration, checked with the real `git` program.

use std::process::Command;

use kura_core::{ErrorKind, ProjectEdit};

use kura_test_support::git;

use crate::{write, Fixture};

/// The bare repository of a project's history.
pub(crate) fn history_dir(f: &Fixture, p: &kura_core::Project) -> std::path::PathBuf {
    f.vault
        .root()
        .join("histories")
        .join(format!("{}.git", p.id))
}

/// Bytes of the files under the history of `p` (what a project's stored size counts of it).
pub(crate) fn history_bytes(f: &Fixture, p: &kura_core::Project) -> u64 {
    bytes_under(&history_dir(f, p))
}

/// Bytes of the files under `dir`, at any depth.
pub(crate) fn bytes_under(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let md = e.metadata().unwrap();
            if md.is_dir() {
                bytes_under(&e.path())
            } else {
                md.len()
            }
        })
        .sum()
}

/// The pack files (`.pack`) of a history.
pub(crate) fn pack_files(bare: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(bare.join("objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pack"))
        .collect()
}

/// How many blobs of `packs` are stored as deltas, as `git verify-pack -v` lists them.
pub(crate) fn blob_deltas(bare: &std::path::Path, packs: &[std::path::PathBuf]) -> usize {
    packs
        .iter()
        .map(|pack| {
            let idx = pack.with_extension("idx");
            let listed = git(bare, &["verify-pack", "-v", idx.to_str().unwrap()]);
            // A delta's line names its depth and base after the type, sizes and offset.
            listed
                .lines()
                .filter(|l| l.contains(" blob ") && l.split_whitespace().count() == 7)
                .count()
        })
        .sum()
}

/// Bytes of `packs`.
pub(crate) fn bytes_of(packs: &[std::path::PathBuf]) -> u64 {
    packs
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum()
}

/// A linked project `p` with two versions of `a.txt` (two packs), and its history folder.
fn two_versions(f: &Fixture) -> std::path::PathBuf {
    let root = f.tree("src", &[("a.txt", b"one\n")]);
    let p = f.link(&root, "p");
    write(&root, "a.txt", b"two\n");
    f.snapshot("p", "two");
    history_dir(f, &p)
}

#[test]
fn the_history_is_a_git_repository_that_git_reads_and_fsck_accepts() {
    let f = Fixture::new();
    let root = f.tree(
        "src",
        &[
            ("README.md", b"# hi\n"),
            ("src/lib.rs", b"pub fn f() {}\n"),
            ("big.bin", &crate::noise(2 << 20, 9)),
        ],
    );
    let p = f.link(&root, "p");
    write(&root, "README.md", b"# hello\n");
    f.snapshot("p", "Second version");
    let bare = f
        .vault
        .root()
        .join("histories")
        .join(format!("{}.git", p.id));
    git(&bare, &["fsck", "--full", "--strict"]);
    let log = git(&bare, &["log", "--format=%s"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "Second version",
            &format!("Imported from {}", root.display())
        ]
    );
    let clone = f.dir.path().join("clone");
    let out = Command::new("git")
        .arg("clone")
        .arg(&bare)
        .arg(&clone)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(clone.join("README.md")).unwrap(),
        b"# hello\n"
    );
    assert_eq!(
        std::fs::read(clone.join("src/lib.rs")).unwrap(),
        b"pub fn f() {}\n"
    );
    // The large file is a pointer in git, the content lives in the chunk store.
    let pointer = std::fs::read_to_string(clone.join("big.bin")).unwrap();
    assert!(
        pointer.starts_with("kura-chunked-file v1\nsize 2097152\n"),
        "{pointer}"
    );
}

#[test]
fn histories_push_to_a_remote_and_never_overwrite_other_history() {
    let f = Fixture::new();
    let root = f.tree("src", &[("a.txt", b"a\n")]);
    f.link(&root, "p");
    let remote = f.dir.path().join("remote.git");
    git(
        f.dir.path(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    let err = f.vault.push_history("p", None, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "no remote set yet");
    let with_remote = ProjectEdit {
        git_remote: Some(remote.to_str().unwrap().into()),
        ..Default::default()
    };
    f.vault.change_project("p", &with_remote).unwrap();
    let r = f.vault.push_history("p", None, None).unwrap();
    assert_eq!(git(&remote, &["rev-parse", "main"]).trim(), r.version);
    write(&root, "a.txt", b"b\n");
    f.snapshot("p", "change");
    f.vault.push_history("p", None, None).unwrap();
    assert_eq!(git(&remote, &["rev-list", "--count", "main"]).trim(), "2");
    // Another project's history is unrelated: pushing it onto the same branch is refused.
    let other = f.tree("other", &[("x.txt", b"x\n")]);
    f.link(&other, "q");
    let err = f
        .vault
        .push_history("q", Some(remote.to_str().unwrap()), None)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    f.vault
        .push_history("q", Some(remote.to_str().unwrap()), Some("q-history"))
        .unwrap();
    assert_eq!(git(&remote, &["rev-list", "--count", "main"]).trim(), "2");
}

#[test]
fn the_project_folders_own_git_repository_is_shown_and_can_be_created() {
    let f = Fixture::new();
    let root = f.tree("src", &[("a.txt", b"a\n"), ("b.txt", b"b\n")]);
    f.link(&root, "p");
    assert_eq!(
        f.vault.folder_git_status("p").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    f.vault.init_folder_git("p").unwrap();
    assert_eq!(
        f.vault.init_folder_git("p").unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    git(&root, &["add", "a.txt"]);
    git(
        &root,
        &[
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@x",
            "commit",
            "-qm",
            "first commit",
        ],
    );
    write(&root, "a.txt", b"changed\n");
    let s = f.vault.folder_git_status("p").unwrap();
    assert_eq!(s.branch.as_deref(), Some("main"));
    let changes: Vec<(String, String)> = s
        .changes
        .iter()
        .map(|c| (c.status.clone(), c.path.clone()))
        .collect();
    assert_eq!(
        changes,
        [
            (" M".to_string(), "a.txt".to_string()),
            ("??".to_string(), "b.txt".to_string())
        ]
    );
    let log = f.vault.folder_git_log("p", 10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].summary, "first commit");
    // The folder's .git is never part of Kura's versions.
    f.snapshot("p", "after git init");
    let files = f.vault.list_files("p", None).unwrap();
    assert!(
        files.iter().all(|e| !e.path.starts_with(".git/")),
        "{files:?}"
    );
}

#[test]
fn gc_rewrites_a_history_of_many_versions_into_one_pack_with_deltas_that_git_reads() {
    let f = Fixture::new();
    // A text file of 200 KiB edited a little in each of 12 versions.
    let (mut text, root, p) = notes_project(&f);
    for v in 0..12 {
        text[v * 300] = format!("edited in version {v}\n");
        write(&root, "notes.txt", text.concat().as_bytes());
        f.snapshot("p", &format!("edit {v}"));
    }
    let bare = history_dir(&f, &p);
    let packs = pack_files;
    let size = bytes_of;
    let before = packs(&bare);
    assert!(before.len() > 1, "each snapshot wrote a pack");
    let versions_before = git(&bare, &["log", "--format=%H %s"]);
    let bytes_before = size(&before);

    let report = f.vault.gc(&kura_core::Job::default()).unwrap();
    assert_eq!(report.histories_repacked, 1);

    let after = packs(&bare);
    assert_eq!(after.len(), 1, "one pack: {after:?}");
    let bytes_after = size(&after);
    assert!(
        bytes_after * 4 < bytes_before,
        "deltas: {bytes_before} bytes of packs became {bytes_after}"
    );
    assert!(report.bytes_freed >= bytes_before - bytes_after);
    git(&bare, &["fsck", "--full", "--strict"]);
    let verify = git(
        &bare,
        &[
            "verify-pack",
            "-v",
            after[0].with_extension("idx").to_str().unwrap(),
        ],
    );
    assert!(verify.contains("chain length = 1"), "{verify}");
    // Deltas name their bases by distance back (OFS_DELTA, type 6), as git writes them, not by
    // a 20-byte id (REF_DELTA, 7: what libgit2 writes).
    let pack = std::fs::read(&after[0]).unwrap();
    let kinds: Vec<u8> = verify
        .lines()
        .filter(|l| l.len() > 40 && l.as_bytes()[..40].iter().all(u8::is_ascii_hexdigit))
        .filter_map(|l| l.split_whitespace().nth(4)?.parse::<usize>().ok())
        .map(|offset| (pack[offset] >> 4) & 7)
        .collect();
    assert!(kinds.contains(&6), "{kinds:?}");
    assert!(!kinds.contains(&7), "{kinds:?}");
    assert_eq!(git(&bare, &["log", "--format=%H %s"]), versions_before);
    // Every version reads back as it was: the oldest edit, through Kura.
    let out = f.dir.path().join("v1");
    f.vault
        .export_version("p", Some("latest~11"), &out, &kura_core::Job::default())
        .unwrap();
    let first = std::fs::read_to_string(out.join("notes.txt")).unwrap();
    assert!(first.contains("edited in version 0\n") && !first.contains("edited in version 1\n"));

    // Already one pack: a second gc leaves it alone, and a new version lands beside it.
    assert_eq!(
        f.vault
            .gc(&kura_core::Job::default())
            .unwrap()
            .histories_repacked,
        0
    );
    write(&root, "notes.txt", b"short now\n");
    f.snapshot("p", "after the repack");
    assert_eq!(packs(&bare).len(), 2);
    git(&bare, &["fsck", "--full", "--strict"]);
}

/// A linked project `p` of one text file, `notes.txt`: 4,000 lines (about 200 KiB). Returns the
/// lines, the project's folder and the project.
fn notes_project(f: &Fixture) -> (Vec<String>, std::path::PathBuf, kura_core::Project) {
    let text: Vec<String> = (0..4000)
        .map(|i| format!("line {i}: the quick brown fox jumps over the lazy dog\n"))
        .collect();
    let root = f.tree("src", &[("notes.txt", text.concat().as_bytes())]);
    let p = f.link(&root, "p");
    (text, root, p)
}

/// A repack after a few more versions rewrites only what came since the last whole one, into one
/// pack beside it (the whole one is not read or written again); once that grows past a quarter
/// of the whole one (in objects), the next repack rewrites everything into one pack. git reads
/// the history at every step and every version reads back.
#[test]
fn a_repack_after_a_few_versions_rewrites_only_what_came_since_the_last_one() {
    use std::os::unix::fs::MetadataExt;
    let f = Fixture::new();
    let (mut text, root, p) = notes_project(&f);
    let bare = history_dir(&f, &p);
    let repacked = || {
        f.vault
            .gc(&kura_core::Job::default())
            .unwrap()
            .histories_repacked
    };
    let mut edit = |v: usize| {
        text[v * 7] = format!("edited in version {v}\n");
        write(&root, "notes.txt", text.concat().as_bytes());
        f.snapshot("p", &format!("edit {v}"));
    };
    for v in 0..20 {
        edit(v);
    }
    assert_eq!(repacked(), 1);
    let whole = pack_files(&bare);
    assert_eq!(whole.len(), 1);
    let whole_inode = std::fs::metadata(&whole[0]).unwrap().ino();

    // Three more versions: a small share of the whole pack.
    for v in 20..23 {
        edit(v);
    }
    assert_eq!(pack_files(&bare).len(), 4);
    assert_eq!(repacked(), 1);
    let packs = pack_files(&bare);
    assert_eq!(
        packs.len(),
        2,
        "the whole pack and one of what came since: {packs:?}"
    );
    assert!(
        packs.contains(&whole[0]),
        "the whole pack was rewritten: {packs:?}"
    );
    assert_eq!(std::fs::metadata(&whole[0]).unwrap().ino(), whole_inode);
    let since = packs.iter().find(|p| **p != whole[0]).unwrap();
    let since_objects = git(
        &bare,
        &[
            "verify-pack",
            "-v",
            since.with_extension("idx").to_str().unwrap(),
        ],
    );
    // Three commits, their trees and blobs: nothing of the versions before.
    let count = since_objects
        .lines()
        .filter(|l| l.len() > 40 && l.as_bytes()[..40].iter().all(u8::is_ascii_hexdigit))
        .count();
    assert_eq!(count, 9, "{since_objects}");
    assert!(
        since_objects.contains("chain length = 1"),
        "deltas among them: {since_objects}"
    );
    git(&bare, &["fsck", "--full", "--strict"]);
    assert_eq!(repacked(), 0);
    let out = f.dir.path().join("v0");
    f.vault
        .export_version("p", Some("latest~22"), &out, &kura_core::Job::default())
        .unwrap();
    let first = std::fs::read_to_string(out.join("notes.txt")).unwrap();
    assert!(first.contains("edited in version 0\n") && !first.contains("edited in version 1\n"));

    // Many more: past a quarter of the whole pack, the next repack takes everything into one.
    let root2 = f.dir.path().join("src");
    for v in 23..40 {
        let unique: String = (0..300).map(|i| format!("{v}-{i}-{}\n", v * i)).collect();
        write(&root2, &format!("new-{v}.txt"), unique.as_bytes());
        f.snapshot("p", &format!("add {v}"));
    }
    assert_eq!(repacked(), 1);
    let packs = pack_files(&bare);
    assert_eq!(packs.len(), 1, "{packs:?}");
    assert!(!packs.contains(&whole[0]));
    git(&bare, &["fsck", "--full", "--strict"]);
    // The import's version, then 20 + 3 + 17.
    assert_eq!(git(&bare, &["rev-list", "--count", "HEAD"]).trim(), "41");
}

#[test]
fn a_history_of_one_snapshot_gets_deltas_once() {
    let f = Fixture::new();
    // Twenty pages alike but for a few words: git stores the first and deltas of the rest.
    let page: String = (0..400)
        .map(|i| format!("<p>paragraph {i} of a page that repeats itself</p>\n"))
        .collect();
    let pages: Vec<(String, Vec<u8>)> = (0..20)
        .map(|n| {
            (
                format!("page{n}.html"),
                format!("<h1>{n}</h1>\n{page}").into_bytes(),
            )
        })
        .collect();
    let (_, bare) = linked(&f, &pages);
    let size = || bytes_of(&pack_files(&bare));
    let whole = size();
    let report = f.vault.gc(&kura_core::Job::default()).unwrap();
    assert_eq!(report.histories_repacked, 1);
    // The snapshot stores a page as a delta when its reader read a like one just before; how
    // many it does depends on how many readers shared the pages. The repack leaves one whole.
    assert!(size() < whole, "{whole} bytes became {}", size());
    let packs = pack_files(&bare);
    assert_eq!(packs.len(), 1, "{packs:?}");
    let idx = packs[0].with_extension("idx");
    let listed = git(&bare, &["verify-pack", "-v", idx.to_str().unwrap()]);
    // oid, type, size, size in pack, offset, and for a delta: its depth and base.
    let blobs = |deltas: bool| {
        listed
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .filter(|w| w.get(1) == Some(&"blob") && (w.len() == 7) == deltas)
            .count()
    };
    assert_eq!((blobs(false), blobs(true)), (1, 19), "{listed}");
    git(&bare, &["fsck", "--full", "--strict"]);
    let again = f.vault.gc(&kura_core::Job::default()).unwrap();
    assert_eq!(again.histories_repacked, 0, "it has its deltas now");
}

#[test]
fn a_repack_during_a_backup_keeps_the_packs_the_backup_reads_until_the_next_repack() {
    let f = Fixture::new();
    // Two versions of a page alike but for one line: the new pack has a delta, so it is written
    // twice (libgit2's, then with offset deltas); only the second ever reaches the history.
    let page: String = (0..400).map(|i| format!("line {i} of a page\n")).collect();
    let root = f.tree("src", &[("page.txt", page.as_bytes())]);
    let p = f.link(&root, "p");
    write(
        &root,
        "page.txt",
        format!("{page}one more line\n").as_bytes(),
    );
    f.snapshot("p", "two");
    let bare = history_dir(&f, &p);
    let read_by_the_backup = pack_files(&bare);
    let backup = f.vault.hold_chunks().unwrap();
    let report = f
        .vault
        .repack_histories(&kura_core::Job::default())
        .unwrap();
    assert_eq!(report.histories_repacked, 1);
    let during = pack_files(&bare);
    assert_eq!(during.len(), read_by_the_backup.len() + 1, "{during:?}");
    assert!(read_by_the_backup.iter().all(|p| during.contains(p)));
    git(&bare, &["fsck", "--full", "--strict"]);
    let staged = std::fs::read_dir(f.vault.root().join("histories"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".kura-tmp")
        })
        .count();
    assert_eq!(staged, 0, "the staging folder is gone");
    drop(backup);
    let report = f
        .vault
        .repack_histories(&kura_core::Job::default())
        .unwrap();
    assert_eq!(report.histories_repacked, 1);
    assert_eq!(pack_files(&bare).len(), 1);
    git(&bare, &["fsck", "--full", "--strict"]);
    assert_eq!(f.vault.versions("p", None).unwrap().len(), 2);
}

#[test]
fn a_cancelled_repack_leaves_the_history_as_it_was() {
    let f = Fixture::new();
    let bare = two_versions(&f);
    let listing = || {
        let mut v: Vec<_> = std::fs::read_dir(bare.join("objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let before = listing();
    // Cancelled while libgit2 builds the pack (its progress is the signal).
    let slot: std::sync::Arc<std::sync::OnceLock<kura_core::Job>> = Default::default();
    let seen = slot.clone();
    let job = kura_core::Job::with_progress(move |p| {
        if p.phase == "reading history" || p.phase == "finding deltas" {
            if let Some(job) = seen.get() {
                job.cancel();
            }
        }
    });
    slot.set(job.clone()).unwrap();
    let err = f.vault.repack_histories(&job).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert_eq!(listing(), before);
    git(&bare, &["fsck", "--full", "--strict"]);

    // A repack killed while libgit2 wrote left its temporary pack: the next one removes it.
    let leftover = bare.join("objects/pack/pack_git2_0123456789abcdef");
    std::fs::write(&leftover, b"half a pack").unwrap();
    let report = f
        .vault
        .repack_histories(&kura_core::Job::default())
        .unwrap();
    assert_eq!(report.histories_repacked, 1);
    assert!(!leftover.exists());
    assert_eq!(
        listing().len(),
        2,
        "one pack and its index: {:?}",
        listing()
    );
    git(&bare, &["fsck", "--full", "--strict"]);
}

#[test]
fn cleanup_says_which_histories_it_would_rewrite_and_then_rewrites_them() {
    use kura_core::{CleanupCategory, CleanupOptions};
    let f = Fixture::new();
    let bare = two_versions(&f);
    let only = |dry_run| CleanupOptions {
        dry_run,
        only: vec![CleanupCategory::Chunks],
    };
    let items = |r: &kura_core::CleanupReport| -> Vec<String> {
        r.categories
            .iter()
            .flat_map(|c| c.items.iter().map(|i| i.description.clone()))
            .collect()
    };
    let job = kura_core::Job::default();
    let preview = f.vault.cleanup(&only(true), &job).unwrap();
    assert_eq!(items(&preview), ["1 project history rewritten with deltas"]);
    let count = || pack_files(&bare).len();
    assert_eq!(count(), 2, "the dry run changed nothing");
    let done = f.vault.cleanup(&only(false), &job).unwrap();
    assert_eq!(items(&done), ["1 project history rewritten with deltas"]);
    assert_eq!(count(), 1);
    assert!(items(&f.vault.cleanup(&only(true), &job).unwrap()).is_empty());
}

/// After [`kura_core::PACKS_BEFORE_REPACK`] versions the history is due a repack, and one of
/// fewer is not; the first repack takes everything, the next only what came since, beside it.
#[test]
fn a_history_of_many_versions_is_rewritten_after_a_version_and_one_of_few_is_left_alone() {
    let f = Fixture::new();
    // Files that do not change, so that what each version adds is a small share of the whole.
    let others: Vec<(String, Vec<u8>)> = (0..120)
        .map(|i| (format!("lib/{i}.txt"), format!("file {i}\n").into_bytes()))
        .collect();
    let mut files: Vec<(&str, &[u8])> = others
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    files.push(("a.txt", b"0\n"));
    let root = f.tree("src", &files);
    let p = f.link(&root, "p");
    let bare = history_dir(&f, &p);
    let packs = || pack_files(&bare).len();
    let job = kura_core::Job::default();
    let mut versions = 1;
    let mut version = |f: &Fixture| {
        versions += 1;
        // Many lines alike, so that a repack finds deltas between the versions.
        let text: String = (0..400)
            .map(|l| format!("line {l} of version {versions}\n"))
            .collect();
        write(&root, "a.txt", text.as_bytes());
        f.snapshot("p", &versions.to_string());
    };
    while packs() < kura_core::PACKS_BEFORE_REPACK - 1 {
        version(&f);
    }
    assert!(!f.vault.repack_due(&p.id).unwrap());
    assert!(!f.vault.repack_if_due("p", &job).unwrap());
    assert_eq!(packs(), kura_core::PACKS_BEFORE_REPACK - 1);
    version(&f);
    assert!(f.vault.repack_due(&p.id).unwrap());
    assert!(f.vault.repack_if_due("p", &job).unwrap());
    assert_eq!(packs(), 1);
    assert!(!f.vault.repack_due(&p.id).unwrap());
    git(&bare, &["fsck", "--full", "--strict"]);

    // The next versions: due again after as many, and then only they are rewritten (into one
    // pack beside the whole one), while they are a small share of it.
    for _ in 0..kura_core::PACKS_BEFORE_REPACK * 4 {
        version(&f);
        if f.vault.repack_due(&p.id).unwrap() {
            break;
        }
    }
    assert_eq!(packs(), 1 + kura_core::PACKS_BEFORE_REPACK);
    let whole = std::fs::read_to_string(bare.join("kura-repacked")).unwrap();
    assert!(f.vault.repack_if_due("p", &job).unwrap());
    assert_eq!(packs(), 2);
    let marked = std::fs::read_to_string(bare.join("kura-repacked")).unwrap();
    assert!(marked.starts_with(&whole), "the whole pack stays: {marked}");
    git(&bare, &["fsck", "--full", "--strict"]);
    assert_eq!(f.vault.versions("p", None).unwrap().len(), versions);
}

/// A version that rewrites many files at once (an upgrade of a project's dependencies) makes
/// the history due a repack by itself, which stores them as deltas against their earlier
/// versions; one of fewer files than [`kura_core::OBJECTS_BEFORE_REPACK`] and fewer bytes than
/// [`kura_core::BYTES_BEFORE_REPACK`] does not, though it is half of the history.
#[test]
fn a_version_that_rewrites_many_files_at_once_is_repacked_after_it_and_one_of_few_is_not() {
    let f = Fixture::new();
    let n = kura_core::OBJECTS_BEFORE_REPACK as usize + 300;
    // Files of lines of their own, each version of a file like the one before, as a package's
    // sources are.
    let text = |i: usize, version: &str| -> Vec<u8> {
        let lines: String = (0..40u64)
            .map(|l| {
                let h = (i as u64 * 40 + l).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                format!("export const v{l} = 0x{h:016x};\n")
            })
            .collect();
        format!("// version {version}\n{lines}").into_bytes()
    };
    // Names that differ in their last letters, as modules' names do: libgit2 puts objects of
    // one name side by side by a hash of the name's last 16 letters (numbered names collide).
    let files: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| {
            let name = (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16;
            (format!("pkg{}/{name:012x}.js", i % 50), text(i, "1.0.0"))
        })
        .collect();
    let (root, bare) = linked(&f, &files);
    let p = f.vault.project("p").unwrap();
    let job = kura_core::Job::default();
    assert!(!f.vault.repack_due(&p.id).unwrap(), "one version, one pack");

    // Few files, most of the bytes of the first version's pack again (numbers that deflate
    // shrinks little and no delta makes smaller), below the bytes that make a version due by
    // themselves.
    let first_pack = history_bytes(&f, &p);
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for i in 0..4 {
        let numbers: String = (0..first_pack / 48)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                format!("{state:016x}\n")
            })
            .collect();
        write(&root, &format!("data/{i}.txt"), numbers.as_bytes());
    }
    f.snapshot("p", "large files");
    assert_eq!(pack_files(&bare).len(), 2);
    let added = history_bytes(&f, &p) - first_pack;
    assert!(
        added > first_pack / 2 && added < kura_core::BYTES_BEFORE_REPACK,
        "{added} bytes added to {first_pack}"
    );
    assert!(!f.vault.repack_due(&p.id).unwrap());

    // Every file rewritten: due, and the repack stores the new version in a fraction.
    for (i, (path, _)) in files.iter().enumerate() {
        write(&root, path, &text(i, "2.0.0"));
    }
    let before_upgrade = history_bytes(&f, &p);
    f.snapshot("p", "upgrade");
    assert_eq!(pack_files(&bare).len(), 3);
    assert!(f.vault.repack_due(&p.id).unwrap());
    let upgrade = history_bytes(&f, &p) - before_upgrade;
    assert!(f.vault.repack_if_due("p", &job).unwrap());
    assert_eq!(pack_files(&bare).len(), 1);
    let repacked = history_bytes(&f, &p).saturating_sub(before_upgrade);
    assert!(
        repacked * 4 < upgrade,
        "the upgrade took {upgrade} bytes, {repacked} once repacked"
    );
    git(&bare, &["fsck", "--full", "--strict"]);
    assert!(!f.vault.repack_due(&p.id).unwrap());

    // A small version after it is left to the next repack.
    write(&root, &files[0].0, &text(0, "2.0.1"));
    f.snapshot("p", "patch");
    assert!(!f.vault.repack_due(&p.id).unwrap());
    assert_eq!(f.vault.versions("p", None).unwrap().len(), 4);
}

/// `files` as the folder `src`, linked as the project `p`: the folder and the history.
fn linked(f: &Fixture, files: &[(String, Vec<u8>)]) -> (std::path::PathBuf, std::path::PathBuf) {
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    let root = f.tree("src", &refs);
    let p = f.link(&root, "p");
    let bare = history_dir(f, &p);
    (root, bare)
}

/// A page of a generated site: the same head and footer on every page, a line of its own.
fn page(i: usize, note: &str) -> Vec<u8> {
    let mut page = b"<!DOCTYPE html><html><head><link rel=stylesheet href=../style.css>".repeat(40);
    page.extend_from_slice(format!("<main>page {i}{note}</main>").as_bytes());
    page.extend_from_slice(&b"<footer>every page has this footer</footer>\n".repeat(60));
    page
}

/// Pages alike side by side are stored as deltas against one another, which git reads back; in
/// a later version, pages like a page the history holds already (so not in the new pack, and no
/// base for a delta there) are stored too.
#[test]
fn files_alike_are_stored_as_deltas_git_reads_back() {
    let f = Fixture::new();
    let pages: Vec<(String, Vec<u8>)> = (0..600)
        .map(|i| (format!("site/page{i:03}.html"), page(i, "")))
        .collect();
    let (root, bare) = linked(&f, &pages);
    let packs = pack_files(&bare);
    let deltas = blob_deltas(&bare, &packs);
    // Runs of 16 files at least: all but the first of each is a delta.
    assert!(deltas >= 560, "{deltas} deltas of 600 pages");
    let whole: u64 = pages.iter().map(|(_, d)| d.len() as u64).sum();
    assert!(
        bytes_of(&packs) * 20 < whole,
        "{} of {whole}",
        bytes_of(&packs)
    );

    // Version 2: page 50 takes page 7's content (a blob of version 1), and the 99 pages after
    // it change: the first of them is like page 50, whose blob is not in the new pack.
    write(&root, "site/page050.html", &page(7, ""));
    for i in 51..150 {
        write(
            &root,
            &format!("site/page{i:03}.html"),
            &page(i, " (edited)"),
        );
    }
    let r = f.snapshot("p", "edits");
    assert_eq!(r.changes.modified, 100);
    git(&bare, &["fsck", "--full", "--strict"]);
    let out = f.dir.path().join("out");
    f.vault
        .export_version("p", None, &out, &kura_core::Job::default())
        .unwrap();
    assert_eq!(crate::read_tree(&out), crate::read_tree(&root));
    for (v, version) in f.vault.versions("p", None).unwrap().iter().enumerate() {
        let show = format!("{}:site/page055.html", version.id);
        let want = if v == 0 {
            page(55, " (edited)")
        } else {
            page(55, "")
        };
        assert_eq!(git(&bare, &["show", &show]).into_bytes(), want, "{show}");
    }
}

/// `len` bytes of text of its own for `seed`: unlike any other seed's.
fn text_of(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|i| {
            if i % 64 == 63 {
                return b'\n';
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b'a' + (x % 26) as u8
        })
        .collect()
}

/// A file like one of the same name far from it in the folder (a page re-exported from another
/// module, a package at two versions) is stored as a delta against that namesake, one delta
/// deep; git reads every file back.
#[test]
fn a_file_like_its_namesake_elsewhere_is_stored_as_a_delta_against_it() {
    let f = Fixture::new();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..40u64 {
        let page = text_of(i, 12_000);
        let mut again = page.clone();
        again.splice(
            100..100,
            format!("re-exported as std::page{i}\n").into_bytes(),
        );
        files.push((format!("docs/core/page{i:02}.html"), page));
        // Unlike files between them, so that no reader holds a page when its namesake comes.
        files.push((format!("docs/m/filler{i:02}.txt"), text_of(1000 + i, 9_000)));
        // In the reverse order of their namesakes: readers start on runs from all over the
        // list at once and move through them at about the same pace, so pages in the same
        // order would come at the same moment as their namesakes and neither would be stored yet.
        files.push((format!("docs/std/{:02}/page{i:02}.html", 39 - i), again));
    }
    let (root, bare) = linked(&f, &files);
    git(&bare, &["fsck", "--full", "--strict"]);
    let packs = pack_files(&bare);
    assert_eq!(packs.len(), 1);
    let version = &f.vault.versions("p", None).unwrap()[0].id;
    let oid = |rel: &str| {
        git(&bare, &["rev-parse", &format!("{version}:{rel}")])
            .trim()
            .to_string()
    };
    let idx = packs[0].with_extension("idx");
    let listed = git(&bare, &["verify-pack", "-v", idx.to_str().unwrap()]);
    // oid, type, size, size in pack, offset, and for a delta: its depth and base.
    let delta_of = |blob: &str| {
        listed
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|w| w.len() == 7 && w[0] == blob)
            .map(|w| (w[5].to_string(), w[6].to_string()))
    };
    // Either page of a pair may come first and be the base; two read at the same moment do not
    // see each other (35 to 39 pairs of 40 are found here, also with the other tests running;
    // none without namesakes).
    let mut paired = 0;
    for i in 0..40 {
        let std_page = oid(&format!("docs/std/{:02}/page{i:02}.html", 39 - i));
        let core_page = oid(&format!("docs/core/page{i:02}.html"));
        match (delta_of(&std_page), delta_of(&core_page)) {
            (Some((depth, base)), None) if depth == "1" && base == core_page => paired += 1,
            (None, Some((depth, base))) if depth == "1" && base == std_page => paired += 1,
            (None, None) => {}
            other => panic!("page{i:02}: {other:?}"),
        }
    }
    assert!(
        paired >= 25,
        "{paired} of 40 pages stored against their namesake"
    );
    assert!(
        !listed.contains("chain length = 2"),
        "one delta deep: {listed}"
    );
    let out = f.dir.path().join("out");
    f.vault
        .export_version("p", None, &out, &kura_core::Job::default())
        .unwrap();
    assert_eq!(crate::read_tree(&out), crate::read_tree(&root));
}
