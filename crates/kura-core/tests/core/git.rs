//! Git integration, checked with the real `git` program.

use std::process::Command;

use kura_core::ErrorKind;

use crate::{write, Fixture};

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
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
    f.vault
        .edit_project("p", None, None, Some(remote.to_str().unwrap()))
        .unwrap();
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
