#!/usr/bin/env python3
"""Crafted bbolt files for tests/hostile.rs (issue #18), laid out by hand after Go bbolt's
internal/common/{page,meta,bucket}.go: page header `id u64, flags u16, count u16, overflow u32`;
leaf element `flags u32, pos u32, ksize u32, vsize u32` (pos relative to the element); branch
element `pos u32, ksize u32, pgid u64`; meta `magic, version, pageSize, flags, root{pgid, seq},
freelist, pgid, txid, checksum (FNV-1a 64 of the 56 bytes before it)`; a sub-bucket value is
`root u64, sequence u64` and, when root is 0, an inline leaf page.

These shapes cannot come from a real etcd (no writer produces them); that is the point.

    make_snapshots.py OUTDIR [--big [LEAVES]]

  shared-inline.db   a `key` bucket that is 40 levels of inline buckets, each level's two
                     elements pointing at the same inner bucket: 2^40 buckets if followed
  shared-value.db    a `key` bucket leaf of 65,535 elements all pointing at one revision whose
                     KeyValue holds a 1 MiB aesgcm-looking value
  long-version.db    a `meta` bucket whose storageVersion is 70,000 characters (item 6)
  many-records.db    (--big only; 105 MB with the default 100 LEAVES) leaves of 65,535 elements
                     sharing one small record each: 6.5 M elements
"""
import struct
import sys
import os

PS = 4096
LEAF, BRANCH, META = 0x02, 0x01, 0x04
BUCKET_FLAG = 0x01


def fnv1a64(b):
    h = 0xCBF29CE484222325
    for x in b:
        h ^= x
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def page_header(pid, flags, count, overflow=0):
    return struct.pack("<QHHI", pid, flags, count, overflow)


def meta_page(pid, root, hwm, txid):
    m = struct.pack("<IIII", 0xED0CDAED, 2, PS, 0)
    m += struct.pack("<QQ", root, 0)
    m += struct.pack("<QQQ", 0xFFFFFFFFFFFFFFFF, hwm, txid)
    m += struct.pack("<Q", fnv1a64(m))
    return (page_header(pid, META, 0) + m).ljust(PS, b"\0")


def leaf(pid, elems, overflow=0):
    """elems: (flags, key, value) laid out as bbolt does (table, then key+value in order)."""
    head = page_header(pid, LEAF, len(elems), overflow)
    table, data = b"", b""
    base = 16 + 16 * len(elems)
    for i, (flags, k, v) in enumerate(elems):
        pos = base + len(data) - (16 + 16 * i)
        table += struct.pack("<IIII", flags, pos, len(k), len(v))
        data += k + v
    return head + table + data


def shared_leaf(pid, n, key, value, overflow=0):
    """A leaf of `n` elements that all point at one key/value."""
    head = page_header(pid, LEAF, n, overflow)
    base = 16 + 16 * n
    table = b"".join(
        struct.pack("<IIII", 0, base - (16 + 16 * i), len(key), len(value)) for i in range(n)
    )
    return head + table + key + value


def inline_bucket(page):
    return struct.pack("<QQ", 0, 0) + page


def shared_inline(levels):
    inner = leaf(0, [(0, b"k", b"v")])
    for _ in range(levels):
        value = inline_bucket(inner)
        # Two elements, one key and value: both point at the same bytes.
        head = page_header(0, LEAF, 2)
        table = struct.pack("<IIII", BUCKET_FLAG, 32, 1, len(value))
        table += struct.pack("<IIII", BUCKET_FLAG, 16, 1, len(value))
        inner = head + table + b"a" + value
    return inner


def revision(main, sub=0):
    return struct.pack(">Q", main) + b"_" + struct.pack(">Q", sub)


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def keyvalue(key, value, rev):
    f = lambda n, wt: varint(n << 3 | wt)
    return (
        f(1, 2) + varint(len(key)) + key
        + f(2, 0) + varint(rev) + f(3, 0) + varint(rev) + f(4, 0) + varint(1)
        + f(5, 2) + varint(len(value)) + value
    )


