//! `kura serve` over real HTTP on a temp vault.

mod endpoints;
mod events;
mod fuzz;
mod harness;
mod http_edges;
mod openapi;
mod raw;
mod records;
mod security;
mod server_paths;
mod sign_in;
mod slow_clients;
mod ui_files;
