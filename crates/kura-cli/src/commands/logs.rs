//! `kura logs`: the end of the newest log of the programs that stay on (the app, `kura serve`,
//! `kura mcp`), and where the logs are. Needs no vault.

use std::process::ExitCode;

use clap::Args;
use kura_core::Error;

use crate::print::Out;

#[derive(Args)]
pub struct LogsArgs {
    /// Lines to show.
    #[arg(long, short = 'n', default_value_t = 50)]
    lines: usize,
}

/// Prints the last lines of the newest log file, after saying where the logs are.
pub fn run(args: &LogsArgs, out: &Out) -> Result<ExitCode, Error> {
    let tail = kura_api::logs::tail(None, args.lines).map_err(|e| Error::new(e.code, e.message))?;
    out.logs(&tail);
    Ok(ExitCode::SUCCESS)
}
