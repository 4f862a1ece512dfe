//! Standard output and error, the Unix way. When the reader of the output goes away
//! (`kura history P | head -1`), kura stops quietly with exit code 141, what a shell reports for
//! a tool that SIGPIPE ended, instead of panicking. Any other failure to write the output (a full
//! disk under `kura files P > out.txt`) is said on standard error and ends kura with the code of
//! its kind.
//!
//! The crate's `print!`, `println!`, `eprint!` and `eprintln!` are the macros below (declared
//! first in `main.rs`, so every module uses them): every line of output goes through here.
//!
//! On a terminal, text is shown as text: the control characters a name, a version's message, a
//! description or a file's lines may carry are written escaped (`\u{1b}`), as `ls` shows them as
//! `?`, since an escape sequence can recolour, retitle or rewrite what a person reads (anyone
//! with a write token can set a message). Newlines and tabs stay. Output piped or redirected is
//! written as it is, for the program reading it.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::sync::LazyLock;

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

static STDOUT_IS_TERMINAL: LazyLock<bool> = LazyLock::new(|| io::stdout().is_terminal());
static STDERR_IS_TERMINAL: LazyLock<bool> = LazyLock::new(|| io::stderr().is_terminal());

/// Writes to standard output; see the module's documentation for what a failure does.
pub fn print(args: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    let written = if *STDOUT_IS_TERMINAL {
        out.write_all(for_terminal(&args.to_string()).as_bytes())
    } else {
        out.write_fmt(args)
    };
    if let Err(e) = written {
        drop(out);
        stdout_failed(e);
    }
}

/// Writes to standard error. A message that cannot be shown has nowhere else to go: the exit
/// code still tells what happened.
pub fn eprint(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = if *STDERR_IS_TERMINAL {
        err.write_all(for_terminal(&args.to_string()).as_bytes())
    } else {
        err.write_fmt(args)
    };
}

/// `text` with every control character but newline and tab escaped as Rust writes it in a
/// string (`\u{1b}`, `\r`, `\0`), and the C1 controls too (a terminal may take U+009B as the
/// start of a sequence).
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    let shown_as_is = |c: char| !c.is_control() || c == '\n' || c == '\t';
    if text.chars().all(shown_as_is) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if shown_as_is(c) {
            out.push(c);
        } else {
            out.extend(c.escape_debug());
        }
    }
    Cow::Owned(out)
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

#[cfg(test)]
mod tests {
    use super::for_terminal;

    #[test]
    fn control_characters_are_shown_escaped_and_text_is_left_alone() {
        assert_eq!(for_terminal("a.txt\tb\n"), "a.txt\tb\n");
        assert_eq!(for_terminal("naïve 日本"), "naïve 日本");
        assert_eq!(
            for_terminal("a\u{1b}[31mRED\u{1b}[0m.txt"),
            "a\\u{1b}[31mRED\\u{1b}[0m.txt"
        );
        assert_eq!(
            for_terminal("\u{1b}]0;title\u{7}x\ry\u{0}\u{7f}\u{9b}2J"),
            "\\u{1b}]0;title\\u{7}x\\ry\\0\\u{7f}\\u{9b}2J"
        );
    }
}
