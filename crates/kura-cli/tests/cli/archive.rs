//! Archives, imports, quotas and cleanup through the `kura` binary, checked with the real
//! `tar`, `zstd`, `git` and `sha256sum`.

use std::process::Command;

use crate::disk::{self, Tree};
use crate::sandbox::{s, tool, Sandbox};

#[test]
fn archive_extract_unarchive_with_real_tools() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    disk::write(&src.join("README.md"), "# tool\n");
    disk::write(&src.join("src/main.rs"), "fn main() {}\n");
    disk::write(&src.join("data/blob.bin"), vec![7u8; 3 << 20]);
    disk::symlink("README.md", &src.join("LINK"));
    sb.ok(&["project", "import", s(&src), "--name", "tool"]);
    let before = Tree::read(&src);
    let versions = sb.version_ids("tool");

    let a = sb.ok(&["archive", "tool"]);
    let path = a["path"].as_str().unwrap().to_string();
    assert!(path.contains("/archives/"), "{path}");
    let sum = tool(Command::new("sha256sum").arg(&path));
    assert!(sum.starts_with(a["sha256"].as_str().unwrap()));
    assert_eq!(sb.ok(&["project", "show", "tool"])["status"], "archived");
    // The folder and history were moved aside at once; a `kura` started in the background
    // removes them.
    let bin = sb.vault().join("discard");
    assert!(!sb.vault().join("projects/tool").exists());
    let waited = std::time::Instant::now();
    while std::fs::read_dir(&bin).unwrap().count() > 0 {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(120),
            "nothing removed what the archive moved aside"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let list = sb.ok(&["archives"]);
    assert_eq!(list[0]["id"], a["id"]);
    assert!(list[0]["compression_ratio"].as_f64().unwrap() > 1.0);
    assert_eq!(
        sb.ok(&["archive", "verify", "tool"])["problems"],
        serde_json::json!([])
    );

    let out = sb.path("untar");
    std::fs::create_dir_all(&out).unwrap();
    tool(
        Command::new("tar")
            .args(["--zstd", "-xf", &path, "-C"])
            .arg(&out),
    );
    before.assert_same(
        &Tree::read(&out.join("tool/files")),
        "tar --zstd -x of the archive",
    );
    let clone = sb.path("clone");
    crate::sandbox::git_clone_archive(&out.join("tool"), &clone);
    let log = tool(
        Command::new("git")
            .arg("-C")
            .arg(&clone)
            .args(["log", "--format=%H"]),
    );
    assert_eq!(log.lines().collect::<Vec<_>>(), versions);

    let ex = sb.path("extracted");
    sb.ok(&["extract", a["id"].as_str().unwrap(), s(&ex)]);
    before.assert_same(&Tree::read(&ex.join("tool/files")), "kura extract");

    let p = sb.ok(&["unarchive", "tool"]);
    assert_eq!(p["status"], "active");
    assert_eq!(sb.version_ids("tool"), versions);
    let folder = std::path::PathBuf::from(p["path"].as_str().unwrap());
    before.assert_same(&Tree::read(&folder), "unarchived folder");
    assert_eq!(sb.ok(&["archives"]), serde_json::json!([]));
}

#[test]
fn import_refuses_escapes_and_damage_with_their_exit_codes() {
    let sb = Sandbox::new();
    // A tarball made by the real tar, with ../ in a member name.
    let work = sb.path("w/inner");
    disk::write(&work.join("ok.txt"), "fine\n");
    disk::write(&sb.path("w/evil.txt"), "outside\n");
    let bad = sb.path("bad.tar.gz");
    tool(
        Command::new("tar")
            .arg("-czf")
            .arg(&bad)
            .arg("-C")
            .arg(&work)
            .args(["--absolute-names", "ok.txt", "../evil.txt"]),
    );
    let err = sb.fails(&["import", s(&bad)], 5);
    assert_eq!(err["code"], "path_escape");
    assert!(
        err["message"].as_str().unwrap().contains("../evil.txt"),
        "{err}"
    );
    assert_eq!(sb.ok(&["project", "list", "--all"]), serde_json::json!([]));

    let good = sb.path("site.tar.zst");
    tool(
        Command::new("tar")
            .args(["--zstd", "-cf"])
            .arg(&good)
            .arg("-C")
            .arg(&work)
            .arg("ok.txt"),
    );
    let bytes = std::fs::read(&good).unwrap();
    let cut = sb.path("cut.tar.zst");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(sb.fails(&["import", s(&cut)], 8)["code"], "corrupt");
    let p = sb.ok(&["import", s(&good), "--name", "site"]);
    assert_eq!(p["name"], "site");
    assert_eq!(p["kind"], "imported");
}

