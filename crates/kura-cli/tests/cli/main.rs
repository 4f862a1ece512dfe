//! Black-box tests of the `kura` binary: every test gets a fresh vault in a temp folder, works on
//! real files and checks what a user would notice (output, exit codes, bytes on disk), using the
//! real `git` CLI where the history is concerned.

mod disk;
mod expect;
mod random;
mod sandbox;

mod archive;
mod autostart;
mod backup;
mod backup_damage;
mod concurrency;
mod crash;
mod damage;
mod faults;
mod history;
mod links;
mod mcp;
mod names;
mod network;
mod pipes;
mod records;
mod safety;
mod serve;
mod stats;
mod workflow;
