//! Files inside a project: list, preview, read (streamed, with Range), save (streamed raw body),
//! rename, delete, upload (local paths, or a browser's multipart form).

use kura_api::calls::{self, kinds};

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kura_core::UploadReport;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};

use super::{blocking, done, json, long, St, Wait};
use crate::body::{body_reader, parse_range, too_large, unreadable_body, Json, Path, Query};
use crate::error::{HttpError, HttpResult};
use crate::guard::Caller;

/// A file's bytes, streamed; `Range: bytes=a-b` gives part of it (206).
#[utoipa::path(get, path = "/v1/projects/{id}/files/{path}", operation_id = "readFile", tag = "files",
    params(("id" = String, Path), ("path" = String, Path, description = "the file, relative to the project folder; may contain '/'")),
    responses((status = 200, content_type = "application/octet-stream", description = "the file"),
              (status = 206, content_type = "application/octet-stream", description = "the range asked for"),
              (status = 416, description = "the range is outside the file")))]
pub async fn read_file(
    st: St,
    caller: Caller,
    Path((id, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> HttpResult<Response> {
    // A small file is read on the thread that opened it and sent in one piece; a larger one is
    // streamed in its turn (see `transfer`), read a chunk at a time as the client takes it.
    let (file, size, small) = blocking(&st, move |a| {
        use std::io::Read;
        let (file, size) = a.vault().open_file(&id, &path)?;
        if size > INLINE_READ {
            return Ok((file, size, None));
        }
        let mut data = Vec::with_capacity(size as usize);
        (&file)
            .take(INLINE_READ + 1)
            .read_to_end(&mut data)
            .map_err(|e| kura_core::Error::from_io("read", std::path::Path::new(&path), e))?;
        Ok((file, size, Some(bytes::Bytes::from(data))))
    })
    .await?;
    // The bytes read are what is sent, should the file have changed since it was opened.
    let size = small.as_ref().map_or(size, |d| d.len() as u64);
    let range = match parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        size,
    ) {
        Ok(r) => r,
        Err(()) => {
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{size}"))],
            )
                .into_response())
        }
    };
    let (start, len) = match range {
        Some((start, end)) => (start, end - start + 1),
        None => (0, size),
    };
    let body = match small {
        Some(data) => Body::from(data.slice(start as usize..(start + len) as usize)),
        None => {
            let turn = st.transfers.turn(&caller).await?;
            stream_file(file, start, len, turn)?
        }
    };
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::ACCEPT_RANGES,
        header::HeaderValue::from_static("bytes"),
    );
    match range {
        Some((start, end)) => {
            *res.status_mut() = StatusCode::PARTIAL_CONTENT;
            res.headers_mut().insert(
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{size}")
                    .parse()
                    .expect("a valid header"),
            );
            res.headers_mut()
                .insert(header::CONTENT_LENGTH, (end - start + 1).into());
        }
        None => {
            res.headers_mut()
                .insert(header::CONTENT_LENGTH, size.into());
        }
    }
    Ok(res)
}

/// Files up to this size are read whole and sent in one piece.
const INLINE_READ: u64 = 256 << 10;

/// Streams `len` bytes of `file` from `start` as a body, a chunk read (on a blocking thread,
/// briefly) each time the client has taken the last: a client that reads nothing holds no
/// thread. `turn` is given back when the body ends.
fn stream_file(
    mut file: std::fs::File,
    start: u64,
    len: u64,
    turn: crate::transfer::Turn,
) -> HttpResult<Body> {
    use futures_util::StreamExt;
    use std::io::{Seek, SeekFrom};
    use tokio::io::AsyncReadExt;
    file.seek(SeekFrom::Start(start))
        .map_err(|e| HttpError::internal(format!("cannot read the file: {e}")))?;
    let reader = tokio::fs::File::from_std(file).take(len);
    let chunks = tokio_util::io::ReaderStream::with_capacity(reader, STREAM_CHUNK).map(move |c| {
        let _ = &turn;
        c
    });
    Ok(Body::from_stream(chunks))
}

/// Bytes read from a file per chunk of a download.
const STREAM_CHUNK: usize = 64 << 10;

/// Bodies announced up to this size are received whole before the engine is called (no thread
/// waits for the client); larger or unannounced ones stream in their turn.
const INLINE_SAVE: u64 = 1 << 20;

/// The body's length as `Content-Length` announces it.
fn announced_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Refuses a body whose announced length is over the limit before reading a byte of it.
pub(crate) fn check_length(headers: &HeaderMap, limit: u64) -> HttpResult<()> {
    match announced_length(headers) {
        Some(n) if n > limit => Err(too_large(limit)),
        _ => Ok(()),
    }
}

/// Saves a file from the raw request body, streamed (created or replaced atomically).
#[utoipa::path(put, path = "/v1/projects/{id}/files/{path}", operation_id = "saveFile", tag = "files",
    params(("id" = String, Path), ("path" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = kura_api::Saved)))]
