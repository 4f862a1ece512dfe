//! Projects: list, show, create, archive and bring back, trash or delete.

use kura_api::calls;
use kura_core::ProjectFilter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::reply::{blocking, Reply};
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

crate::output::inputs!(ListProjects, ProjectRef, DeleteProject);

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
