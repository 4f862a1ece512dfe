//! Every operation of the service, declared once: its name, what it does to the vault, whether
//! it runs long (an [`Operation`](crate::Operation) with progress), what it announces in the
//! event log, and where each door has it. An operation the window has is declared with its call,
//! in [`crate::for_each_call!`] (the call is its desktop command); the few it does not have are
//! declared here (`NOT_CALLS`). [`OPERATIONS`] holds them all.
//!
//! The name is the HTTP door's `operationId` in snake case (`archive_project` is
//! `archiveProject`); the other doors name what they call it, or say why they do not have it.
//! Each door has a test that reads its own surface (the OpenAPI document, the MCP tool list, the
//! desktop shell's generated bindings, the CLI's commands) and checks it against this list: an
//! operation a door lacks without a reason, a door name no operation claims, or a door that
//! disagrees about the effect or the length fails. The MCP door refuses and hides tools by the
//! [`Effect`] declared here. What each change announces ([`Announces`]) is checked by running
//! every one through the service, the one way a door can change the vault.

pub use crate::declare::{Access, Announcement, Announces, Declared, Door, Effect};

use crate::declare::{op, AGENT_OPS, BROWSER, HTTP_ONLY_OPS, HTTP_STREAM, SESSION};
use crate::VaultChange;
use Announcement::{Records, Share, Vault};
use Effect::{Destroys, Reads, Writes};

/// Every operation of the service: those of the calls, in their order (each call declares the
/// operations it carries out, in [`crate::for_each_call!`]), then the ones no call declares
/// (`NOT_CALLS`).
pub static OPERATIONS: &[Declared] = &ALL;

static ALL: [Declared; count(crate::calls::DECLARED) + NOT_CALLS.len()] =
    join(crate::calls::DECLARED, NOT_CALLS);

/// Operations in all the calls' declarations.
const fn count(calls: &[&[Declared]]) -> usize {
    let (mut n, mut i) = (0, 0);
    while i < calls.len() {
        n += calls[i].len();
        i += 1;
    }
    n
}

/// The calls' operations, then `more`, in one list.
const fn join<const N: usize>(calls: &[&[Declared]], more: &[Declared]) -> [Declared; N] {
    let mut all = [more[0]; N];
    let (mut n, mut i) = (0, 0);
    while i < calls.len() {
        let mut j = 0;
        while j < calls[i].len() {
            all[n] = calls[i][j];
            n += 1;
            j += 1;
        }
        i += 1;
    }
    let mut j = 0;
    while j < more.len() {
        all[n] = more[j];
        n += 1;
        j += 1;
    }
    all
}

/// The operations the window does not have, so that no call declares them: what a door serves
/// of itself (the HTTP door's probe, description, operations, event stream and browser
/// sessions), what takes or gives a file's bytes as a stream, and what only the CLI, the HTTP
/// door and MCP do. Each door that has one calls the service for it itself.
const NOT_CALLS: &[Declared] = &[
    // The vault.
    op("get_health", Reads)
        .no_desktop("a probe that `kura serve` answers; the window is the process")
        .no_mcp("a probe that `kura serve` answers; an MCP server answers `ping`")
        .no_cli("a probe that `kura serve` answers; `kura status` opens the vault"),
    op("get_open_api", Reads)
        .no_desktop("the HTTP door's own description")
        .no_mcp("the HTTP door's own description; MCP lists its tools")
        .no_cli("the HTTP door's own description (`docs/api/openapi.json`)"),
    // Projects.
    op("download_project_export", Reads)
        .no_desktop("the window exports to a folder (`export_project`)")
        .no_mcp("an agent reads files with `read_file`")
        .no_cli("the CLI exports to a folder (`kura project export`)"),
    // Files.
    op("read_file", Reads)
        .no_desktop("the window previews files (`preview_file`) and opens them in their app")
        .mcp(&["read_file"])
        .cli(&["file read"]),
    op("save_file", Writes)
        .announces(&[Vault(VaultChange::Files)])
        .no_desktop("files come into the window by drag and drop (`upload_files`) or are edited in their app")
        .mcp(&["save_file"])
        .cli(&["file save"]),
    op("delete_file", Destroys)
        .announces(&[Vault(VaultChange::Files)])
        .no_desktop("files are deleted in the project's folder, in the person's file manager")
        .mcp(&["delete_file"])
        .cli(&["file delete"]),
    op("rename_file", Writes)
        .announces(&[Vault(VaultChange::Files)])
        .no_desktop("files are renamed in the project's folder, in the person's file manager")
        .mcp(&["rename_file"])
        .cli(&["file rename"]),
    // Versions.
    op("push_history", Reads)
        .no_http("it needs the person's git credentials on their own computer")
        .no_desktop("it needs the person's git credentials; a terminal has them")
        .no_mcp("it needs the person's git credentials")
        .cli(&["git push"]),
    // Archives.
    op("upload_archive", Writes)
        .announces(&[Vault(VaultChange::Created)])
        .long()
        .no_desktop("the window imports an archive file from its path (`import_archive`)")
        .no_mcp("it takes an archive file's bytes; an agent has no file to send")
        .no_cli("the CLI imports an archive file from its path (`kura import`)"),
    // Records, per project and for the vault.
    // A batch may delete records; a door that does not allow destroying refuses those batches.
    op("batch_project_records", Writes)
        .announces(&[Records])
        .no_desktop("the window writes records one at a time")
        .mcp(&["batch_records"])
        .cli(&["record batch"]),
    op("batch_vault_records", Writes)
        .announces(&[Records])
        .no_desktop("the window writes records one at a time")
        .mcp(&["batch_records"])
        .cli(&["record batch"]),
    op("drop_project_collection", Destroys)
        .announces(&[Records])
        .no_desktop("dropping a whole collection is left to the CLI and the API, where it is typed out")
        .no_mcp("dropping a whole collection is the person's")
        .cli(&["record drop"]),
    op("drop_vault_collection", Destroys)
        .announces(&[Records])
        .no_desktop("dropping a whole collection is left to the CLI and the API, where it is typed out")
        .no_mcp("dropping a whole collection is the person's")
        .cli(&["record drop"]),
    // Shared links.
    op("prune_shares", Writes)
        .announces(&[Share])
        .no_desktop("expired links are pruned by the cleanup; the window lists only live ones")
        .mcp(&["prune_shares"])
        .cli(&["share prune"]),
    // Long operations and events.
    op("list_operations", Reads)
        .no_desktop(HTTP_ONLY_OPS)
        .no_mcp(AGENT_OPS)
        .no_cli(HTTP_ONLY_OPS),
    op("get_operation", Reads)
        .no_desktop(HTTP_ONLY_OPS)
        .no_mcp(AGENT_OPS)
        .no_cli(HTTP_ONLY_OPS),
    op("stream_events", Reads)
        .no_desktop(HTTP_STREAM)
        .no_mcp("an MCP tool call answers what it changed")
        .no_cli("the CLI prints what it did; `kura serve` streams the events"),
    // Browser sessions.
    op("get_session", Reads)
        .no_desktop(BROWSER)
        .no_mcp(BROWSER)
        .no_cli(BROWSER),
    op("sign_in", Writes)
        .quiet(SESSION)
        .no_desktop(BROWSER)
        .no_mcp(BROWSER)
        .no_cli(BROWSER),
    op("get_caller", Reads)
        .no_desktop("the window is its person's, who may do everything")
        .no_mcp("an agent is shown only the tools it may call")
        .no_cli("the CLI opens the vault itself; it is no caller of `kura serve`"),
    op("create_sign_in_link", Writes)
        .admin_only("a link signs a browser in with any scope, an admin's too")
        .quiet(SESSION)
        .no_desktop(BROWSER)
        .no_mcp(BROWSER)
        .cli(&["serve link"]),
];

