//! `kura`: the command-line door onto the Kura vault. Every subcommand parses its input, calls
//! one engine function and prints the result, for people by default or as JSON with `--json`.
//! This file holds the command line's top level: the global options, the list of commands
//! (each command's own arguments and its `run` are in `commands/`, its output in `print/`), the
//! service opened once, and errors mapped to exit codes.
//!
//! Two programs are built from it. `kura` runs every command but `kura serve` and `kura mcp`,
//! which it hands, command line and all, to `kura-server` (`src/bin/kura-server.rs`, installed
//! beside it or in `../libexec/kura/`): the HTTP and MCP servers then are not in `kura`, which a
//! script may start thousands of times (a third less code, and a quarter fewer pages touched at
//! each start).

// First: its output macros serve every module after it.
#[macro_use]
mod pipe;

mod commands;
#[cfg(test)]
mod docs;
mod human;
mod print;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use kura_api::Api;
use kura_core::{Error, ErrorKind, Trigger, Vault, VaultReader};

use crate::commands::*;
use crate::print::Out;

/// Kura: a local-first vault for software projects.
#[derive(Parser)]
#[command(name = "kura", version, long_about = None)]
pub(crate) struct Cli {
    /// The vault folder (default: $KURA_HOME, else the folder chosen in the app (`vault` in
    /// ~/.config/kura/app.toml), else $XDG_DATA_HOME/kura or ~/.local/share/kura, created with
    /// its parents on first use).
    #[arg(long, global = true, value_name = "DIR")]
    vault: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[command(defer = true)]
enum Command {
    /// Show the vault, the active workspace and a summary of projects.
    Status,
    /// Create, rename, switch, list and delete workspaces.
    #[command(subcommand)]
    Workspace(workspace::WorkspaceCmd),
    /// Create, import, list, change and delete projects.
    #[command(subcommand)]
    Project(project::ProjectCmd),
    /// List project templates.
    #[command(subcommand)]
    Template(project::TemplateCmd),
    /// Projects in the trash.
    #[command(subcommand)]
    Trash(project::TrashCmd),
    /// List a project's files (new, modified and deleted files are marked).
    Files(file::FilesArgs),
    /// Read, save, rename or delete one file in a project.
    #[command(subcommand)]
    File(file::FileCmd),
    /// Take a version of a project (or of every active project with --all).
    Snapshot(history::SnapshotArgs),
    /// List versions of a project, or of one file.
    History(history::HistoryArgs),
    /// Show what changed between two versions.
    Diff(history::DiffArgs),
    /// Restore a project (or one file) to a version; the current state is kept as a version first.
    Restore(history::RestoreArgs),
    /// Backups: targets, runs, restore, verify, prune, schedules.
    #[command(subcommand)]
    Backup(backup::BackupCmd),
    /// Check the catalog, histories and chunks; names what any problem affects.
    Verify(verify::VerifyArgs),
    /// Remove chunks no version references.
    Gc,
    /// Remove the folders an archive or a deletion moved aside (started in the background by
    /// the commands that do that).
    #[command(hide = true)]
    PurgeDiscarded,
    /// Rewrite with deltas the histories versions have left due a repack (started in the
    /// background by the commands that take versions).
    #[command(hide = true)]
    RepackDue {
        /// Projects, by id or name.
        projects: Vec<String>,
    },
    /// Where the space goes.
    Stats,
    /// Show or change settings in config.toml.
    #[command(subcommand)]
    Config(config::ConfigCmd),
    /// Push a project's history to a git remote; status, log or init of the project folder's own git repository.
    #[command(subcommand)]
    Git(git::GitCmd),
    /// Archive a project (or every idle one with --idle) into a tar.zst; list and verify archives.
    Archive(archive::ArchiveArgs),
    /// List archives with size, compression ratio and date.
    Archives,
    /// Bring an archived project back (by project name or archive id).
    Unarchive(archive::UnarchiveArgs),
    /// Unpack an archive (archive id, project, or a .tar.zst/.tar.gz/.zip file) into a folder.
    Extract(archive::ExtractArgs),
    /// Import an archive file (.tar.zst, .tar.gz, .zip) as a new project, from this computer or
    /// from a backup target's bucket (s3://TARGET/path/to/file).
    Import(archive::ImportArgs),
    /// Usage against quota.max_project_size and quota.total_quota.
    Quota,
    /// Purge the trash, archive idle projects, thin automatic versions, collect chunks, clear
    /// leftovers (`kura cleanup history` lists past runs).
    Cleanup(cleanup::CleanupArgs),
    /// Records: JSON documents under keys, per project (--project) or for the vault; get, put,
    /// delete, list, query, batch.
    Record(records::RecordArgs),
    /// Share a version as a download link from an S3 target (`kura share P --target T
    /// --expires 24h`); `kura share list`, `kura share revoke ID`, `kura share prune`.
    Share(share::ShareArgs),
    /// Print a shell's completion script: `source <(kura completions bash)`, or save it where
    /// the shell looks (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Show the end of the newest log of the app, `kura serve` and `kura mcp` (kept a week in
    /// $XDG_STATE_HOME/kura, else ~/.local/state/kura), and where the logs are.
    Logs(logs::LogsArgs),
    /// Start the desktop app when you log in, out of the way (in the tray, or minimized):
    /// `kura autostart` says whether it does, `kura autostart on|off` changes it. The XDG
    /// autostart entry ($XDG_CONFIG_HOME/autostart/kura.desktop) starts `kura-desktop --hidden`
    /// from the folder of this `kura`.
    Autostart(autostart::AutostartArgs),
    /// Write the manual pages (kura.1, and one per command such as kura-backup-run.1) into a
    /// folder, for `man -l` or a package's man1 folder.
    Manpages(manpages::ManpagesArgs),
    /// Serve the vault's operations as MCP tools over stdin/stdout, for AI agent clients.
    Mcp(mcp::McpArgs),
    /// Serve the vault over HTTP (Unix socket, or 127.0.0.1 with --listen); `kura serve token`
    /// prints a token.
    Serve(serve::ServeArgs),
}

/// The servers a program carries: `kura-server` runs them, `kura` hands them over.
pub struct Servers {
    serve: fn(&serve::ServeArgs, &Out, &Arc<Api>) -> Result<ExitCode, Error>,
    mcp: fn(&mcp::McpArgs, &Arc<Api>) -> Result<ExitCode, Error>,
}

/// `kura-server`'s: the HTTP API and the MCP server themselves.
pub fn servers() -> Servers {
    Servers {
        serve: serve::run,
        mcp: mcp::run,
    }
}

/// Runs the command line; with `servers` None, `kura serve` and `kura mcp` start
/// `kura-server` in this process's place (see the top of this file).
pub fn main(servers: Option<Servers>) -> ExitCode {
    kura_core::give_back_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind as K;
            let wants_json = std::env::args().any(|a| a == "--json");
            if wants_json
                && !matches!(
                    e.kind(),
                    K::DisplayHelp
                        | K::DisplayVersion
                        | K::DisplayHelpOnMissingArgumentOrSubcommand
                )
            {
                let message = e.render().to_string();
                let first = message
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("error: ")
                    .to_string();
                Out::new(true).error(&Error::new(ErrorKind::InvalidInput, first));
                return ExitCode::from(2);
            }
            e.exit();
        }
    };
    if servers.is_none() && matches!(cli.command, Command::Serve(_) | Command::Mcp(_)) {
        let err = hand_to_server();
        Out::new(cli.json).error(&err);
        return ExitCode::from(exit_code(err.kind()));
    }
    // The programs that stay on keep a log file (`kura logs`); every command warns on stderr.
    match &cli.command {
        Command::Serve(args) if args.is_server() => kura_api::logs::init("kura-serve", true),
        Command::Mcp(_) => kura_api::logs::init("kura-mcp", true),
        _ => kura_api::logs::init("kura", false),
    }
    let out = Out::new(cli.json)
        .with_progress(!cli.quiet && !cli.json && std::io::stderr().is_terminal());
    let code = match run(&cli, &out, servers.as_ref()) {
        Ok(code) => code,
        Err(err) => {
            out.error(&err);
            ExitCode::from(exit_code(err.kind()))
        }
    };
    // Under `KURA_FAULT` (tests only): how many durable steps of each kind this run made.
    if let Some(line) = kura_durable::faults::report() {
        eprintln!("{line}");
    }
    code
}

