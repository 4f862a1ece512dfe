//! Everyday work: workspaces, projects (templates, imports, filters, labels, trash), and files.

use std::fs;

use serde_json::Value;

use crate::disk::{self, Tree};
use crate::sandbox::{names, s, Sandbox};

fn workspace_names(sb: &Sandbox) -> Vec<String> {
    names(&sb.ok(&["workspace", "list"]))
}

fn active_workspace(sb: &Sandbox) -> String {
    let list = sb.ok(&["workspace", "list"]);
    let active: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["active"] == true)
        .collect();
    assert_eq!(active.len(), 1, "exactly one active workspace: {list}");
    active[0]["name"].as_str().unwrap().to_string()
}

#[test]
fn workspaces_are_created_switched_renamed_and_deleted() {
    let sb = Sandbox::new();
    assert_eq!(workspace_names(&sb), ["default"]);
    assert_eq!(sb.ok(&["workspace", "current"])["name"], "default");

    assert_eq!(
        sb.ok(&["workspace", "create", "clients"])["name"],
        "clients"
    );
    let err = sb.fails(&["workspace", "create", "clients"], 4);
    assert_eq!(err["code"], "already_exists");
    assert_eq!(workspace_names(&sb), ["clients", "default"]);

    sb.ok(&["workspace", "switch", "clients"]);
    assert_eq!(sb.ok(&["workspace", "current"])["name"], "clients");
    assert_eq!(active_workspace(&sb), "clients");
    sb.fails(&["workspace", "switch", "nowhere"], 3);

    // New projects land in the active workspace.
    let p = sb.ok(&["project", "create", "site"]);
    assert_eq!(p["workspace"], "clients");
    assert_eq!(sb.project_names(&[]), ["site"]);
    assert!(sb.project_names(&["--workspace", "default"]).is_empty());

    sb.ok(&["workspace", "rename", "clients", "customers"]);
    assert_eq!(workspace_names(&sb), ["customers", "default"]);
    assert_eq!(active_workspace(&sb), "customers");
    assert_eq!(
        sb.ok(&["project", "show", "site"])["workspace"],
        "customers"
    );
    assert_eq!(
        sb.fails(&["workspace", "rename", "customers", "default"], 4)["code"],
        "already_exists"
    );

    // A workspace holding projects is not deleted (the trash counts too)...
    sb.ok(&["project", "delete", "site"]);
    let err = sb.fails(&["workspace", "delete", "customers"], 4);
    assert_eq!(err["code"], "conflict");
    assert!(err["message"].as_str().unwrap().contains("--move-to"));
    assert_eq!(workspace_names(&sb), ["customers", "default"]);
    sb.ok(&["trash", "restore", "site"]);

    // ...unless its projects move elsewhere first.
    sb.ok(&["workspace", "delete", "customers", "--move-to", "default"]);
    assert_eq!(workspace_names(&sb), ["default"]);
    assert_eq!(sb.ok(&["project", "show", "site"])["workspace"], "default");
    assert_eq!(sb.ok(&["workspace", "current"])["name"], "default");
    let ws = sb.ok(&["workspace", "list"]);
    assert_eq!(ws[0]["project_count"], 1);

    // The last workspace stays.
    assert_eq!(
        sb.fails(&["workspace", "delete", "default"], 4)["code"],
        "conflict"
    );

    let run = sb.run(&["workspace", "list"]);
    assert_eq!(run.code, Some(0));
    assert!(run.text().contains("* default"), "{}", run.text());
}

/// Files of a project's latest version, as exported.
fn exported_paths(sb: &Sandbox, project: &str, dest: &str) -> Vec<String> {
    let out = sb.export(project, "latest", dest);
    Tree::read(&out)
        .paths()
        .into_iter()
        .map(str::to_string)
        .collect()
}

