#!/usr/bin/env python3
"""Kura benchmark driver: kura side by side with restic, borg, git and plain copies.

Normally started by bench/run.sh, which installs the tools, builds kura and
makes the scratch directory. Standard library only.

Every tool adapter is a small class below ("TOOL ADAPTERS"); the kura one is
first, one method per CLI invocation, so it is easy to adjust as the CLI grows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import glob
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent

ALL_DATASETS = ["docs", "libs", "incr", "node", "node-up", "big"]
# Data sets of two versions (A, then B): the tools that keep versions snapshot A, then B.
TWO_VERSIONS = {"incr", "node-up"}
# A JavaScript project's dependencies, as `npm install` lays them out in node_modules: real
# packages from the npm registry, resolved as of two dates (`npm install --before`), so that
# version B is a real upgrade of A (what changes between two `npm install`s of one project).
NODE_PACKAGES = [
    "react", "react-dom", "next", "typescript", "eslint", "prettier", "jest", "@babel/core",
    "@babel/preset-env", "webpack", "webpack-cli", "vite", "tailwindcss", "postcss",
    "autoprefixer", "express", "axios", "lodash", "@types/node", "@types/react",
    "@testing-library/react", "sass", "rxjs", "date-fns", "@mui/material", "@mui/icons-material",
    "@emotion/react", "@emotion/styled", "firebase", "three", "core-js",
]
NODE_DATES = ("2025-05-01", "2025-11-01")
ALL_TOOLS = ["kura", "restic", "rustic", "borg-zstd", "borg-lz4", "git", "cp", "tar-zstd"]
# Reference tools do not keep versions: they take part in first snapshot and restore only.
REFERENCE_TOOLS = {"cp", "tar-zstd"}

OP_LABELS = {
    "init": "init / import",
    "first": "first snapshot",
    "first_bg": "  its repack in the background",
    "init_first": "init + first snapshot",
    "again": "unchanged re-snapshot",
    "again_bg": "  its repack in the background",
    "check": "check of the repository (structure)",
    "check_data": "check reading every byte stored",
    "restore": "restore (fresh dir)",
    "incr_replace": "incremental snapshot, tree replaced",
    "incr_replace_bg": "  its repack in the background",
    "incr_mirror": "incremental snapshot, changed files only",
    "incr_mirror_bg": "  its repack in the background",
    "incr_restore": "restore of version B",
}
WRITE_OPS = {"init", "first", "again", "restore", "incr_replace", "incr_mirror", "incr_restore"}


class StepFailed(Exception):
    pass


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Running and timing commands
# --------------------------------------------------------------------------------------


class Runner:
    """Runs commands under /usr/bin/time (peak RSS) and times them with a monotonic clock."""

    def __init__(self, logdir: Path, sync_timing: bool):
        self.logdir = logdir
        self.sync_timing = sync_timing
        self.logdir.mkdir(parents=True, exist_ok=True)

    def run(self, cmd, *, cwd=None, env=None, logname="cmd", ok_codes=(0,), shell=False):
        """Runs cmd; returns (seconds, peak_rss_kb, returncode). Output goes to a log file."""
        rss_file = self.logdir / f"{logname}.rss"
        logfile = self.logdir / f"{logname}.log"
        full_env = os.environ.copy()
        if env:
            full_env.update(env)
        if shell:
            argv = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), "bash", "-o", "pipefail", "-c", cmd]
        else:
            argv = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file)] + [str(a) for a in cmd]
        with open(logfile, "ab") as out:
            out.write(("$ " + (cmd if shell else " ".join(str(a) for a in cmd)) + "\n").encode())
            out.flush()
            t0 = time.monotonic()
            proc = subprocess.run(argv, cwd=cwd, env=full_env, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
            secs = time.monotonic() - t0
        rss = 0
        try:
            # /usr/bin/time writes "Command exited with non-zero status N" before %M on failure.
            lines = [l for l in rss_file.read_text().splitlines() if l.strip()]
            rss = int(lines[-1])
        except (OSError, ValueError, IndexError):
            pass
        if proc.returncode in (-2, 130) or (proc.returncode < 0 and proc.returncode != -9):
            raise KeyboardInterrupt(f"interrupted: {cmd}")
        if proc.returncode not in ok_codes:
            tail = tail_of(logfile)
            raise StepFailed(f"command failed (exit {proc.returncode}): "
                             f"{cmd if shell else ' '.join(str(a) for a in cmd)}\n--- log tail ---\n{tail}")
        return secs, rss, proc.returncode

    def sync(self) -> float:
        t0 = time.monotonic()
        subprocess.run(["sync"], check=True)
        return time.monotonic() - t0


def tail_of(path: Path, n: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


class Step:
    """Accumulates the time and peak RSS of the commands that make up one measured operation."""

    def __init__(self, ctx: "RunContext", op: str):
        self.ctx = ctx
        self.op = op
        self.secs = 0.0
        self.rss_kb = 0
        self.n = 0

    def run(self, cmd, **kw):
        kw.setdefault("logname", f"{self.ctx.tag}-{self.op}")
        kw.setdefault("env", self.ctx.tool_env)
        secs, rss, rc = self.ctx.runner.run(cmd, **kw)
        self.secs += secs
        self.rss_kb = max(self.rss_kb, rss)
        self.n += 1
        return rc

    def output(self) -> str:
        """Log text written by this step (for tools whose output we keep, e.g. kura --json)."""
        return (self.ctx.runner.logdir / f"{self.ctx.tag}-{self.op}.log").read_text(errors="replace")


class RunContext:
    """One tool on one data set in one round: its scratch paths and measured steps."""

    def __init__(self, runner: Runner, workdir: Path, tag: str, tool_env: dict):
        self.runner = runner
        self.tag = tag
        self.work = workdir
        self.data = workdir / "data"          # the fresh copy of the data set (the tracked folder)
        self.repo = workdir / "repo"          # the tool's repository / vault
        self.aux = workdir / "aux"            # caches and config the tool keeps outside its repo
        self.aux.mkdir(parents=True, exist_ok=True)
        self.tool_env = dict(tool_env)
        self.state: dict = {}
        self.steps: dict = {}
        self.extra: dict = {}

    def measure(self, op: str, fn, *args):
        step = Step(self, op)
        result = fn(step, *args)
        if step.n == 0:  # nothing to do for this tool (e.g. init of a plain copy)
            return result, step
        rec = {"s": step.secs, "rss_kb": step.rss_kb, "commands": step.n}
        if self.runner.sync_timing and op in WRITE_OPS:
            rec["sync_s"] = self.runner.sync()
        self.steps[op] = rec
        return result, step


# --------------------------------------------------------------------------------------
# TOOL ADAPTERS
#
# Each adapter: init(step), snapshot(step, label, message), restore(step, target) -> root of the
# restored tree, stored_paths() -> what `du -sb` measures. `step.run([...])` runs and times a command.
# ctx.data is the folder being versioned, ctx.repo the repository/vault (not yet existing).
# --------------------------------------------------------------------------------------


class Tool:
    name = "?"
    fsyncs = False
    keeps_versions = True

    def __init__(self, ctx: RunContext, cfg: dict):
        self.ctx = ctx
        self.cfg = cfg

    def env(self) -> dict:
        return {}

    def init(self, step: Step):
        pass

    def snapshot(self, step: Step, label: str, message: str):
        raise NotImplementedError

    def restore(self, step: Step, target: Path) -> Path:
        raise NotImplementedError

    def check(self, step: Step):
        """Checks the repository's structure (indexes, trees, references) without reading every
        stored byte; a tool without such a level runs nothing."""

    def check_data(self, step: Step):
        """Checks the repository reading and hash-checking every byte it stores."""

    def stored_paths(self):
        return [self.ctx.repo]

    def settle(self, step: Step):
        """Waits for the work the last snapshot left running in the background, so that what is
        stored is measured once it ends and nothing else runs beside the next timed step; a tool
        that leaves nothing running waits for nothing."""

    def after(self, runner: Runner) -> dict:
        """Untimed extra information recorded in the JSON after the run."""
        return {}


class KuraTool(Tool):
    """kura: `status` creates the vault; the first snapshot is `project import --link` (which tracks
    the data folder in place and takes its first version); later ones are `snapshot`."""
    name = "kura"
    fsyncs = True
    project = "bench"

    def _kura(self, *args):
        return [self.cfg["kura_bin"], "--vault", str(self.ctx.repo), *args]

    def init(self, step):
        step.run(self._kura("status"))
        self.imported = False

    def snapshot(self, step, label, message):
        if not getattr(self, "imported", False):
            step.run(self._kura("--json", "project", "import", str(self.ctx.data), "--name", self.project, "--link"))
            self.imported = True
        else:
            step.run(self._kura("snapshot", self.project, "-m", message, "--json"))
        self.ctx.extra.setdefault("snapshot_output", {})[label] = _json_tail(step.output())

    def restore(self, step, target):
        step.run(self._kura("project", "export", self.project, str(target)))
        return target

    def settle(self, step):
        # A version that left the history due a repack (`Vault::repack_due`) started
        # `kura --vault VAULT --quiet repack-due ID` on its own: wait for it, timing the wait and
        # reading the process's peak memory while it runs.
        vault = {str(self.ctx.repo), str(self.ctx.repo.resolve())}
        t0 = time.monotonic()
        seen, peak_kb = False, 0
        while True:
            running = [pid for pid, argv in _processes() if "repack-due" in argv and vault & set(argv)]
            if not running:
                break
            seen = True
            for pid in running:
                peak_kb = max(peak_kb, _peak_rss_kb(pid))
            time.sleep(0.05)
        if seen:
            step.secs = time.monotonic() - t0
            step.rss_kb = peak_kb
            step.n = 1

    def check_data(self, step):
        # `kura verify` reads every git object and every chunk and checks its hash.
        step.run(self._kura("verify"))

    def after(self, runner):
        try:
            out = subprocess.run(self._kura("stats", "--json"), capture_output=True, text=True, timeout=120)
            return {"stats": _json_tail(out.stdout) if out.returncode == 0 else None,
                    "stats_error": out.stderr[-2000:] if out.returncode else None}
        except Exception as e:  # noqa: BLE001 - informational only
            return {"stats_error": str(e)}


def _processes():
    """(pid, argv) of every process this user can see."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
            except OSError:
                continue
            yield int(entry), argv


