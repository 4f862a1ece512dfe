//! Opening vaults, settings, workspaces, two handles on one vault.

use std::sync::Arc;

use kura_core::{ErrorKind, Job, NewProject, SnapshotOptions, Vault};

use crate::Fixture;

#[test]
fn a_new_vault_has_the_default_workspace_and_layout() {
    let f = Fixture::new();
    let ws = f.vault.workspaces().unwrap();
    assert_eq!(ws.len(), 1);
    assert_eq!(ws[0].name, "default");
    assert!(ws[0].active);
    for dir in ["histories", "projects", "chunks", "catalog.db"] {
        assert!(f.vault.root().join(dir).exists(), "{dir} missing");
    }
    // Reopening keeps one default workspace.
    drop(f.vault);
    let again = Vault::open(&f.dir.path().join("vault")).unwrap();
    assert_eq!(again.workspaces().unwrap().len(), 1);
}

#[test]
fn a_vault_on_a_missing_drive_is_refused_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("unplugged-drive/kura");
    let err = Vault::open(&gone).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("drive"), "{err}");
    assert!(!gone.exists());
}

#[test]
fn workspaces_create_switch_rename_and_delete_with_rules() {
    let f = Fixture::new();
    let v = &f.vault;
    v.create_workspace("clients").unwrap();
    assert_eq!(
        v.create_workspace("Clients").unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        v.create_workspace("a/b").unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    v.switch_workspace("clients").unwrap();
    assert_eq!(v.current_workspace().unwrap().name, "clients");
    v.create_project(&NewProject {
        name: "site".into(),
        ..Default::default()
    })
    .unwrap();
    // Projects land in the active workspace.
    assert_eq!(v.project("site").unwrap().workspace, "clients");
    let err = v.delete_workspace("clients", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.message().contains("--move-to"), "{err}");
    v.rename_workspace("clients", "customers").unwrap();
    v.delete_workspace("customers", Some("default")).unwrap();
    assert_eq!(v.project("site").unwrap().workspace, "default");
    // The active workspace falls back to the default one.
    assert_eq!(v.current_workspace().unwrap().name, "default");
    assert_eq!(
        v.delete_workspace("default", None).unwrap_err().kind(),
        ErrorKind::Conflict
    );
}

#[test]
fn settings_are_validated_and_written_to_config_toml() {
    let f = Fixture::new();
    f.vault
        .set_config("storage.large_file_threshold", "2 MiB")
        .unwrap();
    let err = f
        .vault
        .set_config("storage.compression_level", "99")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let text = std::fs::read_to_string(f.vault.config_path()).unwrap();
    assert!(text.contains("large_file_threshold = \"2 MiB\""), "{text}");
    let reopened = Vault::open(f.vault.root()).unwrap();
    assert_eq!(reopened.config().storage.large_file_threshold.0, 2 << 20);
    assert_eq!(reopened.config().storage.compression_level, 3);
}

#[test]
fn two_handles_on_one_vault_work_side_by_side() {
    let f = Fixture::new();
    let root = f.tree("shared", &[("a.txt", b"one")]);
    f.link(&root, "shared");
    let other = Arc::new(Vault::open(f.vault.root()).unwrap());
    let mut threads = Vec::new();
    for i in 0..4 {
        let v = other.clone();
        threads.push(std::thread::spawn(move || {
            v.create_workspace(&format!("ws{i}")).unwrap();
            v.projects(&Default::default()).unwrap().len()
        }));
    }
    crate::write(&root, "b.txt", b"two");
    let r = f
        .vault
        .snapshot("shared", &SnapshotOptions::default(), &Job::default())
        .unwrap();
    assert_eq!(r.changes.added, 1);
    for t in threads {
        assert_eq!(t.join().unwrap(), 1);
    }
    assert_eq!(f.vault.workspaces().unwrap().len(), 5);
}

#[test]
fn a_changed_setting_applies_to_the_open_vault_at_once() {
    let f = Fixture::new();
    let root = f.tree("src", &[("a.txt", b"a")]);
    f.link(&root, "p");
    crate::write(&root, "notes.log", b"log");
    f.vault.set_config("snapshots.excludes", "*.log").unwrap();
    assert_eq!(f.vault.config().snapshots.excludes, ["*.log"]);
    let r = f.snapshot("p", "no logs");
    assert!(r.version.is_none(), "the .log file is excluded now");
    let err = f
        .vault
        .set_config("snapshots.auto_snapshot", "sometimes")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    f.vault
        .set_config("snapshots.auto_snapshot", "all")
        .unwrap();
    assert_eq!(
        f.vault.config().snapshots.auto_snapshot,
        kura_core::AutoSnapshot::All
    );
}
