#!/usr/bin/env bash
# Benchmarks of hashkv, compare and salvage on the bench snapshot (scripts/bench.sh --data-only
# builds it), side by side, interleaved (scripts/bench/measure.py):
#   hashkv   vs `etcdctl endpoint hashkv` against a local etcd 3.4 serving the same data
#            (restored from the snapshot into a temp data dir, 127.0.0.1 free ports);
#   compare  of three copies of the snapshot vs one `etcd-autopsy status`;
#   salvage  vs one `etcd-autopsy status`.
#
#     bash scripts/many/bench-many.sh [RUNS [hashkv|compare3|salvage...]]
#                                    (needs target/release/etcd-autopsy; default: all three)
# BENCH_WORK: where the copies and the restored data dir go (default: beside the bench data);
# BENCH_RESULTS: the results file (default: $BENCH_DIR/results-many.json).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
etcd_require
RUNS="${1:-5}"
shift || true
# Which comparisons (default all): hashkv compare3 salvage.
ONLY=("$@")
DIR="${BENCH_DIR:-/var/tmp/etcd-autopsy-bench}"
DB="$DIR/big.db"
BIN="$ROOT/target/release/etcd-autopsy"
[[ -f "$DB" && -x "$BIN" ]] || { echo "need $DB (scripts/bench.sh --data-only) and $BIN" >&2; exit 1; }
# Copies and the restored data dir go beside the bench data unless BENCH_WORK says where.
WORK="$(mktemp -d "${BENCH_WORK:-$DIR}/bench-many.XXXXXX")"
RESULTS="${BENCH_RESULTS:-$DIR/results-many.json}"
trap 'etcd_stop; rm -rf -- "$WORK"' EXIT
want() { ((${#ONLY[@]} == 0)) || [[ " ${ONLY[*]} " == *" $1 "* ]]; }
for i in 1 2 3; do
    if ((i == 1)) || want compare3; then cp -- "$DB" "$WORK/copy$i.db"; fi
done
# A known page-cache state for the copies (scripts/bench/cache.py; BENCH_CACHE=paged for the state a
# cold bbolt reader leaves): what `cp` leaves differs from both.
CACHE="${BENCH_CACHE:-sequential}"
python3 "$ROOT/scripts/bench/cache.py" "$CACHE" "$WORK"/copy*.db
env -u ETCDCTL_ENDPOINTS ETCDCTL_API=3 etcdctl snapshot restore "$WORK/copy1.db" --skip-hash-check \
    --name bench --initial-cluster "bench=http://127.0.0.1:2380" \
    --initial-advertise-peer-urls "http://127.0.0.1:2380" \
    --data-dir "$WORK/data" >"$WORK/restore.log" 2>&1
ETCD_NAME=bench ETCD_START_TIMEOUT=600 etcd_start_on "$WORK/data" --quota-backend-bytes=8589934592
CTL="env -u ETCDCTL_ENDPOINTS ETCDCTL_API=3 etcdctl --endpoints=$ETCD_ENDPOINT --command-timeout=600s"
# Same answer from both before timing anything.
ours="$("$BIN" hashkv "$WORK/copy1.db" -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["hash"])')"
theirs="$($CTL endpoint hashkv -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["HashKV"]["hash"])')"
echo "hashkv: etcd-autopsy $ours, etcd 3.4 $theirs" >&2
[[ "$ours" == "$theirs" ]] || { echo "hashkv differs" >&2; exit 1; }
{
    want hashkv && printf 'hashkv\t%s hashkv %s -w json\t%s endpoint hashkv -w json\n' "$BIN" "$WORK/copy1.db" "$CTL"
    want compare3 && printf 'compare3\t%s compare %s %s %s\t%s status %s -w json\n' "$BIN" "$WORK/copy1.db" "$WORK/copy2.db" "$WORK/copy3.db" "$BIN" "$WORK/copy1.db"
    want salvage && printf 'salvage\t%s salvage %s\t%s status %s -w json\n' "$BIN" "$WORK/copy1.db" "$BIN" "$WORK/copy1.db"
    true
} | CACHE_STATE="warm-$CACHE" python3 "$ROOT/scripts/bench/measure.py" "$RUNS" "$RESULTS"
