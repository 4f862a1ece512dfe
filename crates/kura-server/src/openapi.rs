//! The OpenAPI 3.1 description of `/v1`, generated from the Rust types and the handlers'
//! annotations. Committed as `docs/api/openapi.json`; a test fails when it drifts.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kura HTTP API",
        description = "The HTTP door of `kura serve`: every operation of the kura CLI. Authenticate with `Authorization: Bearer <token>` (`kura serve token --scope read|write|admin`) or a browser session cookie (`kura_session`, plus the `X-Kura-CSRF` header on requests other than GET). Errors are `{ code, message }` (every status, 404 and 405 included; 405 with `Allow`, 401 with `WWW-Authenticate`); switch on `code`. Long operations answer 202 with an Operation and its `Location` (see `/v1/operations/{id}`); `?wait=true` waits for the end, and a failure then answers the error with the operation in `operation`. Unknown fields in a JSON body are ignored.",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(
        crate::error::HttpError, crate::error::HttpErrorCode, crate::auth::Scope,
        kura_api::Operation, kura_api::OpState, kura_api::Event, kura_api::VaultChange,
        kura_core::Project, kura_core::Workspace, kura_core::Version, kura_core::FileEntry,
        kura_core::Stats, kura_core::SnapshotReport, kura_core::RestoreReport, kura_core::VerifyReport,
        kura_core::GcReport, kura_core::UploadReport, kura_core::ImportReport, kura_core::ArchiveInfo,
        kura_core::ArchiveVerifyReport, kura_core::ExtractReport, kura_core::CleanupReport,
        kura_backup::RunReport, kura_backup::BackupRestoreReport, kura_backup::BackupVerifyReport,
        kura_backup::PruneReport, kura_backup::Share, kura_backup::ColdReport,
        kura_backup::LocationKind, kura_core::ProjectSort,
    )),
    tags(
        (name = "vault", description = "The vault as a whole"),
        (name = "workspaces"), (name = "projects"), (name = "files"), (name = "versions"),
        (name = "git"), (name = "archives"), (name = "cleanup"), (name = "backups"),
        (name = "records", description = "JSON documents under keys, per project and for the vault, with queries"),
        (name = "shares", description = "Download links to a version, kept in an S3 target until they expire"),
        (name = "operations", description = "Long work: progress, wait, cancel"),
        (name = "events", description = "What happened, as a resumable stream"),
        (name = "browser", description = "Browser sessions and the UI"),
    )
)]
pub struct ApiDoc;

/// The bearer token and the session cookie; every operation may answer an error.
struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`kura serve token --scope read|write|admin`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("kura_session"))),
        );
        api.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
        let error = ResponseBuilder::new()
            .description("An error: `{ code, message }`; the status follows the code (404 not_found, 422 invalid_input, 409 conflict, 401 unauthorized, 403 forbidden, 421 misdirected, 413 payload_too_large, ...)")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("HttpError"))))
                    .build(),
            )
            .build();
        let long_error = ResponseBuilder::new()
            .description("An error: `{ code, message }`; with `?wait=true`, an operation that failed or was cancelled answers its error's status with the error, the operation in `operation` and its URL in `Location`")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("HttpError"))))
                    .build(),
            )
            .build();
        for item in api.paths.paths.values_mut() {
            let ops: [&mut Option<Operation>; 5] = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                // A long operation started with `?wait=true` answers 200 with the operation.
                if let Some(RefOr::T(mut r)) = op.responses.responses.get("202").cloned() {
                    r.description = "finished (`?wait=true`): the operation".into();
                    op.responses
                        .responses
                        .entry("200".to_string())
                        .or_insert(RefOr::T(r));
                    // With `?wait=true`, an operation that failed answers its error's status
                    // with the operation as the body.
                    op.responses
                        .responses
                        .entry("default".to_string())
                        .or_insert_with(|| RefOr::T(long_error.clone()));
                }
                op.responses
                    .responses
                    .entry("default".to_string())
                    .or_insert_with(|| RefOr::T(error.clone()));
                describe_responses(op);
            }
        }
    }
}

