//! `kura git ...`: push a project's history to a git remote; status, log or init of the project
//! folder's own git repository.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use kura_api::{calls, Api};
use kura_core::Error;

use super::now;
use crate::print::Out;

#[derive(Subcommand)]
#[command(defer = true)]
pub enum GitCmd {
    /// Push the version history to the project's git remote (or --remote).
    Push {
        /// Project name or id.
        project: String,
        /// Remote URL or path (default: the project's git remote).
        #[arg(long)]
        remote: Option<String>,
        /// Remote branch (default: main).
        #[arg(long)]
        branch: Option<String>,
    },
    /// `git status` of the project's folder.
    Status {
        /// Project name or id.
        project: String,
    },
    /// `git log` of the project's folder.
    Log {
        /// Project name or id.
        project: String,
        /// At most this many commits.
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: usize,
    },
    /// Make the project's folder a git repository.
    Init {
        /// Project name or id.
        project: String,
    },
}

pub fn run(cmd: &GitCmd, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let vault = api.vault();
    match cmd {
        GitCmd::Push {
            project,
            remote,
            branch,
        } => out.git_pushed(&vault.push_history(project, remote.as_deref(), branch.as_deref())?),
        GitCmd::Status { project } => out.git_status(&calls::get_git_status(api, project.clone())?),
        GitCmd::Log { project, limit } => {
            let limit = u32::try_from(*limit).unwrap_or(u32::MAX);
            out.git_log(
                &calls::get_git_log(api, project.clone(), Some(limit))?,
                now(),
            )
        }
        GitCmd::Init { project } => {
            calls::init_git_repository(api, project.clone())?;
            out.git_initialized(project);
        }
    }
    Ok(ExitCode::SUCCESS)
}
