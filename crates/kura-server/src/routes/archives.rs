//! Archives: archive a project, list, unarchive, extract, verify, import (a file on the
//! server's machine, or uploaded).

use kura_api::calls::{self, kinds};

use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use kura_core::{ImportArchiveOptions, Project};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{blocking, long, St, Wait};
use crate::body::{body_reader, Json, Path, Query};
use crate::error::{HttpError, HttpResult};
use crate::guard::Caller;

/// Where to unpack (admin only).
#[derive(Deserialize, ToSchema)]
pub struct ExtractTo {
    /// A new or empty folder on the server's machine.
    #[schema(pattern = "^/")]
    pub dest: String,
}

/// Unpacks an archive into a folder of the server's machine (result: ExtractReport). Admin only
/// (403 otherwise): writing to the server's disk is an admin act.
#[utoipa::path(post, path = "/v1/archives/{archive}/extract", operation_id = "extractArchive", tag = "archives", request_body = ExtractTo,
    params(("archive" = String, Path, description = "archive id or archived project"), Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: ExtractReport")))]
pub async fn extract(
    st: St,
    caller: Caller,
    headers: HeaderMap,
    Path(archive): Path<String>,
    Query(w): Query<Wait>,
    Json(b): Json<ExtractTo>,
) -> HttpResult<Response> {
    caller.server_path("dest", &b.dest)?;
    long(
        &st,
        &headers,
        &w,
        kinds::extract_archive,
        None,
        move |a, job| calls::extract_archive(a, archive, b.dest, job),
    )
    .await
}

/// An archive file on the server's machine to import.
#[derive(Deserialize, ToSchema)]
pub struct ImportArchive {
    /// A path on the server's machine (admin only), or `s3://TARGET/path/to/file` for an archive
    /// kept in a backup target's bucket (downloaded with the target's keys).
    #[schema(pattern = "^(/|s3://)")]
    pub path: String,
    #[serde(default)]
    pub options: ImportArchiveOptions,
}

/// Imports an archive file (.tar.zst, .tar.gz, .zip) as a new project (result: Project). A path
/// on the server's machine needs an admin token (403 otherwise): reading the server's disk is an
/// admin act; `s3://TARGET/...` and an upload (`/v1/archives/upload`) need `write`.
#[utoipa::path(post, path = "/v1/archives/import", operation_id = "importArchive", tag = "archives", request_body = ImportArchive, params(Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: Project")))]
pub async fn import(
    st: St,
    caller: Caller,
    headers: HeaderMap,
    Query(w): Query<Wait>,
    Json(b): Json<ImportArchive>,
) -> HttpResult<Response> {
    if !b.path.starts_with("s3://") {
        caller.server_path("path", &b.path)?;
    }
    long(
        &st,
        &headers,
        &w,
        kinds::import_archive,
        None,
        move |a, job| calls::import_archive(a, b.path, b.options, job),
    )
    .await
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct UploadArchiveQuery {
    /// The file's name, without a folder (its extension says the format: .tar.zst, .tar.gz,
    /// .zip).
    #[param(pattern = r"^[^/\\.][^/\\]*$")]
    pub filename: String,
    pub name: Option<String>,
    pub workspace: Option<String>,
    pub kind: Option<String>,
    #[serde(default)]
    pub wait: bool,
    pub timeout_secs: Option<u64>,
}

/// Imports an uploaded archive (raw body) as a new project (result: Project).
#[utoipa::path(post, path = "/v1/archives/upload", operation_id = "uploadArchive", tag = "archives", params(UploadArchiveQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 202, body = kura_api::Operation, description = "started; result: Project")))]
pub async fn upload_archive(
    st: St,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<UploadArchiveQuery>,
    body: Body,
) -> HttpResult<Response> {
    let limit = st.options.max_upload;
    super::files::check_length(&headers, limit)?;
    // A plain name: no folder, not hidden (the name the staged file gets).
    let plain =
        !q.filename.is_empty() && !q.filename.starts_with('.') && !q.filename.contains(['/', '\\']);
    if !plain {
        return Err(HttpError::invalid(
            "filename must be a plain file name like site.tar.zst",
        ));
    }
    let file_name = q.filename.clone();
    let turn = st.transfers.turn(&caller).await?;
    let mut reader = body_reader(body, limit);
    let failure = reader.failure();
    let staging = blocking(&st, move |a| {
        let _turn = turn;
        let mut upload = a.receive_upload()?;
        let mut f = upload.file(&file_name)?;
        let failed = reader.failure();
        std::io::copy(&mut reader, &mut f)
            .map_err(|e| failed.or(HttpError::invalid(format!("the upload stopped: {e}"))))?;
        f.sync_all()
            .map_err(|e| HttpError::internal(e.to_string()))?;
        Ok(upload)
    })
    .await
    .map_err(|e| failure.or(e))?;
    let w = Wait {
        wait: q.wait,
        timeout_secs: q.timeout_secs,
    };
    let options = ImportArchiveOptions {
        name: q.name,
        workspace: q.workspace,
        kind: q.kind,
    };
    long(
        &st,
        &headers,
        &w,
        kinds::import_archive,
        None,
        move |a, job| {
            // The upload (and the file it received) goes when this ends.
            let upload = staging;
            let p: Project = a.import_archive(&upload.received()[0], &options, job)?;
            Ok(p)
        },
    )
    .await
}