/// Exit codes scripts can act on.
pub(crate) fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput => 2,
        ErrorKind::NotFound => 3,
        ErrorKind::AlreadyExists | ErrorKind::Conflict => 4,
        ErrorKind::PathEscape => 5,
        ErrorKind::QuotaExceeded => 6,
        ErrorKind::DiskFull => 7,
        ErrorKind::Corrupt => 8,
        ErrorKind::Busy => 9,
        ErrorKind::Io => 10,
        ErrorKind::Cancelled => 130,
        ErrorKind::Internal => 70,
        ErrorKind::Unavailable => 12,
        ErrorKind::WrongPassphrase => 13,
    }
}

fn open_vault(cli: &Cli) -> Result<Vault, Error> {
    let vault = match &cli.vault {
        Some(p) => Vault::open(p),
        // KURA_HOME, else the folder chosen in the app, else the default: as the app opens it.
        None => kura_api::app_settings::open_vault(),
    }?;
    vault.set_door(Trigger::Cli);
    Ok(vault)
}

/// Puts `kura-server` in this process's place with the same command line (its first word
/// kept, for the messages clap writes), so that it is the process a client started: its standard
/// streams, signals and exit status are theirs. Returns only when that cannot be done, with why.
fn hand_to_server() -> Error {
    use std::os::unix::process::CommandExt;
    let server = match server_program() {
        Ok(path) => path,
        Err(err) => return err,
    };
    let mut args = std::env::args_os();
    let first = args.next().unwrap_or_else(|| "kura".into());
    let err = std::process::Command::new(&server)
        .arg0(first)
        .args(args)
        .exec();
    Error::new(
        ErrorKind::Unavailable,
        format!("cannot start {}: {err}", server.display()),
    )
}

