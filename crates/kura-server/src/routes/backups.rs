//! Backups: targets, runs (each an operation), the backups at a target, restore, verify, prune,
//! pause. Runs call kura-backup directly, as `kura backup run` does; the scheduler that runs
//! them on their schedules is started at [`crate::start_schedules`].

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Local;
use kura_backup::{
    overall_state, BackupContents, BackupInfo, BackupRestoreReport, BackupState,
    BackupVerifyReport, Backups, Pause, PauseLength, PruneReport, Retention, RunRecord, RunReport,
    ScheduledTarget, Secrets, Target, TargetStatus, TestReport, VerifyMode,
};
use kura_core::Clock;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, done, json, long, St, Wait};
use crate::auth::Scope;
use crate::body::{Json, Query};
use crate::error::{HttpError, HttpErrorCode, HttpResult};
use crate::guard::Caller;
use crate::AppState;

/// How many recent runs of a target the status looks at.
const RECENT_RUNS: u32 = 50;

/// Everything about backups at a glance (the desktop's `BackupStatus`).
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct BackupStatus {
    pub state: BackupState,
    pub paused: Option<Pause>,
    pub targets: Vec<TargetStatus>,
    /// When the last successful backup (any target) finished.
    pub last_success: Option<i64>,
    /// When the next scheduled backup (any target) is due.
    pub next_run: Option<i64>,
    /// What went wrong reading the state, if something did.
    pub error: Option<String>,
}

fn read_status(st: &AppState) -> kura_core::Result<BackupStatus> {
    let vault = st.api.vault();
    let backups = Backups::new(vault);
    let now = kura_core::SystemClock.now();
    let paused = backups.paused()?;
    let health = backups.health()?;
    let running: std::collections::HashMap<String, String> =
        st.backups.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut targets = Vec::new();
    for target in backups.targets()? {
        let runs = backups.runs(Some(&target.name), RECENT_RUNS)?;
        let last_success = backups.last_success(&target.name)?;
        let progress = running
            .get(&target.name)
            .and_then(|id| st.api.operations().get(id).ok())
            .map(|op| {
                op.progress.unwrap_or(kura_core::Progress {
                    phase: "starting",
                    done: 0,
                    total: None,
                    unit: "files",
                    item: None,
                })
            });
        let scheduled = ScheduledTarget {
            target: &target,
            health: health.iter().find(|h| h.target == target.name),
            runs: &runs,
            since: if target.schedule.trim().is_empty() {
                now
            } else {
                st.started_at
            },
        };
        targets.push(kura_backup::target_status(
            &scheduled,
            last_success.as_ref(),
            progress,
            now,
            &Local,
        ));
    }
    Ok(BackupStatus {
        state: overall_state(&targets, paused.is_some()),
        paused,
        last_success: targets.iter().filter_map(|t| t.last_success).max(),
        next_run: targets.iter().filter_map(|t| t.next_run).min(),
        targets,
        error: None,
    })
}

fn status_of(st: &AppState) -> BackupStatus {
    read_status(st).unwrap_or_else(|e| BackupStatus {
        state: BackupState::Failed,
        paused: None,
        targets: Vec::new(),
        last_success: None,
        next_run: None,
        error: Some(e.message().to_string()),
    })
}

/// Announces the backup status as a `backup.status` event.
fn publish(st: &AppState) {
    let status = status_of(st);
    st.api.events().emit(
        "backup.status",
        None,
        serde_json::to_value(&status).unwrap_or_default(),
    );
}

#[utoipa::path(get, path = "/v1/backups/status", tag = "backups", responses((status = 200, body = BackupStatus)))]
pub async fn status(st: St) -> HttpResult<Response> {
    let s = st.clone();
    Ok(json(
        tokio::task::spawn_blocking(move || status_of(&s))
            .await
            .map_err(|e| HttpError::internal(e.to_string()))?,
    ))
}

