//! Several `kura` processes at once on one vault: four writers saving files into and
//! snapshotting four projects, `kura gc` and `kura backup run` (to a folder) in loops, for a
//! fixed number of rounds each. Any failure must be `busy` (exit code 9); afterwards the vault and
//! the target verify in full, every version of every project exports exactly what its writer had
//! saved when it was taken, and each project's latest version holds its latest content.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::disk::Tree;
use crate::expect;
use crate::random::Rng;
use crate::sandbox::{s, Run, Sandbox};

const WRITERS: usize = 4;
/// Rounds of each writer (save files, snapshot).
const WRITER_ROUNDS: usize = 10;
/// Runs of `gc` and of `backup run`.
const MAINTENANCE_ROUNDS: usize = 6;
/// The exit code of `busy`.
const BUSY: i32 = 9;

/// A run that either succeeded or failed with `busy`; true when it succeeded.
fn ok_or_busy(run: &Run, what: &str) -> bool {
    match run.code {
        Some(0) => true,
        Some(BUSY) => {
            assert_eq!(
                run.json()["error"]["code"],
                "busy",
                "{what}: {}",
                run.text()
            );
            false
        }
        _ => panic!(
            "{what} failed other than busy: {:?}\n{}\n{}",
            run.code,
            run.text(),
            run.stderr
        ),
    }
}

/// Saves `data` as `path` of `project` through `kura file save`.
fn save(sb: &Sandbox, project: &str, path: &str, data: &[u8], what: &str) -> bool {
    let run = sb.run_with_input(&["--json", "file", "save", project, path], data);
    ok_or_busy(&run, what)
}

