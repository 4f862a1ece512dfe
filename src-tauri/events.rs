//! The window's events, forwarded from the service layer: `vault.changed` events (from any
//! door of this process) become `VaultChanged`, backup status changes `BackupStatusChanged` (and
//! the tray's icon and tooltip), and a target that starts failing or works again a desktop
//! notification.

use std::sync::Arc;

use kura_api::{Api, BackupStatus};
use serde::{Deserialize, Serialize};
use tauri::AppHandle;
use tauri_specta::Event;
use tokio::sync::broadcast::error::RecvError;

/// Something in the vault changed; views showing it should refresh.
#[derive(Serialize, Deserialize, Debug, Clone, specta::Type, tauri_specta::Event)]
pub struct VaultChanged {
    /// The project concerned, or `None` for vault-wide changes (workspaces, settings).
    pub project_id: Option<String>,
    /// What happened ("snapshot", "files", "metadata", "workspaces", "settings", ...).
    pub reason: String,
}

/// The backup status changed (a run started, progressed or ended, a target or the pause
/// changed).
#[derive(Serialize, Debug, Clone, specta::Type, tauri_specta::Event)]
pub struct BackupStatusChanged(pub BackupStatus);

/// Forwards the service's events to the window, the tray and notifications, for as long as the
/// app runs.
pub fn forward(app: &AppHandle, api: &Arc<Api>) {
    let mut events = api.events().subscribe();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(e) if e.kind == "vault.changed" => {
                    let reason = e.data["reason"].as_str().unwrap_or_default().to_string();
                    send(
                        &handle,
                        VaultChanged {
                            project_id: e.project_id,
                            reason,
                        },
                    );
                }
                Ok(e) if e.kind == "backup.health" => {
                    let target = e.data["target"].as_str().unwrap_or_default();
                    let title = if e.data["failing"].as_bool().unwrap_or(false) {
                        format!("Backup to {target} failed")
                    } else {
                        format!("Backups to {target} work again")
                    };
                    notify(
                        &handle,
                        &title,
                        e.data["message"].as_str().unwrap_or_default(),
                    );
                }
                Ok(_) => {}
                // Some were missed: every view reloads.
                Err(RecvError::Lagged(_)) => send(
                    &handle,
                    VaultChanged {
                        project_id: None,
                        reason: "resync".into(),
                    },
                ),
                Err(RecvError::Closed) => break,
            }
        }
    });
    let mut status = api.watch_backup_status();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        while status.changed().await.is_ok() {
            let current = status.borrow_and_update().clone();
            if let Some(s) = current {
                crate::tray::show_backup_status(&handle, &s);
                if let Err(e) = BackupStatusChanged(s).emit(&handle) {
                    tracing::warn!("cannot send the backup status: {e}");
                }
            }
        }
    });
}

fn send(app: &AppHandle, event: VaultChanged) {
    if let Err(e) = event.emit(app) {
        tracing::warn!("cannot emit vault change: {e}");
    }
}

fn notify(app: &AppHandle, title: &str, body: &str) {
    use tauri_plugin_notification::NotificationExt;
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!("cannot show a notification ({title}): {e}");
    }
}
