//! The vault as a whole: status, workspaces, verify.

use kura_api::calls;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::reply::{blocking, long_job, Reply};
use crate::server::KuraMcp;

#[derive(Deserialize, ToSchema)]
pub(crate) struct Verify {
    #[serde(flatten)]
    pub request: kura_api::VerifyVault,
}

crate::output::inputs!(Verify);

#[tool_router(router = vault_tools, vis = "pub(crate)")]
impl KuraMcp {
    /// The vault at a glance: its folder, the active workspace, project counts by status, and
    /// where the space goes (by layer, by file type, the largest files).
    #[tool(output_schema = crate::output::schema(crate::output::object([("vault", crate::output::string()), ("workspace", crate::output::of::<kura_core::Workspace>()), ("stats", crate::output::of::<kura_core::Stats>())])), annotations(title = "Vault status", read_only_hint = true))]
    async fn status(&self) -> Reply {
        blocking(&self.api, |api| {
            let vault = api.vault();
            Ok(json!({
                "vault": vault.root(),
                "workspace": vault.current_workspace()?,
                "stats": vault.stats()?,
            }))
        })
        .await
    }

    /// Checks the catalog, the version histories and the stored chunks (of one project or of the
    /// whole vault) and names what any problem affects. Can take a while on a large vault;
    /// reports progress when the request has a progress token.
    #[tool(output_schema = crate::output::schema_of::<kura_core::VerifyReport>(), annotations(title = "Verify the vault", read_only_hint = true))]
    async fn verify(
        &self,
        Parameters(p): Parameters<Verify>,
        ctx: RequestContext<RoleServer>,
    ) -> Reply {
        long_job(&self.api, &ctx, move |api, job| {
            calls::verify_vault(api, p.request, job)
        })
        .await
    }
}
