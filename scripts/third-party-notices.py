#!/usr/bin/env python3
"""Writes the notices of the third-party code Kura's packages ship: every crate built into
`kura` and `kura-desktop` (from `cargo metadata`), the C libraries those crates build in from
their own sources (libgit2, SQLite, zstd, libdeflate, ISA-L, ring's cryptography, zlib-ng, libdbus), and the npm
packages bundled into the web interface (the list `vite build ui`
writes to target/ui-packages.json).

    python3 scripts/third-party-notices.py OUT

Each component is listed with its version, license and source, then every license text, each
once, after the names of the components it covers. The texts are the files each component
ships (LICENSE*, COPYING*, NOTICE*, ...); for the few crates that ship none, the standard text
of their license, with their authors as the copyright holders. Fails, naming the component,
when one has neither, so that a new dependency cannot go out without its notice.
"""
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARIES = ("kura-cli", "kura-desktop")
LICENSE_FILE = re.compile(r"(?i)^(licen[cs]e|copying|notice|unlicense|copyright)([-._].*)?$")

# C libraries built from sources a crate carries, and where their license texts are in it (a
# crate listed here that the binaries do not build in adds nothing).
VENDORED = {
    "libgit2-sys": [("libgit2", "libgit2/COPYING")],  # also the notices of what libgit2 bundles
    "libsqlite3-sys": [("SQLite", None)],
    "zstd-sys": [("Zstandard", "zstd/LICENSE")],
    "libdeflate-sys": [("libdeflate", "libdeflate/COPYING")],
    "ring": [("fiat-crypto, in ring", "third_party/fiat/LICENSE")],
    "openssl-src": [("OpenSSL", "openssl/LICENSE.txt")],
    "libssh2-sys": [("libssh2", "libssh2/COPYING")],
    "libz-sys": [("zlib-ng", "src/zlib-ng/LICENSE.md")],
    "libdbus-sys": [("libdbus", "vendor/dbus/COPYING")],
    "isal-sys": [("ISA-L (Intel Intelligent Storage Acceleration Library)", "isa-l/LICENSE")],
}

SQLITE_NOTICE = """SQLite is in the public domain. From the source of SQLite:

The author disclaims copyright to this source code.  In place of
a legal notice, here is a blessing:

   May you do good and not evil.
   May you find forgiveness for yourself and forgive others.
   May you share freely, never taking more than you give.
"""

MIT = """Copyright (c) {holders}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

BSD_3 = """Copyright (c) {holders}

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.
3. Neither the name of the copyright holder nor the names of its contributors
   may be used to endorse or promote products derived from this software
   without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND
ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""


def standard_text(spdx: str, holders: str):
    """The standard text of one SPDX license, or None when this script has none."""
    if spdx == "MIT":
        return MIT.format(holders=holders)
    if spdx == "BSD-3-Clause":
        return BSD_3.format(holders=holders)
    if spdx == "Apache-2.0":
        return (ROOT / "LICENSE-APACHE").read_text()
    if spdx == "MPL-2.0":
        path = Path("/usr/share/common-licenses/MPL-2.0")
        return path.read_text() if path.exists() else None
    return None


def shipped_texts(folder: Path):
    """(file name, text) of the license files at the top of a package's folder."""
    out = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and LICENSE_FILE.match(path.name):
            out.append((path.name, path.read_text(errors="replace")))
    return out


