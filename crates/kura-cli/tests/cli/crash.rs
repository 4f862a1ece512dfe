//! The kill test: snapshots of a real data set are killed with SIGKILL at random moments; after
//! each, the vault must verify clean and every version must export exactly the tree it was taken
//! from.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::disk::{self, Tree};
use crate::expect::{self, Versions};
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
    /// `text_files` files of the std docs (or generated text when no docs are installed) and
    /// three random binaries of 2 to 5 MB.
    fn build(root: PathBuf, rng: &mut Rng, text_files: usize) -> DataSet {
        let mut text = Vec::new();
        if let Some(docs) = std_docs() {
            let mut files = Vec::new();
            collect_small_files(&docs, &mut files, text_files);
            for f in files {
                let rel = f.strip_prefix(&docs).unwrap().to_str().unwrap().to_string();
                disk::write(&root.join(&rel), fs::read(&f).unwrap());
                text.push(rel);
            }
        }
        while text.len() < text_files {
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

    /// Lists the files again from disk (after a restore changed them): text files and the
    /// `.bin` ones.
    fn rescan(&mut self) {
        let mut all: Vec<String> = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for e in fs::read_dir(&dir).unwrap().flatten() {
                let ft = e.file_type().unwrap();
                if ft.is_dir() {
                    stack.push(e.path());
                } else if ft.is_file() && !e.file_name().to_string_lossy().starts_with(".kura-tmp-")
                {
                    let path = e.path();
                    let rel = path.strip_prefix(&self.root).unwrap();
                    all.push(rel.to_str().unwrap().to_string());
                }
            }
        }
        all.sort();
        let (binaries, text): (Vec<String>, Vec<String>) =
            all.into_iter().partition(|f| f.ends_with(".bin"));
        self.text = text;
        self.binaries = binaries;
    }

    fn pick(list: &[String], rng: &mut Rng) -> usize {
        rng.below(list.len() as u64) as usize
    }

    /// Modifies, adds and deletes text files, and rewrites, adds or deletes a large binary.
    /// A restore killed after its removals and before its writes can leave the folder without
    /// text files or binaries: what is missing is added first.
    fn mutate(&mut self, rng: &mut Rng) {
        for _ in 0..(5 + rng.below(20)) {
            if self.text.is_empty() {
                break;
            }
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
            if self.text.len() <= 1 {
                break;
            }
            let i = Self::pick(&self.text, rng);
            fs::remove_file(self.root.join(self.text.swap_remove(i))).unwrap();
        }
        if rng.below(5) == 0 {
            let i = Self::pick(&self.text, rng);
            disk::chmod(&self.root.join(&self.text[i]), 0o755);
        }
        let size = (2 << 20) + rng.below(3 << 20) as usize;
        match rng.below(4) {
            n if self.binaries.is_empty() || (n == 0 && self.binaries.len() < 5) => {
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
    let mut data = DataSet::build(sb.path("data"), &mut rng, TEXT_FILES);
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

/// Kills of the other operations, in turn: every mutating operation is run and killed with
/// SIGKILL at a random moment (seeded: `KURA_CRASH_SEED`, printed), `KURA_CRASH_KILLS` kills in
/// all (default [`CI_KILLS`]; `scripts/crash-suite.sh` runs the full set). Each kill must hit a
/// running process. After each: `kura verify` passes, every completed version of every project
/// exports byte-identical, and `kura backup verify --full` passes on the folder target.
const CI_KILLS: usize = 33;

/// Text files of the main project of [`killed_operations_never_damage_the_vault`].
const OPERATION_TEXT_FILES: usize = 400;

/// The operations killed, in turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Operation {
    Snapshot,
    RestoreInPlace,
    ImportFolder,
    ImportArchive,
    /// `archive` when the project `cold` is active, `unarchive` when it is archived.
    ArchiveOrUnarchive,
    Gc,
    CleanupVersions,
    BackupRun,
    Prune,
    BackupRestore,
}

const OPERATIONS: [Operation; 10] = [
    Operation::Snapshot,
    Operation::RestoreInPlace,
    Operation::ImportFolder,
    Operation::ImportArchive,
    Operation::ArchiveOrUnarchive,
    Operation::Gc,
    Operation::CleanupVersions,
    Operation::BackupRun,
    Operation::Prune,
    Operation::BackupRestore,
];

/// What a run under the killer came to.
enum Outcome {
    /// Killed while running (`try_wait` was `None` just before the kill).
    Killed,
    /// Exited before its moment came.
    Exited(std::process::Output),
}

/// Starts `kura --json <args>` and kills it after `delay`, unless it exits first.
fn run_and_kill(sb: &Sandbox, args: &[String], delay: Duration) -> Outcome {
    let mut child = sb
        .command(std::iter::once("--json".to_string()).chain(args.iter().cloned()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + delay;
    loop {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
            return Outcome::Exited(out);
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(2)));
    }
    // Still running just before the kill: the kill hits a live process, unless it exited in
    // between; then it is counted as exited, not as a kill.
    assert!(child.try_wait().unwrap().is_none());
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.code().is_some() {
        return Outcome::Exited(out);
    }
    Outcome::Killed
}

/// The vault the operations work on, and what each of its projects must still hold.
struct World {
    sb: Sandbox,
    rng: Rng,
    /// Project `data` (managed): snapshots, restores, backups.
    data: DataSet,
    data_versions: Versions,
    /// Project `cold`: archived and unarchived.
    cold: PathBuf,
    cold_versions: Versions,
    /// Project `auto`: automatic versions, thinned by cleanup.
    auto: PathBuf,
    /// Every tree `auto` had when a version of it was taken (thinning rewrites ids).
    auto_trees: Vec<Tree>,
    /// The folder imported, and the archive of it.
    import_src: PathBuf,
    import_tree: Tree,
    import_archive: PathBuf,
    imports: usize,
    restores: usize,
}

impl World {
    fn build(seed: u64) -> World {
        let sb = Sandbox::new();
        let mut rng = Rng::new(seed);
        let src = sb.path("data-src");
        let mut data = DataSet::build(src.clone(), &mut rng, OPERATION_TEXT_FILES);
        sb.ok(&["project", "import", s(&src), "--name", "data"]);
        data.root = sb.vault().join("projects/data");
        let mut data_versions = Versions::new("data");
        data_versions.check(&sb, &Tree::read(&data.root), true, "import");

        let cold_src = sb.path("cold-src");
        for i in 0..30 {
            disk::write(
                &cold_src.join(format!("notes/n{i}.md")),
                format!("# note {i}\n{}\n", rng.next_u64()).repeat(20),
            );
        }
        disk::write(&cold_src.join("assets/photo.bin"), rng.bytes(3 << 20));
        sb.ok(&["project", "import", s(&cold_src), "--name", "cold"]);
        let cold = sb.vault().join("projects/cold");
        let mut cold_versions = Versions::new("cold");
        cold_versions.check(&sb, &Tree::read(&cold), true, "import");

        let auto_src = sb.path("auto-src");
        disk::write(&auto_src.join("log.txt"), "start\n");
        sb.ok(&["project", "import", s(&auto_src), "--name", "auto"]);
        let auto = sb.vault().join("projects/auto");
        let auto_trees = vec![Tree::read(&auto)];
        for (key, value) in [
            ("versions.keep_all_days", "0"),
            ("versions.hourly_days", "0"),
            ("versions.daily_days", "0"),
        ] {
            sb.ok(&["config", "set", key, value]);
        }

        let import_src = sb.path("import-src");
        for i in 0..200 {
            disk::write(
                &import_src.join(format!("src/m{}/f{i}.rs", i % 9)),
                format!("pub fn f{i}() -> u64 {{ {} }}\n", rng.next_u64()).repeat(10),
            );
        }
        disk::write(&import_src.join("vendor/blob.bin"), rng.bytes(4 << 20));
        let import_archive = sb.path("import.tar.gz");
        let tar = Command::new("tar")
            .arg("-czf")
            .arg(&import_archive)
            .arg("-C")
            .arg(sb.root())
            .arg("import-src")
            .status()
            .unwrap();
        assert!(tar.success());
        let import_tree = Tree::read(&import_src);

        let drive = sb.path("drive");
        fs::create_dir(&drive).unwrap();
        sb.ok(&["backup", "target", "add", "usb", "--folder", s(&drive)]);
        sb.ok(&["backup", "retention", "usb", "--keep-last", "2"]);
        sb.ok(&["backup", "run", "usb"]);
        World {
            sb,
            rng,
            data,
            data_versions,
            cold,
            cold_versions,
            auto,
            auto_trees,
            import_src,
            import_tree,
            import_archive,
            imports: 0,
            restores: 0,
        }
    }

    fn cold_archived(&self) -> bool {
        self.sb.ok(&["project", "show", "cold"])["status"] == "archived"
    }

    /// Sets up for one run of `op` and returns its arguments.
    fn prepare(&mut self, op: Operation) -> Vec<String> {
        let sb = &self.sb;
        let args: Vec<&str> = match op {
            Operation::Snapshot => {
                self.data.mutate(&mut self.rng);
                vec!["snapshot", "data"]
            }
            Operation::RestoreInPlace => {
                // Changes first, so the version kept before the restore is a new one.
                self.data.mutate(&mut self.rng);
                let ids = sb.version_ids("data");
                let pick = ids[1 + self.rng.below(ids.len() as u64 - 1) as usize].clone();
                return ["restore", "data", &pick].map(String::from).to_vec();
            }
            Operation::ImportFolder => {
                self.imports += 1;
                let name = format!("imported{}", self.imports);
                return vec![
                    "project".into(),
                    "import".into(),
                    s(&self.import_src).into(),
                    "--name".into(),
                    name,
                ];
            }
            Operation::ImportArchive => {
                self.imports += 1;
                let name = format!("imported{}", self.imports);
                return vec![
                    "import".into(),
                    s(&self.import_archive).into(),
                    "--name".into(),
                    name,
                ];
            }
            Operation::ArchiveOrUnarchive => {
                if self.cold_archived() {
                    vec!["unarchive", "cold"]
                } else {
                    let n = self.rng.next_u64();
                    disk::write(
                        &self.cold.join(format!("notes/new{n}.md")),
                        format!("{n}\n"),
                    );
                    sb.ok(&["snapshot", "cold"]);
                    self.cold_versions
                        .check(sb, &Tree::read(&self.cold), false, "before archive");
                    vec!["archive", "cold"]
                }
            }
            // It collects the chunks of the large files of the versions cleanup thinned.
            Operation::Gc => vec!["gc"],
            Operation::CleanupVersions => {
                for _ in 0..3 {
                    let line = format!("entry {}\n", self.rng.next_u64());
                    let mut log = fs::read(self.auto.join("log.txt")).unwrap();
                    log.extend_from_slice(line.as_bytes());
                    disk::write(&self.auto.join("log.txt"), log);
                    disk::write(&self.auto.join("big.bin"), self.rng.bytes(1 << 20));
                    sb.ok(&["snapshot", "auto", "--trigger", "auto"]);
                    self.auto_trees.push(Tree::read(&self.auto));
                }
                vec!["cleanup", "--only", "versions"]
            }
            Operation::BackupRun => {
                self.data.mutate(&mut self.rng);
                sb.ok(&["snapshot", "data"]);
                let tree = Tree::read(&self.data.root).without_kura_temp();
                self.data_versions.check(sb, &tree, false, "before backup");
                vec!["backup", "run", "usb"]
            }
            Operation::Prune => vec!["backup", "prune", "usb"],
            Operation::BackupRestore => {
                self.restores += 1;
                let dest = sb.path(&format!("restored{}", self.restores));
                return vec![
                    "backup".into(),
                    "restore".into(),
                    "usb".into(),
                    "--project".into(),
                    "data".into(),
                    "--to".into(),
                    s(&dest).into(),
                ];
            }
        };
        args.into_iter().map(String::from).collect()
    }

    /// After a run of `op` (killed or not): the vault, every version and the target are sound.
    fn check(&mut self, op: Operation, args: &[String], data_tree: &Tree, round: &str) {
        self.data.rescan();
        let sb = &self.sb;
        expect::vault_verifies(sb, round);
        self.data_versions.check(sb, data_tree, false, round);
        if !self.cold_archived() {
            self.cold_versions
                .check(sb, &Tree::read(&self.cold), false, round);
        }
        // `auto`: every version left is one of the trees it had, the latest the latest.
        let auto_ids = sb.version_ids("auto");
        for (i, id) in auto_ids.iter().enumerate() {
            let dest = sb.path("check-auto");
            let _ = fs::remove_dir_all(&dest);
            sb.ok(&["project", "export", "auto", s(&dest), "--version", id]);
            let got = Tree::read(&dest);
            fs::remove_dir_all(&dest).unwrap();
            if i == 0 {
                self.auto_trees
                    .last()
                    .unwrap()
                    .assert_same(&got, &format!("{round}: latest version of auto"));
            } else {
                assert!(
                    self.auto_trees.contains(&got),
                    "{round}: version {id} of auto holds a tree it never had"
                );
            }
        }
        match op {
            Operation::ImportFolder | Operation::ImportArchive => {
                let name = &args[args.len() - 1];
                let shown = sb.json_run(&["project", "show", name]);
                if shown.code == Some(0) {
                    let ids = sb.version_ids(name);
                    if !ids.is_empty() {
                        let dest = sb.path("check-import");
                        let _ = fs::remove_dir_all(&dest);
                        sb.ok(&["project", "export", name, s(&dest), "--version", &ids[0]]);
                        self.import_tree
                            .assert_same(&Tree::read(&dest), &format!("{round}: {name}"));
                        fs::remove_dir_all(&dest).unwrap();
                    }
                } else {
                    assert_eq!(shown.code, Some(3), "{round}: {}", shown.text());
                }
            }
            Operation::BackupRestore => {
                let dest = PathBuf::from(&args[args.len() - 1]);
                let reference = sb.path("restore-reference");
                let _ = fs::remove_dir_all(&reference);
                sb.ok(&[
                    "backup",
                    "restore",
                    "usb",
                    "--project",
                    "data",
                    "--to",
                    s(&reference),
                ]);
                // A killed restore leaves nothing at the destination, or an empty folder it
                // made, or the whole project; never a part of it.
                if dest.exists() && fs::read_dir(&dest).unwrap().next().is_some() {
                    Tree::read(&reference)
                        .assert_same(&Tree::read(&dest), &format!("{round}: restored"));
                }
                fs::remove_dir_all(&reference).unwrap();
            }
            _ => {}
        }
        expect::backup_verifies(sb, "usb", round);
    }
}

#[test]
fn killed_operations_never_damage_the_vault() {
    let started = Instant::now();
    let seed = expect::seed("KURA_CRASH_SEED", "operation kill test");
    let wanted: usize = std::env::var("KURA_CRASH_KILLS")
        .ok()
        .map(|v| v.parse().expect("KURA_CRASH_KILLS: a number"))
        .unwrap_or(CI_KILLS);
    let mut world = World::build(seed);

    // A first run of each operation, not killed: it works, and how long it takes bounds the
    // moments to kill it at. Timings vary on a loaded machine; the bound is adjusted down when
    // a run ends before its moment.
    let mut typical: BTreeMap<Operation, Duration> = BTreeMap::new();
    for op in OPERATIONS {
        let args = world.prepare(op);
        let tree = Tree::read(&world.data.root).without_kura_temp();
        let t = Instant::now();
        let out = world
            .sb
            .json_run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let took = t.elapsed();
        assert_eq!(out.code, Some(0), "{op:?}: {}\n{}", out.text(), out.stderr);
        if op == Operation::CleanupVersions {
            assert!(
                world.sb.version_ids("auto").len() < world.auto_trees.len(),
                "cleanup thinned nothing: {}",
                out.text()
            );
        }
        world.check(op, &args, &tree, &format!("first {op:?}"));
        typical.insert(op, took);
    }
    eprintln!("operation kill test: typical durations {typical:?}");

    let mut kills: BTreeMap<Operation, usize> = BTreeMap::new();
    let mut exited: BTreeMap<Operation, usize> = BTreeMap::new();
    let mut total = 0;
    let mut turn = 0;
    while total < wanted {
        let op = OPERATIONS[turn % OPERATIONS.len()];
        turn += 1;
        assert!(
            turn < wanted * 10 + 100,
            "too few runs could be killed: {kills:?}, exited first: {exited:?}"
        );
        let args = world.prepare(op);
        let tree = Tree::read(&world.data.root).without_kura_temp();
        let bound = typical[&op].as_micros() as u64 * 11 / 10 + 1;
        let delay = Duration::from_micros(world.rng.below(bound));
        let round = format!("{op:?} #{turn} (killed at {delay:?})");
        let t = Instant::now();
        match run_and_kill(&world.sb, &args, delay) {
            Outcome::Killed => {
                total += 1;
                *kills.entry(op).or_default() += 1;
            }
            Outcome::Exited(out) => {
                assert!(
                    out.status.success(),
                    "{round}: failed without a kill: {}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                *exited.entry(op).or_default() += 1;
                typical.insert(op, t.elapsed() * 9 / 10);
            }
        }
        world.check(op, &args, &tree, &round);
        if total.is_multiple_of(8) {
            world
                .data_versions
                .check(&world.sb, &tree, true, &format!("{round}, all versions"));
        }
    }

    // Every operation still works after all that, and the target restores the vault.
    let sb = &world.sb;
    if world.cold_archived() {
        sb.ok(&["unarchive", "cold"]);
    }
    world.data.mutate(&mut world.rng);
    sb.ok(&["snapshot", "data"]);
    let tree = Tree::read(&world.data.root).without_kura_temp();
    sb.ok(&["gc"]);
    sb.ok(&["backup", "run", "usb"]);
    sb.ok(&["backup", "prune", "usb"]);
    expect::vault_verifies(sb, "final");
    expect::backup_verifies(sb, "usb", "final");
    world.data_versions.check(sb, &tree, true, "final");
    world
        .cold_versions
        .check(sb, &Tree::read(&world.cold), true, "final");
    let dest = sb.path("restored-vault");
    sb.ok(&["backup", "restore", "usb", "--to", s(&dest)]);
    let restored = Sandbox::with_vault(dest.clone());
    restored.ok(&["verify"]);
    tree.assert_same(
        &Tree::read(&dest.join("projects/data")),
        "data restored from the latest backup",
    );
    eprintln!(
        "operation kill test: {total} kills {kills:?}; exited before their moment {exited:?}; {:?} in all",
        started.elapsed()
    );
}

/// A write killed half-way leaves a `.kura-tmp-*` file in the project folder (a restore writes
/// each file through a temp file beside it). Such debris is Kura's, not the user's: versions
/// and backups leave it out, so an interrupted restore does not end up in the history.
#[test]
fn temp_files_left_by_a_killed_write_stay_out_of_versions() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    disk::write(&src.join("README.md"), "# app\n");
    sb.ok(&["project", "import", s(&src), "--name", "app"]);
    let folder = sb.vault().join("projects/app");
    disk::write(&folder.join(".kura-tmp-Ab12Cd"), "half a file");
    disk::write(&folder.join("src/.kura-tmp-Ef34Gh"), "half another");
    disk::write(&folder.join("src/main.rs"), "fn main() {}\n");
    sb.ok(&["snapshot", "app"]);
    let latest = sb.version_ids("app")[0].clone();
    let exported = sb.export("app", &latest, "exported");
    assert_eq!(Tree::read(&exported).paths(), ["README.md", "src/main.rs"]);
}

/// Imports killed at random moments leave staging folders (`.kura-tmp-import-*`), and a project
/// folder or a history made before the catalog row: `kura cleanup` right after removes every
/// one, since no running process and no catalog row owns them; what finished stays whole.
#[test]
fn cleanup_removes_what_killed_imports_left() {
    const KILLS: usize = 10;
    let sb = Sandbox::new();
    let mut rng = Rng::new(expect::seed("KURA_KILLED_IMPORT_SEED", "killed imports"));
    let src = sb.path("src");
    for i in 0..1000 {
        disk::write(
            &src.join(format!("m{}/f{i}.rs", i % 7)),
            format!("fn f{i}() -> u64 {{ {} }}\n", rng.next_u64()).repeat(20),
        );
    }
    disk::write(&src.join("blob.bin"), rng.bytes(6 << 20));
    let plain = sb.path("plain.tar.zst");
    let tar = Command::new("tar")
        .args(["--zstd", "-cf"])
        .arg(&plain)
        .arg("-C")
        .arg(sb.root())
        .arg("src")
        .status()
        .unwrap();
    assert!(tar.success());
    // A Kura archive too: its import unpacks a history and a folder.
    sb.ok(&["project", "import", s(&src), "--name", "kept"]);
    let archived = sb.ok(&["archive", "kept"]);
    let kura_archive = sb.path("kept.tar.zst");
    fs::copy(archived["path"].as_str().unwrap(), &kura_archive).unwrap();
    // How long one import takes here: the kills fall within it.
    let started = Instant::now();
    sb.ok(&["import", s(&plain), "--name", "timed"]);
    let span = started.elapsed().as_micros() as u64;
    let mut killed = 0;
    for i in 0..KILLS * 8 {
        if killed == KILLS {
            break;
        }
        let archive = if i % 2 == 0 { &plain } else { &kura_archive };
        let args = [
            "import".to_string(),
            s(archive).to_string(),
            "--name".to_string(),
            format!("i{i}"),
        ];
        // Within the first two thirds of the time one takes: this machine is noisy, and an
        // import that ends first is simply run again.
        let delay = Duration::from_micros(span / 20 + rng.below(span * 2 / 3));
        match run_and_kill(&sb, &args, delay) {
            Outcome::Killed => killed += 1,
            Outcome::Exited(out) => assert!(out.status.success(), "import {i}: {out:?}"),
        }
    }
    assert_eq!(killed, KILLS, "imports ended before their kill");
    let temp = |top: &str| -> Vec<String> {
        fs::read_dir(sb.vault().join(top))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".kura-tmp-") && n != ".kura-tmp-spares")
            .collect()
    };
    assert!(
        !temp("projects").is_empty() || !temp("histories").is_empty(),
        "no kill left anything behind: the test proved nothing"
    );
    sb.ok(&["cleanup", "--only", "cache"]);
    assert_eq!(
        temp("projects"),
        Vec::<String>::new(),
        "staging left in projects/"
    );
    assert_eq!(
        temp("histories"),
        Vec::<String>::new(),
        "staging left in histories/"
    );
    // Every folder and history left belongs to a project the catalog has.
    let projects = sb.ok(&["project", "list"]);
    let mut folders: BTreeSet<String> = BTreeSet::new();
    let mut histories: BTreeSet<String> = BTreeSet::new();
    for p in projects.as_array().unwrap() {
        let shown = sb.ok(&["project", "show", p["name"].as_str().unwrap()]);
        if shown["status"] != "active" {
            continue;
        }
        let path = PathBuf::from(shown["path"].as_str().unwrap());
        folders.insert(path.file_name().unwrap().to_string_lossy().into_owned());
        histories.insert(format!("{}.git", shown["id"].as_str().unwrap()));
    }
    let on_disk = |top: &str| -> BTreeSet<String> {
        fs::read_dir(sb.vault().join(top))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != ".kura-tmp-spares")
            .collect()
    };
    assert_eq!(on_disk("projects"), folders, "folders no project owns");
    assert_eq!(on_disk("histories"), histories, "histories no project owns");
    expect::vault_verifies(&sb, "after the killed imports");
    let kept = Tree::read(&src);
    kept.assert_same(
        &Tree::read(&sb.vault().join("projects/timed")),
        "the import that finished",
    );
}
