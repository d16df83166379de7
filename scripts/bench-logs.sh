#!/usr/bin/env bash
# Whole-command throughput of `etcd-autopsy logs` against `rg -c 'unable to transform'` on the same
# klog file, side by side: the two commands alternate, so a machine shared with other work slows
# both alike. Prints each command's median wall time, throughput, and the ratio (the issue's target
# is logs >= 0.7 x rg).
#
#   scripts/bench-logs.sh [FILE] [RUNS]        # default /tmp/klog-1g.log, 11 runs
#
# A missing FILE is generated with scripts/gen-klog.py (MB=1024 by default; deterministic, ~0.1%
# encryption-error lines). Keep it outside the repository. Builds the release binary first.
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${1:-/tmp/klog-1g.log}
RUNS=${2:-11}
MB=${MB:-1024}
command -v rg >/dev/null || { echo "bench.sh: rg (ripgrep) is needed" >&2; exit 2; }
[ -f "$FILE" ] || python3 scripts/gen-klog.py --mb "$MB" --out "$FILE"
cargo build --release --quiet
BIN=$PWD/target/release/etcd-autopsy
cat "$FILE" > /dev/null   # both read from the page cache
python3 - "$FILE" "$RUNS" "$BIN" <<'PY'
import os, resource, statistics, subprocess, sys, time
path, runs, binary = sys.argv[1], int(sys.argv[2]), sys.argv[3]
size = os.path.getsize(path)
cmds = {
    "rg -c 'unable to transform'": ["rg", "-c", "unable to transform", path],
    "etcd-autopsy logs --format json": [binary, "logs", "--format", "json", path],
}
wall = {k: [] for k in cmds}
cpu = {k: [] for k in cmds}
for _ in range(runs + 1):                     # the first round warms up and is dropped
    for name, argv in cmds.items():
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=False)
        wall[name].append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[name].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
med = {k: statistics.median(v[1:]) for k, v in wall.items()}
cmed = {k: statistics.median(v[1:]) for k, v in cpu.items()}
for k, m in med.items():
    print(f"{k:34} wall median {m * 1000:7.1f} ms ({size / m / 1e9:5.2f} GB/s, min {min(wall[k][1:]) * 1000:.1f} ms)"
          f"  cpu median {cmed[k] * 1000:7.1f} ms")
rg, logs = "rg -c 'unable to transform'", "etcd-autopsy logs --format json"
print(f"file {size / 1e9:.2f} GB, {runs} runs each, CPUs {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
print(f"throughput ratio logs / rg: wall {med[rg] / med[logs]:.2f}, per CPU second {cmed[rg] / cmed[logs]:.2f}")
PY
