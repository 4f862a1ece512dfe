//! Fault injection through the durable-write seam (`kura_durable`, `KURA_FAULT`): snapshot,
//! archive and backup run are each failed at their Nth write, fsync, rename, folder fsync and
//! folder creation, with ENOSPC and EIO. Each faulted run must fail with `disk_full` (exit 7) or
//! `io` (exit 10), never panic and never report success; afterwards the vault verifies, every
//! earlier version exports byte-identical, the backup target verifies in full, and the operation
//! succeeds when run again. redb's `tests/crash_consistency.rs` is the model.
//!
//! Steps are sampled (seeded by `KURA_FAULT_SEED`, printed) to at most `KURA_FAULT_STEPS`
//! (default 30) per operation; `KURA_FAULT_STEPS=all` tries every one.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::disk::{self, Tree};
use crate::expect::{self, Versions};
use crate::random::Rng;
use crate::sandbox::{s, Run, Sandbox};

const STEPS_PER_OPERATION: usize = 30;

/// The durable steps, as `KURA_FAULT` names them.
const OPS: [&str; 5] = ["write", "sync_file", "rename", "sync_dir", "create_dir"];

/// Runs `kura --json <args>` with `KURA_FAULT=<fault>`.
fn run_faulted(sb: &Sandbox, args: &[&str], fault: &str) -> Run {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = sb
        .command(&all)
        .env("KURA_FAULT", fault)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "kura panicked under KURA_FAULT={fault} running {args:?}:\n{}",
        run.stderr
    );
    run
}

/// The counts line `kura` prints under `KURA_FAULT`: calls per step, and whether the fault fired.
fn fault_report(run: &Run) -> (Vec<(String, u64)>, bool) {
    let line = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("kura-fault: "))
        .unwrap_or_else(|| panic!("no fault report in:\n{}", run.stderr));
    let mut counts = Vec::new();
    let mut fired = false;
    for part in line.split_whitespace() {
        let (k, v) = part.split_once('=').unwrap();
        if k == "fired" {
            fired = v == "true";
        } else {
            counts.push((k.to_string(), v.parse().unwrap()));
        }
    }
    (counts, fired)
}

/// Every (step, n) of a clean run's counts, sampled to `limit` with `rng`.
fn sample_steps(counts: &[(String, u64)], rng: &mut Rng) -> Vec<(String, u64)> {
    let mut all: Vec<(String, u64)> = counts
        .iter()
        .flat_map(|(op, n)| (1..=*n).map(move |i| (op.clone(), i)))
        .collect();
    let limit = match std::env::var("KURA_FAULT_STEPS").ok().as_deref() {
        Some("all") => usize::MAX,
        Some(n) => n.parse().expect("KURA_FAULT_STEPS: a number or `all`"),
        None => STEPS_PER_OPERATION,
    };
    while all.len() > limit {
        let i = rng.below(all.len() as u64) as usize;
        all.swap_remove(i);
    }
    all.sort();
    all
}

/// A managed project `name` of a few text files and one 1.5 MiB binary (chunk store).
fn project(sb: &Sandbox, name: &str, rng: &mut Rng) -> PathBuf {
    let src = sb.path(&format!("src-{name}"));
    for i in 0..12 {
        disk::write(
            &src.join(format!("src/d{}/f{i}.txt", i % 3)),
            format!("{name} {i} {}\n", rng.next_u64()).repeat(30),
        );
    }
    disk::write(&src.join("data/big.bin"), rng.bytes(3 << 19));
    sb.ok(&["project", "import", s(&src), "--name", name]);
    sb.vault().join("projects").join(name)
}

/// One round of changes: an edit, a new text file, a new binary.
fn mutate(folder: &Path, round: &str, rng: &mut Rng) {
    disk::write(
        &folder.join("src/d0/f0.txt"),
        format!("edited in {round}: {}\n", rng.next_u64()),
    );
    disk::write(
        &folder.join(format!("new/{round}.txt")),
        format!("{round}\n"),
    );
    disk::write(
        &folder.join(format!("bin/{round}.bin")),
        rng.bytes(300 << 10),
    );
}

/// The outcome of one faulted run: failed as a durable failure must, or (the fault did not fire)
/// succeeded.
fn assert_failed_cleanly(run: &Run, fault: &str, errno: &str, what: &str, tolerated: bool) {
    let (_, fired) = fault_report(run);
    if !fired || tolerated && run.code == Some(0) {
        assert_eq!(
            run.code,
            Some(0),
            "{what} under {fault} (did not fire): {}",
            run.stderr
        );
        return;
    }
    let want = if errno == "ENOSPC" {
        (7, "disk_full")
    } else {
        (10, "io")
    };
    assert_eq!(
        run.code,
        Some(want.0),
        "{what} under KURA_FAULT={fault}: want exit {} ({})\nstdout: {}\nstderr: {}",
        want.0,
        want.1,
        run.text(),
        run.stderr
    );
    let v: Value = serde_json::from_slice(&run.stdout).unwrap_or(Value::Null);
    let err = if v["error"].is_object() {
        v["error"].clone()
    } else {
        // `backup run` reports per target.
        v[0]["error"].clone()
    };
    assert_eq!(err["code"], want.1, "{what} under {fault}: {v}");
}