/// `kura-server`: beside this program (a build, or a folder both were copied to), else in
/// `../libexec/kura/` from it (`/usr/bin/kura` and `/usr/libexec/kura/kura-server` of the packages).
fn server_program() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe().map_err(|e| {
        Error::new(
            ErrorKind::Unavailable,
            format!("cannot tell where this program is, to start kura-server beside it: {e}"),
        )
    })?;
    let dir = exe.parent().unwrap_or(std::path::Path::new("/"));
    let candidates = [
        dir.join("kura-server"),
        dir.join("../libexec/kura/kura-server"),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Unavailable,
                format!(
                    "`kura serve` and `kura mcp` run in kura-server, which is not installed: \
                     looked for {} and {}",
                    candidates[0].display(),
                    candidates[1].display()
                ),
            )
        })
}

fn run(cli: &Cli, out: &Out, servers: Option<&Servers>) -> Result<ExitCode, Error> {
    // These describe the command line or the desktop app; they need no vault.
    match &cli.command {
        Command::Completions(args) => return completions::run(args),
        Command::Manpages(args) => return manpages::run(args, out),
        Command::Logs(args) => return logs::run(args, out),
        Command::Autostart(args) => return autostart::run(args, out),
        _ => {}
    }
    // Every command goes through the service, which owns the vault: a door reads the vault
    // through it and changes it only with the service's operations, which announce each change
    // in the vault's event log, as when the desktop app, `kura serve` or `kura mcp` makes it.
    let api = Api::open(open_vault(cli)?)?;
    // A process that stays on repacks on a thread of its own; a command hands the repacks its
    // versions made due to a process of their own, rather than wait for them.
    let stays_on = match &cli.command {
        Command::Serve(args) => args.is_server(),
        Command::Mcp(_) => true,
        _ => false,
    };
    if !stays_on {
        api.leave_repacks_to_caller();
    }
    let result = run_command(&cli.command, out, &api, servers);
    // A purge that could not remove everything does not start another one.
    if !matches!(cli.command, Command::PurgeDiscarded) && api.vault().has_discarded() {
        start_on_its_own(api.vault(), ["purge-discarded".to_string()]);
    }
    let due = api.take_due_repacks();
    if !due.is_empty() {
        start_on_its_own(
            api.vault(),
            std::iter::once("repack-due".to_string()).chain(due),
        );
    }
    result
}