/// Gives every response a description (the document requires one): what the status means,
/// and the body's schema when there is one.
fn describe_responses(op: &mut Operation) {
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if !response.description.trim().is_empty() {
            continue;
        }
        let meaning = match status.as_str() {
            "200" => "OK",
            "201" => "Created",
            "202" => "Started: the operation",
            "204" => "Done; no body",
            "206" => "The range asked for",
            "304" => "Not modified since the ETag given",
            _ => "The answer",
        };
        let body = response
            .content
            .values()
            .next()
            .and_then(|c| match c {
                RefOr::T(c) => c.schema.as_ref(),
                RefOr::Ref(_) => None,
            })
            .and_then(schema_name);
        response.description = match body {
            Some(name) => format!("{meaning}: {name}"),
            None => meaning.to_string(),
        };
    }
}

/// A schema's name for people: `Project`, `Project[]`, or its type.
fn schema_name(schema: &RefOr<utoipa::openapi::schema::Schema>) -> Option<String> {
    use utoipa::openapi::schema::{ArrayItems, Schema};
    match schema {
        RefOr::Ref(r) => r.ref_location.rsplit('/').next().map(str::to_string),
        RefOr::T(Schema::Array(a)) => match &a.items {
            ArrayItems::RefOrSchema(item) => schema_name(item).map(|n| format!("{n}[]")),
            ArrayItems::False => None,
        },
        _ => None,
    }
}

/// The OpenAPI document of the routes `routes` documents, as pretty JSON (what
/// `docs/api/openapi.json` holds).
pub(crate) fn document(routes: utoipa::openapi::OpenApi) -> String {
    let mut api = ApiDoc::openapi();
    api.merge(routes);
    Security.modify(&mut api);
    let mut doc = serde_json::to_value(api).expect("the OpenAPI document serializes");
    finish(&mut doc);
    serde_json::to_string_pretty(&doc).expect("the OpenAPI document serializes") + "\n"
}

/// What the annotations cannot say, said over the whole document: tagged unions as generators
/// read them, objects closed to fields they do not list, binary bodies as binary, the
/// headers the server reads and writes, and the typed result of each long operation.
fn finish(doc: &mut Value) {
    name_call_bodies(doc);
    flatten_tagged_unions(doc);
    close_objects(doc);
    // A sample is a percentage (utoipa cannot bound a tuple variant's field).
    if let Some(variants) = doc["components"]["schemas"]["VerifyMode"]["oneOf"].as_array_mut() {
        for sample in variants
            .iter_mut()
            .filter_map(|v| v.pointer_mut("/properties/sample"))
        {
            sample["minimum"] = json!(1);
            sample["maximum"] = json!(100);
        }
    }
    // Relative to where the document is served: the `kura serve` that serves it.
    doc["servers"] =
        json!([{ "url": "/", "description": "the `kura serve` that serves this document" }]);
    let mut results = BTreeSet::new();
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if op["parameters"].as_array().is_some_and(Vec::is_empty) {
                op.as_object_mut().map(|op| op.remove("parameters"));
            }
            describe_path_params(path, op);
            document_scope(op);
            document_headers(path, method, op);
            binary_bodies(op);
            if let Some(result) = typed_result(op) {
                results.insert(result);
            }
        }
    }
    for result in results {
        let operation = result_operation(&doc["components"]["schemas"]["Operation"], &result);
        doc["components"]["schemas"][operation_of(&result)] = operation;
    }
}

/// What the path parameters the routes share name, said once: a project's `{id}` takes its id
/// or its name, a backup target's `{target}` its name, and so on.
fn describe_path_params(path: &str, op: &mut Value) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for param in params.iter_mut().filter(|p| p["in"] == "path") {
        if param.get("description").is_some() {
            continue;
        }
        let description = match param["name"].as_str() {
            Some("id") if path.starts_with("/v1/projects/{id}") => "The project's id or name.",
            Some("id") if path.starts_with("/v1/operations/") => "The operation's id.",
            Some("target") => "The backup target's name.",
            Some("backup") => "The backup's id (as the list of backups gives it).",
            Some("archive") => "An archive's id, or the archived project's id or name.",
            Some("name") if path.starts_with("/v1/workspaces/") => "The workspace's name.",
            Some("collection") => "The collection of records.",
            Some("key") => "The record's key in its collection.",
            Some("path") => "The file, relative to the project folder (slashes as they are).",
            _ => continue,
        };
        param["description"] = json!(description);
    }
}

