//! Every change announces what its declaration says, whichever door asks for it: the doors hold
//! a read-only vault (`Api::vault`), so each change goes through one service function, and this
//! runs each one.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use kura_backup::{Location, SecretKind, ShareOptions, Target};
use kura_core::{
    CleanupOptions, CollectionSettings, ImportArchiveOptions, ImportOptions, Job, NewProject,
    RecordDelete, RecordOp, RecordPut, SnapshotOptions,
};
use kura_schedule::PauseLength;
use kura_test_support::{free_port, S3Server};

use super::{Announces, Declared, Effect, OPERATIONS};
use crate::testing::Scene;
use crate::{Api, ApiError, ArchiveReference, RenameFile, RestoreRequest};

/// A change, set up and ready to run.
type Change = Box<dyn FnOnce(&Arc<Api>) -> Result<(), ApiError>>;

/// What the events from `after` on announced, as the declarations name it: `vault.changed`
/// with its reason, or the event's type. Health events are left out: they announce a change of
/// health, which the same change makes only sometimes.
fn announced(api: &Api, after: i64) -> BTreeSet<String> {
    api.events()
        .since(after, &[], 1000)
        .unwrap()
        .events
        .into_iter()
        .filter(|e| !e.kind.ends_with(".health"))
        .map(|e| match e.kind.as_str() {
            "vault.changed" => format!("vault.changed:{}", e.data["reason"].as_str().unwrap()),
            _ => e.kind,
        })
        .collect()
}

fn new_project(api: &std::sync::Arc<Api>, name: &str) -> String {
    let p = api
        .create_project(&NewProject {
            name: name.into(),
            ..Default::default()
        })
        .unwrap();
    std::fs::write(p.path.join("readme.md"), format!("# {name}\n")).unwrap();
    api.snapshot(&p.id, &SnapshotOptions::default(), &Job::default())
        .unwrap();
    p.id
}

fn put(collection: &str, key: &str) -> RecordPut {
    RecordPut {
        collection: collection.into(),
        key: key.into(),
        value: serde_json::json!({"state": "open"}),
        ..Default::default()
    }
}

fn delete(collection: &str, key: &str) -> RecordDelete {
    RecordDelete {
        collection: collection.into(),
        key: key.into(),
        if_rev: None,
    }
}

/// An S3 target `cloud` on a real S3 server, which shares need; the server stops when the
/// returned value is dropped.
fn cloud(s: &Scene) -> S3Server {
    let (access, secret) = ("kuratestaccess", "kuratestsecret0123456789");
    let server = S3Server::start(&s.dir.path().join("s3"), free_port(), access, secret);
    for (kind, value) in [
        (SecretKind::AccessKeyId, access),
        (SecretKind::SecretAccessKey, secret),
    ] {
        std::env::set_var(kura_backup::secret_env_var("cloud", kind), value);
    }
    let target = Target {
        location: Location::S3 {
            endpoint: server.endpoint(),
            region: "us-east-1".into(),
            bucket: kura_test_support::BUCKET.into(),
            prefix: "shares".into(),
            path_style: true,
        },
        ..Target::folder("cloud", std::path::Path::new("/unused"))
    };
    s.api
        .add_backup_target(&target, Default::default(), false)
        .unwrap();
    server
}

fn restore(version: &str) -> RestoreRequest {
    RestoreRequest {
        version: version.into(),
        path: None,
    }
}

fn share(expires: &str) -> ShareOptions {
    ShareOptions {
        version: None,
        target: "cloud".into(),
        expires: expires.into(),
    }
}

