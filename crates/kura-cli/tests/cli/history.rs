//! Versions: snapshots, history, diff, restore, export, the chunk layer, and the histories being
//! real git repositories.

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::disk::{self, Tree};
use crate::random::Rng;
use crate::sandbox::{git, s, Sandbox};

fn folder_of(sb: &Sandbox, project: &str) -> PathBuf {
    PathBuf::from(
        sb.ok(&["project", "show", project])["path"]
            .as_str()
            .unwrap(),
    )
}

fn save(sb: &Sandbox, project: &str, path: &str, data: &str) {
    let run = sb.run_with_input(&["file", "save", project, path], data.as_bytes());
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

fn versions(sb: &Sandbox, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["history"];
    all.extend_from_slice(args);
    sb.ok(&all).as_array().unwrap().clone()
}

#[test]
fn snapshots_make_versions_newest_first_and_only_when_something_changed() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "app"]);
    save(&sb, "app", "main.txt", "one\n");
    let first = sb.ok(&["snapshot", "app", "-m", "first words"]);
    assert_eq!(first["changes"]["added"], 1);
    let first_id = first["version"]["id"].as_str().unwrap().to_string();

    // Nothing changed: no version, and the command still succeeds.
    let same = sb.ok(&["snapshot", "app"]);
    assert_eq!(same["version"], Value::Null);
    assert_eq!(same["files"], 1);

    save(&sb, "app", "main.txt", "two\n");
    let second = sb.ok(&["snapshot", "app", "--trigger", "auto"]);
    assert_eq!(second["changes"]["modified"], 1);
    assert_eq!(second["version"]["parent"], first_id.as_str());

    let list = versions(&sb, &["app"]);
    assert_eq!(list.len(), 3, "create + 2 snapshots: {list:?}");
    assert_eq!(list[0]["id"], second["version"]["id"]);
    assert_eq!(list[0]["trigger"], "automatic", "`auto` is still read");
    assert_eq!(list[1]["id"], first_id.as_str());
    assert_eq!(list[1]["trigger"], "cli");
    assert_eq!(list[1]["message"], "first words");
    assert_eq!(
        list[2]["trigger"], "cli",
        "the first version names the door too"
    );
    assert_eq!(list[2]["parent"], Value::Null);
    for pair in list.windows(2) {
        assert_eq!(pair[0]["parent"], pair[1]["id"]);
        assert!(pair[0]["created_at"].as_i64() >= pair[1]["created_at"].as_i64());
    }

    assert_eq!(versions(&sb, &["app", "-n", "1"]).len(), 1);
    let empty = sb.ok(&["snapshot", "app", "--allow-empty", "-m", "checkpoint"]);
    assert_eq!(empty["version"]["message"], "checkpoint");
    assert_eq!(versions(&sb, &["app"]).len(), 4);
    // Rejected while parsing the arguments: exit 2 and a message naming the valid triggers.
    let bad = sb.json_run(&["snapshot", "app", "--trigger", "whenever"]);
    assert_eq!(bad.code, Some(2));
    assert_eq!(bad.json()["error"]["code"], "invalid_input");
    let message = bad.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("desktop, cli, http, mcp, automatic"),
        "{message}"
    );
    assert_eq!(versions(&sb, &["app"]).len(), 4);

    let text = sb.run(&["history", "app"]).text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].starts_with(&second["version"]["short_id"].as_str().unwrap().to_string()));
    assert!(
        lines[1].contains("automatic") && lines[2].contains("cli"),
        "{text}"
    );
}

