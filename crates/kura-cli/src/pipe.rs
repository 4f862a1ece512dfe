//! Standard output and error, the Unix way. When the reader of the output goes away
//! (`kura history P | head -1`), kura stops quietly with exit code 141, what a shell reports for
//! a tool that SIGPIPE ended, instead of panicking. Any other failure to write the output (a full
//! disk under `kura files P > out.txt`) is said on standard error and ends kura with the code of
//! its kind.
//!
//! The crate's `print!`, `println!`, `eprint!` and `eprintln!` are the macros below (declared
//! first in `main.rs`, so every module uses them): every line of output goes through here.

use std::fmt;
use std::io::{self, Write};

use kura_core::{Error, ErrorKind};

/// The exit code when standard output is a closed pipe: 128 + SIGPIPE, as shells report it.
pub const CLOSED_PIPE: i32 = 141;

/// Like `std::print!`, through [`print`].
macro_rules! print {
    ($($arg:tt)*) => { $crate::pipe::print(format_args!($($arg)*)) };
}

/// Like `std::println!`, through [`print`].
macro_rules! println {
    () => { $crate::pipe::print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::pipe::print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Like `std::eprint!`, through [`eprint`].
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::pipe::eprint(format_args!($($arg)*)) };
}

/// Like `std::eprintln!`, through [`eprint`].
macro_rules! eprintln {
    () => { $crate::pipe::eprint(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::pipe::eprint(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Writes to standard output; see the module's documentation for what a failure does.
pub fn print(args: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        drop(out);
        stdout_failed(e);
    }
}

/// Writes to standard error. A message that cannot be shown has nowhere else to go: the exit
/// code still tells what happened.
pub fn eprint(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// Ends kura after a failed write to standard output.
fn stdout_failed(err: io::Error) -> ! {
    if err.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(CLOSED_PIPE);
    }
    let err = Error::from_io("write", std::path::Path::new("standard output"), err);
    eprint(format_args!("kura: {err}\n"));
    std::process::exit(i32::from(crate::exit_code(match err.kind() {
        ErrorKind::NotFound => ErrorKind::Io,
        kind => kind,
    })));
}

/// Standard output as a writer for content streamed to it (`kura file read`), with the same
/// handling of a closed pipe and of failures.
pub struct Stdout(io::StdoutLock<'static>);

impl Stdout {
    pub fn lock() -> Stdout {
        Stdout(io::stdout().lock())
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(|e| stdout_failed(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(|e| stdout_failed(e))
    }
}
