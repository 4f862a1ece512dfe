//! Kura's backups: targets (a local folder or external drive, an S3-compatible bucket through
//! OpenDAL), incremental, deduplicated, compressed and optionally encrypted backups of a whole
//! vault, restore of one project or everything, verify, retention and prune, a durable outbox
//! with retries, a circuit breaker per target, and run locks.
//!
//! [`Backups`] is the one entry point; the CLI and the desktop app call its methods. Schedules are
//! stored as strings on each target; a scheduler reads the targets, their health and runs and the
//! pause, asks [`due_backups`] what to start (the policy: catch-up, pause, rest after failures,
//! retry of an unreachable target), [`target_status`] and [`overall_state`] what to show, and
//! calls [`Backups::run_backup`].
//!
//! ```
//! use kura_backup::{Backups, Location, Secrets, Target};
//! use kura_core::{Job, Vault};
//!
//! # fn main() -> Result<(), kura_core::Error> {
//! let dir = tempfile::tempdir().unwrap();
//! let vault = Vault::open(&dir.path().join("vault"))?;
//! let drive = dir.path().join("drive");
//! std::fs::create_dir(&drive).unwrap();
//! let backups = Backups::new(&vault);
//! backups.add_target(&Target::folder("usb", &drive), &Secrets::default(), false)?;
//! let report = backups.run_backup("usb", &Job::default())?;
//! assert_eq!(backups.backups("usb")?[0].id, report.backup.id);
//! # Ok(())
//! # }
//! ```

mod cold;
mod crypto;
mod fsio;
mod lock;
mod manifest;
mod net;
mod outbox;
mod pause;
mod policy;
mod prune;
mod repo;
mod restore;
mod run;
mod session;
mod share;
mod state;
mod store;
mod target;
mod verify;

use std::path::Path;
use std::sync::Arc;

use kura_core::{Clock, Error, ErrorKind, Job, Progress, Result, SystemClock, Vault};
use serde::Serialize;

pub use cold::ColdReport;
pub use kura_schedule::{Pause, PauseLength};
pub use lock::{RunLock, STALE_AFTER_SECS};
pub use manifest::{BackupInfo, BackupProject};
pub use policy::{
    after_every_change, cleanup_due, counts_as_done, due_backups, overall_state, replication_at,
    resting_until, schedule_of, target_status, unavailable_retry_at, BackupState, ScheduledTarget,
    TargetStatus, AFTER_EVERY_CHANGE, CLEANUP_KEY, OVERDUE_GRACE_SECS, REPLICATION_MAX_WAIT_SECS,
    REPLICATION_OVERDUE_SECS, REPLICATION_QUIET_SECS, REPLICATION_RETRY_SECS,
    UNAVAILABLE_RETRY_SECS,
};
pub use prune::{select_kept, PruneReport};
pub use restore::{BackupRestoreReport, RestorePreview, RestoreRow};
pub use share::{parse_expiry, Share, ShareOptions, ShareState, MAX_SHARE_SECS};
pub use state::{
    HealthState, RunRecord, RunResult, TargetHealth, FAILURES_BEFORE_UNHEALTHY,
    UNHEALTHY_COOL_DOWN_SECS,
};
pub use target::{
    secret_env_var, secret_variables, Location, LocationKind, Rate, Retention, SecretKind,
    SecretVariable, Secrets, Target,
};
pub use verify::{BackupVerifyReport, VerifyMode, VerifyProblem};

use session::Session;
use state::State;
use store::Store;
use target::TargetsFile;

/// Log filter directives the shells add to whatever `KURA_LOG` asks: reqsign, which signs S3
/// requests, prints the credentials it loads (the secret key included) in its debug output; the
/// TLS certificate verifier logs an error of its own for a server it does not trust, which the
/// target's error already says in words (see `store::classify`).
pub const LOG_DIRECTIVES: &[&str] = &[
    "reqsign=warn",
    "reqsign_core=warn",
    "reqsign_aws_v4=warn",
    "rustls_platform_verifier=off",
];

/// What a successful run did.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RunReport {
    /// The run's record (as listed by [`Backups::runs`]).
    pub run: RunRecord,
    /// The backup it wrote.
    pub backup: BackupInfo,
}

