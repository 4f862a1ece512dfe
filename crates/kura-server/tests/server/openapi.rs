//! The OpenAPI document: committed and current, and every JSON answer of the tests fits it.

use std::sync::OnceLock;

use serde_json::Value;

use kura_server::Scope;

use crate::harness::{repo_root, TestServer};

fn doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(&kura_server::openapi_json()).unwrap())
}

/// `docs/api/openapi.json` is what the code generates (`KURA_UPDATE_OPENAPI=1` rewrites it).
#[test]
fn the_committed_openapi_document_is_current() {
    let path = repo_root().join("docs/api/openapi.json");
    let now = kura_server::openapi_json();
    if std::env::var_os("KURA_UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == now,
        "docs/api/openapi.json is stale; run `KURA_UPDATE_OPENAPI=1 cargo test -p kura-server --test server openapi` and commit it"
    );
}

/// The browser's transport (`ui/src/lib/api/http.ts`) finds each operation's method and path in
/// `ui/src/lib/api/routes.ts`, written from the document, so no URL is typed by hand there and
/// `svelte-check` fails when a route it calls changes. `KURA_UPDATE_OPENAPI=1` rewrites it.
#[test]
fn the_browser_routes_are_the_documents() {
    let path = repo_root().join("ui/src/lib/api/routes.ts");
    let now = routes_ts(doc());
    if std::env::var_os("KURA_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == now,
        "ui/src/lib/api/routes.ts is stale; run `KURA_UPDATE_OPENAPI=1 cargo test -p kura-server --test server openapi` and commit it"
    );
}

/// Every operation of the document as `operationId: [METHOD, path, scope]`, sorted by
/// operationId: the scope its security requirement names (`null` for a public one).
fn routes_ts(doc: &Value) -> String {
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(id) = op["operationId"].as_str() {
                let scope = match op["security"][0]["bearer"][0].as_str() {
                    Some(scope) => format!("\"{scope}\""),
                    None => "null".to_string(),
                };
                routes.push((id.to_string(), method.to_uppercase(), path.clone(), scope));
            }
        }
    }
    routes.sort();
    let mut out = String::from(
        "// Generated from the OpenAPI document (docs/api/openapi.json); do not edit.\n\
         // Regenerate: KURA_UPDATE_OPENAPI=1 cargo test -p kura-server --test server openapi\n\
         // Each operation of `kura serve` by its operationId: its method, its path and the scope\n\
         // a caller needs for it (null: anyone may call it).\n\n\
         export const ROUTES = {\n",
    );
    for (id, method, path, scope) in routes {
        out.push_str(&format!("  {id}: [\"{method}\", \"{path}\", {scope}],\n"));
    }
    out.push_str("} as const;\n\nexport type OperationId = keyof typeof ROUTES;\n");
    // The catalog's word on which operations each command of the window is.
    let mut commands: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for d in kura_api::catalog::OPERATIONS.iter().filter(|d| d.on_http()) {
        for name in d.desktop.names() {
            commands
                .entry(camel(name))
                .or_default()
                .push(d.operation_id());
        }
    }
    out.push_str(concat!(
        "\n/**\n",
        " * Each command of the window (`commands` in ../bindings.ts) by the operations of the\n",
        " * service's catalog it is declared under that `kura serve` has: the browser's transport\n",
        " * answers the command with one of them (a unit test holds it to that).\n",
        " */\n",
        "export const COMMANDS: Record<string, readonly OperationId[]> = {\n",
    ));
    for (command, ops) in commands {
        let ops: Vec<String> = ops.iter().map(|o| format!("\"{o}\"")).collect();
        out.push_str(&format!("  {command}: [{}],\n", ops.join(", ")));
    }
    out.push_str("};\n");
    out
}

/// `snake_case` as `camelCase`, the way the bindings and operationIds write names.
fn camel(name: &str) -> String {
    let mut parts = name.split('_');
    let mut out = parts.next().unwrap_or_default().to_string();
    for part in parts {
        let mut chars = part.chars();
        out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
        out.push_str(chars.as_str());
    }
    out
}

