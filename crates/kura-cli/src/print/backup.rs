//! Backups: runs, the backups at a target and inside one, checks, prunes, restores, schedules,
//! the pause, targets and their health.

use std::fmt::Write as _;

use kura_api::ApiResult;
use kura_backup::{
    BackupContents, BackupInfo, BackupRestoreReport, BackupVerifyReport, Pause, PruneReport,
    RunRecord, RunReport, Target, TargetHealth, TargetStatus, TestReport,
};
use serde_json::json;

use super::Out;
use crate::human;

impl Out {
    /// What `kura backup run` did at each target, in the order they ran.
    pub fn backups_made(&self, results: &[(String, ApiResult<RunReport>)]) {
        let mut reports = Vec::new();
        let mut text = String::new();
        for (name, result) in results {
            match result {
                Ok(r) => {
                    let _ = writeln!(
                        text,
                        "Backed up to '{name}': backup {} — {}, {}; read {}, sent {} ({} new chunks)",
                        r.backup.id,
                        human::count(r.backup.files, "file"),
                        human::bytes(r.backup.bytes),
                        human::bytes(r.run.bytes_read),
                        human::bytes(r.run.bytes_sent),
                        r.run.new_blobs
                    );
                    reports.push(
                        json!({"target": name, "ok": true, "run": r.run, "backup": r.backup}),
                    );
                }
                Err(e) => {
                    let _ = writeln!(text, "'{name}': {} ({})", e.message, e.code.code());
                    reports.push(json!({"target": name, "ok": false, "error": {"code": e.code, "message": e.message}}));
                }
            }
        }
        self.done_json(text.trim_end(), json!(reports));
    }

    /// The recent runs, newest first.
    pub fn backup_runs(&self, list: &[RunRecord]) {
        let mut text = String::new();
        for r in list {
            let took = r
                .finished
                .map(|f| human::duration(f.saturating_sub(r.started).max(0) as u64))
                .unwrap_or_default();
            let _ = writeln!(
                text,
                "{}  {:<10} {:<12} {:>6}  sent {:>9}  {}{}",
                human::date(r.started),
                r.target,
                format!("{:?}", r.result).to_lowercase(),
                took,
                human::bytes(r.bytes_sent),
                r.backup_id.as_deref().unwrap_or(""),
                r.error
                    .as_deref()
                    .map(|e| format!(" {e}"))
                    .unwrap_or_default()
            );
        }
        self.done_json(
            if list.is_empty() {
                "No runs yet."
            } else {
                text.trim_end()
            },
            json!(list),
        );
    }

    /// The projects inside one backup.
    pub fn backup_contents(&self, c: &BackupContents) {
        let mut text = format!(
            "Backup {} ({}, {}):\n",
            c.info.id,
            human::count(c.info.files, "file"),
            human::bytes(c.info.bytes)
        );
        for p in &c.projects {
            let _ = writeln!(
                text,
                "  {}/{}  {}  {}, {}{}",
                p.workspace,
                p.name,
                p.status,
                human::count(p.file_count, "file"),
                human::bytes(p.logical_size),
                if p.linked { "  (linked)" } else { "" }
            );
        }
        self.done_json(text.trim_end(), json!(c));
    }

    /// The backups at a target, newest first.
    pub fn backups(&self, list: &[BackupInfo], now: i64) {
        let mut text = String::new();
        for b in list.iter().rev() {
            let _ = writeln!(
                text,
                "{}  {}  {}, {}, {}, from {}",
                b.id,
                human::ago(b.finished, now),
                human::count(b.files, "file"),
                human::bytes(b.bytes),
                human::count(b.projects, "project"),
                b.host
            );
        }
        self.done_json(
            if list.is_empty() {
                "No backups yet."
            } else {
                text.trim_end()
            },
            json!(list),
        );
    }

    pub fn backups_verified(&self, r: &BackupVerifyReport) {
        let mut text = format!(
            "Checked {} backups and {} packs of '{}'; read back {} packs ({})",
            r.backups,
            r.packs,
            r.target,
            r.packs_read,
            human::bytes(r.bytes_read)
        );
        if r.is_ok() {
            text.push_str(": no problem found");
        }
        for p in &r.problems {
            let _ = write!(text, "\nPROBLEM {}: {}", p.object, p.message);
            for a in &p.affects {
                let _ = write!(text, "\n  affects {a}");
            }
        }
        self.done_json(&text, json!(r));
    }

