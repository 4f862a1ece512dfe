#!/usr/bin/env python3
"""Kura's HTTP door side by side with `rclone serve webdav` on the same machine.

Measures (issue 15, part 6), with ratios printed:
- small files: 8 keep-alive clients (wrk) saving then reading 1,000 files of 1 KiB, through
  `PUT/GET /v1/projects/{id}/files/...` and through rclone's WebDAV `PUT/GET`: operations per
  second and p50/p99 latency;
- one large file (2 GiB by default) uploaded and downloaded with curl through both, and each
  server's peak memory (VmHWM of its process);
- how long an event takes to reach an SSE subscriber after the change that caused it;
- listing and filtering 10,000 projects over HTTP.

Run through bench/http.sh (which builds a release `kura` and installs wrk and rclone).
Standard library only.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

SMALL_FILES = 1000
SMALL_SIZE = 1024
CLIENTS = 8


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class KuraServer:
    """`kura serve` on a vault, over loopback TCP, with an admin token; its schedules run only
    when `schedules` is set."""

    def __init__(self, kura, vault, schedules=False, env=None):
        self.kura = kura
        self.vault = vault
        self.port = free_port()
        env = dict(os.environ, KURA_LOG="warn", **(env or {}))
        self.token = subprocess.run(
            [kura, "--vault", vault, "serve", "token", "--scope", "admin"],
            check=True, capture_output=True, text=True, env=env,
        ).stdout.strip().split()[-1]
        self.proc = subprocess.Popen(
            [kura, "--vault", vault, "serve", "--listen", f"127.0.0.1:{self.port}",
             *([] if schedules else ["--no-schedules"])],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if self.request("GET", "/v1/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("kura serve did not start: " + self.proc.stderr.read().decode(errors="replace"))

    def headers(self, extra=None):
        h = {"Authorization": f"Bearer {self.token}", "Host": f"127.0.0.1:{self.port}"}
        h.update(extra or {})
        return h

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = dict(headers or {}, **{"Content-Type": "application/json"})
        conn.request(method, path, body=body, headers=self.headers(headers))
        r = conn.getresponse()
        data = r.read()
        if own:
            conn.close()
        return r.status, data

    def json(self, method, path, body=None):
        status, data = self.request(method, path, body)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {data[:300]!r}")
        return json.loads(data) if data else None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Webdav:
    """`rclone serve webdav` of a folder, over loopback TCP."""

    def __init__(self, folder):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["rclone", "serve", "webdav", folder, "--addr", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("rclone serve webdav did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


WRK_SCRIPT = r"""
local n = 0
local files = %(files)d
local prefix = "%(prefix)s"
local method = "%(method)s"
local body = string.rep("k", %(size)d)
wrk.headers["Authorization"] = "%(auth)s"
request = function()
  n = n + 1
  local path = prefix .. "f" .. (n %% files) .. ".txt"
  if method == "PUT" then
    return wrk.format("PUT", path, nil, body)
  end
  return wrk.format("GET", path)
