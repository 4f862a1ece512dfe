//! The doors give the same result for the same operation: what the HTTP door answers (its
//! OpenAPI document), what the desktop shell's command returns (its generated TypeScript
//! bindings) and what the MCP tool's `structuredContent` holds (its `outputSchema`) are one type,
//! named by the schemas every door is described with. This crate's tests can read all three.

mod calls;

use std::collections::BTreeMap;

use kura_api::catalog::{Declared, OPERATIONS};
use serde_json::Value;

use crate::server::KuraMcp;

/// What a door gives, by name: a type of the document (`Project`), a list of one
/// (`Project[]`), `nothing`, or a description of an object the door writes itself.
type Given = String;

pub(super) const DOCUMENT: &str = include_str!(concat!(
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

/// An operation's names at the desktop or the MCP door.
fn names_at(op: &Declared, door: &str) -> &'static [&'static str] {
    match door {
        "desktop" => op.desktop.names(),
        _ => op.mcp.names(),
    }
}

/// Each exception of a list (operation, door, why) names an operation that has that door, and
/// says why.
fn every_exception_has_its_door(exceptions: &[(&str, &str, &str)]) {
    for (op, door, why) in exceptions {
        let d = OPERATIONS
            .iter()
            .find(|d| d.name == *op)
            .unwrap_or_else(|| panic!("no operation {op}"));
        assert!(
            !names_at(d, door).is_empty() && !why.is_empty(),
            "{op} has no {door} door to differ"
        );
    }
}

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
    every_exception_has_its_door(DIFFERENT);
}

/// The names of what a caller gives an operation through a door.
pub(super) type Inputs = std::collections::BTreeSet<String>;

/// Where a door takes other inputs than the HTTP operation, and why: (operation, door, why).
const INPUTS_DIFFER: &[(&str, &str, &str)] = &[
    (
        "rename_workspace",
        "desktop",
        "HTTP names the workspace in the path and its new name in the body, both `name`; the \
         command takes `name` and `new_name`",
    ),
    (
        "delete_project",
        "mcp",
        "an agent's one way to remove a project: to the trash, or for good with `hard`",
    ),
    (
        "read_file",
        "mcp",
        "a tool's result is JSON, so the caller says how the content comes (`encoding`: text or \
         base64)",
    ),
    (
        "save_file",
        "mcp",
        "a tool's arguments are JSON, so the content comes as text or base64 (`encoding`) where \
         HTTP takes the bytes as the body",
    ),
];

/// What the HTTP door names for where it is in the path, as the other doors name it for what
/// it is: (the path's start, the parameter, its name).
const PATH_NAMES: &[(&str, &str, &str)] = &[
    ("/v1/projects/{id}", "id", "project"),
    ("/v1/backups/targets/{name}", "name", "target"),
    ("/v1/operations/{id}", "id", "job_id"),
];

/// The properties of an object schema, through `$ref`, `allOf` and an optional (`oneOf` with
/// `null`) body.
fn properties(document: &Value, schema: &Value) -> Inputs {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return properties(document, &document["components"]["schemas"][name]);
    }
    let mut out: Inputs = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for part in ["allOf", "oneOf", "anyOf"] {
        for s in schema[part].as_array().into_iter().flatten() {
            out.extend(properties(document, s));
        }
    }
    out
}

/// What an HTTP operation reads from a request.
pub(super) struct HttpShape {
    pub path: String,
    /// Its path parameters, as the path names them.
    pub path_params: Vec<String>,
    /// Its query parameters but how to wait for it (`wait`, `timeout_secs`).
    pub query: Inputs,
    pub body: BodyShape,
}

/// What an HTTP operation's request body is.
pub(super) enum BodyShape {
    None,
    /// A JSON object with these fields.
    Fields(Inputs),
    /// Any JSON document (a record's `value`).
    Value,
    /// Bytes (a file's `content`).
    Bytes,
}

impl HttpShape {
    /// What the other doors name path parameter `param` of this operation (`id` in a
    /// project's path is `project`).
    pub fn named(&self, param: &str) -> String {
        PATH_NAMES
            .iter()
            .find(|(start, p, _)| self.path.starts_with(start) && param == *p)
            .map_or(param, |(_, _, name)| name)
            .to_string()
    }

