#!/usr/bin/env python3
"""Write the keyspace of the testdata/many cluster through etcd's JSON gateway, in phases.

    load_many.py PHASE --endpoint http://127.0.0.1:PORT --facts FACTS.json

Phase "before": namespaces, configmaps, secrets encrypted with aescbc key1 (Python `cryptography`,
an implementation independent of etcd-autopsy), updates, a delete and a kube-apiserver style
compaction. Phase "after": new keys, deletes, updates, every secret of ns-a re-encrypted with key2
(a key rotation), one secret written back as plaintext (identity), one configmap changed. The facts
file records what each phase did, so tests can assert what `diff` and `compare` must find.
Deterministic: fixed seed, fixed IVs, fixed write order.
"""

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testdata"))
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
import kubebytes as kb  # noqa: E402
from etcdgw import Gateway, b64  # noqa: E402

KEY1 = bytes(range(32))  # fixture keys, fake; named key1/key2 in the EncryptionConfiguration
KEY2 = bytes(range(32, 64))


def pkcs7(b):
    n = 16 - len(b) % 16
    return b + bytes([n]) * n


def aescbc(name, key, iv, plaintext):
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return b"k8s:enc:aescbc:v1:" + name.encode() + b":" + iv + enc.update(pkcs7(plaintext)) + enc.finalize()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=["before", "after"])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--facts", required=True)
    a = ap.parse_args()
    gw = Gateway(a.endpoint)
    rng = random.Random(1515 if a.phase == "before" else 1516)
    facts = json.load(open(a.facts)) if Path(a.facts).exists() else {}
    done = facts.setdefault(a.phase, {"put": [], "deleted": [], "rotated": [], "plaintext": []})

    def put(key, value):
        out = gw.call("/v3/kv/put", {"key": b64(key.encode()), "value": b64(value)})
        done["put"].append([key, int(out["header"]["revision"])])

    def delete(key):
        out = gw.call("/v3/kv/deleterange", {"key": b64(key.encode())})
        done["deleted"].append([key, int(out["header"]["revision"])])

    def secret(ns, name, gen, provider):
        meta = kb.object_meta(name, ns, kb.new_uid(rng), 1_760_000_000 + gen)
        plain = kb.secret(meta, {"token": f"FIXTURE-SECRET-{ns}-{name}-{gen}".encode()})
        if provider == "identity":
            return plain
        key = KEY1 if provider == "key1" else KEY2
        return aescbc(provider, key, rng.randbytes(16), plain)

    def configmap(ns, name, gen):
        meta = kb.object_meta(name, ns, kb.new_uid(rng), 1_760_000_000 + gen)
        return kb.configmap(meta, {"gen": str(gen), "pad": "x" * rng.randrange(50, 400)})

    if a.phase == "before":
        for ns in ("ns-a", "ns-b", "ns-c"):
            put(f"/registry/namespaces/{ns}", kb.namespace(kb.object_meta(ns, "", kb.new_uid(rng), 1_760_000_000)))
        for ns in ("ns-a", "ns-b"):
            for i in range(12):
                put(f"/registry/secrets/{ns}/s{i:02}", secret(ns, f"s{i:02}", 1, "key1"))
        for ns in ("ns-a", "ns-b", "ns-c"):
            for i in range(15):
                put(f"/registry/configmaps/{ns}/cm{i:02}", configmap(ns, f"cm{i:02}", 1))
        for i in range(0, 15, 3):
            put(f"/registry/configmaps/ns-a/cm{i:02}", configmap("ns-a", f"cm{i:02}", 2))
        delete("/registry/configmaps/ns-c/cm14")
        put("/registry/configmaps/ns-c/cm14", configmap("ns-c", "cm14", 3))
        # kube-apiserver style compaction: compact_rev_key = R, then compact at R.
        out = gw.call("/v3/kv/put", {"key": b64(b"compact_rev_key"), "value": b64(b"0")})
        rev = int(out["header"]["revision"])
        gw.call("/v3/kv/compaction", {"revision": str(rev), "physical": True})
        done["compacted_at"] = rev
        for i in range(1, 15, 4):
            put(f"/registry/configmaps/ns-b/cm{i:02}", configmap("ns-b", f"cm{i:02}", 2))
        delete("/registry/configmaps/ns-b/cm13")
        put("/registry/secrets/ns-b/s00", secret("ns-b", "s00", 2, "key1"))
    else:
        for i in range(12):
            k = f"/registry/secrets/ns-a/s{i:02}"
            put(k, secret("ns-a", f"s{i:02}", 2, "key2"))
            done["rotated"].append(k)
        put("/registry/secrets/ns-b/s05", secret("ns-b", "s05", 2, "identity"))
        done["plaintext"].append("/registry/secrets/ns-b/s05")
        for i in range(4):
            put(f"/registry/configmaps/ns-d/new{i}", configmap("ns-d", f"new{i}", 1))
        put("/registry/namespaces/ns-d", kb.namespace(kb.object_meta("ns-d", "", kb.new_uid(rng), 1_760_000_100)))
        delete("/registry/configmaps/ns-c/cm03")
        delete("/registry/secrets/ns-b/s11")
        put("/registry/configmaps/ns-c/cm07", configmap("ns-c", "cm07", 2))
    done["revision"] = gw.revision()
    with open(a.facts, "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
