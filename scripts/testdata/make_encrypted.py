#!/usr/bin/env python3
"""Encrypted etcd test fixtures for etcd-autopsy, made independently of the Rust code.

Implements the Kubernetes encryption-at-rest value formats (kubernetes/apiserver
pkg/storage/value/encrypt/{aes,secretbox,envelope/kmsv2}, pkg/server/options/encryptionconfig/config.go)
with Python `cryptography` and PyNaCl, and models kube-apiserver's read path
(value.PrefixTransformers, utilerrors.NewAggregate/Reduce) to compute, per node, the exact error string.

Sub-commands (driven by scripts/make-encrypted-testdata.sh):
  build  --out testdata --ops DIR   write configs, tarballs, logs, expected.json and the etcd
                                    operation lists DIR/<dataset>.jsonl (put/delete, base64)
  load   --ops FILE --endpoint URL  replay one operation list into etcd via the v3 JSON gateway
  status --expected FILE --status FILE
                                    add the real `etcdctl snapshot status` numbers to expected.json

Everything random comes from a SHA-256 counter stream keyed by a fixed seed and a per-purpose
label (never os.urandom), so inputs are byte-identical on every run. The snapshots themselves
differ between runs only in etcd's own metadata (member/cluster ids from the random ports).
"""

import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import struct
import sys
import tarfile
import urllib.request

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
import nacl.exceptions
import nacl.secret

SEED = b"etcd-autopsy/encrypted-fixtures/v1"
KMS_SENTINEL = "kms-required"  # per-node outcome for kms records: needs the KMS plugin, not decidable offline


# ---------------------------------------------------------------------------------------------
# Deterministic randomness

class Rng:
    """SHA-256(seed || label || counter) stream. One instance per purpose."""

    def __init__(self, label):
        self.label = label.encode()
        self.ctr = 0
        self.buf = b""

    def read(self, n):
        while len(self.buf) < n:
            self.buf += hashlib.sha256(SEED + b"\0" + self.label + b"\0" + struct.pack(">Q", self.ctr)).digest()
            self.ctr += 1
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def below(self, n):
        return int.from_bytes(self.read(8), "big") % n

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def suffix(self, n=5):
        # k8s.io/apimachinery/pkg/util/rand alphabet (no vowels, no 0/1/3)
        return "".join(self.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))

    def uid(self):
        h = self.read(16).hex()
        return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def token(self, n):
        return base64.urlsafe_b64encode(self.read(n)).decode().rstrip("=")


