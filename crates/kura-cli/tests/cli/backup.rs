//! `kura backup`: a folder target end to end, a wrong passphrase, SIGKILL in the middle of runs
//! and prunes, a full target disk.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::disk::{self, Tree};
use crate::random::Rng;
use crate::sandbox::{s, Sandbox};

/// Runs `kura --json <args>` with extra environment variables; returns the exit code and output.
fn run_env(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = sb.command(&all).envs(env.iter().copied()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v)
}

fn project_with_data(sb: &Sandbox, name: &str, seed: u64, big: usize) -> std::path::PathBuf {
    let src = sb.path(&format!("src-{name}"));
    for i in 0..40 {
        disk::write(
            &src.join(format!("src/file{i}.txt")),
            format!("{name} line {i}\n").repeat(20),
        );
    }
    disk::write(&src.join("data/big.bin"), Rng::new(seed).bytes(big));
    disk::symlink("src/file1.txt", &src.join("link.txt"));
    sb.ok(&["project", "import", s(&src), "--name", name]);
    src
}

#[test]
fn back_up_list_verify_restore_and_schedule_from_the_command_line() {
    let sb = Sandbox::new();
    let src = project_with_data(&sb, "site", 1, 3 << 20);
    let drive = sb.path("drive");
    std::fs::create_dir(&drive).unwrap();
    sb.ok(&[
        "backup",
        "target",
        "add",
        "usb",
        "--folder",
        s(&drive),
        "--schedule",
        "daily 02:00",
    ]);
    let targets = sb.ok(&["backup", "target", "list"]);
    assert_eq!(targets[0]["schedule"], "daily 02:00");
    let runs = sb.ok(&["backup", "run", "usb"]);
    assert_eq!(runs[0]["ok"], true);
    let again = sb.ok(&["backup", "run", "usb"]);
    assert_eq!(again[0]["run"]["new_blobs"], 0);
    let list = sb.ok(&["backup", "list", "usb"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let contents = sb.ok(&["backup", "list", "usb", "--backup", "latest"]);
    assert_eq!(contents["projects"][0]["name"], "site");
    let verify = sb.ok(&["backup", "verify", "usb", "--sample", "50%"]);
    assert!(verify["problems"].as_array().unwrap().is_empty());
    let dest = sb.path("restored-site");
    sb.ok(&[
        "backup",
        "restore",
        "usb",
        "--project",
        "site",
        "--to",
        s(&dest),
    ]);
    assert_eq!(
        Tree::read(&dest),
        Tree::read(&sb.vault().join("projects/site"))
    );
    assert_eq!(Tree::read(&dest), Tree::read(&src));
    let err = sb.fails(&["backup", "restore", "usb", "--to", s(&dest)], 4);
    assert_eq!(err["code"], "already_exists");
    sb.ok(&["backup", "schedule", "usb", "cron 0 3 * * *"]);
    let err = sb.fails(&["backup", "schedule", "usb", "every full moon"], 2);
    assert_eq!(err["code"], "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("daily at 02:00"));
    assert_eq!(
        sb.ok(&["backup", "target", "list"])[0]["schedule"],
        "cron 0 3 * * *"
    );
    let health = sb.ok(&["backup", "health"]);
    assert_eq!(health[0]["state"], "ok");
    let timeline = sb.ok(&["backup", "list", "--runs"]);
    assert_eq!(timeline.as_array().unwrap().len(), 2);
    let dry = sb.ok(&["backup", "prune", "usb", "--dry-run"]);
    assert_eq!(
        dry["removed"].as_array().unwrap().len(),
        0,
        "no retention rule keeps all"
    );
    // Pauses are kept in the vault, where the app's scheduler reads them.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let hour = sb.ok(&["backup", "pause", "--until", "1h"]);
    let until = hour["until"].as_i64().unwrap();
    assert!((now + 3590..=now + 3700).contains(&until), "{hour}");
    let pause_file = sb.vault().join("backup/pause.json");
    assert!(pause_file.exists());
    // Said as the app says it: a time of day, not a timestamp.
    let text = sb.run(&["backup", "pause", "--until", "tomorrow"]).text();
    assert!(text.contains("paused until tomorrow at 00:00"), "{text}");
    assert_eq!(sb.ok(&["backup", "pause"])["until"], Value::Null);
    sb.ok(&["backup", "resume"]);
    assert!(!pause_file.exists());
    sb.fails(&["backup", "pause", "--until", "forever"], 2);
    // A drive that is not connected: exit code 12, not a failure.
    std::fs::rename(&drive, sb.path("unplugged")).unwrap();
    let err = sb.fails(&["backup", "run", "usb"], 12);
    assert_eq!(err["code"], "unavailable");
}

/// Waits for the next second of the real clock (the vault notes changes by the second).
fn next_second() {
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let next = now() + 1;
    while now() < next {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_target_backed_up_after_every_change_says_whether_it_is_behind() {
    let sb = Sandbox::new();
    project_with_data(&sb, "site", 7, 1000);
    let drive = sb.path("drive");
    std::fs::create_dir_all(&drive).unwrap();
    let nas = format!("{}/kura", s(&drive));
    sb.ok(&[
        "backup",
        "target",
        "add",
        "nas",
        "--folder",
        &nas,
        "--schedule",
        "after every change",
    ]);
    let list = || sb.run(&["backup", "target", "list"]).text();
    assert!(
        list().contains("schedule: after every change; not backed up yet"),
        "{}",
        list()
    );
    next_second();
    sb.ok(&["backup", "run", "nas"]);
    assert!(list().contains("; up to date"), "{}", list());
    // A record written by a script is a change the copy lacks, until the next backup.
    next_second();
    sb.ok(&["record", "put", "notes", "today", r#"{"text": "hi"}"#]);
    assert!(list().contains("; behind since "), "{}", list());
    next_second();
    sb.ok(&["backup", "run", "nas"]);
    assert!(list().contains("; up to date"), "{}", list());
    // A schedule is checked: the phrase is taken in any case, nothing else like it.
    sb.ok(&["backup", "schedule", "nas", "After Every Change"]);
    let err = sb.fails(
        &["backup", "schedule", "nas", "after every other change"],
        2,
    );
    assert_eq!(err["code"], "invalid_input");
}

#[test]
fn a_wrong_passphrase_is_a_clear_error_and_changes_nothing() {
    let sb = Sandbox::new();
    project_with_data(&sb, "site", 2, 1 << 20);
    let drive = sb.path("drive");
    std::fs::create_dir(&drive).unwrap();
    let good = [("KURA_BACKUP_SAFE_PASSPHRASE", "a long passphrase")];
    let (code, v) = run_env(
        &sb,
        &[
            "backup",
            "target",
            "add",
            "safe",
            "--folder",
            s(&drive),
            "--encrypt",
        ],
        &good,
    );
    assert_eq!(code, 0, "{v}");
    let (code, v) = run_env(&sb, &["backup", "run", "safe"], &good);
    assert_eq!(code, 0, "{v}");
    let bad = [("KURA_BACKUP_SAFE_PASSPHRASE", "not it")];
    let before = Tree::read(&drive);
    let (code, v) = run_env(&sb, &["backup", "run", "safe"], &bad);
    assert_eq!(code, 13, "{v}");
    assert_eq!(v["error"]["code"], "wrong_passphrase");
    assert_eq!(
        Tree::read(&drive),
        before,
        "nothing written with a wrong passphrase"
    );
    let (code, v) = run_env(&sb, &["backup", "run", "safe"], &[]);
    assert_eq!(code, 2, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("KURA_BACKUP_SAFE_PASSPHRASE"),
        "{v}"
    );
}

#[test]
fn killed_runs_and_prunes_resume_and_verify() {
    let sb = Sandbox::new();
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        project_with_data(&sb, name, 10 + i as u64, 24 << 20);
    }
    let drive = sb.path("drive");
    std::fs::create_dir(&drive).unwrap();
    sb.ok(&["backup", "target", "add", "usb", "--folder", s(&drive)]);
    for (round, delay) in [150u64, 400, 900].iter().enumerate() {
        let mut child = sb
            .command(["backup", "run", "usb"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(*delay));
        let _ = child.kill();
        child.wait().unwrap();
        // A new version between kills, so each run has something new.
        disk::write(
            &sb.vault().join(format!("projects/a/round{round}.bin")),
            Rng::new(round as u64).bytes(2 << 20),
        );
        sb.ok(&["snapshot", "a"]);
        let verify = sb.ok(&["backup", "verify", "usb", "--full"]);
        assert!(
            verify["problems"].as_array().unwrap().is_empty(),
            "after kill {round}: {verify}"
        );
    }
    sb.ok(&["backup", "run", "usb"]);
    sb.ok(&["backup", "run", "usb"]);
    sb.ok(&["backup", "retention", "usb", "--keep-last", "1"]);
    let mut child = sb
        .command(["backup", "prune", "usb"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let _ = child.kill();
    child.wait().unwrap();
    sb.ok(&["backup", "prune", "usb"]);
    let verify = sb.ok(&["backup", "verify", "usb", "--full"]);
    assert!(
        verify["problems"].as_array().unwrap().is_empty(),
        "{verify}"
    );
    let runs = sb.ok(&["backup", "list", "--runs"]);
    assert!(
        runs.as_array()
            .unwrap()
            .iter()
            .any(|r| r["result"] == "interrupted"),
        "killed runs are recorded as interrupted"
    );
    let dest = sb.path("restored");
    sb.ok(&["backup", "restore", "usb", "--to", s(&dest)]);
    let restored = Sandbox::with_vault(dest.clone());
    restored.ok(&["verify"]);
    assert_eq!(
        Tree::read(&dest.join("projects/a")),
        Tree::read(&sb.vault().join("projects/a"))
    );
}

#[test]
fn a_full_target_disk_is_a_clear_error() {
    if !disk::running_as_root() {
        crate::sandbox::precondition_missing("mounting a small tmpfs needs root");
        return;
    }
    let sb = Sandbox::new();
    project_with_data(&sb, "site", 3, 12 << 20);
    let Some(small) = crate::safety::SmallDisk::mount(sb.path("small"), "4m") else {
        crate::sandbox::precondition_missing("cannot mount a tmpfs here");
        return;
    };
    let target = small.dir.join("repo");
    sb.ok(&["backup", "target", "add", "tiny", "--folder", s(&target)]);
    let err = sb.fails(&["backup", "run", "tiny"], 7);
    assert_eq!(err["code"], "disk_full");
    assert!(
        err["message"].as_str().unwrap().contains("is full"),
        "{err}"
    );
}
