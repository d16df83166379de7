#!/usr/bin/env bash
# Regenerate the plain (unencrypted) etcd snapshot fixtures in testdata/snapshots/ with a real etcd.
#
#     bash scripts/make-testdata.sh
#
# Needs etcd + etcdctl 3.4 (Debian: apt-get install -y etcd-server etcd-client) and python3. Every etcd it
# starts listens on 127.0.0.1 only, on free ports, with a temp data dir, and is stopped on exit.
# Everything is built in a temp dir first and moved into place only when all checks pass.
#
# Deterministic: keys, values, revisions, lease IDs, compaction revision (fixed seeds and write order), so
# the *.facts.json files and the revision/totalKey status numbers repeat exactly. When the preferred ports
# below are free, member/cluster IDs and URLs repeat too, and with them the status hash (a CRC over bucket
# contents). Not deterministic: page layout, txids and so file bytes and totalSize of basic/datadir/empty,
# because etcd groups writes into bbolt transactions by time (100 ms batches) and releases old read
# transactions asynchronously. nospace runs with --backend-batch-limit=1 (commit after every write) so
# the quota trips at nearly the same put every time (seen: the 58th in 5 of 6 runs, the 56th once).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/testdata/snapshots"
TD="$ROOT/scripts/testdata"
NOSPACE_QUOTA=$((256 * 1024)) # bytes; small so nospace.db stays small
# Preferred loopback ports (random ones are used if these are taken; then IDs and the hash change).
export ETCD_WANT_CLIENT_PORT="${ETCD_WANT_CLIENT_PORT:-42379}" ETCD_WANT_PEER_PORT="${ETCD_WANT_PEER_PORT:-42380}"

# shellcheck source=lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
etcd_require

WORK="$(mktemp -d "${TMPDIR:-/tmp}/make-testdata.XXXXXX")"
cleanup() {
    etcd_stop
    rm -rf -- "$WORK"
}
trap cleanup EXIT

log() { printf '== %s\n' "$*" >&2; }

# status NAME: record `etcdctl snapshot status` exactly as etcdctl prints it (stdout only).
status() {
    local name="$1"
    ETCDCTL_API=3 etcdctl snapshot status "$WORK/$name.db" -w json >"$WORK/$name.status.json"
    ETCDCTL_API=3 etcdctl snapshot status "$WORK/$name.db" -w table >"$WORK/$name.status.table.txt"
}

save_snapshot() {
    etcd_ctl snapshot save "$WORK/$1.db" >>"$WORK/etcdctl.log" 2>&1
}

# -- basic.db, then datadir.db from the same member --------------------------------------------------------
log "basic: loading keyspace"
etcd_start
python3 "$TD/load_plain.py" basic --endpoint "$ETCD_ENDPOINT" --facts "$WORK/basic.facts.json"
save_snapshot basic
status basic

log "datadir: stopping the basic member and copying member/snap/db"
etcd_stop --keep-data
cp -- "$ETCD_DATA_DIR/member/snap/db" "$WORK/datadir.db"
status datadir
python3 - "$WORK/basic.facts.json" "$WORK/datadir.facts.json" <<'PY'
import json, sys
facts = json.load(open(sys.argv[1]))
facts["fixture"] = "datadir"
facts["note"] = ("member/snap/db of the etcd that produced basic.db, copied after it was stopped; "
                 "same keyspace as basic.db, no SHA-256 trailer")
with open(sys.argv[2], "w") as f:
    json.dump(facts, f, indent=1, sort_keys=True)
    f.write("\n")
PY

# -- empty.db ----------------------------------------------------------------------------------------------
log "empty: fresh member, nothing written"
etcd_start
python3 "$TD/load_plain.py" empty --endpoint "$ETCD_ENDPOINT" --facts "$WORK/empty.facts.json"
save_snapshot empty
status empty
etcd_stop --keep-data

# -- nospace.db --------------------------------------------------------------------------------------------
log "nospace: --quota-backend-bytes=$NOSPACE_QUOTA --backend-batch-limit=1, filling until NOSPACE"
etcd_start --quota-backend-bytes="$NOSPACE_QUOTA" --backend-batch-limit=1
python3 "$TD/load_plain.py" nospace --endpoint "$ETCD_ENDPOINT" --facts "$WORK/nospace.facts.json" \
    --extra quota_backend_bytes="$NOSPACE_QUOTA" --extra backend_batch_limit=1
if save_snapshot nospace; then
    status nospace
else
    log "nospace: etcdctl snapshot save failed under NOSPACE; skipping nospace.db (see etcdctl.log below)"
    tail -n 20 "$WORK/etcdctl.log" >&2
    rm -f -- "$WORK"/nospace.*
fi
etcd_stop --keep-data

# -- checks ------------------------------------------------------------------------------------------------
log "checking layout, trailers, status numbers and facts"
for f in "$WORK"/*.status.json; do
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$f"
done
python3 "$TD/check_snapshot.py" "$WORK/basic.db" --expect-trailer \
    --status "$WORK/basic.status.json" --facts "$WORK/basic.facts.json"
python3 "$TD/check_snapshot.py" "$WORK/datadir.db" --expect-no-trailer \
    --status "$WORK/datadir.status.json" --facts "$WORK/datadir.facts.json"
python3 "$TD/check_snapshot.py" "$WORK/empty.db" --expect-trailer \
    --status "$WORK/empty.status.json" --facts "$WORK/empty.facts.json"
if [[ -f "$WORK/nospace.db" ]]; then
    python3 "$TD/check_snapshot.py" "$WORK/nospace.db" --expect-trailer \
        --status "$WORK/nospace.status.json" --facts "$WORK/nospace.facts.json"
fi

# -- install -----------------------------------------------------------------------------------------------
mkdir -p "$OUT"
rm -f -- "$OUT"/basic.* "$OUT"/datadir.* "$OUT"/empty.* "$OUT"/nospace.*
for f in "$WORK"/*.db "$WORK"/*.status.json "$WORK"/*.status.table.txt "$WORK"/*.facts.json; do
    chmod 644 "$f"
    mv -- "$f" "$OUT/"
done
python3 "$TD/readme_block.py" "$ROOT/testdata/README.md" "$OUT"
log "done:"
ls -l "$OUT" >&2
