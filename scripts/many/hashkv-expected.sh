#!/usr/bin/env bash
# Ask a real etcd what `endpoint hashkv --rev R` answers for snapshot files, to record the values
# `cargo test` compares `etcd-autopsy hashkv` against (tests need no etcd).
#
#     bash scripts/many/hashkv-expected.sh OUT.json SNAPSHOT.db [REV...]
#
# For each file: `etcdctl snapshot restore` into a temp data dir (a copy; the input is only read),
# start etcd 3.4 on 127.0.0.1 free ports, ask `etcdctl endpoint hashkv --rev R -w json` for R = 0,
# the compact revision -1, +0, +1, the current revision -1, +0, +1 and any REV given, stop etcd.
# The compact and current revisions come from `etcd-autopsy hashkv` itself only to pick which
# revisions to ask about; the answers are etcd's. Output: one JSON object
#   {"etcd_version": …, "file": NAME, "answers": [{"rev": R, "hash": H, "compact_revision": C,
#    "header_revision": N} | {"rev": R, "error": "…"}]}
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
etcd_require
OUT="$1" DB="$2"
shift 2
BIN="${AUTOPSY_BIN:-$ROOT/target/debug/etcd-autopsy}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/hashkv-expected.XXXXXX")"
trap 'etcd_stop; rm -rf -- "$WORK"' EXIT

cp -- "$DB" "$WORK/in.db"
# The peer URL is only written into the restored membership; etcd_start_on listens on free ports.
env -u ETCDCTL_ENDPOINTS ETCDCTL_API=3 etcdctl snapshot restore "$WORK/in.db" --skip-hash-check \
    --name hashkv --initial-cluster "hashkv=http://127.0.0.1:2380" \
    --initial-advertise-peer-urls "http://127.0.0.1:2380" \
    --initial-cluster-token hashkv-expected --data-dir "$WORK/data" >"$WORK/restore.log" 2>&1
ETCD_NAME=hashkv etcd_start_on "$WORK/data"
ctl() { etcd_ctl "$@"; }

# Which revisions to ask about (the answers below are etcd's own).
read -r COMPACT CURRENT < <("$BIN" hashkv "$DB" -w json | python3 -c \
    'import json,sys; d=json.load(sys.stdin); print(d["compact_revision"], d["current_revision"])')
REVS=(0 $((COMPACT - 1)) "$COMPACT" $((COMPACT + 1)) $(((COMPACT + CURRENT) / 2)) \
    $((CURRENT - 1)) "$CURRENT" $((CURRENT + 1)) "$@")
: >"$WORK/answers"
for r in "${REVS[@]}"; do
    ((r < 0)) && continue
    if ctl endpoint hashkv --rev "$r" -w json >"$WORK/a.json" 2>"$WORK/a.err"; then
        python3 - "$r" "$WORK/a.json" >>"$WORK/answers" <<'PY'
import json, sys
a = json.load(open(sys.argv[2]))[0]["HashKV"]
print(json.dumps({"rev": int(sys.argv[1]), "hash": a["hash"],
                  "compact_revision": a.get("compact_revision", 0),
                  "header_revision": a["header"]["revision"]}))
PY
    else
        python3 -c 'import json,sys; print(json.dumps({"rev": int(sys.argv[1]), "error": open(sys.argv[2]).read().strip().splitlines()[-1]}))' \
            "$r" "$WORK/a.err" >>"$WORK/answers"
    fi
done
python3 - "$OUT" "$(basename "$DB")" "$(etcd --version | head -1)" "$WORK/answers" <<'PY'
import json, sys
out, name, ver, answers = sys.argv[1:5]
rows = [json.loads(l) for l in open(answers)]
rows.sort(key=lambda a: a["rev"])
seen, uniq = set(), []
for a in rows:
    if a["rev"] not in seen:
        seen.add(a["rev"]); uniq.append(a)
with open(out, "w") as f:
    json.dump({"etcd_version": ver, "file": name, "answers": uniq}, f, indent=1, sort_keys=True)
    f.write("\n")
PY
echo "wrote $OUT" >&2