#[test]
fn file_history_and_diff_show_what_changed() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "app"]);
    save(&sb, "app", "a.txt", "alpha\nbeta\ngamma\n");
    save(&sb, "app", "b.txt", "stays\n");
    sb.ok(&["snapshot", "app"]);
    save(&sb, "app", "b.txt", "stays, no: changes\n");
    sb.ok(&["snapshot", "app"]);
    save(&sb, "app", "a.txt", "alpha\nBETA\ngamma\n");
    save(&sb, "app", "c.txt", "new file\n");
    sb.ok(&["snapshot", "app"]);

    let all = sb.version_ids("app");
    let of_a: Vec<String> = versions(&sb, &["app", "--file", "a.txt"])
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(of_a, [all[0].clone(), all[2].clone()]);
    assert_eq!(
        sb.fails(&["history", "app", "--file", "nope.txt"], 3)["code"],
        "not_found"
    );

    let d = sb.ok(&["diff", "app", "latest~1"]);
    assert_eq!(d["from"], all[1].as_str());
    assert_eq!(d["to"], all[0].as_str());
    assert_eq!(
        d["changes"],
        serde_json::json!({"added": 1, "modified": 1, "removed": 0})
    );
    let files = d["files"].as_array().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["a.txt", "c.txt"]);
    assert_eq!(files[0]["change"], "modified");
    let patch = files[0]["patch"].as_str().unwrap();
    assert!(
        patch.contains("--- a/a.txt") && patch.contains("+++ b/a.txt"),
        "{patch}"
    );
    assert!(patch.lines().any(|l| l == "-beta"), "{patch}");
    assert!(patch.lines().any(|l| l == "+BETA"), "{patch}");
    assert!(patch.lines().any(|l| l == " alpha"), "{patch}");
    assert_eq!(files[1]["change"], "added");
    assert!(files[1]["patch"].as_str().unwrap().contains("+new file"));

    let stat = sb.ok(&["diff", "app", &all[2], &all[0], "--stat"]);
    assert_eq!(stat["changes"]["modified"], 2);
    assert!(stat["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["patch"].is_null()));
    let only_b = sb.ok(&["diff", "app", &all[2], "--file", "b.txt"]);
    assert_eq!(only_b["files"].as_array().unwrap().len(), 1);

    let text = sb.run(&["diff", "app", "latest~1"]).text();
    assert!(
        text.contains("M a.txt") && text.contains("A c.txt"),
        "{text}"
    );
    assert!(
        text.contains("\n+BETA\n") && text.contains("\n-beta\n"),
        "{text}"
    );

    assert_eq!(
        sb.fails(&["diff", "app", "latest~9"], 3)["code"],
        "not_found"
    );
    assert_eq!(sb.fails(&["diff", "app", "zz"], 2)["code"], "invalid_input");
}

#[test]
fn restoring_one_file_brings_its_old_content_back_and_keeps_the_state_before() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "app"]);
    let folder = folder_of(&sb, "app");
    save(&sb, "app", "config.ini", "port=1\n");
    save(&sb, "app", "other.txt", "other v1\n");
    let v1 = sb.ok(&["snapshot", "app"])["version"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    save(&sb, "app", "config.ini", "port=2\n");
    save(&sb, "app", "other.txt", "other v2\n");
    sb.ok(&["snapshot", "app"]);
    // An edit nobody saved as a version yet.
    save(&sb, "app", "config.ini", "port=3 unsaved\n");

    let r = sb.ok(&["restore", "app", &v1[..12], "--file", "config.ini"]);
    assert_eq!(r["version"], v1.as_str());
    assert_eq!(r["files_written"], 1);
    assert_eq!(
        fs::read_to_string(folder.join("config.ini")).unwrap(),
        "port=1\n"
    );
    // Only that file.
    assert_eq!(
        fs::read_to_string(folder.join("other.txt")).unwrap(),
        "other v2\n"
    );

    let safety = &r["safety_version"];
    assert_eq!(safety["trigger"], "before_restore");
    let list = versions(&sb, &["app"]);
    assert_eq!(list[1]["id"], safety["id"]);
    assert_eq!(list[1]["trigger"], "before_restore");
    assert!(list[0]["message"].as_str().unwrap().contains("config.ini"));
    // The unsaved edit is in the "before restore" version.
    let out = sb.export("app", safety["id"].as_str().unwrap(), "before");
    assert_eq!(
        fs::read_to_string(out.join("config.ini")).unwrap(),
        "port=3 unsaved\n"
    );

    assert_eq!(
        sb.fails(&["restore", "app", &v1, "--file", "nope.txt"], 3)["code"],
        "not_found"
    );
    assert_eq!(
        sb.fails(&["restore", "app", &v1, "--file", "../etc/passwd"], 5)["code"],
        "path_escape"
    );
}

