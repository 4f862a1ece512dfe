//! `kura project ...` (create, import, list, change and delete projects), `kura template list`
//! and `kura trash ...` (the projects in the trash).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use kura_api::{calls, Api, MetadataChange};
use kura_core::{
    ByteSize, Error, ImportOptions, NewProject, ProjectEdit, ProjectFilter, ProjectSort,
    ProjectStatus,
};

use super::{invalid, now};
use crate::human;
use crate::print::Out;

#[derive(Subcommand)]
#[command(defer = true)]
pub enum ProjectCmd {
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
    ///
    /// What its first version does not hold (files or folders that cannot be read, links leading
    /// out of the folder, names no restore could write back) is listed on stderr, or under
    /// `skipped` with --json, and the exit code is then 11.
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
pub struct ListArgs {
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
#[command(defer = true)]
pub enum TemplateCmd {
    /// List templates.
    List,
}

#[derive(Subcommand)]
#[command(defer = true)]
pub enum TrashCmd {
    /// List projects in the trash.
    List,
    /// Bring a project back from the trash.
    Restore {
        /// Project name or id.
        project: String,
    },
}

/// `kura project ...`. Longer than 100 lines only for its 12 subcommands' fields: each arm takes
/// them, calls one operation of the service and hands the result to the printer.
pub fn run(cmd: &ProjectCmd, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let vault = api.vault();
    match cmd {
        ProjectCmd::Create {
            name,
            template,
            kind,
            description,
            tags,
            workspace,
        } => {
            let new = NewProject {
                name: name.clone(),
                workspace: workspace.clone(),
                template: template.clone(),
                kind: kind.clone(),
                description: description.clone(),
                tags: tags.clone(),
            };
            let p = calls::create_project(api, new)?;
            out.project(&p, Some("Created"), now());
        }
        ProjectCmd::Import {
            path,
            name,
            link,
            kind,
            workspace,
        } => {
            let options = ImportOptions {
                name: name.clone(),
                workspace: workspace.clone(),
                link: *link,
                kind: kind.clone(),
            };
            // By the service, not its call: a path on the command line need not be text.
            let r = api.import_folder(path, &options, &out.job())?;
            out.imported(&r, if *link { "Linked" } else { "Imported" }, now());
            if !r.skipped.is_empty() {
                return Ok(ExitCode::from(11));
            }
        }
        ProjectCmd::List(args) => {
            let filter = list_filter(args, now()).map_err(invalid)?;
            out.projects(&calls::list_projects(api, filter)?, now());
        }
        ProjectCmd::Show { project } => out.project(&vault.project(project)?, None, now()),
        ProjectCmd::Rename { project, new_name } => {
            let edit = ProjectEdit {
                name: Some(new_name.clone()),
                ..Default::default()
            };
            let p = calls::edit_project(api, project.clone(), edit)?;
            out.project(&p, Some("Renamed"), now())
        }
        ProjectCmd::Move { project, workspace } => {
            let edit = ProjectEdit {
                workspace: Some(workspace.clone()),
                ..Default::default()
            };
            let p = calls::edit_project(api, project.clone(), edit)?;
            out.project(&p, Some("Moved"), now())
        }
        ProjectCmd::Edit {
            project,
            description,
            kind,
            git_remote,
        } => {
            let edit = ProjectEdit {
                description: description.clone(),
                kind: kind.clone(),
                git_remote: git_remote.clone(),
                ..Default::default()
            };
            let p = calls::edit_project(api, project.clone(), edit)?;
            out.project(&p, Some("Updated"), now())
        }
        ProjectCmd::Tag {
            project,
            add,
            remove,
        } => out.project(
            &calls::tag_project(api, project.clone(), add.clone(), remove.clone())?,
            Some("Tagged"),
            now(),
        ),
        ProjectCmd::Meta { project, changes } => {
            let parsed = parse_metadata(changes)?;
            let p = if parsed.is_empty() {
                vault.project(project)?
            } else {
                let changes = parsed
                    .into_iter()
                    .map(|(key, value)| MetadataChange { key, value })
                    .collect();
                calls::set_project_metadata(api, project.clone(), changes)?
            };
            out.metadata(&p);
        }
        ProjectCmd::Delete { project, hard } => delete(project, *hard, out, api)?,
        ProjectCmd::Export {
            project,
            dest,
            version,
            records,
        } => {
            // By the engine, not its call: a path on the command line need not be text.
            let r = vault.export_version_with(
                project,
                version.as_deref(),
                dest,
                *records,
                &out.job(),
            )?;
            out.exported(&r, dest);
        }
        ProjectCmd::SaveTemplate { project, name } => {
            let t = calls::save_project_as_template(api, project.clone(), name.clone())?;
            out.templates(std::slice::from_ref(&t));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `kura project delete`: to the trash, or for good with `--hard`.
fn delete(project: &str, hard: bool, out: &Out, api: &Arc<Api>) -> Result<(), Error> {
    if hard {
        let p = api.vault().project(project)?;
        calls::delete_project(api, p.id.clone())?;
        out.project_deleted(&p);
    } else {
        let p = calls::trash_project(api, project.to_string())?;
        out.project(&p, Some("Moved to the trash:"), now());
    }
    Ok(())
}

/// `kura template list`.
pub fn template(cmd: &TemplateCmd, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    match cmd {
        TemplateCmd::List => out.templates(&calls::list_templates(api)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// `kura trash ...`.
pub fn trash(cmd: &TrashCmd, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    match cmd {
        TrashCmd::List => out.projects(
            &calls::list_projects(
                api,
                ProjectFilter {
                    all_workspaces: true,
                    status: Some(ProjectStatus::Deleted),
                    ..Default::default()
                },
            )?,
            now(),
        ),
        TrashCmd::Restore { project } => out.project(
            &calls::untrash_project(api, project.clone())?,
            Some("Restored from the trash:"),
            now(),
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `KEY=VALUE` sets a key, `KEY=` removes it.
fn parse_metadata(changes: &[String]) -> Result<Vec<(String, Option<String>)>, Error> {
    changes
        .iter()
        .map(|c| match c.split_once('=') {
            Some((k, "")) => Ok((k.to_string(), None)),
            Some((k, v)) => Ok((k.to_string(), Some(v.to_string()))),
            None => Err(invalid(format!(
                "'{c}' is not KEY=VALUE (use KEY= to remove a key)"
            ))),
        })
        .collect()
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
