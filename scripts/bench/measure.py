#!/usr/bin/env python3
"""Runs pairs of commands interleaved (A B A B …) on a warm cache and reports medians and ratios.

For each run it records wall time, CPU time (user + system of the command and its children,
from getrusage: on a machine shared with other work, CPU time is what the command itself costs)
and, by polling /proc/PID/status every 2 ms, the peak of RssAnon (anonymous memory: heap, stacks)
and RssFile (file-backed pages, e.g. a mapped snapshot), so mapping a 1 GiB file is not mistaken
for using 1 GiB of memory.

With COLD=1 in the environment the page cache is dropped (`echo 3 > /proc/sys/vm/drop_caches`,
needs root) before every run of either command, and no warm-up run is made.

usage: measure.py RUNS OUT.json  then on stdin, one comparison per line:
    name<TAB>ours command<TAB>reference command
At the end a table of every ratio, side by side, is printed.
"""
import json, os, resource, shlex, statistics, subprocess, sys, time

COLD = os.environ.get("COLD") == "1"
# How the warm inputs were put in the page cache (scripts/bench/cache.py), recorded with the numbers.
CACHE_STATE = os.environ.get("CACHE_STATE", "cold" if COLD else "warm")

def drop_caches():
    subprocess.run("sync", shell=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")

def rss(pid):
    anon = file = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    anon = int(line.split()[1]) * 1024
                elif line.startswith("RssFile:"):
                    file = int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return anon, file

def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def run(cmd):
    if COLD:
        drop_caches()
    cpu0 = cpu_children()
    start = time.perf_counter()
    p = subprocess.Popen(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_anon = peak_file = 0
    while p.poll() is None:
        # The shell execs the last command; its children are the measured process.
        pids = [p.pid] + children(p.pid)
        for pid in pids:
            a, f = rss(pid)
            peak_anon, peak_file = max(peak_anon, a), max(peak_file, f)
        time.sleep(0.002)
    wall = time.perf_counter() - start
    return wall, p.returncode, peak_anon, peak_file, cpu_children() - cpu0

def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []

def main():
    runs, out_path = int(sys.argv[1]), sys.argv[2]
    results = []
    for line in sys.stdin:
        if not line.strip() or line.startswith("#"):
            continue
        name, ours, ref = line.rstrip("\n").split("\t")
        if not COLD:
            run(ours); run(ref)  # warm the page cache for both
        a, b = [], []
        for _ in range(runs):
            a.append(run(ours))
            b.append(run(ref))
        med = lambda xs, i=0: statistics.median(x[i] for x in xs)
        r = {
            "name": name, "ours": ours, "reference": ref, "cache": CACHE_STATE,
            "ours_s": med(a), "reference_s": med(b), "ratio": med(a) / med(b),
            "ours_cpu_s": med(a, 4), "reference_cpu_s": med(b, 4),
            "cpu_ratio": med(a, 4) / max(med(b, 4), 1e-9),
            "ours_best_s": min(x[0] for x in a), "reference_best_s": min(x[0] for x in b),
            "ours_exit": a[-1][1], "reference_exit": b[-1][1],
            "ours_peak_anon_mb": max(x[2] for x in a) / 1e6, "ours_peak_file_mb": max(x[3] for x in a) / 1e6,
            "reference_peak_anon_mb": max(x[2] for x in b) / 1e6,
        }
        results.append(r)
        print(f"{name:<28} ours {r['ours_s']:7.3f}s  ref {r['reference_s']:7.3f}s  ratio {r['ratio']:5.2f}  "
              f"cpu {r['ours_cpu_s']:6.2f}/{r['reference_cpu_s']:6.2f}s = {r['cpu_ratio']:5.2f}  "
              f"anon {r['ours_peak_anon_mb']:7.1f} MB  file {r['ours_peak_file_mb']:7.1f} MB  exit {r['ours_exit']}",
              flush=True)
    with open(out_path, "w") as f:
        json.dump({"load_average": os.getloadavg(), "cache": CACHE_STATE, "results": results}, f, indent=2)
    print(f"\n{'command':<20} {'wall ours/ref (median)':>26} {'ratio':>6} {'cpu ratio':>9} {'anon MB':>8}"
          f"   ({CACHE_STATE} cache, load {os.getloadavg()[0]:.1f})")
    for r in results:
        print(f"{r['name']:<20} {r['ours_s']:11.3f} / {r['reference_s']:8.3f} s {r['ratio']:6.2f} "
              f"{r['cpu_ratio']:9.2f} {r['ours_peak_anon_mb']:8.1f}")

if __name__ == "__main__":
    main()
