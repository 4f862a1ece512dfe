//! `kura gc` (remove chunks no version references) and the hidden `kura purge-discarded`
//! (remove the folders an archive or a deletion moved aside).

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
