#!/usr/bin/env bash
# Whole-command throughput of `etcd-autopsy logs`, side by side with ripgrep on the same files
# (issue #12) and on a log of only error lines (issue #18 item 8). Each pair of commands runs
# alternately (A B A B …, the first round dropped as warm-up), so a machine shared with other
# work slows both alike; the ratios are what to read, not the absolute times.
#
#   scripts/bench-logs.sh [KLOG] [ERRORS] [RUNS]
#
# KLOG defaults to the bench data's apiserver.log (/var/tmp/etcd-autopsy-bench, made by
# `scripts/bench.sh --data-only`), else /tmp/klog-1g.log; ERRORS to the bench data's
# errors-only.log, else /tmp/klog-errors-200m.log. A missing file is generated with
# scripts/gen-klog.py (deterministic; ~0.1 % error lines, or only error lines). Keep them outside
# the repository. Builds the release binary first. Records, per comparison:
#
#   logs --format json KLOG  vs  rg -c 'unable to transform' KLOG            (target <= 1.0 x its time)
#   logs --format json KLOG  vs  rg -c -F -e … every prefilter literal KLOG  (target < 1.0 x)
#   logs [--format json] ERRORS: MB/s                                       (target >= 200 MB/s)
#
# and writes them to $OUT (default /tmp/bench-logs.json).
set -euo pipefail
cd "$(dirname "$0")/.."
data=/var/tmp/etcd-autopsy-bench
KLOG=${1:-$([ -f "$data/apiserver.log" ] && echo "$data/apiserver.log" || echo /tmp/klog-1g.log)}
ERRORS=${2:-$([ -f "$data/errors-only.log" ] && echo "$data/errors-only.log" || echo /tmp/klog-errors-200m.log)}
RUNS=${3:-7}
OUT=${OUT:-/tmp/bench-logs.json}
command -v rg >/dev/null || { echo "bench-logs.sh: rg (ripgrep) is needed" >&2; exit 2; }
[ -f "$KLOG" ] || python3 scripts/gen-klog.py --mb 1024 --out "$KLOG"
[ -f "$ERRORS" ] || python3 scripts/gen-klog.py --mb 200 --only-errors --out "$ERRORS"
cargo build --release --quiet
BIN=${BIN:-$PWD/target/release/etcd-autopsy}
cat "$KLOG" "$ERRORS" > /dev/null   # both commands read from the page cache
python3 - "$KLOG" "$ERRORS" "$RUNS" "$BIN" "$OUT" src/logs/prefilter.rs <<'PY'
import json, os, re, resource, statistics, subprocess, sys, time
klog, errors, runs, binary, out, prefilter = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]

# The literals the prefilter looks for, read from its source so the comparison follows it.
src = open(prefilter).read()
lits = []
for name in ("ERROR_NEEDLES", "START_NEEDLES"):
    body = re.search(name + r": &\[&str\] = &\[(.*?)\];", src, re.S).group(1)
    body = "\n".join(l.split("//")[0] if not l.strip().startswith("\"") else l for l in body.splitlines())
    lits += [bytes(s, "utf-8").decode("unicode_escape") for s in re.findall(r'"((?:[^"\\]|\\.)*)"', body)]
rg_many = ["rg", "-c", "-F"] + [a for l in lits for a in ("-e", l)]

def run(argv):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        peak = max(peak, int(line.split()[1]) * 1024)
        except (FileNotFoundError, ProcessLookupError):
            pass
        time.sleep(0.002)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime, peak

def pair(name, a, b):
    ra, rb = [], []
    for i in range(runs + 1):               # the first round warms up and is dropped
        x, y = run(a), run(b)
        if i:
            ra.append(x); rb.append(y)
    med = lambda xs, k: statistics.median(x[k] for x in xs)
    r = {"name": name, "ours": " ".join(a[:3]) + " …", "reference": " ".join(b[:3]) + " …",
         "ours_s": med(ra, 0), "reference_s": med(rb, 0), "ratio": med(ra, 0) / med(rb, 0),
         "ours_cpu_s": med(ra, 1), "reference_cpu_s": med(rb, 1),
         "cpu_ratio": med(ra, 1) / med(rb, 1), "ours_peak_anon_mb": max(x[2] for x in ra) / 1e6}
    print(f"{name:<26} ours {r['ours_s']:6.3f} s  ref {r['reference_s']:6.3f} s  ratio {r['ratio']:5.2f}"
          f"  (CPU {r['ours_cpu_s']:5.2f} / {r['reference_cpu_s']:5.2f} s = {r['cpu_ratio']:4.2f})"
          f"  anon {r['ours_peak_anon_mb']:6.1f} MB", flush=True)
    return r

results = []
results.append(pair("logs-json vs rg-one", [binary, "logs", "--format", "json", klog],
                    ["rg", "-c", "unable to transform", klog]))
results.append(pair(f"logs-json vs rg-{len(lits)}", [binary, "logs", "--format", "json", klog], rg_many + [klog]))
size = os.path.getsize(errors)
for fmt in ("text", "json"):
    argv = [binary, "logs", errors] + (["--format", "json"] if fmt == "json" else [])
    r = pair(f"errors-{fmt} vs cat", argv, ["cat", errors])
    r["mb_per_s"] = size / r["ours_s"] / 1e6
    print(f"{'':<26} {size / 1e6:.0f} MB of error lines: {r['mb_per_s']:.0f} MB/s (target >= 200)")
    results.append(r)
print(f"{runs} runs each, CPUs {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
with open(out, "w") as f:
    json.dump({"klog": klog, "errors": errors, "runs": runs, "load": os.getloadavg()[0],
               "literals": lits, "results": results}, f, indent=2)
PY
