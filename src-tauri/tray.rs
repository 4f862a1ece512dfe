//! The tray icon: the state of backups at a glance (its badge and tooltip), and a menu to back
//! up now, pause or resume scheduled backups, take a version of every changed project, open
//! Kura or quit. Closing the window keeps Kura running here.

use chrono::{Local, TimeZone};
use kura_api::BackupStatus;
use kura_backup::{BackupState, PauseLength, RunRecord, RunResult};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

use crate::state::AppState;

/// Menu items whose state follows the backups.
struct TrayItems {
    pause: Submenu<Wry>,
    resume: MenuItem<Wry>,
    backup_now: MenuItem<Wry>,
}

/// Whether a tray icon can be seen. On Linux the icon is a StatusNotifierItem, shown only when
/// something on the session D-Bus owns `org.kde.StatusNotifierWatcher` (KDE, most panels, GNOME
/// with the AppIndicator extension); no session bus means no tray. The app's tray icon object
/// exists either way, so this is what decides whether closing the window hides it or minimizes it.
#[cfg(target_os = "linux")]
pub fn can_show() -> bool {
    use gio::prelude::*;
    let args = ("org.kde.StatusNotifierWatcher",).to_variant();
    ask_session_bus::<(bool,)>("org.freedesktop.DBus", "NameHasOwner", Some(&args), "(b)")
        .is_some_and(|(owned,)| owned)
}

/// The answer to `method` of the session D-Bus service `service` (at the object path and
/// interface of its name, as `org.freedesktop.DBus` and `org.freedesktop.Notifications` are),
/// typed `reply`; `None` without a session bus, or when it does not answer within a second.
/// Without a bus address GLib would try to start a bus through dbus-launch: then there is none.
#[cfg(target_os = "linux")]
pub fn ask_session_bus<T: gio::glib::variant::FromVariant>(
    service: &str,
    method: &str,
    args: Option<&gio::glib::Variant>,
    reply: &str,
) -> Option<T> {
    let runtime_bus = std::env::var_os("XDG_RUNTIME_DIR")
        .map(|d| std::path::Path::new(&d).join("bus").exists())
        .unwrap_or(false);
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() && !runtime_bus {
        return None;
    }
    let bus = gio::bus_get_sync(gio::BusType::Session, gio::Cancellable::NONE).ok()?;
    bus.call_sync(
        Some(service),
        &format!("/{}", service.replace('.', "/")),
        service,
        method,
        args,
        gio::glib::VariantTy::new(reply).ok(),
        gio::DBusCallFlags::NONE,
        1000,
        gio::Cancellable::NONE,
    )
    .ok()?
    .get::<T>()
}

/// Whether a tray icon can be seen: elsewhere, the platform always has one.
#[cfg(not(target_os = "linux"))]
pub fn can_show() -> bool {
    true
}

/// Keeps Kura out of the way: hidden in the tray when there is one, else minimized (a hidden
/// window with no tray could not be found again).
pub fn put_away(window: &tauri::Window) {
    let in_tray = window.app_handle().tray_by_id("main").is_some() && can_show();
    let done = if in_tray {
        window.hide()
    } else {
        window.minimize()
    };
    if let Err(e) = done {
        tracing::warn!("cannot put the window away: {e}");
    }
}

