//! Shared links: deleting the copies of expired ones. Sharing a version, listing the links and
//! revoking one are written from their calls' declarations (`tools/calls.rs`).

use rmcp::{tool, tool_router};
use serde_json::json;

use crate::reply::{blocking, Reply};
use crate::server::KuraMcp;

#[tool_router(router = share_tools, vis = "pub(crate)")]
impl KuraMcp {
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
