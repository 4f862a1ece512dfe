//! Kura's desktop app: a Tauri 2 shell over the service layer (`kura_api`). Its commands are
//! written from the service's one list of calls (`calls.rs`, from `kura_api::for_each_call!`),
//! beside the app's own (`desktop.rs`: start at login, the tray hint, its log, another vault
//! folder); the service's events reach the window through `events.rs`. The shell's own state is
//! the tray (`tray.rs`, which also decides whether closing the window hides or minimizes it) and
//! the single-instance lock (`instance.rs`). The scheduler (backups, cleanup, automatic versions)
//! is the service's, started here as `kura serve` starts it.

#[cfg(test)]
#[macro_use]
mod bindings;
mod calls;
mod desktop;
mod events;
#[cfg(unix)]
mod instance;
mod state;
mod tray;

use kura_api::{Api, ApiError};
use tauri::Manager;

use crate::state::AppState;

/// Starts the app.
pub fn run() {
    // A log file a day in ~/.local/state/kura (`kura logs`), warnings on stderr too.
    kura_api::logs::init("kura-desktop", true);
    // `--hidden` (the start-at-login entry's): out of the way, in the tray or minimized.
    let hidden = std::env::args()
        .skip(1)
        .any(|a| a == kura_api::autostart::HIDDEN_ARG);
    // A second launch brings the running app forward and ends here, before opening anything.
    #[cfg(unix)]
    let primary = match instance::claim(!hidden) {
        Ok(instance::Claim::Primary(p)) => p,
        Ok(instance::Claim::HandedOff) => {
            println!(
                "{}",
                if hidden {
                    "Kura is already running"
                } else {
                    "Kura is already running; its window was brought forward"
                }
            );
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("kura: {e}");
            std::process::exit(1);
        }
    };
    // A start-at-login entry left by another install (or a moved binary) starts this one.
    if let Err(e) =
        kura_api::autostart::running_program().and_then(|p| kura_api::autostart::follow(&p))
    {
        tracing::warn!("cannot check the start-at-login entry: {}", e.message);
    }
    // KURA_HOME, else the folder chosen in the window, else the default: as `kura` opens it.
    let api = kura_api::app_settings::open_vault()
        .map_err(ApiError::from)
        .and_then(|v| {
            v.set_door(kura_core::Trigger::Desktop);
            Api::open(v)
        });
    if let Err(e) = &api {
        tracing::error!("the vault cannot be opened: {}", e.message);
    }
    let app = tauri::Builder::default();
    #[cfg(windows)]
    let app = app.plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
        tray::show_main(app)
    }));
    app
        // Where the window was and how big; whether it shows is decided here (`--hidden`).
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::all()
                        - tauri_plugin_window_state::StateFlags::VISIBLE,
                )
                .build(),
        )
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .manage(AppState::new(api))
        .invoke_handler(calls::handler())
        .setup(move |app| {
            if let Err(e) = tray::create(app.handle()) {
                tracing::warn!("no tray icon: {e}");
            }
            #[cfg(unix)]
            primary.serve(app.handle());
            if hidden {
                if let Some(window) = app.get_webview_window("main") {
                    tray::put_away(&window.as_ref().window());
                }
            }
            start_vault(app.handle());
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window keeps Kura running, where backups and automatic versions go
            // on: in the tray, or minimized when there is no tray to find it in again.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                api.prevent_close();
                tray::put_away(window);
            }
        })
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("kura: the app could not start: {e}");
            std::process::exit(1);
        });
}

/// Starts what runs for the open vault: its events to the window, the tray and notifications,
/// and its schedules. At start-up, and when another vault folder is opened.
pub(crate) fn start_vault(app: &tauri::AppHandle) {
    let state = app.state::<AppState>();
    let Ok(api) = state.api() else { return };
    events::forward(app, &api);
    // Folders an earlier run moved aside but did not get to remove.
    api.purge_discarded_in_background();
    // Backups, cleanup and automatic versions (missed runs caught up now), unless `kura serve`
    // runs them for this vault already; then it takes over when that stops.
    state.keep_schedules(kura_api::Scheduler::start(api));
}

#[cfg(test)]
mod tests {
    /// The window's bindings: every command, event and type, and the settings' keys.
    fn bindings() -> String {
        let mut b = crate::bindings::Bindings::new::<kura_api::ApiError>();
        crate::calls::bind(&mut b);
        crate::events::bind(&mut b);
        // Every setting a person can change, by its dotted key: the UI's `SettingKey`.
        let keys = serde_json::to_string(&kura_core::Config::known_keys()).unwrap();
        b.constant("SETTING_KEYS", keys);
        b.typescript(&format!(
            "// Generated from the shell's commands and the types' schemas (src-tauri/bindings.rs); do not edit.\n// Regenerate: {}",
            crate::bindings::REGENERATE
        ))
    }

    /// The committed bindings must match the commands; CI fails when they drift.
    #[test]
    fn bindings_are_current() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let committed = root.join(crate::bindings::BINDINGS_PATH);
        let want = bindings();
        if std::env::var_os("KURA_UPDATE_BINDINGS").is_some() {
            std::fs::write(&committed, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(
            want == have,
            "{} is stale; run {} and commit it",
            crate::bindings::BINDINGS_PATH,
            crate::bindings::REGENERATE
        );
    }

    /// Every command is a declared operation of the service (`kura_api::catalog`) or one of the
    /// window's own, and every operation the catalog gives the desktop door is a command, under
    /// the operation's name when it is the one command of one operation; a command with a
    /// progress channel is a long operation.
    #[test]
    fn the_commands_are_the_declared_operations() {
        use kura_api::catalog::OPERATIONS;
        let ts = bindings();
        let ts = ts.split("export const commands = {").nth(1).unwrap();
        let ts = ts.split("\n}").next().unwrap();
        let mut commands = Vec::new();
        // `__TAURI_INVOKE("name", { args })`, or `__TAURI_INVOKE<T>("name", ...)` for a command
        // that cannot fail.
        for call in ts.split("__TAURI_INVOKE").skip(1) {
            let name = call.split('"').nth(1).unwrap();
            let args = call.split(')').next().unwrap();
            commands.push((name.to_string(), args.contains("onProgress")));
        }
        assert!(commands.len() > 50, "no commands found in the bindings");
        for (name, progress) in &commands {
            if crate::calls::OWN.contains(&name.as_str()) {
                continue;
            }
            let ops: Vec<_> = OPERATIONS
                .iter()
                .filter(|d| d.desktop.names().contains(&name.as_str()))
                .collect();
            assert!(!ops.is_empty(), "command {name} is in no declaration");
            if *progress {
                assert!(
                    ops.iter().all(|d| d.long),
                    "command {name} reports progress but is not declared long"
                );
            }
        }
        for d in OPERATIONS {
            // A command that is one operation, and the only command of it, has its name.
            if let [only] = d.desktop.names() {
                let claimed = OPERATIONS
                    .iter()
                    .filter(|o| o.desktop.names().contains(only))
                    .count();
                if claimed == 1 {
                    assert_eq!(
                        *only, d.name,
                        "the command for {} is named otherwise",
                        d.name
                    );
                }
            }
            for name in d.desktop.names() {
                assert!(
                    commands.iter().any(|(c, _)| c == name),
                    "{} is declared as the command {name}, which does not exist",
                    d.name
                );
            }
        }
    }
}
