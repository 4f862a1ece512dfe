//! One rule for names at every door: what a snapshot takes in, export, restore, archive and
//! unarchive give back; what they would refuse, a snapshot skips and reports; archives, crafted
//! histories and path arguments that break the rule are refused with Kura's own errors.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::disk::{self, Tree};
use crate::sandbox::{s, Sandbox};

/// Runs `git -C dir <args>` with `input` on standard input; returns its trimmed output.
fn git_in(dir: &Path, args: &[&str], input: &str) -> String {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run git");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Commits, on top of `main` of the bare repository `repo`, a version that also holds the file
/// `../escaped.txt` (a folder named `..`), as a crafted or damaged history would; returns its id.
fn commit_escape(repo: &Path) -> String {
    let blob = git_in(repo, &["hash-object", "-w", "--stdin"], "escaped\n");
    let inner = git_in(
        repo,
        &["mktree"],
        &format!("100644 blob {blob}\tescaped.txt\n"),
    );
    commit_on_main(repo, &format!("040000 tree {inner}\t..\n"))
}

/// Commits, on top of `main` of `repo`, the latest version plus the `git mktree` line `extra`.
fn commit_on_main(repo: &Path, extra: &str) -> String {
    let head = git_in(repo, &["rev-parse", "refs/heads/main"], "");
    let mut listing = git_in(repo, &["ls-tree", &head], "");
    if !listing.is_empty() {
        listing.push('\n');
    }
    let root = git_in(repo, &["mktree"], &format!("{listing}{extra}"));
    let commit = git_in(
        repo,
        &["commit-tree", &root, "-p", &head, "-m", "crafted"],
        "",
    );
    git_in(repo, &["update-ref", "refs/heads/main", &commit], "");
    commit
}

fn project_id(sb: &Sandbox, name: &str) -> String {
    sb.ok(&["project", "show", name])["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The entries of a folder of the vault (none when it does not exist).
fn entries(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// What an import or restore must leave as it was: the projects, their folders, their histories.
fn vault_state(sb: &Sandbox) -> (Value, Vec<String>, Vec<String>) {
    (
        sb.ok(&["project", "list", "--all"]),
        entries(&sb.vault().join("projects")),
        entries(&sb.vault().join("histories")),
    )
}

#[test]
fn snapshot_skips_names_export_and_restore_could_not_give_back() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "p"]);
    let folder = sb.vault().join("projects/p");
    disk::write(&folder.join("good.txt"), "good\n");
    // Plain names on Linux, reserved or odd on Windows: they round-trip.
    for name in ["CON", "aux.txt", "trailing."] {
        disk::write(&folder.join(name), format!("{name}\n"));
    }
    let kept = Tree::read(&folder);
    for name in ["a\\b.txt", "tab\there", "new\nline"] {
        disk::write(&folder.join(name), "refused\n");
    }
    disk::write(&folder.join("bad\u{1}dir/one.txt"), "1\n");
    disk::write(&folder.join("bad\u{1}dir/two.txt"), "2\n");

    let run = sb.json_run(&["snapshot", "p"]);
    assert_eq!(run.code, Some(11), "{}\n{}", run.text(), run.stderr);
    let report = run.json();
    let skipped: Vec<(String, String)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let paths: Vec<&str> = skipped.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["a\\b.txt", "bad\u{1}dir", "new\nline", "tab\there"],
        "{report}"
    );
    assert!(skipped[0].1.contains("backslash"), "{skipped:?}");
    for (_, why) in &skipped[1..] {
        assert!(why.contains("control character"), "{skipped:?}");
    }

    // The version holds what the rule allows, and gives it back.
    let out = sb.export("p", "latest", "out");
    kept.assert_same(&Tree::read(&out), "export of the version");
    disk::write(&folder.join("good.txt"), "changed\n");
    std::fs::remove_file(folder.join("CON")).unwrap();
    let version = sb.version_ids("p")[0].clone();
    sb.ok(&["restore", "p", &version]);
    for name in ["good.txt", "CON", "aux.txt", "trailing."] {
        assert_eq!(
            std::fs::read(folder.join(name)).unwrap(),
            std::fs::read(out.join(name)).unwrap(),
            "{name} after restore"
        );
    }

    // Archive and unarchive bring the reserved names back too.
    for name in ["a\\b.txt", "tab\there", "new\nline"] {
        std::fs::remove_file(folder.join(name)).unwrap();
    }
    std::fs::remove_dir_all(folder.join("bad\u{1}dir")).unwrap();
    let before = Tree::read(&folder);
    sb.ok(&["archive", "p"]);
    let back = sb.ok(&["unarchive", "p"]);
    let path = PathBuf::from(back["path"].as_str().unwrap());
    before.assert_same(&Tree::read(&path), "unarchived folder");
}

