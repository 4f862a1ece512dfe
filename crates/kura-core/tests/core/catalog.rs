//! Project metadata, filters, trash and templates.

use kura_core::{ErrorKind, NewProject, ProjectEdit, ProjectFilter, ProjectSort, ProjectStatus};

use crate::{moved, renamed, Fixture};

#[test]
fn filters_find_projects_by_language_framework_tag_size_text_and_metadata() {
    let f = Fixture::new();
    let v = &f.vault;
    let api = f.tree(
        "api",
        &[
            (
                "Cargo.toml",
                b"[package]\nname = \"api\"\n\n[dependencies]\naxum = \"0.7\"\n",
            ),
            ("src/main.rs", &[b'x'; 4000]),
        ],
    );
    let web = f.tree(
        "web",
        &[
            ("package.json", br#"{"dependencies":{"react":"18"}}"#),
            ("src/app.tsx", &[b'y'; 9000]),
        ],
    );
    f.link(&api, "api");
    f.link(&web, "web");
    v.tag_project("api", &["backend".into(), "client-a".into()], &[])
        .unwrap();
    v.set_metadata("web", &[("owner".into(), Some("ana".into()))])
        .unwrap();
    let described = ProjectEdit {
        description: Some("Marketing site".into()),
        ..Default::default()
    };
    v.change_project("web", &described).unwrap();

    let names = |filter: ProjectFilter| -> Vec<String> {
        v.projects(&filter)
            .unwrap()
            .into_iter()
            .map(|p| p.name.clone())
            .collect()
    };
    assert_eq!(
        names(ProjectFilter {
            language: Some("rust".into()),
            ..Default::default()
        }),
        ["api"]
    );
    assert_eq!(
        names(ProjectFilter {
            language: Some("typescript".into()),
            ..Default::default()
        }),
        ["web"]
    );
    assert_eq!(
        names(ProjectFilter {
            framework: Some("axum".into()),
            ..Default::default()
        }),
        ["api"]
    );
    assert_eq!(
        names(ProjectFilter {
            framework: Some("react".into()),
            ..Default::default()
        }),
        ["web"]
    );
    assert_eq!(
        names(ProjectFilter {
            tags: vec!["backend".into()],
            ..Default::default()
        }),
        ["api"]
    );
    assert!(names(ProjectFilter {
        tags: vec!["backend".into(), "nope".into()],
        ..Default::default()
    })
    .is_empty());
    assert_eq!(
        names(ProjectFilter {
            min_size: Some(8000),
            ..Default::default()
        }),
        ["web"]
    );
    assert_eq!(
        names(ProjectFilter {
            max_size: Some(8000),
            ..Default::default()
        }),
        ["api"]
    );
    assert_eq!(
        names(ProjectFilter {
            text: Some("marketing".into()),
            ..Default::default()
        }),
        ["web"]
    );
    assert_eq!(
        names(ProjectFilter {
            text: Some("client".into()),
            ..Default::default()
        }),
        ["api"]
    );
    assert_eq!(
        names(ProjectFilter {
            metadata: vec![("owner".into(), Some("ana".into()))],
            ..Default::default()
        }),
        ["web"]
    );
    assert_eq!(
        names(ProjectFilter {
            metadata: vec![("owner".into(), None)],
            ..Default::default()
        }),
        ["web"]
    );
    assert_eq!(
        names(ProjectFilter {
            sort: ProjectSort::Size,
            ..Default::default()
        }),
        ["web", "api"]
    );
    // A percent sign is a literal, not a wildcard.
    assert!(names(ProjectFilter {
        text: Some("%".into()),
        ..Default::default()
    })
    .is_empty());
}

#[test]
fn trash_restore_and_hard_delete() {
    let f = Fixture::new();
    let v = &f.vault;
    let p = v
        .create_project(&NewProject {
            name: "old".into(),
            template: Some("backend".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(p.languages, ["rust"]);
    assert_eq!(p.file_count, 4);
    v.trash_project("old").unwrap();
    assert!(v.projects(&ProjectFilter::default()).unwrap().is_empty());
    let trashed = v
        .projects(&ProjectFilter {
            status: Some(ProjectStatus::Deleted),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(trashed.len(), 1);
    assert!(trashed[0].deleted_at.is_some());
    v.untrash_project("old").unwrap();
    assert_eq!(v.project("old").unwrap().status, ProjectStatus::Active);
    let history = v.root().join("histories").join(format!("{}.git", p.id));
    assert!(history.is_dir());
    v.delete_project("old").unwrap();
    assert_eq!(v.project("old").unwrap_err().kind(), ErrorKind::NotFound);
    assert!(!history.exists());
    assert!(!p.path.exists());
}

#[test]
fn any_project_can_become_a_template() {
    let f = Fixture::new();
    let v = &f.vault;
    v.create_project(&NewProject {
        name: "base".into(),
        template: Some("fullstack".into()),
        ..Default::default()
    })
    .unwrap();
    v.save_file("base", "docs/guide.md", &mut &b"# Guide\n"[..])
        .unwrap();
    v.snapshot("base", &Default::default(), &Default::default())
        .unwrap();
    let t = v.save_template("base", "house-style").unwrap();
    assert!(!t.builtin);
    let p = v
        .create_project(&NewProject {
            name: "next".into(),
            template: Some("house-style".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(p.path.join("docs/guide.md")).unwrap(),
        "# Guide\n"
    );
    assert!(p.path.join("server/src/main.rs").is_file());
    assert_eq!(
        v.save_template("base", "house-style").unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    // A saved template's folder given something no copy takes (a link leading out of it): a
    // project is made from all of it or not at all.
    let folder = v.root().join("templates/house-style");
    std::os::unix::fs::symlink("/etc", folder.join("config")).unwrap();
    let partial = v
        .create_project(&NewProject {
            name: "partial".into(),
            template: Some("house-style".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(partial.kind(), ErrorKind::InvalidInput, "{partial}");
    assert!(
        partial
            .to_string()
            .contains("the template's 'config' cannot be copied"),
        "{partial}"
    );
    assert_eq!(
        v.project("partial").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(!p.path.parent().unwrap().join("partial").exists());
    assert_eq!(
        v.create_project(&NewProject {
            name: "x".into(),
            template: Some("nope".into()),
            ..Default::default()
        })
        .unwrap_err()
        .kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn names_are_unique_per_workspace_and_lookups_say_what_is_ambiguous() {
    let f = Fixture::new();
    let v = &f.vault;
    v.create_project(&NewProject {
        name: "site".into(),
        ..Default::default()
    })
    .unwrap();
    let dup = v
        .create_project(&NewProject {
            name: "site".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::AlreadyExists);
    v.create_workspace("other").unwrap();
    v.create_project(&NewProject {
        name: "site".into(),
        workspace: Some("other".into()),
        ..Default::default()
    })
    .unwrap();
    // In the active workspace, the name is enough; elsewhere, workspace/name.
    assert_eq!(v.project("site").unwrap().workspace, "default");
    assert_eq!(v.project("other/site").unwrap().workspace, "other");
    v.create_workspace("third").unwrap();
    v.switch_workspace("third").unwrap();
    let err = v.project("site").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("workspace/name"), "{err}");
}

#[test]
fn lists_see_changes_made_by_another_process_at_once() {
    let f = Fixture::new();
    let v = &f.vault;
    let names = || -> Vec<String> {
        v.projects(&ProjectFilter::default())
            .unwrap()
            .into_iter()
            .map(|p| format!("{}:{}", p.name, p.tags.join("+")))
            .collect()
    };
    v.create_project(&NewProject {
        name: "site".into(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(names(), vec!["site:"]);
    // A second handle has its own connection, as the CLI has while the app is open.
    let other = kura_core::Vault::open(v.root()).unwrap();
    other
        .create_project(&NewProject {
            name: "api".into(),
            ..Default::default()
        })
        .unwrap();
    other.tag_project("site", &["live".into()], &[]).unwrap();
    assert_eq!(names(), vec!["api:", "site:live"]);
    other.trash_project("api").unwrap();
    assert_eq!(names(), vec!["site:live"]);
    // And this handle's own writes show in its next list too.
    v.change_project("site", &renamed("www")).unwrap();
    assert_eq!(names(), vec!["www:live"]);
}

/// Opening the vault reads the catalog: a command opens it, and lists, while another process
/// holds the catalog's write lock (a long write of `kura serve`'s), rather than wait for it.
#[test]
fn the_vault_opens_and_lists_while_another_process_writes() {
    let f = Fixture::new();
    f.vault
        .create_project(&NewProject {
            name: "site".into(),
            ..Default::default()
        })
        .unwrap();
    let writer = rusqlite::Connection::open(f.vault.root().join("catalog.db")).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    let other = kura_core::Vault::open(f.vault.root()).unwrap();
    let names: Vec<String> = other
        .projects(&ProjectFilter::default())
        .unwrap()
        .iter()
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(names, ["site"]);
    writer.execute_batch("COMMIT").unwrap();
}

/// A handle's project list follows every change another handle (another process) makes:
/// the list reloads only the projects that changed, so each kind of change must reach it.
#[test]
fn project_lists_follow_changes_made_by_another_handle() {
    let f = Fixture::new();
    let a = &f.vault;
    let b = kura_core::Vault::open(a.root()).unwrap();
    for name in ["delta", "alpha", "charlie"] {
        b.create_project(&NewProject {
            name: name.into(),
            ..Default::default()
        })
        .unwrap();
    }
    let everywhere = || ProjectFilter {
        all_workspaces: true,
        status: None,
        ..Default::default()
    };
    let names = |v: &kura_core::Vault| -> Vec<String> {
        v.projects(&everywhere())
            .unwrap()
            .iter()
            .map(|p| format!("{}/{}", p.workspace, p.name))
            .collect()
    };
    assert_eq!(
        names(a),
        ["default/alpha", "default/charlie", "default/delta"]
    );

    b.change_project("delta", &renamed("Bravo")).unwrap();
    b.tag_project("alpha", &["urgent".into()], &[]).unwrap();
    b.set_metadata("charlie", &[("owner".into(), Some("ana".into()))])
        .unwrap();
    assert_eq!(
        names(a),
        ["default/alpha", "default/Bravo", "default/charlie"]
    );
    let tagged = a
        .projects(&ProjectFilter {
            tags: vec!["urgent".into()],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(tagged.len(), 1);
    assert_eq!(tagged[0].name, "alpha");
    let owned = a
        .projects(&ProjectFilter {
            metadata: vec![("owner".into(), Some("ana".into()))],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(owned[0].name, "charlie");

    // A workspace rename reaches every project in it; a move, a removed tag and metadata too.
    b.create_workspace("side").unwrap();
    b.change_project("charlie", &moved("side")).unwrap();
    b.rename_workspace("default", "main").unwrap();
    b.tag_project("alpha", &[], &["urgent".into()]).unwrap();
    b.set_metadata("charlie", &[("owner".into(), None)])
        .unwrap();
    assert_eq!(names(a), ["main/alpha", "main/Bravo", "side/charlie"]);
    assert!(a
        .projects(&ProjectFilter {
            tags: vec!["urgent".into()],
            all_workspaces: true,
            ..Default::default()
        })
        .unwrap()
        .is_empty());
    let charlie = a
        .projects(&everywhere())
        .unwrap()
        .into_iter()
        .find(|p| p.name == "charlie")
        .unwrap();
    assert!(charlie.metadata.is_empty());

    // The trash, and deletion for good.
    b.trash_project("Bravo").unwrap();
    let trashed = a
        .projects(&ProjectFilter {
            status: Some(ProjectStatus::Deleted),
            all_workspaces: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(trashed[0].name, "Bravo");
    b.delete_project("Bravo").unwrap();
    assert_eq!(names(a), ["main/alpha", "side/charlie"]);

    // Its own changes too, and a list that did not change is the same list.
    a.change_project("alpha", &renamed("zulu")).unwrap();
    assert_eq!(names(a), ["side/charlie", "main/zulu"]);
    let first = a.projects(&everywhere()).unwrap();
    let again = a.projects(&everywhere()).unwrap();
    assert!(std::sync::Arc::ptr_eq(&first[0], &again[0]));
}

/// The catalog remembers only the last 1,000 removals; a list read before the oldest of them
/// cannot learn from them what went, so it reloads whole rather than keep a removed project.
#[test]
fn a_list_older_than_the_remembered_removals_reloads_whole() {
    let f = Fixture::new();
    let a = &f.vault;
    let b = kura_core::Vault::open(a.root()).unwrap();
    for name in ["alpha", "bravo"] {
        b.create_project(&NewProject {
            name: name.into(),
            ..Default::default()
        })
        .unwrap();
    }
    let names = |v: &kura_core::Vault| -> Vec<String> {
        let filter = ProjectFilter {
            all_workspaces: true,
            status: None,
            ..Default::default()
        };
        v.projects(&filter)
            .unwrap()
            .iter()
            .map(|p| p.name.clone())
            .collect()
    };
    assert_eq!(names(a), ["alpha", "bravo"]);
    b.trash_project("bravo").unwrap();
    b.delete_project("bravo").unwrap();

    // Another process then adds and removes 1,005 projects (straight in SQL: the triggers are
    // what is tested, and a thousand histories would only slow the test).
    let db = rusqlite::Connection::open(a.root().join("catalog.db")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
    db.execute_batch(
        "BEGIN;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1005)
         INSERT INTO projects (id, workspace_id, name, kind, status, linked, path, created_at,
                               updated_at)
         SELECT 'churn-' || i, (SELECT id FROM workspaces LIMIT 1), 'churn ' || i, 'blank',
                'active', 0, '/nowhere/' || i, 0, 0 FROM n;
         DELETE FROM projects WHERE id LIKE 'churn-%';
         COMMIT;",
    )
    .unwrap();
    let remembered: i64 = db
        .query_row("SELECT count(*) FROM removed_projects", [], |r| r.get(0))
        .unwrap();
    assert_eq!(remembered, 1000, "only the last 1,000 removals are kept");

    // bravo's removal is forgotten: `a` must not keep it, nor any of the churn.
    assert_eq!(names(a), ["alpha"]);
    assert_eq!(names(&b), ["alpha"]);
}

/// Unix seconds now.
fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Waits for the next second, so that what follows is told apart from what came before.
fn next_second() -> i64 {
    let t = now_secs() + 1;
    while now_secs() < t {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    t
}

#[test]
fn the_vault_knows_since_when_it_changed_and_reading_is_no_change() {
    let f = Fixture::new();
    let root = f.tree("site", &[("index.html", b"<h1>hi</h1>")]);
    let p = f.link(&root, "site");
    assert!(
        f.vault.changes_since(0).unwrap().is_some(),
        "an import is a change"
    );

    let t = next_second();
    f.vault.project(&p.id).unwrap();
    f.vault.projects(&ProjectFilter::default()).unwrap();
    f.vault.stats().unwrap();
    f.vault.touch_project(&p.id).unwrap();
    assert_eq!(
        f.vault.changes_since(t).unwrap(),
        None,
        "reading, recounting and opening a project are no changes"
    );
    assert!(
        !f.dir.path().join("vault/records.db").exists(),
        "asking made a records database"
    );

    crate::write(&root, "about.html", b"<p>about</p>");
    f.snapshot(&p.id, "about page");
    let c = f
        .vault
        .changes_since(t)
        .unwrap()
        .expect("a version is a change");
    assert!(c.first >= t && c.last <= now_secs());

    for change in 0..3 {
        let t = next_second();
        match change {
            0 => drop(f.vault.tag_project(&p.id, &["web".into()], &[]).unwrap()),
            1 => drop(
                f.vault
                    .set_metadata(&p.id, &[("owner".into(), Some("ana".into()))])
                    .unwrap(),
            ),
            _ => drop(
                f.vault
                    .records()
                    .unwrap()
                    .put(
                        &p.id,
                        kura_core::RecordPut {
                            collection: "notes".into(),
                            key: "a".into(),
                            value: serde_json::json!("x"),
                            ..Default::default()
                        },
                    )
                    .unwrap(),
            ),
        }
        let c = f.vault.changes_since(t).unwrap();
        assert!(
            c.is_some_and(|c| c.first >= t),
            "change {change} was not seen"
        );
    }
    // Upserts within one second (the log's row for it is there already) are no conflict.
    for owner in ["bo", "cy", "di"] {
        f.vault
            .set_metadata(&p.id, &[("owner".into(), Some(owner.into()))])
            .unwrap();
        f.vault.tag_project(&p.id, &["web".into()], &[]).unwrap();
    }
}
