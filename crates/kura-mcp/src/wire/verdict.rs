//! What to do with one line of the input: pass its message on to the MCP service, answer it with
//! a JSON-RPC error, or let it be (notifications, responses, blank lines).
//!
//! JSON-RPC 2.0 (§5.1, §6) says which error: `-32700 Parse error` for what is not JSON (and
//! bytes that are not UTF-8, which JSON on the wire must be), `-32600 Invalid Request` for JSON
//! that is not a request, `-32602 Invalid params` for a method MCP defines called with params
//! that do not fit it. A message over a limit gets `-32600` with `data.limit` naming the limit.
//! The error carries the request's id when it can be read, else `null`.

use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ErrorCode, JsonRpcMessage};
use serde_json::{json, Map, Value};

use super::scan::{is_whitespace, nests_deeper_than, recover_id};
use super::Limits;

/// What to do with a line.
pub(super) enum Verdict {
    /// A message for the MCP service.
    Pass(Box<ClientJsonRpcMessage>),
    /// An answer to write back (an error, or a batch of them).
    Answer(Value),
    /// Nothing to do, and why (for the log).
    Ignore(&'static str),
}

/// The requests MCP defines that a server answers; a request for one of them whose params
/// rmcp cannot read is one with invalid params, not an unknown method.
const MCP_REQUESTS: &[&str] = &[
    "initialize",
    "ping",
    "server/discover",
    "completion/complete",
    "logging/setLevel",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "resources/templates/list",
    "subscriptions/listen",
    "tools/call",
    "tools/list",
];

/// The verdict on `line` (without its `\n`).
pub(super) fn judge(line: &[u8], limits: &Limits) -> Verdict {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    if line.iter().all(|b| is_whitespace(*b)) {
        return Verdict::Ignore("a blank line");
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return Verdict::Answer(refusal(
            recover_id(line),
            ErrorCode::PARSE_ERROR,
            "the message is not UTF-8 text: MCP over stdio is JSON in UTF-8, one message a line"
                .into(),
            json!({"reason": "not_utf8"}),
        ));
    };
    let max_depth = limits.depth();
    if nests_deeper_than(line, max_depth) {
        return Verdict::Answer(refusal(
            recover_id(line),
            ErrorCode::INVALID_REQUEST,
            format!(
                "the message nests arrays and objects more than {max_depth} levels deep, over \
                 the limit of this server (`kura mcp --max-depth {max_depth}`); nothing of it \
                 was done. Send flatter JSON, or ask the user to restart `kura mcp` with a \
                 higher --max-depth"
            ),
            json!({"reason": "too_deep", "limit": "max_depth", "max": max_depth}),
        ));
    }
    if let Ok(message) = serde_json::from_str::<ClientJsonRpcMessage>(text) {
        return match message {
            JsonRpcMessage::Request(request) => match &request.request {
                ClientRequest::CustomRequest(custom)
                    if MCP_REQUESTS.contains(&custom.method.as_str()) =>
                {
                    let id = serde_json::to_value(&request.id).unwrap_or(Value::Null);
                    Verdict::Answer(invalid_params(id, &custom.method))
                }
                _ => Verdict::Pass(Box::new(JsonRpcMessage::Request(request))),
            },
            message => Verdict::Pass(Box::new(message)),
        };
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(message)) => not_a_message(&message),
        Ok(Value::Array(batch)) => refuse_batch(&batch),
        Ok(other) => Verdict::Answer(invalid_request(
            Value::Null,
            format!("a JSON-RPC message is an object, not {}", kind(&other)),
        )),
        Err(e) => Verdict::Answer(refusal(
            recover_id(line),
            ErrorCode::PARSE_ERROR,
            format!("the message is not JSON ({e}); nothing of it was done"),
            json!({"reason": "not_json"}),
        )),
    }
}

/// The answer to a line over [`Limits::max_line_bytes`], from its first bytes.
pub(super) fn too_long(start: &[u8], limits: &Limits) -> Value {
    let max = limits.max_line_bytes;
    refusal(
        recover_id(start),
        ErrorCode::INVALID_REQUEST,
        format!(
            "the message is longer than {max} bytes, the limit of this server (`kura mcp \
             --max-line-bytes {max}`); nothing of it was done. Send less in one message (a \
             smaller file), or ask the user to restart `kura mcp` with a higher \
             --max-line-bytes"
        ),
        json!({"reason": "too_long", "limit": "max_line_bytes", "max": max}),
    )
}

