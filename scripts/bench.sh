#!/usr/bin/env bash
# Whole-command benchmarks against the real tools, on the same files, in one run.
#
#   scripts/bench.sh [--rebuild] [--data-only] [--runs N] [--sizes "small mid big"] [--cold]
#                    [--cache sequential|paged]
#
# Builds once (kept in $BENCH_DIR, default /var/tmp/etcd-autopsy-bench, outside the repo):
#   - three snapshots from a real etcd (loopback only) holding 30k / 150k / 300k Kubernetes
#     secrets, aescbc-encrypted by Python `cryptography` (scripts/bench/load_big.py): ~0.1, ~0.55
#     and ~1.1 GiB; three EncryptionConfiguration files (cp-3's key1 differs);
#   - a ~1 GB kube-apiserver klog file with ~0.1 % transform errors (scripts/gen-klog.py).
# Then measures, interleaved A B A B on a warm cache (scripts/bench/measure.py), each of our
# commands against its reference, with wall and CPU time and peak anonymous and file-backed
# memory, and prints every ratio side by side (one table per size). --cold drops the page cache
# before every run (root only; then a second pass on a cold cache follows the warm one).
# The warm pass first puts each size's inputs in a known page-cache state (scripts/bench/cache.py):
# `sequential` (default) as after a copy or download, `paged` as after a cold bbolt reader faulted
# them in 4 KiB at a time; mapping costs differ by ~0.1 s per GiB between the two on Linux 6.x.
# Results go to $BENCH_DIR/results-<size>[-cold].json; docs/performance.md records them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${BENCH_DIR:-/var/tmp/etcd-autopsy-bench}
runs=5
rebuild=0
data_only=0
sizes="small mid big"
cold=0
cache=sequential
while [ $# -gt 0 ]; do
  case "$1" in
    --rebuild) rebuild=1 ;;
    --data-only) data_only=1 ;;
    --runs) runs=$2; shift ;;
    --sizes) sizes=$2; shift ;;
    --cold) cold=1 ;;
    --cache) cache=$2; shift ;;
    *) echo "usage: $0 [--rebuild] [--data-only] [--runs N] [--sizes \"small mid big\"] [--cold] [--cache sequential|paged]" >&2; exit 2 ;;
  esac
  shift
done
for t in etcd etcdctl openssl rg python3; do
  command -v "$t" >/dev/null || { echo "missing $t: apt-get install -y etcd-server etcd-client openssl ripgrep python3" >&2; exit 1; }
done
python3 -c 'import cryptography' 2>/dev/null || { echo "missing python3 cryptography: pip install cryptography" >&2; exit 1; }
mkdir -p "$dir"

