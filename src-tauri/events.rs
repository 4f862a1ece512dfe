//! The window's events, forwarded from the service layer: `vault.changed` events (from any
//! door, of this process or another on the same vault) become `VaultChanged`, `records.changed`
//! `RecordsChanged`, backup status changes `BackupStatusChanged` (and
//! the tray's icon and tooltip), and the `*.health` events (a backup target, automatic
//! versions, the disk's free space, a quota: each change of state) desktop notifications, as
//! switched in Settings › App.

use std::sync::Arc;
use std::time::Duration;

use kura_api::{Api, BackupStatus, VaultChange};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;

/// Something in the vault changed; views showing it should refresh.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct VaultChanged {
    /// The project concerned, or `None` for vault-wide changes (workspaces, settings).
    pub project_id: Option<String>,
    /// What happened.
    pub reason: VaultChange,
}

/// Records of a project (or of the vault) were written or deleted; a Records view showing them
/// reloads.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct RecordsChanged {
    /// The project whose records changed, or `None` for the vault's own.
    pub project_id: Option<String>,
    /// The collection.
    pub collection: String,
}

/// The backup status changed (a run started, progressed or ended, a target or the pause
/// changed).
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct BackupStatusChanged(pub BackupStatus);

/// An event the window listens to, under its name.
pub(crate) trait WindowEvent: Serialize + Clone {
    /// What the window listens for (`events.vaultChanged` in the bindings is `vault-changed`).
    const NAME: &'static str;

    /// Sends it to the window.
    fn emit(&self, app: &AppHandle) -> tauri::Result<()> {
        app.emit(Self::NAME, self)
    }
}

impl WindowEvent for VaultChanged {
    const NAME: &'static str = "vault-changed";
}

impl WindowEvent for RecordsChanged {
    const NAME: &'static str = "records-changed";
}

impl WindowEvent for BackupStatusChanged {
    const NAME: &'static str = "backup-status-changed";
}

/// Adds the window's events to the bindings.
#[cfg(test)]
pub(crate) fn bind(b: &mut crate::bindings::Bindings) {
    b.event::<BackupStatusChanged>(BackupStatusChanged::NAME);
    b.event::<RecordsChanged>(RecordsChanged::NAME);
    b.event::<VaultChanged>(VaultChanged::NAME);
}

/// How soon events written by other processes on this vault (`kura serve`, say) reach the
/// window; this process's own wake the forwarder at once.
const OTHER_PROCESSES_WITHIN: Duration = Duration::from_secs(2);
/// How many logged events are forwarded per look.
const EVENTS_PER_LOOK: usize = 500;

/// Forwards the service's events to the window, the tray and notifications, for as long as the
/// app runs. The vault's event log is what is forwarded (so changes made by other processes
/// arrive too, each event once, in order); this process's live events only wake the forwarder.
pub fn forward(app: &AppHandle, api: &Arc<Api>) {
    let mut live = api.events().subscribe();
    let handle = app.clone();
    let log = api.clone();
    tauri::async_runtime::spawn(async move {
        let mut last = log.events().last_id().unwrap_or(0);
        let types: Vec<String> = vec![
            "vault.changed".into(),
            "records.changed".into(),
            "backup.health".into(),
            "autoversion.health".into(),
            "disk.health".into(),
            "quota.health".into(),
        ];
        loop {
            if let Ok(Err(RecvError::Closed)) =
                tokio::time::timeout(OTHER_PROCESSES_WITHIN, live.recv()).await
            {
                break;
            }
            // Another vault was opened in the window: this one's events are no longer shown.
            if !current(&handle, &log) {
                break;
            }
            let (reader, types) = (log.clone(), types.clone());
            let page = tauri::async_runtime::spawn_blocking(move || {
                reader.events().since(last, &types, EVENTS_PER_LOOK)
            })
            .await;
            let page = match page {
                Ok(Ok(page)) => page,
                Ok(Err(e)) => {
                    tracing::warn!("cannot read the event log: {e}");
                    continue;
                }
                Err(e) => {
                    tracing::warn!("cannot read the event log: {e}");
                    continue;
                }
            };
            if page.gap {
                // Some were pruned before they were read: every view reloads.
                send(
                    &handle,
                    VaultChanged {
                        project_id: None,
                        reason: VaultChange::Gap,
                    },
                );
            }
            for e in page.events {
                last = last.max(e.id);
                show(&handle, e);
            }
        }
    });
    let mut status = api.watch_backup_status();
    let handle = app.clone();
    // Not kept alive by this task: when another vault is opened, this one closes.
    let watched = Arc::downgrade(api);
    tauri::async_runtime::spawn(async move {
        while status.changed().await.is_ok() {
            if !watched.upgrade().is_some_and(|api| current(&handle, &api)) {
                break;
            }
            let latest = status.borrow_and_update().clone();
            if let Some(s) = latest {
                crate::tray::show_backup_status(&handle, &s);
                if let Err(e) = BackupStatusChanged(s).emit(&handle) {
                    tracing::warn!("cannot send the backup status: {e}");
                }
            }
        }
    });
}

/// Whether `api` is still the one the window shows.
fn current(app: &AppHandle, api: &Arc<Api>) -> bool {
    use tauri::Manager;
    app.try_state::<crate::state::AppState>()
        .and_then(|state| state.api().ok())
        .is_none_or(|open| Arc::ptr_eq(&open, api))
}

