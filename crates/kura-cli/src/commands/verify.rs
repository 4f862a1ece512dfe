//! `kura verify`: check the catalog, histories and chunks.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use kura_api::{calls, Api};
use kura_core::{Error, ErrorKind};

use crate::print::Out;

#[derive(Args)]
pub struct VerifyArgs {
    /// Only this project.
    project: Option<String>,
}

/// Exits with the code of corruption when a problem is found.
pub fn run(args: &VerifyArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let request = kura_api::VerifyVault {
        project: args.project.clone(),
    };
    let r = calls::verify_vault(api, request, &out.job())?;
    out.verify(&r);
    if !r.is_ok() {
        return Ok(ExitCode::from(crate::exit_code(ErrorKind::Corrupt)));
    }
    Ok(ExitCode::SUCCESS)
}
