//! A project's files.

use kura_core::{FileEntry, FileState};

use super::{print_json, Out};
use crate::human;

impl Out {
    pub fn files(&self, list: &[FileEntry], now: i64) {
        if self.json {
            return print_json(list);
        }
        for f in list {
            let mark = match f.state {
                FileState::Unchanged => " ",
                FileState::Modified => "M",
                FileState::New => "+",
                FileState::Deleted => "-",
            };
            println!(
                "{mark} {:>9}  {:<6}  {:<10}  {:<14}  {}",
                human::bytes(f.size),
                f.layer
                    .map(|l| format!("{l:?}").to_lowercase())
                    .unwrap_or_else(|| "-".into()),
                f.last_version
                    .as_deref()
                    .map(|v| &v[..10.min(v.len())])
                    .unwrap_or("-"),
                f.modified_at
                    .map(|t| human::ago(t, now))
                    .unwrap_or_default(),
                f.path
            );
        }
    }

    pub fn file_saved(&self, path: &str, bytes: u64) {
        self.done_json(
            &format!("Saved {path} ({})", human::bytes(bytes)),
            serde_json::json!({"path": path, "bytes": bytes}),
        );
    }

    pub fn file_renamed(&self, from: &str, to: &str) {
        self.done(&format!("Renamed {from} to {to}"));
    }

    pub fn file_deleted(&self, path: &str) {
        self.done(&format!("Deleted {path}"));
    }
}
