//! Records: JSON documents under keys that an agent keeps beside a project's files (notes, task
//! lists, decisions), or for the vault; get, put, delete, batches and queries.

use kura_core::RecordOp;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::reply::{blocking, tool_error, Reply};
use crate::server::KuraMcp;

#[derive(Deserialize, ToSchema)]
pub(crate) struct BatchRecords {
    /// The project (name or id); leave out for the vault's own records.
    #[serde(default)]
    pub project: Option<String>,
    /// Operations applied together, all or none:
    /// `{"op": "put", "collection", "key", "value", "if_rev"?, "ttl_secs"?}` or
    /// `{"op": "delete", "collection", "key", "if_rev"?}`.
    pub ops: Vec<Value>,
}

crate::output::inputs!(BatchRecords);

#[tool_router(router = record_tools, vis = "pub(crate)")]
impl KuraMcp {
    /// Applies many puts (and, with --allow-destructive, deletes) in one transaction: all of
    /// them or, when one fails, none. Returns each record's new revision.
    #[tool(output_schema = crate::output::schema(crate::output::object([("results", crate::output::list(crate::output::of::<kura_core::RecordOpResult>()))])), annotations(
        title = "Write records together",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false
    ))]
    async fn batch_records(&self, Parameters(p): Parameters<BatchRecords>) -> Reply {
        let ops: Vec<RecordOp> = match serde_json::from_value(Value::Array(p.ops)) {
            Ok(ops) => ops,
            Err(e) => {
                return Ok(tool_error(
                    "invalid_input",
                    &format!("the operations are not puts and deletes: {e}"),
                ))
            }
        };
        if !self.allows_destructive() && ops.iter().any(|o| matches!(o, RecordOp::Delete(_))) {
            return Ok(tool_error(
                "forbidden",
                "this batch deletes records, and this server was started without \
                 --allow-destructive; send only puts, or ask the user to restart `kura mcp \
                 --allow-destructive`",
            ));
        }
        blocking(&self.api, move |api| {
            Ok(json!({ "results": api.record_batch(p.project.as_deref(), ops)? }))
        })
        .await
    }
}
