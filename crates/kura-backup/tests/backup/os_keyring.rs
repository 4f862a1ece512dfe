//! Secrets kept in the real OS keyring (a Secret Service on D-Bus). Run under
//! `scripts/with-keyring.sh` (a private session with an unlocked GNOME keyring); without a
//! reachable Secret Service the test fails, unless `KURA_TEST_ALLOW_SKIP=1`.

use std::path::Path;

use kura_backup::{secret_env_var, Backups, SecretKind, Secrets, Target, VerifyMode};
use kura_core::{ErrorKind, Job};

use crate::{tree_digest, Scene};

/// Whether a Secret Service takes and gives back a secret here; the error says why not.
fn secret_service() -> Result<(), String> {
    let probe = keyring::Entry::new("kura-backup-test", "probe").map_err(|e| e.to_string())?;
    probe.set_password("probe").map_err(|e| e.to_string())?;
    let back = probe.get_password().map_err(|e| e.to_string());
    let _ = probe.delete_credential();
    match back?.as_str() {
        "probe" => Ok(()),
        other => Err(format!("the keyring gave back '{other}'")),
    }
}

/// Every file under `root`.
fn files_under(root: &Path) -> Vec<std::path::PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect()
}

#[test]
fn keyring_secrets_open_an_encrypted_target_and_are_written_nowhere() {
    if let Err(why) = secret_service() {
        if std::env::var("KURA_TEST_ALLOW_SKIP").as_deref() == Ok("1") {
            eprintln!("skipped: no Secret Service is reachable ({why})");
            return;
        }
        panic!(
            "no Secret Service is reachable ({why}): run this test under scripts/with-keyring.sh, or set KURA_TEST_ALLOW_SKIP=1 to skip it"
        );
    }
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).unwrap();
    let passphrase = format!("keyring-passphrase-{}", hex::encode(random));
    // Nothing in the environment: the passphrase can only come from the keyring.
    assert!(std::env::var(secret_env_var("vaulted", SecretKind::Passphrase)).is_err());

    let scene = Scene::new();
    let backups = Backups::new(&scene.vault);
    let drive = scene.path("drive");
    std::fs::create_dir(&drive).unwrap();
    let target = Target {
        encrypt: true,
        ..Target::folder("vaulted", &drive)
    };
    let secrets = Secrets {
        passphrase: Some(passphrase.clone()),
        ..Secrets::default()
    };
    backups.add_target(&target, &secrets, true).unwrap();
    backups.run_backup("vaulted", &Job::default()).unwrap();
    assert!(backups
        .verify("vaulted", VerifyMode::Full, &Job::default())
        .unwrap()
        .is_ok());
    let dest = scene.path("restored");
    backups
        .restore("vaulted", "latest", Some("site"), &dest, &Job::default())
        .unwrap();
    let site = scene.vault.project("site").unwrap();
    assert_eq!(tree_digest(&dest), tree_digest(&site.path));

    let mut files = files_under(scene.vault.root());
    files.extend(files_under(&drive));
    assert!(files.contains(&scene.vault.root().join("backup/targets.toml")));
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !bytes
                .windows(passphrase.len())
                .any(|w| w == passphrase.as_bytes()),
            "{} holds the passphrase",
            file.display()
        );
    }

    // Removing the target takes its secret out of the keyring: added again, it has none.
    backups.remove_target("vaulted").unwrap();
    let err = backups
        .add_target(&target, &Secrets::default(), false)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.message().contains("not in the OS keyring"), "{err}");
}
