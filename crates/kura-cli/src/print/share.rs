//! Shared links.

use std::fmt::Write as _;

use kura_backup::{Share, ShareState};
use serde_json::json;

use super::Out;
use crate::human;

impl Out {
    /// A new share: its link, until when it works, and how to revoke it.
    pub fn shared(&self, share: &Share, now: i64) {
        let mut text = format!(
            "Shared {} version {} ({}) through '{}' until {}:\n{}",
            share.project_name,
            &share.version[..share.version.len().min(10)],
            human::bytes(share.size),
            share.target,
            human::when(share.expires, now),
            share.url
        );
        if share.target_encrypted {
            text.push_str(&format!(
                "\nNote: the shared copy is not encrypted, unlike the backups on '{}': whoever has the link can read it.",
                share.target
            ));
        }
        let _ = writeln!(text, "\nRevoke it with: kura share revoke {}", share.id);
        self.done_json(text.trim_end(), json!(share));
    }

    /// The shares, newest first, with whether each still works.
    pub fn shares(&self, list: &[Share], now: i64) {
        let mut text = String::new();
        for s in list {
            let when = match s.state {
                ShareState::Active => human::when(s.expires, now),
                ShareState::Expired => human::ago(s.expires, now),
                ShareState::Revoked => human::ago(s.revoked.unwrap_or(s.expires), now),
            };
            let _ = writeln!(
                text,
                "{}  {:<16} {} {}  {} {when}\n    {}",
                s.id,
                s.project_name,
                &s.version[..s.version.len().min(10)],
                human::bytes(s.size),
                state_text(s),
                if s.state == ShareState::Active {
                    s.url.as_str()
                } else {
                    "(link no longer works)"
                }
            );
        }
        self.done_json(
            if list.is_empty() {
                "No shares."
            } else {
                text.trim_end()
            },
            json!(list),
        );
    }

    pub fn share_revoked(&self, share: &Share) {
        self.done_json(
            &format!(
                "Revoked share {} of {}: its copy at '{}' is deleted and the link no longer works",
                share.id, share.project_name, share.target
            ),
            json!(share),
        );
    }

    /// The ids of the expired shares whose copies were deleted.
    pub fn shares_pruned(&self, deleted: &[String]) {
        let text = match deleted.len() {
            0 => "No expired share has a copy left at its target.".to_string(),
            1 => "Deleted the copy of 1 expired share.".to_string(),
            n => format!("Deleted the copies of {n} expired shares."),
        };
        self.done_json(&text, json!({ "deleted": deleted }));
    }
}

fn state_text(s: &Share) -> &'static str {
    match s.state {
        ShareState::Active => "works until",
        ShareState::Expired => "expired",
        ShareState::Revoked => "revoked",
    }
}
