//! Damaged data, found and named exactly: `kura verify` of one project agrees with the full one,
//! a damaged or cut chunk pack names the projects, versions and files it affects, reading a
//! damaged file is `corrupt` and leaves the file in place alone, and a damaged archive is
//! refused by verify, unarchive and extract with nothing left behind.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::disk;
use crate::history::walk_files;
use crate::random::Rng;
use crate::sandbox::{git, s, tool, Sandbox};

fn chunk_packs(vault: &Path) -> Vec<PathBuf> {
    walk_files(&vault.join("chunks/packs"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pack"))
        .collect()
}

fn pack_id(pack: &Path) -> String {
    pack.file_stem().unwrap().to_str().unwrap().to_string()
}

fn problems(report: &Value) -> Vec<Value> {
    report["problems"].as_array().unwrap().clone()
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at] ^= 0x5a;
    fs::write(path, bytes).unwrap();
}

fn cut(path: &Path, by: u64) {
    let len = fs::metadata(path).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len - by)
        .unwrap();
}

/// Saves `data` as `path` of `project` with `kura file save --from`.
fn save(sb: &Sandbox, project: &str, path: &str, data: &[u8]) {
    let src = sb.path(&format!("upload-{}", path.replace('/', "-")));
    disk::write(&src, data);
    sb.ok(&["file", "save", project, path, "--from", s(&src)]);
}

/// The reproduction: a 3 MiB random file saved with `kura file save`, one snapshot.
#[test]
fn verifying_one_project_agrees_with_verifying_the_vault() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "alpha"]);
    save(
        &sb,
        "alpha",
        "data/random.bin",
        &Rng::new(12).bytes(3 << 20),
    );
    sb.ok(&["snapshot", "alpha"]);

    let all = sb.ok(&["verify"]);
    assert!(problems(&all).is_empty(), "{all}");
    let one = sb.ok(&["verify", "alpha"]);
    assert!(problems(&one).is_empty(), "{one}");
    assert!(one["chunks_checked"].as_u64().unwrap() >= 3, "{one}");
    assert_eq!(one["chunks_checked"], all["chunks_checked"]);
    let text = sb.run(&["verify", "alpha"]);
    assert_eq!(text.code, Some(0), "{}{}", text.text(), text.stderr);
    assert!(
        text.text().contains("No problems found."),
        "{}",
        text.text()
    );
}

/// Real damage in one project's pack: the project's verify reports exactly what the full verify
/// reports for it, and nothing about the other, healthy project.
#[test]
fn a_damaged_pack_is_reported_alike_by_the_project_and_the_vault_verify() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "alpha"]);
    save(
        &sb,
        "alpha",
        "data/random.bin",
        &Rng::new(13).bytes(3 << 20),
    );
    sb.ok(&["snapshot", "alpha"]);
    let alpha_packs = chunk_packs(sb.vault());
    assert_eq!(alpha_packs.len(), 1);
    sb.ok(&["project", "create", "beta"]);
    save(&sb, "beta", "other.bin", &Rng::new(14).bytes(2 << 20));
    sb.ok(&["snapshot", "beta"]);
    assert_eq!(chunk_packs(sb.vault()).len(), 2);

    let len = fs::metadata(&alpha_packs[0]).unwrap().len() as usize;
    flip_byte(&alpha_packs[0], len / 2);

    let all = sb.json_run(&["verify"]);
    assert_eq!(all.code, Some(8), "{}", all.text());
    let one = sb.json_run(&["verify", "alpha"]);
    assert_eq!(one.code, Some(8), "{}", one.text());
    let all_problems = problems(&all.json());
    let one_problems = problems(&one.json());
    assert!(!one_problems.is_empty());
    assert!(
        one_problems.iter().all(|p| p["project"] == "alpha"
            && p["paths"] == serde_json::json!(["data/random.bin"])
            && p["message"]
                .as_str()
                .unwrap()
                .contains(&pack_id(&alpha_packs[0]))),
        "{one_problems:?}"
    );
    assert_eq!(
        all_problems, one_problems,
        "both verifies name the same damage"
    );
    assert_eq!(
        sb.ok(&["verify", "beta"])["problems"],
        serde_json::json!([])
    );
}

