//! `kura mcp`, the process: its flags reach the server, and its stdout holds nothing but protocol
//! messages. What agents do in a session is tested in kura-mcp's tests (`tests/mcp/agent.rs`),
//! over the same wire.

use std::io::{BufRead, Write};
use std::process::Stdio;

use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};

use crate::sandbox::Sandbox;

/// Starts `kura --vault <vault> mcp <flags>` and initializes a session with it.
async fn start(sb: &Sandbox, flags: &[&str]) -> RunningService<RoleClient, ()> {
    let mut args = vec!["mcp"];
    args.extend_from_slice(flags);
    let command = tokio::process::Command::from(sb.command(&args));
    let transport = TokioChildProcess::new(command).expect("cannot start kura mcp");
    ().serve(transport)
        .await
        .expect("the MCP session did not start")
}

/// The tools a session of `kura mcp <flags>` lists, and whether `tool` ran when called.
async fn session_of(sb: &Sandbox, flags: &[&str], tool: &str, args: Value) -> (Vec<String>, bool) {
    let s = start(sb, flags).await;
    let tools = s.list_all_tools().await.unwrap();
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    let params = rmcp::model::CallToolRequestParams::new(tool.to_string()).with_arguments(args);
    let result = s.call_tool(params).await.unwrap();
    s.cancel().await.unwrap();
    let names = tools.into_iter().map(|t| t.name.to_string()).collect();
    (names, result.is_error != Some(true))
}

/// `--read-only` and `--allow-destructive` decide what a session lists and runs: the same
/// request is refused or done by the flags alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flags_decide_which_tools_are_listed_and_run() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "docs"]);
    let create = json!({"name": "other"});
    let (read_only, created) = session_of(&sb, &["--read-only"], "create_project", create).await;
    assert!(read_only.contains(&"list_projects".to_string()));
    assert!(!read_only.contains(&"create_project".to_string()));
    assert!(!created, "a --read-only session created a project");
    assert_eq!(sb.project_names(&[]), ["docs"]);

    let trash = json!({"project": "docs"});
    let (plain, trashed) = session_of(&sb, &[], "delete_project", trash.clone()).await;
    assert!(plain.contains(&"create_project".to_string()));
    assert!(!plain.contains(&"delete_project".to_string()));
    assert!(
        !trashed,
        "a session without --allow-destructive trashed a project"
    );
    assert_eq!(sb.project_names(&[]), ["docs"]);

    let (all, trashed) = session_of(&sb, &["--allow-destructive"], "delete_project", trash).await;
    assert!(all.contains(&"delete_project".to_string()));
    assert!(trashed);
    assert_eq!(sb.project_names(&["--status", "deleted"]), ["docs"]);

    let refused = sb.run(&["mcp", "--read-only", "--allow-destructive"]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
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
