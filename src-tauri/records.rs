//! Commands for a project's records (the Records tab): each parses its input and calls one
//! function of the service layer, which announces what changed.

use kura_api::ApiResult;
use kura_core::{
    CollectionInfo, CollectionSettings, Record, RecordDelete, RecordPage, RecordPut, RecordQuery,
};
use tauri::State;

use crate::commands::blocking;
use crate::state::AppState;

/// The collections of a project's records (`project` `None`: the vault's own).
#[tauri::command]
#[specta::specta]
pub async fn record_collections(
    state: State<'_, AppState>,
    project: Option<String>,
) -> ApiResult<Vec<CollectionInfo>> {
    blocking(&state, move |api| {
        api.record_collections(project.as_deref())
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn record_query(
    state: State<'_, AppState>,
    project: Option<String>,
    collection: String,
    query: RecordQuery,
) -> ApiResult<RecordPage> {
    blocking(&state, move |api| {
        api.record_query(project.as_deref(), &collection, &query)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn record_get(
    state: State<'_, AppState>,
    project: Option<String>,
    collection: String,
    key: String,
) -> ApiResult<Record> {
    blocking(&state, move |api| {
        api.record_get(project.as_deref(), &collection, &key)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn record_put(
    state: State<'_, AppState>,
    project: Option<String>,
    put: RecordPut,
) -> ApiResult<Record> {
    blocking(&state, move |api| api.record_put(project.as_deref(), put)).await
}

/// Deletes a record; answers whether there was one to delete.
#[tauri::command]
#[specta::specta]
pub async fn record_delete(
    state: State<'_, AppState>,
    project: Option<String>,
    del: RecordDelete,
) -> ApiResult<kura_api::Deleted> {
    blocking(&state, move |api| {
        api.record_delete(project.as_deref(), del)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn record_configure(
    state: State<'_, AppState>,
    project: Option<String>,
    collection: String,
    settings: CollectionSettings,
) -> ApiResult<CollectionInfo> {
    blocking(&state, move |api| {
        api.record_configure(project.as_deref(), &collection, settings)
    })
    .await
}