def fingerprint(key):
    return "sha256:" + hashlib.sha256(key).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Protobuf wire encoding (just enough for runtime.Unknown and a few core types)

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_bytes(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def f_str(num, s):
    return f_bytes(num, s.encode())


def f_varint(num, n):
    return varint(num << 3) + varint(n)


def pb_time(seconds):
    return f_varint(1, seconds) + f_varint(2, 0)


def object_meta(name, namespace, uid, created, labels=None, managed=None):
    b = f_str(1, name) + f_str(2, "") + (f_str(3, namespace) if namespace else b"")
    b += f_str(4, "") + f_str(5, uid) + f_str(6, "") + f_varint(7, 0) + f_bytes(8, pb_time(created))
    for k in sorted(labels or {}):
        b += f_bytes(11, f_str(1, k) + f_str(2, labels[k]))
    # managedFields (ObjectMeta 17): ManagedFieldsEntry {1 manager, 2 operation, 3 apiVersion, 4 time,
    # 6 fieldsType, 7 fieldsV1 {1 raw JSON}} (apimachinery meta/v1 generated.proto).
    for m in managed or []:
        b += f_bytes(17, f_str(1, m["manager"]) + f_str(2, m["operation"]) + f_str(3, "v1")
                     + f_bytes(4, pb_time(m["time"])) + f_str(6, "FieldsV1")
                     + f_bytes(7, f_bytes(1, m["fields"].encode())))
    return b


def k8s_unknown(api_version, kind, raw):
    return (b"k8s\x00" + f_bytes(1, f_str(1, api_version) + f_str(2, kind)) + f_bytes(2, raw)
            + f_str(3, "") + f_str(4, ""))


def secret_pb(name, ns, uid, created, data, typ, managed=None):
    raw = f_bytes(1, object_meta(name, ns, uid, created, managed=managed))
    for k in sorted(data):
        raw += f_bytes(2, f_str(1, k) + f_bytes(2, data[k]))
    raw += f_str(3, typ)
    return k8s_unknown("v1", "Secret", raw)


def configmap_pb(name, ns, uid, created, data):
    raw = f_bytes(1, object_meta(name, ns, uid, created))
    for k in sorted(data):
        raw += f_bytes(2, f_str(1, k) + f_str(2, data[k]))
    return k8s_unknown("v1", "ConfigMap", raw)


def route_pb(name, ns, uid, created, host, service, marker):
    spec = f_str(1, host) + f_bytes(3, f_str(1, "Service") + f_str(2, service))
    meta = object_meta(name, ns, uid, created)
    # annotation carrying the marker (field 12 = annotations)
    meta += f_bytes(12, f_str(1, "autopsy.example.com/marker") + f_str(2, marker))
    raw = f_bytes(1, meta) + f_bytes(2, spec) + f_bytes(3, b"")
    return k8s_unknown("route.openshift.io/v1", "Route", raw)


def oauth_token_pb(name, uid, created, user, marker):
    raw = (f_bytes(1, object_meta(name, "", uid, created)) + f_str(2, "openshift-browser-client")
           + f_varint(3, 86400) + f_str(4, "user:full") + f_str(5, "https://oauth.example.com/token/display")
           + f_str(6, user) + f_str(7, marker) + f_str(8, "sha256~" + marker))
    return k8s_unknown("oauth.openshift.io/v1", "OAuthAccessToken", raw)


def custom_json(api_version, kind, name, ns, uid, created_iso, spec):
    obj = {"apiVersion": api_version, "kind": kind,
           "metadata": {"creationTimestamp": created_iso, "generation": 1, "name": name,
                        "namespace": ns, "uid": uid},
           "spec": spec}
    return (json.dumps(obj, separators=(",", ":"), sort_keys=False) + "\n").encode()


# ---------------------------------------------------------------------------------------------
# Providers: write side

def pkcs7(data):
    pad = 16 - len(data) % 16
    return data + bytes([pad]) * pad


def aescbc_seal(key, iv, plaintext):
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + enc.update(pkcs7(plaintext)) + enc.finalize()


def cbc_raw_decrypt(key, iv, ct):
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(ct) + dec.finalize()


def aesgcm_seal(key, nonce, plaintext, aad):
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def secretbox_seal(key, nonce, plaintext):
    sealed = nacl.secret.SecretBox(key).encrypt(plaintext, nonce)
    assert bytes(sealed[:24]) == nonce
    return bytes(sealed)  # nonce(24) + tag(16) + ciphertext: the same layout as x/crypto/nacl/secretbox.Seal


def kmsv2_envelope(seed, info, nonce, plaintext, aad, key_id, wrapped_seed, annotations):
    """EncryptedObject with encryptedDEKSourceType = HKDF_SHA256_XNONCE_AES_GCM_SEED (1).

    encryptedData = info(32) + nonce(12) + AES-GCM(HKDF-Expand(SHA-256, seed, info), aad = etcd key).
    encryptedDEKSource would be the seed wrapped by the KMS; here it is fake bytes."""
    dek = HKDFExpand(algorithm=hashes.SHA256(), length=32, info=info).derive(seed)
    data = info + aesgcm_seal(dek, nonce, plaintext, aad)
    msg = f_bytes(1, data) + f_str(2, key_id) + f_bytes(3, wrapped_seed)
    for k in sorted(annotations):
        msg += f_bytes(4, f_str(1, k) + f_bytes(2, annotations[k]))
    msg += f_varint(5, 1)
    return msg


# ---------------------------------------------------------------------------------------------
# kube-apiserver read path model (TransformFromStorage)

class Agg(list):
    """utilerrors.aggregate"""


def reduce_errs(errs):
    # errors.Reduce(errors.NewAggregate(errs))
    errs = [e for e in errs if e is not None]
    if not errs:
        return None
    if len(errs) == 1:
        return errs[0]
    return Agg(errs)


def err_string(e):
    if not isinstance(e, Agg):
        return e
    if len(e) == 1:
        return err_string(e[0])
    seen = []

    def visit(agg):
        for x in agg:
            if isinstance(x, Agg):
                visit(x)
            elif x not in seen:
                seen.append(x)

    visit(e)
    if len(seen) == 1:
        return seen[0]
    return "[" + ", ".join(seen) + "]"


class Res:
    def __init__(self, data=None, err=None, kms=False):
        self.data, self.err, self.kms = data, err, kms


def prefix_transformers(entries, data, no_match):
    errs = []
    for prefix, fn in entries:
        if data.startswith(prefix):
            r = fn(data[len(prefix):])
            if len(prefix) == 0 and r.err is not None:
                continue  # identity's failure is swallowed
            if r.err is not None:
                errs.append(r.err)
                continue
            return r
    e = reduce_errs(errs)
    if e is not None:
        return Res(err=e)
    return Res(err=no_match)


def cbc_open(key, data):
    if len(data) < 16:
        return Res(err="the stored data was shorter than the required size")
    iv, ct = data[:16], data[16:]
    if len(ct) % 16 != 0:
        return Res(err="the stored data is not a multiple of the block size")
    out = cbc_raw_decrypt(key, iv, ct)
    c = out[-1]
    if c == 0 or c > len(out):
        return Res(err="invalid PKCS7 data (empty or not padded)")
    if any(b != c for b in out[len(out) - c:]):
        return Res(err="invalid padding on input")
    return Res(data=out[:len(out) - c])


def gcm_open(key, data, aad):
    if len(data) < 12:
        return Res(err="the stored data was shorter than the required size")
    try:
        return Res(data=AESGCM(key).decrypt(data[:12], data[12:], aad))
    except InvalidTag:
        return Res(err="cipher: message authentication failed")


def secretbox_open(key, data):
    if len(data) < 16 + 24:
        return Res(err="the stored data was shorter than the required size")
    try:
        return Res(data=nacl.secret.SecretBox(key).decrypt(data[24:], data[:24]))
    except nacl.exceptions.CryptoError:
        return Res(err="output array was not large enough for encryption")


def identity_open(data):
    if data.startswith(b"k8s:enc:"):
        return Res(err="identity transformer tried to read encrypted data")
    return Res(data=data)


def node_read(node, keys, resource, etcd_key, data):
    """One node's kube-apiserver reading `data` stored at `etcd_key` (kube >= 1.26 semantics)."""
    providers = node["resources"].get(resource)
    if providers is None:
        return identity_open(data)  # no config for the resource: identity.NewEncryptCheckTransformer
    entries = []
    for p in providers:
        t = p["type"]
        if t in ("aescbc", "aesgcm", "secretbox"):
            inner = []
            for name, kid in p["keys"]:
                k = keys[kid]["bytes"]
                if t == "aescbc":
                    fn = (lambda k: lambda d: cbc_open(k, d))(k)
                elif t == "aesgcm":
                    fn = (lambda k: lambda d: gcm_open(k, d, etcd_key.encode()))(k)
                else:
                    fn = (lambda k: lambda d: secretbox_open(k, d))(k)
                inner.append(((name + ":").encode(), fn))
            msg = ("no matching key was found for the provided Secretbox transformer" if t == "secretbox"
                   else "no matching key was found for the provided AES transformer")
            entries.append((f"k8s:enc:{t}:v1:".encode(),
                            (lambda inner, msg: lambda d: prefix_transformers(inner, d, msg))(inner, msg)))
        elif t == "kms":
            entries.append((f"k8s:enc:kms:v2:{p['name']}:".encode(), lambda d: Res(kms=True)))
        elif t == "identity":
            entries.append((b"", identity_open))
        else:
            raise ValueError(t)
    return prefix_transformers(entries, data, "no matching prefix found")


# Which apiserver serves a resource (OpenShift 4): openshift-apiserver and oauth-apiserver serve the
# OpenShift API groups below, kube-apiserver everything else. A node stands for one apiserver
# ("apiserver" in its config, default kube-apiserver); it never reads another apiserver's resources.
KAS = "kube-apiserver"
NOT_SERVED = "not-served"
AGGREGATED_GROUPS = {
    "openshift-apiserver": {"apps.openshift.io", "authorization.openshift.io", "build.openshift.io",
                            "image.openshift.io", "project.openshift.io", "quota.openshift.io",
                            "route.openshift.io", "security.openshift.io", "template.openshift.io"},
    "oauth-apiserver": {"oauth.openshift.io", "user.openshift.io"},
}


def served_by(nodes, resource):
    group = resource.split(".", 1)[1] if "." in resource else ""
    present = {cfg.get("apiserver", KAS) for cfg in nodes.values()}
    for server, groups in AGGREGATED_GROUPS.items():
        if group in groups and server in present:
            return server
    return KAS


def looks_like_object(pt):
    return pt.startswith(b"k8s\x00\x0a") or pt.startswith(b"{")


def outcome(node, keys, resource, etcd_key, data):
    """-> (string, garbage): "ok" / exact error / kms sentinel; garbage = transform ok but not an object."""
    r = node_read(node, keys, resource, etcd_key, data)
    if r.kms:
        return KMS_SENTINEL, False
    if r.err is not None:
        return err_string(r.err), False
    return "ok", not looks_like_object(r.data)


# ---------------------------------------------------------------------------------------------
# Datasets

class Dataset:
    def __init__(self, name, nodes, keys, marker_base):
        self.name = name
        self.nodes = nodes          # ordered dict node -> {"resources": {gr: [provider...]}}
        self.keys = keys            # key id -> {"bytes", "provider", "note"}
        self.ops = []
        self.rev = 1                # a fresh etcd is at revision 1; the first put gets 2
        self.versions = {}          # etcd key -> list of revision dicts
        self.deleted = {}
        self.marker_n = marker_base
        self.rng_iv = Rng(f"{name}/iv")
        self.created = 1794830400   # 2026-11-16T12:00:00Z (fixed)

    def marker(self):
        self.marker_n += 1
        return f"AUTOPSY-MARKER-{self.marker_n}"

    def outcomes(self, resource, etcd_key, value):
        server = served_by(self.nodes, resource)
        return {n: (outcome(cfg, self.keys, resource, etcd_key, value) if cfg.get("apiserver", KAS) == server
                    else (NOT_SERVED, False))
                for n, cfg in self.nodes.items()}

    def cbc_keys(self):
        return [k for k, v in self.keys.items() if v["provider"] == "aescbc"]

    def seal(self, etcd_key, resource, plaintext, provider, key_name, key_id, want, trial=None, rng=None):
        """Encrypt, re-drawing IV/nonce until every node's outcome is exactly `want` and every other
        aescbc key of the dataset gives the verdict in `trial` (default: `invalid padding on input`),
        so no key decrypts anything 'by chance' unless a record is designed to."""
        rng = rng or self.rng_iv
        trial = trial or {}
        for attempt in range(1, 500000):
            if provider == "identity":
                value = plaintext
            elif provider == "aescbc":
                value = (b"k8s:enc:aescbc:v1:" + key_name.encode() + b":"
                         + aescbc_seal(self.keys[key_id]["bytes"], rng.read(16), plaintext))
            elif provider == "aesgcm":
                value = (b"k8s:enc:aesgcm:v1:" + key_name.encode() + b":"
                         + aesgcm_seal(self.keys[key_id]["bytes"], rng.read(12), plaintext, etcd_key.encode()))
            elif provider == "secretbox":
                value = (b"k8s:enc:secretbox:v1:" + key_name.encode() + b":"
                         + secretbox_seal(self.keys[key_id]["bytes"], rng.read(24), plaintext))
            else:
                raise ValueError(provider)
            got = self.outcomes(resource, etcd_key, value)
            if not all(want_matches(want[n], got[n]) for n in self.nodes):
                if provider not in ("aescbc",):
                    raise RuntimeError(f"{etcd_key}: outcomes {got} != wanted {want}")
                continue
            if provider == "aescbc":
                body = value[len(b"k8s:enc:aescbc:v1:" + key_name.encode() + b":"):]
                ok = True
                for kid in self.cbc_keys():
                    if kid == key_id:
                        continue
                    r = cbc_open(self.keys[kid]["bytes"], body)
                    verdict = "valid" if r.err is None else r.err
                    expect = trial.get(kid, "invalid padding on input")
                    if verdict != expect:
                        ok = False
                        break
                if not ok:
                    continue
            return value, attempt, got
        raise RuntimeError(f"{etcd_key}: no IV found for {want}")

    def put(self, etcd_key, resource, value, info):
        self.rev += 1
        vs = self.versions.setdefault(etcd_key, [])
        create = vs[-1]["create_revision"] if vs and not vs[-1].get("deleted") else self.rev
        rec = dict(info)
        rec.update({"key": etcd_key, "resource": resource, "create_revision": create, "mod_revision": self.rev,
                    "version": (len(vs) + 1), "value_len": len(value)})
        rec["nodes_raw"] = self.outcomes(resource, etcd_key, value)
        vs.append(rec)
        self.ops.append({"op": "put", "key": base64.b64encode(etcd_key.encode()).decode(),
                         "value": base64.b64encode(value).decode(), "expect_revision": self.rev})
        return value

    def write(self, etcd_key, resource, plaintext, provider, key_name=None, key_id=None, want=None,
              case="ordinary", marker=None, trial=None, writer=None, note=None):
        want = want or {n: "ok" for n in self.nodes}
        value, attempts, _ = self.seal(etcd_key, resource, plaintext, provider, key_name, key_id, want, trial)
        info = {"provider": provider, "key_name": key_name, "key_id": key_id,
                "key_fingerprint": fingerprint(self.keys[key_id]["bytes"]) if key_id else None,
                "marker": marker, "case": case, "iv_attempts": attempts,
                # Not in expected.json: what a later phase rewrites (openshift-managed-after).
                "_plaintext": plaintext, "_value": value}
        if writer:
            info["written_by"] = writer
        if note:
            info["note"] = note
        return self.put(etcd_key, resource, value, info)

    def put_raw(self, etcd_key, resource, value, info):
        return self.put(etcd_key, resource, value, info)

    def delete(self, etcd_key):
        self.rev += 1
        self.deleted[etcd_key] = self.rev
        self.versions[etcd_key].append({"deleted": True, "mod_revision": self.rev})
        self.ops.append({"op": "delete", "key": base64.b64encode(etcd_key.encode()).decode(),
                         "expect_revision": self.rev})

    # -- expected.json ------------------------------------------------------------------------
    def record_json(self, rec):
        out = {k: rec[k] for k in ("key", "resource", "create_revision", "mod_revision", "version",
                                   "provider", "key_name", "key_id", "key_fingerprint", "marker", "case")}
        for k in ("written_by", "note"):
            if k in rec:
                out[k] = rec[k]
        out["nodes"] = {n: v[0] for n, v in rec["nodes_raw"].items()}
        out["garbage_on"] = [n for n, v in rec["nodes_raw"].items() if v[1]]
        return out

    def expected(self, semantics, extra=None):
        live, history, deleted = [], [], []
        for key in sorted(self.versions, key=lambda s: s.encode()):
            vs = self.versions[key]
            puts = [v for v in vs if not v.get("deleted")]
            if vs[-1].get("deleted"):
                deleted.append({"key": key, "deleted_at_revision": vs[-1]["mod_revision"],
                                "revisions": [self.record_json(v) for v in puts]})
                continue
            live.append(self.record_json(puts[-1]))
            for v in puts[:-1]:
                history.append(self.record_json(v))
        summary = {}
        for n in self.nodes:
            errs = {}
            ok = garbage = kms = not_served = 0
            for r in live:
                o = r["nodes"][n]
                if o == "ok":
                    ok += 1
                    if n in r["garbage_on"]:
                        garbage += 1
                elif o == KMS_SENTINEL:
                    kms += 1
                elif o == NOT_SERVED:
                    not_served += 1
                else:
                    errs[o] = errs.get(o, 0) + 1
            summary[n] = {"records": len(live), "ok": ok, "ok_but_garbage": garbage, "kms_required": kms,
                          "errors": dict(sorted(errs.items())), "error_total": sum(errs.values())}
            if not_served:
                summary[n]["not_served"] = not_served
        # What a LIST does: walk keys of one resource in byte order, stop at the first unreadable one.
        list_first = {}
        for n in self.nodes:
            per = {}
            for r in live:  # live is in byte order
                if r["resource"] in per:
                    continue
                o = r["nodes"][n]
                if o not in ("ok", KMS_SENTINEL, NOT_SERVED) or n in r["garbage_on"]:
                    per[r["resource"]] = {"key": r["key"],
                                          "error": o if o != "ok" else "decode error: transform returned garbage"}
            list_first[n] = dict(sorted(per.items()))
        keys = {}
        for kid, k in self.keys.items():
            used = []
            for n, cfg in self.nodes.items():
                for gr, provs in cfg["resources"].items():
                    for p in provs:
                        for name, pk in p.get("keys", []):
                            if pk == kid:
                                used.append({"node": n, "resource": gr, "provider": p["type"], "name": name})
            keys[kid] = {"fingerprint": fingerprint(k["bytes"]), "provider": k["provider"],
                         "size": len(k["bytes"]), "note": k["note"], "configured": used}
        doc = {"format": "etcd-autopsy-expected/v1", "dataset": self.name, "semantics": semantics,
               "kms_sentinel": KMS_SENTINEL,
               "fingerprint": "sha256: + first 16 hex digits of SHA-256 over the raw key bytes",
               "nodes": {n: cfg["source"] for n, cfg in self.nodes.items()},
               "final_revision": self.rev, "keys": keys, "summary": summary,
               "list_first_failure": list_first, "records": live, "history": history, "deleted": deleted}
        if extra:
            doc.update(extra)
        return doc


def want_matches(w, got):
    s, garbage = got
    if w == "garbage":
        return s == "ok" and garbage
    if w == "ok":
        return s == "ok" and not garbage
    return s == w


def b64(b):
    return base64.b64encode(b).decode()


# ---------------------------------------------------------------------------------------------
# Config writers

def yaml_config(node_name, cfg, keys, header):
    lines = [f"# {header}", "# TEST KEYS ONLY, derived from a fixed seed by scripts/testdata/make_encrypted.py.",
             "apiVersion: apiserver.config.k8s.io/v1", "kind: EncryptionConfiguration", "resources:"]
    for gr, provs in cfg["resources"].items():
        lines += ["  - resources:", f"      - {gr}", "    providers:"]
        for p in provs:
            t = p["type"]
            if t == "identity":
                lines.append("      - identity: {}")
            elif t == "kms":
                lines += ["      - kms:", f"          apiVersion: {p['apiVersion']}", f"          name: {p['name']}",
                          f"          endpoint: {p['endpoint']}", "          timeout: 3s"]
            else:
                lines += [f"      - {t}:", "          keys:"]
                for name, kid in p["keys"]:
                    lines += [f"            - name: {json.dumps(name)}",
                              f"              secret: {b64(keys[kid]['bytes'])}"]
    return "\n".join(lines) + "\n"


def openshift_json_config(cfg, keys):
    res = []
    for gr, provs in cfg["resources"].items():
        ps = []
        for p in provs:
            if p["type"] == "identity":
                ps.append({"identity": {}})
            else:
                ps.append({p["type"]: {"keys": [{"name": n, "secret": b64(keys[k]["bytes"])} for n, k in p["keys"]]}})
        res.append({"resources": [gr], "providers": ps})
    doc = {"kind": "EncryptionConfiguration", "apiVersion": "apiserver.config.k8s.io/v1", "resources": res}
    return json.dumps(doc, separators=(",", ":")).encode()


# ---------------------------------------------------------------------------------------------
# Dataset 1: multi (3 control-plane nodes, several providers)

def iso(ts):
    import datetime
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def secret_managed(manager, data, created):
    """The managedFields entry an apiserver records for a client that created this Secret."""
    fields = {"f:data": {".": {}, **{f"f:{k}": {} for k in sorted(data)}}, "f:type": {}}
    return [{"manager": manager, "operation": "Update", "time": created,
             "fields": json.dumps(fields, separators=(",", ":"), sort_keys=True)}]


def secret_payload(rng, ds, name, ns, marker, typ=None, manager=None):
    typ = typ or rng.choice(["Opaque", "Opaque", "kubernetes.io/service-account-token", "kubernetes.io/tls",
                             "kubernetes.io/dockerconfigjson", "kubernetes.io/basic-auth"])
    m = marker
    if typ == "kubernetes.io/service-account-token":
        data = {"ca.crt": f"-----BEGIN CERTIFICATE-----\n{m} fixture-ca\n-----END CERTIFICATE-----\n".encode(),
                "namespace": f"{ns} {m}".encode(), "token": f"eyJhbGciOiJSUzI1NiJ9.{m}.{rng.token(24)}".encode()}
    elif typ == "kubernetes.io/tls":
        data = {"tls.crt": f"-----BEGIN CERTIFICATE-----\n{m} {rng.token(30)}\n-----END CERTIFICATE-----\n".encode(),
                "tls.key": f"-----BEGIN PRIVATE KEY-----\n{m} {rng.token(30)}\n-----END PRIVATE KEY-----\n".encode()}
    elif typ == "kubernetes.io/dockerconfigjson":
        data = {".dockerconfigjson": json.dumps({"auths": {"registry.example.com": {
            "auth": f"{m}:{rng.token(12)}"}}}, separators=(",", ":")).encode()}
    elif typ == "kubernetes.io/basic-auth":
        data = {"username": f"svc-{name} {m}".encode(), "password": f"{m}-{rng.token(16)}".encode()}
    else:
        data = {"password": f"{m}-{rng.token(18)}".encode(), "api-key": f"{m}/{rng.token(12)}".encode()}
    ds.created += 37
    managed = secret_managed(manager, data, ds.created) if manager else None
    return secret_pb(name, ns, rng.uid(), ds.created, data, typ, managed)


def build_multi():
    kr = Rng("multi/keys")
    keys = {
        "K1": {"bytes": kr.read(32), "provider": "aescbc", "note": "secrets key1 on cp-1 and cp-2 (the good one)"},
        "K1b": {"bytes": kr.read(32), "provider": "aescbc", "note": "secrets key1 on cp-3 (same name, WRONG secret)"},
        "K0": {"bytes": kr.read(24), "provider": "aescbc", "note": "secrets key0, older read key, cp-1 and cp-2 only (24 bytes)"},
        "KLOST": {"bytes": kr.read(32), "provider": "aescbc", "note": "secrets 'key-rotated-away': in no config"},
        "G1": {"bytes": kr.read(16), "provider": "aesgcm", "note": "configmaps gcm1, all nodes (16 bytes)"},
        "S1": {"bytes": kr.read(32), "provider": "secretbox", "note": "widgets.example.com sb1, cp-1 and cp-2"},
        "S1x": {"bytes": kr.read(32), "provider": "secretbox", "note": "a different secret also named sb1, in no config"},
        "C1": {"bytes": kr.read(32), "provider": "aescbc", "note": "sprockets.example.com 'k:1', all nodes"},
        "CK": {"bytes": kr.read(16), "provider": "aescbc", "note": "sprockets.example.com 'k', cp-2 only (16 bytes)"},
        "CLOST": {"bytes": kr.read(32), "provider": "aescbc", "note": "a lost secret that was also named 'k:1', in no config"},
        "KMSSEED": {"bytes": kr.read(32), "provider": "kms-v2-dek-seed",
                    "note": "DEK seed of the kms v2 record; in a real cluster only the KMS can unwrap it; in no config"},
    }
    kms = {"type": "kms", "apiVersion": "v2", "name": "vault-kms", "endpoint": "unix:///var/run/kmsplugin/vault-kms.sock"}
    ident = {"type": "identity"}

    def node(source, secrets_keys, sprocket_keys, widgets_secretbox):
        return {"source": source, "resources": {
            "secrets": [{"type": "aescbc", "keys": secrets_keys}, ident],
            "configmaps": [{"type": "aesgcm", "keys": [("gcm1", "G1")]}, ident],
            "widgets.example.com": ([{"type": "secretbox", "keys": [("sb1", "S1")]}, ident] if widgets_secretbox
                                    else [ident]),
            "sprockets.example.com": [{"type": "aescbc", "keys": sprocket_keys}, ident],
            "gizmos.example.com": [kms, ident],
        }}

    nodes = {
        "cp-1": node("cp-1.yaml", [("key1", "K1"), ("key0", "K0")], [("k:1", "C1")], True),
        "cp-2": node("cp-2.yaml", [("key1", "K1"), ("key0", "K0")], [("k:1", "C1"), ("k", "CK")], True),
        "cp-3": node("cp-3.yaml", [("key1", "K1b")], [("k:1", "C1")], False),
    }
    ds = Dataset("multi", nodes, keys, 1000)
    rng = Rng("multi/content")
    OK = "ok"
    PAD = "invalid padding on input"
    NOKEY = "no matching key was found for the provided AES transformer"

    def W(a, b, c):
        return {"cp-1": a, "cp-2": b, "cp-3": c}

    namespaces = ["default", "kube-system", "payments", "monitoring", "ingress-nginx", "team-a", "team-b", "cee-dnceed21"]
    apps = ["api", "web", "worker", "db", "cache", "grafana", "prometheus", "alertmanager", "builder", "deployer",
            "registry", "ingress", "webhook", "operator", "backup"]

    # 40 ordinary secrets under key1 with K1 (cp-1/cp-2 wrote them); cp-3 fails all.
    ordinary = []
    for i in range(40):
        ns = namespaces[i % len(namespaces)]
        name = f"{rng.choice(apps)}-{rng.choice(['token', 'creds', 'tls', 'config', 'auth'])}-{rng.suffix()}"
        key = f"/registry/secrets/{ns}/{name}"
        m = ds.marker()
        ordinary.append((key, ns, name))
        ds.write(key, "secrets", secret_payload(rng, ds, name, ns, m), "aescbc", "key1", "K1", W(OK, OK, PAD),
                 marker=m, writer="cp-1/cp-2")

    # cp-3's wrong key decrypts this one with VALID padding by chance (garbage comes out).
    key = "/registry/secrets/team-b/wrong-key-valid-padding"
    m = ds.marker()
    ds.write(key, "secrets", secret_payload(rng, ds, "wrong-key-valid-padding", "team-b", m, "Opaque"), "aescbc",
             "key1", "K1", W(OK, OK, "garbage"), case="wrong-key-valid-padding", marker=m,
             trial={"K1b": "valid"}, writer="cp-1/cp-2",
             note="encrypted with K1; decrypting with cp-3's K1b passes the PKCS#7 check by chance and yields garbage")
    # cp-3's wrong key leaves last byte 0 -> invalid PKCS7 data.
    key = "/registry/secrets/team-b/wrong-key-pkcs7-data"
    m = ds.marker()
    ds.write(key, "secrets", secret_payload(rng, ds, "wrong-key-pkcs7-data", "team-b", m, "Opaque"), "aescbc",
             "key1", "K1", W(OK, OK, "invalid PKCS7 data (empty or not padded)"), case="wrong-key-pkcs7-data",
             marker=m, trial={"K1b": "invalid PKCS7 data (empty or not padded)"}, writer="cp-1/cp-2",
             note="encrypted with K1; decrypting with cp-3's K1b gives a last byte of 0")

    # Mirror set: written by cp-3 with K1b under key1; cp-1/cp-2 cannot read them.
    for i in range(5):
        ns = ["monitoring", "team-a", "default", "payments", "kube-system"][i]
        name = f"{rng.choice(['builder', 'deployer', 'default'])}-token-{rng.suffix()}"
        m = ds.marker()
        ds.write(f"/registry/secrets/{ns}/{name}", "secrets",
                 secret_payload(rng, ds, name, ns, m, "kubernetes.io/service-account-token"), "aescbc", "key1", "K1b",
                 W(PAD, PAD, OK), case="mirror", marker=m, writer="cp-3")

    # Older read key key0 (24-byte K0): cp-3 has no key0.
    for i in range(5):
        ns = namespaces[(i * 3) % len(namespaces)]
        name = f"legacy-{rng.choice(apps)}-{rng.suffix()}"
        m = ds.marker()
        ds.write(f"/registry/secrets/{ns}/{name}", "secrets", secret_payload(rng, ds, name, ns, m), "aescbc",
                 "key0", "K0", W(OK, OK, NOKEY), case="old-read-key", marker=m, writer="cp-1/cp-2 (before rotation)")

    # Key name that no config has any more.
    for i in range(3):
        name = f"orphan-{rng.suffix()}"
        m = ds.marker()
        ds.write(f"/registry/secrets/team-a/{name}", "secrets", secret_payload(rng, ds, name, "team-a", m),
                 "aescbc", "key-rotated-away", "KLOST", W(NOKEY, NOKEY, NOKEY), case="key-rotated-away", marker=m)

    # Plaintext secrets (identity), beside the encrypted ones.
    for i in range(6):
        ns = namespaces[(i * 5 + 1) % len(namespaces)]
        name = f"plain-{rng.choice(apps)}-{rng.suffix()}"
        m = ds.marker()
        ds.write(f"/registry/secrets/{ns}/{name}", "secrets", secret_payload(rng, ds, name, ns, m), "identity",
                 want=W(OK, OK, OK), case="plaintext", marker=m)

    # History: A updated twice with K1; B updated by cp-3 (K1b) and then by cp-1 (K1);
    # C written under key0, then re-encrypted under key1 (storage migration) and updated.
    kA, nsA, nA = ordinary[3]
    kB, nsB, nB = ordinary[7]
    for key, ns, name in ((kA, nsA, nA), (kA, nsA, nA)):
        m = ds.marker()
        ds.write(key, "secrets", secret_payload(rng, ds, name, ns, m), "aescbc", "key1", "K1", W(OK, OK, PAD),
                 case="history-updated", marker=m, writer="cp-1/cp-2")
    # B: first revision K1 (ordinary loop), then cp-3 rewrote it with K1b, then cp-1 rewrote it with K1.
    m = ds.marker()
    ds.write(kB, "secrets", secret_payload(rng, ds, nB, nsB, m), "aescbc", "key1", "K1b", W(PAD, PAD, OK),
             case="history-mirror-revision", marker=m, writer="cp-3")
    m = ds.marker()
    ds.write(kB, "secrets", secret_payload(rng, ds, nB, nsB, m), "aescbc", "key1", "K1", W(OK, OK, PAD),
             case="history-updated", marker=m, writer="cp-1")
    kC = "/registry/secrets/payments/migrated-db-password"
    for kname, kid, want, case in (("key0", "K0", W(OK, OK, NOKEY), "history-old-read-key"),
                                   ("key1", "K1", W(OK, OK, PAD), "history-migrated"),
                                   ("key1", "K1", W(OK, OK, PAD), "history-updated")):
        m = ds.marker()
        ds.write(kC, "secrets", secret_payload(rng, ds, "migrated-db-password", "payments", m, "Opaque"), "aescbc",
                 kname, kid, want, case=case, marker=m, writer="cp-1/cp-2")
    # Tombstone: created, updated, deleted.
    kD = "/registry/secrets/team-a/deleted-after-rotation"
    for _ in range(2):
        m = ds.marker()
        ds.write(kD, "secrets", secret_payload(rng, ds, "deleted-after-rotation", "team-a", m, "Opaque"), "aescbc",
                 "key1", "K1", W(OK, OK, PAD), case="deleted", marker=m, writer="cp-1/cp-2")
    ds.delete(kD)

    # ConfigMaps: aesgcm gcm1 (AAD = etcd key), one ciphertext copied verbatim under another key.
    gcm_values = []
    for i in range(8):
        ns = namespaces[(i * 7) % len(namespaces)]
        name = f"{rng.choice(apps)}-config"
        if any(k == f"/registry/configmaps/{ns}/{name}" for k, _ in gcm_values):
            name = f"{name}-{rng.suffix()}"
        key = f"/registry/configmaps/{ns}/{name}"
        m = ds.marker()
        ds.created += 11
        pt = configmap_pb(name, ns, rng.uid(), ds.created, {"app.properties": f"marker={m}\nlevel=info\n",
                                                            "feature-flags": f"{m}:x=1"})
        v = ds.write(key, "configmaps", pt, "aesgcm", "gcm1", "G1", W(OK, OK, OK), marker=m)
        gcm_values.append((key, v))
    src_key, src_val = gcm_values[2]
    info = dict(ds.versions[src_key][-1])
    ds.put_raw("/registry/configmaps/team-a/copied-ciphertext", "configmaps", src_val,
               {"provider": "aesgcm", "key_name": "gcm1", "key_id": "G1", "key_fingerprint": fingerprint(keys["G1"]["bytes"]),
                "marker": info["marker"], "case": "aesgcm-copied-ciphertext",
                "note": f"value copied byte-for-byte from {src_key}; AAD (the etcd key) no longer matches"})
    for ns in ("default", "kube-system"):
        m = ds.marker()
        ds.created += 5
        pt = configmap_pb("kube-root-ca.crt", ns, rng.uid(), ds.created,
                          {"ca.crt": f"-----BEGIN CERTIFICATE-----\n{m}\n-----END CERTIFICATE-----\n"})
        ds.write(f"/registry/configmaps/{ns}/kube-root-ca.crt", "configmaps", pt, "identity", want=W(OK, OK, OK),
                 case="plaintext", marker=m)

    # widgets.example.com (custom resource, JSON): secretbox sb1 on cp-1/cp-2; cp-3 has identity only.
    NOPFX = "no matching prefix found"
    SBFAIL = "output array was not large enough for encryption"
    for i in range(4):
        name = f"widget-{rng.suffix()}"
        m = ds.marker()
        ds.created += 3
        pt = custom_json("example.com/v1", "Widget", name, "team-a", rng.uid(), iso(ds.created),
                         {"size": i + 1, "secretNote": m})
        ds.write(f"/registry/example.com/widgets/team-a/{name}", "widgets.example.com", pt, "secretbox", "sb1", "S1",
                 W(OK, OK, NOPFX), marker=m)
    m = ds.marker()
    pt = custom_json("example.com/v1", "Widget", "widget-foreign-key", "team-a", rng.uid(), iso(ds.created),
                     {"size": 9, "secretNote": m})
    ds.write("/registry/example.com/widgets/team-a/widget-foreign-key", "widgets.example.com", pt, "secretbox", "sb1",
             "S1x", W(SBFAIL, SBFAIL, NOPFX), case="secretbox-wrong-secret", marker=m,
             note="sealed with S1x, a different secret under the same name sb1")
    m = ds.marker()
    pt = custom_json("example.com/v1", "Widget", "widget-plain", "team-b", rng.uid(), iso(ds.created),
                     {"size": 0, "secretNote": m})
    ds.write("/registry/example.com/widgets/team-b/widget-plain", "widgets.example.com", pt, "identity",
             want=W(OK, OK, OK), case="plaintext", marker=m)

    # sprockets.example.com: aescbc key named "k:1" (colon in the name); cp-2 also has a key "k".
    for i in range(4):
        name = f"sprocket-{rng.suffix()}"
        m = ds.marker()
        pt = custom_json("example.com/v1", "Sprocket", name, "team-b", rng.uid(), iso(ds.created), {"teeth": 12 + i, "secretNote": m})
        ds.write(f"/registry/example.com/sprockets/team-b/{name}", "sprockets.example.com", pt, "aescbc", "k:1", "C1",
                 W(OK, OK, OK), case="colon-key-name", marker=m)
    m = ds.marker()
    pt = custom_json("example.com/v1", "Sprocket", "sprocket-lost-key", "team-b", rng.uid(), iso(ds.created),
                     {"teeth": 7, "secretNote": m})
    ds.write("/registry/example.com/sprockets/team-b/sprocket-lost-key", "sprockets.example.com", pt, "aescbc", "k:1",
             "CLOST", W(PAD, "[invalid padding on input, the stored data is not a multiple of the block size]", PAD),
             case="colon-key-aggregate", marker=m,
             note="on cp-2 both 'k:1' (wrong secret) and 'k' (prefix 'k:' also matches) are tried: two distinct errors aggregate")
    m = ds.marker()
    pt = custom_json("example.com/v1", "Sprocket", "sprocket-key-k", "team-b", rng.uid(), iso(ds.created),
                     {"teeth": 5, "secretNote": m})
    ds.write("/registry/example.com/sprockets/team-b/sprocket-key-k", "sprockets.example.com", pt, "aescbc", "k", "CK",
             W(NOKEY, OK, NOKEY), case="key-name-prefix-of-other", marker=m,
             note="key name 'k'; the IV does not start with '1:' so 'k:1' does not match")

    # gizmos.example.com: kms v2 envelope (vault-kms), plus one from a kms provider no node has.
    for pname, case, want in (("vault-kms", "kms-v2", W(KMS_SENTINEL, KMS_SENTINEL, KMS_SENTINEL)),
                              ("old-kms", "kms-v2-unknown-provider", W(NOPFX, NOPFX, NOPFX))):
        name = f"gizmo-{pname}"
        key = f"/registry/example.com/gizmos/team-a/{name}"
        m = ds.marker()
        pt = custom_json("example.com/v1", "Gizmo", name, "team-a", rng.uid(), iso(ds.created), {"secretNote": m})
        kr2 = Rng(f"multi/kms/{pname}")
        env = kmsv2_envelope(keys["KMSSEED"]["bytes"], kr2.read(32), kr2.read(12), pt, key.encode(),
                             f"{pname}-key-2026-10", b"FAKE-KMS-WRAPPED-SEED:" + kr2.read(48),
                             {"kms.example.com/plugin": b"fixture"})
        value = f"k8s:enc:kms:v2:{pname}:".encode() + env
        got = ds.outcomes("gizmos.example.com", key, value)
        assert all(want_matches(want[n], got[n]) for n in nodes), (key, got)
        ds.put_raw(key, "gizmos.example.com", value,
                   {"provider": "kms", "key_name": pname, "key_id": "KMSSEED",
                    "key_fingerprint": fingerprint(keys["KMSSEED"]["bytes"]), "marker": m, "case": case,
                    "note": "EncryptedObject, encryptedDEKSourceType=HKDF_SHA256_XNONCE_AES_GCM_SEED; "
                            "encryptedDEKSource is fake; encryptedData opens with the documented seed"})

    # doohickeys.example.com: encrypted (secretbox sb1 / S1) but no node has any config for the resource.
    m = ds.marker()
    pt = custom_json("example.com/v1", "Doohickey", "doohickey-1", "team-a", rng.uid(), iso(ds.created), {"secretNote": m})
    IDERR = "identity transformer tried to read encrypted data"
    ds.write("/registry/example.com/doohickeys/team-a/doohickey-1", "doohickeys.example.com", pt, "secretbox", "sb1",
             "S1", W(IDERR, IDERR, IDERR), case="resource-not-in-config", marker=m,
             note="sealed with sb1/S1, but the resource is in no node's config (encryption removed for it)")
    return ds


# ---------------------------------------------------------------------------------------------
# Dataset 2: OpenShift backup (snapshot + static_kuberesources tarballs)

OS_TS = "2026-11-01_120000"
OS_MTIME = 1793534400  # 2026-11-01T12:00:00Z


def build_openshift():
    kr = Rng("openshift/keys")
    keys = {
        "OS2": {"bytes": kr.read(32), "provider": "aescbc", "note": "kube-apiserver key \"2\" (write key)"},
        "OS1": {"bytes": kr.read(32), "provider": "aescbc", "note": "kube-apiserver key \"1\" (previous read key)"},
        "ZERO16": {"bytes": bytes(16), "provider": "aesgcm",
                   "note": "fake aesgcm provider (16 zero bytes) carrying the name of an identity-mode key: a marker, not a key"},
        "OAPI1": {"bytes": kr.read(32), "provider": "aescbc",
                  "note": "openshift-apiserver key \"1\" (routes); not in the tarball (kept in a secret inside etcd)"},
        "OAUTH1": {"bytes": kr.read(32), "provider": "aescbc",
                   "note": "oauth-apiserver key \"1\" (oauthaccesstokens); not in the tarball"},
    }
    ident = {"type": "identity"}
    fake = {"type": "aesgcm", "keys": [("1", "ZERO16")]}

    def cfg(source, with_key1):
        provs = [{"type": "aescbc", "keys": [("2", "OS2")]}]
        if with_key1:
            provs.append({"type": "aescbc", "keys": [("1", "OS1")]})
        provs += [ident, fake]
        return {"source": source, "resources": {"configmaps": list(provs), "secrets": list(provs)}}

    nodes = {
        "backup": cfg(f"static_kuberesources_{OS_TS}.tar.gz", True),
        "stale": cfg("static_kuberesources_stale.tar.gz", False),
    }
    ds = Dataset("openshift", nodes, keys, 2000)
    rng = Rng("openshift/content")
    OK = "ok"
    NOKEY = "no matching key was found for the provided AES transformer"
    IDERR = "identity transformer tried to read encrypted data"
    nss = ["openshift-config", "openshift-monitoring", "openshift-ingress", "openshift-etcd", "app-prod", "app-dev",
           "openshift-kube-apiserver", "openshift-authentication"]
    apps = ["router", "prometheus-k8s", "alertmanager", "etcd-client", "installer-sa", "builder", "deployer",
            "pull-secret", "oauth-openshift", "serving-cert", "webhook"]

    def sec(ns, kid, kname, case, want):
        name = f"{rng.choice(apps)}-{rng.choice(['token', 'dockercfg', 'tls', 'secret'])}-{rng.suffix()}"
        m = ds.marker()
        ds.write(f"/kubernetes.io/secrets/{ns}/{name}", "secrets", secret_payload(rng, ds, name, ns, m),
                 "aescbc" if kid else "identity", kname, kid, want, case=case, marker=m)

    for i in range(18):
        sec(nss[i % len(nss)], "OS2", "2", "write-key", {"backup": OK, "stale": OK})
    for i in range(6):
        sec(nss[(i * 3) % len(nss)], "OS1", "1", "read-key", {"backup": OK, "stale": NOKEY})
    for i in range(4):
        sec(nss[(i * 5) % len(nss)], None, None, "plaintext", {"backup": OK, "stale": OK})

    def cm(ns, kid, kname, case, want):
        name = f"{rng.choice(apps)}-{rng.choice(['config', 'ca', 'trusted-ca-bundle'])}-{rng.suffix()}"
        m = ds.marker()
        ds.created += 13
        pt = configmap_pb(name, ns, rng.uid(), ds.created, {"config.yaml": f"# {m}\napiVersion: v1\n"})
        ds.write(f"/kubernetes.io/configmaps/{ns}/{name}", "configmaps", pt, "aescbc" if kid else "identity", kname,
                 kid, want, case=case, marker=m)

    for i in range(8):
        cm(nss[(i * 7) % len(nss)], "OS2", "2", "write-key", {"backup": OK, "stale": OK})
    for i in range(3):
        cm(nss[(i * 2 + 1) % len(nss)], "OS1", "1", "read-key", {"backup": OK, "stale": NOKEY})
    for i in range(3):
        cm(nss[(i * 3 + 2) % len(nss)], None, None, "plaintext", {"backup": OK, "stale": OK})

    # Routes / OAuth tokens: encrypted by openshift-apiserver / oauth-apiserver with THEIR key "1".
    for i in range(2):
        ns = ["app-prod", "app-dev"][i]
        name = f"frontend-{rng.suffix()}"
        m = ds.marker()
        ds.created += 17
        pt = route_pb(name, ns, rng.uid(), ds.created, f"{name}.apps.example.com", "frontend", m)
        ds.write(f"/openshift.io/routes/{ns}/{name}", "routes.route.openshift.io", pt, "aescbc", "1", "OAPI1",
                 {"backup": IDERR, "stale": IDERR}, case="other-apiserver-key", marker=m,
                 note="openshift-apiserver's own key \"1\"; kube-apiserver key \"1\" must not decrypt it")
    for i in range(2):
        name = "sha256~" + rng.token(32)
        m = ds.marker()
        ds.created += 19
        pt = oauth_token_pb(name, rng.uid(), ds.created, f"user{i}@example.com", m)
        ds.write(f"/openshift.io/oauth/accesstokens/{name}", "oauthaccesstokens.oauth.openshift.io", pt, "aescbc",
                 "1", "OAUTH1", {"backup": IDERR, "stale": IDERR}, case="other-apiserver-key", marker=m,
                 note="oauth-apiserver's own key \"1\"")
    return ds


# ---------------------------------------------------------------------------------------------
# Dataset 2b: OpenShift with the aggregated apiservers' configs inside etcd (verdict rule 4)

OSM_TS = "2026-11-20_120000"
OSM_NS = "openshift-config-managed"
# library-go pkg/operator/encryption: encryptionconfig/secret.go EncryptionConfSecretKey, secrets/types.go
# EncryptionSecretKeyDataKey and EncryptionKeySecretsLabel; secret names encryption-config-<component> and
# encryption-key-<component>-<keyID> in openshift-config-managed.
OSM_CONFIG_KEY = "encryption-config"
OSM_KEY_DATA = "encryption.apiserver.operator.openshift.io-key"
OSM_LABEL = "encryption.apiserver.operator.openshift.io/component"


def secret_meta_pb(name, ns, uid, created, data, labels, annotations):
    meta = object_meta(name, ns, uid, created, labels)
    for k in sorted(annotations):
        meta += f_bytes(12, f_str(1, k) + f_str(2, annotations[k]))
    raw = f_bytes(1, meta)
    for k in sorted(data):
        raw += f_bytes(2, f_str(1, k) + f_bytes(2, data[k]))
    raw += f_str(3, "Opaque")
    return k8s_unknown("v1", "Secret", raw)


def oauth_authorize_token_pb(name, uid, created, user, marker):
    # oauth/v1 OAuthAuthorizeToken: metadata 1, clientName 2, expiresIn 3, scopes 4, redirectURI 5, state 6,
    # userName 7, userUID 8, codeChallenge 9, codeChallengeMethod 10
    raw = (f_bytes(1, object_meta(name, "", uid, created)) + f_str(2, "openshift-browser-client")
           + f_varint(3, 300) + f_str(4, "user:full") + f_str(5, "https://oauth.example.com/callback")
           + f_str(6, marker) + f_str(7, user) + f_str(8, marker))
    return k8s_unknown("oauth.openshift.io/v1", "OAuthAuthorizeToken", raw)


def build_openshift_managed():
    kr = Rng("openshift-managed/keys")
    keys = {
        "KAS1": {"bytes": kr.read(32), "provider": "aescbc", "note": "kube-apiserver key \"1\" (write key, in the tarball)"},
        "ZERO16": {"bytes": bytes(16), "provider": "aesgcm",
                   "note": "fake aesgcm provider (16 zero bytes): an identity-mode key name, not a key"},
        "OAPI1": {"bytes": kr.read(32), "provider": "aescbc",
                  "note": "openshift-apiserver key \"1\" (read key), in encryption-config-openshift-apiserver and its key secret"},
        "OAPI2": {"bytes": kr.read(32), "provider": "aescbc",
                  "note": "openshift-apiserver key \"2\" (write key), in encryption-config-openshift-apiserver and its key secret"},
        "OAPI3": {"bytes": kr.read(32), "provider": "aescbc",
                  "note": "openshift-apiserver key \"3\": in NO config and no secret of the snapshot (the orphan route)"},
        "OAUTH1": {"bytes": kr.read(32), "provider": "aescbc",
                   "note": "oauth-apiserver key \"1\": only in its key secret; the config no longer lists it "
                           "(pruned after a migration that missed one token)"},
        "OAUTH2": {"bytes": kr.read(32), "provider": "aescbc",
                   "note": "oauth-apiserver key \"2\" (write key), in encryption-config-openshift-oauth-apiserver "
                           "and its key secret"},
    }
    ident = {"type": "identity"}
    fake = {"type": "aesgcm", "keys": [("1", "ZERO16")]}
    kas = [{"type": "aescbc", "keys": [("1", "KAS1")]}, ident, fake]
    oapi = [{"type": "aescbc", "keys": [("2", "OAPI2"), ("1", "OAPI1")]}, ident]
    oauth = [{"type": "aescbc", "keys": [("2", "OAUTH2")]}, ident]
    nodes = {
        "cp-1": {"source": f"static_kuberesources_{OSM_TS}.tar.gz",
                 "resources": {"configmaps": list(kas), "secrets": list(kas)}},
        "openshift-apiserver": {"apiserver": "openshift-apiserver",
                                "source": f"snapshot-secret:{OSM_NS}/encryption-config-openshift-apiserver",
                                "resources": {"routes.route.openshift.io": list(oapi)}},
        "oauth-apiserver": {"apiserver": "oauth-apiserver",
                            "source": f"snapshot-secret:{OSM_NS}/encryption-config-openshift-oauth-apiserver",
                            "resources": {"oauthaccesstokens.oauth.openshift.io": list(oauth),
                                          "oauthauthorizetokens.oauth.openshift.io": list(oauth)}},
    }
    ds = Dataset("openshift-managed", nodes, keys, 4000)
    ds.created = 1795176000  # 2026-11-20T12:00:00Z
    rng = Rng("openshift-managed/content")
    OK, NS = "ok", NOT_SERVED
    kube_ok = {"cp-1": OK, "openshift-apiserver": NS, "oauth-apiserver": NS}

    # The operators' secrets, stored through kube-apiserver (so under its key "1").
    ds.uids = {}

    def managed(name, data, labels, annotations, case, note):
        m = ds.marker()
        ds.created += 11
        ds.uids[name] = rng.uid()
        pt = secret_meta_pb(name, OSM_NS, ds.uids[name], ds.created, data, labels,
                            dict(annotations, **{"autopsy.example.com/marker": m}))
        ds.write(f"/kubernetes.io/secrets/{OSM_NS}/{name}", "secrets", pt, "aescbc", "1", "KAS1", kube_ok,
                 case=case, marker=m, note=note)

    for comp, node in (("openshift-apiserver", "openshift-apiserver"), ("openshift-oauth-apiserver", "oauth-apiserver")):
        cfg = openshift_json_config(nodes[node], keys)
        managed(f"encryption-config-{comp}", {OSM_CONFIG_KEY: cfg}, {},
                {"encryption.apiserver.operator.openshift.io/encryption-config": "true"}, "operator-config",
                f"{node}'s EncryptionConfiguration (data key {OSM_CONFIG_KEY})")
    # Key secrets as library-go pkg/operator/encryption/secrets FromKeyState writes them. oauth-apiserver's
    # generation 1 says it was migrated (so its operator pruned it from the config), yet one token is still
    # under it: only its key secret opens that token.
    migrated = {"encryption.apiserver.operator.openshift.io/migrated-timestamp": "2026-11-19T08:00:00Z",
                "encryption.apiserver.operator.openshift.io/migrated-resources": json.dumps(
                    {"resources": [{"group": "oauth.openshift.io", "resource": "oauthaccesstokens"},
                                   {"group": "oauth.openshift.io", "resource": "oauthauthorizetokens"}]},
                    separators=(",", ":"))}
    ds.key_secrets = {}
    for comp, kid, n, extra in (("openshift-apiserver", "OAPI1", "1", {}), ("openshift-apiserver", "OAPI2", "2", {}),
                                ("openshift-oauth-apiserver", "OAUTH1", "1", migrated),
                                ("openshift-oauth-apiserver", "OAUTH2", "2", {})):
        ds.key_secrets[f"encryption-key-{comp}-{n}"] = {
            "revision": ds.rev + 1, "component": comp, "generation": n, "mode": "aescbc", "key_id": kid,
            "fingerprint": fingerprint(keys[kid]["bytes"]),
            # Fake fixture keys, listed so the no-leak tests can look for them in every output.
            "key_base64": base64.b64encode(keys[kid]["bytes"]).decode(),
            "apiserver": "oauth-apiserver" if comp == "openshift-oauth-apiserver" else comp}
        managed(f"encryption-key-{comp}-{n}", {OSM_KEY_DATA: keys[kid]["bytes"]}, {OSM_LABEL: comp},
                dict({"encryption.apiserver.operator.openshift.io/mode": "aescbc",
                      "encryption.apiserver.operator.openshift.io/internal-reason": "key-does-not-exist"}, **extra),
                "operator-key", f"{comp} key {n} ({kid})")

    apps = ["router", "console", "prometheus-k8s", "builder", "deployer", "pull-secret", "serving-cert"]
    nss = ["openshift-config", "openshift-ingress", "app-prod", "app-dev", "openshift-monitoring"]
    for i in range(6):
        ns = nss[i % len(nss)]
        name = f"{rng.choice(apps)}-{rng.choice(['token', 'tls', 'secret'])}-{rng.suffix()}"
        m = ds.marker()
        ds.write(f"/kubernetes.io/secrets/{ns}/{name}", "secrets", secret_payload(rng, ds, name, ns, m), "aescbc", "1",
                 "KAS1", kube_ok, case="write-key", marker=m)
    for i in range(3):
        ns = nss[(i * 2) % len(nss)]
        name = f"{rng.choice(apps)}-{rng.choice(['config', 'ca'])}-{rng.suffix()}"
        m = ds.marker()
        ds.created += 13
        pt = configmap_pb(name, ns, rng.uid(), ds.created, {"config.yaml": f"# {m}\napiVersion: v1\n"})
        ds.write(f"/kubernetes.io/configmaps/{ns}/{name}", "configmaps", pt, "aescbc", "1", "KAS1", kube_ok,
                 case="write-key", marker=m)

    # Routes: openshift-apiserver's keys "2" (write) and "1" (read), and one under "3", which no recovered
    # config holds (its key secret is gone): the only record the report may call a problem.
    oapi_ok = {"cp-1": NS, "openshift-apiserver": OK, "oauth-apiserver": NS}
    NOKEY = "no matching key was found for the provided AES transformer"
    routes = [("app-prod", "OAPI2", "2", oapi_ok, "openshift-apiserver-write-key"),
              ("app-dev", "OAPI2", "2", oapi_ok, "openshift-apiserver-write-key"),
              ("openshift-console", "OAPI2", "2", oapi_ok, "openshift-apiserver-write-key"),
              ("app-prod", "OAPI1", "1", oapi_ok, "openshift-apiserver-read-key"),
              ("app-dev", "OAPI3", "3", {"cp-1": NS, "openshift-apiserver": NOKEY, "oauth-apiserver": NS},
               "orphan-key")]
    for ns, kid, kname, want, case in routes:
        name = f"{rng.choice(['frontend', 'console', 'api', 'downloads'])}-{rng.suffix()}"
        m = ds.marker()
        ds.created += 17
        pt = route_pb(name, ns, rng.uid(), ds.created, f"{name}.apps.example.com", name.split("-")[0], m)
        ds.write(f"/openshift.io/routes/{ns}/{name}", "routes.route.openshift.io", pt, "aescbc", kname, kid, want,
                 case=case, marker=m,
                 note=("openshift-apiserver key \"3\" is in no recovered config and no secret" if case == "orphan-key"
                       else None))
    oauth_ok = {"cp-1": NS, "openshift-apiserver": NS, "oauth-apiserver": OK}
    for i in range(2):
        name = "sha256~" + rng.token(32)
        m = ds.marker()
        ds.created += 19
        pt = oauth_token_pb(name, rng.uid(), ds.created, f"user{i}@example.com", m)
        ds.write(f"/openshift.io/oauth/accesstokens/{name}", "oauthaccesstokens.oauth.openshift.io", pt, "aescbc",
                 "2", "OAUTH2", oauth_ok, case="oauth-apiserver-key", marker=m)
    # Still under generation 1, which oauth-apiserver's config no longer lists: it fails this token, and only
    # the key secret encryption-key-openshift-oauth-apiserver-1 opens it (not lost, not readable).
    name = "sha256~" + rng.token(32)
    m = ds.marker()
    ds.created += 19
    pt = oauth_authorize_token_pb(name, rng.uid(), ds.created, "user0@example.com", m)
    ds.write(f"/openshift.io/oauth/authorizetokens/{name}", "oauthauthorizetokens.oauth.openshift.io", pt, "aescbc",
             "1", "OAUTH1", {"cp-1": NS, "openshift-apiserver": NS, "oauth-apiserver": NOKEY},
             case="pruned-generation", marker=m,
             note="oauth-apiserver generation \"1\": in no config, only in its key secret")
    return ds


OSM_AFTER_TS = "2026-11-27_120000"


def build_openshift_managed_after():
    """openshift-managed a week later, as the same etcd holds it: every op of openshift-managed, then
    the operators' work of that week. oauth-apiserver rotated: generation "3" (OAUTH3) minted and made
    the write key (config [3, 2]); the access token under "2" and the authorize token still under the
    pruned "1" migrated to "3"; key Secret "-1" deleted. openshift-apiserver pruned generation "1" from
    its config (now [2]) although one route is still under it (its key Secret stays): that route is
    unchanged and becomes unreadable for openshift-apiserver. One route added (under "2"), the
    openshift-console route deleted. kube-apiserver and its tarball are unchanged."""
    ds = build_openshift_managed()
    ds.name = "openshift-managed-after"
    kr = Rng("openshift-managed-after/keys")
    ds.keys["OAUTH3"] = {"bytes": kr.read(32), "provider": "aescbc",
                         "note": "oauth-apiserver key \"3\" (write key after the rotation), in "
                                 "encryption-config-openshift-oauth-apiserver and its key secret"}
    ds.keys["OAPI1"]["note"] = ("openshift-apiserver key \"1\": pruned from the config, only in its key secret "
                                "(one route is still under it)")
    ds.keys["OAUTH1"]["note"] = "oauth-apiserver key \"1\": its key secret deleted after the migration; in no config"
    ds.keys["OAUTH2"]["note"] = ("oauth-apiserver key \"2\" (read key after the rotation), in "
                                 "encryption-config-openshift-oauth-apiserver and its key secret")
    ident = {"type": "identity"}
    oapi = [{"type": "aescbc", "keys": [("2", "OAPI2")]}, ident]
    oauth = [{"type": "aescbc", "keys": [("3", "OAUTH3"), ("2", "OAUTH2")]}, ident]
    ds.nodes["cp-1"]["source"] = f"../openshift-managed/static_kuberesources_{OSM_TS}.tar.gz"
    ds.nodes["openshift-apiserver"]["resources"] = {"routes.route.openshift.io": list(oapi)}
    ds.nodes["oauth-apiserver"]["resources"] = {"oauthaccesstokens.oauth.openshift.io": list(oauth),
                                                "oauthauthorizetokens.oauth.openshift.io": list(oauth)}
    ds.created = 1795780800  # 2026-11-27T12:00:00Z
    rng = Rng("openshift-managed-after/content")
    OK, NS = "ok", NOT_SERVED
    kube_ok = {"cp-1": OK, "openshift-apiserver": NS, "oauth-apiserver": NS}

    def managed(name, data, labels, annotations, case, note):
        m = ds.marker()
        ds.created += 11
        uid = ds.uids.setdefault(name, rng.uid())  # an update keeps the object's uid
        pt = secret_meta_pb(name, OSM_NS, uid, ds.created, data, labels,
                            dict(annotations, **{"autopsy.example.com/marker": m}))
        ds.write(f"/kubernetes.io/secrets/{OSM_NS}/{name}", "secrets", pt, "aescbc", "1", "KAS1", kube_ok,
                 case=case, marker=m, note=note)

    comp = "openshift-oauth-apiserver"
    ds.key_secrets[f"encryption-key-{comp}-3"] = {
        "revision": ds.rev + 1, "component": comp, "generation": "3", "mode": "aescbc", "key_id": "OAUTH3",
        "fingerprint": fingerprint(ds.keys["OAUTH3"]["bytes"]),
        "key_base64": base64.b64encode(ds.keys["OAUTH3"]["bytes"]).decode(), "apiserver": "oauth-apiserver"}
    managed(f"encryption-key-{comp}-3", {OSM_KEY_DATA: ds.keys["OAUTH3"]["bytes"]}, {OSM_LABEL: comp},
            {"encryption.apiserver.operator.openshift.io/mode": "aescbc",
             "encryption.apiserver.operator.openshift.io/internal-reason": "rotation-interval-has-passed"},
            "operator-key", f"{comp} key 3 (OAUTH3)")
    for c, node in (("openshift-apiserver", "openshift-apiserver"), ("openshift-oauth-apiserver", "oauth-apiserver")):
        managed(f"encryption-config-{c}", {OSM_CONFIG_KEY: openshift_json_config(ds.nodes[node], ds.keys)}, {},
                {"encryption.apiserver.operator.openshift.io/encryption-config": "true"}, "operator-config",
                f"{node}'s EncryptionConfiguration after the week (data key {OSM_CONFIG_KEY})")
    # The migration to "3": the same objects written again under the new write key.
    oauth_ok = {"cp-1": NS, "openshift-apiserver": NS, "oauth-apiserver": OK}
    tokens = sorted(k for k in ds.versions if k.startswith("/openshift.io/oauth/"))
    migrate = [k for k in tokens if k.startswith("/openshift.io/oauth/authorizetokens/")] + \
              [k for k in tokens if k.startswith("/openshift.io/oauth/accesstokens/")][:1]
    for k in migrate:
        last = ds.versions[k][-1]
        ds.write(k, last["resource"], last["_plaintext"], "aescbc", "3", "OAUTH3", oauth_ok,
                 case="migrated-to-new-generation", marker=last["marker"],
                 note=f"rewritten by the storage migration from oauth-apiserver generation \"{last['key_name']}\"")
    ds.delete(f"/kubernetes.io/secrets/{OSM_NS}/encryption-key-{comp}-1")
    del ds.key_secrets[f"encryption-key-{comp}-1"]
    # Routes: one added under "2", the openshift-console one deleted; the one under "1" stays.
    oapi_ok = {"cp-1": NS, "openshift-apiserver": OK, "oauth-apiserver": NS}
    name = f"checkout-{rng.suffix()}"
    m = ds.marker()
    ds.created += 17
    pt = route_pb(name, "app-prod", rng.uid(), ds.created, f"{name}.apps.example.com", "checkout", m)
    ds.write(f"/openshift.io/routes/app-prod/{name}", "routes.route.openshift.io", pt, "aescbc", "2", "OAPI2",
             oapi_ok, case="openshift-apiserver-write-key", marker=m)
    (console,) = [k for k in ds.versions if k.startswith("/openshift.io/routes/openshift-console/")]
    ds.delete(console)
    (pruned,) = [vs[-1] for vs in ds.versions.values() if vs[-1].get("key_id") == "OAPI1"]
    pruned["case"] = "pruned-generation"
    pruned["note"] = ("openshift-apiserver generation \"1\": pruned from the config while this route is still "
                      "under it; only its key secret opens it")
    # Every revision judged by the configs this snapshot holds (what the verifier recomputes).
    for k, vs in ds.versions.items():
        for v in vs:
            if not v.get("deleted"):
                v["nodes_raw"] = ds.outcomes(v["resource"], k, v["_value"])
    return ds


def tar_bytes(files):
    """files: list of (path, bytes|None for dir, mode). GNU format, root-owned, fixed mtime, gzip mtime 0."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for path, data, mode in files:
            ti = tarfile.TarInfo(path)
            ti.mtime = OS_MTIME
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = "root"
            ti.mode = mode
            if data is None:
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=9, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def static_resources(ds, node, apiserver_rev):
    enc = openshift_json_config(ds.nodes[node], ds.keys)
    kas = f"static-pod-resources/kube-apiserver-pod-{apiserver_rev}"
    kcm = "static-pod-resources/kube-controller-manager-pod-3"
    ksc = "static-pod-resources/kube-scheduler-pod-4"
    etc = "static-pod-resources/etcd-pod-2"
    kas_config = json.dumps({
        "apiVersion": "kubecontrolplane.config.openshift.io/v1", "kind": "KubeAPIServerConfig",
        "apiServerArguments": {
            "encryption-provider-config": ["/etc/kubernetes/static-pod-resources/secrets/encryption-config/encryption-config"],
            "etcd-servers": ["https://10.0.0.11:2379", "https://10.0.0.12:2379", "https://10.0.0.13:2379"],
            "storage-backend": ["etcd3"], "storage-media-type": ["application/vnd.kubernetes.protobuf"]},
        "servingInfo": {"bindAddress": "0.0.0.0:6443", "bindNetwork": "tcp4"}}, separators=(",", ":")).encode()
    pod = lambda name, image: (f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: openshift-{name}\n"
                               f"spec:\n  containers:\n  - name: {name}\n    image: quay.io/openshift-release-dev/{image}\n").encode()
    placeholder = b"FIXTURE PLACEHOLDER - not a real certificate or key\n"
    # Same member order as `tar -cpzf ... -C /etc/kubernetes <kube-apiserver-pod-N> <kcm> <scheduler> <etcd>`
    # in cluster-etcd-operator's cluster-backup.sh: paths relative to /etc/kubernetes, directories included.
    files = [
        (kas, None, 0o755), (f"{kas}/configmaps", None, 0o755), (f"{kas}/configmaps/config", None, 0o755),
        (f"{kas}/configmaps/config/config.yaml", kas_config, 0o644),
        (f"{kas}/configmaps/kube-apiserver-pod", None, 0o755),
        (f"{kas}/configmaps/kube-apiserver-pod/pod.yaml", pod("kube-apiserver", "ocp-v4.0-art-dev@sha256:kas"), 0o644),
        (f"{kas}/configmaps/kube-apiserver-pod/version", str(apiserver_rev).encode(), 0o644),
        (f"{kas}/configmaps/kube-apiserver-pod/forceRedeploymentReason", b"", 0o644),
        (f"{kas}/secrets", None, 0o755), (f"{kas}/secrets/encryption-config", None, 0o755),
        (f"{kas}/secrets/encryption-config/encryption-config", enc, 0o600),
        (f"{kas}/secrets/etcd-client", None, 0o755),
        (f"{kas}/secrets/etcd-client/tls.crt", placeholder, 0o600),
        (f"{kas}/secrets/etcd-client/tls.key", placeholder, 0o600),
        (kcm, None, 0o755), (f"{kcm}/configmaps", None, 0o755), (f"{kcm}/configmaps/config", None, 0o755),
        (f"{kcm}/configmaps/config/config.yaml",
         b'{"apiVersion":"kubecontrolplane.config.openshift.io/v1","kind":"KubeControllerManagerConfig"}', 0o644),
        (f"{kcm}/configmaps/kube-controller-manager-pod", None, 0o755),
        (f"{kcm}/configmaps/kube-controller-manager-pod/pod.yaml",
         pod("kube-controller-manager", "ocp-v4.0-art-dev@sha256:kcm"), 0o644),
        (ksc, None, 0o755), (f"{ksc}/configmaps", None, 0o755), (f"{ksc}/configmaps/config", None, 0o755),
        (f"{ksc}/configmaps/config/config.yaml",
         b'{"apiVersion":"kubescheduler.config.k8s.io/v1","kind":"KubeSchedulerConfiguration"}', 0o644),
        (etc, None, 0o755), (f"{etc}/configmaps", None, 0o755), (f"{etc}/configmaps/etcd-pod", None, 0o755),
        (f"{etc}/configmaps/etcd-pod/pod.yaml", pod("etcd", "ocp-v4.0-art-dev@sha256:etcd"), 0o644),
        (f"{etc}/configmaps/etcd-pod/version", b"2", 0o644),
    ]
    return tar_bytes(files)


# ---------------------------------------------------------------------------------------------
# Dataset 3: the incident demo (master-3 has a different key1)

def build_incident():
    kr = Rng("incident/keys")
    keys = {
        "M1": {"bytes": kr.read(32), "provider": "aescbc", "note": "key1 on master-1 and master-2 (the good one)"},
        "M3": {"bytes": kr.read(32), "provider": "aescbc", "note": "key1 on master-3 (same name, WRONG secret)"},
    }
    ident = {"type": "identity"}

    def node(src, kid):
        return {"source": src, "resources": {"secrets": [{"type": "aescbc", "keys": [("key1", kid)]}, ident]}}

    nodes = {"master-1": node("master-1.yaml", "M1"), "master-2": node("master-2.yaml", "M1"),
             "master-3": node("master-3.yaml", "M3")}
    ds = Dataset("incident", nodes, keys, 3000)
    ds.created = 1794780000
    rng = Rng("incident/content")
    OK, PAD = "ok", "invalid padding on input"
    good = {"master-1": OK, "master-2": OK, "master-3": PAD}
    mirror = {"master-1": PAD, "master-2": PAD, "master-3": OK}
    allok = {"master-1": OK, "master-2": OK, "master-3": OK}

    def sec(ns, name, kid, want, case, typ=None, writer=None):
        m = ds.marker()
        # The client whose request the apiserver wrote (managedFields): the token controller for
        # service-account tokens, `kubectl create` for the rest; none before encryption (old objects).
        manager = None
        if kid:
            manager = "kube-controller-manager" if typ == "kubernetes.io/service-account-token" else "kubectl-create"
        ds.write(f"/registry/secrets/{ns}/{name}", "secrets", secret_payload(rng, ds, name, ns, m, typ, manager),
                 "aescbc" if kid else "identity", "key1" if kid else None, kid, want, case=case, marker=m,
                 writer=writer)

    # Plaintext secrets from before encryption was enabled (one sorts first of all).
    sec("argocd", "argocd-secret", None, allok, "plaintext", "Opaque")
    sec("argocd", "argocd-initial-admin-secret", None, allok, "plaintext", "Opaque")
    sec("kube-system", "bootstrap-token-" + rng.suffix(6), None, allok, "plaintext", "bootstrap.kubernetes.io/token")
    sec("default", "legacy-plain-" + rng.suffix(), None, allok, "plaintext", "Opaque")
    # master-3 wrote these with its wrong key (service-account token controller on master-3).
    sec("cee-dnceed21", "alert-config", "M3", mirror, "mirror", "Opaque", "master-3")
    sec("monitoring", "prometheus-k8s-token-" + rng.suffix(), "M3", mirror, "mirror",
        "kubernetes.io/service-account-token", "master-3")
    sec("default", "builder-token-" + rng.suffix(), "M3", mirror, "mirror", "kubernetes.io/service-account-token",
        "master-3")
    # 30 secrets written by master-1/master-2.
    sec("cee-dnceed21", "alert-logger-sa-token-dzhkb", "M1", good, "ordinary", "kubernetes.io/service-account-token",
        "master-1/master-2")
    plan = [("cee-dnceed21", ["logging", "default", "builder", "deployer", "webhook-sa"]),
            ("default", ["default", "registry-creds", "db-password"]),
            ("kube-system", ["coredns", "kube-proxy", "calico-node", "metrics-server", "cloud-controller"]),
            ("monitoring", ["grafana", "alertmanager-main", "node-exporter"]),
            ("payments", ["stripe-api", "postgres", "redis", "default"]),
            ("ingress-nginx", ["ingress-nginx", "ingress-nginx-admission"])]
    n = 1
    while n < 30:
        for ns, bases in plan:
            if n >= 30:
                break
            base = bases[n % len(bases)]
            typ = rng.choice(["kubernetes.io/service-account-token", "Opaque", "kubernetes.io/tls"])
            name = f"{base}-token-{rng.suffix()}" if typ.endswith("token") else f"{base}-{rng.suffix()}"
            sec(ns, name, "M1", good, "ordinary", typ, "master-1/master-2")
            n += 1
    # ConfigMaps: not in the encryption config (plaintext).
    for ns, name in (("kube-system", "coredns"), ("kube-system", "kube-proxy"), ("default", "kube-root-ca.crt"),
                     ("monitoring", "grafana-dashboards"), ("payments", "app-settings")):
        m = ds.marker()
        ds.created += 7
        pt = configmap_pb(name, ns, rng.uid(), ds.created, {"data": f"# {m}\n"})
        ds.write(f"/registry/configmaps/{ns}/{name}", "configmaps", pt, "identity", want=allok, case="plaintext",
                 marker=m)
    return ds


# ---------------------------------------------------------------------------------------------
# Incident logs

def wrap_line(line, width=100):
    """Hard-wrap like a ticket system: break at the last space (dropped) or after the last '-' or '/'
    that fits; otherwise cut at `width`."""
    out = []
    while len(line) > width:
        cut = -1
        skip = 0
        for i in range(width, 0, -1):
            ch = line[i] if i < len(line) else ""
            if ch == " ":
                cut, skip = i, 1
                break
            if line[i - 1] in "-/" and i <= width:
                cut, skip = i, 0
                break
        if cut <= 0:
            cut, skip = width, 0
        out.append(line[:cut])
        line = line[cut + skip:]
    out.append(line)
    return out


def klog(level, mmdd, hms, micro, fileline, msg):
    return f"{level}{mmdd} {hms}.{micro:06d} {1:7d} {fileline}] {msg}"


def hms_add(base_s, secs):
    t = base_s + secs
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def incident_logs(ds, exp):
    rng = Rng("incident/logs")
    first = exp["list_first_failure"]["master-3"]["secrets"]
    mirror_keys = [r["key"] for r in exp["records"] if r["case"] == "mirror"]
    base = 20 * 3600 + 9 * 60 + 40  # 20:09:40
    m3 = []
    m3.append(klog("I", "1116", hms_add(base, 0), 112233, "flags.go:59",
                   'FLAG: --encryption-provider-config="/data/kubernetes/secrets.conf"'))
    m3.append(klog("I", "1116", hms_add(base, 0), 402114, "server.go:629", "external host was not specified, using 10.20.0.13"))
    m3.append(klog("I", "1116", hms_add(base, 1), 5117, "server.go:181", "Version: v1.21.14"))
    m3.append(klog("I", "1116", hms_add(base, 2), 87361, "shared_informer.go:240",
                   "Waiting for caches to sync for cluster_authentication_trust_controller"))
    m3.append(klog("I", "1116", hms_add(base, 2), 301845, "secure_serving.go:197", "Serving securely on [::]:6443"))
    err = (f'cacher (*core.Secret): unexpected ListAndWatch error: failed to list *core.Secret: '
           f'unable to transform key "{first["key"]}": {first["error"]}; reinitializing...')
    for i in range(30):
        t = base + 12 + i
        m3.append(klog("E", "1116", hms_add(t, 0), 635602 if i == 0 else rng.below(999999), "cacher.go:419", err))
        if i % 7 == 3:
            m3.append(klog("I", "1116", hms_add(t, 0), rng.below(999999), "healthz.go:266",
                           "[+]ping ok\n[-]poststarthook/start-kube-apiserver-informers failed: not finished"
                           .replace("\n", " ")))
        if i == 10:
            m3.append(klog("I", "1116", hms_add(t, 0), rng.below(999999), "controller.go:611",
                           "quota admission added evaluator for: leases.coordination.k8s.io"))
    wrapped = []
    for line in m3:
        wrapped += wrap_line(line)
    m3_text = "\n".join(wrapped) + "\n"

    base1 = 20 * 3600 + 8 * 60  # 20:08:00
    m1 = [klog("I", "1116", hms_add(base1, 0), 18236, "controller.go:611",
               "quota admission added evaluator for: endpoints"),
          klog("I", "1116", hms_add(base1, 3), 554120, "client.go:360", "parsed scheme: \"passthrough\""),
          klog("I", "1116", hms_add(base1, 3), 554187, "passthrough.go:48",
               "ccResolverWrapper: sending update to cc: {[{https://10.20.0.11:2379  <nil> 0 <nil>}] <nil> <nil>}"),
          klog("I", "1116", hms_add(base1, 3), 554201, "clientconn.go:948", "ClientConn switching balancer to \"pick_first\"")]
    t = base1 + 10
    for i, _ in enumerate(mirror_keys):
        t += 17 + i * 9
        m1.append(klog("I", "1116", hms_add(t - 2, 0), rng.below(999999), "controller.go:611",
                       "quota admission added evaluator for: serviceaccounts"))
        m1.append(klog("E", "1116", hms_add(t, 0), rng.below(999999), "watcher.go:327",
                       "failed to prepare current and previous objects: invalid padding on input"))
    m1.append(klog("I", "1116", hms_add(t + 30, 0), rng.below(999999), "trace.go:205",
                   'Trace[1840112431]: "List etcd3" key:/pods,resourceVersion:,resourceVersionMatch:,limit:500,'
                   'continue: (16-Nov-2026 20:09:21.004) (total time: 611ms):'))
    m1_text = "\n".join(m1) + "\n"
    base2 = 20 * 3600 + 10 * 60
    m2 = [klog("I", "1116", hms_add(base2, 0), 30112, "controller.go:611", "quota admission added evaluator for: endpoints"),
          klog("I", "1116", hms_add(base2, 4), 771002, "client.go:360", "parsed scheme: \"endpoint\""),
          klog("I", "1116", hms_add(base2, 9), 104550, "controller.go:611",
               "quota admission added evaluator for: leases.coordination.k8s.io"),
          klog("I", "1116", hms_add(base2, 21), 993410, "trace.go:205",
               'Trace[77419022]: "Get" url:/api/v1/namespaces/kube-system/configmaps/coredns (16-Nov-2026 20:10:21.380) (total time: 612ms):')]
    m2_text = "\n".join(m2) + "\n"
    return m3_text, m1_text, m2_text, first, mirror_keys


# ---------------------------------------------------------------------------------------------
# Commands

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)


def write_json(path, doc):
    write(path, json.dumps(doc, indent=2, sort_keys=False) + "\n")


def write_ops(path, ds):
    write(path, "".join(json.dumps(op, separators=(",", ":")) + "\n" for op in ds.ops))


SEM_MODERN = ("kube-apiserver >= 1.26 read path: providers of the resource's entry tried in config order when their "
              "prefix matches; key names matched as '<name>:' prefixes (never split on ':'); identity's error "
              "swallowed; distinct errors aggregated as '[a, b]' (identical ones collapse); no provider matched -> "
              "'no matching prefix found'; resource in no entry -> identity.NewEncryptCheckTransformer. "
              "'ok' = the transformer returned data; garbage_on lists nodes where that data is not an object.")


def cmd_build(args):
    out = args.out
    # multi
    ds = build_multi()
    for n, cfg in ds.nodes.items():
        write(os.path.join(out, "encrypted", cfg["source"]),
              yaml_config(n, cfg, ds.keys, f"etcd-autopsy test fixture: EncryptionConfiguration of control-plane node {n}."))
    write_json(os.path.join(out, "encrypted", "expected.json"),
               ds.expected(SEM_MODERN, {"snapshot": "multi.db",
                                        "kms_v2_dek_seed_hex": ds.keys["KMSSEED"]["bytes"].hex()}))
    write_ops(os.path.join(args.ops, "multi.jsonl"), ds)
    summarize(ds)

    # openshift
    ds = build_openshift()
    write(os.path.join(out, "openshift", f"static_kuberesources_{OS_TS}.tar.gz"), static_resources(ds, "backup", 7))
    write(os.path.join(out, "openshift", "static_kuberesources_stale.tar.gz"), static_resources(ds, "stale", 9))
    write_json(os.path.join(out, "openshift", "expected.json"),
               ds.expected(SEM_MODERN + " Nodes here are the two tarballs' kube-apiserver encryption configs.",
                           {"snapshot": f"snapshot_{OS_TS}.db",
                            "config_path_in_tar": "static-pod-resources/kube-apiserver-pod-N/secrets/encryption-config/encryption-config"}))
    write_ops(os.path.join(args.ops, "openshift.jsonl"), ds)
    summarize(ds)

    # incident
    ds = build_incident()
    for n, cfg in ds.nodes.items():
        write(os.path.join(out, "incident", cfg["source"]),
              yaml_config(n, cfg, ds.keys, f"etcd-autopsy demo: {n}:/data/kubernetes/secrets.conf"))
    exp = ds.expected("Kubernetes 1.21 (same results under >= 1.26 semantics for this dataset). " + SEM_MODERN,
                      {"snapshot": "snapshot.db"})
    m3, m1, m2, first, mirror_keys = incident_logs(ds, exp)
    exp["logs"] = {"master-3.log": {"hard_wrapped_at": 100, "repeated_list_failure": first,
                                    "repeats": m3.count("cacher.go:419]")},
                   "master-1.log": {"watch_errors": m1.count("watcher.go:327]"),
                                    "explained_by_mirror_records": mirror_keys},
                   "master-2.log": {"errors": 0}}
    write_json(os.path.join(out, "incident", "expected.json"), exp)
    write(os.path.join(out, "incident", "master-3.log"), m3)
    write(os.path.join(out, "incident", "master-1.log"), m1)
    write(os.path.join(out, "incident", "master-2.log"), m2)
    write_ops(os.path.join(args.ops, "incident.jsonl"), ds)
    summarize(ds)

    # openshift-managed
    ds = build_openshift_managed()
    write(os.path.join(out, "openshift-managed", f"static_kuberesources_{OSM_TS}.tar.gz"),
          static_resources(ds, "cp-1", 11))
    write_json(os.path.join(out, "openshift-managed", "expected.json"),
               ds.expected(SEM_MODERN + " Node cp-1 is the tarball's kube-apiserver config; openshift-apiserver and "
                           "oauth-apiserver are the configs kept in the snapshot's openshift-config-managed Secrets. "
                           "A node never reads another apiserver's resources (not-served).",
                           {"snapshot": f"snapshot_{OSM_TS}.db",
                            "config_path_in_tar": "static-pod-resources/kube-apiserver-pod-N/secrets/encryption-config/encryption-config",
                            # The operators' key Secrets (library-go pkg/operator/encryption/secrets): each one's
                            # generation is a candidate key of its apiserver.
                            "key_secrets": ds.key_secrets}))
    write_ops(os.path.join(args.ops, "openshift-managed.jsonl"), ds)
    summarize(ds)

    # openshift-managed-after: the same cluster a week later (its tarball is openshift-managed's)
    ds = build_openshift_managed_after()
    write_json(os.path.join(out, "openshift-managed-after", "expected.json"),
               ds.expected(SEM_MODERN + " Node cp-1 is openshift-managed's tarball (unchanged); openshift-apiserver "
                           "and oauth-apiserver are the configs kept in this snapshot's openshift-config-managed "
                           "Secrets. A node never reads another apiserver's resources (not-served).",
                           {"snapshot": f"snapshot_{OSM_AFTER_TS}.db", "before": f"../openshift-managed/snapshot_{OSM_TS}.db",
                            "config_path_in_tar": "static-pod-resources/kube-apiserver-pod-N/secrets/encryption-config/encryption-config",
                            "key_secrets": ds.key_secrets}))
    write_ops(os.path.join(args.ops, "openshift-managed-after.jsonl"), ds)
    summarize(ds)


def summarize(ds):
    print(f"[{ds.name}] {len(ds.ops)} etcd ops, final revision {ds.rev}", file=sys.stderr)
    for kid, k in ds.keys.items():
        print(f"  key {kid:8s} {k['provider']:16s} {len(k['bytes']):2d}B {fingerprint(k['bytes'])}", file=sys.stderr)


def cmd_load(args):
    with open(args.ops) as f:
        ops = [json.loads(line) for line in f if line.strip()]
    for op in ops:
        if op["op"] == "put":
            path, body = "/v3/kv/put", {"key": op["key"], "value": op["value"]}
        else:
            path, body = "/v3/kv/deleterange", {"key": op["key"]}
        req = urllib.request.Request(args.endpoint + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            doc = json.loads(resp.read())
        rev = int(doc["header"]["revision"])
        if rev != op["expect_revision"]:
            sys.exit(f"revision mismatch: got {rev}, expected {op['expect_revision']} for {base64.b64decode(op['key'])!r}")
        if op["op"] == "delete" and int(doc.get("deleted", 0)) != 1:
            sys.exit(f"delete did not delete {base64.b64decode(op['key'])!r}")
    print(f"loaded {len(ops)} ops into {args.endpoint}", file=sys.stderr)


def cmd_status(args):
    with open(args.expected) as f:
        exp = json.load(f)
    with open(args.status) as f:
        st = json.load(f)
    if int(st["revision"]) != exp["final_revision"]:
        sys.exit(f"snapshot revision {st['revision']} != expected final revision {exp['final_revision']}")
    print(f"{args.status}: revision {st['revision']} ok", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--out", required=True)
    b.add_argument("--ops", required=True)
    lo = sub.add_parser("load")
    lo.add_argument("--ops", required=True)
    lo.add_argument("--endpoint", required=True)
    s = sub.add_parser("status")
    s.add_argument("--expected", required=True)
    s.add_argument("--status", required=True)
    args = ap.parse_args()
    {"build": cmd_build, "load": cmd_load, "status": cmd_status}[args.cmd](args)


if __name__ == "__main__":
    main()
