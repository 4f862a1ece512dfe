//! Symbolic links in archives and projects, imports that fail and leave nothing behind, two
//! imports of one name at once, and archives that would unpack to more than they should: built
//! with the real `tar` and `git`, run through the `kura` binary.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::disk;
use crate::sandbox::{git, s, tool, Sandbox};

/// A tar of `members` under `dir`, in that order (no recursion), compressed by `flag`
/// (`--zstd` or `-z`).
fn tar(dir: &Path, out: &Path, flag: &str, members: &[&str]) {
    tool(
        Command::new("tar")
            .arg(flag)
            .arg("-cf")
            .arg(out)
            .arg("-C")
            .arg(dir)
            .arg("--no-recursion")
            .args(members),
    );
}

/// Every path under the vault's projects, histories and archives folders, with its type, and
/// the catalog's projects: what a refused import must leave as it was.
fn vault_state(sb: &Sandbox) -> (Vec<String>, Value) {
    let mut out = Vec::new();
    for top in ["projects", "histories", "archives"] {
        let root = sb.vault().join(top);
        if !root.exists() {
            continue;
        }
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let e = e.unwrap();
                let ft = e.file_type().unwrap();
                let rel = e.path().strip_prefix(sb.vault()).unwrap().to_path_buf();
                let kind = if ft.is_symlink() {
                    "link"
                } else if ft.is_dir() {
                    stack.push(e.path());
                    "dir"
                } else {
                    "file"
                };
                out.push(format!("{kind} {}", rel.display()));
            }
        }
    }
    out.sort();
    (out, sb.ok(&["project", "list", "--all"]))
}

