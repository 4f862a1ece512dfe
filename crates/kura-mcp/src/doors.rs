//! The doors give the same result for the same operation: what the HTTP door answers (its
//! OpenAPI document), what the desktop shell's command returns (its generated TypeScript
//! bindings) and what the MCP tool's `structuredContent` holds (its `outputSchema`) are one type,
//! named by the schemas every door is described with. This crate's tests can read all three.

use std::collections::BTreeMap;

use kura_api::catalog::OPERATIONS;
use serde_json::Value;

use crate::server::KuraMcp;

/// What a door gives, by name: a type of the document (`Project`), a list of one
/// (`Project[]`), `nothing`, or a description of an object the door writes itself.
type Given = String;

const DOCUMENT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/api/openapi.json"
));
const BINDINGS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../ui/src/lib/bindings.ts"
));

/// Where a door gives something else than the others, and why: (operation, door, why).
const DIFFERENT: &[(&str, &str, &str)] = &[
    (
        "run_backup",
        "desktop",
        "the window starts the run and follows it in the Backups view and the tray, through the \
         backup.status events, instead of waiting for its report",
    ),
    (
        "run_backup",
        "mcp",
        "the tool runs to one target or to every one, so it gives a list of reports (`runs`)",
    ),
    (
        "get_status",
        "mcp",
        "an agent's first look at the vault: the app's state with where the space goes (get_stats) \
         and the active workspace, in one call",
    ),
    (
        "read_file",
        "mcp",
        "a tool's result is JSON: the content comes as text or base64 with its encoding and size, \
         where HTTP answers the file's bytes",
    ),
    (
        "get_backup_status",
        "mcp",
        "the state at a glance with the recent runs (list_backup_runs) in the same answer",
    ),
    (
        "cancel_operation",
        "desktop",
        "the window cancels its own jobs, whose end it hears through their channel",
    ),
];

/// The result of an HTTP operation: the typed result of a long one (`started; result: X`), or
/// the schema of its success answer.
fn http_results(document: &Value) -> BTreeMap<String, Given> {
    let mut results = BTreeMap::new();
    for item in document["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let Some(id) = op["operationId"].as_str() else {
                continue;
            };
            let responses = &op["responses"];
            let result = match responses["202"]["description"].as_str() {
                Some(started) => started
                    .split_once("result: ")
                    .map(|(_, r)| r.to_string())
                    .unwrap_or_default(),
                None => ["200", "201"]
                    .iter()
                    .find_map(|s| responses[s]["content"]["application/json"].get("schema"))
                    .map(named)
                    .unwrap_or_else(|| "a body of its own".into()),
            };
            results.insert(id.to_string(), result);
        }
    }
    results
}

/// A schema by its name: `Project`, `Project[]`, `nothing` for the document's `Done`, `number |
/// null` for an optional number.
fn named(schema: &Value) -> Given {
    if let Some(r) = schema["$ref"].as_str() {
        return match r.rsplit('/').next().unwrap() {
            "Done" => "nothing".into(),
            name => name.into(),
        };
    }
    if schema["type"] == "array" {
        return format!("{}[]", named(&schema["items"]));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        Value::String(t) => vec![t.as_str()],
        _ => Vec::new(),
    };
    let types: Vec<&str> = types
        .into_iter()
        .map(|t| if t == "integer" { "number" } else { t })
        .collect();
    types.join(" | ")
}

/// The result of each desktop command: the `Ok` type of its `typedError<...>` in the bindings.
fn desktop_results() -> BTreeMap<String, Given> {
    let mut results = BTreeMap::new();
    for line in BINDINGS.lines() {
        let (Some((_, typed)), Some((_, invoked))) = (
            line.split_once("typedError<"),
            line.split_once("__TAURI_INVOKE(\""),
        ) else {
            continue;
        };
        let (Some((ok, _)), Some((command, _))) =
            (typed.rsplit_once(", ApiError>"), invoked.split_once('"'))
        else {
            continue;
        };
        let result = match ok {
            "null" => "nothing",
            // TypeScript has a `Record` of its own; the record type is `StoredRecord` there.
            "StoredRecord" => "Record",
            other => other,
        };
        results.insert(command.to_string(), result.to_string());
    }
    results
}

/// The result of each MCP tool: the document's type its output schema is, or a list of one
/// when it is an object of one list (`{"projects": [...]}`), or an object of its own.
fn mcp_results(document: &Value) -> BTreeMap<String, Given> {
    let mut components = document["components"]["schemas"].clone();
    crate::output::retarget(&mut components);
    let components = components.as_object().unwrap();
    let mut results = BTreeMap::new();
    for tool in KuraMcp::all_tools().list_all() {
        let mut schema = (*tool.output_schema.clone().unwrap()).clone();
        schema.remove("$defs");
        let schema = Value::Object(schema);
        let properties = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let result = match components.iter().find(|(_, c)| **c == schema) {
            Some((name, _)) => name.clone(),
            None => match properties.values().collect::<Vec<_>>()[..] {
                [one] if one["type"] == "array" => named(one),
                _ => format!(
                    "an object of its own ({})",
                    properties.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            },
        };
        results.insert(tool.name.to_string(), result);
    }
    results
}

/// Each operation gives one result through every door that has it, but where `DIFFERENT` says
/// why not; an MCP tool of an operation that gives nothing may say what it did (`{from, to}`
/// for a rename), which an agent reads better than nothing.
#[test]
fn every_door_gives_the_same_result() {
    let document: Value = serde_json::from_str(DOCUMENT).unwrap();
    let http = http_results(&document);
    let desktop = desktop_results();
    let mcp = mcp_results(&document);
    let differs = |op: &str, door: &str| DIFFERENT.iter().any(|(o, d, _)| *o == op && *d == door);
    let mut compared = 0;
    let mut disagree = Vec::new();
    for d in OPERATIONS {
        let mut given: Vec<(String, Given)> = Vec::new();
        if let Some(r) = http.get(&d.operation_id()) {
            given.push(("http".into(), r.clone()));
        }
        for name in d.desktop.names() {
            if !differs(d.name, "desktop") {
                let r = desktop
                    .get(*name)
                    .unwrap_or_else(|| panic!("{}: the bindings have no command {name}", d.name));
                given.push((format!("desktop {name}"), r.clone()));
            }
        }
        for name in d.mcp.names() {
            let r = mcp.get(*name).unwrap();
            let says_what_it_did =
                r.starts_with("an object of its own") && given.iter().all(|(_, g)| g == "nothing");
            if !differs(d.name, "mcp") && !says_what_it_did {
                given.push((format!("mcp {name}"), r.clone()));
            }
        }
        if let Some((first, result)) = given.first() {
            for (door, other) in &given[1..] {
                if other != result {
                    disagree.push(format!(
                        "{}: {door} gives {other}, {first} gives {result}",
                        d.name
                    ));
                }
                compared += 1;
            }
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
    assert!(compared > 60, "only {compared} pairs of doors compared");
    for (op, door, why) in DIFFERENT {
        let d = OPERATIONS.iter().find(|d| d.name == *op).unwrap();
        let names = if *door == "desktop" {
            d.desktop.names()
        } else {
            d.mcp.names()
        };
        assert!(
            !names.is_empty() && !why.is_empty(),
            "{op} has no {door} door to differ"
        );
    }
}