#[test]
fn writers_gc_and_a_backup_at_once_fail_only_with_busy() {
    let sb = Sandbox::new();
    let seed = expect::seed("KURA_CONCURRENCY_SEED", "concurrency test");
    let mut folders = Vec::new();
    for w in 0..WRITERS {
        let name = format!("p{w}");
        sb.ok(&["project", "create", &name]);
        folders.push(sb.vault().join("projects").join(&name));
    }
    let drive = sb.path("drive");
    std::fs::create_dir(&drive).unwrap();
    sb.ok(&["backup", "target", "add", "usb", "--folder", s(&drive)]);

    // Per project: the tree each version was taken from, by version id.
    let expected: Mutex<BTreeMap<String, BTreeMap<String, Tree>>> = Mutex::new(BTreeMap::new());
    let busy: Mutex<BTreeMap<&str, usize>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for (w, folder) in folders.iter().enumerate() {
            let (sb, expected, busy) = (&sb, &expected, &busy);
            scope.spawn(move || {
                let name = format!("p{w}");
                let mut rng = Rng::new(seed.wrapping_add(w as u64));
                let mut snapshots = 0;
                for round in 0..WRITER_ROUNDS {
                    let what = format!("{name} round {round}");
                    let mut saved = save(
                        sb,
                        &name,
                        "notes/latest.txt",
                        format!("{name} round {round}\n").as_bytes(),
                        &what,
                    );
                    // A large file every other round: chunks for gc and the backup to race on.
                    if round % 2 == 0 {
                        saved &= save(
                            sb,
                            &name,
                            &format!("data/r{round}.bin"),
                            &rng.bytes(700 << 10),
                            &what,
                        );
                    }
                    if !saved {
                        *busy.lock().unwrap().entry("file save").or_default() += 1;
                    }
                    // The folder is this writer's alone: what a version holds is what is on disk
                    // now.
                    let tree = Tree::read(folder);
                    let run = sb.json_run(&["snapshot", &name]);
                    if ok_or_busy(&run, &format!("{what}: snapshot")) {
                        snapshots += 1;
                        if let Some(id) = run.json()["version"]["id"].as_str() {
                            expected
                                .lock()
                                .unwrap()
                                .entry(name.clone())
                                .or_default()
                                .insert(id.to_string(), tree);
                        }
                    } else {
                        *busy.lock().unwrap().entry("snapshot").or_default() += 1;
                    }
                }
                assert!(snapshots > 0, "{name}: every snapshot was busy");
            });
        }
        let (sb, busy) = (&sb, &busy);
        scope.spawn(move || {
            let done = (0..MAINTENANCE_ROUNDS)
                .filter(|i| {
                    let ok = ok_or_busy(&sb.json_run(&["gc"]), &format!("gc {i}"));
                    if !ok {
                        *busy.lock().unwrap().entry("gc").or_default() += 1;
                    }
                    ok
                })
                .count();
            assert!(done > 0, "every gc was busy");
        });
        scope.spawn(move || {
            let done = (0..MAINTENANCE_ROUNDS)
                .filter(|i| {
                    let run = sb.json_run(&["backup", "run", "usb"]);
                    let ok = ok_or_busy(&run, &format!("backup run {i}"));
                    if !ok {
                        *busy.lock().unwrap().entry("backup run").or_default() += 1;
                    }
                    ok
                })
                .count();
            assert!(done > 0, "every backup run was busy");
        });
    });
    eprintln!("concurrency test: busy {:?}", busy.lock().unwrap());

    // Quiet now: a last snapshot catches whatever a busy one missed; then everything checks.
    let expected = expected.into_inner().unwrap();
    for (w, folder) in folders.iter().enumerate() {
        let name = format!("p{w}");
        sb.ok(&["snapshot", &name]);
        let latest = sb.version_ids(&name)[0].clone();
        let dest = sb.export(&name, &latest, &format!("latest-{name}"));
        Tree::read(folder).assert_same(&Tree::read(&dest), &format!("{name}: latest version"));
        let text = std::fs::read_to_string(dest.join("notes/latest.txt")).unwrap();
        assert_eq!(text, format!("{name} round {}\n", WRITER_ROUNDS - 1));
        for (id, tree) in expected.get(&name).into_iter().flatten() {
            let dest = sb.export(&name, id, &format!("check-{name}-{}", &id[..10]));
            tree.assert_same(
                &Tree::read(&dest),
                &format!("{name}: version {}", &id[..10]),
            );
        }
    }
    expect::vault_verifies(&sb, "after the concurrent runs");
    sb.ok(&["backup", "run", "usb"]);
    expect::backup_verifies(&sb, "usb", "after the concurrent runs");
    let restored: PathBuf = sb.path("restored");
    sb.ok(&["backup", "restore", "usb", "--to", s(&restored)]);
    Sandbox::with_vault(restored).ok(&["verify"]);
}

/// Processes saving the same files at once: four loops of `kura file save` on the same few
/// files. A save whose replaced file another process opens made the kernel send the saver
/// `SIGIO` (its write lease broken), which killed 3 of 600 such processes. Every process must
/// end by itself (success or `busy`), and every file must hold one writer's whole content.
#[test]
fn saves_of_the_same_files_from_several_processes_never_kill_each_other() {
    const LOOPS: usize = 4;
    const SAVES: usize = 60;
    const FILES: usize = 3;
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "s"]);
    let written: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for l in 0..LOOPS {
            let (sb, written) = (&sb, &written);
            scope.spawn(move || {
                for i in 0..SAVES {
                    let data = format!("loop {l} save {i}\n")
                        .repeat(1 + i % 7)
                        .into_bytes();
                    let path = format!("d{}/f.txt", i % FILES);
                    let run = sb.run_with_input(&["--json", "file", "save", "s", &path], &data);
                    ok_or_busy(&run, &format!("loop {l} save {i}"));
                    written.lock().unwrap().push(data);
                }
            });
        }
    });
    let written = written.into_inner().unwrap();
    for k in 0..FILES {
        let data = std::fs::read(sb.vault().join(format!("projects/s/d{k}/f.txt"))).unwrap();
        assert!(
            written.contains(&data),
            "d{k}/f.txt holds what no writer saved: {:?}",
            String::from_utf8_lossy(&data)
        );
    }
}
