//! `kura workspace ...`: create, rename, switch, list and delete workspaces.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use kura_api::{calls, Api};
use kura_core::Error;

use crate::print::Out;

#[derive(Subcommand)]
#[command(defer = true)]
pub enum WorkspaceCmd {
    /// List workspaces.
    List,
    /// Show the active workspace.
    Current,
    /// Create a workspace.
    Create {
        /// The new workspace's name.
        name: String,
    },
    /// Rename a workspace.
    Rename {
        /// The workspace.
        name: String,
        /// Its new name.
        new_name: String,
    },
    /// Make a workspace the active one.
    Switch {
        /// The workspace.
        name: String,
    },
    /// Delete a workspace (refused while it holds projects, unless --move-to).
    Delete {
        /// The workspace.
        name: String,
        /// Move its projects to this workspace first.
        #[arg(long)]
        move_to: Option<String>,
    },
}

pub fn run(cmd: &WorkspaceCmd, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    match cmd {
        WorkspaceCmd::List => out.workspaces(&calls::list_workspaces(api)?),
        WorkspaceCmd::Current => out.workspace(&api.vault().current_workspace()?, None),
        WorkspaceCmd::Create { name } => out.workspace(
            &calls::create_workspace(api, name.clone())?,
            Some("Created"),
        ),
        WorkspaceCmd::Rename { name, new_name } => out.workspace(
            &calls::rename_workspace(api, name.clone(), new_name.clone())?,
            Some("Renamed"),
        ),
        WorkspaceCmd::Switch { name } => out.workspace(
            &calls::switch_workspace(api, name.clone())?,
            Some("Switched to"),
        ),
        WorkspaceCmd::Delete { name, move_to } => {
            calls::delete_workspace(api, name.clone(), move_to.clone())?;
            out.workspace_deleted(name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
