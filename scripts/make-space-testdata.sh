#!/usr/bin/env bash
# Build testdata/space/: a snapshot from a real etcd 3.4 with known history (Events churn, one hot
# ConfigMap, node Leases, a compaction half-way, deletes) for the `stats` space diagnosis.
#
#     bash scripts/make-space-testdata.sh
#
# Records, beside the snapshot:
#   space.facts.json   what the loader wrote and what the `key` bucket must hold (scripts/testdata/load_space.py)
#   space.live.json    `etcdctl endpoint status -w json` of the live member: just before `snapshot save`,
#                      after `etcdctl defrag`, and after `etcdctl compact <latest>` + `defrag`; these are
#                      the dbSize / dbSizeInUse figures the space diagnosis is checked against
#   space.status.json  `etcdctl snapshot status -w json`
# Loopback only, temp data dirs, everything stopped on exit (scripts/lib/etcd.sh). Page layout depends on
# etcd's 100 ms batching, so sizes move by a few pages between runs; the facts do not.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/testdata/space"
TD="$ROOT/scripts/testdata"
# shellcheck source=lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
etcd_require

WORK="$(mktemp -d "${TMPDIR:-/tmp}/make-space.XXXXXX")"
cleanup() {
    etcd_stop
    rm -rf -- "$WORK"
}
trap cleanup EXIT
log() { printf '== %s\n' "$*" >&2; }

# endpoint_status LABEL: append the member's status under LABEL to $WORK/live.jsonl.
endpoint_status() {
    sleep 1 # let the 100 ms batch commit land, so Size/SizeInUse are current
    etcd_ctl endpoint status -w json | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["Status"]
print(json.dumps({"label": sys.argv[1], "dbSize": s["dbSize"], "dbSizeInUse": s["dbSizeInUse"],
                  "revision": s["header"]["revision"], "version": s["version"]}))' "$1" >>"$WORK/live.jsonl"
}

log "space: loading history"
etcd_start
python3 "$TD/load_space.py" --endpoint "$ETCD_ENDPOINT" --facts "$WORK/space.facts.json"
endpoint_status before_snapshot
etcd_ctl snapshot save "$WORK/space.db" >>"$WORK/etcdctl.log" 2>&1
endpoint_status after_snapshot
ETCDCTL_API=3 etcdctl snapshot status "$WORK/space.db" -w json >"$WORK/space.status.json"

log "space: defrag, then compact at latest + defrag, on the live member (the snapshot is already taken)"
etcd_ctl defrag >>"$WORK/etcdctl.log" 2>&1
endpoint_status after_defrag
latest="$(etcd_ctl endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])')"
etcd_ctl compact --physical "$latest" >>"$WORK/etcdctl.log" 2>&1
endpoint_status after_compact_latest
etcd_ctl defrag >>"$WORK/etcdctl.log" 2>&1
endpoint_status after_compact_latest_defrag
etcd_stop

python3 - "$WORK/live.jsonl" "$WORK/space.live.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
out = {r.pop("label"): r for r in rows}
out["note"] = ("etcdctl endpoint status -w json of the member space.db was saved from; before_snapshot is "
               "the state the snapshot holds (no write in between)")
with open(sys.argv[2], "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
    f.write("\n")
PY

mkdir -p "$OUT"
for f in space.db space.facts.json space.live.json space.status.json; do
    chmod 644 "$WORK/$f"
    mv -- "$WORK/$f" "$OUT/"
done
log "done:"
ls -l "$OUT" >&2
cat "$OUT/space.live.json" >&2
