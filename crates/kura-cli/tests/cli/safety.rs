//! Kura must not write outside a project, must keep what it cannot read, and must say clearly
//! (never panic) when stored data is damaged or the disk is full.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::disk::{self, running_as_root, Tree};
use crate::history::walk_files;
use crate::random::Rng;
use crate::sandbox::{s, Sandbox};

#[test]
fn paths_leaving_the_project_are_refused() {
    let sb = Sandbox::new();
    let outside = sb.path("outside");
    fs::create_dir_all(&outside).unwrap();
    disk::write(&outside.join("precious.txt"), "do not touch\n");
    let src = sb.path("proj");
    disk::write(&src.join("a.txt"), "a\n");
    disk::symlink(&outside, &src.join("link"));
    // The link leads out of the folder: the first version leaves it out, and the import says so.
    let import = sb.json_run(&["project", "import", s(&src), "--link"]);
    assert_eq!(
        import.code,
        Some(11),
        "{}\n{}",
        import.text(),
        import.stderr
    );
    assert_eq!(import.json()["skipped"][0]["path"], "link");
    let managed = sb.ok(&["project", "create", "managed"]);
    let managed_dir = PathBuf::from(managed["path"].as_str().unwrap());

    let etc_target = format!("/etc/kura-escape-test-{}", std::process::id());
    let absolute_into_tmp = outside.join("abs.txt");
    let attempts: Vec<(&str, String)> = vec![
        ("managed", "../x".to_string()),
        ("managed", "sub/../../x".to_string()),
        ("managed", etc_target.clone()),
        ("proj", s(&absolute_into_tmp).to_string()),
        ("proj", "link/evil".to_string()),
        ("proj", "link/precious.txt".to_string()),
        ("proj", ".git/config".to_string()),
    ];
    for (project, path) in &attempts {
        let run = sb.run_with_input(&["--json", "file", "save", project, path], b"escaped\n");
        assert_eq!(
            run.code,
            Some(5),
            "file save {project} {path}: {}",
            run.text()
        );
        assert_eq!(run.json()["error"]["code"], "path_escape");
    }
    for (project, path) in &attempts[..4] {
        sb.fails(&["file", "read", project, path], 5);
    }
    sb.fails(&["file", "rename", "proj", "a.txt", "link/moved.txt"], 5);
    sb.fails(
        &["file", "rename", "proj", "link/precious.txt", "stolen.txt"],
        5,
    );
    sb.fails(&["file", "delete", "proj", "link/precious.txt"], 5);
    sb.fails(&["file", "delete", "managed", "../managed"], 5);
    sb.fails(
        &["restore", "proj", "latest", "--file", "link/precious.txt"],
        5,
    );

    // Nothing was written, moved or deleted outside.
    let etc_file = PathBuf::from(&etc_target);
    let leaked = etc_file.exists();
    let _ = fs::remove_file(&etc_file);
    assert!(!leaked, "{etc_target} was written");
    assert!(!managed_dir.parent().unwrap().join("x").exists());
    assert!(!sb.vault().join("x").exists());
    assert_eq!(Tree::read(&outside).paths(), ["precious.txt"]);
    assert_eq!(
        fs::read_to_string(outside.join("precious.txt")).unwrap(),
        "do not touch\n"
    );
    assert_eq!(fs::read_to_string(src.join("a.txt")).unwrap(), "a\n");
    // The link leads outside the project: versions skip it (and say so), export has no such link.
    let out = sb.export("proj", "latest", "export");
    assert!(fs::symlink_metadata(out.join("link")).is_err());
    assert_eq!(sb.run(&["snapshot", "proj"]).code, Some(11));
}

