//! A project's versions: `kura snapshot` (take one), `kura history` (list them), `kura diff`
//! (what changed between two) and `kura restore` (go back to one).

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use kura_api::{calls, Api, DiffRequest, RestoreRequest, VersionsRequest};
use kura_core::{Error, SnapshotOptions, Trigger};

use super::now;
use crate::print::Out;

#[derive(Args)]
pub struct SnapshotArgs {
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
}

#[derive(Args)]
pub struct HistoryArgs {
    /// Project name or id.
    project: String,
    /// Only versions where this file changed.
    #[arg(long)]
    file: Option<String>,
    /// At most this many versions.
    #[arg(long, short = 'n')]
    limit: Option<u32>,
}

#[derive(Args)]
pub struct DiffArgs {
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
}

#[derive(Args)]
pub struct RestoreArgs {
    /// Project name or id.
    project: String,
    /// The version (id, latest~N).
    version: String,
    /// Restore only this file.
    #[arg(long)]
    file: Option<String>,
}

/// `kura snapshot`: exit code 11 when files were skipped (named on standard error).
pub fn snapshot(args: &SnapshotArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let opts = SnapshotOptions {
        message: args.message.clone(),
        author: args.author.clone(),
        trigger: Some(args.trigger),
        allow_empty: args.allow_empty,
    };
    let job = out.job();
    let reports = if args.all {
        api.snapshot_changed(false, &opts, &job)?
    } else {
        vec![api.snapshot(args.project.as_deref().unwrap_or_default(), &opts, &job)?]
    };
    let mut named = Vec::new();
    for r in reports {
        named.push((api.vault().project(&r.project_id)?.name, r));
    }
    let skipped_any = named.iter().any(|(_, r)| !r.skipped.is_empty());
    out.snapshots(&named);
    if skipped_any {
        return Ok(ExitCode::from(11));
    }
    Ok(ExitCode::SUCCESS)
}

/// `kura history`.
pub fn history(args: &HistoryArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let request = VersionsRequest {
        limit: args.limit,
        path: args.file.clone(),
    };
    let versions = calls::list_versions(api, args.project.clone(), request)?;
    out.versions(&versions, now());
    Ok(ExitCode::SUCCESS)
}

/// `kura diff`.
pub fn diff(args: &DiffArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let request = DiffRequest {
        from: args.from.clone(),
        to: args.to.clone(),
        path: args.file.clone(),
        stat_only: args.stat,
    };
    let d = calls::diff_versions(api, args.project.clone(), request)?;
    out.diff(&d);
    Ok(ExitCode::SUCCESS)
}

/// `kura restore`.
pub fn restore(args: &RestoreArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let request = RestoreRequest {
        version: args.version.clone(),
        path: args.file.clone(),
    };
    let r = calls::restore_project(api, args.project.clone(), request, &out.job())?;
    out.restored_version(&r);
    Ok(ExitCode::SUCCESS)
}
