//! `kura backup ...`: thin adapters over the service (`kura_api::Api`), which announces what
//! changes targets, runs or the pause, so that a running app or `kura serve` hears of it from the
//! event log.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use kura_api::{Api, TargetSecrets};
use kura_backup::{
    secret_env_var, Location, PauseLength, Retention, SecretKind, Target, VerifyMode,
};
use kura_core::{Error, ErrorKind, Job};
use serde_json::json;

use crate::human;
use crate::print::Out;

#[derive(Subcommand)]
pub enum BackupCmd {
    /// Add, list, test and remove backup targets.
    #[command(subcommand)]
    Target(TargetCmd),
    /// Back the vault up now (to one target, or to every target with --all).
    Run {
        /// The target.
        #[arg(required_unless_present = "all")]
        target: Option<String>,
        /// Every target, one after the other (an unavailable or failing one does not stop the rest).
        #[arg(long, conflicts_with = "target")]
        all: bool,
    },
    /// List the backups at a target (or the recent runs with --runs).
    List {
        /// The target.
        target: Option<String>,
        /// Show the recent runs (of every target when none is given) instead.
        #[arg(long)]
        runs: bool,
        /// List the projects inside this backup (an id or latest).
        #[arg(long, conflicts_with = "runs")]
        backup: Option<String>,
    },
    /// Check a target's backups: structure, and content of a sample of the packs or all of them.
    Verify {
        /// The target.
        target: String,
        /// Read back this percentage of the packs ("10%" or "10").
        #[arg(long, conflicts_with = "full")]
        sample: Option<String>,
        /// Read back every pack.
        #[arg(long)]
        full: bool,
    },
    /// Remove the backups the target's retention does not keep, and the data only they used.
    Prune {
        /// The target.
        target: String,
        /// Only say what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
    /// Restore one project, or the whole vault, from a backup into a new folder.
    Restore {
        /// The target.
        target: String,
        /// The backup (an id, its first characters, or latest).
        #[arg(long, default_value = "latest")]
        backup: String,
        /// Only this project's folder (name, workspace/name or id); default: the whole vault.
        #[arg(long)]
        project: Option<String>,
        /// Where to put it: a new or empty folder.
        #[arg(long)]
        to: PathBuf,
    },
    /// Set when a target runs ("daily at 02:00", "weekly on mon at 03:00", "cron 0 3 * * *",
    /// "after every change"; "" for on demand only).
    Schedule {
        /// The target.
        target: String,
        /// When it runs ("daily at 02:00", ...; "" for on demand only).
        schedule: String,
    },
    /// Set which backups prune keeps.
    Retention {
        /// The target.
        target: String,
        #[command(flatten)]
        rules: RetentionArgs,
    },
    /// The health of every target (ok, unavailable, failing, unhealthy).
    Health,
    /// Hold scheduled backups back: for an hour, until tomorrow, or until resumed (the default).
    /// Backups started by hand still run.
    Pause {
        /// How long: "1h", "tomorrow" or "resumed".
        #[arg(long, value_enum, default_value = "resumed")]
        until: PauseUntil,
    },
    /// Let scheduled backups run again; missed ones are caught up.
    Resume,
}

/// How long a pause lasts.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum PauseUntil {
    /// One hour from now.
    #[value(name = "1h")]
    OneHour,
    /// The start of the next day (local midnight).
    Tomorrow,
    /// Until `kura backup resume` (or Resume in the app).
    Resumed,
}

#[derive(Args)]
pub struct RetentionArgs {
    /// Keep the newest N backups.
    #[arg(long, default_value_t = 0)]
    keep_last: u32,
    /// Keep the newest backup of each of the last N hours.
    #[arg(long, default_value_t = 0)]
    hourly: u32,
    /// Keep the newest backup of each of the last N days.
    #[arg(long, default_value_t = 0)]
    daily: u32,
    /// Keep the newest backup of each of the last N weeks.
    #[arg(long, default_value_t = 0)]
    weekly: u32,
    /// Keep the newest backup of each of the last N months.
    #[arg(long, default_value_t = 0)]
    monthly: u32,
    /// Remove backups older than N days (the newest is always kept).
    #[arg(long, default_value_t = 0)]
    retention_days: u32,
}

