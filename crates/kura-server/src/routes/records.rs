//! Records: JSON documents under keys, per project (`/v1/projects/{id}/records/...`) and for the
//! vault (`/v1/records/...`), the same routes under both.
//!
//! - `GET .../records`: the collections; `POST .../records`: a batch of puts and deletes;
//! - `GET .../records/{collection}`: a page by key; `POST`: a query; `PUT`: the collection's
//!   indexes and schema; `DELETE`: the collection with every record in it (admin);
//! - `GET`, `PUT`, `DELETE .../records/{collection}/{key}`: one record; the body of a `PUT` is
//!   the document itself. A record's revision is its `ETag`; `If-Match` (or `?if_rev=`) makes a
//!   write conditional, and `If-None-Match: *` (or `?if_rev=0`) makes a put create-only.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use kura_api::calls;
use kura_core::{
    CollectionInfo, CollectionSettings, Record, RecordDelete, RecordOp, RecordOpResult, RecordPage,
    RecordPut, RecordQuery,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, json, St};
use crate::auth::Scope;
use crate::body::{Json, Path, Query};
use crate::error::{HttpError, HttpResult};
use crate::guard::Caller;

/// A page of a collection by key.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only keys that start with this (`key_prefix`, as a query and every other door name it).
    pub key_prefix: Option<String>,
    /// The `next` of the page before.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
    /// At most this many records (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// How a write of one record is made.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WriteParams {
    /// Write only if the record is at this revision (0: only if it does not exist); the same as
    /// `If-Match: "<rev>"`.
    pub if_rev: Option<u64>,
    /// Expire the record this many seconds after the write (`ttl_secs`, as a record put and every
    /// other door name it).
    #[param(minimum = 1)]
    pub ttl_secs: Option<u64>,
}

/// How a delete of one record is made.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteParams {
    /// Delete only if the record is at this revision; the same as `If-Match: "<rev>"`.
    pub if_rev: Option<u64>,
}

/// Puts and deletes applied together: all or none.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub ops: Vec<RecordOp>,
}

/// The revision a write expects, from `?if_rev=`, `If-Match: "<rev>"` or `If-None-Match: *`.
fn expected_rev(if_rev: Option<u64>, headers: &HeaderMap) -> HttpResult<Option<u64>> {
    if let Some(rev) = if_rev {
        return Ok(Some(rev));
    }
    // An empty header says nothing, as one not sent.
    let header = |name| headers.get(name).filter(|v: &&HeaderValue| !v.is_empty());
    if let Some(value) = header(header::IF_NONE_MATCH) {
        if value.as_bytes() != b"*" {
            return Err(HttpError::invalid(
                "on a write, If-None-Match takes `*` (write only when there is no such record)",
            ));
        }
        return Ok(Some(0));
    }
    let Some(value) = header(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| {
            HttpError::invalid(
                "If-Match must be a record's revision in quotes, as its ETag gives it (\"42\")",
            )
        })
}

fn record_response(r: Record) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", r.rev)).ok();
    let mut res = json(r);
    if let Some(etag) = etag {
        res.headers_mut().insert(header::ETAG, etag);
    }
    res
}

async fn collections(st: St, project: Option<String>) -> HttpResult<Response> {
    let list = blocking(&st, move |a| Ok(calls::record_collections(a, project)?)).await?;
    Ok(json(list))
}

/// A batch that deletes a record destroys what nothing else holds (records have no versions):
/// it needs what deleting one does, an admin, as MCP refuses it without `--allow-destructive`.
async fn batch(st: St, caller: Caller, project: Option<String>, b: Batch) -> HttpResult<Response> {
    if b.ops.iter().any(|op| matches!(op, RecordOp::Delete(_))) && caller.scope < Scope::Admin {
        return Err(HttpError::forbidden(format!(
            "this batch deletes records, which no version keeps, so it needs a token of scope \
             'admin'; this one is '{}' (send the puts alone, or see `kura serve token --scope admin`)",
            caller.scope.as_str()
        )));
    }
    let done = blocking(&st, move |a| Ok(a.record_batch(project.as_deref(), b.ops)?)).await?;
    Ok(json(done))
}