fn show(app: &AppHandle, e: kura_api::Event) {
    match e.kind.as_str() {
        "vault.changed" => {
            // A reason this build does not know (a newer Kura wrote it): every view reloads.
            let reason =
                serde_json::from_value(e.data["reason"].clone()).unwrap_or(VaultChange::Gap);
            send(
                app,
                VaultChanged {
                    project_id: e.project_id,
                    reason,
                },
            );
        }
        "records.changed" => {
            let event = RecordsChanged {
                project_id: e.project_id,
                collection: e.data["collection"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            };
            if let Err(e) = event.emit(app) {
                tracing::warn!("cannot emit a records change: {e}");
            }
        }
        kind @ ("backup.health" | "autoversion.health" | "disk.health" | "quota.health") => {
            // Read at each notice: a switch turned off in Settings › App holds at once.
            let shown = kura_api::app_settings::AppSettings::load()
                .map(|s| s.preferences.notifications.shows(kind).unwrap_or(true))
                .unwrap_or(true);
            if shown {
                notify(
                    app,
                    &notice_title(kind, &e.data),
                    e.data["message"].as_str().unwrap_or_default(),
                );
            }
        }
        _ => {}
    }
}

/// The title of the notification of a `*.health` event.
fn notice_title(kind: &str, data: &serde_json::Value) -> String {
    let bad = ["failing", "low", "reached"]
        .iter()
        .any(|k| data[*k].as_bool().unwrap_or(false));
    let text = |key: &str| data[key].as_str().unwrap_or_default().to_string();
    match (kind, bad) {
        ("backup.health", true) => format!("Backup to {} failed", text("target")),
        ("backup.health", false) => format!("Backups to {} work again", text("target")),
        ("autoversion.health", true) => format!("No automatic version of {}", text("project")),
        ("autoversion.health", false) => {
            format!("Automatic versions of {} work again", text("project"))
        }
        ("disk.health", true) => "The disk is almost full".to_string(),
        ("disk.health", false) => "The disk has room again".to_string(),
        ("quota.health", true) => format!("{} reached its quota", quota_subject(data)),
        ("quota.health", false) => format!("{} is under its quota again", quota_subject(data)),
        _ => kind.to_string(),
    }
}

/// "The vault" or "Project <name>", for a `quota.health` event.
fn quota_subject(data: &serde_json::Value) -> String {
    if data["quota"] == "quota.total_quota" {
        "The vault".to_string()
    } else {
        format!("Project {}", data["name"].as_str().unwrap_or_default())
    }
}

fn send(app: &AppHandle, event: VaultChanged) {
    if let Err(e) = event.emit(app) {
        tracing::warn!("cannot emit vault change: {e}");
    }
}

/// Shows a desktop notification, in the order asked, on a thread of its own: the first one asks
/// the notification server what it reads, which must not hold the forwarder.
fn notify(app: &AppHandle, title: &str, body: &str) {
    type Notice = (AppHandle, String, String);
    static NOTICES: std::sync::OnceLock<Option<std::sync::mpsc::Sender<Notice>>> =
        std::sync::OnceLock::new();
    let notices = NOTICES.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Notice>();
        std::thread::Builder::new()
            .name("notifications".into())
            .spawn(move || {
                for (app, title, body) in rx {
                    show_notification(&app, &title, &body);
                }
            })
            .ok()
            .map(|_| tx)
    });
    let notice = (app.clone(), title.to_string(), body.to_string());
    // Without the thread, shown here.
    let sent = match notices {
        Some(tx) => tx.send(notice).map_err(|unsent| unsent.0),
        None => Err(notice),
    };
    if let Err((app, title, body)) = sent {
        show_notification(&app, &title, &body);
    }
}

fn show_notification(app: &AppHandle, title: &str, body: &str) {
    use tauri_plugin_notification::NotificationExt;
    let body = as_body(body, body_markup());
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!("cannot show a notification ({title}): {e}");
    }
}

/// `text` as a notification's body: where the server reads markup in bodies, its `&`, `<` and
/// `>` are written as entities, so that it shows as written. A message can come from elsewhere
/// (an S3 server's answer is part of a failed backup's), and markup in it could show a link or
/// an image in Kura's name. The title is plain text for every server.
fn as_body(text: &str, markup: bool) -> String {
    if !markup {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// Whether the notification server reads markup in a body: the `body-markup` capability of the
/// freedesktop notification specification, which GNOME's, KDE's, dunst and mako have. Asked for
/// at most a second, until a server answers (at login the app may start before it); while none
/// has, a body is taken to be read as markup, as most servers do, so it is escaped.
#[cfg(target_os = "linux")]
fn body_markup() -> bool {
    static MARKUP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if let Some(markup) = MARKUP.get() {
        return *markup;
    }
    match crate::tray::ask_session_bus::<(Vec<String>,)>(
        "org.freedesktop.Notifications",
        "GetCapabilities",
        None,
        "(as)",
    ) {
        Some((capabilities,)) => {
            *MARKUP.get_or_init(|| capabilities.iter().any(|c| c == "body-markup"))
        }
        None => true,
    }
}

/// Elsewhere, a notification's body is plain text.
#[cfg(not(target_os = "linux"))]
fn body_markup() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::as_body;

    #[test]
    fn a_body_is_shown_as_written_by_a_server_that_reads_markup() {
        let message = r#"S3 said <Error><a href="https://x.example">log in</a> & <img src="file:///etc/passwd"/>"#;
        assert_eq!(
            as_body(message, true),
            "S3 said &lt;Error&gt;&lt;a href=\"https://x.example\"&gt;log in&lt;/a&gt; &amp; &lt;img src=\"file:///etc/passwd\"/&gt;"
        );
        assert_eq!(as_body(message, false), message);
        assert_eq!(
            as_body("no backup for 3 days", true),
            "no backup for 3 days"
        );
    }
}
