#!/usr/bin/env python3
"""Every door reaches an operation the window has through its one declared call.

The list of calls (`for_each_call!` in crates/kura-api/src/calls.rs) declares, for each call,
the operations it carries out and each door's names for them. The desktop shell's commands are
written from that list; the other doors are written by hand over the service functions it
makes (`kura_api::calls::NAME`). This check holds them to that, so that no door answers a
declared operation by calling the engine or the service some other way:
- the HTTP door (unless the declaration says `.no_http`): a call whose entry says where it is on
  HTTP (`http(...)`) has its route written from the entry (`routes/calls.rs`), which calls
  `calls::NAME` by construction; for the others, the handler of each of the call's operations
  (the function under `#[utoipa::path(... operation_id = ...)]`, or a function of its file that
  it calls) calls `calls::NAME`, and no hand-written handler answers a generated one's operation;
- MCP: a call whose entry says `mcp("tool", ...)` is that tool, written from the entry
  (`tools/calls.rs`) and calling `calls::NAME` by construction, and no hand-written tool has
  its name; when the declaration names tools with `.mcp`, each of those tools' functions calls
  it;
- the CLI (when the declaration names commands with `.cli`): its commands call it somewhere.
What a door does on its own around the call (a server path checked, a default filled in) stays
in the door.

    python3 scripts/doors-call-the-service.py
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CALLS = ROOT / "crates/kura-api/src/calls.rs"
DOORS = {
    "http": ROOT / "crates/kura-server/src/routes",
    "mcp": ROOT / "crates/kura-mcp/src/tools",
    "cli": ROOT / "crates/kura-cli/src/commands",
}


# Where a door answers a declared operation otherwise, and why.
OTHERWISE = {
    ("http", "cancel_operation"): "it answers the operation as it is now (or at its end, with ?wait=true); the call answers nothing",
    ("http", "run_backup"): "it answers the operation it started (202); the call starts the run and answers at once",
    ("mcp", "run_backup"): "the tool waits for the run and answers it, one target or every target; the call starts it and answers at once",
    ("mcp", "get_status"): "`status` answers the vault's folder, its workspace and its statistics, more than the app's info",
    ("mcp", "get_project"): "an agent looking at a project is not the person opening it, which `get_project` records",
    ("cli", "get_status"): "`kura status` prints the vault's folder, its workspace and its statistics, more than the app's info",
    ("cli", "get_project"): "looking a project up in a terminal is not opening it, which `get_project` records",
    ("cli", "run_backup"): "`kura backup run` waits for the run and prints it, one target or every target; the call starts it and answers at once",
    ("cli", "snapshot_project"): "`kura snapshot` names the version's trigger (`--trigger`), which the call takes from the door",
    ("cli", "snapshot_changed_projects"): "`kura snapshot --all` names the versions' trigger (`--trigger`), which the call takes from the door",
    ("cli", "update_backup_target"): "`kura backup schedule` and `retention` change one setting of the target as it is then; the call takes all of them",
    ("cli", "list_cleanup_runs"): "`kura cleanup history --limit N` shows as many runs as asked; the call shows the last 50",
    # A path on the command line need not be text (UTF-8); the calls take text, as JSON carries it.
    ("cli", "import_folder"): "the folder's path is the engine's as given, which need not be text",
    ("cli", "export_project"): "the destination's path is the engine's as given, which need not be text",
    ("cli", "extract_archive"): "the destination's path is the engine's as given, which need not be text",
    ("cli", "import_archive"): "the archive's path is the engine's as given, which need not be text",
    ("cli", "restore_backup"): "the destination's path is the engine's as given, which need not be text",
    # One operation of a call that serves several.
    ("http", "list_project_records"): "a page by key, with the store's own listing and its cursor; the window lists with `record_query`",
    ("http", "list_vault_records"): "a page by key, with the store's own listing and its cursor; the window lists with `record_query`",
}


def entries(text: str):
    """(name, declaration) of each call of the list."""
    body = text[text.index("macro_rules! for_each_call") :]
    body = body[: body.index("\n}\n")]
    starts = [(m.start(), m.group(1)) for m in re.finditer(r"^            fn (\w+)\(", body, re.M)]
    for i, (at, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(body)
        yield name, body[at:end]


def operations(name: str, decl: str):
    """The operations a call declares: named in its declaration, else the call's own name."""
    named = re.findall(r'\.named\("(\w+)"\)', decl)
    return named or [name]