    /// The names of what it takes, as the other doors name them: path and query parameters,
    /// the JSON body's fields, or `value` or `content` for a body of another kind. Headers are
    /// conditions and retries, not inputs.
    fn inputs(&self) -> Inputs {
        let mut inputs: Inputs = self.path_params.iter().map(|p| self.named(p)).collect();
        inputs.extend(self.query.iter().cloned());
        match &self.body {
            BodyShape::None => {}
            BodyShape::Fields(fields) => inputs.extend(fields.iter().cloned()),
            BodyShape::Value => {
                inputs.insert("value".into());
            }
            BodyShape::Bytes => {
                inputs.insert("content".into());
            }
        }
        inputs
    }
}

/// Each HTTP operation's shape, by `operationId`.
pub(super) fn http_shapes(document: &Value) -> BTreeMap<String, HttpShape> {
    let mut shapes = BTreeMap::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for op in item.as_object().unwrap().values() {
            let Some(id) = op["operationId"].as_str() else {
                continue;
            };
            let mut shape = HttpShape {
                path: path.clone(),
                path_params: Vec::new(),
                query: Inputs::new(),
                body: BodyShape::None,
            };
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap().to_string();
                match p["in"].as_str() {
                    Some("path") => shape.path_params.push(name),
                    Some("query") if !["wait", "timeout_secs"].contains(&name.as_str()) => {
                        shape.query.insert(name);
                    }
                    _ => {}
                }
            }
            let content = &op["requestBody"]["content"];
            if let Some(body) = content.as_object().filter(|c| !c.is_empty()) {
                shape.body = match body.get("application/json") {
                    Some(json) if json["schema"] == serde_json::json!({}) => BodyShape::Value,
                    Some(json) => BodyShape::Fields(properties(document, &json["schema"])),
                    None => BodyShape::Bytes,
                };
            }
            shapes.insert(id.to_string(), shape);
        }
    }
    shapes
}

/// The fields of each object type the bindings declare (`export type T = { a: ...; b?: ... }`).
pub(super) fn binding_types() -> BTreeMap<String, Inputs> {
    let mut types = BTreeMap::new();
    let mut current: Option<(String, Inputs)> = None;
    for line in BINDINGS.lines() {
        if let Some(rest) = line.strip_prefix("export type ") {
            if let Some((name, "{")) = rest.split_once(" = ") {
                current = Some((name.to_string(), Inputs::new()));
            }
            continue;
        }
        if line == "};" {
            if let Some((name, fields)) = current.take() {
                types.insert(name, fields);
            }
            continue;
        }
        if let (Some((_, fields)), Some(field)) = (&mut current, line.strip_prefix('\t')) {
            if let Some((name, _)) = field.split_once(':') {
                if !name.starts_with(['/', ' ', '*']) {
                    fields.insert(name.trim_end_matches('?').to_string());
                }
            }
        }
    }
    types
}

/// `newName` is `new_name`.
pub(super) fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// One argument of a desktop command.
pub(super) struct Argument {
    /// As the bindings name it (`newName`).
    pub name: String,
    /// In snake case, as the other doors name it (`new_name`).
    pub snake: String,
    /// Its TypeScript type, without ` | null`.
    pub ty: String,
    /// Whether it may be null.
    pub nullable: bool,
}

/// A desktop command as the bindings declare it.
pub(super) struct Command {
    /// What it is asked; a long command's job id and progress channel are how it runs, not
    /// what it is asked, and are not among them.
    pub arguments: Vec<Argument>,
    /// It runs as an operation with progress (it takes a job id and a progress channel).
    pub long: bool,
    /// It answers `null`.
    pub gives_nothing: bool,
}

