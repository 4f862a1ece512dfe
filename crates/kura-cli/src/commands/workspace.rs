//! `kura workspace ...`: create, rename, switch, list and delete workspaces.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use kura_api::Api;
use kura_core::Error;

use crate::print::Out;

#[derive(Subcommand)]
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
    let vault = api.vault();
    match cmd {
        WorkspaceCmd::List => out.workspaces(&vault.workspaces()?),
        WorkspaceCmd::Current => out.workspace(&vault.current_workspace()?, None),
        WorkspaceCmd::Create { name } => {
            out.workspace(&api.create_workspace(name)?, Some("Created"))
        }
        WorkspaceCmd::Rename { name, new_name } => {
            out.workspace(&api.rename_workspace(name, new_name)?, Some("Renamed"))
        }
        WorkspaceCmd::Switch { name } => {
            out.workspace(&api.switch_workspace(name)?, Some("Switched to"))
        }
        WorkspaceCmd::Delete { name, move_to } => {
            api.delete_workspace(name, move_to.as_deref())?;
            out.workspace_deleted(name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
