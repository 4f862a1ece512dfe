//! `kura stats` (where the space goes) and `kura quota` (usage against the quotas).

use std::process::ExitCode;
use std::sync::Arc;

use kura_api::{calls, Api};
use kura_core::Error;

use super::now;
use crate::print::Out;

/// `kura stats`.
pub fn run(out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    out.stats(&calls::get_stats(api)?, now());
    Ok(ExitCode::SUCCESS)
}

/// `kura quota`.
pub fn quota(out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    out.quota(&calls::get_quota(api)?);
    Ok(ExitCode::SUCCESS)
}