/// Writes an archive holding `ok.txt` and an entry named `bad`, with Python's tarfile/zipfile.
fn archive_with(path: &Path, bad: &str) {
    let script = r#"
import io, sys, tarfile, zipfile
path, bad = sys.argv[1], sys.argv[2]
if path.endswith(".zip"):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ok.txt", b"fine\n")
        z.writestr(bad, b"bad\n")
else:
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as t:
        for name, data in (("ok.txt", b"fine\n"), (bad, b"bad\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(bad)
        .output()
        .expect("cannot run python3");
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn archive_entries_that_break_the_name_rule_are_refused_and_leave_nothing() {
    let sb = Sandbox::new();
    let long = "a".repeat(300);
    let cases = [
        ("win.tar.gz", "..\\..\\evil", 5, "path_escape"),
        ("win.zip", "..\\..\\evil", 5, "path_escape"),
        ("tab.tar.gz", "tab\tname", 2, "invalid_input"),
        ("long.tar.gz", long.as_str(), 2, "invalid_input"),
    ];
    let before = vault_state(&sb);
    for (file, bad, code, kind) in cases {
        let archive = sb.path(file);
        archive_with(&archive, bad);
        let dest = sb.path(&format!("x-{file}"));
        let err = sb.fails(&["extract", s(&archive), s(&dest)], code);
        assert_eq!(err["code"], kind, "extract {file}: {err}");
        assert!(
            entries(&dest).is_empty(),
            "extract of {file} left {:?}",
            entries(&dest)
        );
        let err = sb.fails(&["import", s(&archive)], code);
        assert_eq!(err["code"], kind, "import {file}: {err}");
        assert_eq!(vault_state(&sb), before, "import of {file} left something");
    }
    assert!(!sb.path("evil").exists());
}

#[test]
fn a_kura_archive_whose_history_holds_an_escape_is_refused() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    disk::write(&src.join("README.md"), "# site\n");
    sb.ok(&["project", "import", s(&src), "--name", "site"]);
    let archive = sb.ok(&["archive", "site"])["path"]
        .as_str()
        .unwrap()
        .to_string();
    // Unpack it with tar, put a crafted version into its history bundle, pack it again.
    let work = sb.path("work");
    std::fs::create_dir(&work).unwrap();
    let tar = |args: &[&str]| {
        let out = Command::new("tar").args(args).output().unwrap();
        assert!(out.status.success(), "tar {args:?}: {out:?}");
    };
    tar(&["--zstd", "-xf", &archive, "-C", s(&work)]);
    let bundle = work.join("site/history.bundle");
    let repo = crate::sandbox::git_clone_archive(&work.join("site"), &sb.path("repo"));
    let crafted = commit_escape(&repo);
    std::fs::remove_file(&bundle).unwrap();
    git_in(
        &repo,
        &["bundle", "create", s(&bundle), "refs/heads/main"],
        "",
    );
    let forged = sb.path("forged.tar.zst");
    tar(&["--zstd", "-cf", s(&forged), "-C", s(&work), "site"]);

    let before = vault_state(&sb);
    let err = sb.fails(&["import", s(&forged), "--name", "copy"], 5);
    assert_eq!(err["code"], "path_escape");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("../escaped.txt") && message.contains(&crafted[..10]),
        "{message}"
    );
    assert_eq!(vault_state(&sb), before);
}

#[test]
fn verify_names_a_version_that_could_not_be_restored() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "p"]);
    disk::write(&sb.vault().join("projects/p/a.txt"), "a\n");
    sb.ok(&["snapshot", "p"]);
    assert!(sb.ok(&["verify"])["problems"]
        .as_array()
        .unwrap()
        .is_empty());
    let repo = sb
        .vault()
        .join(format!("histories/{}.git", project_id(&sb, "p")));
    let crafted = commit_escape(&repo);

    let run = sb.json_run(&["verify"]);
    assert_eq!(run.code, Some(8), "{}\n{}", run.text(), run.stderr);
    let problems = run.json()["problems"].clone();
    let named = problems.as_array().unwrap().iter().any(|p| {
        p["project"] == "p"
            && p["versions"][0] == crafted[..10]
            && p["paths"][0] == "../escaped.txt"
    });
    assert!(named, "{problems}");
    // What verify names is indeed refused.
    let dest = sb.path("out");
    let err = sb.fails(
        &["project", "export", "p", s(&dest), "--version", &crafted],
        5,
    );
    assert!(
        err["message"].as_str().unwrap().contains("../escaped.txt"),
        "{err}"
    );
    assert!(!sb.path("escaped.txt").exists());
}

#[test]
fn a_backup_of_a_history_holding_an_escape_is_not_restored() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "p"]);
    let repo = sb
        .vault()
        .join(format!("histories/{}.git", project_id(&sb, "p")));
    commit_escape(&repo);
    let drive = sb.path("drive");
    std::fs::create_dir(&drive).unwrap();
    sb.ok(&["backup", "target", "add", "usb", "--folder", s(&drive)]);
    sb.ok(&["backup", "run", "usb"]);
    let dest = sb.path("restored");
    let err = sb.fails(&["backup", "restore", "usb", "--to", s(&dest)], 5);
    assert!(
        err["message"].as_str().unwrap().contains("../escaped.txt"),
        "{err}"
    );
    assert!(!dest.exists());
    assert_eq!(
        entries(&sb.root())
            .iter()
            .filter(|e| e.starts_with(".kura-restore"))
            .count(),
        0
    );
}

