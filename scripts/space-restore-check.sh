#!/usr/bin/env bash
# Follow `etcd-autopsy restore-plan` with the real etcd 3.4 restore and check what the plan says the
# restored member holds:
#
#     bash scripts/space-restore-check.sh [target/debug/etcd-autopsy] > testdata/space/restore-check.txt
#
# For each snapshot below (a copy in a temp dir; committed files are only read): take the plan's etcdctl 3.4
# command line, fill its two placeholders (data dir, cluster token), run it, start etcd on the result on
# loopback (free ports), and compare `endpoint status` revision, the live key count, `alarm list` and the
# compacted revision (a read below it must fail with "compacted") with the plan's JSON. 3.4 has no bump flags,
# so --bump-revision/--mark-compacted are not exercised here. Needs etcd/etcdctl 3.4 and python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-$ROOT/target/debug/etcd-autopsy}"
# shellcheck source=lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
etcd_require

WORK="$(mktemp -d "${TMPDIR:-/tmp}/restore-check.XXXXXX")"
trap 'etcd_stop; rm -rf -- "$WORK"' EXIT

fail=0
echo "# scripts/space-restore-check.sh — $(etcd --version | head -1), $(date -u +%Y-%m-%dT%H:%MZ)"
for snap in testdata/space/space.db testdata/snapshots/nospace.db testdata/snapshots/datadir.db; do
    name="$(basename "$snap" .db)"
    cp -- "$ROOT/$snap" "$WORK/$name.db"
    chmod 444 "$WORK/$name.db"
    "$BIN" restore-plan "$WORK/$name.db" --format json >"$WORK/$name.plan.json"
    # The etcdctl 3.4 command line for the first member, placeholders filled.
    mapfile -t argv < <(python3 - "$WORK/$name.plan.json" "$WORK/$name.restored" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
cmd = next(c for c in plan["commands"] if c["tool"] == "etcdctl34")
for a in cmd["argv"]:
    if a.startswith("<new data dir"):
        a = sys.argv[2]
    elif a == "<new cluster token>":
        a = "restore-check"
    print(a)
PY
)
    member="$(python3 -c 'import json,sys; print(next(c for c in json.load(open(sys.argv[1]))["commands"] if c["tool"]=="etcdctl34")["member"])' "$WORK/$name.plan.json")"
    echo
    echo "## $snap"
    echo "\$ ETCDCTL_API=3 ${argv[*]}"
    if [[ " ${argv[*]} " == *" --skip-hash-check "* ]]; then
        # The plan says the flag is needed: check that restore refuses the file without it.
        noskip=()
        for a in "${argv[@]}"; do [[ "$a" == --skip-hash-check ]] || noskip+=("${a/%.restored/.noskip}"); done
        if env -u ETCDCTL_ENDPOINTS ETCDCTL_API=3 "${noskip[@]}" >"$WORK/$name.noskip.log" 2>&1; then
            echo "MISMATCH without --skip-hash-check restore succeeded"; fail=1
        else
            echo "ok       without --skip-hash-check restore refuses: $(grep -o 'snapshot missing hash[^"]*' "$WORK/$name.noskip.log" | head -1)"
        fi
    fi
    if ! env -u ETCDCTL_ENDPOINTS ETCDCTL_API=3 "${argv[@]}" >"$WORK/$name.restore.log" 2>&1; then
        echo "restore FAILED:"; tail -n 5 "$WORK/$name.restore.log"; fail=1; continue
    fi
    if ! ETCD_NAME="$member" ETCD_START_TIMEOUT=30 etcd_start_on "$WORK/$name.restored" 2>"$WORK/$name.start.log"; then
        echo "etcd did not start on the restored data dir:"; tail -n 5 "$WORK/$name.start.log"; fail=1
    else
        ctl() { etcd_ctl "$@"; }
        ctl endpoint status -w json >"$WORK/$name.status.json"
        ctl get "" --prefix --keys-only --limit 1 -w json >"$WORK/$name.count.json"
        ctl alarm list >"$WORK/$name.alarms.txt" || true
        compacted="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["restored"]["compacted_revision"] or 0)' "$WORK/$name.plan.json")"
        below=""
        if ((compacted > 1)); then
            below="$(ctl get --rev=$((compacted - 1)) /registry 2>&1 || true)"
        fi
        python3 - "$WORK/$name.plan.json" "$WORK/$name.status.json" "$WORK/$name.count.json" "$WORK/$name.alarms.txt" "$compacted" "$below" <<'PY' || fail=1
import json, sys
plan = json.load(open(sys.argv[1]))
status = json.load(open(sys.argv[2]))[0]["Status"]
count = int(json.load(open(sys.argv[3])).get("count", 0))
alarms = open(sys.argv[4]).read().split()
compacted, below = int(sys.argv[5]), sys.argv[6]
r = plan["restored"]
want_alarms = sorted(a["alarm"] for w in plan["warnings"] if w["kind"] == "alarms_set" for a in w["alarms"])
got_alarms = sorted(x.split(":")[1] for x in alarms if x.startswith("alarm:"))
checks = [
    ("revision", r["revision"], int(status["header"]["revision"])),
    ("live keys", r["live_keys"], count),
    ("alarms", want_alarms, got_alarms),
]
if compacted > 1:
    checks.append((f"read at {compacted - 1} is compacted", True, "compacted" in below))
bad = 0
for what, want, got in checks:
    mark = "ok" if want == got else "MISMATCH"
    bad += want != got
    print(f"{mark:8} {what}: plan {want}, restored member {got}")
print("hash-check flag in the plan:", "--skip-hash-check" in next(c for c in plan["commands"] if c["tool"] == "etcdctl34")["argv"])
sys.exit(1 if bad else 0)
PY
    fi
    etcd_stop
done
echo
if ((fail)); then echo "RESULT: mismatches (see above)"; exit 1; fi
echo "RESULT: every restored member holds what the plan said"
