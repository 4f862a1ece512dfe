//! Records: JSON documents under keys that an agent keeps beside a project's files (notes, task
//! lists, decisions), or for the vault; get, put, delete, batches and queries.

use kura_api::calls;
use kura_core::{CollectionSettings, RecordDelete, RecordOp, RecordPut, RecordQuery};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::reply::{blocking, tool_error, Reply};
use crate::server::KuraMcp;

/// A field present in the arguments, even as `null`, is `Some` (so `"eq": null` finds nulls).
#[derive(Deserialize, ToSchema)]
pub(crate) struct Scope {
    /// The project (name or id) whose records these are; leave out for the vault's own records.
    #[serde(default)]
    pub project: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct GetRecord {
    /// The project (name or id); leave out for the vault's own records.
    #[serde(default)]
    pub project: Option<String>,
    /// The collection (letters, digits, `_`, `-`, `.`), e.g. "tasks", "notes", "decisions".
    pub collection: String,
    pub key: String,
}

/// A record to write, in a project's records or the vault's.
#[derive(Deserialize, ToSchema)]
pub(crate) struct PutRecord {
    /// The project (name or id); leave out for the vault's own records.
    #[serde(default)]
    pub project: Option<String>,
    #[serde(flatten)]
    pub put: RecordPut,
}

/// A record to delete, in a project's records or the vault's.
#[derive(Deserialize, ToSchema)]
pub(crate) struct DeleteRecord {
    /// The project (name or id); leave out for the vault's own records.
    #[serde(default)]
    pub project: Option<String>,
    #[serde(flatten)]
    pub delete: RecordDelete,
}

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

/// A query of one collection, in a project's records or the vault's.
#[derive(Deserialize, ToSchema)]
pub(crate) struct QueryRecords {
    /// The project (name or id); leave out for the vault's own records.
    #[serde(default)]
    pub project: Option<String>,
    /// The collection.
    pub collection: String,
    #[serde(flatten)]
    pub query: RecordQuery,
}

/// A collection's settings, in a project's records or the vault's.
#[derive(Deserialize, ToSchema)]
pub(crate) struct SetCollection {
    /// The project (name or id); leave out for the vault's own records.
    #[serde(default)]
    pub project: Option<String>,
    /// The collection.
    pub collection: String,
    #[serde(flatten)]
    pub settings: CollectionSettings,
}

crate::output::inputs!(
    Scope,
    GetRecord,
    PutRecord,
    DeleteRecord,
    BatchRecords,
    QueryRecords,
    SetCollection
);

#[tool_router(router = record_tools, vis = "pub(crate)")]
impl KuraMcp {
    /// The collections of records of a project (or of the vault), with how many records each
    /// holds, the fields it indexes and whether a schema checks it.
    #[tool(output_schema = crate::output::schema(crate::output::object([("collections", crate::output::list(crate::output::of::<kura_core::CollectionInfo>()))])), annotations(title = "List record collections", read_only_hint = true))]
    async fn list_record_collections(&self, Parameters(p): Parameters<Scope>) -> Reply {
        blocking(&self.api, move |api| {
            Ok(json!({ "collections": calls::record_collections(api, p.project)? }))
        })
        .await
    }

    /// One record: its JSON `value`, its revision `rev` (pass it as `if_rev` to change it safely)
    /// and its times (ms since the epoch).
    #[tool(output_schema = crate::output::schema_of::<kura_core::Record>(), annotations(title = "Get a record", read_only_hint = true))]
    async fn get_record(&self, Parameters(p): Parameters<GetRecord>) -> Reply {
        blocking(&self.api, move |api| {
            calls::record_get(api, p.project, p.collection, p.key)
        })
        .await
    }

    /// Writes a JSON record under a key, to keep state beside a project: notes, task lists,
    /// decisions, settings. Use `if_rev` so that two agents never overwrite each other blindly.
    /// Returns the record with its new revision.
    #[tool(output_schema = crate::output::schema_of::<kura_core::Record>(), annotations(
        title = "Put a record",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true
    ))]
    async fn put_record(&self, Parameters(p): Parameters<PutRecord>) -> Reply {
        blocking(&self.api, move |api| {
            calls::record_put(api, p.project, p.put)
        })
        .await
    }

    /// DESTRUCTIVE. Deletes a record for good: records have no versions, so nothing brings it
    /// back.
    #[tool(output_schema = crate::output::schema_of::<kura_api::Deleted>(), annotations(
        title = "Delete a record",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true
    ))]
    async fn delete_record(&self, Parameters(p): Parameters<DeleteRecord>) -> Reply {
        blocking(&self.api, move |api| {
            Ok(json!(calls::record_delete(api, p.project, p.delete)?))
        })
        .await
    }

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

    /// Finds records by their fields: equality, ranges, prefixes and existence, sorted, a page
    /// at a time (follow `next` as `cursor`). Without conditions it lists the collection by key.
    #[tool(output_schema = crate::output::schema_of::<kura_core::RecordPage>(), annotations(title = "Query records", read_only_hint = true))]
    async fn query_records(&self, Parameters(p): Parameters<QueryRecords>) -> Reply {
        blocking(&self.api, move |api| {
            calls::record_query(api, p.project, p.collection, p.query)
        })
        .await
    }

    /// Sets the fields a collection indexes and the JSON Schema its records must match (refused
    /// when a record already in it does not).
    #[tool(output_schema = crate::output::schema_of::<kura_core::CollectionInfo>(), annotations(
        title = "Set up a record collection",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true
    ))]
    async fn set_record_collection(&self, Parameters(p): Parameters<SetCollection>) -> Reply {
        blocking(&self.api, move |api| {
            calls::record_configure(api, p.project, p.collection, p.settings)
        })
        .await
    }
}