/// Shows, unminimizes and focuses the main window.
pub fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// Creates the tray icon and its menu.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Kura", true, None::<&str>)?;
    let backup_now = MenuItem::with_id(app, "backup-now", "Back up now", true, None::<&str>)?;
    let pause = Submenu::with_id_and_items(
        app,
        "pause",
        "Pause backups",
        true,
        &[
            &MenuItem::with_id(app, "pause-hour", "For 1 hour", true, None::<&str>)?,
            &MenuItem::with_id(app, "pause-tomorrow", "Until tomorrow", true, None::<&str>)?,
            &MenuItem::with_id(app, "pause-resumed", "Until resumed", true, None::<&str>)?,
        ],
    )?;
    let resume = MenuItem::with_id(app, "resume", "Resume backups", false, None::<&str>)?;
    let snapshot = MenuItem::with_id(
        app,
        "snapshot",
        "Snapshot changed projects now",
        true,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, "quit", "Quit Kura", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &backup_now,
            &pause,
            &resume,
            &PredefinedMenuItem::separator(app)?,
            &snapshot,
            &open,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    app.manage(TrayItems {
        pause,
        resume,
        backup_now,
    });
    let mut tray = TrayIconBuilder::with_id("main")
        .menu(&menu)
        .tooltip("Kura")
        .show_menu_on_left_click(false);
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.on_menu_event(|app, event| match event.id.as_ref() {
        "open" => show_main(app),
        "backup-now" => back_up_every_target(app),
        "pause-hour" => set_pause(app, Some(PauseLength::OneHour)),
        "pause-tomorrow" => set_pause(app, Some(PauseLength::UntilTomorrow)),
        "pause-resumed" => set_pause(app, Some(PauseLength::UntilResumed)),
        "resume" => set_pause(app, None),
        "snapshot" => snapshot_changed(app),
        "quit" => app.exit(0),
        _ => {}
    })
    .on_tray_icon_event(|tray, event| {
        if let TrayIconEvent::Click {
            button: MouseButton::Left,
            button_state: MouseButtonState::Up,
            ..
        } = event
        {
            show_main(tray.app_handle());
        }
    })
    .build(app)?;
    Ok(())
}

/// Runs `work` with the service on a thread of its own (menu clicks must not wait on disk).
fn with_api(
    app: &AppHandle,
    what: &'static str,
    work: impl FnOnce(&std::sync::Arc<kura_api::Api>) -> kura_api::ApiResult<()> + Send + 'static,
) {
    let Ok(api) = app.state::<AppState>().api() else {
        return;
    };
    std::thread::spawn(move || {
        if let Err(e) = work(&api) {
            tracing::warn!("{what} from the tray failed: {e}");
        }
    });
}

fn back_up_every_target(app: &AppHandle) {
    with_api(app, "back up now", |api| {
        api.start_all_backups().map(|_| ())
    });
}

/// Pauses scheduled backups for `length`, or resumes them with `None`.
fn set_pause(app: &AppHandle, length: Option<PauseLength>) {
    with_api(app, "pause", move |api| {
        kura_api::calls::pause_backups(api, length)
    });
}

fn snapshot_changed(app: &AppHandle) {
    // An operation as the window's own "snapshot changed projects" is: listed while it runs,
    // announced when it ends.
    with_api(app, "snapshot", |api| {
        let worker = api.clone();
        api.operations()
            .run(
                kura_api::calls::kinds::snapshot_changed_projects,
                None,
                None,
                None,
                move |job| kura_api::calls::snapshot_changed_projects(&worker, job),
            )
            .map(|_| ())
    });
}

/// A time for the tooltip: "today 14:05", "Mon 02:00" within a week, else the date.
pub fn short_time(at: i64, now: i64) -> String {
    let (Some(t), Some(n)) = (
        Local.timestamp_opt(at, 0).single(),
        Local.timestamp_opt(now, 0).single(),
    ) else {
        return String::new();
    };
    if t.date_naive() == n.date_naive() {
        t.format("today %H:%M").to_string()
    } else if (at - now).abs() < 6 * 86_400 {
        t.format("%a %H:%M").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// The last run's outcome in words, for the tooltip.
pub fn describe_result(r: &RunRecord) -> &'static str {
    match r.result {
        RunResult::Ok => "ok",
        RunResult::Failed => "failed",
        RunResult::Unavailable => "target unavailable",
        RunResult::Cancelled => "cancelled",
        RunResult::Interrupted => "interrupted",
        RunResult::Running => "running",
    }
}

/// The icons of the backup states, drawn by scripts/tray-icons.sh.
fn badge(state: BackupState) -> Option<&'static [u8]> {
    match state {
        BackupState::NoTargets => None,
        BackupState::Ok => Some(include_bytes!("../icons/tray/ok.png")),
        BackupState::Running => Some(include_bytes!("../icons/tray/running.png")),
        BackupState::Failed => Some(include_bytes!("../icons/tray/failed.png")),
        BackupState::Overdue => Some(include_bytes!("../icons/tray/overdue.png")),
        BackupState::Paused => Some(include_bytes!("../icons/tray/paused.png")),
    }
}

