//! Every operation of the service, declared once: its name, what it does to the vault, whether
//! it runs long (an [`Operation`](crate::Operation) with progress), what it announces in the
//! event log, and where each door has it.
//!
//! The name is the HTTP door's `operationId` in snake case (`archive_project` is
//! `archiveProject`); the other doors name what they call it, or say why they do not have it.
//! Each door has a test that reads its own surface (the OpenAPI document, the MCP tool list, the
//! desktop shell's generated bindings, the CLI's commands) and checks it against this list: an
//! operation a door lacks without a reason, a door name no operation claims, or a door that
//! disagrees about the effect or the length fails. The MCP door refuses and hides tools by the
//! [`Effect`] declared here. What each change announces ([`Announces`]) is checked by running
//! every one through the service, the one way a door can change the vault.

/// What an operation does to the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    /// Changes nothing in the vault (it may write outside it, like an export).
    Reads,
    /// Changes the vault; what it replaces stays recoverable (as a version, in the trash, ...).
    Writes,
    /// Can remove or overwrite what nothing else holds (files no version has, records, backups).
    Destroys,
}

/// What an operation announces in the event log when it has changed something, the same
/// whichever door asked for it (every change goes through the service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announces {
    /// Not said yet: a test fails until it is.
    Unsaid,
    /// These events.
    Events(&'static [Announcement]),
    /// Nothing, and why.
    Nothing(&'static str),
}

/// One event an operation announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    /// `vault.changed`, with this reason.
    Vault(VaultChange),
    /// `records.changed`.
    Records,
    /// `share.changed`.
    Share,
    /// `backup.status`: the state of backups as the tray and the Backups view show it.
    BackupStatus,
    /// `operation.finished`.
    OperationFinished,
}

impl Announcement {
    /// The event as the log names it: its type, and for `vault.changed` its reason
    /// (`vault.changed:created`).
    pub fn name(&self) -> String {
        match self {
            Announcement::Vault(reason) => format!(
                "vault.changed:{}",
                serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            ),
            Announcement::Records => "records.changed".into(),
            Announcement::Share => "share.changed".into(),
            Announcement::BackupStatus => "backup.status".into(),
            Announcement::OperationFinished => "operation.finished".into(),
        }
    }
}

/// Whether a door has an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// Not said yet: the door tests fail until it is.
    Unsaid,
    /// The door's names for it: commands, tools, or command lines (`"backup target add"`).
    At(&'static [&'static str]),
    /// The door does not have it, and why.
    Not(&'static str),
}

impl Door {
    /// The door's names for the operation (none when it does not have it).
    pub fn names(&self) -> &'static [&'static str] {
        match self {
            Door::At(names) => names,
            Door::Unsaid | Door::Not(_) => &[],
        }
    }
}

/// One operation, as every door has it.
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    /// Snake case; the HTTP `operationId` is its camel case.
    pub name: &'static str,
    pub effect: Effect,
    /// Runs as an operation with progress (HTTP answers 202 with it).
    pub long: bool,
    /// `Door::Not` when `kura serve` does not have it; otherwise it has it under [`Self::name`].
    pub http: Door,
    pub desktop: Door,
    pub mcp: Door,
    pub cli: Door,
    /// What it announces when it changed something (an operation that reads announces
    /// nothing).
    pub announces: Announces,
}

const fn op(name: &'static str, effect: Effect) -> Declared {
    Declared {
        name,
        effect,
        long: false,
        http: Door::At(&[]),
        desktop: Door::Unsaid,
        mcp: Door::Unsaid,
        cli: Door::Unsaid,
        announces: match effect {
            Effect::Reads => Announces::Nothing("it changes nothing"),
            Effect::Writes | Effect::Destroys => Announces::Unsaid,
        },
    }
}