#[test]
fn ignore_files_keep_files_out_of_versions() {
    let sb = Sandbox::new();
    let src = sb.path("proj");
    disk::write(&src.join(".gitignore"), "*.log\ntarget/\n");
    disk::write(&src.join(".kuraignore"), "secrets.env\nvendor/\n");
    disk::write(&src.join("web/.gitignore"), "dist/\n");
    disk::write(&src.join("src/main.rs"), "fn main() {}\n");
    disk::write(&src.join("web/app.js"), "app()\n");
    disk::write(&src.join("web/dist/bundle.js"), "bundled\n");
    disk::write(&src.join("debug.log"), "log\n");
    disk::write(&src.join("target/debug/app"), "binary\n");
    disk::write(&src.join("secrets.env"), "TOKEN=hunter2\n");
    disk::write(&src.join("vendor/lib.c"), "int x;\n");
    disk::write(&src.join(".git/HEAD"), "ref: refs/heads/main\n");
    disk::symlink("nowhere/at/all", &src.join("dangling"));
    let p = sb.ok(&["project", "import", s(&src), "--link"])["project"].clone();
    assert_eq!(p["file_count"], 6);

    let want = [
        ".gitignore",
        ".kuraignore",
        "dangling",
        "src/main.rs",
        "web/.gitignore",
        "web/app.js",
    ];
    let out = sb.export("proj", "latest", "export");
    let exported = Tree::read(&out);
    assert_eq!(exported.paths(), want);
    assert_eq!(
        fs::read_link(out.join("dangling")).unwrap(),
        Path::new("nowhere/at/all")
    );
    let listed: Vec<String> = sb
        .ok(&["files", "proj"])
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, want);

    // Changing only ignored files makes no version.
    disk::write(&src.join("debug.log"), "more log\n");
    disk::write(&src.join("secrets.env"), "TOKEN=other\n");
    disk::write(&src.join("web/dist/more.js"), "x\n");
    assert_eq!(sb.ok(&["snapshot", "proj"])["version"], Value::Null);

    // A copy-import leaves them behind as well.
    let copy = sb.ok(&["project", "import", s(&src), "--name", "copy"])["project"].clone();
    let copy_dir = PathBuf::from(copy["path"].as_str().unwrap());
    assert_eq!(Tree::read(&copy_dir).paths(), want);
}

/// Makes `sb` run kura as an ordinary user, whom permissions bind: as root, `nobody`, on a
/// sandbox `nobody` then owns. When that cannot be done here the test fails, unless
/// `KURA_TEST_ALLOW_SKIP=1` (see [`crate::sandbox::precondition_missing`]): then false, and the
/// caller returns.
fn unprivileged(sb: &mut Sandbox) -> bool {
    if !running_as_root() {
        return true;
    }
    if !Command::new("runuser")
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        crate::sandbox::precondition_missing("running as root without runuser");
        return false;
    }
    let root = sb.root();
    disk::chmod(&root, 0o755);
    let chown = Command::new("chown")
        .args(["-R", "nobody", s(&root)])
        .status()
        .unwrap();
    assert!(chown.success());
    sb.run_as("nobody");
    let can_exec = sb.run(&["workspace", "current"]);
    if can_exec.code != Some(0) {
        crate::sandbox::precondition_missing(&format!(
            "nobody cannot run {}: {}",
            crate::sandbox::KURA,
            can_exec.stderr
        ));
        return false;
    }
    true
}

/// A copy-import keeps each file's modification time, read-only files' included, as an
/// ordinary user (whom a read-only file's permissions bind) sees it.
#[test]
fn a_copy_import_keeps_modification_times_of_read_only_files() {
    let mut sb = Sandbox::new();
    let src = sb.root().join("mods");
    let file = src.join("pkg/go.mod");
    disk::write(&file, "module example.com/pkg\n");
    let long_ago = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    disk::chmod(&file, 0o444);
    if !unprivileged(&mut sb) {
        return;
    }
    let p = sb.ok(&["project", "import", s(&src), "--name", "mods"])["project"].clone();
    let copied = PathBuf::from(p["path"].as_str().unwrap()).join("pkg/go.mod");
    let md = fs::metadata(&copied).unwrap();
    assert_eq!(md.modified().unwrap(), long_ago);
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&md.permissions()) & 0o777,
        0o444
    );
}

