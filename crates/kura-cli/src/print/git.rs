//! The git side of a project: its folder's own repository, and pushes of its history.

use kura_core::{FolderGitCommit, FolderGitStatus, PushReport};

use super::{print_json, Out};
use crate::human;

impl Out {
    pub fn git_status(&self, s: &FolderGitStatus) {
        if self.json {
            return print_json(s);
        }
        match (&s.branch, &s.head) {
            (Some(b), Some(h)) => println!("On branch {b} at {}", &h[..10]),
            (Some(b), None) => println!("On branch {b}, no commits yet"),
            (None, Some(h)) => println!("Detached at {}", &h[..10]),
            (None, None) => println!("No commits yet"),
        }
        if s.changes.is_empty() {
            println!("Nothing to commit, working tree clean");
        }
        for c in &s.changes {
            println!("{} {}", c.status, c.path);
        }
    }

    pub fn git_log(&self, list: &[FolderGitCommit], now: i64) {
        if self.json {
            return print_json(list);
        }
        for c in list {
            println!(
                "{}  {:<14} {}  ({})",
                &c.id[..10],
                human::ago(c.time, now),
                c.summary,
                c.author
            );
        }
    }

    pub fn git_pushed(&self, r: &PushReport) {
        self.done_json(
            &format!(
                "Pushed version {} to {} ({})",
                &r.version[..10],
                r.remote,
                r.branch
            ),
            serde_json::to_value(r).unwrap_or_default(),
        );
    }

    pub fn git_initialized(&self, project: &str) {
        self.done(&format!("Made the folder of '{project}' a git repository"));
    }
}
