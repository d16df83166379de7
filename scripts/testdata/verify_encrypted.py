#!/usr/bin/env python3
"""Check the encrypted fixtures independently of how make_encrypted.py computed them.

For one dataset (multi | openshift | incident), against an etcd restored from the committed snapshot:
  * snapshot file: 32-byte SHA-256 trailer, bbolt meta (magic, version, FNV-1a checksum, hwm * pageSize);
  * `etcdctl snapshot status` JSON: revision and totalSize agree with the file;
  * the live key set, revisions and versions read back from etcd equal expected.json;
  * every live record: each node's outcome, computed HERE from the config files as shipped (YAML, or the
    JSON inside the OpenShift tarballs) with a separately written model of kube-apiserver's read path,
    equals expected.json; records marked garbage really decrypt to non-objects;
  * round trip: every live, historical and deleted revision decrypts with the key whose fingerprint
    expected.json names and contains its marker; kms v2 opens with the documented DEK seed;
  * the designed accidents: wrong key -> valid padding; wrong key -> last byte 0;
  * leaks: no marker of an encrypted revision appears in the raw .db bytes; every plaintext one does;
  * incident logs: the unwrapped master-3 key equals master-3's first LIST failure.
Key bytes for keys that no config holds come from make_encrypted.py's key tables (inputs, not logic).
"""

import argparse
import base64
import hashlib
import io
import json
import os
import re
import struct
import sys
import tarfile
import urllib.request

import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
import nacl.exceptions
import nacl.secret

sys.dont_write_bytecode = True  # keep scripts/testdata free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_encrypted as gen  # noqa: E402  (key tables only)

FAILS = []


def check(cond, msg):
    if not cond:
        FAILS.append(msg)
        print("FAIL: " + msg, file=sys.stderr)