#[derive(Subcommand)]
pub enum TargetCmd {
    /// Add a target: a folder (--folder) or an S3-compatible bucket (--s3). Secrets come from the
    /// environment (KURA_BACKUP_<NAME>_PASSPHRASE, ..._ACCESS_KEY_ID, ..._SECRET_ACCESS_KEY, or
    /// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); --keyring stores them in the OS keyring.
    Add {
        /// The target's name.
        name: String,
        /// A local folder or external drive.
        #[arg(long, conflicts_with = "s3", required_unless_present = "s3")]
        folder: Option<PathBuf>,
        /// An S3-compatible bucket.
        #[arg(long, requires_all = ["endpoint", "bucket"])]
        s3: bool,
        /// The S3 endpoint URL.
        #[arg(long)]
        endpoint: Option<String>,
        /// The S3 region.
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// The bucket.
        #[arg(long)]
        bucket: Option<String>,
        /// A folder inside the bucket.
        #[arg(long, default_value = "")]
        prefix: String,
        /// Address buckets by virtual host (bucket.endpoint) instead of by path.
        #[arg(long)]
        virtual_host: bool,
        /// Encrypt with a passphrase (from KURA_BACKUP_<NAME>_PASSPHRASE or the keyring).
        #[arg(long)]
        encrypt: bool,
        /// Store the secrets found in the environment in the OS keyring.
        #[arg(long)]
        keyring: bool,
        /// When it runs, written as for `kura backup schedule` (empty: on demand only).
        #[arg(long, default_value = "")]
        schedule: String,
        /// Upload limit, e.g. "2 MiB/s" or "512 KiB".
        #[arg(long)]
        bandwidth_limit: Option<String>,
    },
    /// List the targets.
    List,
    /// Connect to a target and open its repository (closes its circuit breaker on success).
    Test {
        /// The target.
        name: String,
    },
    /// Remove a target from this vault (its data stays where it is).
    Remove {
        /// The target.
        name: String,
    },
}

