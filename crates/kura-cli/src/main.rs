//! `kura`: the command-line door onto the Kura vault. Every subcommand parses its input, calls
//! one engine function and prints the result, for people by default or as JSON with `--json`.

// First: its output macros serve every module after it.
#[macro_use]
mod pipe;

mod autostart;
mod backup;
mod docs;
mod human;
mod print;
mod records;
mod serve;
mod share;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use kura_api::Api;
use kura_core::{
    ByteSize, CleanupCategory, CleanupOptions, Error, ErrorKind, ImportArchiveOptions,
    ImportOptions, Job, NewProject, ProjectFilter, ProjectSort, ProjectStatus, SnapshotOptions,
    Trigger, Vault, VaultReader,
};

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
enum Command {
    /// Show the vault, the active workspace and a summary of projects.
    Status,
    /// Create, rename, switch, list and delete workspaces.
    #[command(subcommand)]
    Workspace(WorkspaceCmd),
    /// Create, import, list, change and delete projects.
    #[command(subcommand)]
    Project(ProjectCmd),
    /// List project templates.
    #[command(subcommand)]
    Template(TemplateCmd),
    /// Projects in the trash.
    #[command(subcommand)]
    Trash(TrashCmd),
    /// List a project's files (new, modified and deleted files are marked).
    Files {
        /// Project name or id.
        project: String,
        /// Only files under this folder.
        prefix: Option<String>,
    },
    /// Read, save, rename or delete one file in a project.
    #[command(subcommand)]
    File(FileCmd),
    /// Take a version of a project (or of every active project with --all).
    Snapshot {
        /// Project name or id.
        #[arg(required_unless_present = "all")]
        project: Option<String>,
        /// Snapshot every active project of the active workspace that changed.
        #[arg(long, conflicts_with = "project")]
        all: bool,
        /// The version's message.
        #[arg(long, short)]
        message: Option<String>,
        /// Who made it: "Name <email>".
        #[arg(long)]
        author: Option<String>,
        /// What made it (desktop, cli, http, mcp, automatic, schedule, ...).
        #[arg(long, default_value = "cli")]
        trigger: Trigger,
        /// Make a version even if nothing changed.
        #[arg(long)]
        allow_empty: bool,
    },
    /// List versions of a project, or of one file.
    History {
        /// Project name or id.
        project: String,
        /// Only versions where this file changed.
        #[arg(long)]
        file: Option<String>,
        /// At most this many versions.
        #[arg(long, short = 'n')]
        limit: Option<usize>,
    },
    /// Show what changed between two versions.
    Diff {
        /// Project name or id.
        project: String,
        /// The older version (id, latest, latest~N).
        from: String,
        /// The newer version (default: latest).
        to: Option<String>,
        /// Only this file or folder.
        #[arg(long)]
        file: Option<String>,
        /// Only the list of changed files, no line diff.
        #[arg(long)]
        stat: bool,
    },
    /// Restore a project (or one file) to a version; the current state is kept as a version first.
    Restore {
        /// Project name or id.
        project: String,
        /// The version (id, latest~N).
        version: String,
        /// Restore only this file.
        #[arg(long)]
        file: Option<String>,
    },
    /// Backups: targets, runs, restore, verify, prune, schedules.
    #[command(subcommand)]
    Backup(backup::BackupCmd),
    /// Check the catalog, histories and chunks; names what any problem affects.
    Verify {
        /// Only this project.
        project: Option<String>,
    },
    /// Remove chunks no version references.
    Gc,
    /// Remove the folders an archive or a deletion moved aside (started in the background by
    /// the commands that do that).
    #[command(hide = true)]
    PurgeDiscarded,
    /// Where the space goes.
    Stats,
    /// Show or change settings in config.toml.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Push a project's history to a git remote; status, log or init of the project folder's own git repository.
    #[command(subcommand)]
    Git(GitCmd),
    /// Archive a project (or every idle one with --idle) into a tar.zst; list and verify archives.
    Archive(ArchiveArgs),
    /// List archives with size, compression ratio and date.
    Archives,
    /// Bring an archived project back (by project name or archive id).
    Unarchive {
        /// Project name or id, or archive id.
        archive: String,
    },
    /// Unpack an archive (archive id, project, or a .tar.zst/.tar.gz/.zip file) into a folder.
    Extract {
        /// Archive id, archived project, or a path to an archive file.
        archive: String,
        /// A new or empty folder.
        dest: PathBuf,
    },
    /// Import an archive file (.tar.zst, .tar.gz, .zip) as a new project, from this computer or
    /// from a backup target's bucket (s3://TARGET/path/to/file).
    Import {
        /// The archive file, or s3://TARGET/path/to/file.
        file: PathBuf,
        /// The project's name (default: the archived project's name, the archive's single top
        /// folder, or the file name).
        #[arg(long)]
        name: Option<String>,
        /// Workspace (default: the active one).
        #[arg(long, short)]
        workspace: Option<String>,
        /// The project's kind (default: imported; an archive made by Kura keeps its own).
        #[arg(long)]
        kind: Option<String>,
    },
    /// Usage against quota.max_project_size and quota.total_quota.
    Quota,
    /// Purge the trash, archive idle projects, thin automatic versions, collect chunks, clear
    /// leftovers (`kura cleanup history` lists past runs).
    Cleanup(CleanupArgs),
    /// Records: JSON documents under keys, per project (--project) or for the vault; get, put,
    /// delete, list, query, batch.
    Record(records::RecordArgs),
    /// Share a version as a download link from an S3 target (`kura share P --target T
    /// --expires 24h`); `kura share list`, `kura share revoke ID`, `kura share prune`.
    Share(share::ShareArgs),
    /// Print a shell's completion script: `source <(kura completions bash)`, or save it where
    /// the shell looks (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Show the end of the newest log of the app, `kura serve` and `kura mcp` (kept a week in
    /// $XDG_STATE_HOME/kura, else ~/.local/state/kura), and where the logs are.
    Logs {
        /// Lines to show.
        #[arg(long, short = 'n', default_value_t = 50)]
        lines: usize,
    },
    /// Start the desktop app when you log in, out of the way (in the tray, or minimized):
    /// `kura autostart` says whether it does, `kura autostart on|off` changes it. The XDG
    /// autostart entry ($XDG_CONFIG_HOME/autostart/kura.desktop) starts `kura-desktop --hidden`
    /// from the folder of this `kura`.
    Autostart {
        /// Start the app at login (on) or stop doing so (off); without it, say which is set.
        #[arg(value_enum)]
        switch: Option<autostart::Switch>,
    },
    /// Write the manual pages (kura.1, and one per command such as kura-backup-run.1) into a
    /// folder, for `man -l` or a package's man1 folder.
    Manpages {
        /// The folder (made when missing).
        dir: PathBuf,
    },
    /// Serve the vault's operations as MCP tools over stdin/stdout, for AI agent clients.
    Mcp {
        /// Enable the destructive tools (restore over the working folder, delete a file, trash
        /// or delete a project); without it they are listed but refused.
        #[arg(long)]
        allow_destructive: bool,
        /// Refuse every tool that changes the vault.
        #[arg(long, conflicts_with = "allow_destructive")]
        read_only: bool,
        /// The longest message (one line of JSON) read, in bytes; a longer one is refused with
        /// a JSON-RPC error naming this limit. The default, 64 MiB, fits a save_file of about
        /// 60 MiB of text.
        #[arg(long, value_name = "BYTES", default_value_t = kura_mcp::Limits::DEFAULT_MAX_LINE_BYTES)]
        max_line_bytes: usize,
        /// How deep arrays and objects may nest in a message (a tool's arguments start at level
        /// 3); deeper is refused with a JSON-RPC error naming this limit. At most 120.
        #[arg(long, value_name = "LEVELS", default_value_t = kura_mcp::Limits::DEFAULT_MAX_DEPTH,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=120))]
        max_depth: usize,
    },
    /// Serve the vault over HTTP (Unix socket, or 127.0.0.1 with --listen); `kura serve token`
    /// prints a token.
    Serve(serve::ServeArgs),
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct ArchiveArgs {
    #[command(subcommand)]
    cmd: Option<ArchiveCmd>,
    /// The project to archive.
    #[arg(required_unless_present = "idle")]
    project: Option<String>,
    /// Archive every active project idle longer than archive.archive_after_days.
    #[arg(long, conflicts_with = "project")]
    idle: bool,
}

#[derive(Subcommand)]
enum ArchiveCmd {
    /// List archives.
    List,
    /// Check an archive's checksum and read every entry (fetching it from the cold tier first
    /// when it is only there).
    Verify {
        /// Archive id or archived project.
        archive: String,
    },
    /// Move archives to the cold tier now (`archive.cold_target`): upload and verify those not
    /// there yet, then drop the local files that may go (`archive.keep_local_days`,
    /// `archive.local_cap`).
    Cold,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct CleanupArgs {
    #[command(subcommand)]
    cmd: Option<CleanupCmd>,
    /// Show what would be removed; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Only these categories: trash, archive, versions, chunks, cache (comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<CleanupCategory>,
}

#[derive(Subcommand)]
enum CleanupCmd {
    /// Past cleanup runs with the bytes freed per category.
    History {
        /// At most this many runs, newest first (default: all).
        #[arg(long, short = 'n')]
        limit: Option<u32>,
    },
}

#[derive(Subcommand)]
enum GitCmd {
    /// Push the version history to the project's git remote (or --remote).
    Push {
        /// Project name or id.
        project: String,
        /// Remote URL or path (default: the project's git remote).
        #[arg(long)]
        remote: Option<String>,
        /// Remote branch (default: main).
        #[arg(long)]
        branch: Option<String>,
    },
    /// `git status` of the project's folder.
    Status {
        /// Project name or id.
        project: String,
    },
    /// `git log` of the project's folder.
    Log {
        /// Project name or id.
        project: String,
        /// At most this many commits.
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: usize,
    },
    /// Make the project's folder a git repository.
    Init {
        /// Project name or id.
        project: String,
    },
}

#[derive(Subcommand)]
enum WorkspaceCmd {
    /// List workspaces.
    List,
    /// Show the active workspace.
    Current,
    /// Create a workspace.
    Create {
        /// The new workspace's name.
        name: String,
    },
    /// Rename a workspace.
    Rename {
        /// The workspace.
        name: String,
        /// Its new name.
        new_name: String,
    },
    /// Make a workspace the active one.
    Switch {
        /// The workspace.
        name: String,
    },
    /// Delete a workspace (refused while it holds projects, unless --move-to).
    Delete {
        /// The workspace.
        name: String,
        /// Move its projects to this workspace first.
        #[arg(long)]
        move_to: Option<String>,
    },
}

#[derive(Subcommand)]
enum ProjectCmd {
    /// Create a project, blank or from a template.
    Create {
        /// The new project's name.
        name: String,
        /// empty, backend, frontend, fullstack, or a saved template.
        #[arg(long, short)]
        template: Option<String>,
        /// generation, migration, imported, manual, ...
        #[arg(long)]
        kind: Option<String>,
        /// A line saying what the project is.
        #[arg(long, short, default_value = "")]
        description: String,
        /// A tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Workspace (default: the active one).
        #[arg(long, short)]
        workspace: Option<String>,
    },
    /// Import a folder as a project (copied into the vault, or tracked in place with --link).
    Import {
        /// The folder.
        path: PathBuf,
        /// The project's name (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
        /// Track the folder where it is instead of copying it.
        #[arg(long)]
        link: bool,
        /// The project's kind (default: imported).
        #[arg(long)]
        kind: Option<String>,
        /// Workspace (default: the active one).
        #[arg(long, short)]
        workspace: Option<String>,
    },
    /// List projects, with filters.
    List(ListArgs),
    /// Show a project's details.
    Show {
        /// Project name or id.
        project: String,
    },
    /// Rename a project.
    Rename {
        /// Project name or id.
        project: String,
        /// Its new name.
        new_name: String,
    },
    /// Move a project to another workspace.
    Move {
        /// Project name or id.
        project: String,
        /// The workspace to move it to.
        workspace: String,
    },
    /// Change description, kind or git remote.
    Edit {
        /// Project name or id.
        project: String,
        /// The new description.
        #[arg(long, short)]
        description: Option<String>,
        /// The new kind (generation, migration, imported, manual, ...).
        #[arg(long)]
        kind: Option<String>,
        /// The git remote URL ("" clears it).
        #[arg(long)]
        git_remote: Option<String>,
    },
    /// Add or remove tags.
    Tag {
        /// Project name or id.
        project: String,
        /// A tag to add (repeatable).
        #[arg(long)]
        add: Vec<String>,
        /// A tag to remove (repeatable).
        #[arg(long)]
        remove: Vec<String>,
    },
    /// Show metadata, or set KEY=VALUE / remove KEY= pairs.
    Meta {
        /// Project name or id.
        project: String,
        /// KEY=VALUE sets a key, KEY= removes it; none: show the metadata.
        changes: Vec<String>,
    },
    /// Move a project to the trash (or delete it for good with --hard).
    Delete {
        /// Project name or id.
        project: String,
        /// Delete its history and (managed) folder for good.
        #[arg(long)]
        hard: bool,
    },
    /// Write a version's files to a folder.
    Export {
        /// Project name or id.
        project: String,
        /// A new or empty folder.
        dest: PathBuf,
        /// The version (default: latest).
        #[arg(long)]
        version: Option<String>,
        /// Also write the project's records, as .kura/records.jsonl (and the collections'
        /// settings as .kura/record-collections.json).
        #[arg(long)]
        records: bool,
    },
    /// Save the latest version as a template for new projects.
    SaveTemplate {
        /// Project name or id.
        project: String,
        /// The template's name.
        name: String,
    },
}

#[derive(Args)]
struct ListArgs {
    /// Only this workspace (default: the active one).
    #[arg(long, short)]
    workspace: Option<String>,
    /// Every workspace.
    #[arg(long, conflicts_with = "workspace")]
    all: bool,
    /// active, archived or deleted.
    #[arg(long)]
    status: Option<ProjectStatus>,
    /// Uses this language (as detected: rust, typescript, python, ...).
    #[arg(long)]
    language: Option<String>,
    /// Uses this framework (as detected).
    #[arg(long)]
    framework: Option<String>,
    /// Has this tag (repeatable: all must match).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// At least this big (e.g. 10MiB).
    #[arg(long)]
    min_size: Option<ByteSize>,
    /// At most this big.
    #[arg(long)]
    max_size: Option<ByteSize>,
    /// Changed since (2026-11-01, or 7d for seven days ago).
    #[arg(long)]
    since: Option<String>,
    /// Changed before.
    #[arg(long)]
    before: Option<String>,
    /// Text in the name, description or tags.
    #[arg(long, short)]
    search: Option<String>,
    /// Metadata KEY (present) or KEY=VALUE (repeatable).
    #[arg(long = "meta")]
    meta: Vec<String>,
    /// name, size, updated or created.
    #[arg(long, default_value = "name")]
    sort: ProjectSort,
    /// At most this many projects.
    #[arg(long)]
    limit: Option<u32>,
}

#[derive(Subcommand)]
enum TemplateCmd {
    /// List templates.
    List,
}

#[derive(Subcommand)]
enum TrashCmd {
    /// List projects in the trash.
    List,
    /// Bring a project back from the trash.
    Restore {
        /// Project name or id.
        project: String,
    },
}

#[derive(Subcommand)]
enum FileCmd {
    /// Print a file to standard output.
    Read {
        /// Project name or id.
        project: String,
        /// The file's path in the project.
        path: String,
    },
    /// Save a file from --from or standard input.
    Save {
        /// Project name or id.
        project: String,
        /// The file's path in the project.
        path: String,
        /// Read the content from this file instead of standard input.
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Rename or move a file inside the project.
    Rename {
        /// Project name or id.
        project: String,
        /// The file's path now.
        from: String,
        /// Its new path.
        to: String,
    },
    /// Delete a file (it stays in earlier versions).
    Delete {
        /// Project name or id.
        project: String,
        /// The file's path in the project.
        path: String,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Print every setting in force.
    Show,
    /// Print the path of config.toml.
    Path,
    /// Print one setting.
    Get {
        /// The setting's dotted key (storage.compression_level).
        key: String,
    },
    /// Change one setting.
    Set {
        /// The setting's dotted key (storage.compression_level).
        key: String,
        /// Its new value, as config.toml holds it (64 MiB, true, a comma-separated list, ...).
        value: String,
    },
}

fn main() -> ExitCode {
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
    // The programs that stay on keep a log file (`kura logs`); every command warns on stderr.
    match &cli.command {
        Command::Serve(args) if args.is_server() => kura_api::logs::init("kura-serve", true),
        Command::Mcp { .. } => kura_api::logs::init("kura-mcp", true),
        _ => kura_api::logs::init("kura", false),
    }
    let out = Out::new(cli.json);
    let code = match run(&cli, &out) {
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

fn job(cli: &Cli) -> Job {
    if cli.quiet || cli.json || !std::io::stderr().is_terminal() {
        return Job::default();
    }
    print::progress_job()
}

fn run(cli: &Cli, out: &Out) -> Result<ExitCode, Error> {
    // These describe the command line; they need no vault.
    match &cli.command {
        Command::Completions { shell } => return docs::completions(*shell),
        Command::Manpages { dir } => return docs::manpages(dir, out),
        Command::Logs { lines } => return docs::logs(*lines, out),
        Command::Autostart { switch } => return autostart::run(*switch, out),
        _ => {}
    }
    // Every command goes through the service, which owns the vault: a door reads the vault
    // through it and changes it only with the service's operations, which announce each change
    // in the vault's event log, as when the desktop app, `kura serve` or `kura mcp` makes it.
    let api = Api::open(open_vault(cli)?)?;
    let result = run_command(cli, out, &api);
    // A purge that could not remove everything does not start another one.
    if !matches!(cli.command, Command::PurgeDiscarded) && api.vault().has_discarded() {
        spawn_purge(api.vault());
    }
    result
}

/// Starts `kura purge-discarded` on its own, so that removing the folders an archive or a
/// deletion moved aside does not hold up this command (see `Vault::purge_discarded`). Should
/// it not start, the next `gc`, cleanup or app start removes them.
fn spawn_purge(vault: &VaultReader) {
    use std::os::unix::process::CommandExt;
    use std::process::{Command as Process, Stdio};
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let started = Process::new(exe)
        .arg("--vault")
        .arg(vault.root())
        .args(["--quiet", "purge-discarded"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C meant for this command does not stop it.
        .process_group(0)
        .spawn();
    if let Err(e) = started {
        tracing::warn!("cannot start removing discarded folders: {e}");
    }
}

fn run_command(cli: &Cli, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let vault = api.vault();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    };
    match &cli.command {
        Command::Status => {
            let ws = vault.current_workspace()?;
            let stats = vault.stats()?;
            out.status(vault, &ws, &stats);
        }
        Command::Workspace(cmd) => match cmd {
            WorkspaceCmd::List => out.workspaces(&vault.workspaces()?),
            WorkspaceCmd::Current => out.workspace(&vault.current_workspace()?, None),
            WorkspaceCmd::Create { name } => {
                out.workspace(&api.create_workspace(name)?, Some("Created"))
            }
            WorkspaceCmd::Rename { name, new_name } => {
                out.workspace(&api.rename_workspace(name, new_name)?, Some("Renamed"))
            }
            WorkspaceCmd::Switch { name } => {
                out.workspace(&api.switch_workspace(name)?, Some("Switched to"))
            }
            WorkspaceCmd::Delete { name, move_to } => {
                api.delete_workspace(name, move_to.as_deref())?;
                out.done(&format!("Deleted workspace '{name}'"));
            }
        },
        Command::Project(cmd) => match cmd {
            ProjectCmd::Create {
                name,
                template,
                kind,
                description,
                tags,
                workspace,
            } => {
                let p = api.create_project(&NewProject {
                    name: name.clone(),
                    workspace: workspace.clone(),
                    template: template.clone(),
                    kind: kind.clone(),
                    description: description.clone(),
                    tags: tags.clone(),
                })?;
                out.project(&p, Some("Created"), now());
            }
            ProjectCmd::Import {
                path,
                name,
                link,
                kind,
                workspace,
            } => {
                let p = api.import_folder(
                    path,
                    &ImportOptions {
                        name: name.clone(),
                        workspace: workspace.clone(),
                        link: *link,
                        kind: kind.clone(),
                    },
                    &job(cli),
                )?;
                out.project(&p, Some(if *link { "Linked" } else { "Imported" }), now());
            }
            ProjectCmd::List(args) => {
                let filter =
                    list_filter(args, now()).map_err(|m| kura_error(ErrorKind::InvalidInput, m))?;
                out.projects(&vault.projects(&filter)?, now());
            }
            ProjectCmd::Show { project } => out.project(&vault.project(project)?, None, now()),
            ProjectCmd::Rename { project, new_name } => out.project(
                &api.rename_project(project, new_name)?,
                Some("Renamed"),
                now(),
            ),
            ProjectCmd::Move { project, workspace } => {
                out.project(&api.move_project(project, workspace)?, Some("Moved"), now())
            }
            ProjectCmd::Edit {
                project,
                description,
                kind,
                git_remote,
            } => out.project(
                &api.edit_project(
                    project,
                    description.as_deref(),
                    kind.as_deref(),
                    git_remote.as_deref(),
                )?,
                Some("Updated"),
                now(),
            ),
            ProjectCmd::Tag {
                project,
                add,
                remove,
            } => out.project(
                &api.tag_project(project, add, remove)?,
                Some("Tagged"),
                now(),
            ),
            ProjectCmd::Meta { project, changes } => {
                let parsed: Vec<(String, Option<String>)> = changes
                    .iter()
                    .map(|c| match c.split_once('=') {
                        Some((k, "")) => Ok((k.to_string(), None)),
                        Some((k, v)) => Ok((k.to_string(), Some(v.to_string()))),
                        None => Err(kura_error(
                            ErrorKind::InvalidInput,
                            format!("'{c}' is not KEY=VALUE (use KEY= to remove a key)"),
                        )),
                    })
                    .collect::<Result<_, _>>()?;
                let p = if parsed.is_empty() {
                    vault.project(project)?
                } else {
                    api.set_metadata(project, &parsed)?
                };
                out.metadata(&p);
            }
            ProjectCmd::Delete { project, hard } => {
                if *hard {
                    let p = vault.project(project)?;
                    api.delete_project(&p.id)?;
                    out.done(&format!("Deleted project '{}' for good", p.name));
                } else {
                    let p = api.trash_project(project)?;
                    out.project(&p, Some("Moved to the trash:"), now());
                }
            }
            ProjectCmd::Export {
                project,
                dest,
                version,
                records,
            } => {
                let r = vault.export_version_with(
                    project,
                    version.as_deref(),
                    dest,
                    *records,
                    &job(cli),
                )?;
                out.restored(&r, &format!("Exported to {}", dest.display()));
            }
            ProjectCmd::SaveTemplate { project, name } => {
                let t = api.save_template(project, name)?;
                out.templates(std::slice::from_ref(&t));
            }
        },
        Command::Template(TemplateCmd::List) => out.templates(&vault.templates()?),
        Command::Trash(cmd) => match cmd {
            TrashCmd::List => out.projects(
                &vault.projects(&ProjectFilter {
                    all_workspaces: true,
                    status: Some(ProjectStatus::Deleted),
                    ..Default::default()
                })?,
                now(),
            ),
            TrashCmd::Restore { project } => out.project(
                &api.untrash_project(project)?,
                Some("Restored from the trash:"),
                now(),
            ),
        },
        Command::Files { project, prefix } => {
            out.files(&vault.list_files(project, prefix.as_deref())?, now())
        }
        Command::File(cmd) => match cmd {
            FileCmd::Read { project, path } => {
                let mut lock = pipe::Stdout::lock();
                vault.read_file(project, path, &mut lock)?;
                let _ = lock.flush();
            }
            FileCmd::Save {
                project,
                path,
                from,
            } => {
                let n = match from {
                    Some(src) => {
                        let mut f = std::fs::File::open(src).map_err(|e| {
                            kura_error(
                                ErrorKind::NotFound,
                                format!("cannot open {}: {e}", src.display()),
                            )
                        })?;
                        api.save_file(project, path, &mut f)?
                    }
                    None => api.save_file(project, path, &mut std::io::stdin().lock())?,
                };
                out.done_json(
                    &format!("Saved {path} ({})", human::bytes(n)),
                    serde_json::json!({"path": path, "bytes": n}),
                );
            }
            FileCmd::Rename { project, from, to } => {
                api.rename_file(project, from, to)?;
                out.done(&format!("Renamed {from} to {to}"));
            }
            FileCmd::Delete { project, path } => {
                api.delete_file(project, path)?;
                out.done(&format!("Deleted {path}"));
            }
        },
        Command::Snapshot {
            project,
            all,
            message,
            author,
            trigger,
            allow_empty,
        } => {
            let opts = SnapshotOptions {
                message: message.clone(),
                author: author.clone(),
                trigger: Some(*trigger),
                allow_empty: *allow_empty,
            };
            let reports = if *all {
                api.snapshot_changed(false, &opts, &job(cli))?
            } else {
                vec![api.snapshot(project.as_deref().unwrap_or_default(), &opts, &job(cli))?]
            };
            let mut named = Vec::new();
            for r in reports {
                named.push((vault.project(&r.project_id)?.name, r));
            }
            let reports = named;
            let skipped_any = reports.iter().any(|(_, r)| !r.skipped.is_empty());
            out.snapshots(&reports);
            if skipped_any {
                return Ok(ExitCode::from(11));
            }
        }
        Command::History {
            project,
            file,
            limit,
        } => {
            let versions = vault.history(project, file.as_deref(), *limit)?;
            out.versions(&versions, now());
        }
        Command::Diff {
            project,
            from,
            to,
            file,
            stat,
        } => {
            let d = vault.diff(project, from, to.as_deref(), file.as_deref(), !*stat)?;
            out.diff(&d);
        }
        Command::Restore {
            project,
            version,
            file,
        } => {
            let r = match file {
                Some(f) => api.restore_file(project, version, f, &job(cli))?,
                None => api.restore_project(project, version, &job(cli))?,
            };
            out.restored(&r, &format!("Restored version {}", &r.version[..10]));
        }
        Command::Verify { project } => {
            let r = vault.verify(project.as_deref(), &job(cli))?;
            out.verify(&r);
            if !r.is_ok() {
                return Ok(ExitCode::from(exit_code(ErrorKind::Corrupt)));
            }
        }
        Command::Backup(cmd) => return backup::run(cmd, api, out, job(cli), now()),
        Command::Gc => out.gc(&api.gc(&job(cli))?),
        Command::PurgeDiscarded => {
            api.purge_discarded()?;
        }
        Command::Stats => out.stats(&vault.stats()?, now()),
        Command::Git(cmd) => match cmd {
            GitCmd::Push {
                project,
                remote,
                branch,
            } => {
                let r = vault.push_history(project, remote.as_deref(), branch.as_deref())?;
                out.done_json(
                    &format!(
                        "Pushed version {} to {} ({})",
                        &r.version[..10],
                        r.remote,
                        r.branch
                    ),
                    serde_json::to_value(&r).unwrap_or_default(),
                );
            }
            GitCmd::Status { project } => out.git_status(&vault.folder_git_status(project)?),
            GitCmd::Log { project, limit } => {
                out.git_log(&vault.folder_git_log(project, *limit)?, now())
            }
            GitCmd::Init { project } => {
                api.init_folder_git(project)?;
                out.done(&format!("Made the folder of '{project}' a git repository"));
            }
        },
        Command::Archive(args) => match (&args.cmd, &args.project) {
            (Some(ArchiveCmd::List), _) => out.archives(&vault.list_archives()?, now()),
            (Some(ArchiveCmd::Verify { archive }), _) => {
                let r = api.verify_archive(archive, &job(cli))?;
                out.archive_verify(&r);
                if !r.is_ok() {
                    return Ok(ExitCode::from(exit_code(ErrorKind::Corrupt)));
                }
            }
            (Some(ArchiveCmd::Cold), _) => {
                let r = api.cold_pass(&job(cli))?;
                let text = if r.target.is_empty() {
                    "The cold tier is off: set archive.cold_target to a backup target (kura config set archive.cold_target NAME)".to_string()
                } else {
                    format!(
                        "Cold tier '{}': {} archives uploaded and verified, {} local files dropped ({} freed)",
                        r.target,
                        r.uploaded.len(),
                        r.dropped.len(),
                        human::bytes(r.bytes_freed)
                    )
                };
                out.done_json(&text, serde_json::json!(r));
            }
            (None, Some(project)) => {
                out.archive(&api.archive_project(project, &job(cli))?, "Archived")
            }
            (None, None) => {
                let made = api.archive_idle_projects(&job(cli))?;
                out.archives(&made, now());
            }
        },
        Command::Archives => out.archives(&vault.list_archives()?, now()),
        Command::Unarchive { archive } => {
            let p = api.unarchive_project(archive, &job(cli))?;
            out.project(&p, Some("Unarchived"), now());
        }
        Command::Extract { archive, dest } => {
            // An archive kept only in the cold tier is fetched back first.
            out.extracted(&api.extract_archive(archive, dest, &job(cli))?)
        }
        Command::Import {
            file,
            name,
            workspace,
            kind,
        } => {
            let opts = ImportArchiveOptions {
                name: name.clone(),
                workspace: workspace.clone(),
                kind: kind.clone(),
            };
            // A file here, or an archive kept at a backup target: s3://TARGET/path/to/file.
            let p = api.import_archive(file, &opts, &job(cli))?;
            out.project(&p, Some("Imported"), now());
        }
        Command::Quota => out.quota(&vault.quota_status()?),
        Command::Serve(args) => return serve::run(args, vault.root(), out),
        Command::Record(args) => records::run(args, api, out)?,
        Command::Share(args) => return share::run(args, api, out, job(cli), now()),
        Command::Cleanup(args) => match &args.cmd {
            Some(CleanupCmd::History { limit }) => {
                out.cleanup_runs(&vault.cleanup_runs(*limit)?, now())
            }
            None => out.cleanup(&api.cleanup(
                &CleanupOptions {
                    dry_run: args.dry_run,
                    only: args.only.clone(),
                },
                &job(cli),
            )?),
        },
        // Answered by `run` before the vault opens.
        Command::Completions { .. }
        | Command::Manpages { .. }
        | Command::Logs { .. }
        | Command::Autostart { .. } => {}
        Command::Mcp {
            allow_destructive,
            read_only,
            max_line_bytes,
            max_depth,
        } => kura_mcp::run_stdio(
            api.clone(),
            kura_mcp::Options {
                allow_destructive: *allow_destructive,
                read_only: *read_only,
                limits: kura_mcp::Limits {
                    max_line_bytes: *max_line_bytes,
                    max_depth: *max_depth,
                },
            },
        )?,
        Command::Config(cmd) => match cmd {
            ConfigCmd::Show => out.config(&vault.config()),
            ConfigCmd::Path => out.done_json(
                &vault.config_path().display().to_string(),
                serde_json::json!({"path": vault.config_path()}),
            ),
            ConfigCmd::Get { key } => {
                let v = vault.config().get(key)?;
                out.done_json(&v, serde_json::json!({"key": key, "value": v}));
            }
            ConfigCmd::Set { key, value } => {
                let c = api.set_config(key, value)?;
                let v = c.get(key)?;
                out.done_json(
                    &format!("{key} = {v}"),
                    serde_json::json!({"key": key, "value": v}),
                );
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn kura_error(kind: ErrorKind, message: impl Into<String>) -> Error {
    Error::new(kind, message)
}

fn list_filter(a: &ListArgs, now: i64) -> Result<ProjectFilter, String> {
    let meta = a
        .meta
        .iter()
        .map(|m| match m.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (m.clone(), None),
        })
        .collect();
    Ok(ProjectFilter {
        workspace: a.workspace.clone(),
        all_workspaces: a.all,
        status: a.status,
        language: a.language.clone(),
        framework: a.framework.clone(),
        tags: a.tags.clone(),
        min_size: a.min_size.map(|s| s.0),
        max_size: a.max_size.map(|s| s.0),
        updated_since: a
            .since
            .as_deref()
            .map(|s| human::parse_time(s, now))
            .transpose()?,
        updated_before: a
            .before
            .as_deref()
            .map(|s| human::parse_time(s, now))
            .transpose()?,
        text: a.search.clone(),
        metadata: meta,
        sort: a.sort,
        limit: a.limit,
    })
}