def fp(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()[:16]


# ---- snapshot file ---------------------------------------------------------------------------

def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def check_snapshot_file(path, status_path, final_rev):
    raw = open(path, "rb").read()
    check(len(raw) % 512 == 32, f"{path}: size {len(raw)} % 512 != 32")
    body, trailer = raw[:-32], raw[-32:]
    check(hashlib.sha256(body).digest() == trailer, f"{path}: SHA-256 trailer mismatch")
    metas = []
    page_size = struct.unpack_from("<I", raw, 24)[0]
    for i in range(2):
        off = i * page_size
        magic, version, psize = struct.unpack_from("<III", raw, off + 16)
        txid, csum = struct.unpack_from("<QQ", raw, off + 64)
        hwm = struct.unpack_from("<Q", raw, off + 56)[0]
        ok = magic == 0xED0CDAED and version == 2 and fnv1a64(raw[off + 16:off + 72]) == csum
        check(ok, f"{path}: meta {i} invalid")
        metas.append((txid, hwm, psize))
    txid, hwm, psize = max(metas)
    check(hwm * psize == len(body), f"{path}: hwm {hwm} * pageSize {psize} != {len(body)}")
    st = json.load(open(status_path))
    check(int(st["revision"]) == final_rev, f"{status_path}: revision {st['revision']} != {final_rev}")
    check(int(st["totalSize"]) == len(body), f"{status_path}: totalSize {st['totalSize']} != {len(body)}")
    print(f"  {os.path.basename(path)}: {len(raw)} bytes, trailer ok, pageSize {psize}, hwm {hwm}, "
          f"revision {st['revision']}, totalKey {st['totalKey']}, hash {st['hash']}")
    return raw


# ---- etcd gateway ----------------------------------------------------------------------------

def rpc(endpoint, path, body):
    req = urllib.request.Request(endpoint + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def b64e(b):
    return base64.b64encode(b).decode()


def live_kvs(endpoint):
    doc = rpc(endpoint, "/v3/kv/range", {"key": b64e(b"\0"), "range_end": b64e(b"\0")})
    out = {}
    for kv in doc.get("kvs", []):
        k = base64.b64decode(kv["key"]).decode()
        out[k] = {"value": base64.b64decode(kv.get("value", "")), "create_revision": int(kv["create_revision"]),
                  "mod_revision": int(kv["mod_revision"]), "version": int(kv["version"])}
    return out


def kv_at(endpoint, key, rev):
    doc = rpc(endpoint, "/v3/kv/range", {"key": b64e(key.encode()), "revision": str(rev)})
    kvs = doc.get("kvs", [])
    if not kvs:
        return None
    kv = kvs[0]
    return {"value": base64.b64decode(kv.get("value", "")), "mod_revision": int(kv["mod_revision"])}


# ---- configs ---------------------------------------------------------------------------------

def load_yaml_config(path):
    return yaml.safe_load(open(path))


def load_tar_config(path):
    with tarfile.open(path, "r:gz") as tf:
        names = [m.name for m in tf.getmembers()]
        hits = [n for n in names if re.fullmatch(
            r"static-pod-resources/kube-apiserver-pod-\d+/secrets/encryption-config/encryption-config", n)]
        check(len(hits) == 1, f"{path}: expected one encryption-config member, got {hits}")
        check(all(n.startswith("static-pod-resources/") for n in names), f"{path}: unexpected member prefix")
        return json.loads(tf.extractfile(hits[0]).read())


def resource_entries(cfg):
    """resource name -> providers list (first entry naming the resource; fixtures never repeat one)."""
    out = {}
    for entry in cfg["resources"]:
        for r in entry["resources"]:
            check(r not in out, f"resource {r} listed twice")
            out.setdefault(r, entry["providers"])
    return out


# ---- independent read-path model -------------------------------------------------------------
# A result is ("ok", bytes) | ("kms", None) | ("err", [messages...] as a flattened, ordered list)

def aggregate_message(msgs):
    uniq = []
    for m in msgs:
        if m not in uniq:
            uniq.append(m)
    return uniq[0] if len(uniq) == 1 else "[" + ", ".join(uniq) + "]"


def try_cbc(key, d):
    if len(d) < 16:
        return ("err", ["the stored data was shorter than the required size"])
    if (len(d) - 16) % 16:
        return ("err", ["the stored data is not a multiple of the block size"])
    dec = Cipher(algorithms.AES(key), modes.CBC(d[:16])).decryptor()
    p = dec.update(d[16:]) + dec.finalize()
    n = p[-1]
    if n == 0 or n > len(p):
        return ("err", ["invalid PKCS7 data (empty or not padded)"])
    if p[-n:] != bytes([n]) * n:
        return ("err", ["invalid padding on input"])
    return ("ok", p[:-n])


def try_gcm(key, d, aad):
    if len(d) < 12:
        return ("err", ["the stored data was shorter than the required size"])
    try:
        return ("ok", AESGCM(key).decrypt(d[:12], d[12:], aad))
    except InvalidTag:
        return ("err", ["cipher: message authentication failed"])


def try_box(key, d):
    if len(d) < 40:
        return ("err", ["the stored data was shorter than the required size"])
    try:
        return ("ok", nacl.secret.SecretBox(key).decrypt(d[24:], d[:24]))
    except nacl.exceptions.CryptoError:
        return ("err", ["output array was not large enough for encryption"])


def first_success(candidates, no_match):
    """candidates: list of (matches: bool, thunk). Mirrors prefixTransformers with errors collected."""
    errs = []
    for matches, is_identity, thunk in candidates:
        if not matches:
            continue
        res = thunk()
        if res[0] == "err":
            if not is_identity:
                errs.append(res[1])
            continue
        return res
    if errs:
        # NewAggregate + Reduce: one error stays itself; several are flattened for the message
        return ("err", [m for e in errs for m in e])
    return ("err", [no_match])


def read_value(entries, resource, etcd_key, data):
    providers = entries.get(resource)
    if providers is None:
        if data.startswith(b"k8s:enc:"):
            return ("err", ["identity transformer tried to read encrypted data"])
        return ("ok", data)
    cands = []
    for p in providers:
        (ptype, body), = p.items()
        if ptype == "identity":
            cands.append((True, True, lambda: ("err", ["identity transformer tried to read encrypted data"])
                          if data.startswith(b"k8s:enc:") else ("ok", data)))
            continue
        if ptype == "kms":
            pre = f"k8s:enc:kms:{body['apiVersion']}:{body['name']}:".encode()
            cands.append((data.startswith(pre), False, lambda: ("kms", None)))
            continue
        pre = f"k8s:enc:{ptype}:v1:".encode()
        rest = data[len(pre):]

        def provider_thunk(body=body, ptype=ptype, rest=rest):
            inner = []
            for k in body["keys"]:
                kp = (k["name"] + ":").encode()
                key = base64.b64decode(k["secret"])
                payload = rest[len(kp):]
                if ptype == "aescbc":
                    th = (lambda key=key, payload=payload: try_cbc(key, payload))
                elif ptype == "aesgcm":
                    th = (lambda key=key, payload=payload: try_gcm(key, payload, etcd_key.encode()))
                else:
                    th = (lambda key=key, payload=payload: try_box(key, payload))
                inner.append((rest.startswith(kp), False, th))
            nm = ("no matching key was found for the provided Secretbox transformer" if ptype == "secretbox"
                  else "no matching key was found for the provided AES transformer")
            return first_success(inner, nm)

        cands.append((data.startswith(pre), False, provider_thunk))
    return first_success(cands, "no matching prefix found")


def node_outcome(entries, resource, key, value):
    res = read_value(entries, resource, key, value)
    if res[0] == "kms":
        return "kms-required", False
    if res[0] == "err":
        return aggregate_message(res[1]), False
    pt = res[1]
    return "ok", not (pt.startswith(b"k8s\x00\x0a") or pt.startswith(b"{"))


# ---- round trip with the designated key ------------------------------------------------------

def open_with(rec, value, keybytes, seed=None):
    key = rec["key"]
    prov = rec["provider"]
    if prov == "identity":
        return value
    pre = (f"k8s:enc:kms:v2:{rec['key_name']}:" if prov == "kms" else f"k8s:enc:{prov}:v1:{rec['key_name']}:").encode()
    assert value.startswith(pre), (key, value[:40])
    body = value[len(pre):]
    if prov == "aescbc":
        r = try_cbc(keybytes, body)
    elif prov == "aesgcm":
        src = rec.get("note", "")
        aad = key
        m = re.search(r"copied byte-for-byte from (\S+);", src)
        if m:
            aad = m.group(1)  # decrypts only with the ORIGINAL key as AAD
        r = try_gcm(keybytes, body, aad.encode())
    elif prov == "secretbox":
        r = try_box(keybytes, body)
    elif prov == "kms":
        fields = parse_pb(body)
        data = fields[1][0]
        check(fields[5][0] == 1, f"{key}: encryptedDEKSourceType != 1")
        check(len(fields[2][0]) > 0 and len(fields[3][0]) > 0, f"{key}: keyID / encryptedDEKSource empty")
        info, rest = data[:32], data[32:]
        dek = HKDFExpand(algorithm=hashes.SHA256(), length=32, info=info).derive(seed)
        r = try_gcm(dek, rest, key.encode())
    else:
        raise ValueError(prov)
    check(r[0] == "ok", f"{key}@{rec['mod_revision']}: designated key does not open it: {r}")
    return r[1] if r[0] == "ok" else b""


def parse_pb(b):
    out, i = {}, 0
    while i < len(b):
        tag, i = uvarint(b, i)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = uvarint(b, i)
        elif wt == 2:
            n, i = uvarint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise ValueError(wt)
        out.setdefault(num, []).append(v)
    return out


def uvarint(b, i):
    shift = v = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if c < 0x80:
            return v, i
        shift += 7


def check_plaintext(rec, pt):
    ok_shape = pt.startswith(b"k8s\x00") or pt.startswith(b"{")
    check(ok_shape, f"{rec['key']}: plaintext has no object shape")
    check(rec["marker"].encode() in pt, f"{rec['key']}@{rec['mod_revision']}: marker {rec['marker']} not in plaintext")
    if pt.startswith(b"k8s\x00"):
        u = parse_pb(pt[4:])
        tm = parse_pb(u[1][0])
        kind = tm[2][0].decode()
        want = {"secrets": "Secret", "configmaps": "ConfigMap", "routes.route.openshift.io": "Route",
                "oauthaccesstokens.oauth.openshift.io": "OAuthAccessToken",
                "oauthauthorizetokens.oauth.openshift.io": "OAuthAuthorizeToken"}.get(rec["resource"])
        check(kind == want, f"{rec['key']}: kind {kind} != {want}")
        if kind == "Secret":
            sec = parse_pb(u[2][0])
            for entry in (sec.get(2, []) if not rec["case"].startswith("operator-") else []):
                kv = parse_pb(entry)
                check(rec["marker"].encode() in kv[2][0], f"{rec['key']}: secret value {kv[1][0]!r} lacks marker")
            meta = parse_pb(sec[1][0])
            ns, name = rec["key"].split("/")[-2:]
            check(meta[1][0].decode() == name and meta[3][0].decode() == ns, f"{rec['key']}: metadata mismatch")


# ---- main ------------------------------------------------------------------------------------

DATASETS = {
    "multi": ("encrypted", "multi", gen.build_multi),
    "openshift": ("openshift", "snapshot_2026-11-01_120000", gen.build_openshift),
    "incident": ("incident", "snapshot", gen.build_incident),
    "openshift-managed": ("openshift-managed", "snapshot_2026-11-20_120000", gen.build_openshift_managed),
    "openshift-managed-after": ("openshift-managed-after", "snapshot_2026-11-27_120000",
                                gen.build_openshift_managed_after),
}

# The apiserver serving each OpenShift API group (openshift-apiserver / oauth-apiserver; kube-apiserver for
# the rest). A node named after an aggregated apiserver stands for it; every other node is a kube-apiserver.
SERVERS = {"openshift-apiserver": ("apps", "authorization", "build", "image", "project", "quota", "route",
                                   "security", "template"),
           "oauth-apiserver": ("oauth", "user")}


def server_of(resource, nodes):
    group = resource.partition(".")[2]
    for server, groups in SERVERS.items():
        if server in nodes and group in {g + ".openshift.io" for g in groups}:
            return server
    return "kube-apiserver"


def judged_by(node, resource, nodes):
    return (node if node in SERVERS else "kube-apiserver") == server_of(resource, nodes)


def open_secret(value, keys, what):
    """A Secret stored with aescbc, opened here with whichever key of the shipped configs decrypts it:
    its protobuf fields (runtime.Unknown's raw object, parsed)."""
    m = re.match(rb"k8s:enc:aescbc:v1:[^:]+:", value)
    check(m is not None, f"{what}: not stored with aescbc")
    pt = None
    for k in keys.values():
        r = try_cbc(k, value[m.end():])
        if r[0] == "ok" and r[1].startswith(b"k8s\x00"):
            pt = r[1]
            break
    check(pt is not None, f"{what}: no shipped key opens it")
    return parse_pb(parse_pb(pt[4:])[2][0])


def config_from_secret(live, src, keys):
    """`snapshot-secret:NS/NAME`: the EncryptionConfiguration in that Secret's `encryption-config` data,
    opened here with whichever key of the shipped configs decrypts it (aescbc)."""
    ns, name = src.split(":", 1)[1].split("/")
    sec = open_secret(live[f"/kubernetes.io/secrets/{ns}/{name}"]["value"], keys, src)
    data = {parse_pb(e)[1][0].decode(): parse_pb(e)[2][0] for e in sec.get(2, [])}
    return json.loads(data["encryption-config"])


def check_key_secrets(live, exp, keys):
    """Every `encryption-key-<component>-<N>` Secret expected.json lists: opened here with a shipped key,
    its label, mode annotation and raw key (data `encryption.apiserver.operator.openshift.io-key`) as
    library-go `secrets.ToKeyState` reads them, the key's fingerprint as expected.json says."""
    for name, want in sorted(exp.get("key_secrets", {}).items()):
        kv = live.get(f"/kubernetes.io/secrets/openshift-config-managed/{name}")
        check(kv is not None, f"key secret {name} not in the snapshot")
        check(kv["mod_revision"] == want["revision"], f"{name}: revision {kv['mod_revision']} != {want['revision']}")
        sec = open_secret(kv["value"], keys, name)
        meta = parse_pb(sec[1][0])
        def strmap(field):
            out = {}
            for e in meta.get(field, []):
                f = parse_pb(e)
                out[f[1][0].decode()] = f[2][0].decode()
            return out
        labels, annotations = strmap(11), strmap(12)
        data = {parse_pb(e)[1][0].decode(): parse_pb(e)[2][0] for e in sec.get(2, [])}
        check(labels.get("encryption.apiserver.operator.openshift.io/component") == want["component"],
              f"{name}: component label")
        check(annotations.get("encryption.apiserver.operator.openshift.io/mode") == want["mode"], f"{name}: mode")
        check(name.rsplit("-", 1)[1] == want["generation"], f"{name}: generation")
        check(fp(data["encryption.apiserver.operator.openshift.io-key"]) == want["fingerprint"],
              f"{name}: key fingerprint")
        check(want["fingerprint"] == exp["keys"][want["key_id"]]["fingerprint"], f"{name}: key id")
    if exp.get("key_secrets"):
        print(f"  key secrets: {len(exp['key_secrets'])} opened, label/mode/key as expected")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    ap.add_argument("--testdata", required=True)
    ap.add_argument("--endpoint", required=True)
    a = ap.parse_args()
    sub, snap, builder = DATASETS[a.dataset]
    d = os.path.join(a.testdata, sub)
    exp = json.load(open(os.path.join(d, "expected.json")))
    print(f"[{a.dataset}] verifying {d}")
    raw = check_snapshot_file(os.path.join(d, snap + ".db"), os.path.join(d, snap + ".status.json"),
                              exp["final_revision"])

    # key material by fingerprint
    ds_keys = builder().keys
    keys = {}
    for kid, k in ds_keys.items():
        check(fp(k["bytes"]) == exp["keys"][kid]["fingerprint"], f"key {kid} fingerprint differs from expected.json")
        keys[fp(k["bytes"])] = k["bytes"]
    seed = ds_keys.get("KMSSEED", {}).get("bytes")
    if seed is not None:
        check(seed.hex() == exp["kms_v2_dek_seed_hex"], "kms seed differs")

    # configs as shipped (files first: their keys open the configs kept in Secrets)
    configs = {}
    live = live_kvs(a.endpoint)
    for node, src in sorted(exp["nodes"].items(), key=lambda kv: kv[1].startswith("snapshot-secret:")):
        if src.startswith("snapshot-secret:"):
            cfg = config_from_secret(live, src, keys)
        else:
            p = os.path.join(d, src)
            cfg = load_tar_config(p) if src.endswith(".tar.gz") else load_yaml_config(p)
        check(cfg["kind"] == "EncryptionConfiguration" and cfg["apiVersion"] == "apiserver.config.k8s.io/v1",
              f"{src}: kind/apiVersion")
        configs[node] = resource_entries(cfg)
        for entry in cfg["resources"]:
            for p_ in entry["providers"]:
                (t, body), = p_.items()
                for k in (body or {}).get("keys", []):
                    keys.setdefault(fp(base64.b64decode(k["secret"])), base64.b64decode(k["secret"]))

    check_key_secrets(live, exp, keys)
    exp_live = {r["key"]: r for r in exp["records"]}
    check(set(live) == set(exp_live), f"live key sets differ: only etcd {sorted(set(live) - set(exp_live))[:5]}, "
                                      f"only expected {sorted(set(exp_live) - set(live))[:5]}")
    plain_markers, enc_markers = set(), set()
    counts = {n: {} for n in configs}
    for key, rec in exp_live.items():
        kv = live.get(key)
        if kv is None:
            continue
        for f in ("create_revision", "mod_revision", "version"):
            check(kv[f] == rec[f], f"{key}: {f} {kv[f]} != {rec[f]}")
        for node, entries in configs.items():
            o, garbage = node_outcome(entries, rec["resource"], key, kv["value"])
            if not judged_by(node, rec["resource"], configs):
                o, garbage = "not-served", False
            check(o == rec["nodes"][node], f"{key} on {node}: model says {o!r}, expected.json {rec['nodes'][node]!r}")
            check(garbage == (node in rec["garbage_on"]), f"{key} on {node}: garbage {garbage}")
            counts[node][o] = counts[node].get(o, 0) + 1
        pt = open_with(rec, kv["value"], keys.get(rec["key_fingerprint"]), seed)
        check_plaintext(rec, pt)
        (plain_markers if rec["provider"] == "identity" else enc_markers).add(rec["marker"])

    # history and deleted revisions
    older = list(exp["history"]) + [v for dl in exp["deleted"] for v in dl["revisions"]]
    for rec in older:
        kv = kv_at(a.endpoint, rec["key"], rec["mod_revision"])
        check(kv is not None and kv["mod_revision"] == rec["mod_revision"], f"{rec['key']}@{rec['mod_revision']} missing")
        if kv is None:
            continue
        for node, entries in configs.items():
            o, garbage = node_outcome(entries, rec["resource"], rec["key"], kv["value"])
            if not judged_by(node, rec["resource"], configs):
                o = "not-served"
            check(o == rec["nodes"][node], f"{rec['key']}@{rec['mod_revision']} on {node}: {o!r} != {rec['nodes'][node]!r}")
        pt = open_with(rec, kv["value"], keys.get(rec["key_fingerprint"]), seed)
        check_plaintext(rec, pt)
        (plain_markers if rec["provider"] == "identity" else enc_markers).add(rec["marker"])
    for dl in exp["deleted"]:
        check(dl["key"] not in live, f"{dl['key']} should be deleted")

    # designed accidents (multi)
    by_case = {}
    for r in exp["records"]:
        by_case.setdefault(r["case"], []).append(r)
    if a.dataset == "multi":
        k1b = keys[exp["keys"]["K1b"]["fingerprint"]]
        for case, want in (("wrong-key-valid-padding", "valid"), ("wrong-key-pkcs7-data", "zero")):
            (r,) = by_case[case]
            v = live[r["key"]]["value"]
            body = v[len(b"k8s:enc:aescbc:v1:key1:"):]
            dec = Cipher(algorithms.AES(k1b), modes.CBC(body[:16])).decryptor()
            p = dec.update(body[16:]) + dec.finalize()
            n = p[-1]
            if want == "valid":
                check(0 < n <= 16 and p[-n:] == bytes([n]) * n, f"{case}: K1b padding not valid (last byte {n})")
                check(not (p.startswith(b"k8s\x00") or p.startswith(b"{")), f"{case}: K1b output looks like an object")
                print(f"  {r['key']}: K1b decrypts with valid padding (last byte {n:#04x}), garbage head {p[:8].hex()}")
            else:
                check(n == 0 or n > len(p), f"{case}: last byte with K1b is {n} (0 < n <= {len(p)})")
                print(f"  {r['key']}: K1b leaves last byte {n:#04x} with {len(p)} bytes of output")

    # leaks: compare against the raw snapshot bytes
    for m in sorted(enc_markers - plain_markers):
        check(m.encode() not in raw, f"marker {m} of an encrypted record is readable in the snapshot")
    for m in sorted(plain_markers):
        check(m.encode() in raw, f"marker {m} of a plaintext record not found in the snapshot")
    print(f"  markers: {len(enc_markers)} encrypted absent from raw bytes, {len(plain_markers)} plaintext present")

    # summary counts re-derived
    for node, c in counts.items():
        s = exp["summary"][node]
        errs = {k: v for k, v in c.items() if k not in ("ok", "kms-required", "not-served")}
        check(errs == s["errors"], f"{node}: error counts {errs} != {s['errors']}")
        print(f"  {node}: ok {c.get('ok', 0)}, kms {c.get('kms-required', 0)}, errors {sum(errs.values())}")

    if a.dataset == "incident":
        text = open(os.path.join(d, "master-3.log")).read()
        # unwrap: a line not starting with a klog header continues the previous one
        lines = []
        for ln in text.splitlines():
            if re.match(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6}", ln) or not lines:
                lines.append(ln)
            else:
                prev = lines[-1]
                lines[-1] = prev + ln if prev.endswith(("-", "/")) else prev + " " + ln
        keys_in_log = set(re.findall(r'unable to transform key "([^"]+)": ([^;]+);', "\n".join(lines)))
        first = exp["list_first_failure"]["master-3"]["secrets"]
        check(keys_in_log == {(first["key"], first["error"])}, f"master-3.log keys {keys_in_log} != {first}")
        check(any(first["key"] not in ln for ln in text.splitlines() if "unable to transform key" in ln),
              "master-3.log: the key is never split across lines")
        m1 = open(os.path.join(d, "master-1.log")).read()
        check(m1.count("failed to prepare current and previous objects: invalid padding on input")
              == len(by_case["mirror"]), "master-1.log watch errors != mirror records")
        m2 = open(os.path.join(d, "master-2.log")).read()
        check(not re.search(r"^[EWF]\d{4} ", m2, re.M), "master-2.log has error lines")
        print(f"  logs: master-3 repeats {first['key']} ({first['error']}); master-1 has "
              f"{len(by_case['mirror'])} watch errors")

    if FAILS:
        print(f"[{a.dataset}] {len(FAILS)} check(s) FAILED", file=sys.stderr)
        sys.exit(1)
    print(f"[{a.dataset}] all checks passed")


if __name__ == "__main__":
    main()
