//! What needs no vault: manual pages written, the logs of the programs that stay on, and
//! whether the desktop app starts at login.

use std::path::Path;

use kura_api::autostart::Autostart;
use kura_api::logs::LogTail;

use super::Out;

impl Out {
    pub fn manpages(&self, dir: &Path, pages: &[String]) {
        self.done_json(
            &format!("{} manual pages written to {}", pages.len(), dir.display()),
            serde_json::json!({ "folder": dir, "pages": pages }),
        );
    }

    pub fn logs(&self, tail: &LogTail) {
        let text = match &tail.file {
            None => format!(
                "No logs yet in {}: the app, `kura serve` and `kura mcp` write them there.",
                tail.folder
            ),
            Some(file) => format!("{file}:\n{}", tail.lines.join("\n")),
        };
        self.done_json(&text, serde_json::json!(tail));
    }

    pub fn autostart(&self, state: &Autostart) {
        self.done_json(&describe_autostart(state), serde_json::json!(state));
    }
}

fn describe_autostart(state: &Autostart) -> String {
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
