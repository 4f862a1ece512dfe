//! `kura config ...`: show or change settings in config.toml.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use kura_api::{calls, Api};
use kura_core::Error;

use crate::print::Out;

#[derive(Subcommand)]
#[command(defer = true)]
pub enum ConfigCmd {
    /// Print every setting in force.
    Show,
    /// Print the path of config.toml.
    Path,
    /// Print one setting.
    Get {
        /// The setting's dotted key (storage.compression_level).
        key: String,
    },
    /// Change one setting.
    Set {
        /// The setting's dotted key (storage.compression_level).
        key: String,
        /// Its new value, as config.toml holds it (64 MiB, true, a comma-separated list, ...).
        value: String,
    },
}

pub fn run(cmd: &ConfigCmd, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    match cmd {
        ConfigCmd::Show => out.config(&calls::get_config(api)?),
        ConfigCmd::Path => out.config_path(&api.vault().config_path()),
        ConfigCmd::Get { key } => out.config_value(key, &calls::get_config(api)?.get(key)?),
        ConfigCmd::Set { key, value } => {
            let c = calls::set_config(api, key.clone(), value.clone())?;
            out.config_set(key, &c.get(key)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
