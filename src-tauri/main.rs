// No console window on Windows release builds.
#![cfg_attr(
    all(not(debug_assertions), target_os = "windows"),
    windows_subsystem = "windows"
)]

fn main() {
    kura_core::use_one_malloc_arena();
    kura_desktop::run();
}
