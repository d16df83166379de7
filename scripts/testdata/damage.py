#!/usr/bin/env python3
"""Write named, damaged copies of a snapshot for reproducing a test by hand. The source is only read.

    damage.py testdata/snapshots/basic.db --all
    damage.py testdata/snapshots/basic.db --truncate 32 --flip 0x2a010 --zero-page 7 --corrupt-meta 0
    damage.py SRC ... --out /tmp/somewhere      (default: a new temp dir; never under testdata/)

One copy per requested damage, named <src-stem>.<damage>.db, e.g. basic.truncate-32.db,
basic.flip-0x2a010.db, basic.zero-page-7.db, basic.corrupt-meta-0.db, basic.smash-meta-1.db. Prints the
paths. The Rust tests make the same kinds of damage in memory; these files are for humans.

Damages (offsets and page numbers count from the start of the file; page size comes from meta 0, or
4096 if meta 0 is unreadable):
  --truncate N        drop the last N bytes (32 removes exactly the SHA-256 trailer of a snapshot)
  --flip OFF          XOR the byte at OFF with 0xFF (decimal or 0x-hex; negative = from the end)
  --zero-page N       overwrite page N with zeros (header included, so the page id no longer matches)
  --corrupt-meta 0|1  flip one byte of the stored checksum of meta page 0/1 (magic and version stay
                      valid, so only the FNV-1a check catches it)
  --smash-meta 0|1    zero the whole meta page 0/1 (meta 0 smashed: the page size must come from meta 1)
  --all               a standard set: truncate 32, 4096, half the file; flip a byte in the last page and
                      in the trailer; zero page 2 and the last page; corrupt and smash each meta
"""

import argparse
import os
import struct
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAGIC = 0xED0CDAED


def page_size(data: bytes) -> int:
    if len(data) >= 28 and struct.unpack_from("<I", data, 16)[0] == MAGIC:
        ps = struct.unpack_from("<I", data, 24)[0]
        if ps >= 1024 and ps & (ps - 1) == 0:
            return ps
    return 4096


def int_auto(s: str) -> int:
    return int(s, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("--out", help="output directory (default: new temp dir)")
    ap.add_argument("--truncate", type=int_auto, action="append", default=[], metavar="N")
    ap.add_argument("--flip", type=int_auto, action="append", default=[], metavar="OFF")
    ap.add_argument("--zero-page", type=int_auto, action="append", default=[], metavar="N")
    ap.add_argument("--corrupt-meta", type=int, action="append", default=[], choices=[0, 1])
    ap.add_argument("--smash-meta", type=int, action="append", default=[], choices=[0, 1])
    ap.add_argument("--all", action="store_true")
    a = ap.parse_args()

    src = Path(a.src)
    data = src.read_bytes()
    ps = page_size(data)
    trailer = len(data) % 512 == 32
    body = len(data) - 32 if trailer else len(data)
    last_page = body // ps - 1

    if a.all:
        a.truncate += [32, 4096, len(data) // 2]
        a.flip += [last_page * ps + 100] + ([len(data) - 1] if trailer else [])
        a.zero_page += [2, last_page]
        a.corrupt_meta += [0, 1]
        a.smash_meta += [0, 1]

    out = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="etcd-autopsy-damaged."))
    testdata = (REPO / "testdata").resolve()
    if out.resolve() == testdata or testdata in out.resolve().parents:
        sys.exit(f"refusing to write under {testdata}: damaged copies are never committed")
    out.mkdir(parents=True, exist_ok=True)

    jobs = []
    for n in a.truncate:
        if not 0 < n <= len(data):
            sys.exit(f"--truncate {n}: file has {len(data)} bytes")
        jobs.append((f"truncate-{n}", data[:-n]))
    for off in a.flip:
        o = off + len(data) if off < 0 else off
        if not 0 <= o < len(data):
            sys.exit(f"--flip {off}: outside the file ({len(data)} bytes)")
        b = bytearray(data)
        b[o] ^= 0xFF
        jobs.append((f"flip-{o:#x}", bytes(b)))
    for n in a.zero_page:
        if not 0 <= n * ps < len(data):
            sys.exit(f"--zero-page {n}: outside the file ({len(data)} bytes, page size {ps})")
        b = bytearray(data)
        end = min((n + 1) * ps, len(data))
        b[n * ps:end] = bytes(end - n * ps)
        jobs.append((f"zero-page-{n}", bytes(b)))
    for m in a.corrupt_meta:
        b = bytearray(data)
        b[m * ps + 72] ^= 0x01  # low byte of the stored checksum (meta.go: checksum u64 @72)
        jobs.append((f"corrupt-meta-{m}", bytes(b)))
    for m in a.smash_meta:
        b = bytearray(data)
        b[m * ps:(m + 1) * ps] = bytes(ps)
        jobs.append((f"smash-meta-{m}", bytes(b)))
    if not jobs:
        ap.error("nothing to do: give at least one damage or --all")

    stem = src.name[:-3] if src.name.endswith(".db") else src.name
    for name, content in jobs:
        p = out / f"{stem}.{name}.db"
        try:
            with open(p, "xb") as f:  # never overwrite
                f.write(content)
        except FileExistsError:
            sys.exit(f"{p} exists; pick another --out")
        os.chmod(p, 0o644)
        print(p)


if __name__ == "__main__":
    main()