#[test]
fn projects_start_from_each_builtin_template() {
    let sb = Sandbox::new();
    let templates = sb.ok(&["template", "list"]);
    let builtin: Vec<&str> = templates
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["builtin"] == true)
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(builtin, ["empty", "backend", "frontend", "fullstack"]);

    let empty = sb.ok(&["project", "create", "blank", "--template", "empty"]);
    assert_eq!(empty["file_count"], 0);
    let folder = std::path::PathBuf::from(empty["path"].as_str().unwrap());
    assert!(folder.is_dir());
    assert_eq!(fs::read_dir(&folder).unwrap().count(), 0);
    assert_eq!(sb.version_ids("blank").len(), 1);

    let backend = sb.ok(&["project", "create", "api", "--template", "backend"]);
    assert_eq!(backend["file_count"], 4);
    let langs = backend["languages"].as_array().unwrap();
    assert!(langs.contains(&Value::from("rust")), "languages: {langs:?}");
    let folder = std::path::PathBuf::from(backend["path"].as_str().unwrap());
    let manifest = fs::read_to_string(folder.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"backend\""), "{manifest}");
    assert!(fs::read_to_string(folder.join("src/main.rs"))
        .unwrap()
        .contains("fn main()"));
    assert_eq!(
        exported_paths(&sb, "api", "api-export"),
        [".gitignore", "Cargo.toml", "README.md", "src/main.rs"]
    );
    let history = sb.ok(&["history", "api"]);
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert!(history[0]["message"].as_str().unwrap().contains("backend"));

    let frontend = sb.ok(&["project", "create", "web", "--template", "frontend"]);
    assert!(frontend["languages"]
        .as_array()
        .unwrap()
        .contains(&Value::from("javascript")));
    assert!(!frontend["languages"]
        .as_array()
        .unwrap()
        .contains(&Value::from("rust")));
    assert_eq!(
        exported_paths(&sb, "web", "web-export"),
        [
            ".gitignore",
            "README.md",
            "index.html",
            "package.json",
            "src/main.js",
            "src/style.css"
        ]
    );

    let fullstack = sb.ok(&["project", "create", "app", "--template", "fullstack"]);
    let langs = fullstack["languages"].as_array().unwrap();
    assert!(
        langs.contains(&Value::from("rust")) && langs.contains(&Value::from("javascript")),
        "languages: {langs:?}"
    );
    let paths = exported_paths(&sb, "app", "app-export");
    for want in ["server/Cargo.toml", "server/src/main.rs", "web/index.html"] {
        assert!(paths.iter().any(|p| p == want), "{want} in {paths:?}");
    }

    assert_eq!(
        sb.fails(&["project", "create", "x", "--template", "nope"], 3)["code"],
        "not_found"
    );
    assert_eq!(
        sb.fails(&["project", "create", "api"], 4)["code"],
        "already_exists"
    );
}

#[test]
fn folders_are_imported_by_copy_or_linked_in_place() {
    let sb = Sandbox::new();
    let src = sb.path("tool");
    disk::write(&src.join("main.py"), "print('hi')\n");
    disk::write(&src.join("lib/util.py"), "X = 1\n");
    disk::write(&src.join(".gitignore"), "build/\n");
    disk::write(&src.join("build/out.bin"), [0u8; 100]);

    // A copy: the vault gets its own folder, without ignored files.
    let copy = sb.ok(&["project", "import", s(&src)])["project"].clone();
    assert_eq!(copy["name"], "tool");
    assert_eq!(copy["linked"], false);
    assert_eq!(copy["kind"], "imported");
    assert_eq!(copy["file_count"], 3);
    assert!(copy["languages"]
        .as_array()
        .unwrap()
        .contains(&Value::from("python")));
    let folder = std::path::PathBuf::from(copy["path"].as_str().unwrap());
    assert!(folder.starts_with(sb.vault()), "{}", folder.display());
    Tree::read(&src)
        .without(&["build"])
        .assert_same(&Tree::read(&folder), "the imported copy");
    // Editing the source does not touch the copy.
    disk::write(&src.join("main.py"), "print('changed')\n");
    assert_eq!(
        fs::read_to_string(folder.join("main.py")).unwrap(),
        "print('hi')\n"
    );
    let files = sb.ok(&["files", "tool"]);
    assert!(files
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["state"] == "unchanged"));

    // A link: the folder is tracked where it is.
    let linked = sb.ok(&[
        "project",
        "import",
        s(&src),
        "--link",
        "--name",
        "tool-live",
    ])["project"]
        .clone();
    assert_eq!(linked["linked"], true);
    assert_eq!(linked["path"], s(&src));
    assert_eq!(linked["file_count"], 3);
    disk::write(&src.join("main.py"), "print('changed again')\n");
    let files = sb.ok(&["files", "tool-live"]);
    let main = files
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "main.py")
        .unwrap();
    assert_eq!(main["state"], "modified");

    // The same folder cannot be linked twice; a missing folder is not found.
    assert_eq!(
        sb.fails(
            &["project", "import", s(&src), "--link", "--name", "again"],
            4
        )["code"],
        "already_exists"
    );
    sb.fails(&["project", "import", s(&sb.path("missing"))], 3);
    assert_eq!(sb.project_names(&[]), ["tool", "tool-live"]);
}

