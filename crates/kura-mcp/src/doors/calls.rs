//! How the browser's transport answers each command of the window over HTTP, worked out from
//! the two declarations it joins, never written by hand: the shell's commands with their
//! arguments (the generated bindings) and the HTTP operations with their paths, queries and
//! bodies (the OpenAPI document), joined by the catalog's word on which operations a command
//! is. Each argument of a command finds its place in the request by its name (as the input
//! test compares them), and `ui/src/lib/api/calls.ts` lists the places, so `http.ts` sends every
//! command through one function.

use std::collections::BTreeMap;

use kura_api::catalog::OPERATIONS;
use serde_json::Value;

use super::{
    binding_types, desktop_commands, http_shapes, snake_case, BodyShape, Command, HttpShape,
    Inputs, DOCUMENT,
};

/// Where an argument of a command goes in the HTTP request.
#[derive(Debug, Clone, PartialEq)]
enum Place {
    /// A path parameter.
    Path(String),
    /// A query parameter.
    Query(String),
    /// A field of the JSON body.
    Field(String),
    /// The whole body (a JSON object of the body's type, or a record's document).
    Body,
    /// Its fields are the query parameters (`filter: ProjectFilter`).
    Queries,
    /// Each of its fields somewhere (`del: RecordDelete`: the key in the path, `if_rev` in the
    /// query).
    Spread(BTreeMap<String, Place>),
    /// Nowhere: this operation is for when it is null (a vault's records, not a project's).
    Absent,
}

impl Place {
    fn ts(&self) -> String {
        match self {
            Place::Path(p) => format!("\"path:{p}\""),
            Place::Query(q) => format!("\"query:{q}\""),
            Place::Field(f) => format!("\"field:{f}\""),
            Place::Body => "\"body\"".into(),
            Place::Queries => "\"queries\"".into(),
            Place::Absent => "\"absent\"".into(),
            Place::Spread(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(f, p)| format!("{f}: {}", p.ts()))
                    .collect();
                format!("{{ {} }}", fields.join(", "))
            }
        }
    }
}

/// Where `name` (snake case) of type `ty` goes in a request to `shape`, if it has a place.
fn place(
    shape: &HttpShape,
    name: &str,
    ty: &str,
    nullable: bool,
    types: &BTreeMap<String, Inputs>,
) -> Option<Place> {
    if let Some(p) = shape
        .path_params
        .iter()
        .find(|p| *p == name || shape.named(p) == name)
    {
        return Some(Place::Path(p.clone()));
    }
    let fields = match &shape.body {
        BodyShape::Fields(fields) => Some(fields),
        _ => None,
    };
    if fields.is_some_and(|f| f.contains(name)) {
        return Some(Place::Field(name.into()));
    }
    if shape.query.contains(name) {
        return Some(Place::Query(name.into()));
    }
    if name == "value" && matches!(shape.body, BodyShape::Value) {
        return Some(Place::Body);
    }
    if let Some(own) = types.get(ty).filter(|own| !own.is_empty()) {
        if fields.is_some_and(|f| own.is_subset(f)) {
            return Some(Place::Body);
        }
        if own.is_subset(&shape.query) {
            return Some(Place::Queries);
        }
        let spread: Option<BTreeMap<String, Place>> = own
            .iter()
            .map(|f| place(shape, f, "", false, types).map(|p| (f.clone(), p)))
            .collect();
        if let Some(spread) = spread {
            return Some(Place::Spread(spread));
        }
    }
    nullable.then_some(Place::Absent)
}

/// The places of every argument of `command` in a request to `shape`, if each has one.
fn places(
    command: &Command,
    shape: &HttpShape,
    types: &BTreeMap<String, Inputs>,
) -> Option<Vec<(String, Place)>> {
    command
        .arguments
        .iter()
        .map(|a| place(shape, &a.snake, &a.ty, a.nullable, types).map(|p| (a.name.clone(), p)))
        .collect()
}

