//! `kura share ...`: a version of a project as a download link from an S3 target; the list of
//! shares, revoking one, and deleting the copies of expired ones.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use kura_api::Api;
use kura_backup::{Share, ShareRequest, ShareState};
use kura_core::{Error, ErrorKind, Job};
use serde_json::json;

use crate::human;
use crate::print::Out;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ShareArgs {
    #[command(subcommand)]
    cmd: Option<ShareCmd>,
    /// The project to share (name or id).
    project: Option<String>,
    /// The version (an id or a prefix of one, latest~N); the latest when absent.
    #[arg(long)]
    version: Option<String>,
    /// The S3 target the shared copy goes to.
    #[arg(long)]
    target: Option<String>,
    /// How long the link works: "30m", "24h", "7d" (at most 7 days).
    #[arg(long, default_value = "24h")]
    expires: String,
}

#[derive(Subcommand)]
enum ShareCmd {
    /// The shared links, newest first, with whether each still works.
    List {
        /// Only the shares of this project.
        #[arg(long, short)]
        project: Option<String>,
    },
    /// Revoke a link: its copy at the target is deleted, so it stops working at once.
    Revoke {
        /// The share's id (as `kura share list` shows it).
        id: String,
    },
    /// Delete the copies of shares whose links have expired (the app and `kura serve` do this
    /// every minute); the shares stay listed as expired.
    Prune,
}

fn state_text(s: &Share) -> &'static str {
    match s.state {
        ShareState::Active => "works until",
        ShareState::Expired => "expired",
        ShareState::Revoked => "revoked",
    }
}

pub fn run(
    args: &ShareArgs,
    api: &Arc<Api>,
    out: &Out,
    job: Job,
    now: i64,
) -> Result<ExitCode, Error> {
    // Through the service: a new, revoked or pruned share is announced (`share.changed`).
    match &args.cmd {
        None => {
            let (Some(project), Some(target)) = (&args.project, &args.target) else {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "name the project and the S3 target: kura share PROJECT --target T [--version V] [--expires 24h]",
                ));
            };
            let share = api.share_project(
                &ShareRequest {
                    project: project.clone(),
                    version: args.version.clone(),
                    target: target.clone(),
                    expires: args.expires.clone(),
                },
                &job,
            )?;
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
            out.done_json(text.trim_end(), json!(share));
        }
        Some(ShareCmd::List { project }) => {
            let list = api.shares(project.as_deref())?;
            let mut text = String::new();
            for s in &list {
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
            out.done_json(
                if list.is_empty() {
                    "No shares."
                } else {
                    text.trim_end()
                },
                json!(list),
            );
        }
        Some(ShareCmd::Revoke { id }) => {
            let share = api.revoke_share(id)?;
            out.done_json(
                &format!(
                    "Revoked share {} of {}: its copy at '{}' is deleted and the link no longer works",
                    share.id, share.project_name, share.target
                ),
                json!(share),
            );
        }
        Some(ShareCmd::Prune) => {
            let deleted = api.delete_expired_shares()?;
            let text = match deleted.len() {
                0 => "No expired share has a copy left at its target.".to_string(),
                1 => "Deleted the copy of 1 expired share.".to_string(),
                n => format!("Deleted the copies of {n} expired shares."),
            };
            out.done_json(&text, json!({ "deleted": deleted }));
        }
    }
    Ok(ExitCode::SUCCESS)
}