/// Drives one operation through every sampled fault.
struct Trial<'a> {
    sb: &'a Sandbox,
    rng: Rng,
    versions: Versions,
    folder: PathBuf,
    name: &'static str,
    /// How many kinds of durable step a clean run takes at least.
    min_kinds: usize,
    /// The steps whose failure the operation works around (and succeeds), by kind and number.
    tolerates: &'a dyn Fn(&str, u64) -> bool,
    /// Whether a failed run had nevertheless passed its commit point.
    committed: &'a dyn Fn(&Sandbox) -> bool,
}

impl Trial<'_> {
    /// Clean runs under `KURA_FAULT=count`: the durable steps the operation takes (the second
    /// run's, as the first one also creates folders that stay), sampled.
    fn steps(
        &mut self,
        prepare: &mut dyn FnMut(&Sandbox, &mut Rng, &str),
        after: &mut dyn FnMut(&Sandbox, &str),
        args: &[&str],
    ) -> Vec<(String, u64)> {
        let mut counts = Vec::new();
        for round in ["count1", "count2"] {
            prepare(self.sb, &mut self.rng, round);
            let tree = Tree::read(&self.folder);
            let clean = run_faulted(self.sb, args, "count");
            assert_eq!(clean.code, Some(0), "{}: {}", self.name, clean.stderr);
            after(self.sb, round);
            self.versions.check(self.sb, &tree, false, round);
            counts = fault_report(&clean).0;
        }
        eprintln!("{}: a clean run makes {counts:?}", self.name);
        for op in OPS {
            assert!(counts.iter().any(|(k, _)| k == op), "{op} not counted");
        }
        let kinds = counts.iter().filter(|(_, n)| *n > 0).count();
        assert!(
            kinds >= self.min_kinds,
            "{}: fewer kinds of durable steps than expected: {counts:?}",
            self.name
        );
        sample_steps(&counts, &mut self.rng)
    }
}

/// Runs `args` faulted at each sampled step; `prepare` sets up the state before each run,
/// `after` checks and restores after it.
fn each_fault(
    trial: &mut Trial,
    args: &[&str],
    prepare: &mut dyn FnMut(&Sandbox, &mut Rng, &str),
    after: &mut dyn FnMut(&Sandbox, &str),
) -> usize {
    let steps = trial.steps(prepare, after, args);
    let mut fired = 0;
    let mut after_commit = 0;
    for (i, (op, n)) in steps.iter().enumerate() {
        let errno = if i % 2 == 0 { "ENOSPC" } else { "EIO" };
        let fault = format!("{op}:{n}:{errno}");
        let round = format!("{} {fault}", trial.name);
        prepare(trial.sb, &mut trial.rng, &format!("r{i}"));
        let tree = Tree::read(&trial.folder);
        let run = run_faulted(trial.sb, args, &fault);
        let tolerated = (trial.tolerates)(op, *n);
        assert_failed_cleanly(&run, &fault, errno, trial.name, tolerated);
        if tolerated && run.code == Some(0) {
            eprintln!("{round}: tolerated, the run succeeded");
        }
        if fault_report(&run).1 {
            fired += 1;
        }
        // Reopened without the fault: the vault is sound and every version intact.
        expect::vault_verifies(trial.sb, &round);
        let committed = run.code != Some(0) && (trial.committed)(trial.sb);
        if committed {
            // The step that failed came after the operation's commit point (the catalog row):
            // the operation is done, and the error tells that a later step (freeing a folder)
            // failed.
            eprintln!(
                "{round}: failed after its commit point: {}",
                run.text().trim()
            );
            after_commit += 1;
        } else if run.code != Some(0) {
            trial.versions.check(trial.sb, &tree, false, &round);
            // The operation succeeds on retry.
            let retry = trial.sb.json_run(args);
            assert_eq!(
                retry.code,
                Some(0),
                "{round}: retry failed: {}\n{}",
                retry.text(),
                retry.stderr
            );
        }
        after(trial.sb, &round);
        trial.versions.check(trial.sb, &tree, false, &round);
    }
    let last = Tree::read(&trial.folder);
    trial
        .versions
        .check(trial.sb, &last, true, &format!("{} final", trial.name));
    eprintln!(
        "{}: {} faulted runs, {fired} faults fired, {after_commit} after the commit point",
        trial.name,
        steps.len()
    );
    assert!(fired > 0, "{}: no fault fired", trial.name);
    fired
}

