#!/usr/bin/env python3
"""Interleaved A/B timing of whole commands: each command runs once per round, in turn, so a
noisy minute touches all of them alike; two warm-up rounds are dropped, then the median and the
minimum wall time of each are printed with the ratio to the first command's median.

usage: ab.py ROUNDS CMD1 ';;' CMD2 [';;' CMD3 ...]
  (the commands' words as separate arguments; ';;' between commands)
Run `scripts/bench/cache.py sequential FILE...` first: the page-cache state decides mapping costs.
"""
import statistics
import subprocess
import sys
import time


def main():
    rounds = int(sys.argv[1])
    cmds, cur = [], []
    for a in sys.argv[2:]:
        if a == ";;":
            cmds.append(cur)
            cur = []
        else:
            cur.append(a)
    if cur:
        cmds.append(cur)
    times = [[] for _ in cmds]
    for r in range(rounds + 2):
        for i, c in enumerate(cmds):
            t = time.perf_counter()
            subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r >= 2:
                times[i].append((time.perf_counter() - t) * 1000)
    base = statistics.median(times[0])
    for c, t in zip(cmds, times):
        m = statistics.median(t)
        print(f"{m:8.1f} ms median  min {min(t):7.1f}  x{m / base:5.2f}  {' '.join(c)}")


if __name__ == "__main__":
    main()
