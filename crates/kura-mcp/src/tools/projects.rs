//! Projects: list, show, create, archive and bring back, trash or delete.

use kura_api::calls;
use kura_core::{NewProject, ProjectFilter};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::reply::{blocking, long_job, Reply};
use crate::server::KuraMcp;

/// Which projects to list.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ListProjects {
    #[serde(flatten)]
    pub filter: ProjectFilter,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct ProjectRef {
    /// The project's name (in the active workspace, or `workspace/name`) or id.
    pub project: String,
}

/// A new project.
#[derive(Deserialize, ToSchema)]
pub(crate) struct CreateProject {
    #[serde(flatten)]
    pub new: NewProject,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct Unarchive {
    #[serde(flatten)]
    pub archive: kura_api::ArchiveReference,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct DeleteProject {
    /// The project's name or id.
    pub project: String,
    /// Delete its history and (managed) folder for good instead of moving it to the trash.
    #[serde(default)]
    pub hard: bool,
}

#[derive(Serialize)]
struct Deleted {
    project_id: String,
    name: String,
    deleted_for_good: bool,
}

crate::output::inputs!(
    ListProjects,
    ProjectRef,
    CreateProject,
    Unarchive,
    DeleteProject
);

#[tool_router(router = project_tools, vis = "pub(crate)")]
impl KuraMcp {
    /// Lists projects with their size, languages, tags, status and latest version; filters
    /// combine (all must match). By default: the active workspace, active and archived projects.
    #[tool(output_schema = crate::output::schema(crate::output::object([("projects", crate::output::list(crate::output::of::<kura_core::Project>()))])), annotations(title = "List projects", read_only_hint = true))]
    async fn list_projects(&self, Parameters(p): Parameters<ListProjects>) -> Reply {
        blocking(&self.api, move |api| {
            Ok(json!({ "projects": calls::list_projects(api, p.filter)? }))
        })
        .await
    }

    /// One project's details: working folder, workspace, status, sizes, file count, detected
    /// languages and frameworks, tags, metadata and latest version (`head`).
    #[tool(output_schema = crate::output::schema_of::<kura_core::Project>(), annotations(title = "Show a project", read_only_hint = true))]
    async fn show_project(&self, Parameters(p): Parameters<ProjectRef>) -> Reply {
        blocking(&self.api, move |api| Ok(api.vault().project(&p.project)?)).await
    }

    /// Creates a project, blank or from a template, with a first version. Returns the project.
    #[tool(output_schema = crate::output::schema_of::<kura_core::Project>(), annotations(
        title = "Create a project",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false
    ))]
    async fn create_project(&self, Parameters(p): Parameters<CreateProject>) -> Reply {
        blocking(&self.api, move |api| calls::create_project(api, p.new)).await
    }

    /// Archives a project: takes a version of any unsaved change, packs its folder and history
    /// into a compressed archive and frees the folder. Nothing is lost; unarchive_project brings
    /// it back. Returns the archive (size, compression ratio, checksum).
    #[tool(output_schema = crate::output::schema_of::<kura_core::ArchiveInfo>(), annotations(
        title = "Archive a project",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false
    ))]
    async fn archive_project(
        &self,
        Parameters(p): Parameters<ProjectRef>,
        ctx: RequestContext<RoleServer>,
    ) -> Reply {
        long_job(&self.api, &ctx, move |api, job| {
            calls::archive_project(api, p.project, job)
        })
        .await
    }

    /// Brings an archived project back: unpacks its folder and history and makes it active.
    #[tool(output_schema = crate::output::schema_of::<kura_core::Project>(), annotations(
        title = "Unarchive a project",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false
    ))]
    async fn unarchive_project(
        &self,
        Parameters(p): Parameters<Unarchive>,
        ctx: RequestContext<RoleServer>,
    ) -> Reply {
        long_job(&self.api, &ctx, move |api, job| {
            calls::unarchive_project(api, p.archive, job)
        })
        .await
    }

    /// The archives in the vault, with size, compression ratio, date and whether the file is
    /// present.
    #[tool(output_schema = crate::output::schema(crate::output::object([("archives", crate::output::list(crate::output::of::<kura_core::ArchiveInfo>()))])), annotations(title = "List archives", read_only_hint = true))]
    async fn list_archives(&self) -> Reply {
        blocking(&self.api, |api| {
            Ok(json!({ "archives": calls::list_archives(api)? }))
        })
        .await
    }

    /// DESTRUCTIVE. Moves a project to the trash (it can be brought back with the desktop app or
    /// `kura trash restore`), or with `hard: true` deletes its history and managed folder for
    /// good. Refused unless the server runs with --allow-destructive.
    #[tool(output_schema = crate::output::schema(crate::output::object([("project_id", crate::output::string()), ("name", crate::output::string()), ("deleted_for_good", crate::output::boolean())])), annotations(
        title = "Delete a project",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false
    ))]
    async fn delete_project(&self, Parameters(p): Parameters<DeleteProject>) -> Reply {
        blocking(&self.api, move |api| {
            let project = api.vault().project(&p.project)?;
            if p.hard {
                calls::delete_project(api, project.id.clone())?;
            } else {
                calls::trash_project(api, project.id.clone())?;
            }
            Ok(Deleted {
                project_id: project.id,
                name: project.name,
                deleted_for_good: p.hard,
            })
        })
        .await
    }
}
