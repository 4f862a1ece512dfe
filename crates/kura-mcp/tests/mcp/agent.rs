//! Agents' sessions as `kura mcp` serves them ([`kura_mcp::serve`] over a byte stream, rmcp's
//! client on the other end), on a fresh vault: the tools an agent sees, the work it does, and
//! what it is refused. What the agent did is checked through a second handle on the vault, as
//! another process (the CLI, the desktop app) would open it. The `kura mcp` process itself (its
//! flags, stdout holding nothing but protocol messages) is tested in kura-cli's tests.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kura_api::{calls, Api};
use kura_core::{ProjectFilter, ProjectStatus, Vault};
use kura_mcp::Options;
use rmcp::model::{ProgressNotificationParam, Tool};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{json, Value};

use super::call;

/// The client side: records the progress notifications the server sends.
#[derive(Clone, Default)]
struct Agent {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    progressed: Arc<tokio::sync::Notify>,
}

impl ClientHandler for Agent {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
        self.progressed.notify_one();
    }
}

type Session = RunningService<RoleClient, Agent>;

/// A fresh vault in a temp folder.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn vault(&self) -> PathBuf {
        self.dir.path().join("vault")
    }

    /// The vault through a handle of its own, as another process opens it.
    fn other_door(&self) -> Arc<Api> {
        Api::open(Vault::open(&self.vault()).unwrap()).unwrap()
    }

    /// The names of the projects with `status` in the active workspace, seen from another door.
    fn project_names(&self, status: Option<ProjectStatus>) -> Vec<String> {
        let filter = ProjectFilter {
            status,
            ..ProjectFilter::default()
        };
        let projects = calls::list_projects(&self.other_door(), filter).unwrap();
        projects.iter().map(|p| p.name.clone()).collect()
    }

    /// A project's version ids, newest first, seen from another door.
    fn version_ids(&self, project: &str) -> Vec<String> {
        let vault = Vault::open(&self.vault()).unwrap();
        let versions = vault.versions(project, None).unwrap();
        versions.into_iter().map(|v| v.id).collect()
    }

    /// Creates project `name` from another door.
    fn create_project(&self, name: &str) {
        let new = serde_json::from_value(json!({ "name": name })).unwrap();
        calls::create_project(&self.other_door(), new).unwrap();
    }

    /// Adds a backup target `name` in a new folder `<tmp>/drive`, from another door.
    fn folder_target(&self, name: &str) {
        let drive = self.dir.path().join("drive");
        std::fs::create_dir(&drive).unwrap();
        let target = kura_backup::Target::folder(name, &drive);
        apart(|| calls::add_backup_target(&self.other_door(), target, Default::default(), false))
            .unwrap();
    }
}

/// Runs `f` on a thread of its own: a backup target's calls run a runtime of their own, which
/// cannot start on a thread of the test's.
fn apart<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

/// Opens the service on the vault as `kura mcp` does, serves it with `options` over an
/// in-memory pipe and initializes a session with it.
async fn start(fixture: &Fixture, options: Options) -> Session {
    let api = fixture.other_door();
    let (server_end, client_end) = tokio::io::duplex(1 << 20);
    let (input, output) = tokio::io::split(server_end);
    tokio::spawn(async move {
        if let Err(e) = kura_mcp::serve(api, options, input, output).await {
            eprintln!("the server ended: {e}");
        }
    });
    Agent::default()
        .serve(client_end)
        .await
        .expect("the MCP session did not start")
}

/// A session that runs the destructive tools (`kura mcp --allow-destructive`).
fn destructive_allowed() -> Options {
    Options {
        allow_destructive: true,
        ..Options::default()
    }
}

/// A session that refuses every change (`kura mcp --read-only`).
fn read_only() -> Options {
    Options {
        read_only: true,
        ..Options::default()
    }
}