/// A file of the history whose stored content no longer matches its id, in a stream zlib still
/// reads: Kura reads objects without hashing them (a repack's time), so `verify` does it and
/// names the file, and the repack of garbage collection refuses to rewrite that history.
#[test]
fn a_history_object_that_no_longer_matches_its_id_is_named_by_verify() {
    let sb = Sandbox::new();
    let src = sb.path("notes");
    disk::write(&src.join("notes.txt"), "hello world\n");
    disk::write(&src.join("other.txt"), "untouched\n");
    sb.ok(&["project", "import", s(&src), "--link"]);
    assert!(problems(&sb.ok(&["verify", "notes"])).is_empty());

    // The history as loose objects (real git), then the blob of notes.txt replaced by another
    // blob's file of the same length: a valid zlib stream under the original's name.
    let hist = fs::read_dir(sb.vault().join("histories"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    let g = |args: &[&str]| {
        let mut all = vec!["--git-dir", s(&hist)];
        all.extend_from_slice(args);
        let out = git(&all);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let blob = g(&["rev-parse", "main:notes.txt"]);
    let packs = hist.join("objects/pack");
    let aside = sb.path("packs-aside");
    fs::rename(&packs, &aside).unwrap();
    fs::create_dir(&packs).unwrap();
    for pack in walk_files(&aside)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pack"))
    {
        tool(
            std::process::Command::new("git")
                .args(["--git-dir", s(&hist), "unpack-objects", "-q"])
                .stdin(fs::File::open(&pack).unwrap()),
        );
    }
    let other_text = sb.path("other-text");
    disk::write(&other_text, "HELLO WORLD\n");
    let other = g(&["hash-object", "-w", s(&other_text)]);
    let loose = |id: &str| hist.join("objects").join(&id[..2]).join(&id[2..]);
    fs::copy(loose(&other), loose(&blob)).unwrap();
    assert_eq!(
        g(&["cat-file", "-p", &blob]),
        "HELLO WORLD",
        "git reads the damaged object without complaint"
    );

    let run = sb.json_run(&["verify", "notes"]);
    assert_eq!(run.code, Some(8), "{}", run.text());
    let found = problems(&run.json());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["paths"], serde_json::json!(["notes.txt"]));
    assert!(
        found[0]["message"].as_str().unwrap().contains(&blob),
        "{found:?}"
    );
    // Garbage collection first rewrites the history with deltas: libgit2 would index the damaged
    // object under the id of what it now holds, so the rewrite is refused and nothing changes.
    let packs_before = walk_files(&packs);
    let gc = sb.run(&["gc"]);
    assert_eq!(
        gc.code,
        Some(8),
        "gc stops at a damaged history: {}{}",
        gc.text(),
        gc.stderr
    );
    assert!(gc.stderr.contains(&blob), "{}", gc.stderr);
    assert_eq!(
        walk_files(&packs),
        packs_before,
        "no pack was added or removed"
    );
    assert_eq!(problems(&sb.json_run(&["verify", "notes"]).json()), found);
}

/// A linked project with a large file in two versions; returns (folder, [v2, v1], v1's pack).
fn two_versions_of_a_large_file(sb: &Sandbox) -> (PathBuf, Vec<String>, PathBuf) {
    let src = sb.path("media");
    disk::write(&src.join("readme.txt"), "hello\n");
    disk::write(&src.join("clips/big.bin"), Rng::new(5).bytes(3 << 20));
    sb.ok(&["project", "import", s(&src), "--link"]);
    let first = chunk_packs(sb.vault());
    assert_eq!(first.len(), 1);
    disk::write(&src.join("clips/big.bin"), Rng::new(6).bytes(3 << 20));
    sb.ok(&["snapshot", "media"]);
    let versions = sb.version_ids("media");
    assert_eq!(versions.len(), 2);
    (src, versions, first[0].clone())
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    walk_files(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .contains("kura-tmp")
        })
        .collect()
}

/// A flipped byte in a chunk pack: restoring the file from the damaged version is refused as
/// `corrupt` (8), naming the file and the pack, and the file in place is left as it was.
#[test]
fn restoring_a_damaged_file_is_corrupt_and_leaves_the_file_in_place() {
    let sb = Sandbox::new();
    let (src, versions, pack) = two_versions_of_a_large_file(&sb);
    let v1 = &versions[1];
    let current = fs::read(src.join("clips/big.bin")).unwrap();
    let len = fs::metadata(&pack).unwrap().len() as usize;
    flip_byte(&pack, len / 2);

    let err = sb.fails(&["restore", "media", v1, "--file", "clips/big.bin"], 8);
    assert_eq!(err["code"], "corrupt");
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("clips/big.bin"), "{message}");
    assert!(message.contains(&pack_id(&pack)), "{message}");
    assert_eq!(fs::read(src.join("clips/big.bin")).unwrap(), current);
    assert_eq!(leftovers(&src), Vec::<PathBuf>::new());

    // The whole project too.
    let err = sb.fails(&["restore", "media", v1], 8);
    assert_eq!(err["code"], "corrupt");
    assert!(err["message"].as_str().unwrap().contains("clips/big.bin"));
    assert_eq!(fs::read(src.join("clips/big.bin")).unwrap(), current);
    assert_eq!(leftovers(&src), Vec::<PathBuf>::new());
    let human = sb.run(&["restore", "media", v1, "--file", "clips/big.bin"]);
    assert_eq!(human.code, Some(8));
    assert!(human.stderr.contains("clips/big.bin"), "{}", human.stderr);

    // Export of the damaged version: the same kind, no half-written folder.
    let dest = sb.path("export");
    let err = sb.fails(
        &["project", "export", "media", s(&dest), "--version", v1],
        8,
    );
    assert!(err["message"].as_str().unwrap().contains("clips/big.bin"));
    assert!(!dest.exists() || fs::read_dir(&dest).unwrap().next().is_none());
    // The undamaged version still exports.
    let ok = sb.export("media", &versions[0], "export-latest");
    assert_eq!(fs::read(ok.join("clips/big.bin")).unwrap(), current);
}