/// `calls.ts`: each command the browser's transport answers through one function, with its
/// arguments in order and, for each operation it may be sent as, where each argument goes.
fn calls_ts() -> String {
    let document: Value = serde_json::from_str(DOCUMENT).unwrap();
    let shapes = http_shapes(&document);
    let types = binding_types();
    let commands = desktop_commands();
    let mut out = String::from(concat!(
        "// Generated from the shell's bindings (../bindings.ts) and the OpenAPI document\n",
        "// (docs/api/openapi.json), joined by the service's catalog; do not edit.\n",
        "// Regenerate: KURA_UPDATE_CALLS=1 cargo test -p kura-mcp --lib doors\n",
        "//\n",
        "// How the browser's transport sends each command of the window: its arguments in order,\n",
        "// whether it is long (it takes a job id and a progress callback after them) or gives\n",
        "// nothing, and the operations it may be sent as with the place of each argument in the\n",
        "// request: `path:p`, `query:q`, `field:f` of the JSON body, the whole `body`, `queries`\n",
        "// (its fields are the query), the place of each of its fields, or `absent` (the operation\n",
        "// is the one for when it is null).\n\n",
        "import type { OperationId } from \"./routes\";\n\n",
        "export type Place = string | { readonly [field: string]: Place };\n\n",
        "export type Call = {\n",
        "  readonly args: readonly string[];\n",
        "  readonly long: boolean;\n",
        "  readonly nothing: boolean;\n",
        "  readonly variants: readonly { readonly op: OperationId; readonly places: { readonly [arg: string]: Place } }[];\n",
        "};\n\n",
        "export const CALLS = {\n",
    ));
    let mut by_command: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for d in OPERATIONS.iter().filter(|d| d.on_http()) {
        for name in d.desktop.names() {
            by_command.entry(name).or_default().push(d.operation_id());
        }
    }
    let mut unplaced = Vec::new();
    for (name, ops) in by_command {
        let command = commands
            .get(name)
            .unwrap_or_else(|| panic!("the bindings have no command {name}"));
        let variants: Vec<(String, Vec<(String, Place)>)> = ops
            .iter()
            .filter_map(|op| places(command, &shapes[op], &types).map(|p| (op.clone(), p)))
            .collect();
        if variants.is_empty() {
            unplaced.push(format!(
                "{name}: no operation of {ops:?} has a place for each of its arguments"
            ));
            continue;
        }
        let args: Vec<String> = command
            .arguments
            .iter()
            .map(|a| format!("\"{}\"", a.name))
            .collect();
        let variants: Vec<String> = variants
            .iter()
            .map(|(op, places)| {
                let places: Vec<String> = places
                    .iter()
                    .map(|(a, p)| format!("{a}: {}", p.ts()))
                    .collect();
                let places = match places.is_empty() {
                    true => "{}".to_string(),
                    false => format!("{{ {} }}", places.join(", ")),
                };
                format!("{{ op: \"{op}\", places: {places} }}")
            })
            .collect();
        out.push_str(&format!(
            "  {}: {{ args: [{}], long: {}, nothing: {}, variants: [{}] }},\n",
            camel_case(name),
            args.join(", "),
            command.long,
            command.gives_nothing,
            variants.join(", ")
        ));
    }
    assert!(unplaced.is_empty(), "\n{}", unplaced.join("\n"));
    out.push_str("} as const satisfies Record<string, Call>;\n\nexport type CallName = keyof typeof CALLS;\n");
    out
}

/// `list_files` as `listFiles`.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.push(c.to_ascii_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    debug_assert_eq!(snake_case(&out), name);
    out
}

/// The committed `calls.ts` is what the bindings and the document make now;
/// `KURA_UPDATE_CALLS=1` rewrites it.
#[test]
fn the_browser_calls_are_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/src/lib/api/calls.ts");
    let now = calls_ts();
    if std::env::var_os("KURA_UPDATE_CALLS").is_some() {
        std::fs::write(path, &now).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == now,
        "ui/src/lib/api/calls.ts is stale; run `KURA_UPDATE_CALLS=1 cargo test -p kura-mcp --lib doors` and commit it"
    );
}

/// The places follow the names: a command's project is its path's `{id}`, a record's put spreads
/// over the path, the query and the body, and the vault's records are the ones without a
/// project.
#[test]
fn arguments_find_their_places_by_name() {
    let document: Value = serde_json::from_str(DOCUMENT).unwrap();
    let shapes = http_shapes(&document);
    let types = binding_types();
    let commands = desktop_commands();
    let at = |command: &str, op: &str| places(&commands[command], &shapes[op], &types);
    assert_eq!(
        at("list_files", "listFiles").unwrap(),
        [
            ("id".into(), Place::Path("id".into())),
            ("prefix".into(), Place::Query("prefix".into()))
        ]
    );
    let put = at("record_put", "putVaultRecord").unwrap();
    assert_eq!(put[0], ("project".into(), Place::Absent));
    let Place::Spread(fields) = &put[1].1 else {
        panic!("{put:?}")
    };
    assert_eq!(fields["key"], Place::Path("key".into()));
    assert_eq!(fields["ttl_secs"], Place::Query("ttl_secs".into()));
    assert_eq!(fields["value"], Place::Body);
    assert_eq!(
        at("record_put", "putProjectRecord").unwrap()[0].1,
        Place::Path("id".into())
    );
    // A record query is a body the listing's query cannot carry.
    assert!(at("record_query", "listVaultRecords").is_none());
    assert_eq!(
        at("list_projects", "listProjects").unwrap()[0].1,
        Place::Queries
    );
    assert_eq!(
        at("update_backup_target", "updateBackupTarget").unwrap(),
        [
            ("target".into(), Place::Path("target".into())),
            ("changes".into(), Place::Body)
        ]
    );
    assert_eq!(
        at("rename_workspace", "renameWorkspace").unwrap(),
        [
            ("name".into(), Place::Path("name".into())),
            ("newName".into(), Place::Field("new_name".into()))
        ]
    );
}