/// Checks a tool's structured result against the `outputSchema` the tool declares in this
/// session's `tools/list`, as an MCP client that validates results does.
async fn check_output(session: &Session, tool: &str, result: &Value) {
    let tools = session.list_all_tools().await.unwrap();
    let declared = tools
        .iter()
        .find(|t| t.name == tool)
        .unwrap_or_else(|| panic!("{tool} is not listed"))
        .output_schema
        .clone()
        .unwrap_or_else(|| panic!("{tool} declares no outputSchema"));
    let schema = Value::Object((*declared).clone());
    assert_eq!(
        schema["type"], "object",
        "{tool}: an output schema is an object's"
    );
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{tool}: its outputSchema is not a valid JSON Schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(result)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{tool}: the result does not fit its outputSchema: {errors:?}\n{result}"
    );
}

/// Calls `tool`, expects success, returns its structured result (checked against its text and
/// against the tool's output schema).
async fn ok(session: &Session, tool: &str, args: Value) -> Value {
    let r = call(session, tool, args).await;
    assert_ne!(r.is_error, Some(true), "{tool} failed: {r:?}");
    let structured = r.structured_content.clone().expect("no structured content");
    let text = r.content[0]
        .as_text()
        .expect("no text content")
        .text
        .clone();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), structured);
    check_output(session, tool, &structured).await;
    structured
}

/// Calls `tool`, expects a tool error (not a protocol error), returns `{code, message}`: the
/// JSON text of its content. An error carries no structured content, which would have to fit
/// the tool's output schema.
async fn fails(session: &Session, tool: &str, args: Value) -> Value {
    let r = call(session, tool, args).await;
    assert_eq!(r.is_error, Some(true), "{tool} should have failed: {r:?}");
    assert_eq!(
        r.structured_content, None,
        "{tool}: an error with structured content"
    );
    let text = &r.content[0].as_text().expect("no text content").text;
    let err: Value = serde_json::from_str(text).expect("the error is not JSON");
    assert!(
        err["code"].is_string() && err["message"].as_str().is_some_and(|m| !m.is_empty()),
        "not an error object: {err}"
    );
    err
}

fn tool<'a>(tools: &'a [Tool], name: &str) -> &'a Tool {
    tools
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no tool {name}"))
}