/// On a terminal, what kura writes is shown as text: an escape sequence in a file's name (which
/// an import leaves out, and names) or in a version's message (which any client with a write
/// token sets) is written escaped, never as bytes the terminal would act on. Piped, the output is
/// the text as it is. The terminal is one `script` (util-linux) makes.
#[test]
fn escape_sequences_reach_a_terminal_escaped_and_a_pipe_as_they_are() {
    let sb = Sandbox::new();
    let src = sb.path("proj");
    disk::write(&src.join("plain.txt"), "plain\n");
    disk::write(&src.join("a\u{1b}[31mRED\u{1b}[0m.txt"), "x");
    let on_terminal = |args: &[&str]| {
        let quote = |a: &str| format!("'{}'", a.replace('\'', r"'\''"));
        let line: Vec<String> = [crate::sandbox::KURA, "--vault", s(sb.vault()), "-q"]
            .iter()
            .chain(args)
            .map(|a| quote(a))
            .collect();
        let mut script = Command::new("script");
        script
            .args(["-qec", &line.join(" "), "/dev/null"])
            .stdin(std::process::Stdio::null());
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("KURA_") {
                script.env_remove(k);
            }
        }
        match script.output() {
            Ok(out) => Some((out.status.code(), out.stdout)),
            Err(e) => {
                crate::sandbox::precondition_missing(&format!("script (util-linux): {e}"));
                None
            }
        }
    };
    let Some((code, shown)) = on_terminal(&["project", "import", s(&src), "--name", "proj"]) else {
        return;
    };
    assert_eq!(code, Some(11));
    let shown = String::from_utf8(shown).unwrap();
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
    assert!(
        shown.contains(r"skipped a\u{1b}[31mRED\u{1b}[0m.txt: the name contains a control"),
        "{shown:?}"
    );

    let message = "retitled\u{1b}]0;pwned\u{7} and cleared\u{1b}[2J";
    sb.ok(&["snapshot", "proj", "-m", message, "--allow-empty"]);
    let (code, shown) = on_terminal(&["history", "proj"]).unwrap();
    assert_eq!(code, Some(0));
    let shown = String::from_utf8(shown).unwrap();
    assert!(!shown.contains(['\u{1b}', '\u{7}']), "{shown:?}");
    assert!(
        shown.contains(r"retitled\u{1b}]0;pwned\u{7} and cleared\u{1b}[2J"),
        "{shown:?}"
    );
    // Read by a program, the message is the one given.
    let piped = sb.run(&["history", "proj"]);
    assert!(piped.text().contains(message), "{}", piped.text());
}

