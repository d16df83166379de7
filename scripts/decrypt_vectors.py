#!/usr/bin/env python3
"""Independent test vectors for src/decrypt (Python `cryptography` + PyNaCl, not our Rust code).

Prints Rust constants; the output is pasted into src/decrypt/vectors.rs. Deterministic: keys, IVs
and nonces are fixed, and the chance-padding searches walk a counter.
"""
import hashlib
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
import nacl.secret

def cbc_enc(key, iv, pt):
    pad = 16 - len(pt) % 16
    pt = pt + bytes([pad]) * pad
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(pt) + e.finalize()

def cbc_dec_raw(key, iv, ct):
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return d.update(ct) + d.finalize()

def go_unpad_verdict(res):
    # kubernetes/apiserver pkg/storage/value/encrypt/aes/aes.go (cbc TransformFromStorage)
    c = res[-1]
    if c == 0 or c > len(res):
        return "invalid PKCS7 data (empty or not padded)"
    if any(b != c for b in res[len(res) - c:]):
        return "invalid padding on input"
    return "ok"

def unknown(api, kind, raw):
    tm = b"\x0a" + bytes([len(api)]) + api + b"\x12" + bytes([len(kind)]) + kind
    return b"k8s\x00" + b"\x0a" + bytes([len(tm)]) + tm + b"\x12" + bytes([len(raw)]) + raw

def rs(name, b):
    esc = "".join("\\x%02x" % x for x in b)
    print("pub const %s: &[u8] = b\"%s\";" % (name, esc))

KEY1 = bytes(range(32))
KEY_OTHER = hashlib.sha256(b"master-3 key1").digest()
IV = bytes(range(0x40, 0x50))
PLAIN = unknown(b"v1", b"Secret", b"\x0a\x0f\x0a\x02s1\x12\x07default" + b"PLAINTEXT-MARKER-1234")
rs("KEY1", KEY1)
rs("KEY_OTHER", KEY_OTHER)
rs("PLAIN", PLAIN)
ct = cbc_enc(KEY1, IV, PLAIN)
rs("CBC_KEY1", b"k8s:enc:aescbc:v1:key1:" + IV + ct)
print("// verdict with KEY_OTHER:", go_unpad_verdict(cbc_dec_raw(KEY_OTHER, IV, ct)))
# A name with ':' in it.
rs("CBC_COLON", b"k8s:enc:aescbc:v1:a:b:" + IV + ct)
# Short JSON plaintext that fits one block.
ct_short = cbc_enc(KEY1, IV, b"{}")
rs("CBC_SHORT_JSON", b"k8s:enc:aescbc:v1:key1:" + IV + ct_short)

# Wrong keys that hit each verdict, found by walking a counter.
found = {}
i = 0
while len(found) < 3:
    k = hashlib.sha256(b"wrong%d" % i).digest()
    v = go_unpad_verdict(cbc_dec_raw(k, IV, ct))
    if v not in found:
        found[v] = (i, k)
    i += 1
for v, (i, k) in sorted(found.items()):
    tag = {"ok": "PADDING_PASSES", "invalid padding on input": "BAD_PADDING",
           "invalid PKCS7 data (empty or not padded)": "BAD_PKCS7"}[v]
    rs(f"WRONG_KEY_{tag}", k)
    res = cbc_dec_raw(k, IV, ct)
    print(f"// WRONG_KEY_{tag}: sha256(b'wrong{i}'), last byte {res[-1]}")

# AES-GCM: nonce(12) + ct + tag, AAD = the etcd key.
NONCE = bytes(range(0x60, 0x6c))
ETCD_KEY = b"/registry/secrets/default/s1"
g = AESGCM(KEY1[:16]).encrypt(NONCE, PLAIN, ETCD_KEY)
rs("GCM_KEY1_128", b"k8s:enc:aesgcm:v1:gk:" + NONCE + g)
rs("GCM_ETCD_KEY", ETCD_KEY)

# secretbox (XSalsa20-Poly1305): nonce(24) + tag(16) + ct.
SB_NONCE = bytes(range(0x80, 0x98))
box = nacl.secret.SecretBox(KEY1).encrypt(PLAIN, SB_NONCE)
assert bytes(box[:24]) == SB_NONCE
rs("SECRETBOX_KEY1", b"k8s:enc:secretbox:v1:sb:" + bytes(box))