/// The tooltip: the state, when the last backup finished, whether each target backed up after
/// every change is behind, and when the next backup is due.
pub fn tooltip(status: &BackupStatus, now: i64) -> String {
    let mut lines = vec![match status.state {
        BackupState::NoTargets => "Kura — no backup target set up".to_string(),
        BackupState::Ok => "Kura — backups ok".to_string(),
        BackupState::Running => {
            let running: Vec<String> = status
                .targets
                .iter()
                .filter_map(|t| {
                    let p = t.running.as_ref()?;
                    Some(match p.total {
                        Some(total) if total > 0 => {
                            format!("{} {}%", t.target.name, (p.done.min(total) * 100) / total)
                        }
                        _ => format!("{} ({})", t.target.name, p.phase),
                    })
                })
                .collect();
            format!("Kura — backing up: {}", running.join(", "))
        }
        BackupState::Failed => {
            let failed: Vec<&str> = status
                .targets
                .iter()
                .filter(|t| {
                    matches!(
                        t.health.state,
                        kura_backup::HealthState::Failing | kura_backup::HealthState::Unhealthy
                    )
                })
                .map(|t| t.target.name.as_str())
                .collect();
            format!("Kura — backup failed: {}", failed.join(", "))
        }
        BackupState::Overdue => "Kura — a backup is overdue".to_string(),
        BackupState::Paused => match status.paused.and_then(|p| p.until) {
            Some(until) => format!("Kura — backups paused until {}", short_time(until, now)),
            None => "Kura — backups paused until resumed".to_string(),
        },
    }];
    if let Some(last) = status
        .targets
        .iter()
        .filter_map(|t| t.last_run.as_ref())
        .max_by_key(|r| r.started)
    {
        let at = last.finished.unwrap_or(last.started);
        lines.push(format!(
            "Last backup: {} ({})",
            short_time(at, now),
            describe_result(last)
        ));
    }
    for t in status.targets.iter().filter(|t| t.after_every_change) {
        lines.push(match t.behind_since {
            None => format!("{}: up to date", t.target.name),
            Some(since) => format!("{}: behind since {}", t.target.name, short_time(since, now)),
        });
    }
    if status.paused.is_none() {
        if let Some(next) = status.next_run {
            lines.push(format!("Next: {}", short_time(next, now)));
        }
    }
    lines.join("\n")
}