/// Runs one `kura backup` command.
pub fn run(
    cmd: &BackupCmd,
    api: &Arc<Api>,
    out: &Out,
    job: Job,
    now: i64,
) -> Result<ExitCode, Error> {
    match cmd {
        BackupCmd::Target(t) => target(t, api, out)?,
        BackupCmd::Run { target, all } => {
            let names: Vec<String> = match (target, all) {
                (Some(t), _) => vec![t.clone()],
                (None, _) => api.backup_targets()?.into_iter().map(|t| t.name).collect(),
            };
            let mut reports = Vec::new();
            let mut first_error = None;
            let mut text = String::new();
            for name in &names {
                match api.run_backup(name, &job) {
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
                    Err(e) if names.len() > 1 => {
                        let _ = writeln!(text, "'{name}': {} ({})", e.message, e.code.code());
                        reports.push(json!({"target": name, "ok": false, "error": {"code": e.code, "message": e.message}}));
                        first_error.get_or_insert(e.code);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            out.done_json(text.trim_end(), json!(reports));
            if let Some(kind) = first_error {
                return Ok(ExitCode::from(crate::exit_code(kind)));
            }
        }
        BackupCmd::List {
            target,
            runs,
            backup,
        } => {
            if *runs || target.is_none() {
                let list = api.backup_runs(target.as_deref(), 50)?;
                let mut text = String::new();
                for r in &list {
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
                out.done_json(
                    if list.is_empty() {
                        "No runs yet."
                    } else {
                        text.trim_end()
                    },
                    json!(list),
                );
            } else if let (Some(t), Some(b)) = (target, backup) {
                let c = api.backup_contents(t, b)?;
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
                out.done_json(text.trim_end(), json!(c));
            } else if let Some(t) = target {
                let list = api.backups_at(t)?;
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
                out.done_json(
                    if list.is_empty() {
                        "No backups yet."
                    } else {
                        text.trim_end()
                    },
                    json!(list),
                );
            }
        }
        BackupCmd::Verify {
            target,
            sample,
            full,
        } => {
            let mode = match (sample, full) {
                (_, true) => VerifyMode::Full,
                (Some(s), _) => {
                    let n: u8 = s
                        .trim()
                        .trim_end_matches('%')
                        .parse()
                        .ok()
                        .filter(|n| (1..=100).contains(n))
                        .ok_or_else(|| {
                            Error::new(
                                ErrorKind::InvalidInput,
                                format!("--sample must be a percentage from 1 to 100, not '{s}'"),
                            )
                        })?;
                    VerifyMode::Sample(n)
                }
                _ => VerifyMode::Structure,
            };
            let r = api.verify_backups(target, mode, &job)?;
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
            out.done_json(&text, json!(r));
            if !r.is_ok() {
                return Ok(ExitCode::from(crate::exit_code(ErrorKind::Corrupt)));
            }
        }
        BackupCmd::Prune { target, dry_run } => {
            let r = api.prune_backups(target, *dry_run, &job)?;
            let verb = if r.dry_run { "Would remove" } else { "Removed" };
            let text = format!(
                "{verb} {} backups and {} packs ({}); kept {} backups",
                r.removed.len(),
                r.packs_deleted,
                human::bytes(r.bytes_freed),
                r.kept.len()
            );
            out.done_json(&text, json!(r));
        }
        BackupCmd::Restore {
            target,
            backup,
            project,
            to,
        } => {
            let r = api.restore_backup(target, backup, project.as_deref(), to.clone(), &job)?;
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
            out.done_json(&text, json!(r));
        }
        BackupCmd::Schedule { target, schedule } => {
            let schedule = schedule.trim().to_string();
            let t = api.change_backup_target(target, |t| t.schedule = schedule)?;
            let text = if t.schedule.is_empty() {
                format!("Target '{target}' runs on demand only")
            } else {
                format!("Target '{target}' runs {}", t.schedule)
            };
            out.done_json(&text, json!(t));
        }
        BackupCmd::Retention { target, rules } => {
            let retention = Retention {
                keep_last: rules.keep_last,
                hourly: rules.hourly,
                daily: rules.daily,
                weekly: rules.weekly,
                monthly: rules.monthly,
                retention_days: rules.retention_days,
            };
            let t = api.change_backup_target(target, |t| t.retention = retention)?;
            out.done_json(&format!("Retention of '{target}' set"), json!(t));
        }
        BackupCmd::Pause { until } => {
            let length = match until {
                PauseUntil::OneHour => PauseLength::OneHour,
                PauseUntil::Tomorrow => PauseLength::UntilTomorrow,
                PauseUntil::Resumed => PauseLength::UntilResumed,
            };
            let pause = api.pause_backups(Some(length))?;
            let text = match pause.as_ref().and_then(|p| p.until) {
                Some(t) => format!("Scheduled backups are paused until {}", human::when(t, now)),
                None => {
                    "Scheduled backups are paused until you resume them (kura backup resume)".into()
                }
            };
            out.done_json(&text, json!(pause));
        }
        BackupCmd::Resume => {
            api.pause_backups(None)?;
            out.done_json(
                "Scheduled backups run again; missed ones are caught up",
                json!({ "paused": false }),
            );
        }
        BackupCmd::Health => {
            let list = api.backup_health()?;
            let mut text = String::new();
            for h in &list {
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
            out.done_json(
                if list.is_empty() {
                    "No targets."
                } else {
                    text.trim_end()
                },
                json!(list),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn target(cmd: &TargetCmd, api: &Arc<Api>, out: &Out) -> Result<(), Error> {
    match cmd {
        TargetCmd::Add {
            name,
            folder,
            s3: _,
            endpoint,
            region,
            bucket,
            prefix,
            virtual_host,
            encrypt,
            keyring,
            schedule,
            bandwidth_limit,
        } => {
            let location = match folder {
                Some(path) => Location::Folder {
                    path: std::path::absolute(path)
                        .map_err(|e| Error::from_io("resolve", path, e))?,
                },
                None => Location::S3 {
                    endpoint: endpoint.clone().unwrap_or_default(),
                    region: region.clone(),
                    bucket: bucket.clone().unwrap_or_default(),
                    prefix: prefix.clone(),
                    path_style: !virtual_host,
                },
            };
            let env = |kind| {
                std::env::var(secret_env_var(name, kind))
                    .ok()
                    .filter(|v: &String| !v.is_empty())
            };
            let secrets = TargetSecrets {
                access_key_id: env(SecretKind::AccessKeyId),
                secret_access_key: env(SecretKind::SecretAccessKey),
                passphrase: env(SecretKind::Passphrase),
            };
            let t = Target {
                name: name.clone(),
                location,
                encrypt: *encrypt,
                schedule: schedule.trim().to_string(),
                retention: Retention::default(),
                bandwidth_limit: bandwidth_limit.clone().map(kura_backup::Rate::Text),
            };
            let r = api.add_backup_target(&t, secrets, *keyring)?;
            let text = format!(
                "Added target '{name}' ({}){}; it holds {} backups",
                t.location.describe(),
                if r.encrypted { ", encrypted" } else { "" },
                r.backups
            );
            out.done_json(&text, json!({"target": t, "test": r}));
        }
        TargetCmd::List => {
            let status = api.backup_status();
            if let Some(e) = status.error {
                return Err(Error::new(ErrorKind::Io, e));
            }
            let list: Vec<Target> = status.targets.iter().map(|s| s.target.clone()).collect();
            let mut text = String::new();
            for s in &status.targets {
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
            out.done_json(
                if list.is_empty() {
                    "No targets."
                } else {
                    text.trim_end()
                },
                json!(list),
            );
        }
        TargetCmd::Test { name } => {
            let r = api.test_backup_target(name)?;
            out.done_json(
                &format!(
                    "Target '{name}' is reachable and holds {} backups",
                    r.backups
                ),
                json!(r),
            );
        }
        TargetCmd::Remove { name } => {
            api.remove_backup_target(name)?;
            out.done(&format!(
                "Removed target '{name}' (its data was left at the target)"
            ));
        }
    }
    Ok(())
}