#[test]
fn quotas_warn_and_refuse_and_cleanup_reports_what_it_frees() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "app"]);
    sb.ok(&["config", "set", "quota.max_project_size", "100 KiB"]);
    let big = sb.path("big.bin");
    disk::write(&big, vec![1u8; 82 << 10]);
    sb.ok(&["file", "save", "app", "a.bin", "--from", s(&big)]);
    sb.ok(&["snapshot", "app"]);
    let q = sb.ok(&["quota"]);
    assert_eq!(q["projects"][0]["level"], "warning80");
    let stats = sb.ok(&["stats"]);
    assert!(stats["quota"]["warnings"][0]
        .as_str()
        .unwrap()
        .contains("project 'app'"));
    let text = sb.run(&["stats"]).text();
    assert!(text.contains("Warning: project 'app' uses"), "{text}");
    // Counts say "1 file", "1 project"; sizes follow the one rule (82 KiB, not "82.0 KiB").
    assert!(text.contains(" 1 file "), "{text}");
    assert!(text.contains(" 1 project "), "{text}");
    assert!(
        !text.contains(" 1 files") && !text.contains(" 1 projects"),
        "{text}"
    );
    assert!(text.contains(" 82 KiB "), "{text}");

    let err = sb.fails(&["file", "save", "app", "b.bin", "--from", s(&big)], 6);
    assert_eq!(err["code"], "quota_exceeded");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("quota.max_project_size"));
    assert!(!sb.path("vault/projects/app/b.bin").exists());

    sb.ok(&["project", "delete", "app"]);
    sb.ok(&["config", "set", "cleanup.trash_days", "0"]);
    let dry = sb.ok(&["cleanup", "--dry-run", "--only", "trash,chunks"]);
    assert_eq!(dry["dry_run"], true);
    let run = sb.ok(&["cleanup", "--only", "chunks"]);
    assert_eq!(run["categories"][0]["category"], "chunks");
    let history = sb.ok(&["cleanup", "history"]);
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[0]["id"], run["id"]);
}

#[test]
fn a_removal_cut_short_is_finished_by_gc() {
    let sb = Sandbox::new();
    sb.ok(&["status"]);
    // What a killed `kura purge-discarded` leaves: part of a moved-aside folder.
    let left = sb.vault().join("discard/app-18ea61cbeeaf7036-1-0");
    disk::write(&left.join("src/lib.rs"), "pub fn f() {}\n");
    disk::write(&left.join("target/debug/app"), vec![1u8; 1 << 20]);
    sb.ok(&["gc"]);
    assert_eq!(
        std::fs::read_dir(sb.vault().join("discard"))
            .unwrap()
            .count(),
        0
    );
}

/// `kura archive --idle` archives the projects idle past `archive.archive_after_days` and
/// announces each in the event log, as the scheduled pass of the app or `kura serve` would.
#[test]
fn kura_archive_idle_archives_the_idle_projects_and_announces_them() {
    let sb = Sandbox::new();
    let old = sb.ok(&["project", "create", "old"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    sb.ok(&["project", "create", "fresh"]);
    sb.ok(&["config", "set", "archive.archive_after_days", "30"]);
    // `old` was last changed and opened 40 days ago.
    let long_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - 40 * 86_400;
    let db = rusqlite::Connection::open(sb.vault().join("catalog.db")).unwrap();
    db.execute(
        "UPDATE projects SET updated_at = ?1, last_opened_at = ?1 WHERE id = ?2",
        rusqlite::params![long_ago, old],
    )
    .unwrap();
    drop(db);

    let made = sb.ok(&["archive", "--idle"]);
    let ids: Vec<&str> = made
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["project_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [old.as_str()]);
    let status = |name: &str| sb.ok(&["project", "show", name])["status"].clone();
    assert_eq!(status("old"), "archived");
    assert_eq!(status("fresh"), "active");
    let log = kura_api::Events::open(&sb.vault().join("events.db")).unwrap();
    let page = log.since(0, &["vault.changed".to_string()], 1000).unwrap();
    assert!(
        page.events.iter().any(
            |e| e.project_id.as_deref() == Some(old.as_str()) && e.data["reason"] == "archived"
        ),
        "{:?}",
        page.events
    );
}