/// `a: A, b: Map<K, V>` as `["a: A", "b: Map<K, V>"]`: split at the commas outside brackets.
fn split_arguments(list: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in list.char_indices() {
        match c {
            '<' | '(' | '[' | '{' => depth += 1,
            '>' | ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(list[start..].trim());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// Each desktop command, by the name the shell registers it under (`list_files`).
pub(super) fn desktop_commands() -> BTreeMap<String, Command> {
    let mut commands = BTreeMap::new();
    for line in BINDINGS.lines() {
        let (Some((head, result)), Some((_, invoked))) = (
            line.split_once(") => typedError<"),
            line.split_once("__TAURI_INVOKE(\""),
        ) else {
            continue;
        };
        let command = invoked.split_once('"').unwrap().0.to_string();
        let list = head.split_once('(').unwrap().1;
        let long = list.contains("onProgress: Channel<");
        let arguments = split_arguments(list)
            .into_iter()
            .filter_map(|a| a.split_once(": "))
            .filter(|(name, _)| !(long && ["jobId", "onProgress"].contains(name)))
            .map(|(name, ty)| Argument {
                name: name.to_string(),
                snake: snake_case(name),
                ty: ty.trim_end_matches(" | null").to_string(),
                nullable: ty.ends_with(" | null"),
            })
            .collect();
        let gives_nothing = result.starts_with("null, ApiError>");
        commands.insert(
            command,
            Command {
                arguments,
                long,
                gives_nothing,
            },
        );
    }
    commands
}

/// Each MCP tool's arguments: its input schema's properties (a request type it takes whole is
/// flattened into them).
fn mcp_inputs() -> BTreeMap<String, Inputs> {
    KuraMcp::all_tools()
        .list_all()
        .into_iter()
        .map(|tool| {
            let properties = tool
                .input_schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            (tool.name.to_string(), properties)
        })
        .collect()
}

/// Each operation takes the same inputs, by the same names, through every door that has it, but
/// where `INPUTS_DIFFER` says why not. A door's command or tool that serves several operations
/// (`query_records` lists and queries, in a project or the vault) takes what they take together,
/// and so do the commands that share one operation (the window renames, moves and edits a
/// project with three). A desktop command may take the HTTP request's body or query as one
/// argument of its type (`new_project: NewProject`).
#[test]
fn every_door_takes_the_same_inputs() {
    let document: Value = serde_json::from_str(DOCUMENT).unwrap();
    let http = http_shapes(&document);
    let types = binding_types();
    let desktop = desktop_commands();
    let mcp = mcp_inputs();
    let differs =
        |op: &str, door: &str| INPUTS_DIFFER.iter().any(|(o, d, _)| *o == op && *d == door);
    let http_of = |name: &str| {
        let op = OPERATIONS.iter().find(|d| d.name == name).unwrap();
        http.get(&op.operation_id())
            .unwrap_or_else(|| panic!("{name}: no HTTP operation {}", op.operation_id()))
    };
    let mut disagree = Vec::new();
    let mut compared = 0;
    for door in ["desktop", "mcp"] {
        // The operations that share a command or tool, and the door's names for them: one
        // group is compared as a whole.
        let on_both: Vec<_> = OPERATIONS
            .iter()
            .filter(|op| op.on_http() && !names_at(op, door).is_empty() && !differs(op.name, door))
            .collect();
        let mut groups: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
        for op in &on_both {
            let names = names_at(op, door).to_vec();
            let joined: Vec<usize> = (0..groups.len())
                .filter(|&g| names.iter().any(|n| groups[g].1.contains(n)))
                .collect();
            let mut group = (vec![op.name], names);
            for g in joined.into_iter().rev() {
                let (ops, names) = groups.remove(g);
                group.0.extend(ops);
                group.1.extend(names);
            }
            groups.push(group);
        }
        for (ops, names) in groups {
            let names: std::collections::BTreeSet<&str> = names.into_iter().collect();
            let wanted: Inputs = ops.iter().flat_map(|op| http_of(op).inputs()).collect();
            // A path parameter the desktop names as the path does (`id`), the others for what
            // it is (`project`).
            let renamed: BTreeMap<String, String> = ops
                .iter()
                .map(|op| http_of(op))
                .flat_map(|shape| {
                    shape
                        .path_params
                        .iter()
                        .map(|p| (p.clone(), shape.named(p)))
                })
                .collect();
            let mut given = Inputs::new();
            for name in &names {
                if door == "mcp" {
                    given.extend(mcp.get(*name).unwrap().iter().cloned());
                    continue;
                }
                let command = desktop
                    .get(*name)
                    .unwrap_or_else(|| panic!("the bindings have no command {name}"));
                for a in &command.arguments {
                    match types.get(&a.ty) {
                        Some(fields) if !wanted.contains(&a.snake) && fields.is_subset(&wanted) => {
                            given.extend(fields.iter().cloned())
                        }
                        _ => {
                            given.insert(renamed.get(&a.snake).unwrap_or(&a.snake).clone());
                        }
                    }
                }
            }
            compared += 1;
            if given != wanted {
                disagree.push(format!(
                    "{} ({door} {}): takes {:?}, HTTP takes {:?}",
                    ops.join(", "),
                    names.into_iter().collect::<Vec<_>>().join(", "),
                    given.difference(&wanted).collect::<Vec<_>>(),
                    wanted.difference(&given).collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(disagree.is_empty(), "\n{}", disagree.join("\n"));
    assert!(compared > 50, "only {compared} groups of commands compared");
    every_exception_has_its_door(INPUTS_DIFFER);
}
