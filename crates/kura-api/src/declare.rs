//! What an operation is declared with: its effect on the vault ([`Effect`]), what it announces
//! ([`Announces`]), whether each door has it ([`Door`]), and [`Declared`], which holds it all,
//! with the builders the declarations are written in (`reads().announces(...).cli(...)`). The
//! calls declare their operations with them ([`crate::for_each_call!`]), the catalog the rest
//! ([`crate::catalog`]); the reasons several operations share for going without a door are
//! here too, said once.

use crate::VaultChange;

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
    /// Why it is for an admin though it destroys nothing (it sets up the vault or the server,
    /// or does the vault's upkeep); `None` for the rest.
    pub admin_only: Option<&'static str>,
    /// It has a dry run, which only says what it would do: a request for one needs what a
    /// change needs, not what destroying does (the door reads the request to tell).
    pub dry_run: bool,
}

/// What a caller must be allowed to ask an operation (an HTTP token's scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Reading.
    Read,
    /// Changing, keeping what is replaced.
    Write,
    /// Destroying what nothing else holds, setting up the vault or the server, its upkeep.
    Admin,
}

/// An operation no call declares, called `name`.
pub(crate) const fn op(name: &'static str, effect: Effect) -> Declared {
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
        admin_only: None,
        dry_run: false,
    }
}

/// The operation of a call (in [`crate::for_each_call!`]) that changes nothing in the vault.
pub(crate) const fn reads() -> Declared {
    op("", Effect::Reads)
}

/// The operation of a call that changes the vault, keeping what it replaces.
pub(crate) const fn writes() -> Declared {
    op("", Effect::Writes)
}

/// The operation of a call that can remove what nothing else holds.
pub(crate) const fn destroys() -> Declared {
    op("", Effect::Destroys)
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
    /// names itself, the window's command, and long when the call runs as an operation. A call
    /// is its own desktop command: a declaration that says otherwise does not compile.
    pub(crate) const fn of_call(mut self, call: &'static [&'static str], long: bool) -> Self {
        assert!(
            matches!(self.desktop, Door::Unsaid),
            "a call is the window's command: its declaration does not say `no_desktop`"
        );
        if self.name.is_empty() {
            self.name = call[0];
        }
        self.desktop = Door::At(call);
        self.long = self.long || long;
        self
    }
    pub(crate) const fn no_desktop(mut self, why: &'static str) -> Self {
        self.desktop = Door::Not(why);
        self
    }
    pub(crate) const fn mcp(mut self, names: &'static [&'static str]) -> Self {
        assert!(
            matches!(self.mcp, Door::Unsaid),
            "an operation names its tools once: in its declaration, or in its call's `mcp(...)`"
        );
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
    pub(crate) const fn admin_only(mut self, why: &'static str) -> Self {
        self.admin_only = Some(why);
        self
    }
    pub(crate) const fn has_dry_run(mut self) -> Self {
        self.dry_run = true;
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

    /// What a caller must be allowed to ask it: its effect, raised to `Admin` when it is
    /// [`admin_only`](Self::admin_only).
    pub fn access(&self) -> Access {
        match (self.effect, self.admin_only) {
            (Effect::Destroys, _) | (_, Some(_)) => Access::Admin,
            (Effect::Writes, None) => Access::Write,
            (Effect::Reads, None) => Access::Read,
        }
    }

    /// What a caller must be allowed to ask for a dry run of it (its [`Self::access`] when it
    /// has none).
    pub fn dry_run_access(&self) -> Access {
        if self.dry_run {
            self.access().min(Access::Write)
        } else {
            self.access()
        }
    }

    /// The HTTP `operationId`: the name in camel case.
    pub fn operation_id(&self) -> String {
        camel_case(self.name)
    }
}

/// `new_name` as `newName`: how the HTTP door's operations and the window's commands and
/// arguments are named in JSON and TypeScript.
pub fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
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

// Why a door goes without an operation; said once for the operations that share the reason.
pub(crate) const AGENT_SETUP: &str = "setting up the vault (targets, schedules, settings, workspaces) stays with the person; an agent works on projects";
pub(crate) const AGENT_UPKEEP: &str =
    "upkeep runs on its schedule or by the person's hand, not an agent's";
pub(crate) const AGENT_OPS: &str = "an MCP tool call waits for its end and reports progress itself";
pub(crate) const HTTP_STREAM: &str =
    "the window hears the engine's events directly (vault-changed, records-changed, backup-status)";
pub(crate) const HTTP_ONLY_OPS: &str =
    "long work is followed where it was started: the window's progress bar, the CLI's";
pub(crate) const SESSION: &str =
    "a browser's session lives in `kura serve`'s memory, not in the vault";
pub(crate) const BROWSER: &str =
    "a browser's session with `kura serve`; the window and the CLI need none";
pub(crate) const SETUP: &str =
    "it sets up the vault (settings, backup targets, workspaces), which is the admin's";
pub(crate) const UPKEEP: &str = "the vault's upkeep is the admin's";
pub(crate) const PALETTE: &str = "the UI's command palette; the CLI is a command line already";
