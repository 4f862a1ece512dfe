//! `kura autostart [on|off]`: whether the desktop app starts when the person logs in, through
//! the same XDG autostart entry as the app's own switch (`kura_api::autostart`). The app it
//! starts is `kura-desktop` next to this `kura` (packages install both in /usr/bin). Needs no
//! vault.

use std::process::ExitCode;

use clap::Args;
use kura_api::autostart;
use kura_core::Error;

use crate::print::Out;

#[derive(Args)]
pub struct AutostartArgs {
    /// Start the app at login (on) or stop doing so (off); without it, say which is set.
    #[arg(value_enum)]
    switch: Option<Switch>,
}

/// `on`, `off`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

pub fn run(args: &AutostartArgs, out: &Out) -> Result<ExitCode, Error> {
    let api = |e: kura_api::ApiError| Error::new(e.code, e.message);
    let state = match args.switch {
        None => autostart::status(),
        Some(Switch::On) => {
            autostart::desktop_beside_current().and_then(|desktop| autostart::enable(&desktop))
        }
        Some(Switch::Off) => autostart::disable(),
    }
    .map_err(api)?;
    out.autostart(&state);
    Ok(ExitCode::SUCCESS)
}