#[test]
fn the_document_is_openapi_3_1_with_the_main_resources() {
    let d = doc();
    assert!(d["openapi"].as_str().unwrap().starts_with("3.1"));
    for name in [
        "Project",
        "Workspace",
        "Version",
        "Operation",
        "Event",
        "ApiError",
        "HttpError",
        "FileEntry",
        "Stats",
        "BackupStatus",
    ] {
        assert!(
            d["components"]["schemas"][name].is_object(),
            "no schema {name}"
        );
    }
    // Real schemas, not free-form objects.
    assert!(d["components"]["schemas"]["Project"]["properties"]["name"].is_object());
    assert!(d["paths"]["/v1/projects/{id}/snapshot"]["post"].is_object());
}

#[tokio::test]
async fn the_server_serves_the_same_document() {
    let s = TestServer::start().await;
    let r = s.anonymous().get("/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(&r.json(), doc());
    s.stop().await;
}

/// The operation in the document for `method path` (a concrete path, matched to a template).
fn operation(method: &str, path: &str) -> Option<&'static Value> {
    let path = path.split('?').next().unwrap();
    let segs: Vec<&str> = path.split('/').collect();
    let mut best: Option<(usize, &Value)> = None;
    for (template, item) in doc()["paths"].as_object().unwrap() {
        let t: Vec<&str> = template.split('/').collect();
        let tail = t.last().is_some_and(|l| *l == "{path}");
        let fits = if tail {
            segs.len() >= t.len()
        } else {
            segs.len() == t.len()
        };
        if !fits {
            continue;
        }
        let mut literal = 0;
        let ok = t.iter().zip(&segs).all(|(a, b)| {
            if a.starts_with('{') {
                true
            } else {
                literal += 1;
                a == b
            }
        });
        if ok && best.is_none_or(|(l, _)| literal > l) {
            if let Some(op) = item.get(method.to_ascii_lowercase()) {
                best = Some((literal, op));
            }
        }
    }
    best.map(|(_, op)| op)
}

/// Panics unless the document declares `status` (or a default) for `method path` and `body`
/// fits the schema declared for it.
pub fn check_response(method: &str, path: &str, status: u16, body: &Value) {
    let Some(op) = operation(method, path) else {
        // Not an endpoint (an unknown path, a CORS preflight): only an error may answer.
        assert!(
            status >= 400,
            "{method} {path} answered {status} but is not in the OpenAPI document"
        );
        let error = serde_json::json!({"$ref": "#/components/schemas/HttpError"});
        if let Err(e) = validate(&error, body, "$") {
            panic!("{method} {path} {status}: the error does not fit HttpError: {e}");
        }
        return;
    };
    let responses = &op["responses"];
    let response = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))
        .unwrap_or_else(|| panic!("{method} {path}: status {status} is not declared"));
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        panic!("{method} {path} {status}: no JSON schema declared for this answer");
    };
    if let Err(e) = validate(schema, body, "$") {
        panic!(
            "{method} {path} {status}: the answer does not fit the OpenAPI schema: {e}\n{body:#}"
        );
    }
}

fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            resolve(&doc()["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn type_fits(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}

/// A JSON Schema check covering what utoipa generates: $ref, type (or a list of types), enum,
/// const, properties/required/additionalProperties, items, prefixItems, oneOf/anyOf/allOf.
pub fn validate(schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let s = resolve(schema);
    if s.as_bool() == Some(true) || s.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(());
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_fits(t, v),
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(|t| type_fits(t, v)),
            _ => true,
        };
        if !ok {
            return Err(format!("{at}: {v} is not of type {t}"));
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return Err(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            return Err(format!("{at}: {v} is not {c}"));
        }
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for sub in all {
            validate(sub, v, at)?;
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(any) = s.get(key).and_then(Value::as_array) {
            let errors: Vec<String> = any
                .iter()
                .filter_map(|sub| validate(sub, v, at).err())
                .collect();
            if errors.len() == any.len() {
                return Err(format!("{at}: fits none of {key}: {errors:?}"));
            }
        }
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    return Err(format!("{at}: required field '{r}' is missing"));
                }
            }
        }
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(sub) => validate(sub, val, &format!("{at}.{k}"))?,
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        return Err(format!("{at}: field '{k}' is not declared"))
                    }
                    Some(sub) if sub.is_object() => validate(sub, val, &format!("{at}.{k}"))?,
                    _ => {}
                },
            }
        }
    }
    if let Some(arr) = v.as_array() {
        let prefix = s.get("prefixItems").and_then(Value::as_array);
        for (i, item) in arr.iter().enumerate() {
            let sub = prefix
                .and_then(|p| p.get(i))
                .or_else(|| s.get("items").filter(|i| i.is_object()));
            if let Some(sub) = sub {
                validate(sub, item, &format!("{at}[{i}]"))?;
            }
        }
    }
    Ok(())
}

