//! The tools. Those whose shape is their call's are written from the call's declaration
//! (`calls.rs`); the others, by what they work on, are adapters of a few lines: parse, call the
//! service (`kura_api::Api`, which announces every change in the event log, as every door's),
//! answer. Annotations say what a tool may do; the server refuses by them (see
//! `KuraMcp::refusal`).

mod backups;
pub(crate) mod calls;
mod files;
mod history;
mod projects;
pub(crate) mod records;
pub(crate) mod shares;
mod vault;
