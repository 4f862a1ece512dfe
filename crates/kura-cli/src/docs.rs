//! The command line described in the manual, checked by tests: the references generated from
//! the clap definitions and the configuration (`reference`), and the commands held to the
//! service's declared operations. `kura completions` and `kura manpages`, generated from the same
//! definitions, are in `commands/`.

// The manual's CLI and configuration references, generated and checked by a test.
mod reference;

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Commands that are not operations of the vault: the command line's own (completions,
    /// manual pages), the desktop app's (start at login, its logs), and the other doors, which
    /// serve the operations rather than carry one out; and the hidden step a command starts in
    /// the background to remove the folders it discarded or repack the histories it grew.
    const NOT_OPERATIONS: &[&str] = &[
        "purge-discarded",
        "repack-due",
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
        // `help` and the copy of the tree under it are clap's, not commands.
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
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
        // The subcommands' own arguments and subcommands are deferred until built.
        let mut root = crate::Cli::command();
        root.build();
        paths(&root, "", &mut all);
        assert!(all.len() > 50, "no commands found");
        for (path, leaf) in &all {
            if !leaf {
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
