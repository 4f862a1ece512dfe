//! Records: JSON documents under keys that an agent keeps beside a project's files (notes, task
//! lists, decisions), or for the vault; get, put, delete, batches and queries.

use kura_core::{CollectionSettings, RecordDelete, RecordFilter, RecordOp, RecordPut, RecordQuery};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::reply::{blocking, tool_error, Reply};
use crate::server::KuraMcp;

/// A field present in the arguments, even as `null`, is `Some` (so `"eq": null` finds nulls).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

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

#[derive(Deserialize, ToSchema)]
pub(crate) struct PutRecord {
    /// The project (name or id); leave out for the vault's own records.
    #[serde(default)]
    pub project: Option<String>,
    pub collection: String,
    pub key: String,
    /// The JSON document (at most 1 MiB).
    pub value: Value,
    /// Write only if the record is at this revision now (from get_record); 0: only if it does
    /// not exist yet. A `conflict` error means someone else changed it: read it again.
    #[serde(default)]
    pub if_rev: Option<u64>,
    /// Expire the record this many seconds after the write.
    #[serde(default)]
    pub ttl_secs: Option<u64>,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct DeleteRecord {
    /// The project (name or id); leave out for the vault's own records.
    #[serde(default)]
    pub project: Option<String>,
    pub collection: String,
    pub key: String,
    /// Delete only if the record is at this revision now.
    #[serde(default)]
    pub if_rev: Option<u64>,
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

#[derive(Deserialize, ToSchema)]
pub(crate) struct FilterParam {
    /// The field: `status`, `owner.name`, `tags[0]`.
    pub field: String,
    /// Equal to this string, number, boolean or null.
    #[serde(default, deserialize_with = "present")]
    pub eq: Option<Value>,
    /// Greater than this number or string (numbers only match numbers, strings strings).
    #[serde(default, deserialize_with = "present")]
    pub gt: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub gte: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub lt: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub lte: Option<Value>,
    /// A string starting with this.
    #[serde(default)]
    pub prefix: Option<String>,
    /// true: the field is present; false: absent.
    #[serde(default)]
    pub exists: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct QueryRecords {
    /// The project (name or id); leave out for the vault's own records.
    #[serde(default)]
    pub project: Option<String>,
    pub collection: String,
    /// Conditions that all have to hold; none lists the collection by key.
    #[serde(default, rename = "where")]
    pub filters: Vec<FilterParam>,
    /// Only keys starting with this.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Sort by this field (by key when left out).
    #[serde(default)]
    pub sort: Option<String>,
    /// Highest first.
    #[serde(default)]
    pub desc: bool,
    /// At most this many records (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct SetCollection {
    /// The project (name or id); leave out for the vault's own records.
    #[serde(default)]
    pub project: Option<String>,
    pub collection: String,
    /// Fields to index so queries on them stay fast (replaces the list).
    #[serde(default)]
    pub indexes: Vec<String>,
    /// A JSON Schema every record written to the collection must match (none: no check).
    #[serde(default)]
    pub schema: Option<Value>,
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
            Ok(json!({ "collections": api.record_collections(p.project.as_deref())? }))
        })
        .await
    }

    /// One record: its JSON `value`, its revision `rev` (pass it as `if_rev` to change it safely)
    /// and its times (ms since the epoch).
    #[tool(output_schema = crate::output::schema_of::<kura_core::Record>(), annotations(title = "Get a record", read_only_hint = true))]
    async fn get_record(&self, Parameters(p): Parameters<GetRecord>) -> Reply {
        blocking(&self.api, move |api| {
            api.record_get(p.project.as_deref(), &p.collection, &p.key)
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
            api.record_put(
                p.project.as_deref(),
                RecordPut {
                    collection: p.collection,
                    key: p.key,
                    value: p.value,
                    if_rev: p.if_rev,
                    ttl_secs: p.ttl_secs,
                },
            )
        })
        .await
    }

    /// DESTRUCTIVE. Deletes a record for good: records have no versions, so nothing brings it
    /// back.
    #[tool(output_schema = crate::output::schema(crate::output::object([("existed", crate::output::boolean())])), annotations(
        title = "Delete a record",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true
    ))]
    async fn delete_record(&self, Parameters(p): Parameters<DeleteRecord>) -> Reply {
        blocking(&self.api, move |api| {
            let existed = api.record_delete(
                p.project.as_deref(),
                RecordDelete {
                    collection: p.collection,
                    key: p.key,
                    if_rev: p.if_rev,
                },
            )?;
            Ok(json!({ "existed": existed }))
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
            let query = RecordQuery {
                filters: p
                    .filters
                    .into_iter()
                    .map(|f| RecordFilter {
                        field: f.field,
                        eq: f.eq,
                        gt: f.gt,
                        gte: f.gte,
                        lt: f.lt,
                        lte: f.lte,
                        prefix: f.prefix,
                        exists: f.exists,
                    })
                    .collect(),
                key_prefix: p.key_prefix,
                sort: p.sort,
                desc: p.desc,
                limit: p.limit,
                cursor: p.cursor,
            };
            api.record_query(p.project.as_deref(), &p.collection, &query)
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
            api.record_configure(
                p.project.as_deref(),
                &p.collection,
                CollectionSettings {
                    indexes: p.indexes,
                    schema: p.schema,
                },
            )
        })
        .await
    }
}
