#!/usr/bin/env python3
"""Independent sanity check of the committed fixtures, in plain Python (no etcd-autopsy code).

    check_snapshot.py testdata/snapshots/basic.db [--facts F] [--status S] [--expect-trailer|--expect-no-trailer]

Checks, and exits 1 on the first failure:
- bbolt layout: page size from meta 0, magic 0xED0CDAED at offset 16, version 2, FNV-1a checksum of both
  metas (bbolt internal/common/meta.go), high-water mark x page size vs the file size;
- the SHA-256 trailer etcdctl appends (size % 512 == 32; sha256(file[:-32]) == last 32 bytes);
- with --status: recomputes etcdctl's `snapshot status` numbers (hash = CRC-32C over bucket names, keys
  and values; revision; totalKey; totalSize — etcdctl/ctlv3/command/snapshot_command.go dbStatus in 3.4)
  by walking the B+trees, and compares;
- with --facts: the `key` bucket holds exactly the loader's records (revision, sub, tombstone, key), live
  keys carry the expected create/mod revision, version, lease and value hash; the `lease` bucket holds the
  expected lease IDs; meta's finishedCompactRev is the compaction revision.
"""

import argparse
import hashlib
import json
import struct
import sys

MAGIC = 0xED0CDAED
BRANCH, LEAF, META, FREELIST = 0x01, 0x02, 0x04, 0x10


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def fnv1a64(b):
    h = 0xCBF29CE484222325
    for x in b:
        h = ((h ^ x) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


_CRC32C = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C.append(_c)


class Crc32c:
    def __init__(self):
        self.c = 0xFFFFFFFF

    def write(self, b):
        c, t = self.c, _CRC32C
        for x in b:
            c = t[(c ^ x) & 0xFF] ^ (c >> 8)
        self.c = c

    def value(self):
        return self.c ^ 0xFFFFFFFF


def parse_meta(buf, off):
    magic, version, page_size, flags, root, seq, freelist, hwm, txid, cksum = struct.unpack_from("<IIIIQQQQQQ", buf, off + 16)
    ok = magic == MAGIC and version == 2 and cksum == fnv1a64(buf[off + 16:off + 72])
    return dict(ok=ok, magic=magic, version=version, page_size=page_size, root=root, freelist=freelist,
                hwm=hwm, txid=txid)


class DB:
    def __init__(self, buf, size):
        self.buf, self.size = buf, size
        self.stats = {"branch_pages": 0, "leaf_pages": 0, "overflow_pages": 0}
        self.m0 = parse_meta(buf, 0)
        if self.m0["magic"] != MAGIC:
            fail(f"meta 0 magic {self.m0['magic']:#x} != {MAGIC:#x} at offset 16")
        self.ps = self.m0["page_size"]
        self.m1 = parse_meta(buf, self.ps)
        if not (self.m0["ok"] and self.m1["ok"]):
            fail(f"meta checksum/version: meta0 ok={self.m0['ok']} meta1 ok={self.m1['ok']}")
        self.meta = max(self.m0, self.m1, key=lambda m: m["txid"])
        self.bucket_stats = {}

    def page(self, pgid):
        off = pgid * self.ps
        if off + 16 > self.size:
            fail(f"page {pgid} beyond end of data")
        pid, flags, count, overflow = struct.unpack_from("<QHHI", self.buf, off)
        if pid != pgid:
            fail(f"page {pgid} stores id {pid}")
        if (pgid + overflow + 1) * self.ps > self.size:
            fail(f"page {pgid} with overflow {overflow} runs past the end of data")
        self.stats["overflow_pages"] += overflow
        self.stats["branch_pages" if flags & BRANCH else "leaf_pages"] += 1
        return off, flags, count

    def items(self, off, flags, count, seen):
        """Yield (key, value, leafflags) of the tree whose page header sits at buffer offset off."""
        if flags & BRANCH:
            for i in range(count):
                e = off + 16 + 16 * i
                pos, ksize, child = struct.unpack_from("<IIQ", self.buf, e)
                if child in seen:
                    fail(f"page {child} referenced twice")
                seen.add(child)
                yield from self.items(*self.page(child), seen)
        elif flags & LEAF:
            for i in range(count):
                e = off + 16 + 16 * i
                lflags, pos, ksize, vsize = struct.unpack_from("<IIII", self.buf, e)
                k = bytes(self.buf[e + pos:e + pos + ksize])
                v = bytes(self.buf[e + pos + ksize:e + pos + ksize + vsize])
                yield k, v, lflags
        else:
            fail(f"page at offset {off} has flags {flags:#x}, expected branch or leaf")

    def bucket(self, value, seen):
        root = struct.unpack_from("<Q", value, 0)[0]
        if root == 0:  # inline bucket: a fake leaf page follows the 16-byte bucket header
            inline = DB.__new__(DB)
            inline.buf = value[16:]
            inline.size = len(inline.buf)
            _, flags, count, _ = struct.unpack_from("<QHHI", inline.buf, 0)
            return list(inline.items(0, flags, count, seen))
        seen.add(root)
        return list(self.items(*self.page(root), seen))

    def buckets(self):
        seen = {self.meta["root"]}
        top = list(self.items(*self.page(self.meta["root"]), seen))
        out = {}
        for k, v, lflags in top:
            if not lflags & 1:
                fail(f"top-level key {k!r} is not a bucket")
            before = dict(self.stats)
            out[k] = [(kk, vv) for kk, vv, _ in self.bucket(v, seen)]
            self.bucket_stats[k] = {n: self.stats[n] - before[n] for n in self.stats}
        return out


def read_varint(b, i):
    n = s = 0
    while True:
        x = b[i]
        i += 1
        n |= (x & 0x7F) << s
        s += 7
        if not x & 0x80:
            return n, i


def decode_kv(b):
    """mvccpb.KeyValue: 1 key, 2 create_revision, 3 mod_revision, 4 version, 5 value, 6 lease."""
    out = {"key": b"", "create": 0, "mod": 0, "version": 0, "value": b"", "lease": 0}
    names = {1: "key", 2: "create", 3: "mod", 4: "version", 5: "value", 6: "lease"}
    i = 0
    while i < len(b):
        tag, i = read_varint(b, i)
        f, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = read_varint(b, i)
        elif wt == 2:
            n, i = read_varint(b, i)
            v, i = bytes(b[i:i + n]), i + n
        else:
            fail(f"unexpected wire type {wt} in KeyValue")
        if f in names:
            out[names[f]] = v
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--facts")
    ap.add_argument("--status")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--expect-trailer", action="store_true")
    g.add_argument("--expect-no-trailer", action="store_true")
    a = ap.parse_args()

    raw = open(a.db, "rb").read()
    size = len(raw)
    has_trailer = size % 512 == 32
    if a.expect_trailer and not has_trailer:
        fail(f"{a.db}: size {size} % 512 = {size % 512}, expected 32 (snapshot with trailer)")
    if a.expect_no_trailer and has_trailer:
        fail(f"{a.db}: size % 512 == 32 but this file should have no trailer")
    data = memoryview(raw)[:size - 32] if has_trailer else memoryview(raw)
    if has_trailer:
        if hashlib.sha256(data).digest() != raw[-32:]:
            fail(f"{a.db}: SHA-256 trailer does not match sha256(file[:-32])")
    db = DB(data, len(data))
    if db.ps != 4096:
        fail(f"page size {db.ps}, expected 4096")
    body = db.meta["hwm"] * db.ps
    if has_trailer and body != len(data):
        fail(f"hwm {db.meta['hwm']} x {db.ps} = {body} != size - 32 = {len(data)}")
    if not has_trailer and body > len(data):
        fail(f"hwm {db.meta['hwm']} x {db.ps} = {body} > file size {len(data)}")
    if has_trailer and db.m0["txid"] != db.m1["txid"] + 1:
        fail(f"snapshot metas: txid {db.m0['txid']} / {db.m1['txid']}, expected T and T-1 (tx.WriteTo)")

    buckets = db.buckets()
    # etcdctl snapshot status, recomputed
    crc, total_key, revision = Crc32c(), 0, 0
    for name in sorted(buckets):
        crc.write(name)
        for k, v in buckets[name]:
            crc.write(k)
            crc.write(v)
            total_key += 1
            if name == b"key":
                revision = struct.unpack(">Q", k[:8])[0]
    status = {"hash": crc.value(), "revision": revision, "totalKey": total_key, "totalSize": body}
    print(f"{a.db}: {size} bytes, page size {db.ps}, hwm {db.meta['hwm']}, txid {db.meta['txid']}, "
          f"trailer {'ok' if has_trailer else 'absent'}, buckets {[b.decode() for b in sorted(buckets)]}, "
          f"status {json.dumps(status)}")
    if b"key" in buckets:
        print(f"{a.db}: `key` bucket pages: {db.bucket_stats[b'key']} (all zeros = inline bucket)")
    if a.status:
        want = json.load(open(a.status))
        if want != status:
            fail(f"status recomputed {status} != etcdctl's {want}")

    if a.facts:
        facts = json.load(open(a.facts))
        keyb = buckets.get(b"key", [])
        got = []
        latest = {}
        for k, v in keyb:
            main, sub = struct.unpack(">Q", k[:8])[0], struct.unpack(">Q", k[9:17])[0]
            if k[8:9] != b"_" or len(k) not in (17, 18) or (len(k) == 18 and k[17:] != b"t"):
                fail(f"odd revision key {k.hex()}")
            kv = decode_kv(v)
            got.append({"revision": f"{main}_{sub}", "key": kv["key"].decode(), "tombstone": len(k) == 18})
            latest[kv["key"]] = (len(k) == 18, kv)
        if got != facts["records"]:
            for i, (x, y) in enumerate(zip(got, facts["records"])):
                if x != y:
                    fail(f"`key` bucket record {i}: file {x} != facts {y}")
            fail(f"`key` bucket has {len(got)} records, facts {len(facts['records'])}")
        live = [k for k, (tomb, _) in latest.items() if not tomb]
        if len(live) != facts["live_keys"]:
            fail(f"{len(live)} live keys in file, facts say {facts['live_keys']}")
        for want in facts["live"]:
            tomb, kv = latest[want["key"].encode()]
            have = {"create_revision": kv["create"], "mod_revision": kv["mod"], "version": kv["version"],
                    "lease": kv["lease"], "value_size": len(kv["value"]),
                    "value_sha256": hashlib.sha256(kv["value"]).hexdigest()}
            if tomb or any(have[f] != want[f] for f in have):
                fail(f"live key {want['key']}: file {have} != facts {want}")
        lease_ids = sorted(struct.unpack(">Q", k)[0] for k, _ in buckets.get(b"lease", []))
        if lease_ids != sorted(lz["id"] for lz in facts["leases"]):
            fail(f"lease bucket {lease_ids} != facts {facts['leases']}")
        meta = dict(buckets.get(b"meta", []))
        fin = meta.get(b"finishedCompactRev")
        fin = struct.unpack(">Q", fin[:8])[0] if fin else 0
        if fin != facts["compact_revision"]:
            fail(f"meta finishedCompactRev {fin} != facts compact_revision {facts['compact_revision']}")
        if "alarms" in facts:
            # alarm bucket key = AlarmMember{1 memberID uint64, 2 alarm enum}, value empty
            alarms = []
            for k, _ in buckets.get(b"alarm", []):
                fields, i = {}, 0
                while i < len(k):
                    tag, i = read_varint(k, i)
                    fields[tag >> 3], i = read_varint(k, i)
                alarms.append({"member_id": fields.get(1, 0),
                               "alarm": {0: "NONE", 1: "NOSPACE", 2: "CORRUPT"}.get(fields.get(2, 0), "?")})
            if sorted(alarms, key=str) != sorted(facts["alarms"], key=str):
                fail(f"alarm bucket {alarms} != facts {facts['alarms']}")
            print(f"{a.db}: alarm bucket {alarms}")
        print(f"{a.db}: matches {a.facts}: {len(got)} records, {facts['live_keys']} live, "
              f"{facts['tombstones']} tombstones, leases {lease_ids}, compacted at {fin}")


if __name__ == "__main__":
    main()