/// A chunk pack cut short by 30 bytes (its trailer): `kura verify` names the project, the
/// version and the file that depend on it, as it does for a flipped byte.
#[test]
fn a_truncated_pack_is_named_with_the_files_it_affects() {
    let sb = Sandbox::new();
    let (_src, versions, pack) = two_versions_of_a_large_file(&sb);
    sb.ok(&["project", "create", "healthy"]);
    cut(&pack, 30);

    for args in [&["verify"][..], &["verify", "media"][..]] {
        let run = sb.json_run(args);
        assert_eq!(run.code, Some(8), "{args:?}: {}", run.text());
        let report = run.json();
        let named = problems(&report)
            .into_iter()
            .find(|p| p["message"].as_str().unwrap().contains(&pack_id(&pack)));
        let named =
            named.unwrap_or_else(|| panic!("{args:?}: no problem names the pack: {report}"));
        assert_eq!(named["project"], "media", "{report}");
        assert_eq!(
            named["paths"],
            serde_json::json!(["clips/big.bin"]),
            "{report}"
        );
        assert_eq!(
            named["versions"],
            serde_json::json!([&versions[1][..10]]),
            "only the first version uses that pack: {report}"
        );
        assert!(
            !problems(&report).iter().any(|p| p["project"] == "healthy"),
            "{report}"
        );
    }
    let text = sb.run(&["verify"]);
    assert_eq!(text.code, Some(8));
    assert!(text.text().contains("clips/big.bin"), "{}", text.text());
    assert!(text.text().contains("media"), "{}", text.text());
}

/// Archives a small project and returns the archive file.
fn archived(sb: &Sandbox) -> PathBuf {
    let src = sb.path("src");
    disk::write(&src.join("README.md"), "# tool\n");
    for i in 0..20 {
        disk::write(
            &src.join(format!("src/f{i}.rs")),
            format!("// {:?}\n", Rng::new(i).bytes(4000)),
        );
    }
    disk::write(&src.join("data/blob.bin"), Rng::new(99).bytes(1 << 20));
    sb.ok(&["project", "import", s(&src), "--name", "tool"]);
    let a = sb.ok(&["archive", "tool"]);
    PathBuf::from(a["path"].as_str().unwrap())
}

/// A damaged archive is refused everywhere as `corrupt`, naming the archive, leaving no
/// project or folder behind and the archive file as it was.
fn damaged_archive_is_refused(damage: impl Fn(&Path)) {
    let sb = Sandbox::new();
    let archive = archived(&sb);
    damage(&archive);
    let damaged = fs::read(&archive).unwrap();
    let name = archive.file_name().unwrap().to_str().unwrap();

    let run = sb.json_run(&["archive", "verify", "tool"]);
    assert_eq!(run.code, Some(8), "{}\n{}", run.text(), run.stderr);
    let report = run.json();
    assert!(!problems(&report).is_empty(), "{report}");
    assert!(report.to_string().contains(name), "{report}");
    let text = sb.run(&["archive", "verify", "tool"]);
    assert_eq!(text.code, Some(8));

    let err = sb.fails(&["unarchive", "tool"], 8);
    assert_eq!(err["code"], "corrupt");
    assert!(err["message"].as_str().unwrap().contains(name), "{err}");
    assert_eq!(sb.ok(&["project", "show", "tool"])["status"], "archived");
    assert!(!sb.vault().join("projects/tool").exists());
    let staging: Vec<_> = fs::read_dir(sb.vault().join("projects"))
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert_eq!(
        staging,
        Vec::<std::ffi::OsString>::new(),
        "nothing left in projects/"
    );

    for (i, by) in ["tool", s(&archive)].into_iter().enumerate() {
        let dest = sb.path(&format!("extracted-{i}"));
        let err = sb.fails(&["extract", by, s(&dest)], 8);
        assert_eq!(err["code"], "corrupt");
        assert!(err["message"].as_str().unwrap().contains(name), "{err}");
        assert!(!dest.exists(), "no folder left behind by `extract {by}`");
    }
    assert_eq!(
        fs::read(&archive).unwrap(),
        damaged,
        "the archive file is untouched"
    );
    assert_eq!(sb.ok(&["archives"]).as_array().unwrap().len(), 1);
}

#[test]
fn a_truncated_archive_is_refused_with_nothing_left_behind() {
    damaged_archive_is_refused(|a| {
        let len = fs::metadata(a).unwrap().len();
        cut(a, len / 3);
    });
}

#[test]
fn an_archive_with_a_flipped_byte_is_refused_with_nothing_left_behind() {
    damaged_archive_is_refused(|a| {
        let len = fs::metadata(a).unwrap().len() as usize;
        flip_byte(a, len / 2);
    });
}