end
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %%d %%f %%f %%f %%d\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
end
"""


def wrk(url_base, prefix, method, auth, seconds, workdir):
    script = os.path.join(workdir, f"wrk-{method}.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT % {"files": SMALL_FILES, "prefix": prefix, "method": method,
                              "size": SMALL_SIZE, "auth": auth})
    out = subprocess.run(["wrk", "-t2", f"-c{CLIENTS}", f"-d{seconds}s", "-s", script, url_base],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"RESULT (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", out)
    requests, duration, p50, p99, errors = int(m[1]), float(m[2]), float(m[3]), float(m[4]), int(m[5])
    return {"ops_per_s": requests / duration, "p50_ms": p50, "p99_ms": p99, "errors": errors, "requests": requests}


def seed_small(put):
    """Writes the 1,000 files once so that reads find them."""
    for i in range(SMALL_FILES):
        put(i)


def small_files(kura_bin, scratch, seconds):
    results = {}
    vault = os.path.join(scratch, "vault-small")
    server = KuraServer(kura_bin, vault)
    try:
        project = server.json("POST", "/v1/projects", {"name": "bench-small"})
        prefix = f"/v1/projects/{project['id']}/files/bench/"
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        seed_small(lambda i: server.request("PUT", f"{prefix}f{i}.txt", b"k" * SMALL_SIZE, conn=conn))
        base = f"http://127.0.0.1:{server.port}"
        auth = f"Bearer {server.token}"
        results["kura"] = {m: wrk(base, prefix, m, auth, seconds, scratch) for m in ("PUT", "GET")}
    finally:
        server.stop()
    folder = os.path.join(scratch, "webdav-small")
    os.makedirs(os.path.join(folder, "bench"))
    dav = Webdav(folder)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", dav.port, timeout=60)

        def put(i):
            conn.request("PUT", f"/bench/f{i}.txt", body=b"k" * SMALL_SIZE)
            conn.getresponse().read()

        seed_small(put)
        results["rclone-webdav"] = {m: wrk(f"http://127.0.0.1:{dav.port}", "/bench/", m, "x", seconds, scratch)
                                    for m in ("PUT", "GET")}
    finally:
        dav.stop()
    return results


def curl(args):
    t = time.perf_counter()
    subprocess.run(["curl", "-sS", "--fail", "-o", "/dev/null"] + args, check=True)
    return time.perf_counter() - t


def big_file(kura_bin, scratch, size_mb):
    src = os.path.join(scratch, "big.bin")
    with open(src, "wb") as f:
        block = os.urandom(1 << 20)
        for i in range(size_mb):
            f.write(block[i % 7:] + block[: i % 7])
    results = {}
    vault = os.path.join(scratch, "vault-big")
    server = KuraServer(kura_bin, vault)
    try:
        project = server.json("POST", "/v1/projects", {"name": "bench-big"})
        url = f"http://127.0.0.1:{server.port}/v1/projects/{project['id']}/files/big.bin"
        auth = ["-H", f"Authorization: Bearer {server.token}"]
        up = curl(auth + ["-T", src, url])
        down = curl(auth + [url])
        results["kura"] = {"upload_s": up, "download_s": down, "peak_mb": peak_rss_mb(server.proc.pid)}
    finally:
        server.stop()
    folder = os.path.join(scratch, "webdav-big")
    os.makedirs(folder)
    dav = Webdav(folder)
    try:
        url = f"http://127.0.0.1:{dav.port}/big.bin"
        up = curl(["-T", src, url])
        down = curl([url])
        results["rclone-webdav"] = {"upload_s": up, "download_s": down, "peak_mb": peak_rss_mb(dav.proc.pid)}
    finally:
        dav.stop()
    os.remove(src)
    return results


def event_latency(kura_bin, scratch, samples):
    vault = os.path.join(scratch, "vault-events")
    server = KuraServer(kura_bin, vault)
    try:
        project = server.json("POST", "/v1/projects", {"name": "bench-events"})
        pid = project["id"]
        arrived = {}
        ready = threading.Event()

        def listen():
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            conn.request("GET", "/v1/events?types=vault.changed&format=ndjson",
                         headers=server.headers({"Accept": "application/x-ndjson"}))
            r = conn.getresponse()
            ready.set()
            while len(arrived) < samples:
                line = r.readline()
                if not line:
                    break
                line = line.strip()
                if not line:
                    continue
                event = json.loads(line)
                if event.get("project_id") == pid:
                    arrived[len(arrived)] = time.perf_counter()

        t = threading.Thread(target=listen, daemon=True)
        t.start()
        ready.wait(30)
        time.sleep(0.5)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        after_response = []
        for i in range(samples):
            before = len(arrived)
            # From the request's start: an upper bound of the time from the change to its event
            # (the event may well arrive before the response does).
            done = time.perf_counter()
            server.request("PUT", f"/v1/projects/{pid}/files/e{i}.txt", b"x", conn=conn)
            deadline = time.time() + 10
            while len(arrived) == before and time.time() < deadline:
                time.sleep(0.0005)
            if len(arrived) > before:
                after_response.append((arrived[before] - done) * 1000)
        return {"samples": len(after_response),
                "median_ms": statistics.median(after_response) if after_response else None,
                "max_ms": max(after_response) if after_response else None}
    finally:
        server.stop()


def listing(kura_bin, root, scratch, rounds):
    vault = os.path.join(scratch, "vault-10k")
    subprocess.run(["cargo", "run", "--quiet", "--release", "-p", "kura-core", "--example", "catalog_queries",
                    "--", "--projects", "10000", "--files-per-project", "1", "--workspaces", "1", "--keep", vault],
                   check=True, cwd=root, stdout=subprocess.DEVNULL)
    server = KuraServer(kura_bin, vault)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        out = {}
        for name, path in [("list all", "/v1/projects?all_workspaces=true"), ("filter by text", "/v1/projects?all_workspaces=true&text=77")]:
            times = []
            count = None
            for _ in range(rounds):
                t = time.perf_counter()
                status, data = server.request("GET", path, conn=conn)
                times.append((time.perf_counter() - t) * 1000)
                count = len(json.loads(data)) if status == 200 else f"HTTP {status}"
            out[name] = {"median_ms": statistics.median(times), "min_ms": min(times), "projects": count}
        return out
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kura-bin", required=True)
    ap.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    ap.add_argument("--big-mb", type=int, default=2048)
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--list-rounds", type=int, default=20)
    ap.add_argument("--only", default="small,big,events,list")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    only = set(args.only.split(","))
    scratch = tempfile.mkdtemp(prefix="kura-http-bench-", dir=os.environ.get("BENCH_DIR", "/tmp"))
    results = {"recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cores": os.cpu_count()}
    try:
        if "small" in only:
            log("small files ...")
            results["small_files"] = r = small_files(args.kura_bin, scratch, args.seconds)
            print(f"\nSmall files (1 KiB, {SMALL_FILES} names, {CLIENTS} keep-alive clients, wrk, {args.seconds} s each)")
            print(f"{'':16}{'ops/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
            for tool in ("kura", "rclone-webdav"):
                for m in ("PUT", "GET"):
                    x = r[tool][m]
                    print(f"{tool + ' ' + m:16}{x['ops_per_s']:>10.0f}{x['p50_ms']:>9.2f}{x['p99_ms']:>9.2f}{x['errors']:>8}")
            for m in ("PUT", "GET"):
                print(f"ratio kura/rclone {m} ops/s: {r['kura'][m]['ops_per_s'] / r['rclone-webdav'][m]['ops_per_s']:.2f}x")
        if "big" in only:
            log("large file ...")
            results["big_file"] = r = big_file(args.kura_bin, scratch, args.big_mb)
            print(f"\nOne {args.big_mb} MiB file (curl, loopback)")
            print(f"{'':16}{'upload s':>10}{'download s':>12}{'peak MB':>9}")
            for tool in ("kura", "rclone-webdav"):
                x = r[tool]
                print(f"{tool:16}{x['upload_s']:>10.2f}{x['download_s']:>12.2f}{x['peak_mb'] or 0:>9.0f}")
            print(f"ratio rclone/kura time: upload {r['rclone-webdav']['upload_s'] / r['kura']['upload_s']:.2f}x,"
                  f" download {r['rclone-webdav']['download_s'] / r['kura']['download_s']:.2f}x (above 1: kura faster)")
        if "events" in only:
            log("event latency ...")
            results["events"] = r = event_latency(args.kura_bin, scratch, args.events)
            print(f"\nEvent latency (save request sent -> vault.changed on the stream), {r['samples']} samples:"
                  f" median {r['median_ms']:.1f} ms, max {r['max_ms']:.1f} ms")
        if "list" in only:
            log("10,000 projects ...")
            results["listing"] = r = listing(args.kura_bin, root, scratch, args.list_rounds)
            print("\nListing 10,000 projects over HTTP")
            for name, x in r.items():
                print(f"  {name:16} median {x['median_ms']:.1f} ms (min {x['min_ms']:.1f}), {x['projects']} projects")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out = args.out or os.path.join(root, "bench", "out", f"http-{int(time.time())}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