def functions(text: str):
    """Each function of a file (at any indent), by name: (its attributes and head, its body)."""
    found = {}
    for m in re.finditer(r"^( *)(?:pub(?:\([^)]*\))? )?(?:async )?fn (\w+)", text, re.M):
        indent, name = m.group(1), m.group(2)
        end = re.compile(rf"^{indent}\}}", re.M).search(text, m.end())
        start = text.rfind("\n\n", 0, m.start())
        found[name] = (text[start if start >= 0 else 0 : m.start()], text[m.start() : end.end() if end else len(text)])
    return found


def snake(camel: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel)


def handlers(folder: pathlib.Path):
    """What each HTTP operation's handler calls: operation name -> its body and the bodies of the
    functions of its file it calls."""
    out = {}
    for path in sorted(folder.rglob("*.rs")):
        fns = functions(path.read_text())
        for name, (head, body) in fns.items():
            m = re.search(r'operation_id = "(\w+)"', head)
            if not m:
                continue
            reach = [body] + [fns[f][1] for f in fns if f != name and re.search(rf"\b{f}\(", body)]
            out[snake(m.group(1))] = "\n".join(reach)
    return out


def tools(folder: pathlib.Path):
    """Each MCP tool's function body, by the tool's name."""
    out = {}
    for path in sorted(folder.rglob("*.rs")):
        for name, (head, body) in functions(path.read_text()).items():
            if "#[tool(" in head:
                out[name] = body
    return out


def door_text(folder: pathlib.Path) -> str:
    return "\n".join(p.read_text() for p in sorted(folder.rglob("*.rs")))


def main() -> int:
    text = CALLS.read_text()
    found = list(entries(text))
    if len(found) < 50:
        print(f"found only {len(found)} calls in {CALLS}; has the list moved?")
        return 1
    doors = {door: door_text(folder) for door, folder in DOORS.items()}
    by_operation = handlers(DOORS["http"])
    by_tool = tools(DOORS["mcp"])
    if len(by_operation) < 20 or len(by_tool) < 10:
        print(f"found {len(by_operation)} HTTP handlers and {len(by_tool)} MCP tools; have they moved?")
        return 1
    missing = []
    generated = 0
    generated_tools = 0
    uses = lambda code, name: re.search(rf"\bcalls::{name}\b", code)
    for name, decl in found:
        # The HTTP door: written from the entry, or each operation's own handler.
        if re.search(r"^\s*http\(", decl, re.M):
            if name in by_operation:
                missing.append(f"http: `{name}` has a hand-written handler beside the route written from its entry")
            generated += 1
        elif ".no_http(" not in decl and ("http", name) not in OTHERWISE:
            for op in operations(name, decl):
                if ("http", op) in OTHERWISE:
                    if op in by_operation and uses(by_operation[op], name):
                        missing.append(f"http: the handler of `{op}` calls `calls::{name}` now; drop it from OTHERWISE")
                    continue
                if op not in by_operation:
                    missing.append(f"http: no handler has the operationId of `{op}` (declared by `{name}`)")
                elif not uses(by_operation[op], name):
                    missing.append(f"http: the handler of `{op}` does not call `calls::{name}`")
        # MCP: a tool written from the entry (`mcp("tool", ...)`), or each tool the declaration
        # names, written by hand.
        clause = re.search(r'^\s*mcp\(\s*"(\w+)"', decl, re.M)
        if clause:
            generated_tools += 1
            if clause.group(1) in by_tool:
                missing.append(f"mcp: `{clause.group(1)}` is written by hand beside the tool written from `{name}`")
        elif ("mcp", name) not in OTHERWISE:
            named = re.search(r"\.mcp\(&\[([^\]]*)\]\)", decl)
            for tool in sorted(set(re.findall(r'"(\w+)"', named.group(1)))) if named else []:
                if tool not in by_tool:
                    missing.append(f"mcp: no tool `{tool}` (declared by `{name}`)")
                elif not uses(by_tool[tool], name):
                    missing.append(f"mcp: the tool `{tool}` does not call `calls::{name}`")
        # The CLI: somewhere in its commands (a command line does not name a function).
        if ".cli(" in decl and ("cli", name) not in OTHERWISE and not uses(doors["cli"], name):
            missing.append(f"cli: `{name}` is declared there but no command calls `calls::{name}`")
        # A reason that no longer holds.
        for door in DOORS:
            if (door, name) in OTHERWISE and uses(doors[door], name):
                missing.append(f"{door}: `{name}` calls the service function now; drop it from OTHERWISE")
    for line in missing:
        print(line)
    if missing:
        print(f"{len(missing)} door(s) reach a declared operation some other way; call the service function")
        return 1
    print(
        f"every door reaches the {len(found)} declared calls through their service functions "
        f"({generated} HTTP routes written from their entries, {len(by_operation)} hand-written "
        f"handlers, {generated_tools} MCP tools written from their entries and {len(by_tool)} "
        f"written by hand read)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