/// The JSON bodies the calls' routes write (`routes::calls`) are named as utoipa names a
/// module's struct, `rename_workspace.Body`; here they take the operation's name, as a
/// generated client would name them: `RenameWorkspaceBody`.
fn name_call_bodies(doc: &mut Value) {
    let Some(schemas) = doc["components"]["schemas"].as_object_mut() else {
        return;
    };
    let bodies: Vec<String> = schemas
        .keys()
        .filter(|name| name.ends_with(".Body"))
        .cloned()
        .collect();
    let mut renamed = Vec::new();
    for old in bodies {
        let call = old.trim_end_matches(".Body");
        let id = kura_api::declare::camel_case(call);
        let new = format!("{}{}Body", id[..1].to_uppercase(), &id[1..]);
        let mut schema = schemas.remove(&old).expect("listed above");
        schema["description"] = json!(format!("The JSON body of `{id}`."));
        schemas.insert(new.clone(), schema);
        renamed.push((old, new));
    }
    let mut text = doc.to_string();
    for (old, new) in renamed {
        text = text.replace(
            &format!("\"#/components/schemas/{old}\""),
            &format!("\"#/components/schemas/{new}\""),
        );
    }
    *doc = serde_json::from_str(&text).expect("the document is JSON");
}

/// The scope a token (or a session) needs for the operation, as the service declares it
/// (`Declared::access`; the server refuses less with 403): the role its security requirements
/// name, as OpenAPI 3.1 lets a bearer scheme name roles. The public operations keep their empty
/// requirement.
fn document_scope(op: &mut Value) {
    let public = op["security"].as_array().is_some_and(|s| {
        s.iter()
            .any(|r| r.as_object().is_some_and(|r| r.is_empty()))
    });
    let Some(d) = op["operationId"].as_str().and_then(|id| {
        kura_api::catalog::OPERATIONS
            .iter()
            .find(|d| d.operation_id() == id)
    }) else {
        return;
    };
    if public {
        return;
    }
    let scope = crate::guard::scope_for(d.dry_run_access()).as_str();
    op["security"] = json!([{ "bearer": [scope] }, { "session": [scope] }]);
    let mut needs = format!("Needs a token of scope `{scope}` or more.");
    if d.dry_run {
        needs.push_str(" A run that is not a dry run needs `admin`.");
    }
    op["description"] = match op["description"].as_str() {
        Some(text) if !text.is_empty() => Value::from(format!("{text}\n\n{needs}")),
        _ => Value::from(needs),
    };
}

/// What a long operation produces, as its 202 says (`started; result: SnapshotReport`).
fn result_of(op: &Value) -> Option<String> {
    op["responses"]["202"]["description"]
        .as_str()?
        .strip_prefix("started; result: ")
        .map(str::to_string)
}

/// The name of the finished operation that carries `result`: `SnapshotReportOperation`,
/// `SnapshotReportListOperation` for `SnapshotReport[]`.
fn operation_of(result: &str) -> String {
    match result.strip_suffix("[]") {
        Some(item) => format!("{item}ListOperation"),
        None => format!("{result}Operation"),
    }
}

/// The answer of a long operation waited for (`?wait=true`, 200) is the finished operation with
/// its result typed, so that a generated client reads the result as what it is; returns it.
fn typed_result(op: &mut Value) -> Option<String> {
    let result = result_of(op)?;
    let finished = op["responses"].get_mut("200")?;
    finished["description"] = json!(format!(
        "finished (?wait=true): the operation, with its result: {result}"
    ));
    finished["content"]["application/json"]["schema"] =
        json!({ "$ref": format!("#/components/schemas/{}", operation_of(&result)) });
    Some(result)
}

