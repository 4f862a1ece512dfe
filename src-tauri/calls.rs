//! The Tauri commands of the service's calls, written from their one declaration
//! ([`kura_api::for_each_call!`]): each runs its service function (`kura_api::calls`) on a
//! blocking thread (the UI thread never waits on disk), and a long one runs as an operation of
//! the service with the UI's job id as its id and its progress sent to the call's channel. The
//! app's own commands (`desktop.rs`) are registered beside them in [`handler`]; the TypeScript
//! bindings of both are written from the same declarations ([`bind`], `bindings.rs`).

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

/// Writes one Tauri command per call, [`handler`], which registers them with the app's own, and
/// [`bind`], which adds them to the bindings (in the list's order).
macro_rules! tauri_commands {
    (@register [$($name:ident)*] [$($own:ident)*]) => {
        /// Every command of the window: the calls, then the app's own (`desktop.rs`).
        pub(crate) fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
            use crate::desktop::*;
            tauri::generate_handler![$($name,)* $($own),*]
        }

        /// The window's own commands: its settings, its log, its tray and opening things with
        /// the system's apps. They belong to the app on this computer, not to the vault's
        /// service.
        #[cfg(test)]
        pub(crate) const OWN: &[&str] = &[$(stringify!($own)),*];
    };
    (@command $(#[$meta:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty {
        $declared:expr; $(http($($http:tt)*);)? $(mcp($($mcp:tt)*);)? long $kind:literal |$api:ident, $job:ident| $body:expr
    }) => {
        $(#[$meta])*
        #[tauri::command]
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
        $declared:expr; $(http($($http:tt)*);)? $(mcp($($mcp:tt)*);)? |$api:ident| $body:expr
    }) => {
        $(#[$meta])*
        #[tauri::command]
        pub async fn $name(state: State<'_, AppState>, $($arg: $ty),*) -> ApiResult<$out> {
            state.blocking(move |api| kura_api::calls::$name(api, $($arg),*)).await
        }
    };
    (@command $(#[$meta:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty {
        $declared:expr; $(http($($http:tt)*);)? $(mcp($($mcp:tt)*);)? || $body:expr
    }) => {
        $(#[$meta])*
        #[tauri::command]
        pub fn $name($($arg: $ty),*) -> ApiResult<$out> {
            kura_api::calls::$name($($arg),*)
        }
    };
    (@bind $b:ident $(#[$meta:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty {
        $declared:expr; $(http($($http:tt)*);)? $(mcp($($mcp:tt)*);)? long $kind:literal |$api:ident, $job:ident| $body:expr
    }) => {
        bind_command!($b, $(#[$meta])* $name ($($arg: $ty),*) -> $out, true)
    };
    (@bind $b:ident $(#[$meta:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty {
        $($body:tt)*
    }) => {
        bind_command!($b, $(#[$meta])* $name ($($arg: $ty),*) -> $out, false)
    };
    ($(
        $(#[$meta:meta])*
        fn $name:ident ($($(#[$attr:meta])* $arg:ident : $ty:ty),* $(,)?) -> $out:ty { $($body:tt)* }
    )*) => {
        $(tauri_commands!(@command $(#[$meta])* $name ($($arg: $ty),*) -> $out { $($body)* });)*

        /// Adds every call's command to the bindings, then the app's own.
        #[cfg(test)]
        pub(crate) fn bind(b: &mut crate::bindings::Bindings) {
            $(tauri_commands!(@bind b $(#[$meta])* $name ($($arg: $ty),*) -> $out { $($body)* });)*
            crate::desktop::bind(b);
        }

        tauri_commands!(@register [$($name)*] [
            desktop
            set_start_at_login
            set_preferences
            answer_start_at_login
            dismiss_tray_hint
            app_log
            open_project_with
            open_log_folder
            open_vault_folder
            quit
        ]);
    };
}

kura_api::for_each_call!(tauri_commands);