def _peak_rss_kb(pid: int) -> int:
    """The process's peak resident set so far (VmHWM), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _json_tail(text: str):
    """The last JSON document in a log (the tool's --json output), else the raw tail."""
    text = text.strip()
    for start in [m.start() for m in re.finditer(r"^[\[{]", text, re.M)]:
        try:
            return json.loads(text[start:])
        except ValueError:
            continue
    return text[-2000:]


class ResticTool(Tool):
    name = "restic"
    fsyncs = True

    def env(self):
        return {"RESTIC_PASSWORD": "kura-bench", "RESTIC_CACHE_DIR": str(self.ctx.aux / "cache")}

    def _r(self, *args):
        return ["restic", "-r", str(self.ctx.repo), *args]

    def init(self, step):
        extra = ["--repository-version", "2"] if self.cfg["restic_v2"] else []
        step.run(self._r("init", *extra))

    def snapshot(self, step, label, message):
        comp = ["--compression", "auto"] if self.cfg["restic_compression"] else []
        step.run(self._r(*comp, "backup", "--tag", label, str(self.ctx.data)))

    def restore(self, step, target):
        step.run(self._r("restore", "latest", "--target", str(target)))
        return Path(str(target) + str(self.ctx.data))  # restic restores under the absolute path

    def check(self, step):
        step.run(self._r("check"))

    def check_data(self, step):
        step.run(self._r("check", "--read-data"))


class RusticTool(ResticTool):
    """rustic (the Rust reimplementation of restic; `cargo install rustic-rs`): restic's
    repository format 2 with zstd, so it stores what restic with `--compression auto` stores."""
    name = "rustic"

    def env(self):
        return {"RUSTIC_PASSWORD": "kura-bench", "RUSTIC_CACHE_DIR": str(self.ctx.aux / "cache"),
                "RUSTIC_NO_PROGRESS": "true"}

    def _r(self, *args):
        return [self.cfg["rustic_bin"], "-r", str(self.ctx.repo), *args]

    def init(self, step):
        step.run(self._r("init"))

    def snapshot(self, step, label, message):
        step.run(self._r("backup", "--tag", label, str(self.ctx.data)))

    def restore(self, step, target):
        # The snapshot's folder itself, so the files land in `target`.
        step.run(self._r("restore", f"latest:{self.ctx.data}", str(target)))
        return target


class BorgTool(Tool):
    name = "borg-zstd"
    fsyncs = True
    compression = "zstd,3"

    def env(self):
        return {"BORG_BASE_DIR": str(self.ctx.aux), "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes",
                "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes"}

    def init(self, step):
        step.run(["borg", "init", "-e", "none", str(self.ctx.repo)])

    def snapshot(self, step, label, message):
        # Relative path "data", so that extract recreates target/data.
        step.run(["borg", "create", "--compression", self.compression, f"{self.ctx.repo}::{label}", "data"],
                 cwd=self.ctx.work)
        self.ctx.state["last_archive"] = label

    def restore(self, step, target):
        step.run(["borg", "extract", f"{self.ctx.repo}::{self.ctx.state['last_archive']}"], cwd=target)
        return target / "data"

    def check(self, step):
        # The segments' CRCs and the archives' metadata.
        step.run(["borg", "check", str(self.ctx.repo)])

    def check_data(self, step):
        step.run(["borg", "check", "--verify-data", str(self.ctx.repo)])


class BorgLz4Tool(BorgTool):
    name = "borg-lz4"
    compression = "lz4"


class GitTool(Tool):
    """git with a separate git dir; loose objects (no gc/repack), no fsync (git's default)."""
    name = "git"

    def env(self):
        # gc.auto=0: a commit leaving thousands of loose objects would otherwise start `git gc
        # --auto` in the background, which packs them while the stored size is measured.
        return {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
                "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "gc.auto", "GIT_CONFIG_VALUE_0": "0",
                "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
                "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}

    def _g(self, *args, work=None):
        return ["git", f"--git-dir={self.ctx.repo}", f"--work-tree={work or self.ctx.data}", *args]

    def init(self, step):
        step.run(["git", "init", "-q", "--bare", str(self.ctx.repo)])

    def snapshot(self, step, label, message):
        step.run(self._g("add", "-A"))
        # exit 0: index equals HEAD (nothing to commit); 1: changes staged.
        rc = step.run(self._g("diff", "--cached", "--quiet"), ok_codes=(0, 1))
        if rc == 1 or not self.ctx.state.get("has_commit"):
            step.run(self._g("commit", "-q", "--allow-empty", "-m", message))
            self.ctx.state["has_commit"] = True
        self.ctx.extra.setdefault("committed", {})[label] = rc == 1 or label == "first"

    def restore(self, step, target):
        step.run(self._g("checkout", "-f", "HEAD", "--", ".", work=target))
        return target

    def check(self, step):
        step.run(["git", f"--git-dir={self.ctx.repo}", "fsck", "--connectivity-only", "--no-dangling"])

    def check_data(self, step):
        # Reads every object and checks its hash.
        step.run(["git", f"--git-dir={self.ctx.repo}", "fsck", "--full", "--no-dangling"])


class CopyTool(Tool):
    """Reference: a plain `cp -a` of the tree, and `cp -a` back for the restore."""
    name = "cp"
    keeps_versions = False

    def snapshot(self, step, label, message):
        self.ctx.repo.mkdir(parents=True, exist_ok=True)
        step.run(["cp", "-a", str(self.ctx.data), str(self.ctx.repo / "copy")])

    def restore(self, step, target):
        step.run(["cp", "-a", str(self.ctx.repo / "copy"), str(target / "copy")])
        return target / "copy"


class TarZstdTool(Tool):
    """Reference: `tar | zstd -3 -T0` into one file, and back. On the sets of two versions each
    version is one GNU incremental tar (`--listed-incremental`: the files whose mtime, ctime or
    inode changed, and each folder's list of names), and a restore extracts them in order, as
    one would restore such a series; the stored size is the sum of the increments. It keeps no
    versions otherwise: no unchanged re-snapshot, no checks."""
    name = "tar-zstd"
    keeps_versions = False
    # Not "replace": a tree copied in anew gets inodes just freed by the old one, GNU tar takes
    # folders for renamed ones, and extracting the increments then fails ("Cannot rename ...:
    # Directory not empty").
    incremental = ("mirror",)

    def snapshot(self, step, label, message):
        self.ctx.repo.mkdir(parents=True, exist_ok=True)
        self.increments = getattr(self, "increments", []) + [f"{label}.tar.zst"]
        step.run(f"tar --listed-incremental='{self.ctx.work}/tar.snar' -C '{self.ctx.work}' -cf - data"
                 f" | zstd -q -3 -T0 > '{self.ctx.repo}/{self.increments[-1]}'", shell=True)

    def restore(self, step, target):
        # `--listed-incremental=/dev/null` on extraction: each increment also removes what its
        # version no longer had.
        step.run(" && ".join(f"zstd -q -dc '{self.ctx.repo}/{a}' | tar --listed-incremental=/dev/null"
                             f" -C '{target}' -xf -" for a in self.increments), shell=True)
        return target / "data"


def versions_of(tool, mode: str | None = None) -> bool:
    """Whether the tool takes part in the sets of two versions (in `mode`, if given): it keeps
    versions, or stores each as an increment over the one before."""
    if tool.keeps_versions:
        return True
    modes = getattr(tool, "incremental", ())
    return bool(modes) and (mode is None or mode in modes)


TOOL_CLASSES = {c.name: c for c in [KuraTool, ResticTool, RusticTool, BorgTool, BorgLz4Tool, GitTool, CopyTool,
                                    TarZstdTool]}


# --------------------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------------------


def tree_stats(root: Path):
    """(files, bytes) of regular files under root (symlinks counted as files, size 0)."""
    files = 0
    size = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for f in filenames:
            p = os.path.join(dirpath, f)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            files += 1
            if not os.path.islink(p):
                size += st.st_size
    return files, size


def tree_map(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for f in filenames:
            p = os.path.join(dirpath, f)
            try:
                out[os.path.relpath(p, root)] = os.lstat(p).st_size
            except OSError:
                pass
    return out


def compare_trees(src: Path, dst: Path, full: bool) -> dict:
    a, b = tree_map(src), tree_map(dst)
    missing = sorted(set(a) - set(b))
    extra = sorted(set(b) - set(a))
    size_diff = sorted(k for k in set(a) & set(b) if a[k] != b[k])
    content_diff = []
    if full:
        for k in sorted(set(a) & set(b)):
            if k in size_diff:
                continue
            pa, pb = src / k, dst / k
            if os.path.islink(pa) or os.path.islink(pb):
                continue
            if not filecmp.cmp(pa, pb, shallow=False):
                content_diff.append(k)
    ok = not (missing or extra or size_diff or content_diff)
    return {"ok": ok, "full": full, "src_files": len(a), "restored_files": len(b),
            "missing": len(missing), "extra": len(extra), "size_diff": len(size_diff),
            "content_diff": len(content_diff),
            "examples": (missing[:3] + extra[:3] + size_diff[:3] + content_diff[:3])}


def find_toolchain_dirs(sub: str) -> list:
    """Toolchain directories (deduplicated by real path) that contain `sub`; active toolchain first."""
    found = []
    active = None
    try:
        active = os.path.realpath(subprocess.run(["rustc", "--print", "sysroot"], capture_output=True,
                                                 text=True, cwd=REPO_ROOT, timeout=60).stdout.strip())
    except Exception:  # noqa: BLE001
        pass
    home = os.path.expanduser(os.environ.get("RUSTUP_HOME", "~/.rustup"))
    for d in sorted(glob.glob(os.path.join(home, "toolchains", "*"))):
        real = os.path.realpath(d)
        if real in found or not os.path.isdir(os.path.join(real, sub)):
            continue
        found.append(real)
    # Active toolchain first, then stable before nightly/beta.
    found.sort(key=lambda r: (r != active, "nightly" in r or "beta" in r, r))
    return [Path(r) / sub for r in found]


def parse_version(v: str):
    m = re.match(r"(\d+)\.(\d+)\.(\d+)(.*)$", v)
    if not m:
        return None
    pre = m.group(4)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), pre == "", pre)


def drop_ignored(tree: Path):
    """Removes the files a `.gitignore` in the tree ignores, as git itself decides (a crate from
    the registry can ship a `Cargo.lock` its own `.gitignore` names). Kura does not store such
    files, so every tool is given the tree a project would hold, and a restore is compared
    against it."""
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    out = subprocess.run(["git", "-C", str(tree), "-c", "core.excludesFile=/dev/null", "ls-files", "-z",
                          "--others", "--ignored", "--exclude-standard"],
                         check=True, capture_output=True).stdout
    shutil.rmtree(tree / ".git")
    for rel in filter(None, out.decode().split("\0")):
        path = tree / rel
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def find_crate_pairs(max_pairs: int, prefer_small: bool):
    """Crates present in two versions in ~/.cargo/registry/src/*/: [(name, dirA, dirB)]."""
    cargo_home = os.path.expanduser(os.environ.get("CARGO_HOME", "~/.cargo"))
    groups: dict = {}
    for d in glob.glob(os.path.join(cargo_home, "registry", "src", "*", "*")):
        if not os.path.isdir(d):
            continue
        m = re.match(r"^(.+?)-(\d+\.\d+\.\d+.*)$", os.path.basename(d))
        if not m:
            continue
        ver = parse_version(m.group(2))
        if ver is None:
            continue
        groups.setdefault(m.group(1), {})[ver] = d  # same version in two registries: keep one
    pairs = []
    for name, vers in groups.items():
        if len(vers) < 2:
            continue
        keys = sorted(vers)
        a, b = vers[keys[-2]], vers[keys[-1]]
        pairs.append((name, Path(a), Path(b)))
    if prefer_small:
        pairs.sort(key=lambda p: (tree_stats(p[1])[1] + tree_stats(p[2])[1], p[0]))
    else:
        pairs.sort(key=lambda p: p[0])
    return pairs[:max_pairs]


def generate_big(path: Path, size: int) -> str:
    """Writes `size` reproducible, incompressible bytes. Returns a description of the generator."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = 1 << 20
    if shutil.which("openssl"):
        key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        iv = "00000000000000000000000000000000"
        proc = subprocess.Popen(["openssl", "enc", "-aes-256-ctr", "-K", key, "-iv", iv, "-nosalt",
                                 "-in", "/dev/zero"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        left = size
        with open(path, "wb") as f:
            while left > 0:
                chunk = proc.stdout.read(min(block, left))
                if not chunk:
                    raise RuntimeError("openssl stopped early")
                f.write(chunk)
                left -= len(chunk)
        proc.kill()
        proc.wait()
        return f"openssl enc -aes-256-ctr of /dev/zero, key {key[:8]}..., iv 0"
    rnd = __import__("random").Random(20261121)
    left = size
    with open(path, "wb") as f:
        while left > 0:
            n = min(block, left)
            f.write(rnd.randbytes(n))
            left -= n
    return "python random.Random(20261121).randbytes in 1 MiB blocks"


def build_node_modules(cache: Path, date: str) -> Path:
    """The node_modules folder `npm install` makes of NODE_PACKAGES as the registry stood on
    `date`; built once into `cache` (a download of a few hundred MB) and reused."""
    d = cache / f"node-{date}"
    done = d / ".complete"
    if not done.exists():
        log(f"building the node data set as of {date} with npm install (once, into {d}) ...")
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        (d / "package.json").write_text(json.dumps({"name": "kura-bench-node", "version": "1.0.0",
                                                    "private": True}))
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-save",
                        "--loglevel=error", f"--before={date}", *NODE_PACKAGES], cwd=d, check=True)
        done.write_text(date + "\n")
    return d / "node_modules"


def prepare_datasets(args, scratch: Path) -> dict:
    """Finds or generates each data set. Returns {name: info} (info has 'src' or None + 'skip')."""
    out = {}
    for name in args.datasets:
        if name == "docs":
            if args.docs_src:
                src = Path(args.docs_src)
            else:
                cands = find_toolchain_dirs("share/doc/rust/html")
                if not cands:
                    out[name] = {"skip": "no ~/.rustup/toolchains/*/share/doc/rust/html (rust-docs component)"}
                    continue
                src = cands[0] / "std" if args.quick else cands[0]
            out[name] = {"src": src, "desc": "Rust toolchain HTML docs" + (" (std subset)" if args.quick else "")}
        elif name == "libs":
            if args.libs_src:
                src = Path(args.libs_src)
            else:
                cands = find_toolchain_dirs("lib")
                if not cands:
                    out[name] = {"skip": "no ~/.rustup/toolchains/*/lib"}
                    continue
                src = cands[0] / "rustlib" if args.quick else cands[0]
            out[name] = {"src": src, "desc": "Rust toolchain libraries" + (" (lib/rustlib subset)" if args.quick else "")}
        elif name == "incr":
            pairs = find_crate_pairs(args.incr_pairs or (2 if args.quick else 5), prefer_small=args.quick)
            if not pairs:
                out[name] = {"skip": "no crate with two versions under ~/.cargo/registry/src/*/"}
                continue
            a_dir, b_dir = scratch / "src" / "incr-A", scratch / "src" / "incr-B"
            a_dir.mkdir(parents=True)
            b_dir.mkdir(parents=True)
            for name_, pa, pb in pairs:
                # Each crate in a sub-folder named without its version, as a project would keep it.
                subprocess.run(["cp", "-a", str(pa), str(a_dir / name_)], check=True)
                subprocess.run(["cp", "-a", str(pb), str(b_dir / name_)], check=True)
            drop_ignored(a_dir)
            drop_ignored(b_dir)
            changed = compare_trees(a_dir, b_dir, full=True)
            out[name] = {"src": a_dir, "src_b": b_dir,
                         "desc": "two versions of crates: " + ", ".join(f"{n} {pa.name.rsplit('-', 1)[1]}→{pb.name.rsplit('-', 1)[1]}" for n, pa, pb in pairs),
                         "pairs": [[n, str(pa), str(pb)] for n, pa, pb in pairs],
                         "a_to_b": {"files_only_in_a": changed["missing"], "files_only_in_b": changed["extra"],
                                    "files_changed": changed["size_diff"] + changed["content_diff"],
                                    "files_in_b": changed["restored_files"]}}
        elif name in ("node", "node-up"):
            if shutil.which("npm") is None:
                out[name] = {"skip": "npm is not installed (the node data sets are built with npm install)"}
                continue
            cache = Path(args.node_cache).expanduser()
            trees = [build_node_modules(cache, date) for date in NODE_DATES]
            desc = f"node_modules of {len(NODE_PACKAGES)} npm packages and their dependencies"
            if name == "node":
                out[name] = {"src": trees[1], "desc": f"{desc}, as of {NODE_DATES[1]}",
                             "packages": NODE_PACKAGES, "date": NODE_DATES[1]}
                continue
            a_dir, b_dir = scratch / "src" / "node-A" / "node_modules", scratch / "src" / "node-B" / "node_modules"
            for tree, d in ((trees[0], a_dir), (trees[1], b_dir)):
                d.parent.mkdir(parents=True)
                subprocess.run(["cp", "-a", str(tree), str(d)], check=True)
            a_dir, b_dir = a_dir.parent, b_dir.parent
            drop_ignored(a_dir)
            drop_ignored(b_dir)
            changed = compare_trees(a_dir, b_dir, full=True)
            out[name] = {"src": a_dir, "src_b": b_dir,
                         "desc": f"{desc}, installed as of {NODE_DATES[0]}, then as of {NODE_DATES[1]}",
                         "packages": NODE_PACKAGES, "dates": list(NODE_DATES),
                         "a_to_b": {"files_only_in_a": changed["missing"], "files_only_in_b": changed["extra"],
                                    "files_changed": changed["size_diff"] + changed["content_diff"],
                                    "files_in_b": changed["restored_files"]}}
        elif name == "big":
            size = (args.big_mb if args.big_mb else (512 if args.quick else 4096)) << 20
            d = scratch / "src" / "big"
            log(f"generating big data set: {size >> 20} MiB ...")
            t0 = time.monotonic()
            gen = generate_big(d / "big.bin", size)
            log(f"  done in {time.monotonic() - t0:.1f}s ({gen})")
            out[name] = {"src": d, "desc": f"one {size >> 20} MiB incompressible file", "generator": gen}
        else:
            raise SystemExit(f"unknown data set {name!r}; known: {', '.join(ALL_DATASETS)}")
    for name, info in out.items():
        if "src" in info:
            if not info["src"].is_dir():
                raise SystemExit(f"data set {name}: {info['src']} is not a directory")
            info["files"], info["bytes"] = tree_stats(info["src"])
            if "src_b" in info:
                info["files_b"], info["bytes_b"] = tree_stats(info["src_b"])
    return out


def clear_dir_contents(d: Path):
    for entry in os.scandir(d):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


def mirror_tree(src: Path, dst: Path):
    """Makes dst's content equal to src's, rewriting only files whose content differs (like a
    `git checkout` of another version): unchanged files keep their inode and mtime; rewritten
    files get a new mtime (never src's, so size+mtime checks cannot be fooled)."""
    src_map, dst_map = tree_map(src), tree_map(dst)
    for rel in sorted(set(dst_map) - set(src_map)):
        os.unlink(dst / rel)
    for rel in sorted(src_map):
        s, t = src / rel, dst / rel
        if rel in dst_map and not os.path.islink(s) and not os.path.islink(t) \
                and dst_map[rel] == src_map[rel] and filecmp.cmp(s, t, shallow=False):
            continue
        t.parent.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(t):
            os.unlink(t)
        if os.path.islink(s):
            os.symlink(os.readlink(s), t)
        else:
            shutil.copyfile(s, t)
            shutil.copymode(s, t)
    # Remove directories that no longer exist in src (deepest first).
    for dirpath, dirnames, filenames in sorted(os.walk(dst), key=lambda x: -len(x[0])):
        rel = os.path.relpath(dirpath, dst)
        if rel != "." and not (src / rel).is_dir() and not os.listdir(dirpath):
            os.rmdir(dirpath)


def du_bytes(paths) -> int:
    total = 0
    for p in paths:
        if os.path.exists(p):
            total += int(subprocess.run(["du", "-sb", str(p)], capture_output=True, text=True,
                                        check=True).stdout.split()[0])
    return total


# --------------------------------------------------------------------------------------
# One tool run
# --------------------------------------------------------------------------------------


def fresh_copy(src: Path, ctx: RunContext, runner: Runner) -> dict:
    """cp -a of the data set just before the tool runs (the page cache is reclaimed about a minute
    after writing on these VMs), then sync so the tool does not pay for flushing the copy."""
    t0 = time.monotonic()
    subprocess.run(["cp", "-a", str(src), str(ctx.data)], check=True)
    t1 = time.monotonic()
    runner.sync()
    return {"copy_s": t1 - t0, "copy_sync_s": time.monotonic() - t1}


def add_init_first(steps: dict):
    """A derived step: init (kura: import --link) and the first snapshot together."""
    parts = [steps[k] for k in ("init", "first") if k in steps]
    if "first" in steps:
        steps["init_first"] = {"s": sum(p["s"] for p in parts), "rss_kb": max(p["rss_kb"] for p in parts),
                               "commands": sum(p["commands"] for p in parts), "derived": True}
        if all("sync_s" in p for p in parts):
            steps["init_first"]["sync_s"] = sum(p["sync_s"] for p in parts)


def run_one(tool_name: str, ds_name: str, ds: dict, rnd: int, mode: str | None, args, cfg, runner, scratch):
    tag = f"{ds_name}{'-' + mode if mode else ''}-r{rnd}-{tool_name}"
    work = scratch / "run" / tag
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ctx = RunContext(runner, work, tag, {})
    tool = TOOL_CLASSES[tool_name](ctx, cfg)
    ctx.tool_env = tool.env()
    rec = {"dataset": ds_name, "round": rnd, "tool": tool_name, "mode": mode, "ok": True,
           "steps": ctx.steps, "extra": ctx.extra}
    try:
        rec["prep"] = fresh_copy(ds["src"], ctx, runner)
        copied_at = time.monotonic()
        if ds_name in TWO_VERSIONS:
            if not versions_of(tool, mode):
                return None
            ctx.measure("init", tool.init)
            ctx.measure("first", tool.snapshot, "v1", "version A")
            ctx.measure("first_bg", tool.settle)
            add_init_first(ctx.steps)
            rec["stored_bytes_a"] = du_bytes(tool.stored_paths())
            # Switch the tracked folder to version B (untimed), then snapshot it (timed).
            if mode == "replace":
                # Crates from the registry all carry the same mtime, and freed inodes are reused at
                # once: let the ctime second change, as it would for a person replacing a tree.
                time.sleep(max(0.0, 1.1 - (time.monotonic() - copied_at)))
                clear_dir_contents(ctx.data)
                for entry in sorted(os.listdir(ds["src_b"])):
                    subprocess.run(["cp", "-a", str(ds["src_b"] / entry), str(ctx.data / entry)], check=True)
            else:
                mirror_tree(ds["src_b"], ctx.data)
            runner.sync()
            op = f"incr_{mode}"
            ctx.measure(op, tool.snapshot, "v2", "version B")
            ctx.measure(f"{op}_bg", tool.settle)
            rec["stored_bytes"] = du_bytes(tool.stored_paths())
            rec["stored_growth_bytes"] = rec["stored_bytes"] - rec["stored_bytes_a"]
            target = work / "restore"
            if tool_name != "kura":
                target.mkdir()
            root, _ = ctx.measure("incr_restore", tool.restore, target)
            rec["verify"] = compare_trees(ds["src_b"], root, full=True)
        else:
            ctx.measure("init", tool.init)
            ctx.measure("first", tool.snapshot, "v1", "first")
            ctx.measure("first_bg", tool.settle)
            add_init_first(ctx.steps)
            rec["stored_bytes"] = du_bytes(tool.stored_paths())
            if tool.keeps_versions:
                ctx.measure("again", tool.snapshot, "v2", "unchanged")
                ctx.measure("again_bg", tool.settle)
                rec["stored_bytes_after_again"] = du_bytes(tool.stored_paths())
                # Both versions stored: what a check of the repository costs (caches warm, as
                # right after a backup).
                ctx.measure("check", tool.check)
                ctx.measure("check_data", tool.check_data)
            target = work / "restore"
            if tool_name != "kura":
                target.mkdir()
            root, _ = ctx.measure("restore", tool.restore, target)
            rec["verify"] = compare_trees(ctx.data, root, full=args.verify)
        rec["extra"].update(tool.after(runner))
    except StepFailed as e:
        rec["ok"] = False
        rec["error"] = str(e)
        log(f"  !! {tag}: {str(e).splitlines()[0]}")
        keep = cfg["out_logs"]
        keep.mkdir(parents=True, exist_ok=True)
        for f in runner.logdir.glob(f"{tag}-*.log"):
            shutil.copy(f, keep / f.name)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if rec["ok"] and not rec.get("verify", {}).get("ok", True):
        v = rec["verify"]
        log(f"  ?? {tag}: restored tree differs: {v['missing']} missing, {v['extra']} extra, "
            f"{v['size_diff']} size, {v['content_diff']} content differences, e.g. {v['examples'][:3]}")
    return rec


# --------------------------------------------------------------------------------------
# Summary and report
# --------------------------------------------------------------------------------------


def fmt_s(x):
    if x is None:
        return "-"
    if x < 0.1:
        return f"{x:.3f}"
    if x < 10:
        return f"{x:.2f}"
    return f"{x:.1f}"


def fmt_mb(b):
    return f"{b / 1e6:,.1f}"


def mmm(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def summarize(runs, datasets, tools, baseline):
    summary = {}
    for ds_name in datasets:
        ds_runs = [r for r in runs if r and r["dataset"] == ds_name]
        if not ds_runs:
            continue
        ops = []
        for r in ds_runs:
            for op in r["steps"]:
                if op not in ops:
                    ops.append(op)
        order = list(OP_LABELS)
        ops.sort(key=lambda o: order.index(o) if o in order else 99)
        dsum = {"ops": {}, "stored": {}, "rss_first_kb": {}, "failures": {}}
        rounds = sorted({r["round"] for r in ds_runs})
        for op in ops:
            opsum = {}
            for t in tools:
                trs = [r for r in ds_runs if r["tool"] == t and r["ok"] and op in r["steps"]]
                if not trs:
                    continue
                secs = [r["steps"][op]["s"] for r in trs]
                with_sync = [r["steps"][op]["s"] + r["steps"][op].get("sync_s", 0) for r in trs]
                entry = {"s": mmm(secs), "s_with_sync": mmm(with_sync),
                         "rss_kb": mmm([r["steps"][op]["rss_kb"] for r in trs])}
                if baseline and t != baseline:
                    ratios, ratios_sync = [], []
                    for rnd in rounds:
                        mine = [r for r in trs if r["round"] == rnd]
                        base = [r for r in ds_runs if r["tool"] == baseline and r["ok"] and r["round"] == rnd
                                and op in r["steps"] and r.get("mode") == (mine[0].get("mode") if mine else None)]
                        if mine and base and base[0]["steps"][op]["s"] > 0:
                            ratios.append(mine[0]["steps"][op]["s"] / base[0]["steps"][op]["s"])
                            bs = base[0]["steps"][op]["s"] + base[0]["steps"][op].get("sync_s", 0)
                            ms = mine[0]["steps"][op]["s"] + mine[0]["steps"][op].get("sync_s", 0)
                            ratios_sync.append(ms / bs)
                    entry["ratio_to_baseline"] = mmm(ratios)
                    entry["ratio_to_baseline_with_sync"] = mmm(ratios_sync)
                opsum[t] = entry
            dsum["ops"][op] = opsum
        for t in tools:
            trs = [r for r in ds_runs if r["tool"] == t and r["ok"]]
            if trs:
                st = {"bytes": mmm([r.get("stored_bytes") for r in trs])}
                if ds_name in TWO_VERSIONS:
                    st["bytes_after_a"] = mmm([r.get("stored_bytes_a") for r in trs])
                    for mode in ("replace", "mirror"):
                        g = mmm([r.get("stored_growth_bytes") for r in trs if r.get("mode") == mode])
                        if g:
                            st[f"growth_{mode}"] = g
                else:
                    st["bytes_after_again"] = mmm([r.get("stored_bytes_after_again") for r in trs])
                dsum["stored"][t] = st
                first = [r["steps"]["first"]["rss_kb"] for r in trs if "first" in r["steps"]]
                dsum["rss_first_kb"][t] = mmm(first)
            fails = [r for r in ds_runs if r["tool"] == t and not r["ok"]]
            if fails:
                dsum["failures"][t] = [f"round {r['round'] + 1}{' ' + r['mode'] if r.get('mode') else ''}: "
                                       f"{r['error'].splitlines()[0]}" for r in fails]
            bad = [r for r in ds_runs if r["tool"] == t and r["ok"] and not r.get("verify", {}).get("ok", True)]
            if bad:
                dsum.setdefault("verify_differences", {})[t] = [
                    {k: r["verify"][k] for k in ("src_files", "restored_files", "missing", "extra",
                                                 "size_diff", "content_diff", "examples")} for r in bad]
        summary[ds_name] = dsum
    return summary


def render(result) -> str:
    meta = result["meta"]
    tools = meta["tools"]
    baseline = meta["baseline"]
    L = []
    L.append(f"Kura benchmark — {meta['timestamp']} — {meta['host']['cpus']} CPUs, "
             f"{meta['host']['mem_gb']:.0f} GB RAM, {meta['rounds']} round(s){' (quick)' if meta['quick'] else ''}")
    L.append("versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    notes = []
    if "restic" in tools:
        notes.append(f"restic: repository format {'2, --compression auto' if meta['restic_compression'] else '1 (no compression)'}")
    if "rustic" in tools:
        notes.append("rustic: repository format 2 (zstd)")
    if any(t.startswith("borg") for t in tools):
        notes.append("borg: -e none")
    if "git" in tools:
        notes.append("git: loose objects, no gc/repack")
    if notes:
        L.append("; ".join(notes) + ".")
    syncing = [t for t in tools if meta["fsyncs"][t]]
    not_syncing = [t for t in tools if not meta["fsyncs"][t]]
    L.append(f"fsync: {', '.join(syncing) or 'none'} fsync their repositories; {', '.join(not_syncing) or 'none'} do not. "
             + ("'+sync' = the operation plus a `sync` run right after it." if meta["sync_timing"] else ""))
    if baseline:
        L.append(f"ratio = tool time / {baseline} time in the same round, median (min–max) of rounds; "
                 f">1 means {baseline} is faster.")
    for ds_name, dsum in result["summary"].items():
        ds = meta["datasets"][ds_name]
        L.append("")
        head = f"== {ds_name}: {ds['desc']} — {ds['files']:,} files, {fmt_mb(ds['bytes'])} MB"
        if "files_b" in ds:
            head += f" (B: {ds['files_b']:,} files, {fmt_mb(ds['bytes_b'])} MB; " \
                    f"{ds['a_to_b']['files_changed']} changed, {ds['a_to_b']['files_only_in_b']} added, " \
                    f"{ds['a_to_b']['files_only_in_a']} removed)"
        L.append(head + " ==")
        hdr = f"  {'operation':<42} {'tool':<10} {'seconds: median (min–max)':>26} {'+sync':>8}"
        if baseline:
            hdr += f"  {'ratio vs ' + baseline:>22} {'(+sync)':>8}"
        L.append(hdr)
        for op, opsum in dsum["ops"].items():
            first_line = True
            for t in tools:
                if t not in opsum:
                    continue
                e = opsum[t]
                s = e["s"]
                cell = f"{fmt_s(s['median'])} ({fmt_s(s['min'])}–{fmt_s(s['max'])})" if s['n'] > 1 else fmt_s(s['median'])
                line = f"  {OP_LABELS.get(op, op) if first_line else '':<42} {t:<10} {cell:>26} " \
                       f"{fmt_s(e['s_with_sync']['median']):>8}"
                if baseline:
                    r = e.get("ratio_to_baseline")
                    rs = e.get("ratio_to_baseline_with_sync")
                    if t == baseline:
                        line += f"  {'1':>22} {'':>8}"
                    elif r:
                        rc = f"{r['median']:.2f}" + (f" ({r['min']:.2f}–{r['max']:.2f})" if r["n"] > 1 else "")
                        line += f"  {rc:>22} {rs['median']:>8.2f}"
                    else:
                        line += f"  {'-':>22} {'':>8}"
                L.append(line)
                first_line = False
        # Stored size
        L.append(f"  {'stored size (du -sb)':<53} " + "  ".join(
            f"{t} {fmt_mb(dsum['stored'][t]['bytes']['median'])} MB"
            f" ({100 * dsum['stored'][t]['bytes']['median'] / max(1, ds['bytes_b'] if 'bytes_b' in ds else ds['bytes']):.0f}%)"
            for t in tools if t in dsum["stored"] and dsum["stored"][t]["bytes"]))
        if ds_name in TWO_VERSIONS:
            for mode in ("replace", "mirror"):
                parts = [f"{t} +{fmt_mb(dsum['stored'][t][f'growth_{mode}']['median'])} MB"
                         for t in tools if t in dsum["stored"] and f"growth_{mode}" in dsum["stored"][t]]
                if parts:
                    L.append(f"  {'stored growth A→B (' + mode + ')':<53} " + "  ".join(parts))
        rss = [f"{t} {dsum['rss_first_kb'][t]['median'] / 1024:,.0f} MB" for t in tools
               if dsum["rss_first_kb"].get(t)]
        if rss:
            L.append(f"  {'peak RSS, first snapshot':<53} " + "  ".join(rss))
        for t, msgs in dsum["failures"].items():
            for m in msgs:
                L.append(f"  FAILED {t}: {m}")
        for t, diffs in dsum.get("verify_differences", {}).items():
            d = diffs[0]
            L.append(f"  note: {t}'s restored tree differs from the data ({len(diffs)} run(s)): "
                     f"{d['src_files']} files in data, {d['restored_files']} restored, {d['missing']} missing, "
                     f"{d['extra']} extra, {d['size_diff'] + d['content_diff']} different; e.g. {d['examples'][:3]}")
    # Stored-size overview across data sets
    L.append("")
    L.append("== stored size, MB (share of the data set) ==")
    dsn = list(result["summary"])
    L.append(f"  {'tool':<10} " + " ".join(f"{d:>20}" for d in dsn))
    for t in tools:
        cells = []
        for d in dsn:
            st = result["summary"][d]["stored"].get(t)
            ds = meta["datasets"][d]
            tot = ds.get("bytes_b", ds["bytes"])
            if st and st["bytes"]:
                cells.append(f"{fmt_mb(st['bytes']['median'])} ({100 * st['bytes']['median'] / max(1, tot):.0f}%)")
            else:
                cells.append("-")
        L.append(f"  {t:<10} " + " ".join(f"{c:>20}" for c in cells))
    if "big" in result["summary"]:
        L.append("")
        L.append("== peak RSS of the first snapshot of big, MB ==")
        for t in tools:
            e = result["summary"]["big"]["rss_first_kb"].get(t)
            if e:
                L.append(f"  {t:<10} {e['median'] / 1024:>10,.0f}  (min {e['min'] / 1024:,.0f}, max {e['max'] / 1024:,.0f})")
    return "\n".join(L)


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def tool_version(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        line = (p.stdout or p.stderr).strip().splitlines()[0]
        m = re.search(r"v?(\d+\.\d+(?:\.\d+)?(?:-[\w.]+)?)", line)
        return m.group(1) if m else line
    except Exception:  # noqa: BLE001
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description="Kura benchmark (see bench/README.md)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="smaller subsets of each data set")
    ap.add_argument("--datasets", default=",".join(ALL_DATASETS))
    ap.add_argument("--tools", default=",".join(ALL_TOOLS))
    ap.add_argument("--baseline", default=None, help="tool the ratios are relative to (default kura, "
                                                      "else the first tool)")
    ap.add_argument("--keep", action="store_true", help="keep scratch data (repositories, copies, logs)")
    ap.add_argument("--verify", action="store_true", help="compare restored file contents byte by byte "
                                                          "(always done for incr)")
    ap.add_argument("--no-sync", action="store_true", help="do not time a `sync` after each write step")
    ap.add_argument("--incr-modes", default="replace,mirror")
    ap.add_argument("--incr-pairs", type=int, default=0, help="crates with two versions to use (default 5, quick 2)")
    ap.add_argument("--docs-src", help="override the docs data set folder")
    ap.add_argument("--libs-src", help="override the libs data set folder")
    ap.add_argument("--node-cache", default="~/.cache/kura-bench",
                    help="where the node data sets are built once and kept (npm install)")
    ap.add_argument("--big-mb", type=int, default=0, help="size of the big file (default 4096, quick 512)")
    ap.add_argument("--scratch", required=True, help="scratch folder (made by run.sh)")
    ap.add_argument("--out", default=str(HERE / "out"))
    ap.add_argument("--kura-bin", default=str(REPO_ROOT / "target" / "release" / "kura"))
    ap.add_argument("--no-build", action="store_true", help="(run.sh) do not run cargo build for kura")
    ap.add_argument("--rustic-bin", default=shutil.which("rustic") or "rustic",
                    help="rustic (run.sh installs it with `cargo install rustic-rs` when missing)")
    args = ap.parse_args(argv)

    args.datasets = [d for d in args.datasets.split(",") if d]
    tools = [t for t in args.tools.split(",") if t]
    for t in tools:
        if t not in TOOL_CLASSES:
            raise SystemExit(f"unknown tool {t!r}; known: {', '.join(TOOL_CLASSES)}")
    baseline = args.baseline or ("kura" if "kura" in tools else tools[0])
    if baseline not in tools:
        raise SystemExit(f"baseline {baseline} is not among --tools")
    incr_modes = [m for m in args.incr_modes.split(",") if m]
    for m in incr_modes:
        if m not in ("replace", "mirror"):
            raise SystemExit(f"unknown incr mode {m!r}; known: replace, mirror")

    needed = {"kura": [args.kura_bin], "restic": ["restic"], "rustic": [args.rustic_bin], "borg-zstd": ["borg"],
              "borg-lz4": ["borg"],
              "git": ["git"], "cp": ["cp"], "tar-zstd": ["tar", "zstd"]}
    for t in tools:
        for exe in needed[t]:
            if not shutil.which(exe):
                raise SystemExit(f"error: {t} needs {exe!r}, which is missing"
                                 + (" (build it: cargo build --release -p kura-cli, or leave kura out "
                                    "with --tools)" if t == "kura" else ""))
    if not os.access("/usr/bin/time", os.X_OK):
        raise SystemExit("error: /usr/bin/time is missing (apt-get install time)")

    scratch = Path(args.scratch).resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    fstype = subprocess.run(["stat", "-f", "-c", "%T", str(scratch)], capture_output=True, text=True).stdout.strip()
    if fstype == "tmpfs":
        log(f"warning: scratch {scratch} is on tmpfs: figures will not reflect disk writes")

    restic_help = subprocess.run(["restic", "help"], capture_output=True, text=True).stdout if "restic" in tools else ""
    restic_init_help = subprocess.run(["restic", "init", "--help"], capture_output=True, text=True).stdout \
        if "restic" in tools else ""
    cfg = {"kura_bin": args.kura_bin, "rustic_bin": args.rustic_bin,
           "restic_compression": "--compression" in restic_help and "--repository-version" in restic_init_help,
           "restic_v2": "--repository-version" in restic_init_help}

    ts = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg["out_logs"] = out_dir / f"logs-{ts}"
    runner = Runner(scratch / "logs", sync_timing=not args.no_sync)

    versions = {}
    for t, cmd in [("restic", ["restic", "version"]), ("borg", ["borg", "--version"]), ("git", ["git", "--version"]),
                   ("zstd", ["zstd", "--version"]), ("kura", [args.kura_bin, "--version"]),
                   ("rustic", [args.rustic_bin, "--version"])]:
        if (t == "borg" and any(x.startswith("borg") for x in tools)) or t in tools or \
                (t == "zstd" and "tar-zstd" in tools):
            versions[t] = tool_version(cmd)

    datasets = prepare_datasets(args, scratch)
    for name, info in datasets.items():
        if "skip" in info:
            log(f"skipping data set {name}: {info['skip']}")
        else:
            log(f"data set {name}: {info['src']} — {info['files']:,} files, {fmt_mb(info['bytes'])} MB")

    runs = []
    for ds_name in args.datasets:
        ds = datasets[ds_name]
        if "skip" in ds:
            continue
        modes = incr_modes if ds_name in TWO_VERSIONS else [None]
        ds_tools = [t for t in tools if ds_name not in TWO_VERSIONS or versions_of(TOOL_CLASSES[t])]
        for rnd in range(args.rounds):
            k = rnd % len(ds_tools)
            order = ds_tools[k:] + ds_tools[:k]
            for t in order:
                for mode in modes:
                    if mode and not versions_of(TOOL_CLASSES[t], mode):
                        continue
                    log(f"[{ds_name}{' ' + mode if mode else ''}] round {rnd + 1}/{args.rounds}: {t}")
                    rec = run_one(t, ds_name, ds, rnd, mode, args, cfg, runner, scratch)
                    if rec:
                        rec["position"] = order.index(t)
                        runs.append(rec)
                        if rec["ok"]:
                            log("    " + "  ".join(f"{op} {fmt_s(v['s'])}s" for op, v in rec["steps"].items())
                                + f"  stored {fmt_mb(rec.get('stored_bytes', 0))} MB")

    summary = summarize(runs, [d for d in args.datasets if "skip" not in datasets[d]], tools, baseline)
    meta = {
        "timestamp": ts,
        "argv": sys.argv[1:],
        "rounds": args.rounds,
        "quick": args.quick,
        "tools": tools,
        "baseline": baseline,
        "scratch": str(scratch),
        "scratch_fs": fstype,
        "sync_timing": not args.no_sync,
        "restic_compression": cfg["restic_compression"],
        "fsyncs": {t: TOOL_CLASSES[t].fsyncs for t in tools},
        "versions": versions,
        "host": {"cpus": os.cpu_count(), "kernel": platform.release(),
                 "mem_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9},
        "datasets": {k: {kk: (str(vv) if isinstance(vv, Path) else vv) for kk, vv in v.items()}
                     for k, v in datasets.items()},
    }
    result = {"meta": meta, "summary": summary, "runs": runs}
    out_file = out_dir / f"results-{ts}.json"
    out_file.write_text(json.dumps(result, indent=1, default=str))
    print(render(result))
    print(f"\nresults: {out_file}")
    if any(not r["ok"] for r in runs):
        print(f"logs of failed steps: {cfg['out_logs']}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