/// A backup's summary and the projects in it (for the restore wizard).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct BackupContents {
    /// The backup.
    pub info: BackupInfo,
    /// Its projects.
    pub projects: Vec<BackupProject>,
}

/// What a connection test found.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct TestReport {
    /// The target.
    pub target: String,
    /// Backups it holds.
    pub backups: u64,
    /// Whether its data is encrypted.
    pub encrypted: bool,
    /// Its health after the test.
    pub health: TargetHealth,
}

impl Target {
    /// A folder target with no schedule, no encryption and no retention rule.
    pub fn folder(name: &str, path: &Path) -> Target {
        Target {
            name: name.into(),
            location: Location::Folder {
                path: path.to_path_buf(),
            },
            encrypt: false,
            schedule: String::new(),
            retention: Retention::default(),
            bandwidth_limit: None,
        }
    }
}

/// The backups of one vault.
pub struct Backups<'v> {
    vault: &'v Vault,
    clock: Arc<dyn Clock>,
}

impl<'v> Backups<'v> {
    /// The backups of `vault`, with the system clock.
    pub fn new(vault: &'v Vault) -> Backups<'v> {
        Backups::with_clock(vault, Arc::new(SystemClock))
    }

    /// Like [`Backups::new`], with the given clock (run times, retention, lock heartbeats,
    /// the circuit breaker's cool-down).
    pub fn with_clock(vault: &'v Vault, clock: Arc<dyn Clock>) -> Backups<'v> {
        Backups { vault, clock }
    }

    fn root(&self) -> &Path {
        self.vault.root()
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The time limits of calls to targets, from the vault's `[network]` settings.
    fn timeouts(&self) -> net::Timeouts {
        net::Timeouts::from(&self.vault.config().network)
    }

    /// Every target, by name.
    pub fn targets(&self) -> Result<Vec<Target>> {
        Ok(TargetsFile::load(self.root())?
            .targets
            .into_values()
            .collect())
    }

    /// One target by name.
    pub fn target(&self, name: &str) -> Result<Target> {
        TargetsFile::load(self.root())?
            .targets
            .remove(name)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "there is no backup target '{name}'; `kura backup target list` shows them"
                    ),
                )
            })
    }

    /// Copies the object `key` of target `name` into a new file `dest`, with progress
    /// ("downloading", in bytes) and cancellation: for importing an archive kept in a bucket.
    /// `key` is a path from the top of the target's bucket (its prefix, where backups go, does
    /// not apply) or of its folder; one that climbs out (`..`) is refused. Streamed in pieces
    /// (a piece that fails for a passing reason is asked for again); the file is fsynced. The
    /// bytes copied.
    pub fn fetch(&self, name: &str, key: &str, dest: &Path, job: &Job) -> Result<u64> {
        let mut target = self.target(name)?;
        if let target::Location::S3 { prefix, .. } = &mut target.location {
            prefix.clear();
        }
        let key = key.trim_start_matches('/');
        if key.is_empty() || key.ends_with('/') {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("name a file in target '{name}', as s3://{name}/path/to/project.tar.zst"),
            ));
        }
        if key.split('/').any(|part| part == ".." || part == ".") {
            return Err(Error::new(
                ErrorKind::PathEscape,
                format!(
                    "'{key}' climbs out of target '{name}'; name the file by its path from the top"
                ),
            ));
        }
        let store = Store::open(&target, self.timeouts())?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dest)
            .map_err(|e| Error::from_io("create", dest, e))?;
        let item = Some(format!("{name}/{key}"));
        let copied = {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, &mut file);
            let copied = store.download(
                key,
                &mut out,
                &|done, total| {
                    job.report(Progress {
                        phase: "downloading",
                        done,
                        total: Some(total),
                        unit: "bytes",
                        item: item.clone(),
                    })
                },
                &|| job.check(),
            )?;
            std::io::Write::flush(&mut out).map_err(|e| Error::from_io("write", dest, e))?;
            copied
        };
        file.sync_all()
            .map_err(|e| Error::from_io("write", dest, e))?;
        Ok(copied)
    }

    /// Imports an archive kept at a target (`s3://TARGET/path/to/project.tar.zst`, also
    /// `.tar.gz`, `.zip` and Kura archives with their history) as a new project: downloaded
    /// through the target's credentials into a temp folder of the vault, then imported with the
    /// same checks as a local file (paths that escape, links, bombs). The default name comes
    /// from the file's name.
    pub fn import_archive(
        &self,
        url: &str,
        opts: &kura_core::ImportArchiveOptions,
        job: &Job,
    ) -> Result<kura_core::Project> {
        let Some((target, key)) = remote_archive(url) else {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("'{url}' is not s3://TARGET/path/to/file"),
            )
            .with_field("path"));
        };
        let base = self.root().join("backup");
        std::fs::create_dir_all(&base).map_err(|e| Error::from_io("create folder", &base, e))?;
        let staging = tempfile::Builder::new()
            .prefix(".kura-tmp-import-")
            .tempdir_in(&base)
            .map_err(|e| Error::from_io("create a folder in", &base, e))?;
        let file_name = key.rsplit('/').next().unwrap_or(key);
        let local = staging.path().join(file_name);
        self.fetch(target, key, &local, job)?;
        self.vault.import_archive(&local, opts, job)
    }

    /// Adds a target: checks its settings, connects, and initialises its repository (or opens
    /// the one already there, checking the passphrase). `secrets` given here are stored in the
    /// OS keyring when `keyring` is true; otherwise they must come from the environment at each
    /// run ([`secret_env_var`]). Nothing is saved when any step fails.
    pub fn add_target(
        &self,
        target: &Target,
        secrets: &Secrets,
        keyring: bool,
    ) -> Result<TestReport> {
        let target = &target::checked(target)?;
        let mut file = TargetsFile::load(self.root())?;
        if file.targets.contains_key(&target.name) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "a backup target '{}' already exists; remove it first or pick another name",
                    target.name
                ),
            ));
        }
        let var = |name: &str| secret_env_var(name, SecretKind::Passphrase);
        if let Some(other) = file.targets.keys().find(|n| var(n) == var(&target.name)) {
            let prefix = var(other);
            let prefix = prefix.trim_end_matches(SecretKind::Passphrase.suffix());
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "target '{}' would share its secrets' environment variables ({prefix}*) with target '{other}'; pick a name that differs in more than case, '-' and '_'",
                    target.name
                ),
            ));
        }
        if keyring {
            for (kind, value) in [
                (SecretKind::AccessKeyId, &secrets.access_key_id),
                (SecretKind::SecretAccessKey, &secrets.secret_access_key),
                (SecretKind::Passphrase, &secrets.passphrase),
            ] {
                if let Some(v) = value {
                    target::store_secret(&target.name, kind, v)?;
                }
            }
        }
        if let Location::Folder { path } = &target.location {
            let parent = path.parent().unwrap_or(path);
            if !parent.is_dir() {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!("{} does not exist (is the drive connected?); the target folder's parent must exist", parent.display()),
                ));
            }
            std::fs::create_dir_all(path).map_err(|e| Error::from_io("create folder", path, e))?;
        }
        let session = Session::open(target, true, self.now(), self.timeouts())?;
        let backups = session.backup_ids()?.len() as u64;
        let mut state = State::open(self.root())?;
        state.forget_target(&target.name)?;
        file.targets.insert(target.name.clone(), target.clone());
        file.save(self.root())?;
        let health = state.record_outcome(&target.name, self.now(), None)?;
        Ok(TestReport {
            target: target.name.clone(),
            backups,
            encrypted: session.keys.encrypted(),
            health,
        })
    }

    /// Removes a target from this vault (its keyring secrets and local caches too). The data at
    /// the target is left alone.
    pub fn remove_target(&self, name: &str) -> Result<()> {
        let mut file = TargetsFile::load(self.root())?;
        if file.targets.remove(name).is_none() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("there is no backup target '{name}'"),
            ));
        }
        let _lock = lock::lock_local(self.root(), name)?;
        file.save(self.root())?;
        State::open(self.root())?.forget_target(name)?;
        target::forget_secrets(name);
        let work = self.root().join("backup").join(name);
        let _ = std::fs::remove_dir_all(&work);
        Ok(())
    }

    /// Changes a target's settings other than its location and encryption (schedule, retention,
    /// bandwidth limit): `change` edits a copy, which is validated and saved.
    pub fn update_target(&self, name: &str, change: impl FnOnce(&mut Target)) -> Result<Target> {
        let mut file = TargetsFile::load(self.root())?;
        let current = file.targets.get(name).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("there is no backup target '{name}'"),
            )
        })?;
        let mut updated = current.clone();
        change(&mut updated);
        if updated.name != current.name
            || updated.location != current.location
            || updated.encrypt != current.encrypt
        {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("the name, location and encryption of target '{name}' cannot change; add a new target instead"),
            ));
        }
        let updated = target::checked(&updated)?;
        file.targets.insert(name.into(), updated.clone());
        file.save(self.root())?;
        Ok(updated)
    }

    /// Stores a target's schedule string (what the scheduler interprets). An empty string means
    /// on demand only.
    pub fn set_schedule(&self, name: &str, schedule: &str) -> Result<Target> {
        let schedule = schedule.trim().to_string();
        self.update_target(name, |t| t.schedule = schedule)
    }

    /// Connects to a target and opens its repository; a success closes its circuit breaker.
    pub fn test_target(&self, name: &str) -> Result<TestReport> {
        let target = self.target(name)?;
        let state = State::open(self.root())?;
        let result = Session::open(&target, false, self.now(), self.timeouts())
            .and_then(|s| Ok((s.backup_ids()?.len() as u64, s.keys.encrypted())));
        let health = state.record_outcome(name, self.now(), result.as_ref().err())?;
        let (backups, encrypted) = result?;
        Ok(TestReport {
            target: name.into(),
            backups,
            encrypted,
            health,
        })
    }

    /// Takes the per-target run lock without waiting (`busy` when a run, verify or prune of the
    /// target is under way in any process). [`Backups::run_backup`] takes it itself; the
    /// scheduler may use it to check.
    pub fn lock_target(&self, name: &str) -> Result<RunLock> {
        lock::lock_local(self.root(), name)
    }

    /// Refuses (`unavailable`) while `target` rests after repeated failures (its circuit breaker
    /// is open): what [`Backups::run_backup`] would say, without starting a run.
    pub fn check_not_resting(&self, target: &str) -> Result<()> {
        let state = State::open(self.root())?;
        resting(target, &state.health(target)?, self.now())
    }

    /// Backs the vault up to `target` now. Refused while the target is unhealthy (until its
    /// cool-down passes or a test succeeds). The run is recorded whatever happens; an error of
    /// kind `unavailable` means "wait for the target", not a failure of the data.
    pub fn run_backup(&self, name: &str, job: &Job) -> Result<RunReport> {
        run::run(self, name, job)
    }

    /// Past runs, newest first (of one target, or of all), at most `limit`.
    pub fn runs(&self, target: Option<&str>, limit: u32) -> Result<Vec<RunRecord>> {
        State::open(self.root())?.runs(target, limit)
    }

    /// The latest run of `target` (for the scheduler: its `started`, `finished` and `result`).
    pub fn last_run(&self, target: &str) -> Result<Option<RunRecord>> {
        Ok(self.runs(Some(target), 1)?.into_iter().next())
    }

    /// For a target backed up after every change, the vault's changes its last successful
    /// backup lacks: those made since that backup started (all of them, from `since`, when
    /// it never had one). `None` when it is up to date or runs at set times.
    pub fn pending_changes(
        &self,
        target: &Target,
        last_success: Option<&RunRecord>,
        since: i64,
    ) -> Result<Option<kura_core::Changes>> {
        if !after_every_change(target) {
            return Ok(None);
        }
        match last_success {
            None => Ok(Some(kura_core::Changes {
                first: since,
                last: since,
            })),
            Some(run) => self.vault.changes_since(run.started),
        }
    }

    /// The latest successful run of `target`.
    pub fn last_success(&self, target: &str) -> Result<Option<RunRecord>> {
        State::open(self.root())?.last_run_with(target, RunResult::Ok)
    }

    /// The health of every target.
    pub fn health(&self) -> Result<Vec<TargetHealth>> {
        let state = State::open(self.root())?;
        self.targets()?
            .iter()
            .map(|t| state.health(&t.name))
            .collect()
    }

    fn open(&self, name: &str) -> Result<Session> {
        Session::open(&self.target(name)?, false, self.now(), self.timeouts())
    }

    /// The backups at a target, oldest first.
    pub fn backups(&self, target: &str) -> Result<Vec<BackupInfo>> {
        let session = self.open(target)?;
        session
            .backup_ids()?
            .iter()
            .map(|id| restore::load_manifest(&session, id).map(|m| m.info))
            .collect()
    }

    /// A backup's summary and its projects; `backup` is an id (or its start) or `latest`.
    pub fn backup_contents(&self, target: &str, backup: &str) -> Result<BackupContents> {
        let m = restore::load_manifest(&self.open(target)?, backup)?;
        Ok(BackupContents {
            info: m.info,
            projects: m.projects,
        })
    }

    /// What restoring `project` (or everything, `None`) of `backup` into `destination` would
    /// write where: the same folders [`Backups::restore`] writes.
    pub fn restore_preview(
        &self,
        target: &str,
        backup: &str,
        project: Option<&str>,
        destination: &Path,
    ) -> Result<RestorePreview> {
        let m = restore::load_manifest(&self.open(target)?, backup)?;
        restore::preview(&m.info, &m.projects, project, destination)
    }

    /// Restores from `backup` (an id or `latest`) of `target` into `destination`, a new or empty
    /// folder: the working folder of `project` (name, `workspace/name` or id), or with `None` the
    /// whole vault (a vault that `kura --vault <destination>` opens, linked projects' folders
    /// under `linked/<name>`).
    pub fn restore(
        &self,
        target: &str,
        backup: &str,
        project: Option<&str>,
        destination: &Path,
        job: &Job,
    ) -> Result<BackupRestoreReport> {
        restore::restore(&self.open(target)?, backup, project, destination, job)
    }

    /// Checks a target's backups; see [`VerifyMode`].
    pub fn verify(&self, target: &str, mode: VerifyMode, job: &Job) -> Result<BackupVerifyReport> {
        let _lock = lock::lock_local(self.root(), target)?;
        verify::verify(&self.open(target)?, mode, job)
    }

    /// Pauses scheduled backups for `length` from now (runs started by hand still go).
    pub fn pause(&self, length: PauseLength) -> Result<Pause> {
        let pause = Pause::starting(self.now(), length, &chrono::Local);
        pause::set(self.root(), &pause)?;
        Ok(pause)
    }

    /// Ends a pause of scheduled backups.
    pub fn resume(&self) -> Result<()> {
        pause::clear(self.root())
    }

    /// The pause of scheduled backups in force now, if any.
    pub fn paused(&self) -> Result<Option<Pause>> {
        pause::current(self.root(), self.now())
    }

    /// Applies the target's retention: removes the backups it does not keep and every pack no
    /// kept backup needs. With `dry_run`, only says what it would remove. Refused (`conflict`)
    /// while a backup of this vault waits in the target's outbox: a backup run sends it first.
    pub fn prune(&self, target: &str, dry_run: bool, job: &Job) -> Result<PruneReport> {
        let _lock = lock::lock_local(self.root(), target)?;
        outbox::ensure_empty(&outbox::dir(self.root(), target), target)?;
        let session = self.open(target)?;
        let now = self.now();
        let run = hex::encode(crypto::random::<8>()?);
        let tlock = lock::TargetLock::acquire(&session.store, target, &run, "prune", now)?;
        let clock = self.clock.clone();
        let (report, doomed) = lock::hold(&session.store, tlock, &|| clock.now(), |heartbeat| {
            prune::prune(&session, now, dry_run, job, heartbeat)
        })?;
        if !dry_run {
            State::open(self.root())?.drop_packs(target, &doomed)?;
        }
        Ok(report)
    }
}

/// The refusal of a run while the target's circuit breaker is open.
fn resting(name: &str, health: &TargetHealth, now: i64) -> Result<()> {
    match health.unhealthy_until.filter(|u| *u > now) {
        Some(until) => Err(Error::new(
            ErrorKind::Unavailable,
            format!(
                "target '{name}' is unhealthy after {} failed runs in a row (last: {}); it is tried again after {} seconds, or now after a successful `kura backup target test {name}`",
                health.consecutive_failures,
                health.last_error.as_deref().unwrap_or("unknown"),
                until - now
            ),
        )),
        None => Ok(()),
    }
}

/// The target and the path of `s3://TARGET/path/to/file`, if `url` is one.
pub fn remote_archive(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("s3://")?;
    let (target, key) = rest.split_once('/')?;
    (!target.is_empty()).then_some((target, key))
}