#[test]
fn project_lists_filter_by_language_tag_text_status_size_metadata_and_workspace() {
    let sb = Sandbox::new();
    sb.ok(&[
        "project",
        "create",
        "payments",
        "--template",
        "backend",
        "-d",
        "Card gateway for the shop",
        "--tag",
        "billing",
    ]);
    sb.ok(&[
        "project",
        "create",
        "shop",
        "--template",
        "frontend",
        "--tag",
        "web",
    ]);
    let big = sb.path("assets");
    disk::write(
        &big.join("photo.raw"),
        crate::random::Rng::new(7).bytes(300 << 10),
    );
    sb.ok(&["project", "import", s(&big)]);
    sb.ok(&["project", "create", "old"]);
    sb.ok(&["project", "meta", "payments", "owner=ann", "tier=gold"]);
    sb.ok(&["project", "meta", "shop", "owner=bob"]);
    sb.ok(&["workspace", "create", "side"]);
    sb.ok(&["project", "create", "hobby", "--workspace", "side"]);

    assert_eq!(sb.project_names(&[]), ["assets", "old", "payments", "shop"]);
    assert_eq!(sb.project_names(&["--language", "rust"]), ["payments"]);
    assert_eq!(sb.project_names(&["--language", "javascript"]), ["shop"]);
    assert_eq!(sb.project_names(&["--tag", "web"]), ["shop"]);
    assert!(sb
        .project_names(&["--tag", "web", "--tag", "billing"])
        .is_empty());
    assert_eq!(sb.project_names(&["--search", "GATEWAY"]), ["payments"]);
    assert_eq!(
        sb.project_names(&["--search", "shop"]),
        ["payments", "shop"]
    );
    assert_eq!(sb.project_names(&["--search", "billing"]), ["payments"]);
    assert_eq!(sb.project_names(&["--min-size", "100KiB"]), ["assets"]);
    assert_eq!(
        sb.project_names(&["--max-size", "100KiB"]),
        ["old", "payments", "shop"]
    );
    assert_eq!(sb.project_names(&["--meta", "owner=ann"]), ["payments"]);
    assert_eq!(sb.project_names(&["--meta", "owner"]), ["payments", "shop"]);
    assert!(sb.project_names(&["--meta", "owner=zed"]).is_empty());
    assert_eq!(
        sb.project_names(&["--meta", "owner", "--meta", "tier=gold"]),
        ["payments"]
    );
    assert_eq!(
        sb.project_names(&["--all"]),
        ["assets", "hobby", "old", "payments", "shop"]
    );
    assert_eq!(sb.project_names(&["--workspace", "side"]), ["hobby"]);

    sb.ok(&["project", "delete", "old"]);
    assert_eq!(sb.project_names(&[]), ["assets", "payments", "shop"]);
    assert_eq!(sb.project_names(&["--status", "deleted"]), ["old"]);
    assert_eq!(
        sb.project_names(&["--status", "active"]),
        ["assets", "payments", "shop"]
    );

    let sorted = sb.ok(&["project", "list", "--sort", "size", "--limit", "1"]);
    assert_eq!(names(&sorted), ["assets"]);
    assert_eq!(
        sb.fails(&["project", "list", "--since", "yesterday-ish"], 2)["code"],
        "invalid_input"
    );

    let table = sb.run(&["project", "list", "--language", "rust"]);
    assert_eq!(table.code, Some(0));
    assert!(table.text().contains("payments") && table.text().contains("rust"));
    assert!(!table.text().contains("shop"));
}

