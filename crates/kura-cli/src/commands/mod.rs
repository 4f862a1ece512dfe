//! One file per top-level command or group of commands, as `kura --help` lists them (rustic's
//! `src/commands/*.rs`). Each holds the command's clap arguments and its `run`, an adapter of a
//! few lines: parse the input, call the service (`kura_api::Api`, opened once by `main`), hand
//! the result to the printer (`crate::print::Out`), which writes text or `--json`.

pub mod archive;
pub mod autostart;
pub mod backup;
pub mod cleanup;
pub mod completions;
pub mod config;
pub mod file;
pub mod gc;
pub mod git;
pub mod history;
pub mod logs;
pub mod manpages;
pub mod mcp;
pub mod project;
pub mod records;
pub mod serve;
pub mod share;
pub mod stats;
pub mod status;
pub mod verify;
pub mod workspace;

use kura_core::{Error, ErrorKind};

/// Now, in seconds since the Unix epoch: what "3 minutes ago" counts from.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A refusal of what was typed.
pub fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, message)
}
