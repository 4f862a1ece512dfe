//! What needs no vault: the command line described to shells and to `man`, generated from the
//! same clap definitions as the parser (`kura completions SHELL`, `kura manpages DIR`; the
//! manual's references are generated in `reference`), and the logs of the programs that stay
//! on (`kura logs`).

use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;
use kura_core::{Error, ErrorKind};

use crate::print::Out;
use crate::Cli;

// The manual's CLI and configuration references, generated and checked by a test.
#[cfg(test)]
mod reference;

/// Prints the completion script of `shell` to standard output.
pub fn completions(shell: clap_complete::Shell) -> Result<ExitCode, Error> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kura", &mut buf);
    let script = String::from_utf8(buf)
        .map_err(|_| Error::new(ErrorKind::Internal, "the completion script is not UTF-8"))?;
    // Through the crate's `print!`: a closed pipe ends kura quietly.
    print!("{script}");
    Ok(ExitCode::SUCCESS)
}

/// Writes `kura.1` and one page per command (`kura-backup-run.1`, ...) into `dir`, made when
/// missing.
pub fn manpages(dir: &Path, out: &Out) -> Result<ExitCode, Error> {
    let io = |e: std::io::Error| Error::from_io("write manual pages to", dir, e);
    std::fs::create_dir_all(dir).map_err(io)?;
    clap_mangen::generate_to(Cli::command(), dir).map_err(io)?;
    let mut pages: Vec<String> = std::fs::read_dir(dir)
        .map_err(io)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("kura") && n.ends_with(".1"))
        .collect();
    pages.sort();
    out.done_json(
        &format!("{} manual pages written to {}", pages.len(), dir.display()),
        serde_json::json!({ "folder": dir, "pages": pages }),
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints the last `lines` lines of the newest log file, after saying where the logs are.
pub fn logs(lines: usize, out: &Out) -> Result<ExitCode, Error> {
    let tail = kura_api::logs::tail(None, lines).map_err(|e| Error::new(e.code, e.message))?;
    let text = match &tail.file {
        None => format!(
            "No logs yet in {}: the app, `kura serve` and `kura mcp` write them there.",
            tail.folder
        ),
        Some(file) => format!("{file}:\n{}", tail.lines.join("\n")),
    };
    out.done_json(&text, serde_json::json!(tail));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Commands that are not operations of the vault: the command line's own (completions,
    /// manual pages), the desktop app's (start at login, its logs), and the other doors, which
    /// serve the operations rather than carry one out; and the hidden step a command starts in
    /// the background to remove the folders it discarded.
    const NOT_OPERATIONS: &[&str] = &[
        "purge-discarded",
        "completions",
        "manpages",
        "logs",
        "autostart",
        "mcp",
        "serve",
        "serve token",
        "serve token rotate",
    ];

    fn paths(cmd: &clap::Command, prefix: &str, out: &mut Vec<(String, bool)>) {
        for sub in cmd.get_subcommands() {
            let path = format!("{prefix}{}", sub.get_name()).trim().to_string();
            let leaf = sub.get_subcommands().next().is_none();
            out.push((path.clone(), leaf));
            paths(sub, &format!("{path} "), out);
        }
    }

    /// Every command that does something is a declared operation of the service
    /// (`kura_api::catalog`) or named above, and every command line the catalog gives the CLI
    /// exists.
    #[test]
    fn the_commands_are_the_declared_operations() {
        use kura_api::catalog::OPERATIONS;
        let mut all = Vec::new();
        paths(&crate::Cli::command(), "", &mut all);
        assert!(all.len() > 50, "no commands found");
        for (path, leaf) in &all {
            if !leaf || path == "help" || path.ends_with(" help") {
                continue;
            }
            if NOT_OPERATIONS.contains(&path.as_str()) {
                continue;
            }
            assert!(
                OPERATIONS
                    .iter()
                    .any(|d| d.cli.names().contains(&path.as_str())),
                "`kura {path}` is in no declaration"
            );
        }
        for d in OPERATIONS {
            for name in d.cli.names() {
                assert!(
                    all.iter().any(|(p, _)| p == name),
                    "{} is declared as `kura {name}`, which does not exist",
                    d.name
                );
            }
        }
    }
}