/// `Operation` with its `result` required and of the type `result`.
fn result_operation(operation: &Value, result: &str) -> Value {
    let reference = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    let schema = match result.strip_suffix("[]") {
        Some(item) => json!({ "type": "array", "items": reference(item) }),
        None => reference(result),
    };
    let mut finished = operation.clone();
    finished["description"] = json!(format!(
        "A long operation that finished, with its result ({result})."
    ));
    finished["properties"]["result"] = schema;
    if let Some(required) = finished["required"].as_array_mut() {
        required.push(json!("result"));
    }
    finished
}

/// One server-sent event of `/v1/events` as the stream carries it: its `id`, its `event` type
/// and its `data`, the JSON of an `event` (or of a `gap` or `reset`), as OpenAPI 3.2 describes
/// an event stream's items.
fn sse_message(event: Value) -> Value {
    json!({
        "type": "object",
        "description": "One server-sent event: `id:` the event id, `event:` its type, `data:` its JSON.",
        "properties": {
            "id": { "type": "string", "description": "The event id (send it back as `Last-Event-ID` to resume)." },
            "event": { "type": "string", "description": "The event's type (`vault.changed`, `operation.progress`, ...), or `gap` or `reset`." },
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {
                    "anyOf": [
                        event,
                        {
                            "type": "object",
                            "description": "`gap`: the events after `since` were pruned from the log before they were read.",
                            "properties": { "since": { "type": "integer", "format": "int64" } },
                            "required": ["since"]
                        },
                        {
                            "type": "object",
                            "description": "`reset`: `since` is past the log's end `last_id` (an id of another vault, or a log since reset); start over from `last_id`.",
                            "properties": {
                                "since": { "type": "integer", "format": "int64" },
                                "last_id": { "type": "integer", "format": "int64" }
                            },
                            "required": ["since", "last_id"]
                        }
                    ]
                }
            }
        },
        "required": ["data"]
    })
}

/// A header parameter.
fn header_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "header", "required": false, "description": description, "schema": { "type": "string" } })
}

/// A header parameter whose value matches `pattern` (the server refuses others with 422).
fn header_param_matching(name: &str, description: &str, pattern: &str) -> Value {
    let mut param = header_param(name, description);
    param["schema"]["pattern"] = json!(pattern);
    param
}

/// A response header.
fn header(description: &str) -> Value {
    json!({ "description": description, "schema": { "type": "string" } })
}

/// Adds the response header `name` to `op`'s response `status`, when it has that response.
fn add_response_header(op: &mut Value, status: &str, name: &str, description: &str) {
    let response = op.get_mut("responses").and_then(|r| r.get_mut(status));
    if let Some(r) = response.and_then(Value::as_object_mut) {
        let headers = r.entry("headers").or_insert_with(|| json!({}));
        headers[name] = header(description);
    }
}

/// The headers the server reads and writes on `method path`: those of every long operation,
/// the CSRF header of a write from a browser session, then those of single routes.
fn document_headers(path: &str, method: &str, op: &mut Value) {
    let mut params = long_operation_headers(op);
    if method != "get" && method != "head" {
        params.push(header_param(
            "X-Kura-CSRF",
            "With a browser session (the `kura_session` cookie) only: the value of the `kura_csrf` cookie. Not needed with a bearer token.",
        ));
    }
    params.extend(route_headers(path, method, op));
    if params.is_empty() {
        return;
    }
    let list = op
        .as_object_mut()
        .map(|o| o.entry("parameters").or_insert_with(|| json!([])));
    if let Some(Value::Array(list)) = list {
        list.extend(params);
    }
}

/// A long operation's (one that answers 202): the idempotency key and the operation id it
/// takes, and the `Location` of the operation it answers.
fn long_operation_headers(op: &mut Value) -> Vec<Value> {
    if op.get("responses").and_then(|r| r.get("202")).is_none() {
        return Vec::new();
    }
    add_response_header(
        op,
        "202",
        "Location",
        "The operation's URL: `/v1/operations/{id}`.",
    );
    vec![
        header_param(
            "Idempotency-Key",
            "Makes the request safe to retry: a second request with the same key (within a day) answers the first one's operation instead of starting another. A key stands for one request: the same key with another method, path, query or body is refused (409 `conflict`).",
        ),
        header_param_matching(
            "Kura-Operation-Id",
            "The id the operation gets (1 to 64 letters, digits, `-`, `_` and `.`); a request reusing a running operation's id answers that operation.",
            "^[A-Za-z0-9._-]{1,64}$",
        ),
    ]
}

