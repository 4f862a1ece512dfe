//! Opening vaults, settings, workspaces, two handles on one vault.

use std::sync::Arc;

use kura_core::{ErrorKind, Job, NewProject, SnapshotOptions, Vault};

use crate::{renamed, Fixture};

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

/// A catalog of schema 3 (file rows with the last version as hex text, an index of every file's
/// size; no project revisions) is brought up to date on open: the rows become the project's file
/// list, which keeps serving as the files cache, and the project list follows later changes.
#[test]
fn a_catalog_of_an_earlier_schema_is_migrated_without_losing_the_files_cache() {
    let f = Fixture::new();
    let big = vec![7u8; 100_000];
    let root = f.tree(
        "app",
        &[
            ("src/main.rs", b"fn main() {}\n"),
            ("assets/data.bin", &big),
        ],
    );
    crate::backdate(&root.join("src/main.rs"));
    crate::backdate(&root.join("assets/data.bin"));
    f.link(&root, "app");
    crate::write(&root, "src/lib.rs", b"pub fn lib() {}\n");
    crate::backdate(&root.join("src/lib.rs"));
    let second = f.snapshot("app", "second").version.unwrap().id;
    let first = f.vault.versions("app", None).unwrap()[1].id.clone();
    let project = f.vault.project("app").unwrap();
    let history = f.vault.root().join(format!("histories/{}.git", project.id));
    let db_path = f.vault.root().join("catalog.db");
    drop(f.vault);
    {
        // Back to schema 3, as an earlier Kura left it: a row per file, made here from the real
        // history (`git ls-tree`, `git log`) and the files' stat data.
        let git = |args: &[&str]| -> String {
            let out = std::process::Command::new("git")
                .arg("--git-dir")
                .arg(&history)
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success());
            String::from_utf8(out.stdout).unwrap()
        };
        let mut db = rusqlite::Connection::open(&db_path).unwrap();
        let tx = db.transaction().unwrap();
        // Back to schema 3: what migrations 4 to 8 made goes.
        for table in [
            "workspaces",
            "labels",
            "metadata",
            "file_lists",
            "archives",
            "projects",
        ] {
            for op in ["insert", "update", "delete"] {
                tx.execute_batch(&format!("DROP TRIGGER IF EXISTS {table}_changed_{op}"))
                    .unwrap();
            }
        }
        tx.execute_batch(
            "DROP TABLE change_log;
             ALTER TABLE archives DROP COLUMN cold_target;
             ALTER TABLE archives DROP COLUMN cold_key;
             ALTER TABLE archives DROP COLUMN kept_local_at;",
        )
        .unwrap();
        tx.execute_batch(
            "DROP TRIGGER projects_rev_insert;
             DROP TRIGGER projects_rev_update;
             DROP TRIGGER projects_rev_delete;
             DROP TRIGGER labels_rev_insert;
             DROP TRIGGER labels_rev_update;
             DROP TRIGGER labels_rev_delete;
             DROP TRIGGER metadata_rev_insert;
             DROP TRIGGER metadata_rev_update;
             DROP TRIGGER metadata_rev_delete;
             DROP TRIGGER workspaces_rev_update;
             DROP TABLE catalog_rev;
             DROP TABLE removed_projects;
             DROP INDEX projects_by_rev;
             ALTER TABLE projects DROP COLUMN rev;
             DROP TABLE file_lists;
             DROP TABLE large_files;
             CREATE TABLE files (
                 project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                 path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                 ctime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, mode INTEGER NOT NULL,
                 layer TEXT NOT NULL, oid BLOB NOT NULL, ext TEXT NOT NULL,
                 last_version TEXT NOT NULL, PRIMARY KEY (project_id, path)) WITHOUT ROWID;
             CREATE INDEX files_by_size ON files(size);
             PRAGMA user_version = 3;",
        )
        .unwrap();
        for line in git(&["ls-tree", "-r", "HEAD"]).lines() {
            // "<mode> blob <oid>\t<path>"
            let (meta, path) = line.split_once('\t').unwrap();
            let fields: Vec<&str> = meta.split(' ').collect();
            let md = std::fs::metadata(root.join(path)).unwrap();
            use std::os::unix::fs::MetadataExt;
            tx.execute(
                "INSERT INTO files VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                rusqlite::params![
                    project.id,
                    path,
                    md.len() as i64,
                    md.mtime() * 1_000_000_000 + md.mtime_nsec(),
                    md.ctime() * 1_000_000_000 + md.ctime_nsec(),
                    md.ino() as i64,
                    i64::from_str_radix(fields[0], 8).unwrap(),
                    if path.ends_with(".bin") {
                        "chunks"
                    } else {
                        "git"
                    },
                    hex::decode(fields[2]).unwrap(),
                    path.rsplit('.').next().unwrap(),
                    git(&["log", "-1", "--format=%H", "--", path]).trim(),
                ],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let vault = Vault::open(&f.dir.path().join("vault")).unwrap();
    let files = vault.list_files("app", None).unwrap();
    let last = |path: &str| {
        files
            .iter()
            .find(|e| e.path == path)
            .and_then(|e| e.last_version.clone())
    };
    assert_eq!(last("src/main.rs"), Some(first.clone()));
    assert_eq!(last("assets/data.bin"), Some(first));
    assert_eq!(last("src/lib.rs"), Some(second));
    // Nothing is read again: the migrated rows still match the files on disk.
    let report = vault
        .snapshot("app", &SnapshotOptions::default(), &Job::default())
        .unwrap();
    assert_eq!(report.version, None);
    assert_eq!(report.files_read, 0);
    assert_eq!(
        vault.stats().unwrap().largest_files[0].path,
        "assets/data.bin"
    );
    // The rows are gone, into one file list.
    let db = rusqlite::Connection::open(&db_path).unwrap();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'file%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(tables, ["file_lists", "file_usage"]);
    // Projects that existed before the migration are listed, and changes to them show.
    assert_eq!(vault.projects(&Default::default()).unwrap()[0].name, "app");
    vault.change_project("app", &renamed("web")).unwrap();
    let other = Vault::open(vault.root()).unwrap();
    assert_eq!(other.projects(&Default::default()).unwrap()[0].name, "web");
    other.change_project("web", &renamed("site")).unwrap();
    assert_eq!(vault.projects(&Default::default()).unwrap()[0].name, "site");
}
