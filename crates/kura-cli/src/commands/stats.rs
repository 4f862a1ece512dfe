//! `kura stats` (where the space goes) and `kura quota` (usage against the quotas).

use std::process::ExitCode;
use std::sync::Arc;

use kura_api::Api;
use kura_core::Error;

use super::now;
use crate::print::Out;

/// `kura stats`.
pub fn run(out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    out.stats(&api.vault().stats()?, now());
    Ok(ExitCode::SUCCESS)
}

/// `kura quota`.
pub fn quota(out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    out.quota(&api.vault().quota_status()?);
    Ok(ExitCode::SUCCESS)
}
