//! A damaged pack at an encrypted backup target: `kura backup verify --full` names it and what
//! it affects, a restore that needs it refuses with `corrupt` and writes nothing, and a restore
//! that does not need it still works.

use std::path::{Path, PathBuf};

use crate::disk::{self, Tree};
use crate::random::Rng;
use crate::sandbox::{s, Sandbox};

const PASSPHRASE: (&str, &str) = ("KURA_BACKUP_USB_PASSPHRASE", "damaged pack test");

/// The pack files at a folder target (`data/<xx>/<id>`), with their sizes.
fn packs(drive: &Path) -> Vec<(PathBuf, u64)> {
    let mut packs = Vec::new();
    for group in std::fs::read_dir(drive.join("data")).unwrap() {
        for pack in std::fs::read_dir(group.unwrap().path()).unwrap() {
            let pack = pack.unwrap();
            packs.push((pack.path(), pack.metadata().unwrap().len()));
        }
    }
    packs
}

/// Flips one byte in the middle of `file`.
fn flip_a_byte(file: &Path) {
    let mut bytes = std::fs::read(file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(file, bytes).unwrap();
}

/// Runs `kura --json <args>` with the target's passphrase; returns the exit code and output.
fn kura(sb: &Sandbox, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = sb
        .command(&all)
        .env(PASSPHRASE.0, PASSPHRASE.1)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("`kura {}` printed no JSON ({e}): {stderr}", args.join(" ")));
    (out.status.code(), json)
}

#[test]
fn a_damaged_encrypted_pack_is_named_by_verify_and_refused_by_restore() {
    let sb = Sandbox::new();
    let site = sb.path("src-site");
    for i in 0..10 {
        disk::write(&site.join(format!("page{i}.html")), format!("<p>{i}</p>\n"));
    }
    sb.ok(&["project", "import", s(&site), "--name", "site"]);
    let media = sb.path("src-media");
    // At least 4 MiB: the file gets backup packs of its own.
    disk::write(&media.join("clip.bin"), Rng::new(11).bytes(6 << 20));
    sb.ok(&["project", "import", s(&media), "--name", "media"]);
    let drive = sb.path("drive");
    std::fs::create_dir(&drive).unwrap();
    let (code, _) = kura(
        &sb,
        &[
            "backup",
            "target",
            "add",
            "usb",
            "--folder",
            s(&drive),
            "--encrypt",
        ],
    );
    assert_eq!(code, Some(0));
    let (code, _) = kura(&sb, &["backup", "run", "usb"]);
    assert_eq!(code, Some(0));

    // Damage every large pack (the clip's, and the chunk-store pack that holds it too).
    let damaged: Vec<PathBuf> = packs(&drive)
        .into_iter()
        .filter(|(_, size)| *size > 5 << 20)
        .map(|(path, _)| path)
        .collect();
    assert!(!damaged.is_empty(), "the clip has a pack of its own");
    for pack in &damaged {
        flip_a_byte(pack);
    }

    let (code, report) = kura(&sb, &["backup", "verify", "usb", "--full"]);
    assert_eq!(code, Some(8), "verify --full finds the damage: {report}");
    let problems = report["problems"].as_array().unwrap();
    for pack in &damaged {
        let object = pack.strip_prefix(&drive).unwrap().to_str().unwrap();
        let problem = problems
            .iter()
            .find(|p| p["object"] == object)
            .unwrap_or_else(|| panic!("verify does not name {object}: {report}"));
        assert!(
            problem["message"].as_str().unwrap().contains("damaged"),
            "{problem}"
        );
    }
    let affects: Vec<&str> = problems
        .iter()
        .flat_map(|p| p["affects"].as_array().unwrap())
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        affects
            .iter()
            .any(|a| a.ends_with("projects/media/clip.bin")),
        "verify says the clip is affected: {affects:?}"
    );

    // Restoring the project refuses, names the file, and writes nothing.
    let dest = sb.path("restored-media");
    let (code, out) = kura(
        &sb,
        &[
            "backup",
            "restore",
            "usb",
            "--project",
            "media",
            "--to",
            s(&dest),
        ],
    );
    assert_eq!(code, Some(8), "{out}");
    assert_eq!(out["error"]["code"], "corrupt");
    let message = out["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("clip.bin") && message.contains("nothing was restored"),
        "{message}"
    );
    assert!(!dest.exists(), "no destination folder was made");
    let debris: Vec<String> = std::fs::read_dir(sb.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".kura-restore-"))
        .collect();
    assert!(debris.is_empty(), "no staging folder is left: {debris:?}");

    // A project the damage does not touch still restores, byte for byte.
    let dest = sb.path("restored-site");
    let (code, out) = kura(
        &sb,
        &[
            "backup",
            "restore",
            "usb",
            "--project",
            "site",
            "--to",
            s(&dest),
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(Tree::read(&dest), Tree::read(&site));
}
