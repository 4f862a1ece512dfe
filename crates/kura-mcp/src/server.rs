//! The MCP server: its tools and what this session allows.

use std::sync::Arc;

use kura_api::catalog::Effect;
use kura_api::Api;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CustomRequest, CustomResult, Implementation,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool_handler, ErrorData, RoleServer, ServerHandler};

use crate::options::Options;
use crate::reply::tool_error;

/// Why a session with `options` refuses tool `name`, from the effect the service declares for
/// the operations the tool carries out (`kura_api::catalog`), or `None` when it may run. A tool
/// the catalog does not know counts as destructive (a test keeps every tool in the catalog).
fn refusal(options: &Options, name: &str) -> Option<String> {
    let effect = kura_api::catalog::of_tool(name)
        .map(|d| d.effect)
        .max()
        .unwrap_or(Effect::Destroys);
    if options.read_only && effect != Effect::Reads {
        return Some(format!(
            "'{name}' changes the vault, and this server was started with --read-only; \
             ask the user to restart `kura mcp` without --read-only to allow changes"
        ));
    }
    if effect == Effect::Destroys && !options.allow_destructive {
        return Some(format!(
            "'{name}' is destructive (it can overwrite or remove files that no version \
             holds yet), and this server was started without --allow-destructive; ask the \
             user to restart `kura mcp --allow-destructive` to allow it, or do without it"
        ));
    }
    None
}

/// The MCP server over one vault.
#[derive(Clone)]
pub struct KuraMcp {
    pub(crate) api: Arc<Api>,
    options: Options,
    /// The tools this session allows (the others are disabled: not listed, not called).
    tool_router: ToolRouter<KuraMcp>,
    /// Why each tool this session refuses is refused, by name (sorted).
    refused: std::collections::BTreeMap<String, String>,
}

impl KuraMcp {
    /// The server over `api`'s vault, allowing what `options` says. The tools `options` refuse
    /// are hidden from `tools/list` (an agent spends no context or retries on them); the
    /// instructions name them and say why.
    pub fn new(api: Arc<Api>, options: Options) -> KuraMcp {
        api.vault().set_door(kura_core::Trigger::Mcp);
        let mut tool_router = KuraMcp::all_tools();
        let refused: std::collections::BTreeMap<String, String> = tool_router
            .list_all()
            .iter()
            .filter_map(|tool| {
                refusal(&options, &tool.name).map(|why| (tool.name.to_string(), why))
            })
            .collect();
        for name in refused.keys() {
            tool_router.disable_route(name.clone());
        }
        // A call with an argument its tool does not take is refused (`unknown_argument`), the
        // rule of `kura_api::schema`.
        for route in tool_router.map.values_mut() {
            std::sync::Arc::make_mut(&mut route.attr.input_schema).insert(
                "additionalProperties".into(),
                serde_json::Value::Bool(false),
            );
        }
        KuraMcp {
            api,
            options,
            tool_router,
            refused,
        }
    }

    /// Every tool, before this session's options hide any.
    pub(crate) fn all_tools() -> ToolRouter<KuraMcp> {
        KuraMcp::vault_tools()
            + KuraMcp::project_tools()
            + KuraMcp::file_tools()
            + KuraMcp::history_tools()
            + KuraMcp::backup_tools()
            + KuraMcp::record_tools()
            + KuraMcp::share_tools()
            + crate::tools::calls::call_tools()
    }

    /// Whether this session allows destructive work (a batch of records that deletes some).
    pub(crate) fn allows_destructive(&self) -> bool {
        self.options.allow_destructive && !self.options.read_only
    }

