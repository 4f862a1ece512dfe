#!/usr/bin/env python3
"""Records (issue 17, part 1): Kura's records side by side with plain SQLite doing the same work.

In-process (the `records_bench` example: Kura's `Records` and one plain SQLite table with the same
pragmas, WAL and `synchronous=FULL`, and the same expression index), over a collection of N
records (100,000 by default): get p50/p99, durable single put p50, a batch of 1,000 puts, an
indexed query (equality on an indexed field, 100 results). Ratios Kura/SQLite are printed.

Over HTTP (`kura serve` on loopback, wrk with keep-alive): gets of random keys from one client
and from 8 (p50/p99), and puts from 8 concurrent clients (operations per second, p50/p99).

Run through bench/records.sh (which builds both in release and installs wrk). Standard library
only; the `door` module is bench/door.py.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from door import KuraServer, log  # noqa: E402

TARGETS = {
    "get_p50_ms": 0.2, "get_p99_ms": 1.0, "put_p50_ms": 5.0, "batch_1000_p50_ms": 50.0, "query_p50_ms": 10.0,
}

WRK_SCRIPT = r"""
local n = 0
local records = %(records)d
local base = "%(base)s"
local method = "%(method)s"
wrk.headers["Authorization"] = "%(auth)s"
wrk.headers["Content-Type"] = "application/json"
math.randomseed(%(seed)d)
request = function()
  n = n + 1
  local key = string.format("task-%%07d", math.random(0, records - 1))
  if method == "PUT" then
    return wrk.format("PUT", base .. key, nil, '{"title":"Task ' .. n .. '","status":"s' .. (n %% 50) .. '","n":' .. n .. '}')
  end
  return wrk.format("GET", base .. key)
end
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %%d %%f %%f %%f %%d\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
end
"""


def wrk(url, base, method, auth, records, clients, seconds, workdir):
    script = os.path.join(workdir, f"wrk-{method}-{clients}.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT % {"records": records, "base": base, "method": method, "auth": auth, "seed": clients})
    out = subprocess.run(["wrk", f"-t{min(clients, 2)}", f"-c{clients}", f"-d{seconds}s", "-s", script, url],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"RESULT (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", out)
    requests, duration, p50, p99, errors = int(m[1]), float(m[2]), float(m[3]), float(m[4]), int(m[5])
    return {"ops_per_s": requests / duration, "p50_ms": p50, "p99_ms": p99, "errors": errors, "requests": requests}


def over_http(kura_bin, scratch, records, seconds):
    server = KuraServer(kura_bin, os.path.join(scratch, "vault"))
    try:
        project = server.json("POST", "/v1/projects", {"name": "agents"})
        root = f"/v1/projects/{project['id']}/records"
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
        started = time.time()
        for start in range(0, records, 1000):
            ops = [{"op": "put", "collection": "tasks", "key": f"task-{i:07d}",
                    "value": {"title": f"Task {i}", "status": f"s{i % 50}", "n": i}}
                   for i in range(start, min(start + 1000, records))]
            status, data = server.request("POST", root, {"ops": ops}, conn=conn)
            if status != 200:
                raise RuntimeError(f"batch: {status} {data[:300]!r}")
        load_s = time.time() - started
        server.json("PUT", f"{root}/tasks", {"indexes": ["status"]})
        url = f"http://127.0.0.1:{server.port}"
        auth = f"Bearer {server.token}"
        base = f"{root}/tasks/"
        result = {"load_s": load_s}
        result["get_1_client"] = wrk(url, base, "GET", auth, records, 1, seconds, scratch)
        result["get_8_clients"] = wrk(url, base, "GET", auth, records, 8, seconds, scratch)
        result["put_8_clients"] = wrk(url, base, "PUT", auth, records, 8, seconds, scratch)
        return result
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kura-bin", required=True)
    ap.add_argument("--bench-bin", required=True, help="the records_bench example")
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    scratch = tempfile.mkdtemp(prefix="kura-records-bench-", dir=os.environ.get("BENCH_DIR", "/tmp"))
    results = {"recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cores": os.cpu_count(),
               "records": args.records}
    try:
        log("in-process, Kura and plain SQLite ...")
        inproc = json.loads(subprocess.run([args.bench_bin, str(args.records), scratch], check=True,
                                           capture_output=True, text=True).stdout)
        results["in_process"] = inproc
        k, s = inproc["kura"], inproc["sqlite"]
        print(f"\nIn-process, {args.records:,} records in one collection")
        print(f"{'':26}{'Kura':>10}{'SQLite':>10}{'ratio':>8}{'target':>10}")
        for name, label in [("get_p50_ms", "get p50 ms"), ("get_p99_ms", "get p99 ms"),
                            ("put_p50_ms", "durable put p50 ms"), ("batch_1000_p50_ms", "batch of 1,000 p50 ms"),
                            ("query_p50_ms", "indexed query p50 ms"), ("query_p99_ms", "indexed query p99 ms")]:
            target = TARGETS.get(name)
            mark = "" if target is None else (f"< {target:g}" + (" ok" if k[name] < target else " MISSED"))
            print(f"{label:26}{k[name]:>10.3f}{s[name]:>10.3f}{k[name] / s[name]:>7.1f}x{mark:>12}")
        log("over HTTP ...")
        results["http"] = h = over_http(args.kura_bin, scratch, args.records, args.seconds)
        print(f"\nOver HTTP (kura serve, loopback, wrk keep-alive, {args.seconds} s each; loaded in {h['load_s']:.1f} s)")
        print(f"{'':20}{'ops/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
        for name in ("get_1_client", "get_8_clients", "put_8_clients"):
            x = h[name]
            print(f"{name:20}{x['ops_per_s']:>10.0f}{x['p50_ms']:>9.2f}{x['p99_ms']:>9.2f}{x['errors']:>8}")
        print(f"targets: get p99 < 2 ms over HTTP ({'ok' if h['get_1_client']['p99_ms'] < 2 else 'MISSED'} with one client),"
              f" at least 5,000 puts/s from 8 clients ({'ok' if h['put_8_clients']['ops_per_s'] >= 5000 else 'MISSED'})")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out = args.out or os.path.join(root, "bench", "out", f"records-{int(time.time())}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