impl Declared {
    const fn long(mut self) -> Self {
        self.long = true;
        self
    }
    const fn no_http(mut self, why: &'static str) -> Self {
        self.http = Door::Not(why);
        self
    }
    const fn desktop(mut self, names: &'static [&'static str]) -> Self {
        self.desktop = Door::At(names);
        self
    }
    const fn no_desktop(mut self, why: &'static str) -> Self {
        self.desktop = Door::Not(why);
        self
    }
    const fn mcp(mut self, names: &'static [&'static str]) -> Self {
        self.mcp = Door::At(names);
        self
    }
    const fn no_mcp(mut self, why: &'static str) -> Self {
        self.mcp = Door::Not(why);
        self
    }
    const fn announces(mut self, events: &'static [Announcement]) -> Self {
        self.announces = Announces::Events(events);
        self
    }
    const fn quiet(mut self, why: &'static str) -> Self {
        self.announces = Announces::Nothing(why);
        self
    }
    const fn cli(mut self, names: &'static [&'static str]) -> Self {
        self.cli = Door::At(names);
        self
    }
    const fn no_cli(mut self, why: &'static str) -> Self {
        self.cli = Door::Not(why);
        self
    }

    /// Whether `kura serve` has it.
    pub fn on_http(&self) -> bool {
        !matches!(self.http, Door::Not(_))
    }

    /// The HTTP `operationId`: the name in camel case.
    pub fn operation_id(&self) -> String {
        let mut out = String::with_capacity(self.name.len());
        let mut upper = false;
        for c in self.name.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    }
}

use crate::VaultChange;
use Announcement::{BackupStatus, OperationFinished, Records, Share, Vault};
use Effect::{Destroys, Reads, Writes};

// Why a door goes without an operation; said once for the operations that share the reason.
const AGENT_SETUP: &str = "setting up the vault (targets, schedules, settings, workspaces) stays with the person; an agent works on projects";
const AGENT_UPKEEP: &str = "upkeep runs on its schedule or by the person's hand, not an agent's";
const AGENT_OPS: &str = "an MCP tool call waits for its end and reports progress itself";
const HTTP_STREAM: &str =
    "the window hears the engine's events directly (vault-changed, records-changed, backup-status)";
const HTTP_ONLY_OPS: &str =
    "long work is followed where it was started: the window's progress bar, the CLI's";
const SESSION: &str = "a browser's session lives in `kura serve`'s memory, not in the vault";
const BROWSER: &str = "a browser's session with `kura serve`; the window and the CLI need none";
const PALETTE: &str = "the UI's command palette; the CLI is a command line already";

