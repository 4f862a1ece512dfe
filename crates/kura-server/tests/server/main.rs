//! `kura serve` over real HTTP on a temp vault.

mod endpoints;
mod events;
mod harness;
mod openapi;
mod records;
mod security;
mod server_paths;
