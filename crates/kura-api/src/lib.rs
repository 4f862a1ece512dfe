//! Kura's service layer: the one place every door calls.
//!
//! The desktop shell's commands, the CLI's verbs, the HTTP handlers of `kura serve` and the MCP
//! tools of `kura mcp` are adapters of a few lines: they parse their input, call one function
//! here (or the engine's own, through [`Api::vault`]), and convert the answer. Rules live in the
//! engine crates; what this crate adds is what every door needs beside them:
//! - [`Operations`]: long work run on a thread of its own, with progress, cancellation, a result
//!   to wait for, and idempotency keys;
//! - [`Events`]: what happened in the vault, kept in SQLite with ids that keep increasing across
//!   restarts, and broadcast to live subscribers;
//! - [`ApiError`]: the engine's errors as every door shows them, with a machine-readable code.

mod error;
mod events;
mod operations;

use std::sync::Arc;

pub use error::{ApiError, ApiResult, ErrorCode};
pub use events::{matches_types, Event, EventPage, Events, EVENTS_KEPT};
pub use operations::{OpState, Operation, Operations, OPERATIONS_KEPT};

use kura_core::Vault;

/// The service: one per open vault and process, shared by every door of that process.
pub struct Api {
    vault: Arc<Vault>,
    events: Arc<Events>,
    operations: Arc<Operations>,
}

impl Api {
    /// The service over `vault`; opens (or creates) its event log.
    pub fn open(vault: Arc<Vault>) -> ApiResult<Arc<Api>> {
        let events = Arc::new(Events::open(&vault.root().join("events.db"))?);
        let operations = Arc::new(Operations::new(events.clone()));
        Ok(Arc::new(Api {
            vault,
            events,
            operations,
        }))
    }

    /// The engine, for the operations that are one engine call.
    pub fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }

    /// The event log.
    pub fn events(&self) -> &Arc<Events> {
        &self.events
    }

    /// Long operations.
    pub fn operations(&self) -> &Arc<Operations> {
        &self.operations
    }

    /// Announces that something in the vault changed (`project_id` `None`: vault-wide), as the
    /// `vault.changed` event every view refreshes on.
    pub fn changed(&self, project_id: Option<&str>, reason: &str) {
        self.events.emit(
            "vault.changed",
            project_id,
            serde_json::json!({ "project_id": project_id, "reason": reason }),
        );
    }
}
