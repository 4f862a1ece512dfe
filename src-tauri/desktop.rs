//! Commands about the app itself rather than the vault: start at login, the first-run question,
//! the theme, notifications and editor of Settings › App,
//! the tray hint, the log view, quitting, and opening another vault folder when the configured
//! one cannot be reached. Each calls `kura_api` (`autostart`, `app_settings`, `logs`); they work
//! while no vault is open.

use kura_api::app_settings::{self, AppSettings, Preferences, VaultPlace};
use kura_api::autostart::{self, Autostart};
use kura_api::logs::LogTail;
use kura_api::opener::{self, EditorChoices, OpenWith};
use kura_api::{Api, ApiError, ApiResult, AppInfo, ErrorCode};
use serde::Serialize;
use tauri::{AppHandle, State};

use crate::state::AppState;

/// What the window shows about the app itself.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct DesktopState {
    /// Whether Kura starts at login (read from the autostart entry).
    pub autostart: Autostart,
    /// The first-run question (start at login?) is still to be asked.
    pub ask_start_at_login: bool,
    /// A tray icon can be seen; without one, closing the window minimizes it.
    pub tray: bool,
    /// Say, once, how to get a tray.
    pub show_tray_hint: bool,
    /// Where the vault is (for the screen shown when it cannot be opened).
    pub vault: VaultPlace,
    /// Theme, notifications and editor, as set in Settings › App.
    pub preferences: Preferences,
    /// The editors to choose from.
    pub editors: EditorChoices,
}

/// Runs `work` on a blocking thread (files and D-Bus, never on the UI thread).
async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("the operation stopped unexpectedly: {e}")))?
}

fn desktop_state() -> ApiResult<DesktopState> {
    let settings = AppSettings::load()?;
    let tray = crate::tray::can_show();
    Ok(DesktopState {
        autostart: autostart::status()?,
        ask_start_at_login: !settings.start_at_login_asked,
        tray,
        show_tray_hint: !tray && !settings.tray_hint_shown,
        vault: app_settings::vault_place()?,
        preferences: settings.preferences,
        editors: opener::editor_choices(&opener::Environment::current()),
    })
}

/// Writes the app's own commands and [`bind`], which adds them to the bindings. An entry reads
/// like the async function it becomes, answering `ApiResult<T>`; what Tauri hands a command
/// besides its arguments (the app, its state) is named in brackets after the answer.
macro_rules! own_commands {
    ($(
        $(#[$meta:meta])*
        fn $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty $([$($given:ident : $gty:ty),*])? $body:block
    )*) => {
        $(
            $(#[$meta])*
            #[tauri::command]
            pub async fn $name($($($given: $gty,)*)? $($arg: $ty),*) -> ApiResult<$out> $body
        )*

        /// Adds the app's own commands to the bindings.
        #[cfg(test)]
        pub(crate) fn bind(b: &mut crate::bindings::Bindings) {
            $(bind_command!(b, $(#[$meta])* $name ($($arg: $ty),*) -> $out, false);)*
        }
    };
}

own_commands! {
    /// What the window shows about the app itself: start at login, the tray, the vault's
    /// place, Settings › App.
    fn desktop() -> DesktopState {
        off_thread(desktop_state).await
    }

    /// Turns start at login on (this app, `--hidden`) or off.
    fn set_start_at_login(on: bool) -> Autostart {
        off_thread(move || {
            if on {
                autostart::enable(&autostart::running_program()?)
            } else {
                autostart::disable()
            }
        })
        .await
    }

    /// Saves the theme, notifications and editor set in Settings › App; answers the state as saved.
    fn set_preferences(preferences: Preferences) -> DesktopState {
        off_thread(move || {
            preferences.validate()?;
            AppSettings::update(|s| s.preferences = preferences)?;
            desktop_state()
        })
        .await
    }

    /// The answer to the first-run question, remembered so that it is asked once.
    fn answer_start_at_login(start: bool) -> DesktopState {
        off_thread(move || {
            if start {
                autostart::enable(&autostart::running_program()?)?;
            }
            AppSettings::update(|s| s.start_at_login_asked = true)?;
            desktop_state()
        })
        .await
    }

    /// The tray hint was read; it is not shown again.
    fn dismiss_tray_hint() -> () {
        off_thread(|| AppSettings::update(|s| s.tray_hint_shown = true).map(|_| ())).await
    }

    /// The last `lines` lines of the app's newest log, and where the logs are.
    fn app_log(lines: u32) -> LogTail {
        off_thread(move || kura_api::logs::tail(Some("kura-desktop"), lines as usize)).await
    }

    /// Opens a project's folder in the file manager, the person's editor or a terminal (found by
    /// the rules of [`kura_api::opener`]); answers the program's name.
    fn open_project_with(id: String, program: OpenWith) -> String [state: State<'_, AppState>] {
        state
            .blocking(move |api| {
                let project = api
                    .vault()
                    .project(&id)
                    .map_err(|e| ApiError::from(e).about(kura_api::SubjectKind::Project, &id))?;
                opener::open(program, &project.path)
            })
            .await
    }

    /// Opens the log folder in the file manager.
    fn open_log_folder() -> () {
        off_thread(|| {
            let folder = kura_api::logs::folder().ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    "no log folder: set HOME, XDG_STATE_HOME or KURA_LOG_DIR",
                )
            })?;
            let opener = if cfg!(target_os = "macos") {
                "open"
            } else {
                "xdg-open"
            };
            std::process::Command::new(opener)
                .arg(&folder)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .map(|_| ())
                .map_err(|e| {
                    ApiError::new(
                        ErrorCode::Unavailable,
                        format!(
                            "cannot open {} with {opener}: {e}; open the folder yourself",
                            folder.display()
                        ),
                    )
                })
        })
        .await
    }

    /// Opens the vault at `path` (a folder the person picked, or the configured one with `create`:
    /// its missing parent folders made first), remembers it, and starts it in this window.
    fn open_vault_folder(path: String, create: bool) -> AppInfo [app: AppHandle, state: State<'_, AppState>] {
        let api = off_thread(move || {
            let vault = app_settings::open_chosen(std::path::Path::new(&path), create)?;
            vault.set_door(kura_core::Trigger::Desktop);
            Api::open(vault)
        })
        .await?;
        let info = api.app_info();
        state.replace(api);
        crate::start_vault(&app);
        Ok(info)
    }

    /// Quits Kura (where there is no tray, closing the window only minimizes it).
    fn quit() -> () [app: AppHandle] {
        app.exit(0);
        Ok(())
    }
}
