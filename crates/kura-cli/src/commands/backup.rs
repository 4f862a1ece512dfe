//! `kura backup ...`: thin adapters over the service (`kura_api::Api`), which announces what
//! changes targets, runs or the pause, so that a running app or `kura serve` hears of it from the
//! event log.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use kura_api::{calls, Api, TargetSecrets};
use kura_backup::{
    secret_env_var, Location, PauseLength, Retention, SecretKind, Target, VerifyMode,
};
use kura_core::{Error, ErrorKind};

use super::{invalid, now};
use crate::print::Out;

#[derive(Subcommand)]
#[command(defer = true)]
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
#[command(defer = true)]
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
pub fn run(cmd: &BackupCmd, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let now = now();
    match cmd {
        BackupCmd::Target(t) => target(t, out, api)?,
        BackupCmd::Run { target, all: _ } => return run_backups(target.as_deref(), out, api),
        BackupCmd::List {
            target,
            runs,
            backup,
        } => list(target.as_deref(), *runs, backup.as_deref(), out, api, now)?,
        BackupCmd::Verify {
            target,
            sample,
            full,
        } => return verify(target, sample.as_deref(), *full, out, api),
        BackupCmd::Prune { target, dry_run } => out.backups_pruned(&calls::prune_backups(
            api,
            target.clone(),
            *dry_run,
            &out.job(),
        )?),
        BackupCmd::Restore {
            target,
            backup,
            project,
            to,
        } => restore(target, backup, project.as_deref(), to, out, api)?,
        BackupCmd::Schedule { target, schedule } => {
            let schedule = schedule.trim().to_string();
            let t = api.change_backup_target(target, |t| t.schedule = schedule)?;
            out.backup_schedule(target, &t);
        }
        BackupCmd::Retention { target, rules } => {
            let retention = rules.retention();
            let t = api.change_backup_target(target, |t| t.retention = retention)?;
            out.backup_retention(target, &t);
        }
        BackupCmd::Pause { until } => {
            calls::pause_backups(api, Some(until.length()))?;
            let pause = calls::get_backup_status(api)?.paused;
            out.backups_paused(pause.as_ref(), now);
        }
        BackupCmd::Resume => {
            calls::pause_backups(api, None)?;
            out.backups_resumed();
        }
        BackupCmd::Health => out.backup_health(&api.backup_health()?, now),
    }
    Ok(ExitCode::SUCCESS)
}

/// `kura backup run`: to one target, or to every target one after the other; with several, a
/// failing one does not stop the rest and the exit code is the first failure's.
fn run_backups(target: Option<&str>, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let names: Vec<String> = match target {
        Some(t) => vec![t.to_string()],
        None => api.backup_targets()?.into_iter().map(|t| t.name).collect(),
    };
    let job = out.job();
    let mut results = Vec::new();
    for name in &names {
        match api.run_backup(name, &job) {
            Err(e) if names.len() <= 1 => return Err(e.into()),
            result => results.push((name.clone(), result)),
        }
    }
    out.backups_made(&results);
    match results.iter().find_map(|(_, r)| r.as_ref().err()) {
        Some(e) => Ok(ExitCode::from(crate::exit_code(e.code))),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// `kura backup list`: the recent runs, the projects inside one backup, or the backups at a
/// target.
fn list(
    target: Option<&str>,
    runs: bool,
    backup: Option<&str>,
    out: &Out,
    api: &Arc<Api>,
    now: i64,
) -> Result<(), Error> {
    if runs || target.is_none() {
        let mut runs = calls::list_backup_runs(api, target.map(String::from))?;
        // The newest first; the 50 most recent.
        runs.truncate(50);
        out.backup_runs(&runs);
    } else if let (Some(t), Some(b)) = (target, backup) {
        out.backup_contents(&calls::get_backup_contents(api, t.into(), b.into())?);
    } else if let Some(t) = target {
        out.backups(&calls::list_backups(api, t.into())?, now);
    }
    Ok(())
}

/// `kura backup verify`: exits with the code of corruption when a problem is found.
fn verify(
    target: &str,
    sample: Option<&str>,
    full: bool,
    out: &Out,
    api: &Arc<Api>,
) -> Result<ExitCode, Error> {
    let mode = match (sample, full) {
        (_, true) => VerifyMode::Full,
        (Some(s), _) => VerifyMode::Sample(sample_percent(s)?),
        _ => VerifyMode::Structure,
    };
    let r = calls::verify_backups(api, target.into(), mode, &out.job())?;
    out.backups_verified(&r);
    if !r.is_ok() {
        return Ok(ExitCode::from(crate::exit_code(ErrorKind::Corrupt)));
    }
    Ok(ExitCode::SUCCESS)
}

/// "10%" or "10": a percentage from 1 to 100.
fn sample_percent(s: &str) -> Result<u8, Error> {
    s.trim()
        .trim_end_matches('%')
        .parse()
        .ok()
        .filter(|n| (1..=100).contains(n))
        .ok_or_else(|| {
            invalid(format!(
                "--sample must be a percentage from 1 to 100, not '{s}'"
            ))
        })
}

/// `kura backup restore`.
fn restore(
    target: &str,
    backup: &str,
    project: Option<&str>,
    to: &Path,
    out: &Out,
    api: &Arc<Api>,
) -> Result<(), Error> {
    let r = api.restore_backup(target, backup, project, to.to_path_buf(), &out.job())?;
    out.backup_restored(&r, project);
    Ok(())
}

impl RetentionArgs {
    fn retention(&self) -> Retention {
        Retention {
            keep_last: self.keep_last,
            hourly: self.hourly,
            daily: self.daily,
            weekly: self.weekly,
            monthly: self.monthly,
            retention_days: self.retention_days,
        }
    }
}

impl PauseUntil {
    fn length(self) -> PauseLength {
        match self {
            PauseUntil::OneHour => PauseLength::OneHour,
            PauseUntil::Tomorrow => PauseLength::UntilTomorrow,
            PauseUntil::Resumed => PauseLength::UntilResumed,
        }
    }
}

/// `kura backup target ...`.
fn target(cmd: &TargetCmd, out: &Out, api: &Arc<Api>) -> Result<(), Error> {
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
            let t = Target {
                name: name.clone(),
                location,
                encrypt: *encrypt,
                schedule: schedule.trim().to_string(),
                retention: Retention::default(),
                bandwidth_limit: bandwidth_limit.clone().map(kura_backup::Rate::Text),
            };
            let r = calls::add_backup_target(api, t.clone(), secrets_from_env(name), *keyring)?;
            out.target_added(&t, &r);
        }
        TargetCmd::List => {
            let status = calls::get_backup_status(api)?;
            if let Some(e) = status.error {
                return Err(Error::new(ErrorKind::Io, e));
            }
            out.targets(&status.targets);
        }
        TargetCmd::Test { name } => {
            out.target_tested(name, &calls::test_backup_target(api, name.clone())?)
        }
        TargetCmd::Remove { name } => {
            calls::remove_backup_target(api, name.clone())?;
            out.target_removed(name);
        }
    }
    Ok(())
}

/// The target's secrets found in the environment (`KURA_BACKUP_<NAME>_PASSPHRASE`, ...).
fn secrets_from_env(name: &str) -> TargetSecrets {
    let env = |kind| {
        std::env::var(secret_env_var(name, kind))
            .ok()
            .filter(|v: &String| !v.is_empty())
    };
    TargetSecrets {
        access_key_id: env(SecretKind::AccessKeyId),
        secret_access_key: env(SecretKind::SecretAccessKey),
        passphrase: env(SecretKind::Passphrase),
    }
}
