//! Versions: snapshot, history, diff, restore.

use kura_api::calls;
use kura_api::{RestoreRequest, SnapshotRequest};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::reply::{long_job, Reply};
use crate::server::KuraMcp;

/// A version to take of a project.
#[derive(Deserialize, ToSchema)]
pub(crate) struct Snapshot {
    /// The project's name or id.
    pub project: String,
    #[serde(flatten)]
    pub request: SnapshotRequest,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct RestoreFile {
    /// The project's name or id.
    pub project: String,
    /// The version to take the file from: an id, a unique prefix of one, or `latest~N`.
    pub version: String,
    /// The file's path relative to the project folder.
    pub path: String,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct RestoreProject {
    /// The project's name or id.
    pub project: String,
    /// The version to bring back: an id, a unique prefix of one, or `latest~N`.
    pub version: String,
}

crate::output::inputs!(Snapshot, RestoreFile, RestoreProject);

#[tool_router(router = history_tools, vis = "pub(crate)")]
impl KuraMcp {
    /// Records the project's working folder as a new version (like a git commit) and returns it
    /// with counts of added, modified and removed files; `version` is null when nothing changed.
    /// Reports progress when the request has a progress token.
    #[tool(output_schema = crate::output::schema_of::<kura_core::SnapshotReport>(), annotations(
        title = "Take a snapshot",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false
    ))]
    async fn snapshot(
        &self,
        Parameters(p): Parameters<Snapshot>,
        ctx: RequestContext<RoleServer>,
    ) -> Reply {
        // The agent's name from its `initialize` (`clientInfo`), with the person's email.
        let agent = ctx.peer.peer_info().map(|i| {
            let c = &i.client_info;
            kura_core::author::agent(c.title.as_deref().unwrap_or(&c.name))
        });
        let mut request = p.request;
        request.author = request.author.or(agent);
        long_job(&self.api, &ctx, move |api, job| {
            calls::snapshot_project(api, p.project, request, job)
        })
        .await
    }

    /// DESTRUCTIVE. Writes one file back as it was in a version, over the file in the working
    /// folder. The current state is kept as a version first (`safety_version`). Refused unless
    /// the server runs with --allow-destructive.
    #[tool(output_schema = crate::output::schema_of::<kura_core::RestoreReport>(), annotations(
        title = "Restore a file",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true
    ))]
    async fn restore_file(
        &self,
        Parameters(p): Parameters<RestoreFile>,
        ctx: RequestContext<RoleServer>,
    ) -> Reply {
        long_job(&self.api, &ctx, move |api, job| {
            let request = RestoreRequest {
                version: p.version,
                path: Some(p.path),
            };
            calls::restore_project(api, p.project, request, job)
        })
        .await
    }

    /// DESTRUCTIVE. Brings the whole working folder back to a version: files are rewritten and
    /// files the version does not have are removed. The current state is kept as a version first
    /// (`safety_version`). Refused unless the server runs with --allow-destructive.
    #[tool(output_schema = crate::output::schema_of::<kura_core::RestoreReport>(), annotations(
        title = "Restore a project",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true
    ))]
    async fn restore_project(
        &self,
        Parameters(p): Parameters<RestoreProject>,
        ctx: RequestContext<RoleServer>,
    ) -> Reply {
        long_job(&self.api, &ctx, move |api, job| {
            let request = RestoreRequest {
                version: p.version,
                path: None,
            };
            calls::restore_project(api, p.project, request, job)
        })
        .await
    }
}
