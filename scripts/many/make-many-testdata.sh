#!/usr/bin/env bash
# Build testdata/many/ with a real three-member etcd 3.4 cluster on loopback.
#
#     bash scripts/many/make-many-testdata.sh
#
# Needs etcd/etcdctl 3.4, python3 with `cryptography`, Go with Debian's bbolt/etcd sources
# (golang-github-coreos-bbolt-dev, golang-etcd-server-dev). Everything listens on 127.0.0.1 free
# ports, runs in a temp dir and is stopped on exit.
#
# Files:
#   before.db / after.db   `etcdctl snapshot save` from m1 before and after phase "after" of
#                          load_many.py (key rotation key1 → key2 in ns-a, a secret back to plaintext,
#                          adds, deletes, an update)
#   m1.db                  m1's member/snap/db after both phases (healthy, most recent)
#   m3-behind.db           m3's member/snap/db, m3 stopped before phase "after": missed the last writes
#   m2-altered.db          m2's member/snap/db with one value changed at the same revision
#                          (alter-value.go, bbolt): a divergent copy
#   m1-damaged.db          a copy of m1.db with the key bucket's root branch page zeroed
#   facts.json             what load_many.py wrote, and what was altered/damaged
#   *.hashkv.json          what etcd 3.4 answers to `endpoint hashkv --rev R` (hashkv-expected.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/scripts/many"
OUT="$ROOT/testdata/many"
# shellcheck source=../lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
etcd_require
WORK="$(mktemp -d "${TMPDIR:-/tmp}/make-many.XXXXXX")"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf -- "$WORK"
}
trap cleanup EXIT
log() { printf '== %s\n' "$*" >&2; }

read -r -a P <<<"$(_etcd_free_ports 6)"
CLUSTER="m1=http://127.0.0.1:${P[1]},m2=http://127.0.0.1:${P[3]},m3=http://127.0.0.1:${P[5]}"
EP=("http://127.0.0.1:${P[0]}" "http://127.0.0.1:${P[2]}" "http://127.0.0.1:${P[4]}")
ctl() { env -u ETCDCTL_ENDPOINTS ETCDCTL_API=3 etcdctl "$@"; }
unset_args=()
for v in "${!ETCD_@}"; do unset_args+=(-u "$v"); done
for i in 0 1 2; do
    n="m$((i + 1))" c="${EP[$i]}" p="http://127.0.0.1:${P[$((2 * i + 1))]}"
    env "${unset_args[@]}" etcd --name "$n" --data-dir "$WORK/$n" \
        --listen-client-urls "$c" --advertise-client-urls "$c" \
        --listen-peer-urls "$p" --initial-advertise-peer-urls "$p" \
        --initial-cluster "$CLUSTER" --initial-cluster-token etcd-autopsy-many \
        --initial-cluster-state new --logger zap --log-outputs stderr >"$WORK/$n.log" 2>&1 &
    PIDS+=($!)
done
for _ in $(seq 1 300); do
    ctl --endpoints="$(IFS=,; echo "${EP[*]}")" --command-timeout=2s endpoint health >/dev/null 2>&1 && break
    sleep 0.2
done
sleep 3 # cluster version is decided through raft shortly after start
revision_of() { ctl --endpoints="$1" endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])'; }
wait_same() { # wait until every given endpoint reports the revision of the first
    local want r e
    want="$(revision_of "$1")"
    for _ in $(seq 1 100); do
        local all=1
        for e in "$@"; do r="$(revision_of "$e")"; [[ "$r" == "$want" ]] || all=0; done
        ((all)) && return 0
        sleep 0.2
    done
    return 1
}
stop_member() { # index
    kill -TERM "${PIDS[$1]}"
    wait "${PIDS[$1]}" 2>/dev/null || true
}

log "phase before"
python3 "$HERE/load_many.py" before --endpoint "${EP[0]}" --facts "$WORK/facts.json"
wait_same "${EP[@]}"
ctl --endpoints="${EP[0]}" snapshot save "$WORK/before.db" >/dev/null
log "stopping m3 (it misses phase after)"
stop_member 2
log "phase after"
python3 "$HERE/load_many.py" after --endpoint "${EP[0]}" --facts "$WORK/facts.json"
wait_same "${EP[0]}" "${EP[1]}"
ctl --endpoints="${EP[0]}" snapshot save "$WORK/after.db" >/dev/null
stop_member 0
stop_member 1
cp -- "$WORK/m1/member/snap/db" "$WORK/m1.db"
cp -- "$WORK/m2/member/snap/db" "$WORK/m2-altered.db"
cp -- "$WORK/m3/member/snap/db" "$WORK/m3-behind.db"

log "altering m2's copy"
ALTERED=/registry/configmaps/ns-a/cm06
(cd "$HERE" && GOPATH=/usr/share/gocode GO111MODULE=off go run alter-value.go "$WORK/m2-altered.db" "$ALTERED") |
    tee "$WORK/altered.txt"

log "damaging a copy of m1"
cp -- "$WORK/m1.db" "$WORK/m1-damaged.db"
python3 - "$WORK/m1-damaged.db" >"$WORK/damaged.txt" <<'PY'
# Zero the key bucket's root page (bbolt: meta root → root bucket leaf → "key" element → pgid).
import struct, sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
ps = struct.unpack_from("<I", d, 24)[0]
metas = [struct.unpack_from("<QQ", d, i * ps + 16 + 8 + 48) for i in (0, 1)]  # (txid, checksum)
m = 0 if metas[0][0] >= metas[1][0] else 1
root = struct.unpack_from("<Q", d, m * ps + 16 + 16)[0]
off = root * ps
count = struct.unpack_from("<H", d, off + 10)[0]
for i in range(count):
    e = off + 16 + i * 16
    flags, pos, ksize, vsize = struct.unpack_from("<IIII", d, e)
    k = bytes(d[e + pos:e + pos + ksize])
    if k == b"key":
        kroot = struct.unpack_from("<Q", d, e + pos + ksize)[0]
        flags = struct.unpack_from("<H", d, kroot * ps + 8)[0]
        d[kroot * ps:(kroot + 1) * ps] = bytes(ps)
        print(f"zeroed page {kroot} (key bucket root, flags 0x{flags:x})")
open(p, "wb").write(d)
PY
cat "$WORK/damaged.txt" >&2

python3 - "$WORK/facts.json" "$ALTERED" "$WORK/altered.txt" "$WORK/damaged.txt" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
f["altered"] = {"file": "m2-altered.db", "key": sys.argv[2], "how": open(sys.argv[3]).read().strip()}
f["damaged"] = {"file": "m1-damaged.db", "how": open(sys.argv[4]).read().strip()}
f["behind"] = {"file": "m3-behind.db", "stopped_after_phase": "before"}
json.dump(f, open(sys.argv[1], "w"), indent=1, sort_keys=True)
open(sys.argv[1], "a").write("\n")
PY

log "asking etcd 3.4 for hashkv of each healthy file"
# Also at the revision m3 stopped at: the highest revision all members share, where compare hashes.
BEFORE_REV="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["before"]["revision"])' "$WORK/facts.json")"
for n in before after m1 m2-altered m3-behind; do
    bash "$HERE/hashkv-expected.sh" "$WORK/$n.hashkv.json" "$WORK/$n.db" "$BEFORE_REV"
done

mkdir -p "$OUT"
(cd "$WORK" && for f in *.db facts.json *.hashkv.json; do chmod 644 "$f"; mv -- "$f" "$OUT/"; done)
ls -l "$OUT" >&2