/// Secrets for a new target: they go to the OS keyring (or nowhere, with `use_keyring: false`
/// and the secrets in the environment) and never into a file.
#[derive(Deserialize, ToSchema, Default)]
pub struct TargetSecrets {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub passphrase: Option<String>,
}

/// A target to add.
#[derive(Deserialize, ToSchema)]
pub struct NewTarget {
    pub target: Target,
    #[serde(default)]
    pub secrets: TargetSecrets,
    #[serde(default)]
    pub use_keyring: bool,
}

/// Adds a target after testing it (admin: secrets and where backups go).
#[utoipa::path(post, path = "/v1/backups/targets", tag = "backups", request_body = NewTarget,
    responses((status = 200, body = TestReport)))]
pub async fn add_target(st: St, caller: Caller, Json(b): Json<NewTarget>) -> HttpResult<Response> {
    caller.require(Scope::Admin)?;
    let s = st.clone();
    let r = blocking(&st, move |a| {
        let secrets = Secrets {
            access_key_id: b.secrets.access_key_id.filter(|s| !s.is_empty()),
            secret_access_key: b.secrets.secret_access_key.filter(|s| !s.is_empty()),
            passphrase: b.secrets.passphrase.filter(|s| !s.is_empty()),
        };
        let r = Backups::new(a.vault()).add_target(&b.target, &secrets, b.use_keyring)?;
        a.changed(None, "backup-targets");
        publish(&s);
        Ok(r)
    })
    .await?;
    Ok(json(r))
}

/// The settings of a target that can change after it is added.
#[derive(Deserialize, ToSchema)]
pub struct TargetChanges {
    /// When it runs ("daily at 02:00", ...); empty for on demand only.
    pub schedule: String,
    pub retention: Retention,
    /// Upload limit in bytes per second; null for none.
    pub bandwidth_limit: Option<u64>,
}

#[utoipa::path(patch, path = "/v1/backups/targets/{name}", tag = "backups", request_body = TargetChanges,
    params(("name" = String, Path)), responses((status = 200, body = Target)))]
pub async fn update_target(
    st: St,
    Path(name): Path<String>,
    Json(c): Json<TargetChanges>,
) -> HttpResult<Response> {
    let s = st.clone();
    let t = blocking(&st, move |a| {
        let t = Backups::new(a.vault()).update_target(&name, |t| {
            t.schedule = c.schedule.trim().to_string();
            t.retention = c.retention;
            t.bandwidth_limit = c.bandwidth_limit;
        })?;
        a.changed(None, "backup-targets");
        publish(&s);
        Ok(t)
    })
    .await?;
    Ok(json(t))
}

/// Removes a target (admin; the backups at it stay where they are).
#[utoipa::path(delete, path = "/v1/backups/targets/{name}", tag = "backups",
    params(("name" = String, Path)), responses((status = 200, body = super::Done)))]
pub async fn remove_target(
    st: St,
    caller: Caller,
    Path(name): Path<String>,
) -> HttpResult<Response> {
    caller.require(Scope::Admin)?;
    let s = st.clone();
    blocking(&st, move |a| {
        Backups::new(a.vault()).remove_target(&name)?;
        a.changed(None, "backup-targets");
        publish(&s);
        Ok(())
    })
    .await?;
    Ok(done())
}

#[utoipa::path(post, path = "/v1/backups/targets/{name}/test", tag = "backups",
    params(("name" = String, Path)), responses((status = 200, body = TestReport)))]
pub async fn test_target(st: St, Path(name): Path<String>) -> HttpResult<Response> {
    let s = st.clone();
    let r = blocking(&st, move |a| {
        let r = Backups::new(a.vault()).test_target(&name);
        publish(&s);
        Ok(r?)
    })
    .await?;
    Ok(json(r))
}

