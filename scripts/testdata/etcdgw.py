"""Talk to a loopback etcd 3.4 through its JSON gateway and keep a model of what etcd must now hold.

Why the gateway: values contain NUL bytes, which cannot travel through etcdctl's argv. etcd 3.4 serves the
grpc-gateway on the client port under /v3/ (3.3 used /v3beta/): /v3/kv/put, /v3/kv/range,
/v3/kv/deleterange, /v3/kv/compaction, /v3/lease/grant, /v3/lease/revoke, /v3/maintenance/alarm.
Bytes fields travel as base64, int64 fields as decimal strings.

The model (Store) mirrors etcd's MVCC rules so the facts files say what a correct reader must find:
- every put is one revision (sub 0); a delete-range or lease revoke that removes n keys is ONE revision
  with subs 0..n-1 in byte order of the keys (mvcc/kvstore_txn.go deleteRange; lease/lessor.go Revoke
  sorts the keys); a delete that matches nothing does not bump the revision.
- compaction at C (mvcc/key_index.go compact/doCompact, mvcc/kvstore_compaction.go): per key, drop the
  generations whose tombstone is <= C; in the first remaining generation keep the newest revision <= C and
  everything after it; a key left empty disappears. Everything else <= C leaves the `key` bucket.
Each call checks etcd's answer (header revision, deleted count) against the model and stops on mismatch.
"""

import base64
import hashlib
import http.client
import json
import urllib.parse


class GatewayError(Exception):
    def __init__(self, path, status, body):
        self.path, self.status, self.body = path, status, body
        try:
            self.message = json.loads(body).get("message") or body
        except ValueError:
            self.message = body
        super().__init__(f"{path}: HTTP {status}: {self.message}")


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


class Gateway:
    def __init__(self, endpoint: str):
        u = urllib.parse.urlsplit(endpoint)
        if u.scheme != "http" or u.hostname != "127.0.0.1" or not u.port:
            raise SystemExit(f"refusing endpoint {endpoint!r}: fixtures talk to http://127.0.0.1:<port> only")
        self.port = u.port
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def call(self, path: str, body: dict) -> dict:
        data = json.dumps(body).encode()
        for attempt in (1, 2):
            try:
                self.conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
                resp = self.conn.getresponse()
                raw = resp.read().decode()
                break
            except (http.client.HTTPException, ConnectionError):
                # keep-alive connection dropped by the server; reconnect once. Only reached before the
                # response was read, and every caller checks the revision afterwards, so a replayed
                # write would be caught as a revision mismatch.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        if resp.status != 200:
            raise GatewayError(path, resp.status, raw)
        out = json.loads(raw)
        if "error" in out:
            raise GatewayError(path, resp.status, raw)
        return out

    def revision(self) -> int:
        out = self.call("/v3/kv/range", {"key": b64(b"\x00"), "range_end": b64(b"\x00"), "count_only": True})
        return int(out["header"]["revision"])