def crates():
    """The third-party crates built into the binaries: what `cargo tree` lists for their
    normal and build dependencies on this platform (it resolves the features each binary turns
    on, where `cargo metadata` unifies those of every workspace member, tests included)."""
    tree = subprocess.run(
        ["cargo", "tree", "--locked", "-e", "normal,build", "--prefix", "none",
         "--target", "x86_64-unknown-linux-gnu", "--format", "{p}",
         *[arg for name in BINARIES for arg in ("-p", name)]],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout
    built = {(line.split()[0], line.split()[1][1:]) for line in tree.splitlines() if len(line.split()) >= 2}
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked",
         "--filter-platform", "x86_64-unknown-linux-gnu"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    ours = set(meta["workspace_members"])
    out = [p for p in meta["packages"] if (p["name"], p["version"]) in built and p["id"] not in ours]
    if len(out) + sum(1 for p in meta["packages"] if p["id"] in ours and (p["name"], p["version"]) in built) != len(built):
        sys.exit("third-party-notices: cargo tree names a crate cargo metadata does not have")
    return sorted(out, key=lambda p: (p["name"], p["version"]))


def npm_packages():
    """The npm packages whose code `vite build ui` bundled (written by ui/vite.config.ts)."""
    listing = ROOT / "target" / "ui-packages.json"
    if not listing.exists():
        sys.exit("third-party-notices: target/ui-packages.json is missing; run `npm run build` first")
    out = []
    for name in json.loads(listing.read_text()):
        folder = ROOT / "node_modules" / name
        manifest = json.loads((folder / "package.json").read_text())
        lic = manifest.get("license")
        if isinstance(lic, dict):
            lic = lic.get("type")
        repo = manifest.get("repository")
        if isinstance(repo, dict):
            repo = repo.get("url")
        authors = manifest.get("author")
        if isinstance(authors, dict):
            authors = authors.get("name")
        out.append({"name": name, "version": manifest["version"], "license": lic,
                    "repository": repo or manifest.get("homepage"), "folder": folder,
                    "authors": [authors] if authors else []})
    return out


def spdx_choices(expression: str):
    """The licenses an expression offers, in its order (`A OR B`, `A/B`, `A AND B`...)."""
    return [t for t in re.split(r"[\s()/]+|\bOR\b|\bAND\b|\bWITH\b", expression or "") if t and t not in ("OR", "AND", "WITH")]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    components = []  # (title, license, source, [(file name, text)])
    for p in crates():
        folder = Path(p["manifest_path"]).parent
        texts = shipped_texts(folder)
        if not texts:
            holders = f"the {p['name']} authors" + (f" ({', '.join(p['authors'])})" if p["authors"] else "")
            for spdx in spdx_choices(p["license"]):
                text = standard_text(spdx, holders)
                if text:
                    texts = [(f"{spdx} (the standard text)", text)]
                    break
        if not texts:
            sys.exit(f"third-party-notices: no license text for the crate {p['name']} {p['version']} ({p['license']})")
        lic = p["license"] or "its license text below"
        if texts[0][0].endswith("the standard text)"):
            lic += f" (it ships no license text; the standard text of {texts[0][0].split()[0]} is below)"
        components.append((f"{p['name']} {p['version']} (Rust crate)", lic,
                           p.get("repository") or f"https://crates.io/crates/{p['name']}", texts))
        for library, rel in VENDORED.get(p["name"], []):
            if rel is None:
                texts = [("public domain", SQLITE_NOTICE)]
            else:
                path = folder / rel
                if not path.exists():
                    sys.exit(f"third-party-notices: {p['name']} {p['version']} has no {rel}; update VENDORED")
                texts = [(rel, path.read_text(errors="replace"))]
            components.append((f"{library} (C library, built from the sources in the crate {p['name']} {p['version']})",
                               "public domain" if rel is None else "its license text below", "", texts))
    for p in npm_packages():
        texts = shipped_texts(p["folder"])
        if not texts:
            holders = f"the {p['name']} authors" + (f" ({', '.join(p['authors'])})" if p["authors"] else "")
            texts = [(f"{s} (the standard text)", standard_text(s, holders))
                     for s in spdx_choices(p["license"])[:1] if standard_text(s, holders)]
        if not texts:
            sys.exit(f"third-party-notices: no license text for the npm package {p['name']} {p['version']}")
        lic = p["license"] or "its license text below"
        if texts[0][0].endswith("the standard text)"):
            lic += f" (it ships no license text; the standard text of {texts[0][0].split()[0]} is below)"
        components.append((f"{p['name']} {p['version']} (npm package, in the web interface)",
                           lic, p["repository"] or "", texts))

    # Each text once, after the names of the components it covers.
    by_text = {}
    for title, _, _, texts in components:
        for _, text in texts:
            key = "\n".join(line.rstrip() for line in text.strip("\n").splitlines())
            by_text.setdefault(key, []).append(title)
    version = re.search(r'^version = "(.+)"', (ROOT / "Cargo.toml").read_text(), re.M)
    lines = [
        f"Third-party software in Kura {version.group(1) if version else ''}".rstrip(),
        "",
        "The kura and kura-desktop programs, and the web interface they serve, are built with the",
        f"{len(components)} components below; their license texts follow the list, each text once.",
        "Kura itself is under the MIT or the Apache-2.0 license, at your choice.",
        "",
        "Components",
        "----------",
        "",
    ]
    for title, lic, source, _ in components:
        lines.append(f"{title}: {lic}" + (f"; {source}" if source else ""))
    lines += ["", "License texts", "-------------", ""]
    for n, (text, titles) in enumerate(by_text.items(), 1):
        lines += textwrap.wrap(f"[{n}] The text of the license of: {', '.join(titles)}", 79,
                               break_long_words=False, break_on_hyphens=False)
        lines.append("")
        lines.append(text)
        lines.append("")
        lines.append("=" * 79)
        lines.append("")
    Path(sys.argv[1]).write_text("\n".join(lines))
    print(f"third-party-notices: {len(components)} components, {len(by_text)} license texts -> {sys.argv[1]}")


if __name__ == "__main__":
    main()
