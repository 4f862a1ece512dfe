//! `kura autostart [on|off]`: whether the desktop app starts when the person logs in, through
//! the same XDG autostart entry as the app's own switch (`kura_api::autostart`). The app it
//! starts is `kura-desktop` next to this `kura` (packages install both in /usr/bin).

use std::process::ExitCode;

use kura_api::autostart::{self, Autostart};
use kura_core::Error;

use crate::print::Out;

/// `on`, `off`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

pub fn run(switch: Option<Switch>, out: &Out) -> Result<ExitCode, Error> {
    let api = |e: kura_api::ApiError| Error::new(e.code, e.message);
    let state = match switch {
        None => autostart::status(),
        Some(Switch::On) => {
            autostart::desktop_beside_current().and_then(|desktop| autostart::enable(&desktop))
        }
        Some(Switch::Off) => autostart::disable(),
    }
    .map_err(api)?;
    out.done_json(&describe(&state), serde_json::json!(state));
    Ok(ExitCode::SUCCESS)
}

fn describe(state: &Autostart) -> String {
    match (&state.exec, state.enabled) {
        (None, _) => format!(
            "Start at login: off (no entry at {}; `kura autostart on` writes it)",
            state.entry
        ),
        (Some(exec), true) => format!(
            "Start at login: on\nEntry: {}\nStarts: {exec}",
            state.entry
        ),
        (Some(exec), false) => format!(
            "Start at login: off (the entry is turned off in your desktop's settings)\nEntry: {}\nStarts: {exec}",
            state.entry
        ),
    }
}