#[test]
fn tags_metadata_edits_renames_and_moves_stick() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "svc"]);

    let p = sb.ok(&["project", "tag", "svc", "--add", "alpha", "--add", "beta"]);
    assert_eq!(p["tags"], serde_json::json!(["alpha", "beta"]));
    let p = sb.ok(&["project", "tag", "svc", "--remove", "alpha"]);
    assert_eq!(p["tags"], serde_json::json!(["beta"]));
    assert_eq!(
        sb.fails(&["project", "tag", "svc", "--add", "a,b"], 2)["code"],
        "invalid_input"
    );

    let meta = sb.ok(&["project", "meta", "svc", "team=core", "ticket=KURA-1"]);
    assert_eq!(
        meta,
        serde_json::json!({"team": "core", "ticket": "KURA-1"})
    );
    let meta = sb.ok(&["project", "meta", "svc", "ticket=", "team=infra"]);
    assert_eq!(meta, serde_json::json!({"team": "infra"}));
    assert_eq!(
        sb.ok(&["project", "meta", "svc"]),
        serde_json::json!({"team": "infra"})
    );
    assert_eq!(
        sb.fails(&["project", "meta", "svc", "novalue"], 2)["code"],
        "invalid_input"
    );

    let p = sb.ok(&[
        "project",
        "edit",
        "svc",
        "--description",
        "The service",
        "--kind",
        "migration",
        "--git-remote",
        "git@example.com:svc.git",
    ]);
    assert_eq!(p["description"], "The service");
    assert_eq!(p["kind"], "migration");
    assert_eq!(p["git_remote"], "git@example.com:svc.git");
    let p = sb.ok(&["project", "edit", "svc", "--git-remote", ""]);
    assert_eq!(p["git_remote"], Value::Null);
    assert_eq!(p["description"], "The service");

    sb.ok(&["project", "create", "other"]);
    assert_eq!(
        sb.fails(&["project", "rename", "svc", "other"], 4)["code"],
        "already_exists"
    );
    let p = sb.ok(&["project", "rename", "svc", "service"]);
    assert_eq!(p["name"], "service");
    assert_eq!(
        sb.fails(&["project", "show", "svc"], 3)["code"],
        "not_found"
    );
    let shown = sb.ok(&["project", "show", "service"]);
    assert_eq!(shown["tags"], serde_json::json!(["beta"]));
    assert_eq!(shown["metadata"], serde_json::json!({"team": "infra"}));
    // The id keeps working after a rename.
    let id = shown["id"].as_str().unwrap();
    assert_eq!(sb.ok(&["project", "show", id])["name"], "service");

    sb.ok(&["workspace", "create", "archive"]);
    let p = sb.ok(&["project", "move", "service", "archive"]);
    assert_eq!(p["workspace"], "archive");
    assert_eq!(sb.project_names(&[]), ["other"]);
    assert_eq!(sb.project_names(&["--workspace", "archive"]), ["service"]);
    assert_eq!(
        sb.ok(&["project", "show", "archive/service"])["id"],
        shown["id"]
    );
    sb.fails(&["project", "move", "service", "nowhere"], 3);
}