def pages_for(nbytes):
    return (nbytes + PS - 1) // PS


def write_db(path, pages, root):
    """pages: list of (pid, bytes); bytes may span several blocks (overflow)."""
    hwm = max(pid + pages_for(len(b)) for pid, b in pages)
    out = bytearray(hwm * PS)
    out[0:PS] = meta_page(0, root, hwm, 2)
    out[PS : 2 * PS] = meta_page(1, root, hwm, 1)
    for pid, b in pages:
        out[pid * PS : pid * PS + len(b)] = b
    with open(path, "wb") as f:
        f.write(out)


def top_level(pid, buckets):
    """The root bucket's leaf: (name, bucket value) with the bucket flag."""
    return leaf(pid, [(BUCKET_FLAG, n, v) for n, v in sorted(buckets)])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    meta = inline_bucket(leaf(0, [(0, b"consistent_index", struct.pack(">Q", 5))]))

    # 1. 40 levels of shared inline buckets under `key` (2.6 KB in one page).
    nest = inline_bucket(shared_inline(40))
    write_db(os.path.join(out, "shared-inline.db"), [(2, top_level(2, [(b"key", nest), (b"meta", meta)]))], 2)

    # 2. 65,535 elements → one 1 MiB value, on one leaf page with overflow blocks.
    value = b"k8s:enc:aesgcm:v1:key1:" + bytes(range(256)) * 4096
    kv = keyvalue(b"/registry/secrets/default/s", value, 2)
    body = shared_leaf(3, 65535, revision(2), kv)
    body = shared_leaf(3, 65535, revision(2), kv, pages_for(len(body)) - 1)
    key_bucket = struct.pack("<QQ", 3, 0)
    write_db(
        os.path.join(out, "shared-value.db"),
        [(2, top_level(2, [(b"key", key_bucket), (b"meta", meta)])), (3, body)],
        2,
    )

    # 3. A 70,000-character storageVersion (a table cell past u16 width).
    long_meta_tree = leaf(3, [(0, b"consistent_index", struct.pack(">Q", 5)),
                              (0, b"storageVersion", b"3." + b"9" * 70000)])
    long_meta_tree = leaf(3, [(0, b"consistent_index", struct.pack(">Q", 5)),
                              (0, b"storageVersion", b"3." + b"9" * 70000)],
                          pages_for(len(long_meta_tree)) - 1)
    write_db(
        os.path.join(out, "long-version.db"),
        [(2, top_level(2, [(b"key", inline_bucket(leaf(0, []))),
                           (b"meta", struct.pack("<QQ", 3, 0))])), (3, long_meta_tree)],
        2,
    )

    if "--big" in sys.argv:
        # 4. LEAVES × 65,535 elements sharing one small record per leaf: 6.5 M elements.
        i = sys.argv.index("--big")
        n_leaves = int(sys.argv[i + 1]) if len(sys.argv) > i + 1 else 100
        per = 65535
        pages = []
        pid = 4
        children = []
        for i in range(n_leaves):
            rev = revision(2 + i)
            kv = keyvalue(b"/registry/configmaps/default/c%d" % i, b"v", 2 + i)
            size = 16 + 16 * per + len(rev) + len(kv)
            ov = pages_for(size) - 1
            pages.append((pid, shared_leaf(pid, per, rev, kv, ov)))
            children.append((rev, pid))
            pid += ov + 1
        head = page_header(3, BRANCH, len(children))
        base = 16 + 16 * len(children)
        table, data = b"", b""
        for i, (k, child) in enumerate(children):
            table += struct.pack("<IIQ", base + len(data) - (16 + 16 * i), len(k), child)
            data += k
        pages.append((3, head + table + data))
        pages.append((2, top_level(2, [(b"key", struct.pack("<QQ", 3, 0)), (b"meta", meta)])))
        write_db(os.path.join(out, "many-records.db"), pages, 2)


if __name__ == "__main__":
    main()