    pub fn backups_pruned(&self, r: &PruneReport) {
        let verb = if r.dry_run { "Would remove" } else { "Removed" };
        let text = format!(
            "{verb} {} backups and {} packs ({}); kept {} backups",
            r.removed.len(),
            r.packs_deleted,
            human::bytes(r.bytes_freed),
            r.kept.len()
        );
        self.done_json(&text, json!(r));
    }

    /// A restore of one project (`project`) or of the whole vault.
    pub fn backup_restored(&self, r: &BackupRestoreReport, project: Option<&str>) {
        let text = format!(
            "Restored {} ({}, {}) from backup {} to {}",
            match project {
                Some(p) => format!("project '{p}'"),
                None => format!(
                    "the vault with {}",
                    human::count(r.projects.len() as u64, "project")
                ),
            },
            human::count(r.files, "file"),
            human::bytes(r.bytes),
            r.backup,
            r.destination.display()
        );
        self.done_json(&text, json!(r));
    }

    /// The target's schedule after a change; `name` as the person wrote it.
    pub fn backup_schedule(&self, name: &str, t: &Target) {
        let text = if t.schedule.is_empty() {
            format!("Target '{name}' runs on demand only")
        } else {
            format!("Target '{name}' runs {}", t.schedule)
        };
        self.done_json(&text, json!(t));
    }

    pub fn backup_retention(&self, name: &str, t: &Target) {
        self.done_json(&format!("Retention of '{name}' set"), json!(t));
    }

    pub fn backups_paused(&self, pause: Option<&Pause>, now: i64) {
        let text = match pause.and_then(|p| p.until) {
            Some(t) => format!("Scheduled backups are paused until {}", human::when(t, now)),
            None => {
                "Scheduled backups are paused until you resume them (kura backup resume)".into()
            }
        };
        self.done_json(&text, json!(pause));
    }

    pub fn backups_resumed(&self) {
        self.done_json(
            "Scheduled backups run again; missed ones are caught up",
            json!({ "paused": false }),
        );
    }

    pub fn backup_health(&self, list: &[TargetHealth], now: i64) {
        let mut text = String::new();
        for h in list {
            let _ = writeln!(
                text,
                "{:<12} {:<12} {} failures in a row; last success {}{}",
                h.target,
                format!("{:?}", h.state).to_lowercase(),
                h.consecutive_failures,
                h.last_success
                    .map(|t| human::ago(t, now))
                    .unwrap_or_else(|| "never".into()),
                h.last_error
                    .as_deref()
                    .map(|e| format!("\n             last error: {e}"))
                    .unwrap_or_default()
            );
        }
        self.done_json(
            if list.is_empty() {
                "No targets."
            } else {
                text.trim_end()
            },
            json!(list),
        );
    }

    pub fn target_added(&self, t: &Target, r: &TestReport) {
        let text = format!(
            "Added target '{}' ({}){}; it holds {} backups",
            t.name,
            t.location.describe(),
            if r.encrypted { ", encrypted" } else { "" },
            r.backups
        );
        self.done_json(&text, json!({"target": t, "test": r}));
    }

    /// The targets with their schedules; the JSON is the targets alone.
    pub fn targets(&self, list: &[TargetStatus]) {
        let targets: Vec<&Target> = list.iter().map(|s| &s.target).collect();
        let mut text = String::new();
        for s in list {
            let t = &s.target;
            let behind = match (s.after_every_change, s.last_success, s.behind_since) {
                (false, ..) => String::new(),
                (true, None, _) => "; not backed up yet".into(),
                (true, Some(_), None) => "; up to date".into(),
                (true, Some(_), Some(first)) => {
                    format!("; behind since {}", human::local_time(first))
                }
            };
            let _ = writeln!(
                text,
                "{:<12} {}{}  schedule: {}{behind}",
                t.name,
                t.location.describe(),
                if t.encrypt { " (encrypted)" } else { "" },
                if t.schedule.is_empty() {
                    "on demand"
                } else {
                    &t.schedule
                }
            );
        }
        self.done_json(
            if targets.is_empty() {
                "No targets."
            } else {
                text.trim_end()
            },
            json!(targets),
        );
    }

    pub fn target_tested(&self, name: &str, r: &TestReport) {
        self.done_json(
            &format!(
                "Target '{name}' is reachable and holds {} backups",
                r.backups
            ),
            json!(r),
        );
    }

    pub fn target_removed(&self, name: &str) {
        self.done(&format!(
            "Removed target '{name}' (its data was left at the target)"
        ));
    }
}
