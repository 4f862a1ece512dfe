//! Backups: the targets and their health, and a run now.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::reply::{blocking, long_job, Reply};
use crate::server::KuraMcp;

/// Past runs backup_status shows.
const RECENT_RUNS: u32 = 10;

#[derive(Deserialize, ToSchema)]
pub(crate) struct RunBackup {
    /// The target's name (see backup_status); omit to back up to every target, one after the
    /// other (a failing target does not stop the rest).
    #[serde(default)]
    pub target: Option<String>,
}

crate::output::inputs!(RunBackup);

#[tool_router(router = backup_tools, vis = "pub(crate)")]
impl KuraMcp {
    /// The state of backups at a glance (ok, running, failed, overdue, paused) and each target
    /// (folder or S3, schedule, encryption, retention) with its health (ok, failing, unhealthy,
    /// last success, last error), its next run, whether it is overdue and, for a target backed
    /// up after every change, `behind_since`: the first change its copy lacks (null: up to
    /// date); whether scheduled backups are paused, and the most recent runs.
    #[tool(output_schema = crate::output::schema(crate::output::with_fields(crate::output::of::<kura_api::BackupStatus>(), crate::output::object([("recent_runs", crate::output::list(crate::output::of::<kura_backup::RunRecord>()))]))), annotations(title = "Backup status", read_only_hint = true))]
    async fn backup_status(&self) -> Reply {
        blocking(&self.api, |api| {
            let mut status = json!(kura_api::calls::get_backup_status(api)?);
            status["recent_runs"] = json!(api.backup_runs(None, RECENT_RUNS)?);
            Ok(status)
        })
        .await
    }

    /// Backs the whole vault up now, to one target or to every target: only new data is sent
    /// (deduplicated, compressed, encrypted when the target says so). Returns, per target, the
    /// backup written or the error. Reports progress when the request has a progress token.
    #[tool(output_schema = crate::output::schema(crate::output::object([("runs", crate::output::list(crate::output::object_with([("target", crate::output::string()), ("ok", crate::output::boolean()), ("run", crate::output::of::<kura_backup::RunRecord>()), ("backup", crate::output::of::<kura_backup::BackupInfo>()), ("error", crate::output::object([("code", crate::output::string()), ("message", crate::output::string())]))], &["run", "backup", "error"])))])), annotations(
        title = "Run a backup",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    async fn run_backup(
        &self,
        Parameters(p): Parameters<RunBackup>,
        ctx: RequestContext<RoleServer>,
    ) -> Reply {
        long_job(&self.api, &ctx, move |api, job| {
            // Through the service, as the CLI and HTTP run a backup: the run is announced
            // (`backup.health`, `vault.changed`) to the tray, the window and every browser.
            let names: Vec<String> = match p.target {
                Some(t) => vec![t],
                None => api.backup_targets()?.into_iter().map(|t| t.name).collect(),
            };
            if names.len() == 1 {
                let r = api.run_backup(&names[0], job)?;
                return Ok(json!({ "runs": [{ "target": names[0], "ok": true, "run": r.run, "backup": r.backup }] }));
            }
            let runs: Vec<_> = names
                .iter()
                .map(|name| match api.run_backup(name, job) {
                    Ok(r) => json!({ "target": name, "ok": true, "run": r.run, "backup": r.backup }),
                    Err(e) => json!({
                        "target": name,
                        "ok": false,
                        "error": { "code": e.code.code(), "message": e.message },
                    }),
                })
                .collect();
            Ok(json!({ "runs": runs }))
        })
        .await
    }
}