/// An import names what its first version does not hold (files and folders that cannot be read,
/// a link leading out of the folder), copied or linked, and exits 11 as a snapshot does. Run as
/// `nobody` (see `unprivileged`).
#[test]
fn an_import_names_what_it_left_out() {
    let mut sb = Sandbox::new();
    let root = sb.root();
    let src = root.join("proj");
    disk::write(&src.join("plain.txt"), "plain\n");
    disk::write(&src.join("secret.txt"), "secret\n");
    disk::write(&src.join("private/key.pem"), "key\n");
    std::os::unix::fs::symlink("/etc", src.join("outside")).unwrap();
    if !unprivileged(&mut sb) {
        return;
    }
    disk::chmod(&src.join("secret.txt"), 0o000);
    disk::chmod(&src.join("private"), 0o000);

    // A copy: the project, and what was left out with why.
    let run = sb.json_run(&["project", "import", s(&src), "--name", "copied"]);
    assert_eq!(run.code, Some(11), "{}\n{}", run.text(), run.stderr);
    let report = run.json();
    assert_eq!(report["project"]["name"], "copied");
    assert_eq!(report["project"]["file_count"], 1, "{report}");
    let mut skipped: Vec<(String, String)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap().to_string();
            (text("path"), text("reason"))
        })
        .collect();
    skipped.sort();
    let paths: Vec<&str> = skipped.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["outside", "private", "secret.txt"], "{skipped:?}");
    assert!(skipped[0].1.contains("symbolic link"), "{skipped:?}");
    assert!(skipped[1].1.contains("cannot be read"), "{skipped:?}");
    assert!(
        skipped[2].1.contains("ermission denied") && skipped[2].1.contains("not copied"),
        "{skipped:?}"
    );
    let copied = PathBuf::from(report["project"]["path"].as_str().unwrap());
    assert_eq!(Tree::read(&copied).paths(), ["plain.txt"]);

    // Linked in place: the same three, told on stderr after the project.
    let run = sb.run(&["project", "import", s(&src), "--link", "--name", "linked"]);
    assert_eq!(run.code, Some(11), "{}\n{}", run.text(), run.stderr);
    assert!(
        run.text().contains("Linked project 'linked'"),
        "{}",
        run.text()
    );
    for line in [
        "Left out of the first version:",
        "skipped secret.txt: Permission denied",
        "skipped private: the folder cannot be read",
        "skipped outside: it is a symbolic link",
    ] {
        assert!(run.stderr.contains(line), "{line}\n{}", run.stderr);
    }
    let out = root.join("export");
    sb.ok(&["project", "export", "linked", s(&out)]);
    assert_eq!(Tree::read(&out).paths(), ["plain.txt"]);

    // A folder with nothing left out imports with exit code 0 and an empty list.
    disk::chmod(&src.join("secret.txt"), 0o644);
    disk::chmod(&src.join("private"), 0o755);
    fs::remove_file(src.join("outside")).unwrap();
    let run = sb.json_run(&["project", "import", s(&src), "--name", "whole"]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.text(), run.stderr);
    assert_eq!(run.json()["skipped"], serde_json::json!([]));
    assert_eq!(run.json()["project"]["file_count"], 3);
}

