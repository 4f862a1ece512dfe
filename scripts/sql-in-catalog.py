#!/usr/bin/env python3
"""Fails when the engine speaks SQL outside its catalog room.

All of kura-core's SQL lives in `crates/kura-core/src/catalog/` (one file a table or two); the
other rooms call its functions. This finds SQL elsewhere in `crates/kura-core/src`: a string
literal that starts with an SQL statement's keyword, or a call of rusqlite's statement methods
(`execute`, `execute_batch`, `prepare`, `prepare_cached`, `query_row`). Test modules
(`#[cfg(test)] mod ...` to the end of a file) are left out.

Usage: python3 scripts/sql-in-catalog.py
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "crates/kura-core/src"
CATALOG = SRC / "catalog"

STATEMENT = re.compile(r'"\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|ALTER|DROP|PRAGMA|WITH)\s')
CALL = re.compile(r"\.(execute|execute_batch|prepare|prepare_cached|query_row)\(")
TESTS = re.compile(r"^\s*#\[cfg\(test\)\]\s*$")


def main() -> int:
    found = []
    for path in sorted(SRC.rglob("*.rs")):
        if CATALOG in path.parents:
            continue
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, 1):
            if TESTS.match(line):
                break
            code = line.split("//", 1)[0]
            if STATEMENT.search(code) or CALL.search(code):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    if found:
        print("SQL outside crates/kura-core/src/catalog/ (move it into a function there):")
        print("\n".join(found))
        return 1
    print("sql-in-catalog: all of the engine's SQL is in crates/kura-core/src/catalog/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