/// The operation called `name`.
pub fn declared(name: &str) -> Option<&'static Declared> {
    OPERATIONS.iter().find(|d| d.name == name)
}

/// The operations an MCP tool carries out, by the tool's name.
pub fn of_tool(tool: &str) -> impl Iterator<Item = &'static Declared> + '_ {
    OPERATIONS
        .iter()
        .filter(move |d| d.mcp.names().contains(&tool))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_declared_once_and_every_door_is_said() {
        let mut seen = std::collections::BTreeSet::new();
        for d in OPERATIONS {
            assert!(seen.insert(d.name), "{} is declared twice", d.name);
            assert!(
                d.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{} is not snake case",
                d.name
            );
            for (door, said) in [
                ("http", d.http),
                ("desktop", d.desktop),
                ("mcp", d.mcp),
                ("cli", d.cli),
            ] {
                match said {
                    Door::Unsaid => panic!("{}: say whether the {door} door has it", d.name),
                    Door::At(names) if door != "http" && names.is_empty() => {
                        panic!("{}: the {door} door names no command for it", d.name)
                    }
                    Door::Not(why) => assert!(!why.is_empty(), "{}: say why not", d.name),
                    Door::At(_) => {}
                }
            }
        }
        assert_eq!(
            declared("archive_project").unwrap().operation_id(),
            "archiveProject"
        );
        assert_eq!(of_tool("history").next().unwrap().name, "list_versions");
    }

    /// What a caller needs follows from the effect, raised for setup and upkeep; what is the
    /// admin's over HTTP is not an agent's tool (MCP refuses by effect, so it would be a way
    /// around it); a dry run is only declared where there is something to destroy.
    #[test]
    fn access_follows_the_effect_and_admin_work_is_no_agent_tool() {
        for d in OPERATIONS {
            let by_effect = match d.effect {
                Effect::Reads => Access::Read,
                Effect::Writes => Access::Write,
                Effect::Destroys => Access::Admin,
            };
            match d.admin_only {
                Some(why) => {
                    assert_eq!(d.access(), Access::Admin, "{}", d.name);
                    assert!(!why.is_empty(), "{}: say why it is the admin's", d.name);
                    assert!(
                        matches!(d.mcp, Door::Not(_)),
                        "{} is the admin's over HTTP but an MCP tool",
                        d.name
                    );
                }
                None => assert_eq!(d.access(), by_effect, "{}", d.name),
            }
            if d.dry_run {
                assert_eq!(d.effect, Effect::Destroys, "{}: a dry run of what", d.name);
                assert_eq!(d.dry_run_access(), Access::Write, "{}", d.name);
            } else {
                assert_eq!(d.dry_run_access(), d.access(), "{}", d.name);
            }
        }
        let restore = declared("restore_project").unwrap();
        assert_eq!(restore.access(), Access::Admin);
        assert_eq!(declared("set_config").unwrap().access(), Access::Admin);
        assert_eq!(
            declared("snapshot_project").unwrap().access(),
            Access::Write
        );
        assert_eq!(declared("list_projects").unwrap().access(), Access::Read);
    }
}

#[cfg(test)]
mod announced;