    /// Why a call is refused for an argument its tool does not take, naming the ones it does:
    /// a misspelt argument (`force` for `hard`) is not dropped in silence, the same rule the HTTP
    /// door has for a body's fields. The input schemas say so with `additionalProperties: false`.
    fn unknown_argument(&self, request: &CallToolRequestParams) -> Option<String> {
        let tool = self.tool_router.get(request.name.as_ref())?;
        let takes = tool
            .input_schema
            .get("properties")
            .and_then(|p| p.as_object());
        let unknown = request
            .arguments
            .iter()
            .flat_map(|args| args.keys())
            .find(|name| !takes.is_some_and(|t| t.contains_key(name.as_str())))?;
        let names: Vec<&str> = takes
            .into_iter()
            .flat_map(|t| t.keys())
            .map(String::as_str)
            .collect();
        Some(if names.is_empty() {
            format!("{} takes no arguments; `{unknown}` was given", tool.name)
        } else {
            format!(
                "{} takes no argument `{unknown}`; it takes: {}",
                tool.name,
                names.join(", ")
            )
        })
    }

    fn instructions(&self) -> String {
        let hidden = self
            .refused
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let mode = if self.options.read_only {
            format!(
                "This session is read-only (the user started `kura mcp --read-only`): the tools \
                 that change anything are not listed ({hidden})."
            )
        } else if self.options.allow_destructive {
            "Destructive tools are enabled in this session; a restore still keeps the current \
             state as a version first."
                .to_string()
        } else {
            format!(
                "Destructive tools are not listed in this session ({hidden}), and batches that \
                 delete records are refused: the user did not pass --allow-destructive."
            )
        };
        format!(
            "Kura is a local-first vault of software projects; each project has a working folder \
             and a history of versions (snapshots). Name a project by its name or id (see \
             list_projects); name a version by its id, a unique prefix of it, `latest` or \
             `latest~N`; file paths are relative to the project folder, with `/`. Files saved \
             with save_file are in the working folder only until you call snapshot, which records \
             a version you can diff against and restore. Errors come back as tool errors with a \
             `code` (not_found, invalid_input, path_escape, conflict, ...) and a message saying \
             what to do. Records (put_record, query_records, ...) keep JSON state beside a \
             project (notes, task lists, decisions) or for the vault; write with `if_rev` so \
             that two agents never overwrite each other. {mode}"
        )
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for KuraMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("kura", env!("CARGO_PKG_VERSION")).with_title("Kura vault"),
            )
            .with_instructions(self.instructions())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // A client that calls a hidden tool anyway learns why it is refused.
        if let Some(message) = self.refused.get(request.name.as_ref()) {
            return Ok(tool_error("forbidden", message).into());
        }
        if let Some(message) = self.unknown_argument(&request) {
            return Ok(tool_error("invalid_input", &message).into());
        }
        let call = ToolCallContext::new(self, request, context);
        self.tool_router.call(call).await
    }

    /// A method MCP does not define: rmcp's own answer has only the method's name (empty for
    /// an empty method) as its message.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        Err(ErrorData::new(
            rmcp::model::ErrorCode::METHOD_NOT_FOUND,
            format!(
                "no method '{}' in Kura's MCP server; it serves tools (tools/list, tools/call)",
                request.method
            ),
            Some(serde_json::json!({ "method": request.method })),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kura_api::catalog::OPERATIONS;

    /// Every tool carries out declared operations (`kura_api::catalog`), every operation the
    /// catalog gives the MCP door is a tool, and each tool's annotations say what the catalog
    /// says it does, since clients read them.
    #[test]
    fn the_tools_are_the_declared_operations() {
        let router = KuraMcp::all_tools();
        let tools = router.list_all();
        for tool in &tools {
            let effects: Vec<Effect> = kura_api::catalog::of_tool(&tool.name)
                .map(|d| d.effect)
                .collect();
            assert!(
                !effects.is_empty(),
                "tool {} is in no declaration",
                tool.name
            );
            let effect = effects.into_iter().max().unwrap();
            let a = tool.annotations.clone().unwrap_or_default();
            assert_eq!(
                a.read_only_hint == Some(true),
                effect == Effect::Reads,
                "{}: readOnlyHint disagrees with the declared {effect:?}",
                tool.name
            );
            if effect != Effect::Reads {
                assert_eq!(
                    a.destructive_hint != Some(false),
                    effect == Effect::Destroys,
                    "{}: destructiveHint disagrees with the declared {effect:?}",
                    tool.name
                );
            }
        }
        for d in OPERATIONS {
            for name in d.mcp.names() {
                assert!(
                    tools.iter().any(|t| t.name == *name),
                    "{} is declared as the tool {name}, which does not exist",
                    d.name
                );
            }
        }
    }

    /// The tools describe their arguments and results with the schemas the HTTP door's OpenAPI
    /// document is made of: every schema stands alone (each `$ref` names one of its own
    /// `$defs`), and a type the document also describes is described the same way here.
    #[test]
    fn the_tools_describe_types_as_the_openapi_document_does() {
        let document: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/api/openapi.json"
        )))
        .unwrap();
        let mut components = document["components"]["schemas"].clone();
        crate::output::retarget(&mut components);
        let mut shared = 0;
        for tool in KuraMcp::all_tools().list_all() {
            // Arguments that take in a type of the engine are one object all the same.
            assert!(
                tool.input_schema.get("allOf").is_none()
                    && tool.input_schema.get("properties").is_some(),
                "{}: its arguments are not one object: {:?}",
                tool.name,
                tool.input_schema
            );
            let schemas = [Some(tool.input_schema.clone()), tool.output_schema.clone()];
            for schema in schemas.into_iter().flatten() {
                let schema = serde_json::Value::Object((*schema).clone());
                assert_eq!(schema["type"], "object", "{}: {schema}", tool.name);
                let defs = schema.get("$defs").cloned().unwrap_or_default();
                for r in refs(&schema) {
                    let name = r.strip_prefix("#/$defs/").unwrap_or(&r);
                    assert!(
                        defs.get(name).is_some(),
                        "{}: {r} is not in the schema's $defs",
                        tool.name
                    );
                }
                for (name, def) in defs.as_object().into_iter().flatten() {
                    if let Some(component) = components.get(name) {
                        assert_eq!(
                            def, component,
                            "{}: {name} is not described as in the OpenAPI document",
                            tool.name
                        );
                        shared += 1;
                    }
                }
            }
        }
        assert!(shared > 50, "only {shared} types are shared");
    }

    /// A tool's arguments that take in a type of the engine read as that type, beside the
    /// project they name, and its schema says so: the type's fields, the type's required ones.
    #[test]
    fn arguments_that_take_in_an_engine_type_read_and_describe_it() {
        use crate::tools::calls::record_put::Arguments as PutRecord;
        let put: PutRecord = serde_json::from_value(serde_json::json!({
            "project": "site", "collection": "tasks", "key": "t1", "value": {"state": "open"}, "if_rev": 0
        }))
        .unwrap();
        assert_eq!(
            (put.project.as_deref(), put.put.key.as_str(), put.put.if_rev),
            (Some("site"), "t1", Some(0))
        );
        // A tool written from its call's entry: the call's `id`, named `project`, and its
        // `#[body] options` flattened.
        let share: crate::tools::calls::share_project::Arguments =
            serde_json::from_value(serde_json::json!({
                "project": "site", "target": "s3", "expires": "1d"
            }))
            .unwrap();
        assert_eq!(
            (share.project.as_str(), share.options.target.as_str()),
            ("site", "s3")
        );
        let tools = KuraMcp::all_tools().list_all();
        let put = tools.iter().find(|t| t.name == "put_record").unwrap();
        let properties: Vec<&String> = put.input_schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(
            properties,
            [
                "collection",
                "if_rev",
                "key",
                "project",
                "ttl_secs",
                "value"
            ]
        );
        assert_eq!(
            put.input_schema["required"],
            serde_json::json!(["collection", "key", "value"])
        );
        assert!(
            put.input_schema.get("$defs").is_none(),
            "{:?}",
            put.input_schema
        );
    }

    fn refs(v: &serde_json::Value) -> Vec<String> {
        match v {
            serde_json::Value::Object(o) => o
                .iter()
                .flat_map(|(k, child)| match (k.as_str(), child.as_str()) {
                    ("$ref", Some(r)) => vec![r.to_string()],
                    _ => refs(child),
                })
                .collect(),
            serde_json::Value::Array(a) => a.iter().flat_map(refs).collect(),
            _ => Vec::new(),
        }
    }
}