#[test]
fn path_arguments_that_leave_the_project_are_path_escape() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "p"]);
    disk::write(&sb.vault().join("projects/p/good.txt"), "good\n");
    sb.ok(&["snapshot", "p"]);
    let calls: [&[&str]; 11] = [
        &["history", "p", "--file", "../../x"],
        &["diff", "p", "latest~1", "--file", "../x"],
        &["restore", "p", "latest~1", "--file", "../x"],
        &["files", "p", "../x"],
        &["file", "read", "p", "../x"],
        &["file", "read", "p", "/etc/passwd"],
        &["file", "save", "p", "../x", "--from", "/dev/null"],
        &["file", "save", "p", "a\\b.txt", "--from", "/dev/null"],
        &["file", "rename", "p", "good.txt", "../x"],
        &["file", "rename", "p", "../x", "y"],
        &["file", "delete", "p", "../x"],
    ];
    for args in calls {
        let err = sb.fails(args, 5);
        assert_eq!(err["code"], "path_escape", "{args:?}: {err}");
        let message = err["message"].as_str().unwrap();
        assert!(
            message.starts_with("the path '") && !message.contains("history error"),
            "{args:?}: {message}"
        );
    }
    assert!(!sb.path("x").exists() && !sb.vault().join("projects/x").exists());
}

#[test]
fn names_too_long_for_a_folder_are_invalid_input_naming_the_limit() {
    let sb = Sandbox::new();
    let long = "a".repeat(300);
    let wide = "\u{1F600}".repeat(100); // 100 characters, 400 bytes
    for args in [
        ["project", "create", long.as_str()],
        ["project", "create", wide.as_str()],
        ["workspace", "create", long.as_str()],
    ] {
        let err = sb.fails(&args, 2);
        assert_eq!(err["code"], "invalid_input", "{args:?}");
        let message = err["message"].as_str().unwrap();
        assert!(
            message.contains("120 characters") && message.contains("200 bytes"),
            "{message}"
        );
    }
    assert!(entries(&sb.vault().join("projects")).is_empty());
}

#[test]
fn archive_refuses_up_front_what_unarchive_could_not_bring_back() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    disk::write(&src.join("main.rs"), "fn main() {}\n");
    disk::write(&src.join(".gitignore"), "build/\n");
    sb.ok(&["project", "import", s(&src), "--name", "tool"]);
    let folder = sb.vault().join("projects/tool");
    let out = crate::sandbox::git(&["init", "-q", s(&folder)]);
    assert!(out.status.success(), "{out:?}");
    // Ignored, so no version holds it; but an archive carries the whole folder.
    disk::write(&folder.join("build/..\\..\\evil"), "x\n");
    let before = Tree::read(&folder);
    let err = sb.fails(&["archive", "tool"], 5);
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("build/..\\..\\evil") && message.contains("backslash"),
        "{message}"
    );
    assert_eq!(sb.ok(&["project", "show", "tool"])["status"], "active");
    before.assert_same(&Tree::read(&folder), "folder after the refused archive");
    assert_eq!(sb.ok(&["archives"]), serde_json::json!([]));

    // Without it, the folder's own repository goes into the archive and comes back.
    std::fs::remove_dir_all(folder.join("build")).unwrap();
    let before = Tree::read(&folder);
    sb.ok(&["archive", "tool"]);
    let back = sb.ok(&["unarchive", "tool"]);
    let path = PathBuf::from(back["path"].as_str().unwrap());
    before.assert_same(&Tree::read(&path), "unarchived folder");
    assert!(path.join(".git/HEAD").is_file());
}

#[test]
fn a_bad_name_an_older_kura_took_in_is_not_carried_on() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "p"]);
    let folder = sb.vault().join("projects/p");
    disk::write(&folder.join("good.txt"), "good\n");
    sb.ok(&["snapshot", "p"]);
    // A version as an older Kura made it, with the backslash name taken in.
    disk::write(&folder.join("a\\b.txt"), "old\n");
    let repo = sb
        .vault()
        .join(format!("histories/{}.git", project_id(&sb, "p")));
    let blob = git_in(&repo, &["hash-object", "-w", "--stdin"], "old\n");
    commit_on_main(&repo, &format!("100644 blob {blob}\ta\\b.txt\n"));

    let run = sb.json_run(&["snapshot", "p"]);
    assert_eq!(run.code, Some(11), "{}\n{}", run.text(), run.stderr);
    assert_eq!(run.json()["skipped"][0]["path"], "a\\b.txt");
    let out = sb.export("p", "latest", "out");
    assert_eq!(Tree::read(&out).paths(), ["good.txt"]);
}
