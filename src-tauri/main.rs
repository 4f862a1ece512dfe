// No console window on Windows release builds.
#![cfg_attr(
    all(not(debug_assertions), target_os = "windows"),
    windows_subsystem = "windows"
)]

fn main() {
    kura_core::give_back_freed_memory();
    kura_desktop::run();
}