/// As root, kura runs as `nobody` on a vault and folder nobody owns, so that `chmod 000` really
/// makes a file unreadable.
#[test]
fn unreadable_files_are_skipped_and_keep_their_earlier_content() {
    let mut sb = Sandbox::new();
    let root = sb.root();
    let src = root.join("proj");
    disk::write(&src.join("secret.txt"), "secret v1\n");
    disk::write(&src.join("plain.txt"), "plain v1\n");
    if !unprivileged(&mut sb) {
        return;
    }
    sb.ok(&["project", "import", s(&src), "--link"]);
    let v1 = sb.version_ids("proj")[0].clone();

    disk::write(&src.join("secret.txt"), "secret v2, unreadable\n");
    disk::write(&src.join("plain.txt"), "plain v2\n");
    disk::write(&src.join("new-secret.txt"), "never readable\n");
    disk::chmod(&src.join("secret.txt"), 0o000);
    disk::chmod(&src.join("new-secret.txt"), 0o000);

    let run = sb.json_run(&["snapshot", "proj"]);
    assert_eq!(run.code, Some(11), "{}\n{}", run.text(), run.stderr);
    let report = run.json();
    let skipped: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["new-secret.txt", "secret.txt"]);
    assert!(report["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("permission"));
    let v2 = report["version"]["id"]
        .as_str()
        .expect("the snapshot is still made")
        .to_string();
    assert_ne!(v2, v1);

    let out = root.join("export");
    sb.ok(&["project", "export", "proj", s(&out), "--version", &v2]);
    assert_eq!(
        fs::read_to_string(out.join("plain.txt")).unwrap(),
        "plain v2\n"
    );
    assert_eq!(
        fs::read_to_string(out.join("secret.txt")).unwrap(),
        "secret v1\n",
        "the unreadable file keeps its earlier content"
    );
    assert!(!out.join("new-secret.txt").exists());

    // People see which files were skipped.
    disk::write(&src.join("plain.txt"), "plain v3\n");
    let text = sb.run(&["snapshot", "proj"]);
    assert_eq!(text.code, Some(11));
    assert!(
        text.stderr.contains("skipped secret.txt"),
        "{}",
        text.stderr
    );

    // Once readable again, the new content is taken.
    disk::chmod(&src.join("secret.txt"), 0o644);
    fs::remove_file(src.join("new-secret.txt")).unwrap();
    let report = sb.ok(&["snapshot", "proj"]);
    assert!(report["skipped"].as_array().unwrap().is_empty());
    let out = root.join("export-after");
    sb.ok(&["project", "export", "proj", s(&out)]);
    assert_eq!(
        fs::read_to_string(out.join("secret.txt")).unwrap(),
        "secret v2, unreadable\n"
    );
}

/// A folder that cannot be read: every file the previous version had under it (small and
/// large, in sub-folders too) keeps its earlier content; the folder is reported as skipped.
#[test]
fn an_unreadable_folder_keeps_its_files_earlier_content() {
    let mut sb = Sandbox::new();
    let root = sb.root();
    let src = root.join("proj");
    disk::write(&src.join("plain.txt"), "plain v1\n");
    disk::write(&src.join("private/notes.txt"), "notes v1\n");
    disk::write(&src.join("private/deep/key.txt"), "key v1\n");
    disk::write(&src.join("private/big.bin"), Rng::new(21).bytes(2 << 20));
    disk::write(&src.join("privateer.txt"), "a neighbour, not inside\n");
    if !unprivileged(&mut sb) {
        return;
    }
    sb.ok(&["project", "import", s(&src), "--link"]);
    let v1 = sb.version_ids("proj")[0].clone();
    let v1_tree = Tree::read(&sb.export("proj", &v1, "export-v1"));

    disk::write(&src.join("plain.txt"), "plain v2\n");
    disk::write(&src.join("private/notes.txt"), "notes v2, unseen\n");
    disk::write(&src.join("private/added.txt"), "added, unseen\n");
    disk::chmod(&src.join("private"), 0o000);

    let run = sb.json_run(&["snapshot", "proj"]);
    disk::chmod(&src.join("private"), 0o755);
    assert_eq!(run.code, Some(11), "{}\n{}", run.text(), run.stderr);
    let report = run.json();
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{report}");
    assert_eq!(skipped[0]["path"], "private");
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("permission"),
        "{report}"
    );
    assert_eq!(report["changes"]["modified"], 1, "only plain.txt: {report}");
    assert_eq!(report["changes"]["removed"], 0, "{report}");
    let v2 = report["version"]["id"].as_str().unwrap().to_string();

    let v2_tree = Tree::read(&sb.export("proj", &v2, "export-v2"));
    v1_tree.without(&["plain.txt"]).assert_same(
        &v2_tree.without(&["plain.txt"]),
        "the unreadable folder's files",
    );
    assert_eq!(
        fs::read_to_string(root.join("export-v2/plain.txt")).unwrap(),
        "plain v2\n"
    );
    assert!(!root.join("export-v2/private/added.txt").exists());

    // People see the folder named.
    disk::chmod(&src.join("private"), 0o000);
    disk::write(&src.join("plain.txt"), "plain v3\n");
    let text = sb.run(&["snapshot", "proj"]);
    disk::chmod(&src.join("private"), 0o755);
    assert_eq!(text.code, Some(11));
    assert!(text.stderr.contains("skipped private"), "{}", text.stderr);
}

