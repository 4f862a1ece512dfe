//! Every operation of the service, declared once: its name, what it does to the vault, whether
//! it runs long (an [`Operation`](crate::Operation) with progress), what it announces in the
//! event log, and where each door has it. An operation the window has is declared with its call,
//! in [`crate::for_each_call!`] (the call is its desktop command); the few it does not have are
//! declared here (`NOT_CALLS`). [`OPERATIONS`] holds them all.
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

/// An operation no call declares, called `name`.
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

/// The operation of a call (in [`crate::for_each_call!`]) that changes nothing in the vault.
pub(crate) const fn reads() -> Declared {
    op("", Reads)
}

/// The operation of a call that changes the vault, keeping what it replaces.
pub(crate) const fn writes() -> Declared {
    op("", Writes)
}

/// The operation of a call that can remove what nothing else holds.
pub(crate) const fn destroys() -> Declared {
    op("", Destroys)
}

impl Declared {
    pub(crate) const fn long(mut self) -> Self {
        self.long = true;
        self
    }
    pub(crate) const fn no_http(mut self, why: &'static str) -> Self {
        self.http = Door::Not(why);
        self
    }
    /// Names the operation: needed where one call serves several (a project's records and the
    /// vault's); otherwise it is the call's name.
    pub(crate) const fn named(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }
    /// The operation as call `call` (its one name) declares it: named after the call unless it
    /// names itself, the window's command, and long when the call runs as an operation.
    pub(crate) const fn of_call(mut self, call: &'static [&'static str], long: bool) -> Self {
        if self.name.is_empty() {
            self.name = call[0];
        }
        self.desktop = Door::At(call);
        self.long = self.long || long;
        self
    }
    const fn no_desktop(mut self, why: &'static str) -> Self {
        self.desktop = Door::Not(why);
        self
    }
    pub(crate) const fn mcp(mut self, names: &'static [&'static str]) -> Self {
        self.mcp = Door::At(names);
        self
    }
    pub(crate) const fn no_mcp(mut self, why: &'static str) -> Self {
        self.mcp = Door::Not(why);
        self
    }
    pub(crate) const fn announces(mut self, events: &'static [Announcement]) -> Self {
        self.announces = Announces::Events(events);
        self
    }
    pub(crate) const fn quiet(mut self, why: &'static str) -> Self {
        self.announces = Announces::Nothing(why);
        self
    }
    pub(crate) const fn cli(mut self, names: &'static [&'static str]) -> Self {
        self.cli = Door::At(names);
        self
    }
    pub(crate) const fn no_cli(mut self, why: &'static str) -> Self {
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

/// What a call's declaration in [`crate::for_each_call!`] is written with.
pub(crate) mod declare {
    pub(crate) use super::Announcement::{BackupStatus, OperationFinished, Records, Share, Vault};
    pub(crate) use super::{destroys, reads, writes};
    pub(crate) use super::{AGENT_OPS, AGENT_SETUP, AGENT_UPKEEP, PALETTE};
    pub(crate) use crate::VaultChange;
}

use crate::VaultChange;
use Announcement::{Records, Share, Vault};
use Effect::{Destroys, Reads, Writes};

// Why a door goes without an operation; said once for the operations that share the reason.
pub(crate) const AGENT_SETUP: &str = "setting up the vault (targets, schedules, settings, workspaces) stays with the person; an agent works on projects";
pub(crate) const AGENT_UPKEEP: &str =
    "upkeep runs on its schedule or by the person's hand, not an agent's";
pub(crate) const AGENT_OPS: &str = "an MCP tool call waits for its end and reports progress itself";
const HTTP_STREAM: &str =
    "the window hears the engine's events directly (vault-changed, records-changed, backup-status)";
const HTTP_ONLY_OPS: &str =
    "long work is followed where it was started: the window's progress bar, the CLI's";
const SESSION: &str = "a browser's session lives in `kura serve`'s memory, not in the vault";
const BROWSER: &str = "a browser's session with `kura serve`; the window and the CLI need none";
pub(crate) const PALETTE: &str = "the UI's command palette; the CLI is a command line already";

/// Every operation of the service: those of the calls, in their order (each call declares the
/// operations it carries out, in [`crate::for_each_call!`]), then the ones no call declares (`NOT_CALLS`).
pub const OPERATIONS: &[Declared] = &ALL;

const ALL: [Declared; count(crate::calls::DECLARED) + NOT_CALLS.len()] =
    join(crate::calls::DECLARED, NOT_CALLS);

/// Operations in all the calls' declarations.
const fn count(calls: &[&[Declared]]) -> usize {
    let (mut n, mut i) = (0, 0);
    while i < calls.len() {
        n += calls[i].len();
        i += 1;
    }
    n
}

/// The calls' operations, then `more`, in one list.
const fn join<const N: usize>(calls: &[&[Declared]], more: &[Declared]) -> [Declared; N] {
    let mut all = [more[0]; N];
    let (mut n, mut i) = (0, 0);
    while i < calls.len() {
        let mut j = 0;
        while j < calls[i].len() {
            all[n] = calls[i][j];
            n += 1;
            j += 1;
        }
        i += 1;
    }
    let mut j = 0;
    while j < more.len() {
        all[n] = more[j];
        n += 1;
        j += 1;
    }
    all
}

/// The operations the window does not have, so that no call declares them: what a door serves
/// of itself (the HTTP door's probe, description, operations, event stream and browser
/// sessions), what takes or gives a file's bytes as a stream, and what only the CLI, the HTTP
/// door and MCP do. Each door that has one calls the service for it itself.
const NOT_CALLS: &[Declared] = &[
    // The vault.
    op("get_health", Reads)
        .no_desktop("a probe that `kura serve` answers; the window is the process")
        .no_mcp("a probe that `kura serve` answers; an MCP server answers `ping`")
        .no_cli("a probe that `kura serve` answers; `kura status` opens the vault"),
    op("get_open_api", Reads)
        .no_desktop("the HTTP door's own description")
        .no_mcp("the HTTP door's own description; MCP lists its tools")
        .no_cli("the HTTP door's own description (`docs/api/openapi.json`)"),
    // Projects.
    op("download_project_export", Reads)
        .no_desktop("the window exports to a folder (`export_project`)")
        .no_mcp("an agent reads files with `read_file`")
        .no_cli("the CLI exports to a folder (`kura project export`)"),
    // Files.
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
    // Versions.
    op("push_history", Reads)
        .no_http("it needs the person's git credentials on their own computer")
        .no_desktop("it needs the person's git credentials; a terminal has them")
        .no_mcp("it needs the person's git credentials")
        .cli(&["git push"]),
    // Archives.
    op("upload_archive", Writes)
        .announces(&[Vault(VaultChange::Created)])
        .long()
        .no_desktop("the window imports an archive file from its path (`import_archive`)")
        .no_mcp("it takes an archive file's bytes; an agent has no file to send")
        .no_cli("the CLI imports an archive file from its path (`kura import`)"),
    // Records, per project and for the vault.
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
    op("stream_events", Reads)
        .no_desktop(HTTP_STREAM)
        .no_mcp("an MCP tool call answers what it changed")
        .no_cli("the CLI prints what it did; `kura serve` streams the events"),
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
