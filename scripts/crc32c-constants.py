#!/usr/bin/env python3
"""Fold constants for src/crc.rs (CRC-32C by carry-less multiplication), and a model of the
scheme checked against a bitwise CRC-32C on random inputs.

Reflected bits: a 16-byte lane loaded little-endian is A(x)*x^64 + B(x). Moving it D bits on
multiplies by x^D; a (x) K1 ^ b (x) K2 gives that modulo P with K1 = x^(63+D) mod P and
K2 = x^(D-1) mod P, bit-reversed into 64 bits (a carry-less product of two reflected 64-bit
values lands one bit short of the lane, hence 63 and -1).

    python3 scripts/crc32c-constants.py    # prints the constants, exits 1 if the model fails
"""
import os
import random
import sys

P = 0x11EDC6F41  # Castagnoli, x^32 + x^28 + x^27 + ... + 1


def clmul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        b >>= 1
    return r


def pmod(a):
    d = P.bit_length() - 1
    while a.bit_length() - 1 >= d:
        a ^= P << (a.bit_length() - 1 - d)
    return a


def xpow(n):
    r, b = 1, 2
    while n:
        if n & 1:
            r = pmod(clmul(r, b))
        b = pmod(clmul(b, b))
        n >>= 1
    return r


def rev64(poly):
    return sum(1 << (63 - d) for d in range(64) if poly >> d & 1)


def constants(d_bits):
    return rev64(xpow(63 + d_bits)), rev64(xpow(d_bits - 1))


def bitwise(crc, data):
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF


def register(r, data):
    """The CRC register (no inversions) after data: what the crc32 instruction computes."""
    return bitwise(r ^ 0xFFFFFFFF, data) ^ 0xFFFFFFFF


def folded(crc, data, lanes):
    """src/crc.rs's scheme with `lanes` 16-byte accumulators (block = 16 * lanes bytes)."""
    n, block, m = len(data), 16 * lanes, (1 << 64) - 1
    if n < block:
        return bitwise(crc, data)

    def fold(w, k):
        return clmul(w & m, k[0]) ^ clmul(w >> 64, k[1])

    def lane(o):
        return int.from_bytes(data[o:o + 16], "little")

    x = [lane(16 * i) for i in range(lanes)]
    x[0] ^= crc ^ 0xFFFFFFFF
    p, k = block, constants(8 * block)
    while p + block <= n:
        x = [fold(x[i], k) ^ lane(p + 16 * i) for i in range(lanes)]
        p += block
    v = 0
    for i in range(lanes):
        d = 128 * (lanes - 1 - i)
        v ^= fold(x[i], constants(d)) if d else x[i]
    while p + 16 <= n:
        v = fold(v, constants(128)) ^ lane(p)
        p += 16
    r = register(0, v.to_bytes(16, "little"))
    return register(r, data[p:]) ^ 0xFFFFFFFF


def main():
    assert bitwise(0, b"123456789") == 0xE3069283
    rnd = random.Random(1)
    for n in list(range(0, 300)) + [1000, 3600, 4096]:
        data, crc = os.urandom(n), rnd.getrandbits(32)
        for lanes in (4, 16):
            if folded(crc, data, lanes) != bitwise(crc, data):
                print(f"model fails: {n} bytes, {lanes} lanes", file=sys.stderr)
                return 1
    for d in (2048, 512, 384, 256, 128):
        k1, k2 = constants(d)
        print(f"const K{d}: (u64, u64) = (0x{k1:016x}, 0x{k2:016x});")
    return 0


if __name__ == "__main__":
    sys.exit(main())
