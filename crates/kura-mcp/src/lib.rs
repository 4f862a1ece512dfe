//! Kura's MCP door: the vault's operations as [Model Context Protocol] tools, served over stdio
//! by `kura mcp` to AI agent clients (Claude Desktop, Claude Code, ...).
//!
//! Every tool is an adapter of a few lines over the engine ([`kura_core::Vault`], through
//! [`kura_api::Api::vault`]) or [`kura_backup`]: it parses its JSON arguments (their schema comes
//! from the Rust parameter types), runs the blocking engine call on tokio's blocking pool, and
//! answers with the result as JSON (text content and structured content). Changes are announced
//! with [`kura_api::Api::changed`], so a running desktop app or `kura serve` sees them in the
//! event log. Engine errors become tool errors (`isError: true`) whose text is the JSON
//! `{ code, message }`.
//!
//! Tools are annotated: read-only tools with `readOnlyHint`, tools that can lose data in the
//! working folder (restore over it, delete a file, trash or delete a project) with
//! `destructiveHint`. Destructive tools are always listed, so an agent can tell its user what it
//! could do, but are refused with a clear message unless the server runs with
//! [`Options::allow_destructive`]; [`Options::read_only`] refuses every tool that changes
//! anything.
//!
//! stdout is the protocol channel: nothing else is written to it (logs go to stderr).
//!
//! Every request on the wire gets an answer: [`serve`] reads the lines itself and answers those
//! rmcp would let go unanswered (not JSON, not UTF-8, not JSON-RPC, over a [`Limits`]) with a
//! JSON-RPC error (`-32700`, `-32600`, `-32602`) carrying the request's id when it can be read
//! and naming the limit (`error.data.limit`: `max_line_bytes`, `max_depth`).
//!
//! ```
//! use kura_mcp::{KuraMcp, Options};
//! use rmcp::{model::CallToolRequestParams, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let dir = tempfile::tempdir().unwrap();
//! let vault = kura_core::Vault::open(dir.path()).unwrap();
//! let api = kura_api::Api::open(vault).unwrap();
//! // The server and a client over an in-memory pipe (`kura mcp` uses stdin and stdout).
//! let (server_end, client_end) = tokio::io::duplex(1 << 16);
//! tokio::spawn(async move {
//!     let server = KuraMcp::new(api, Options::default()).serve(server_end).await.unwrap();
//!     server.waiting().await.unwrap();
//! });
//! let client = ().serve(client_end).await.unwrap();
//! let args = serde_json::json!({ "name": "site" }).as_object().unwrap().clone();
//! let created = client
//!     .call_tool(CallToolRequestParams::new("create_project").with_arguments(args))
//!     .await
//!     .unwrap();
//! assert_eq!(created.structured_content.unwrap()["name"], "site");
//! # }
//! ```
//!
//! [Model Context Protocol]: https://modelcontextprotocol.io

#[cfg(test)]
mod doors;
mod options;
mod output;
mod reply;
mod server;
mod tools;
mod wire;

pub use options::{Limits, Options};
pub use server::KuraMcp;
pub use wire::{run_stdio, serve};
