//! `kura manpages DIR`: the manual pages, generated from the same clap definitions as the
//! parser. Needs no vault.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory};
use kura_core::Error;

use crate::print::Out;
use crate::Cli;

#[derive(Args)]
pub struct ManpagesArgs {
    /// The folder (made when missing).
    dir: PathBuf,
}

/// Writes `kura.1` and one page per command (`kura-backup-run.1`, ...) into the folder, made
/// when missing.
pub fn run(args: &ManpagesArgs, out: &Out) -> Result<ExitCode, Error> {
    let dir = &args.dir;
    let io = |e: std::io::Error| Error::from_io("write manual pages to", dir, e);
    std::fs::create_dir_all(dir).map_err(io)?;
    clap_mangen::generate_to(Cli::command(), dir).map_err(io)?;
    let mut pages: Vec<String> = std::fs::read_dir(dir)
        .map_err(io)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("kura") && n.ends_with(".1"))
        .collect();
    pages.sort();
    out.manpages(dir, &pages);
    Ok(ExitCode::SUCCESS)
}
