#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a circle.

A module is a file (`src/a.rs`, `src/a/mod.rs`, `src/a/b.rs`). Module A imports module B when A
names a path into B: `use crate::b::X`, `crate::b::f()`, `use super::b::X`, `pub use b::X` in a
parent. A child naming its own parent or an ancestor (`super::X`) is not counted: a folder
module and its files are one room. Test modules (`#[cfg(test)] mod ...` to the end of a file) and
test crates (`tests/`) are left out. Every crate of the workspace is read (`crates/*`,
`src-tauri`).

Usage: python3 scripts/module-cycles.py [--allow CRATE]...
  --allow CRATE  report that crate's circles without failing (a known circle being taken apart)
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


ROOTS = ("lib.rs", "main.rs")


def crates():
    for manifest in sorted(ROOT.glob("crates/*/Cargo.toml")):
        yield manifest.parent.name, manifest.parent / "src"
    # The desktop shell: its sources sit in src-tauri/ (its manifest is the workspace root's).
    yield "kura-desktop", ROOT / "src-tauri"


def module_of(src: Path, file: Path):
    """The module path of a source file: () for the crate root."""
    rel = file.relative_to(src)
    parts = list(rel.parts)
    if len(parts) == 1 and parts[0] in ROOTS:
        return ()
    if parts[-1] == "mod.rs":
        parts = parts[:-1]
    else:
        parts[-1] = parts[-1][:-3]
    return tuple(parts)


def strip(text: str) -> str:
    """The code without comments, strings, and test modules at the end of the file."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    cut = re.search(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", text)
    return text[: cut.start()] if cut else text


def use_paths(tree: str):
    """Every full path of a `use` tree: `a::{b::C, d}` gives a::b::C and a::d."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, part):
        depth, start, items = 0, 0, []
        brace = part.find("{")
        if brace < 0:
            out.append(prefix + part)
            return
        head, body = part[:brace], part[brace + 1 : part.rfind("}")]
        for i, c in enumerate(body):
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            elif c == "," and depth == 0:
                items.append(body[start:i])
                start = i + 1
        items.append(body[start:])
        for item in items:
            if item:
                walk(prefix + head, item)

    walk("", tree)
    return out


def imports(text: str, module):
    """The module paths (absolute, as tuples of names) a file's code names."""
    paths = []
    for tree in re.findall(r"\buse\s+([^;]+);", text):
        paths.extend(use_paths(tree))
    paths.extend(re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", text))
    # `mod a;` in a folder module plus `use a::X` / `a::f()` at its root: relative to the module.
    out = []
    for path in paths:
        names = [n for n in path.split("::") if n]
        if not names:
            continue
        if names[0] == "crate":
            out.append(tuple(names[1:]))
        elif names[0] in ("super", "self"):
            base = list(module)
            while names and names[0] in ("super", "self"):
                if names[0] == "super" and base:
                    base.pop()
                names = names[1:]
            out.append(tuple(base + names))
        else:
            out.append(tuple(list(module) + names))
    return out


def circles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main():
    allowed = set()
    args = sys.argv[1:]
    while args:
        if args[0] == "--allow" and len(args) > 1:
            allowed.add(args[1])
            args = args[2:]
        else:
            sys.exit(__doc__)
    failed, tolerated = False, set()
    for crate, src in crates():
        files = {module_of(src, f): f for f in src.rglob("*.rs") if f.name != "build.rs"}
        graph = {m: set() for m in files}
        for module, file in files.items():
            for path in imports(strip(file.read_text()), module):
                # The longest prefix of the path that is a module of this crate.
                target = next((path[:n] for n in range(len(path), 0, -1) if path[:n] in files), None)
                if target is None or target == module:
                    continue
                if module[: len(target)] == target:
                    continue  # a child naming an ancestor: one room
                graph[module].add(target)
        for circle in circles(graph):
            names = ", ".join(str(files[m].relative_to(ROOT)) for m in circle)
            ties = [
                f"    {files[a].relative_to(ROOT)} -> {files[b].relative_to(ROOT)}"
                for a in circle
                for b in sorted(graph[a])
                if b in circle
            ]
            verdict = "allowed for now" if crate in allowed else "not allowed"
            print(f"{crate}: modules import each other in a circle ({verdict}): {names}")
            print("\n".join(ties))
            failed |= crate not in allowed
            if crate in allowed:
                tolerated.add(crate)
    if failed:
        print("module-cycles: break each circle above (move what both sides need into a module both import)", file=sys.stderr)
        sys.exit(1)
    if tolerated:
        print(f"module-cycles: no circle between the modules of a crate but {', '.join(sorted(tolerated))} (reported above)")
    else:
        print("module-cycles: no circle between the modules of a crate")


if __name__ == "__main__":
    main()
