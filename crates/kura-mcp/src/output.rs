//! The output schemas of the tools (`outputSchema` in `tools/list`): what each tool's
//! `structuredContent` holds, as JSON Schema. The engine's types are described once, by the
//! schemas the HTTP door's OpenAPI document is made of (`utoipa::ToSchema`); a tool's schema is
//! an object of those, with every type it names under `$defs`, so that it stands alone.

use std::sync::Arc;

use rmcp::model::JsonObject;
use serde_json::{json, Map, Value};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;

/// A part of an output schema: the schema, and the named types it refers to.
#[derive(Clone, Default)]
pub(crate) struct Part {
    schema: Value,
    defs: Map<String, Value>,
}

/// Where OpenAPI keeps named schemas, and where a standalone JSON Schema keeps them.
const OPENAPI_REFS: &str = "#/components/schemas/";
const DEFS: &str = "#/$defs/";

/// `schema` as JSON, its references to named schemas pointing at `$defs`.
/// Its objects are closed, as the OpenAPI document's are (`kura_api::schema`).
fn to_json(schema: &RefOr<Schema>) -> Value {
    let mut v = serde_json::to_value(schema).unwrap_or(Value::Bool(true));
    retarget(&mut v);
    kura_api::schema::close_objects(&mut v);
    v
}

/// `$ref`s to OpenAPI's named schemas pointed at `$defs` instead, in all of `v`.
pub(crate) fn retarget(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                match (k.as_str(), child) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix(OPENAPI_REFS) {
                            *r = format!("{DEFS}{name}");
                        }
                    }
                    (_, child) => retarget(child),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(retarget),
        _ => {}
    }
}

/// One of the engine's types, by reference, with every type it names.
pub(crate) fn of<T: utoipa::ToSchema>() -> Part {
    let mut named = Vec::new();
    T::schemas(&mut named);
    let name = T::name().to_string();
    let mut defs: Map<String, Value> = named
        .iter()
        .map(|(name, schema)| (name.clone(), to_json(schema)))
        .collect();
    defs.insert(name.clone(), to_json(&T::schema()));
    Part {
        schema: json!({ "$ref": format!("{DEFS}{name}") }),
        defs,
    }
}

/// A list of `item`.
pub(crate) fn list(item: Part) -> Part {
    Part {
        schema: json!({ "type": "array", "items": item.schema }),
        defs: item.defs,
    }
}

/// A schema of its own (a string, a number, ...), naming no type.
pub(crate) fn plain(schema: Value) -> Part {
    Part {
        schema,
        defs: Map::new(),
    }
}

pub(crate) fn string() -> Part {
    plain(json!({ "type": "string" }))
}

pub(crate) fn integer() -> Part {
    plain(json!({ "type": "integer", "minimum": 0 }))
}

pub(crate) fn boolean() -> Part {
    plain(json!({ "type": "boolean" }))
}

/// An object with these fields, every one present (fields that may be missing: `optional`).
pub(crate) fn object<const N: usize>(fields: [(&str, Part); N]) -> Part {
    object_with(fields, &[])
}

/// An object with these fields; those named in `optional` may be missing.
pub(crate) fn object_with<const N: usize>(fields: [(&str, Part); N], optional: &[&str]) -> Part {
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut defs = Map::new();
    for (name, part) in fields {
        properties.insert(name.to_string(), part.schema);
        defs.extend(part.defs);
        if !optional.contains(&name) {
            required.push(json!(name));
        }
    }
    Part {
        schema: json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false
        }),
        defs,
    }
}

/// A tool's output schema: `part` (an object, as MCP asks) standing alone, its types in `$defs`.
pub(crate) fn schema(part: Part) -> Arc<JsonObject> {
    let mut root = match part.schema {
        Value::Object(o) if o.contains_key("$ref") => {
            // A named type at the top: the type itself, so that `type: object` is at the root.
            let name = o["$ref"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches(DEFS);
            match part.defs.get(name) {
                Some(Value::Object(def)) => def.clone(),
                _ => o,
            }
        }
        Value::Object(o) => o,
        _ => Map::new(),
    };
    if !part.defs.is_empty() {
        root.insert("$defs".into(), Value::Object(part.defs));
    }
    Arc::new(root)
}

/// The output schema of one of the engine's types (an object).
pub(crate) fn schema_of<T: utoipa::ToSchema>() -> Arc<JsonObject> {
    schema(of::<T>())
}

/// One of these strings.
pub(crate) fn one_of(values: &[&str]) -> Part {
    plain(json!({ "type": "string", "enum": values }))
}

/// One object with the fields of `a` (a type of the engine) and those of `b` (an object of fields
/// the tool adds). Merged rather than an `allOf`: every object is closed to fields it does not
/// list (`kura_api::schema`), and each part of an `allOf` lists only some.
pub(crate) fn with_fields(a: Part, b: Part) -> Part {
    let name = a.schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix(DEFS))
        .unwrap_or_default()
        .to_string();
    let mut defs = a.defs;
    let mut object = match defs.remove(&name) {
        Some(Value::Object(def)) => def,
        _ => Map::new(),
    };
    let mut properties = match object.remove("properties") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    let mut required = match object.remove("required") {
        Some(Value::Array(r)) => r,
        _ => Vec::new(),
    };
    if let Some(Value::Object(more)) = b.schema.get("properties") {
        properties.extend(more.clone());
    }
    if let Some(Value::Array(more)) = b.schema.get("required") {
        required.extend(
            more.iter()
                .filter(|f| !required.contains(f))
                .cloned()
                .collect::<Vec<_>>(),
        );
    }
    object.insert("type".into(), json!("object"));
    object.insert("properties".into(), Value::Object(properties));
    object.insert("required".into(), Value::Array(required));
    object.insert("additionalProperties".into(), Value::Bool(false));
    defs.extend(b.defs);
    Part {
        schema: Value::Object(object),
        defs,
    }
}

