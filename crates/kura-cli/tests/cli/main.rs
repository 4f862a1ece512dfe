//! Black-box tests of the `kura` binary: every test gets a fresh vault in a temp folder, works on
//! real files and checks what a user would notice (output, exit codes, bytes on disk), using the
//! real `git` CLI where the history is concerned.

mod disk;
mod expect;
mod random;
mod sandbox;

mod archive;
mod backup;
mod concurrency;
mod crash;
mod faults;
mod history;
mod safety;
mod workflow;