class Store:
    """Writes through the gateway and tracks the MVCC state etcd must end up with."""

    def __init__(self, gw: Gateway):
        self.gw = gw
        self.rev = gw.revision()
        if self.rev != 1:
            raise SystemExit(f"expected a fresh etcd at revision 1, found {self.rev}")
        self.records = []  # (main, sub, key, tombstone, value, lease) still in the `key` bucket
        self.live = {}  # key -> dict(create, mod, version, value, lease)
        self.leases = {}  # id -> ttl
        self.lease_keys = {}  # id -> set(keys)
        self.revoked = []  # ids
        self.deleted = []  # dicts: key, revision, sub, how
        self.compactions = []  # revisions
        self.puts = 0

    # -- helpers ------------------------------------------------------------------------------------------
    def _check_rev(self, what, out, expect):
        got = int(out["header"]["revision"])
        if got != expect:
            raise SystemExit(f"{what}: etcd says revision {got}, model expected {expect}")

    def _detach(self, key):
        lid = self.live.get(key, {}).get("lease", 0)
        if lid:
            self.lease_keys[lid].discard(key)

    # -- operations ---------------------------------------------------------------------------------------
    def lease_grant(self, lease_id: int, ttl: int):
        out = self.gw.call("/v3/lease/grant", {"ID": str(lease_id), "TTL": str(ttl)})
        if int(out["ID"]) != lease_id:
            raise SystemExit(f"lease grant returned ID {out['ID']}, asked for {lease_id}")
        self.leases[lease_id] = ttl
        self.lease_keys[lease_id] = set()

    def put(self, key: bytes, value: bytes, lease: int = 0):
        body = {"key": b64(key), "value": b64(value)}
        if lease:
            if lease not in self.leases:
                raise SystemExit(f"put {key!r}: lease {lease} not granted")
            body["lease"] = str(lease)
        out = self.gw.call("/v3/kv/put", body)
        self.rev += 1
        self._check_rev(f"put {key!r}", out, self.rev)
        self._detach(key)
        cur = self.live.get(key)
        if cur is None:
            cur = {"create": self.rev, "version": 0}
        cur.update(mod=self.rev, version=cur["version"] + 1, value=value, lease=lease)
        self.live[key] = cur
        if lease:
            self.lease_keys[lease].add(key)
        self.records.append((self.rev, 0, key, False, value, lease))
        self.puts += 1
        return self.rev

    def _delete_keys(self, keys, how):
        self.rev += 1
        for sub, k in enumerate(sorted(keys)):
            self._detach(k)
            del self.live[k]
            self.records.append((self.rev, sub, k, True, b"", 0))
            self.deleted.append({"key": k, "revision": self.rev, "sub": sub, "how": how})

    def delete(self, key: bytes, range_end: bytes = None):
        body = {"key": b64(key)}
        if range_end is not None:
            body["range_end"] = b64(range_end)
            keys = [k for k in self.live if key <= k < range_end]
        else:
            keys = [key] if key in self.live else []
        out = self.gw.call("/v3/kv/deleterange", body)
        got = int(out.get("deleted", "0"))
        if got != len(keys):
            raise SystemExit(f"deleterange {key!r}..{range_end!r}: etcd deleted {got}, model {len(keys)}")
        if keys:
            self._delete_keys(keys, "deleterange" if range_end is not None else "delete")
            self._check_rev(f"delete {key!r}", out, self.rev)
        return keys

    def lease_revoke(self, lease_id: int):
        keys = sorted(self.lease_keys[lease_id])
        out = self.gw.call("/v3/lease/revoke", {"ID": str(lease_id)})
        if keys:
            self._delete_keys(keys, f"lease-revoke:{lease_id}")
        self._check_rev(f"revoke {lease_id}", out, self.rev)
        del self.leases[lease_id]
        del self.lease_keys[lease_id]
        self.revoked.append(lease_id)
        return keys

    def compact(self, at: int):
        self.gw.call("/v3/kv/compaction", {"revision": str(at), "physical": True})
        self.compactions.append(at)
        by_key = {}
        for r in self.records:
            by_key.setdefault(r[2], []).append(r)
        keep = set()
        for recs in by_key.values():
            # split into generations; a tombstone closes one
            gens, cur = [], []
            for r in recs:
                cur.append(r)
                if r[3]:
                    gens.append(cur)
                    cur = []
            gens.append(cur)  # the open (possibly empty) generation, as in keyIndex
            g = 0
            while g < len(gens) - 1 and gens[g][-1][0] <= at:
                g += 1
            gen = gens[g]
            older = [i for i, r in enumerate(gen) if r[0] <= at]
            if gen:
                if older:
                    gen = gen[older[-1]:]
                if len(gen) == 1 and g != len(gens) - 1:
                    gen = []  # lone tombstone goes too
            for r in gen + [r for later in gens[g + 1:] for r in later]:
                keep.add((r[0], r[1]))
        self.records = [r for r in self.records if r[0] > at or (r[0], r[1]) in keep]

    # -- facts --------------------------------------------------------------------------------------------
    def facts(self, **extra) -> dict:
        recs = sorted(self.records, key=lambda r: (r[0], r[1]))
        live = []
        for k in sorted(self.live):
            v = self.live[k]
            live.append({
                "key": k.decode(), "create_revision": v["create"], "mod_revision": v["mod"],
                "version": v["version"], "lease": v["lease"], "value_size": len(v["value"]),
                "value_sha256": hashlib.sha256(v["value"]).hexdigest(),
            })
        out = {
            "revision": self.rev,
            "last_record_revision": recs[-1][0] if recs else 0,
            "live_keys": len(self.live),
            "key_bucket_records": len(recs),
            "tombstones": sum(1 for r in recs if r[3]),
            "compact_revision": self.compactions[-1] if self.compactions else 0,
            "compactions": self.compactions,
            "puts": self.puts,
            "leases": [{"id": i, "id_hex": f"{i:016x}", "ttl": t,
                        "keys": sorted(k.decode() for k in self.lease_keys[i])}
                       for i, t in sorted(self.leases.items())],
            "revoked_leases": self.revoked,
            "deleted": [dict(d, key=d["key"].decode(),
                             tombstone_in_snapshot=any(r[3] and r[0] == d["revision"] and r[1] == d["sub"] for r in recs))
                        for d in self.deleted],
            "records": [{"revision": f"{r[0]}_{r[1]}", "key": r[2].decode(), "tombstone": r[3]} for r in recs],
            "live": live,
        }
        out.update(extra)
        return out