async fn list(
    st: St,
    project: Option<String>,
    collection: String,
    q: ListParams,
) -> HttpResult<Response> {
    let page = blocking(&st, move |a| {
        Ok(a.record_list(
            project.as_deref(),
            &collection,
            q.key_prefix.as_deref(),
            q.cursor.as_deref(),
            q.limit,
        )?)
    })
    .await?;
    Ok(json(page))
}

async fn query(
    st: St,
    project: Option<String>,
    collection: String,
    q: RecordQuery,
) -> HttpResult<Response> {
    let page = blocking(&st, move |a| {
        Ok(calls::record_query(a, project, collection, q)?)
    })
    .await?;
    Ok(json(page))
}

async fn configure(
    st: St,
    project: Option<String>,
    collection: String,
    s: CollectionSettings,
) -> HttpResult<Response> {
    let info = blocking(&st, move |a| {
        Ok(calls::record_configure(a, project, collection, s)?)
    })
    .await?;
    Ok(json(info))
}

async fn drop_collection(
    st: St,
    project: Option<String>,
    collection: String,
) -> HttpResult<Response> {
    let deleted = blocking(&st, move |a| {
        Ok(a.record_drop_collection(project.as_deref(), &collection)?)
    })
    .await?;
    Ok(json(deleted))
}

async fn get_record(
    st: St,
    project: Option<String>,
    collection: String,
    key: String,
) -> HttpResult<Response> {
    let r = blocking(&st, move |a| {
        Ok(calls::record_get(a, project, collection, key)?)
    })
    .await?;
    Ok(record_response(r))
}

#[allow(clippy::too_many_arguments)]
async fn put_record(
    st: St,
    project: Option<String>,
    collection: String,
    key: String,
    q: WriteParams,
    headers: HeaderMap,
    value: serde_json::Value,
) -> HttpResult<Response> {
    let put = RecordPut {
        collection,
        key,
        value,
        if_rev: expected_rev(q.if_rev, &headers)?,
        ttl_secs: q.ttl_secs,
    };
    let r = blocking(&st, move |a| Ok(calls::record_put(a, project, put)?)).await?;
    Ok(record_response(r))
}

async fn delete_record(
    st: St,
    project: Option<String>,
    collection: String,
    key: String,
    q: DeleteParams,
    headers: HeaderMap,
) -> HttpResult<Response> {
    let delete = RecordDelete {
        collection,
        key,
        if_rev: expected_rev(q.if_rev, &headers)?,
    };
    let deleted = blocking(&st, move |a| Ok(calls::record_delete(a, project, delete)?)).await?;
    Ok(json(deleted))
}

/// The collections of a project's records, with their counts, indexes and schemas.
#[utoipa::path(get, path = "/v1/projects/{id}/records", operation_id = "listProjectCollections", tag = "records",
    params(("id" = String, Path)), responses((status = 200, body = Vec<CollectionInfo>)))]
pub async fn project_collections(st: St, Path(id): Path<String>) -> HttpResult<Response> {
    collections(st, Some(id)).await
}

/// Puts and deletes on a project's records, applied together or (when one fails) not at all.
///
/// A batch that deletes a record needs an `admin` token, as deleting one does.
#[utoipa::path(post, path = "/v1/projects/{id}/records", operation_id = "batchProjectRecords", tag = "records", request_body = Batch,
    params(("id" = String, Path)), responses((status = 200, body = Vec<RecordOpResult>)))]
pub async fn project_batch(
    st: St,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<Batch>,
) -> HttpResult<Response> {
    batch(st, caller, Some(id), b).await
}

/// A page of a collection, by key.
#[utoipa::path(get, path = "/v1/projects/{id}/records/{collection}", operation_id = "listProjectRecords", tag = "records",
    params(("id" = String, Path), ("collection" = String, Path), ListParams),
    responses((status = 200, body = RecordPage)))]
