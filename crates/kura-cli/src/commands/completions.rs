//! `kura completions SHELL`: a shell's completion script, generated from the same clap
//! definitions as the parser. Needs no vault.

use std::process::ExitCode;

use clap::{Args, Command, CommandFactory};
use kura_core::{Error, ErrorKind};

use crate::Cli;

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Prints the completion script of the shell to standard output.
pub fn run(args: &CompletionsArgs) -> Result<ExitCode, Error> {
    let mut cmd = whole_tree();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "kura", &mut buf);
    let script = String::from_utf8(buf)
        .map_err(|_| Error::new(ErrorKind::Internal, "the completion script is not UTF-8"))?;
    // Through the crate's `print!`: a closed pipe ends kura quietly. The script is the output
    // itself, for text and `--json` alike.
    print!("{script}");
    Ok(ExitCode::SUCCESS)
}

/// The command tree built whole, for a generator. A command's own arguments and nested commands
/// are deferred until a parse needs them (so that `kura snapshot` does not build the hundred
/// others first), and clap fills each `help` subtree from the commands as they stood before
/// they were built: without this, `kura help archive <TAB>` would offer nothing.
fn whole_tree() -> Command {
    let mut cmd = Cli::command();
    cmd.build();
    complete_help(&mut cmd);
    cmd
}

/// Gives the `help` subcommand of `cmd` and of every command under it each nested command the
/// others have, named and described as clap's own copy does.
fn complete_help(cmd: &mut Command) {
    let real: Vec<Command> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .cloned()
        .collect();
    if let Some(help) = cmd.find_subcommand_mut("help") {
        for sub in &real {
            if let Some(copy) = help.find_subcommand_mut(sub.get_name()) {
                add_missing(copy, sub);
            }
        }
    }
    for sub in cmd.get_subcommands_mut() {
        if sub.get_name() != "help" {
            complete_help(sub);
        }
    }
}

/// Adds to `copy` (a node of a `help` subtree) the nested commands of `real` it lacks.
fn add_missing(copy: &mut Command, real: &Command) {
    for sub in real.get_subcommands().filter(|s| s.get_name() != "help") {
        if copy.find_subcommand(sub.get_name()).is_none() {
            let bin_name = format!(
                "{} {}",
                copy.get_bin_name().unwrap_or("kura"),
                sub.get_name()
            );
            let mut node = Command::new(sub.get_name().to_string())
                .bin_name(bin_name)
                .hide(sub.is_hide_set())
                .disable_help_flag(true)
                .disable_version_flag(true)
                .disable_help_subcommand(true);
            if let Some(about) = sub.get_about() {
                node = node.about(about.clone());
            }
            *copy = std::mem::take(copy).subcommand(node);
        }
        if let Some(child) = copy.find_subcommand_mut(sub.get_name()) {
            add_missing(child, sub);
        }
    }
}