/// Starts a backup of a target now, as an operation (result: RunReport); refused while one
/// runs or while the target rests after repeated failures.
#[utoipa::path(post, path = "/v1/backups/targets/{name}/run", tag = "backups", params(("name" = String, Path), Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: RunReport")))]
pub async fn start(
    st: St,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(w): Query<Wait>,
) -> HttpResult<Response> {
    let s: Arc<AppState> = st.0.clone();
    let target = name.clone();
    blocking(&st, move |a| {
        let b = Backups::new(a.vault());
        b.target(&target)?;
        Ok(b.check_not_resting(&target)?)
    })
    .await?;
    {
        let running = st.backups.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = running.get(&name) {
            if st
                .api
                .operations()
                .get(id)
                .is_ok_and(|op| op.state == kura_api::OpState::Running)
            {
                return Err(HttpError::new(
                    HttpErrorCode::Busy,
                    format!("a backup to '{name}' is already running (operation {id})"),
                ));
            }
        }
    }
    let target = name.clone();
    let res = long(
        &st,
        &headers,
        &Wait {
            wait: false,
            timeout_secs: None,
        },
        "backup",
        None,
        move |a, job| {
            let r: Result<RunReport, _> = Backups::new(a.vault()).run_backup(&target, job);
            s.backups
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&target);
            a.changed(None, "backup");
            publish(&s);
            Ok(r?)
        },
    )
    .await?;
    // The operation's id, to cancel it and show its progress in the status.
    let op_id = res
        .headers()
        .get(axum::http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| l.strip_prefix("/v1/operations/"))
        .map(str::to_string);
    if let Some(id) = op_id {
        if st
            .api
            .operations()
            .get(&id)
            .is_ok_and(|op| op.state == kura_api::OpState::Running)
        {
            st.backups
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(name.clone(), id.clone());
        }
        let s = st.0.clone();
        tokio::task::spawn_blocking(move || publish(&s));
        if w.wait {
            let op = st.api.operations().get(&id)?;
            return super::answer_operation(&st, op, &w).await;
        }
    }
    Ok(res)
}

/// Whether a running backup was asked to stop.
#[derive(Serialize, ToSchema)]
pub struct Cancelled {
    /// False when no backup of this target was running.
    pub cancelled: bool,
}

/// Cancels the running backup of a target; it stops at its next safe point.
#[utoipa::path(delete, path = "/v1/backups/targets/{name}/run", tag = "backups",
    params(("name" = String, Path)), responses((status = 200, body = Cancelled)))]
pub async fn cancel(st: St, Path(name): Path<String>) -> HttpResult<Response> {
    let id = st
        .backups
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&name)
        .cloned();
    let cancelled = match id {
        Some(id) => st.api.operations().cancel(&id).is_ok(),
        None => false,
    };
    Ok(json(Cancelled { cancelled }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// Only this target.
    pub target: Option<String>,
}

#[utoipa::path(get, path = "/v1/backups/runs", tag = "backups", params(RunsQuery),
    responses((status = 200, body = Vec<RunRecord>)))]
pub async fn runs(st: St, Query(q): Query<RunsQuery>) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| {
            Ok(Backups::new(a.vault()).runs(q.target.as_deref(), 200)?)
        })
        .await?,
    ))
}

#[utoipa::path(get, path = "/v1/backups/targets/{name}/backups", tag = "backups",
    params(("name" = String, Path)), responses((status = 200, body = Vec<BackupInfo>)))]
pub async fn backups_at(st: St, Path(name): Path<String>) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| Ok(Backups::new(a.vault()).backups(&name)?)).await?,
    ))
}

#[utoipa::path(get, path = "/v1/backups/targets/{name}/backups/{backup}", tag = "backups",
    params(("name" = String, Path), ("backup" = String, Path)), responses((status = 200, body = BackupContents)))]
pub async fn contents(
    st: St,
    Path((name, backup)): Path<(String, String)>,
) -> HttpResult<Response> {
    Ok(json(
        blocking(&st, move |a| {
            Ok(Backups::new(a.vault()).backup_contents(&name, &backup)?)
        })
        .await?,
    ))
}