pub async fn project_list(
    st: St,
    Path((id, collection)): Path<(String, String)>,
    Query(q): Query<ListParams>,
) -> HttpResult<Response> {
    list(st, Some(id), collection, q).await
}

/// A page of the records of a collection that match a query (filters on fields, a sort, a
/// cursor).
#[utoipa::path(post, path = "/v1/projects/{id}/records/{collection}", operation_id = "queryProjectRecords", tag = "records",
    request_body = RecordQuery, params(("id" = String, Path), ("collection" = String, Path)),
    responses((status = 200, body = RecordPage)))]
pub async fn project_query(
    st: St,
    Path((id, collection)): Path<(String, String)>,
    Json(q): Json<RecordQuery>,
) -> HttpResult<Response> {
    query(st, Some(id), collection, q).await
}

/// Sets the fields a collection indexes and the JSON Schema its records must match.
#[utoipa::path(put, path = "/v1/projects/{id}/records/{collection}", operation_id = "configureProjectCollection", tag = "records",
    request_body = CollectionSettings, params(("id" = String, Path), ("collection" = String, Path)),
    responses((status = 200, body = CollectionInfo)))]
pub async fn project_configure(
    st: St,
    Path((id, collection)): Path<(String, String)>,
    Json(s): Json<CollectionSettings>,
) -> HttpResult<Response> {
    configure(st, Some(id), collection, s).await
}

/// Deletes a collection with every record in it (admin).
#[utoipa::path(delete, path = "/v1/projects/{id}/records/{collection}", operation_id = "dropProjectCollection", tag = "records",
    params(("id" = String, Path), ("collection" = String, Path)),
    responses((status = 200, body = kura_api::Deleted)))]
pub async fn project_drop(
    st: St,
    Path((id, collection)): Path<(String, String)>,
) -> HttpResult<Response> {
    drop_collection(st, Some(id), collection).await
}

/// One record; its revision is the `ETag`.
#[utoipa::path(get, path = "/v1/projects/{id}/records/{collection}/{key}", operation_id = "getProjectRecord", tag = "records",
    params(("id" = String, Path), ("collection" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = Record)))]
pub async fn project_get(
    st: St,
    Path((id, collection, key)): Path<(String, String, String)>,
) -> HttpResult<Response> {
    get_record(st, Some(id), collection, key).await
}

/// Writes a record: the body is the JSON document. `If-Match: "<rev>"` or `?if_rev=` writes only
/// over that revision (409 otherwise); `If-None-Match: *` or `?if_rev=0` only when there is none.
#[utoipa::path(put, path = "/v1/projects/{id}/records/{collection}/{key}", operation_id = "putProjectRecord", tag = "records",
    request_body(content = serde_json::Value, description = "the document"),
    params(("id" = String, Path), ("collection" = String, Path), ("key" = String, Path), WriteParams),
    responses((status = 200, body = Record)))]
pub async fn project_put(
    st: St,
    Path((id, collection, key)): Path<(String, String, String)>,
    Query(q): Query<WriteParams>,
    headers: HeaderMap,
    crate::body::JsonValue(value): crate::body::JsonValue,
) -> HttpResult<Response> {
    put_record(st, Some(id), collection, key, q, headers, value).await
}

/// Deletes a record (conditional like a put).
#[utoipa::path(delete, path = "/v1/projects/{id}/records/{collection}/{key}", operation_id = "deleteProjectRecord", tag = "records",
    params(("id" = String, Path), ("collection" = String, Path), ("key" = String, Path), DeleteParams),
    responses((status = 200, body = kura_api::Deleted)))]
pub async fn project_delete(
    st: St,
    Path((id, collection, key)): Path<(String, String, String)>,
    Query(q): Query<DeleteParams>,
    headers: HeaderMap,
) -> HttpResult<Response> {
    delete_record(st, Some(id), collection, key, q, headers).await
}

/// The collections of the vault's own records.
#[utoipa::path(get, path = "/v1/records", operation_id = "listVaultCollections", tag = "records",
    responses((status = 200, body = Vec<CollectionInfo>)))]