#[test]
fn restoring_a_project_removes_later_files_and_brings_back_deleted_ones() {
    let sb = Sandbox::new();
    let src = sb.path("site");
    disk::write(&src.join(".gitignore"), "*.log\ncache/\n");
    disk::write(&src.join("index.html"), "<h1>v1</h1>\n");
    disk::write(&src.join("old/page.html"), "old page\n");
    disk::write(&src.join("build.log"), "ignored log v1\n");
    sb.ok(&["project", "import", s(&src), "--link"]);
    let v1 = sb.version_ids("site")[0].clone();
    let v1_tree = Tree::read(&src).without(&["build.log"]);

    disk::write(&src.join("index.html"), "<h1>v2</h1>\n");
    fs::remove_dir_all(src.join("old")).unwrap();
    disk::write(&src.join("new/later.html"), "added later\n");
    disk::write(&src.join("also-later.txt"), "added later too\n");
    sb.ok(&["snapshot", "site"]);
    // Ignored files are the user's business, before and after.
    disk::write(&src.join("build.log"), "ignored log v2\n");
    disk::write(&src.join("cache/blob.tmp"), "cache\n");

    let r = sb.ok(&["restore", "site", &v1]);
    assert_eq!(r["version"], v1.as_str());
    assert_eq!(r["files_removed"], 2);
    assert_eq!(
        r["safety_version"],
        Value::Null,
        "nothing changed since the latest version"
    );
    Tree::read(&src)
        .without(&["build.log", "cache"])
        .assert_same(&v1_tree, "the folder after restoring v1");
    assert!(!src.join("new").exists(), "emptied folders are removed");
    assert_eq!(
        fs::read_to_string(src.join("build.log")).unwrap(),
        "ignored log v2\n"
    );
    assert_eq!(
        fs::read_to_string(src.join("cache/blob.tmp")).unwrap(),
        "cache\n"
    );

    let list = versions(&sb, &["site"]);
    assert_eq!(list.len(), 3);
    assert!(list[0]["message"].as_str().unwrap().contains(&v1[..10]));
    assert!(sb
        .ok(&["files", "site"])
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["state"] == "unchanged"));
    sb.fails(&["restore", "site", "latest~7"], 3);
}

/// A folder with text, nested folders, an executable, symlinks, a small binary and a 3 MB
/// random file.
fn varied_tree(root: &std::path::Path, rng: &mut Rng) {
    disk::write(&root.join("README.md"), "# Varied\n");
    disk::write(&root.join("src/lib/deep/mod.rs"), "pub fn f() {}\n");
    disk::write(&root.join("run.sh"), "#!/bin/sh\necho run\n");
    disk::chmod(&root.join("run.sh"), 0o755);
    disk::symlink("README.md", &root.join("readme-link"));
    disk::symlink("../README.md", &root.join("src/up-link"));
    disk::symlink("does/not/exist", &root.join("dangling"));
    let mut small_bin = rng.bytes(80 << 10);
    small_bin[10] = 0;
    disk::write(&root.join("assets/icon.bin"), small_bin);
    disk::write(&root.join("empty.txt"), "");
    disk::write(&root.join("data/big.bin"), rng.bytes(3 << 20));
}

#[test]
fn export_writes_byte_identical_files_modes_and_links() {
    let sb = Sandbox::new();
    let src = sb.path("varied");
    let mut rng = Rng::new(42);
    varied_tree(&src, &mut rng);
    let original = Tree::read(&src);
    sb.ok(&["project", "import", s(&src)]);
    let v1 = sb.version_ids("varied")[0].clone();

    let out = sb.export("varied", "latest", "export-latest");
    original.assert_same(&Tree::read(&out), "export of the latest version");

    // Change everything, then export the first version again.
    let folder = folder_of(&sb, "varied");
    disk::write(&folder.join("data/big.bin"), rng.bytes(3 << 20));
    disk::chmod(&folder.join("run.sh"), 0o644);
    fs::remove_file(folder.join("readme-link")).unwrap();
    disk::symlink("src", &folder.join("readme-link"));
    disk::write(&folder.join("README.md"), "# Changed\n");
    let snap = sb.ok(&["snapshot", "varied"]);
    assert_eq!(snap["changes"]["modified"], 4);
    let out = sb.export("varied", &v1, "export-v1");
    original.assert_same(&Tree::read(&out), "export of the first version");
    let out = sb.export("varied", "latest", "export-v2");
    Tree::read(&folder).assert_same(&Tree::read(&out), "export of the second version");

    // Into a folder that is not empty: refused, nothing touched.
    let busy = sb.path("busy");
    disk::write(&busy.join("mine.txt"), "mine\n");
    assert_eq!(
        sb.fails(&["project", "export", "varied", s(&busy)], 4)["code"],
        "conflict"
    );
    assert_eq!(Tree::read(&busy).paths(), ["mine.txt"]);
}