/// Every operation of the service, by noun.
pub const OPERATIONS: &[Declared] = &[
    // The vault.
    op("get_health", Reads)
        .no_desktop("a probe that `kura serve` answers; the window is the process")
        .no_mcp("a probe that `kura serve` answers; an MCP server answers `ping`")
        .no_cli("a probe that `kura serve` answers; `kura status` opens the vault"),
    op("get_status", Reads)
        .desktop(&["get_status"])
        .mcp(&["status"])
        .cli(&["status"]),
    op("get_open_api", Reads)
        .no_desktop("the HTTP door's own description")
        .no_mcp("the HTTP door's own description; MCP lists its tools")
        .no_cli("the HTTP door's own description (`docs/api/openapi.json`)"),
    op("get_stats", Reads)
        .desktop(&["get_stats"])
        .no_mcp("`status` gives an agent the vault's summary")
        .cli(&["stats"]),
    op("get_config", Reads)
        .desktop(&["get_config"])
        .no_mcp(AGENT_SETUP)
        .cli(&["config show", "config get", "config path"]),
    op("set_config", Writes)
        .announces(&[Vault(VaultChange::Settings)])
        .desktop(&["set_config"])
        .no_mcp(AGENT_SETUP)
        .cli(&["config set"]),
    op("get_quota", Reads)
        .desktop(&["get_quota"])
        .no_mcp("an agent meets a quota as the `quota_exceeded` error of the write it tried")
        .cli(&["quota"]),
    op("list_templates", Reads)
        .desktop(&["list_templates"])
        .no_mcp("`create_project` names its template; the person keeps the list")
        .cli(&["template list"]),
    op("verify_vault", Reads)
        .long()
        .desktop(&["verify_vault"])
        .mcp(&["verify"])
        .cli(&["verify"]),
    op("collect_garbage", Writes)
        .announces(&[Vault(VaultChange::Gc)])
        .long()
        .desktop(&["collect_garbage"])
        .no_mcp(AGENT_UPKEEP)
        .cli(&["gc"]),
    op("run_cleanup", Destroys)
        .announces(&[Vault(VaultChange::Cleanup)])
        .long()
        .desktop(&["run_cleanup"])
        .no_mcp(AGENT_UPKEEP)
        .cli(&["cleanup"]),
    op("list_cleanup_runs", Reads)
        .desktop(&["list_cleanup_runs"])
        .no_mcp(AGENT_UPKEEP)
        .cli(&["cleanup history"]),
    op("get_next_cleanup", Reads)
        .desktop(&["get_next_cleanup"])
        .no_mcp(AGENT_UPKEEP)
        .no_cli("the app's Cleanup settings show the next run; `kura cleanup` runs one now"),
    op("plan_command", Reads)
        .desktop(&["plan_command"])
        .no_mcp(PALETTE)
        .no_cli(PALETTE),
    // Workspaces.
    op("list_workspaces", Reads)
        .desktop(&["list_workspaces"])
        .mcp(&["list_workspaces"])
        .cli(&["workspace list", "workspace current"]),
    op("create_workspace", Writes)
        .announces(&[Vault(VaultChange::Workspaces)])
        .desktop(&["create_workspace"])
        .no_mcp(AGENT_SETUP)
        .cli(&["workspace create"]),
    op("rename_workspace", Writes)
        .announces(&[Vault(VaultChange::Workspaces)])
        .desktop(&["rename_workspace"])
        .no_mcp(AGENT_SETUP)
        .cli(&["workspace rename"]),
    op("switch_workspace", Writes)
        .announces(&[Vault(VaultChange::Workspaces)])
        .desktop(&["switch_workspace"])
        .no_mcp(AGENT_SETUP)
        .cli(&["workspace switch"]),
    op("delete_workspace", Writes)
        .announces(&[Vault(VaultChange::Workspaces)])
        .desktop(&["delete_workspace"])
        .no_mcp(AGENT_SETUP)
        .cli(&["workspace delete"]),
    // Projects.
    op("list_projects", Reads)
        .desktop(&["list_projects"])
        .mcp(&["list_projects"])
        .cli(&["project list", "trash list"]),
    op("get_project", Reads)
        .desktop(&["get_project"])
        .mcp(&["show_project"])
        .cli(&["project show"]),
    op("create_project", Writes)
        .announces(&[Vault(VaultChange::Created)])
        .desktop(&["create_project"])
        .mcp(&["create_project"])
        .cli(&["project create"]),
    op("import_folder", Writes)
        .announces(&[Vault(VaultChange::Created)])
        .long()
        .desktop(&["import_folder"])
        .no_mcp("it reads a folder of the computer the server runs on, which is the person's to choose")
        .cli(&["project import"]),
    op("edit_project", Writes)
        .announces(&[Vault(VaultChange::Metadata)])
        .desktop(&["edit_project"])
        .no_mcp("a project's name, workspace and description are the person's")
        .cli(&["project rename", "project move", "project edit"]),
    op("tag_project", Writes)
        .announces(&[Vault(VaultChange::Metadata)])
        .desktop(&["tag_project"])
        .no_mcp("a project's tags are the person's")
        .cli(&["project tag"]),
    op("set_project_metadata", Writes)
        .announces(&[Vault(VaultChange::Metadata)])
        .desktop(&["set_project_metadata"])
        .no_mcp("an agent keeps its own data in records (`put_record`)")
        .cli(&["project meta"]),
    op("trash_project", Writes)
        .announces(&[Vault(VaultChange::Trash)])
        .desktop(&["trash_project"])
        .no_mcp("`delete_project` is the agent's one way to remove a project, and it is refused unless allowed")
        .cli(&["project delete"]),
    op("untrash_project", Writes)
        .announces(&[Vault(VaultChange::Trash)])
        .desktop(&["untrash_project"])
        .no_mcp("bringing a project back from the trash is the person's")
        .cli(&["trash restore"]),
    op("delete_project", Destroys)
        .announces(&[Vault(VaultChange::Deleted)])
        .desktop(&["delete_project"])
        .mcp(&["delete_project"])
        .cli(&["project delete"]),
    op("save_project_as_template", Writes)
        .announces(&[Vault(VaultChange::Templates)])
        .desktop(&["save_project_as_template"])
        .no_mcp(AGENT_SETUP)
        .cli(&["project save-template"]),
    op("export_project", Reads)
        .long()
        .desktop(&["export_project"])
        .no_mcp("it writes to a folder of the computer the server runs on; an agent reads files with `read_file`")
        .cli(&["project export"]),
    op("download_project_export", Reads)
        .no_desktop("the window exports to a folder (`export_project`)")
        .no_mcp("an agent reads files with `read_file`")
        .no_cli("the CLI exports to a folder (`kura project export`)"),
    // Files.
    op("list_files", Reads)
        .desktop(&["list_files"])
        .mcp(&["list_files"])
        .cli(&["files"]),
    op("preview_file", Reads)
        .desktop(&["preview_file"])
        .no_mcp("`read_file` gives an agent the whole text")
        .no_cli("`kura file read` prints the file; a terminal needs no preview"),
    op("read_file", Reads)
        .no_desktop("the window previews files (`preview_file`) and opens them in their app")
        .mcp(&["read_file"])
        .cli(&["file read"]),
    op("save_file", Writes)
        .announces(&[Vault(VaultChange::Files)])
        .no_desktop("files come into the window by drag and drop (`upload_files`) or are edited in their app")
        .mcp(&["save_file"])
        .cli(&["file save"]),
    op("delete_file", Destroys)
        .announces(&[Vault(VaultChange::Files)])
        .no_desktop("files are deleted in the project's folder, in the person's file manager")
        .mcp(&["delete_file"])
        .cli(&["file delete"]),
    op("rename_file", Writes)
        .announces(&[Vault(VaultChange::Files)])
        .no_desktop("files are renamed in the project's folder, in the person's file manager")
        .mcp(&["rename_file"])
        .cli(&["file rename"]),
    op("upload_files", Writes)
        .announces(&[Vault(VaultChange::Files)])
        .long()
        .desktop(&["upload_files"])
        .no_mcp("an agent writes files one by one with `save_file`")
        .no_cli("the shell copies files; `kura file save` and `kura project import` bring them in"),
    // Versions.
    op("snapshot_project", Writes)
        .announces(&[Vault(VaultChange::Snapshot)])
        .long()
        .desktop(&["snapshot_project"])
        .mcp(&["snapshot"])
        .cli(&["snapshot"]),
    op("snapshot_changed_projects", Writes)
        .announces(&[Vault(VaultChange::Snapshot)])
        .long()
        .desktop(&["snapshot_changed_projects"])
        .no_mcp("an agent takes versions of the projects it works on (`snapshot`)")
        .cli(&["snapshot"]),
    op("list_versions", Reads)
        .desktop(&["list_versions"])
        .mcp(&["history"])
        .cli(&["history"]),
    op("diff_versions", Reads)
        .desktop(&["diff_versions"])
        .mcp(&["diff"])
        .cli(&["diff"]),
    op("restore_project", Destroys)
        .announces(&[Vault(VaultChange::Restore)])
        .long()
        .desktop(&["restore_project"])
        .mcp(&["restore_project", "restore_file"])
        .cli(&["restore"]),
    op("plan_restore", Reads)
        .desktop(&["plan_restore"])
        .mcp(&["restore_plan"])
        .no_cli("`kura restore` keeps the current state as a version first and says what it restored"),
    op("push_history", Reads)
        .no_http("it needs the person's git credentials on their own computer")
        .no_desktop("it needs the person's git credentials; a terminal has them")
        .no_mcp("it needs the person's git credentials")
        .cli(&["git push"]),
    // The project folder's own git repository.
    op("get_git_status", Reads)
        .desktop(&["get_git_status"])
        .no_mcp("an agent runs git itself where it works")
        .cli(&["git status"]),
    op("get_git_log", Reads)
        .desktop(&["get_git_log"])
        .no_mcp("an agent runs git itself where it works")
        .cli(&["git log"]),
    op("init_git_repository", Writes)
        .announces(&[Vault(VaultChange::Git)])
        .desktop(&["init_git_repository"])
        .no_mcp("an agent runs git itself where it works")
        .cli(&["git init"]),
    // Archives.
    op("list_archives", Reads)
        .desktop(&["list_archives"])
        .mcp(&["list_archives"])
        .cli(&["archives", "archive list"]),
    op("archive_project", Writes)
        .announces(&[Vault(VaultChange::Archived)])
        .long()
        .desktop(&["archive_project"])
        .mcp(&["archive_project"])
        .cli(&["archive"]),
    op("unarchive_project", Writes)
        .announces(&[Vault(VaultChange::Unarchived)])
        .long()
        .desktop(&["unarchive_project"])
        .mcp(&["unarchive_project"])
        .cli(&["unarchive"]),
    op("extract_archive", Reads)
        .long()
        .desktop(&["extract_archive"])
        .no_mcp("it writes to a folder of the computer the server runs on")
        .cli(&["extract"]),
    op("verify_archive", Reads)
        .long()
        .desktop(&["verify_archive"])
        .no_mcp(AGENT_UPKEEP)
        .cli(&["archive verify"]),
    op("import_archive", Writes)
        .announces(&[Vault(VaultChange::Created)])
        .long()
        .desktop(&["import_archive"])
        .no_mcp("it reads a file of the computer the server runs on, which is the person's to choose")
        .cli(&["import"]),
    op("upload_archive", Writes)
        .announces(&[Vault(VaultChange::Created)])
        .long()
        .no_desktop("the window imports an archive file from its path (`import_archive`)")
        .no_mcp("it takes an archive file's bytes; an agent has no file to send")
        .no_cli("the CLI imports an archive file from its path (`kura import`)"),
    op("move_archives_to_cold_tier", Writes)
        .announces(&[Vault(VaultChange::ColdTier)])
        .long()
        .desktop(&["move_archives_to_cold_tier"])
        .no_mcp(AGENT_UPKEEP)
        .cli(&["archive cold"]),
    // Records, per project and for the vault.
    op("list_project_collections", Reads)
        .desktop(&["record_collections"])
        .mcp(&["list_record_collections"])
        .cli(&["record list"]),
    op("list_vault_collections", Reads)
        .desktop(&["record_collections"])
        .mcp(&["list_record_collections"])
        .cli(&["record list"]),
    op("list_project_records", Reads)
        .desktop(&["record_query"])
        .mcp(&["query_records"])
        .cli(&["record list"]),
    op("list_vault_records", Reads)
        .desktop(&["record_query"])
        .mcp(&["query_records"])
        .cli(&["record list"]),
    op("query_project_records", Reads)
        .desktop(&["record_query"])
        .mcp(&["query_records"])
        .cli(&["record query"]),
    op("query_vault_records", Reads)
        .desktop(&["record_query"])
        .mcp(&["query_records"])
        .cli(&["record query"]),
    op("get_project_record", Reads)
        .desktop(&["record_get"])
        .mcp(&["get_record"])
        .cli(&["record get"]),
    op("get_vault_record", Reads)
        .desktop(&["record_get"])
        .mcp(&["get_record"])
        .cli(&["record get"]),
    op("put_project_record", Writes)
        .announces(&[Records])
        .desktop(&["record_put"])
        .mcp(&["put_record"])
        .cli(&["record put"]),
    op("put_vault_record", Writes)
        .announces(&[Records])
        .desktop(&["record_put"])
        .mcp(&["put_record"])
        .cli(&["record put"]),
    op("delete_project_record", Destroys)
        .announces(&[Records])
        .desktop(&["record_delete"])
        .mcp(&["delete_record"])
        .cli(&["record delete"]),
    op("delete_vault_record", Destroys)
        .announces(&[Records])
        .desktop(&["record_delete"])
        .mcp(&["delete_record"])
        .cli(&["record delete"]),
    // A batch may delete records; a door that does not allow destroying refuses those batches.
    op("batch_project_records", Writes)
        .announces(&[Records])
        .no_desktop("the window writes records one at a time")
        .mcp(&["batch_records"])
        .cli(&["record batch"]),
    op("batch_vault_records", Writes)
        .announces(&[Records])
        .no_desktop("the window writes records one at a time")
        .mcp(&["batch_records"])
        .cli(&["record batch"]),
    op("configure_project_collection", Writes)
        .announces(&[Records])
        .desktop(&["record_configure"])
        .mcp(&["set_record_collection"])
        .cli(&["record settings"]),
    op("configure_vault_collection", Writes)
        .announces(&[Records])
        .desktop(&["record_configure"])
        .mcp(&["set_record_collection"])
        .cli(&["record settings"]),
    op("drop_project_collection", Destroys)
        .announces(&[Records])
        .no_desktop("dropping a whole collection is left to the CLI and the API, where it is typed out")
        .no_mcp("dropping a whole collection is the person's")
        .cli(&["record drop"]),
    op("drop_vault_collection", Destroys)
        .announces(&[Records])
        .no_desktop("dropping a whole collection is left to the CLI and the API, where it is typed out")
        .no_mcp("dropping a whole collection is the person's")
        .cli(&["record drop"]),
    // Shared links.
    op("share_project", Writes)
        .announces(&[Share])
        .long()
        .desktop(&["share_project"])
        .mcp(&["share_project"])
        .cli(&["share"]),
    op("list_shares", Reads)
        .desktop(&["list_shares"])
        .mcp(&["list_shares"])
        .cli(&["share list"]),
    op("revoke_share", Writes)
        .announces(&[Share])
        .desktop(&["revoke_share"])
        .mcp(&["revoke_share"])
        .cli(&["share revoke"]),
    op("prune_shares", Writes)
        .announces(&[Share])
        .no_desktop("expired links are pruned by the cleanup; the window lists only live ones")
        .mcp(&["prune_shares"])
        .cli(&["share prune"]),
    // Long operations and events.
    op("list_operations", Reads)
        .no_desktop(HTTP_ONLY_OPS)
        .no_mcp(AGENT_OPS)
        .no_cli(HTTP_ONLY_OPS),
    op("get_operation", Reads)
        .no_desktop(HTTP_ONLY_OPS)
        .no_mcp(AGENT_OPS)
        .no_cli(HTTP_ONLY_OPS),
    op("cancel_operation", Writes)
        .announces(&[OperationFinished])
        .desktop(&["cancel_operation"])
        .no_mcp("an MCP client cancels a call with `notifications/cancelled`")
        .no_cli("Ctrl-C cancels the command"),
    op("stream_events", Reads)
        .no_desktop(HTTP_STREAM)
        .no_mcp("an MCP tool call answers what it changed")
        .no_cli("the CLI prints what it did; `kura serve` streams the events"),
    // Backups.
    op("get_backup_status", Reads)
        .desktop(&["get_backup_status"])
        .mcp(&["backup_status"])
        .cli(&["backup health", "backup target list"]),
    op("add_backup_target", Writes)
        .announces(&[Vault(VaultChange::BackupTargets), BackupStatus])
        .desktop(&["add_backup_target"])
        .no_mcp(AGENT_SETUP)
        .cli(&["backup target add"]),
    op("update_backup_target", Writes)
        .announces(&[Vault(VaultChange::BackupTargets), BackupStatus])
        .desktop(&["update_backup_target"])
        .no_mcp(AGENT_SETUP)
        .cli(&["backup schedule", "backup retention"]),
    op("remove_backup_target", Writes)
        .announces(&[Vault(VaultChange::BackupTargets), BackupStatus])
        .desktop(&["remove_backup_target"])
        .no_mcp(AGENT_SETUP)
        .cli(&["backup target remove"]),
    op("test_backup_target", Reads)
        .desktop(&["test_backup_target"])
        .no_mcp(AGENT_SETUP)
        .cli(&["backup target test"]),
    op("run_backup", Writes)
        .announces(&[Vault(VaultChange::Backup), BackupStatus])
        .long()
        .desktop(&["run_backup"])
        .mcp(&["run_backup"])
        .cli(&["backup run"]),
    op("cancel_backup", Writes)
        .quiet("the run it stops announces its own end (`operation.finished`, `backup.status`)")
        .desktop(&["cancel_backup"])
        .no_mcp(AGENT_OPS)
        .no_cli("Ctrl-C stops `kura backup run`"),
    op("list_backup_runs", Reads)
        .desktop(&["list_backup_runs"])
        .no_mcp("`backup_status` gives an agent the last run of each target")
        .cli(&["backup list"]),
    op("list_backups", Reads)
        .desktop(&["list_backups"])
        .no_mcp("restoring from a backup is the person's")
        .cli(&["backup list"]),
    op("get_backup_contents", Reads)
        .desktop(&["get_backup_contents"])
        .no_mcp("restoring from a backup is the person's")
        .no_cli("`kura backup list` names each backup's projects; `kura backup restore` takes one"),
    op("restore_backup", Writes)
        .quiet("it writes a backup's files to a new folder, outside the vault")
        .long()
        .desktop(&["restore_backup"])
        .no_mcp("restoring from a backup is the person's")
        .cli(&["backup restore"]),
    op("preview_backup_restore", Reads)
        .desktop(&["preview_backup_restore"])
        .no_mcp("restoring from a backup is the person's")
        .no_cli("`kura backup restore` restores into a new folder, so there is nothing to overwrite"),
    op("get_backup_secret_variables", Reads)
        .desktop(&["get_backup_secret_variables"])
        .no_mcp(AGENT_SETUP)
        .no_cli("`kura backup target add --help` names the variables a target's secrets can come from"),
    op("verify_backups", Reads)
        .long()
        .desktop(&["verify_backups"])
        .no_mcp(AGENT_UPKEEP)
        .cli(&["backup verify"]),
    op("prune_backups", Destroys)
        .announces(&[Vault(VaultChange::Backup)])
        .long()
        .desktop(&["prune_backups"])
        .no_mcp(AGENT_UPKEEP)
        .cli(&["backup prune"]),
    op("pause_backups", Writes)
        .announces(&[BackupStatus])
        .desktop(&["pause_backups"])
        .no_mcp(AGENT_SETUP)
        .cli(&["backup pause", "backup resume"]),
    // Browser sessions.
    op("get_session", Reads)
        .no_desktop(BROWSER)
        .no_mcp(BROWSER)
        .no_cli(BROWSER),
    op("sign_in", Writes)
        .quiet(SESSION)
        .no_desktop(BROWSER)
        .no_mcp(BROWSER)
        .no_cli(BROWSER),
    op("create_sign_in_link", Writes)
        .quiet(SESSION)
        .no_desktop(BROWSER)
        .no_mcp(BROWSER)
        .cli(&["serve link"]),
];