#[test]
fn trash_restores_and_hard_delete_removes_for_good() {
    let sb = Sandbox::new();
    let p = sb.ok(&["project", "create", "doomed", "--template", "backend"]);
    let id = p["id"].as_str().unwrap().to_string();
    let folder = std::path::PathBuf::from(p["path"].as_str().unwrap());
    let history = sb.vault().join("histories").join(format!("{id}.git"));
    assert!(history.is_dir());

    let trashed = sb.ok(&["project", "delete", "doomed"]);
    assert_eq!(trashed["status"], "deleted");
    assert!(trashed["deleted_at"].is_i64());
    assert!(sb.project_names(&[]).is_empty());
    assert_eq!(names(&sb.ok(&["trash", "list"])), ["doomed"]);
    // Files and history stay while it is in the trash.
    assert!(folder.join("Cargo.toml").is_file() && history.is_dir());
    assert_eq!(sb.fails(&["snapshot", "doomed"], 4)["code"], "conflict");
    assert_eq!(
        sb.fails(&["project", "delete", "doomed"], 4)["code"],
        "conflict"
    );

    let back = sb.ok(&["trash", "restore", "doomed"]);
    assert_eq!(back["status"], "active");
    assert_eq!(back["deleted_at"], Value::Null);
    assert_eq!(sb.project_names(&[]), ["doomed"]);
    assert!(sb.ok(&["trash", "list"]).as_array().unwrap().is_empty());
    assert_eq!(sb.version_ids("doomed").len(), 1);
    sb.fails(&["trash", "restore", "doomed"], 4);

    sb.ok(&["project", "delete", "doomed", "--hard"]);
    assert!(!history.exists(), "the history is gone");
    assert!(!folder.exists(), "the managed folder is gone");
    assert_eq!(
        sb.fails(&["project", "show", "doomed"], 3)["code"],
        "not_found"
    );
    assert!(sb.ok(&["trash", "list"]).as_array().unwrap().is_empty());
    assert!(sb.project_names(&["--all"]).is_empty());

    // A linked folder belongs to the user: a hard delete leaves it alone.
    let src = sb.path("mine");
    disk::write(&src.join("notes.md"), "keep me\n");
    let linked = sb.ok(&["project", "import", s(&src), "--link"])["project"].clone();
    let linked_history = sb
        .vault()
        .join("histories")
        .join(format!("{}.git", linked["id"].as_str().unwrap()));
    sb.ok(&["project", "delete", "mine", "--hard"]);
    assert!(!linked_history.exists());
    assert_eq!(
        fs::read_to_string(src.join("notes.md")).unwrap(),
        "keep me\n"
    );
}

#[test]
fn a_saved_template_starts_new_projects_with_the_latest_version() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "base", "--template", "backend"]);
    sb.run_with_input(
        &["file", "save", "base", "src/config.rs"],
        b"pub const PORT: u16 = 9000;\n",
    );
    sb.ok(&["snapshot", "base"]);
    // Not in a version yet: not in the template.
    sb.run_with_input(&["file", "save", "base", "draft.txt"], b"unsaved\n");

    let t = sb.ok(&["project", "save-template", "base", "service"]);
    assert_eq!(t[0]["name"], "service");
    assert_eq!(t[0]["builtin"], false);
    assert_eq!(t[0]["file_count"], 5);
    let all = sb.ok(&["template", "list"]);
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "service" && t["builtin"] == false));
    assert_eq!(
        sb.fails(&["project", "save-template", "base", "service"], 4)["code"],
        "already_exists"
    );
    assert_eq!(
        sb.fails(&["project", "save-template", "base", "backend"], 4)["code"],
        "already_exists"
    );

    let p = sb.ok(&["project", "create", "next", "--template", "service"]);
    assert_eq!(p["file_count"], 5);
    assert!(p["languages"]
        .as_array()
        .unwrap()
        .contains(&Value::from("rust")));
    let base_folder = std::path::PathBuf::from(
        sb.ok(&["project", "show", "base"])["path"]
            .as_str()
            .unwrap(),
    );
    let next_folder = std::path::PathBuf::from(p["path"].as_str().unwrap());
    Tree::read(&base_folder)
        .without(&["draft.txt"])
        .assert_same(&Tree::read(&next_folder), "project from the saved template");
}

