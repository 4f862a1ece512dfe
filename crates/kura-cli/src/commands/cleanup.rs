//! `kura cleanup`: purge the trash, archive idle projects, thin automatic versions, collect
//! chunks, clear leftovers; `kura cleanup history` lists past runs.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use kura_api::{calls, Api};
use kura_core::{CleanupCategory, CleanupOptions, Error};

use super::now;
use crate::print::Out;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CleanupArgs {
    #[command(subcommand)]
    cmd: Option<CleanupCmd>,
    /// Show what would be removed; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Only these categories: trash, archive, versions, chunks, cache (comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<CleanupCategory>,
}

#[derive(Subcommand)]
#[command(defer = true)]
pub enum CleanupCmd {
    /// Past cleanup runs with the bytes freed per category.
    History {
        /// At most this many runs, newest first (default: all).
        #[arg(long, short = 'n')]
        limit: Option<u32>,
    },
}

pub fn run(args: &CleanupArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    match &args.cmd {
        Some(CleanupCmd::History { limit }) => {
            out.cleanup_runs(&api.vault().cleanup_runs(*limit)?, now())
        }
        None => {
            let options = CleanupOptions {
                dry_run: args.dry_run,
                only: args.only.clone(),
            };
            out.cleanup(&calls::run_cleanup(api, options, &out.job())?)
        }
    }
    Ok(ExitCode::SUCCESS)
}
