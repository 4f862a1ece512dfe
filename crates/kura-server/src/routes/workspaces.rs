//! Workspaces: named groups of projects, one of them active.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kura_api::calls;
use kura_core::Workspace;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{blocking, done, json, St};
use crate::body::{Json, Query};
use crate::error::HttpResult;

/// A workspace's name.
#[derive(Deserialize, ToSchema)]
pub struct WorkspaceName {
    #[schema(min_length = 1)]
    pub name: String,
}

#[utoipa::path(get, path = "/v1/workspaces", operation_id = "listWorkspaces", tag = "workspaces", responses((status = 200, body = Vec<Workspace>)))]
pub async fn list(st: St) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, |a| Ok(calls::list_workspaces(a)?)).await?,
    ))
}

#[utoipa::path(post, path = "/v1/workspaces", operation_id = "createWorkspace", tag = "workspaces", request_body = WorkspaceName,
    responses((status = 201, body = Workspace)))]
pub async fn create(st: St, Json(b): Json<WorkspaceName>) -> HttpResult<Response> {
    let w = blocking(&st, move |a| Ok(calls::create_workspace(a, b.name)?)).await?;
    Ok((StatusCode::CREATED, axum::Json(w)).into_response())
}

#[utoipa::path(patch, path = "/v1/workspaces/{name}", operation_id = "renameWorkspace", tag = "workspaces", request_body = WorkspaceName,
    params(("name" = String, Path)), responses((status = 200, body = Workspace)))]
pub async fn rename(
    st: St,
    Path(name): Path<String>,
    Json(b): Json<WorkspaceName>,
) -> HttpResult<Response> {
    let w = blocking(&st, move |a| Ok(calls::rename_workspace(a, name, b.name)?)).await?;
    Ok(json(w))
}

#[utoipa::path(post, path = "/v1/workspaces/{name}/switch", operation_id = "switchWorkspace", tag = "workspaces",
    params(("name" = String, Path)), responses((status = 200, body = Workspace)))]
pub async fn switch(st: St, Path(name): Path<String>) -> HttpResult<Response> {
    let w = blocking(&st, move |a| Ok(calls::switch_workspace(a, name)?)).await?;
    Ok(json(w))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MoveTo {
    /// Move the workspace's projects here first.
    pub move_to: Option<String>,
}

/// Deletes a workspace (admin), refused while it holds projects unless `move_to`.
#[utoipa::path(delete, path = "/v1/workspaces/{name}", operation_id = "deleteWorkspace", tag = "workspaces",
    params(("name" = String, Path), MoveTo), responses((status = 200, body = super::Done)))]
pub async fn delete(
    st: St,
    Path(name): Path<String>,
    Query(q): Query<MoveTo>,
) -> HttpResult<Response> {
    blocking(&st, move |a| {
        Ok(calls::delete_workspace(a, name, q.move_to)?)
    })
    .await?;
    Ok(done())
}
