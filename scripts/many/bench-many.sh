#!/usr/bin/env bash
# Benchmarks of hashkv, compare and salvage on the bench snapshot (scripts/bench.sh --data-only
# builds it), side by side, interleaved (scripts/bench/measure.py):
#   hashkv   vs `etcdctl endpoint hashkv` against a local etcd 3.4 serving the same data
#            (restored from the snapshot into a temp data dir, 127.0.0.1 free ports);
#   compare  of three copies of the snapshot vs one `etcd-autopsy status`;
#   salvage  vs one `etcd-autopsy status`.
#
#     bash scripts/many/bench-many.sh [RUNS]    (needs target/release/etcd-autopsy)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
etcd_require
RUNS="${1:-5}"
DIR="${BENCH_DIR:-/var/tmp/etcd-autopsy-bench}"
DB="$DIR/big.db"
BIN="$ROOT/target/release/etcd-autopsy"
[[ -f "$DB" && -x "$BIN" ]] || { echo "need $DB (scripts/bench.sh --data-only) and $BIN" >&2; exit 1; }
WORK="$(mktemp -d "$DIR/bench-many.XXXXXX")"
PID=""
cleanup() {
    if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf -- "$WORK"
}
trap cleanup EXIT
for i in 1 2 3; do cp -- "$DB" "$WORK/copy$i.db"; done
read -r CPORT PPORT <<<"$(_etcd_free_ports 2)"
EP="http://127.0.0.1:$CPORT" PEER="http://127.0.0.1:$PPORT"
env -u ETCDCTL_ENDPOINTS ETCDCTL_API=3 etcdctl snapshot restore "$WORK/copy1.db" --skip-hash-check \
    --name bench --initial-cluster "bench=$PEER" --initial-advertise-peer-urls "$PEER" \
    --data-dir "$WORK/data" >"$WORK/restore.log" 2>&1
unset_args=()
for v in "${!ETCD_@}"; do unset_args+=(-u "$v"); done
env "${unset_args[@]}" etcd --name bench --data-dir "$WORK/data" --quota-backend-bytes=8589934592 \
    --listen-client-urls "$EP" --advertise-client-urls "$EP" \
    --listen-peer-urls "$PEER" --initial-advertise-peer-urls "$PEER" \
    --initial-cluster "bench=$PEER" --logger zap --log-outputs stderr >"$WORK/etcd.log" 2>&1 &
PID=$!
CTL="env -u ETCDCTL_ENDPOINTS ETCDCTL_API=3 etcdctl --endpoints=$EP --command-timeout=600s"
for _ in $(seq 1 600); do
    $CTL endpoint health >/dev/null 2>&1 && break
    sleep 0.5
done
# Same answer from both before timing anything.
ours="$("$BIN" hashkv "$WORK/copy1.db" -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["hash"])')"
theirs="$($CTL endpoint hashkv -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["HashKV"]["hash"])')"
echo "hashkv: etcd-autopsy $ours, etcd 3.4 $theirs" >&2
[[ "$ours" == "$theirs" ]] || { echo "hashkv differs" >&2; exit 1; }
{
    printf 'hashkv\t%s hashkv %s -w json\t%s endpoint hashkv -w json\n' "$BIN" "$WORK/copy1.db" "$CTL"
    printf 'compare3\t%s compare %s %s %s\t%s status %s -w json\n' "$BIN" "$WORK/copy1.db" "$WORK/copy2.db" "$WORK/copy3.db" "$BIN" "$WORK/copy1.db"
    printf 'salvage\t%s salvage %s\t%s status %s -w json\n' "$BIN" "$WORK/copy1.db" "$BIN" "$WORK/copy1.db"
} | python3 "$ROOT/scripts/bench/measure.py" "$RUNS" "$DIR/results-many.json"