#[test]
fn large_binary_files_go_to_the_chunk_layer_and_round_trip() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "media"]);
    let data = Rng::new(3).bytes(3 << 20);
    let run = sb.run_with_input(&["file", "save", "media", "video/clip.mp4"], &data);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    save(&sb, "media", "notes.txt", "small text\n");
    let snap = sb.ok(&["snapshot", "media"]);
    assert!(snap["new_chunk_bytes"].as_u64().unwrap() > 2 << 20);

    let files = sb.ok(&["files", "media"]);
    let layer = |path: &str| {
        files
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("{path} in {files}"))["layer"]
            .clone()
    };
    assert_eq!(layer("video/clip.mp4"), "chunks");
    assert_eq!(layer("notes.txt"), "git");
    let packs: Vec<PathBuf> = walk_files(&sb.vault().join("chunks/packs"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pack"))
        .collect();
    assert!(!packs.is_empty(), "chunk packs on disk");

    let out = sb.export("media", "latest", "out");
    assert!(fs::read(out.join("video/clip.mp4")).unwrap() == data);
    assert_eq!(
        fs::read_to_string(out.join("notes.txt")).unwrap(),
        "small text\n"
    );

    // A second copy of the same bytes takes (almost) no new space.
    let run = sb.run_with_input(&["file", "save", "media", "video/copy.mp4"], &data);
    assert_eq!(run.code, Some(0));
    let snap = sb.ok(&["snapshot", "media"]);
    assert!(
        snap["new_chunk_bytes"].as_u64().unwrap() < 64 << 10,
        "deduplicated: {snap}"
    );
    let verify = sb.ok(&["verify"]);
    assert!(verify["chunks_checked"].as_u64().unwrap() > 0);
}

pub fn walk_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn histories_are_real_git_repositories() {
    let sb = Sandbox::new();
    let src = sb.path("repo");
    let mut rng = Rng::new(9);
    varied_tree(&src, &mut rng);
    let p = sb.ok(&["project", "import", s(&src), "--link"])["project"].clone();
    disk::write(&src.join("src/lib/deep/mod.rs"), "pub fn f() -> u8 { 2 }\n");
    disk::write(&src.join("CHANGELOG.md"), "- second\n");
    sb.ok(&["snapshot", "repo", "-m", "second version"]);
    fs::remove_file(src.join("CHANGELOG.md")).unwrap();
    sb.ok(&["snapshot", "repo", "-m", "third version"]);
    let ids = sb.version_ids("repo");
    assert_eq!(ids.len(), 3);

    let bare = sb
        .vault()
        .join("histories")
        .join(format!("{}.git", p["id"].as_str().unwrap()));
    let fsck = git(&["-C", s(&bare), "fsck", "--full", "--strict"]);
    let fsck_err = String::from_utf8_lossy(&fsck.stderr);
    assert!(fsck.status.success(), "git fsck failed:\n{fsck_err}");
    assert!(!fsck_err.to_lowercase().contains("error"), "{fsck_err}");

    let clone = sb.path("clone");
    let c = git(&["clone", "--quiet", s(&bare), s(&clone)]);
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    let log = git(&["-C", s(&clone), "log", "--oneline"]);
    assert!(log.status.success());
    let log = String::from_utf8_lossy(&log.stdout).into_owned();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "{log}");
    for (line, id) in lines.iter().zip(&ids) {
        assert!(
            id.starts_with(line.split(' ').next().unwrap()),
            "{line} vs {id}"
        );
    }
    assert!(lines[0].contains("third version") && lines[1].contains("second version"));

    // Text files, modes and links are plain git; the checkout matches the folder except for
    // chunked files, which git holds as small pointers.
    let checkout = Tree::read(&clone);
    Tree::read(&src)
        .without(&["assets/icon.bin", "data/big.bin"])
        .assert_same(
            &checkout.without(&["assets/icon.bin", "data/big.bin"]),
            "git checkout",
        );
    let pointer = fs::metadata(clone.join("data/big.bin")).unwrap().len();
    assert!(
        pointer < 64 << 10,
        "git holds a pointer, not 3 MB: {pointer}"
    );
    let show = git(&["-C", s(&bare), "show", &format!("{}:CHANGELOG.md", ids[1])]);
    assert_eq!(String::from_utf8_lossy(&show.stdout), "- second\n");
}

