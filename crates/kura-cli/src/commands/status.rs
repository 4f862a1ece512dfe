//! `kura status`: the vault, the active workspace and a summary of projects.

use std::process::ExitCode;
use std::sync::Arc;

use kura_api::Api;
use kura_core::Error;

use crate::print::Out;

pub fn run(out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let vault = api.vault();
    let ws = vault.current_workspace()?;
    let stats = vault.stats()?;
    out.status(vault, &ws, &stats);
    Ok(ExitCode::SUCCESS)
}
