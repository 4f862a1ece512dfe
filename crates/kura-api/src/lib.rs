//! Kura's service layer: the one place every door calls.
//!
//! The desktop shell's commands, the CLI's verbs, the HTTP handlers of `kura serve` and the MCP
//! tools of `kura mcp` are adapters of a few lines: they parse their input, call one function
//! here (or the engine's own, through [`Api::vault`]), and convert the answer. Rules live in the
//! engine crates; what this crate adds is what every door needs beside them:
//! - [`Operations`]: long work run on a thread of its own, with progress, cancellation, a result
//!   to wait for, and idempotency keys;
//! - [`Events`]: what happened in the vault, kept in SQLite with ids that keep increasing across
//!   restarts, and broadcast to live subscribers;
//! - backups: their status ([`Api::backup_status`], published as `backup.status` events and
//!   through [`Api::watch_backup_status`]), runs started by hand ([`Api::start_backup`]) or by
//!   the [`Scheduler`], restore previews, target settings with their secrets;
//! - the [`Scheduler`]: backups and the cleanup on their schedules and [`AutoSnapshots`]
//!   (automatic versions after a quiet period), run by the one process per vault that holds its
//!   schedule lock ([`SCHEDULE_LOCK`]); any other keeps serving and takes over when it stops;
//! - the operations that change the vault, each announced as a `vault.changed` event (with the
//!   project and a reason) whatever door called it: [`Api::changed`];
//! - records: JSON documents per project and for the vault, each write announced as a
//!   `records.changed` event ([`Api::record_put`] and its neighbours);
//! - shared links ([`Api::share_project`], [`Api::revoke_share`]), announced as `share.changed`;
//! - the per-user side of the desktop app, which belongs to no vault: start at login
//!   ([`autostart`]), its settings and the vault folder a person chose ([`app_settings`], which
//!   every door opens through [`app_settings::open_vault`]), and the logs ([`logs`]);
//! - [`calls`]: each call declared once ([`for_each_call!`]): what a caller passes, the service
//!   function that answers it, and its operation's effect, events and names in each door; the
//!   desktop shell's commands are written from it;
//! - [`catalog`]: every operation (the calls', and the few the window does not have) with its
//!   effect and where each door has it; each door's tests check it against the list;
//! - [`ApiError`]: the engine's errors as every door shows them, with a machine-readable code and
//!   the subject they concern.
//!
//! ```no_run
//! # fn main() -> kura_api::ApiResult<()> {
//! let vault = kura_core::Vault::open(std::path::Path::new("/tmp/vault"))?;
//! let api = kura_api::Api::open(vault)?;
//! // Backups and cleanup on their schedules, if no other process runs them already.
//! // (Keep the handle: dropping it stops the loop and lets go of the lock.)
//! let _schedules = kura_api::Scheduler::start(api.clone());
//! println!("{:?}", api.backup_status().state);
//! # Ok(()) }
//! ```

pub mod app_settings;
mod archives;
mod autosnapshot;
pub mod autostart;
mod backups;
pub mod calls;
pub mod catalog;
mod command;
pub mod declare;
mod error;
mod events;
mod health;
pub mod logs;
pub mod opener;
mod operations;
mod projects;
mod records;
mod requests;
mod scheduler;
pub mod schema;
mod shares;
#[cfg(test)]
mod testing;

use std::sync::Arc;

pub use autosnapshot::{AutoSnapshots, QUIET_CHECK_INTERVAL};
pub use backups::{BackupStatus, Cancelled, TargetChanges, TargetSecrets};
pub use command::{CommandAction, CommandCompletion, CommandInput, CommandPlan, MAX_COMPLETIONS};
pub use error::{ApiError, ApiResult, ErrorCode, Subject, SubjectKind};
pub use events::{matches_types, Event, EventPage, Events, EVENTS_KEPT};
pub use operations::{
    IdempotencyKey, OpState, Operation, Operations, ProgressSink, OPERATIONS_KEPT,
};
pub use projects::{AppInfo, Saved};
pub use records::{Deleted, KEYS_IN_EVENT};
pub use requests::{
    ArchiveReference, DiffRequest, MetadataChange, RenameFile, RestoreRequest, SnapshotRequest,
    VerifyVault, VersionsRequest,
};
pub use scheduler::{Scheduler, SchedulerOptions, SCHEDULE_LOCK};
pub use shares::SharesPruned;

use kura_core::{Clock, SystemClock, Vault, VaultReader};

/// The service: one per open vault and process, shared by every door of that process.
pub struct Api {
    vault: Arc<Vault>,
    events: Arc<Events>,
    operations: Arc<Operations>,
    clock: Arc<dyn Clock>,
    backups: backups::Runner,
    backup_status: tokio::sync::watch::Sender<Option<BackupStatus>>,
    /// The folder watcher of this process, when it runs (see [`Api::changed`]).
    folder_watch: std::sync::Mutex<Option<std::sync::Weak<autosnapshot::Shared>>>,
    /// What was last announced of the backups', the automatic versions', the disk's and the
    /// quotas' health.
    health: health::Health,
    /// The projects whose histories are due a repack after a version, when this process leaves
    /// that to its caller ([`Api::leave_repacks_to_caller`]); `None` when it repacks them on a
    /// thread of its own.
    due_repacks: std::sync::Mutex<Option<Vec<String>>>,
}

