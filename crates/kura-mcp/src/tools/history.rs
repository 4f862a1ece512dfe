//! Versions: snapshot, history, diff, restore.

use kura_api::calls;
use kura_api::{DiffRequest, RestoreRequest, SnapshotRequest, VersionsRequest};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::reply::{blocking, long_job, Reply};
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
pub(crate) struct History {
    /// The project's name or id.
    pub project: String,
    #[serde(flatten)]
    pub request: VersionsRequest,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct Diff {
    /// The project's name or id.
    pub project: String,
    #[serde(flatten)]
    pub request: DiffRequest,
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

crate::output::inputs!(Snapshot, History, Diff, RestoreFile, RestoreProject);

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

    /// The project's versions, newest first (id, message, author, trigger, time, counts of
    /// changed files), or only those in which one file changed.
    #[tool(output_schema = crate::output::schema(crate::output::object([("versions", crate::output::list(crate::output::of::<kura_core::Version>()))])), annotations(title = "Version history", read_only_hint = true))]
    async fn history(&self, Parameters(p): Parameters<History>) -> Reply {
        blocking(&self.api, move |api| {
            Ok(json!({ "versions": calls::list_versions(api, p.project, p.request)? }))
        })
        .await
    }

    /// What changed between two versions: the changed files (added, modified, deleted, with
    /// sizes) and, unless `stat_only`, a unified diff of each text file.
    #[tool(output_schema = crate::output::schema_of::<kura_core::Diff>(), annotations(title = "Diff two versions", read_only_hint = true))]
    async fn diff(&self, Parameters(p): Parameters<Diff>) -> Reply {
        blocking(&self.api, move |api| {
            calls::diff_versions(api, p.project, p.request)
        })
        .await
    }

    /// What `restore_project` would do, without doing it: the files it would write and remove to
    /// make the working folder match the version, and how many changes are not in any version
    /// yet (the version a restore takes first keeps them).
    #[tool(output_schema = crate::output::schema_of::<kura_core::RestorePlan>(), annotations(title = "Plan a project restore", read_only_hint = true))]
    async fn restore_plan(&self, Parameters(p): Parameters<RestoreProject>) -> Reply {
        blocking(&self.api, move |api| {
            calls::plan_restore(api, p.project, p.version)
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
