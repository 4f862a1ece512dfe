#!/usr/bin/env python3
"""How far behind a target backed up "after every change" is (issue 17, part 2).

A vault holds one project (a copy of this repository's sources by default, or --source DIR) and
one target scheduled "after every change", in a folder and then at `rclone serve s3` on
127.0.0.1. `kura serve` runs the schedules. Each round changes one file, makes a version with
`kura snapshot` (a separate process, as a script or an agent would), and measures the time from
that command's return until `/v1/backups/status` reports a successful backup that started after
the change and no change left behind: the version's data is then complete at the target.

Prints the median, the 90th percentile and the worst lag per place, and the same for the run
itself (the backup's own duration), so the share of the wait (two quiet seconds, the one-second
look at the vault) is visible.

    python3 bench/replication.py --kura-bin target/release/kura [--rounds 15] [--source DIR]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from backup import ACCESS, SECRET, S3Server  # noqa: E402
from door import KuraServer, log  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TARGET = "near"


def copy_sources(dest: Path, source: Path):
    ignore = shutil.ignore_patterns("target", "node_modules", ".git", "dist", "test-results", "out")
    shutil.copytree(source, dest, ignore=ignore, symlinks=True)


def status_of(server: KuraServer):
    s = server.json("GET", "/v1/backups/status")
    return next(t for t in s["targets"] if t["target"]["name"] == TARGET)


def wait_up_to_date(server: KuraServer, after: int, timeout=600.0):
    """Polls until a successful run that started at or after `after` ended and nothing is behind;
    returns the moment it was seen and that run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t = status_of(server)
        run = t["last_run"]
        if (t["behind_since"] is None and t["running"] is None and run and run["result"] == "ok"
                and run["started"] >= after):
            return time.time(), run
        time.sleep(0.05)
    raise RuntimeError(f"target {TARGET} did not catch up within {timeout} s: {status_of(server)}")


def measure(kura: str, place: str, source: Path, rounds: int, work: Path):
    vault = work / f"vault-{place}"
    folder = work / f"project-{place}"
    copy_sources(folder, source)
    env = dict(os.environ, KURA_HOME=str(vault), KURA_LOG="warn",
               KURA_BACKUP_NEAR_ACCESS_KEY_ID=ACCESS, KURA_BACKUP_NEAR_SECRET_ACCESS_KEY=SECRET)
    run = lambda *a: subprocess.run([kura, "-q", *a], check=True, env=env, capture_output=True, text=True)
    run("project", "import", str(folder), "--name", "sources", "--link")
    s3 = None
    if place == "folder":
        loc = ["--folder", str(work / f"target-{place}")]
    else:
        (work / "s3" / "bench").mkdir(parents=True)
        s3 = S3Server(work / "s3")
        loc = ["--s3", "--endpoint", s3.endpoint, "--bucket", "bench", "--prefix", "kura"]
    run("backup", "target", "add", TARGET, *loc, "--schedule", "after every change")
    server = KuraServer(kura, str(vault), schedules=True, env={
        "KURA_BACKUP_NEAR_ACCESS_KEY_ID": ACCESS, "KURA_BACKUP_NEAR_SECRET_ACCESS_KEY": SECRET})
    lags, runs = [], []
    try:
        started = time.time()
        _, first = wait_up_to_date(server, 0)
        log(f"{place}: first backup (the whole vault) done in {time.time() - started:.1f} s")
        # Text files that a change can be appended to: sources, else pages.
        files = sorted(p for p in folder.rglob("*.rs") if p.is_file()) or sorted(
            p for p in folder.rglob("*.html") if p.is_file())
        for i in range(rounds):
            # A change in a new second: a run that started before it cannot be taken for its own.
            time.sleep(1.0 - (time.time() % 1.0) + 0.01)
            f = files[i % len(files)]
            with open(f, "a") as out:
                out.write(f"\n// replication bench round {i}\n")
            before = int(time.time())
            run("snapshot", "sources", "-m", f"round {i}")
            t0 = time.time()
            seen, done = wait_up_to_date(server, before)
            lags.append(seen - t0)
            runs.append(done["finished"] - done["started"])
            log(f"{place}: round {i + 1}/{rounds}: complete at the target {seen - t0:.2f} s after the snapshot")
    finally:
        server.stop()
        if s3:
            s3.stop()
    return lags, runs


def summary(values):
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]
    return {"median": statistics.median(values), "p90": p90, "max": values[-1]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kura-bin", required=True)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--source", type=Path, default=None, help="the project's files (default: this repository's crates and ui/src)")
    ap.add_argument("--places", default="folder,s3")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="kura-replication-") as tmp:
        work = Path(tmp)
        source = args.source
        if source is None:
            source = work / "sources"
            source.mkdir()
            copy_sources(source / "crates", REPO / "crates")
            copy_sources(source / "ui-src", REPO / "ui" / "src")
        files = [p for p in source.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        log(f"project: {len(files):,} files, {size / 1e6:.1f} MB")
        for place in args.places.split(","):
            lags, runs = measure(args.kura_bin, place, source, args.rounds, work)
            results[place] = {"lag_s": summary(lags), "run_s": summary(runs), "rounds": len(lags)}
    print()
    print(f"{'place':<8} {'lag median':>11} {'lag p90':>9} {'lag max':>9} {'run median':>11}")
    for place, r in results.items():
        lag, run = r["lag_s"], r["run_s"]
        print(f"{place:<8} {lag['median']:>10.2f}s {lag['p90']:>8.2f}s {lag['max']:>8.2f}s {run['median']:>10.1f}s")
    print("\naim (issue 17): under 10 s at the median for a small change")
    out = Path(args.out) if args.out else REPO / "bench" / "out" / f"replication-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"files": len(files), "bytes": size, "results": results}, indent=2))
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
