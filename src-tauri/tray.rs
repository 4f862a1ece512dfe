//! The tray icon: open Kura, take a version of every changed project, quit. Closing the window
//! keeps Kura running here.

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager};

use crate::commands::{snapshot_all_changed, AppState, VaultChanged};

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
            &open,
            &snapshot,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    let mut tray = TrayIconBuilder::with_id("main")
        .menu(&menu)
        .tooltip("Kura")
        .show_menu_on_left_click(false);
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.on_menu_event(|app, event| match event.id.as_ref() {
        "open" => show_main(app),
        "snapshot" => {
            let app = app.clone();
            std::thread::spawn(move || {
                let state = app.state::<AppState>();
                let Ok(vault) = state.vault.clone() else {
                    return;
                };
                match snapshot_all_changed(&vault) {
                    Ok(reports) => {
                        for r in reports.iter().filter(|r| r.version.is_some()) {
                            VaultChanged::send(&app, Some(&r.project_id), "snapshot");
                        }
                    }
                    Err(e) => tracing::warn!("snapshot from the tray failed: {e}"),
                }
            });
        }
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