/// A tool's input schema: the type's schema as the OpenAPI document has it
/// (`utoipa::ToSchema`), standing alone with its types in `$defs`. The HTTP door and the MCP
/// tools describe what they take, as what they give, with one schema system.
pub(crate) fn input_schema<T: utoipa::ToSchema>() -> schemars::Schema {
    let mut root = (*schema_of::<T>()).clone();
    let mut defs = match root.remove("$defs") {
        Some(Value::Object(defs)) => defs,
        _ => Map::new(),
    };
    // The arguments type itself is the root; it is no type of the engine's.
    defs.remove(T::name().as_ref());
    flatten(&mut root, &defs);
    // A tool with no arguments still lists its (no) properties: some clients read an object
    // schema without `properties` as malformed.
    root.entry("properties").or_insert_with(|| json!({}));
    // Only the types the merged root still names, and those they name.
    let mut kept = Map::new();
    let mut named = refs(&Value::Object(root.clone()));
    while let Some(name) = named.pop() {
        if kept.contains_key(&name) {
            continue;
        }
        if let Some(def) = defs.get(&name) {
            named.extend(refs(def));
            kept.insert(name, def.clone());
        }
    }
    if !kept.is_empty() {
        root.insert("$defs".into(), Value::Object(kept));
    }
    schemars::Schema::from(root)
}

/// The names of the types `schema` refers to.
fn refs(schema: &Value) -> Vec<String> {
    match schema {
        Value::Object(o) => o
            .iter()
            .flat_map(|(k, v)| match (k.as_str(), v.as_str()) {
                ("$ref", Some(r)) => r.strip_prefix(DEFS).map(String::from).into_iter().collect(),
                _ => refs(v),
            })
            .collect(),
        Value::Array(a) => a.iter().flat_map(refs).collect(),
        _ => Vec::new(),
    }
}

/// An arguments type that takes in a type of the engine (`#[serde(flatten)]`) is an `allOf` of
/// that type and its own fields; MCP clients show a tool's arguments best as one object, so the
/// parts are merged into one: their properties together, each required field required.
fn flatten(root: &mut Map<String, Value>, defs: &Map<String, Value>) {
    let Some(Value::Array(parts)) = root.remove("allOf") else {
        return;
    };
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    for part in parts {
        let mut part = match part.get("$ref").and_then(Value::as_str) {
            Some(r) => match defs.get(r.trim_start_matches(DEFS)) {
                Some(Value::Object(def)) => def.clone(),
                // The arguments type has the name of the type it takes in, whose schema its own
                // replaced: the tool would lose those arguments. A programming error, found by
                // every test that lists the tools.
                _ => panic!("an arguments type takes in {r} and has its name; rename it"),
            },
            None => match part {
                Value::Object(o) => o,
                _ => continue,
            },
        };
        flatten(&mut part, defs);
        if let Some(Value::Object(p)) = part.remove("properties") {
            properties.extend(p);
        }
        if let Some(Value::Array(r)) = part.remove("required") {
            for field in r {
                if !required.contains(&field) {
                    required.push(field);
                }
            }
        }
    }
    root.insert("type".into(), json!("object"));
    root.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        root.insert("required".into(), Value::Array(required));
    }
}

/// Gives each tool's arguments type its input schema by [`input_schema`]: rmcp asks for
/// `schemars::JsonSchema`, and this implements it from the type's `utoipa::ToSchema`.
macro_rules! inputs {
    ($($t:ty),* $(,)?) => {$(
        impl schemars::JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                <$t as utoipa::ToSchema>::name()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                crate::output::input_schema::<$t>()
            }
        }
    )*};
}
pub(crate) use inputs;