const DESTRUCTIVE: [&str; 5] = [
    "delete_file",
    "delete_record",
    "delete_project",
    "restore_file",
    "restore_project",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_lists_tools_saves_snapshots_diffs_and_is_refused_what_it_may_not_do() {
    let fx = Fixture::new();
    let s = start(&fx, Options::default()).await;

    let info = s.peer_info().expect("no server info");
    assert_eq!(info.server_info.as_ref().unwrap().name, "kura");
    assert!(info
        .instructions
        .as_deref()
        .unwrap()
        .contains("--allow-destructive"));

    let tools = s.list_all_tools().await.unwrap();
    // Without --allow-destructive the destructive tools are not listed (an agent spends no
    // context or retries on them); the instructions name them and say why.
    let instructions = info.instructions.as_deref().unwrap();
    for name in DESTRUCTIVE {
        assert!(
            tools.iter().all(|t| t.name != name),
            "{name} is listed in a session that refuses it"
        );
        assert!(instructions.contains(name), "{instructions}");
    }
    for name in [
        "status",
        "list_workspaces",
        "list_projects",
        "show_project",
        "create_project",
        "list_files",
        "read_file",
        "save_file",
        "rename_file",
        "snapshot",
        "history",
        "diff",
        "restore_plan",
        "archive_project",
        "unarchive_project",
        "list_archives",
        "backup_status",
        "run_backup",
        "verify",
        "list_record_collections",
        "get_record",
        "put_record",
        "batch_records",
        "query_records",
        "set_record_collection",
        "share_project",
        "list_shares",
        "revoke_share",
        "prune_shares",
    ] {
        let t = tool(&tools, name);
        assert!(
            t.description.as_deref().is_some_and(|d| d.len() > 20),
            "{name} has no description"
        );
        assert_eq!(t.input_schema.get("type"), Some(&json!("object")));
        let a = t.annotations.as_ref().expect("no annotations");
        assert_ne!(a.destructive_hint, Some(true), "{name}");
    }
    for name in [
        "status",
        "list_projects",
        "read_file",
        "history",
        "diff",
        "restore_plan",
    ] {
        assert_eq!(
            tool(&tools, name)
                .annotations
                .as_ref()
                .unwrap()
                .read_only_hint,
            Some(true)
        );
    }
    for name in ["save_file", "snapshot", "create_project"] {
        let a = tool(&tools, name).annotations.clone().unwrap();
        assert_eq!(
            (a.read_only_hint, a.destructive_hint),
            (Some(false), Some(false)),
            "{name}"
        );
    }
    let schema = serde_json::to_string(&tool(&tools, "save_file").input_schema).unwrap();
    assert!(
        schema.contains("\"content\"") && schema.contains("base64"),
        "{schema}"
    );

    // Work, as an agent does it.
    let project = ok(
        &s,
        "create_project",
        json!({"name": "site", "tags": ["mcp"]}),
    )
    .await;
    assert_eq!(project["name"], "site");
    let saved = ok(
        &s,
        "save_file",
        json!({"project": "site", "path": "src/index.html", "content": "<h1>one</h1>\n"}),
    )
    .await;
    assert_eq!(saved["bytes"], 13);
    let read = ok(
        &s,
        "read_file",
        json!({"project": "site", "path": "src/index.html"}),
    )
    .await;
    assert_eq!(read["content"], "<h1>one</h1>\n");
    let files = ok(&s, "list_files", json!({"project": "site"})).await;
    assert_eq!(files["files"][0]["path"], "src/index.html");
    assert_eq!(files["files"][0]["state"], "new");

    let first = ok(
        &s,
        "snapshot",
        json!({"project": "site", "message": "first page"}),
    )
    .await;
    let v1 = first["version"]["id"].as_str().unwrap().to_string();
    assert_eq!(first["changes"]["added"], 1);
    // The engine's progress reached the client as notifications/progress.
    while s.service().progress.lock().unwrap().is_empty() {
        s.service().progressed.notified().await;
    }

    ok(
        &s,
        "save_file",
        json!({"project": "site", "path": "src/index.html", "content": "<h1>two</h1>\n"}),
    )
    .await;
    let second = ok(
        &s,
        "snapshot",
        json!({"project": "site", "message": "second page"}),
    )
    .await;
    let v2 = second["version"]["id"].as_str().unwrap().to_string();
    let nothing = ok(&s, "snapshot", json!({"project": "site"})).await;
    assert_eq!(
        nothing["version"],
        Value::Null,
        "nothing changed: {nothing}"
    );

    let history = ok(&s, "history", json!({"project": "site"})).await;
    let messages: Vec<&str> = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert_eq!(&messages[..2], ["second page", "first page"]);
    let of_file = ok(
        &s,
        "history",
        json!({"project": "site", "path": "src/index.html"}),
    )
    .await;
    assert_eq!(of_file["versions"].as_array().unwrap().len(), 2);

    let diff = ok(&s, "diff", json!({"project": "site", "from": v1, "to": v2})).await;
    assert_eq!(diff["files"].as_array().unwrap().len(), 1);
    assert_eq!(diff["files"][0]["change"], "modified");
    let patch = diff["files"][0]["patch"].as_str().unwrap();
    assert!(
        patch.contains("-<h1>one</h1>") && patch.contains("+<h1>two</h1>"),
        "{patch}"
    );

    // Before going back to v1, the agent sees what that would write.
    let plan = ok(
        &s,
        "restore_plan",
        json!({"project": "site", "version": v1}),
    )
    .await;
    assert_eq!(plan["write"], json!(["src/index.html"]));
    assert_eq!(plan["remove"], json!([]));

    // Another door sees the same vault: the versions the agent made are there.
    assert_eq!(fx.version_ids("site")[..2], [v2.clone(), v1.clone()]);

    // Paths that leave the project are refused by the engine, as tool errors.
    let folder = std::path::PathBuf::from(project["path"].as_str().unwrap());
    std::os::unix::fs::symlink("/etc", folder.join("outside")).unwrap();
    for (t, args) in [
        (
            "read_file",
            json!({"project": "site", "path": "../../../../etc/passwd"}),
        ),
        (
            "save_file",
            json!({"project": "site", "path": "../escaped.txt", "content": "x"}),
        ),
        (
            "save_file",
            json!({"project": "site", "path": "/tmp/kura-mcp-absolute.txt", "content": "x"}),
        ),
        (
            "read_file",
            json!({"project": "site", "path": "outside/hosts"}),
        ),
        (
            "rename_file",
            json!({"project": "site", "from": "src/index.html", "to": "../moved.html"}),
        ),
    ] {
        let err = fails(&s, t, args).await;
        assert_eq!(err["code"], "path_escape", "{t}: {err}");
    }
    assert!(!folder.parent().unwrap().join("escaped.txt").exists());
    assert!(!folder.parent().unwrap().join("moved.html").exists());
    assert!(!std::path::Path::new("/tmp/kura-mcp-absolute.txt").exists());
    std::fs::remove_file(folder.join("outside")).unwrap();

    // Engine errors are tool errors with the engine's code; the session goes on.
    let err = fails(&s, "show_project", json!({"project": "nowhere"})).await;
    assert_eq!(err["code"], "not_found");
    let err = fails(&s, "diff", json!({"project": "site", "from": "zz"})).await;
    assert_eq!(err["code"], "invalid_input");

    // Destructive tools called anyway (a client that remembers them) are refused without
    // --allow-destructive, saying why; nothing changes.
    let err = fails(
        &s,
        "restore_file",
        json!({"project": "site", "version": v1, "path": "src/index.html"}),
    )
    .await;
    assert_eq!(err["code"], "forbidden");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("--allow-destructive"));
    let err = fails(
        &s,
        "delete_file",
        json!({"project": "site", "path": "src/index.html"}),
    )
    .await;
    assert_eq!(err["code"], "forbidden");
    assert_eq!(
        std::fs::read_to_string(folder.join("src/index.html")).unwrap(),
        "<h1>two</h1>\n"
    );
    let err = fails(&s, "delete_project", json!({"project": "site"})).await;
    assert_eq!(err["code"], "forbidden");
    assert_eq!(fx.project_names(None), ["site"]);

    // Progress values only move forward within a request, as MCP requires.
    let progress = s.service().progress.lock().unwrap().clone();
    for (i, n) in progress.iter().enumerate() {
        let earlier = progress[..i]
            .iter()
            .filter(|e| e.progress_token == n.progress_token);
        assert!(
            earlier.clone().all(|e| e.progress < n.progress),
            "{progress:?}"
        );
        assert!(
            n.message.as_deref().is_some_and(|m| m.contains(':')),
            "{n:?}"
        );
    }

    s.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_allow_destructive_an_agent_restores_and_deletes() {
    let fx = Fixture::new();
    let s = start(&fx, destructive_allowed()).await;
    // Every tool is listed, the destructive ones marked so.
    let tools = s.list_all_tools().await.unwrap();
    for name in DESTRUCTIVE {
        let a = tool(&tools, name)
            .annotations
            .clone()
            .expect("no annotations");
        assert_eq!(
            (a.destructive_hint, a.read_only_hint),
            (Some(true), Some(false)),
            "{name}"
        );
    }
    let project = ok(&s, "create_project", json!({"name": "api"})).await;
    let folder = std::path::PathBuf::from(project["path"].as_str().unwrap());
    let file = json!({"project": "api", "path": "main.rs", "content": "fn main() {}\n"});
    ok(&s, "save_file", file).await;
    let v1 = ok(&s, "snapshot", json!({"project": "api"})).await["version"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let broken = json!({"project": "api", "path": "main.rs", "content": "fn main() { oops\n"});
    ok(&s, "save_file", broken).await;

    let restored = ok(
        &s,
        "restore_file",
        json!({"project": "api", "version": v1, "path": "main.rs"}),
    )
    .await;
    assert_eq!(restored["version"], v1.as_str());
    assert_eq!(
        std::fs::read_to_string(folder.join("main.rs")).unwrap(),
        "fn main() {}\n"
    );
    // The state it overwrote was kept as a version first.
    let safety = restored["safety_version"]["id"]
        .as_str()
        .expect("no safety version");
    let diff = ok(
        &s,
        "diff",
        json!({"project": "api", "from": v1, "to": safety}),
    )
    .await;
    assert!(diff["files"][0]["patch"]
        .as_str()
        .unwrap()
        .contains("+fn main() { oops"));

    ok(
        &s,
        "delete_file",
        json!({"project": "api", "path": "main.rs"}),
    )
    .await;
    assert!(!folder.join("main.rs").exists());
    let files = ok(&s, "list_files", json!({"project": "api"})).await;
    assert_eq!(files["files"][0]["state"], "deleted");

    let deleted = ok(&s, "delete_project", json!({"project": "api"})).await;
    assert_eq!(deleted["deleted_for_good"], false);
    assert!(fx.project_names(None).is_empty());
    assert_eq!(fx.project_names(Some(ProjectStatus::Deleted)), ["api"]);
    s.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_session_reads_and_refuses_changes() {
    let fx = Fixture::new();
    fx.create_project("docs");
    let s = start(&fx, read_only()).await;
    // Only the tools that read are listed; the instructions say the others are hidden.
    let tools = s.list_all_tools().await.unwrap();
    assert!(tools.iter().all(|t| t
        .annotations
        .as_ref()
        .is_some_and(|a| a.read_only_hint == Some(true))));
    assert!(tools.iter().any(|t| t.name == "list_projects"));
    assert!(tools
        .iter()
        .all(|t| t.name != "create_project" && t.name != "snapshot"));
    let instructions = s.peer_info().unwrap().instructions.clone().unwrap();
    assert!(
        instructions.contains("read-only") && instructions.contains("create_project"),
        "{instructions}"
    );
    let list = ok(&s, "list_projects", json!({})).await;
    assert_eq!(list["projects"][0]["name"], "docs");
    let err = fails(&s, "create_project", json!({"name": "other"})).await;
    assert_eq!(err["code"], "forbidden");
    assert!(err["message"].as_str().unwrap().contains("--read-only"));
    let err = fails(&s, "snapshot", json!({"project": "docs"})).await;
    assert_eq!(err["code"], "forbidden");
    assert_eq!(fx.project_names(None), ["docs"]);
    s.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_files_go_through_base64_and_archives_come_back() {
    let fx = Fixture::new();
    let s = start(&fx, Options::default()).await;
    ok(&s, "create_project", json!({"name": "assets"})).await;
    // "AAEC/w==" is the bytes 00 01 02 ff.
    let args = json!({"project": "assets", "path": "blob.bin", "content": "AAEC/w==", "encoding": "base64"});
    assert_eq!(ok(&s, "save_file", args).await["bytes"], 4);
    let err = fails(
        &s,
        "read_file",
        json!({"project": "assets", "path": "blob.bin"}),
    )
    .await;
    assert_eq!(err["code"], "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("base64"), "{err}");
    let read = ok(
        &s,
        "read_file",
        json!({"project": "assets", "path": "blob.bin", "encoding": "base64"}),
    )
    .await;
    assert_eq!(read["content"], "AAEC/w==");
    assert_eq!(read["size"], 4);
    let bad = json!({"project": "assets", "path": "x.bin", "content": "not base64!", "encoding": "base64"});
    assert_eq!(fails(&s, "save_file", bad).await["code"], "invalid_input");

    let archive = ok(&s, "archive_project", json!({"project": "assets"})).await;
    assert_eq!(archive["project_name"], "assets");
    let listed = ok(&s, "list_archives", json!({})).await;
    assert_eq!(listed["archives"][0]["id"], archive["id"]);
    let project = ok(&s, "unarchive_project", json!({"archive": "assets"})).await;
    assert_eq!(project["status"], "active");
    let folder = std::path::PathBuf::from(project["path"].as_str().unwrap());
    assert_eq!(
        std::fs::read(folder.join("blob.bin")).unwrap(),
        [0, 1, 2, 0xff]
    );
    let verified = ok(&s, "verify", json!({})).await;
    assert_eq!(verified["problems"], json!([]), "{verified}");
    s.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_backs_the_vault_up_and_sees_the_targets_health() {
    let fx = Fixture::new();
    fx.create_project("notes");
    fx.folder_target("usb");
    let s = start(&fx, Options::default()).await;

    let err = fails(&s, "run_backup", json!({"target": "nowhere"})).await;
    assert_eq!(err["code"], "not_found");
    let run = ok(&s, "run_backup", json!({"target": "usb"})).await;
    assert_eq!(run["runs"][0]["ok"], true, "{run}");
    let backup_id = run["runs"][0]["backup"]["id"].as_str().unwrap().to_string();
    let all = ok(&s, "run_backup", json!({})).await;
    assert_eq!(all["runs"].as_array().unwrap().len(), 1);
    // The agent's runs went through the service, as the CLI's and HTTP's do: they are in the
    // vault's event log, where the tray, the window and every browser hear of them.
    let log = kura_api::Events::open(&fx.vault().join("events.db")).unwrap();
    let backups = log
        .since(0, &["vault.changed".to_string()], 1000)
        .unwrap()
        .events
        .into_iter()
        .filter(|e| e.data["reason"] == "backup")
        .count();
    assert_eq!(backups, 2, "one vault.changed (backup) per run");

    let status = ok(&s, "backup_status", json!({})).await;
    assert_eq!(status["targets"][0]["target"]["name"], "usb");
    assert_eq!(status["targets"][0]["health"]["state"], "ok", "{status}");
    assert_eq!(status["state"], "ok", "{status}");
    assert_eq!(
        status["targets"][0]["after_every_change"], false,
        "{status}"
    );
    assert_eq!(status["recent_runs"].as_array().unwrap().len(), 2);
    // Another door finds the backup the agent made.
    let listed = apart(|| calls::list_backups(&fx.other_door(), "usb".into())).unwrap();
    assert!(
        listed.iter().any(|b| b.id == backup_id),
        "{backup_id} is not listed"
    );
    s.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_keep_records_beside_a_project_without_overwriting_each_other() {
    let fx = Fixture::new();
    fx.create_project("shop");
    let a = start(&fx, Options::default()).await;
    let b = start(&fx, Options::default()).await;
    let task = json!({"project": "shop", "collection": "tasks", "key": "login",
                      "value": {"title": "Fix login", "status": "open"}, "if_rev": 0});
    let first = ok(&a, "put_record", task.clone()).await;
    let rev = first["rev"].as_u64().unwrap();
    // The second agent tries to create the same task: refused, it exists.
    let err = fails(&b, "put_record", task).await;
    assert_eq!(err["code"], "conflict");
    // Both read revision `rev`; the first write wins, the second is told to read again.
    let got = ok(
        &b,
        "get_record",
        json!({"project": "shop", "collection": "tasks", "key": "login"}),
    )
    .await;
    assert_eq!(got["rev"], rev);
    ok(&a, "put_record", json!({"project": "shop", "collection": "tasks", "key": "login",
                               "value": {"title": "Fix login", "status": "doing", "owner": "a"}, "if_rev": rev})).await;
    let err = fails(&b, "put_record", json!({"project": "shop", "collection": "tasks", "key": "login",
                                             "value": {"title": "Fix login", "status": "doing", "owner": "b"}, "if_rev": rev})).await;
    assert_eq!(err["code"], "conflict");
    assert!(
        err["message"].as_str().unwrap().contains("read it again"),
        "{err}"
    );

    // A batch of puts, then a query with a null and a range, one page at a time.
    let ops: Vec<Value> = (0..5)
        .map(|i| json!({"op": "put", "collection": "tasks", "key": format!("t{i}"),
                        "value": {"status": "open", "priority": i, "owner": if i == 2 { Value::Null } else { json!("a") }}}))
        .collect();
    let done = ok(&b, "batch_records", json!({"project": "shop", "ops": ops})).await;
    assert_eq!(done["results"].as_array().unwrap().len(), 5);
    let page = ok(
        &a,
        "query_records",
        json!({"project": "shop", "collection": "tasks",
        "where": [{"field": "owner", "eq": null}]}),
    )
    .await;
    assert_eq!(page["records"][0]["key"], "t2");
    let page = ok(
        &a,
        "query_records",
        json!({"project": "shop", "collection": "tasks",
        "where": [{"field": "priority", "gte": 3}], "sort": "priority", "desc": true, "limit": 1}),
    )
    .await;
    assert_eq!(page["records"][0]["key"], "t4");
    let next = ok(
        &a,
        "query_records",
        json!({"project": "shop", "collection": "tasks",
        "where": [{"field": "priority", "gte": 3}], "sort": "priority", "desc": true, "limit": 1,
        "cursor": page["next"]}),
    )
    .await;
    assert_eq!(next["records"][0]["key"], "t3");
    assert!(next["next"].is_null());

    // Deleting needs --allow-destructive, alone or in a batch; nothing was deleted.
    let err = fails(
        &a,
        "delete_record",
        json!({"project": "shop", "collection": "tasks", "key": "t0"}),
    )
    .await;
    assert_eq!(err["code"], "forbidden");
    let err = fails(
        &a,
        "batch_records",
        json!({"project": "shop", "ops": [{"op": "delete", "collection": "tasks", "key": "t0"}]}),
    )
    .await;
    assert_eq!(err["code"], "forbidden");
    let query = serde_json::from_value(json!({})).unwrap();
    let kept = calls::record_query(&fx.other_door(), Some("shop".into()), "tasks".into(), query);
    assert_eq!(kept.unwrap().records.len(), 6);
    let colls = ok(&a, "list_record_collections", json!({"project": "shop"})).await;
    assert_eq!(colls["collections"][0]["records"], 6);

    a.cancel().await.unwrap();
    b.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_declares_an_output_schema_its_results_fit() {
    let fx = Fixture::new();
    let s = start(&fx, destructive_allowed()).await;
    // Every tool, in a session that lists them all, says what its structured result holds.
    let tools = s.list_all_tools().await.unwrap();
    assert!(tools.len() >= 30, "{} tools", tools.len());
    for t in &tools {
        let schema = t
            .output_schema
            .as_ref()
            .unwrap_or_else(|| panic!("{} declares no outputSchema", t.name));
        assert_eq!(schema.get("type"), Some(&json!("object")), "{}", t.name);
    }
    // The tools the other tests do not call (each `ok` checks the result against the schema).
    ok(&s, "create_project", json!({"name": "site"})).await;
    let status = ok(&s, "status", json!({})).await;
    assert_eq!(status["stats"]["projects"]["active"], 1);
    ok(&s, "list_workspaces", json!({})).await;
    ok(&s, "show_project", json!({"project": "site"})).await;
    let file = json!({"project": "site", "path": "a.txt", "content": "one\n"});
    ok(&s, "save_file", file).await;
    let v1 = ok(&s, "snapshot", json!({"project": "site"})).await["version"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let moved = json!({"project": "site", "from": "a.txt", "to": "b.txt"});
    ok(&s, "rename_file", moved).await;
    ok(
        &s,
        "restore_project",
        json!({"project": "site", "version": v1}),
    )
    .await;
    let collection = json!({"project": "site", "collection": "notes", "indexes": ["topic"]});
    ok(&s, "set_record_collection", collection).await;
    let note =
        json!({"project": "site", "collection": "notes", "key": "n1", "value": {"topic": "x"}});
    ok(&s, "put_record", note).await;
    let gone = json!({"project": "site", "collection": "notes", "key": "n1"});
    assert_eq!(ok(&s, "delete_record", gone).await["existed"], true);
    // A list of shares is an object (structured content is one), empty without any.
    assert_eq!(ok(&s, "list_shares", json!({})).await["shares"], json!([]));
    assert_eq!(
        ok(&s, "prune_shares", json!({})).await["deleted"],
        json!([])
    );
    s.cancel().await.unwrap();
}
