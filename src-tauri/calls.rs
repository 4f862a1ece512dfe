//! The Tauri commands of the service's calls, written from their one declaration
//! ([`kura_api::for_each_call!`]): each runs its service function (`kura_api::calls`) on a
//! blocking thread (the UI thread never waits on disk), and a long one runs as an operation of
//! the service with the UI's job id as its id and its progress sent to the call's channel. The
//! app's own commands (`desktop.rs`) are registered beside them in [`commands`].

use std::sync::Arc;

use kura_api::{Api, ApiResult};
use kura_core::{Job, Progress};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::state::AppState;

/// Runs service work as operation `kind` with the UI's `job_id`, its progress sent to
/// `on_progress`; answers when it ends.
pub(crate) async fn with_job<T: Serialize + Send + 'static>(
    state: &State<'_, AppState>,
    kind: &'static str,
    job_id: String,
    on_progress: Channel<Progress>,
    work: impl FnOnce(&Arc<Api>, &Job) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    state
        .blocking(move |api| {
            let sink: kura_api::ProgressSink = Arc::new(move |p: &Progress| {
                let _ = on_progress.send(p.clone());
            });
            let worker = api.clone();
            api.operations()
                .run(kind, None, Some(job_id), Some(sink), move |job| {
                    work(&worker, job)
                })
        })
        .await
}

/// Writes one Tauri command per call, and [`commands`], which registers them (in the list's
/// order, which is the bindings' order) with the app's own.
macro_rules! tauri_commands {
    (@register [$($name:ident)*] [$($own:ident)*]) => {
        /// Every command of the window: the calls, then the app's own (`desktop.rs`).
        pub(crate) fn commands() -> tauri_specta::Commands<tauri::Wry> {
            use crate::desktop::*;
            tauri_specta::collect_commands![$($name,)* $($own),*]
        }

        /// The window's own commands: its settings, its log, its tray and opening things with
        /// the system's apps. They belong to the app on this computer, not to the vault's
        /// service.
        #[cfg(test)]
        pub(crate) const OWN: &[&str] = &[$(stringify!($own)),*];
    };
    (@command $(#[$meta:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty {
        $declared:expr; long $kind:literal |$api:ident, $job:ident| $body:expr
    }) => {
        $(#[$meta])*
        #[tauri::command]
        #[specta::specta]
        #[allow(clippy::too_many_arguments)]
        pub async fn $name(
            state: State<'_, AppState>,
            $($arg: $ty,)*
            job_id: String,
            on_progress: Channel<Progress>,
        ) -> ApiResult<$out> {
            with_job(&state, $kind, job_id, on_progress, move |api, job| {
                kura_api::calls::$name(api, $($arg,)* job)
            })
            .await
        }
    };
    (@command $(#[$meta:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty {
        $declared:expr; |$api:ident| $body:expr
    }) => {
        $(#[$meta])*
        #[tauri::command]
        #[specta::specta]
        pub async fn $name(state: State<'_, AppState>, $($arg: $ty),*) -> ApiResult<$out> {
            state.blocking(move |api| kura_api::calls::$name(api, $($arg),*)).await
        }
    };
    (@command $(#[$meta:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty {
        $declared:expr; || $body:expr
    }) => {
        $(#[$meta])*
        #[tauri::command]
        #[specta::specta]
        pub fn $name($($arg: $ty),*) -> ApiResult<$out> {
            kura_api::calls::$name($($arg),*)
        }
    };
    ($(
        $(#[$meta:meta])*
        fn $name:ident ($($arg:ident : $ty:ty),* $(,)?) -> $out:ty { $($body:tt)* }
    )*) => {
        $(tauri_commands!(@command $(#[$meta])* $name ($($arg: $ty),*) -> $out { $($body)* });)*

        tauri_commands!(@register [$($name)*] [
            desktop
            set_start_at_login
            set_preferences
            answer_start_at_login
            dismiss_tray_hint
            app_log
            open_log_folder
            open_project_with
            open_vault_folder
            quit
        ]);
    };
}

kura_api::for_each_call!(tauri_commands);
