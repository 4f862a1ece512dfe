//! `kura mcp`: the vault's operations as MCP tools over standard input and output, for AI agent
//! clients (crates/kura-mcp).

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use kura_api::Api;
use kura_core::Error;

#[derive(Args)]
pub struct McpArgs {
    /// Enable the destructive tools (restore over the working folder, delete a file, trash
    /// or delete a project); without it they are not listed, and refused if called anyway.
    #[arg(long)]
    allow_destructive: bool,
    /// Refuse every tool that changes the vault.
    #[arg(long, conflicts_with = "allow_destructive")]
    read_only: bool,
    /// The longest message (one line of JSON) read, in bytes; a longer one is refused with
    /// a JSON-RPC error naming this limit. The default, 64 MiB, fits a save_file of about
    /// 60 MiB of text.
    #[arg(long, value_name = "BYTES", default_value_t = kura_mcp::Limits::DEFAULT_MAX_LINE_BYTES)]
    max_line_bytes: usize,
    /// How deep arrays and objects may nest in a message (a tool's arguments start at level
    /// 3); deeper is refused with a JSON-RPC error naming this limit. At most 120.
    #[arg(long, value_name = "LEVELS", default_value_t = kura_mcp::Limits::DEFAULT_MAX_DEPTH,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=120))]
    max_depth: usize,
}

/// Serves until the client closes standard input; its answers are the protocol's, not the
/// printer's.
pub fn run(args: &McpArgs, api: &Arc<Api>) -> Result<ExitCode, Error> {
    kura_mcp::run_stdio(
        api.clone(),
        kura_mcp::Options {
            allow_destructive: args.allow_destructive,
            read_only: args.read_only,
            limits: kura_mcp::Limits {
                max_line_bytes: args.max_line_bytes,
                max_depth: args.max_depth,
            },
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