if [ "$rebuild" = 1 ] || [ ! -f "$dir/big.db" ]; then
  # shellcheck source=lib/etcd.sh
  . "$repo/scripts/lib/etcd.sh"
  etcd_require
  trap etcd_stop EXIT
  export ETCD_TMP_PARENT=$dir
  etcd_start --quota-backend-bytes=8589934592 --auto-compaction-retention=0
  seed=20261122
  prev=0
  for spec in small:30000 mid:150000 big:300000; do
    name=${spec%%:*}; upto=${spec#*:}
    echo "loading secrets $prev..$upto" >&2
    key=$(python3 "$repo/scripts/bench/load_big.py" "$ETCD_ENDPOINT" "$prev" "$upto" "$seed")
    etcd_ctl snapshot save "$dir/$name.db" >/dev/null
    prev=$upto
  done
  etcd_stop
  trap - EXIT
  other=$(python3 -c 'import base64,random; r=random.Random(7); print(base64.b64encode(bytes(r.randrange(256) for _ in range(32))).decode())')
  for node in cp-1 cp-2 cp-3; do
    k=$key; [ "$node" = cp-3 ] && k=$other
    cat >"$dir/$node.yaml" <<YAML
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: $k
      - identity: {}
YAML
  done
fi
if [ ! -f "$dir/apiserver.log" ] && [ -f "$repo/scripts/gen-klog.py" ]; then
  python3 "$repo/scripts/gen-klog.py" --mb 1024 --out "$dir/apiserver.log"
fi
ls -la "$dir"
[ "$data_only" = 1 ] && exit 0

cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/etcd-autopsy"
keys="--encryption-config cp-1=$dir/cp-1.yaml --encryption-config cp-2=$dir/cp-2.yaml --encryption-config cp-3=$dir/cp-3.yaml"
# What the numbers belong to: the CPU, the date, the commit and how busy the machine was.
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $(date -u +%FT%TZ); commit $(git -C "$repo" rev-parse --short HEAD); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
passes=warm
[ "$cold" = 1 ] && passes="warm cold"
for pass in $passes; do
for size in $sizes; do
  db="$dir/$size.db"
  echo "== $size ($pass cache): $(stat -c %s "$db") bytes" >&2
  suffix=""; [ "$pass" = cold ] && suffix="-cold"
  if [ "$pass" = warm ]; then
    inputs="$db $dir/cp-1.yaml $dir/cp-2.yaml $dir/cp-3.yaml"
    [ "$size" = big ] && inputs="$inputs $( (ls "$dir"/apiserver.log "$dir"/errors-200m.log "$dir"/errors-200m.log.gz 2>/dev/null || true) | tr '\n' ' ')"
    # shellcheck disable=SC2086
    python3 "$repo/scripts/bench/cache.py" "$cache" $inputs
    [ "$cache" = paged ] && suffix="-paged"
  fi
  {
    printf 'status\t%s status %s -w json\tETCDCTL_API=3 etcdctl snapshot status %s -w json\n' "$bin" "$db" "$db"
    # stats (#16): status's walk plus per-key statistics and the space diagnosis.
    printf 'stats\t%s stats %s\tETCDCTL_API=3 etcdctl snapshot status %s -w json\n' "$bin" "$db" "$db"
    printf 'check\t%s check %s\topenssl dgst -sha256 %s\n' "$bin" "$db" "$db"
    # One config, every record decrypts (#19's target), then three with cp-3 failing every record.
    printf 'audit-cp1\t%s audit %s --encryption-config cp-1=%s\topenssl dgst -sha256 %s\n' "$bin" "$db" "$dir/cp-1.yaml" "$db"
    printf 'audit\t%s audit %s %s\topenssl dgst -sha256 %s\n' "$bin" "$db" "$keys" "$db"
    # Objects (#13): decrypt + decode + serialize every secret; target <= 2x the file's SHA-256.
    printf 'get-secrets\t%s get %s secrets -A -o jsonl --reveal %s\topenssl dgst -sha256 %s\n' "$bin" "$db" "$keys" "$db"
    if [ "$size" = big ] && [ -f "$dir/apiserver.log" ]; then
      printf 'logs\t%s logs %s --format json\trg -c "unable to transform" %s\n' "$bin" "$dir/apiserver.log" "$dir/apiserver.log"
      # The same literals the prefilter looks for (src/logs/prefilter.rs ERROR_NEEDLES, START_NEEDLES).
      rgf="rg -c -F -e nsform -e crypt -e 'ious objects' -e 'Internal error' -e padding -e KMS -e 'kms plugin' -e 'legal base64' -e 'does not match between' -e 'tastore and could' -e '\"MESSAGE\":[' -e '] Version: v' -e '\"Version: v' -e 'Golang settings'"
      printf 'logs-literals\t%s logs %s --format json\t%s %s\n' "$bin" "$dir/apiserver.log" "$rgf" "$dir/apiserver.log"
      # Only error lines (issue #18 item 8: >= 200 MB/s), generated beside the bench data.
      [ -f "$dir/errors-200m.log" ] || python3 "$repo/scripts/gen-klog.py" --mb 200 --only-errors --out "$dir/errors-200m.log"
      printf 'logs-errors\t%s logs %s --format json\tcat %s\n' "$bin" "$dir/errors-200m.log" "$dir/errors-200m.log"
      # The same as text, and gzip'd: a stream is bound by inflating it (the reference).
      printf 'logs-errors-text\t%s logs %s\tcat %s\n' "$bin" "$dir/errors-200m.log" "$dir/errors-200m.log"
      [ -f "$dir/errors-200m.log.gz" ] || gzip -k "$dir/errors-200m.log"
      printf 'logs-errors-gz\t%s logs %s --format json\tgzip -dc %s\n' "$bin" "$dir/errors-200m.log.gz" "$dir/errors-200m.log.gz"
      printf 'report\t%s report --snapshot %s %s --log cp-3=%s --format json\topenssl dgst -sha256 %s\n' "$bin" "$db" "$keys" "$dir/apiserver.log" "$db"
    fi
  } | CACHE_STATE=$([ "$pass" = cold ] && echo cold || echo "warm-$cache") COLD=$([ "$pass" = cold ] && echo 1 || echo 0) python3 "$repo/scripts/bench/measure.py" "$runs" "$dir/results-$size$suffix.json"
done
done

# ---- peak memory of every command on the big bench data (#19: none above 300 MB anonymous) ----
if [[ " $sizes " == *" big "* ]]; then
  echo "== memory of every command (big.db)" >&2
  db="$dir/big.db"
  # Not beside the inputs: export refuses to write next to its evidence.
  exp="$(mktemp -d "${TMPDIR:-/var/tmp}/etcd-autopsy-export.XXXXXX")"
  {
    printf 'status\t%s status %s -w json\n' "$bin" "$db"
    printf 'stats\t%s stats %s\n' "$bin" "$db"
    printf 'check\t%s check %s\n' "$bin" "$db"
    printf 'ls\t%s ls %s\n' "$bin" "$db"
    printf 'ls-history\t%s ls %s --history\n' "$bin" "$db"
    printf 'get-json-reveal\t%s get %s secrets -A -o json --reveal %s\n' "$bin" "$db" "$keys"
    printf 'get-yaml\t%s get %s secrets -A -o yaml %s\n' "$bin" "$db" "$keys"
    printf 'export-stream\t%s export %s secrets --reveal %s\n' "$bin" "$db" "$keys"
    printf 'export-tree\t%s export %s secrets --reveal --limit 30000 --to %s/tree --force %s\n' "$bin" "$db" "$exp" "$keys"
    printf 'keys\t%s keys %s\n' "$bin" "$keys"
    printf 'audit\t%s audit %s %s\n' "$bin" "$db" "$keys"
    printf 'validate\t%s validate %s %s --format json\n' "$bin" "$db" "$keys"
    [ -f "$dir/apiserver.log" ] && printf 'logs\t%s logs %s --format json\n' "$bin" "$dir/apiserver.log"
    [ -f "$dir/apiserver.log" ] && printf 'report\t%s report --snapshot %s %s --log cp-3=%s --format json\n' "$bin" "$db" "$keys" "$dir/apiserver.log"
    printf 'report-html\t%s report --snapshot %s %s --format html\n' "$bin" "$db" "$keys"
    printf 'hashkv\t%s hashkv %s -w json\n' "$bin" "$db"
    printf 'compare\t%s compare %s %s %s --format json\n' "$bin" "$dir/small.db" "$dir/mid.db" "$db"
    printf 'diff\t%s diff %s %s %s --format json\n' "$bin" "$dir/mid.db" "$db" "$keys"
    printf 'salvage\t%s salvage %s\n' "$bin" "$db"
    printf 'restore-plan\t%s restore-plan %s\n' "$bin" "$db"
    printf 'demo\t%s demo\n' "$bin"
  } | CACHE_STATE="warm-$cache" python3 "$repo/scripts/bench/memory.py" 1 "$dir/results-memory.json" || mem_over=1
  rm -rf -- "$exp"
  [ "${mem_over:-0}" = 1 ] && echo "a command used more than 300 MB of anonymous memory (above)" >&2
fi

# ---- many snapshots (#15): scripts/many/bench-many.sh, results in $dir/results-many.json ----
#   hashkv    vs `etcdctl endpoint hashkv` against etcd 3.4 serving the restored copy (<= 0.5)
#   compare3  of three copies vs one `status` (<= 2)
#   salvage   vs one `status` (<= 1.5)
echo "== many snapshots: hashkv, compare3, salvage (big.db)" >&2
BENCH_CACHE=$cache bash "$repo/scripts/many/bench-many.sh" "$runs"