pub async fn vault_collections(st: St) -> HttpResult<Response> {
    collections(st, None).await
}

/// A batch on the vault's records.
///
/// A batch that deletes a record needs an `admin` token, as deleting one does.
#[utoipa::path(post, path = "/v1/records", operation_id = "batchVaultRecords", tag = "records", request_body = Batch,
    responses((status = 200, body = Vec<RecordOpResult>)))]
pub async fn vault_batch(st: St, caller: Caller, Json(b): Json<Batch>) -> HttpResult<Response> {
    batch(st, caller, None, b).await
}

/// A page of a vault collection, by key.
#[utoipa::path(get, path = "/v1/records/{collection}", operation_id = "listVaultRecords", tag = "records",
    params(("collection" = String, Path), ListParams), responses((status = 200, body = RecordPage)))]
pub async fn vault_list(
    st: St,
    Path(collection): Path<String>,
    Query(q): Query<ListParams>,
) -> HttpResult<Response> {
    list(st, None, collection, q).await
}

/// A query on a vault collection.
#[utoipa::path(post, path = "/v1/records/{collection}", operation_id = "queryVaultRecords", tag = "records", request_body = RecordQuery,
    params(("collection" = String, Path)), responses((status = 200, body = RecordPage)))]
pub async fn vault_query(
    st: St,
    Path(collection): Path<String>,
    Json(q): Json<RecordQuery>,
) -> HttpResult<Response> {
    query(st, None, collection, q).await
}

/// A vault collection's indexes and schema.
#[utoipa::path(put, path = "/v1/records/{collection}", operation_id = "configureVaultCollection", tag = "records", request_body = CollectionSettings,
    params(("collection" = String, Path)), responses((status = 200, body = CollectionInfo)))]
pub async fn vault_configure(
    st: St,
    Path(collection): Path<String>,
    Json(s): Json<CollectionSettings>,
) -> HttpResult<Response> {
    configure(st, None, collection, s).await
}

/// Deletes a vault collection (admin).
#[utoipa::path(delete, path = "/v1/records/{collection}", operation_id = "dropVaultCollection", tag = "records",
    params(("collection" = String, Path)), responses((status = 200, body = kura_api::Deleted)))]
pub async fn vault_drop(st: St, Path(collection): Path<String>) -> HttpResult<Response> {
    drop_collection(st, None, collection).await
}

/// One vault record.
#[utoipa::path(get, path = "/v1/records/{collection}/{key}", operation_id = "getVaultRecord", tag = "records",
    params(("collection" = String, Path), ("key" = String, Path)), responses((status = 200, body = Record)))]
pub async fn vault_get(
    st: St,
    Path((collection, key)): Path<(String, String)>,
) -> HttpResult<Response> {
    get_record(st, None, collection, key).await
}

/// Writes a vault record (the body is the document).
#[utoipa::path(put, path = "/v1/records/{collection}/{key}", operation_id = "putVaultRecord", tag = "records",
    request_body(content = serde_json::Value, description = "the document"),
    params(("collection" = String, Path), ("key" = String, Path), WriteParams),
    responses((status = 200, body = Record)))]
pub async fn vault_put(
    st: St,
    Path((collection, key)): Path<(String, String)>,
    Query(q): Query<WriteParams>,
    headers: HeaderMap,
    crate::body::JsonValue(value): crate::body::JsonValue,
) -> HttpResult<Response> {
    put_record(st, None, collection, key, q, headers, value).await
}

/// Deletes a vault record.
#[utoipa::path(delete, path = "/v1/records/{collection}/{key}", operation_id = "deleteVaultRecord", tag = "records",
    params(("collection" = String, Path), ("key" = String, Path), DeleteParams),
    responses((status = 200, body = kura_api::Deleted)))]
pub async fn vault_delete(
    st: St,
    Path((collection, key)): Path<(String, String)>,
    Query(q): Query<DeleteParams>,
    headers: HeaderMap,
) -> HttpResult<Response> {
    delete_record(st, None, collection, key, q, headers).await
}