/// `kura --json <args>` with `HOME` at `home` and `USER` as `user` (no git configuration but
/// what `home` holds), returning its JSON.
fn json_as(sb: &Sandbox, home: &std::path::Path, user: &str, args: &[&str]) -> Value {
    let out = sb
        .command(std::iter::once("--json").chain(args.iter().copied()))
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("USER", user)
        .env("LOGNAME", user)
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kura {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn versions_are_signed_with_the_persons_git_identity_else_their_account() {
    let sb = Sandbox::new();
    let with_git = sb.path("home-git");
    fs::create_dir_all(&with_git).unwrap();
    fs::write(
        with_git.join(".gitconfig"),
        "[user]\n\tname = Ada Lovelace\n\temail = ada@example.org\n",
    )
    .unwrap();
    let bare = sb.path("home-bare");
    fs::create_dir_all(&bare).unwrap();

    json_as(&sb, &with_git, "ada", &["project", "create", "app"]);
    save(&sb, "app", "a.txt", "one\n");
    json_as(&sb, &with_git, "ada", &["snapshot", "app"]);
    save(&sb, "app", "a.txt", "two\n");
    json_as(&sb, &bare, "kura-nobody", &["snapshot", "app"]);

    let list = json_as(&sb, &bare, "kura-nobody", &["history", "app"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3, "{list:?}");
    for v in &list[1..] {
        assert_eq!(v["author"], "Ada Lovelace <ada@example.org>");
        assert_eq!(v["trigger"], "cli");
    }
    // No git identity: the account's login (not in /etc/passwd, so no full name) at this host.
    let author = list[0]["author"].as_str().unwrap();
    assert!(
        author.starts_with("kura-nobody <kura-nobody@") && !author.contains("kura@localhost"),
        "{author}"
    );
    assert_eq!(list[0]["trigger"], "cli");
}

/// The `kura repack-due` processes running for the vault `sb` uses.
fn repacks_running(sb: &Sandbox) -> usize {
    let vault = sb.vault().as_os_str().as_encoded_bytes().to_vec();
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|cmd| {
            let args: Vec<&[u8]> = cmd.split(|b| *b == 0).collect();
            args.contains(&b"repack-due".as_slice()) && args.contains(&vault.as_slice())
        })
        .count()
}

/// `kura snapshot` leaves a pack per version; once they are many, it hands the history to a
/// `kura repack-due` of its own (the command does not wait for it), which rewrites it into one
/// pack with deltas, smaller, that git reads every version back from.
#[test]
fn versions_left_in_many_packs_are_repacked_after_the_command_returns() {
    let sb = Sandbox::new();
    let src = sb.path("notes");
    let page = |v: usize| -> String {
        (0..300)
            .map(|l| format!("line {l} of version {v}\n"))
            .collect()
    };
    disk::write(&src.join("notes.txt"), page(0));
    let p = sb.ok(&["project", "import", s(&src), "--link"])["project"].clone();
    let id = p["id"].as_str().unwrap();
    let history = sb.vault().join("histories").join(format!("{id}.git"));
    let packs = || {
        walk_files(&history.join("objects/pack"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "pack"))
            .count()
    };
    // Bytes of the files under the history folder, as the project's stored size counts them.
    let bytes = || {
        walk_files(&history)
            .iter()
            .map(|f| fs::metadata(f).unwrap().len())
            .sum::<u64>()
    };
    let mut v = 0;
    while packs() < 7 {
        v += 1;
        disk::write(&src.join("notes.txt"), page(v));
        sb.ok(&["snapshot", "notes"]);
    }
    assert_eq!(repacks_running(&sb), 0, "not due before 8 packs");
    assert_eq!(packs(), 7);
    v += 1;
    disk::write(&src.join("notes.txt"), page(v));
    sb.ok(&["snapshot", "notes"]);
    let before = bytes();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while (repacks_running(&sb) > 0 || packs() > 1) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(packs(), 1, "the versions' packs were rewritten into one");
    assert!(bytes() < before, "{} bytes, were {before}", bytes());
    let out = git(&["--git-dir", s(&history), "fsck", "--full", "--strict"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(versions(&sb, &["notes"]).len(), v + 1);
    // A project of small text files has no chunks: its stored size is its history's.
    let shown = sb.ok(&["project", "show", "notes"]);
    assert_eq!(shown["stored_size"].as_u64(), Some(bytes()), "{shown}");
}