/// Why an object rmcp cannot read is not an MCP message, as the answer it gets (if any).
fn not_a_message(message: &Map<String, Value>) -> Verdict {
    let id = message.get("id");
    let answer_id = match id {
        Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
        _ => Value::Null,
    };
    if message.get("jsonrpc") != Some(&json!("2.0")) {
        return Verdict::Answer(invalid_request(
            answer_id,
            "the message has no \"jsonrpc\": \"2.0\"".into(),
        ));
    }
    let Some(method) = message.get("method") else {
        if message.contains_key("result") || message.contains_key("error") {
            // A response, to no request of this server's: nothing to answer, and answering
            // could start an endless exchange of errors.
            return Verdict::Ignore("a response to no request of ours");
        }
        return Verdict::Answer(invalid_request(
            answer_id,
            "the message has neither \"method\" (a request) nor \"result\" or \"error\" (a \
             response)"
                .into(),
        ));
    };
    let Value::String(method) = method else {
        return Verdict::Answer(invalid_request(
            answer_id,
            format!("\"method\" is {}, not a string", kind(method)),
        ));
    };
    if let Some(params) = message.get("params") {
        if !matches!(params, Value::Object(_) | Value::Array(_) | Value::Null) {
            return Verdict::Answer(invalid_request(
                answer_id,
                format!("\"params\" is {}, not an object or an array", kind(params)),
            ));
        }
    }
    match id {
        // A notification is never answered (JSON-RPC §4.1), even one that cannot be read.
        None => Verdict::Ignore("a notification rmcp cannot read"),
        Some(Value::String(_)) => Verdict::Answer(invalid_params(answer_id, method)),
        Some(Value::Number(n)) if n.is_i64() => Verdict::Answer(invalid_params(answer_id, method)),
        Some(other) => Verdict::Answer(invalid_request(
            answer_id,
            format!(
                "\"id\" is {}; an MCP request's id is a string or an integer from -2^63 to \
                 2^63-1",
                kind(other)
            ),
        )),
    }
}

/// JSON-RPC batches are not part of MCP since 2025-06-18, nor of rmcp: each request in one is
/// refused with its id (the answer is a batch too); notifications and responses get nothing.
fn refuse_batch(batch: &[Value]) -> Verdict {
    if batch.is_empty() {
        return Verdict::Answer(invalid_request(
            Value::Null,
            "an empty batch (and MCP has no batches)".into(),
        ));
    }
    let answers: Vec<Value> = batch
        .iter()
        .filter(|item| {
            let answered = |key| item.get(key).is_some();
            !(answered("result") || answered("error") || (answered("method") && !answered("id")))
        })
        .map(|item| {
            let id = match item.get("id") {
                Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
                _ => Value::Null,
            };
            refusal(
                id,
                ErrorCode::INVALID_REQUEST,
                "MCP has no JSON-RPC batches (since 2025-06-18): send each message on a line \
                 of its own"
                    .into(),
                json!({"reason": "batch"}),
            )
        })
        .collect();
    if answers.is_empty() {
        Verdict::Ignore("a batch of notifications and responses")
    } else {
        Verdict::Answer(Value::Array(answers))
    }
}

fn invalid_request(id: Value, why: String) -> Value {
    refusal(
        id,
        ErrorCode::INVALID_REQUEST,
        format!("not a valid JSON-RPC 2.0 request: {why}"),
        json!({"reason": "invalid_request"}),
    )
}

fn invalid_params(id: Value, method: &str) -> Value {
    refusal(
        id,
        ErrorCode::INVALID_PARAMS,
        format!(
            "the params of '{method}' are not what MCP defines for it (see the MCP schema); \
             nothing was done"
        ),
        json!({"reason": "invalid_params"}),
    )
}

/// A JSON-RPC error response.
fn refusal(id: impl Into<Option<Value>>, code: ErrorCode, message: String, data: Value) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id.into().unwrap_or(Value::Null),
        "error": {"code": code.0, "message": message, "data": data}
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
