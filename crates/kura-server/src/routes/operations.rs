//! Long operations: list, look at (or wait for), cancel.

use axum::response::Response;
use kura_api::Operation;

use super::{json, wait_for, St, Wait};
use crate::body::Path;
use crate::body::Query;
use crate::error::HttpResult;

#[utoipa::path(get, path = "/v1/operations", operation_id = "listOperations", tag = "operations", responses((status = 200, body = Vec<Operation>)))]
pub async fn list(st: St) -> HttpResult<Response> {
    Ok(json(st.api.operations().list()))
}

/// An operation as it is now, or, with `?wait=true`, once it ended (or the timeout passed).
#[utoipa::path(get, path = "/v1/operations/{id}", operation_id = "getOperation", tag = "operations", params(("id" = String, Path), Wait),
    responses((status = 200, body = Operation)))]
pub async fn get(st: St, Path(id): Path<String>, Query(w): Query<Wait>) -> HttpResult<Response> {
    let op = st.api.operations().get(&id)?;
    if !w.wait {
        return Ok(json(op));
    }
    Ok(json(wait_for(&st, &op.id, &w).await?))
}

/// Asks an operation to stop at its next safe point; it then ends `cancelled` and leaves the
/// vault as it was. Answers the operation as it is now (add `?wait=true` to see it end).
#[utoipa::path(delete, path = "/v1/operations/{id}", operation_id = "cancelOperation", tag = "operations", params(("id" = String, Path), Wait),
    responses((status = 200, body = Operation)))]
pub async fn cancel(st: St, Path(id): Path<String>, Query(w): Query<Wait>) -> HttpResult<Response> {
    let op = st.api.operations().cancel(&id)?;
    if w.wait {
        return Ok(json(wait_for(&st, &op.id, &w).await?));
    }
    Ok(json(op))
}
