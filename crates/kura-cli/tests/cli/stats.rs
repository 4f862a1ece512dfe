//! `kura stats`: the four figures (on disk, latest versions, saved, layers) follow their one
//! definition, agree with each other and with the files under the vault folder.

use std::path::Path;

use crate::disk;
use crate::random::Rng;
use crate::sandbox::{s, Sandbox};

/// The lengths of every file under `dir`: what `du -sb --apparent-size` counts, less the
/// directories' own sizes.
fn file_bytes(dir: &Path) -> u64 {
    let mut sum = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let t = entry.file_type().unwrap();
        if t.is_dir() {
            sum += file_bytes(&entry.path());
        } else if t.is_file() {
            sum += entry.metadata().unwrap().len();
        }
    }
    sum
}

fn n(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn stats_figures_follow_their_definitions_and_agree_with_the_disk() {
    let sb = Sandbox::new();
    // Empty: the vault still takes space (its catalog), nothing is held, nothing is saved.
    let empty = sb.ok(&["stats"]);
    assert_eq!(n(&empty["latest_bytes"]), 0);
    assert_eq!(n(&empty["saved_bytes"]), 0);
    assert!(n(&empty["on_disk_bytes"]) > 0);

    let big = Rng::new(3).bytes(2 << 20); // incompressible, stored once as chunks
    let big_file = sb.path("big.bin");
    disk::write(&big_file, &big);
    let text = sb.path("a.txt");
    disk::write(&text, "hello world, 24 bytes!!\n");
    for project in ["one", "two"] {
        sb.ok(&["project", "create", project]);
        sb.ok(&["file", "save", project, "big.bin", "--from", s(&big_file)]);
        sb.ok(&["file", "save", project, "a.txt", "--from", s(&text)]);
        sb.ok(&["snapshot", project]);
    }
    let st = sb.ok(&["stats"]);
    // What the latest versions hold: the content written, to the byte.
    let content = 2 * (big.len() as u64 + 24);
    assert_eq!(n(&st["latest_bytes"]), content, "{st:#}");
    // The layers add up to what the vault takes on disk, exactly; no memory limit among them.
    let layers = st["layers"].as_array().unwrap();
    let names: Vec<&str> = layers
        .iter()
        .map(|l| l["layer"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["files", "git", "chunks", "archives", "catalog", "other"]
    );
    let sum: u64 = layers.iter().map(|l| n(&l["on_disk_bytes"])).sum();
    assert_eq!(sum, n(&st["on_disk_bytes"]));
    let layer =
        |name: &str| n(&layers.iter().find(|l| l["layer"] == name).unwrap()["on_disk_bytes"]);
    // The versions are stored in the histories and chunks; the big file once.
    assert_eq!(
        n(&st["versions_on_disk_bytes"]),
        layer("git") + layer("chunks")
    );
    assert!(layer("chunks") < big.len() as u64 + (256 << 10), "{st:#}");
    assert!(n(&st["all_versions_bytes"]) >= content);
    assert_eq!(
        n(&st["saved_bytes"]),
        n(&st["all_versions_bytes"]) - n(&st["versions_on_disk_bytes"])
    );
    assert!(n(&st["saved_bytes"]) > big.len() as u64 / 2, "{st:#}");
    // On disk is every file under the vault folder. Tolerance 5% or 128 KiB: `kura stats`
    // measured while it had the catalog open, with SQLite's write-ahead log and shared-memory
    // files beside it; they are gone once it closed, when this walk runs.
    let walked = file_bytes(sb.vault());
    let on_disk = n(&st["on_disk_bytes"]);
    let tolerance = (walked / 20).max(128 << 10);
    assert!(
        on_disk.abs_diff(walked) <= tolerance,
        "kura stats says {on_disk}, the files under the vault add up to {walked}"
    );
    // The text output uses the same words.
    let out = sb.run(&["stats"]).text();
    assert!(out.contains("On disk: "), "{out}");
    assert!(out.contains("Latest versions hold: 4 MiB"), "{out}");
    assert!(out.contains("Saved: "), "{out}");
    assert!(!out.to_lowercase().contains("cache"), "{out}");

    // One small file: nothing is claimed as saved.
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "tiny"]);
    sb.ok(&["file", "save", "tiny", "a.txt", "--from", s(&text)]);
    sb.ok(&["snapshot", "tiny"]);
    let st = sb.ok(&["stats"]);
    assert_eq!(n(&st["latest_bytes"]), 24);
    assert_eq!(n(&st["saved_bytes"]), 0);
    let out = sb.run(&["stats"]).text();
    assert!(out.contains("Saved: nothing yet"), "{out}");
    assert!(!out.contains("larger"), "{out}");
}

#[test]
fn a_projects_folder_outside_the_vault_is_counted_on_disk_and_named() {
    let sb = Sandbox::new();
    let elsewhere = sb.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    sb.ok(&["config", "set", "paths.projects", s(&elsewhere)]);
    let data = sb.path("data.bin");
    disk::write(&data, Rng::new(5).bytes(300 << 10));
    sb.ok(&["project", "create", "app"]);
    sb.ok(&["file", "save", "app", "data.bin", "--from", s(&data)]);
    let st = sb.ok(&["stats"]);
    assert_eq!(st["projects_folder"], s(&elsewhere), "{st:#}");
    let layers = st["layers"].as_array().unwrap();
    let files = n(&layers.iter().find(|l| l["layer"] == "files").unwrap()["on_disk_bytes"]);
    assert!(files >= 300 << 10, "{st:#}");
    let sum: u64 = layers.iter().map(|l| n(&l["on_disk_bytes"])).sum();
    assert_eq!(sum, n(&st["on_disk_bytes"]));
    // Both folders, as in the first test: 5% or 128 KiB for SQLite's files of the open catalog.
    let walked = file_bytes(sb.vault()) + file_bytes(&elsewhere);
    let on_disk = n(&st["on_disk_bytes"]);
    assert!(
        on_disk.abs_diff(walked) <= (walked / 20).max(128 << 10),
        "kura stats says {on_disk}, the files under both folders add up to {walked}"
    );
    let out = sb.run(&["stats"]).text();
    assert!(
        out.contains(&format!(
            "(with the projects folder {})",
            elsewhere.display()
        )),
        "{out}"
    );
}