fn states(sb: &Sandbox, args: &[&str]) -> Vec<(String, String)> {
    let mut all = vec!["files"];
    all.extend_from_slice(args);
    sb.ok(&all)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn files_listing_marks_new_modified_and_deleted_files() {
    let sb = Sandbox::new();
    let src = sb.path("proj");
    disk::write(&src.join("keep.txt"), "same\n");
    disk::write(&src.join("edit.txt"), "before\n");
    disk::write(&src.join("gone.txt"), "bye\n");
    disk::write(&src.join("sub/inner.txt"), "inner\n");
    sb.ok(&["project", "import", s(&src), "--link"]);
    let all_unchanged = states(&sb, &["proj"]);
    assert!(all_unchanged.iter().all(|(_, s)| s == "unchanged"));

    disk::write(&src.join("edit.txt"), "after, longer\n");
    fs::remove_file(src.join("gone.txt")).unwrap();
    disk::write(&src.join("fresh.txt"), "new\n");
    assert_eq!(
        states(&sb, &["proj"]),
        [
            ("edit.txt".into(), "modified".into()),
            ("fresh.txt".into(), "new".into()),
            ("gone.txt".into(), "deleted".into()),
            ("keep.txt".into(), "unchanged".into()),
            ("sub/inner.txt".into(), "unchanged".into()),
        ]
    );
    assert_eq!(
        states(&sb, &["proj", "sub"]),
        [("sub/inner.txt".to_string(), "unchanged".to_string())]
    );

    let listing = sb.run(&["files", "proj"]);
    assert_eq!(listing.code, Some(0));
    let text = listing.text();
    let mark = |path: &str| {
        text.lines()
            .find(|l| l.ends_with(&format!(" {path}")))
            .unwrap_or_else(|| panic!("{path} not listed:\n{text}"))
            .chars()
            .next()
            .unwrap()
    };
    assert_eq!(mark("edit.txt"), 'M');
    assert_eq!(mark("fresh.txt"), '+');
    assert_eq!(mark("gone.txt"), '-');
    assert_eq!(mark("keep.txt"), ' ');

    let snap = sb.ok(&["snapshot", "proj"]);
    assert_eq!(
        snap["changes"],
        serde_json::json!({"added": 1, "modified": 1, "removed": 1})
    );
    assert!(states(&sb, &["proj"]).iter().all(|(_, s)| s == "unchanged"));
    sb.fails(&["files", "nope"], 3);
}

#[test]
fn files_are_saved_read_renamed_and_deleted() {
    let sb = Sandbox::new();
    let p = sb.ok(&["project", "create", "notes"]);
    let folder = std::path::PathBuf::from(p["path"].as_str().unwrap());

    // Standard input, with bytes that are not text.
    let data: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let run = sb.run_with_input(&["--json", "file", "save", "notes", "bin/blob.dat"], &data);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.json(),
        serde_json::json!({"path": "bin/blob.dat", "bytes": 70_000})
    );
    assert_eq!(fs::read(folder.join("bin/blob.dat")).unwrap(), data);
    let read = sb.run(&["file", "read", "notes", "bin/blob.dat"]);
    assert_eq!(read.code, Some(0));
    assert!(read.stdout == data, "file read returns the same bytes");

    // --from a file; replacing keeps the name.
    let src = sb.path("draft.md");
    disk::write(&src, "# Draft\n\nfirst\n");
    sb.ok(&["file", "save", "notes", "doc/readme.md", "--from", s(&src)]);
    disk::write(&src, "# Draft\n\nsecond\n");
    let saved = sb.ok(&["file", "save", "notes", "doc/readme.md", "--from", s(&src)]);
    assert_eq!(saved["bytes"], 16);
    assert_eq!(
        sb.run(&["file", "read", "notes", "doc/readme.md"]).stdout,
        b"# Draft\n\nsecond\n"
    );
    sb.fails(
        &[
            "file",
            "save",
            "notes",
            "x.md",
            "--from",
            s(&sb.path("nope")),
        ],
        3,
    );
    assert_eq!(
        sb.fails(&["file", "save", "notes", "doc"], 4)["code"],
        "conflict"
    );
    sb.ok(&["snapshot", "notes"]);

    sb.ok(&["file", "rename", "notes", "doc/readme.md", "docs/README.md"]);
    assert!(!folder.join("doc/readme.md").exists());
    assert_eq!(
        fs::read(folder.join("docs/README.md")).unwrap(),
        b"# Draft\n\nsecond\n"
    );
    assert_eq!(
        sb.fails(
            &["file", "rename", "notes", "docs/README.md", "bin/blob.dat"],
            4
        )["code"],
        "already_exists"
    );
    sb.fails(&["file", "rename", "notes", "missing.txt", "x.txt"], 3);

    sb.ok(&["file", "delete", "notes", "bin/blob.dat"]);
    assert!(!folder.join("bin/blob.dat").exists());
    sb.fails(&["file", "delete", "notes", "bin/blob.dat"], 3);
    sb.fails(&["file", "read", "notes", "bin/blob.dat"], 3);

    let st = states(&sb, &["notes"]);
    assert!(
        st.contains(&("bin/blob.dat".into(), "deleted".into())),
        "{st:?}"
    );
    assert!(
        st.contains(&("doc/readme.md".into(), "deleted".into())),
        "{st:?}"
    );
    assert!(
        st.contains(&("docs/README.md".into(), "new".into())),
        "{st:?}"
    );

    // The deleted file is still in the version before.
    let out = sb.export("notes", "latest", "before-delete");
    assert_eq!(fs::read(out.join("bin/blob.dat")).unwrap(), data);
}

