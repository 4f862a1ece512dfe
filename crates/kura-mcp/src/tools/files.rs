//! Files of a project's working folder: list, read, save, rename, delete.

use std::io::Write;

use base64::Engine as _;
use kura_api::{ApiError, ErrorCode};
use kura_core::PreviewKind;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::reply::{blocking, Reply};
use crate::server::KuraMcp;

/// The largest file read_file returns as base64 (the text limit is the engine's preview limit,
/// 1 MiB).
pub(crate) const MAX_BASE64_READ: u64 = 4 << 20;

/// How file content is written in a tool's arguments or result.
#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Encoding {
    /// UTF-8 text.
    #[default]
    Text,
    /// Base64 (standard alphabet, padded), for binary files.
    Base64,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct ReadFile {
    /// The project's name or id.
    pub project: String,
    /// The file's path relative to the project folder, with `/`.
    pub path: String,
    /// `text` (default; refused for binary files and files over 1 MiB) or `base64` (any file up
    /// to 4 MiB).
    #[serde(default)]
    pub encoding: Encoding,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct SaveFile {
    /// The project's name or id.
    pub project: String,
    /// The file's path relative to the project folder, with `/`; missing folders are created.
    pub path: String,
    /// The whole new content.
    pub content: String,
    /// How `content` is written: `text` (default) or `base64`.
    #[serde(default)]
    pub encoding: Encoding,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct RenameInProject {
    /// The project's name or id.
    pub project: String,
    #[serde(flatten)]
    pub rename: kura_api::RenameFile,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct FilePath {
    /// The project's name or id.
    pub project: String,
    /// The file's (or folder's) path relative to the project folder, with `/`.
    pub path: String,
}

crate::output::inputs!(ReadFile, SaveFile, RenameInProject, FilePath);

#[tool_router(router = file_tools, vis = "pub(crate)")]
impl KuraMcp {
    /// Reads a file of the project's working folder (its current content, saved or not). Text by
    /// default; binary files need `encoding: "base64"`.
    #[tool(output_schema = crate::output::schema(crate::output::object([("path", crate::output::string()), ("size", crate::output::integer()), ("encoding", crate::output::one_of(&["text", "base64"])), ("content", crate::output::string())])), annotations(title = "Read a file", read_only_hint = true))]
    async fn read_file(&self, Parameters(p): Parameters<ReadFile>) -> Reply {
        blocking(&self.api, move |api| match p.encoding {
            Encoding::Text => read_text(api, &p),
            Encoding::Base64 => read_base64(api, &p),
        })
        .await
    }

    /// Writes a file into the project's working folder, creating it or replacing its content
    /// atomically. The change is recorded in the history at the next snapshot; call snapshot
    /// when a piece of work is done.
    #[tool(output_schema = crate::output::schema_of::<kura_api::Saved>(), annotations(
        title = "Save a file",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true
    ))]
    async fn save_file(&self, Parameters(p): Parameters<SaveFile>) -> Reply {
        blocking(&self.api, move |api| {
            let bytes = match p.encoding {
                Encoding::Text => p.content.into_bytes(),
                Encoding::Base64 => base64::engine::general_purpose::STANDARD
                    .decode(p.content.trim())
                    .map_err(|e| {
                        ApiError::new(
                            ErrorCode::InvalidInput,
                            format!("content is not valid base64 ({e}); nothing was written"),
                        )
                    })?,
            };
            let written = api.save_file(&p.project, &p.path, &mut bytes.as_slice())?;
            Ok(json!(kura_api::Saved {
                path: p.path,
                bytes: written,
            }))
        })
        .await
    }

    /// Renames or moves a file or folder inside the project's working folder.
    #[tool(output_schema = crate::output::schema(crate::output::object([("from", crate::output::string()), ("to", crate::output::string())])), annotations(
        title = "Rename a file",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false
    ))]
    async fn rename_file(&self, Parameters(p): Parameters<RenameInProject>) -> Reply {
        blocking(&self.api, move |api| {
            api.rename_file(&p.project, &p.rename)?;
            Ok(json!({ "from": p.rename.from, "to": p.rename.to }))
        })
        .await
    }

    /// DESTRUCTIVE. Deletes a file (or a folder and everything in it) from the working folder;
    /// earlier versions keep it, changes not yet snapshotted are lost. Refused unless the server
    /// runs with --allow-destructive.
    #[tool(output_schema = crate::output::schema(crate::output::object([("path", crate::output::string()), ("deleted", crate::output::boolean())])), annotations(
        title = "Delete a file",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false
    ))]
    async fn delete_file(&self, Parameters(p): Parameters<FilePath>) -> Reply {
        blocking(&self.api, move |api| {
            api.delete_file(&p.project, &p.path)?;
            Ok(json!({ "path": p.path, "deleted": true }))
        })
        .await
    }
}

fn read_text(api: &kura_api::Api, p: &ReadFile) -> kura_api::ApiResult<serde_json::Value> {
    let preview = api.vault().preview_file(&p.project, &p.path)?;
    match (preview.kind, preview.text) {
        (PreviewKind::Text, Some(text)) => Ok(json!({
            "path": p.path,
            "size": preview.size,
            "encoding": Encoding::Text,
            "content": text,
        })),
        (PreviewKind::TooLarge, _) => Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!(
                "'{}' is {} bytes, over the 1 MiB text limit; read it with encoding \"base64\" \
                 (up to {MAX_BASE64_READ} bytes) or work on smaller files",
                p.path, preview.size
            ),
        )),
        (PreviewKind::Image, _) => Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!(
                "'{}' is an image ({} bytes); read it with encoding \"base64\"",
                p.path, preview.size
            ),
        )),
        _ => Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!(
                "'{}' is not UTF-8 text ({} bytes); read it with encoding \"base64\"",
                p.path, preview.size
            ),
        )),
    }
}

fn read_base64(api: &kura_api::Api, p: &ReadFile) -> kura_api::ApiResult<serde_json::Value> {
    let mut out = Capped {
        data: Vec::new(),
        over: false,
    };
    let read = api.vault().read_file(&p.project, &p.path, &mut out);
    if out.over {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!(
                "'{}' is over the {MAX_BASE64_READ}-byte limit of read_file",
                p.path
            ),
        ));
    }
    let size = read?;
    Ok(json!({
        "path": p.path,
        "size": size,
        "encoding": Encoding::Base64,
        "content": base64::engine::general_purpose::STANDARD.encode(&out.data),
    }))
}

/// A buffer that refuses to grow past [`MAX_BASE64_READ`].
struct Capped {
    data: Vec<u8>,
    over: bool,
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.data.len() as u64 + buf.len() as u64 > MAX_BASE64_READ {
            self.over = true;
            return Err(std::io::Error::other("over the read_file limit"));
        }
        self.data.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
