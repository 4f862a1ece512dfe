//! `kura completions SHELL`: a shell's completion script, generated from the same clap
//! definitions as the parser. Needs no vault.

use std::process::ExitCode;

use clap::{Args, CommandFactory};
use kura_core::{Error, ErrorKind};

use crate::Cli;

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Prints the completion script of the shell to standard output.
pub fn run(args: &CompletionsArgs) -> Result<ExitCode, Error> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "kura", &mut buf);
    let script = String::from_utf8(buf)
        .map_err(|_| Error::new(ErrorKind::Internal, "the completion script is not UTF-8"))?;
    // Through the crate's `print!`: a closed pipe ends kura quietly. The script is the output
    // itself, for text and `--json` alike.
    print!("{script}");
    Ok(ExitCode::SUCCESS)
}
