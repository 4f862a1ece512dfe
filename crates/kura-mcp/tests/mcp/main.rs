//! In-process MCP sessions with [`KuraMcp`] (rmcp's client over an in-memory pipe), for what
//! only the library shows: the changes it announces in the event log; agents' sessions over the
//! wire as `kura mcp` serves it (`agent`); and that wire fed odd and broken lines by a raw
//! client (`wire`). The `kura mcp` process (its flags, its stdout) is tested in kura-cli's tests
//! (`tests/cli/mcp.rs`).

mod agent;
mod wire;

use std::sync::Arc;

use kura_api::Api;
use kura_core::Vault;
use kura_mcp::{KuraMcp, Options};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};

async fn session(api: Arc<Api>, options: Options) -> RunningService<RoleClient, ()> {
    let (server_end, client_end) = tokio::io::duplex(64 << 10);
    tokio::spawn(async move {
        if let Ok(server) = KuraMcp::new(api, options).serve(server_end).await {
            let _ = server.waiting().await;
        }
    });
    ().serve(client_end).await.expect("no session")
}

/// Calls `tool` with `args` (an object); a protocol error fails the test.
async fn call<H: rmcp::ClientHandler>(
    client: &RunningService<RoleClient, H>,
    tool: &str,
    args: Value,
) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: protocol error {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_announced_in_the_event_log_and_refusals_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let api = Api::open(Vault::open(&dir.path().join("vault")).unwrap()).unwrap();
    let vault = api.vault();
    let before = api.events().last_id().unwrap();

    let client = session(api.clone(), Options::default()).await;
    let created = call(&client, "create_project", json!({"name": "site"})).await;
    assert_eq!(created.is_error, Some(false), "{created:?}");
    let saved = call(
        &client,
        "save_file",
        json!({"project": "site", "path": "a.txt", "content": "hello\n"}),
    )
    .await;
    assert_eq!(saved.is_error, Some(false), "{saved:?}");
    let snap = call(&client, "snapshot", json!({"project": "site"})).await;
    assert_eq!(snap.is_error, Some(false), "{snap:?}");
    let refused = call(
        &client,
        "delete_file",
        json!({"project": "site", "path": "a.txt"}),
    )
    .await;
    assert_eq!(refused.is_error, Some(true));
    let escaped = call(
        &client,
        "save_file",
        json!({"project": "site", "path": "/etc/kura-escape", "content": "x"}),
    )
    .await;
    assert_eq!(escaped.is_error, Some(true));
    assert_eq!(escaped.structured_content, None);
    let error = &escaped.content[0].as_text().unwrap().text;
    assert_eq!(
        serde_json::from_str::<Value>(error).unwrap()["code"],
        "path_escape"
    );
    client.cancel().await.unwrap();

    // A desktop app or `kura serve` on the same vault reads these from the event log, with the
    // reasons every other door gives for the same changes.
    let project = vault.project("site").unwrap();
    let page = api.events().since(before, &[], 100).unwrap();
    let reasons: Vec<(&str, Option<&str>, &str)> = page
        .events
        .iter()
        .map(|e| {
            (
                e.kind.as_str(),
                e.project_id.as_deref(),
                e.data["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let id = Some(project.id.as_str());
    assert_eq!(
        reasons,
        [
            ("vault.changed", id, "created"),
            ("vault.changed", id, "files"),
            ("vault.changed", id, "snapshot")
        ]
    );
    assert!(vault.project("site").unwrap().path.join("a.txt").exists());
    assert!(!std::path::Path::new("/etc/kura-escape").exists());
}

/// What a tool may do is in its annotations, which the server also refuses by: every tool says
/// it, none is left to MCP's defaults.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_says_what_it_may_do() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let client = session(Api::open(vault).unwrap(), Options::default()).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.len() >= 20, "{} tools", tools.len());
    for t in &tools {
        let a = t
            .annotations
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no annotations", t.name));
        assert!(a.title.is_some(), "{}: no title", t.name);
        match a.read_only_hint {
            Some(true) => assert_eq!(a.destructive_hint, None, "{}", t.name),
            Some(false) => assert!(a.destructive_hint.is_some(), "{}", t.name),
            None => panic!("{}: read_only_hint left out", t.name),
        }
        let destructive = a.destructive_hint == Some(true);
        let warned = t
            .description
            .as_deref()
            .unwrap_or("")
            .starts_with("DESTRUCTIVE.");
        assert_eq!(
            destructive, warned,
            "{}: description and annotation disagree",
            t.name
        );
    }
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_names_the_agent_and_the_mcp_door() {
    let dir = tempfile::tempdir().unwrap();
    let api = Api::open(Vault::open(&dir.path().join("vault")).unwrap()).unwrap();
    let vault = api.vault();
    let (server_end, client_end) = tokio::io::duplex(64 << 10);
    let served = api.clone();
    tokio::spawn(async move {
        if let Ok(server) = KuraMcp::new(served, Options::default())
            .serve(server_end)
            .await
        {
            let _ = server.waiting().await;
        }
    });
    let agent = rmcp::model::ClientConfig::new(
        Default::default(),
        rmcp::model::Implementation::new("test-agent", "1.0"),
    );
    let client = agent.serve(client_end).await.expect("no session");
    call(&client, "create_project", json!({"name": "site"})).await;
    call(
        &client,
        "save_file",
        json!({"project": "site", "path": "a.txt", "content": "hello\n"}),
    )
    .await;
    let snap = call(&client, "snapshot", json!({"project": "site"})).await;
    let version = &snap.structured_content.unwrap()["version"];
    assert!(
        version["author"]
            .as_str()
            .unwrap()
            .starts_with("test-agent <"),
        "{version}"
    );
    assert_eq!(version["trigger"], "mcp");
    let first = vault.versions("site", None).unwrap();
    assert!(first.iter().all(|v| v.trigger == kura_core::Trigger::Mcp));
    client.cancel().await.unwrap();
}

/// An argument a tool does not take is refused, naming the ones it does, before the tool runs;
/// every input schema says so (`additionalProperties: false`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_argument_a_tool_does_not_take_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let api = Api::open(Vault::open(dir.path()).unwrap()).unwrap();
    let options = Options {
        allow_destructive: true,
        ..Options::default()
    };
    let client = session(api.clone(), options).await;
    for tool in client.list_all_tools().await.unwrap() {
        assert_eq!(
            tool.input_schema.get("additionalProperties"),
            Some(&Value::Bool(false)),
            "{} leaves its arguments open",
            tool.name
        );
    }
    let created = call(&client, "create_project", json!({"name": "site"})).await;
    assert_eq!(created.is_error, Some(false), "{created:?}");
    // `force` is not `hard`: the project is neither trashed nor deleted.
    let refused = call(
        &client,
        "delete_project",
        json!({"project": "site", "force": true}),
    )
    .await;
    assert_eq!(refused.is_error, Some(true), "{refused:?}");
    let error: Value = serde_json::from_str(&refused.content[0].as_text().unwrap().text).unwrap();
    assert_eq!(error["code"], "invalid_input");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("`force`") && message.contains("hard"),
        "{message}"
    );
    assert!(api.vault().project("site").is_ok());
    let refused = call(&client, "prune_shares", json!({"all": true})).await;
    assert_eq!(refused.is_error, Some(true), "{refused:?}");
}