/// The header parameters of single routes (ranges of a file, a record's ETag), with the
/// response headers and bodies that go with them. A table: one arm per route.
fn route_headers(path: &str, method: &str, op: &mut Value) -> Vec<Value> {
    match (method, path) {
        ("get", "/v1/projects/{id}/files/{path}") => {
            add_response_header(op, "206", "Content-Range", "`bytes START-END/SIZE`");
            add_response_header(op, "200", "Accept-Ranges", "`bytes`");
            vec![header_param(
                "Range",
                "`bytes=START-END` (one range): answers 206 with that part.",
            )]
        }
        ("put", "/v1/projects/{id}/files/{path}") => {
            // No body is an empty file.
            if let Some(body) = op.get_mut("requestBody").and_then(Value::as_object_mut) {
                body.insert("required".into(), json!(false));
                body.insert(
                    "description".into(),
                    json!("The file's whole new content, as raw bytes (none: an empty file)."),
                );
            }
            Vec::new()
        }
        ("get", "/v1/projects/{id}/records/{collection}/{key}")
        | ("get", "/v1/records/{collection}/{key}") => {
            add_response_header(
                op,
                "200",
                "ETag",
                "The record's revision, for `If-Match` and `If-None-Match`.",
            );
            vec![header_param(
                "If-None-Match",
                "The record's ETag: answers 304 while the record is unchanged.",
            )]
        }
        ("put", "/v1/projects/{id}/records/{collection}/{key}")
        | ("put", "/v1/records/{collection}/{key}") => {
            add_response_header(op, "200", "ETag", "The record's new revision.");
            vec![
                header_param_matching(
                    "If-Match",
                    "The ETag of the revision read (`\"42\"`): the write is refused with 409 when the record changed since.",
                    "^\\s*(W/)?\"?[0-9]+\"?\\s*$",
                ),
                header_param_matching(
                    "If-None-Match",
                    "`*`: the write is refused with 409 when the record exists.",
                    "^\\*$",
                ),
            ]
        }
        ("get", "/v1/projects/{id}/export.tar.zst") => {
            add_response_header(
                op,
                "200",
                "Content-Disposition",
                "`attachment; filename=\"<project>-<version>.tar.zst\"`",
            );
            Vec::new()
        }
        ("get", "/v1/events") => {
            event_stream_bodies(op);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// `GET /v1/events` answers its events as NDJSON (`?format=ndjson`, one JSON object a line)
/// and as Server-Sent Events too.
fn event_stream_bodies(op: &mut Value) {
    let ok = op.get_mut("responses").and_then(|r| r.get_mut("200"));
    if let Some(content) = ok
        .and_then(|r| r.get_mut("content"))
        .and_then(Value::as_object_mut)
    {
        if let Some(schema) = content
            .values()
            .next()
            .and_then(|c| c.get("schema"))
            .cloned()
        {
            content.insert("application/x-ndjson".into(), json!({ "schema": schema }));
            content.insert(
                "text/event-stream".into(),
                json!({ "schema": sse_message(schema) }),
            );
        }
    }
}

/// Bodies that are bytes, not JSON or text: `type: string, format: binary`, so that generated
/// clients send and read bytes.
fn binary_bodies(op: &mut Value) {
    fn in_content(content: Option<&mut serde_json::Map<String, Value>>) {
        for (media, body) in content.into_iter().flatten() {
            let bytes = matches!(
                media.as_str(),
                "application/octet-stream"
                    | "application/zstd"
                    | "application/gzip"
                    | "application/zip"
            );
            if bytes {
                body["schema"] = json!({ "type": "string", "format": "binary" });
            }
        }
    }
    // (`get_mut`, not indexing: indexing a Value for writing adds what is missing.)
    in_content(
        op.get_mut("requestBody")
            .and_then(|b| b.get_mut("content"))
            .and_then(Value::as_object_mut),
    );
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        for r in responses.values_mut() {
            in_content(r.get_mut("content").and_then(Value::as_object_mut));
        }
    }
}

/// serde's internally tagged enums (`{"op": "put", ...fields}`) come out of utoipa as `oneOf`
/// of `allOf: [{$ref}, {the tag}]`, which common generators cannot read: each variant becomes a
/// schema of its own (`<Union><Tag>`, the variant's fields and the tag), and the union a `oneOf`
/// of those with a `discriminator`.
fn flatten_tagged_unions(doc: &mut Value) {
    let Some(schemas) = doc["components"]["schemas"].as_object().cloned() else {
        return;
    };
    let mut added = serde_json::Map::new();
    let mut replaced = serde_json::Map::new();
    for (name, schema) in &schemas {
        let Some(variants) = schema["oneOf"].as_array() else {
            continue;
        };
        let mut refs = Vec::new();
        let mut mapping = serde_json::Map::new();
        let mut tag_name = None;
        for v in variants {
            let Some([base, tag]) = v["allOf"]
                .as_array()
                .map(Vec::as_slice)
                .and_then(|a| <&[Value; 2]>::try_from(a).ok())
            else {
                break;
            };
            let Some(base_name) = base["$ref"].as_str().and_then(|r| r.rsplit('/').next()) else {
                break;
            };
            let Some((tag_key, tag_schema)) =
                tag["properties"].as_object().and_then(|p| p.iter().next())
            else {
                break;
            };
            let Some(tag_value) = tag_schema["enum"][0].as_str() else {
                break;
            };
            let Some(base_schema) = schemas.get(base_name) else {
                break;
            };
            let mut flat = base_schema.clone();
            flat["properties"][tag_key] = tag_schema.clone();
            let required = flat
                .as_object_mut()
                .map(|o| o.entry("required").or_insert_with(|| json!([])));
            if let Some(Value::Array(required)) = required {
                required.push(json!(tag_key));
            }
            let variant = format!("{name}{}", upper_first(tag_value));
            let reference = format!("#/components/schemas/{variant}");
            mapping.insert(tag_value.to_string(), json!(reference));
            refs.push(json!({ "$ref": reference }));
            added.insert(variant, flat);
            tag_name = Some(tag_key.clone());
        }
        let (Some(tag), true) = (tag_name, refs.len() == variants.len()) else {
            continue;
        };
        let mut union = schema.clone();
        union["oneOf"] = Value::Array(refs);
        union["discriminator"] = json!({ "propertyName": tag, "mapping": mapping });
        replaced.insert(name.clone(), union);
    }
    if let Some(out) = doc["components"]["schemas"].as_object_mut() {
        out.extend(replaced);
        out.extend(added);
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Every object the document describes is closed (`kura_api::schema::close_objects`): the named
/// schemas, and those written in a request or response body.
fn close_objects(doc: &mut Value) {
    for schema in doc["components"]["schemas"]
        .as_object_mut()
        .into_iter()
        .flat_map(|schemas| schemas.values_mut())
    {
        kura_api::schema::close_objects(schema);
    }
    let ops = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(Value::as_object_mut);
    for op in ops {
        let mut bodies: Vec<&mut Value> = Vec::new();
        for (key, value) in op.iter_mut() {
            match key.as_str() {
                "requestBody" => bodies.push(value),
                "responses" => bodies.extend(
                    value
                        .as_object_mut()
                        .into_iter()
                        .flat_map(|r| r.values_mut()),
                ),
                _ => {}
            }
        }
        let schemas = bodies
            .into_iter()
            .filter_map(|body| body.get_mut("content").and_then(Value::as_object_mut))
            .flat_map(|content| content.values_mut())
            .filter_map(|media| media.get_mut("schema"));
        for schema in schemas {
            kura_api::schema::close_objects(schema);
        }
    }
}
