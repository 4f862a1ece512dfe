//! The app's state: the service over the open vault (or why none is open) and its schedules.
//! What runs for an open vault is started by `crate::start_vault`.

use std::sync::{Arc, Mutex, RwLock};

use kura_api::{Api, ApiError, ApiResult, Scheduler};

/// Shared state of the app.
pub struct AppState {
    /// The service over the vault, or why the vault could not be opened (a missing drive, say):
    /// the UI shows that instead of opening anything half-way, and offers another folder.
    api: RwLock<Result<Arc<Api>, ApiError>>,
    /// The schedules of the open vault (dropping it stops them).
    scheduler: Mutex<Option<Scheduler>>,
}

impl AppState {
    pub(crate) fn new(api: Result<Arc<Api>, ApiError>) -> AppState {
        AppState {
            api: RwLock::new(api),
            scheduler: Mutex::new(None),
        }
    }

    pub(crate) fn api(&self) -> ApiResult<Arc<Api>> {
        self.api.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs service work on a blocking thread (the UI thread never waits on disk).
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Arc<Api>) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let api = self.api()?;
        tauri::async_runtime::spawn_blocking(move || work(&api))
            .await
            .map_err(|e| ApiError::internal(format!("the operation stopped unexpectedly: {e}")))?
    }

    /// Keeps the schedules of the open vault running until the vault is replaced.
    pub(crate) fn keep_schedules(&self, scheduler: Scheduler) {
        *self.scheduler.lock().unwrap_or_else(|e| e.into_inner()) = Some(scheduler);
    }

    /// Uses `api` from now on (a vault opened after the first failed); the old vault's schedules
    /// stop. `crate::start_vault` starts the new one's.
    pub(crate) fn replace(&self, api: Arc<Api>) {
        *self.scheduler.lock().unwrap_or_else(|e| e.into_inner()) = None;
        *self.api.write().unwrap_or_else(|e| e.into_inner()) = Ok(api);
    }
}