/// `kura snapshot --all` versions the changed projects of the active workspace, and only those.
#[test]
fn snapshot_all_versions_the_changed_projects_of_the_active_workspace() {
    let sb = Sandbox::new();
    let here = sb.path("here");
    let away = sb.path("away");
    let still = sb.path("still");
    for dir in [&here, &away, &still] {
        disk::write(&dir.join("a.txt"), "first\n");
    }
    let id = |v: Value| v["project"]["id"].as_str().unwrap().to_string();
    let here_id = id(sb.ok(&["project", "import", s(&here), "--link"]));
    let still_id = id(sb.ok(&["project", "import", s(&still), "--link"]));
    sb.ok(&["workspace", "create", "elsewhere"]);
    let away_id = id(sb.ok(&[
        "project",
        "import",
        s(&away),
        "--link",
        "--workspace",
        "elsewhere",
    ]));
    for dir in [&here, &away] {
        disk::write(&dir.join("a.txt"), "second\n");
    }
    let reports = sb.ok(&["snapshot", "--all", "-m", "end of day"]);
    let made: Vec<(&str, bool)> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["project_id"].as_str().unwrap(), !r["version"].is_null()))
        .collect();
    assert!(made.contains(&(here_id.as_str(), true)), "{reports}");
    assert!(made.contains(&(still_id.as_str(), false)), "{reports}");
    assert!(!made.iter().any(|(p, _)| *p == away_id), "{reports}");
    let versions = |p: &str| sb.ok(&["history", p]).as_array().unwrap().len();
    assert_eq!(versions("here"), 2);
    assert_eq!(versions("away"), 1);
}