pub async fn save_file(
    st: St,
    caller: Caller,
    Path((id, path)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> HttpResult<Response> {
    let limit = st.options.max_upload;
    check_length(&headers, limit)?;
    if announced_length(&headers).is_some_and(|n| n <= INLINE_SAVE.min(limit)) {
        let data = axum::body::to_bytes(body, INLINE_SAVE as usize)
            .await
            .map_err(|e| unreadable_body(&e))?;
        let rel = path.clone();
        let bytes = blocking(&st, move |a| {
            Ok(a.save_file(&id, &rel, &mut std::io::Cursor::new(data))?)
        })
        .await?;
        return Ok(json(kura_api::Saved { path, bytes }));
    }
    let turn = st.transfers.turn(&caller).await?;
    let mut reader = body_reader(body, limit);
    let failure = reader.failure();
    let rel = path.clone();
    let bytes = blocking(&st, move |a| {
        let _turn = turn;
        Ok(a.save_file(&id, &rel, &mut reader)?)
    })
    .await
    .map_err(|e| failure.or(e))?;
    Ok(json(kura_api::Saved { path, bytes }))
}

/// Deletes a file (it stays in earlier versions).
#[utoipa::path(delete, path = "/v1/projects/{id}/files/{path}", operation_id = "deleteFile", tag = "files",
    params(("id" = String, Path), ("path" = String, Path)), responses((status = 200, body = super::Done)))]
pub async fn delete_file(st: St, Path((id, path)): Path<(String, String)>) -> HttpResult<Response> {
    blocking(&st, move |a| Ok(a.delete_file(&id, &path)?)).await?;
    Ok(done())
}

#[utoipa::path(post, path = "/v1/projects/{id}/files-rename", operation_id = "renameFile", tag = "files", request_body = kura_api::RenameFile,
    params(("id" = String, Path)), responses((status = 200, body = super::Done)))]
pub async fn rename(
    st: St,
    Path(id): Path<String>,
    Json(b): Json<kura_api::RenameFile>,
) -> HttpResult<Response> {
    blocking(&st, move |a| Ok(a.rename_file(&id, &b)?)).await?;
    Ok(done())
}

/// Files and folders on the server's machine to copy into a project (admin only).
/// A list of absolute paths as a schema.
fn absolute_paths() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^/")),
        )
        .build()
}

#[derive(Deserialize, ToSchema)]
pub struct UploadLocal {
    /// Files and folders on the server's machine, by absolute path.
    #[schema(schema_with = absolute_paths)]
    pub sources: Vec<String>,
    /// The folder in the project ("" for the top).
    #[serde(default)]
    pub dest_dir: String,
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The folder in the project for a multipart upload ("" for the top).
    pub dest_dir: Option<String>,
    #[serde(default)]
    pub wait: bool,
    pub timeout_secs: Option<u64>,
}

/// Copies files into a project: a `multipart/form-data` body carries them (one part per file,
/// its filename the relative path; `write` scope); a JSON body names files on the server's
/// machine instead (`sources`), which needs an `admin` token (403 otherwise): reading the
/// server's disk is an admin act. Result: UploadReport.
#[utoipa::path(post, path = "/v1/projects/{id}/upload", operation_id = "uploadFiles", tag = "files", params(("id" = String, Path), UploadQuery),
    request_body(content(
        (UploadLocal = "application/json"),
        (Object = "multipart/form-data")
    )),
    responses((status = 202, body = kura_api::Operation, description = "started; result: UploadReport")))]
pub async fn upload(
    st: St,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> HttpResult<Response> {
    let headers = req.headers().clone();
    let wait = Wait {
        wait: q.wait,
        timeout_secs: q.timeout_secs,
    };
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        caller.require_server_paths("sources")?;
        check_length(&headers, st.options.max_json_body as u64)?;
        let Json(b) = Json::<UploadLocal>::from_request(req, &()).await?;
        for source in &b.sources {
            caller.server_path("sources", source)?;
        }
        let project = Some(id.clone());
        return long(
            &st,
            &headers,
            &wait,
            kinds::upload_files,
            project,
            move |a, job| calls::upload_files(a, id, b.sources, b.dest_dir, job),
        )
        .await;
    }
    let limit = st.options.max_upload;
    check_length(&headers, limit)?;
    let turn = st.transfers.turn(&caller).await?;
    // The parts are received into the vault first (under the engine's path rule), then copied
    // in by the engine as one operation.
    let mut upload = blocking(&st, |a| Ok(a.receive_upload()?)).await?;
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| HttpError::invalid(e.body_text()))?;
    let part_error = |e: axum::extract::multipart::MultipartError| {
        // A body that could not be read is the client's fault, like a malformed part.
        let unreadable =
            std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |s| {
                s.source()
            })
            .any(|s| s.is::<crate::body::IdleBody>() || s.is::<hyper::Error>());
        if unreadable {
            crate::body::unreadable_body(&e)
        } else {
            HttpError::invalid(e.body_text())
        }
    };
    let mut received: u64 = 0;
    while let Some(mut field) = multipart.next_field().await.map_err(part_error)? {
        let Some(name) = field.file_name().map(str::to_string) else {
            continue;
        };
        let mut file = tokio::fs::File::from_std(upload.file(&name)?);
        while let Some(chunk) = field.chunk().await.map_err(part_error)? {
            received += chunk.len() as u64;
            if received > limit {
                return Err(too_large(limit));
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| HttpError::internal(e.to_string()))?;
        }
        file.sync_all()
            .await
            .map_err(|e| HttpError::internal(e.to_string()))?;
    }
    let dest_dir = q.dest_dir.unwrap_or_default();
    let project = Some(id.clone());
    drop(turn);
    long(
        &st,
        &headers,
        &wait,
        kinds::upload_files,
        project,
        move |a, job| {
            let r: UploadReport = a.finish_upload(&id, upload, &dest_dir, job)?;
            Ok(r)
        },
    )
    .await
}
