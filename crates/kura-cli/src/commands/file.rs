//! `kura files` (a project's files, with what changed) and `kura file ...` (read, save, rename
//! or delete one file).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use kura_api::{calls, Api, RenameFile};
use kura_core::{Error, ErrorKind};

use super::now;
use crate::pipe;
use crate::print::Out;

#[derive(Args)]
pub struct FilesArgs {
    /// Project name or id.
    project: String,
    /// Only files under this folder.
    prefix: Option<String>,
}

#[derive(Subcommand)]
#[command(defer = true)]
pub enum FileCmd {
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

/// `kura files`.
pub fn files(args: &FilesArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let list = calls::list_files(api, args.project.clone(), args.prefix.clone())?;
    out.files(&list, now());
    Ok(ExitCode::SUCCESS)
}

/// `kura file ...`.
pub fn run(cmd: &FileCmd, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    match cmd {
        FileCmd::Read { project, path } => {
            // The content streams to standard output as it is read, not through the printer.
            let mut lock = pipe::Stdout::lock();
            api.vault().read_file(project, path, &mut lock)?;
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
                        Error::new(
                            ErrorKind::NotFound,
                            format!("cannot open {}: {e}", src.display()),
                        )
                    })?;
                    api.save_file(project, path, &mut f)?
                }
                None => api.save_file(project, path, &mut std::io::stdin().lock())?,
            };
            out.file_saved(path, n);
        }
        FileCmd::Rename { project, from, to } => {
            let rename = RenameFile {
                from: from.clone(),
                to: to.clone(),
            };
            api.rename_file(project, &rename)?;
            out.file_renamed(from, to);
        }
        FileCmd::Delete { project, path } => {
            api.delete_file(project, path)?;
            out.file_deleted(path);
        }
    }
    Ok(ExitCode::SUCCESS)
}
