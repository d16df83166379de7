#!/usr/bin/env python3
"""Crafted static_kuberesources tarballs for tests/hostile.rs (issue #18), made with Python's
tarfile and gzip (an implementation independent of ours).

    make_tarballs.py OUTDIR

Writes into OUTDIR:
  misaligned.tar.gz   first member's size field off by one (checksum fixed up), so a reader
                      that trusts it reads a "header" out of the next member's data, which is
                      an aescbc key line (the 41-of-44-characters leak of #18 item 1)
  escapes.tar.gz      a member whose name carries terminal escapes, then the same misalignment
  bad-crc.tar.gz      a good tarball with the gzip CRC-32 flipped
  cut.tar.gz          a good tarball cut 100 bytes before its end (after the config)
  cut-config.tar.gz   the same cut inside the config
  trailing.tar.gz     a good tarball followed by 1,000 bytes of garbage
  many.tar.gz         40,000 kube-apiserver-pod-N revisions (item 5)
  KEY                 the base64 key the tarballs carry (the tests assert it never appears)
"""
import gzip
import io
import os
import random
import sys
import tarfile
import zlib

KEY = "SE9TVElMRS1LRVktMDEyMzQ1Njc4OWFiY2RlZi4uLi4="  # 32 bytes: "HOSTILE-KEY-0123456789abcdef...."
CONFIG = (
    "apiVersion: apiserver.config.k8s.io/v1\n"
    "kind: EncryptionConfiguration\n"
    "resources:\n"
    "- resources:\n"
    "  - secrets\n"
    "  providers:\n"
    "  - aescbc:\n"
    "      keys:\n"
    "      - name: \"1\"\n"
    "        secret: " + KEY + "\n"
    "  - identity: {}\n"
).encode()
PREFIX = "etc/kubernetes/static-pod-resources"


def entry(rev):
    return f"{PREFIX}/kube-apiserver-pod-{rev}/secrets/encryption-config/encryption-config"


def tar_bytes(members, fmt=tarfile.GNU_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            info.mtime = 1700000000
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gz(data):
    return gzip.compress(data, compresslevel=6, mtime=0)


def fix_checksum(block):
    """Recomputes a ustar header checksum (POSIX: sum with the field as spaces)."""
    b = bytearray(block)
    b[148:156] = b" " * 8
    b[148:156] = ("%06o\0 " % sum(b)).encode()
    return bytes(b)


def misaligned(first_name=b"notes/readme", first=b"x" * 512):
    # Member 1 has exactly one block of data; saying 513 makes a reader skip two blocks and land
    # in member 2's data, which is the key file repeated.
    raw = bytearray(tar_bytes([(first_name.decode("latin-1"), first), (entry(3), CONFIG * 20)]))
    raw[124:136] = b"%011o\0" % (len(first) + 1)
    raw[0:512] = fix_checksum(raw[0:512])
    return bytes(raw)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    w = lambda name, data: open(os.path.join(out, name), "wb").write(data)
    w("KEY", KEY.encode())
    w("misaligned.tar.gz", gz(misaligned()))
    # The same, the misaligned member named with terminal escapes (clear screen, window title,
    # a forged line), which the error quotes as the last good member.
    w("escapes.tar.gz", gz(misaligned(b"\x1b[2J\x1b]0;pwned\x07\rall good\n")))
    # Incompressible data after the config, so a cut near the end falls in it, not in the config.
    noise = random.Random(18).randbytes(4000)
    good = gz(tar_bytes([(entry(7), CONFIG), ("static-pod-resources/etcd-pod-3/x", noise)]))
    crc = bytearray(good)
    crc[-8] ^= 0xFF  # first byte of the CRC-32 (RFC 1952 trailer: CRC32, ISIZE)
    w("bad-crc.tar.gz", bytes(crc))
    w("cut.tar.gz", good[:-100])
    w("cut-config.tar.gz", gz(tar_bytes([(entry(7), CONFIG * 40)]))[:150])
    w("trailing.tar.gz", good + bytes(range(256)) * 3 + b"\x00" * 232)
    many = tar_bytes([(entry(n), CONFIG) for n in range(40000)])
    w("many.tar.gz", gz(many))
    assert zlib.crc32(b"") == 0


if __name__ == "__main__":
    main()
