#!/usr/bin/env python3
"""Runs pairs of commands interleaved (A B A B …) on a warm cache and reports medians and ratios.

For each run it records wall time and, by polling /proc/PID/status every 2 ms, the peak of
RssAnon (anonymous memory: heap, stacks) and RssFile (file-backed pages, e.g. a mapped snapshot),
so mapping a 1 GiB file is not mistaken for using 1 GiB of memory.

usage: measure.py RUNS OUT.json  then on stdin, one comparison per line:
    name<TAB>ours command<TAB>reference command
"""
import json, os, shlex, statistics, subprocess, sys, time

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

def run(cmd):
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
    return time.perf_counter() - start, p.returncode, peak_anon, peak_file

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
        run(ours); run(ref)  # warm the page cache for both
        a, b = [], []
        for _ in range(runs):
            a.append(run(ours))
            b.append(run(ref))
        med = lambda xs: statistics.median(x[0] for x in xs)
        r = {
            "name": name, "ours": ours, "reference": ref,
            "ours_s": med(a), "reference_s": med(b), "ratio": med(a) / med(b),
            "ours_exit": a[-1][1], "reference_exit": b[-1][1],
            "ours_peak_anon_mb": max(x[2] for x in a) / 1e6, "ours_peak_file_mb": max(x[3] for x in a) / 1e6,
            "reference_peak_anon_mb": max(x[2] for x in b) / 1e6,
        }
        results.append(r)
        print(f"{name:<28} ours {r['ours_s']:7.3f}s  ref {r['reference_s']:7.3f}s  ratio {r['ratio']:5.2f}  "
              f"anon {r['ours_peak_anon_mb']:7.1f} MB  file {r['ours_peak_file_mb']:7.1f} MB  exit {r['ours_exit']}",
              flush=True)
    with open(out_path, "w") as f:
        json.dump(results, f, indent=2)

main()
