#!/usr/bin/env python3
"""Loads a real etcd with Kubernetes-shaped, aescbc-encrypted secrets for the benchmarks.

Encryption follows kube-apiserver's aescbc provider (`k8s:enc:aescbc:v1:<name>:` + IV + AES-CBC
with PKCS#7) using Python `cryptography`, an implementation independent of etcd-autopsy. Keys go
through etcd's JSON gateway (`/v3/kv/txn`, batches of <= 128 puts, several connections) on
loopback only. Snapshots are taken by the caller with `etcdctl snapshot save` at each size.

usage: load_big.py ENDPOINT START END SEED   (writes secrets START..END-1)
"""
import base64, http.client, json, random, sys, threading
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives import padding

endpoint, start, end, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
host, port = endpoint.replace("http://", "").split(":")
rng = random.Random(seed)
KEY = bytes(rng.randrange(256) for _ in range(32))  # key1, also written to the bench configs
VALUE_BYTES = 3600

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)

def field(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data

def secret(ns, name, payload):
    meta = field(1, name.encode()) + field(3, ns.encode())
    data = field(2, field(1, b"token") + field(2, payload))
    raw = field(1, meta) + data + field(3, b"Opaque")
    unknown = field(1, field(1, b"v1") + field(2, b"Secret")) + field(2, raw) + field(3, b"") + field(4, b"")
    return b"k8s\x00" + unknown

def encrypt(plain, r):
    iv = bytes(r.randrange(256) for _ in range(16))
    p = padding.PKCS7(128).padder()
    padded = p.update(plain) + p.finalize()
    enc = Cipher(algorithms.AES(KEY), modes.CBC(iv)).encryptor()
    return b"k8s:enc:aescbc:v1:key1:" + iv + enc.update(padded) + enc.finalize()

def worker(ids):
    r = random.Random(seed * 1_000_003 + ids[0])
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    b64 = lambda b: base64.b64encode(b).decode()
    for i in range(0, len(ids), 128):
        ops = []
        for n in ids[i:i + 128]:
            ns = f"ns-{n % 97:02d}"
            key = f"/registry/secrets/{ns}/secret-{n:07d}".encode()
            payload = r.randbytes(VALUE_BYTES)
            ops.append({"requestPut": {"key": b64(key), "value": b64(encrypt(secret(ns, f"secret-{n:07d}", payload), r))}})
        conn.request("POST", "/v3/kv/txn", json.dumps({"success": ops}), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            sys.exit(f"txn failed: {resp.status} {body[:200]!r}")

ids = list(range(start, end))
threads = [threading.Thread(target=worker, args=(ids[k::4],)) for k in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(base64.b64encode(KEY).decode())
