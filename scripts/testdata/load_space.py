#!/usr/bin/env python3
"""Fill a fresh loopback etcd with a keyspace whose history is known, for the `stats` space diagnosis.

    load_space.py --endpoint http://127.0.0.1:PORT --facts space.facts.json

History (fixed seed, fixed order): Events churn (created, updated a few times, many deleted), one hot
ConfigMap updated 400 times, node Leases renewed often, a few Pods and Secrets, a compaction half-way,
then more churn and deletes. The facts say what the `key` bucket must then hold, computed from the model
in etcdgw.Store (never by etcd-autopsy): bytes of live data and of history (key + value lengths) per
resource, namespace and key, revisions per key, and what a compaction at the latest revision would free.
"""

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from etcdgw import Gateway, Store  # noqa: E402

SEED = 16


def blob(rng, n, tag):
    # Printable, deterministic, incompressible enough to occupy real pages.
    body = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))
    return (tag + ":" + body).encode()


def parse(key: bytes):
    # /registry/<resource>/<namespace>/<name> for the namespaced resources written here;
    # /registry/<resource>/<name> for the cluster-scoped ones (namespaces, nodes).
    parts = key.decode().split("/")
    resource = parts[2]
    ns = parts[3] if len(parts) == 5 else None
    return resource, ns


def tally(records):
    live, hist, per_key = {}, {}, {}
    last = {}
    for main, sub, key, tomb, value, _lease in sorted(records, key=lambda r: (r[2], r[0], r[1])):
        res, ns = parse(key)
        n = len(key) + len(value)
        for d, name in ((hist, ("resource", res)), (hist, ("namespace", ns or "(cluster-scoped)"))):
            t = d.setdefault(name, {"revisions": 0, "bytes": 0})
            t["revisions"] += 1
            t["bytes"] += n
        k = per_key.setdefault(key.decode(), {"revisions": 0, "bytes": 0})
        k["revisions"] += 1
        k["bytes"] += n
        last[key] = (tomb, n, res, ns)
    for key, (tomb, n, res, ns) in last.items():
        if tomb:
            continue
        for name in (("resource", res), ("namespace", ns or "(cluster-scoped)")):
            t = live.setdefault(name, {"keys": 0, "bytes": 0})
            t["keys"] += 1
            t["bytes"] += n

    def split(d, kind):
        return {k[1]: v for k, v in sorted(d.items(), key=lambda kv: str(kv[0])) if k[0] == kind}

    return {
        "history_by_resource": split(hist, "resource"),
        "history_by_namespace": split(hist, "namespace"),
        "live_by_resource": split(live, "resource"),
        "live_by_namespace": split(live, "namespace"),
        "per_key": dict(sorted(per_key.items())),
        "history_bytes": sum(len(r[2]) + len(r[4]) for r in records),
        "live_bytes": sum(v["bytes"] for k, v in live.items() if k[0] == "resource"),
    }


def load(st: Store, rng):
    nss = ["default", "kube-system", "team-a", "team-b"]
    for ns in nss:
        st.put(f"/registry/namespaces/{ns}".encode(), blob(rng, 300, "ns"))
    for i in range(3):
        st.put(f"/registry/minions/node-{i}".encode(), blob(rng, 3000, "node"))
    for ns in nss[2:]:
        for i in range(5):
            st.put(f"/registry/pods/{ns}/app-{i}".encode(), blob(rng, 2500, "pod"))
            st.put(f"/registry/secrets/{ns}/tok-{i}".encode(), blob(rng, 800, "secret"))
    hot = b"/registry/configmaps/team-a/hot-config"
    ev = 0
    live_events = []
    for round_ in range(2):
        for step in range(200):
            st.put(hot, blob(rng, 1500, "cm"))
            # node leases renewed
            st.put(f"/registry/leases/kube-node-lease/node-{step % 3}".encode(), blob(rng, 250, "lease"))
            # Events: a new one every step, updated twice later, half deleted (TTL expiry modelled as
            # deletes since leases would make timing matter)
            ns = nss[step % 4]
            key = f"/registry/events/{ns}/app.{ev:05d}".encode()
            ev += 1
            st.put(key, blob(rng, 700, "event"))
            live_events.append(key)
            if step % 3 == 0 and len(live_events) > 3:
                k = live_events[-3]
                st.put(k, blob(rng, 720, "event"))
                st.put(k, blob(rng, 740, "event"))
            if step % 2 == 1 and len(live_events) > 10:
                k = live_events.pop(0)
                st.delete(k)
        if round_ == 0:
            st.compact(st.rev)
    # a few pods deleted after the compaction
    st.delete(b"/registry/pods/team-b/app-0")
    st.delete(b"/registry/pods/team-b/app-1")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--facts", required=True)
    a = ap.parse_args()
    st = Store(Gateway(a.endpoint))
    load(st, random.Random(SEED))
    facts = st.facts(fixture="space")
    facts.update(tally(st.records))
    # What a compaction at the latest revision would leave: the same model, on a copy, without etcd.
    recs = list(st.records)
    kept = _compact_model(recs, st.rev)
    facts["compact_at_latest"] = {
        "revision": st.rev,
        "records_removed": len(recs) - len(kept),
        "bytes_removed": sum(len(r[2]) + len(r[4]) for r in recs) - sum(len(r[2]) + len(r[4]) for r in kept),
    }
    facts.pop("records", None)
    with open(a.facts, "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"space: revision {facts['revision']}, {facts['live_keys']} live keys, "
          f"{facts['key_bucket_records']} records, history {facts['history_bytes']} bytes", file=sys.stderr)


def _compact_model(records, at):
    class NoGw:
        def call(self, *_):
            return {}
    m = Store.__new__(Store)
    m.gw, m.records, m.compactions = NoGw(), list(records), []
    Store.compact(m, at)
    return m.records


if __name__ == "__main__":
    main()