/// Sets up what the change `d` needs in `s` and gives the change; `None` for an operation that
/// is no change of the vault's (its declaration says why).
fn change(s: &Scene, d: &Declared) -> Option<Change> {
    let api = &s.api;
    let dir = s.dir.path().to_path_buf();
    let site = api.vault().project("site").unwrap().id;
    let change: Change = match d.name {
        "set_config" => Box::new(|a| a.set_config("cleanup.trash_days", "20").map(drop)),
        "collect_garbage" => Box::new(move |a| a.gc(&Job::default()).map(drop)),
        "run_cleanup" => {
            let id = new_project(api, "old");
            api.trash_project(&id).unwrap();
            s.set(api.now() + 90 * 86_400);
            Box::new(move |a| {
                a.cleanup(&CleanupOptions::default(), &Job::default())
                    .map(drop)
            })
        }
        "create_workspace" => Box::new(|a| a.create_workspace("clients").map(drop)),
        "rename_workspace" => {
            api.create_workspace("w-rename").unwrap();
            Box::new(|a| a.rename_workspace("w-rename", "w-renamed").map(drop))
        }
        "switch_workspace" => {
            api.create_workspace("w-switch").unwrap();
            Box::new(|a| a.switch_workspace("w-switch").map(drop))
        }
        "delete_workspace" => {
            api.create_workspace("w-delete").unwrap();
            Box::new(|a| a.delete_workspace("w-delete", None))
        }
        "create_project" => Box::new(|a| {
            a.create_project(&NewProject {
                name: "blank".into(),
                ..Default::default()
            })
            .map(drop)
        }),
        "import_folder" => {
            let folder = dir.join("to-import");
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("main.rs"), "fn main() {}\n").unwrap();
            Box::new(move |a| {
                a.import_folder(&folder, &ImportOptions::default(), &Job::default())
                    .map(drop)
            })
        }
        "edit_project" => {
            let edit = kura_core::ProjectEdit {
                name: Some("site, renamed".into()),
                description: Some("A site.".into()),
                ..Default::default()
            };
            Box::new(move |a| a.edit_project(&site, &edit).map(drop))
        }
        "tag_project" => Box::new(move |a| a.tag_project(&site, &["web".into()], &[]).map(drop)),
        "set_project_metadata" => Box::new(move |a| {
            a.set_metadata(&site, &[("client".into(), Some("acme".into()))])
                .map(drop)
        }),
        "trash_project" => {
            let id = new_project(api, "to-trash");
            Box::new(move |a| a.trash_project(&id).map(drop))
        }
        "untrash_project" => {
            let id = new_project(api, "in-trash");
            api.trash_project(&id).unwrap();
            Box::new(move |a| a.untrash_project(&id).map(drop))
        }
        "delete_project" => {
            let id = new_project(api, "to-delete");
            Box::new(move |a| a.delete_project(&id))
        }
        "save_project_as_template" => {
            Box::new(move |a| a.save_template(&site, "starter").map(drop))
        }
        "save_file" => Box::new(move |a| {
            a.save_file(&site, "notes.txt", &mut &b"notes\n"[..])
                .map(drop)
        }),
        "delete_file" => {
            api.save_file(&site, "gone.txt", &mut &b"x"[..]).unwrap();
            Box::new(move |a| a.delete_file(&site, "gone.txt"))
        }
        "rename_file" => {
            api.save_file(&site, "old-name.txt", &mut &b"x"[..])
                .unwrap();
            Box::new(move |a| {
                a.rename_file(
                    &site,
                    &RenameFile {
                        from: "old-name.txt".into(),
                        to: "new-name.txt".into(),
                    },
                )
            })
        }
        "upload_files" => {
            let file = dir.join("dropped.txt");
            std::fs::write(&file, "dropped\n").unwrap();
            Box::new(move |a| {
                a.upload_files(&site, &[file], "", &Job::default())
                    .map(drop)
            })
        }
        "snapshot_project" => {
            api.save_file(&site, "v2.txt", &mut &b"two"[..]).unwrap();
            Box::new(move |a| {
                a.snapshot(&site, &SnapshotOptions::default(), &Job::default())
                    .map(drop)
            })
        }
        "snapshot_changed_projects" => {
            api.save_file(&site, "v3.txt", &mut &b"three"[..]).unwrap();
            Box::new(|a| {
                a.snapshot_changed(false, &SnapshotOptions::default(), &Job::default())
                    .map(drop)
            })
        }
        "restore_project" => {
            let first = api
                .vault()
                .versions(&site, None)
                .unwrap()
                .last()
                .unwrap()
                .id
                .clone();
            Box::new(move |a| {
                a.restore(&site, &restore(&first), &Job::default())
                    .map(drop)
            })
        }
        "init_git_repository" => Box::new(move |a| a.init_folder_git(&site)),
        "archive_project" => {
            let id = new_project(api, "to-archive");
            Box::new(move |a| a.archive_project(&id, &Job::default()).map(drop))
        }
        "unarchive_project" => {
            let id = new_project(api, "archived");
            api.archive_project(&id, &Job::default()).unwrap();
            Box::new(|a| {
                a.unarchive_project(
                    &ArchiveReference {
                        archive: "archived".into(),
                    },
                    &Job::default(),
                )
                .map(drop)
            })
        }
        "import_archive" | "upload_archive" => {
            let id = new_project(api, &format!("exported-{}", d.name));
            let archive = api.archive_project(&id, &Job::default()).unwrap();
            let copy = dir.join(format!("{}.tar.zst", d.name));
            std::fs::copy(&archive.path, &copy).unwrap();
            let name = format!("imported-{}", d.name);
            Box::new(move |a| {
                let opts = ImportArchiveOptions {
                    name: Some(name),
                    ..Default::default()
                };
                a.import_archive(&copy, &opts, &Job::default()).map(drop)
            })
        }
        "move_archives_to_cold_tier" => {
            let id = new_project(api, "cold");
            api.archive_project(&id, &Job::default()).unwrap();
            api.set_config("archive.cold_target", "drive").unwrap();
            Box::new(|a| a.cold_pass(&Job::default()).map(drop))
        }
        "put_project_record" => {
            Box::new(move |a| a.record_put(Some(&site), put("tasks", "t1")).map(drop))
        }
        "put_vault_record" => Box::new(|a| a.record_put(None, put("notes", "n1")).map(drop)),
        "delete_project_record" => {
            api.record_put(Some(&site), put("tasks", "t2")).unwrap();
            Box::new(move |a| {
                a.record_delete(Some(&site), delete("tasks", "t2"))
                    .map(drop)
            })
        }
        "delete_vault_record" => {
            api.record_put(None, put("notes", "n2")).unwrap();
            Box::new(|a| a.record_delete(None, delete("notes", "n2")).map(drop))
        }
        "batch_project_records" => Box::new(move |a| {
            a.record_batch(Some(&site), vec![RecordOp::Put(put("tasks", "t3"))])
                .map(drop)
        }),
        "batch_vault_records" => Box::new(|a| {
            a.record_batch(None, vec![RecordOp::Put(put("notes", "n3"))])
                .map(drop)
        }),
        "configure_project_collection" => Box::new(move |a| {
            a.record_configure(
                Some(&site),
                "tasks",
                CollectionSettings {
                    indexes: vec!["state".into()],
                    schema: None,
                },
            )
            .map(drop)
        }),
        "configure_vault_collection" => Box::new(|a| {
            a.record_configure(
                None,
                "notes",
                CollectionSettings {
                    indexes: vec!["state".into()],
                    schema: None,
                },
            )
            .map(drop)
        }),
        "drop_project_collection" => {
            api.record_put(Some(&site), put("scratch", "s1")).unwrap();
            Box::new(move |a| a.record_drop_collection(Some(&site), "scratch").map(drop))
        }
        "drop_vault_collection" => {
            api.record_put(None, put("scratch", "s1")).unwrap();
            Box::new(|a| a.record_drop_collection(None, "scratch").map(drop))
        }
        "cancel_operation" => {
            let started = api
                .operations()
                .start(
                    "wait",
                    None,
                    None,
                    None,
                    |job: &Job| -> Result<(), ApiError> {
                        loop {
                            job.check()?;
                            std::thread::sleep(Duration::from_millis(10));
                        }
                    },
                )
                .unwrap();
            Box::new(move |a| {
                a.operations().cancel(&started.id)?;
                a.operations()
                    .wait(&started.id, Duration::from_secs(10))
                    .map(drop)
            })
        }
        "add_backup_target" => {
            let to = dir.join("second-drive");
            std::fs::create_dir_all(&to).unwrap();
            Box::new(move |a| {
                a.add_backup_target(
                    &Target::folder("second", &to.join("kura")),
                    Default::default(),
                    false,
                )
                .map(drop)
            })
        }
        "update_backup_target" => Box::new(|a| {
            a.change_backup_target("drive", |t| t.schedule = "daily".into())
                .map(drop)
        }),
        "remove_backup_target" => {
            let to = dir.join("third-drive");
            std::fs::create_dir_all(&to).unwrap();
            api.add_backup_target(
                &Target::folder("third", &to.join("kura")),
                Default::default(),
                false,
            )
            .unwrap();
            Box::new(|a| a.remove_backup_target("third"))
        }
        "run_backup" => Box::new(|a| a.run_backup("drive", &Job::default()).map(drop)),
        "restore_backup" => {
            let run = api.run_backup("drive", &Job::default()).unwrap();
            let to = dir.join("restored");
            Box::new(move |a| {
                a.restore_backup("drive", &run.backup.id, None, to, &Job::default())
                    .map(drop)
            })
        }
        "prune_backups" => {
            api.change_backup_target("drive", |t| t.retention.keep_last = 1)
                .unwrap();
            api.run_backup("drive", &Job::default()).unwrap();
            api.save_file(&site, "more.txt", &mut &b"more"[..]).unwrap();
            api.run_backup("drive", &Job::default()).unwrap();
            Box::new(|a| a.prune_backups("drive", false, &Job::default()).map(drop))
        }
        "share_project" => {
            let server = cloud(s);
            Box::new(move |a| {
                let _server = server;
                a.share_project(&site, &share("1d"), &Job::default())
                    .map(drop)
            })
        }
        "revoke_share" => {
            let server = cloud(s);
            let shared = api
                .share_project(&site, &share("1d"), &Job::default())
                .unwrap();
            Box::new(move |a| {
                let _server = server;
                a.revoke_share(&shared.id).map(drop)
            })
        }
        "prune_shares" => {
            let server = cloud(s);
            api.share_project(&site, &share("1h"), &Job::default())
                .unwrap();
            s.set(api.now() + 2 * 3600);
            Box::new(move |a| {
                let _server = server;
                a.delete_expired_shares().map(drop)
            })
        }
        "cancel_backup" => Box::new(|a| {
            a.cancel_backup("drive");
            Ok(())
        }),
        "pause_backups" => Box::new(|a| a.pause_backups(Some(PauseLength::OneHour)).map(drop)),
        _ => return None,
    };
    Some(change)
}