#[test]
fn the_validator_catches_what_does_not_fit() {
    let project = serde_json::json!({"$ref": "#/components/schemas/Project"});
    assert!(validate(&project, &serde_json::json!({"name": 3}), "$").is_err());
    let err = serde_json::json!({"$ref": "#/components/schemas/HttpError"});
    assert!(validate(
        &err,
        &serde_json::json!({"code": "not_found", "message": "x"}),
        "$"
    )
    .is_ok());
    assert!(validate(
        &err,
        &serde_json::json!({"code": "nope", "message": "x"}),
        "$"
    )
    .is_err());
}

/// The operations the document lists are the service's declared operations (`kura_api::catalog`),
/// under their names, with the declared effect (a GET never changes the vault, so a read token
/// can call it) and length (a long operation answers 202 with its operation).
#[test]
fn the_document_has_every_declared_operation_and_nothing_else() {
    use kura_api::catalog::{Effect, OPERATIONS};
    let mut documented = std::collections::BTreeSet::new();
    for (path, item) in doc()["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(id) = op["operationId"].as_str() else {
                continue;
            };
            documented.insert(id.to_string());
            let d = OPERATIONS
                .iter()
                .find(|d| d.operation_id() == id)
                .unwrap_or_else(|| {
                    panic!("{method} {path} ({id}) is not declared in kura_api::catalog")
                });
            assert!(
                d.on_http(),
                "{id} is served, but its declaration says it is not"
            );
            if method == "get" {
                assert_eq!(
                    d.effect,
                    Effect::Reads,
                    "{id} is a GET that changes the vault"
                );
            }
            assert_eq!(
                op["responses"].get("202").is_some(),
                d.long,
                "{id}: a 202 answer and the declaration's `long` disagree"
            );
        }
    }
    for d in OPERATIONS.iter().filter(|d| d.on_http()) {
        assert!(
            documented.contains(&d.operation_id()),
            "{} is declared for the HTTP door but the document has no {}",
            d.name,
            d.operation_id()
        );
    }
}

/// A value of `schema` (resolved, first enum value, first of a union), with only the required
/// properties of objects. Strings are a path nowhere, which every field taking a name or a path
/// refuses on its own terms after the body has been read.
fn minimal(schema: &Value) -> Value {
    let s = resolve(schema);
    if let Some(v) = s.get("enum").and_then(|e| e.get(0)) {
        return v.clone();
    }
    if let Some(v) = s.get("const") {
        return v.clone();
    }
    for union in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = s.get(union).and_then(|u| u.get(0)) {
            let mut v = minimal(first);
            // A tagged union's variants carry their tag as a required enum property.
            if union == "allOf" {
                for more in s[union].as_array().unwrap().iter().skip(1) {
                    if let (Some(o), Value::Object(m)) = (v.as_object_mut(), minimal(more)) {
                        o.extend(m);
                    }
                }
            }
            return v;
        }
    }
    let types: Vec<&str> = match &s["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec!["object"],
    };
    let t = types
        .iter()
        .find(|t| **t != "null")
        .copied()
        .unwrap_or("null");
    match t {
        "string" => Value::from("/nonexistent/kura-contract"),
        "integer" | "number" => Value::from(1),
        "boolean" => Value::from(false),
        "array" => Value::Array(Vec::new()),
        "null" => Value::Null,
        _ => {
            let mut out = serde_json::Map::new();
            for name in s["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                out.insert(name.to_string(), minimal(&s["properties"][name]));
            }
            Value::Object(out)
        }
    }
}

