//! `kura mcp`: real MCP client sessions (rmcp's client) with the `kura` binary over stdio, on a
//! fresh vault: the tools an agent sees, the work it does, and what it is refused.

use std::io::{BufRead, Write};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam, Tool};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{json, Value};

use crate::sandbox::Sandbox;

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

/// Starts `kura --vault <vault> mcp <flags>` and initializes a session with it.
async fn start(sb: &Sandbox, flags: &[&str]) -> Session {
    let mut args = vec!["mcp"];
    args.extend_from_slice(flags);
    let command = tokio::process::Command::from(sb.command(&args));
    let transport = TokioChildProcess::new(command).expect("cannot start kura mcp");
    Agent::default()
        .serve(transport)
        .await
        .expect("the MCP session did not start")
}

async fn call(session: &Session, tool: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    session
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: protocol error {e}"))
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
    let sb = Sandbox::new();
    let s = start(&sb, &[]).await;

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

    // The CLI sees the same vault: the versions the agent made are there.
    assert_eq!(sb.version_ids("site")[..2], [v2.clone(), v1.clone()]);

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
    assert_eq!(sb.project_names(&[]), ["site"]);

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
    let sb = Sandbox::new();
    let s = start(&sb, &["--allow-destructive"]).await;
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
    assert!(sb.project_names(&[]).is_empty());
    assert_eq!(sb.project_names(&["--status", "deleted"]), ["api"]);
    s.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_session_reads_and_refuses_changes() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "docs"]);
    let s = start(&sb, &["--read-only"]).await;
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
    assert_eq!(sb.project_names(&[]), ["docs"]);
    s.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_files_go_through_base64_and_archives_come_back() {
    let sb = Sandbox::new();
    let s = start(&sb, &[]).await;
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

/// stdout is the protocol channel: every line `kura mcp` writes there is a JSON-RPC message,
/// even when tools fail.
#[test]
fn nothing_but_protocol_messages_on_stdout() {
    let sb = Sandbox::new();
    let mut child = sb
        .command(["mcp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut send = |v: Value| writeln!(stdin, "{v}").unwrap();
    let mut replies = Vec::new();
    let mut next = |replies: &mut Vec<Value>| {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not JSON on stdout ({e}): {line:?}"));
        assert_eq!(v["jsonrpc"], "2.0", "{v}");
        replies.push(v);
    };
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}}),
    );
    next(&mut replies);
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    // One call at a time: each answer is read before the next call goes out.
    let calls = [
        json!({"name": "create_project", "arguments": {"name": "p"}}),
        json!({"name": "snapshot", "arguments": {"project": "p", "allow_empty": true}}),
        json!({"name": "read_file", "arguments": {"project": "p", "path": "missing.txt"}}),
        json!({"name": "show_project", "arguments": {"project": 42}}),
    ];
    for (i, params) in calls.into_iter().enumerate() {
        send(json!({"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call", "params": params}));
        // Progress notifications may come first.
        loop {
            next(&mut replies);
            if replies.last().unwrap().get("id").is_some() {
                break;
            }
        }
    }
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "", "more on stdout after the session");
    assert!(child.wait().unwrap().success());
    let answers: Vec<&Value> = replies.iter().filter(|r| r.get("id").is_some()).collect();
    assert_eq!(answers[0]["result"]["serverInfo"]["name"], "kura");
    assert_eq!(answers[1]["result"]["isError"], false);
    assert_eq!(answers[2]["result"]["isError"], false);
    assert_eq!(answers[3]["result"]["isError"], true);
    let error: Value =
        serde_json::from_str(answers[3]["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(error["code"], "not_found");
    // Wrong argument types are a tool error too, naming the problem.
    assert_eq!(answers[4]["result"]["isError"], true, "{}", answers[4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_backs_the_vault_up_and_sees_the_targets_health() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "notes"]);
    sb.folder_target("usb");
    let s = start(&sb, &[]).await;

    let err = fails(&s, "run_backup", json!({"target": "nowhere"})).await;
    assert_eq!(err["code"], "not_found");
    let run = ok(&s, "run_backup", json!({"target": "usb"})).await;
    assert_eq!(run["runs"][0]["ok"], true, "{run}");
    let backup_id = run["runs"][0]["backup"]["id"].as_str().unwrap().to_string();
    let all = ok(&s, "run_backup", json!({})).await;
    assert_eq!(all["runs"].as_array().unwrap().len(), 1);
    // The agent's runs went through the service, as the CLI's and HTTP's do: they are in the
    // vault's event log, where the tray, the window and every browser hear of them.
    let log = kura_api::Events::open(&sb.vault().join("events.db")).unwrap();
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
    // The CLI finds the backup the agent made.
    let listed = sb.ok(&["backup", "list", "usb"]);
    assert!(listed.to_string().contains(&backup_id), "{listed}");
    s.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_keep_records_beside_a_project_without_overwriting_each_other() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "shop"]);
    let a = start(&sb, &[]).await;
    let b = start(&sb, &[]).await;
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
    assert_eq!(
        sb.ok(&["record", "-p", "shop", "list", "tasks"])["records"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    let colls = ok(&a, "list_record_collections", json!({"project": "shop"})).await;
    assert_eq!(colls["collections"][0]["records"], 6);

    a.cancel().await.unwrap();
    b.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_declares_an_output_schema_its_results_fit() {
    let sb = Sandbox::new();
    let s = start(&sb, &["--allow-destructive"]).await;
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
