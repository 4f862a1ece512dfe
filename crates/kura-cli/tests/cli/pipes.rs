//! Output to a reader that went away (`kura files P | head -1`): kura ends quietly with exit code
//! 141 (what a shell reports for a tool ended by SIGPIPE), never with a panic.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};

use crate::disk;
use crate::random::Rng;
use crate::sandbox::{s, Sandbox};

/// The exit code for a closed standard output.
const CLOSED_PIPE: i32 = 141;

/// A linked project with `files` files in one version.
fn many_files(sb: &Sandbox, files: usize) {
    let src = sb.path("big");
    for i in 0..files {
        disk::write(
            &src.join(format!("src/module-{i:05}/file-{i:05}.txt")),
            format!("{i}\n"),
        );
    }
    sb.ok(&["project", "import", s(&src), "--link"]);
}

fn spawn(sb: &Sandbox, args: &[&str]) -> Child {
    sb.command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start kura")
}

/// Waits for kura; asserts it ended with `code` and said nothing of a panic.
fn assert_ends(mut child: Child, code: i32, what: &str) {
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut stderr).unwrap();
    }
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "`{what}` panicked:\n{stderr}");
    assert_eq!(status.code(), Some(code), "`{what}`: {status:?}\n{stderr}");
}

/// Reads one line of the output, then closes the pipe, like `head -1`. The output is larger than
/// a pipe's buffer, so kura is still writing when the pipe closes.
#[test]
fn listing_into_a_closed_pipe_ends_quietly() {
    let sb = Sandbox::new();
    many_files(&sb, 2500);
    for args in [&["files", "big"][..], &["--json", "files", "big"][..]] {
        let full = sb.run(args);
        assert_eq!(full.code, Some(0));
        assert!(
            full.stdout.len() > 128 << 10,
            "{args:?}: output of {} bytes fits in a pipe",
            full.stdout.len()
        );

        let mut child = spawn(&sb, args);
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        assert!(!first.is_empty());
        drop(out);
        assert_ends(child, CLOSED_PIPE, &args.join(" "));
    }
}

/// The pipe is closed before kura writes anything: every write fails.
#[test]
fn every_output_into_a_closed_pipe_ends_quietly() {
    let sb = Sandbox::new();
    let src = sb.path("proj");
    disk::write(&src.join("a.txt"), "a\n");
    disk::write(&src.join("big.bin"), Rng::new(3).bytes(2 << 20));
    sb.ok(&["project", "import", s(&src), "--link"]);
    for i in 0..5 {
        disk::write(&src.join("a.txt"), format!("{i}\n"));
        sb.ok(&["snapshot", "proj"]);
    }
    for args in [
        &["history", "proj"][..],
        &["--json", "history", "proj"][..],
        &["files", "proj"][..],
        &["project", "list"][..],
        &["--json", "status"][..],
        &["verify"][..],
        &["file", "read", "proj", "big.bin"][..],
    ] {
        let mut child = spawn(&sb, args);
        drop(child.stdout.take());
        assert_ends(child, CLOSED_PIPE, &args.join(" "));
    }
}

/// An error message to a closed standard error: the exit code still says what happened.
#[test]
fn an_error_into_a_closed_stderr_keeps_its_exit_code() {
    let sb = Sandbox::new();
    sb.ok(&["project", "create", "one"]);
    let mut child = sb
        .command(["project", "show", "missing"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(3),
        "not found, not a panic (101): {status:?}"
    );
}
