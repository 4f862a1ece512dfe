//! `kura gc` (remove chunks no version references) and the hidden commands other commands
//! start in the background: `kura purge-discarded` (remove the folders an archive or a
//! deletion moved aside) and `kura repack-due` (rewrite with deltas the histories versions left
//! due a repack: many packs, or one version that brought much).

use std::process::ExitCode;
use std::sync::Arc;

use kura_api::{calls, Api};
use kura_core::Error;

use crate::print::Out;

/// `kura gc`.
pub fn run(out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    out.gc(&calls::collect_garbage(api, &out.job())?);
    Ok(ExitCode::SUCCESS)
}

/// `kura purge-discarded`, started in the background by the commands that discard folders; it
/// prints nothing.
pub fn purge_discarded(api: &Arc<Api>) -> Result<ExitCode, Error> {
    api.purge_discarded()?;
    Ok(ExitCode::SUCCESS)
}

/// `kura repack-due PROJECT...`, started in the background by the commands that take versions;
/// it prints nothing. A project gone meanwhile is skipped; one that fails does not stop the
/// others (the first failure is the command's).
pub fn repack_due(projects: &[String], api: &Arc<Api>) -> Result<ExitCode, Error> {
    let mut failed = None;
    for id in projects {
        match api.repack_if_due(id) {
            Ok(_) => {}
            Err(e) if e.code == kura_api::ErrorCode::NotFound => {}
            Err(e) => {
                tracing::warn!("rewriting the history of {id} with deltas failed: {e}");
                failed.get_or_insert(e);
            }
        }
    }
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(ExitCode::SUCCESS),
    }
}
