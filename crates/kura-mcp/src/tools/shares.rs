//! Shared links: a version of a project as a download link from an S3 target, the list of
//! links, and revoking one.

use kura_api::calls;
use kura_backup::ShareOptions;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::reply::{blocking, long_job, Reply};
use crate::server::KuraMcp;

/// A version of a project to share.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ShareProject {
    /// The project's name or id.
    pub project: String,
    #[serde(flatten)]
    pub options: ShareOptions,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct ListShares {
    /// Only the shares of this project (name or id).
    #[serde(default)]
    pub project: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct RevokeShare {
    /// The share's id (see list_shares).
    pub id: String,
}

crate::output::inputs!(ShareProject, ListShares, RevokeShare);

#[tool_router(router = share_tools, vis = "pub(crate)")]
impl KuraMcp {
    /// Uploads a version of a project as a tar.zst to an S3 target and returns a download link
    /// that works without credentials until it expires (at most 7 days), with the share's id
    /// (to revoke it). The shared copy is not encrypted, even when the target encrypts its
    /// backups (`target_encrypted` says so): whoever has the link can read it. Reports progress
    /// when the request has a progress token.
    #[tool(output_schema = crate::output::schema_of::<kura_backup::Share>(), annotations(
        title = "Share a version as a link",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    async fn share_project(
        &self,
        Parameters(p): Parameters<ShareProject>,
        ctx: RequestContext<RoleServer>,
    ) -> Reply {
        long_job(&self.api, &ctx, move |api, job| {
            Ok(json!(calls::share_project(api, p.project, p.options, job)?))
        })
        .await
    }

    /// The shared links, newest first, each with its project, version, size, link, expiry and
    /// state (active, expired, revoked).
    #[tool(output_schema = crate::output::schema(crate::output::object([("shares", crate::output::list(crate::output::of::<kura_backup::Share>()))])), annotations(title = "List shared links", read_only_hint = true))]
    async fn list_shares(&self, Parameters(p): Parameters<ListShares>) -> Reply {
        blocking(&self.api, move |api| {
            Ok(json!({ "shares": calls::list_shares(api, p.project)? }))
        })
        .await
    }

    /// Revokes a shared link: its copy at the target is deleted, so the link stops working at
    /// once. The version itself stays in the vault.
    #[tool(output_schema = crate::output::schema_of::<kura_backup::Share>(), annotations(
        title = "Revoke a shared link",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn revoke_share(&self, Parameters(p): Parameters<RevokeShare>) -> Reply {
        blocking(&self.api, move |api| {
            Ok(json!(calls::revoke_share(api, p.id)?))
        })
        .await
    }

    /// Deletes the copies of shared links that have expired: nobody can download them any more,
    /// and they take room at the target. The shares stay listed as expired. Returns the ids of
    /// the shares whose copies went (`deleted`).
    #[tool(output_schema = crate::output::schema_of::<kura_api::SharesPruned>(), annotations(
        title = "Delete the copies of expired links",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn prune_shares(&self) -> Reply {
        blocking(&self.api, move |api| {
            Ok(json!(kura_api::SharesPruned {
                deleted: api.delete_expired_shares()?,
            }))
        })
        .await
    }
}