/// The operation called `name`.
pub fn declared(name: &str) -> Option<&'static Declared> {
    OPERATIONS.iter().find(|d| d.name == name)
}

/// The operations an MCP tool carries out, by the tool's name.
pub fn of_tool(tool: &str) -> impl Iterator<Item = &'static Declared> + '_ {
    OPERATIONS
        .iter()
        .filter(move |d| d.mcp.names().contains(&tool))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_declared_once_and_every_door_is_said() {
        let mut seen = std::collections::BTreeSet::new();
        for d in OPERATIONS {
            assert!(seen.insert(d.name), "{} is declared twice", d.name);
            assert!(
                d.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{} is not snake case",
                d.name
            );
            for (door, said) in [
                ("http", d.http),
                ("desktop", d.desktop),
                ("mcp", d.mcp),
                ("cli", d.cli),
            ] {
                match said {
                    Door::Unsaid => panic!("{}: say whether the {door} door has it", d.name),
                    Door::At(names) if door != "http" && names.is_empty() => {
                        panic!("{}: the {door} door names no command for it", d.name)
                    }
                    Door::Not(why) => assert!(!why.is_empty(), "{}: say why not", d.name),
                    Door::At(_) => {}
                }
            }
        }
        assert_eq!(
            declared("archive_project").unwrap().operation_id(),
            "archiveProject"
        );
        assert_eq!(of_tool("history").next().unwrap().name, "list_versions");
    }
}

#[cfg(test)]
mod announced;
