//! `kura share ...`: a version of a project as a download link from an S3 target; the list of
//! shares, revoking one, and deleting the copies of expired ones.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use kura_api::{calls, Api};
use kura_backup::ShareOptions;
use kura_core::Error;

use super::{invalid, now};
use crate::print::Out;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ShareArgs {
    #[command(subcommand)]
    cmd: Option<ShareCmd>,
    /// The project to share (name or id).
    project: Option<String>,
    /// The version (an id or a prefix of one, latest~N); the latest when absent.
    #[arg(long)]
    version: Option<String>,
    /// The S3 target the shared copy goes to.
    #[arg(long)]
    target: Option<String>,
    /// How long the link works: "30m", "24h", "7d" (at most 7 days).
    #[arg(long, default_value = "24h")]
    expires: String,
}

#[derive(Subcommand)]
#[command(defer = true)]
enum ShareCmd {
    /// The shared links, newest first, with whether each still works.
    List {
        /// Only the shares of this project.
        #[arg(long, short)]
        project: Option<String>,
    },
    /// Revoke a link: its copy at the target is deleted, so it stops working at once.
    Revoke {
        /// The share's id (as `kura share list` shows it).
        id: String,
    },
    /// Delete the copies of shares whose links have expired (the app and `kura serve` do this
    /// every minute); the shares stay listed as expired.
    Prune,
}

/// Through the service: a new, revoked or pruned share is announced (`share.changed`).
pub fn run(args: &ShareArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let now = now();
    match &args.cmd {
        None => {
            let (Some(project), Some(target)) = (&args.project, &args.target) else {
                return Err(invalid(
                    "name the project and the S3 target: kura share PROJECT --target T [--version V] [--expires 24h]",
                ));
            };
            let options = ShareOptions {
                version: args.version.clone(),
                target: target.clone(),
                expires: args.expires.clone(),
            };
            let share = calls::share_project(api, project.clone(), options, &out.job())?;
            out.shared(&share, now);
        }
        Some(ShareCmd::List { project }) => {
            out.shares(&calls::list_shares(api, project.clone())?, now)
        }
        Some(ShareCmd::Revoke { id }) => out.share_revoked(&calls::revoke_share(api, id.clone())?),
        Some(ShareCmd::Prune) => out.shares_pruned(&api.delete_expired_shares()?),
    }
    Ok(ExitCode::SUCCESS)
}
