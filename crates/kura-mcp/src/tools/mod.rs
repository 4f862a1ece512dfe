//! The tools, by what they work on. Each is an adapter of a few lines: parse, call the engine,
//! answer. Annotations say what a tool may do; the server refuses by them (see
//! `KuraMcp::refusal`).

mod backups;
mod files;
mod history;
mod projects;
mod records;
mod shares;
mod vault;

/// Announces a change of one project to the event log (the desktop app and `kura serve` refresh
/// on it).
fn changed(api: &kura_api::Api, project_id: &str, reason: &str) {
    api.changed(Some(project_id), reason);
}
