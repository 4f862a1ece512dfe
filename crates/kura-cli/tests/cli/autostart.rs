//! `kura autostart`: the XDG autostart entry the desktop app's switch also reads and writes, in a
//! temp `XDG_CONFIG_HOME`; and the vault folder chosen in the app, which `kura` opens too.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::sandbox::KURA;

/// `kura` hard-linked into `dir` (a package's /usr/bin), with or without a `kura-desktop` beside it.
fn install(dir: &Path, with_desktop: bool) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let kura = dir.join("kura");
    std::fs::hard_link(KURA, &kura).unwrap();
    if with_desktop {
        std::fs::write(dir.join("kura-desktop"), "#!/bin/sh\n").unwrap();
    }
    kura
}

/// Runs `kura --json ARGS` with `config` as XDG_CONFIG_HOME and `home` as HOME, nothing else of
/// the caller's KURA_* or XDG_* variables.
fn run(kura: &Path, home: &Path, config: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(kura);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("KURA_") || k.starts_with("XDG_") {
            cmd.env_remove(k.as_ref());
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", config)
        .arg("--json")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `on` writes an entry that starts the `kura-desktop` beside `kura` with `--hidden` (quoted as
/// the Desktop Entry spec asks when its path has a space), `kura autostart` reads it back, `off`
/// removes it; an entry turned off in the desktop's settings reads as off.
#[test]
fn autostart_on_writes_the_entry_and_off_removes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let bin = root.join("my apps/bin");
    let kura = install(&bin, true);
    let config = root.join("config");
    let entry = config.join("autostart/kura.desktop");

    let off = json(&run(&kura, &root, &config, &["autostart"]));
    assert_eq!(off["enabled"], false, "{off}");
    assert_eq!(off["entry"], entry.to_str().unwrap());

    let on = run(&kura, &root, &config, &["autostart", "on"]);
    assert!(on.status.success(), "{on:?}");
    let on = json(&on);
    assert_eq!(on["enabled"], true, "{on}");
    let desktop = bin.join("kura-desktop");
    assert_eq!(on["program"], desktop.to_str().unwrap());
    let text = std::fs::read_to_string(&entry).unwrap();
    assert!(
        text.starts_with("[Desktop Entry]\n")
            && text.contains(&format!("\nExec=\"{}\" --hidden\n", desktop.display()))
            && text.contains("\nType=Application\n"),
        "{text}"
    );
    let status = json(&run(&kura, &root, &config, &["autostart"]));
    assert_eq!(status, on);

    // People read it too.
    let human = Command::new(&kura)
        .env("HOME", &root)
        .env("XDG_CONFIG_HOME", &config)
        .arg("autostart")
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&human.stdout);
    assert!(human.starts_with("Start at login: on\n"), "{human}");

    // Turned off in the desktop's "Startup Applications": off, though the file is there.
    std::fs::write(
        &entry,
        text.replace("Autostart-enabled=true", "Autostart-enabled=false"),
    )
    .unwrap();
    assert_eq!(
        json(&run(&kura, &root, &config, &["autostart"]))["enabled"],
        false
    );

    let off = run(&kura, &root, &config, &["autostart", "off"]);
    assert!(off.status.success(), "{off:?}");
    assert_eq!(json(&off)["enabled"], false);
    assert!(!entry.exists(), "the entry is still there");
}

/// A hand-written entry (the packaged path, `Hidden=true`) is read as the desktop reads it.
#[test]
fn autostart_reads_a_hand_written_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let kura = install(&root.join("bin"), true);
    let config = root.join("config");
    std::fs::create_dir_all(config.join("autostart")).unwrap();
    let entry = config.join("autostart/kura.desktop");
    std::fs::write(
        &entry,
        "[Desktop Entry]\nType=Application\nName=Kura\nExec=/usr/bin/kura-desktop --hidden\n",
    )
    .unwrap();
    let status = json(&run(&kura, &root, &config, &["autostart"]));
    assert_eq!(status["enabled"], true, "{status}");
    assert_eq!(status["exec"], "/usr/bin/kura-desktop --hidden");
    assert_eq!(status["program"], "/usr/bin/kura-desktop");
    std::fs::write(
        &entry,
        "[Desktop Entry]\nType=Application\nExec=/usr/bin/kura-desktop --hidden\nHidden=true\n",
    )
    .unwrap();
    assert_eq!(
        json(&run(&kura, &root, &config, &["autostart"]))["enabled"],
        false
    );
}

/// With no `kura-desktop` beside `kura`, `on` refuses and says why, and writes nothing.
#[test]
fn autostart_on_refuses_without_the_desktop_app() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let kura = install(&root.join("bin"), false);
    let config = root.join("config");
    let out = run(&kura, &root, &config, &["autostart", "on"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let message = json(&out)["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("kura-desktop") && message.contains("not installed"),
        "{message}"
    );
    assert!(!config.join("autostart").exists());
}

/// The vault folder chosen in the app (app.toml) is the one `kura` opens, with the guard against
/// a drive that is not connected; KURA_HOME wins over it.
#[test]
fn kura_opens_the_vault_chosen_in_the_app() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let config = root.join("config");
    std::fs::create_dir_all(config.join("kura")).unwrap();
    let chosen = root.join("drive/kura");
    std::fs::write(
        config.join("kura/app.toml"),
        format!("vault = \"{}\"\n", chosen.display()),
    )
    .unwrap();
    let kura = Path::new(KURA);
    // The drive is not there: refused, nothing created, not the default vault instead.
    let out = run(kura, &root, &config, &["status"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(json(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("is its drive connected"));
    assert!(!root.join("drive").exists() && !root.join(".local").exists());

    std::fs::create_dir_all(root.join("drive")).unwrap();
    let out = run(kura, &root, &config, &["project", "create", "on-the-drive"]);
    assert!(out.status.success(), "{out:?}");
    assert!(chosen.join("projects/on-the-drive").is_dir());

    let home = root.join("home-vault");
    let out = Command::new(KURA)
        .env("HOME", &root)
        .env("XDG_CONFIG_HOME", &config)
        .env("KURA_HOME", &home)
        .args(["--json", "project", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        json(&out).as_array().unwrap().len(),
        0,
        "KURA_HOME did not win"
    );
}