impl Api {
    /// The service over `vault`, which it keeps: the doors read the vault through
    /// [`Api::vault`] and change it only through the service. Opens (or creates) the event log.
    pub fn open(vault: Vault) -> ApiResult<Arc<Api>> {
        Api::open_with_clock(vault, Arc::new(SystemClock))
    }

    /// Like [`Api::open`], with the given clock (give the vault the same one): schedules, run
    /// times and pauses follow it.
    pub fn open_with_clock(vault: Vault, clock: Arc<dyn Clock>) -> ApiResult<Arc<Api>> {
        let vault = Arc::new(vault);
        let log = vault.root().join("events.db");
        let events = Arc::new(Events::open(&log)?);
        if !log.exists() {
            // A new vault's log is made with it, so that what the vault takes on disk does not
            // change when the log is first used; later it is opened when first used.
            events.last_id()?;
        }
        let operations = Arc::new(Operations::new(events.clone()));
        Ok(Arc::new(Api {
            vault,
            events,
            operations,
            clock,
            backups: backups::Runner::default(),
            backup_status: tokio::sync::watch::channel(None).0,
            folder_watch: std::sync::Mutex::new(None),
            health: health::Health::default(),
            due_repacks: std::sync::Mutex::new(None),
        }))
    }

    /// The vault, to read: every read a door makes is one call on it. It cannot change the
    /// vault; a change goes through the service's own methods, which announce it.
    ///
    /// ```compile_fail
    /// # fn door(api: &kura_api::Api) {
    /// api.vault().trash_project("site"); // a write is not on the reader
    /// # }
    /// ```
    pub fn vault(&self) -> &VaultReader {
        &self.vault
    }

    /// The event log.
    pub fn events(&self) -> &Arc<Events> {
        &self.events
    }

    /// Long operations.
    pub fn operations(&self) -> &Arc<Operations> {
        &self.operations
    }

    /// Now, in seconds since the Unix epoch, by this service's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Announces that something in the vault changed (`project_id` `None`: vault-wide), as the
    /// `vault.changed` event every view refreshes on. When projects or settings changed, the
    /// folders watched for automatic versions are brought in line first.
    pub fn changed(&self, project_id: Option<&str>, change: VaultChange) {
        if change.moves_watched_folders() {
            let watcher = backups::lock(&self.folder_watch)
                .as_ref()
                .and_then(std::sync::Weak::upgrade);
            if let Some(w) = watcher {
                w.refresh();
            }
        }
        self.events.emit(
            "vault.changed",
            project_id,
            serde_json::json!({ "project_id": project_id, "reason": change }),
        );
    }
}

/// Why the vault changed: the `reason` of a `vault.changed` event. Every door (the CLI, the
/// desktop app, HTTP, MCP) gives the same reason for the same change: each makes it through the
/// same service function, which announces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum VaultChange {
    /// A workspace was created, renamed, deleted or switched to.
    Workspaces,
    /// A project was created: blank, from a template, imported, or from an archive.
    Created,
    /// A project's name, workspace, description, kind, git remote, tags or metadata.
    Metadata,
    /// A project went to the trash or came back from it.
    Trash,
    /// A project was deleted for good.
    Deleted,
    /// Files of a project's folder were saved, renamed, deleted or copied in.
    Files,
    /// A version was taken.
    Snapshot,
    /// A project's folder (or one file of it) was restored to a version.
    Restore,
    /// A git repository was started in a project's folder.
    Git,
    /// A project was archived.
    Archived,
    /// A project came back from its archive.
    Unarchived,
    /// A history was rewritten into one pack with deltas.
    Repacked,
    /// Archives moved to or from the cold tier.
    ColdTier,
    /// The cleanup ran.
    Cleanup,
    /// A setting changed.
    Settings,
    /// A project was saved as a template.
    Templates,
    /// Unused chunks and packs were removed.
    Gc,
    /// A backup run ended, or backups were pruned.
    Backup,
    /// A backup target was added, changed or removed.
    BackupTargets,
    /// Events were missed (pruned from the log before a reader got them): refresh everything.
    Gap,
}

impl VaultChange {
    /// Whether the projects or settings that decide which folders are watched for automatic
    /// versions may have changed.
    fn moves_watched_folders(self) -> bool {
        matches!(
            self,
            VaultChange::Created
                | VaultChange::Trash
                | VaultChange::Deleted
                | VaultChange::Archived
                | VaultChange::Unarchived
                | VaultChange::Settings
                | VaultChange::Cleanup
                | VaultChange::Metadata
        )
    }
}

/// The service and the scheduler are shared across threads and async tasks by every door.
const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<Api>();
    shared::<Scheduler>();
    shared::<AutoSnapshots>();
};