/// What to restore from a backup, and where.
#[derive(Deserialize, ToSchema)]
pub struct RestoreFromBackup {
    /// One project (name or id); every project when absent.
    pub project: Option<String>,
    /// A folder on the server's machine.
    pub destination: String,
}

/// Restores one project or everything from a backup (result: BackupRestoreReport).
#[utoipa::path(post, path = "/v1/backups/targets/{name}/backups/{backup}/restore", tag = "backups",
    request_body = RestoreFromBackup, params(("name" = String, Path), ("backup" = String, Path), Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: BackupRestoreReport")))]
pub async fn restore(
    st: St,
    headers: HeaderMap,
    Path((name, backup)): Path<(String, String)>,
    Query(w): Query<Wait>,
    Json(b): Json<RestoreFromBackup>,
) -> HttpResult<Response> {
    long(&st, &headers, &w, "backup-restore", None, move |a, job| {
        let r: BackupRestoreReport = Backups::new(a.vault()).restore(
            &name,
            &backup,
            b.project.as_deref(),
            &PathBuf::from(b.destination),
            job,
        )?;
        Ok(r)
    })
    .await
}

/// How thoroughly to verify.
#[derive(Deserialize, ToSchema)]
pub struct VerifyRequest {
    pub mode: VerifyMode,
}

/// Verifies the backups at a target (result: BackupVerifyReport).
#[utoipa::path(post, path = "/v1/backups/targets/{name}/verify", tag = "backups", request_body = VerifyRequest,
    params(("name" = String, Path), Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: BackupVerifyReport")))]
pub async fn verify(
    st: St,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(w): Query<Wait>,
    Json(b): Json<VerifyRequest>,
) -> HttpResult<Response> {
    let s = st.0.clone();
    long(&st, &headers, &w, "backup-verify", None, move |a, job| {
        let r: Result<BackupVerifyReport, _> = Backups::new(a.vault()).verify(&name, b.mode, job);
        publish(&s);
        Ok(r?)
    })
    .await
}

/// A prune, or what it would remove.
#[derive(Deserialize, ToSchema)]
pub struct PruneRequest {
    #[serde(default)]
    pub dry_run: bool,
}

/// Removes backups the retention does not keep (admin unless a dry run; result: PruneReport).
#[utoipa::path(post, path = "/v1/backups/targets/{name}/prune", tag = "backups", request_body = PruneRequest,
    params(("name" = String, Path), Wait),
    responses((status = 202, body = kura_api::Operation, description = "started; result: PruneReport")))]
pub async fn prune(
    st: St,
    caller: Caller,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(w): Query<Wait>,
    Json(b): Json<PruneRequest>,
) -> HttpResult<Response> {
    caller.require(if b.dry_run {
        Scope::Write
    } else {
        Scope::Admin
    })?;
    long(&st, &headers, &w, "backup-prune", None, move |a, job| {
        let r: PruneReport = Backups::new(a.vault()).prune(&name, b.dry_run, job)?;
        if !b.dry_run {
            a.changed(None, "backup");
        }
        Ok(r)
    })
    .await
}

/// A pause of scheduled backups, or `null` to resume.
#[derive(Deserialize, ToSchema)]
pub struct PauseRequest {
    pub length: Option<PauseLength>,
}

#[utoipa::path(post, path = "/v1/backups/pause", tag = "backups", request_body = PauseRequest,
    responses((status = 200, body = super::Done)))]
pub async fn pause(st: St, Json(b): Json<PauseRequest>) -> HttpResult<Response> {
    let s = st.clone();
    blocking(&st, move |a| {
        let backups = Backups::new(a.vault());
        match b.length {
            Some(l) => backups.pause(l).map(|_| ())?,
            None => backups.resume()?,
        }
        publish(&s);
        Ok(())
    })
    .await?;
    Ok(done())
}