/// What the document says of each JSON request body is what the server reads: a body with only
/// the properties the document calls required is read (whatever the operation then makes of
/// its values), a body without a required property is refused with `invalid_input`, and so is
/// one with a property the document does not list (it says `additionalProperties: false`).
#[tokio::test]
async fn request_bodies_are_read_as_the_document_describes_them() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Admin);
    let id = crate::harness::project_with_file(&c, "contract", "a.txt", b"a").await;
    let mut checked = 0;
    for (template, item) in doc()["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") else {
                continue;
            };
            let path = template
                .replace("{id}", &id)
                .replace("{path}", "a.txt")
                .replace("{name}", "nowhere")
                .replace("{collection}", "things")
                .replace("{key}", "one")
                .replace("{archive}", "nothing")
                .replace("{backup}", "nothing");
            let reads = |r: &crate::harness::Resp| {
                let text = String::from_utf8_lossy(&r.body);
                !text.contains("the JSON body is not valid") && !text.contains("must be an object")
            };
            let body = minimal(schema);
            let r = c
                .call(&method.to_uppercase(), &path)
                .json(body.clone())
                .send()
                .await;
            assert!(
                reads(&r),
                "{method} {template} refused the body the document allows: {body}\n{}",
                String::from_utf8_lossy(&r.body)
            );
            let required = resolve(schema)["required"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for name in required {
                let mut less = body.clone();
                less.as_object_mut().unwrap().remove(name.as_str().unwrap());
                let r = c
                    .call(&method.to_uppercase(), &path)
                    .json(less.clone())
                    .send()
                    .await;
                assert_eq!(
                    (r.status, r.code().as_str()),
                    (422, "invalid_input"),
                    "{method} {template} took a body without the required {name}: {less}"
                );
                let message = r.json()["message"].as_str().unwrap_or_default().to_string();
                assert!(
                    message.contains(name.as_str().unwrap()),
                    "{method} {template}: the refusal does not name {name}: {message}"
                );
            }
            // (A record's value is any JSON: its schema has no type.)
            let object = body
                .as_object()
                .filter(|_| resolve(schema)["type"] == "object");
            if let Some(object) = object {
                assert_eq!(
                    resolve(schema)["additionalProperties"],
                    Value::Bool(false),
                    "{method} {template}: the document leaves the body open to other fields"
                );
                let mut more = object.clone();
                more.insert("not_a_field_of_kura".into(), Value::from(1));
                let r = c
                    .call(&method.to_uppercase(), &path)
                    .json(Value::Object(more))
                    .send()
                    .await;
                let message = r.json()["message"].as_str().unwrap_or_default().to_string();
                assert_eq!(
                    (r.status, r.code().as_str()),
                    (422, "invalid_input"),
                    "{method} {template} took a field it does not have: {message}"
                );
                assert!(
                    message.contains("not_a_field_of_kura"),
                    "{method} {template}: the refusal does not name the field: {message}"
                );
            }
            // An object's fields sent as an array (serde would read them in order) are refused.
            if resolve(schema)["type"] == "object" {
                let as_array =
                    serde_json::Value::Array(body.as_object().unwrap().values().cloned().collect());
                let r = c
                    .call(&method.to_uppercase(), &path)
                    .json(as_array.clone())
                    .send()
                    .await;
                assert_eq!(
                    (r.status, r.code().as_str()),
                    (422, "invalid_input"),
                    "{method} {template} took an array for an object: {as_array}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} JSON bodies in the document");
    s.stop().await;
}

/// A field a body does not take is named where it is, however deep: a misspelt option inside
/// the options is not dropped in silence (the import would run with its defaults).
#[tokio::test]
async fn a_field_a_body_does_not_take_is_refused_by_its_place() {
    let s = TestServer::start().await;
    let c = s.client(Scope::Admin);
    let r = c
        .call("POST", "/v1/archives/import")
        .json(serde_json::json!({
            "path": "/nonexistent/kura.tar.zst",
            "options": { "workspace": null, "nmae": "typo" }
        }))
        .send()
        .await;
    assert_eq!((r.status, r.code().as_str()), (422, "invalid_input"));
    let message = r.json()["message"].as_str().unwrap_or_default().to_string();
    assert!(message.contains("`options.nmae`"), "{message}");
    // The same body without the typo is read (and then fails on the missing file).
    let r = c
        .call("POST", "/v1/archives/import")
        .json(serde_json::json!({ "path": "/nonexistent/kura.tar.zst", "options": {} }))
        .send()
        .await;
    assert!(
        !String::from_utf8_lossy(&r.body).contains("does not take"),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    s.stop().await;
}