/// A project `name` with a few files, archived; returns the archive unpacked under `work`
/// (its one top folder's name) next to the archive file.
fn archived_project(sb: &Sandbox, name: &str, work: &Path) -> String {
    let src = sb.path(&format!("src-{name}"));
    disk::write(&src.join("src/main.rs"), "fn main() {}\n");
    disk::write(&src.join("README.md"), "# hello\n");
    sb.ok(&["project", "import", s(&src), "--name", name]);
    let info = sb.ok(&["archive", name]);
    let file = info["path"].as_str().unwrap().to_string();
    std::fs::create_dir_all(work).unwrap();
    tool(
        Command::new("tar")
            .args(["--zstd", "-xf", &file, "-C"])
            .arg(work),
    );
    let mut tops: Vec<String> = std::fs::read_dir(work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(tops.len(), 1, "{tops:?}");
    tops.pop().unwrap()
}

#[test]
fn a_kura_archive_whose_files_folder_is_a_link_is_refused_and_leaves_nothing() {
    let sb = Sandbox::new();
    let work = sb.path("work");
    let top = archived_project(&sb, "orig", &work);
    let cases: [(&str, &[(&str, &str)]); 3] = [
        ("..", &[]),
        (".", &[]),
        ("l1", &[("l1", "l2"), ("l2", "..")]),
    ];
    for (i, (target, chain)) in cases.iter().enumerate() {
        let w = sb.path(&format!("case{i}"));
        tool(Command::new("cp").arg("-a").arg(&work).arg(&w));
        let t = w.join(&top);
        std::fs::remove_dir_all(t.join("files")).unwrap();
        disk::symlink(target, &t.join("files"));
        let mut members = vec![top.clone()];
        for (link, to) in chain.iter() {
            disk::symlink(to, &t.join(link));
            members.push(format!("{top}/{link}"));
        }
        for m in ["metadata.json", "history.bundle", "files"] {
            members.push(format!("{top}/{m}"));
        }
        let bad = sb.path(&format!("bad{i}.tar.zst"));
        let refs: Vec<&str> = members.iter().map(String::as_str).collect();
        tar(&w, &bad, "--zstd", &refs);
        let before = vault_state(&sb);
        let err = sb.fails(&["import", s(&bad), "--name", &format!("evil{i}")], 5);
        assert_eq!(err["code"], "path_escape", "files -> {target}: {err}");
        assert_eq!(vault_state(&sb), before, "files -> {target}");
    }
    // The archive itself still imports, as a project whose folder is a real folder.
    let archive = sb.ok(&["archive", "list"])[0]["path"]
        .as_str()
        .unwrap()
        .to_string();
    let p = sb.ok(&["import", &archive, "--name", "copy"]);
    let folder = PathBuf::from(p["path"].as_str().unwrap());
    assert!(std::fs::symlink_metadata(&folder).unwrap().is_dir());
    assert_eq!(
        std::fs::read_to_string(folder.join("src/main.rs")).unwrap(),
        "fn main() {}\n"
    );
}

#[test]
fn an_import_that_fails_late_leaves_the_vault_as_it_was() {
    let sb = Sandbox::new();
    let work = sb.path("work");
    let top = archived_project(&sb, "orig", &work);
    let archive = sb.ok(&["archive", "list"])[0]["path"]
        .as_str()
        .unwrap()
        .to_string();
    let before = vault_state(&sb);
    // Refused after the history, the folder and the row were made (a kind that is no name).
    let err = sb.fails(&["import", &archive, "--name", "late", "--kind", "a/b"], 2);
    assert_eq!(err["code"], "invalid_input", "{err}");
    assert_eq!(vault_state(&sb), before);
    // A damaged history bundle.
    let bundle = work.join(&top).join("history.bundle");
    let bytes = std::fs::read(&bundle).unwrap();
    std::fs::write(&bundle, &bytes[..bytes.len() / 2]).unwrap();
    let damaged = sb.path("damaged.tar.zst");
    tool(
        Command::new("tar")
            .args(["--zstd", "-cf"])
            .arg(&damaged)
            .arg("-C")
            .arg(&work)
            .arg(&top),
    );
    let run = sb.json_run(&["import", s(&damaged), "--name", "damaged"]);
    assert_ne!(run.code, Some(0), "{}", run.text());
    assert_eq!(vault_state(&sb), before);
}

/// `d0/d1/.../d13`, each with `up -> ..`.
fn up_chain(dir: &Path) -> (String, Vec<String>) {
    let mut path = String::new();
    let mut members = Vec::new();
    for i in 0..14 {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(&format!("d{i}"));
        std::fs::create_dir_all(dir.join(&path)).unwrap();
        members.push(path.clone());
        disk::symlink("..", &dir.join(&path).join("up"));
        members.push(format!("{path}/up"));
    }
    (path, members)
}

#[test]
fn links_that_climb_out_through_other_links_are_refused() {
    let sb = Sandbox::new();
    // The chain itself stays inside, and a link through it that stays inside is kept.
    let ok_dir = sb.path("ok");
    let (deep, mut members) = up_chain(&ok_dir);
    disk::write(&ok_dir.join("d0/f.txt"), "f\n");
    members.push("d0/f.txt".into());
    let inside = format!("{deep}/{}f.txt", "up/".repeat(13));
    disk::symlink(&inside, &ok_dir.join("fine"));
    members.push("fine".into());
    let ok = sb.path("ok.tar.gz");
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    tar(&ok_dir, &ok, "-z", &refs);
    let dest = sb.path("ok-out");
    sb.ok(&["extract", s(&ok), s(&dest)]);
    assert_eq!(std::fs::read_to_string(dest.join("fine")).unwrap(), "f\n");

    // One `up` more, and `..`, leave the destination.
    let cases: Vec<(&str, String)> = vec![
        (
            "through the chain",
            format!("{deep}/{}..", "up/".repeat(14)),
        ),
        ("absolute", "/etc".into()),
    ];
    for (i, (what, target)) in cases.iter().enumerate() {
        let dir = sb.path(&format!("evil{i}"));
        let (_, mut members) = up_chain(&dir);
        disk::symlink(target, &dir.join("x"));
        members.push("x".into());
        let refs: Vec<&str> = members.iter().map(String::as_str).collect();
        let file = sb.path(&format!("evil{i}.tar.gz"));
        tar(&dir, &file, "-z", &refs);
        let dest = sb.path(&format!("evil{i}-out"));
        let err = sb.fails(&["extract", s(&file), s(&dest)], 5);
        assert_eq!(err["code"], "path_escape", "{what}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains("'x'"),
            "{what}: {err}"
        );
        assert!(
            !dest.exists() || std::fs::read_dir(&dest).unwrap().next().is_none(),
            "{what}: the destination kept something"
        );
        let before = vault_state(&sb);
        let err = sb.fails(&["import", s(&file), "--name", &format!("evil{i}")], 5);
        assert_eq!(err["code"], "path_escape", "{what}: {err}");
        assert_eq!(vault_state(&sb), before, "{what}");
    }
}

#[test]
fn a_link_made_harmless_then_turned_out_by_a_later_link_and_a_loop_are_refused() {
    let sb = Sandbox::new();
    // `x -> d/..` is the top while `d` is a folder to be; then `d -> .` makes it the parent.
    let dir = sb.path("late");
    disk::symlink("d/..", &dir.join("x"));
    disk::symlink(".", &dir.join("d"));
    let file = sb.path("late.tar.gz");
    tar(&dir, &file, "-z", &["x", "d"]);
    let err = sb.fails(&["extract", s(&file), s(&sb.path("late-out"))], 5);
    assert_eq!(err["code"], "path_escape", "{err}");
    assert!(err["message"].as_str().unwrap().contains("'x'"), "{err}");

    let dir = sb.path("loop");
    disk::symlink("b", &dir.join("a"));
    disk::symlink("a", &dir.join("b"));
    let file = sb.path("loop.tar.gz");
    tar(&dir, &file, "-z", &["a", "b"]);
    let err = sb.fails(&["extract", s(&file), s(&sb.path("loop-out"))], 5);
    assert_eq!(err["code"], "path_escape", "{err}");
    assert!(err["message"].as_str().unwrap().contains("loop"), "{err}");
}

#[test]
fn snapshots_skip_links_leading_out_and_export_refuses_a_version_holding_one() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    disk::write(&src.join("a/main.rs"), "fn main() {}\n");
    sb.ok(&["project", "import", s(&src), "--name", "p"]);
    let folder = PathBuf::from(sb.ok(&["project", "show", "p"])["path"].as_str().unwrap());
    disk::symlink("a/main.rs", &folder.join("ok"));
    disk::symlink("up/..", &folder.join("a/out"));
    disk::symlink("..", &folder.join("a/up"));
    let run = sb.json_run(&["snapshot", "p", "-m", "links"]);
    assert_eq!(run.code, Some(11), "{}\n{}", run.text(), run.stderr);
    let skipped = run.json()["skipped"].clone();
    assert_eq!(skipped.as_array().unwrap().len(), 1, "{skipped}");
    assert_eq!(skipped[0]["path"], "a/out");
    let out = sb.export("p", "latest", "exported");
    assert_eq!(
        std::fs::read_link(out.join("ok")).unwrap(),
        Path::new("a/main.rs")
    );
    assert_eq!(
        std::fs::read_link(out.join("a/up")).unwrap(),
        Path::new("..")
    );
    assert!(std::fs::symlink_metadata(out.join("a/out")).is_err());

    // A version made by other means that holds a link out: export refuses it.
    let id = sb.ok(&["project", "show", "p"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hist = sb.vault().join(format!("histories/{id}.git"));
    let h = s(&hist);
    let mut blob = Command::new("git")
        .args(["--git-dir", h, "hash-object", "-w", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    blob.stdin.take().unwrap().write_all(b"../..").unwrap();
    let blob = String::from_utf8(blob.wait_with_output().unwrap().stdout).unwrap();
    let tree = String::from_utf8(git(&["--git-dir", h, "ls-tree", "latest"]).stdout).unwrap();
    let tree = format!("{tree}120000 blob {}\tevil\n", blob.trim());
    let mut mk = Command::new("git")
        .args(["--git-dir", h, "mktree"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    mk.stdin.take().unwrap().write_all(tree.as_bytes()).unwrap();
    let tree = String::from_utf8(mk.wait_with_output().unwrap().stdout).unwrap();
    let commit = git(&[
        "--git-dir",
        h,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit-tree",
        tree.trim(),
        "-m",
        "evil",
    ]);
    let commit = String::from_utf8(commit.stdout).unwrap();
    assert_eq!(commit.trim().len(), 40, "{commit}");
    let dest = sb.path("evil-out");
    let err = sb.fails(
        &[
            "project",
            "export",
            "p",
            s(&dest),
            "--version",
            commit.trim(),
        ],
        5,
    );
    assert_eq!(err["code"], "path_escape", "{err}");
    assert!(err["message"].as_str().unwrap().contains("'evil'"), "{err}");
    assert!(!dest.exists() || std::fs::read_dir(&dest).unwrap().next().is_none());
}

#[test]
fn two_creates_or_imports_of_one_name_at_once_end_in_one_project() {
    let sb = Sandbox::new();
    // What a second create of a taken name gives, one after the other.
    sb.ok(&["project", "create", "seq"]);
    let seq = sb.fails(&["project", "create", "seq"], 4);
    assert_eq!(seq["code"], "already_exists");
    let work = sb.path("plain");
    disk::write(&work.join("site/index.html"), "<p>hi</p>\n");
    let plain = sb.path("site.tar.gz");
    tar(&work, &plain, "-z", &["site", "site/index.html"]);
    let kura_work = sb.path("kura-work");
    archived_project(&sb, "orig", &kura_work);
    let kura_archive = sb.ok(&["archive", "list"])[0]["path"]
        .as_str()
        .unwrap()
        .to_string();
    let mut winners = 0;
    for round in 0..20 {
        let name = format!("race{round}");
        let args: Vec<String> = match round % 3 {
            0 => vec!["project".into(), "create".into(), name.clone()],
            1 => vec![
                "import".into(),
                s(&plain).into(),
                "--name".into(),
                name.clone(),
            ],
            _ => vec![
                "import".into(),
                kura_archive.clone(),
                "--name".into(),
                name.clone(),
            ],
        };
        let spawn = || {
            sb.command(std::iter::once("--json".to_string()).chain(args.clone()))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let codes: Vec<i32> = outs.iter().map(|o| o.status.code().unwrap()).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 4], "round {round} ({args:?}): {outs:?}");
        let loser = outs.iter().find(|o| o.status.code() == Some(4)).unwrap();
        let err: Value = serde_json::from_slice(&loser.stdout).unwrap();
        assert_eq!(err["error"]["code"], seq["code"], "round {round}: {err}");
        let msg = err["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("already has a project named '{name}'")),
            "round {round}: {msg}"
        );
        winners += 1;
    }
    // Every project has its folder and history, and nothing else is left.
    let projects = sb.ok(&["project", "list", "--all"]);
    let projects = projects.as_array().unwrap();
    assert_eq!(projects.len(), winners + 2, "{projects:?}");
    let folders: Vec<_> = std::fs::read_dir(sb.vault().join("projects"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // The archived project has no folder.
    assert_eq!(folders.len(), winners + 1, "{folders:?}");
    for p in projects.iter().filter(|p| p["status"] == "active") {
        let f = PathBuf::from(p["path"].as_str().unwrap());
        assert!(folders.contains(&f), "{f:?} of {} missing", p["name"]);
    }
    let histories = std::fs::read_dir(sb.vault().join("histories"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".git")
        })
        .count();
    assert_eq!(histories, winners + 1);
}

/// Allocated bytes of a file.
fn allocated(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().blocks() * 512
}

#[test]
fn sparse_files_unpack_as_holes_and_an_archive_declaring_too_much_is_refused() {
    let sb = Sandbox::new();
    let dir = sb.path("sparse");
    std::fs::create_dir_all(&dir).unwrap();
    let small = dir.join("small.img");
    let f = std::fs::File::create(&small).unwrap();
    f.set_len(50 << 20).unwrap();
    use std::os::unix::fs::FileExt;
    f.write_all_at(b"in the middle", 25 << 20).unwrap();
    drop(f);
    let archive = sb.path("small.tar.gz");
    tool(
        Command::new("tar")
            .args(["--sparse", "--format=gnu", "-czf"])
            .arg(&archive)
            .arg("-C")
            .arg(&dir)
            .arg("small.img"),
    );
    let dest = sb.path("small-out");
    sb.ok(&["extract", s(&archive), s(&dest)]);
    let out = dest.join("small.img");
    let data = std::fs::read(&out).unwrap();
    assert_eq!(data.len(), 50 << 20);
    assert_eq!(&data[25 << 20..(25 << 20) + 13], b"in the middle");
    assert!(data[..25 << 20].iter().all(|&b| b == 0));
    assert!(
        allocated(&out) < 4 << 20,
        "50 MiB sparse file took {} bytes on disk",
        allocated(&out)
    );

    // 12 GiB declared by a few hundred bytes.
    std::fs::remove_file(&small).unwrap();
    let huge = dir.join("huge.img");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(12 << 30).unwrap();
    f.write_all_at(b"x", 6 << 30).unwrap();
    drop(f);
    let bomb = sb.path("bomb.tar.gz");
    tool(
        Command::new("tar")
            .args(["--sparse", "--format=gnu", "-czf"])
            .arg(&bomb)
            .arg("-C")
            .arg(&dir)
            .arg("huge.img"),
    );
    std::fs::remove_file(&huge).unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 4096);
    let dest = sb.path("bomb-out");
    let err = sb.fails(&["extract", s(&bomb), s(&dest)], 6);
    assert_eq!(err["code"], "quota_exceeded", "{err}");
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.contains("huge.img") && msg.contains("archive.unpack_max_ratio"),
        "{msg}"
    );
    assert!(!dest.exists() || std::fs::read_dir(&dest).unwrap().next().is_none());
    let before = vault_state(&sb);
    let err = sb.fails(&["import", s(&bomb), "--name", "bomb"], 6);
    assert_eq!(err["code"], "quota_exceeded", "{err}");
    assert_eq!(vault_state(&sb), before);
    // The limit is a setting: with no ratio limit, the free-space rule still holds a 12 GiB
    // file that this disk cannot take, and lets the small one through.
    sb.ok(&["config", "set", "archive.unpack_max_ratio", "0"]);
    sb.ok(&["config", "set", "archive.unpack_free_reserve", "100 TiB"]);
    let err = sb.fails(&["extract", s(&archive), s(&sb.path("reserve-out"))], 7);
    assert_eq!(err["code"], "disk_full", "{err}");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("archive.unpack_free_reserve"));
}

#[test]
fn a_managed_folder_replaced_by_a_link_is_not_acted_on_and_deleting_leaves_its_target() {
    let sb = Sandbox::new();
    let p = sb.ok(&["project", "create", "m"]);
    let folder = PathBuf::from(p["path"].as_str().unwrap());
    let outside = sb.path("outside");
    disk::write(&outside.join("precious.txt"), "keep\n");
    std::fs::remove_dir_all(&folder).unwrap();
    disk::symlink(&outside, &folder);
    let err = sb.fails(&["snapshot", "m"], 5);
    assert_eq!(err["code"], "path_escape", "{err}");
    let err = sb.fails(&["restore", "m", "latest"], 5);
    assert_eq!(err["code"], "path_escape", "{err}");
    sb.ok(&["project", "delete", "m", "--hard"]);
    sb.ok(&["gc"]);
    assert_eq!(
        std::fs::read_to_string(outside.join("precious.txt")).unwrap(),
        "keep\n"
    );
}

/// A folder of the project replaced by a link leading out (`rm -r d; ln -s /outside d`): a
/// restore brings the real folder back with its files, removes only the link (what it pointed
/// to is untouched), and its report says what it wrote. The restore used to exit 0 with the
/// link still there and `d/file.txt` missing.
#[test]
fn a_restore_over_a_folder_replaced_by_a_link_brings_the_folder_back() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "p"]);
    let folder = sb.vault().join("projects/p");
    disk::write(&folder.join("d/file.txt"), "inside\n");
    disk::write(&folder.join("d/sub/deep.txt"), "deeper\n");
    disk::write(&folder.join("top.txt"), "top\n");
    sb.ok(&["snapshot", "p"]);
    let outside = sb.path("outside");
    disk::write(&outside.join("theirs.txt"), "not Kura's\n");
    std::fs::remove_dir_all(folder.join("d")).unwrap();
    disk::symlink(&outside, &folder.join("d"));

    let report = sb.ok(&["restore", "p", "latest"]);
    let d = std::fs::symlink_metadata(folder.join("d")).unwrap();
    assert!(d.is_dir(), "d is still a link after the restore: {report}");
    assert_eq!(
        std::fs::read_to_string(folder.join("d/file.txt")).unwrap(),
        "inside\n"
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("d/sub/deep.txt")).unwrap(),
        "deeper\n"
    );
    assert_eq!(report["files_written"], 2, "{report}");
    // What the link pointed to is as it was, and nothing was written there.
    let names: Vec<String> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["theirs.txt"]);
    assert_eq!(
        std::fs::read_to_string(outside.join("theirs.txt")).unwrap(),
        "not Kura's\n"
    );
    // The folder now matches the version: nothing changed since.
    let files = sb.ok(&["files", "p"]);
    let changed: Vec<&Value> = files
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["state"] != "unchanged")
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
}
