//! Projects: list, create, import, change, trash, delete, export.

use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use kura_api::calls::{self, kinds};
use kura_core::{ImportOptions, Project, ProjectFilter, ProjectSort, ProjectStatus};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{blocking, json, long, St, Wait};
use crate::body::{BodyWriter, Json, Path, Query};
use crate::error::HttpResult;
use crate::guard::Caller;

/// The project filter as query parameters (lists comma-separated; `metadata` as
/// `key=value,key2` where a bare key means "has this key").
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub workspace: Option<String>,
    pub all_workspaces: Option<bool>,
    pub status: Option<ProjectStatus>,
    pub language: Option<String>,
    pub framework: Option<String>,
    /// Comma-separated; all must match.
    pub tags: Option<String>,
    pub min_size: Option<u64>,
    pub max_size: Option<u64>,
    pub updated_since: Option<i64>,
    pub updated_before: Option<i64>,
    pub text: Option<String>,
    /// Comma-separated `key` or `key=value`.
    pub metadata: Option<String>,
    pub sort: Option<ProjectSort>,
    pub limit: Option<u32>,
}

fn list_of(s: &Option<String>) -> Vec<String> {
    s.as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

impl ListQuery {
    fn filter(self) -> ProjectFilter {
        ProjectFilter {
            tags: list_of(&self.tags),
            metadata: list_of(&self.metadata)
                .into_iter()
                .map(|m| match m.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (m, None),
                })
                .collect(),
            workspace: self.workspace,
            all_workspaces: self.all_workspaces.unwrap_or(false),
            status: self.status,
            language: self.language,
            framework: self.framework,
            min_size: self.min_size,
            max_size: self.max_size,
            updated_since: self.updated_since,
            updated_before: self.updated_before,
            text: self.text,
            sort: self.sort.unwrap_or_default(),
            limit: self.limit,
        }
    }
}

#[utoipa::path(get, path = "/v1/projects", operation_id = "listProjects", tag = "projects", params(ListQuery),
    responses((status = 200, body = Vec<Project>)))]
pub async fn list(st: St, Query(q): Query<ListQuery>) -> HttpResult<Response> {
    let filter = q.filter();
    Ok(json(
        blocking(&st, move |a| Ok(calls::list_projects(a, filter)?)).await?,
    ))
}

/// A folder on the server's machine to import (admin only).
#[derive(Deserialize, ToSchema)]
pub struct ImportFolder {
    #[schema(pattern = "^/")]
    pub path: String,
    #[serde(default)]
    pub options: ImportOptions,
}

/// Imports a folder of the server's machine (result: ImportReport, the project and what its
/// first version left out). Admin only (403 otherwise): reading the server's disk is an admin
/// act; a `write` token sends files with an upload.
#[utoipa::path(post, path = "/v1/projects/import", operation_id = "importFolder", tag = "projects", request_body = ImportFolder, params(Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: ImportReport")))]
pub async fn import(
    st: St,
    caller: Caller,
    headers: HeaderMap,
    Query(w): Query<Wait>,
    Json(b): Json<ImportFolder>,
) -> HttpResult<Response> {
    caller.server_path("path", &b.path)?;
    long(
        &st,
        &headers,
        &w,
        kinds::import_folder,
        None,
        move |a, job| calls::import_folder(a, b.path, b.options, job),
    )
    .await
}

/// Tags to add and remove.
#[derive(Deserialize, ToSchema)]
pub struct TagChanges {
    #[serde(default)]
    #[schema(schema_with = kura_core::tag_list)]
    pub add: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = kura_core::tag_list)]
    pub remove: Vec<String>,
}

#[utoipa::path(post, path = "/v1/projects/{id}/tags", operation_id = "tagProject", tag = "projects", request_body = TagChanges,
    params(("id" = String, Path)), responses((status = 200, body = Project)))]
pub async fn tag(
    st: St,
    Path(id): Path<String>,
    Json(c): Json<TagChanges>,
) -> HttpResult<Response> {
    let p = blocking(&st, move |a| {
        Ok(calls::tag_project(a, id, c.add, c.remove)?)
    })
    .await?;
    Ok(json(p))
}

/// Where to export a version on the server's machine (admin only).
#[derive(Deserialize, ToSchema)]
pub struct ExportTo {
    /// The version (default: latest).
    pub version: Option<String>,
    /// A new or empty folder.
    #[schema(pattern = "^/")]
    pub dest: String,
    /// Also write the project's records, as `.kura/records.jsonl` and
    /// `.kura/record-collections.json`.
    #[serde(default)]
    pub records: bool,
}

/// Writes a version's files to a folder of the server's machine (result: RestoreReport). Admin
/// only (403 otherwise): writing to the server's disk is an admin act; a `write` token
/// downloads `export.tar.zst` instead.
#[utoipa::path(post, path = "/v1/projects/{id}/export", operation_id = "exportProject", tag = "projects", request_body = ExportTo, params(("id" = String, Path), Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: RestoreReport")))]
pub async fn export(
    st: St,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(w): Query<Wait>,
    Json(b): Json<ExportTo>,
) -> HttpResult<Response> {
    caller.server_path("dest", &b.dest)?;
    let project = Some(id.clone());
    long(
        &st,
        &headers,
        &w,
        kinds::export_project,
        project,
        move |a, job| calls::export_project(a, id, b.version, b.dest, b.records, job),
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// The version (default: latest).
    #[param(min_length = 1)]
    pub version: Option<String>,
    /// Also pack the project's records, as `.kura/records.jsonl`.
    #[serde(default)]
    pub records: bool,
}

/// A version's files as a `tar.zst`, streamed.
#[utoipa::path(get, path = "/v1/projects/{id}/export.tar.zst", operation_id = "downloadProjectExport", tag = "projects", params(("id" = String, Path), VersionQuery),
    responses((status = 200, content_type = "application/zstd", description = "the version as a tar.zst")))]
pub async fn export_stream(
    st: St,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> HttpResult<Response> {
    // The version is written to a folder in the vault first (errors answer properly), then
    // packed as it is sent.
    let exported = blocking(&st, move |a| {
        Ok(a.vault().export_version_to_pack(
            &id,
            q.version.as_deref(),
            q.records,
            &kura_core::Job::default(),
        )?)
    })
    .await?;
    let name = exported.project_name.clone();
    // Packing waits on the client on a blocking thread: in its turn.
    let turn = st.transfers.turn(&caller).await?;
    let (writer, body) = BodyWriter::new();
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        if let Err(e) = exported.pack(writer) {
            tracing::warn!("export stream stopped: {e}");
        }
    });
    let disposition = format!(
        "attachment; filename=\"{}.tar.zst\"",
        name.replace(['"', '\\', '/'], "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/zstd".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
