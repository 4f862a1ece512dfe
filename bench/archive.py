#!/usr/bin/env python3
"""Kura's archiver side by side with tar and zstd, on the same project, in one run.

For each round: a fresh vault imports the data set (the Rust toolchain's HTML docs, as in
bench.py) as a project; `tar -I 'zstd -T0' -cf` packs the project folder; `kura archive` packs
the same project (working folder, metadata and full history; it also fsyncs its file, tar does
not); then `tar --zstd -xf` and `kura extract` unpack Kura's archive into fresh folders. Prints
the median seconds, the ratios (tar's time over Kura's within each round, their median and
range, and the ratio of the medians: at least 0.8 is the archive target, at least 1.0 the
extraction target), archive sizes and peak memory (RSS, from /usr/bin/time).

Then `kura unarchive` brings the project back from its archive (history completed from the
folder, files cache rebuilt), beside `tar --zstd -xf` of the same archive.

    python3 bench/archive.py [--rounds 3] [--quick] [--data DIR] [--kura target/release/kura]

`--data` archives another folder, for example the node_modules of `bench.py`'s `node` set
(`~/.cache/kura-bench/node-2025-05-01`).
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import REPO_ROOT, Runner, find_toolchain_dirs, tree_stats  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="only the std docs (a small subset)")
    ap.add_argument("--data", default=None, help="the folder to import and archive (default: the Rust docs)")
    ap.add_argument("--kura", default=str(REPO_ROOT / "target/release/kura"))
    ap.add_argument("--scratch", default=None, help="work folder (default: a temp folder)")
    args = ap.parse_args(argv)

    if args.data:
        src = Path(args.data).expanduser()
        if not src.is_dir():
            print(f"{src} is not a folder")
            return 2
    else:
        cands = find_toolchain_dirs("share/doc/rust/html")
        if not cands:
            print("no ~/.rustup/toolchains/*/share/doc/rust/html (rustup component add rust-docs)")
            return 2
        src = cands[0] / "std" if args.quick else cands[0]
    kura = Path(args.kura)
    if not kura.exists():
        print(f"{kura} is missing: cargo build --release -p kura-cli")
        return 2
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="kura-archive-bench-"))
    runner = Runner(scratch / "logs", sync_timing=True)
    files, size = tree_stats(src)
    print(f"data: {src} ({files} files, {size / 1e6:.0f} MB), {args.rounds} round(s)")

    results = {k: [] for k in ["tar_create", "kura_archive", "tar_extract", "kura_extract",
                               "kura_unarchive", "freed"]}
    rss = {k: [] for k in results if k != "freed"}
    sizes = {}
    for rnd in range(args.rounds):
        work = scratch / f"round{rnd}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        vault = work / "vault"
        env = {"KURA_HOME": str(vault)}
        runner.run([kura, "-q", "project", "import", src, "--name", "docs"], env=env, logname=f"import{rnd}")
        folder = vault / "projects" / "docs"
        sizes["history_import"] = tree_stats(vault / "histories")[1]
        subprocess.run(["sync"], check=True)

        tar_out = work / "tar.tar.zst"
        secs, peak, _ = runner.run(f"tar -I 'zstd -T0' -cf {tar_out} -C {folder.parent} docs",
                                   shell=True, logname=f"tar-create{rnd}")
        results["tar_create"].append(secs)
        rss["tar_create"].append(peak)
        sizes["tar"] = tar_out.stat().st_size

        subprocess.run(["sync"], check=True)
        info_file = work / "archive.json"
        secs, peak, _ = runner.run(f"{kura} --json archive docs > {info_file}", shell=True, env=env,
                                   logname=f"kura-archive{rnd}")
        results["kura_archive"].append(secs)
        rss["kura_archive"].append(peak)
        info = json.loads(info_file.read_text())
        sizes["kura"] = info["size"]
        archive = Path(info["path"])
        # `kura archive` returns once the archive is durable and the project's folder and history
        # are moved aside; a background `kura` removes them. Wait for it (so that it does not
        # slow the next step down) and report how long the space took to come back.
        freed_at = wait_until_empty(vault / "discard")
        results["freed"].append(secs + freed_at)

        subprocess.run(["sync"], check=True)
        out_tar = work / "x-tar"
        out_tar.mkdir()
        secs, peak, _ = runner.run(["tar", "--zstd", "-xf", archive, "-C", out_tar], logname=f"tar-x{rnd}")
        results["tar_extract"].append(secs)
        rss["tar_extract"].append(peak)

        subprocess.run(["sync"], check=True)
        secs, peak, _ = runner.run([kura, "-q", "extract", info["id"], work / "x-kura"], env=env,
                                   logname=f"kura-x{rnd}")
        results["kura_extract"].append(secs)
        rss["kura_extract"].append(peak)

        subprocess.run(["sync"], check=True)
        secs, peak, _ = runner.run([kura, "-q", "unarchive", info["id"]], env=env,
                                   logname=f"kura-unarchive{rnd}")
        results["kura_unarchive"].append(secs)
        rss["kura_unarchive"].append(peak)
        sizes["history_unarchive"] = tree_stats(vault / "histories")[1]
        shutil.rmtree(work)
        print(f"round {rnd + 1}: archive tar {results['tar_create'][-1]:.2f} s, kura "
              f"{results['kura_archive'][-1]:.2f} s; extract tar {results['tar_extract'][-1]:.2f} s, "
              f"kura {results['kura_extract'][-1]:.2f} s; unarchive {results['kura_unarchive'][-1]:.2f} s",
              flush=True)

    med = {k: statistics.median(v) for k, v in results.items()}
    peak_mb = {k: max(v) / 1024 for k, v in rss.items()}
    print(f"\n{'operation':<28}{'seconds (median)':>18}{'peak RSS':>12}")
    labels = [("tar_create", "tar -I 'zstd -T0' -cf"), ("kura_archive", "kura archive"),
              ("tar_extract", "tar --zstd -xf"), ("kura_extract", "kura extract"),
              ("kura_unarchive", "kura unarchive")]
    for key, label in labels:
        print(f"{label:<28}{med[key]:>18.2f}{peak_mb[key]:>9.0f} MB")
    print(f"{'  (folder and history freed)':<28}{med['freed']:>18.2f}\n")
    # As in bench.py and backup.py: the ratio within each round (both tools ran back to back on
    # the same data), then the median of those; the ratio of the medians beside it.
    for label, tar_key, kura_key, target in [("archive", "tar_create", "kura_archive", 0.8),
                                             ("extract", "tar_extract", "kura_extract", 1.0)]:
        paired = [t / k for t, k in zip(results[tar_key], results[kura_key])]
        print(f"{label} speed, tar / kura: {statistics.median(paired):.2f}x per round "
              f"({min(paired):.2f}-{max(paired):.2f}; ratio of the medians "
              f"{med[tar_key] / med[kura_key]:.2f}x; target >= {target})")
    print(f"sizes: tar.zst of the folder {sizes['tar'] / 1e6:.1f} MB; "
          f"Kura's archive (folder + history + metadata) {sizes['kura'] / 1e6:.1f} MB; "
          f"the history after the import {sizes['history_import'] / 1e6:.1f} MB, "
          f"after unarchive {sizes['history_unarchive'] / 1e6:.1f} MB")
    if not args.scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def wait_until_empty(folder: Path, limit: float = 600.0) -> float:
    """Seconds until `folder` is empty or gone (polled every 50 ms)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if not folder.exists() or not any(folder.iterdir()):
            return time.monotonic() - t0
        time.sleep(0.05)
    raise RuntimeError(f"{folder} was still not empty after {limit:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
