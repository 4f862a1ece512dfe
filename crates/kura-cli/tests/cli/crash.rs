//! The kill test: snapshots of a real data set are killed with SIGKILL at random moments; after
//! each, the vault must verify clean and every version must export exactly the tree it was taken
//! from.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::disk::{self, Tree};
use crate::random::Rng;
use crate::sandbox::{git, s, Sandbox};

/// Text files in the data set.
const TEXT_FILES: usize = 2_000;
/// Larger documentation pages are left out, to keep the data set (and each export) small.
const MAX_TEXT_FILE: u64 = 32 << 10;
/// Killed snapshots.
const ITERATIONS: usize = 24;
/// Every iteration exports the versions it has not exported yet (older ones were already found
/// byte-identical, and `kura verify` re-hashes every stored object and chunk each iteration);
/// every this many iterations, and at the end, every version is exported again.
const FULL_CHECK_EVERY: usize = 8;

/// The rendered std documentation of an installed toolchain, if any.
fn std_docs() -> Option<PathBuf> {
    let rustup = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rustup")))?;
    let mut toolchains: Vec<PathBuf> = fs::read_dir(rustup.join("toolchains"))
        .ok()?
        .flatten()
        .map(|e| e.path().join("share/doc/rust/html/std"))
        .filter(|p| p.is_dir())
        .collect();
    toolchains.sort();
    toolchains.into_iter().next()
}

fn collect_small_files(dir: &Path, out: &mut Vec<PathBuf>, limit: usize) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if out.len() >= limit {
            return;
        }
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            collect_small_files(&e.path(), out, limit);
        } else if ft.is_file() && e.metadata().unwrap().len() <= MAX_TEXT_FILE {
            out.push(e.path());
        }
    }
}

/// The folder being snapshotted, and what it holds, so mutations can pick files.
struct DataSet {
    root: PathBuf,
    text: Vec<String>,
    binaries: Vec<String>,
    added: usize,
}

impl DataSet {
    /// ~2,000 files of the std docs (or generated text when no docs are installed) and three
    /// random binaries of 2 to 5 MB.
    fn build(root: PathBuf, rng: &mut Rng) -> DataSet {
        let mut text = Vec::new();
        if let Some(docs) = std_docs() {
            let mut files = Vec::new();
            collect_small_files(&docs, &mut files, TEXT_FILES);
            for f in files {
                let rel = f.strip_prefix(&docs).unwrap().to_str().unwrap().to_string();
                disk::write(&root.join(&rel), fs::read(&f).unwrap());
                text.push(rel);
            }
        }
        while text.len() < TEXT_FILES {
            let rel = format!("generated/d{}/f{}.txt", text.len() % 37, text.len());
            let body: String = (0..(rng.below(200) + 5))
                .map(|i| format!("line {i} of {rel}: {}\n", rng.next_u64()))
                .collect();
            disk::write(&root.join(&rel), body);
            text.push(rel);
        }
        let mut binaries = Vec::new();
        for (i, mb) in [2.0, 3.5, 5.0].iter().enumerate() {
            let rel = format!("blobs/blob{i}.bin");
            disk::write(&root.join(&rel), rng.bytes((mb * 1048576.0) as usize));
            binaries.push(rel);
        }
        DataSet {
            root,
            text,
            binaries,
            added: 0,
        }
    }

    fn pick(list: &[String], rng: &mut Rng) -> usize {
        rng.below(list.len() as u64) as usize
    }

    /// Modifies, adds and deletes text files, and rewrites, adds or deletes a large binary.
    fn mutate(&mut self, rng: &mut Rng) {
        for _ in 0..(5 + rng.below(20)) {
            let i = Self::pick(&self.text, rng);
            let path = self.root.join(&self.text[i]);
            let mut data = fs::read(&path).unwrap();
            data.extend_from_slice(format!("\nedit {}\n", rng.next_u64()).as_bytes());
            disk::write(&path, data);
        }
        for _ in 0..(1 + rng.below(6)) {
            self.added += 1;
            let rel = format!("added/n{}/file{}.txt", self.added % 7, self.added);
            disk::write(&self.root.join(&rel), format!("added {}\n", rng.next_u64()));
            self.text.push(rel);
        }
        for _ in 0..(1 + rng.below(6)) {
            let i = Self::pick(&self.text, rng);
            fs::remove_file(self.root.join(self.text.swap_remove(i))).unwrap();
        }
        if rng.below(5) == 0 {
            let i = Self::pick(&self.text, rng);
            disk::chmod(&self.root.join(&self.text[i]), 0o755);
        }
        let size = (2 << 20) + rng.below(3 << 20) as usize;
        match rng.below(4) {
            0 if self.binaries.len() < 5 => {
                self.added += 1;
                let rel = format!("blobs/new{}.bin", self.added);
                disk::write(&self.root.join(&rel), rng.bytes(size));
                self.binaries.push(rel);
            }
            1 if self.binaries.len() > 1 => {
                let i = Self::pick(&self.binaries, rng);
                fs::remove_file(self.root.join(self.binaries.swap_remove(i))).unwrap();
            }
            _ => {
                let i = Self::pick(&self.binaries, rng);
                disk::write(&self.root.join(&self.binaries[i]), rng.bytes(size));
            }
        }
    }
}