/// Shows `status` on the tray icon, its tooltip and its menu.
pub fn show_backup_status(app: &AppHandle, status: &BackupStatus) {
    let now = kura_core::Clock::now(&kura_core::SystemClock);
    if let Some(tray) = app.tray_by_id("main") {
        let icon = match badge(status.state) {
            Some(png) => Image::from_bytes(png).ok(),
            None => app.default_window_icon().cloned(),
        };
        if let Err(e) = tray.set_icon(icon) {
            tracing::warn!("cannot change the tray icon: {e}");
        }
        let _ = tray.set_tooltip(Some(tooltip(status, now)));
    }
    if let Some(items) = app.try_state::<TrayItems>() {
        let paused = status.paused.is_some();
        let _ = items.resume.set_enabled(paused);
        let _ = items
            .pause
            .set_enabled(!paused && status.state != BackupState::NoTargets);
        let _ = items
            .backup_now
            .set_enabled(status.state != BackupState::NoTargets);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::{Local, TimeZone};
    use kura_backup::{
        overall_state, BackupState, HealthState, Pause, RunRecord, RunResult, Target, TargetHealth,
        TargetStatus,
    };
    use kura_core::Progress;

    use super::tooltip;
    use kura_api::BackupStatus;

    fn at(h: u32, m: u32) -> i64 {
        Local
            .with_ymd_and_hms(2026, 11, 18, h, m, 0)
            .single()
            .unwrap()
            .timestamp()
    }

    fn target(name: &str) -> TargetStatus {
        TargetStatus {
            target: Target::folder(name, Path::new("/media/usb")),
            schedule_text: "every day at 02:00".into(),
            health: TargetHealth {
                target: name.into(),
                state: HealthState::Ok,
                consecutive_failures: 0,
                last_error: None,
                last_success: None,
                last_attempt: None,
                unhealthy_until: None,
            },
            last_run: None,
            last_success: None,
            next_run: None,
            overdue: false,
            after_every_change: false,
            behind_since: None,
            running: None,
        }
    }

    fn run(started: i64, result: RunResult) -> RunRecord {
        RunRecord {
            id: format!("run-{started}"),
            target: "usb".into(),
            started,
            finished: Some(started + 90),
            result,
            backup_id: None,
            files: 10,
            bytes_read: 0,
            bytes_sent: 0,
            new_blobs: 0,
            error_code: None,
            error: None,
        }
    }

    fn status(targets: Vec<TargetStatus>, paused: Option<Pause>) -> BackupStatus {
        BackupStatus::of(targets, paused)
    }

    #[test]
    fn the_icon_shows_the_most_pressing_state() {
        assert_eq!(overall_state(&[], false), BackupState::NoTargets);
        let ok = target("usb");
        assert_eq!(
            overall_state(std::slice::from_ref(&ok), false),
            BackupState::Ok
        );
        assert_eq!(
            overall_state(std::slice::from_ref(&ok), true),
            BackupState::Paused
        );

        let mut overdue = target("nas");
        overdue.overdue = true;
        assert_eq!(
            overall_state(&[ok.clone(), overdue.clone()], false),
            BackupState::Overdue
        );
        // A pause explains a missed schedule: paused wins over overdue.
        assert_eq!(
            overall_state(&[ok.clone(), overdue.clone()], true),
            BackupState::Paused
        );

        let mut failing = target("cloud");
        failing.health.state = HealthState::Failing;
        assert_eq!(
            overall_state(&[ok.clone(), overdue.clone(), failing.clone()], true),
            BackupState::Failed
        );
        // Only a running backup hides a failure (it may be the retry).
        let mut running = target("usb");
        running.running = Some(Progress {
            phase: "backing up",
            done: 3,
            total: Some(4),
            unit: "files",
            item: None,
        });
        assert_eq!(
            overall_state(&[running, failing], false),
            BackupState::Running
        );
        // An unreachable drive is not a failure.
        let mut absent = target("usb");
        absent.health.state = HealthState::Unavailable;
        assert_eq!(overall_state(&[absent], false), BackupState::Ok);
    }

    #[test]
    fn the_tooltip_says_how_the_last_backup_went_and_when_the_next_is_due() {
        let now = at(14, 5);
        let mut usb = target("usb");
        usb.last_run = Some(run(at(2, 0), RunResult::Ok));
        usb.last_success = Some(at(2, 1));
        usb.next_run = Some(at(2, 0) + 86_400);
        let text = tooltip(&status(vec![usb.clone()], None), now);
        let tomorrow = Local
            .timestamp_opt(at(2, 0) + 86_400, 0)
            .single()
            .unwrap()
            .format("%a 02:00")
            .to_string();
        assert_eq!(
            text,
            format!("Kura — backups ok\nLast backup: today 02:01 (ok)\nNext: {tomorrow}")
        );

        // A target backed up after every change says whether it is behind.
        let mut nas = target("nas");
        nas.after_every_change = true;
        let mut behind = nas.clone();
        behind.behind_since = Some(at(14, 3));
        let text = tooltip(&status(vec![usb.clone(), nas, behind], None), now);
        assert!(
            text.contains("\nnas: up to date\nnas: behind since today 14:03\n"),
            "{text}"
        );

        let mut failed = usb.clone();
        failed.health.state = HealthState::Unhealthy;
        failed.last_run = Some(run(at(13, 0), RunResult::Failed));
        let text = tooltip(&status(vec![failed], None), now);
        assert!(
            text.starts_with("Kura — backup failed: usb\nLast backup: today 13:01 (failed)"),
            "{text}"
        );

        let mut running = usb.clone();
        running.running = Some(Progress {
            phase: "backing up",
            done: 250,
            total: Some(1000),
            unit: "files",
            item: None,
        });
        let text = tooltip(&status(vec![running], None), now);
        assert!(text.starts_with("Kura — backing up: usb 25%"), "{text}");

        // While paused, no "next" time is promised.
        let paused = Pause {
            until: Some(at(15, 5)),
        };
        let text = tooltip(&status(vec![usb], Some(paused)), now);
        assert_eq!(
            text,
            "Kura — backups paused until today 15:05\nLast backup: today 02:01 (ok)"
        );
        assert_eq!(
            tooltip(&status(vec![], None), now),
            "Kura — no backup target set up"
        );
    }
}