fn chunk_packs(vault: &Path) -> Vec<PathBuf> {
    walk_files(&vault.join("chunks/packs"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pack"))
        .collect()
}

fn problems(report: &Value) -> &Vec<Value> {
    report["problems"].as_array().unwrap()
}

#[test]
fn a_damaged_chunk_pack_is_named_by_verify_and_export_fails_cleanly() {
    let sb = Sandbox::new();
    let src = sb.path("media");
    disk::write(&src.join("readme.txt"), "hello\n");
    disk::write(&src.join("clips/big.bin"), Rng::new(5).bytes(3 << 20));
    sb.ok(&["project", "import", s(&src), "--link"]);
    let v1 = sb.version_ids("media")[0].clone();
    assert!(sb.ok(&["verify"])["problems"]
        .as_array()
        .unwrap()
        .is_empty());

    let packs = chunk_packs(sb.vault());
    assert_eq!(packs.len(), 1, "{packs:?}");
    let mut bytes = fs::read(&packs[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    fs::write(&packs[0], bytes).unwrap();

    let run = sb.json_run(&["verify"]);
    assert_eq!(run.code, Some(8), "{}", run.text());
    let report = run.json();
    let named = problems(&report).iter().any(|p| {
        p["project"] == "media"
            && p["paths"]
                .as_array()
                .is_some_and(|paths| paths.contains(&Value::from("clips/big.bin")))
    });
    assert!(named, "a problem names the project and the file: {report}");
    let text = sb.run(&["verify"]);
    assert_eq!(text.code, Some(8));
    assert!(text.text().contains("clips/big.bin"), "{}", text.text());
    assert_eq!(sb.json_run(&["verify", "media"]).code, Some(8));

    let dest = sb.path("restore-here");
    let err = sb.fails(
        &["project", "export", "media", s(&dest), "--version", &v1],
        8,
    );
    assert_eq!(err["code"], "corrupt");
    let human = sb.run(&["project", "export", "media", s(&dest)]);
    assert_eq!(human.code, Some(8));
    assert!(human.stderr.starts_with("kura: "), "{}", human.stderr);
    assert!(
        !dest.exists() || fs::read_dir(&dest).unwrap().next().is_none(),
        "no half-written export left behind"
    );
}

fn git_packs(sb: &Sandbox, id: &str) -> Vec<PathBuf> {
    let dir = sb
        .vault()
        .join("histories")
        .join(format!("{id}.git"))
        .join("objects/pack");
    walk_files(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pack"))
        .collect()
}

/// Truncates the git pack holding the first version of a project with several versions.
#[test]
fn a_truncated_git_pack_of_an_older_version_is_named_by_verify() {
    let sb = Sandbox::new();
    let src = sb.path("proj");
    for i in 0..40 {
        disk::write(
            &src.join(format!("src/f{i}.txt")),
            format!("file {i} {:?}\n", Rng::new(i).bytes(100)),
        );
    }
    let p = sb.ok(&["project", "import", s(&src), "--link"])["project"].clone();
    let id = p["id"].as_str().unwrap();
    let first_pack = git_packs(&sb, id);
    assert_eq!(first_pack.len(), 1);
    disk::write(&src.join("src/f0.txt"), "changed\n");
    sb.ok(&["snapshot", "proj"]);
    assert_eq!(git_packs(&sb, id).len(), 2);

    let len = fs::metadata(&first_pack[0]).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&first_pack[0])
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let run = sb.json_run(&["verify"]);
    assert_eq!(run.code, Some(8), "{}\n{}", run.text(), run.stderr);
    let report = run.json();
    assert!(
        problems(&report).iter().any(|p| p["project"] == "proj"),
        "{report}"
    );
}

/// Truncates the only git pack of a project (the one holding its latest version).
#[test]
fn a_truncated_git_pack_of_the_latest_version_is_named_by_verify() {
    let sb = Sandbox::new();
    let src = sb.path("proj");
    for i in 0..40 {
        disk::write(
            &src.join(format!("f{i}.txt")),
            format!("file {i} {:?}\n", Rng::new(i).bytes(100)),
        );
    }
    let p = sb.ok(&["project", "import", s(&src), "--link"])["project"].clone();
    sb.ok(&["project", "create", "healthy"]);
    let packs = git_packs(&sb, p["id"].as_str().unwrap());
    assert_eq!(packs.len(), 1);
    let len = fs::metadata(&packs[0]).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&packs[0])
        .unwrap()
        .set_len(len / 2)
        .unwrap();

    let run = sb.json_run(&["verify"]);
    assert_eq!(run.code, Some(8), "{}\n{}", run.text(), run.stderr);
    let report = run.json();
    assert!(
        problems(&report).iter().any(|p| p["project"] == "proj"),
        "{report}"
    );
    assert!(
        !problems(&report).iter().any(|p| p["project"] == "healthy"),
        "{report}"
    );
    let err = sb.fails(&["project", "export", "proj", s(&sb.path("out"))], 8);
    assert_eq!(err["code"], "corrupt");
}

/// A small tmpfs, unmounted when dropped.
pub(crate) struct SmallDisk {
    pub dir: PathBuf,
}

impl SmallDisk {
    pub fn mount(dir: PathBuf, size: &str) -> Option<SmallDisk> {
        fs::create_dir_all(&dir).unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                s(&dir),
            ])
            .status()
            .ok()?;
        status.success().then_some(SmallDisk { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

#[test]
fn a_full_disk_is_reported_and_leaves_earlier_versions_intact() {
    if !running_as_root() {
        crate::sandbox::precondition_missing("mounting a small tmpfs needs root");
        return;
    }
    let outer = Sandbox::new();
    let Some(small) = SmallDisk::mount(outer.path("small"), "4m") else {
        crate::sandbox::precondition_missing("cannot mount a tmpfs here");
        return;
    };
    let sb = Sandbox::with_vault(small.dir.join("vault"));
    let src = outer.path("proj");
    disk::write(&src.join("a.txt"), "version one\n");
    disk::write(&src.join("lib/b.rs"), "pub fn b() {}\n");
    disk::write(&src.join("small.bin"), Rng::new(1).bytes(200 << 10));
    sb.ok(&["project", "import", s(&src), "--link"]);
    let v1 = sb.version_ids("proj")[0].clone();
    let v1_tree = Tree::read(&src);

    // 10 MB of data that does not compress, into a 4 MB disk.
    disk::write(&src.join("a.txt"), "version two\n");
    disk::write(&src.join("huge.bin"), Rng::new(2).bytes(10 << 20));
    let err = sb.fails(&["snapshot", "proj"], 7);
    assert_eq!(err["code"], "disk_full");
    assert!(
        err["message"].as_str().unwrap().contains("disk is full"),
        "{err}"
    );
    let human = sb.run(&["snapshot", "proj"]);
    assert_eq!(human.code, Some(7));
    assert!(human.stderr.contains("disk is full"), "{}", human.stderr);
    assert_eq!(sb.version_ids("proj"), std::slice::from_ref(&v1));

    // A copy-import that does not fit leaves no project behind.
    let err = sb.fails(&["project", "import", s(&src), "--name", "copy"], 7);
    assert!(
        err["message"].as_str().unwrap().contains("disk is full"),
        "{err}"
    );
    assert_eq!(sb.project_names(&[]), ["proj"]);

    fs::remove_file(src.join("huge.bin")).unwrap();
    let report = sb.ok(&["verify"]);
    assert!(problems(&report).is_empty(), "{report}");
    let out = outer.path("export-v1");
    sb.ok(&["project", "export", "proj", s(&out), "--version", &v1]);
    v1_tree.assert_same(&Tree::read(&out), "version one after the disk filled up");

    // With space again, work goes on.
    let snap = sb.ok(&["snapshot", "proj"]);
    assert_eq!(snap["changes"]["modified"], 1);
    let out = outer.path("export-v2");
    sb.ok(&["project", "export", "proj", s(&out)]);
    Tree::read(&src).assert_same(&Tree::read(&out), "version two");
    assert!(problems(&sb.ok(&["verify"])).is_empty());
    drop(small);
}