/// Versions seen so far and the tree each was taken from.
#[derive(Default)]
struct Expected {
    trees: BTreeMap<String, Tree>,
    exported: BTreeSet<String>,
}

impl Expected {
    /// Checks that every version is still listed, attributes new ones to `tree` (only the
    /// snapshot just run can have made them), then exports versions and compares.
    fn check(&mut self, sb: &Sandbox, tree: &Tree, all: bool, round: &str) {
        let listed = sb.version_ids("data");
        let listed_set: BTreeSet<&String> = listed.iter().collect();
        for id in self.trees.keys() {
            assert!(listed_set.contains(id), "{round}: version {id} disappeared");
        }
        for id in &listed {
            self.trees.entry(id.clone()).or_insert_with(|| tree.clone());
        }
        let run = sb.json_run(&["verify"]);
        assert_eq!(
            run.code,
            Some(0),
            "{round}: verify failed\n{}\n{}",
            run.text(),
            run.stderr
        );
        let todo: Vec<&String> = listed
            .iter()
            .filter(|id| all || !self.exported.contains(*id))
            .collect();
        for id in todo {
            let dest = sb.path("check");
            let _ = fs::remove_dir_all(&dest);
            sb.ok(&["project", "export", "data", s(&dest), "--version", id]);
            self.trees[id].assert_same(
                &Tree::read(&dest),
                &format!("{round}: version {}", &id[..10]),
            );
            fs::remove_dir_all(&dest).unwrap();
            self.exported.insert(id.clone());
        }
    }
}

#[test]
fn killed_snapshots_never_damage_the_vault() {
    let started = Instant::now();
    let sb = Sandbox::new();
    let mut rng = Rng::new(0x6b75_7261);
    let mut data = DataSet::build(sb.path("data"), &mut rng);
    sb.ok(&["project", "import", s(&data.root), "--link"]);
    let mut expected = Expected::default();
    expected.check(&sb, &Tree::read(&data.root), true, "import");

    // How long does a snapshot of one round of changes take?
    let mut durations = Vec::new();
    for round in 0..3 {
        data.mutate(&mut rng);
        let tree = Tree::read(&data.root);
        let t = Instant::now();
        let v = sb.ok(&["snapshot", "data"]);
        durations.push(t.elapsed());
        assert!(v["version"]["id"].is_string());
        expected.check(&sb, &tree, false, &format!("warm-up {round}"));
    }
    // The slowest of them: timings vary a lot on a loaded machine, and delays must reach the end
    // of a snapshot as well as its start.
    let typical = durations.into_iter().max().unwrap();
    let spread_us = typical.as_micros() as u64 * 5 / 4 + 1;

    let (mut completed, mut killed_without, mut killed_with) = (0, 0, 0);
    for i in 0..ITERATIONS {
        data.mutate(&mut rng);
        let tree = Tree::read(&data.root);
        let before = sb.version_ids("data").len();
        let delay = Duration::from_micros(rng.below(spread_us));
        let mut child = sb
            .command(["--json", "snapshot", "data"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + delay;
        let mut finished = None;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                finished = Some(status);
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if finished.is_none() {
            child.kill().unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        let after = sb.version_ids("data").len();
        if out.status.success() {
            completed += 1;
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let id = report["version"]["id"].as_str().unwrap().to_string();
            assert_eq!(sb.version_ids("data")[0], id);
        } else {
            assert_eq!(out.status.code(), None, "not killed, failed: {stderr}");
            if after > before {
                killed_with += 1;
            } else {
                killed_without += 1;
            }
        }
        assert!(after <= before + 1);
        let all = (i + 1).is_multiple_of(FULL_CHECK_EVERY);
        expected.check(&sb, &tree, all, &format!("iteration {i} (delay {delay:?})"));
    }

    assert!(killed_with + killed_without > 0, "no snapshot was killed");

    // A normal snapshot afterwards takes the folder as it is.
    data.mutate(&mut rng);
    let tree = Tree::read(&data.root);
    let v = sb.ok(&["snapshot", "data"]);
    assert!(v["version"]["id"].is_string(), "{v}");
    assert!(v["skipped"].as_array().unwrap().is_empty());
    expected.check(&sb, &tree, true, "final");
    let id = sb.ok(&["project", "show", "data"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bare = sb.vault().join("histories").join(format!("{id}.git"));
    let fsck = git(&["-C", s(&bare), "fsck", "--full", "--strict"]);
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    eprintln!(
        "kill test: typical snapshot {typical:?}; {completed} completed, {killed_with} killed after \
         committing, {killed_without} killed before; {} versions; {:?} in all",
        expected.trees.len(),
        started.elapsed()
    );
}
