#!/usr/bin/env python3
"""Puts files into a known page-cache state before a warm benchmark.

Why: on Linux 6.x the same warm file can be twice as fast or slow to map, depending on how its
pages came into the cache. Read sequentially (`cat`, `cp`, a download, etcd-autopsy's own
populated mapping), ext4 keeps them in large folios and mapping 1 GiB costs ~2 ms of kernel
time; faulted in one 4 KiB page at a time (a cold `etcdctl snapshot status`, bbolt, etcd
itself), every page is its own folio and mapping plus unmapping costs ~0.1 s. A warm run
inherits whichever state the previous reader left, so the bench sets it explicitly.

usage: cache.py sequential|paged FILE...
  sequential  evict each file's pages (posix_fadvise DONTNEED: no root needed), then read it
              once front to back: the state after a copy or a download;
  paged       evict, then fault every 4 KiB page in through a mapping with readahead off
              (MADV_RANDOM): the state a cold bbolt reader leaves.
Prints, per file, how long the fill took and the kernel's FileHugePages before and after.
"""
import mmap, os, sys, time

def huge_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("FileHugePages:"):
                return int(line.split()[1])
    return -1

def evict(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd) if os.access(path, os.W_OK) else None
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)

def sequential(path):
    with open(path, "rb", buffering=0) as f:
        while f.read(1 << 20):
            pass

def paged(path):
    size = os.path.getsize(path)
    if size == 0:
        return
    with open(path, "rb") as f:
        m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        m.madvise(mmap.MADV_RANDOM)
        s = 0
        for off in range(0, size, 4096):
            s += m[off]
        m.close()

def main():
    mode, files = sys.argv[1], sys.argv[2:]
    fill = {"sequential": sequential, "paged": paged}[mode]
    for path in files:
        before = huge_kb()
        t = time.perf_counter()
        evict(path)
        fill(path)
        print(f"cache {mode}: {path} filled in {time.perf_counter() - t:.1f} s, "
              f"FileHugePages {before} -> {huge_kb()} kB", file=sys.stderr)

main()