#[test]
fn snapshots_failed_at_each_durable_step_leave_the_vault_sound() {
    let sb = Sandbox::new();
    let mut rng = Rng::new(expect::seed("KURA_FAULT_SEED", "snapshot faults"));
    let folder = project(&sb, "p", &mut rng);
    let mut trial = Trial {
        sb: &sb,
        rng,
        versions: Versions::new("p"),
        folder: folder.clone(),
        name: "snapshot",
        // Every snapshot writes, syncs, renames and syncs a folder. It creates a folder only
        // when its chunk pack's random name starts with two hex digits no earlier pack's did
        // (`chunks/packs/xx/`): about one clean run in a hundred creates none, and then the
        // faulted runs sample the other four kinds.
        min_kinds: 4,
        committed: &|_| false,
        tolerates: &|_, _| false,
    };
    trial
        .versions
        .check(&sb, &Tree::read(&folder), true, "import");
    let mut prepare = |_: &Sandbox, rng: &mut Rng, round: &str| mutate(&folder, round, rng);
    each_fault(&mut trial, &["snapshot", "p"], &mut prepare, &mut |_, _| {});
}

#[test]
fn archives_failed_at_each_durable_step_leave_the_project_active_and_intact() {
    let sb = Sandbox::new();
    let mut rng = Rng::new(expect::seed("KURA_FAULT_SEED", "archive faults"));
    let folder = project(&sb, "p", &mut rng);
    let mut trial = Trial {
        sb: &sb,
        rng,
        versions: Versions::new("p"),
        folder: folder.clone(),
        name: "archive",
        // The archive file itself is written through a temp file persisted without clobbering
        // (fsynced through the seam, renamed by `tempfile`).
        min_kinds: 3,
        committed: &|sb| sb.ok(&["project", "show", "p"])["status"] == "archived",
        // Renames after the first (the archive file's) move the history and the folder aside
        // into the bin; when that fails they are removed at once instead.
        tolerates: &|op, n| op == "rename" && n >= 2,
    };
    trial
        .versions
        .check(&sb, &Tree::read(&folder), true, "import");
    let mut prepare = |sb: &Sandbox, rng: &mut Rng, round: &str| {
        mutate(&folder, round, rng);
        sb.ok(&["snapshot", "p"]);
    };
    let mut after = |sb: &Sandbox, round: &str| {
        assert_eq!(
            sb.ok(&["project", "show", "p"])["status"],
            "archived",
            "{round}"
        );
        sb.ok(&["unarchive", "p"]);
        assert_eq!(sb.ok(&["project", "show", "p"])["status"], "active");
    };
    each_fault(&mut trial, &["archive", "p"], &mut prepare, &mut after);
}

#[test]
fn backup_runs_failed_at_each_durable_step_leave_the_target_verifiable() {
    let sb = Sandbox::new();
    let mut rng = Rng::new(expect::seed("KURA_FAULT_SEED", "backup faults"));
    let folder = project(&sb, "p", &mut rng);
    let drive = sb.path("drive");
    std::fs::create_dir(&drive).unwrap();
    sb.ok(&["backup", "target", "add", "usb", "--folder", s(&drive)]);
    sb.ok(&["backup", "run", "usb"]);
    let mut trial = Trial {
        sb: &sb,
        rng,
        versions: Versions::new("p"),
        folder: folder.clone(),
        name: "backup run",
        // The objects themselves are written by OpenDAL (temp file, fsync, rename inside it);
        // the seam has the folder fsyncs after each.
        min_kinds: 1,
        committed: &|_| false,
        tolerates: &|_, _| false,
    };
    trial
        .versions
        .check(&sb, &Tree::read(&folder), true, "import");
    let mut prepare = |sb: &Sandbox, rng: &mut Rng, round: &str| {
        mutate(&folder, round, rng);
        sb.ok(&["snapshot", "p"]);
    };
    let mut after = |sb: &Sandbox, round: &str| expect::backup_verifies(sb, "usb", round);
    each_fault(
        &mut trial,
        &["backup", "run", "usb"],
        &mut prepare,
        &mut after,
    );
    // What the target holds restores to the project as it is now.
    let dest = sb.path("restored");
    sb.ok(&[
        "backup",
        "restore",
        "usb",
        "--project",
        "p",
        "--to",
        s(&dest),
    ]);
    assert_eq!(Tree::read(&dest), Tree::read(&folder));
}
