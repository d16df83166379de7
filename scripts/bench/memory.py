#!/usr/bin/env python3
"""Peak memory of every command on the bench data (issue #19: "anonymous memory of every command
on the bench data recorded; none above 300 MB").

usage: memory.py RUNS OUT.json   then on stdin, one command per line:  name<TAB>command
Each command runs once to warm the cache, then RUNS times (scripts/bench/measure.py's run():
RssAnon and RssFile sampled every 2 ms, wall and CPU time). Prints one row per command and
exits 1 if any peak anonymous memory is above LIMIT_MB (default 300).
"""
import json, os, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import run, CACHE_STATE  # noqa: E402

LIMIT_MB = float(os.environ.get("LIMIT_MB", "300"))

def main():
    runs, out_path = int(sys.argv[1]), sys.argv[2]
    rows, over = [], []
    for line in sys.stdin:
        if not line.strip() or line.startswith("#"):
            continue
        name, cmd = line.rstrip("\n").split("\t")
        run(cmd)
        rs = [run(cmd) for _ in range(runs)]
        r = {
            "name": name, "command": cmd, "cache": CACHE_STATE,
            "wall_s": statistics.median(x[0] for x in rs), "cpu_s": statistics.median(x[4] for x in rs),
            "exit": rs[-1][1],
            "peak_anon_mb": max(x[2] for x in rs) / 1e6, "peak_file_mb": max(x[3] for x in rs) / 1e6,
        }
        rows.append(r)
        if r["peak_anon_mb"] > LIMIT_MB:
            over.append(name)
        print(f"{name:<24} anon {r['peak_anon_mb']:7.1f} MB  file {r['peak_file_mb']:7.1f} MB  "
              f"wall {r['wall_s']:6.3f} s  cpu {r['cpu_s']:6.2f} s  exit {r['exit']}", flush=True)
    with open(out_path, "w") as f:
        json.dump({"load_average": os.getloadavg(), "cache": CACHE_STATE, "limit_mb": LIMIT_MB,
                   "results": rows}, f, indent=2)
    if over:
        print(f"above {LIMIT_MB:.0f} MB anonymous: {', '.join(over)}", file=sys.stderr)
        sys.exit(1)

if __name__ == "__main__":
    main()
