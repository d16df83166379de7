#!/usr/bin/env bash
# Check `stats`'s defrag estimate against etcd's own defrag, on any snapshots (wild ones included):
#
#     bash scripts/space-defrag-check.sh SNAPSHOT...
#
# Each snapshot is copied to a temp dir, restored with etcd 3.4's `etcdctl snapshot restore --skip-hash-check`,
# the restored member/snap/db is copied aside (the file the estimate is made on), etcd is started on the data
# dir on loopback (free ports), `etcdctl defrag` runs, and `endpoint status` dbSize / dbSizeInUse after it are
# printed beside the estimate. Nothing is written outside the temp dir; the etcd it starts is stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/lib/etcd.sh"
W="$(mktemp -d /tmp/wild-defrag.XXXXXX)"; PID=""
trap '[[ -n "$PID" ]] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
for f in "$@"; do
  cp "$f" "$W/s.db"; rm -rf "$W/d"
  ETCDCTL_API=3 etcdctl snapshot restore "$W/s.db" --skip-hash-check --data-dir "$W/d" --name m --initial-cluster m=http://127.0.0.1:1 --initial-advertise-peer-urls http://127.0.0.1:1 >/dev/null 2>&1 || { echo "$f: restore failed"; continue; }
  cp "$W/d/member/snap/db" "$W/restored.db"
  read -r cp pp <<<"$(_etcd_free_ports 2)"
  env -u ETCD_DATA_DIR etcd --name m --data-dir "$W/d" --listen-client-urls http://127.0.0.1:$cp --advertise-client-urls http://127.0.0.1:$cp --listen-peer-urls http://127.0.0.1:$pp >"$W/log" 2>&1 & PID=$!
  for _ in $(seq 100); do etcdctl --endpoints http://127.0.0.1:$cp endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
  sleep 1
  b=$(etcdctl --endpoints http://127.0.0.1:$cp endpoint status -w json)
  etcdctl --command-timeout=600s --endpoints http://127.0.0.1:$cp defrag >/dev/null
  sleep 1
  a=$(etcdctl --endpoints http://127.0.0.1:$cp endpoint status -w json)
  kill $PID; wait $PID 2>/dev/null || true; PID=""
  est=$("$ROOT/target/debug/etcd-autopsy" stats "$W/restored.db" --format json | python3 -c 'import json,sys; d=json.load(sys.stdin)["space"]["defrag"]; print(d["in_use_bytes"], d["db_bytes"])')
  python3 - "$f" "$b" "$a" "$est" <<'PY'
import json, sys
b = json.loads(sys.argv[2])[0]["Status"]; a = json.loads(sys.argv[3])[0]["Status"]
iu, db = map(int, sys.argv[4].split())
print(f"{sys.argv[1].split('/')[-1][:60]}: before {b['dbSize']}; after defrag dbSize {a['dbSize']} inUse {a['dbSizeInUse']}; estimate dbSize {db} inUse {iu}; ratio {db/a['dbSize']:.4f}")
PY
done
