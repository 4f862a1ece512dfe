//! Archives: `kura archive` (archive a project, or every idle one; list, verify, move to the
//! cold tier), `kura archives`, `kura unarchive`, `kura extract` and `kura import` (an archive
//! file as a new project).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use kura_api::{calls, Api, ArchiveReference};
use kura_core::{Error, ErrorKind, ImportArchiveOptions};

use super::now;
use crate::print::Out;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ArchiveArgs {
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
#[command(defer = true)]
pub enum ArchiveCmd {
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
pub struct UnarchiveArgs {
    /// Project name or id, or archive id.
    archive: String,
}

#[derive(Args)]
pub struct ExtractArgs {
    /// Archive id, archived project, or a path to an archive file.
    archive: String,
    /// A new or empty folder.
    dest: PathBuf,
}

#[derive(Args)]
pub struct ImportArgs {
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
}

/// `kura archive ...`: `verify` exits with the code of corruption when a problem is found.
pub fn run(args: &ArchiveArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    match (&args.cmd, &args.project) {
        (Some(ArchiveCmd::List), _) => return list(out, api),
        (Some(ArchiveCmd::Verify { archive }), _) => {
            let r = calls::verify_archive(api, archive.clone(), &out.job())?;
            out.archive_verify(&r);
            if !r.is_ok() {
                return Ok(ExitCode::from(crate::exit_code(ErrorKind::Corrupt)));
            }
        }
        (Some(ArchiveCmd::Cold), _) => {
            out.cold_pass(&calls::move_archives_to_cold_tier(api, &out.job())?)
        }
        (None, Some(project)) => out.archive(
            &calls::archive_project(api, project.clone(), &out.job())?,
            "Archived",
        ),
        (None, None) => out.archives(&api.archive_idle_projects(&out.job())?, now()),
    }
    Ok(ExitCode::SUCCESS)
}

/// `kura archives`, and `kura archive list`.
pub fn list(out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    out.archives(&calls::list_archives(api)?, now());
    Ok(ExitCode::SUCCESS)
}

/// `kura unarchive`.
pub fn unarchive(args: &UnarchiveArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let reference = ArchiveReference {
        archive: args.archive.clone(),
    };
    let p = calls::unarchive_project(api, reference, &out.job())?;
    out.project(&p, Some("Unarchived"), now());
    Ok(ExitCode::SUCCESS)
}

/// `kura extract`.
pub fn extract(args: &ExtractArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    // An archive kept only in the cold tier is fetched back first.
    out.extracted(&api.extract_archive(&args.archive, &args.dest, &out.job())?);
    Ok(ExitCode::SUCCESS)
}

/// `kura import`.
pub fn import(args: &ImportArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let opts = ImportArchiveOptions {
        name: args.name.clone(),
        workspace: args.workspace.clone(),
        kind: args.kind.clone(),
    };
    // A file here, or an archive kept at a backup target: s3://TARGET/path/to/file.
    let p = api.import_archive(&args.file, &opts, &out.job())?;
    out.project(&p, Some("Imported"), now());
    Ok(ExitCode::SUCCESS)
}