/// The first run on a fresh account: no `KURA_HOME`, no `XDG_DATA_HOME` and a `HOME` with no
/// `.local` at all. The default vault is created with its parents (as the XDG spec asks of an
/// app), private to the user, and works; a vault named with `--vault` whose parent is missing
/// is still refused (a drive not connected), and nothing is created for it.
#[test]
fn the_first_run_on_a_fresh_account_creates_the_default_vault() {
    let home = tempfile::tempdir().unwrap();
    let kura = |args: &[&str]| {
        let mut cmd = std::process::Command::new(crate::sandbox::KURA);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("KURA_") || k.starts_with("XDG_") {
                cmd.env_remove(k.as_ref());
            }
        }
        cmd.env("HOME", home.path())
            .arg("--json")
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let out = kura(&["status"]);
    assert!(
        out.status.success(),
        "kura status on a fresh HOME: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let vault = home.path().join(".local/share/kura");
    assert!(
        vault.join("catalog.db").is_file(),
        "no vault at {}",
        vault.display()
    );
    for dir in [".local", ".local/share", ".local/share/kura"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(home.path().join(dir))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o700, "{dir} is open to others: {mode:o}");
    }
    let out = kura(&["project", "create", "first"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(vault.join("projects/first").is_dir());

    // A vault someone names on a drive that is not there is refused, not created.
    let unplugged = home.path().join("media/usb/kura");
    let out = kura(&["--vault", unplugged.to_str().unwrap(), "status"]);
    assert!(!out.status.success());
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is its drive connected"),
        "{err}"
    );
    assert!(!home.path().join("media").exists());
}

/// Completions and manual pages come from the same clap definitions as the parser, and need no
/// vault: bash completes a verb from the sourced script, zsh's and fish's scripts are theirs,
/// and `man -l` renders the pages `kura manpages` writes, one per command.
#[test]
fn completions_and_manual_pages_describe_the_commands() {
    let sb = Sandbox::new();
    // The words bash offers after `words`, sorted.
    let complete = |words: &[&str]| {
        let (cur, prev) = (words[words.len() - 1], words[words.len() - 2]);
        let completed = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source <('{}' completions bash) && COMP_WORDS=({}) && COMP_CWORD={} && _kura kura '{cur}' '{prev}' && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                crate::sandbox::KURA,
                words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
                words.len() - 1,
            ))
            .output()
            .unwrap();
        assert!(completed.status.success(), "{completed:?}");
        let mut offered: Vec<String> = String::from_utf8_lossy(&completed.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        offered.sort();
        offered
    };
    assert_eq!(complete(&["kura", "ba"]), ["backup"]);
    // A command's own options and nested commands are built only when a parse reaches it;
    // the script still has them, under the command and under `help`.
    assert_eq!(complete(&["kura", "archive", "--i"]), ["--idle"]);
    assert_eq!(
        complete(&["kura", "help", "archive", ""]),
        ["cold", "list", "verify"]
    );
    assert!(complete(&["kura", "serve", "token", ""]).contains(&"rotate".to_string()));
    assert_eq!(
        complete(&["kura", "help", "serve", "token", ""]),
        ["rotate"]
    );
    let zsh = sb.run(&["completions", "zsh"]);
    assert!(zsh.text().starts_with("#compdef kura"), "{}", zsh.text());
    let fish = sb.run(&["completions", "fish"]);
    assert!(fish.text().contains("complete -c kura"), "{}", fish.text());
    let bad = sb.run(&["completions", "tcsh"]);
    assert_eq!(bad.code, Some(2));
    assert!(!sb.vault().exists(), "completions opened a vault");

    let dir = sb.path("man");
    let made = sb.ok(&["manpages", s(&dir)]);
    let pages: Vec<&str> = made["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for page in [
        "kura.1",
        "kura-backup-run.1",
        "kura-serve.1",
        "kura-completions.1",
    ] {
        assert!(pages.contains(&page), "{page} missing: {pages:?}");
    }
    assert!(
        !pages.iter().any(|p| p.contains("purge-discarded")),
        "a hidden command has a page"
    );
    let man = std::process::Command::new("man")
        .arg("-l")
        .arg(dir.join("kura-backup-run.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&man.stdout);
    assert!(man.status.success(), "{man:?}");
    assert!(
        text.contains("kura-backup-run") && text.contains("SYNOPSIS"),
        "{text}"
    );
}
