//! Output: text for people, or JSON for scripts; progress bars on standard error. Every line
//! a command prints is written here, one submodule per area of commands (as `commands/` has
//! them): a command calls the service and hands the result to a method of [`Out`].

mod app;
mod archive;
mod backup;
mod file;
mod git;
mod history;
mod progress;
mod project;
mod records;
mod serve;
mod share;
mod vault;
mod workspace;

use kura_core::{Error, Job};
use serde::Serialize;
use serde_json::json;

/// Where results go, and whether long work draws progress bars.
pub struct Out {
    json: bool,
    progress: bool,
}

fn print_json<T: Serialize + ?Sized>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("kura: cannot write JSON: {e}"),
    }
}

impl Out {
    /// Output as text, or as JSON with `json`; no progress bars.
    pub fn new(json: bool) -> Out {
        Out {
            json,
            progress: false,
        }
    }

    /// The same, drawing progress bars on standard error when `on`.
    pub fn with_progress(self, on: bool) -> Out {
        Out {
            progress: on,
            ..self
        }
    }

    /// A job for a long operation: drawing its progress when bars are on, else silent.
    pub fn job(&self) -> Job {
        if self.progress {
            progress::progress_job()
        } else {
            Job::default()
        }
    }

    pub fn error(&self, err: &Error) {
        if self.json {
            print_json(&json!({"error": {"code": err.kind().code(), "message": err.message()}}));
        } else {
            eprintln!("kura: {err}");
        }
    }

    pub fn done(&self, text: &str) {
        if self.json {
            print_json(&json!({"ok": true, "message": text}));
        } else {
            println!("{text}");
        }
    }

    pub fn done_json(&self, text: &str, value: serde_json::Value) {
        if self.json {
            print_json(&value);
        } else {
            println!("{text}");
        }
    }
}
