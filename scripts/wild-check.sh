#!/bin/bash
# Runs every snapshot command over the bbolt files in ../shared/wild/snapshots (or $1) and
# reports: any panic (exit 101 or a signal), any exit code outside 0/1/2, any command over its
# time limit, and every file where `status --semantics 3.5 -w json|table|simple|fields` differs
# from what etcdctl 3.4 prints for the files etcdctl accepts. Never writes into the corpus.
#
#   bash scripts/wild-check.sh [DIR]        (needs a built target/debug/etcd-autopsy; etcdctl)
#
# With GEN_BBOLT="path:1.3.6 path:1.3.9" (gen-bbolt binaries built by scripts/gen-bbolt/regen.sh's
# recipe against those bbolt versions), it also compares status numbers and check lists with
# bbolt's own (scripts/gen-bbolt/refcmp.py).
#
# Exit 0 when nothing above was found, 1 otherwise. Summary on stdout, details in $OUT
# (default: a temp dir it names).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/../shared/wild/snapshots}
bin=${BIN:-$root/target/debug/etcd-autopsy}
out=${OUT:-$(mktemp -d)}
limit=${LIMIT:-120}
mkdir -p "$out"
[ -d "$dir" ] || { echo "wild-check: $dir not present; nothing to do"; exit 0; }
[ -x "$bin" ] || { echo "wild-check: build first (cargo build): $bin"; exit 2; }
have_etcdctl=0; command -v etcdctl >/dev/null && have_etcdctl=1
fail=0 files=0 runs=0 agree=0 refused=0
declare -A codes
run() { # name file args...
  local name=$1 f=$2; shift 2
  timeout "$limit" "$bin" "$@" >"$out/cur.out" 2>"$out/cur.err"
  local rc=$?
  runs=$((runs + 1))
  codes[$rc]=$(( ${codes[$rc]:-0} + 1 ))
  if [ $rc -eq 124 ]; then echo "TIMEOUT $name: $*" | tee -a "$out/problems.txt"; fail=1
  elif [ $rc -eq 101 ] || [ $rc -gt 128 ] || [ $rc -gt 2 ]; then
    echo "CRASH($rc) $name: $*" | tee -a "$out/problems.txt"; sed 's/^/    /' "$out/cur.err" | head -5 >>"$out/problems.txt"; fail=1
  fi
  return $rc
}
shopt -s nullglob
for f in "$dir"/*; do
  case "$f" in *.origin.txt|*.md|*/tools) continue;; esac
  [ -f "$f" ] || continue
  files=$((files + 1)); n=$(basename "$f")
  for sem in auto 3.5 3.6; do
    for w in json table simple fields extended; do run "$n" "$f" status "$f" -w "$w" --semantics "$sem"; done
  done
  run "$n" "$f" check "$f"; run "$n" "$f" check "$f" --format json
  run "$n" "$f" ls "$f"; run "$n" "$f" ls "$f" --history
  key=$("$bin" ls "$f" 2>/dev/null | awk 'NR==2 {print $NF}')
  [ -n "$key" ] && run "$n" "$f" get "$f" "$key"
  run "$n" "$f" stats "$f"
  run "$n" "$f" audit "$f" --encryption-config "$root/testdata/encrypted/cp-1.yaml"
  run "$n" "$f" validate "$f"
  run "$n" "$f" report --snapshot "$f" --format json
  if [ $have_etcdctl -eq 1 ]; then
    if etcdctl snapshot status -w json "$f" >"$out/ref.json" 2>"$out/ref.err"; then
      same=1
      for w in json table simple fields; do
        etcdctl snapshot status -w "$w" "$f" >"$out/ref.$w" 2>/dev/null
        timeout "$limit" "$bin" status "$f" -w "$w" --semantics 3.5 >"$out/ours.$w" 2>/dev/null
        cmp -s "$out/ref.$w" "$out/ours.$w" || { same=0; echo "DIFFER $n -w $w" | tee -a "$out/problems.txt"; diff "$out/ref.$w" "$out/ours.$w" | head -6 >>"$out/problems.txt"; }
      done
      [ $same -eq 1 ] && agree=$((agree + 1)) || fail=1
    else
      refused=$((refused + 1))
      echo "$n: etcdctl 3.4: $(head -c 200 "$out/ref.err" | tr '\n' ' ')" >>"$out/refused.txt"
    fi
  fi
done
echo "wild-check: $files files, $runs runs; exit codes: $(for c in "${!codes[@]}"; do printf '%s×%s ' "$c" "${codes[$c]}"; done)"
differ=$(cat "$out/problems.txt" 2>/dev/null | grep '^DIFFER' | cut -d' ' -f2 | sort -u | wc -l)
echo "wild-check: etcdctl 3.4 accepted $((agree + differ)) files: status byte-identical in json/table/simple/fields on $agree, different on $differ; refused $refused (see $out/refused.txt)"
[ -f "$out/problems.txt" ] && { echo "wild-check: problems:"; cat "$out/problems.txt"; }
if [ -n "${GEN_BBOLT:-}" ]; then
  # shellcheck disable=SC2086
  python3 "$root/scripts/gen-bbolt/refcmp.py" "$bin" "$dir" $GEN_BBOLT || fail=1
fi
echo "wild-check: details in $out"
exit $fail