/// Operations of `kura serve` itself, which the service does not have: they change no vault.
const SERVER_ONLY: [&str; 2] = ["sign_in", "create_sign_in_link"];

/// Each operation that changes the vault, run through the service as every door runs it (the
/// doors can change the vault no other way), announces exactly the events its declaration
/// names; one the declaration calls quiet announces nothing. Each runs on a vault of its own.
#[test]
fn every_change_announces_what_it_declares() {
    let mut wrong = Vec::new();
    for d in OPERATIONS.iter().filter(|d| d.effect != Effect::Reads) {
        let s = Scene::new();
        let declared: BTreeSet<String> = match d.announces {
            Announces::Events(events) => events.iter().map(|e| e.name()).collect(),
            Announces::Nothing(_) => BTreeSet::new(),
            Announces::Unsaid => panic!("{}: what it announces is not declared", d.name),
        };
        let Some(change) = change(&s, d) else {
            assert!(
                SERVER_ONLY.contains(&d.name) && declared.is_empty(),
                "{} changes the vault and this test does not run it",
                d.name
            );
            continue;
        };
        let before = s.api.events().last_id().unwrap();
        change(&s.api).unwrap_or_else(|e| panic!("{}: {e:?}", d.name));
        let seen = announced(&s.api, before);
        if seen != declared {
            wrong.push(format!(
                "{}: announced {seen:?}, declared {declared:?}",
                d.name
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// An operation that reads is declared to announce nothing.
#[test]
fn reads_announce_nothing() {
    for d in OPERATIONS.iter().filter(|d| d.effect == Effect::Reads) {
        assert!(
            matches!(d.announces, Announces::Nothing(_)),
            "{} reads and announces",
            d.name
        );
    }
}