/// Starts `kura ARGS` on its own, quiet, for work that need not hold up this command:
/// `purge-discarded` (removing the folders an archive or a deletion moved aside, see
/// `Vault::purge_discarded`) and `repack-due` (rewriting with deltas the histories versions
/// left due a repack, see `Vault::repack_due`). Should it not start, the next `gc`,
/// cleanup, version or app start does that work.
fn start_on_its_own(vault: &VaultReader, args: impl IntoIterator<Item = String>) {
    use std::os::unix::process::CommandExt;
    use std::process::{Command as Process, Stdio};
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let started = Process::new(exe)
        .arg("--vault")
        .arg(vault.root())
        .arg("--quiet")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C meant for this command does not stop it.
        .process_group(0)
        .spawn();
    if let Err(e) = started {
        tracing::warn!("cannot start work in the background: {e}");
    }
}

/// One line per command: its `run` in `commands/`.
fn run_command(
    command: &Command,
    out: &Out,
    api: &Arc<Api>,
    servers: Option<&Servers>,
) -> Result<ExitCode, Error> {
    match command {
        Command::Status => status::run(out, api),
        Command::Workspace(cmd) => workspace::run(cmd, out, api),
        Command::Project(cmd) => project::run(cmd, out, api),
        Command::Template(cmd) => project::template(cmd, out, api),
        Command::Trash(cmd) => project::trash(cmd, out, api),
        Command::Files(args) => file::files(args, out, api),
        Command::File(cmd) => file::run(cmd, out, api),
        Command::Snapshot(args) => history::snapshot(args, out, api),
        Command::History(args) => history::history(args, out, api),
        Command::Diff(args) => history::diff(args, out, api),
        Command::Restore(args) => history::restore(args, out, api),
        Command::Backup(cmd) => backup::run(cmd, out, api),
        Command::Verify(args) => verify::run(args, out, api),
        Command::Gc => gc::run(out, api),
        Command::PurgeDiscarded => gc::purge_discarded(api),
        Command::RepackDue { projects } => gc::repack_due(projects, api),
        Command::Stats => stats::run(out, api),
        Command::Config(cmd) => config::run(cmd, out, api),
        Command::Git(cmd) => git::run(cmd, out, api),
        Command::Archive(args) => archive::run(args, out, api),
        Command::Archives => archive::list(out, api),
        Command::Unarchive(args) => archive::unarchive(args, out, api),
        Command::Extract(args) => archive::extract(args, out, api),
        Command::Import(args) => archive::import(args, out, api),
        Command::Quota => stats::quota(out, api),
        Command::Cleanup(args) => cleanup::run(args, out, api),
        Command::Record(args) => records::run(args, out, api),
        Command::Share(args) => share::run(args, out, api),
        Command::Mcp(args) => (carried(servers)?.mcp)(args, api),
        Command::Serve(args) => (carried(servers)?.serve)(args, out, api),
        // Answered by `run` before the vault opens.
        Command::Completions(_)
        | Command::Manpages(_)
        | Command::Logs(_)
        | Command::Autostart(_) => Ok(ExitCode::SUCCESS),
    }
}

/// The servers of this program; `kura` has none (it hands those commands over before this).
fn carried(servers: Option<&Servers>) -> Result<&Servers, Error> {
    servers.ok_or_else(|| {
        Error::new(
            ErrorKind::Internal,
            "kura serve and kura mcp run in kura-server",
        )
    })
}
